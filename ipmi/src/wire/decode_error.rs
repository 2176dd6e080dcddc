//! [`DecodeError`], what every decoder of the codec returns. It lives beside the codec, which
//! imports nothing else from the crate: the error of the client ([`crate::Error`]) wraps it,
//! never the other way round.

/// Why a packet (or the data of a reply) could not be decoded.
///
/// Produced by the pure codec in [`crate::wire`] and by the reply parsers in
/// [`crate::commands`]; hostile or truncated input always ends here, never in a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Fewer bytes than the structure needs.
    #[error("{what} truncated: need {needed} bytes, got {got}")]
    Truncated {
        /// The structure being decoded.
        what: &'static str,
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        got: usize,
    },
    /// A length field disagrees with the bytes actually present.
    #[error("{what} length field says {declared} bytes but {actual} are present")]
    LengthMismatch {
        /// The structure being decoded.
        what: &'static str,
        /// The length the packet declares.
        declared: usize,
        /// The length that is there.
        actual: usize,
    },
    /// A field holds a value the protocol does not allow here.
    #[error("{what} has invalid value {value:#04x}")]
    InvalidValue {
        /// The field.
        what: &'static str,
        /// The value found.
        value: u32,
    },
    /// The integrity auth code of a packet does not verify (forged, corrupted or another
    /// session's packet).
    #[error("integrity check of the packet failed")]
    BadAuthCode,
    /// An IPMI message checksum does not add up to zero.
    #[error("ipmi message {which} is wrong")]
    BadChecksum {
        /// `"checksum 1"` (header) or `"checksum 2"` (body).
        which: &'static str,
    },
}

impl DecodeError {
    /// Shorthand for [`DecodeError::Truncated`] when fewer than `needed` bytes are present.
    pub(crate) fn need(what: &'static str, needed: usize, got: usize) -> Result<(), Self> {
        if got < needed {
            Err(DecodeError::Truncated { what, needed, got })
        } else {
            Ok(())
        }
    }
}
