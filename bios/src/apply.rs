//! Applying staged changes: a reset that really applies pending BIOS (not a graceful restart,
//! which some firmware ignores; seen by Ironic), a wait through the Dell job, the task or
//! by polling (deadline, backoff, progress events), then a per-attribute verification:
//! applied, still pending, rejected (with the BMC's `MessageId` and text), or not applied.
//! "Accepted but not applied" is an error. The decisions ([`reset_for`], [`settled`],
//! [`verify`]) are pure; a Dell job is followed with redfish-core's typed Dell client
//! ([`ferrofish_redfish_core::oem::dell`]), which decides its terminal and failed states.

use ferrofish_redfish_core::oem::dell::{DellOem, JobEnd};
use ferrofish_redfish_core::{
    PowerState, RedfishMessage, ResetType, Resource, TaskWait, next_poll_delay,
};
use serde_json::{Value, json};

use crate::bios::{Bios, BiosSnapshot, StageOutcome};
use crate::diff::Change;
use crate::error::BiosError;
pub use crate::report::{ApplyReport, AttributeOutcome, AttributeStatus, FactoryResetReport};
use crate::value::Attributes;

/// How to apply and how long to wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Deadline and backoff of the wait (default: 30 minutes, 1 s doubling to 15 s).
    pub wait: TaskWait,
    /// Issue the reset (default). Off: the caller reboots the system itself; the wait starts
    /// at once.
    pub reset: bool,
}

impl Default for ApplyOptions {
    fn default() -> ApplyOptions {
        ApplyOptions {
            wait: TaskWait::default(),
            reset: true,
        }
    }
}

/// What happens while applying, for a progress display.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ApplyEvent {
    /// The reset being issued.
    Resetting(ResetType),
    /// A Dell job's state and percentage.
    Job {
        /// `JobState`.
        state: String,
        /// `PercentComplete`.
        percent: Option<u64>,
    },
    /// Polling: how many changes are not current yet.
    Waiting {
        /// Changes still to show up as current.
        outstanding: usize,
    },
    /// The Dell job answered 404 before it was seen to end (quirk `dell_job_vanished`): its
    /// outcome is unknown, so the attributes decide (as Ironic does when a task it follows
    /// is gone).
    JobVanished {
        /// The job's URL.
        job: String,
    },
}

/// The reset that applies pending BIOS: `On` when the system is off, else `ForceRestart`
/// (`GracefulRestart` is ignored by some firmware). Pure.
pub fn reset_for(power: Option<&PowerState>) -> ResetType {
    match power {
        Some(PowerState::Off) => ResetType::On,
        _ => ResetType::ForceRestart,
    }
}

/// Whether the BMC is done with the changes: all current, or it reports a new apply
/// (`@Redfish.Settings.Time` moved), or (where pending lists only changes) none is pending
/// any more. Pure.
pub fn settled(changes: &[Change], before_time: Option<&str>, after: &BiosSnapshot) -> bool {
    let lists_all = after.quirks.pending_lists_all_attributes;
    let all_current = changes.iter().all(|c| {
        is_applied(c, &after.current, &after.pending, lists_all)
            || matches!(c.value, crate::value::AttributeValue::Password(_))
    });
    let new_apply = after.settings.time.is_some() && after.settings.time.as_deref() != before_time;
    let none_pending = !after.quirks.pending_lists_all_attributes
        && changes.iter().all(|c| !after.pending.contains_key(&c.name));
    all_current || new_apply || none_pending
}

/// The message that speaks of `name`: its `MessageArgs`, `RelatedProperties` or text name
/// it; success messages do not count.
fn message_about<'m>(messages: &'m [RedfishMessage], name: &str) -> Option<&'m RedfishMessage> {
    messages.iter().find(|m| {
        let ok = m
            .message_id
            .as_deref()
            .is_some_and(|id| id.ends_with("Success"))
            || m.severity.as_deref() == Some("OK")
            || m.message_severity.as_deref() == Some("OK");
        let related = m
            .extra
            .get("RelatedProperties")
            .and_then(Value::as_array)
            .is_some_and(|r| {
                r.iter()
                    .filter_map(Value::as_str)
                    .any(|p| p.rsplit('/').next() == Some(name))
            });
        !ok && (m.message_args.iter().any(|a| a == name)
            || related
            || m.message.as_deref().is_some_and(|t| t.contains(name)))
    })
}

/// Whether a change shows as applied: current, and (where pending holds only changes, Dell
/// style) no longer pending, since an iDRAC shows pending values in `Bios` before its job ran
/// (quirks `pending_shown_before_job` and `pending_lists_all_attributes`, as Ironic decides). Pure.
fn is_applied(
    c: &Change,
    current: &Attributes,
    pending: &Attributes,
    pending_lists_all: bool,
) -> bool {
    current.get(&c.name).is_some_and(|v| v.same_as(&c.value))
        && (pending_lists_all || !pending.contains_key(&c.name))
}

/// The outcome of every change after the apply. `pending_lists_all` (HPE, Lenovo): presence in
/// pending means nothing, only a pending value equal to the request counts as still pending.
/// `job_failure`: a failed job's message, given to changes no message names. Pure.
pub fn verify(
    changes: &[Change],
    current: &Attributes,
    pending: &Attributes,
    messages: &[RedfishMessage],
    job_failure: Option<&RedfishMessage>,
    pending_lists_all: bool,
) -> Vec<AttributeOutcome> {
    changes
        .iter()
        .map(|c| {
            let status = if matches!(c.value, crate::value::AttributeValue::Password(_)) {
                AttributeStatus::Unverifiable
            } else if is_applied(c, current, pending, pending_lists_all) {
                AttributeStatus::Applied
            } else if let Some(m) = message_about(messages, &c.name).or(job_failure) {
                AttributeStatus::Rejected {
                    message_id: m.message_id.clone(),
                    message: m.message.clone(),
                }
            } else if pending
                .get(&c.name)
                .is_some_and(|p| !pending_lists_all || p.same_as(&c.value))
            {
                AttributeStatus::StillPending
            } else {
                AttributeStatus::NotApplied
            };
            AttributeOutcome {
                name: c.name.clone(),
                status,
            }
        })
        .collect()
}

impl Bios {
    /// Applies what [`Bios::stage`] staged: resets the system ([`reset_for`]), waits through
    /// the Dell job, the task, or by polling the BIOS, then verifies each attribute. Any
    /// attribute not applied is [`BiosError::NotApplied`] carrying the report.
    pub async fn apply(
        &self,
        staged: &StageOutcome,
        options: &ApplyOptions,
        on_progress: &mut (dyn FnMut(&ApplyEvent) + Send),
    ) -> Result<ApplyReport, BiosError> {
        let changes = &staged.plan.diff.changes;
        let before = self.read().await?;
        let reset =
            if options.reset && (staged.sent || !staged.plan.diff.already_pending.is_empty()) {
                Some(self.reset_to_apply(&options.wait, on_progress).await?)
            } else {
                None
            };
        let client = self.system().client();
        let started = tokio::time::Instant::now();
        let deadline = started + options.wait.timeout;
        let mut job_failure = None;
        if let Some(job) = &staged.job {
            if before.quirks.settings_patch_schedules_job {
                job_failure = self.wait_job(job, options, on_progress).await?;
            } else {
                let mut forward = |p: &ferrofish_redfish_core::TaskProgress| {
                    on_progress(&ApplyEvent::Job {
                        state: p
                            .state
                            .as_ref()
                            .map_or_else(String::new, ToString::to_string),
                        percent: p.percent,
                    });
                };
                match client.wait_task_at(job, &options.wait, &mut forward).await {
                    Ok(_) => {}
                    Err(ferrofish_redfish_core::Error::TaskFailed { messages, .. }) => {
                        job_failure = messages.into_iter().next();
                    }
                    Err(err) => return Err(err.into()),
                }
            }
        }
        let mut delay = None;
        let after = loop {
            let snapshot = self.read().await?;
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            if job_failure.is_some()
                || settled(changes, before.settings.time.as_deref(), &snapshot)
                || remaining.is_zero()
            {
                break snapshot;
            }
            on_progress(&ApplyEvent::Waiting {
                outstanding: changes
                    .iter()
                    .filter(|c| {
                        !snapshot
                            .current
                            .get(&c.name)
                            .is_some_and(|v| v.same_as(&c.value))
                    })
                    .count(),
            });
            let pause = next_poll_delay(delay, None, &options.wait, remaining);
            delay = Some(pause);
            tokio::time::sleep(pause).await;
        };
        // A BMC message may echo a value sent; never one of the passwords.
        let secrets: Vec<String> = changes
            .iter()
            .filter(|c| matches!(c.value, crate::value::AttributeValue::Password(_)))
            .filter_map(|c| c.value.to_wire().as_str().map(str::to_owned))
            .filter(|s| !s.is_empty())
            .collect();
        let mut messages = after.settings.messages.clone();
        messages.extend(job_failure.clone());
        for m in &mut messages {
            scrub(m, &secrets);
        }
        let job_failure = job_failure.is_some().then(|| messages.pop()).flatten();
        let report = ApplyReport {
            attributes: verify(
                changes,
                &after.current,
                &after.pending,
                &messages,
                job_failure.as_ref(),
                after.quirks.pending_lists_all_attributes,
            ),
            reset,
            job: staged.job.clone(),
        };
        if report.all_applied() {
            Ok(report)
        } else {
            Err(BiosError::NotApplied { report })
        }
    }

    /// Issues the reset that applies pending BIOS; `PowerCycle` where `ForceRestart` is not
    /// offered.
    async fn reset_to_apply(
        &self,
        wait: &TaskWait,
        on_progress: &mut (dyn FnMut(&ApplyEvent) + Send),
    ) -> Result<ResetType, BiosError> {
        let power = self.settled_power(wait).await?;
        let wanted = reset_for(power.as_ref());
        on_progress(&ApplyEvent::Resetting(wanted.clone()));
        match self.system().reset(wanted.clone()).await {
            Ok(()) => Ok(wanted),
            Err(ferrofish_redfish_core::Error::NotAllowed { .. })
                if wanted == ResetType::ForceRestart =>
            {
                on_progress(&ApplyEvent::Resetting(ResetType::PowerCycle));
                self.system().reset(ResetType::PowerCycle).await?;
                Ok(ResetType::PowerCycle)
            }
            Err(err) => Err(err.into()),
        }
    }

    /// The power state once no transition is under way (a reset during one is refused with
    /// 409), polled with the wait's backoff until its deadline.
    async fn settled_power(&self, wait: &TaskWait) -> Result<Option<PowerState>, BiosError> {
        let deadline = tokio::time::Instant::now() + wait.timeout;
        let mut delay = None;
        loop {
            let power = self.system().power_state().await?;
            let moving = matches!(
                power,
                Some(PowerState::PoweringOn | PowerState::PoweringOff)
            );
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            if !moving || remaining.is_zero() {
                return Ok(power);
            }
            let pause = next_poll_delay(delay, None, wait, remaining);
            delay = Some(pause);
            tokio::time::sleep(pause).await;
        }
    }

    /// Follows the Dell job the settings PATCH scheduled (quirk `settings_patch_schedules_job`)
    /// with the typed Dell client: its failure message when it failed; `None` when it
    /// completed or vanished (then the attributes decide).
    async fn wait_job(
        &self,
        job: &str,
        options: &ApplyOptions,
        on_progress: &mut (dyn FnMut(&ApplyEvent) + Send),
    ) -> Result<Option<RedfishMessage>, BiosError> {
        let dell = DellOem::new(self.system().client());
        let mut forward = |j: &ferrofish_redfish_core::oem::dell::DellJob| {
            on_progress(&ApplyEvent::Job {
                state: j.state.to_string(),
                percent: j.percent,
            });
        };
        let end = dell.wait_job_at(job, &options.wait, &mut forward).await?;
        if let JobEnd::Vanished { url, .. } = &end {
            on_progress(&ApplyEvent::JobVanished { job: url.clone() });
        }
        Ok(end.failure())
    }

    /// Resets every BIOS attribute to its default (`#Bios.ResetBios`, posted with `{}`: some
    /// iDRACs refuse the action without a body, quirk `reset_bios_needs_body`), applies it with a reset
    /// and waits until the BMC reports the apply; verifies that attributes the registry gives
    /// a `DefaultValue` are back at it. Returns the attributes that are not.
    pub async fn factory_reset(
        &self,
        options: &ApplyOptions,
        on_progress: &mut (dyn FnMut(&ApplyEvent) + Send),
    ) -> Result<FactoryResetReport, BiosError> {
        let before = self.read().await?;
        let bios: Resource<Value> = self.system().client().get(before.url.path()).await?;
        let target = bios
            .value
            .pointer("/Actions/#Bios.ResetBios/target")
            .and_then(Value::as_str)
            .ok_or_else(|| ferrofish_redfish_core::Error::Unsupported {
                operation: "factory_reset",
                url: before.url.to_string(),
                missing: "Actions.#Bios.ResetBios",
            })?
            .to_owned();
        self.system().client().post(&target, &json!({})).await?;
        let reset = if options.reset {
            Some(self.reset_to_apply(&options.wait, on_progress).await?)
        } else {
            None
        };
        let started = tokio::time::Instant::now();
        let deadline = started + options.wait.timeout;
        let mut delay = None;
        let after = loop {
            let snapshot = self.read().await?;
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            let applied =
                snapshot.settings.time.is_some() && snapshot.settings.time != before.settings.time;
            if applied || remaining.is_zero() {
                break snapshot;
            }
            on_progress(&ApplyEvent::Waiting { outstanding: 0 });
            let pause = next_poll_delay(delay, None, &options.wait, remaining);
            delay = Some(pause);
            tokio::time::sleep(pause).await;
        };
        let not_default = not_at_default(&after);
        let report = FactoryResetReport {
            reset,
            not_default,
            checked: after.registry.registry.as_ref().map_or(0, |r| {
                r.attributes
                    .iter()
                    .filter(|a| a.default_value.is_some())
                    .count()
            }),
        };
        if report.not_default.is_empty() {
            Ok(report)
        } else {
            Err(BiosError::FactoryResetNotApplied { report })
        }
    }
}

/// Replaces every secret in a message's text and arguments. Pure.
fn scrub(message: &mut RedfishMessage, secrets: &[String]) {
    let clean = |text: &mut String| {
        for secret in secrets {
            if text.contains(secret.as_str()) {
                *text = text.replace(secret.as_str(), crate::value::REDACTED);
            }
        }
    };
    if let Some(text) = message.message.as_mut() {
        clean(text);
    }
    for arg in &mut message.message_args {
        clean(arg);
    }
}

/// Writable attributes not at their registry default. Pure.
fn not_at_default(snapshot: &BiosSnapshot) -> Vec<String> {
    let Some(registry) = snapshot.registry.registry.as_ref() else {
        return Vec::new();
    };
    registry
        .attributes
        .iter()
        .filter(|a| !a.read_only && !a.immutable)
        .filter_map(|a| {
            let default = a.default_value.as_ref()?;
            let current = snapshot.current.get(&a.name)?;
            (current.to_wire() != *default).then(|| a.name.clone())
        })
        .collect()
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
