//! Feed arbitrary datagrams to every decoder a BMC's reply reaches (see
//! `ferrofish_ipmi::fuzzing::decode_datagram`; its seed corpus is replayed on stable by
//! `ipmi/tests/fuzz_corpus.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ferrofish_ipmi::fuzzing::decode_datagram(data));
