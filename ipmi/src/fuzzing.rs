//! Entry points for the fuzz targets in `fuzz/` and for the test that replays their seed
//! corpora on stable (`tests/fuzz_corpus.rs`): each takes arbitrary bytes as a BMC could send
//! them and checks what must hold whatever the input. Any panic is a bug; errors are the
//! expected outcome. Not part of the public API (hidden from the docs, no stability promise).

use std::time::Instant;

use secrecy::{SecretSlice, SecretString};

use crate::commands::{
    Command, GetChannelAuthCapabilities, GetChassisStatus, GetDeviceId, GetSystemBootOptions,
    parse_cipher_suite_records,
};
use crate::crypto::{CipherSuite, RakpTranscript, SessionKeys};
use crate::session::{Credentials, Handshake, HandshakeParams, Progress, Session};
use crate::wire::{self, DecodeError, IpmiResponse, PayloadType, Privilege, RmcpPlusHeader};

/// The console session ID of every target's session and handshake.
pub const CONSOLE_SID: u32 = 0xA0A2_A3A4;
/// The BMC session ID of every target's session and handshake.
pub const BMC_SID: u32 = 0x1122_3344;
/// The console random Rm of the handshakes.
pub const CONSOLE_RANDOM: [u8; 16] = [7; 16];

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

/// The credentials of the handshakes (user `admin`, password `password`, no Kg).
pub fn credentials() -> Credentials {
    Credentials {
        username: "admin".into(),
        password: SecretString::from("password"),
        kg: None,
    }
}

/// A handshake as the targets start it, proposing `suite` at administrator privilege.
pub fn handshake(suite: CipherSuite) -> Handshake {
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

/// Every decoder a BMC's reply reaches: the wire codec, the in-session decoder (integrity,
/// decryption, IPMI message), AES-CBC decryption with its pad check, the handshake state
/// machine at each of its three waiting steps, and the command reply parsers. The first byte
/// picks the suite and the auth code length; the rest is the datagram.
pub fn decode_datagram(data: &[u8]) {
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
}

/// The keys the session-decode target signs and encrypts with: known, so that fuzzed payloads
/// pass the integrity check and reach decryption and the IPMI message decoder.
fn known_keys() -> SessionKeys {
    SessionKeys {
        sik: SecretSlice::from(vec![0x11; 32]),
        k1: SecretSlice::from(vec![0x22; 32]),
        k2: SecretSlice::from(vec![0x33; 32]),
    }
}

/// The in-session decoder past the integrity check. Layout of `data`:
/// - byte 0, flags: bit 0 picks suite 3 (else 17); bit 1 means the body is the payload field
///   exactly as sent (IV and ciphertext, so decryption and its pad check see arbitrary bytes),
///   else the body is the plaintext IPMI message, encrypted here with the known key; bit 2
///   sends the body unencrypted (encrypted bit clear);
/// - bytes 1-4: the session sequence number (little-endian);
/// - the rest: the body.
///
/// The packet always carries a valid auth code under the known K1, so it is never rejected as
/// forged; a plaintext that is a valid IPMI message is returned as exactly that message, once
/// (the same datagram again is a duplicate and dropped).
pub fn session_decode(data: &[u8]) {
    let (Some(&flags), Some(sequence), Some(body)) = (data.first(), data.get(1..5), data.get(5..))
    else {
        return;
    };
    let suite = if flags & 1 == 1 {
        CipherSuite::Suite3
    } else {
        CipherSuite::Suite17
    };
    let as_sent = flags & 2 != 0;
    let encrypted = flags & 4 == 0;
    // Larger bodies would not fit the payload length field (the encoder does not check).
    if body.len() > wire::MAX_REQUEST_DATA_LEN {
        return;
    }
    let sequence = u32::from_le_bytes([sequence[0], sequence[1], sequence[2], sequence[3]]);
    let keys = known_keys();
    let payload = if encrypted && !as_sent {
        keys.encrypt([0x44; 16], body)
    } else {
        body.to_vec()
    };
    // A BMC's reply carries the console's session ID.
    let header = RmcpPlusHeader {
        encrypted,
        authenticated: true,
        payload_type: PayloadType::Ipmi,
        session_id: CONSOLE_SID,
        sequence,
    };
    let Some((alg, len)) = suite.integrity() else {
        return;
    };
    let signer = known_keys();
    let sign = move |signed: &[u8]| signer.auth_code(alg, len, signed);
    let datagram = wire::encode_rmcp_plus(&header, &payload, Some(&sign));

    let now = Instant::now();
    let mut session = Session::new("fuzz".into(), suite, keys, BMC_SID, CONSOLE_SID, now);
    let first = session.decode_response(&datagram, now);
    assert!(
        !matches!(first, Err(DecodeError::BadAuthCode)),
        "a correctly signed packet failed the integrity check"
    );
    let plaintext = if encrypted && as_sent {
        known_keys().decrypt(body).ok()
    } else {
        Some(body.to_vec())
    };
    let expected = plaintext.and_then(|p| IpmiResponse::decode(&p).ok());
    match (&first, &expected) {
        (Ok(Some(got)), Some(want)) => assert_eq!(got, want),
        (Ok(Some(got)), None) => panic!("decoded {got:?} from a body that does not decode"),
        (_, Some(want)) if sequence != 0 => panic!("{want:?} was not decoded: {first:?}"),
        _ => {}
    }
    if let Ok(Some(_)) = first {
        let again = session.decode_response(&datagram, now);
        assert!(
            matches!(again, Ok(None)),
            "a duplicate was taken: {again:?}"
        );
    }
}
