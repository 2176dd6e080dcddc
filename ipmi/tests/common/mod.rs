//! Helpers shared by the integration tests.
#![allow(dead_code)]

/// Decode a hex string (whitespace ignored).
pub fn hex(s: &str) -> Vec<u8> {
    let digits: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(digits.len().is_multiple_of(2), "odd hex length");
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// Decode a 16-byte hex string.
pub fn hex16(s: &str) -> [u8; 16] {
    hex(s).try_into().expect("16 bytes")
}

/// Path of the shared reference traces, if present.
pub fn traces_dir() -> Option<std::path::PathBuf> {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/ipmi-traces");
    if dir.is_dir() { Some(dir) } else { None }
}
