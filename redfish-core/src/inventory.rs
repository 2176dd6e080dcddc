//! One `Inventory` value per system: fetched concurrently (in `fetch`), assembled by a pure
//! function here. Over 600 lines because the unit tests of the assembly sit beside it.

mod fetch;

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::models::{
    BootMode, ComputerSystem, Drive, EthernetInterface, Memory, PCIeDevice, PowerState, Processor,
    ProcessorType, SecureBoot, SimpleStorage, Status, Volume,
};

/// What a system is made of.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    /// Identity of the system.
    pub system: SystemIdentity,
    /// Processors.
    pub cpu: CpuInventory,
    /// Memory.
    pub memory: MemoryInventory,
    /// Physical disks.
    pub disks: Vec<DiskInfo>,
    /// Logical volumes (RAID virtual disks) of the storage controllers.
    #[serde(default)]
    pub volumes: Vec<VolumeInfo>,
    /// Network interfaces that have a MAC address.
    pub nics: Vec<NicInfo>,
    /// PCIe devices.
    pub pcie_devices: Vec<PcieDeviceInfo>,
    /// The current boot override mode (UEFI or Legacy).
    pub boot_mode: Option<BootMode>,
    /// Secure boot, when the system has the resource.
    pub secure_boot: Option<SecureBootInfo>,
    /// The linked parts that could not be read, sorted by URL. Empty when everything was read.
    #[serde(default)]
    pub warnings: Vec<InventoryWarning>,
}

/// A linked part of the system the inventory could not read; the rest was read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryWarning {
    /// The URL that could not be read (a collection, a member, a chassis, ...).
    pub url: String,
    /// Why, by kind.
    pub reason: WarningReason,
    /// The HTTP status, when the BMC answered with an error.
    pub status: Option<u16>,
    /// The error, in words (secrets already scrubbed).
    pub message: String,
}

/// Why a part of the inventory could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WarningReason {
    /// 404: the BMC links a resource it does not serve.
    NotFound,
    /// 501: the BMC does not implement it.
    NotImplemented,
    /// Another error status (403, 500, 503 after the retries, ...).
    Refused,
    /// No answer in time.
    Timeout,
    /// The body is not the JSON expected there, or names another resource type.
    Unparsable,
    /// The link is not a usable path; nothing was sent.
    BadLink,
}

impl WarningReason {
    /// The reason as a short snake_case word (`not_found`, `timeout`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            WarningReason::NotFound => "not_found",
            WarningReason::NotImplemented => "not_implemented",
            WarningReason::Refused => "refused",
            WarningReason::Timeout => "timeout",
            WarningReason::Unparsable => "unparsable",
            WarningReason::BadLink => "bad_link",
        }
    }
}

impl std::fmt::Display for WarningReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Turns the failed read of a linked part into a warning, or hands the error back when it
/// must stop the whole inventory: a login refused (401 after the re-login), a connection lost,
/// a closed client, or a link to another origin (how a misconfigured or hostile BMC would
/// steer requests elsewhere; nothing is sent there). Pure.
fn warning_for(url: &str, err: Error) -> Result<InventoryWarning, Error> {
    let status = err.status();
    let reason = match (&err, status) {
        (_, Some(404)) => WarningReason::NotFound,
        (_, Some(501)) => WarningReason::NotImplemented,
        (_, Some(401)) => return Err(err),
        (_, Some(_)) => WarningReason::Refused,
        (Error::Timeout { .. }, None) => WarningReason::Timeout,
        (Error::Decode { .. } | Error::WrongResourceType { .. }, None) => WarningReason::Unparsable,
        (Error::InvalidPath { .. }, None) => WarningReason::BadLink,
        _ => return Err(err),
    };
    Ok(InventoryWarning {
        url: err.url().map_or_else(|| url.to_owned(), str::to_owned),
        reason,
        status,
        message: err.to_string(),
    })
}

/// Who the system is.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SystemIdentity {
    /// `@odata.id`.
    pub odata_id: Option<String>,
    /// `Id`.
    pub id: Option<String>,
    /// `Name`.
    pub name: Option<String>,
    /// `Manufacturer`.
    pub manufacturer: Option<String>,
    /// `Model`.
    pub model: Option<String>,
    /// `SerialNumber`.
    pub serial_number: Option<String>,
    /// `SKU` (Dell's service tag).
    pub sku: Option<String>,
    /// `UUID`.
    pub uuid: Option<String>,
    /// `BiosVersion`.
    pub bios_version: Option<String>,
    /// `PowerState` when read.
    pub power_state: Option<PowerState>,
}

/// The processors.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CpuInventory {
    /// Number of CPUs (not GPUs or other accelerators).
    pub count: u64,
    /// Model of the first CPU, trimmed.
    pub model: Option<String>,
    /// Architecture or instruction set of the first CPU.
    pub architecture: Option<String>,
    /// Total cores.
    pub cores: Option<u64>,
    /// Total threads.
    pub threads: Option<u64>,
    /// Each CPU.
    pub processors: Vec<CpuInfo>,
}

/// One CPU.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CpuInfo {
    /// `Id`.
    pub id: Option<String>,
    /// `Socket`.
    pub socket: Option<String>,
    /// `Manufacturer`.
    pub manufacturer: Option<String>,
    /// `Model`, trimmed.
    pub model: Option<String>,
    /// `ProcessorArchitecture`, or `InstructionSet` when absent.
    pub architecture: Option<String>,
    /// Cores.
    pub cores: Option<u64>,
    /// Threads.
    pub threads: Option<u64>,
    /// Maximum speed in MHz.
    pub max_speed_mhz: Option<u64>,
}

/// The memory.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MemoryInventory {
    /// Total in MiB: the sum of the DIMMs, or `MemorySummary` when no DIMM is listed or some
    /// DIMM could not be read (see [`Inventory::warnings`]).
    pub total_mib: u64,
    /// Populated DIMM slots.
    pub dimms: Vec<DimmInfo>,
}

/// One DIMM.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DimmInfo {
    /// `Id`.
    pub id: Option<String>,
    /// Size in MiB.
    pub capacity_mib: Option<u64>,
    /// `DDR4`, `DDR5`, ...
    pub memory_device_type: Option<String>,
    /// `Manufacturer`.
    pub manufacturer: Option<String>,
    /// `PartNumber`.
    pub part_number: Option<String>,
    /// `SerialNumber`.
    pub serial_number: Option<String>,
    /// Speed in MHz.
    pub speed_mhz: Option<u64>,
}

/// One physical disk.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DiskInfo {
    /// `Id`.
    pub id: Option<String>,
    /// `Name`.
    pub name: Option<String>,
    /// Size in bytes.
    pub capacity_bytes: Option<u64>,
    /// `HDD`, `SSD`, ...
    pub media_type: Option<String>,
    /// `SATA`, `NVMe`, ...
    pub protocol: Option<String>,
    /// `Model`.
    pub model: Option<String>,
    /// `SerialNumber`.
    pub serial_number: Option<String>,
}

/// One logical volume.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VolumeInfo {
    /// `Id`.
    pub id: Option<String>,
    /// `Name`.
    pub name: Option<String>,
    /// Size in bytes.
    pub capacity_bytes: Option<u64>,
    /// `RAIDType`: `RAID0`, `RAID1`, `RAID10`, ...
    pub raid_type: Option<String>,
    /// `VolumeType` (deprecated, but the only RAID hint on older firmware): `Mirrored`,
    /// `StripedWithParity`, ...
    pub volume_type: Option<String>,
}

/// One network interface.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NicInfo {
    /// `Id`.
    pub id: Option<String>,
    /// The MAC address (`MACAddress`, or `PermanentMACAddress` when empty).
    pub mac_address: String,
    /// Speed in Mbit/s.
    pub speed_mbps: Option<u64>,
    /// `LinkUp`, `LinkDown`, ...
    pub link_status: Option<String>,
}

/// One PCIe device.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PcieDeviceInfo {
    /// `Id`.
    pub id: Option<String>,
    /// `Name`.
    pub name: Option<String>,
    /// `Manufacturer`.
    pub manufacturer: Option<String>,
    /// `Model`.
    pub model: Option<String>,
    /// `DeviceType`.
    pub device_type: Option<String>,
}

/// Secure boot state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SecureBootInfo {
    /// Enabled for the next boot.
    pub enabled: Option<bool>,
    /// `Enabled` or `Disabled` for the current boot.
    pub current_boot: Option<String>,
    /// `UserMode`, `SetupMode`, ...
    pub mode: Option<String>,
}

/// What the storage subsystems hold.
#[derive(Default)]
struct StorageParts {
    drives: Vec<Drive>,
    volumes: Vec<Volume>,
    simple_storage: Vec<SimpleStorage>,
}

/// The resources an inventory is made of, as fetched.
#[derive(Clone, Debug, Default)]
pub(crate) struct InventoryParts {
    pub(crate) processors: Vec<Processor>,
    /// Some processor (or the collection) could not be read: totals come from the summary.
    pub(crate) processors_incomplete: bool,
    pub(crate) memory: Vec<Memory>,
    /// Some DIMM (or the collection) could not be read: the total comes from the summary.
    pub(crate) memory_incomplete: bool,
    pub(crate) drives: Vec<Drive>,
    pub(crate) volumes: Vec<Volume>,
    pub(crate) simple_storage: Vec<SimpleStorage>,
    pub(crate) nics: Vec<EthernetInterface>,
    pub(crate) pcie_devices: Vec<PCIeDevice>,
    pub(crate) secure_boot: Option<SecureBoot>,
}

fn trimmed(s: Option<&String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl Inventory {
    /// Builds the inventory from fetched resources. Pure.
    pub(crate) fn assemble(system: &ComputerSystem, parts: InventoryParts) -> Inventory {
        let cpu = cpu_inventory(system, &parts.processors, parts.processors_incomplete);
        let memory = memory_inventory(system, &parts.memory, parts.memory_incomplete);
        let disks = disks(&parts.drives, &parts.simple_storage);
        let volumes = parts
            .volumes
            .iter()
            .filter(|v| Status::is_present(v.status.as_ref()))
            .map(|v| VolumeInfo {
                id: v.id.clone(),
                name: v.name.clone(),
                capacity_bytes: v.capacity_bytes,
                raid_type: trimmed(v.raid_type.as_ref()),
                volume_type: trimmed(v.volume_type.as_ref()),
            })
            .collect();
        // Interfaces without any MAC are skipped, as sushy does (quirk `empty_values`).
        let nics = parts
            .nics
            .iter()
            .filter_map(|n| {
                let mac = n
                    .mac_address
                    .clone()
                    .or_else(|| n.permanent_mac_address.clone())?;
                Some(NicInfo {
                    id: n.id.clone(),
                    mac_address: mac,
                    speed_mbps: n.speed_mbps,
                    link_status: n.link_status.clone(),
                })
            })
            .collect();

        let pcie_devices = parts
            .pcie_devices
            .iter()
            .map(|d| PcieDeviceInfo {
                id: d.id.clone(),
                name: d.name.clone(),
                manufacturer: trimmed(d.manufacturer.as_ref()),
                model: trimmed(d.model.as_ref()),
                device_type: d.device_type.clone(),
            })
            .collect();

        Inventory {
            system: SystemIdentity {
                odata_id: system.odata_id.as_ref().map(|id| id.as_str().to_owned()),
                id: system.id.clone(),
                name: system.name.clone(),
                manufacturer: trimmed(system.manufacturer.as_ref()),
                model: trimmed(system.model.as_ref()),
                serial_number: system.serial_number.clone(),
                sku: system.sku.clone(),
                uuid: system.uuid.clone(),
                bios_version: system.bios_version.clone(),
                power_state: system.power_state.clone(),
            },
            cpu,
            memory,
            disks,
            volumes,
            nics,
            pcie_devices,
            boot_mode: system
                .boot
                .as_ref()
                .and_then(|b| b.boot_source_override_mode.clone()),
            secure_boot: parts.secure_boot.map(|s| SecureBootInfo {
                enabled: s.secure_boot_enable,
                current_boot: s.secure_boot_current_boot,
                mode: s.secure_boot_mode,
            }),
            warnings: Vec::new(),
        }
    }
}

/// CPUs from the members; from `ProcessorSummary` when none was read, or when some could not
/// be read and the summary has the numbers.
fn cpu_inventory(
    system: &ComputerSystem,
    processors: &[Processor],
    incomplete: bool,
) -> CpuInventory {
    let cpus: Vec<&Processor> = processors
        .iter()
        .filter(|p| matches!(p.processor_type, None | Some(ProcessorType::Cpu)))
        .filter(|p| Status::is_present(p.status.as_ref()))
        .collect();
    let summary = system.processor_summary.as_ref();
    let sum = |f: fn(&Processor) -> Option<u64>| -> Option<u64> {
        if cpus.is_empty() {
            return None;
        }
        // Saturating: the numbers come from the BMC and may be absurd.
        cpus.iter()
            .map(|p| f(p))
            .try_fold(0_u64, |total, n| Some(total.saturating_add(n?)))
    };
    let summary_count = summary.and_then(|s| s.count);
    let from_members = |members: Option<u64>, summarised: Option<u64>| {
        if incomplete {
            summarised.or(members)
        } else {
            members.or(summarised)
        }
    };
    CpuInventory {
        count: if cpus.is_empty() || (incomplete && summary_count.is_some()) {
            summary_count.unwrap_or(cpus.len() as u64)
        } else {
            cpus.len() as u64
        },
        model: cpus
            .first()
            .and_then(|p| trimmed(p.model.as_ref()))
            .or_else(|| trimmed(summary.and_then(|s| s.model.as_ref()))),
        architecture: cpus.first().and_then(|p| {
            trimmed(p.processor_architecture.as_ref())
                .or_else(|| trimmed(p.instruction_set.as_ref()))
        }),
        cores: from_members(sum(|p| p.total_cores), summary.and_then(|s| s.core_count)),
        threads: from_members(
            sum(|p| p.total_threads),
            summary.and_then(|s| s.logical_processor_count),
        ),
        processors: cpus
            .iter()
            .map(|p| CpuInfo {
                id: p.id.clone(),
                socket: p.socket.clone(),
                manufacturer: trimmed(p.manufacturer.as_ref()),
                model: trimmed(p.model.as_ref()),
                architecture: trimmed(p.processor_architecture.as_ref())
                    .or_else(|| trimmed(p.instruction_set.as_ref())),
                cores: p.total_cores,
                threads: p.total_threads,
                max_speed_mhz: p.max_speed_mhz,
            })
            .collect(),
    }
}

/// DIMMs from the members; the total from `MemorySummary` when no DIMM was listed, or when
/// some could not be read and the summary has the number.
fn memory_inventory(
    system: &ComputerSystem,
    memory: &[Memory],
    incomplete: bool,
) -> MemoryInventory {
    let dimms: Vec<DimmInfo> = memory
        .iter()
        .filter(|m| m.is_populated())
        .map(|m| DimmInfo {
            id: m.id.clone(),
            capacity_mib: m.capacity_mib,
            memory_device_type: m.memory_device_type.clone(),
            manufacturer: trimmed(m.manufacturer.as_ref()),
            part_number: trimmed(m.part_number.as_ref()),
            serial_number: trimmed(m.serial_number.as_ref()),
            speed_mhz: m.operating_speed_mhz,
        })
        .collect();
    let dimm_total = dimms
        .iter()
        .filter_map(|d| d.capacity_mib)
        .fold(0_u64, u64::saturating_add);
    let summary_mib = system
        .memory_summary
        .as_ref()
        .and_then(|m| m.total_system_memory_gib)
        .filter(|gib| gib.is_finite() && *gib >= 0.0)
        .map_or(0, |gib| {
            #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
            let mib = (gib * 1024.0).round() as u64;
            mib
        });
    MemoryInventory {
        total_mib: if dimm_total > 0 && !(incomplete && summary_mib > 0) {
            dimm_total
        } else {
            summary_mib
        },
        dimms,
    }
}

fn disks(drives: &[Drive], simple_storage: &[SimpleStorage]) -> Vec<DiskInfo> {
    let mut disks: Vec<DiskInfo> = drives
        .iter()
        .filter(|d| Status::is_present(d.status.as_ref()))
        .map(|d| DiskInfo {
            id: d.id.clone(),
            name: d.name.clone(),
            capacity_bytes: d.capacity_bytes,
            media_type: d.media_type.clone(),
            protocol: d.protocol.clone(),
            model: trimmed(d.model.as_ref()),
            serial_number: trimmed(d.serial_number.as_ref()),
        })
        .collect();
    if disks.is_empty() {
        disks = simple_storage
            .iter()
            .flat_map(|s| s.devices.iter())
            .filter(|d| Status::is_present(d.status.as_ref()))
            .map(|d| DiskInfo {
                name: d.name.clone(),
                capacity_bytes: d.capacity_bytes,
                model: trimmed(d.model.as_ref()),
                ..DiskInfo::default()
            })
            .collect();
    }
    disks
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn from<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
        serde_json::from_value(v).unwrap()
    }

    fn system() -> ComputerSystem {
        from(json!({
            "@odata.id": "/redfish/v1/Systems/1", "Id": "1", "Manufacturer": " Contoso ",
            "PowerState": "On", "UUID": "abc",
            "Boot": {"BootSourceOverrideMode": "UEFI"},
            "ProcessorSummary": {"Count": 2, "CoreCount": 16, "LogicalProcessorCount": 32, "Model": "Summary CPU"},
            "MemorySummary": {"TotalSystemMemoryGiB": 64}
        }))
    }

    #[test]
    fn assembles_cpus_excluding_gpus_and_absent_sockets() {
        let parts = InventoryParts {
            processors: vec![
                from(
                    json!({"Id": "CPU1", "ProcessorType": "CPU", "Model": "Xeon  ", "TotalCores": 8, "TotalThreads": 16, "ProcessorArchitecture": "x86"}),
                ),
                from(json!({"Id": "CPU2", "Model": "Xeon", "TotalCores": 8, "TotalThreads": 16})),
                from(json!({"Id": "GPU1", "ProcessorType": "GPU"})),
                from(json!({"Id": "CPU3", "ProcessorType": "CPU", "Status": {"State": "Absent"}})),
            ],
            ..InventoryParts::default()
        };
        let inv = Inventory::assemble(&system(), parts);
        assert_eq!(inv.cpu.count, 2);
        assert_eq!(inv.cpu.model.as_deref(), Some("Xeon"));
        assert_eq!(inv.cpu.cores, Some(16));
        assert_eq!(inv.cpu.threads, Some(32));
        assert_eq!(inv.cpu.architecture.as_deref(), Some("x86"));
        assert_eq!(inv.system.manufacturer.as_deref(), Some("Contoso"));
        assert_eq!(inv.boot_mode, Some(BootMode::Uefi));
    }

    #[test]
    fn falls_back_to_summaries() {
        let inv = Inventory::assemble(&system(), InventoryParts::default());
        assert_eq!(inv.cpu.count, 2);
        assert_eq!(inv.cpu.cores, Some(16));
        assert_eq!(inv.cpu.model.as_deref(), Some("Summary CPU"));
        assert_eq!(inv.memory.total_mib, 64 * 1024);
        assert!(inv.secure_boot.is_none());
    }

    #[test]
    fn memory_counts_populated_dimms_only() {
        let parts = InventoryParts {
            memory: vec![
                from(json!({"Id": "A1", "CapacityMiB": 32768})),
                from(json!({"Id": "A2", "CapacityMiB": 0, "Status": {"State": "Absent"}})),
                from(json!({"Id": "A3", "CapacityMiB": 32768, "Status": {"State": "Enabled"}})),
            ],
            ..InventoryParts::default()
        };
        let inv = Inventory::assemble(&system(), parts);
        assert_eq!(inv.memory.dimms.len(), 2);
        assert_eq!(inv.memory.total_mib, 65536);
    }

    #[test]
    fn nics_without_mac_are_skipped_and_permanent_mac_is_used() {
        let parts = InventoryParts {
            nics: vec![
                from(
                    json!({"Id": "1", "MACAddress": "aa:bb:cc:dd:ee:ff", "SpeedMbps": 1000, "LinkStatus": "LinkUp"}),
                ),
                from(json!({"Id": "2", "MACAddress": ""})),
                from(json!({"Id": "3", "PermanentMACAddress": "11:22:33:44:55:66"})),
            ],
            ..InventoryParts::default()
        };
        let inv = Inventory::assemble(&system(), parts);
        let macs: Vec<&str> = inv.nics.iter().map(|n| n.mac_address.as_str()).collect();
        assert_eq!(macs, vec!["aa:bb:cc:dd:ee:ff", "11:22:33:44:55:66"]);
        assert_eq!(inv.nics[0].speed_mbps, Some(1000));
    }

    #[test]
    fn disks_from_drives_else_simple_storage() {
        let simple: SimpleStorage = from(json!({"Devices": [
            {"Name": "d0", "CapacityBytes": 10}, {"Name": "bay", "Status": {"State": "Absent"}}]}));
        let parts = InventoryParts {
            simple_storage: vec![simple.clone()],
            ..InventoryParts::default()
        };
        let inv = Inventory::assemble(&system(), parts);
        assert_eq!(inv.disks.len(), 1);
        assert_eq!(inv.disks[0].capacity_bytes, Some(10));

        let parts = InventoryParts {
            drives: vec![from(
                json!({"Id": "0", "CapacityBytes": null, "MediaType": "SSD", "SerialNumber": "S1"}),
            )],
            simple_storage: vec![simple],
            ..InventoryParts::default()
        };
        let inv = Inventory::assemble(&system(), parts);
        assert_eq!(inv.disks.len(), 1);
        assert_eq!(inv.disks[0].serial_number.as_deref(), Some("S1"));
        assert_eq!(inv.disks[0].capacity_bytes, None);
    }

    #[test]
    fn absurd_sizes_from_the_bmc_saturate_instead_of_overflowing() {
        let parts = InventoryParts {
            processors: vec![
                from(json!({"Id": "CPU1", "TotalCores": u64::MAX, "TotalThreads": 2})),
                from(json!({"Id": "CPU2", "TotalCores": 8, "TotalThreads": 2})),
            ],
            memory: vec![
                from(json!({"Id": "A1", "CapacityMiB": u64::MAX})),
                from(json!({"Id": "A2", "CapacityMiB": 1})),
            ],
            ..InventoryParts::default()
        };
        let inv = Inventory::assemble(&system(), parts);
        assert_eq!(inv.cpu.cores, Some(u64::MAX));
        assert_eq!(inv.cpu.threads, Some(4));
        assert_eq!(inv.memory.total_mib, u64::MAX);
    }

    #[test]
    fn volumes_are_listed_with_their_raid_type() {
        let parts = InventoryParts {
            volumes: vec![
                from(
                    json!({"Id": "V1", "Name": "os", "CapacityBytes": "480103981056",
                            "RAIDType": " RAID1 ", "VolumeType": "Mirrored"}),
                ),
                from(json!({"Id": "V2", "VolumeType": "NonRedundant"})),
            ],
            ..InventoryParts::default()
        };
        let inv = Inventory::assemble(&system(), parts);
        assert_eq!(inv.volumes.len(), 2);
        assert_eq!(inv.volumes[0].capacity_bytes, Some(480_103_981_056));
        assert_eq!(inv.volumes[0].raid_type.as_deref(), Some("RAID1"));
        assert_eq!(inv.volumes[1].raid_type, None);
        assert_eq!(inv.volumes[1].volume_type.as_deref(), Some("NonRedundant"));
    }

    #[test]
    fn inventory_round_trips_through_json() {
        let parts = InventoryParts {
            secure_boot: Some(from(
                json!({"SecureBootEnable": true, "SecureBootCurrentBoot": "Enabled"}),
            )),
            ..InventoryParts::default()
        };
        let inv = Inventory::assemble(&system(), parts);
        let back: Inventory = serde_json::from_value(serde_json::to_value(&inv).unwrap()).unwrap();
        assert_eq!(back, inv);
        assert_eq!(inv.secure_boot.unwrap().enabled, Some(true));
    }

    fn http(status: u16) -> Error {
        Error::Http {
            method: crate::HttpMethod::Get,
            url: "https://bmc/redfish/v1/Systems/1/Memory".into(),
            status,
            messages: Vec::new(),
        }
    }

    #[test]
    fn which_failures_are_warnings() {
        let reason =
            |err: Error| warning_for("/redfish/v1/Systems/1/Memory", err).map(|w| w.reason);
        assert_eq!(reason(http(404)).unwrap(), WarningReason::NotFound);
        assert_eq!(reason(http(501)).unwrap(), WarningReason::NotImplemented);
        assert_eq!(reason(http(403)).unwrap(), WarningReason::Refused);
        assert_eq!(reason(http(500)).unwrap(), WarningReason::Refused);
        let bad_json = serde_json::from_str::<serde_json::Value>("{").unwrap_err();
        let decode = Error::Decode {
            url: "u".into(),
            path: ".".into(),
            source: crate::error::DecodeDetail::new(&bad_json),
        };
        assert_eq!(reason(decode).unwrap(), WarningReason::Unparsable);
        // These stop the inventory: the login is refused, the client is closed, a link leads
        // to another origin.
        assert!(reason(http(401)).unwrap_err().is_unauthorized());
        assert!(matches!(reason(Error::Closed), Err(Error::Closed)));
        let off_origin = Error::OffOriginLink {
            link: "https://elsewhere/x".into(),
            origin: "https://bmc".into(),
        };
        assert!(matches!(
            reason(off_origin),
            Err(Error::OffOriginLink { .. })
        ));
        // The warning names the URL of the error, else the path read.
        let warning = warning_for("/p", http(404)).unwrap();
        assert_eq!(warning.url, "https://bmc/redfish/v1/Systems/1/Memory");
        assert_eq!(warning.status, Some(404));
        assert_eq!(
            warning_for(
                "/p",
                Error::InvalidPath {
                    path: "x".into(),
                    reason: "r"
                }
            )
            .unwrap()
            .url,
            "/p"
        );
    }

    #[test]
    fn incomplete_members_give_way_to_the_summaries() {
        let parts = InventoryParts {
            processors: vec![from(
                json!({"Id": "CPU1", "TotalCores": 8, "TotalThreads": 16}),
            )],
            processors_incomplete: true,
            memory: vec![from(json!({"Id": "A1", "CapacityMiB": 32768}))],
            memory_incomplete: true,
            ..InventoryParts::default()
        };
        let inv = Inventory::assemble(&system(), parts.clone());
        assert_eq!(inv.cpu.count, 2, "ProcessorSummary.Count");
        assert_eq!((inv.cpu.cores, inv.cpu.threads), (Some(16), Some(32)));
        assert_eq!(inv.cpu.processors.len(), 1, "what was read is still listed");
        assert_eq!(inv.memory.total_mib, 64 * 1024, "MemorySummary");
        assert_eq!(inv.memory.dimms.len(), 1);
        // Complete members win over the summaries.
        let complete = InventoryParts {
            processors_incomplete: false,
            memory_incomplete: false,
            ..parts
        };
        let inv = Inventory::assemble(&system(), complete);
        assert_eq!((inv.cpu.count, inv.cpu.cores), (1, Some(8)));
        assert_eq!(inv.memory.total_mib, 32768);
    }
}
