//! Manager (the BMC itself).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{PowerState, Status};
use crate::de;
use crate::odata::{Link, ODataId};

/// A manager, `/redfish/v1/Managers/{id}`: the BMC itself.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Manager {
    /// `@odata.id`.
    #[serde(rename = "@odata.id")]
    pub odata_id: Option<ODataId>,
    /// `Id`.
    #[serde(deserialize_with = "de::opt_string")]
    pub id: Option<String>,
    /// `Name`.
    #[serde(deserialize_with = "de::opt_string")]
    pub name: Option<String>,
    /// `BMC`, `EnclosureManager`, ...
    #[serde(deserialize_with = "de::opt_string")]
    pub manager_type: Option<String>,
    /// `Model`, for example `iLO 5` or `14G Monolithic`.
    #[serde(deserialize_with = "de::opt_nonempty_string")]
    pub model: Option<String>,
    /// `FirmwareVersion`, for example `6.00.30.00` or `iLO 5 v2.72`.
    #[serde(deserialize_with = "de::opt_nonempty_string")]
    pub firmware_version: Option<String>,
    /// `Manufacturer` (ManagerResource 1.x later versions).
    #[serde(deserialize_with = "de::opt_nonempty_string")]
    pub manufacturer: Option<String>,
    /// `UUID`.
    #[serde(rename = "UUID", deserialize_with = "de::opt_nonempty_string")]
    pub uuid: Option<String>,
    /// `PowerState`.
    pub power_state: Option<PowerState>,
    /// `Status`.
    pub status: Option<Status>,
    /// The manager's network interfaces.
    pub ethernet_interfaces: Option<Link>,
    /// Manager-level virtual media.
    pub virtual_media: Option<Link>,
    /// `Links` (ManagerForServers, ...), kept as sent.
    pub links: Option<Map<String, Value>>,
    /// The vendor `Oem` object.
    pub oem: Option<Map<String, Value>>,
    /// Every other property, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn parses_manager_model_and_firmware() {
        let m: Manager = serde_json::from_value(json!({
            "Id": "1", "Model": "iLO 5", "FirmwareVersion": "iLO 5 v2.72",
            "ManagerType": "BMC", "VirtualMedia": {"@odata.id": "/redfish/v1/Managers/1/VirtualMedia"}
        }))
        .unwrap();
        assert_eq!(m.model.as_deref(), Some("iLO 5"));
        assert_eq!(m.firmware_version.as_deref(), Some("iLO 5 v2.72"));
        assert!(m.virtual_media.is_some());
    }
}
