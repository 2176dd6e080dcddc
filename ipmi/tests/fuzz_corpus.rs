//! Replays the hand-written seed corpora of the IPMI fuzz targets (`fuzz/corpus/<target>/`)
//! through the same functions the targets call, on stable, so CI runs them: the checks inside
//! those functions (a signed packet always passes integrity, a valid message decodes to itself,
//! a duplicate is dropped) hold for every seed. Crashes the fuzzer finds belong here as seeds.

use std::path::PathBuf;
use std::time::Instant;

use ferrofish_ipmi::CipherSuite;
use ferrofish_ipmi::fuzzing::{self, credentials, handshake};
use ferrofish_ipmi::session::Progress;
use ferrofish_ipmi::wire::IpmiResponse;

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut seeds: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    seeds.sort();
    assert!(seeds.len() >= 5, "{target}: only {} seeds", seeds.len());
    seeds
}

fn seed(target: &str, name: &str) -> Vec<u8> {
    corpus(target)
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no seed {target}/{name}"))
        .1
}

#[test]
fn decode_datagram_corpus_replays() {
    for (name, data) in corpus("decode_datagram") {
        let outcome = std::panic::catch_unwind(|| fuzzing::decode_datagram(&data));
        assert!(outcome.is_ok(), "decode_datagram/{name} panicked");
    }
}

#[test]
fn session_decode_corpus_replays() {
    for (name, data) in corpus("ipmi_session_decode") {
        let outcome = std::panic::catch_unwind(|| fuzzing::session_decode(&data));
        assert!(outcome.is_ok(), "ipmi_session_decode/{name} panicked");
    }
    // The plaintext seeds are valid IPMI messages, so the check that the session decoder
    // returns exactly the message (and drops its duplicate) runs for them.
    for name in [
        "suite17_device_id",
        "suite3_chassis_status",
        "unencrypted_max_sequence",
    ] {
        let data = seed("ipmi_session_decode", name);
        let message = IpmiResponse::decode(&data[5..]);
        assert!(message.is_ok(), "{name}: {message:?}");
    }
}

/// The handshake seeds are what a BMC would answer the targets' handshake with, so the
/// fuzzer starts from packets that get through every step (not ones dropped at the first).
#[test]
fn the_handshake_seeds_carry_a_suite_17_handshake_to_the_end() {
    let creds = credentials();
    let now = Instant::now();
    let mut hs = handshake(CipherSuite::Suite17);
    // Each seed starts with the target's selector byte.
    for (step, name) in ["open_session_response_17", "rakp2_valid_17"]
        .into_iter()
        .enumerate()
    {
        let bytes = seed("decode_datagram", name);
        let progress = hs.on_datagram(&bytes[1..], &creds, now);
        assert!(
            matches!(progress, Ok(Progress::Send(_))),
            "step {step} ({name}): {progress:?}"
        );
    }
    let bytes = seed("decode_datagram", "rakp4_valid_17");
    let progress = hs.on_datagram(&bytes[1..], &creds, now);
    assert!(
        matches!(progress, Ok(Progress::Established(_))),
        "{progress:?}"
    );

    let mut suite3 = handshake(CipherSuite::Suite3);
    let open3 = seed("decode_datagram", "open_session_response_17");
    // Suite 3 refuses suite 17's algorithms: the seed set also covers that branch.
    assert!(suite3.on_datagram(&open3[1..], &creds, now).is_err());
}
