//! The pure layer: what to read for a node's phase ([`needs`]), what to do given what was read
//! ([`decide`]), how a decision changes the node ([`apply`]) and the crash-resume rule
//! ([`resume_after_takeover`]). No I/O, no clock: time is passed in. Events are in
//! `events.rs`, inspection's properties in `inspect.rs`.
//!
//! Over 600 lines because every sub-phase's rule sits here, one `match` arm each, so the whole
//! state machine reads in one place.

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::inspect::properties_from_inventory;
use super::node::{
    Node, Operation, OperationKind, Phase, RememberedBoot, Resume, Scratch, Timestamp,
};
use super::port::{
    BiosPlan, BiosStatus, BootDevice, MediaSlot, MediaStatus, PortError, PortErrorKind, Power,
    SystemReading,
};
use super::state::{BootModeChoice, ProvisionState};
use super::steps::{BiosSetting, StepKind};
use crate::redfish::Inventory;

/// Timeouts and poll pacing (Ironic's defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// How long a power change may take to show (Ironic `power_state_change_timeout`, 60 s).
    pub power_timeout: Duration,
    /// How long the deploy boot may take (Ironic `deploy_callback_timeout`, 1800 s).
    pub boot_timeout: Duration,
    /// How long BIOS changes may take to show after the reboot (Ironic
    /// `clean_callback_timeout`, 1800 s).
    pub bios_timeout: Duration,
    /// Pause between reads while waiting.
    pub poll_interval: Duration,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            power_timeout: Duration::from_secs(60),
            boot_timeout: Duration::from_secs(1800),
            bios_timeout: Duration::from_secs(1800),
            poll_interval: Duration::from_secs(2),
        }
    }
}

/// What the observer must read before [`decide`] can run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Needs {
    /// The System (power, boot override, `BootProgress`, vendor).
    pub system: bool,
    /// The inventory.
    pub inventory: bool,
    /// What these BIOS settings would change.
    pub bios_plan: Option<Vec<BiosSetting>>,
    /// Which of these BIOS settings are not applied yet.
    pub bios_status: Option<Vec<BiosSetting>>,
    /// The virtual-media slots.
    pub media: bool,
}

/// What the observer read: each field is `Some` when [`Needs`] asked for it.
#[derive(Clone, Debug, Default)]
pub struct Observation {
    /// The System.
    pub system: Option<Result<SystemReading, PortError>>,
    /// The inventory.
    pub inventory: Option<Result<Inventory, PortError>>,
    /// The BIOS plan.
    pub bios_plan: Option<Result<BiosPlan, PortError>>,
    /// The BIOS status.
    pub bios_status: Option<Result<BiosStatus, PortError>>,
    /// The media.
    pub media: Option<Result<MediaStatus, PortError>>,
}

/// The one mutating request a decision may make.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// `On`.
    PowerOn,
    /// `ForceOff`.
    PowerOff,
    /// Boot override.
    SetBootOverride {
        /// Device.
        device: BootDevice,
        /// Continuous rather than once.
        persistent: bool,
        /// Boot mode to keep or set.
        mode: Option<BootModeChoice>,
    },
    /// Clear the boot override.
    ClearBootOverride,
    /// Stage BIOS settings (one PATCH).
    BiosStage(Vec<BiosSetting>),
    /// `#Bios.ResetBios`.
    BiosFactoryReset,
    /// Eject every occupied CD and removable slot.
    EjectAll,
    /// Insert an image.
    Insert {
        /// Its URL.
        image: String,
        /// The slot kind.
        slot: MediaSlot,
    },
    /// Build the config drive from the network data, publish it, insert it (removable slot).
    InsertConfigDrive {
        /// `network_data.json`.
        network_data: Value,
    },
}

/// What becomes of the node once the action (if any) succeeded.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// No operation under way: nothing to do.
    Idle,
    /// Move to `phase`, with a deadline.
    Phase {
        /// The next phase.
        phase: Phase,
        /// When it gives up.
        deadline: Option<Timestamp>,
    },
    /// The current step is done: the next one starts.
    NextStep,
    /// Read again at `until`; `warning` when a read failed (kept until the deadline).
    Wait {
        /// When to read again.
        until: Timestamp,
        /// A failed read.
        warning: Option<String>,
    },
    /// The operation is done: the node reaches its target state.
    Finish,
    /// The operation failed: the node goes to the failure state.
    Fail {
        /// Why.
        error: String,
    },
}

/// The result of [`decide`].
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// At most one mutating request, made before the outcome is applied.
    pub action: Option<Action>,
    /// What happens next.
    pub outcome: Outcome,
    /// New step state to persist (replaces the old).
    pub scratch: Option<Scratch>,
    /// The power state read, to record.
    pub power: Option<Power>,
    /// The vendor read, to record in `properties.vendor`.
    pub vendor: Option<String>,
    /// Inspection: properties to merge before the rules run.
    pub inspected: Option<Map<String, Value>>,
    /// What becomes of [`Node::remembered_boot`] once the action succeeded (`None`: unchanged).
    pub boot_memory: Option<BootMemory>,
}

/// A change to the remembered boot device ([`Node::remembered_boot`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootMemory {
    /// The BMC refused this device persistently; it was set once: remember it.
    Remember(RememberedBoot),
    /// Another boot device was set, or the override cleared: forget it (as Ironic pops
    /// `redfish_boot_device` whenever a boot device is set).
    Forget,
}

impl Decision {
    fn to(outcome: Outcome) -> Decision {
        Decision {
            action: None,
            outcome,
            scratch: None,
            power: None,
            vendor: None,
            inspected: None,
            boot_memory: None,
        }
    }

    fn act(action: Action, outcome: Outcome) -> Decision {
        Decision {
            action: Some(action),
            ..Decision::to(outcome)
        }
    }

    fn with_power(mut self, power: Option<Power>) -> Decision {
        self.power = power;
        self
    }

    fn with_scratch(mut self, scratch: Scratch) -> Decision {
        self.scratch = Some(scratch);
        self
    }

    fn with_boot_memory(mut self, memory: BootMemory) -> Decision {
        self.boot_memory = Some(memory);
        self
    }
}

/// Whether the override `reading` shows is the remembered device, still armed (`Once` or
/// `Continuous` to that target; a virtual CD may read `UsbCd`). Pure.
fn shows_override(reading: &SystemReading, remembered: RememberedBoot) -> bool {
    let armed = matches!(
        reading.override_enabled.as_deref(),
        Some("Once" | "Continuous")
    );
    let target = reading.override_target.as_deref();
    armed
        && match remembered.device {
            BootDevice::Cd => matches!(target, Some("Cd" | "UsbCd")),
            BootDevice::Disk => target == Some("Hdd"),
            BootDevice::Pxe => target == Some("Pxe"),
        }
}

/// Before a power-on: the remembered boot device again, when the BMC has consumed or dropped
/// it and this phase has not re-applied it yet (Ironic's `restore_boot_device`). The phase is
/// entered again, so the next call reads the override and sends the `On`. Pure.
fn restore_boot_first(node: &Node, op: &Operation, sys: &SystemReading) -> Option<Decision> {
    let remembered = node.remembered_boot?;
    if op.scratch.boot_restored || shows_override(sys, remembered) {
        return None;
    }
    Some(
        Decision::act(
            Action::SetBootOverride {
                device: remembered.device,
                persistent: false,
                mode: remembered.mode,
            },
            phase_outcome(op.phase),
        )
        .with_scratch(Scratch {
            boot_restored: true,
            ..op.scratch.clone()
        }),
    )
}

/// What a failed mutating request means, when it is not simply the operation's failure:
/// a persistent boot override the BMC refused (4xx, or a value it does not offer) is set once
/// instead on the next call, and remembered (Ironic's fallback from `Continuous` to `Once`).
/// `None`: the operation fails with the error. Pure.
pub fn after_failed_action(node: &Node, action: &Action, err: &PortError) -> Option<Decision> {
    let op = node.operation.as_ref()?;
    match action {
        Action::SetBootOverride {
            persistent: true, ..
        } if err.kind == PortErrorKind::Rejected && op.scratch.continuous_refused.is_none() => {
            Some(Decision::to(phase_outcome(op.phase)).with_scratch(Scratch {
                continuous_refused: Some(err.to_string()),
                ..op.scratch.clone()
            }))
        }
        _ => None,
    }
}

/// The reads a node's phase needs. Pure.
pub fn needs(node: &Node) -> Needs {
    let Some(op) = &node.operation else {
        return Needs::default();
    };
    let system = Needs {
        system: true,
        ..Needs::default()
    };
    match op.phase {
        Phase::InspectRead => Needs {
            inventory: true,
            ..Needs::default()
        },
        Phase::StepStart
        | Phase::WaitUntil
        | Phase::BiosFactoryReset
        | Phase::DeployConfigDrive
        | Phase::DeployInsert
        | Phase::DeployBootOnce
        | Phase::DeployBootDisk
        | Phase::UndeployClearOverride => Needs::default(),
        Phase::BiosStage if op.scratch.reboot_requested => Needs::default(),
        Phase::BiosStage => Needs {
            bios_plan: Some(current_settings(op)),
            ..Needs::default()
        },
        Phase::BiosWaitApplied => Needs {
            system: true,
            bios_status: Some(op.scratch.requested_attrs.clone()),
            ..Needs::default()
        },
        Phase::DeployEject
        | Phase::DeployEjectAfter
        | Phase::UndeployEject
        | Phase::DeployCleanupEject => Needs {
            media: true,
            ..Needs::default()
        },
        _ => system,
    }
}

fn current_settings(op: &Operation) -> Vec<BiosSetting> {
    match op.step().map(super::steps::CleanStep::kind) {
        Some(Ok(StepKind::BiosApply(settings))) => settings,
        _ => Vec::new(),
    }
}

fn fail(error: impl Into<String>) -> Decision {
    Decision::to(Outcome::Fail {
        error: error.into(),
    })
}

fn goto(phase: Phase) -> Decision {
    Decision::to(Outcome::Phase {
        phase,
        deadline: None,
    })
}

fn goto_until(phase: Phase, now: Timestamp, limit: Duration) -> Decision {
    Decision::to(Outcome::Phase {
        phase,
        deadline: Some(now.plus(limit)),
    })
}

/// Waits, or fails once the phase's deadline has passed.
fn wait_or_timeout(op: &Operation, now: Timestamp, policy: &Policy, what: &str) -> Decision {
    match op.deadline {
        Some(deadline) if now >= deadline => {
            let mut error = format!("timed out: {what}");
            if let Some(warning) = &op.scratch.last_warning {
                error = format!("{error} (last failed read: {warning})");
            }
            fail(error)
        }
        Some(deadline) => Decision::to(Outcome::Wait {
            until: now.plus(policy.poll_interval).min(deadline),
            warning: None,
        }),
        None => Decision::to(Outcome::Wait {
            until: now.plus(policy.poll_interval),
            warning: None,
        }),
    }
}

/// A read failed: in a waiting phase a warning until the deadline (the BMC may come back),
/// elsewhere the operation fails with the BMC's error.
fn read_failed(op: &Operation, now: Timestamp, policy: &Policy, err: &PortError) -> Decision {
    if op.phase.is_waiting() {
        if op.deadline.is_some_and(|d| now >= d) {
            return fail(format!(
                "timed out in {} while the BMC did not answer: {err}",
                op.describe()
            ));
        }
        let until = now.plus(policy.poll_interval);
        return Decision::to(Outcome::Wait {
            until: op.deadline.map_or(until, |d| until.min(d)),
            warning: Some(err.to_string()),
        });
    }
    fail(format!("{}: {err}", op.describe()))
}

fn missing(what: &str) -> PortError {
    PortError::new(
        super::port::PortErrorKind::Failed,
        format!("the observer did not read {what}"),
    )
}

/// Decides what to do for `node` given `observation`, at `now`. Pure: the same inputs give the
/// same decision.
#[allow(clippy::too_many_lines)] // one arm per phase, kept together on purpose
pub fn decide(node: &Node, observation: &Observation, now: Timestamp, policy: &Policy) -> Decision {
    let Some(op) = &node.operation else {
        return Decision::to(Outcome::Idle);
    };
    let system = || match &observation.system {
        Some(Ok(reading)) => Ok(reading),
        Some(Err(err)) => Err(err.clone()),
        None => Err(missing("the System")),
    };
    let media = || match &observation.media {
        Some(Ok(reading)) => Ok(reading),
        Some(Err(err)) => Err(err.clone()),
        None => Err(missing("the virtual media")),
    };
    macro_rules! read {
        ($reading:expr) => {
            match $reading {
                Ok(reading) => reading,
                Err(err) => return read_failed(op, now, policy, &err),
            }
        };
    }
    let mode = op.deploy.as_ref().and_then(|d| d.boot_mode);
    match op.phase {
        Phase::VerifyRead | Phase::AdoptRead => {
            let sys = read!(system());
            let mut decision = Decision::to(Outcome::Finish).with_power(sys.power);
            decision.vendor.clone_from(&sys.vendor);
            decision
        }
        Phase::InspectRead => {
            let inventory = match &observation.inventory {
                Some(Ok(inventory)) => inventory,
                Some(Err(err)) => return read_failed(op, now, policy, err),
                None => return read_failed(op, now, policy, &missing("the inventory")),
            };
            match properties_from_inventory(inventory, node.properties()) {
                Ok(properties) => Decision {
                    inspected: Some(properties),
                    ..Decision::to(Outcome::Finish)
                },
                Err(error) => fail(error),
            }
        }
        Phase::StepStart => {
            let Some(step) = op.step() else {
                return Decision::to(Outcome::Finish);
            };
            match step.kind() {
                Err(reason) => fail(reason),
                Ok(StepKind::PowerOn) => goto(Phase::PowerOnRequest),
                Ok(StepKind::PowerOff) => goto(Phase::PowerOffRequest),
                Ok(StepKind::Reboot) => goto(Phase::RebootOff),
                Ok(StepKind::Wait(seconds)) => {
                    goto_until(Phase::WaitUntil, now, Duration::from_secs(seconds))
                }
                Ok(StepKind::BiosApply(_)) => goto(Phase::BiosStage),
                Ok(StepKind::BiosFactoryReset) => goto(Phase::BiosFactoryReset),
            }
        }
        Phase::PowerOnRequest | Phase::PowerOffRequest => {
            let on = op.phase == Phase::PowerOnRequest;
            let sys = read!(system());
            let (wanted, moving, action, wait) = if on {
                (
                    Power::On,
                    Power::PoweringOn,
                    Action::PowerOn,
                    Phase::PowerOnWait,
                )
            } else {
                (
                    Power::Off,
                    Power::PoweringOff,
                    Action::PowerOff,
                    Phase::PowerOffWait,
                )
            };
            let deadline = Some(now.plus(policy.power_timeout));
            let stays_off = !matches!(sys.power, Some(p) if p == wanted || p == moving);
            if on
                && stays_off
                && let Some(restore) = restore_boot_first(node, op, sys)
            {
                return restore.with_power(sys.power);
            }
            match sys.power {
                // Already there: nothing is sent (Ironic skips it too).
                Some(p) if p == wanted => Decision::to(Outcome::NextStep).with_power(sys.power),
                Some(p) if p == moving => Decision::to(Outcome::Phase {
                    phase: wait,
                    deadline,
                })
                .with_power(sys.power),
                _ => Decision::act(
                    action,
                    Outcome::Phase {
                        phase: wait,
                        deadline,
                    },
                )
                .with_power(sys.power),
            }
        }
        Phase::PowerOnWait | Phase::PowerOffWait => {
            let wanted = if op.phase == Phase::PowerOnWait {
                Power::On
            } else {
                Power::Off
            };
            let sys = read!(system());
            if sys.power == Some(wanted) {
                return Decision::to(Outcome::NextStep).with_power(sys.power);
            }
            wait_or_timeout(op, now, policy, &power_what(wanted, sys.power)).with_power(sys.power)
        }
        Phase::RebootOff | Phase::DeployPowerOff | Phase::UndeployPowerOff => {
            let sys = read!(system());
            let (wait, next) = match op.phase {
                Phase::RebootOff => (Phase::RebootOffWait, Phase::RebootOn),
                Phase::DeployPowerOff => (Phase::DeployPowerOffWait, Phase::DeployEject),
                _ => (Phase::UndeployPowerOffWait, Phase::UndeployEject),
            };
            let deadline = Some(now.plus(policy.power_timeout));
            match sys.power {
                Some(Power::Off) => goto(next).with_power(sys.power),
                Some(Power::PoweringOff) => Decision::to(Outcome::Phase {
                    phase: wait,
                    deadline,
                })
                .with_power(sys.power),
                _ => Decision::act(
                    Action::PowerOff,
                    Outcome::Phase {
                        phase: wait,
                        deadline,
                    },
                )
                .with_power(sys.power),
            }
        }
        Phase::RebootOffWait | Phase::DeployPowerOffWait | Phase::UndeployPowerOffWait => {
            let sys = read!(system());
            let next = match op.phase {
                Phase::RebootOffWait => Phase::RebootOn,
                Phase::DeployPowerOffWait => Phase::DeployEject,
                _ => Phase::UndeployEject,
            };
            if sys.power == Some(Power::Off) {
                return goto(next).with_power(sys.power);
            }
            wait_or_timeout(op, now, policy, &power_what(Power::Off, sys.power))
                .with_power(sys.power)
        }
        Phase::RebootOn => {
            let sys = read!(system());
            let deadline = Some(now.plus(policy.power_timeout));
            match sys.power {
                // Already on (or coming on): the `On` was sent before a crash; never again.
                Some(Power::On | Power::PoweringOn) => Decision::to(Outcome::Phase {
                    phase: Phase::RebootOnWait,
                    deadline,
                })
                .with_power(sys.power),
                Some(Power::PoweringOff) => {
                    wait_or_timeout(op, now, policy, "powering off").with_power(sys.power)
                }
                _ => match restore_boot_first(node, op, sys) {
                    // The remembered device first (Ironic: off, restore, on).
                    Some(restore) => restore.with_power(sys.power),
                    None => Decision::act(
                        Action::PowerOn,
                        Outcome::Phase {
                            phase: Phase::RebootOnWait,
                            deadline,
                        },
                    )
                    .with_power(sys.power),
                },
            }
        }
        Phase::RebootOnWait => {
            let sys = read!(system());
            if sys.power != Some(Power::On) {
                return wait_or_timeout(op, now, policy, &power_what(Power::On, sys.power))
                    .with_power(sys.power);
            }
            let after = match op.step().map(super::steps::CleanStep::kind) {
                Some(Ok(StepKind::BiosApply(_))) => {
                    goto_until(Phase::BiosWaitApplied, now, policy.bios_timeout)
                }
                Some(Ok(StepKind::BiosFactoryReset)) => {
                    goto_until(Phase::BiosWaitReset, now, policy.bios_timeout)
                }
                _ => Decision::to(Outcome::NextStep),
            };
            after.with_power(sys.power)
        }
        Phase::WaitUntil => match op.deadline {
            Some(deadline) if now < deadline => Decision::to(Outcome::Wait {
                until: deadline,
                warning: None,
            }),
            _ => Decision::to(Outcome::NextStep),
        },
        Phase::BiosStage => {
            // Staged before a crash (or a takeover): never PATCH again, go on with the reboot.
            if op.scratch.reboot_requested {
                return goto(Phase::RebootOff);
            }
            let plan = match &observation.bios_plan {
                Some(Ok(plan)) => plan,
                Some(Err(err)) => return read_failed(op, now, policy, err),
                None => return read_failed(op, now, policy, &missing("the BIOS")),
            };
            if !plan.problems.is_empty() {
                return fail(format!(
                    "BIOS settings refused, nothing sent: {}",
                    plan.problems.join("; ")
                ));
            }
            let settings = current_settings(op);
            let scratch = Scratch {
                reboot_requested: true,
                requested_attrs: settings.clone(),
                ..Scratch::default()
            };
            if plan.changes.is_empty() && plan.already_pending.is_empty() {
                // Ironic's no-op rule: everything is already current, no PATCH, no reboot.
                return Decision::to(Outcome::NextStep);
            }
            if plan.changes.is_empty() {
                // Already pending (staged before a crash, or by someone else): reboot only.
                return goto(Phase::RebootOff).with_scratch(scratch);
            }
            Decision::act(Action::BiosStage(settings), phase_outcome(Phase::RebootOff))
                .with_scratch(scratch)
        }
        Phase::BiosWaitApplied => {
            let sys = read!(system());
            let status = match &observation.bios_status {
                Some(Ok(status)) => status,
                Some(Err(err)) => return read_failed(op, now, policy, err),
                None => return read_failed(op, now, policy, &missing("the BIOS")),
            };
            let booted =
                sys.power == Some(Power::On) && (sys.boot_progress.is_none() || sys.os_started());
            if booted && status.not_applied.is_empty() {
                return Decision::to(Outcome::NextStep)
                    .with_scratch(Scratch::default())
                    .with_power(sys.power);
            }
            if booted && !status.rejected.is_empty() {
                // The BMC's verdict is final: waiting to the deadline would change nothing.
                return fail(format!(
                    "BIOS attributes refused by the BMC when applying: {}",
                    status.rejected.join("; ")
                ))
                .with_power(sys.power);
            }
            let what = if booted {
                format!(
                    "BIOS attributes {} are not updated",
                    status.not_applied.join(", ")
                )
            } else {
                format!(
                    "waiting for the boot after the BIOS change (BootProgress {})",
                    sys.boot_progress.as_deref().unwrap_or("not reported")
                )
            };
            wait_or_timeout(op, now, policy, &what).with_power(sys.power)
        }
        Phase::BiosFactoryReset => {
            if op.scratch.reboot_requested {
                return goto(Phase::RebootOff);
            }
            Decision::act(Action::BiosFactoryReset, phase_outcome(Phase::RebootOff)).with_scratch(
                Scratch {
                    reboot_requested: true,
                    ..Scratch::default()
                },
            )
        }
        Phase::BiosWaitReset => {
            let sys = read!(system());
            if sys.power == Some(Power::On) && (sys.boot_progress.is_none() || sys.os_started()) {
                return Decision::to(Outcome::NextStep)
                    .with_scratch(Scratch::default())
                    .with_power(sys.power);
            }
            wait_or_timeout(op, now, policy, "the boot after the BIOS reset").with_power(sys.power)
        }
        Phase::DeployEject | Phase::DeployEjectAfter | Phase::UndeployEject => {
            let slots = read!(media());
            let next = match op.phase {
                Phase::DeployEject if deploy_network(op).is_some() => Phase::DeployConfigDrive,
                Phase::DeployEject => Phase::DeployInsert,
                Phase::DeployEjectAfter => Phase::DeployBootDisk,
                _ => Phase::UndeployClearOverride,
            };
            if slots.occupied.is_empty() {
                goto(next)
            } else {
                Decision::act(Action::EjectAll, phase_outcome(next))
            }
        }
        Phase::DeployConfigDrive => match deploy_network(op) {
            Some(network_data) => Decision::act(
                Action::InsertConfigDrive {
                    network_data: network_data.clone(),
                },
                phase_outcome(Phase::DeployInsert),
            ),
            None => goto(Phase::DeployInsert),
        },
        Phase::DeployInsert => match &op.deploy {
            Some(spec) => Decision::act(
                Action::Insert {
                    image: spec.image.clone(),
                    slot: MediaSlot::Cd,
                },
                phase_outcome(Phase::DeployBootOnce),
            ),
            None => fail("deploy without an image"),
        },
        Phase::DeployBootOnce => Decision::act(
            Action::SetBootOverride {
                device: BootDevice::Cd,
                persistent: false,
                mode,
            },
            phase_outcome(Phase::DeployPowerOn),
        )
        .with_boot_memory(BootMemory::Forget),
        Phase::DeployPowerOn => {
            let sys = read!(system());
            let deadline = Some(now.plus(policy.boot_timeout));
            match sys.power {
                // On already: the `On` went out before a crash; wait for that boot.
                Some(Power::On | Power::PoweringOn) => Decision::to(Outcome::Phase {
                    phase: Phase::DeployWaitBoot,
                    deadline,
                })
                .with_power(sys.power),
                Some(Power::PoweringOff) => {
                    wait_or_timeout(op, now, policy, "powering off").with_power(sys.power)
                }
                _ => Decision::act(
                    Action::PowerOn,
                    Outcome::Phase {
                        phase: Phase::DeployWaitBoot,
                        deadline,
                    },
                )
                .with_power(sys.power),
            }
        }
        Phase::DeployWaitBoot => {
            let sys = read!(system());
            let booted = sys.power == Some(Power::On)
                && !sys.cd_override_pending()
                && (sys.boot_progress.is_none() || sys.os_started());
            if booted {
                return goto(Phase::DeployEjectAfter).with_power(sys.power);
            }
            let what = if sys.cd_override_pending() {
                "the node to boot from the virtual CD (override not consumed)".to_owned()
            } else {
                format!(
                    "the image to boot (BootProgress {})",
                    sys.boot_progress.as_deref().unwrap_or("not reported")
                )
            };
            let decision = wait_or_timeout(op, now, policy, &what).with_power(sys.power);
            match decision.outcome {
                // Ironic's deploy clean-up before the failure: power off, eject.
                Outcome::Fail { error } => goto(Phase::DeployCleanupPowerOff)
                    .with_scratch(Scratch {
                        failure: Some(error),
                        ..op.scratch.clone()
                    })
                    .with_power(sys.power),
                _ => decision,
            }
        }
        Phase::DeployCleanupPowerOff => {
            let failure = op.scratch.failure.clone().unwrap_or_default();
            let sys = match system() {
                Ok(sys) => sys,
                Err(err) => {
                    return fail(format!("{failure}; clean-up could not read the BMC: {err}"));
                }
            };
            match sys.power {
                Some(Power::Off | Power::PoweringOff) => goto(Phase::DeployCleanupEject),
                _ => Decision::act(Action::PowerOff, phase_outcome(Phase::DeployCleanupEject)),
            }
            .with_power(sys.power)
        }
        Phase::DeployCleanupEject => {
            let failure = op.scratch.failure.clone().unwrap_or_default();
            match media() {
                Ok(slots) if slots.occupied.is_empty() => fail(failure),
                Ok(_) => Decision::act(Action::EjectAll, Outcome::Fail { error: failure }),
                Err(err) => fail(format!(
                    "{failure}; clean-up could not read the media: {err}"
                )),
            }
        }
        // Persistent, unless the BMC refused that (`after_failed_action`): then once, and
        // remembered for the power-ons to come.
        Phase::DeployBootDisk => {
            let refused = op.scratch.continuous_refused.is_some();
            let memory = if refused {
                BootMemory::Remember(RememberedBoot {
                    device: BootDevice::Disk,
                    mode,
                })
            } else {
                BootMemory::Forget
            };
            Decision::act(
                Action::SetBootOverride {
                    device: BootDevice::Disk,
                    persistent: !refused,
                    mode,
                },
                Outcome::Finish,
            )
            .with_boot_memory(memory)
        }
        Phase::UndeployClearOverride => Decision::act(Action::ClearBootOverride, Outcome::Finish)
            .with_boot_memory(BootMemory::Forget),
    }
}

fn phase_outcome(phase: Phase) -> Outcome {
    Outcome::Phase {
        phase,
        deadline: None,
    }
}

fn deploy_network(op: &Operation) -> Option<&Value> {
    op.deploy.as_ref().and_then(|d| d.network_data.as_ref())
}

fn power_what(wanted: Power, last: Option<Power>) -> String {
    format!(
        "power state {} not reached (last read: {})",
        wanted.as_str(),
        last.map_or("nothing", Power::as_str)
    )
}

/// Where a finished operation leaves the node.
pub fn target_of(kind: OperationKind) -> ProvisionState {
    match kind {
        OperationKind::Verify | OperationKind::Inspect | OperationKind::Clean => {
            ProvisionState::Manageable
        }
        OperationKind::Provide | OperationKind::Undeploy => ProvisionState::Available,
        OperationKind::Deploy | OperationKind::Adopt => ProvisionState::Active,
    }
}

/// Applies a decision whose action (if any) succeeded. Pure.
pub fn apply(node: &mut Node, decision: Decision, now: Timestamp) {
    if let Some(power) = decision.power {
        node.power_state = Some(power.as_str().to_owned());
    }
    if let Some(vendor) = decision.vendor {
        node.properties_mut().insert("vendor".into(), json!(vendor));
    }
    if let Some(properties) = decision.inspected {
        let target = node.properties_mut();
        for (key, value) in properties {
            target.insert(key, value);
        }
    }
    match decision.boot_memory {
        Some(BootMemory::Remember(remembered)) => node.remembered_boot = Some(remembered),
        Some(BootMemory::Forget) => node.remembered_boot = None,
        None => {}
    }
    let Some(op) = node.operation.as_mut() else {
        return;
    };
    if let Some(scratch) = decision.scratch {
        op.scratch = scratch;
    }
    match decision.outcome {
        Outcome::Idle => {}
        Outcome::Phase { phase, deadline } => {
            op.phase = phase;
            op.phase_entered_at = now;
            op.deadline = deadline;
            op.scratch.failed_reads = 0;
            op.scratch.last_warning = None;
        }
        Outcome::NextStep => {
            // Bounded: a document edited by hand cannot push the index past the steps.
            op.index = (op.index + 1).min(op.steps.len());
            op.phase = Phase::StepStart;
            op.phase_entered_at = now;
            op.deadline = None;
            op.scratch = Scratch::default();
        }
        Outcome::Wait { warning, .. } => {
            if let Some(warning) = warning {
                op.scratch.failed_reads = op.scratch.failed_reads.saturating_add(1);
                op.scratch.last_warning = Some(warning);
            }
        }
        Outcome::Finish => finish(node, now),
        Outcome::Fail { error } => fail_node(node, now, &error),
    }
}

fn finish(node: &mut Node, now: Timestamp) {
    let Some(op) = node.operation.take() else {
        return;
    };
    let from = node.state;
    node.state = target_of(op.kind);
    node.target = None;
    node.last_error = None;
    if !node.completed.contains(&op.kind) {
        node.completed.push(op.kind);
    }
    node.record(now, "done", from, Some(op.kind.as_str().to_owned()));
}

/// Sends the node to its failure state with `error` (a failed clean also sets maintenance,
/// as Ironic's cleaning error handler does). Pure.
pub fn fail_node(node: &mut Node, now: Timestamp, error: &str) {
    let from = node.state;
    node.operation = None;
    node.state = from.on_failure();
    node.target = None;
    node.last_error = Some(error.to_owned());
    if from == ProvisionState::Cleaning {
        node.maintenance = true;
        node.fault = Some("clean failure".into());
    }
    node.record(now, "fail", from, Some(error.to_owned()));
}

/// Applies the crash-resume rule of the node's phase when a process takes it over (after a
/// crash or an expired lease): a phase that must not resume fails with "interrupted in …";
/// every other phase goes on (its reads decide). Returns whether the node changed. Pure.
pub fn resume_after_takeover(node: &mut Node, now: Timestamp) -> bool {
    let Some(op) = &node.operation else {
        return false;
    };
    match op.phase.resume() {
        Resume::Fail => {
            let error = format!("interrupted in {}", op.describe());
            fail_node(node, now, &error);
            true
        }
        Resume::Reread | Resume::Reissue => false,
    }
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
