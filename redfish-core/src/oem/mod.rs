//! Typed clients for what only a vendor's own API does: each module holds one vendor's OEM
//! actions, with the pure reading of where the vendor advertises them.

pub mod hpe;
