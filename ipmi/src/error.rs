//! The crate's error type: [`Error`], everything the client reports.
//!
//! No variant carries a password, a BMC key (Kg) or a session key, so `Debug` and `Display` of an
//! error are always safe to log.
//!
//! Bytes that do not parse are a [`DecodeError`], which lives beside the codec in
//! [`crate::wire`] (the pure codec, the reply parsers in [`crate::commands`] and the handshake's
//! packet checks return it, with no I/O context — it knows bytes, not BMCs). It is small,
//! `Clone + PartialEq`, cheap to produce for every dropped datagram, and what the fuzz targets
//! exercise. [`Error`] wraps it with the BMC address and what was being decoded
//! ([`Error::Decode`], [`Error::Timeout`]'s `last_rejected`). The same split as hickory's
//! `DecodeError` inside its `ProtoError`. The layering is one way: this module imports the
//! codec, the commands and the suites; none of them imports it back.

use std::time::Duration;

use crate::commands::CompletionCode;
use crate::suite::CipherSuite;
use crate::wire::{DecodeError, Privilege, RmcpPlusStatus};

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
    /// An argument (of the builder or of a request) is unusable; nothing was sent.
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
    /// Control) got no reply, retransmissions included. The BMC may have run it and lost only
    /// the replies, or never received it; sending it again could, for example, power-cycle a
    /// server twice, so the client did not. When the session was a reused one, a new session
    /// was opened for the next command; a session opened for this command is kept. Read the
    /// state back (e.g. [`crate::IpmiClient::chassis_status`] or
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

impl Error {
    /// The BMC address the error is about, when it is about one.
    pub fn address(&self) -> Option<&str> {
        match self {
            Error::Resolve { address, .. }
            | Error::Io { address, .. }
            | Error::Timeout { address, .. }
            | Error::NoRakp2 { address, .. }
            | Error::RmcpPlusUnsupported { address }
            | Error::OpenSessionRejected { address, .. }
            | Error::AlgorithmMismatch { address, .. }
            | Error::UnknownUser { address, .. }
            | Error::RakpRejected { address, .. }
            | Error::Rakp2CheckFailed { address, .. }
            | Error::Rakp4CheckFailed { address, .. }
            | Error::PrivilegeRefused { address, .. }
            | Error::Command { address, .. }
            | Error::Decode { address, .. }
            | Error::ReadBackMismatch { address, .. }
            | Error::OutcomeUnknown { address, .. }
            | Error::Internal { address, .. }
            | Error::Closed { address } => Some(address),
            Error::InvalidArgument { .. }
            | Error::CipherSuiteZeroRefused
            | Error::UnsupportedCipherSuite(_) => None,
        }
    }

    /// The completion code of a command the BMC refused ([`Error::Command`], or
    /// [`Error::PrivilegeRefused`] for Set Session Privilege Level).
    pub fn completion_code(&self) -> Option<CompletionCode> {
        match self {
            Error::Command { code, .. } | Error::PrivilegeRefused { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The RMCP+ status code of a refused Open Session or RAKP message.
    pub fn rmcp_plus_status(&self) -> Option<RmcpPlusStatus> {
        match self {
            Error::OpenSessionRejected { status, .. } | Error::RakpRejected { status, .. } => {
                Some(*status)
            }
            Error::UnknownUser { .. } => Some(RmcpPlusStatus::UNAUTHORIZED_NAME),
            _ => None,
        }
    }

    /// What the client was waiting for when the BMC stopped answering.
    pub fn stage(&self) -> Option<Stage> {
        match self {
            Error::Timeout { stage, .. } => Some(*stage),
            Error::NoRakp2 { .. } => Some(Stage::Rakp1),
            _ => None,
        }
    }

    /// The BMC did not answer in time, retransmissions included ([`Error::Timeout`], or
    /// [`Error::NoRakp2`] during the login). Not true for [`Error::OutcomeUnknown`]: there the
    /// command may have run (see [`Error::is_outcome_unknown`]).
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. } | Error::NoRakp2 { .. })
    }

    /// A command that is not safe to repeat got no reply: the BMC may or may not have run it.
    /// Read the state back before sending it again.
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self, Error::OutcomeUnknown { .. })
    }

    /// The BMC refused the login or the privilege: unknown user, wrong password, wrong BMC key
    /// (Kg), a refused role, or a refused session privilege.
    pub fn is_auth(&self) -> bool {
        match self {
            Error::UnknownUser { .. }
            | Error::Rakp2CheckFailed { .. }
            | Error::Rakp4CheckFailed { .. }
            | Error::PrivilegeRefused { .. } => true,
            Error::OpenSessionRejected { status, .. } | Error::RakpRejected { status, .. } => {
                status.is_auth_refusal()
            }
            _ => false,
        }
    }

    /// The BMC address could not be resolved or the socket failed.
    pub fn is_connection(&self) -> bool {
        matches!(self, Error::Resolve { .. } | Error::Io { .. })
    }

    /// A reply from the BMC did not decode.
    pub fn is_decode(&self) -> bool {
        matches!(self, Error::Decode { .. })
    }

    /// The caller's input was refused before anything was sent.
    pub fn is_invalid_input(&self) -> bool {
        matches!(
            self,
            Error::InvalidArgument { .. }
                | Error::CipherSuiteZeroRefused
                | Error::UnsupportedCipherSuite(_)
        )
    }

    /// The client was closed with [`crate::IpmiClient::close`].
    pub fn is_closed(&self) -> bool {
        matches!(self, Error::Closed { .. })
    }

    /// Trying again later may succeed: silence, a socket error, a BMC out of session slots, or
    /// a busy BMC. Never true for [`Error::OutcomeUnknown`] (read the state back first) nor for
    /// refused credentials.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Timeout { .. } | Error::Io { .. } => true,
            Error::OpenSessionRejected { status, .. } | Error::RakpRejected { status, .. } => {
                status.is_out_of_resources()
            }
            Error::Command { code, .. } => matches!(
                code,
                CompletionCode::NodeBusy
                    | CompletionCode::Timeout
                    | CompletionCode::OutOfSpace
                    | CompletionCode::SdrInUpdateMode
                    | CompletionCode::FirmwareUpdateMode
                    | CompletionCode::InitializationInProgress
            ),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeout() -> Error {
        Error::Timeout {
            address: "bmc:623".into(),
            stage: Stage::Command {
                net_fn: 0,
                command: 1,
            },
            attempts: 4,
            timeout: Duration::from_secs(1),
            last_rejected: None,
        }
    }

    #[test]
    fn predicates_sort_errors_the_way_a_caller_acts_on_them() {
        let unknown = Error::OutcomeUnknown {
            address: "bmc:623".into(),
            command: "chassis control",
            attempts: 4,
        };
        assert!(timeout().is_timeout() && timeout().is_retryable());
        assert!(!timeout().is_outcome_unknown());
        // An unknown outcome is neither a timeout nor retryable: read back first.
        assert!(unknown.is_outcome_unknown() && !unknown.is_timeout() && !unknown.is_retryable());
        let no_rakp2 = Error::NoRakp2 {
            address: "bmc:623".into(),
            attempts: 4,
        };
        assert!(no_rakp2.is_timeout());
        assert_eq!(no_rakp2.stage(), Some(Stage::Rakp1));

        let io = Error::Io {
            address: "bmc:623".into(),
            source: std::io::Error::other("unreachable"),
        };
        assert!(io.is_connection() && io.is_retryable() && !io.is_timeout());
        assert_eq!(io.address(), Some("bmc:623"));
    }

    #[test]
    fn refused_credentials_and_roles_are_auth_errors_and_never_retryable() {
        let rakp = |status: u8| Error::RakpRejected {
            address: "b".into(),
            message: "rakp 1",
            status: RmcpPlusStatus(status),
        };
        let open = |status: u8| Error::OpenSessionRejected {
            address: "b".into(),
            suite: CipherSuite::Suite17,
            status: RmcpPlusStatus(status),
        };
        for auth in [
            Error::UnknownUser {
                address: "b".into(),
                user: "u".into(),
            },
            Error::Rakp2CheckFailed {
                address: "b".into(),
                user: "u".into(),
            },
            Error::Rakp4CheckFailed {
                address: "b".into(),
                bmc_reports_kg: true,
                kg_given: false,
            },
            Error::PrivilegeRefused {
                address: "b".into(),
                requested: Privilege::Administrator,
                code: CompletionCode::InsufficientPrivilege,
            },
            rakp(0x0D),
            rakp(0x0F),
            open(0x09),
        ] {
            assert!(auth.is_auth() && !auth.is_retryable(), "{auth:?}");
        }
        // Out of session slots: not the credentials, and worth another try later.
        for busy in [rakp(0x01), open(0x0B)] {
            assert!(!busy.is_auth() && busy.is_retryable(), "{busy:?}");
        }
        // No matching cipher suite is neither.
        assert!(!open(0x11).is_auth() && !open(0x11).is_retryable());
        assert_eq!(open(0x11).rmcp_plus_status(), Some(RmcpPlusStatus(0x11)));
        assert!(!timeout().is_auth());
    }

    #[test]
    fn completion_codes_are_exposed_and_busy_ones_are_retryable() {
        let refused = |code: u8| Error::Command {
            address: "b".into(),
            command: "get device id",
            code: CompletionCode::from_u8(code),
        };
        assert_eq!(
            refused(0xC1).completion_code(),
            Some(CompletionCode::InvalidCommand)
        );
        assert!(!refused(0xC1).is_retryable());
        assert!(refused(0xC0).is_retryable(), "node busy");
        assert!(refused(0xD2).is_retryable(), "initialization in progress");
        assert_eq!(timeout().completion_code(), None);
        let invalid = Error::InvalidArgument {
            name: "net_fn",
            reason: "above 0x3f",
        };
        assert!(invalid.is_invalid_input() && invalid.address().is_none());
        assert!(Error::CipherSuiteZeroRefused.is_invalid_input());
        let closed = Error::Closed {
            address: "b".into(),
        };
        assert!(closed.is_closed() && !closed.is_retryable());
        let decode = Error::Decode {
            address: "b".into(),
            context: "get device id",
            source: DecodeError::BadAuthCode,
        };
        assert!(decode.is_decode() && !decode.is_connection());
    }
}
