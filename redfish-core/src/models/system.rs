//! ComputerSystem and what hangs off it: Boot, summaries, the Reset action, SecureBoot.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Status, allowable, redfish_enum};
use crate::de;
use crate::odata::{Link, ODataId};

redfish_enum! {
    /// `PowerState` of a system, manager or chassis.
    PowerState {
        /// Powered on.
        On => "On",
        /// Powered off.
        Off => "Off",
        /// Powering on.
        PoweringOn => "PoweringOn",
        /// Powering off.
        PoweringOff => "PoweringOff",
        /// Paused.
        Paused => "Paused",
    }
}

redfish_enum! {
    /// `ResetType` of the `#ComputerSystem.Reset` action.
    ///
    /// `GracefulRestart` does not apply pending BIOS changes on some firmware while
    /// `ForceRestart` does (quirk `graceful_restart_keeps_bios_pending`); Dell answers 409 to a
    /// reset into the current state (quirk `redundant_power_conflict`).
    ResetType {
        /// Turn on.
        On => "On",
        /// Turn off immediately.
        ForceOff => "ForceOff",
        /// Shut down through the OS.
        GracefulShutdown => "GracefulShutdown",
        /// Restart through the OS.
        GracefulRestart => "GracefulRestart",
        /// Restart immediately.
        ForceRestart => "ForceRestart",
        /// Non-maskable interrupt.
        Nmi => "Nmi",
        /// Turn on immediately.
        ForceOn => "ForceOn",
        /// Press the power button.
        PushPowerButton => "PushPowerButton",
        /// Off, then on.
        PowerCycle => "PowerCycle",
        /// Full AC power cycle.
        FullPowerCycle => "FullPowerCycle",
        /// Suspend.
        Suspend => "Suspend",
        /// Pause.
        Pause => "Pause",
        /// Resume.
        Resume => "Resume",
    }
}

redfish_enum! {
    /// `BootSourceOverrideTarget`.
    BootSource {
        /// No override.
        None => "None",
        /// Network boot.
        Pxe => "Pxe",
        /// Floppy or virtual floppy.
        Floppy => "Floppy",
        /// CD/DVD (on Dell iDRAC8/9 before fw 6 the physical drive, quirk
        /// `idrac_cd_is_the_physical_drive`).
        Cd => "Cd",
        /// USB device.
        Usb => "Usb",
        /// Local hard disk.
        Hdd => "Hdd",
        /// BIOS setup.
        BiosSetup => "BiosSetup",
        /// Utilities partition.
        Utilities => "Utilities",
        /// Diagnostics partition.
        Diags => "Diags",
        /// UEFI shell.
        UefiShell => "UefiShell",
        /// The UEFI device path in `UefiTargetBootSourceOverride`.
        UefiTarget => "UefiTarget",
        /// SD card.
        SdCard => "SDCard",
        /// UEFI HTTP boot.
        UefiHttp => "UefiHttp",
        /// Remote drive.
        RemoteDrive => "RemoteDrive",
        /// The boot option in `BootNext`.
        UefiBootNext => "UefiBootNext",
        /// Recovery.
        Recovery => "Recovery",
        /// Supermicro's virtual CD (quirk `virtual_cd_is_usb_cd`).
        UsbCd => "UsbCd",
    }
}

redfish_enum! {
    /// `BootSourceOverrideEnabled`.
    BootOverrideEnabled {
        /// No override.
        Disabled => "Disabled",
        /// The next boot only.
        Once => "Once",
        /// Every boot until changed.
        Continuous => "Continuous",
    }
}

redfish_enum! {
    /// `BootSourceOverrideMode`.
    BootMode {
        /// Legacy BIOS.
        Legacy => "Legacy",
        /// UEFI.
        Uefi => "UEFI",
    }
}

/// A computer system, `/redfish/v1/Systems/{id}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ComputerSystem {
    /// `@odata.id`.
    #[serde(rename = "@odata.id")]
    pub odata_id: Option<ODataId>,
    /// `@odata.etag`, when the body carries one.
    #[serde(rename = "@odata.etag", deserialize_with = "de::opt_nonempty_string")]
    pub odata_etag: Option<String>,
    /// `Id`.
    #[serde(deserialize_with = "de::opt_string")]
    pub id: Option<String>,
    /// `Name`.
    #[serde(deserialize_with = "de::opt_string")]
    pub name: Option<String>,
    /// `SystemType`, for example `Physical`.
    #[serde(deserialize_with = "de::opt_string")]
    pub system_type: Option<String>,
    /// `Manufacturer`.
    #[serde(deserialize_with = "de::opt_string")]
    pub manufacturer: Option<String>,
    /// `Model`.
    #[serde(deserialize_with = "de::opt_string")]
    pub model: Option<String>,
    /// `SKU`.
    #[serde(rename = "SKU", deserialize_with = "de::opt_nonempty_string")]
    pub sku: Option<String>,
    /// `SerialNumber`.
    #[serde(deserialize_with = "de::opt_nonempty_string")]
    pub serial_number: Option<String>,
    /// `PartNumber`.
    #[serde(deserialize_with = "de::opt_nonempty_string")]
    pub part_number: Option<String>,
    /// `UUID` (`None` when empty, quirk `empty_values`).
    #[serde(rename = "UUID", deserialize_with = "de::opt_nonempty_string")]
    pub uuid: Option<String>,
    /// `HostName`.
    #[serde(deserialize_with = "de::opt_nonempty_string")]
    pub host_name: Option<String>,
    /// `BiosVersion`.
    #[serde(deserialize_with = "de::opt_string")]
    pub bios_version: Option<String>,
    /// `AssetTag`.
    #[serde(deserialize_with = "de::opt_nonempty_string")]
    pub asset_tag: Option<String>,
    /// `PowerState`.
    pub power_state: Option<PowerState>,
    /// `Boot`.
    pub boot: Option<Boot>,
    /// `ProcessorSummary`.
    pub processor_summary: Option<ProcessorSummary>,
    /// `MemorySummary`.
    pub memory_summary: Option<MemorySummary>,
    /// `Status`.
    pub status: Option<Status>,
    /// `Links`.
    pub links: Option<SystemLinks>,
    /// `Actions`.
    pub actions: Option<SystemActions>,
    /// The processors collection.
    pub processors: Option<Link>,
    /// The memory collection.
    pub memory: Option<Link>,
    /// The ethernet interfaces collection.
    pub ethernet_interfaces: Option<Link>,
    /// The storage collection.
    pub storage: Option<Link>,
    /// The simple storage collection.
    pub simple_storage: Option<Link>,
    /// The SecureBoot resource.
    pub secure_boot: Option<Link>,
    /// The Bios resource.
    pub bios: Option<Link>,
    /// The System-level virtual media collection.
    pub virtual_media: Option<Link>,
    /// `PCIeDevices` links (a list on the System, not a collection).
    #[serde(rename = "PCIeDevices", deserialize_with = "de::null_as_empty")]
    pub pcie_devices: Vec<Link>,
    /// `@Redfish.Settings`: where pending settings go on BMCs that keep them apart (quirk `boot_settings_object`).
    #[serde(rename = "@Redfish.Settings")]
    pub settings: Option<SettingsAnnotation>,
    /// The vendor `Oem` object.
    pub oem: Option<Map<String, Value>>,
    /// Every other property, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ComputerSystem {
    /// The `#ComputerSystem.Reset` action, when offered.
    pub fn reset_action(&self) -> Option<&ResetAction> {
        self.actions.as_ref().and_then(|a| a.reset.as_ref())
    }
}

/// `ComputerSystem.Boot`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Boot {
    /// The current override target.
    pub boot_source_override_target: Option<BootSource>,
    /// The targets the BMC allows.
    #[serde(
        rename = "BootSourceOverrideTarget@Redfish.AllowableValues",
        deserialize_with = "allowable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub boot_source_override_target_allowable_values: Vec<BootSource>,
    /// Whether the override is off, once or continuous.
    pub boot_source_override_enabled: Option<BootOverrideEnabled>,
    /// The enablement values the BMC allows.
    #[serde(
        rename = "BootSourceOverrideEnabled@Redfish.AllowableValues",
        deserialize_with = "allowable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub boot_source_override_enabled_allowable_values: Vec<BootOverrideEnabled>,
    /// UEFI or Legacy.
    pub boot_source_override_mode: Option<BootMode>,
    /// The modes the BMC allows.
    #[serde(
        rename = "BootSourceOverrideMode@Redfish.AllowableValues",
        deserialize_with = "allowable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub boot_source_override_mode_allowable_values: Vec<BootMode>,
    /// The UEFI device path used with `UefiTarget`.
    #[serde(deserialize_with = "de::opt_string")]
    pub uefi_target_boot_source_override: Option<String>,
    /// The boot order (`BootXXXX` references).
    #[serde(deserialize_with = "de::string_list")]
    pub boot_order: Vec<String>,
    /// The URI used with `UefiHttp`.
    #[serde(deserialize_with = "de::opt_nonempty_string")]
    pub http_boot_uri: Option<String>,
    /// Every other property, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `ProcessorSummary`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ProcessorSummary {
    /// Number of processors.
    #[serde(deserialize_with = "de::opt_u64")]
    pub count: Option<u64>,
    /// Total cores.
    #[serde(deserialize_with = "de::opt_u64")]
    pub core_count: Option<u64>,
    /// Total threads.
    #[serde(deserialize_with = "de::opt_u64")]
    pub logical_processor_count: Option<u64>,
    /// Processor model.
    #[serde(deserialize_with = "de::opt_string")]
    pub model: Option<String>,
    /// `Status`.
    pub status: Option<Status>,
    /// Every other property, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `MemorySummary`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct MemorySummary {
    /// Total memory in GiB.
    #[serde(rename = "TotalSystemMemoryGiB", deserialize_with = "de::opt_f64")]
    pub total_system_memory_gib: Option<f64>,
    /// `Status`.
    pub status: Option<Status>,
    /// Every other property, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `ComputerSystem.Links`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct SystemLinks {
    /// The chassis that contain the system.
    #[serde(deserialize_with = "de::null_as_empty")]
    pub chassis: Vec<Link>,
    /// The managers of the system (missing on some BMCs, quirk `empty_values`).
    #[serde(deserialize_with = "de::null_as_empty")]
    pub managed_by: Vec<Link>,
    /// Every other property, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `ComputerSystem.Actions`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SystemActions {
    /// `#ComputerSystem.Reset`.
    #[serde(rename = "#ComputerSystem.Reset")]
    pub reset: Option<ResetAction>,
    /// Every other action (including `Oem`), kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `#ComputerSystem.Reset` action.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResetAction {
    /// Where to POST.
    #[serde(deserialize_with = "de::opt_nonempty_string")]
    pub target: Option<String>,
    /// `ResetType@Redfish.AllowableValues` (empty when not advertised).
    #[serde(
        rename = "ResetType@Redfish.AllowableValues",
        deserialize_with = "allowable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub allowable_values: Vec<ResetType>,
    /// `@Redfish.ActionInfo`: where the allowed values are listed instead.
    #[serde(
        rename = "@Redfish.ActionInfo",
        deserialize_with = "de::opt_nonempty_string"
    )]
    pub action_info: Option<String>,
    /// Every other property, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `@Redfish.Settings`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct SettingsAnnotation {
    /// The resource to PATCH pending settings to.
    pub settings_object: Option<Link>,
    /// When pending settings can be applied.
    #[serde(deserialize_with = "de::string_list")]
    pub supported_apply_times: Vec<String>,
    /// Every other property, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The SecureBoot resource.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct SecureBoot {
    /// `@odata.id`.
    #[serde(rename = "@odata.id")]
    pub odata_id: Option<ODataId>,
    /// `Id`.
    #[serde(deserialize_with = "de::opt_string")]
    pub id: Option<String>,
    /// Whether secure boot is enabled for the next boot.
    #[serde(deserialize_with = "de::opt_bool")]
    pub secure_boot_enable: Option<bool>,
    /// `Enabled` or `Disabled` for the current boot.
    #[serde(deserialize_with = "de::opt_string")]
    pub secure_boot_current_boot: Option<String>,
    /// `SetupMode`, `UserMode`, `AuditMode`, `DeployedMode`.
    #[serde(deserialize_with = "de::opt_string")]
    pub secure_boot_mode: Option<String>,
    /// Every other property, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn display_is_the_redfish_string_and_other_stays_raw() {
        let shown = [
            PowerState::On.to_string(),
            PowerState::PoweringOff.to_string(),
            PowerState::Other("Standby".into()).to_string(),
            BootMode::Uefi.to_string(),
            BootMode::Legacy.to_string(),
            BootMode::Other("Hybrid".into()).to_string(),
            BootSource::SdCard.to_string(),
            BootOverrideEnabled::Once.to_string(),
            ResetType::ForceRestart.to_string(),
        ];
        assert_eq!(
            shown,
            [
                "On",
                "PoweringOff",
                "Standby",
                "UEFI",
                "Legacy",
                "Hybrid",
                "SDCard",
                "Once",
                "ForceRestart"
            ]
        );
        // The Redfish spelling, whatever case the BMC used, and not the Debug form (`Uefi`).
        let read: BootMode = serde_json::from_value(json!("uefi")).unwrap();
        assert_eq!(format!("{read}"), "UEFI");
        assert_ne!(format!("{read}"), format!("{read:?}"));
    }

    fn system_fixture() -> Value {
        json!({
            "@odata.id": "/redfish/v1/Systems/1",
            "@odata.etag": "W/\"12\"",
            "Id": "1",
            "Name": "System",
            "UUID": "",
            "PowerState": "On",
            "SerialNumber": null,
            "Boot": {
                "BootSourceOverrideTarget": "Pxe",
                "BootSourceOverrideTarget@Redfish.AllowableValues": ["None", "Pxe", "Cd", null],
                "BootSourceOverrideEnabled": "Once",
                "BootSourceOverrideMode": "UEFI",
                "BootOrder": ["Boot0001"],
                "BootNext": ""
            },
            "ProcessorSummary": {"Count": "2", "CoreCount": 36, "Model": "Xeon"},
            "MemorySummary": {"TotalSystemMemoryGiB": 512},
            "Actions": {"#ComputerSystem.Reset": {
                "target": "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset",
                "ResetType@Redfish.AllowableValues": ["On", "ForceOff", "Hibernate"]},
                "Oem": {}},
            "Links": {"Chassis": [{"@odata.id": "/redfish/v1/Chassis/1"}], "ManagedBy": null},
            "PCIeDevices": [{"@odata.id": "/redfish/v1/Systems/1/PCIeDevices/0"}],
            "@Redfish.Settings": {"SettingsObject": {"@odata.id": "/redfish/v1/Systems/1/Settings"}},
            "Oem": {"Vendor": {"X": 1}},
            "TrustedModules": []
        })
    }

    #[test]
    fn parses_a_tolerant_system() {
        let s: ComputerSystem = serde_json::from_value(system_fixture()).unwrap();
        assert_eq!(s.id.as_deref(), Some("1"));
        assert_eq!(s.uuid, None);
        assert_eq!(s.serial_number, None);
        assert_eq!(s.odata_etag.as_deref(), Some("W/\"12\""));
        assert_eq!(s.power_state, Some(PowerState::On));
        let boot = s.boot.as_ref().unwrap();
        assert_eq!(
            boot.boot_source_override_target_allowable_values,
            vec![BootSource::None, BootSource::Pxe, BootSource::Cd]
        );
        assert_eq!(boot.boot_source_override_mode, Some(BootMode::Uefi));
        assert_eq!(
            boot.boot_source_override_enabled,
            Some(BootOverrideEnabled::Once)
        );
        assert!(boot.extra.contains_key("BootNext"));
        assert_eq!(s.processor_summary.as_ref().unwrap().count, Some(2));
        assert_eq!(
            s.memory_summary.as_ref().unwrap().total_system_memory_gib,
            Some(512.0)
        );
        let reset = s.reset_action().unwrap();
        assert_eq!(
            reset.allowable_values,
            vec![
                ResetType::On,
                ResetType::ForceOff,
                ResetType::Other("Hibernate".into())
            ]
        );
        assert!(s.links.as_ref().unwrap().managed_by.is_empty());
        assert_eq!(s.pcie_devices.len(), 1);
        assert_eq!(
            s.settings
                .as_ref()
                .unwrap()
                .settings_object
                .as_ref()
                .unwrap()
                .path(),
            Some("/redfish/v1/Systems/1/Settings")
        );
        assert!(s.oem.as_ref().unwrap().contains_key("Vendor"));
        assert!(s.extra.contains_key("TrustedModules"));
    }

    #[test]
    fn system_round_trips_through_serde() {
        let s: ComputerSystem = serde_json::from_value(system_fixture()).unwrap();
        let again: ComputerSystem =
            serde_json::from_value(serde_json::to_value(&s).unwrap()).unwrap();
        assert_eq!(s, again);
    }

    #[test]
    fn wrong_shape_is_an_error_with_a_path() {
        let mut doc = system_fixture();
        doc["Boot"] = json!("Pxe");
        let err = serde_path_to_error::deserialize::<_, ComputerSystem>(doc).unwrap_err();
        assert_eq!(err.path().to_string(), "Boot");
    }

    #[test]
    fn enum_names_match_the_wire() {
        assert_eq!(BootSource::SdCard.as_str(), "SDCard");
        assert_eq!(BootMode::from("Uefi"), BootMode::Uefi);
        assert_eq!(ResetType::from("PowerCycle"), ResetType::PowerCycle);
    }
}
