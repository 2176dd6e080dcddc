//! Processor, Memory, EthernetInterface and PCIeDevice.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Status, redfish_enum};
use crate::de;
use crate::odata::ODataId;

redfish_enum! {
    /// `ProcessorType`.
    ProcessorType {
        /// A central processing unit.
        Cpu => "CPU",
        /// A graphics processor.
        Gpu => "GPU",
        /// An FPGA.
        Fpga => "FPGA",
        /// A DSP.
        Dsp => "DSP",
        /// An accelerator.
        Accelerator => "Accelerator",
        /// A core inside a processor.
        Core => "Core",
        /// A thread inside a core.
        Thread => "Thread",
    }
}

/// A processor, `/redfish/v1/Systems/{id}/Processors/{id}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Processor {
    /// `@odata.id`.
    #[serde(rename = "@odata.id")]
    pub odata_id: Option<ODataId>,
    /// `Id`.
    #[serde(deserialize_with = "de::opt_string")]
    pub id: Option<String>,
    /// `Name`.
    #[serde(deserialize_with = "de::opt_string")]
    pub name: Option<String>,
    /// `Socket` (an integer on ZTE, quirk `numbers_as_strings`).
    #[serde(deserialize_with = "de::opt_string")]
    pub socket: Option<String>,
    /// CPU, GPU, ...
    pub processor_type: Option<ProcessorType>,
    /// `x86`, `ARM`, ...
    #[serde(deserialize_with = "de::opt_string")]
    pub processor_architecture: Option<String>,
    /// `x86-64`, `ARM-A64`, ...
    #[serde(deserialize_with = "de::opt_string")]
    pub instruction_set: Option<String>,
    /// `Manufacturer`.
    #[serde(deserialize_with = "de::opt_string")]
    pub manufacturer: Option<String>,
    /// `Model` (trailing blanks removed by the inventory, not here).
    #[serde(deserialize_with = "de::opt_string")]
    pub model: Option<String>,
    /// Maximum speed in MHz.
    #[serde(rename = "MaxSpeedMHz", deserialize_with = "de::opt_u64")]
    pub max_speed_mhz: Option<u64>,
    /// Cores.
    #[serde(deserialize_with = "de::opt_u64")]
    pub total_cores: Option<u64>,
    /// Threads.
    #[serde(deserialize_with = "de::opt_u64")]
    pub total_threads: Option<u64>,
    /// `Status`.
    pub status: Option<Status>,
    /// The vendor `Oem` object.
    pub oem: Option<Map<String, Value>>,
    /// Every other property, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A memory module (DIMM slot), `/redfish/v1/Systems/{id}/Memory/{id}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Memory {
    /// `@odata.id`.
    #[serde(rename = "@odata.id")]
    pub odata_id: Option<ODataId>,
    /// `Id`.
    #[serde(deserialize_with = "de::opt_string")]
    pub id: Option<String>,
    /// `Name`.
    #[serde(deserialize_with = "de::opt_string")]
    pub name: Option<String>,
    /// Capacity in MiB (0 or absent for an empty slot).
    #[serde(rename = "CapacityMiB", deserialize_with = "de::opt_u64")]
    pub capacity_mib: Option<u64>,
    /// `DDR4`, `DDR5`, ...
    #[serde(deserialize_with = "de::opt_string")]
    pub memory_device_type: Option<String>,
    /// `DRAM`, `NVDIMM_N`, ...
    #[serde(deserialize_with = "de::opt_string")]
    pub memory_type: Option<String>,
    /// `Manufacturer`.
    #[serde(deserialize_with = "de::opt_string")]
    pub manufacturer: Option<String>,
    /// `PartNumber`.
    #[serde(deserialize_with = "de::opt_nonempty_string")]
    pub part_number: Option<String>,
    /// `SerialNumber`.
    #[serde(deserialize_with = "de::opt_nonempty_string")]
    pub serial_number: Option<String>,
    /// Speed in MHz.
    #[serde(rename = "OperatingSpeedMhz", deserialize_with = "de::opt_u64")]
    pub operating_speed_mhz: Option<u64>,
    /// `DeviceLocator`.
    #[serde(deserialize_with = "de::opt_string")]
    pub device_locator: Option<String>,
    /// `Status` (`Absent` for an empty slot).
    pub status: Option<Status>,
    /// The vendor `Oem` object.
    pub oem: Option<Map<String, Value>>,
    /// Every other property, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Memory {
    /// Whether a module sits in the slot: not `Absent` and not of zero capacity.
    pub fn is_populated(&self) -> bool {
        Status::is_present(self.status.as_ref()) && self.capacity_mib != Some(0)
    }
}

/// A network interface of a system or manager.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct EthernetInterface {
    /// `@odata.id`.
    #[serde(rename = "@odata.id")]
    pub odata_id: Option<ODataId>,
    /// `Id`.
    #[serde(deserialize_with = "de::opt_string")]
    pub id: Option<String>,
    /// `Name`.
    #[serde(deserialize_with = "de::opt_string")]
    pub name: Option<String>,
    /// `MACAddress` (`None` when empty, quirk `empty_values`).
    #[serde(rename = "MACAddress", deserialize_with = "de::opt_nonempty_string")]
    pub mac_address: Option<String>,
    /// `PermanentMACAddress`.
    #[serde(
        rename = "PermanentMACAddress",
        deserialize_with = "de::opt_nonempty_string"
    )]
    pub permanent_mac_address: Option<String>,
    /// Link speed in Mbit/s.
    #[serde(deserialize_with = "de::opt_u64")]
    pub speed_mbps: Option<u64>,
    /// `LinkUp`, `LinkDown`, `NoLink`.
    #[serde(deserialize_with = "de::opt_string")]
    pub link_status: Option<String>,
    /// `InterfaceEnabled`.
    #[serde(deserialize_with = "de::opt_bool")]
    pub interface_enabled: Option<bool>,
    /// `Status`.
    pub status: Option<Status>,
    /// The vendor `Oem` object.
    pub oem: Option<Map<String, Value>>,
    /// Every other property, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A PCIe device.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct PCIeDevice {
    /// `@odata.id` (missing on HPE while powering on, quirk `link_without_id`).
    #[serde(rename = "@odata.id")]
    pub odata_id: Option<ODataId>,
    /// `Id`.
    #[serde(deserialize_with = "de::opt_string")]
    pub id: Option<String>,
    /// `Name`.
    #[serde(deserialize_with = "de::opt_string")]
    pub name: Option<String>,
    /// `Manufacturer`.
    #[serde(deserialize_with = "de::opt_string")]
    pub manufacturer: Option<String>,
    /// `Model`.
    #[serde(deserialize_with = "de::opt_string")]
    pub model: Option<String>,
    /// `SingleFunction`, `MultiFunction`, `Simulated`, `Retimer`.
    #[serde(deserialize_with = "de::opt_string")]
    pub device_type: Option<String>,
    /// `SerialNumber`.
    #[serde(deserialize_with = "de::opt_nonempty_string")]
    pub serial_number: Option<String>,
    /// `PartNumber`.
    #[serde(deserialize_with = "de::opt_nonempty_string")]
    pub part_number: Option<String>,
    /// `FirmwareVersion`.
    #[serde(deserialize_with = "de::opt_nonempty_string")]
    pub firmware_version: Option<String>,
    /// `Status`.
    pub status: Option<Status>,
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
    use crate::models::State;

    #[test]
    fn processor_with_integer_socket_and_string_numbers() {
        let p: Processor = serde_json::from_value(json!({
            "Id": "CPU.Socket.1", "Socket": 1, "ProcessorType": "CPU",
            "TotalCores": "18", "TotalThreads": 36, "MaxSpeedMHz": "N/A",
            "Model": "Xeon  "
        }))
        .unwrap();
        assert_eq!(p.socket.as_deref(), Some("1"));
        assert_eq!(p.processor_type, Some(ProcessorType::Cpu));
        assert_eq!(p.total_cores, Some(18));
        assert_eq!(p.max_speed_mhz, None);
    }

    #[test]
    fn empty_dimm_slot_is_not_populated() {
        let m: Memory = serde_json::from_value(json!({
            "Id": "proc1dimm2", "CapacityMiB": 0, "Status": {"State": "Absent", "Health": "OK"}
        }))
        .unwrap();
        assert_eq!(m.status.as_ref().unwrap().state, Some(State::Absent));
        assert!(!m.is_populated());
        let m: Memory = serde_json::from_value(json!({"CapacityMiB": 32768})).unwrap();
        assert!(m.is_populated());
    }

    #[test]
    fn nic_with_empty_mac_and_null_speed() {
        let n: EthernetInterface = serde_json::from_value(json!({
            "Id": "1", "MACAddress": "", "SpeedMbps": null, "LinkStatus": null,
            "Status": {"Health": null, "State": null}
        }))
        .unwrap();
        assert_eq!(n.mac_address, None);
        assert_eq!(n.speed_mbps, None);
        assert_eq!(n.link_status, None);
    }

    #[test]
    fn pcie_device_without_odata_id() {
        let d: PCIeDevice = serde_json::from_value(json!({"Name": "NIC"})).unwrap();
        assert_eq!(d.odata_id, None);
        assert_eq!(d.name.as_deref(), Some("NIC"));
    }
}
