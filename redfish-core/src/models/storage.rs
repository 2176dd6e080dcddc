//! Storage, Drive, Volume and SimpleStorage.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Status;
use crate::de;
use crate::odata::{Link, ODataId};

/// A storage subsystem, `/redfish/v1/Systems/{id}/Storage/{id}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Storage {
    /// `@odata.id`.
    #[serde(rename = "@odata.id")]
    pub odata_id: Option<ODataId>,
    /// `Id`.
    #[serde(deserialize_with = "de::opt_string")]
    pub id: Option<String>,
    /// `Name`.
    #[serde(deserialize_with = "de::opt_string")]
    pub name: Option<String>,
    /// Links to the drives (a list, not a collection).
    #[serde(deserialize_with = "de::null_as_empty")]
    pub drives: Vec<Link>,
    /// The volumes collection.
    pub volumes: Option<Link>,
    /// `Status`.
    pub status: Option<Status>,
    /// The vendor `Oem` object.
    pub oem: Option<Map<String, Value>>,
    /// Every other property, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A physical drive.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Drive {
    /// `@odata.id`.
    #[serde(rename = "@odata.id")]
    pub odata_id: Option<ODataId>,
    /// `Id`.
    #[serde(deserialize_with = "de::opt_string")]
    pub id: Option<String>,
    /// `Name`.
    #[serde(deserialize_with = "de::opt_string")]
    pub name: Option<String>,
    /// Size in bytes (`null` on some firmware, quirk `empty_values`).
    #[serde(deserialize_with = "de::opt_u64")]
    pub capacity_bytes: Option<u64>,
    /// `HDD`, `SSD`, `SMR`.
    #[serde(deserialize_with = "de::opt_string")]
    pub media_type: Option<String>,
    /// `SATA`, `SAS`, `NVMe`, ...
    #[serde(deserialize_with = "de::opt_string")]
    pub protocol: Option<String>,
    /// `Model`.
    #[serde(deserialize_with = "de::opt_string")]
    pub model: Option<String>,
    /// `SerialNumber`.
    #[serde(deserialize_with = "de::opt_nonempty_string")]
    pub serial_number: Option<String>,
    /// `Manufacturer`.
    #[serde(deserialize_with = "de::opt_string")]
    pub manufacturer: Option<String>,
    /// Firmware revision.
    #[serde(deserialize_with = "de::opt_string")]
    pub revision: Option<String>,
    /// `Status` (without `State` on HPE, quirk `status_without_state`).
    pub status: Option<Status>,
    /// The vendor `Oem` object.
    pub oem: Option<Map<String, Value>>,
    /// Every other property, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A logical volume.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Volume {
    /// `@odata.id`.
    #[serde(rename = "@odata.id")]
    pub odata_id: Option<ODataId>,
    /// `Id`.
    #[serde(deserialize_with = "de::opt_string")]
    pub id: Option<String>,
    /// `Name`.
    #[serde(deserialize_with = "de::opt_string")]
    pub name: Option<String>,
    /// Size in bytes.
    #[serde(deserialize_with = "de::opt_u64")]
    pub capacity_bytes: Option<u64>,
    /// `RAID0`, `RAID1`, ...
    #[serde(rename = "RAIDType", deserialize_with = "de::opt_string")]
    pub raid_type: Option<String>,
    /// `VolumeType` (deprecated, still common).
    #[serde(deserialize_with = "de::opt_string")]
    pub volume_type: Option<String>,
    /// `Status`.
    pub status: Option<Status>,
    /// Every other property, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A simple storage controller with its devices inline.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct SimpleStorage {
    /// `@odata.id`.
    #[serde(rename = "@odata.id")]
    pub odata_id: Option<ODataId>,
    /// `Id`.
    #[serde(deserialize_with = "de::opt_string")]
    pub id: Option<String>,
    /// `Name`.
    #[serde(deserialize_with = "de::opt_string")]
    pub name: Option<String>,
    /// The devices on the controller.
    #[serde(deserialize_with = "de::null_as_empty")]
    pub devices: Vec<SimpleStorageDevice>,
    /// `Status`.
    pub status: Option<Status>,
    /// Every other property, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One device of a [`SimpleStorage`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct SimpleStorageDevice {
    /// `Name`.
    #[serde(deserialize_with = "de::opt_string")]
    pub name: Option<String>,
    /// `Manufacturer`.
    #[serde(deserialize_with = "de::opt_string")]
    pub manufacturer: Option<String>,
    /// `Model`.
    #[serde(deserialize_with = "de::opt_string")]
    pub model: Option<String>,
    /// Size in bytes (`null` on some firmware).
    #[serde(deserialize_with = "de::opt_u64")]
    pub capacity_bytes: Option<u64>,
    /// `Status` (`Absent` for an empty bay).
    pub status: Option<Status>,
    /// Every other property, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn drive_with_null_capacity() {
        let d: Drive = serde_json::from_value(json!({
            "@odata.id": "/redfish/v1/Systems/1/Storage/1/Drives/0/",
            "Id": "0", "CapacityBytes": null, "MediaType": "SSD", "SerialNumber": ""
        }))
        .unwrap();
        assert_eq!(d.capacity_bytes, None);
        assert_eq!(d.serial_number, None);
        assert_eq!(d.odata_id.unwrap().last_segment(), "0");
    }

    #[test]
    fn storage_with_drive_links_and_controllers_kept() {
        let s: Storage = serde_json::from_value(json!({
            "Id": "RAID.1", "Drives": [{"@odata.id": "/d/1"}],
            "StorageControllers": [{"Name": "PERC"}]
        }))
        .unwrap();
        assert_eq!(s.drives.len(), 1);
        assert!(s.extra.contains_key("StorageControllers"));
    }

    #[test]
    fn simple_storage_devices_inline() {
        let s: SimpleStorage = serde_json::from_value(json!({
            "Id": "AHCI", "Devices": [{"Name": "disk", "CapacityBytes": "1000"},
                {"Name": "empty", "Status": {"State": "Absent"}}]
        }))
        .unwrap();
        assert_eq!(s.devices[0].capacity_bytes, Some(1000));
        assert!(!Status::is_present(s.devices[1].status.as_ref()));
    }

    #[test]
    fn volume_raid_type() {
        let v: Volume =
            serde_json::from_value(json!({"RAIDType": "RAID1", "CapacityBytes": 10})).unwrap();
        assert_eq!(v.raid_type.as_deref(), Some("RAID1"));
    }
}
