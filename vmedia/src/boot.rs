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

use ferrofish_redfish_core::models::{BootOverrideEnabled, BootSource, PowerState, ResetType};
use ferrofish_redfish_core::{BootOverride, Quirks, Resource};
use serde_json::{Value, json};

use crate::error::Error;
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

/// The one-time override to CD as one PATCH of the System, decided from the System as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CdOverridePlan {
    /// The target as the BMC names the virtual CD (`UsbCd` on Supermicro, quirk
    /// `virtual_cd_is_usb_cd`).
    pub target: String,
    /// The mode re-sent unchanged (quirk `override_mode_needs_resend`), if any.
    pub mode: Option<String>,
}

impl CdOverridePlan {
    /// The PATCH body: target and `Once` (always sent: quirk `override_needs_enabled`), the
    /// mode only where it must be re-sent (iDRAC queues a BIOS job for an unchanged mode).
    pub fn body(&self) -> Value {
        let mut boot = json!({
            "BootSourceOverrideTarget": self.target,
            "BootSourceOverrideEnabled": "Once",
        });
        if let Some(mode) = &self.mode {
            boot["BootSourceOverrideMode"] = json!(mode);
        }
        json!({ "Boot": boot })
    }
}

fn allowable<'a>(boot: &'a Value, property: &str) -> Vec<&'a str> {
    boot.get(format!("{property}@Redfish.AllowableValues"))
        .and_then(Value::as_array)
        .map(|values| values.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The override to CD as one PATCH of the System, or `None` when the short path cannot
/// decide it (a `@Redfish.Settings` object may take `Boot`, no `Boot` at all, a target or
/// `Once` outside the allowable values): the full path then decides, and words the error.
pub fn plan_cd_override(system: &Value, quirks: &Quirks) -> Option<CdOverridePlan> {
    if system.get("@Redfish.Settings").is_some() {
        return None;
    }
    let boot = system.get("Boot")?;
    let targets = allowable(boot, "BootSourceOverrideTarget");
    let target = if quirks.virtual_cd_boot_target_is_usb_cd && targets.contains(&"UsbCd") {
        "UsbCd"
    } else {
        "Cd"
    };
    if !targets.is_empty() && !targets.contains(&target) {
        return None;
    }
    let enabled = allowable(boot, "BootSourceOverrideEnabled");
    if !enabled.is_empty() && !enabled.contains(&"Once") {
        return None;
    }
    let mode = quirks
        .boot_patch_needs_all_fields
        .then(|| boot.get("BootSourceOverrideMode").and_then(Value::as_str))
        .flatten()
        .map(str::to_owned);
    Some(CdOverridePlan {
        target: target.to_owned(),
        mode,
    })
}

/// What a `Boot` object read after the PATCH says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OverrideCheck {
    /// Stored as written.
    Applied,
    /// `Once` stored as `Continuous` (quirk `once_stored_as_continuous`): clear it after the
    /// boot.
    AppliedAsContinuous,
    /// Not what was written (silently reverted, as some AMI firmware does).
    NotApplied,
}

/// Judges the `Boot` object read after the PATCH.
pub fn check_cd_override(plan: &CdOverridePlan, boot: &Value) -> OverrideCheck {
    let text = |key: &str| boot.get(key).and_then(Value::as_str);
    if text("BootSourceOverrideTarget") != Some(plan.target.as_str()) {
        return OverrideCheck::NotApplied;
    }
    if let Some(mode) = &plan.mode
        && text("BootSourceOverrideMode") != Some(mode.as_str())
    {
        return OverrideCheck::NotApplied;
    }
    match text("BootSourceOverrideEnabled") {
        Some("Once") => OverrideCheck::Applied,
        Some("Continuous") => OverrideCheck::AppliedAsContinuous,
        _ => OverrideCheck::NotApplied,
    }
}

/// The reset to send (`On` for a system that is off, else `ForceRestart`) and the action
/// target, from the System as read; `None` when the short path cannot decide it (no target,
/// or allowable values only behind an `ActionInfo`), or the type is not allowed (the full
/// path then words the error).
pub fn plan_reset(system: &Value) -> Option<(String, ResetType)> {
    let reset = match system.get("PowerState").and_then(Value::as_str) {
        Some("Off") => ResetType::On,
        _ => ResetType::ForceRestart,
    };
    let action = system.pointer("/Actions/#ComputerSystem.Reset")?;
    let target = action.get("target")?.as_str()?.to_owned();
    let allowed = allowable(action, "ResetType");
    if allowed.is_empty() {
        if action.get("@Redfish.ActionInfo").is_some() {
            return None;
        }
    } else if !allowed.contains(&reset.as_str()) {
        return None;
    }
    Some((target, reset))
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
        let found: Discovery = self.discover(Levels::Preferred).await?;
        let held = found.system.value.clone();
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
        let mut must_clear = false;
        // The System as the override PATCH returned it, when it did: fresher than `held`.
        let mut system_now = held;
        if hpe {
            client
                .patch(
                    &slot.path,
                    &json!({"Oem": {"Hpe": {"BootOnNextServerReset": true}}}),
                )
                .await?;
        } else {
            let (cleared_later, fresh) = self.set_cd_override(&system_now).await?;
            must_clear = cleared_later;
            if let Some(fresh) = fresh {
                system_now = fresh;
            }
        }
        let reset = self.send_reset(&system_now, progress).await?;

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

    /// Resets (or powers on) through the action target of the System as last read; the
    /// client's full `reset` (which reads the System and its `ActionInfo`) where that read
    /// does not say enough.
    async fn send_reset(
        &self,
        system: &Value,
        progress: &mut (dyn FnMut(&BootPhase) + Send),
    ) -> Result<ResetType, Error> {
        if let Some((target, reset)) = plan_reset(system) {
            progress(&BootPhase::Resetting {
                reset: reset.clone(),
            });
            self.system()
                .client()
                .post(&target, &json!({ "ResetType": reset.as_str() }))
                .await?;
            return Ok(reset);
        }
        let reset = match self.system().power_state().await? {
            Some(PowerState::Off) => ResetType::On,
            _ => ResetType::ForceRestart,
        };
        progress(&BootPhase::Resetting {
            reset: reset.clone(),
        });
        self.system().reset(reset.clone()).await?;
        Ok(reset)
    }

    /// The one-time override to CD: one PATCH carrying the entity tag of the System read by
    /// discovery, judged from the System the BMC answers with (one GET when it answers
    /// without). Anything the short path cannot decide or check goes through the client's
    /// full `set_boot_override`. Returns whether the override must be cleared after the boot,
    /// and the System as the PATCH returned it.
    async fn set_cd_override(&self, system: &Value) -> Result<(bool, Option<Value>), Error> {
        let client = self.system().client();
        let quirks = client.quirks().await?;
        if let Some(plan) = plan_cd_override(system, &quirks) {
            match client.patch(self.system().path(), &plan.body()).await {
                Ok(response) => {
                    let answered = response.body().get("Boot").is_some();
                    let fresh = if answered {
                        Some(response.into_body())
                    } else {
                        let read: Resource<Value> = client.get(self.system().path()).await?;
                        Some(read.value)
                    };
                    let boot = fresh
                        .as_ref()
                        .and_then(|s| s.get("Boot"))
                        .cloned()
                        .unwrap_or_default();
                    match check_cd_override(&plan, &boot) {
                        OverrideCheck::Applied => return Ok((false, fresh)),
                        OverrideCheck::AppliedAsContinuous => {
                            tracing::warn!(
                                "one-time boot override stored as Continuous; clearing it after the boot"
                            );
                            return Ok((true, fresh));
                        }
                        OverrideCheck::NotApplied => {
                            tracing::debug!(
                                "the override did not read back as written; using the full path"
                            );
                        }
                    }
                }
                Err(err) => {
                    tracing::debug!(error = %err, "the override PATCH was refused; using the full path");
                }
            }
        }
        let outcome = client
            .set_boot_override(
                self.system().path(),
                BootOverride {
                    target: BootSource::Cd,
                    enabled: BootOverrideEnabled::Once,
                    mode: None,
                },
            )
            .await?;
        Ok((outcome.must_clear_after_boot(), None))
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
    fn the_cd_override_is_one_patch_in_the_vendors_words_or_left_to_the_full_path() {
        let system = json!({"Boot": {
            "BootSourceOverrideTarget": "None", "BootSourceOverrideEnabled": "Disabled",
            "BootSourceOverrideMode": "UEFI",
            "BootSourceOverrideTarget@Redfish.AllowableValues": ["Pxe", "Cd", "UsbCd"]}});
        let plain = plan_cd_override(&system, &Quirks::default()).unwrap();
        assert_eq!(
            plain.body(),
            json!({"Boot": {"BootSourceOverrideTarget": "Cd", "BootSourceOverrideEnabled": "Once"}})
        );
        let mut supermicro = Quirks::default();
        supermicro.virtual_cd_boot_target_is_usb_cd = true;
        supermicro.boot_patch_needs_all_fields = true;
        let smc = plan_cd_override(&system, &supermicro).unwrap();
        assert_eq!(
            smc.body(),
            json!({"Boot": {"BootSourceOverrideTarget": "UsbCd", "BootSourceOverrideEnabled": "Once",
                            "BootSourceOverrideMode": "UEFI"}})
        );
        let mut settings = system.clone();
        settings["@Redfish.Settings"] = json!({"SettingsObject": {"@odata.id": "/s/Settings"}});
        assert_eq!(plan_cd_override(&settings, &Quirks::default()), None);
        let no_cd = json!({"Boot": {"BootSourceOverrideTarget@Redfish.AllowableValues": ["Pxe"]}});
        assert_eq!(plan_cd_override(&no_cd, &Quirks::default()), None);
        assert_eq!(plan_cd_override(&json!({}), &Quirks::default()), None);
    }

    #[test]
    fn the_override_is_judged_from_what_the_bmc_returns() {
        let plan = CdOverridePlan {
            target: "UsbCd".into(),
            mode: Some("UEFI".into()),
        };
        let read = |enabled: &str, target: &str, mode: &str| {
            json!({"BootSourceOverrideEnabled": enabled, "BootSourceOverrideTarget": target,
                   "BootSourceOverrideMode": mode})
        };
        assert_eq!(
            check_cd_override(&plan, &read("Once", "UsbCd", "UEFI")),
            OverrideCheck::Applied
        );
        assert_eq!(
            check_cd_override(&plan, &read("Continuous", "UsbCd", "UEFI")),
            OverrideCheck::AppliedAsContinuous
        );
        // AMI's silent revert.
        assert_eq!(
            check_cd_override(&plan, &read("Disabled", "UsbCd", "Legacy")),
            OverrideCheck::NotApplied
        );
        assert_eq!(
            check_cd_override(&plan, &read("Once", "Cd", "UEFI")),
            OverrideCheck::NotApplied
        );
    }

    #[test]
    fn the_reset_comes_from_the_held_system_when_it_says_enough() {
        let system = |power: &str, action: Value| json!({"PowerState": power, "Actions": {"#ComputerSystem.Reset": action}});
        let target = "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset";
        assert_eq!(
            plan_reset(&system("Off", json!({"target": target}))),
            Some((target.to_owned(), ResetType::On))
        );
        assert_eq!(
            plan_reset(&system(
                "On",
                json!({"target": target, "ResetType@Redfish.AllowableValues": ["On", "ForceRestart"]})
            )),
            Some((target.to_owned(), ResetType::ForceRestart))
        );
        // Not allowed, or allowed values only behind an ActionInfo: the full path decides.
        assert_eq!(
            plan_reset(&system(
                "On",
                json!({"target": target, "ResetType@Redfish.AllowableValues": ["On"]})
            )),
            None
        );
        assert_eq!(
            plan_reset(&system(
                "On",
                json!({"target": target, "@Redfish.ActionInfo": "/x/ResetActionInfo"})
            )),
            None
        );
        assert_eq!(plan_reset(&json!({"PowerState": "On"})), None);
    }

    #[test]
    fn an_override_to_another_device_is_not_ours() {
        assert!(!seen("Once", "Pxe", None).override_pending);
        assert!(!seen("Continuous", "Cd", None).override_pending);
    }
}
