//! `docs/quirks.md` stays in step with the code: every quirk named in redfish-core's sources
//! and tests has a row, every test a row names exists, every name is unique, every quirk
//! in "Quirks not handled, and why" has a decision and a reason, and every handled quirk has
//! exactly one row in "On and off" whose switch is a field of its override and whose tests
//! exist.

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

/// The heading of the section of decisions not to handle a quirk.
const NOT_HANDLED: &str = "## Quirks not handled, and why";

/// The heading of the section that proves each handled quirk on and off. Its rows name
/// quirks listed above it, so they are not counted as quirk rows themselves.
const ON_OFF: &str = "## On and off: what each handled quirk changes";

fn doc_text() -> String {
    std::fs::read_to_string(crate_dir().join("../docs/quirks.md")).unwrap()
}

/// The cells of every quirk row (`| `name` | ...`) of `text`.
fn rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            line.trim()
                .trim_matches('|')
                .split(" | ")
                .map(|cell| cell.trim().to_owned())
                .collect()
        })
        .collect()
}

/// The three parts of the doc: the handled tables, the on/off section, the decisions not to
/// handle a quirk.
fn parts() -> (String, String, String) {
    let doc = doc_text();
    let (handled, rest) = doc
        .split_once(ON_OFF)
        .expect("docs/quirks.md has the on/off section");
    let (on_off, decided) = rest
        .split_once(NOT_HANDLED)
        .expect("docs/quirks.md has the section of quirks not handled, after the on/off one");
    (handled.to_owned(), on_off.to_owned(), decided.to_owned())
}

/// (handled rows, not-handled rows) of the doc: the quirk tables before [`ON_OFF`] and after
/// [`NOT_HANDLED`].
fn sections() -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let (handled, _, decided) = parts();
    (rows(&handled), rows(&decided))
}

/// The rows of the on/off section: quirk, switch, on tests, off tests or why there is none.
fn on_off_rows() -> Vec<Vec<String>> {
    rows(&parts().1)
}

fn name_of(cells: &[String]) -> String {
    cells[0].trim_matches('`').to_owned()
}

/// (name, tests) of every handled row.
fn doc_rows() -> Vec<(String, Vec<String>)> {
    sections()
        .0
        .into_iter()
        .map(|cells| {
            let tests = cells
                .last()
                .unwrap()
                .split(',')
                .map(|t| t.trim().trim_matches('`').to_owned())
                .filter(|t| !t.is_empty() && t != "—")
                .collect();
            (name_of(&cells), tests)
        })
        .collect()
}

/// Every quirk name the doc lists, handled or not.
fn all_names() -> Vec<String> {
    let (handled, decided) = sections();
    handled.iter().chain(&decided).map(|c| name_of(c)).collect()
}

#[test]
fn every_quirk_named_in_the_code_has_a_row() {
    let mut files = Vec::new();
    rust_files(&crate_dir().join("src"), &mut files);
    rust_files(&crate_dir().join("tests"), &mut files);
    let documented: BTreeSet<String> = all_names().into_iter().collect();
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

/// The sources of the crates where quirks and their tests live.
fn test_sources() -> Vec<String> {
    let mut files = Vec::new();
    for dir in ["redfish-core", "bios", "vmedia", "mock-bmc", "tests"] {
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
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect()
}

#[test]
fn every_test_a_row_names_exists() {
    // Quirks live in the crate that owns the capability: their tests too.
    let sources = test_sources();
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

#[test]
fn every_quirk_name_is_unique_and_a_plain_name() {
    let names = all_names();
    assert!(names.len() >= 90, "{}", names.len());
    let mut seen = BTreeSet::new();
    let repeated: Vec<&String> = names.iter().filter(|n| !seen.insert(*n)).collect();
    assert!(repeated.is_empty(), "names listed twice: {repeated:?}");
    let odd: Vec<&String> = names
        .iter()
        .filter(|n| {
            n.is_empty()
                || !n
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
        .collect();
    assert!(odd.is_empty(), "names that are not snake_case: {odd:?}");
}

#[test]
fn every_quirk_not_handled_has_a_decision_and_a_reason() {
    let (_, decided) = sections();
    assert!(decided.len() >= 20, "{}", decided.len());
    let decisions = [
        "not handled",
        "not applicable",
        "left to the Dell OEM client",
        "left to the vendor OEM clients",
    ];
    for cells in &decided {
        let name = name_of(cells);
        assert_eq!(
            cells.len(),
            5,
            "{name}: name, vendor, where seen, decision, reason"
        );
        assert!(
            !cells[1].is_empty() && !cells[2].is_empty(),
            "{name}: vendor and where it was seen"
        );
        assert!(
            decisions.contains(&cells[3].as_str()),
            "{name}: decision {:?} is not one of {decisions:?}",
            cells[3]
        );
        // A reason is a sentence, not a placeholder.
        let reason = &cells[4];
        assert!(
            reason.len() >= 40 && reason.ends_with('.'),
            "{name}: reason {reason:?}"
        );
    }
}

#[test]
fn every_name_in_the_vendor_matrix_is_a_quirk_a_switch_or_a_test() {
    let matrix = std::fs::read_to_string(crate_dir().join("../docs/vendors.md")).unwrap();
    let quirks: BTreeSet<String> = all_names().into_iter().collect();
    let sources = test_sources();
    let mut unknown = Vec::new();
    let mut tests = 0;
    for (index, chunk) in matrix.split('`').enumerate() {
        // Odd chunks are inside backticks; only snake_case names are quirks or tests.
        let is_name = index % 2 == 1
            && chunk.contains('_')
            && chunk
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !is_name
            || quirks.contains(chunk)
            || ferrofish_redfish_core::QUIRK_FIELDS.contains(&chunk)
        {
            continue;
        }
        tests += 1;
        let signature = format!("fn {chunk}(");
        if !sources.iter().any(|s| s.contains(&signature)) {
            unknown.push(chunk.to_owned());
        }
    }
    assert!(tests >= 50, "the matrix names tests: {tests}");
    assert!(
        unknown.is_empty(),
        "names in docs/vendors.md that are neither a quirk, a switch nor a test: {unknown:?}"
    );
}

/// The fields of `pub struct {name}` in the Rust source `text` (`pub field: Type` lines).
fn struct_fields(text: &str, name: &str) -> BTreeSet<String> {
    let start = text
        .find(&format!("pub struct {name} {{"))
        .unwrap_or_else(|| panic!("pub struct {name} not found"));
    let body = &text[start..];
    let body = &body[..body.find("\n}").expect("the struct ends")];
    body.lines()
        .filter_map(|line| line.trim().strip_prefix("pub "))
        .filter_map(|rest| rest.split_once(':'))
        .map(|(field, _)| field.trim().to_owned())
        .filter(|field| !field.contains(' '))
        .collect()
}

/// The fields of ferrofish-bios's `BiosQuirksOverride`, read from its source (this crate does
/// not depend on ferrofish-bios).
fn bios_override_fields() -> BTreeSet<String> {
    let source = std::fs::read_to_string(crate_dir().join("../bios/src/bios.rs")).unwrap();
    struct_fields(&source, "BiosQuirksOverride")
}

/// Names in backticks that are switches of the mock BMC (its builder's methods and the fields
/// of its option structs), so an on/off row may name them beside its tests.
fn mock_switches() -> BTreeSet<String> {
    let mock = crate_dir().join("../mock-bmc/src");
    let builder = std::fs::read_to_string(mock.join("lib.rs")).unwrap();
    let mut names: BTreeSet<String> = builder
        .split("pub fn ")
        .skip(1)
        .filter_map(|rest| rest.split_once("(mut self"))
        .map(|(name, _)| name.trim().to_owned())
        .collect();
    let system = std::fs::read_to_string(mock.join("system_options.rs")).unwrap();
    names.extend(struct_fields(&system, "SystemOptions"));
    let bios = std::fs::read_to_string(mock.join("bios_options.rs")).unwrap();
    names.extend(struct_fields(&bios, "BiosOptions"));
    names
}

/// The `snake_case` names written in backticks in `cell` (`a_b`, not `Error::X` nor `On`).
fn backticked_names(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .filter(|chunk| {
            chunk.contains('_')
                && chunk
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
        .map(str::to_owned)
        .collect()
}

/// The `field` of every `{override_name}::field` in `cell` (`QuirksOverride::x` is not read
/// inside `BiosQuirksOverride::x`).
fn override_fields_named(cell: &str, override_name: &str) -> Vec<String> {
    let marker = format!("{override_name}::");
    let mut found = Vec::new();
    for (at, _) in cell.match_indices(&marker) {
        let before = &cell[..at];
        if before.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let field: String = cell[at + marker.len()..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        found.push(field);
    }
    found
}

#[test]
fn every_handled_quirk_has_exactly_one_on_off_row() {
    let handled: Vec<String> = sections().0.iter().map(|c| name_of(c)).collect();
    let on_off: Vec<String> = on_off_rows().iter().map(|c| name_of(c)).collect();
    let missing: Vec<&String> = handled.iter().filter(|n| !on_off.contains(n)).collect();
    let mut seen = BTreeSet::new();
    let twice: Vec<&String> = on_off.iter().filter(|n| !seen.insert(*n)).collect();
    let unknown: Vec<&String> = on_off.iter().filter(|n| !handled.contains(n)).collect();
    assert!(
        missing.is_empty() && twice.is_empty() && unknown.is_empty(),
        "docs/quirks.md \"On and off\": {} handled quirks without a row: {missing:?}; \
         rows listed twice: {twice:?}; rows naming no handled quirk: {unknown:?}",
        missing.len()
    );
}

#[test]
fn every_on_off_row_names_a_real_switch_and_real_tests() {
    let quirks: BTreeSet<String> = all_names().into_iter().collect();
    let bios_fields = bios_override_fields();
    assert!(
        bios_fields.contains("pending_lists_all_attributes"),
        "the BIOS override's fields are read: {bios_fields:?}"
    );
    let mock = mock_switches();
    assert!(
        mock.contains("gzip_weakens_etag") && mock.contains("basic_auth_only"),
        "the mock's switches are read: {mock:?}"
    );
    let sources = test_sources();
    let mut problems = Vec::new();
    for cells in on_off_rows() {
        let name = name_of(&cells);
        if cells.len() != 4 {
            problems.push(format!("{name}: {} cells, not 4", cells.len()));
            continue;
        }
        let (switch, on, off) = (&cells[1], &cells[2], &cells[3]);
        for field in override_fields_named(switch, "QuirksOverride") {
            if !ferrofish_redfish_core::QUIRK_FIELDS.contains(&field.as_str()) {
                problems.push(format!("{name}: QuirksOverride::{field} is not a field"));
            }
        }
        for field in override_fields_named(switch, "BiosQuirksOverride") {
            if !bios_fields.contains(&field) {
                problems.push(format!(
                    "{name}: BiosQuirksOverride::{field} is not a field"
                ));
            }
        }
        if switch != "—" && !switch.contains("::") {
            problems.push(format!(
                "{name}: the switch {switch:?} is neither `—` nor a path"
            ));
        }
        // No switch: the last column says why, in a sentence.
        if switch == "—" && !(off.len() >= 40 && off.ends_with('.')) {
            problems.push(format!("{name}: why there is no switch: {off:?}"));
        }
        let is_test = |n: &String| {
            !quirks.contains(n)
                && !ferrofish_redfish_core::QUIRK_FIELDS.contains(&n.as_str())
                && !bios_fields.contains(n)
                && !mock.contains(n)
        };
        let on_tests: Vec<String> = backticked_names(on).into_iter().filter(is_test).collect();
        if on_tests.is_empty() {
            problems.push(format!("{name}: the On column names no test"));
        }
        let off_tests: Vec<String> = backticked_names(off).into_iter().filter(is_test).collect();
        // A switch needs its off test, or says in so many words that it is not proven (and
        // why); a row without a switch has its reason, and its On tests show the handling.
        let unproven = off.starts_with("Not proven") && off.len() >= 40 && off.ends_with('.');
        if switch != "—" && off_tests.is_empty() && !unproven {
            problems.push(format!(
                "{name}: the last column names no off test and does not say `Not proven`"
            ));
        }
        for test in on_tests.iter().chain(&off_tests) {
            if !sources.iter().any(|s| s.contains(&format!("fn {test}("))) {
                problems.push(format!("{name}: test {test} does not exist"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "docs/quirks.md \"On and off\": {problems:#?}"
    );
}

#[test]
fn the_on_off_checks_read_switches_and_names() {
    assert_eq!(
        override_fields_named(
            "`QuirksOverride::a_b`, `BiosQuirksOverride::c` and MyQuirksOverride::d",
            "QuirksOverride"
        ),
        ["a_b"]
    );
    assert_eq!(
        override_fields_named("`BiosQuirksOverride::c_1`", "BiosQuirksOverride"),
        ["c_1"]
    );
    assert_eq!(
        backticked_names("`a_test`, `Error::Http` 406, `On` and `b_2`"),
        ["a_test", "b_2"]
    );
    let text = "pub struct S {\n    /// doc: not a field\n    pub a_b: Option<bool>,\n    pub c: u32,\n}\n";
    assert_eq!(
        struct_fields(text, "S"),
        BTreeSet::from(["a_b".to_owned(), "c".to_owned()])
    );
}
