//! The mock BMC's query handling: arbitrary query strings through percent decoding and the
//! `$expand` parser, with the percent-encoding round trip checked. Any panic is a bug. Seeds:
//! `mock-bmc/fuzz-corpus/mock_query/`, replayed on stable by `mock-bmc/tests/fuzz_corpus.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ferrofish_mock_bmc::fuzzing::query(data);
});
