//! The facade's one error: each member crate's error, an address error, and what only the
//! facade can say (a capability the protocol lacks, a fallback that failed on both sides).
//!
//! The predicates answer the questions a caller acts on whatever the protocol was, with the
//! member crates' meanings: [`Error::is_transient`], [`Error::is_auth`],
//! [`Error::is_outcome_unknown`], [`Error::is_not_applied`], ... No variant carries a secret:
//! the member crates scrub theirs, and the address parser refuses user-info.

use std::fmt;
use std::time::Duration;

use crate::address::{AddressError, Protocol};
use crate::redfish;

/// Something a [`crate::Bmc`] can do, for [`crate::Capabilities`] and [`Error::Unsupported`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Capability {
    /// Read the power state; power on, off, cycle, hard reboot; wait for a state.
    Power,
    /// A reboot through the operating system (Redfish `GracefulRestart`).
    GracefulReboot,
    /// Set the next (or every) boot device.
    BootDevice,
    /// Boot from UEFI HTTP (`UefiHttp` target).
    UefiHttpBoot,
    /// Out-of-band inventory (CPUs, memory, disks, NICs).
    Inventory,
    /// BIOS attributes.
    Bios,
    /// Virtual media (insert, eject, boot from CD).
    VirtualMedia,
}

impl Capability {
    /// Every capability.
    pub const ALL: [Capability; 7] = [
        Capability::Power,
        Capability::GracefulReboot,
        Capability::BootDevice,
        Capability::UefiHttpBoot,
        Capability::Inventory,
        Capability::Bios,
        Capability::VirtualMedia,
    ];

    /// A short name: `power`, `graceful-reboot`, `boot-device`, `uefi-http-boot`,
    /// `inventory`, `bios`, `virtual-media`.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Power => "power",
            Capability::GracefulReboot => "graceful-reboot",
            Capability::BootDevice => "boot-device",
            Capability::UefiHttpBoot => "uefi-http-boot",
            Capability::Inventory => "inventory",
            Capability::Bios => "bios",
            Capability::VirtualMedia => "virtual-media",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every failure of the facade.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The BMC address was refused; nothing was sent.
    #[error(transparent)]
    Address(#[from] AddressError),
    /// A Redfish request failed (status, URL and the BMC's messages inside).
    #[error(transparent)]
    Redfish(#[from] redfish::Error),
    /// An IPMI command failed.
    #[cfg(feature = "ipmi")]
    #[error(transparent)]
    Ipmi(#[from] crate::ipmi::Error),
    /// Reading, validating or applying BIOS settings failed.
    #[cfg(feature = "bios")]
    #[error(transparent)]
    Bios(#[from] crate::bios::BiosError),
    /// Virtual media failed.
    #[cfg(feature = "vmedia")]
    #[error(transparent)]
    VirtualMedia(#[from] crate::vmedia::Error),
    /// The protocol(s) this BMC is spoken to with cannot do this; nothing was sent. Never a
    /// silent no-op: BIOS or virtual media over IPMI alone is this error.
    #[error(
        "{capability} is not available over {protocol}{}",
        if *protocol == Protocol::Ipmi {
            "; it needs Redfish (give a redfish://, redfish-virtualmedia://, idrac-… address)"
        } else {
            ""
        }
    )]
    Unsupported {
        /// What was asked.
        capability: Capability,
        /// The protocol that cannot do it.
        protocol: Protocol,
    },
    /// An option given to [`crate::Bmc::connect`] is unusable; nothing was sent.
    #[error("invalid option {name}: {reason}")]
    InvalidOption {
        /// The option.
        name: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// No system path was given and the BMC does not list exactly one system.
    #[error(
        "the address names no system and the BMC lists {}; add /redfish/v1/Systems/<id> to the address",
        if found.is_empty() { "none".to_owned() } else { format!("{}: {}", found.len(), found.join(", ")) }
    )]
    NoSingleSystem {
        /// The systems the BMC lists.
        found: Vec<String>,
    },
    /// Redfish failed in a way that warranted IPMI, and IPMI failed too. The predicates
    /// answer for the IPMI attempt, the last one made.
    #[cfg(feature = "ipmi")]
    #[error("over Redfish: {redfish}; then over IPMI: {ipmi}")]
    FallbackFailed {
        /// Why Redfish failed.
        redfish: Box<redfish::Error>,
        /// Why IPMI failed.
        ipmi: Box<crate::ipmi::Error>,
    },
    /// The provisioning state machine refused something or its store failed (an event not
    /// allowed, a stale revision, a lease held elsewhere, ...).
    #[cfg(feature = "provision")]
    #[error(transparent)]
    Provision(#[from] crate::provision::ProvisionError),
    /// Inspection rules could not be read or applied, a rule failed inspection, or a
    /// discovery address was refused.
    #[error(transparent)]
    Rules(#[from] crate::rules::RuleError),
    /// The power state was not reached in time (whichever protocol was read).
    #[error("the power state did not become {wanted} within {after:?} (last seen {})", last.as_deref().unwrap_or("nothing"))]
    PowerWaitTimeout {
        /// The state waited for.
        wanted: String,
        /// The last state read.
        last: Option<String>,
        /// How long the wait lasted.
        after: Duration,
    },
}

/// A Redfish request whose method changes something.
fn is_mutating(method: Option<redfish::HttpMethod>) -> bool {
    matches!(
        method,
        Some(
            redfish::HttpMethod::Post
                | redfish::HttpMethod::Patch
                | redfish::HttpMethod::Put
                | redfish::HttpMethod::Delete
        )
    )
}

/// A Redfish request that may have reached the BMC and lost its answer.
pub(crate) fn redfish_outcome_unknown(err: &redfish::Error) -> bool {
    matches!(
        err,
        redfish::Error::Timeout { .. } | redfish::Error::Transport { .. }
    ) && is_mutating(err.method())
}

impl Error {
    /// The Redfish error inside, wherever it is (a BIOS or virtual-media error about a request,
    /// the Redfish half of a failed fallback).
    pub fn redfish(&self) -> Option<&redfish::Error> {
        match self {
            Error::Redfish(err) => Some(err),
            #[cfg(feature = "bios")]
            Error::Bios(crate::bios::BiosError::Redfish(err)) => Some(err),
            #[cfg(feature = "vmedia")]
            Error::VirtualMedia(crate::vmedia::Error::Redfish(err)) => Some(err),
            #[cfg(feature = "ipmi")]
            Error::FallbackFailed { redfish, .. } => Some(redfish),
            _ => None,
        }
    }

    /// The IPMI error inside (of a failed fallback too).
    #[cfg(feature = "ipmi")]
    pub fn ipmi(&self) -> Option<&crate::ipmi::Error> {
        match self {
            Error::Ipmi(err) => Some(err),
            Error::FallbackFailed { ipmi, .. } => Some(ipmi),
            _ => None,
        }
    }

    /// The error a predicate looks at: the IPMI one of a failed fallback, else this one.
    fn last_attempt(&self) -> Attempt<'_> {
        #[cfg(feature = "ipmi")]
        if let Some(err) = self.ipmi() {
            return Attempt::Ipmi(err);
        }
        match self.redfish() {
            Some(err) => Attempt::Redfish(err),
            None => Attempt::Facade,
        }
    }

    /// The protocol the failure happened on, when it happened on one.
    pub fn protocol(&self) -> Option<Protocol> {
        match self.last_attempt() {
            Attempt::Redfish(_) => Some(Protocol::Redfish),
            #[cfg(feature = "ipmi")]
            Attempt::Ipmi(_) => Some(Protocol::Ipmi),
            Attempt::Facade => match self {
                Error::Unsupported { protocol, .. } => Some(*protocol),
                _ => None,
            },
        }
    }

    /// Trying again later may succeed: a connection failure, a timeout of a read, a busy BMC
    /// (429/502/503/504, IPMI node busy or out of sessions). Never true when the outcome of a
    /// change is unknown (read the state back first) nor for refused credentials.
    pub fn is_transient(&self) -> bool {
        match self.last_attempt() {
            Attempt::Redfish(err) => err.is_retryable() && !redfish_outcome_unknown(err),
            #[cfg(feature = "ipmi")]
            Attempt::Ipmi(err) => err.is_retryable(),
            Attempt::Facade => false,
        }
    }

    /// The BMC refused the credentials (a failed login, a 401, an IPMI RAKP refusal, a wrong
    /// Kg, a refused privilege).
    pub fn is_auth(&self) -> bool {
        match self.last_attempt() {
            Attempt::Redfish(err) => err.is_unauthorized(),
            #[cfg(feature = "ipmi")]
            Attempt::Ipmi(err) => err.is_auth(),
            Attempt::Facade => false,
        }
    }

    /// The credentials are valid but lack the privilege (Redfish 403).
    pub fn is_forbidden(&self) -> bool {
        matches!(self.last_attempt(), Attempt::Redfish(err) if err.is_forbidden())
    }

    /// A change may or may not have happened: an IPMI command that is not safe to repeat got
    /// no answer, or a Redfish POST/PATCH/PUT/DELETE timed out or lost its connection after
    /// being sent. Read the state back before sending it again.
    pub fn is_outcome_unknown(&self) -> bool {
        match self.last_attempt() {
            Attempt::Redfish(err) => redfish_outcome_unknown(err),
            #[cfg(feature = "ipmi")]
            Attempt::Ipmi(err) => err.is_outcome_unknown(),
            Attempt::Facade => false,
        }
    }

    /// The BMC accepted a change but reads back something else (a boot override, BIOS
    /// attributes, a factory reset, an IPMI boot flag).
    pub fn is_not_applied(&self) -> bool {
        match self {
            #[cfg(feature = "bios")]
            Error::Bios(
                crate::bios::BiosError::NotApplied { .. }
                | crate::bios::BiosError::FactoryResetNotApplied { .. },
            ) => return true,
            #[cfg(feature = "vmedia")]
            Error::VirtualMedia(
                crate::vmedia::Error::NotInserted { .. } | crate::vmedia::Error::NotEjected { .. },
            ) => return true,
            _ => {}
        }
        match self.last_attempt() {
            Attempt::Redfish(err) => err.is_not_applied(),
            #[cfg(feature = "ipmi")]
            Attempt::Ipmi(err) => matches!(err, crate::ipmi::Error::ReadBackMismatch { .. }),
            Attempt::Facade => false,
        }
    }

    /// A request timed out, or a wait ran out of time.
    pub fn is_timeout(&self) -> bool {
        if matches!(self, Error::PowerWaitTimeout { .. }) {
            return true;
        }
        #[cfg(feature = "vmedia")]
        if matches!(
            self,
            Error::VirtualMedia(
                crate::vmedia::Error::OverrideNotConsumed { .. }
                    | crate::vmedia::Error::BootNeverStarted { .. }
            )
        ) {
            return true;
        }
        match self.last_attempt() {
            Attempt::Redfish(err) => err.is_timeout(),
            #[cfg(feature = "ipmi")]
            Attempt::Ipmi(err) => err.is_timeout() || err.is_outcome_unknown(),
            Attempt::Facade => false,
        }
    }

    /// The BMC could not be reached (connection refused or reset, name not resolved, socket
    /// error).
    pub fn is_connection(&self) -> bool {
        match self.last_attempt() {
            Attempt::Redfish(err) => err.is_connection(),
            #[cfg(feature = "ipmi")]
            Attempt::Ipmi(err) => err.is_connection(),
            Attempt::Facade => false,
        }
    }

    /// The caller's input was refused before anything was sent (an address, an option, a
    /// BIOS profile, network data, a value outside the allowed ones, a rules file, a
    /// provisioning event or step).
    pub fn is_invalid_input(&self) -> bool {
        match self {
            Error::Address(_) | Error::InvalidOption { .. } => return true,
            #[cfg(feature = "provision")]
            Error::Provision(err) => return err.is_invalid_input(),
            // A rules file that does not parse is the caller's input as much as an address.
            Error::Rules(err) => return err.is_invalid_input() || err.is_invalid_rules(),
            #[cfg(feature = "bios")]
            Error::Bios(
                crate::bios::BiosError::Invalid { .. }
                | crate::bios::BiosError::ProfileFormat { .. },
            ) => return true,
            #[cfg(feature = "vmedia")]
            Error::VirtualMedia(
                crate::vmedia::Error::InvalidNetworkData { .. }
                | crate::vmedia::Error::InvalidMetaData { .. }
                | crate::vmedia::Error::Json { .. }
                | crate::vmedia::Error::InvalidIsoPath { .. }
                | crate::vmedia::Error::InvalidImageName(_)
                | crate::vmedia::Error::InvalidPublicHost { .. },
            ) => return true,
            _ => {}
        }
        match self.last_attempt() {
            Attempt::Redfish(err) => err.is_invalid_input(),
            #[cfg(feature = "ipmi")]
            Attempt::Ipmi(err) => err.is_invalid_input(),
            Attempt::Facade => false,
        }
    }

    /// The BMC (or this build, over this protocol) cannot do what was asked:
    /// [`Error::Unsupported`], a Redfish resource or action the BMC lacks, a system without
    /// a `Bios` resource, no virtual-media slot for the image.
    pub fn is_unsupported(&self) -> bool {
        match self {
            Error::Unsupported { .. } => true,
            #[cfg(feature = "bios")]
            Error::Bios(crate::bios::BiosError::NoBios { .. }) => true,
            #[cfg(feature = "vmedia")]
            Error::VirtualMedia(crate::vmedia::Error::NoSlot { .. }) => true,
            _ => matches!(self.redfish(), Some(redfish::Error::Unsupported { .. })),
        }
    }

    /// A provisioning write was refused because the node changed since it was read
    /// ([`crate::provision::ProvisionError::is_stale_revision`]).
    pub fn is_stale_revision(&self) -> bool {
        #[cfg(feature = "provision")]
        if let Error::Provision(err) = self {
            return err.is_stale_revision();
        }
        false
    }

    /// Another holder's lease is on the node
    /// ([`crate::provision::ProvisionError::is_lease_held`]).
    pub fn is_lease_held(&self) -> bool {
        #[cfg(feature = "provision")]
        if let Error::Provision(err) = self {
            return err.is_lease_held();
        }
        false
    }

    /// A rule's `fail` action stopped inspection ([`crate::rules::RuleError::is_failed_by_rule`]).
    pub fn is_failed_by_rule(&self) -> bool {
        matches!(self, Error::Rules(err) if err.is_failed_by_rule())
    }

    /// The rules file is not valid ([`crate::rules::RuleError::is_invalid_rules`]).
    pub fn is_invalid_rules(&self) -> bool {
        matches!(self, Error::Rules(err) if err.is_invalid_rules())
    }

    /// Redfish `404 Not Found`.
    pub fn is_not_found(&self) -> bool {
        matches!(self.last_attempt(), Attempt::Redfish(err) if err.is_not_found())
    }

    /// The client was closed ([`crate::Bmc::close`]).
    pub fn is_closed(&self) -> bool {
        match self.last_attempt() {
            Attempt::Redfish(err) => matches!(err, redfish::Error::Closed),
            #[cfg(feature = "ipmi")]
            Attempt::Ipmi(err) => err.is_closed(),
            Attempt::Facade => false,
        }
    }

    /// A BMC answer could not be decoded.
    pub fn is_decode(&self) -> bool {
        match self.last_attempt() {
            Attempt::Redfish(err) => err.is_decode(),
            #[cfg(feature = "ipmi")]
            Attempt::Ipmi(err) => err.is_decode(),
            Attempt::Facade => false,
        }
    }

    /// A Redfish task ended badly or vanished.
    pub fn is_task_failure(&self) -> bool {
        matches!(self.last_attempt(), Attempt::Redfish(err) if err.is_task_failure())
    }

    /// The HTTP status of a Redfish error that carries one.
    pub fn status(&self) -> Option<u16> {
        if let Attempt::Redfish(err) = self.last_attempt() {
            err.status()
        } else {
            None
        }
    }
}

/// Which member error a predicate looks at.
enum Attempt<'a> {
    Redfish(&'a redfish::Error),
    #[cfg(feature = "ipmi")]
    Ipmi(&'a crate::ipmi::Error),
    /// An error of the facade's own (address, option, capability, wait).
    Facade,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: u16, method: redfish::HttpMethod) -> redfish::Error {
        redfish::Error::Http {
            method,
            url: "https://bmc/redfish/v1/Systems/1".into(),
            status,
            messages: Vec::new(),
        }
    }

    #[test]
    fn redfish_predicates_pass_through() {
        let busy = Error::from(http(503, redfish::HttpMethod::Get));
        assert!(busy.is_transient());
        assert_eq!(busy.status(), Some(503));
        assert_eq!(busy.protocol(), Some(Protocol::Redfish));
        let missing = Error::from(http(404, redfish::HttpMethod::Get));
        assert!(missing.is_not_found() && !missing.is_transient());
        let auth = Error::from(redfish::Error::Authentication {
            url: "https://bmc/redfish/v1/SessionService/Sessions".into(),
            status: 401,
            messages: Vec::new(),
        });
        assert!(auth.is_auth() && !auth.is_transient());
        let not_applied = Error::from(redfish::Error::NotApplied {
            url: "https://bmc/redfish/v1/Systems/1".into(),
            property: "BootSourceOverrideTarget",
            expected: "Pxe".into(),
            actual: Some("Hdd".into()),
        });
        assert!(not_applied.is_not_applied());
        assert!(Error::from(redfish::Error::Closed).is_closed());
    }

    #[test]
    fn a_lost_answer_to_a_post_is_outcome_unknown_and_not_transient() {
        let lost = |method| redfish::Error::Timeout {
            method,
            url: "https://bmc/redfish/v1/Systems/1/Actions/ComputerSystem.Reset".into(),
            after: Duration::from_secs(30),
        };
        let post = Error::from(lost(redfish::HttpMethod::Post));
        assert!(post.is_outcome_unknown());
        assert!(!post.is_transient());
        assert!(post.is_timeout());
        let get = Error::from(lost(redfish::HttpMethod::Get));
        assert!(!get.is_outcome_unknown());
        assert!(get.is_transient());
    }

    #[cfg(feature = "ipmi")]
    #[test]
    fn ipmi_predicates_pass_through_and_a_failed_fallback_answers_for_ipmi() {
        let unknown = crate::ipmi::Error::OutcomeUnknown {
            address: "10.0.0.6:623".into(),
            command: "chassis control",
            attempts: 4,
        };
        let err = Error::FallbackFailed {
            redfish: Box::new(http(500, redfish::HttpMethod::Post)),
            ipmi: Box::new(unknown),
        };
        assert!(err.is_outcome_unknown());
        assert!(!err.is_transient());
        assert_eq!(err.protocol(), Some(Protocol::Ipmi));
        assert_eq!(err.redfish().and_then(redfish::Error::status), Some(500));
        let text = err.to_string();
        assert!(text.starts_with("over Redfish: "), "{text}");
        assert!(text.contains("then over IPMI: "), "{text}");

        let auth = Error::from(crate::ipmi::Error::Rakp2CheckFailed {
            address: "10.0.0.6:623".into(),
            user: "admin".into(),
        });
        assert!(auth.is_auth());
        assert_eq!(auth.protocol(), Some(Protocol::Ipmi));
        assert!(Error::from(crate::ipmi::Error::UnsupportedCipherSuite(5)).is_invalid_input());
    }

    #[test]
    fn facade_errors_say_what_they_are() {
        let unsupported = Error::Unsupported {
            capability: Capability::Bios,
            protocol: Protocol::Ipmi,
        };
        assert!(unsupported.is_unsupported());
        assert!(!unsupported.is_transient());
        assert_eq!(unsupported.protocol(), Some(Protocol::Ipmi));
        assert!(
            unsupported
                .to_string()
                .starts_with("bios is not available over IPMI; it needs Redfish")
        );
        let address = Error::from(AddressError::Empty);
        assert!(address.is_invalid_input());
        assert_eq!(address.protocol(), None);
        let wait = Error::PowerWaitTimeout {
            wanted: "Off".into(),
            last: Some("On".into()),
            after: Duration::from_secs(2),
        };
        assert!(wait.is_timeout());
        assert_eq!(
            wait.to_string(),
            "the power state did not become Off within 2s (last seen On)"
        );
        let several = Error::NoSingleSystem {
            found: vec![
                "/redfish/v1/Systems/1".into(),
                "/redfish/v1/Systems/2".into(),
            ],
        };
        assert!(
            several
                .to_string()
                .contains("lists 2: /redfish/v1/Systems/1, /redfish/v1/Systems/2")
        );
    }

    #[test]
    fn rules_and_provisioning_errors_keep_their_predicates() {
        let bad_rules = Error::from(crate::rules::RuleSet::from_json("[{").unwrap_err());
        assert!(bad_rules.is_invalid_rules() && bad_rules.is_invalid_input());
        assert!(!bad_rules.is_failed_by_rule() && !bad_rules.is_transient());
        let failed = Error::from(crate::rules::RuleError::Failed {
            rule: 0,
            description: Some("no Dell".into()),
            message: "Dell is not allowed".into(),
        });
        assert!(failed.is_failed_by_rule() && !failed.is_invalid_input());
        assert!(
            failed.to_string().contains("Dell is not allowed"),
            "{failed}"
        );
        assert_eq!(failed.protocol(), None);

        #[cfg(feature = "provision")]
        {
            use crate::provision::ProvisionError;
            let stale = Error::from(ProvisionError::StaleRevision {
                node: "n1".into(),
                revision: 3,
            });
            assert!(stale.is_stale_revision() && !stale.is_lease_held());
            let held = Error::from(ProvisionError::LeaseHeld {
                node: "n1".into(),
                holder: "b".into(),
                remaining_ms: 10,
            });
            assert!(held.is_lease_held() && !held.is_stale_revision());
            let refused = Error::from(ProvisionError::InvalidStep {
                index: 0,
                reason: "unknown step bios.nope".into(),
            });
            assert!(refused.is_invalid_input(), "{refused}");
            assert!(!held.is_invalid_input());
        }
    }

    #[test]
    fn no_secret_in_display_or_debug_of_an_address_error() {
        let err = Error::from(
            crate::address::BmcAddress::parse("redfish://root:s3cr3t-pw@10.0.0.5").unwrap_err(),
        );
        assert!(!err.to_string().contains("s3cr3t-pw"));
        assert!(!format!("{err:?}").contains("s3cr3t-pw"));
    }
}
