//! The crate's error type.

use std::net::SocketAddr;

/// Everything that can go wrong in the mock BMC (start-up, ISO parsing, configuration).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockBmcError {
    /// A personality name that none of [`crate::Personality::ALL`] carries.
    #[error("unknown personality {0:?} (expected generic, dell, hpe, lenovo or supermicro)")]
    UnknownPersonality(String),
    /// Binding a listening socket failed.
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// Address that was asked for.
        addr: SocketAddr,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// Other socket-level failure at start-up.
    #[error("socket error: {0}")]
    Io(#[from] std::io::Error),
    /// Generating or loading the TLS certificate failed.
    #[error("tls setup failed: {0}")]
    Tls(String),
    /// A builder argument is out of range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(&'static str),
    /// A fault description (admin API / CLI) could not be parsed.
    #[error("invalid fault description: {0}")]
    InvalidFaults(String),
    /// The image does not carry an ISO 9660 primary volume descriptor ("CD001" at byte 32769).
    #[error("not an iso 9660 image: no primary volume descriptor at byte 32769")]
    NotIso9660,
    /// The ISO image ends before a structure it points to.
    #[error("iso 9660 image truncated: {what} at byte {offset} is beyond the end")]
    IsoTruncated {
        /// What was being read.
        what: &'static str,
        /// Byte offset that is missing.
        offset: u64,
    },
    /// The ISO image has a structure that does not make sense.
    #[error("malformed iso 9660 image: {0}")]
    IsoMalformed(&'static str),
    /// `network_data.json` on a config drive is not valid or has no static address.
    #[error("config drive network_data.json unusable: {0}")]
    ConfigDrive(&'static str),
}
