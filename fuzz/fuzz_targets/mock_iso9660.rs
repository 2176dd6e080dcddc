//! The mock BMC's ISO 9660 reader: arbitrary volume descriptors and directories (placed after
//! the 16 system sectors), read for a config drive and an El Torito boot catalog. Any panic is a
//! bug. Seeds: `mock-bmc/fuzz-corpus/mock_iso9660/`, replayed on stable by
//! `mock-bmc/tests/fuzz_corpus.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ferrofish_mock_bmc::fuzzing::iso9660(data);
});
