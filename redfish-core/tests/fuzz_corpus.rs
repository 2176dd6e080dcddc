//! Replays the hand-written seed corpora of the Redfish fuzz targets (`fuzz/corpus/<target>/`)
//! through the same functions the targets call, on stable, so CI runs them: the checks inside
//! those functions (an `ETag` reads back as itself, a Retry-After wait stays within its cap, a
//! decoded model serializes again) hold for every seed. Crashes the fuzzer finds belong here.

use std::path::PathBuf;

use ferrofish_redfish_core::fuzzing;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{} panicked", path.display());
        count += 1;
    }
    assert!(count >= 4, "{target}: only {count} seeds");
}

#[test]
fn error_body_corpus_replays() {
    replay("redfish_error_body", fuzzing::error_body);
}

#[test]
fn lenient_models_corpus_replays() {
    replay("redfish_lenient_models", fuzzing::lenient_models);
}

#[test]
fn etag_corpus_replays() {
    replay("redfish_etag", fuzzing::etag);
}

#[test]
fn retry_after_corpus_replays() {
    replay("redfish_retry_after", fuzzing::retry_after);
}

#[test]
fn firmware_version_corpus_replays() {
    replay("redfish_firmware_version", fuzzing::firmware_version);
}

/// The seeds get past the parsers' early exits (invalid JSON, no digits), so the replay runs
/// the checks on real parses, not only on refusals.
#[test]
fn the_seeds_reach_the_parsers_past_their_early_exits() {
    use ferrofish_redfish_core::models::{ServiceRoot, parse_error_messages};
    use ferrofish_redfish_core::{Vendor, parse_firmware_version};

    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    let read = |target: &str, name: &str| std::fs::read(dir.join(target).join(name)).unwrap();
    let messages = parse_error_messages(&read("redfish_error_body", "extended_info_list"));
    assert_eq!(messages.len(), 2);
    let root: ServiceRoot =
        serde_json::from_slice(&read("redfish_lenient_models", "service_root_dell")).unwrap();
    assert_eq!(root.vendor.as_deref(), Some("Dell"));
    let hpe = String::from_utf8(read("redfish_firmware_version", "hpe")).unwrap();
    assert_eq!(
        parse_firmware_version(&Vendor::Hpe, &hpe),
        Some(vec![2, 72])
    );
}
