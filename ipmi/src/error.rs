//! The crate's error types: [`Error`] for everything the client reports and [`DecodeError`] for
//! bytes that do not parse.
//!
//! No variant carries a password, a BMC key (Kg) or a session key, so `Debug` and `Display` of an
//! error are always safe to log.
//!
//! Why two types: [`DecodeError`] is what the pure codec ([`crate::wire`], the reply parsers in
//! [`crate::commands`], the handshake's packet checks) returns, with no I/O context — it knows
//! bytes, not BMCs. It is small, `Clone + PartialEq`, cheap to produce for every dropped
//! datagram, and what the fuzz target exercises. [`Error`] is the one error enum of the crate
//! that callers match on; it wraps a `DecodeError` with the BMC address and what was being
//! decoded ([`Error::Decode`], [`Error::Timeout`]'s `last_rejected`). The same split as
//! hickory's `DecodeError` inside its `ProtoError`: codec errors stay separate so the codec does
//! not depend on the client.

use std::time::Duration;

use crate::commands::CompletionCode;
use crate::crypto::CipherSuite;
use crate::session::{Privilege, RmcpPlusStatus};

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

/// What the client was doing when a BMC stopped answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage {
    /// Get Channel Authentication Capabilities (first packet to a BMC).
    AuthCapabilities,
    /// RMCP+ Open Session.
    OpenSession,
    /// RAKP message 1 (waiting for RAKP 2).
    Rakp1,
    /// RAKP message 3 (waiting for RAKP 4).
    Rakp3,
    /// An in-session command.
    Command {
        /// Network function of the request.
        net_fn: u8,
        /// Command byte of the request.
        command: u8,
    },
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stage::AuthCapabilities => f.write_str("get channel authentication capabilities"),
            Stage::OpenSession => f.write_str("open session"),
            Stage::Rakp1 => f.write_str("rakp 1"),
            Stage::Rakp3 => f.write_str("rakp 3"),
            Stage::Command { net_fn, command } => {
                write!(f, "command netfn {net_fn:#04x} cmd {command:#04x}")
            }
        }
    }
}

/// Everything that can go wrong talking IPMI to a BMC.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A builder argument is unusable; nothing was sent.
    #[error("invalid argument {name}: {reason}")]
    InvalidArgument {
        /// The argument.
        name: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Cipher suite 0 authenticates nobody and is only used when named explicitly.
    #[error(
        "cipher suite 0 (no authentication) is refused; name CipherSuite::Suite0Insecure explicitly to use it"
    )]
    CipherSuiteZeroRefused,
    /// The cipher suite id is not one this client implements.
    #[error("cipher suite {0} is not supported (supported: 17, 3)")]
    UnsupportedCipherSuite(u8),
    /// The BMC address could not be resolved.
    #[error("cannot resolve bmc address {address}: {source}")]
    Resolve {
        /// The address as given.
        address: String,
        /// The resolver error.
        source: std::io::Error,
    },
    /// A socket operation failed.
    #[error("udp i/o with {address} failed: {source}")]
    Io {
        /// The BMC address.
        address: String,
        /// The socket error.
        source: std::io::Error,
    },
    /// The BMC did not answer within the timeout, retransmissions included.
    #[error(
        "no answer from bmc {address} to {stage} after {attempts} attempts of {timeout:?}{}",
        last_rejected.as_ref().map(|e| format!(" (last datagram dropped: {e})")).unwrap_or_default()
    )]
    Timeout {
        /// The BMC address.
        address: String,
        /// What was being waited for.
        stage: Stage,
        /// Datagrams sent for this request (first try plus retransmissions).
        attempts: u32,
        /// Per-attempt timeout.
        timeout: Duration,
        /// The last datagram that arrived but was dropped, if any (why it was dropped).
        last_rejected: Option<DecodeError>,
    },
    /// RAKP message 1 got no RAKP message 2 (some BMCs stay silent for unknown users).
    #[error(
        "bmc {address} did not answer rakp 1 with rakp 2 after {attempts} attempts (unknown user on a silent bmc?)"
    )]
    NoRakp2 {
        /// The BMC address.
        address: String,
        /// Datagrams sent.
        attempts: u32,
    },
    /// The BMC does not speak IPMI v2.0 / RMCP+ according to its authentication capabilities.
    #[error("bmc {address} does not support ipmi v2.0 rmcp+")]
    RmcpPlusUnsupported {
        /// The BMC address.
        address: String,
    },
    /// Open Session was answered with an error status.
    #[error("bmc {address} refused open session for cipher suite {suite}: {status}")]
    OpenSessionRejected {
        /// The BMC address.
        address: String,
        /// The suite proposed.
        suite: CipherSuite,
        /// RMCP+ status code from the reply.
        status: RmcpPlusStatus,
    },
    /// The BMC accepted Open Session but selected other algorithms than proposed.
    #[error(
        "bmc {address} answered open session for suite {suite} with algorithms auth {auth:#04x} integrity {integrity:#04x} confidentiality {confidentiality:#04x}"
    )]
    AlgorithmMismatch {
        /// The BMC address.
        address: String,
        /// The suite proposed.
        suite: CipherSuite,
        /// Authentication algorithm the BMC chose.
        auth: u8,
        /// Integrity algorithm the BMC chose.
        integrity: u8,
        /// Confidentiality algorithm the BMC chose.
        confidentiality: u8,
    },
    /// RAKP 2 status 0Dh: the BMC has no such user name.
    #[error("bmc {address} does not know user {user:?} (rakp 2 status 0x0d unauthorized name)")]
    UnknownUser {
        /// The BMC address.
        address: String,
        /// The user name sent (not secret).
        user: String,
    },
    /// RAKP 2 (or RAKP 4) carried another error status.
    #[error("bmc {address} rejected {message}: {status}")]
    RakpRejected {
        /// The BMC address.
        address: String,
        /// `"rakp 1"` or `"rakp 3"`.
        message: &'static str,
        /// RMCP+ status code.
        status: RmcpPlusStatus,
    },
    /// The key exchange code in RAKP 2 does not match: the password is wrong (or the BMC
    /// hashes differently).
    #[error("rakp 2 check failed for user {user:?} at bmc {address}: wrong password")]
    Rakp2CheckFailed {
        /// The BMC address.
        address: String,
        /// The user name sent (not secret).
        user: String,
    },
    /// The integrity check value in RAKP 4 does not match: the BMC key (Kg) is wrong or missing.
    #[error("rakp 4 check failed at bmc {address}: wrong bmc key (kg){}", if *bmc_reports_kg && !kg_given { "; the bmc reports a kg is set but none was given" } else { "" })]
    Rakp4CheckFailed {
        /// The BMC address.
        address: String,
        /// Whether Get Channel Authentication Capabilities said a non-zero Kg is configured.
        bmc_reports_kg: bool,
        /// Whether the client was given a Kg.
        kg_given: bool,
    },
    /// Set Session Privilege Level was refused, also after stepping down to operator.
    #[error("bmc {address} refused session privilege {requested:?}: {code}")]
    PrivilegeRefused {
        /// The BMC address.
        address: String,
        /// The last privilege asked for.
        requested: Privilege,
        /// Completion code of the refusal.
        code: CompletionCode,
    },
    /// A command was answered with a non-zero completion code.
    #[error("{command} failed at bmc {address}: {code}")]
    Command {
        /// The BMC address.
        address: String,
        /// The command name.
        command: &'static str,
        /// Completion code from the reply.
        code: CompletionCode,
    },
    /// A reply from the BMC did not decode.
    #[error("bad reply to {context} from bmc {address}: {source}")]
    Decode {
        /// The BMC address.
        address: String,
        /// What the reply answered.
        context: &'static str,
        /// The decode failure.
        source: DecodeError,
    },
    /// A write was accepted but the value read back differs.
    #[error("bmc {address} accepted {what} {expected} but reads back {actual}")]
    ReadBackMismatch {
        /// The BMC address.
        address: String,
        /// What was written.
        what: &'static str,
        /// The value written.
        expected: String,
        /// The value read back.
        actual: String,
    },
    /// A command that is not idempotent ([`crate::commands::Command::IDEMPOTENT`], e.g. Chassis
    /// Control) got no reply in a reused session. The BMC may have run it and lost only the
    /// replies, or never received it; sending it again could, for example, power-cycle a
    /// server twice, so the client did not. A new session was opened for the next command:
    /// read the state back (e.g. [`crate::IpmiClient::chassis_status`] or
    /// [`crate::IpmiClient::boot_device`]) and send the command again only if it did not run.
    #[error(
        "bmc {address} stopped answering {command} after {attempts} attempts; it may or may not have run: read the state back before sending it again"
    )]
    OutcomeUnknown {
        /// The BMC address.
        address: String,
        /// The command name.
        command: &'static str,
        /// Datagrams sent for it (first try plus retransmissions, all in the old session).
        attempts: u32,
    },
    /// An internal invariant of the client did not hold: a bug in this crate, not a BMC
    /// problem. Nothing about the BMC can be concluded from it; please report it.
    #[error("internal error in the ipmi client for {address}: {invariant}")]
    Internal {
        /// The BMC address.
        address: String,
        /// The invariant that was broken.
        invariant: &'static str,
    },
    /// The client was closed with [`crate::IpmiClient::close`].
    #[error("the ipmi client for {address} is closed")]
    Closed {
        /// The BMC address.
        address: String,
    },
}
