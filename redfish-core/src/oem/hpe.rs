//! HPE iLO's OEM power actions on the System.
//!
//! iLO 5 lists `On`, `ForceOff`, `GracefulShutdown`, `ForceRestart`, `Nmi`,
//! `PushPowerButton` and `GracefulRestart` as `ResetType` of the standard
//! `#ComputerSystem.Reset` ([`RedfishClient::reset`] sends those, the button push included).
//! Holding the button and a cold boot exist only as OEM actions under `Oem.Hpe.Actions`:
//! `#HpeComputerSystemExt.PowerButton` (`PushType` `Press` or `PressAndHold`) and
//! `#HpeComputerSystemExt.SystemReset` (`ResetType` `ColdBoot` or `AuxCycle`), each with its
//! own `target` and allowable values, as iLO 5 captures show them.

use reqwest::Method;
use serde_json::{Value, json};

use crate::client::RedfishClient;
use crate::models::ComputerSystem;
use crate::transport::RequestOptions;
use crate::{Error, ResetType};

/// `PushType` of iLO's `#HpeComputerSystemExt.PowerButton`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HpePushType {
    /// A short press (as the standard `PushPowerButton`).
    Press,
    /// Press and hold: the forced power-off of a held button.
    PressAndHold,
}

impl HpePushType {
    /// The value iLO takes.
    pub fn as_str(self) -> &'static str {
        match self {
            HpePushType::Press => "Press",
            HpePushType::PressAndHold => "PressAndHold",
        }
    }
}

/// `ResetType` of iLO's `#HpeComputerSystemExt.SystemReset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HpeSystemResetType {
    /// A cold boot: power removed from the system board, then restored.
    ColdBoot,
    /// An auxiliary-power cycle (libredfish sends it after a `ForceOff` for an AC cycle).
    AuxCycle,
}

impl HpeSystemResetType {
    /// The value iLO takes.
    pub fn as_str(self) -> &'static str {
        match self {
            HpeSystemResetType::ColdBoot => "ColdBoot",
            HpeSystemResetType::AuxCycle => "AuxCycle",
        }
    }
}

/// One of iLO's OEM power actions: its key under `Oem.Hpe.Actions`, its parameter, the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HpePowerAction {
    /// `#HpeComputerSystemExt.PowerButton` with this `PushType`.
    PowerButton(HpePushType),
    /// `#HpeComputerSystemExt.SystemReset` with this `ResetType`.
    SystemReset(HpeSystemResetType),
}

impl HpePowerAction {
    /// The action's key under `Oem.Hpe.Actions`.
    pub fn action_key(self) -> &'static str {
        match self {
            HpePowerAction::PowerButton(_) => "#HpeComputerSystemExt.PowerButton",
            HpePowerAction::SystemReset(_) => "#HpeComputerSystemExt.SystemReset",
        }
    }

    /// The action's one parameter.
    pub fn parameter(self) -> &'static str {
        match self {
            HpePowerAction::PowerButton(_) => "PushType",
            HpePowerAction::SystemReset(_) => "ResetType",
        }
    }

    /// The parameter's value.
    pub fn value(self) -> &'static str {
        match self {
            HpePowerAction::PowerButton(push) => push.as_str(),
            HpePowerAction::SystemReset(reset) => reset.as_str(),
        }
    }

    /// The standard `ResetType` that does the same where there is one (a press is
    /// `PushPowerButton`); `None` for what only iLO's OEM action does.
    pub fn standard_equivalent(self) -> Option<ResetType> {
        match self {
            HpePowerAction::PowerButton(HpePushType::Press) => Some(ResetType::PushPowerButton),
            _ => None,
        }
    }
}

/// Where the System advertises `action` and which values it allows (empty: not listed):
/// `Oem.Hpe.Actions.<key>`, its `target` and `<parameter>@Redfish.AllowableValues`. `None`
/// when the System does not advertise it (another vendor, an older iLO). Pure.
pub fn advertised(
    system: &ComputerSystem,
    action: HpePowerAction,
) -> Option<(String, Vec<String>)> {
    let entry = system
        .oem
        .as_ref()?
        .get("Hpe")?
        .get("Actions")?
        .get(action.action_key())?;
    let target = entry.get("target")?.as_str().filter(|t| !t.is_empty())?;
    let allowed = entry
        .get(format!("{}@Redfish.AllowableValues", action.parameter()))
        .and_then(Value::as_array)
        .map(|values| {
            values
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Some((target.to_owned(), allowed))
}

impl RedfishClient {
    /// Sends one of iLO's OEM power actions to `system` (a path or id, as
    /// [`RedfishClient::reset`] takes it): checked against the action's allowable values
    /// first, nothing sent when the System does not advertise it ([`Error::Unsupported`]) or
    /// does not allow the value ([`Error::NotAllowed`]).
    pub async fn hpe_power_action(
        &self,
        system: &str,
        action: HpePowerAction,
    ) -> Result<(), Error> {
        let system_url = self.system_url(system).await?;
        let current: ComputerSystem = self
            .inner
            .get_resource(&system_url, crate::client::COMPUTER_SYSTEM)
            .await?;
        let (target, allowed) = advertised(&current, action).ok_or_else(|| Error::Unsupported {
            operation: "HPE power action",
            url: system_url.to_string(),
            missing: action.action_key(),
        })?;
        if !allowed.is_empty() && !allowed.iter().any(|v| v == action.value()) {
            return Err(Error::NotAllowed {
                property: action.parameter(),
                requested: action.value().to_owned(),
                allowed,
            });
        }
        let target = self.inner.endpoint.resolve(&target)?;
        let body = json!({ action.parameter(): action.value() });
        self.inner
            .request(
                Method::POST,
                &target,
                Some(&body),
                &RequestOptions::default(),
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ilo5_system() -> ComputerSystem {
        serde_json::from_value(json!({
            "@odata.id": "/redfish/v1/Systems/1",
            "Id": "1",
            "Oem": {"Hpe": {"Actions": {
                "#HpeComputerSystemExt.PowerButton": {
                    "PushType@Redfish.AllowableValues": ["Press", "PressAndHold"],
                    "target": "/redfish/v1/Systems/1/Actions/Oem/Hpe/HpeComputerSystemExt.PowerButton/"
                },
                "#HpeComputerSystemExt.SystemReset": {
                    "ResetType@Redfish.AllowableValues": ["ColdBoot", "AuxCycle"],
                    "target": "/redfish/v1/Systems/1/Actions/Oem/Hpe/HpeComputerSystemExt.SystemReset/"
                }
            }}}
        }))
        .unwrap()
    }

    #[test]
    fn ilo5_actions_are_found_with_their_targets_and_values() {
        let sys = ilo5_system();
        let (target, allowed) =
            advertised(&sys, HpePowerAction::PowerButton(HpePushType::PressAndHold)).unwrap();
        assert_eq!(
            target,
            "/redfish/v1/Systems/1/Actions/Oem/Hpe/HpeComputerSystemExt.PowerButton/"
        );
        assert_eq!(allowed, ["Press", "PressAndHold"]);
        let (target, allowed) = advertised(
            &sys,
            HpePowerAction::SystemReset(HpeSystemResetType::ColdBoot),
        )
        .unwrap();
        assert!(target.ends_with("HpeComputerSystemExt.SystemReset/"));
        assert_eq!(allowed, ["ColdBoot", "AuxCycle"]);
    }

    #[test]
    fn another_vendors_system_advertises_none() {
        let dell: ComputerSystem =
            serde_json::from_value(json!({"Id": "System.Embedded.1", "Oem": {"Dell": {}}}))
                .unwrap();
        assert_eq!(
            advertised(&dell, HpePowerAction::PowerButton(HpePushType::Press)),
            None
        );
        let no_target: ComputerSystem = serde_json::from_value(json!({"Oem": {"Hpe": {"Actions": {
            "#HpeComputerSystemExt.PowerButton": {"target": ""}}}}}))
        .unwrap();
        assert_eq!(
            advertised(&no_target, HpePowerAction::PowerButton(HpePushType::Press)),
            None
        );
    }

    #[test]
    fn parameters_values_and_standard_equivalents() {
        let hold = HpePowerAction::PowerButton(HpePushType::PressAndHold);
        assert_eq!(
            (hold.parameter(), hold.value()),
            ("PushType", "PressAndHold")
        );
        assert_eq!(hold.standard_equivalent(), None);
        assert_eq!(
            HpePowerAction::PowerButton(HpePushType::Press).standard_equivalent(),
            Some(ResetType::PushPowerButton)
        );
        let cold = HpePowerAction::SystemReset(HpeSystemResetType::ColdBoot);
        assert_eq!((cold.parameter(), cold.value()), ("ResetType", "ColdBoot"));
        assert_eq!(cold.standard_equivalent(), None);
    }
}
