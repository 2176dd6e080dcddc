//! ferrofish manages bare-metal servers through their BMCs.
//!
//! This facade re-exports the member crates as modules.

pub use ferrofish_bios as bios;
pub use ferrofish_ipmi as ipmi;
pub use ferrofish_redfish_core as redfish;
pub use ferrofish_vmedia as vmedia;
