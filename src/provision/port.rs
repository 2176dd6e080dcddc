//! What the state machine needs from a BMC, as a trait: the driver is written against it, the
//! Redfish implementation is [`super::RedfishPort`], and any other endpoint (the facade's
//! `Bmc`, a test double) implements the same. Each method is one request to the BMC as far as
//! the caller is concerned (an implementation may need a few reads to find the resource);
//! the ones that change something are marked "mutating".

use std::fmt;
use std::future::Future;

use serde::{Deserialize, Serialize};

use super::state::BootModeChoice;
use super::steps::BiosSetting;
use crate::redfish::Inventory;

/// Power as the BMC reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Power {
    /// On.
    On,
    /// Off.
    Off,
    /// Turning on.
    PoweringOn,
    /// Turning off.
    PoweringOff,
    /// Not reported.
    Unknown,
}

impl Power {
    /// `on`, `off`, ... as the node document records it.
    pub fn as_str(self) -> &'static str {
        match self {
            Power::On => "on",
            Power::Off => "off",
            Power::PoweringOn => "powering_on",
            Power::PoweringOff => "powering_off",
            Power::Unknown => "unknown",
        }
    }
}

/// A boot device for the override.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BootDevice {
    /// The virtual (or physical) CD.
    Cd,
    /// The local disk.
    Disk,
    /// The network.
    Pxe,
}

/// One read of the System: power, the boot override and `BootProgress`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemReading {
    /// Power state (`None`: not reported).
    pub power: Option<Power>,
    /// `BootSourceOverrideTarget` as the BMC names it (`Cd`, `UsbCd`, `Hdd`, `None`).
    pub override_target: Option<String>,
    /// `BootSourceOverrideEnabled` (`Once`, `Continuous`, `Disabled`).
    pub override_enabled: Option<String>,
    /// `BootProgress.LastState`, when reported.
    pub boot_progress: Option<String>,
    /// The vendor (service root `Vendor`, else the System's `Manufacturer`).
    pub vendor: Option<String>,
}

impl SystemReading {
    /// A one-time override to the CD is still waiting for a boot.
    pub fn cd_override_pending(&self) -> bool {
        self.override_enabled.as_deref() == Some("Once")
            && matches!(self.override_target.as_deref(), Some("Cd" | "UsbCd"))
    }

    /// `BootProgress` says an OS is starting or running.
    pub fn os_started(&self) -> bool {
        matches!(
            self.boot_progress.as_deref(),
            Some("OSBootStarted" | "OSRunning")
        )
    }
}

/// What a BIOS profile would change, found without sending anything.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BiosPlan {
    /// Everything wrong with the profile (read-only, not allowed, out of bounds, unknown);
    /// empty when it may be staged. Nothing is sent while this is not empty.
    pub problems: Vec<String>,
    /// Attributes to send.
    pub changes: Vec<String>,
    /// Attributes whose requested value is already pending (staged, awaiting a reboot).
    pub already_pending: Vec<String>,
}

/// What a BIOS read says about staged settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BiosStatus {
    /// Settings not applied yet (current value differs, or, where the pending area lists only
    /// changes, still pending), by name.
    pub not_applied: Vec<String>,
    /// Settings of `not_applied` the BMC refused when applying them, as `name: message`
    /// (its verdict in the Bios resource's `@Redfish.Settings.Messages`).
    #[serde(default)]
    pub rejected: Vec<String>,
}

/// The virtual-media slots, as far as the deploy cares.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaStatus {
    /// Slots holding media, by path, with the image (redacted).
    pub occupied: Vec<(String, String)>,
}

/// A virtual-media slot kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaSlot {
    /// A CD/DVD slot (the boot image).
    Cd,
    /// A removable (USB stick, floppy) slot (the config drive).
    Removable,
}

/// Why a BMC call failed, in the terms the state machine decides on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PortErrorKind {
    /// The BMC did not answer (connection refused or reset, timeout).
    Unreachable,
    /// The credentials were refused.
    Unauthorized,
    /// The BMC refused the request (4xx with its message).
    Rejected,
    /// The BMC cannot do this (no BIOS resource, no virtual media, IPMI only).
    Unsupported,
    /// The BMC accepted a write but did not apply it.
    NotApplied,
    /// Anything else (5xx, malformed answers).
    Failed,
}

/// A failed BMC call: its kind and a message (secrets already scrubbed by the clients).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortError {
    /// What kind of failure.
    pub kind: PortErrorKind,
    /// What happened, with the URL and the BMC's message.
    pub message: String,
}

impl PortError {
    /// A failure of `kind`.
    pub fn new(kind: PortErrorKind, message: impl Into<String>) -> PortError {
        PortError {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for PortError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PortError {}

/// The BMC operations the provisioning steps use. Reads may be repeated freely; each
/// mutating method is the one write `advance` allows itself per call.
pub trait BmcPort: Send + Sync {
    /// Where the BMC is, for messages (no credentials).
    fn address(&self) -> String;

    /// Reads the System: power, boot override, `BootProgress`, vendor.
    fn read_system(&self) -> impl Future<Output = Result<SystemReading, PortError>> + Send;

    /// Mutating: powers on (`On`).
    fn power_on(&self) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Mutating: powers off at once (`ForceOff`).
    fn power_off(&self) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Mutating: restarts at once (`ForceRestart`). The steps reboot as off + on instead, so
    /// a crash never reboots twice; this is for callers outside the state machine.
    fn reset(&self) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Mutating: sets the boot override to `device`, once or persistently, keeping or setting
    /// the boot mode. Returns `true` when the BMC stored a one-time override as continuous
    /// (it must be cleared after the boot).
    fn set_boot_override(
        &self,
        device: BootDevice,
        persistent: bool,
        mode: Option<BootModeChoice>,
    ) -> impl Future<Output = Result<bool, PortError>> + Send;

    /// Mutating: clears the boot override.
    fn clear_boot_override(&self) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Reads the inventory (processors, memory, disks, NICs, boot mode).
    fn inventory(&self) -> impl Future<Output = Result<Inventory, PortError>> + Send;

    /// Reads the BIOS and its registry and says what `settings` would change; sends nothing.
    fn bios_plan(
        &self,
        settings: &[BiosSetting],
    ) -> impl Future<Output = Result<BiosPlan, PortError>> + Send;

    /// Mutating: stages `settings` with one PATCH of the settings object (apply at the next
    /// reset). Returns `false` when there was nothing to send.
    fn bios_stage(
        &self,
        settings: &[BiosSetting],
    ) -> impl Future<Output = Result<bool, PortError>> + Send;

    /// Reads the BIOS and says which of `settings` are not applied yet.
    fn bios_status(
        &self,
        settings: &[BiosSetting],
    ) -> impl Future<Output = Result<BiosStatus, PortError>> + Send;

    /// Mutating: posts `#Bios.ResetBios` (defaults applied at the next reset).
    fn bios_factory_reset(&self) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Reads the virtual-media slots.
    fn media_status(&self) -> impl Future<Output = Result<MediaStatus, PortError>> + Send;

    /// Mutating: ejects every occupied CD and removable slot.
    fn eject_all(&self) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Mutating: inserts `image` (a URL the BMC can reach) into a slot of `slot` kind and
    /// reads it back.
    fn insert(
        &self,
        image: &str,
        slot: MediaSlot,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}
