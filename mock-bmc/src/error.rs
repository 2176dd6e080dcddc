//! The crate's error type.

use std::net::SocketAddr;

/// Everything that can go wrong in the mock BMC: start-up of the Redfish and IPMI listeners,
/// configuration (including IPMI users and keys), fault descriptions and ISO parsing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockBmcError {
    /// A personality name that none of [`crate::Personality::ALL`] carries.
    #[error(
        "unknown personality {0:?} (expected generic, dell, hpe, lenovo, supermicro, ami or irmc)"
    )]
    UnknownPersonality(String),
    /// A virtual-media quirk name that none of [`crate::VmediaQuirk::ALL`] carries.
    #[error(
        "unknown virtual-media quirk {0:?} (expected transfer_protocol_required, \
         transfer_method_required, credentials_required or hpe_boot_on_next_reset)"
    )]
    UnknownVmediaQuirk(String),
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
    /// An IPMI password or BMC key (Kg) is longer than the 20-byte IPMI field.
    #[error("{what} is {length} bytes long; IPMI allows at most 20")]
    KeyTooLong {
        /// Which value (never the value itself).
        what: &'static str,
        /// Its length in bytes.
        length: usize,
    },
    /// An IPMI user name is empty, longer than 16 bytes or contains a NUL byte.
    #[error("user name of {length} bytes is invalid; IPMI needs 1 to 16 bytes without NUL")]
    InvalidUserName {
        /// Its length in bytes.
        length: usize,
    },
    /// The IPMI configuration lists no cipher suite, so no session could ever open.
    #[error("the ipmi configuration enables no cipher suite")]
    NoCipherSuite,
    /// The IPMI UDP socket could not be bound.
    #[error("cannot bind the ipmi udp socket to {address}")]
    IpmiBind {
        /// The address asked for.
        address: SocketAddr,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
}
