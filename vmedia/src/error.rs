//! The crate's single error type.

use std::net::SocketAddr;

/// Everything that can fail in virtual media: building a config drive, serving images, and
/// talking to the BMC. Each variant says what failed and what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `network_data.json` is not usable: a dangling link reference, a bad VLAN id, an
    /// address of the wrong family, ... Nothing was built or sent.
    #[error("invalid network_data.json: {reason}; fix the network data and build again")]
    InvalidNetworkData {
        /// What is wrong, naming the link or network.
        reason: String,
    },
    /// A JSON document (network data or meta data) could not be read.
    #[error("{what} is not valid JSON for its schema: {source}")]
    Json {
        /// Which document.
        what: &'static str,
        /// The parser's message, with the line and column.
        #[source]
        source: serde_json::Error,
    },
    /// A file path or volume label cannot be written into an ISO 9660 image.
    #[error("cannot put {path:?} into the image: {reason}")]
    InvalidIsoPath {
        /// The offending path (or label).
        path: String,
        /// Why (empty component, too long, clashes with a directory, ...).
        reason: &'static str,
    },
    /// The ISO writer failed.
    #[error("writing the ISO 9660 image failed: {0}")]
    IsoWrite(String),
    /// The image server could not bind or serve.
    #[error("image server: cannot listen on {addr}: {source}")]
    Bind {
        /// Where the caller asked to listen.
        addr: SocketAddr,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The image server's certificate or key could not be loaded.
    #[error("image server: the TLS certificate or key is not usable: {0}")]
    Tls(String),
    /// A file to be served could not be read or is not a regular file.
    #[error("image server: cannot serve {path}: {reason}")]
    ImageSource {
        /// The path on disk.
        path: String,
        /// Why.
        reason: String,
    },
    /// An image name is not usable in a URL path (empty, contains `/`, or not URL-safe).
    #[error(
        "image name {0:?} must be 1-128 characters of A-Z a-z 0-9 . _ - and not start with a dot"
    )]
    InvalidImageName(String),
    /// The server listens on a wildcard address and no public host was given, so there is no
    /// URL the BMC could use.
    #[error(
        "image server listens on {listen}, which a BMC cannot connect to; set public_host to an address or name the BMC reaches"
    )]
    NoPublicHost {
        /// The wildcard address.
        listen: SocketAddr,
    },
    /// The public host does not make a valid URL.
    #[error("image server: {host:?} is not a host name or address usable in a URL")]
    InvalidPublicHost {
        /// What was given.
        host: String,
    },
}
