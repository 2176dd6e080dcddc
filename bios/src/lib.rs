//! BIOS settings through Redfish: the attribute registry, validation of a desired profile before
//! anything is sent, a diff against current and pending values, staging through the
//! `@Redfish.Settings` object, apply by the reset that really applies pending changes, and a
//! per-attribute verification report.
//!
//! This crate is not filled yet: its issue builds on `ferrofish-redfish-core`.
