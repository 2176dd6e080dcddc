//! The pure decisions of [`crate::Bmc`]: what each protocol can do, when a Redfish failure
//! warrants trying IPMI, and how the facade's actions map onto each protocol. No I/O.

use std::time::Duration;

use crate::address::Protocol;
use crate::error::{Capability, Error, redfish_outcome_unknown};
use crate::redfish::{self, BootSource, PowerState, ResetType};

/// A power action, named as operators say it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PowerAction {
    /// Power on (Redfish `On`, IPMI power up).
    On,
    /// Power off now (Redfish `ForceOff`, IPMI power down).
    Off,
    /// Shut down through the operating system (Redfish `GracefulShutdown`, IPMI soft off).
    GracefulOff,
    /// Off, then on (Redfish `PowerCycle`, IPMI power cycle).
    Cycle,
    /// Restart now (Redfish `ForceRestart`, IPMI hard reset).
    Reboot,
    /// Restart through the operating system (Redfish `GracefulRestart`; IPMI has none).
    GracefulReboot,
}

impl PowerAction {
    /// The power state the action ends in.
    pub fn target(self) -> PowerState {
        match self {
            PowerAction::Off | PowerAction::GracefulOff => PowerState::Off,
            PowerAction::On
            | PowerAction::Cycle
            | PowerAction::Reboot
            | PowerAction::GracefulReboot => PowerState::On,
        }
    }

    /// The Redfish `ResetType`.
    pub fn reset_type(self) -> ResetType {
        match self {
            PowerAction::On => ResetType::On,
            PowerAction::Off => ResetType::ForceOff,
            PowerAction::GracefulOff => ResetType::GracefulShutdown,
            PowerAction::Cycle => ResetType::PowerCycle,
            PowerAction::Reboot => ResetType::ForceRestart,
            PowerAction::GracefulReboot => ResetType::GracefulRestart,
        }
    }

    /// What the action needs: [`Capability::GracefulReboot`] for a graceful reboot, else
    /// [`Capability::Power`].
    pub fn capability(self) -> Capability {
        match self {
            PowerAction::GracefulReboot => Capability::GracefulReboot,
            _ => Capability::Power,
        }
    }

    /// Sending it twice does no more than sending it once (on, off): a lost answer may be
    /// retried over the other protocol. A reboot or cycle twice is two outages.
    pub fn is_idempotent(self) -> bool {
        matches!(
            self,
            PowerAction::On | PowerAction::Off | PowerAction::GracefulOff
        )
    }

    /// `on`, `off`, `graceful-off`, `cycle`, `reboot`, `graceful-reboot`.
    pub fn as_str(self) -> &'static str {
        match self {
            PowerAction::On => "on",
            PowerAction::Off => "off",
            PowerAction::GracefulOff => "graceful-off",
            PowerAction::Cycle => "cycle",
            PowerAction::Reboot => "reboot",
            PowerAction::GracefulReboot => "graceful-reboot",
        }
    }
}

/// A boot device both protocols can name (UEFI HTTP is Redfish only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BootDevice {
    /// Network boot.
    Pxe,
    /// The local disk.
    Disk,
    /// CD/DVD, virtual media included.
    Cdrom,
    /// The firmware setup.
    BiosSetup,
    /// UEFI HTTP boot (Redfish `UefiHttp`).
    UefiHttp,
}

impl BootDevice {
    /// The Redfish `BootSourceOverrideTarget`.
    pub fn redfish_target(self) -> BootSource {
        match self {
            BootDevice::Pxe => BootSource::Pxe,
            BootDevice::Disk => BootSource::Hdd,
            BootDevice::Cdrom => BootSource::Cd,
            BootDevice::BiosSetup => BootSource::BiosSetup,
            BootDevice::UefiHttp => BootSource::UefiHttp,
        }
    }

    /// What setting it needs.
    pub fn capability(self) -> Capability {
        match self {
            BootDevice::UefiHttp => Capability::UefiHttpBoot,
            _ => Capability::BootDevice,
        }
    }

    /// `pxe`, `disk`, `cdrom`, `bios`, `uefi-http`.
    pub fn as_str(self) -> &'static str {
        match self {
            BootDevice::Pxe => "pxe",
            BootDevice::Disk => "disk",
            BootDevice::Cdrom => "cdrom",
            BootDevice::BiosSetup => "bios",
            BootDevice::UefiHttp => "uefi-http",
        }
    }
}

/// What a protocol offers. BIOS and virtual media are listed only when this build has them.
pub fn protocol_capabilities(protocol: Protocol) -> &'static [Capability] {
    match protocol {
        Protocol::Redfish => &[
            Capability::Power,
            Capability::GracefulReboot,
            Capability::BootDevice,
            Capability::UefiHttpBoot,
            Capability::Inventory,
            #[cfg(feature = "bios")]
            Capability::Bios,
            #[cfg(feature = "vmedia")]
            Capability::VirtualMedia,
        ],
        Protocol::Ipmi => &[Capability::Power, Capability::BootDevice],
    }
}

/// What one BMC can do, by protocol: the protocols it is spoken to with and what each offers
/// (from the protocol, not probed on the BMC).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capabilities {
    protocols: Vec<Protocol>,
}

impl Capabilities {
    /// The capabilities of a BMC spoken to with `protocols`, in the order they are tried.
    pub fn new(protocols: Vec<Protocol>) -> Capabilities {
        Capabilities { protocols }
    }

    /// The protocols, Redfish first when both are configured.
    pub fn protocols(&self) -> &[Protocol] {
        &self.protocols
    }

    /// What `protocol` offers here, or nothing when it is not configured.
    pub fn of(&self, protocol: Protocol) -> &'static [Capability] {
        if self.protocols.contains(&protocol) {
            protocol_capabilities(protocol)
        } else {
            &[]
        }
    }

    /// The protocols that can do `capability`, in the order they are tried.
    pub fn protocols_for(&self, capability: Capability) -> Vec<Protocol> {
        self.protocols
            .iter()
            .copied()
            .filter(|p| protocol_capabilities(*p).contains(&capability))
            .collect()
    }

    /// Whether some configured protocol can do `capability`.
    pub fn supports(&self, capability: Capability) -> bool {
        !self.protocols_for(capability).is_empty()
    }

    /// [`Error::Unsupported`] naming the protocol asked, when none can do `capability`.
    pub(crate) fn require(&self, capability: Capability) -> Result<(), Error> {
        if self.supports(capability) {
            return Ok(());
        }
        Err(Error::Unsupported {
            capability,
            protocol: self.protocols.first().copied().unwrap_or(Protocol::Redfish),
        })
    }
}

/// What a request does, for the fallback decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Reads only.
    Read,
    /// A change that is harmless to repeat (power on/off, a boot device).
    Idempotent,
    /// A change that must not happen twice (a reboot, a power cycle).
    NotIdempotent,
}

/// Why a failed Redfish attempt warrants trying IPMI, or `None` when it does not: only when
/// Redfish is unreachable or broken (connection refused, 5xx, a timeout of a read, an answer
/// that does not decode, a missing action) or does not offer the reset asked for, never for a
/// refusal that IPMI would repeat (bad credentials, 4xx, any other value outside the allowed
/// ones) nor for a refused certificate (a configuration problem the operator must see). A
/// change whose answer was lost is retried over IPMI only when repeating it is harmless.
///
/// A `ResetType` the System does not list was refused before anything was sent, and IPMI's
/// chassis control has its own on, off, soft-off, cycle and reset: Fujitsu iRMC lists neither
/// `On` (redfish-core presses the button instead, quirk `irmc_power_on_is_a_button_press`) nor
/// `PowerCycle` nor `GracefulShutdown`, which IPMI then does.
pub fn fallback_reason(error: &Error, effect: Effect) -> Option<String> {
    let Error::Redfish(err) = error else {
        return None;
    };
    if let redfish::Error::NotAllowed {
        property: "ResetType",
        requested,
        ..
    } = err
    {
        return Some(format!(
            "Redfish does not offer ResetType {requested} (nothing was sent)"
        ));
    }
    if err.is_tls_rejected() || err.is_unauthorized() || err.is_invalid_input() {
        return None;
    }
    let server_error = err.status().is_some_and(|s| (500..=599).contains(&s));
    let warranted = match err {
        redfish::Error::Connect { .. } | redfish::Error::Unsupported { .. } => true,
        redfish::Error::Timeout { .. } | redfish::Error::Transport { .. } => {
            !redfish_outcome_unknown(err) || effect != Effect::NotIdempotent
        }
        redfish::Error::Decode { .. } | redfish::Error::ResponseTooLarge { .. } => {
            effect != Effect::NotIdempotent || err.method() == Some(redfish::HttpMethod::Get)
        }
        _ => server_error,
    };
    warranted.then(|| format!("Redfish failed: {err}"))
}

/// The delay before the next power-state poll: 250 ms doubling up to 2 s, never past the
/// deadline.
pub fn next_poll_delay(previous: Option<Duration>, remaining: Duration) -> Duration {
    let next = previous.map_or(Duration::from_millis(250), |d| {
        (d * 2).min(Duration::from_secs(2))
    });
    next.min(remaining)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: u16, method: redfish::HttpMethod) -> Error {
        Error::Redfish(redfish::Error::Http {
            method,
            url: "https://bmc/redfish/v1/Systems/1".into(),
            status,
            messages: Vec::new(),
        })
    }

    fn timeout(method: redfish::HttpMethod) -> Error {
        Error::Redfish(redfish::Error::Timeout {
            method,
            url: "https://bmc/redfish/v1/Systems/1/Actions/ComputerSystem.Reset".into(),
            after: Duration::from_secs(30),
        })
    }

    #[test]
    fn server_errors_warrant_ipmi_client_errors_do_not() {
        for status in [500, 502, 503, 504] {
            for effect in [Effect::Read, Effect::Idempotent, Effect::NotIdempotent] {
                let reason = fallback_reason(&http(status, redfish::HttpMethod::Post), effect);
                assert!(
                    reason
                        .as_deref()
                        .is_some_and(|r| r.contains(&format!("HTTP {status}"))),
                    "{status}: {reason:?}"
                );
            }
        }
        for status in [400, 401, 403, 404, 405, 409, 412] {
            assert_eq!(
                fallback_reason(&http(status, redfish::HttpMethod::Post), Effect::Idempotent),
                None,
                "{status}"
            );
        }
    }

    #[test]
    fn a_reset_type_redfish_does_not_offer_goes_over_ipmi_whatever_the_effect() {
        let not_offered = Error::Redfish(redfish::Error::NotAllowed {
            property: "ResetType",
            requested: "PowerCycle".into(),
            allowed: vec!["ForceOff".into(), "PushPowerButton".into()],
        });
        for effect in [Effect::Idempotent, Effect::NotIdempotent] {
            let reason = fallback_reason(&not_offered, effect);
            assert!(
                reason
                    .as_deref()
                    .is_some_and(|r| r.contains("PowerCycle") && r.contains("nothing was sent")),
                "{reason:?}"
            );
        }
    }

    #[test]
    fn validation_auth_and_facade_errors_never_fall_back() {
        let not_allowed = Error::Redfish(redfish::Error::NotAllowed {
            property: "BootSourceOverrideTarget",
            requested: "UefiHttp".into(),
            allowed: vec!["Pxe".into()],
        });
        let auth = Error::Redfish(redfish::Error::Authentication {
            url: "https://bmc/redfish/v1/SessionService/Sessions".into(),
            status: 401,
            messages: Vec::new(),
        });
        let several = Error::NoSingleSystem {
            found: vec!["a".into(), "b".into()],
        };
        for err in [not_allowed, auth, several] {
            assert_eq!(fallback_reason(&err, Effect::Read), None, "{err}");
        }
    }

    #[test]
    fn a_lost_answer_to_a_reboot_is_not_sent_again_over_ipmi() {
        let post = timeout(redfish::HttpMethod::Post);
        assert_eq!(fallback_reason(&post, Effect::NotIdempotent), None);
        assert!(fallback_reason(&post, Effect::Idempotent).is_some());
        let get = timeout(redfish::HttpMethod::Get);
        assert!(fallback_reason(&get, Effect::NotIdempotent).is_some());
        assert!(fallback_reason(&get, Effect::Read).is_some());
    }

    #[test]
    fn a_missing_reset_action_warrants_ipmi() {
        let err = Error::Redfish(redfish::Error::Unsupported {
            operation: "reset",
            url: "https://bmc/redfish/v1/Systems/1".into(),
            missing: "Actions.#ComputerSystem.Reset",
        });
        assert!(fallback_reason(&err, Effect::NotIdempotent).is_some());
    }

    #[test]
    fn capabilities_by_protocol() {
        let ipmi = Capabilities::new(vec![Protocol::Ipmi]);
        assert!(ipmi.supports(Capability::Power));
        assert!(ipmi.supports(Capability::BootDevice));
        for missing in [
            Capability::Bios,
            Capability::VirtualMedia,
            Capability::Inventory,
            Capability::GracefulReboot,
            Capability::UefiHttpBoot,
        ] {
            assert!(!ipmi.supports(missing), "{missing}");
            assert!(matches!(
                ipmi.require(missing),
                Err(Error::Unsupported { capability, protocol: Protocol::Ipmi }) if capability == missing
            ));
        }
        let both = Capabilities::new(vec![Protocol::Redfish, Protocol::Ipmi]);
        assert_eq!(
            both.protocols_for(Capability::Power),
            vec![Protocol::Redfish, Protocol::Ipmi]
        );
        assert_eq!(
            both.protocols_for(Capability::Inventory),
            vec![Protocol::Redfish]
        );
        assert_eq!(
            Capabilities::new(vec![Protocol::Redfish]).of(Protocol::Ipmi),
            &[] as &[Capability]
        );
        #[cfg(all(feature = "bios", feature = "vmedia"))]
        assert_eq!(both.of(Protocol::Redfish).len(), Capability::ALL.len());
    }

    #[test]
    fn power_actions_map_to_reset_types_and_targets() {
        let table = [
            (PowerAction::On, ResetType::On, PowerState::On, true),
            (PowerAction::Off, ResetType::ForceOff, PowerState::Off, true),
            (
                PowerAction::GracefulOff,
                ResetType::GracefulShutdown,
                PowerState::Off,
                true,
            ),
            (
                PowerAction::Cycle,
                ResetType::PowerCycle,
                PowerState::On,
                false,
            ),
            (
                PowerAction::Reboot,
                ResetType::ForceRestart,
                PowerState::On,
                false,
            ),
            (
                PowerAction::GracefulReboot,
                ResetType::GracefulRestart,
                PowerState::On,
                false,
            ),
        ];
        for (action, reset, target, idempotent) in table {
            assert_eq!(action.reset_type(), reset);
            assert_eq!(action.target(), target);
            assert_eq!(action.is_idempotent(), idempotent, "{action:?}");
        }
        assert_eq!(
            PowerAction::GracefulReboot.capability(),
            Capability::GracefulReboot
        );
        assert_eq!(BootDevice::UefiHttp.capability(), Capability::UefiHttpBoot);
        assert_eq!(BootDevice::Disk.redfish_target(), BootSource::Hdd);
    }

    #[test]
    fn poll_delay_doubles_to_two_seconds_and_stops_at_the_deadline() {
        let long = Duration::from_secs(60);
        let mut delay = None;
        let mut seen = Vec::new();
        for _ in 0..6 {
            let next = next_poll_delay(delay, long);
            seen.push(next.as_millis());
            delay = Some(next);
        }
        assert_eq!(seen, [250, 500, 1000, 2000, 2000, 2000]);
        assert_eq!(
            next_poll_delay(Some(Duration::from_secs(1)), Duration::from_millis(300)),
            Duration::from_millis(300)
        );
    }
}
