//! `docs/quirks.md` stays in step with the code: every quirk named in redfish-core's sources
//! and tests has a row, and every test a row names exists.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The text with comment markers and line breaks folded, so a name that wraps onto the next
/// comment line still follows its "quirk".
fn folded(text: &str) -> String {
    text.lines()
        .map(|line| {
            line.trim()
                .trim_start_matches("//!")
                .trim_start_matches("///")
                .trim_start_matches("//")
                .trim()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Names written as "quirk `a`" or "quirks `a`, `b` and `c`".
fn quirk_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let lower = text.to_ascii_lowercase();
    for (start, _) in lower.match_indices("quirk") {
        let mut rest = &text[start + "quirk".len()..];
        rest = rest.strip_prefix('s').unwrap_or(rest);
        rest = rest.trim_start_matches([' ', '(']);
        while let Some(after) = rest.strip_prefix('`') {
            let Some(end) = after.find('`') else { break };
            let name = &after[..end];
            if name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                names.insert(name.to_owned());
            }
            rest = after[end + 1..].trim_start_matches([',', ' ']);
            rest = rest.strip_prefix("and ").unwrap_or(rest);
        }
    }
    names
}

/// (name, tests) of every row of the doc's tables.
fn doc_rows() -> Vec<(String, Vec<String>)> {
    let doc = std::fs::read_to_string(crate_dir().join("../docs/quirks.md")).unwrap();
    doc.lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
            let name = cells[0].trim().trim_matches('`').to_owned();
            let tests = cells
                .last()
                .unwrap()
                .split(',')
                .map(|t| t.trim().trim_matches('`').to_owned())
                .filter(|t| !t.is_empty() && t != "—")
                .collect();
            (name, tests)
        })
        .collect()
}

#[test]
fn every_quirk_named_in_the_code_has_a_row() {
    let mut files = Vec::new();
    rust_files(&crate_dir().join("src"), &mut files);
    rust_files(&crate_dir().join("tests"), &mut files);
    let documented: BTreeSet<String> = doc_rows().into_iter().map(|(name, _)| name).collect();
    assert!(documented.len() >= 30, "{documented:?}");
    let mut missing = Vec::new();
    let mut named = BTreeSet::new();
    for file in files.iter().filter(|f| !f.ends_with("quirks_doc.rs")) {
        let text = folded(&std::fs::read_to_string(file).unwrap());
        for name in quirk_names(&text) {
            named.insert(name.clone());
            // Quirk switches (fields of `Quirks`) are named in prose too; they are not quirks.
            if !documented.contains(&name)
                && !ferrofish_redfish_core::QUIRK_FIELDS.contains(&name.as_str())
            {
                missing.push(format!("{}: {name}", file.display()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "quirks without a row in docs/quirks.md: {missing:#?}"
    );
    // The finder does find them: most rows are named somewhere in the code.
    assert!(named.len() >= 25, "{named:?}");
}

#[test]
fn every_test_a_row_names_exists() {
    // Quirks live in the crate that owns the capability: their tests too.
    let mut files = Vec::new();
    for dir in ["redfish-core", "bios", "vmedia", "tests"] {
        let root = crate_dir().join("..").join(dir);
        for sub in ["src", "tests", "."] {
            let path = root.join(sub);
            if sub == "." && dir != "tests" {
                continue;
            }
            if path.is_dir() {
                rust_files(&path, &mut files);
            }
        }
    }
    let sources: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    let mut missing = Vec::new();
    for (name, tests) in doc_rows() {
        for test in tests {
            let signature = format!("fn {test}(");
            if !sources.iter().any(|s| s.contains(&signature)) {
                missing.push(format!("{name}: {test}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "tests named in docs/quirks.md that do not exist: {missing:?}"
    );
}

#[test]
fn the_name_finder_reads_lists_and_wrapped_comments() {
    let text = folded(
        "/// quirks `a_b`, `c` and `d1` (quirk\n/// `wrapped`); quirk 63 is not a name; Quirk `x_y`.",
    );
    let names: Vec<String> = quirk_names(&text).into_iter().collect();
    assert_eq!(names, ["a_b", "c", "d1", "wrapped", "x_y"]);
}
