//! Comparing secrets without leaking where they differ, for the key exchange and the stored
//! BMC key alike (its own module so that the configuration and the crypto need not import each
//! other).

/// Compares without an early exit, so the time taken does not reveal the matching prefix.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
