//! Error paths that need a BMC misbehaving in ways the mock does not: a hand-written UDP stub on
//! 127.0.0.1 (ephemeral port) answers exactly what each test needs, with bytes written here from
//! the spec (not with this crate's encoder), and records what the client sent.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferrofish_ipmi::{CipherSuite, Error, IpmiClient};
use secrecy::SecretString;
use tokio::net::UdpSocket;

/// What the stub received, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// Get Channel Authentication Capabilities with this channel byte (8Eh or 0Eh).
    AuthCaps(u8),
    /// Open Session proposing this authentication algorithm (3 = suite 17, 1 = suite 3).
    OpenSession(u8),
    /// RAKP 1.
    Rakp1,
}

#[derive(Clone, Copy, Default)]
struct Behaviour {
    /// Stay silent on 8Eh (answer 0Eh only).
    ignore_extended_auth_caps: bool,
    /// Answer a suite-17 proposal with suite 3's algorithms (status 00h).
    select_suite3_for_17: bool,
}

/// Two's complement checksum.
fn checksum(bytes: &[u8]) -> u8 {
    bytes
        .iter()
        .fold(0u8, |a, b| a.wrapping_add(*b))
        .wrapping_neg()
}

/// An IPMI 1.5 (unauthenticated) reply to Get Channel Authentication Capabilities.
fn auth_caps_reply(request_message: &[u8], extended: bool) -> Vec<u8> {
    let rq_seq = request_message[4];
    let data: [u8; 8] = if extended {
        // Channel 1, v2.0 extended data, non-null user names, supports IPMI 2.0.
        [0x01, 0x80, 0x04, 0x02, 0, 0, 0, 0]
    } else {
        // The IPMI 1.5 form: no extended data.
        [0x01, 0x00, 0x04, 0x00, 0, 0, 0, 0]
    };
    let mut message = vec![0x81, 0x07 << 2];
    message.push(checksum(&message));
    let body_start = message.len();
    message.extend([0x20, rq_seq, 0x38, 0x00]);
    message.extend(data);
    message.push(checksum(&message[body_start..]));
    let mut out = vec![0x06, 0x00, 0xFF, 0x07, 0x00, 0, 0, 0, 0, 0, 0, 0, 0];
    out.push(message.len() as u8);
    out.extend(message);
    out
}

/// An RMCP+ Open Session Response selecting `auth`/`integrity`/AES-CBC-128.
fn open_session_reply(request_payload: &[u8], auth: u8, integrity: u8) -> Vec<u8> {
    let mut payload = vec![request_payload[0], 0x00, 0x04, 0x00];
    payload.extend(&request_payload[4..8]);
    payload.extend([0x44, 0x33, 0x22, 0x11]);
    payload.extend([0x00, 0, 0, 0x08, auth, 0, 0, 0]);
    payload.extend([0x01, 0, 0, 0x08, integrity, 0, 0, 0]);
    payload.extend([0x02, 0, 0, 0x08, 0x01, 0, 0, 0]);
    let mut out = vec![0x06, 0x00, 0xFF, 0x07, 0x06, 0x11, 0, 0, 0, 0, 0, 0, 0, 0];
    out.extend((payload.len() as u16).to_le_bytes());
    out.extend(payload);
    out
}

/// Starts the stub; it never answers RAKP 1.
async fn stub(behaviour: Behaviour) -> (SocketAddr, Arc<Mutex<Vec<Seen>>>) {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let address = socket.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        let mut buffer = [0u8; 1024];
        loop {
            let Ok((n, peer)) = socket.recv_from(&mut buffer).await else {
                continue;
            };
            let packet = &buffer[..n];
            let reply = match packet.get(4..6) {
                // IPMI 1.5 framing: the message starts after the 14-byte headers.
                Some([0x00, _]) if n >= 23 && packet[19] == 0x38 => {
                    let message = &packet[14..];
                    let channel = message[6];
                    log.lock().unwrap().push(Seen::AuthCaps(channel));
                    let extended = channel & 0x80 != 0;
                    if extended && behaviour.ignore_extended_auth_caps {
                        None
                    } else {
                        Some(auth_caps_reply(message, extended))
                    }
                }
                Some([0x06, 0x10]) if n >= 16 + 32 => {
                    let payload = &packet[16..];
                    let auth = payload[12] & 0x3F;
                    log.lock().unwrap().push(Seen::OpenSession(auth));
                    Some(if auth == 0x03 && behaviour.select_suite3_for_17 {
                        open_session_reply(payload, 0x01, 0x01)
                    } else {
                        open_session_reply(payload, auth, payload[20] & 0x3F)
                    })
                }
                Some([0x06, 0x12]) => {
                    log.lock().unwrap().push(Seen::Rakp1);
                    None
                }
                _ => None,
            };
            if let Some(reply) = reply {
                let _ = socket.send_to(&reply, peer).await;
            }
        }
    });
    (address, seen)
}

fn client(address: SocketAddr) -> ferrofish_ipmi::IpmiClientBuilder {
    IpmiClient::builder(address.to_string())
        .credentials("admin", SecretString::from("password"))
        .timeout(Duration::from_millis(200))
        .retries(1)
}

#[tokio::test]
async fn silence_after_rakp1_is_no_rakp2() {
    let (address, seen) = stub(Behaviour::default()).await;
    let bmc = client(address)
        .cipher_suite(CipherSuite::Suite3)
        .build()
        .unwrap();
    let error = bmc.chassis_status().await.unwrap_err();
    match &error {
        Error::NoRakp2 { attempts, .. } => assert_eq!(*attempts, 2),
        other => panic!("expected no rakp 2, got {other:?}"),
    }
    assert!(error.to_string().contains("unknown user"), "{error}");
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("password"), "{shown}");
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            Seen::AuthCaps(0x8E),
            Seen::OpenSession(0x01),
            Seen::Rakp1,
            Seen::Rakp1
        ]
    );
}

#[tokio::test]
async fn algorithm_mismatch_for_17_falls_back_to_3_unless_pinned() {
    let behaviour = Behaviour {
        select_suite3_for_17: true,
        ..Behaviour::default()
    };
    let (address, seen) = stub(behaviour).await;
    // Default policy: the mismatching answer to suite 17 makes the client propose suite 3,
    // whose answer matches, so it goes on to RAKP 1 (where this stub goes silent).
    let bmc = client(address).build().unwrap();
    let error = bmc.chassis_status().await.unwrap_err();
    assert!(matches!(error, Error::NoRakp2 { .. }), "{error:?}");
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            Seen::AuthCaps(0x8E),
            Seen::OpenSession(0x03),
            Seen::OpenSession(0x01),
            Seen::Rakp1,
            Seen::Rakp1
        ]
    );

    // Pinned to 17 there is nothing to fall back to: the mismatch is the error.
    seen.lock().unwrap().clear();
    let pinned = client(address)
        .cipher_suite(CipherSuite::Suite17)
        .build()
        .unwrap();
    let error = pinned.chassis_status().await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::AlgorithmMismatch {
                suite: CipherSuite::Suite17,
                auth: 1,
                integrity: 1,
                confidentiality: 1,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        *seen.lock().unwrap(),
        vec![Seen::AuthCaps(0x8E), Seen::OpenSession(0x03)]
    );
}

#[tokio::test]
async fn unanswered_8e_auth_capabilities_is_retried_once_with_0e() {
    let behaviour = Behaviour {
        ignore_extended_auth_caps: true,
        ..Behaviour::default()
    };
    let (address, seen) = stub(behaviour).await;
    let bmc = client(address)
        .cipher_suite(CipherSuite::Suite3)
        .build()
        .unwrap();
    // The 1.5-form answer says nothing about IPMI 2.0, so the client goes on to Open Session.
    let error = bmc.chassis_status().await.unwrap_err();
    assert!(matches!(error, Error::NoRakp2 { .. }), "{error:?}");
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            Seen::AuthCaps(0x8E),
            Seen::AuthCaps(0x8E),
            Seen::AuthCaps(0x0E),
            Seen::OpenSession(0x01),
            Seen::Rakp1,
            Seen::Rakp1
        ]
    );
    let stats = bmc.stats();
    assert_eq!(stats.round_trips, 2, "{stats:?}");
}

#[tokio::test]
async fn a_bmc_silent_on_both_forms_times_out_after_both() {
    // No stub at all on this port: nothing answers 8Eh or 0Eh.
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let address = socket.local_addr().unwrap();
    let bmc = client(address).build().unwrap();
    let error = bmc.chassis_status().await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Timeout {
                stage: ferrofish_ipmi::Stage::AuthCapabilities,
                attempts: 2,
                ..
            }
        ),
        "{error:?}"
    );
    // Two attempts of 8Eh, then two of 0Eh.
    assert_eq!(bmc.stats().datagrams_sent, 4);
    drop(socket);
}
