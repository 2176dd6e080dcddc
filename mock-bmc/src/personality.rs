//! Vendor personalities as data: one [`Profile`] table per vendor, with a named field per quirk.
//!
//! The quirks come from field reports collected in the project's Redfish anchors (§2); each field
//! names the behaviour it reproduces and has a test in `tests/personalities.rs`.
//!
//! Over 600 lines because it is a table: seven personalities of some forty fields each, kept
//! side by side so a reader compares vendors in one place; the logic lives elsewhere.

use std::fmt;
use std::str::FromStr;

use crate::error::MockBmcError;

/// Which vendor a node imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Personality {
    /// Plain DMTF behaviour, shaped like the DMTF public rack-mount mockup.
    #[default]
    Generic,
    /// Dell iDRAC9.
    Dell,
    /// HPE iLO 5.
    Hpe,
    /// Lenovo `XClarity` Controller.
    Lenovo,
    /// Supermicro X12 BMC.
    Supermicro,
    /// An AMI `MegaRAC` host BMC, shaped like NVIDIA DGX H100 ("Viking"): `Self` ids,
    /// `If-Match` required on every PATCH, `$expand` answers that lose required properties.
    Ami,
    /// Fujitsu iRMC S5 (PRIMERGY): `Systems/0`, `Managers/iRMC`, `Oem.ts_fujitsu`, no `On`
    /// reset type (power on is `PushPowerButton`).
    Irmc,
}

impl Personality {
    /// Every personality, in a stable order.
    pub const ALL: [Personality; 7] = [
        Personality::Generic,
        Personality::Dell,
        Personality::Hpe,
        Personality::Lenovo,
        Personality::Supermicro,
        Personality::Ami,
        Personality::Irmc,
    ];

    /// The command-line name (`generic`, `dell`, `hpe`, `lenovo`, `supermicro`, `ami`, `irmc`).
    pub fn name(self) -> &'static str {
        self.profile().name
    }

    /// The data table for this personality.
    pub fn profile(self) -> &'static Profile {
        match self {
            Personality::Generic => &GENERIC,
            Personality::Dell => &DELL,
            Personality::Hpe => &HPE,
            Personality::Lenovo => &LENOVO,
            Personality::Supermicro => &SUPERMICRO,
            Personality::Ami => &AMI,
            Personality::Irmc => &IRMC,
        }
    }
}

impl fmt::Display for Personality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Personality {
    type Err = MockBmcError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Personality::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| MockBmcError::UnknownPersonality(s.to_owned()))
    }
}

/// Where the virtual-media collection lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum VmediaLocation {
    /// `/redfish/v1/Systems/{id}/VirtualMedia` (DMTF's current recommendation, sushy-tools).
    System,
    /// `/redfish/v1/Managers/{id}/VirtualMedia` (iLO, XCC, Supermicro).
    Manager,
    /// Both, each slot with its actions (iDRAC9 on 6.00 firmware: `Systems/System.Embedded.1/
    /// VirtualMedia/1` and `/2` beside `Managers/iDRAC.Embedded.1/VirtualMedia/CD` and
    /// `/RemovableDisk`, as in the Dell capture under `fixtures/vendor-captures/dell`).
    Both,
}

/// A virtual-media behaviour switched on per fleet ([`crate::MockBmcBuilder::vmedia_quirk`],
/// `--vmedia-quirk NAME`), on top of any personality: BMCs the five personalities do not
/// imitate whole (Nokia, NVIDIA DGX, the unnamed BMCs of OCPBUGS-12703), and iLO's
/// boot-on-next-reset slot flag. Each refusal is the one the BMC answers, with the
/// `@Message.ExtendedInfo` of sushy's captured samples (`transfer_proto_required_error.json`,
/// `transfer_method_required_error.json`, `credentials_required_error.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VmediaQuirk {
    /// `transfer_protocol_required` (Nokia): an `InsertMedia` without `TransferProtocolType`
    /// is refused with 400 `Base.1.5.ActionParameterMissing` naming it.
    TransferProtocolRequired,
    /// `transfer_method_required` (OCPBUGS-12703): an insert without `TransferMethod` is
    /// refused with 400 `Base.1.4.0.GeneralError` whose text says the property is missing.
    TransferMethodRequired,
    /// `credentials_required` (NVIDIA DGX B200): an insert without `UserName` and
    /// `Password` is refused with 400, one `ActionParameterMissing` per field, under a
    /// `GeneralError` code. Placeholder values are accepted for an anonymous image.
    CredentialsRequired,
    /// `hpe_boot_on_next_reset` (iLO): each slot carries `Oem.Hpe.BootOnNextServerReset`; a
    /// PATCH sets it on a slot holding media, and the next reset boots from that slot once
    /// (without touching the System's boot override) and clears the flag.
    HpeBootOnNextReset,
}

impl VmediaQuirk {
    /// Every switch.
    pub const ALL: [VmediaQuirk; 4] = [
        VmediaQuirk::TransferProtocolRequired,
        VmediaQuirk::TransferMethodRequired,
        VmediaQuirk::CredentialsRequired,
        VmediaQuirk::HpeBootOnNextReset,
    ];

    /// The quirk's name (`transfer_protocol_required`, ...), as in `docs/quirks.md`.
    pub fn name(self) -> &'static str {
        match self {
            VmediaQuirk::TransferProtocolRequired => "transfer_protocol_required",
            VmediaQuirk::TransferMethodRequired => "transfer_method_required",
            VmediaQuirk::CredentialsRequired => "credentials_required",
            VmediaQuirk::HpeBootOnNextReset => "hpe_boot_on_next_reset",
        }
    }
}

impl FromStr for VmediaQuirk {
    type Err = MockBmcError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VmediaQuirk::ALL
            .into_iter()
            .find(|q| q.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| MockBmcError::UnknownVmediaQuirk(s.to_owned()))
    }
}

/// A virtual-media slot: where it is, id, name, media types.
#[derive(Debug, Clone, Copy)]
pub struct SlotDef {
    /// Under the System or the Manager (never [`VmediaLocation::Both`]).
    pub at: VmediaLocation,
    /// The slot's `Id`.
    pub id: &'static str,
    /// The slot's `Name`.
    pub name: &'static str,
    /// `MediaTypes` of the slot.
    pub media_types: &'static [&'static str],
}

/// The error a personality answers with for a transient failure (status, `MessageId`, message).
#[derive(Debug, Clone, Copy)]
pub struct VendorError {
    /// HTTP status.
    pub status: u16,
    /// `MessageId` in the error body.
    pub message_id: &'static str,
    /// Human-readable message.
    pub message: &'static str,
    /// `Retry-After` seconds sent with it, where the firmware sends one (iDRAC's `SYS518`
    /// comes without).
    pub retry_after_secs: Option<u32>,
}

/// One personality's data. Each `bool`/`Option` field is a named quirk.
#[derive(Debug, Clone)]
#[allow(clippy::struct_excessive_bools)] // each bool is one named vendor quirk
#[non_exhaustive]
pub struct Profile {
    /// Command-line name.
    pub name: &'static str,
    /// `Manufacturer` of the System and Chassis.
    pub manufacturer: &'static str,
    /// `Vendor` of the service root: who made the BMC's Redfish service (AMI on an NVIDIA
    /// DGX, whose System says NVIDIA).
    pub service_vendor: &'static str,
    /// `Model` of the System.
    pub model: &'static str,
    /// `Model` of the Manager (BMC).
    pub manager_model: &'static str,
    /// BMC firmware version.
    pub firmware_version: &'static str,
    /// Key under `Oem` on System and Manager, if the vendor adds one.
    pub oem_key: Option<&'static str>,
    /// `Id` of the only System.
    pub system_id: &'static str,
    /// `Id` of the only Manager.
    pub manager_id: &'static str,
    /// `Id` of the only Chassis.
    pub chassis_id: &'static str,
    /// Where virtual media lives (quirk `vmedia_at_system_or_manager`: the System on the
    /// generic personality, both on Dell, the Manager elsewhere).
    pub vmedia_location: VmediaLocation,
    /// Virtual-media slots.
    pub vmedia_slots: &'static [SlotDef],
    /// Quirk `vmedia_patch_only`: no InsertMedia/EjectMedia actions, PATCH `Image`+`Inserted`
    /// instead (Lenovo XCC).
    pub vmedia_patch_only: bool,
    /// Quirk `insert_rejects_readonly_fields`: `InsertMedia` fails when the body carries `Inserted`
    /// or `WriteProtected` (Supermicro X11/X12).
    pub insert_rejects_readonly_fields: bool,
    /// Quirk `eject_requires_body`: `EjectMedia` without a JSON body is refused with 400 (iLO).
    pub eject_requires_body: bool,
    /// Maximum number of concurrent sessions (quirk: Dell 8, Lenovo 16).
    pub session_cap: usize,
    /// Boot target that boots virtual CD (quirk: Supermicro `UsbCd`).
    pub cd_boot_target: &'static str,
    /// Allowed `BootSourceOverrideTarget` values.
    pub boot_targets: &'static [&'static str],
    /// Allowed `BootSourceOverrideEnabled` values (quirk: XCC has no `Continuous`).
    pub boot_enabled_values: &'static [&'static str],
    /// Quirk `override_needs_enabled`: a Boot PATCH without `BootSourceOverrideEnabled` drops
    /// the override to `Disabled` (Supermicro).
    pub override_needs_enabled: bool,
    /// Quirk `override_mode_needs_resend`: a Boot PATCH that sets `BootSourceOverrideTarget`
    /// without `BootSourceOverrideMode` resets the mode to `Legacy` (Supermicro; anchors §2b
    /// row 20, second half: Ironic re-syncs the boot mode after setting the device).
    pub override_mode_needs_resend: bool,
    /// Allowed `ResetType` values of `ComputerSystem.Reset`.
    pub reset_types: &'static [&'static str],
    /// Last path segment of the BIOS settings object (`Settings`, HPE `settings`, Lenovo
    /// `Pending`, Supermicro `SD`).
    pub bios_settings_segment: &'static str,
    /// `@Redfish.SettingsApplyTime` values advertised; empty means the annotation is refused.
    pub settings_apply_times: &'static [&'static str],
    /// Quirk `rejects_settings_apply_time`: a settings PATCH carrying
    /// `@Redfish.SettingsApplyTime` fails with `Base.PropertyUnknown` (Lenovo `Bios/Pending`).
    pub rejects_settings_apply_time: bool,
    /// Quirk `bios_patch_creates_job`: a settings PATCH with `OnReset` creates a BIOS
    /// configuration job (a Task, `Location` in the answer); a second PATCH while it is
    /// scheduled is refused (Dell).
    pub bios_patch_creates_job: bool,
    /// Quirk `bios_apply_needs_job`: pending values staged without an apply time stay pending
    /// across resets; only a reset while a BIOS configuration job is scheduled applies them
    /// (iDRAC: the job is what applies the values, anchors §2c rows 34–36).
    pub bios_apply_needs_job: bool,
    /// Quirk `graceful_restart_applies_bios`: whether a `GracefulRestart` applies pending BIOS
    /// values. When false only a reset that goes through POST from power-off or `ForceRestart`
    /// / `PowerCycle` applies them.
    pub graceful_restart_applies_bios: bool,
    /// Quirk `pending_lists_all_attributes`: the settings object shows every writable attribute,
    /// not only the changed ones (HPE, Lenovo).
    pub pending_lists_all_attributes: bool,
    /// Quirk `settings_omit_empty_attributes`: the settings object has no `Attributes` key while
    /// nothing is pending (Supermicro `Bios/SD`).
    pub settings_omit_empty_attributes: bool,
    /// Quirk `busy_after_power_change_ms`: power actions are refused with the vendor's
    /// "invalid operation for system state" error for this long after a power change (iLO).
    pub busy_after_power_change_ms: Option<u64>,
    /// Quirk `redundant_power_conflict`: asking for the power state the node is already in
    /// answers 409 (iDRAC) instead of 204.
    pub redundant_power_conflict: bool,
    /// The error used for the transient-error fault and the busy window (Dell `SYS518`, HPE
    /// `InvalidOperationForSystemState`).
    pub transient_error: VendorError,
    /// The error for a session beyond the cap.
    pub session_limit_error: VendorError,
    /// Name of the BIOS attribute registry.
    pub bios_registry: &'static str,
    /// Quirk `patch_requires_if_match`: a PATCH without `If-Match` is refused with 428
    /// `PreconditionRequired`; `If-Match: *` or the current tag passes (AMI `MegaRAC`: DGX H100
    /// "Viking", Lenovo SR655; anchors §2d row 56).
    pub patch_requires_if_match: bool,
    /// Quirk `expand_drops_required_properties`: members inlined by `$expand` lose `Id`,
    /// `Name` and `ChassisType` (AMI host BMCs, anchors §2e row 63); a GET of the member
    /// itself is whole.
    pub expand_drops_required_properties: bool,
}

const CD_USB_SLOTS: &[SlotDef] = &[
    SlotDef {
        at: VmediaLocation::System,
        id: "CD",
        name: "Virtual CD",
        media_types: &["CD", "DVD"],
    },
    SlotDef {
        at: VmediaLocation::System,
        id: "USB",
        name: "Virtual Removable Media",
        media_types: &["USBStick"],
    },
];

const STANDARD_RESETS: &[&str] = &[
    "On",
    "ForceOff",
    "GracefulShutdown",
    "GracefulRestart",
    "ForceRestart",
    "Nmi",
    "ForceOn",
    "PushPowerButton",
    "PowerCycle",
    "FullPowerCycle",
];

const BASE_SERVICE_UNAVAILABLE: VendorError = VendorError {
    status: 503,
    message_id: "Base.1.18.ServiceTemporarilyUnavailable",
    message: "The service is temporarily unavailable.  Retry in 2 seconds.",
    retry_after_secs: Some(2),
};

const BASE_SESSION_LIMIT: VendorError = VendorError {
    status: 503,
    message_id: "Base.1.18.SessionLimitExceeded",
    message: "The session establishment failed due to the number of simultaneous sessions \
              exceeding the limit of the implementation.",
    retry_after_secs: Some(2),
};

static GENERIC: Profile = Profile {
    name: "generic",
    manufacturer: "Ferrofish",
    service_vendor: "Ferrofish",
    model: "Mock Rack Server 1U",
    manager_model: "Mock BMC",
    firmware_version: "1.0.0",
    oem_key: None,
    system_id: "1",
    manager_id: "BMC",
    chassis_id: "1U",
    vmedia_location: VmediaLocation::System,
    vmedia_slots: CD_USB_SLOTS,
    vmedia_patch_only: false,
    insert_rejects_readonly_fields: false,
    eject_requires_body: false,
    session_cap: 64,
    cd_boot_target: "Cd",
    boot_targets: &["None", "Pxe", "Cd", "Usb", "Hdd", "BiosSetup", "UefiHttp"],
    boot_enabled_values: &["Disabled", "Once", "Continuous"],
    override_needs_enabled: false,
    override_mode_needs_resend: false,
    reset_types: STANDARD_RESETS,
    bios_settings_segment: "Settings",
    settings_apply_times: &["OnReset"],
    rejects_settings_apply_time: false,
    bios_patch_creates_job: false,
    bios_apply_needs_job: false,
    graceful_restart_applies_bios: false,
    pending_lists_all_attributes: false,
    settings_omit_empty_attributes: false,
    busy_after_power_change_ms: None,
    redundant_power_conflict: false,
    transient_error: BASE_SERVICE_UNAVAILABLE,
    session_limit_error: BASE_SESSION_LIMIT,
    bios_registry: "BiosAttributeRegistry.v1_0_0",
    patch_requires_if_match: false,
    expand_drops_required_properties: false,
};

static DELL: Profile = Profile {
    name: "dell",
    manufacturer: "Dell Inc.",
    service_vendor: "Dell Inc.",
    model: "PowerEdge R750",
    manager_model: "16G Monolithic",
    firmware_version: "6.00.30.00",
    oem_key: Some("Dell"),
    system_id: "System.Embedded.1",
    manager_id: "iDRAC.Embedded.1",
    chassis_id: "System.Embedded.1",
    vmedia_location: VmediaLocation::Both,
    vmedia_slots: &[
        SlotDef {
            at: VmediaLocation::System,
            id: "1",
            name: "VirtualMedia Instance 1",
            media_types: &["CD", "DVD", "USBStick"],
        },
        SlotDef {
            at: VmediaLocation::System,
            id: "2",
            name: "VirtualMedia Instance 2",
            media_types: &["CD", "DVD", "USBStick"],
        },
        SlotDef {
            at: VmediaLocation::Manager,
            id: "CD",
            name: "Virtual CD",
            media_types: &["CD", "DVD"],
        },
        SlotDef {
            at: VmediaLocation::Manager,
            id: "RemovableDisk",
            name: "Virtual Removable Disk",
            media_types: &["USBStick"],
        },
    ],
    vmedia_patch_only: false,
    insert_rejects_readonly_fields: false,
    eject_requires_body: false,
    session_cap: 8,
    cd_boot_target: "Cd",
    boot_targets: &[
        "None",
        "Pxe",
        "Floppy",
        "Cd",
        "Hdd",
        "BiosSetup",
        "Utilities",
        "UefiHttp",
    ],
    boot_enabled_values: &["Disabled", "Once", "Continuous"],
    override_needs_enabled: false,
    override_mode_needs_resend: false,
    reset_types: &[
        "On",
        "ForceOff",
        "ForceRestart",
        "GracefulRestart",
        "GracefulShutdown",
        "PushPowerButton",
        "Nmi",
        "PowerCycle",
    ],
    bios_settings_segment: "Settings",
    settings_apply_times: &[
        "OnReset",
        "AtMaintenanceWindowStart",
        "InMaintenanceWindowOnReset",
    ],
    rejects_settings_apply_time: false,
    bios_patch_creates_job: true,
    bios_apply_needs_job: true,
    graceful_restart_applies_bios: true,
    pending_lists_all_attributes: false,
    settings_omit_empty_attributes: false,
    busy_after_power_change_ms: None,
    redundant_power_conflict: true,
    transient_error: VendorError {
        status: 503,
        message_id: "IDRAC.2.8.SYS518",
        message: "Unable to complete the request because the iDRAC data sources are unavailable.",
        retry_after_secs: None,
    },
    // 503, as iDRACs answer (gofish#75, check_redfish#89).
    session_limit_error: VendorError {
        status: 503,
        message_id: "IDRAC.2.8.RAC0218",
        message: "The maximum number of user sessions is reached.",
        retry_after_secs: None,
    },
    bios_registry: "BiosAttributeRegistry.v1_0_0",
    patch_requires_if_match: false,
    expand_drops_required_properties: false,
};

static HPE: Profile = Profile {
    name: "hpe",
    manufacturer: "HPE",
    service_vendor: "HPE",
    model: "ProLiant DL385 Gen10 Plus v2",
    manager_model: "iLO 5",
    firmware_version: "iLO 5 v2.72",
    oem_key: Some("Hpe"),
    system_id: "1",
    manager_id: "1",
    chassis_id: "1",
    vmedia_location: VmediaLocation::Manager,
    vmedia_slots: &[
        SlotDef {
            at: VmediaLocation::Manager,
            id: "1",
            name: "VirtualMedia",
            media_types: &["Floppy", "USBStick"],
        },
        SlotDef {
            at: VmediaLocation::Manager,
            id: "2",
            name: "VirtualMedia",
            media_types: &["CD", "DVD"],
        },
    ],
    vmedia_patch_only: false,
    insert_rejects_readonly_fields: false,
    eject_requires_body: true,
    session_cap: 32,
    cd_boot_target: "Cd",
    boot_targets: &[
        "None",
        "Cd",
        "Hdd",
        "Usb",
        "Utilities",
        "Diags",
        "BiosSetup",
        "Pxe",
        "UefiHttp",
    ],
    boot_enabled_values: &["Disabled", "Once", "Continuous"],
    override_needs_enabled: false,
    override_mode_needs_resend: false,
    reset_types: &[
        "On",
        "ForceOff",
        "GracefulShutdown",
        "ForceRestart",
        "Nmi",
        "PushPowerButton",
        "GracefulRestart",
    ],
    bios_settings_segment: "settings",
    settings_apply_times: &["OnReset"],
    rejects_settings_apply_time: false,
    bios_patch_creates_job: false,
    bios_apply_needs_job: false,
    graceful_restart_applies_bios: true,
    pending_lists_all_attributes: true,
    settings_omit_empty_attributes: false,
    busy_after_power_change_ms: Some(1_000),
    redundant_power_conflict: false,
    transient_error: VendorError {
        status: 400,
        message_id: "iLO.2.15.InvalidOperationForSystemState",
        message: "The operation is not allowed in the current system state.",
        retry_after_secs: None,
    },
    session_limit_error: BASE_SESSION_LIMIT,
    bios_registry: "BiosAttributeRegistryU46.v1_0_0",
    patch_requires_if_match: false,
    expand_drops_required_properties: false,
};

static LENOVO: Profile = Profile {
    name: "lenovo",
    manufacturer: "Lenovo",
    service_vendor: "Lenovo",
    model: "ThinkSystem SR650 V2",
    manager_model: "XClarity Controller",
    firmware_version: "TEI3-5.10",
    oem_key: Some("Lenovo"),
    system_id: "1",
    manager_id: "1",
    chassis_id: "1",
    vmedia_location: VmediaLocation::Manager,
    vmedia_slots: &[
        SlotDef {
            at: VmediaLocation::Manager,
            id: "EXT1",
            name: "EXT1",
            media_types: &["CD", "DVD"],
        },
        SlotDef {
            at: VmediaLocation::Manager,
            id: "EXT2",
            name: "EXT2",
            media_types: &["USBStick"],
        },
    ],
    vmedia_patch_only: true,
    insert_rejects_readonly_fields: false,
    eject_requires_body: false,
    session_cap: 16,
    cd_boot_target: "Cd",
    boot_targets: &[
        "None",
        "Pxe",
        "Cd",
        "Usb",
        "Hdd",
        "BiosSetup",
        "Diags",
        "UefiTarget",
    ],
    boot_enabled_values: &["Disabled", "Once"],
    override_needs_enabled: false,
    override_mode_needs_resend: false,
    reset_types: &[
        "On",
        "Nmi",
        "GracefulShutdown",
        "GracefulRestart",
        "ForceOn",
        "ForceOff",
        "ForceRestart",
    ],
    bios_settings_segment: "Pending",
    // Advertised and refused, as quirk `settings_apply_time_refused` describes: a client
    // that believes the advertisement sends it and is refused.
    settings_apply_times: &["OnReset"],
    rejects_settings_apply_time: true,
    bios_patch_creates_job: false,
    bios_apply_needs_job: false,
    graceful_restart_applies_bios: false,
    pending_lists_all_attributes: true,
    settings_omit_empty_attributes: false,
    busy_after_power_change_ms: None,
    redundant_power_conflict: false,
    transient_error: BASE_SERVICE_UNAVAILABLE,
    session_limit_error: BASE_SESSION_LIMIT,
    bios_registry: "BiosAttributeRegistry.v1_0_0",
    patch_requires_if_match: false,
    expand_drops_required_properties: false,
};

static SUPERMICRO: Profile = Profile {
    name: "supermicro",
    manufacturer: "Supermicro",
    service_vendor: "Supermicro",
    model: "SYS-1029P-WTR",
    manager_model: "X12 BMC",
    firmware_version: "01.01.06",
    oem_key: Some("Supermicro"),
    system_id: "1",
    manager_id: "1",
    chassis_id: "1",
    vmedia_location: VmediaLocation::Manager,
    vmedia_slots: &[
        SlotDef {
            at: VmediaLocation::Manager,
            id: "CD1",
            name: "Virtual Media CD1",
            media_types: &["CD", "DVD"],
        },
        SlotDef {
            at: VmediaLocation::Manager,
            id: "USB1",
            name: "Virtual Media USB1",
            media_types: &["USBStick"],
        },
    ],
    vmedia_patch_only: false,
    insert_rejects_readonly_fields: true,
    eject_requires_body: false,
    session_cap: 32,
    cd_boot_target: "UsbCd",
    boot_targets: &[
        "None",
        "Pxe",
        "Hdd",
        "Diags",
        "BiosSetup",
        "UsbCd",
        "UsbHdd",
        "UefiHttp",
    ],
    boot_enabled_values: &["Disabled", "Once", "Continuous"],
    override_needs_enabled: true,
    override_mode_needs_resend: true,
    reset_types: &[
        "On",
        "ForceOff",
        "GracefulShutdown",
        "GracefulRestart",
        "ForceRestart",
        "Nmi",
        "ForceOn",
    ],
    bios_settings_segment: "SD",
    settings_apply_times: &["OnReset"],
    rejects_settings_apply_time: false,
    bios_patch_creates_job: false,
    bios_apply_needs_job: false,
    graceful_restart_applies_bios: false,
    pending_lists_all_attributes: false,
    settings_omit_empty_attributes: true,
    busy_after_power_change_ms: None,
    redundant_power_conflict: false,
    transient_error: BASE_SERVICE_UNAVAILABLE,
    session_limit_error: BASE_SESSION_LIMIT,
    bios_registry: "BiosAttributeRegistry.v1_0_0",
    patch_requires_if_match: false,
    expand_drops_required_properties: false,
};

/// NVIDIA DGX H100 ("Viking"): an AMI `MegaRAC` host BMC. The root's `Vendor` is AMI, the
/// System's manufacturer NVIDIA; ids are `Self`; the BIOS settings object is `Bios/SD` and
/// takes `If-Match: *` only (quirk `bios_settings_if_match_star`, on by default here). The
/// insert's `credentials_required` is DGX B200's, not reported for H100: it stays a switch
/// (`--vmedia-quirk credentials_required`) to turn on with this personality.
static AMI: Profile = Profile {
    name: "ami",
    manufacturer: "NVIDIA",
    service_vendor: "AMI",
    model: "DGXH100",
    manager_model: "AMI Redfish Server",
    firmware_version: "24.09.17",
    oem_key: Some("Ami"),
    system_id: "Self",
    manager_id: "Self",
    chassis_id: "Self",
    vmedia_location: VmediaLocation::Manager,
    vmedia_slots: &[
        SlotDef {
            at: VmediaLocation::Manager,
            id: "CD1",
            name: "Virtual Media CD1",
            media_types: &["CD", "DVD"],
        },
        SlotDef {
            at: VmediaLocation::Manager,
            id: "USBStick1",
            name: "Virtual Media USBStick1",
            media_types: &["USBStick"],
        },
    ],
    vmedia_patch_only: false,
    insert_rejects_readonly_fields: false,
    eject_requires_body: false,
    session_cap: 64,
    cd_boot_target: "Cd",
    boot_targets: &[
        "None",
        "Pxe",
        "Cd",
        "Usb",
        "Hdd",
        "BiosSetup",
        "UefiShell",
        "UefiHttp",
    ],
    boot_enabled_values: &["Disabled", "Once", "Continuous"],
    // Quirk `override_mode_needs_resend` (AMI / ASRockRack want every boot field in every
    // request, anchors §2b row 23): a PATCH missing Enabled or Mode loses them, as on
    // Supermicro.
    override_needs_enabled: true,
    override_mode_needs_resend: true,
    reset_types: &[
        "On",
        "ForceOff",
        "GracefulShutdown",
        "GracefulRestart",
        "ForceRestart",
        "PowerCycle",
        "Nmi",
    ],
    bios_settings_segment: "SD",
    settings_apply_times: &["OnReset"],
    rejects_settings_apply_time: false,
    bios_patch_creates_job: false,
    bios_apply_needs_job: false,
    graceful_restart_applies_bios: true,
    pending_lists_all_attributes: false,
    settings_omit_empty_attributes: false,
    busy_after_power_change_ms: None,
    redundant_power_conflict: false,
    transient_error: BASE_SERVICE_UNAVAILABLE,
    session_limit_error: BASE_SESSION_LIMIT,
    bios_registry: "BiosAttributeRegistry.v1_0_0",
    patch_requires_if_match: true,
    expand_drops_required_properties: true,
};

/// Fujitsu PRIMERGY RX2540 M5 with iRMC S5. Ids `0` / `iRMC` / `0` and `Oem.ts_fujitsu` as on
/// every iRMC; the standard reset offers no `On` (a TX1320 M3 capture lists `ForceOff`,
/// `ForceRestart`, `Nmi`, `PushPowerButton`; iRMC's own `FTSComputerSystem.Reset` OEM action
/// is where `PowerOn` lives), so a power-on is a button press (quirk
/// `irmc_power_on_is_a_button_press`).
static IRMC: Profile = Profile {
    name: "irmc",
    manufacturer: "FUJITSU",
    service_vendor: "Fujitsu",
    model: "PRIMERGY RX2540 M5",
    manager_model: "iRMC S5",
    firmware_version: "3.05P",
    oem_key: Some("ts_fujitsu"),
    system_id: "0",
    manager_id: "iRMC",
    chassis_id: "0",
    vmedia_location: VmediaLocation::Manager,
    vmedia_slots: &[
        SlotDef {
            at: VmediaLocation::Manager,
            id: "0",
            name: "Virtual CD/DVD",
            media_types: &["CD", "DVD"],
        },
        SlotDef {
            at: VmediaLocation::Manager,
            id: "1",
            name: "Virtual Removable Media",
            media_types: &["USBStick"],
        },
    ],
    vmedia_patch_only: false,
    insert_rejects_readonly_fields: false,
    eject_requires_body: false,
    session_cap: 64,
    cd_boot_target: "Cd",
    boot_targets: &["None", "Pxe", "Floppy", "Cd", "Hdd", "BiosSetup"],
    boot_enabled_values: &["Disabled", "Once", "Continuous"],
    override_needs_enabled: false,
    override_mode_needs_resend: false,
    reset_types: &["ForceOff", "ForceRestart", "Nmi", "PushPowerButton"],
    bios_settings_segment: "Settings",
    settings_apply_times: &["OnReset"],
    rejects_settings_apply_time: false,
    bios_patch_creates_job: false,
    bios_apply_needs_job: false,
    graceful_restart_applies_bios: true,
    pending_lists_all_attributes: false,
    settings_omit_empty_attributes: false,
    busy_after_power_change_ms: None,
    redundant_power_conflict: false,
    transient_error: BASE_SERVICE_UNAVAILABLE,
    session_limit_error: BASE_SESSION_LIMIT,
    bios_registry: "BiosAttributeRegistry.v1_0_0",
    patch_requires_if_match: false,
    expand_drops_required_properties: false,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Personality::ALL {
            assert_eq!(p.name().parse::<Personality>().ok(), Some(p));
        }
        assert!("ibm".parse::<Personality>().is_err());
    }

    #[test]
    fn cd_target_is_allowed_everywhere() {
        for p in Personality::ALL {
            let prof = p.profile();
            assert!(prof.boot_targets.contains(&prof.cd_boot_target), "{p}");
            assert!(
                prof.vmedia_slots
                    .iter()
                    .any(|s| s.media_types.contains(&"CD")),
                "{p}"
            );
        }
    }

    #[test]
    fn slots_sit_where_the_personality_serves_virtual_media() {
        for p in Personality::ALL {
            let prof = p.profile();
            for slot in prof.vmedia_slots {
                assert_ne!(slot.at, VmediaLocation::Both, "{p}: {}", slot.id);
                if prof.vmedia_location != VmediaLocation::Both {
                    assert_eq!(slot.at, prof.vmedia_location, "{p}: {}", slot.id);
                }
            }
        }
        let dell = Personality::Dell.profile();
        assert!(
            [VmediaLocation::System, VmediaLocation::Manager]
                .iter()
                .all(|at| dell.vmedia_slots.iter().any(|s| s.at == *at))
        );
    }
}
