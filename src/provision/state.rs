//! Ironic's provision states (the wait and hold states folded into sub-phases), the events a
//! caller sends, and which event each state accepts. Pure.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::steps::CleanStep;

/// Where a node is in its life, by Ironic's names (`inspect wait`, `clean wait` and
/// `wait call-back` are sub-phases of `inspecting`, `cleaning` and `deploying` here).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProvisionState {
    /// Known, BMC not verified yet.
    Enroll,
    /// Reading the BMC to check the address and credentials.
    Verifying,
    /// Verified; the operator may inspect, clean, provide or adopt.
    Manageable,
    /// Reading the hardware out of band, then running the inspection rules.
    Inspecting,
    /// Inspection failed; `manage` or `inspect` again.
    InspectFailed,
    /// Running clean steps (target `manageable` for a manual clean, `available` for provide).
    Cleaning,
    /// A clean step failed; the node is in maintenance. `manage` to go back.
    CleanFailed,
    /// Ready to deploy.
    Available,
    /// Booting the deploy image by virtual media with a config drive.
    Deploying,
    /// The deploy failed; `deploy` again or `undeploy`.
    DeployFailed,
    /// Deployed.
    Active,
    /// Tearing down: power off, eject, clear the boot override.
    Deleting,
    /// The tear-down failed; `deploy` or `undeploy` again.
    Error,
}

impl ProvisionState {
    /// Every state, in the order of the happy path.
    pub const ALL: [ProvisionState; 13] = [
        ProvisionState::Enroll,
        ProvisionState::Verifying,
        ProvisionState::Manageable,
        ProvisionState::Inspecting,
        ProvisionState::InspectFailed,
        ProvisionState::Cleaning,
        ProvisionState::CleanFailed,
        ProvisionState::Available,
        ProvisionState::Deploying,
        ProvisionState::DeployFailed,
        ProvisionState::Active,
        ProvisionState::Deleting,
        ProvisionState::Error,
    ];

    /// The snake_case name stored in the node document (`inspect_failed`).
    pub fn as_str(self) -> &'static str {
        match self {
            ProvisionState::Enroll => "enroll",
            ProvisionState::Verifying => "verifying",
            ProvisionState::Manageable => "manageable",
            ProvisionState::Inspecting => "inspecting",
            ProvisionState::InspectFailed => "inspect_failed",
            ProvisionState::Cleaning => "cleaning",
            ProvisionState::CleanFailed => "clean_failed",
            ProvisionState::Available => "available",
            ProvisionState::Deploying => "deploying",
            ProvisionState::DeployFailed => "deploy_failed",
            ProvisionState::Active => "active",
            ProvisionState::Deleting => "deleting",
            ProvisionState::Error => "error",
        }
    }

    /// Parses [`ProvisionState::as_str`].
    pub fn parse(text: &str) -> Option<ProvisionState> {
        ProvisionState::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// A state in which the node changes only on request (Ironic's `STABLE_STATES`, with the
    /// failure states, which also wait for the operator).
    pub fn is_stable(self) -> bool {
        !self.is_transitional()
    }

    /// A state `advance` moves on by itself.
    pub fn is_transitional(self) -> bool {
        matches!(
            self,
            ProvisionState::Verifying
                | ProvisionState::Inspecting
                | ProvisionState::Cleaning
                | ProvisionState::Deploying
                | ProvisionState::Deleting
        )
    }

    /// A failure state (Ironic's `FAILURE_STATES`, and `error`).
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            ProvisionState::InspectFailed
                | ProvisionState::CleanFailed
                | ProvisionState::DeployFailed
                | ProvisionState::Error
        )
    }

    /// Where a transitional state goes when its operation fails (Ironic's `fail` event):
    /// `verifying` back to `enroll`, `deleting` to `error`.
    #[must_use]
    pub fn on_failure(self) -> ProvisionState {
        match self {
            ProvisionState::Verifying => ProvisionState::Enroll,
            ProvisionState::Inspecting => ProvisionState::InspectFailed,
            ProvisionState::Cleaning => ProvisionState::CleanFailed,
            ProvisionState::Deploying => ProvisionState::DeployFailed,
            ProvisionState::Deleting => ProvisionState::Error,
            other => other,
        }
    }

    /// The events this state accepts. `abort` is listed for the transitional states that
    /// accept it only while waiting (`handle_event` checks the phase).
    pub fn allowed_events(self) -> &'static [EventKind] {
        use EventKind as E;
        match self {
            ProvisionState::Enroll | ProvisionState::CleanFailed => &[E::Manage],
            ProvisionState::Manageable => &[E::Inspect, E::Clean, E::Provide, E::Adopt],
            ProvisionState::InspectFailed => &[E::Manage, E::Inspect],
            ProvisionState::Available => &[E::Deploy, E::Manage],
            ProvisionState::DeployFailed | ProvisionState::Active | ProvisionState::Error => {
                &[E::Deploy, E::Undeploy]
            }
            ProvisionState::Inspecting | ProvisionState::Cleaning | ProvisionState::Deploying => {
                &[E::Abort]
            }
            ProvisionState::Verifying | ProvisionState::Deleting => &[],
        }
    }
}

impl fmt::Display for ProvisionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// UEFI or legacy BIOS, for the deploy boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BootModeChoice {
    /// UEFI (Ironic's default).
    Uefi,
    /// Legacy BIOS.
    Bios,
}

/// What to deploy: the image booted once from the virtual CD and the network data put on a
/// config drive beside it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploySpec {
    /// An `http(s)` URL of an ISO the BMC can reach.
    pub image: String,
    /// OpenStack `network_data.json` (static addresses without DHCP); validated when the
    /// event is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_data: Option<Value>,
    /// Boot mode to keep or set (`None`: leave it as it is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_mode: Option<BootModeChoice>,
}

/// A request to the state machine (Ironic's API verbs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// `enroll` → `verifying` → `manageable`; from a failure state or `available`, straight
    /// back to `manageable`.
    Manage,
    /// `manageable` → `inspecting` → `manageable`.
    Inspect,
    /// Manual cleaning: `manageable` → `cleaning` → `manageable`, running `steps` in order.
    Clean {
        /// Ironic's manual-cleaning steps.
        steps: Vec<CleanStep>,
    },
    /// `manageable` → `cleaning` (automated, no steps here) → `available`.
    Provide,
    /// `available` (or `active`, `deploy_failed`, `error`: a rebuild) → `deploying` → `active`.
    Deploy(DeploySpec),
    /// `active`, `deploy_failed` or `error` → `deleting` → `available`.
    Undeploy,
    /// Stops a waiting `inspecting`, `cleaning` or `deploying` node: it goes to the failure state.
    Abort,
    /// `manageable` → `active` for a node deployed by other means, once its power is readable.
    Adopt,
}

impl Event {
    /// The event's kind.
    pub fn kind(&self) -> EventKind {
        match self {
            Event::Manage => EventKind::Manage,
            Event::Inspect => EventKind::Inspect,
            Event::Clean { .. } => EventKind::Clean,
            Event::Provide => EventKind::Provide,
            Event::Deploy(_) => EventKind::Deploy,
            Event::Undeploy => EventKind::Undeploy,
            Event::Abort => EventKind::Abort,
            Event::Adopt => EventKind::Adopt,
        }
    }

    /// A `clean` event from Ironic's manual-cleaning JSON: a list of steps, or an object with
    /// `clean_steps`.
    pub fn clean_from_json(value: &Value) -> Result<Event, super::ProvisionError> {
        let list = match value {
            Value::Array(_) => value,
            Value::Object(map) => {
                map.get("clean_steps")
                    .ok_or_else(|| super::ProvisionError::InvalidStep {
                        index: 0,
                        reason: "expected a list of steps or an object with \"clean_steps\"".into(),
                    })?
            }
            _ => {
                return Err(super::ProvisionError::InvalidStep {
                    index: 0,
                    reason: "expected a list of steps".into(),
                });
            }
        };
        let steps: Vec<CleanStep> = serde_json::from_value(list.clone()).map_err(|err| {
            super::ProvisionError::InvalidStep {
                index: 0,
                reason: err.to_string(),
            }
        })?;
        for (index, step) in steps.iter().enumerate() {
            step.kind()
                .map_err(|reason| super::ProvisionError::InvalidStep { index, reason })?;
        }
        Ok(Event::Clean { steps })
    }
}

/// An event without its arguments, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// [`Event::Manage`].
    Manage,
    /// [`Event::Inspect`].
    Inspect,
    /// [`Event::Clean`].
    Clean,
    /// [`Event::Provide`].
    Provide,
    /// [`Event::Deploy`].
    Deploy,
    /// [`Event::Undeploy`].
    Undeploy,
    /// [`Event::Abort`].
    Abort,
    /// [`Event::Adopt`].
    Adopt,
}

impl EventKind {
    /// The name (`manage`).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Manage => "manage",
            EventKind::Inspect => "inspect",
            EventKind::Clean => "clean",
            EventKind::Provide => "provide",
            EventKind::Deploy => "deploy",
            EventKind::Undeploy => "undeploy",
            EventKind::Abort => "abort",
            EventKind::Adopt => "adopt",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Joins event names for an error message (`manage, inspect`; `none` when empty).
pub(crate) fn list_events(events: &[EventKind]) -> String {
    if events.is_empty() {
        return "none".to_owned();
    }
    events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for state in ProvisionState::ALL {
            assert_eq!(ProvisionState::parse(state.as_str()), Some(state));
            assert_eq!(
                serde_json::to_value(state).unwrap(),
                Value::String(state.as_str().to_owned())
            );
        }
        assert_eq!(ProvisionState::parse("inspect wait"), None);
    }

    #[test]
    fn failure_goes_where_ironic_sends_it() {
        assert_eq!(
            ProvisionState::Verifying.on_failure(),
            ProvisionState::Enroll
        );
        assert_eq!(ProvisionState::Deleting.on_failure(), ProvisionState::Error);
        assert_eq!(
            ProvisionState::Cleaning.on_failure(),
            ProvisionState::CleanFailed
        );
        for state in ProvisionState::ALL {
            assert_eq!(state.is_stable(), !state.is_transitional());
            if state.is_transitional() {
                assert_ne!(state.on_failure(), state);
            }
        }
    }

    #[test]
    fn clean_json_in_ironic_shape_parses_and_bad_steps_say_which() {
        let event = Event::clean_from_json(&serde_json::json!({"clean_steps": [
            {"interface": "bios", "step": "apply_configuration",
             "args": {"settings": [{"name": "ProcTurboMode", "value": "Disabled"}]}},
            {"interface": "power", "step": "reboot"},
            {"step": "wait", "args": {"seconds": 5}}
        ]}))
        .unwrap();
        let Event::Clean { steps } = event else {
            panic!("not a clean event")
        };
        assert_eq!(steps.len(), 3);
        let err = Event::clean_from_json(&serde_json::json!([
            {"interface": "power", "step": "power_on"},
            {"interface": "firmware", "step": "update"}
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("step 2"), "{err}");
        assert!(err.to_string().contains("firmware.update"), "{err}");
    }
}
