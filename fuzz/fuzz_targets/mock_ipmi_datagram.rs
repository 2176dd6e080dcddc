//! The mock BMC's IPMI side: arbitrary datagrams through its codec and its responder, fresh
//! and after each handshake step reachable without the password. Any panic (or hang) is a bug.
//! Seeds: `mock-bmc/fuzz-corpus/mock_ipmi_datagram/`, replayed on stable by
//! `mock-bmc/tests/fuzz_corpus.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ferrofish_mock_bmc::fuzzing::ipmi_datagram(data);
});
