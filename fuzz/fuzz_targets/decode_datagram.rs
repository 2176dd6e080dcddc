//! Feed arbitrary datagrams to every decoder a BMC's reply reaches: the wire codec, the
//! in-session decoder (integrity, decryption, IPMI message) and the command reply parsers.
//! Any panic is a bug; errors are the expected outcome.
#![no_main]

use std::time::Instant;

use ferrofish_ipmi::commands::{
    Command, GetChannelAuthCapabilities, GetChassisStatus, GetDeviceId, GetSystemBootOptions,
    parse_cipher_suite_records,
};
use ferrofish_ipmi::crypto::{CipherSuite, SessionKeys};
use ferrofish_ipmi::session::Session;
use ferrofish_ipmi::{Privilege, wire};
use libfuzzer_sys::fuzz_target;
use secrecy::SecretSlice;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else { return };
    let _ = wire::decode_datagram(bytes, usize::from(selector % 33));
    let _ = wire::IpmiResponse::decode(bytes);
    let _ = wire::OpenSessionResponse::decode(bytes);
    let _ = wire::Rakp2::decode(bytes);
    let _ = wire::Rakp4::decode(bytes);
    let _ = wire::confidentiality_unpad(bytes);
    let _ = GetDeviceId.parse_response(bytes);
    let _ = GetChassisStatus.parse_response(bytes);
    let _ = GetSystemBootOptions { parameter: 5 }.parse_response(bytes).map(|p| p.boot_flags());
    let caps = GetChannelAuthCapabilities { channel: 14, ipmi_v2_extended: true, privilege: Privilege::User };
    let _ = caps.parse_response(bytes);
    let _ = parse_cipher_suite_records(bytes);

    let keys = SessionKeys {
        sik: SecretSlice::from(vec![1u8; 32]),
        k1: SecretSlice::from(vec![2u8; 32]),
        k2: SecretSlice::from(vec![3u8; 32]),
    };
    let suite = if selector & 1 == 0 { CipherSuite::Suite17 } else { CipherSuite::Suite3 };
    let mut session = Session::new("fuzz".into(), suite, keys, 1, 2, Instant::now());
    let _ = session.decode_response(bytes, Instant::now());
});
