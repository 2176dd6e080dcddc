//! ferrofish manages bare-metal servers through their BMCs: typed Redfish and IPMI clients for
//! power, boot devices and out-of-band inspection, with BIOS, virtual media and a provisioning
//! state machine growing on top.
//!
//! This facade re-exports the member crates as modules, so one dependency brings them all:
//!
//! | module | crate | what |
//! |---|---|---|
//! | [`redfish`] | `ferrofish-redfish-core` | Redfish transport, sessions, models, inventory |
//! | [`ipmi`] | `ferrofish-ipmi` | IPMI v2.0 RMCP+ client |
//! | [`bios`] | `ferrofish-bios` | BIOS attributes: registry, validation, diff, stage, apply and verify |
//! | [`vmedia`] | `ferrofish-vmedia` | virtual media (not filled yet) |

pub use ferrofish_bios as bios;
pub use ferrofish_ipmi as ipmi;
pub use ferrofish_redfish_core as redfish;
pub use ferrofish_vmedia as vmedia;

// Compiles and runs the README's Rust examples as doc tests, so the quickstart cannot rot.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
