//! Boot once from the virtual CD: insert, one-time override to CD (the boot mode kept), reset,
//! then confirm the override was consumed and, where the BMC reports `BootProgress`, that an
//! OS started. The decisions (what a System read means, the override PATCH and its check,
//! the reset, when to stop waiting) are pure functions below; the I/O is
//! [`VirtualMedia::boot_from_iso`].
//!
//! The System read by discovery is kept for the override (its entity tag, its allowable values)
//! and the reset (its action target, its power state): one PATCH, judged from the BMC's
//! answer where it returns the System, and one POST. Whatever this short path cannot decide
//! (a `@Redfish.Settings` object, allowable values read from an `ActionInfo`, a refusal)
//! goes through `ferrofish-redfish-core`'s full `set_boot_override` / `reset`.

use std::time::Duration;

use ferrofish_redfish_core::models::{
    BootOverrideEnabled, BootSource, ComputerSystem, PowerState, ResetType,
};
use ferrofish_redfish_core::{BootOverride, Resource, Vendor};
use serde_json::{Value, json};

use crate::error::Error;
use crate::idrac::idrac_cannot_boot_vmedia;
use crate::media::{Discovery, Levels, VirtualMedia};
use crate::slots::{MediaKind, Slot};

/// A step of [`VirtualMedia::boot_from_iso_with_progress`], reported as it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BootPhase {
    /// Ejecting a stale image from a slot that takes the CD.
    EjectingStale {
        /// The slot's path.
        slot: String,
    },
    /// Inserting the image into a slot.
    Inserting {
        /// The slot's path.
        slot: String,
    },
    /// The insert answered 202: following its task.
    WaitingForTask {
        /// The task monitor, when the BMC gave one.
        monitor: Option<String>,
    },
    /// Setting the one-time override to CD (or HPE's `BootOnNextServerReset`).
    SettingOverride {
        /// `true` when HPE's slot flag is used instead of the System's override.
        hpe_boot_on_next_reset: bool,
    },
    /// Resetting (or powering on) the system.
    Resetting {
        /// The reset sent.
        reset: ResetType,
    },
    /// One read of the System while waiting for the boot.
    WaitingForBoot {
        /// `BootProgress.LastState`, when reported.
        last_state: Option<String>,
        /// Whether the override is still pending.
        override_pending: bool,
    },
    /// Ejecting the image after the boot ([`BootOptions::eject_after`]).
    EjectingAtEnd {
        /// The slot's path.
        slot: String,
    },
}

impl BootPhase {
    /// A short line for a progress display.
    pub fn describe(&self) -> String {
        match self {
            BootPhase::EjectingStale { slot } => format!("ejecting stale media from {slot}"),
            BootPhase::Inserting { slot } => format!("inserting the image into {slot}"),
            BootPhase::WaitingForTask { .. } => "waiting for the insert task".to_owned(),
            BootPhase::SettingOverride {
                hpe_boot_on_next_reset: true,
            } => "setting BootOnNextServerReset on the slot".to_owned(),
            BootPhase::SettingOverride { .. } => {
                "setting the one-time boot override to CD".to_owned()
            }
            BootPhase::Resetting { reset } => format!("resetting the system ({reset})"),
            BootPhase::WaitingForBoot {
                last_state,
                override_pending,
            } => match (last_state, override_pending) {
                (Some(state), _) => format!("waiting for the boot: {state}"),
                (None, true) => "waiting for the boot: override still pending".to_owned(),
                (None, false) => "waiting for the boot".to_owned(),
            },
            BootPhase::EjectingAtEnd { slot } => format!("ejecting the image from {slot}"),
        }
    }

    /// A stable `snake_case` name (`ejecting_stale`, `inserting`, `waiting_for_task`,
    /// `setting_override`, `resetting`, `waiting_for_boot`, `ejecting_at_end`).
    pub fn name(&self) -> &'static str {
        match self {
            BootPhase::EjectingStale { .. } => "ejecting_stale",
            BootPhase::Inserting { .. } => "inserting",
            BootPhase::WaitingForTask { .. } => "waiting_for_task",
            BootPhase::SettingOverride { .. } => "setting_override",
            BootPhase::Resetting { .. } => "resetting",
            BootPhase::WaitingForBoot { .. } => "waiting_for_boot",
            BootPhase::EjectingAtEnd { .. } => "ejecting_at_end",
        }
    }
}

/// How [`VirtualMedia::boot_from_iso`] waits and cleans up.
#[derive(Clone, Debug)]
pub struct BootOptions {
    /// How long the reset may take to consume the override and start an OS (default 10 min).
    pub timeout: Duration,
    /// Pause between reads of the System (default 2 s).
    pub poll_interval: Duration,
    /// Eject the image once the OS started (default false: a ramdisk may still read it).
    pub eject_after: bool,
}

impl Default for BootOptions {
    fn default() -> BootOptions {
        BootOptions {
            timeout: Duration::from_secs(600),
            poll_interval: Duration::from_secs(2),
            eject_after: false,
        }
    }
}

/// What [`VirtualMedia::boot_from_iso`] did and saw.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools)] // independent facts of one boot, not a state machine
pub struct BootReport {
    /// The slot the image went into, as read back.
    pub slot: Slot,
    /// `true` when HPE's `BootOnNextServerReset` was used instead of the override.
    pub hpe_boot_on_next_reset: bool,
    /// The reset sent (`On` for a system that was off).
    pub reset: ResetType,
    /// The last `BootProgress.LastState`, when the BMC reports it.
    pub boot_progress: Option<String>,
    /// The BMC stored the one-time override as continuous (quirk
    /// `once_stored_as_continuous`), so it had to be cleared after the boot.
    pub override_stored_as_continuous: bool,
    /// Whether that clearing took; `false` with `override_stored_as_continuous` means the BMC
    /// still boots from the CD (sushy-tools keeps every override) and the caller must act.
    pub override_cleared: bool,
    /// Whether the image was ejected at the end.
    pub ejected: bool,
}

/// What one read of the System says about the boot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootObservation {
    /// The one-time override to CD is still set.
    pub override_pending: bool,
    /// `BootProgress.LastState`, when present.
    pub last_state: Option<String>,
}

/// Reads a System's JSON.
pub fn observe_boot(system: &Value) -> BootObservation {
    let text = |pointer: &str| system.pointer(pointer).and_then(Value::as_str);
    let target = text("/Boot/BootSourceOverrideTarget").unwrap_or("None");
    BootObservation {
        override_pending: text("/Boot/BootSourceOverrideEnabled") == Some("Once")
            && matches!(target, "Cd" | "UsbCd"),
        last_state: text("/BootProgress/LastState").map(str::to_owned),
    }
}

/// The states that mean an OS is starting or running.
const OS_STATES: &[&str] = &["OSBootStarted", "OSRunning"];

/// Whether to keep waiting, stop with success, or stop with an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BootVerdict {
    /// Read again later.
    Wait,
    /// The override is consumed and (where reported) an OS started.
    Booted,
}

/// Decides from one observation, the time waited and the deadline. `watch_override` is false
/// when the override was not used (HPE's boot-on-next-reset), so only `BootProgress` counts.
/// `progress_seen_off` is true once `BootProgress` left the OS states after the reset, so a
/// stale `OSRunning` from before the reset is not taken for the new boot.
pub fn boot_verdict(
    observation: &BootObservation,
    watch_override: bool,
    progress_seen_off: bool,
    waited: Duration,
    timeout: Duration,
) -> Result<BootVerdict, Error> {
    let pending = watch_override && observation.override_pending;
    let os_started = match &observation.last_state {
        // Not reported: the consumed override is all there is to go on.
        None => watch_override,
        Some(state) => OS_STATES.contains(&state.as_str()) && (watch_override || progress_seen_off),
    };
    if !pending && os_started {
        return Ok(BootVerdict::Booted);
    }
    if waited < timeout {
        return Ok(BootVerdict::Wait);
    }
    if pending {
        Err(Error::OverrideNotConsumed { after: waited })
    } else {
        Err(Error::BootNeverStarted {
            last_state: observation.last_state.clone(),
            after: waited,
        })
    }
}

impl VirtualMedia {
    /// Boots the system once from `image` (an ISO URL the BMC can reach): inserts it in a CD
    /// slot (stale media ejected first), sets a one-time override to CD keeping the boot mode
    /// (`Cd` is rewritten to the vendor's name, `UsbCd` on Supermicro), or HPE's
    /// `BootOnNextServerReset` where the slot offers it, resets (or powers on), and waits
    /// until the override is consumed and `BootProgress` reaches an OS state where the BMC
    /// reports it. [`VirtualMedia::boot_from_iso_with_progress`] reports each step.
    ///
    /// On a Dell iDRAC8, or an iDRAC9 below 6.00, it is refused before anything is sent
    /// ([`Error::IdracFirmwareTooOld`]; [`VirtualMedia::allow_idrac_vmedia_boot_before_6`]).
    pub async fn boot_from_iso(
        &self,
        image: &str,
        options: &BootOptions,
    ) -> Result<BootReport, Error> {
        self.boot_from_iso_with_progress(image, options, &mut |_| {})
            .await
    }

    /// [`VirtualMedia::boot_from_iso`], calling `progress` as each step starts
    /// ([`BootPhase`]).
    pub async fn boot_from_iso_with_progress(
        &self,
        image: &str,
        options: &BootOptions,
        progress: &mut (dyn FnMut(&BootPhase) + Send),
    ) -> Result<BootReport, Error> {
        self.refuse_old_idrac().await?;
        let found: Discovery = self.discover(Levels::Preferred).await?;
        // The System discovery read: the override and the reset are decided from it, which
        // saves reading it again for each (the core reads it when it does not decode).
        let held = serde_json::from_value::<ComputerSystem>(found.system.value.clone()).ok();
        let slot = self
            .insert_among(found, image, MediaKind::Cd, progress)
            .await?;
        let client = self.system().client();
        let hpe = slot.hpe_boot_on_next_reset.is_some();
        progress(&BootPhase::SettingOverride {
            hpe_boot_on_next_reset: hpe,
        });
        // A BMC that stores "Once" as "Continuous" (sushy-tools) never consumes the override:
        // it is cleared after the boot instead.
        let must_clear = self.set_cd_override(&slot, held.as_ref()).await?;
        let reset = self.send_reset(held.as_ref(), progress).await?;

        let started = tokio::time::Instant::now();
        let mut progress_seen_off = false;
        let last_state = loop {
            let system: Resource<Value> = client.get(self.system().path()).await?;
            let observation = observe_boot(&system.value);
            progress(&BootPhase::WaitingForBoot {
                last_state: observation.last_state.clone(),
                override_pending: observation.override_pending,
            });
            progress_seen_off |= observation
                .last_state
                .as_deref()
                .is_some_and(|s| !OS_STATES.contains(&s));
            let waited = started.elapsed();
            // An override stored as continuous never reads as pending "Once": with no
            // BootProgress either, the reset is all the evidence such a BMC gives.
            match boot_verdict(
                &observation,
                !hpe,
                progress_seen_off,
                waited,
                options.timeout,
            )? {
                BootVerdict::Booted => break observation.last_state,
                BootVerdict::Wait => {
                    let left = options.timeout.saturating_sub(waited);
                    tokio::time::sleep(options.poll_interval.min(left)).await;
                }
            }
        };
        let mut override_cleared = false;
        if must_clear {
            let cleared = client
                .set_boot_override(
                    self.system().path(),
                    BootOverride {
                        target: BootSource::Cd,
                        enabled: BootOverrideEnabled::Disabled,
                        mode: None,
                    },
                )
                .await;
            match cleared {
                Ok(_) => override_cleared = true,
                // Some BMCs keep every override (sushy-tools): say so, the boot itself worked.
                Err(err) if err.is_not_applied() => {
                    tracing::warn!(error = %err, "the BMC keeps the CD boot override; clear it by hand");
                }
                Err(err) => return Err(err.into()),
            }
        }
        let mut ejected = false;
        if options.eject_after {
            progress(&BootPhase::EjectingAtEnd {
                slot: slot.path.clone(),
            });
            // The slot as the insert's check read it: it holds the image.
            self.eject(&slot).await?;
            ejected = true;
        }
        Ok(BootReport {
            slot,
            hpe_boot_on_next_reset: hpe,
            reset,
            boot_progress: last_state,
            override_stored_as_continuous: must_clear,
            override_cleared,
            ejected,
        })
    }

    /// Refuses the boot on an iDRAC that cannot boot standard virtual media (quirk
    /// `idrac_vmedia_boot_before_6`), unless allowed. Reads the Manager on Dell only, where
    /// quirk resolution reads it anyway.
    async fn refuse_old_idrac(&self) -> Result<(), Error> {
        if self.allows_old_idrac_boot() {
            return Ok(());
        }
        let client = self.system().client();
        if client.vendor().await? != Vendor::Dell {
            return Ok(());
        }
        let identity = client.identity().await?;
        if idrac_cannot_boot_vmedia(identity.model.as_deref(), identity.firmware.as_deref()) {
            return Err(Error::IdracFirmwareTooOld {
                firmware: identity.firmware,
                model: identity.model,
            });
        }
        Ok(())
    }

    /// Sets the next boot to the virtual CD: HPE's boot-on-next-reset flag on the slot where
    /// the slot has one, else the one-time override (from the System as discovery read it,
    /// where that decoded). Returns whether the override must be cleared after the boot.
    async fn set_cd_override(
        &self,
        slot: &Slot,
        held: Option<&ComputerSystem>,
    ) -> Result<bool, Error> {
        if slot.hpe_boot_on_next_reset.is_some() {
            self.system()
                .client()
                .patch(
                    &slot.path,
                    &json!({"Oem": {"Hpe": {"BootOnNextServerReset": true}}}),
                )
                .await?;
            return Ok(false);
        }
        let once_to_cd = BootOverride {
            target: BootSource::Cd,
            enabled: BootOverrideEnabled::Once,
            mode: None,
        };
        let outcome = match held {
            Some(read) => {
                self.system()
                    .set_boot_override_as_read(read, once_to_cd)
                    .await?
            }
            None => self.system().set_boot_override(once_to_cd).await?,
        };
        if outcome.must_clear_after_boot() {
            tracing::warn!(
                "one-time boot override stored as Continuous; clearing it after the boot"
            );
        }
        Ok(outcome.must_clear_after_boot())
    }

    /// Powers on a system that is off, else restarts it, deciding from the System as
    /// discovery read it where that decoded.
    async fn send_reset(
        &self,
        held: Option<&ComputerSystem>,
        progress: &mut (dyn FnMut(&BootPhase) + Send),
    ) -> Result<ResetType, Error> {
        let power = match held {
            Some(read) => read.power_state.clone(),
            None => self.system().power_state().await?,
        };
        let reset = match power {
            Some(PowerState::Off) => ResetType::On,
            _ => ResetType::ForceRestart,
        };
        progress(&BootPhase::Resetting {
            reset: reset.clone(),
        });
        match held {
            Some(read) => self.system().reset_as_read(read, reset.clone()).await?,
            None => self.system().reset(reset.clone()).await?,
        }
        Ok(reset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(enabled: &str, target: &str, state: Option<&str>) -> BootObservation {
        let mut system = json!({"Boot": {"BootSourceOverrideEnabled": enabled,
                                         "BootSourceOverrideTarget": target}});
        if let Some(state) = state {
            system["BootProgress"] = json!({"LastState": state});
        }
        observe_boot(&system)
    }

    const S: Duration = Duration::from_secs(1);
    const T: Duration = Duration::from_secs(60);

    #[test]
    fn a_pending_override_waits_then_reports_not_consumed() {
        let pending = seen("Once", "UsbCd", Some("OSRunning"));
        assert!(pending.override_pending);
        assert_eq!(
            boot_verdict(&pending, true, false, S, T).unwrap(),
            BootVerdict::Wait
        );
        assert!(matches!(
            boot_verdict(&pending, true, false, T, T),
            Err(Error::OverrideNotConsumed { .. })
        ));
    }

    #[test]
    fn consumed_override_and_an_os_state_mean_booted() {
        let done = seen("Disabled", "None", Some("OSBootStarted"));
        assert_eq!(
            boot_verdict(&done, true, false, S, T).unwrap(),
            BootVerdict::Booted
        );
        // No BootProgress at all: the consumed override is enough.
        let silent = seen("Disabled", "None", None);
        assert_eq!(
            boot_verdict(&silent, true, false, S, T).unwrap(),
            BootVerdict::Booted
        );
        // Consumed, but still in POST: wait, then say the OS never started.
        let post = seen("Disabled", "None", Some("MemoryInitializationStarted"));
        assert_eq!(
            boot_verdict(&post, true, true, S, T).unwrap(),
            BootVerdict::Wait
        );
        let err = boot_verdict(&post, true, true, T, T).unwrap_err();
        assert!(
            matches!(&err, Error::BootNeverStarted { last_state: Some(s), .. } if s == "MemoryInitializationStarted")
        );
    }

    #[test]
    fn without_the_override_a_stale_os_state_is_not_taken_for_the_new_boot() {
        let stale = seen("Disabled", "None", Some("OSRunning"));
        assert_eq!(
            boot_verdict(&stale, false, false, S, T).unwrap(),
            BootVerdict::Wait
        );
        assert_eq!(
            boot_verdict(&stale, false, true, S, T).unwrap(),
            BootVerdict::Booted
        );
        // And with nothing reported there is nothing to confirm.
        let silent = seen("Disabled", "None", None);
        assert!(matches!(
            boot_verdict(&silent, false, false, T, T),
            Err(Error::BootNeverStarted {
                last_state: None,
                ..
            })
        ));
    }

    #[test]
    fn an_override_to_another_device_is_not_ours() {
        assert!(!seen("Once", "Pxe", None).override_pending);
        assert!(!seen("Continuous", "Cd", None).override_pending);
    }
}
