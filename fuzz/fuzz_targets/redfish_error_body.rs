//! Redfish error bodies (`@Message.ExtendedInfo` in its several shapes).
//! See `ferrofish_redfish_core::fuzzing::error_body`; the seed corpus is replayed on stable by
//! `redfish-core/tests/fuzz_corpus.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ferrofish_redfish_core::fuzzing::error_body(data));
