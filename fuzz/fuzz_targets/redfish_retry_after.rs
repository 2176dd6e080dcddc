//! `Retry-After` values (seconds or HTTP dates), always within the cap.
//! See `ferrofish_redfish_core::fuzzing::retry_after`; the seed corpus is replayed on stable by
//! `redfish-core/tests/fuzz_corpus.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ferrofish_redfish_core::fuzzing::retry_after(data));
