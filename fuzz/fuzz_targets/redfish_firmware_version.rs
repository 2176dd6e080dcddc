//! Firmware version strings as each vendor's parser reads them.
//! See `ferrofish_redfish_core::fuzzing::firmware_version`; the seed corpus is replayed on stable by
//! `redfish-core/tests/fuzz_corpus.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ferrofish_redfish_core::fuzzing::firmware_version(data));
