//! The `ferrofish-mock-bmc` binary.
fn main() {}
