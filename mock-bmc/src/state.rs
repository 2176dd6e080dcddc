//! Per-node state and its pure transitions. Nothing here does I/O or reads the clock: `now` is
//! passed in, so the power state machine, boot-override consumption and BIOS apply rules are
//! unit-tested directly.
//!
//! Over 600 lines: about 700 are the state machine; the rest are its unit tests, which drive
//! private transitions with explicit times and so live beside it.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use crate::iso9660::ConfigDriveNetwork;
use crate::personality::Profile;

/// Transition delays of the power state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowerDelays {
    /// Off → On (POST until the OS boots).
    pub on: Duration,
    /// On → Off with `ForceOff` (and the off half of `ForceRestart` / `PowerCycle`).
    pub force_off: Duration,
    /// On → Off with `GracefulShutdown` (and the off half of `GracefulRestart`). Slower than `ForceOff`.
    pub graceful_shutdown: Duration,
}

impl Default for PowerDelays {
    /// Short delays, so tests stay fast while still observing the intermediate states.
    fn default() -> Self {
        PowerDelays {
            on: Duration::from_millis(150),
            force_off: Duration::from_millis(50),
            graceful_shutdown: Duration::from_millis(300),
        }
    }
}

impl PowerDelays {
    /// All delays multiplied by `factor` (the "slow power transition" fault).
    #[must_use]
    pub fn scaled(self, factor: u32) -> Self {
        PowerDelays {
            on: self.on * factor,
            force_off: self.force_off * factor,
            graceful_shutdown: self.graceful_shutdown * factor,
        }
    }
}

/// `PowerState` as Redfish reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PowerState {
    /// Running.
    On,
    /// Off.
    Off,
    /// In POST.
    PoweringOn,
    /// Shutting down.
    PoweringOff,
}

impl PowerState {
    /// The Redfish string.
    pub fn as_str(self) -> &'static str {
        match self {
            PowerState::On => "On",
            PowerState::Off => "Off",
            PowerState::PoweringOn => "PoweringOn",
            PowerState::PoweringOff => "PoweringOff",
        }
    }
}

/// Standard `ResetType` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetType {
    /// Turn on.
    On,
    /// Turn on immediately.
    ForceOn,
    /// Turn off immediately.
    ForceOff,
    /// Orderly shutdown.
    GracefulShutdown,
    /// Orderly shutdown and restart.
    GracefulRestart,
    /// Immediate restart.
    ForceRestart,
    /// Off then on.
    PowerCycle,
    /// Off then on as if the utility lines were removed and restored (an AC cycle); applies
    /// BIOS changes like `PowerCycle`.
    FullPowerCycle,
    /// Non-maskable interrupt.
    Nmi,
    /// Simulated power button press.
    PushPowerButton,
}

impl ResetType {
    /// Parses the Redfish string.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "On" => ResetType::On,
            "ForceOn" => ResetType::ForceOn,
            "ForceOff" => ResetType::ForceOff,
            "GracefulShutdown" => ResetType::GracefulShutdown,
            "GracefulRestart" => ResetType::GracefulRestart,
            "ForceRestart" => ResetType::ForceRestart,
            "PowerCycle" => ResetType::PowerCycle,
            "FullPowerCycle" => ResetType::FullPowerCycle,
            "Nmi" => ResetType::Nmi,
            "PushPowerButton" => ResetType::PushPowerButton,
            _ => return None,
        })
    }
}

/// Why a reset was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetRefusal {
    /// The node already is in the requested state (Dell answers 409, others 204).
    AlreadyInState,
    /// The action needs a running host (Nmi, `GracefulRestart`, `GracefulShutdown` on an off node).
    NotPoweredOn,
    /// A transition is in progress and only `ForceOff` may interrupt it.
    InTransition,
}

/// `BootSourceOverrideEnabled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum OverrideEnabled {
    /// No override.
    Disabled,
    /// Next boot only; reverts to `Disabled` once the node has booted.
    Once,
    /// Every boot.
    Continuous,
}

impl OverrideEnabled {
    /// The Redfish string.
    pub fn as_str(self) -> &'static str {
        match self {
            OverrideEnabled::Disabled => "Disabled",
            OverrideEnabled::Once => "Once",
            OverrideEnabled::Continuous => "Continuous",
        }
    }

    /// Parses the Redfish string.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Disabled" => Some(OverrideEnabled::Disabled),
            "Once" => Some(OverrideEnabled::Once),
            "Continuous" => Some(OverrideEnabled::Continuous),
            _ => None,
        }
    }
}

/// The boot override.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BootOverride {
    /// `BootSourceOverrideTarget`.
    pub target: String,
    /// `BootSourceOverrideEnabled`.
    pub enabled: OverrideEnabled,
    /// `BootSourceOverrideMode` (`UEFI` or `Legacy`).
    pub mode: String,
}

/// A virtual-media slot's state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[allow(clippy::struct_excessive_bools)] // independent facts of one slot, not a state machine
pub struct MediaSlot {
    /// Image URL, when inserted.
    pub image: Option<String>,
    /// `Inserted`.
    pub inserted: bool,
    /// `WriteProtected`.
    pub write_protected: bool,
    /// Bytes downloaded at insert time.
    pub image_size: u64,
    /// Volume label of the ISO.
    pub volume_label: Option<String>,
    /// Static network found on the image when it is a config drive.
    pub config_drive: Option<ConfigDriveNetwork>,
    /// Whether the image is bootable (El Torito), i.e. carries an operating system.
    pub bootable: bool,
    /// iLO's `Oem.Hpe.BootOnNextServerReset` (quirk `hpe_boot_on_next_reset`): the next
    /// reset boots from this slot, once.
    pub boot_on_next_reset: bool,
}

/// What the node booted last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BootRecord {
    /// Boot counter value (1 for the first boot of this mock).
    pub boot_number: u32,
    /// Boot source used (`Hdd` without an override, else the override target).
    pub source: String,
    /// Image booted, when the source was virtual media.
    pub image: Option<String>,
    /// Static address the node took from a config drive, if any.
    pub static_network: Option<ConfigDriveNetwork>,
    /// Whether pending BIOS values were applied during this boot.
    pub applied_bios: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Transition {
    /// When the current phase ends.
    due: Instant,
    /// After reaching Off, power on again (restart kinds).
    then_on: bool,
    /// Whether the boot at the end applies pending BIOS values.
    applies_bios: bool,
}

/// What the firmware found to start at the end of POST (for `BootProgress.LastState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BootOutcome {
    /// An operating system: the disk (the mock's disks carry one), or bootable virtual media.
    OperatingSystem,
    /// Firmware setup (`BiosSetup`).
    Setup,
    /// Nothing bootable: network boot with no server, an empty or unbootable virtual CD
    /// (a config drive), a target the mock does not emulate.
    Nothing,
}

/// `BootProgress.LastState` at `now`: pure, from the power state, the POST under way and the
/// last boot. The on-delay `D` is the POST: `MemoryInitializationStarted` its first half,
/// `SystemHardwareInitializationComplete` the second; then with an operating system
/// `OSBootStarted` for another `D` and `OSRunning` after, `SetupEntered` in firmware setup, and
/// `SystemHardwareInitializationComplete` when nothing booted. Off, and while shutting down,
/// `None`.
fn boot_progress_at(
    power: PowerState,
    post_ends: Option<Instant>,
    last_boot: Option<(Instant, BootOutcome)>,
    now: Instant,
    on_delay: Duration,
) -> &'static str {
    match power {
        PowerState::Off | PowerState::PoweringOff => "None",
        PowerState::PoweringOn => match post_ends {
            Some(due) if due.saturating_duration_since(now) > on_delay / 2 => {
                "MemoryInitializationStarted"
            }
            _ => "SystemHardwareInitializationComplete",
        },
        PowerState::On => match last_boot {
            Some((at, BootOutcome::OperatingSystem)) if now < at + on_delay => "OSBootStarted",
            Some((_, BootOutcome::OperatingSystem)) => "OSRunning",
            Some((_, BootOutcome::Setup)) => "SetupEntered",
            Some((_, BootOutcome::Nothing)) | None => "SystemHardwareInitializationComplete",
        },
    }
}

/// Lifecycle of a task (a BIOS job on Dell, a virtual-media insert on Supermicro).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TaskState {
    /// Waiting for a reset.
    Pending,
    /// Done.
    Completed,
    /// Cancelled by a DELETE on its task monitor.
    Cancelled,
    /// In progress (an image being downloaded and checked).
    Running,
    /// Failed; the task's message says why.
    Exception,
}

/// `Name` of the task a Dell BIOS PATCH with an apply time creates (the iDRAC job).
pub const BIOS_JOB_NAME: &str = "BIOS configuration job";

/// A task in the `TaskService`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Task {
    /// Numeric id (Dell shows it as `JID_<id>`).
    pub id: u32,
    /// What the task does.
    pub name: &'static str,
    /// Current state.
    pub state: TaskState,
    /// Wall-clock start, seconds since the Unix epoch (for `StartTime`).
    pub start_unix: u64,
    /// Why it failed (`Exception`), shown in the task's `Messages`.
    pub message: Option<String>,
}

/// One session.
#[derive(Clone)]
pub struct Session {
    /// Numeric id.
    pub id: u32,
    /// The token (never logged: the request log redacts it).
    pub token: String,
    /// User name.
    pub user: String,
    /// Last use, for the idle timeout.
    pub last_used: Instant,
}

#[allow(clippy::missing_fields_in_debug)] // the token is left out on purpose
impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("user", &self.user)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// The whole mutable state of a node. Small on purpose: inventory is generated on demand and
/// BIOS values are stored only where they differ from the registry defaults.
#[derive(Debug)]
pub struct NodeState {
    power: PowerState,
    transition: Option<Transition>,
    /// Last time the power state changed (for HPE's busy window).
    pub last_power_change: Option<Instant>,
    /// The boot override.
    pub boot: BootOverride,
    /// BIOS values that differ from the registry defaults: (attribute index, value).
    pub bios_current: Vec<(u16, Value)>,
    /// Pending BIOS values: (attribute index, value).
    pub bios_pending: Vec<(u16, Value)>,
    /// `ResetBios` was called; defaults are restored at the next applying reset.
    pub bios_reset_pending: bool,
    /// When pending BIOS values were last applied, and how many applies so far (for the
    /// `@Redfish.Settings` `Time`, `ETag` and `Messages` of the BIOS resource).
    pub bios_last_applied: Option<(Instant, u32)>,
    /// The BIOS's verdict on the last apply, as `@Redfish.Settings.Messages` shows it
    /// (`Success`, or one message per attribute refused at apply time).
    pub bios_messages: Vec<Value>,
    /// The node's BIOS quirk switches.
    pub bios_options: crate::bios_options::BiosOptions,
    /// The node's power, boot and Manager identity switches.
    pub system_options: crate::system_options::SystemOptions,
    /// Virtual-media slots, in the personality's slot order.
    pub media: Vec<MediaSlot>,
    /// Last boot.
    pub booted: Option<BootRecord>,
    /// Number of boots so far.
    pub boot_count: u32,
    /// Active sessions.
    pub sessions: Vec<Session>,
    /// Tasks.
    pub tasks: Vec<Task>,
    /// Next id for sessions and tasks.
    pub next_id: u32,
    /// `SessionTimeout` in seconds.
    pub session_timeout_secs: u64,
    /// `IndicatorLED`/`LocationIndicatorActive`.
    pub locator_on: bool,
    /// `AssetTag`.
    pub asset_tag: String,
    /// When the last boot ended POST and what it found (for `BootProgress`).
    last_boot: Option<(Instant, BootOutcome)>,
    /// The node's further Systems ([`crate::MockBmcBuilder::systems_per_node`]): each has its
    /// own power, boot override and boot record; sessions, tasks, media and BIOS jobs are the
    /// BMC's and live here, on the first.
    other_systems: Vec<NodeState>,
    /// Dell OEM switches (LC readiness, purged jobs).
    pub(crate) dell: crate::areas::dell::DellState,
}

impl NodeState {
    /// A node that is off, with no override, factory BIOS and empty slots.
    pub fn new(profile: &Profile) -> Self {
        NodeState {
            power: PowerState::Off,
            transition: None,
            last_power_change: None,
            boot: BootOverride {
                target: "None".into(),
                enabled: OverrideEnabled::Disabled,
                mode: "UEFI".into(),
            },
            bios_current: Vec::new(),
            bios_pending: Vec::new(),
            bios_reset_pending: false,
            bios_last_applied: None,
            bios_messages: Vec::new(),
            bios_options: crate::bios_options::BiosOptions::default(),
            system_options: crate::system_options::SystemOptions::default(),
            media: vec![MediaSlot::default(); profile.vmedia_slots.len()],
            booted: None,
            boot_count: 0,
            sessions: Vec::new(),
            tasks: Vec::new(),
            next_id: 1,
            session_timeout_secs: 600,
            locator_on: false,
            asset_tag: String::new(),
            last_boot: None,
            other_systems: Vec::new(),
            dell: crate::areas::dell::DellState::default(),
        }
    }

    /// This state with `count` Systems in all (the first being this one).
    #[must_use]
    pub fn with_systems(mut self, count: usize, profile: &Profile) -> Self {
        self.other_systems = (1..count).map(|_| NodeState::new(profile)).collect();
        self
    }

    /// Number of Systems (at least 1).
    pub fn system_count(&self) -> usize {
        1 + self.other_systems.len()
    }

    /// System `i` (0-based; 0 is this state itself).
    pub fn system_mut(&mut self, i: usize) -> Option<&mut NodeState> {
        match i {
            0 => Some(self),
            _ => self.other_systems.get_mut(i - 1),
        }
    }

    /// `BootProgress.LastState` after applying every transition due at `now` (see
    /// `boot_progress_at` for the phases).
    pub fn boot_progress(
        &mut self,
        now: Instant,
        profile: &Profile,
        delays: PowerDelays,
    ) -> &'static str {
        self.tick(now, profile, delays);
        let post_ends = self
            .transition
            .filter(|_| self.power == PowerState::PoweringOn)
            .map(|t| t.due);
        boot_progress_at(self.power, post_ends, self.last_boot, now, delays.on)
    }

    /// The power state after applying every transition due at `now`.
    pub fn power(&mut self, now: Instant, profile: &Profile, delays: PowerDelays) -> PowerState {
        self.tick(now, profile, delays);
        self.power
    }

    /// Advances the power state machine to `now`: completes due phases, and runs the boot
    /// (override consumption, BIOS apply, media boot) when a node reaches On.
    pub fn tick(&mut self, now: Instant, profile: &Profile, delays: PowerDelays) {
        while let Some(t) = self.transition {
            if t.due > now {
                return;
            }
            match self.power {
                PowerState::PoweringOff => {
                    self.power = PowerState::Off;
                    self.last_power_change = Some(t.due);
                    self.transition = t.then_on.then_some(Transition {
                        due: t.due + delays.on,
                        then_on: false,
                        applies_bios: t.applies_bios,
                    });
                    if t.then_on {
                        self.power = PowerState::PoweringOn;
                    }
                }
                PowerState::PoweringOn => {
                    self.power = PowerState::On;
                    self.last_power_change = Some(t.due);
                    self.transition = None;
                    self.boot_now(t.applies_bios, profile, t.due);
                }
                PowerState::On | PowerState::Off => self.transition = None,
            }
        }
    }

    /// Starts a reset. The caller has already ticked to `now`.
    pub fn reset(
        &mut self,
        kind: ResetType,
        now: Instant,
        profile: &Profile,
        delays: PowerDelays,
    ) -> Result<(), ResetRefusal> {
        self.tick(now, profile, delays);
        let in_transition = self.transition.is_some();
        let on = self.power == PowerState::On;
        let off_phase = |delay: Duration, then_on: bool, applies_bios: bool| Transition {
            due: now + delay,
            then_on,
            applies_bios,
        };
        match kind {
            ResetType::ForceOff => {
                if self.power == PowerState::Off {
                    return Err(ResetRefusal::AlreadyInState);
                }
                self.power = PowerState::PoweringOff;
                self.transition = Some(off_phase(delays.force_off, false, false));
            }
            _ if in_transition => return Err(ResetRefusal::InTransition),
            ResetType::On | ResetType::ForceOn => {
                if on {
                    return Err(ResetRefusal::AlreadyInState);
                }
                self.power = PowerState::PoweringOn;
                self.transition = Some(off_phase(delays.on, false, true));
            }
            ResetType::GracefulShutdown => {
                if !on {
                    return Err(ResetRefusal::AlreadyInState);
                }
                self.power = PowerState::PoweringOff;
                self.transition = Some(off_phase(delays.graceful_shutdown, false, false));
            }
            ResetType::PushPowerButton => {
                if on {
                    self.power = PowerState::PoweringOff;
                    self.transition = Some(off_phase(delays.graceful_shutdown, false, false));
                } else {
                    self.power = PowerState::PoweringOn;
                    self.transition = Some(off_phase(delays.on, false, true));
                }
            }
            ResetType::GracefulRestart => {
                if !on {
                    return Err(ResetRefusal::NotPoweredOn);
                }
                self.power = PowerState::PoweringOff;
                self.transition = Some(off_phase(
                    delays.graceful_shutdown,
                    true,
                    profile.graceful_restart_applies_bios,
                ));
            }
            ResetType::ForceRestart | ResetType::PowerCycle | ResetType::FullPowerCycle => {
                if on {
                    self.power = PowerState::PoweringOff;
                    self.transition = Some(off_phase(delays.force_off, true, true));
                } else if kind != ResetType::ForceRestart {
                    self.power = PowerState::PoweringOn;
                    self.transition = Some(off_phase(delays.on, false, true));
                } else {
                    return Err(ResetRefusal::NotPoweredOn);
                }
            }
            ResetType::Nmi => {
                if !on {
                    return Err(ResetRefusal::NotPoweredOn);
                }
            }
        }
        self.last_power_change = Some(now);
        Ok(())
    }

    /// Forces the power state (IPMI chassis control and tests), without transition delay.
    pub fn set_power_immediately(&mut self, on: bool, now: Instant, profile: &Profile) {
        self.transition = None;
        let was_on = self.power == PowerState::On;
        self.power = if on { PowerState::On } else { PowerState::Off };
        self.last_power_change = Some(now);
        if on && !was_on {
            self.boot_now(true, profile, now);
        }
    }

    fn boot_now(&mut self, applies_bios: bool, profile: &Profile, at: Instant) {
        self.boot_count += 1;
        // Quirk `hpe_boot_on_next_reset`: a flagged slot wins over the System's override,
        // which stays as it was; the flag is spent by this boot.
        let flagged = self
            .media
            .iter()
            .position(|m| m.boot_on_next_reset && m.inserted);
        for m in &mut self.media {
            m.boot_on_next_reset = false;
        }
        let source = match (flagged, &self.boot.enabled) {
            (Some(_), _) => profile.cd_boot_target.to_owned(),
            (None, OverrideEnabled::Disabled) => "Hdd".to_owned(),
            (None, OverrideEnabled::Once | OverrideEnabled::Continuous) => self.boot.target.clone(),
        };
        if flagged.is_none() && self.boot.enabled == OverrideEnabled::Once {
            self.boot.enabled = OverrideEnabled::Disabled;
        }
        // iDRAC applies staged values only through a scheduled job.
        let values_apply = !profile.bios_apply_needs_job || self.bios_job_scheduled();
        // Quirk `bios_never_applies`: the reset goes by and nothing changes.
        let never = self.bios_options.never_applies;
        let did_apply_bios = applies_bios
            && !never
            && (self.bios_reset_pending || values_apply && !self.bios_pending.is_empty());
        if applies_bios && never {
            self.complete_bios_jobs();
        } else if applies_bios {
            self.apply_bios(values_apply);
        }
        if did_apply_bios {
            let count = self.bios_last_applied.map_or(0, |(_, n)| n) + 1;
            self.bios_last_applied = Some((at, count));
        }
        let cd_boot = source == profile.cd_boot_target || source == "Cd";
        // Quirk `idrac_cd_is_the_physical_drive`: on an iDRAC8, or an iDRAC9 before 6.00, the
        // standard `Cd` target boots the server's own optical drive, never the virtual CD.
        let physical_drive = profile.oem_key == Some("Dell")
            && idrac_cd_is_the_physical_drive(
                self.system_options
                    .manager_model
                    .as_deref()
                    .unwrap_or(profile.manager_model),
                self.system_options
                    .manager_firmware
                    .as_deref()
                    .unwrap_or(profile.firmware_version),
            );
        let cd_boot = cd_boot && !physical_drive;
        let slot = match flagged {
            Some(i) => self.media.get(i).cloned(),
            None => cd_boot
                .then(|| {
                    profile
                        .vmedia_slots
                        .iter()
                        .zip(&self.media)
                        .find(|(def, m)| def.media_types.contains(&"CD") && m.inserted)
                        .map(|(_, m)| m.clone())
                })
                .flatten(),
        };
        let outcome = match source.as_str() {
            _ if cd_boot => match &slot {
                Some(m) if m.bootable => BootOutcome::OperatingSystem,
                _ => BootOutcome::Nothing,
            },
            "Hdd" | "None" => BootOutcome::OperatingSystem,
            "BiosSetup" => BootOutcome::Setup,
            _ => BootOutcome::Nothing,
        };
        self.last_boot = Some((at, outcome));
        self.booted = Some(BootRecord {
            boot_number: self.boot_count,
            source,
            image: slot.as_ref().and_then(|m| m.image.clone()),
            static_network: slot.and_then(|m| m.config_drive),
            applied_bios: did_apply_bios,
        });
    }

    fn apply_bios(&mut self, values_apply: bool) {
        if self.bios_reset_pending {
            self.bios_current.clear();
            self.bios_reset_pending = false;
            self.bios_messages = vec![crate::messages::success()];
        }
        if !values_apply {
            return;
        }
        let mut refused = Vec::new();
        let staged = !self.bios_pending.is_empty();
        for (idx, value) in std::mem::take(&mut self.bios_pending) {
            let name = crate::bios::ATTRIBUTES
                .get(usize::from(idx))
                .map_or("", |a| a.name);
            // Quirk `bios_rejected_at_apply`: accepted on PATCH, refused at POST.
            if self
                .bios_options
                .rejected_at_apply
                .iter()
                .any(|r| r == name)
            {
                let wire = crate::bios_options::wire_name(&self.bios_options, usize::from(idx));
                refused.push(crate::messages::refused_at_apply(&wire, &value));
                continue;
            }
            let default = crate::bios::default_value(usize::from(idx));
            self.bios_current.retain(|(i, _)| *i != idx);
            if value != default {
                self.bios_current.push((idx, value));
            }
        }
        if staged {
            self.bios_messages = if refused.is_empty() {
                vec![crate::messages::success()]
            } else {
                refused
            };
        }
        self.complete_bios_jobs();
    }

    /// Ends the jobs waiting for a reset (the BIOS ran them, whatever it made of them).
    fn complete_bios_jobs(&mut self) {
        for t in &mut self.tasks {
            if t.state == TaskState::Pending {
                t.state = TaskState::Completed;
            }
        }
    }

    /// Whether a BIOS configuration job waits for a reset.
    pub fn bios_job_scheduled(&self) -> bool {
        self.tasks
            .iter()
            .any(|t| t.state == TaskState::Pending && t.name == BIOS_JOB_NAME)
    }

    /// Whether a reset that applies BIOS values is under way (a scheduled job is then running).
    pub fn bios_apply_in_progress(&self) -> bool {
        self.transition.is_some_and(|t| t.applies_bios)
    }

    /// Current value of BIOS attribute `idx`.
    pub fn bios_value(&self, idx: usize) -> Value {
        self.bios_current
            .iter()
            .find(|(i, _)| usize::from(*i) == idx)
            .map_or_else(|| crate::bios::default_value(idx), |(_, v)| v.clone())
    }

    /// Pending value of attribute `idx`, if any.
    pub fn bios_pending_value(&self, idx: usize) -> Option<Value> {
        self.bios_pending
            .iter()
            .find(|(i, _)| usize::from(*i) == idx)
            .map(|(_, v)| v.clone())
    }

    /// Stages BIOS values (merging with already pending ones).
    pub fn stage_bios(&mut self, values: Vec<(usize, Value)>) {
        for (idx, value) in values {
            let idx = idx as u16;
            self.bios_pending.retain(|(i, _)| *i != idx);
            self.bios_pending.push((idx, value));
        }
    }

    /// A fresh id for a session or task.
    pub fn take_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Drops sessions idle for longer than the timeout.
    pub fn expire_sessions(&mut self, now: Instant) {
        let timeout = Duration::from_secs(self.session_timeout_secs);
        self.sessions
            .retain(|s| now.duration_since(s.last_used) < timeout);
    }
}

/// Whether this iDRAC boots its physical optical drive for the standard `Cd` target (quirk
/// `idrac_cd_is_the_physical_drive`): an iDRAC8 (`12G`/`13G` models) or an iDRAC9 before
/// 6.00; iDRAC10 (`17G`, or a major below 3: its versions restarted) is not. Pure.
fn idrac_cd_is_the_physical_drive(model: &str, firmware: &str) -> bool {
    let major = firmware
        .split('.')
        .next()
        .and_then(|m| m.trim().parse::<u32>().ok());
    let idrac8 = model.starts_with("12G") || model.starts_with("13G");
    let idrac10 = model.contains("17G") || (!idrac8 && major.is_some_and(|m| m < 3));
    !idrac10 && (idrac8 || major.is_some_and(|m| m < 6))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_old_idrac_boots_its_physical_drive_for_cd() {
        assert!(idrac_cd_is_the_physical_drive(
            "14G Monolithic",
            "5.10.50.00"
        ));
        assert!(idrac_cd_is_the_physical_drive(
            "13G Monolithic",
            "2.86.86.86"
        ));
        assert!(!idrac_cd_is_the_physical_drive(
            "16G Monolithic",
            "6.00.30.00"
        ));
        assert!(!idrac_cd_is_the_physical_drive(
            "17G Monolithic",
            "1.20.25.00"
        ));
        assert!(!idrac_cd_is_the_physical_drive("16G Monolithic", "garbage"));
    }
    use crate::personality::Personality;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    const D: PowerDelays = PowerDelays {
        on: Duration::from_millis(100),
        force_off: Duration::from_millis(10),
        graceful_shutdown: Duration::from_millis(50),
    };

    fn booted_node(p: Personality, t0: Instant) -> NodeState {
        let prof = p.profile();
        let mut s = NodeState::new(prof);
        s.reset(ResetType::On, t0, prof, D).unwrap();
        assert_eq!(s.power(t0 + ms(99), prof, D), PowerState::PoweringOn);
        assert_eq!(s.power(t0 + ms(100), prof, D), PowerState::On);
        s
    }

    #[test]
    fn graceful_shutdown_is_slower_than_force_off() {
        let prof = Personality::Generic.profile();
        let t0 = Instant::now();
        let mut a = booted_node(Personality::Generic, t0);
        let mut b = booted_node(Personality::Generic, t0);
        let t1 = t0 + ms(200);
        a.reset(ResetType::ForceOff, t1, prof, D).unwrap();
        b.reset(ResetType::GracefulShutdown, t1, prof, D).unwrap();
        assert_eq!(a.power(t1 + ms(10), prof, D), PowerState::Off);
        assert_eq!(b.power(t1 + ms(10), prof, D), PowerState::PoweringOff);
        assert_eq!(b.power(t1 + ms(50), prof, D), PowerState::Off);
    }

    #[test]
    fn refusals() {
        let prof = Personality::Generic.profile();
        let t0 = Instant::now();
        let mut s = NodeState::new(prof);
        assert_eq!(
            s.reset(ResetType::ForceOff, t0, prof, D),
            Err(ResetRefusal::AlreadyInState)
        );
        assert_eq!(
            s.reset(ResetType::Nmi, t0, prof, D),
            Err(ResetRefusal::NotPoweredOn)
        );
        assert_eq!(
            s.reset(ResetType::GracefulRestart, t0, prof, D),
            Err(ResetRefusal::NotPoweredOn)
        );
        s.reset(ResetType::On, t0, prof, D).unwrap();
        assert_eq!(
            s.reset(ResetType::GracefulShutdown, t0, prof, D),
            Err(ResetRefusal::InTransition)
        );
        // ForceOff interrupts a transition.
        s.reset(ResetType::ForceOff, t0 + ms(5), prof, D).unwrap();
        assert_eq!(s.power(t0 + ms(15), prof, D), PowerState::Off);
        assert_eq!(s.boot_count, 0, "interrupted power-on never booted");
    }

    #[test]
    fn once_override_is_consumed_by_boot_continuous_is_not() {
        let prof = Personality::Generic.profile();
        let t0 = Instant::now();
        let mut s = NodeState::new(prof);
        s.boot = BootOverride {
            target: "Pxe".into(),
            enabled: OverrideEnabled::Once,
            mode: "UEFI".into(),
        };
        s.reset(ResetType::On, t0, prof, D).unwrap();
        assert_eq!(
            s.boot.enabled,
            OverrideEnabled::Once,
            "not consumed before the boot"
        );
        s.tick(t0 + ms(100), prof, D);
        assert_eq!(s.boot.enabled, OverrideEnabled::Disabled);
        assert_eq!(s.booted.as_ref().map(|b| b.source.as_str()), Some("Pxe"));
        s.boot.enabled = OverrideEnabled::Continuous;
        s.reset(ResetType::ForceRestart, t0 + ms(200), prof, D)
            .unwrap();
        s.tick(t0 + ms(400), prof, D);
        assert_eq!(s.boot_count, 2);
        assert_eq!(s.boot.enabled, OverrideEnabled::Continuous);
        s.boot.enabled = OverrideEnabled::Disabled;
        s.reset(ResetType::ForceRestart, t0 + ms(500), prof, D)
            .unwrap();
        s.tick(t0 + ms(700), prof, D);
        assert_eq!(s.booted.as_ref().map(|b| b.source.as_str()), Some("Hdd"));
    }

    fn bios_job() -> Task {
        Task {
            id: 99,
            name: BIOS_JOB_NAME,
            state: TaskState::Pending,
            start_unix: 0,
            message: None,
        }
    }

    #[test]
    fn dell_applies_staged_values_only_through_a_job() {
        let t0 = Instant::now();
        let prof = Personality::Dell.profile();
        let mut s = booted_node(Personality::Dell, t0);
        let idx = crate::bios::index_of("BootMode").unwrap();
        s.stage_bios(vec![(idx, Value::from("Bios"))]);
        s.reset(ResetType::ForceRestart, t0 + ms(200), prof, D)
            .unwrap();
        s.tick(t0 + ms(400), prof, D);
        assert_eq!(s.power(t0 + ms(400), prof, D), PowerState::On);
        assert_eq!(s.bios_pending_value(idx), Some(Value::from("Bios")));
        assert_eq!(s.booted.as_ref().map(|b| b.applied_bios), Some(false));
        s.tasks.push(bios_job());
        s.reset(ResetType::ForceRestart, t0 + ms(500), prof, D)
            .unwrap();
        assert!(s.bios_apply_in_progress());
        s.tick(t0 + ms(700), prof, D);
        assert_eq!(s.bios_value(idx), Value::from("Bios"));
        assert_eq!(s.tasks[0].state, TaskState::Completed);
        assert_eq!(s.booted.as_ref().map(|b| b.applied_bios), Some(true));
    }

    #[test]
    fn graceful_restart_applies_bios_only_where_the_personality_says() {
        let t0 = Instant::now();
        for (p, applies) in [
            (Personality::Generic, false),
            (Personality::Dell, true),
            (Personality::Hpe, true),
            (Personality::Lenovo, false),
        ] {
            let prof = p.profile();
            let mut s = booted_node(p, t0);
            s.stage_bios(vec![(
                crate::bios::index_of("BootMode").unwrap(),
                Value::from("Bios"),
            )]);
            if prof.bios_apply_needs_job {
                s.tasks.push(bios_job());
            }
            s.reset(ResetType::GracefulRestart, t0 + ms(200), prof, D)
                .unwrap();
            assert_eq!(
                s.power(t0 + ms(260), prof, D),
                PowerState::PoweringOn,
                "{p}"
            );
            s.tick(t0 + ms(400), prof, D);
            assert_eq!(s.power(t0 + ms(400), prof, D), PowerState::On);
            assert_eq!(s.bios_pending.is_empty(), applies, "{p}");
            // ForceRestart always applies.
            s.reset(ResetType::ForceRestart, t0 + ms(500), prof, D)
                .unwrap();
            s.tick(t0 + ms(700), prof, D);
            assert!(s.bios_pending.is_empty(), "{p}");
            assert_eq!(
                s.bios_value(crate::bios::index_of("BootMode").unwrap()),
                Value::from("Bios")
            );
        }
    }

    #[test]
    fn reset_bios_restores_defaults_at_next_boot() {
        let prof = Personality::Generic.profile();
        let t0 = Instant::now();
        let mut s = booted_node(Personality::Generic, t0);
        let idx = crate::bios::index_of("NumLock").unwrap();
        s.bios_current.push((idx as u16, Value::from("Off")));
        s.bios_reset_pending = true;
        assert_eq!(s.bios_value(idx), Value::from("Off"));
        s.reset(ResetType::PowerCycle, t0 + ms(200), prof, D)
            .unwrap();
        s.tick(t0 + ms(400), prof, D);
        assert_eq!(s.bios_value(idx), Value::from("On"));
        assert!(!s.bios_reset_pending);
    }

    #[test]
    fn cd_boot_records_image_and_config_drive_address() {
        let p = Personality::Supermicro;
        let prof = p.profile();
        let t0 = Instant::now();
        let mut s = NodeState::new(prof);
        s.media[0] = MediaSlot {
            image: Some("http://127.0.0.1/cd.iso".into()),
            inserted: true,
            config_drive: Some(ConfigDriveNetwork {
                address: "192.0.2.9".parse().unwrap(),
                netmask: None,
                gateway: None,
            }),
            ..MediaSlot::default()
        };
        s.boot = BootOverride {
            target: "UsbCd".into(),
            enabled: OverrideEnabled::Once,
            mode: "UEFI".into(),
        };
        s.reset(ResetType::On, t0, prof, D).unwrap();
        s.tick(t0 + ms(100), prof, D);
        let b = s.booted.clone().unwrap();
        assert_eq!(b.image.as_deref(), Some("http://127.0.0.1/cd.iso"));
        assert_eq!(
            b.static_network.map(|n| n.address.to_string()).as_deref(),
            Some("192.0.2.9")
        );
    }

    #[test]
    fn boot_progress_follows_post_and_the_os_boot() {
        let prof = Personality::Generic.profile();
        let t0 = Instant::now();
        let mut s = NodeState::new(prof);
        let at = |s: &mut NodeState, t: u64| s.boot_progress(t0 + ms(t), prof, D);
        assert_eq!(at(&mut s, 0), "None");
        s.reset(ResetType::On, t0, prof, D).unwrap();
        assert_eq!(at(&mut s, 10), "MemoryInitializationStarted");
        assert_eq!(at(&mut s, 60), "SystemHardwareInitializationComplete");
        // POST ends at 100 ms and the disk boots: the OS takes another on-delay.
        assert_eq!(at(&mut s, 100), "OSBootStarted");
        assert_eq!(at(&mut s, 199), "OSBootStarted");
        assert_eq!(at(&mut s, 200), "OSRunning");
        s.reset(ResetType::ForceOff, t0 + ms(300), prof, D).unwrap();
        assert_eq!(at(&mut s, 305), "None", "shutting down");
        assert_eq!(at(&mut s, 400), "None");

        // Firmware setup, and PXE with nothing to boot.
        for (target, last) in [
            ("BiosSetup", "SetupEntered"),
            ("Pxe", "SystemHardwareInitializationComplete"),
        ] {
            s.boot = BootOverride {
                target: target.into(),
                enabled: OverrideEnabled::Once,
                mode: "UEFI".into(),
            };
            let t = s.last_power_change.unwrap() + ms(1000);
            s.reset(ResetType::On, t, prof, D).unwrap();
            assert_eq!(s.boot_progress(t + ms(500), prof, D), last, "{target}");
            s.reset(ResetType::ForceOff, t + ms(600), prof, D).unwrap();
        }
    }

    #[test]
    fn virtual_cd_reaches_the_os_only_when_the_image_is_bootable() {
        let p = Personality::Supermicro;
        let prof = p.profile();
        for (bootable, last) in [
            (true, "OSRunning"),
            (false, "SystemHardwareInitializationComplete"),
        ] {
            let t0 = Instant::now();
            let mut s = NodeState::new(prof);
            s.media[0] = MediaSlot {
                image: Some("http://127.0.0.1/cd.iso".into()),
                inserted: true,
                bootable,
                ..MediaSlot::default()
            };
            s.boot = BootOverride {
                target: "UsbCd".into(),
                enabled: OverrideEnabled::Once,
                mode: "UEFI".into(),
            };
            s.reset(ResetType::On, t0, prof, D).unwrap();
            assert_eq!(
                s.boot_progress(t0 + ms(150), prof, D),
                if bootable { "OSBootStarted" } else { last }
            );
            assert_eq!(s.boot_progress(t0 + ms(250), prof, D), last);
        }
    }

    #[test]
    fn idle_sessions_expire() {
        let prof = Personality::Generic.profile();
        let t0 = Instant::now();
        let mut s = NodeState::new(prof);
        s.session_timeout_secs = 30;
        s.sessions.push(Session {
            id: 1,
            token: "t".into(),
            user: "u".into(),
            last_used: t0,
        });
        s.expire_sessions(t0 + Duration::from_secs(29));
        assert_eq!(s.sessions.len(), 1);
        s.expire_sessions(t0 + Duration::from_secs(30));
        assert!(s.sessions.is_empty());
        assert!(
            !format!(
                "{:?}",
                Session {
                    id: 1,
                    token: "SECRET".into(),
                    user: "u".into(),
                    last_used: t0
                }
            )
            .contains("SECRET")
        );
    }
}
