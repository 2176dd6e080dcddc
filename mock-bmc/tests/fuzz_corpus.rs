//! Replays the hand-made seed corpus of the mock's fuzz targets (`fuzz/fuzz_targets/mock_*.rs`)
//! through the same functions the targets call, on stable, so CI runs them: no seed may panic,
//! and the seeds whose names say what they are must give that outcome (`reply-` answered,
//! `silent-` unanswered, `valid-` parsed, `bad-` refused, `expand-` / `none-` / `refused-`
//! queries).

use std::path::{Path, PathBuf};

use ferrofish_mock_bmc::fuzzing;

/// Every seed of a target, sorted; at least `min` of them, so a lost corpus fails the test.
fn seeds(target: &str, min: usize) -> Vec<(String, Vec<u8>)> {
    let dir: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz-corpus")
        .join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("directory entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).expect("seed readable"))
        })
        .collect();
    out.sort();
    assert!(out.len() >= min, "{target}: {} seeds", out.len());
    out
}

#[test]
fn ipmi_datagram_corpus() {
    for (name, data) in seeds("mock_ipmi_datagram", 8) {
        let answered = fuzzing::ipmi_datagram(&data);
        if name.starts_with("reply-") {
            assert!(answered > 0, "{name}: no responder answered");
        } else if name.starts_with("silent-") {
            assert_eq!(answered, 0, "{name}");
        }
    }
    // Known counts: a ping and the pre-session command are answered at every step.
    let count = |name: &str| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz-corpus/mock_ipmi_datagram")
            .join(name);
        fuzzing::ipmi_datagram(&std::fs::read(path).unwrap())
    };
    assert_eq!(count("reply-asf-ping"), 3);
    assert_eq!(count("reply-auth-capabilities"), 3);
}

#[test]
fn iso9660_corpus() {
    for (name, data) in seeds("mock_iso9660", 5) {
        let found = fuzzing::iso9660(&data);
        if name.starts_with("valid-") {
            assert!(found.is_some(), "{name} did not parse");
        } else if name.starts_with("bad-") {
            assert!(found.is_none(), "{name} parsed: {found:?}");
        }
    }
    let find = |name: &str| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz-corpus/mock_iso9660")
            .join(name);
        fuzzing::iso9660(&std::fs::read(path).unwrap()).expect("parses")
    };
    let drive = find("valid-config-drive");
    assert_eq!(
        (drive.label.as_str(), drive.config_drive, drive.bootable),
        ("config-2", true, false)
    );
    let os = find("valid-bootable");
    assert_eq!((os.label.as_str(), os.bootable), ("OS_INSTALL", true));
    assert!(!find("valid-dangling-root").config_drive);
}

/// What `fuzzing::query` answers: the `$expand` accepted, or the status of a refusal.
type QueryOutcome = Result<Option<(char, u8)>, u16>;

#[test]
fn query_corpus() {
    let expected: &[(&str, QueryOutcome)] = &[
        ("expand-all", Ok(Some(('*', 1)))),
        ("expand-no-links-2", Ok(Some(('.', 2)))),
        ("expand-encoded-links", Ok(Some(('~', 1)))),
        ("refused-top", Err(501)),
        ("refused-excerpt", Err(501)),
        ("refused-levels", Err(400)),
        ("none-plain", Ok(None)),
        ("none-invalid-utf8", Ok(None)),
        ("none-empty", Ok(None)),
    ];
    let all = seeds("mock_query", expected.len());
    for (name, data) in &all {
        let outcome = fuzzing::query(data);
        if let Some((_, want)) = expected.iter().find(|(n, _)| n == name) {
            assert_eq!(&outcome, want, "{name}");
        }
    }
    for (name, _) in expected {
        assert!(all.iter().any(|(n, _)| n == name), "seed {name} missing");
    }
}
