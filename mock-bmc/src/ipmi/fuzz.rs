//! The IPMI side of [`crate::fuzzing`]: a datagram through the codec's decoders and through
//! the whole responder, fresh and at each handshake step an attacker can reach without the
//! password.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Instant;

use super::codec::{self, Datagram, payload};
use super::config::{IpmiConfig, IpmiUser, Privilege};
use super::node::SimpleIpmiNode;
use super::responder::{Entropy, Responder};

const PEER: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 623));
/// The first random draw of a responder is all this byte (the first session ID is then
/// `5A5A5A5Ah`), so a corpus can name the session a fuzzed RAKP message continues. Each later
/// draw uses the next byte value: a constant source would make the responder search forever
/// for a session ID not yet in use.
const ENTROPY_BYTE: u8 = 0x5A;

fn responder() -> Responder {
    let user = IpmiUser::new("admin", "password", Privilege::Administrator);
    let config = IpmiConfig::new(user.into_iter().collect());
    let mut next = ENTROPY_BYTE;
    let entropy: Entropy = Box::new(move |buffer: &mut [u8]| {
        buffer.fill(next);
        next = next.wrapping_add(1).max(1);
    });
    Responder::new(config, entropy)
}

/// Open Session for cipher suite 17 at Administrator privilege, console session `A0A2A3A4h`.
fn open_session() -> Vec<u8> {
    let mut body = vec![0x00, 0x04, 0, 0, 0xa4, 0xa3, 0xa2, 0xa0];
    body.extend_from_slice(&[0x00, 0, 0, 0x08, 0x03, 0, 0, 0]);
    body.extend_from_slice(&[0x01, 0, 0, 0x08, 0x04, 0, 0, 0]);
    body.extend_from_slice(&[0x02, 0, 0, 0x08, 0x01, 0, 0, 0]);
    codec::rmcpp_unauthenticated(payload::OPEN_SESSION_REQUEST, &body)
}

/// RAKP 1 for the session [`open_session`] opened, user `admin`.
fn rakp1() -> Vec<u8> {
    let mut body = vec![0x00, 0, 0, 0];
    body.extend_from_slice(&[ENTROPY_BYTE; 4]);
    body.extend_from_slice(&[0x11; 16]);
    body.extend_from_slice(&[0x14, 0, 0, 5]);
    body.extend_from_slice(b"admin");
    codec::rmcpp_unauthenticated(payload::RAKP1, &body)
}

/// Feeds `data` to the decoders and to a responder fresh, after Open Session and after RAKP 1;
/// returns how many of the three answered.
pub(crate) fn datagram(data: &[u8]) -> usize {
    if let Ok(Datagram::Rmcpp(packet)) = codec::parse_datagram(data) {
        let _ = packet.integrity_parts(16);
        let _ = packet.integrity_parts(12);
        let _ = codec::parse_open_session_request(packet.payload);
        let _ = codec::parse_rakp1(packet.payload);
        let _ = codec::parse_rakp3(packet.payload);
    }
    let _ = codec::parse_request(data);
    let node = SimpleIpmiNode::default();
    let now = Instant::now();
    let mut answered = 0;
    for prelude in [
        &[][..],
        &[open_session()][..],
        &[open_session(), rakp1()][..],
    ] {
        let mut responder = responder();
        for step in prelude {
            // The preludes must reach their step, or the fuzzer would test only the first.
            assert!(
                responder.handle(step, PEER, now, &node).is_some(),
                "prelude refused"
            );
        }
        answered += usize::from(responder.handle(data, PEER, now, &node).is_some());
    }
    answered
}
