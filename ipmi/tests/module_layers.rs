//! The crate's modules form layers: no module imports one that imports it back, directly or
//! through others. Read from the sources, so a new `use crate::...` that closes a loop fails
//! here (the codec, for instance, must import nothing else from the crate).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module name of a source file (`src/wire/decode_error.rs` belongs to `wire`).
fn module_of(relative: &Path) -> String {
    let first = relative.components().next().unwrap();
    let name = first.as_os_str().to_string_lossy();
    name.trim_end_matches(".rs").to_owned()
}

/// The top-level modules each module refers to by a `crate::` path, outside comments and its
/// own `#[cfg(test)]` tests (which may use anything).
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut pending = vec![src.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let module = module_of(path.strip_prefix(&src).unwrap());
            if module == "lib" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            let targets = graph.entry(module.clone()).or_default();
            for line in code.lines() {
                let line = line.trim_start();
                if line.starts_with("//") {
                    continue;
                }
                for (at, _) in line.match_indices("crate::") {
                    let rest = &line[at + "crate::".len()..];
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    // Lower-case names are modules; `crate::Error` and friends are re-exports
                    // from the crate root, resolved below.
                    if !name.is_empty() && name.starts_with(|c: char| c.is_ascii_lowercase()) {
                        targets.insert(name);
                    }
                }
            }
            targets.remove(&module);
        }
    }
    graph
}

/// A path from `from` back to itself, if the graph has one.
fn cycle_through(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> Option<Vec<String>> {
    let mut stack = vec![vec![from.to_owned()]];
    let mut visited = BTreeSet::new();
    while let Some(path) = stack.pop() {
        let last = path.last().unwrap();
        for next in graph.get(last).into_iter().flatten() {
            if next == from {
                let mut cycle = path.clone();
                cycle.push(next.clone());
                return Some(cycle);
            }
            if visited.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push(longer);
            }
        }
    }
    None
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let graph = dependencies();
    assert!(
        graph.contains_key("wire") && graph.contains_key("client"),
        "{graph:?}"
    );
    for module in graph.keys() {
        if let Some(cycle) = cycle_through(&graph, module) {
            panic!("import loop: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn the_codec_imports_nothing_from_the_crate() {
    let graph = dependencies();
    assert_eq!(graph["wire"], BTreeSet::new(), "{graph:?}");
}
