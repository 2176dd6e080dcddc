//! Feed arbitrary datagrams to every decoder a BMC's reply reaches: the wire codec, the
//! in-session decoder (integrity, decryption, IPMI message), AES-CBC decryption with its pad
//! check, the handshake state machine at each of its three waiting steps, and the command reply
//! parsers. Any panic is a bug; errors are the expected outcome.
#![no_main]

use std::time::Instant;

use ferrofish_ipmi::Privilege;
use ferrofish_ipmi::commands::{
    Command, GetChannelAuthCapabilities, GetChassisStatus, GetDeviceId, GetSystemBootOptions,
    parse_cipher_suite_records,
};
use ferrofish_ipmi::crypto::{CipherSuite, RakpTranscript, SessionKeys};
use ferrofish_ipmi::session::{Credentials, Handshake, HandshakeParams, Progress, Session};
use ferrofish_ipmi::wire::{self, PayloadType, RmcpPlusHeader};
use libfuzzer_sys::fuzz_target;
use secrecy::{SecretSlice, SecretString};

const CONSOLE_SID: u32 = 0xA0A2_A3A4;
const BMC_SID: u32 = 0x1122_3344;
const CONSOLE_RANDOM: [u8; 16] = [7; 16];

fn presession(payload_type: PayloadType, payload: &[u8]) -> Vec<u8> {
    let header = RmcpPlusHeader {
        encrypted: false,
        authenticated: false,
        payload_type,
        session_id: 0,
        sequence: 0,
    };
    wire::encode_rmcp_plus(&header, payload, None)
}

fn credentials() -> Credentials {
    Credentials {
        username: "admin".into(),
        password: SecretString::from("password"),
        kg: None,
    }
}

fn handshake(suite: CipherSuite) -> Handshake {
    Handshake::new(HandshakeParams {
        peer: "fuzz".into(),
        suite,
        privilege: Privilege::Administrator,
        console_session_id: CONSOLE_SID,
        console_random: CONSOLE_RANDOM,
        tag: 0,
        bmc_reports_kg: false,
    })
}

/// A valid Open Session Response for `suite`.
fn open_reply(suite: CipherSuite) -> Vec<u8> {
    let payload = wire::OpenSessionResponse {
        tag: 0,
        status: 0,
        max_privilege: 4,
        console_session_id: Some(CONSOLE_SID),
        accepted: Some((BMC_SID, suite.algorithms())),
    }
    .encode();
    presession(PayloadType::OpenSessionResponse, &payload)
}

/// A valid RAKP 2 for `hs` (which has taken the Open Session Response).
fn rakp2(suite: CipherSuite, hs: &Handshake) -> Vec<u8> {
    let (bmc_random, guid) = ([9u8; 16], [5u8; 16]);
    let transcript = RakpTranscript {
        console_session_id: CONSOLE_SID,
        bmc_session_id: BMC_SID,
        console_random: CONSOLE_RANDOM,
        bmc_random,
        bmc_guid: guid,
        role: hs.role_byte(),
        username: b"admin".to_vec(),
    };
    let code = suite
        .auth_hash()
        .map(|alg| transcript.rakp2_code(alg, b"password"))
        .unwrap_or_default();
    let payload = wire::Rakp2 {
        tag: 0,
        status: 0,
        console_session_id: CONSOLE_SID,
        bmc_random_and_guid: Some((bmc_random, guid)),
        key_exchange_code: code,
    }
    .encode();
    presession(PayloadType::Rakp2, &payload)
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let _ = wire::decode_datagram(bytes, usize::from(selector % 33));
    let _ = wire::IpmiResponse::decode(bytes);
    let _ = wire::OpenSessionResponse::decode(bytes);
    let _ = wire::Rakp2::decode(bytes);
    let _ = wire::Rakp4::decode(bytes);
    let _ = wire::confidentiality_unpad(bytes);
    let _ = GetDeviceId.parse_response(bytes);
    let _ = GetChassisStatus.parse_response(bytes);
    let _ = GetSystemBootOptions { parameter: 5 }
        .parse_response(bytes)
        .map(|p| p.boot_flags());
    let caps = GetChannelAuthCapabilities {
        channel: 14,
        ipmi_v2_extended: true,
        privilege: Privilege::User,
    };
    let _ = caps.parse_response(bytes);
    let _ = parse_cipher_suite_records(bytes);

    let keys = SessionKeys {
        sik: SecretSlice::from(vec![1u8; 32]),
        k1: SecretSlice::from(vec![2u8; 32]),
        k2: SecretSlice::from(vec![3u8; 32]),
    };
    // Decryption directly: IV split, block length, CBC, and the 01h 02h .. pad check.
    let _ = keys.decrypt(bytes);
    let suite = if selector & 1 == 0 {
        CipherSuite::Suite17
    } else {
        CipherSuite::Suite3
    };
    let mut session = Session::new("fuzz".into(), suite, keys, 1, 2, Instant::now());
    let _ = session.decode_response(bytes, Instant::now());

    // The handshake, one fresh state machine per step it can wait in.
    let creds = credentials();
    let now = Instant::now();
    let mut awaiting_open = handshake(suite);
    let _ = awaiting_open.on_datagram(bytes, &creds, now);

    // The preludes must reach the step (else the fuzzer would only ever test the first one).
    let mut awaiting_rakp2 = handshake(suite);
    let opened = awaiting_rakp2.on_datagram(&open_reply(suite), &creds, now);
    assert!(
        matches!(opened, Ok(Progress::Send(_))),
        "prelude: {opened:?}"
    );
    let _ = awaiting_rakp2.on_datagram(bytes, &creds, now);

    // Waiting for RAKP 4 is where in-session framing is also decoded (quirk rakp4-in-session).
    let mut awaiting_rakp4 = handshake(suite);
    let _ = awaiting_rakp4.on_datagram(&open_reply(suite), &creds, now);
    let valid_rakp2 = rakp2(suite, &awaiting_rakp4);
    let answered = awaiting_rakp4.on_datagram(&valid_rakp2, &creds, now);
    assert!(
        matches!(answered, Ok(Progress::Send(_))),
        "prelude: {answered:?}"
    );
    let _ = awaiting_rakp4.on_datagram(bytes, &creds, now);
});
