//! The in-session decoder past the integrity check: every input is signed with a known K1, so
//! random payloads reach AES decryption, the pad check and the IPMI message decoder (see
//! `ferrofish_ipmi::fuzzing::session_decode`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ferrofish_ipmi::fuzzing::session_decode(data));
