//! The lenient Redfish models (service root, system, manager, chassis, hardware, storage, task, collections) and vendor detection.
//! See `ferrofish_redfish_core::fuzzing::lenient_models`; the seed corpus is replayed on stable by
//! `redfish-core/tests/fuzz_corpus.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ferrofish_redfish_core::fuzzing::lenient_models(data));
