//! Chassis.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{PowerState, Status};
use crate::de;
use crate::odata::{Link, ODataId};

/// A chassis, `/redfish/v1/Chassis/{id}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Chassis {
    /// `@odata.id`.
    #[serde(rename = "@odata.id")]
    pub odata_id: Option<ODataId>,
    /// `Id`.
    #[serde(deserialize_with = "de::opt_string")]
    pub id: Option<String>,
    /// `Name` (missing on some SmartNIC chassis, quirk `required_properties_missing`).
    #[serde(deserialize_with = "de::opt_string")]
    pub name: Option<String>,
    /// `RackMount`, `StorageEnclosure`, ... (missing on some BMCs, quirk `required_properties_missing`).
    #[serde(deserialize_with = "de::opt_string")]
    pub chassis_type: Option<String>,
    /// `Manufacturer`.
    #[serde(deserialize_with = "de::opt_nonempty_string")]
    pub manufacturer: Option<String>,
    /// `Model`.
    #[serde(deserialize_with = "de::opt_nonempty_string")]
    pub model: Option<String>,
    /// `SerialNumber`.
    #[serde(deserialize_with = "de::opt_nonempty_string")]
    pub serial_number: Option<String>,
    /// `PartNumber`.
    #[serde(deserialize_with = "de::opt_nonempty_string")]
    pub part_number: Option<String>,
    /// `SKU`.
    #[serde(rename = "SKU", deserialize_with = "de::opt_nonempty_string")]
    pub sku: Option<String>,
    /// `AssetTag`.
    #[serde(deserialize_with = "de::opt_nonempty_string")]
    pub asset_tag: Option<String>,
    /// `PowerState`.
    pub power_state: Option<PowerState>,
    /// `Status`.
    pub status: Option<Status>,
    /// `Links`.
    pub links: Option<ChassisLinks>,
    /// The PCIe devices collection.
    #[serde(rename = "PCIeDevices")]
    pub pcie_devices: Option<Link>,
    /// The drives collection.
    pub drives: Option<Link>,
    /// The network adapters collection.
    pub network_adapters: Option<Link>,
    /// The vendor `Oem` object.
    pub oem: Option<Map<String, Value>>,
    /// Every other property, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `Chassis.Links`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ChassisLinks {
    /// Systems in this chassis.
    #[serde(deserialize_with = "de::null_as_empty")]
    pub computer_systems: Vec<Link>,
    /// Managers of this chassis.
    #[serde(deserialize_with = "de::null_as_empty")]
    pub managed_by: Vec<Link>,
    /// Every other property, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn chassis_without_type_or_name() {
        let c: Chassis = serde_json::from_value(json!({
            "Id": "Card1", "PCIeDevices": {"@odata.id": "/redfish/v1/Chassis/Card1/PCIeDevices"},
            "Links": {"ComputerSystems": [{"@odata.id": "/redfish/v1/Systems/1"}]}
        }))
        .unwrap();
        assert_eq!(c.chassis_type, None);
        assert_eq!(c.name, None);
        assert_eq!(c.links.unwrap().computer_systems.len(), 1);
        assert!(c.pcie_devices.is_some());
    }
}
