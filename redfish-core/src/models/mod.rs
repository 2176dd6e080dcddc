//! Typed Redfish models, tolerant of real firmware.
//!
//! Every model keeps the properties it does not type in `extra` (so nothing the BMC sent is
//! lost) and the vendor `Oem` object as JSON. Strings that firmware sometimes sends as numbers,
//! numbers sent as strings (`"N/A"` reads as `None`), `null` lists and empty MACs are accepted.
//! Enumerations keep values they do not know in an `Other` variant.

mod chassis;
mod hardware;
mod manager;
mod message;
mod service_root;
mod storage;
mod system;
mod task;

pub use chassis::{Chassis, ChassisLinks};
pub use hardware::{EthernetInterface, Memory, PCIeDevice, Processor, ProcessorType};
pub use manager::Manager;
pub use message::{RedfishMessage, parse_error_messages};
pub use service_root::{
    ExpandQuery, ProtocolFeatures, ServiceRoot, ServiceRootLinks, SessionService,
};
pub use storage::{Drive, SimpleStorage, SimpleStorageDevice, Storage, Volume};
pub use system::{
    Boot, BootMode, BootOverrideEnabled, BootSource, ComputerSystem, MemorySummary, PowerState,
    ProcessorSummary, ResetAction, ResetType, SecureBoot, SettingsAnnotation, SystemActions,
    SystemLinks,
};
pub use task::{Task, TaskState};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Declares a string enumeration that keeps unknown values in `Other(String)`.
macro_rules! redfish_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $($(#[$vmeta:meta])* $variant:ident => $wire:literal),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this version of ferrofish does not know, kept as the BMC sent it.
            Other(String),
        }

        impl $name {
            /// The value as written on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)+
                    $name::Other(other) => other,
                }
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> $name {
                $(if value.eq_ignore_ascii_case($wire) {
                    return $name::$variant;
                })+
                $name::Other(value.to_owned())
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(value: &str) -> Result<$name, Self::Err> {
                Ok($name::from(value))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let value = String::deserialize(d)?;
                Ok($name::from(value.as_str()))
            }
        }
    };
}
pub(crate) use redfish_enum;

redfish_enum! {
    /// `Status.State`.
    State {
        /// Present and in use.
        Enabled => "Enabled",
        /// Present but disabled.
        Disabled => "Disabled",
        /// Not present (an empty DIMM slot, for example).
        Absent => "Absent",
        /// Enabled but on standby.
        StandbyOffline => "StandbyOffline",
        /// A spare.
        StandbySpare => "StandbySpare",
        /// Starting.
        Starting => "Starting",
        /// Being updated.
        Updating => "Updating",
        /// In test.
        InTest => "InTest",
        /// Not available.
        UnavailableOffline => "UnavailableOffline",
        /// Deferring.
        Deferring => "Deferring",
        /// Quiesced.
        Quiesced => "Quiesced",
    }
}

redfish_enum! {
    /// `Status.Health`.
    Health {
        /// Normal.
        Ok => "OK",
        /// Needs attention.
        Warning => "Warning",
        /// Needs immediate attention.
        Critical => "Critical",
    }
}

/// The common `Status` object.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Status {
    /// Whether the resource is enabled, absent, ...
    pub state: Option<State>,
    /// The resource's own health.
    pub health: Option<Health>,
    /// The worst health of the resource and what it contains.
    pub health_rollup: Option<Health>,
    /// Every other property, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Status {
    /// True unless the status says `Absent`.
    pub fn is_present(status: Option<&Status>) -> bool {
        !matches!(status.and_then(|s| s.state.as_ref()), Some(State::Absent))
    }
}

/// Reads `@Redfish.AllowableValues` into typed values, dropping entries that are not strings.
pub(crate) fn allowable<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: for<'a> From<&'a str>,
{
    Ok(crate::de::string_list(d)?
        .iter()
        .map(|s| T::from(s.as_str()))
        .collect())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn enums_keep_unknown_values_and_match_case_insensitively() {
        assert_eq!(State::from("enabled"), State::Enabled);
        assert_eq!(State::from("Sleeping"), State::Other("Sleeping".into()));
        assert_eq!(Health::from("OK").as_str(), "OK");
        let back = serde_json::to_value(State::Other("Sleeping".into())).unwrap();
        assert_eq!(back, json!("Sleeping"));
    }

    #[test]
    fn status_tolerates_nulls_and_keeps_extra() {
        let s: Status =
            serde_json::from_value(json!({"Health": null, "State": "Absent", "Conditions": []}))
                .unwrap();
        assert_eq!(s.state, Some(State::Absent));
        assert_eq!(s.health, None);
        assert!(s.extra.contains_key("Conditions"));
        assert!(!Status::is_present(Some(&s)));
        assert!(Status::is_present(None));
    }
}
