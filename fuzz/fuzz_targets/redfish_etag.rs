//! `ETag` header values: normalisation and its round trip.
//! See `ferrofish_redfish_core::fuzzing::etag`; the seed corpus is replayed on stable by
//! `redfish-core/tests/fuzz_corpus.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ferrofish_redfish_core::fuzzing::etag(data));
