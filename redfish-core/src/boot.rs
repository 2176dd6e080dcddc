//! Boot override decisions, pure: what to PATCH (validation and the vendor rewrites of quirks
//! `virtual_cd_is_usb_cd`, `override_needs_enabled`, `override_mode_needs_resend`,
//! `no_boot_mode` and `unchanged_mode_queues_bios_job`), after a refusal what to try next
//! (quirks `boot_settings_object` and `boot_mode_refused`), and what the read-back means
//! (quirk `once_stored_as_continuous`).
//!
//! Over 600 lines because each quirk's named test sits beside the decision it checks.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::Error;
use crate::models::{Boot, BootMode, BootOverrideEnabled, BootSource, RedfishMessage};
use crate::quirks::Quirks;

/// Everything [`crate::RedfishClient::set_boot_override`] writes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootOverride {
    /// The device to boot from.
    pub target: BootSource,
    /// Once, continuously, or disabled.
    pub enabled: BootOverrideEnabled,
    /// UEFI or Legacy; `None` leaves the mode as it is.
    pub mode: Option<BootMode>,
}

/// One boot override write, decided before anything is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BootPatch {
    /// The target as the BMC names it (`UsbCd` for `Cd` on Supermicro).
    pub(crate) target: BootSource,
    /// Always sent: Supermicro drops the override when a target comes without it (quirk
    /// `override_needs_enabled`).
    pub(crate) enabled: BootOverrideEnabled,
    /// The mode to send, if any.
    pub(crate) send_mode: Option<BootMode>,
    /// The mode to check when reading back, if any.
    pub(crate) expect_mode: Option<BootMode>,
}

impl BootPatch {
    /// The PATCH body.
    pub(crate) fn body(&self) -> Value {
        let mut boot = serde_json::Map::new();
        boot.insert(
            "BootSourceOverrideTarget".into(),
            json!(self.target.as_str()),
        );
        boot.insert(
            "BootSourceOverrideEnabled".into(),
            json!(self.enabled.as_str()),
        );
        if let Some(mode) = &self.send_mode {
            boot.insert("BootSourceOverrideMode".into(), json!(mode.as_str()));
        }
        json!({ "Boot": boot })
    }
}

/// Decides the write. `boot` is where the write goes (the System's Boot, or the settings
/// object's with the System's allowable values filled in); `system_boot` is the System's.
pub(crate) fn plan_boot_patch(
    wanted: &BootOverride,
    boot: &Boot,
    system_boot: &Boot,
    quirks: &Quirks,
    system_url: &str,
) -> Result<BootPatch, Error> {
    let mut target = wanted.target.clone();
    // Quirk `virtual_cd_is_usb_cd`: only rewritten when the BMC offers `UsbCd`,
    // because some models (ARS-111GL-NHR) use plain `Cd`.
    if quirks.virtual_cd_boot_target_is_usb_cd
        && target == BootSource::Cd
        && boot
            .boot_source_override_target_allowable_values
            .contains(&BootSource::UsbCd)
    {
        target = BootSource::UsbCd;
    }
    check_allowed(
        "BootSourceOverrideTarget",
        &target,
        &boot.boot_source_override_target_allowable_values,
    )?;
    check_allowed(
        "BootSourceOverrideEnabled",
        &wanted.enabled,
        &boot.boot_source_override_enabled_allowable_values,
    )?;
    let current_mode = boot
        .boot_source_override_mode
        .as_ref()
        .or(system_boot.boot_source_override_mode.as_ref());
    let (send_mode, expect_mode) = match &wanted.mode {
        Some(mode) => {
            // Quirk `no_boot_mode`: HPE Gen9 has none at all; say so instead of sending it.
            if current_mode.is_none()
                && boot.boot_source_override_mode_allowable_values.is_empty()
                && system_boot
                    .boot_source_override_mode_allowable_values
                    .is_empty()
            {
                return Err(Error::Unsupported {
                    operation: "setting the boot mode",
                    url: system_url.to_owned(),
                    missing: "Boot.BootSourceOverrideMode",
                });
            }
            check_allowed(
                "BootSourceOverrideMode",
                mode,
                &boot.boot_source_override_mode_allowable_values,
            )?;
            // Quirk `unchanged_mode_queues_bios_job`: iDRAC queues a BIOS job (and a reboot)
            // even for an unchanged mode, so an unchanged mode is not sent, unless the vendor
            // needs every field (quirk `override_mode_needs_resend`).
            let send = quirks.boot_patch_needs_all_fields || current_mode != Some(mode);
            (send.then(|| mode.clone()), Some(mode.clone()))
        }
        // Quirk `override_mode_needs_resend`: changing the device resets the mode unless it
        // is re-sent.
        None if quirks.boot_patch_needs_all_fields => {
            (current_mode.cloned(), current_mode.cloned())
        }
        None => (None, None),
    };
    Ok(BootPatch {
        target,
        enabled: wanted.enabled.clone(),
        send_mode,
        expect_mode,
    })
}

/// Where a boot override write went, and what is left to try.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BootAttempt {
    /// The write went to the `@Redfish.Settings` object, not the System.
    pub(crate) on_settings_object: bool,
    /// The System has a settings object not tried yet.
    pub(crate) settings_object_untried: bool,
    /// `BootSourceOverrideMode` was in the body.
    pub(crate) mode_sent: bool,
}

/// What to do after a refused boot override PATCH.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BootRetry {
    /// Quirk `boot_settings_object`: the System refuses to write `Boot`; PATCH the settings
    /// object instead, with its own ETag.
    SettingsObject,
    /// Quirk `boot_mode_refused`: the BMC refuses `BootSourceOverrideMode` in the PATCH (HPE
    /// DL160 Gen10); send Target and Enabled only.
    WithoutMode,
    /// Report the error.
    GiveUp,
}

/// Messages that say "this property cannot be written here" (quirk `boot_settings_object`).
const NOT_WRITABLE_HERE: &[&str] = &["PropertyNotWritable", "PropertyUnknown"];

/// Decides the next attempt from the error. Pure.
pub(crate) fn next_boot_attempt(err: &Error, attempt: BootAttempt) -> BootRetry {
    let Some(status) = err.status() else {
        return BootRetry::GiveUp;
    };
    let messages = err.messages();
    let short_ids = || messages.iter().filter_map(RedfishMessage::short_id);
    if !attempt.on_settings_object
        && attempt.settings_object_untried
        && (status == 405
            || ((400..500).contains(&status)
                && short_ids().any(|id| NOT_WRITABLE_HERE.contains(&id))))
    {
        return BootRetry::SettingsObject;
    }
    // Quirk `boot_mode_refused`: retried when the mode is blamed, or when nothing in particular is (DL160
    // answers a bare 400 to a PATCH with "too many fields"). A refusal that names another
    // boot property is about that property; dropping the mode would not help.
    if attempt.mode_sent
        && status == 400
        && (messages
            .iter()
            .any(|m| names_property(m, "BootSourceOverrideMode"))
            || !messages
                .iter()
                .any(|m| names_property(m, "BootSourceOverride")))
    {
        return BootRetry::WithoutMode;
    }
    BootRetry::GiveUp
}

/// Whether a message names a property (in `MessageArgs` or `RelatedProperties`).
fn names_property(message: &RedfishMessage, property: &str) -> bool {
    let related = message
        .extra
        .get("RelatedProperties")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str);
    message
        .message_args
        .iter()
        .map(String::as_str)
        .chain(related)
        .any(|text| text.contains(property))
}

/// What became of a boot override the BMC accepted, as read back.
///
/// A caller that asked for a one-time boot must handle [`BootOverrideOutcome::AppliedAsContinuous`]:
/// the override then stays in force after the boot, so clear it (write `Disabled`, or the next
/// target) once the system has booted, as [`BootOverrideOutcome::must_clear_after_boot`] says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
#[must_use = "a one-time override stored as Continuous must be cleared after the boot"]
pub enum BootOverrideOutcome {
    /// Read back exactly as written.
    Applied,
    /// A one-time (`Once`) override was stored as `Continuous`, with the target and mode
    /// asked for (quirk `once_stored_as_continuous`, seen on the sushy-tools emulator): the
    /// system will boot from the target on every boot until the override is cleared.
    AppliedAsContinuous,
}

impl BootOverrideOutcome {
    /// Whether the caller must clear the override after the boot it wanted, because the BMC
    /// will not clear it by itself.
    pub fn must_clear_after_boot(self) -> bool {
        matches!(self, BootOverrideOutcome::AppliedAsContinuous)
    }

    /// The outcome as a short snake_case word (`applied`, `applied_as_continuous`).
    pub fn as_str(self) -> &'static str {
        match self {
            BootOverrideOutcome::Applied => "applied",
            BootOverrideOutcome::AppliedAsContinuous => "applied_as_continuous",
        }
    }
}

/// Judges the Boot object read back after a write. Pure. A target or mode other than the one
/// written, or an Enabled other than the one written, is [`Error::NotApplied`], except a
/// `Once` stored as `Continuous`, which is applied but must be cleared after the boot.
pub(crate) fn judge_read_back(
    url: &str,
    written: &BootPatch,
    read: &Boot,
) -> Result<BootOverrideOutcome, Error> {
    let mismatch = |property: &'static str, expected: &str, actual: Option<&str>| {
        Err(Error::NotApplied {
            url: url.to_owned(),
            property,
            expected: expected.to_owned(),
            actual: actual.map(str::to_owned),
        })
    };
    if read.boot_source_override_target.as_ref() != Some(&written.target) {
        return mismatch(
            "BootSourceOverrideTarget",
            written.target.as_str(),
            read.boot_source_override_target
                .as_ref()
                .map(BootSource::as_str),
        );
    }
    if let Some(mode) = &written.expect_mode
        && read.boot_source_override_mode.as_ref() != Some(mode)
    {
        return mismatch(
            "BootSourceOverrideMode",
            mode.as_str(),
            read.boot_source_override_mode
                .as_ref()
                .map(BootMode::as_str),
        );
    }
    match (&written.enabled, read.boot_source_override_enabled.as_ref()) {
        (wanted, Some(read)) if read == wanted => Ok(BootOverrideOutcome::Applied),
        (BootOverrideEnabled::Once, Some(BootOverrideEnabled::Continuous)) => {
            tracing::warn!(
                url,
                "one-time boot override stored as Continuous; clear it after the boot"
            );
            Ok(BootOverrideOutcome::AppliedAsContinuous)
        }
        (wanted, read) => mismatch(
            "BootSourceOverrideEnabled",
            wanted.as_str(),
            read.map(BootOverrideEnabled::as_str),
        ),
    }
}

/// `value` must be among `allowed`, unless the BMC advertises nothing.
pub(crate) fn check_allowed<T: PartialEq + std::fmt::Display>(
    property: &'static str,
    value: &T,
    allowed: &[T],
) -> Result<(), Error> {
    if allowed.is_empty() || allowed.contains(value) {
        Ok(())
    } else {
        Err(Error::NotAllowed {
            property,
            requested: value.to_string(),
            allowed: allowed.iter().map(ToString::to_string).collect(),
        })
    }
}

/// The settings object may omit the allowable values the System lists (quirk
/// `boot_settings_object`).
pub(crate) fn fill_missing_allowable(settings: &mut Boot, system: &Boot) {
    if settings
        .boot_source_override_target_allowable_values
        .is_empty()
    {
        settings
            .boot_source_override_target_allowable_values
            .clone_from(&system.boot_source_override_target_allowable_values);
    }
    if settings
        .boot_source_override_enabled_allowable_values
        .is_empty()
    {
        settings
            .boot_source_override_enabled_allowable_values
            .clone_from(&system.boot_source_override_enabled_allowable_values);
    }
    if settings
        .boot_source_override_mode_allowable_values
        .is_empty()
    {
        settings
            .boot_source_override_mode_allowable_values
            .clone_from(&system.boot_source_override_mode_allowable_values);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn boot(v: Value) -> Boot {
        serde_json::from_value(v).unwrap()
    }

    fn refused(status: u16, messages: Value) -> Error {
        Error::Http {
            method: crate::HttpMethod::Patch,
            url: "https://bmc/redfish/v1/Systems/1".into(),
            status,
            messages: serde_json::from_value(messages).unwrap(),
        }
    }

    fn wanted(target: BootSource, mode: Option<BootMode>) -> BootOverride {
        BootOverride {
            target,
            enabled: BootOverrideEnabled::Once,
            mode,
        }
    }

    fn supermicro() -> Quirks {
        Quirks {
            virtual_cd_boot_target_is_usb_cd: true,
            boot_patch_needs_all_fields: true,
            ..Quirks::default()
        }
    }

    const ON_SYSTEM: BootAttempt = BootAttempt {
        on_settings_object: false,
        settings_object_untried: true,
        mode_sent: true,
    };

    #[test]
    fn boot_settings_object_when_the_system_refuses_boot() {
        for id in ["Base.1.8.PropertyNotWritable", "Base.1.12.PropertyUnknown"] {
            let err = refused(400, json!([{"MessageId": id, "MessageArgs": ["Boot"]}]));
            assert_eq!(
                next_boot_attempt(&err, ON_SYSTEM),
                BootRetry::SettingsObject,
                "{id}"
            );
        }
        assert_eq!(
            next_boot_attempt(&refused(405, json!([])), ON_SYSTEM),
            BootRetry::SettingsObject
        );
        // Without a settings object, or once there, the mode is the next suspect (quirk
        // `boot_mode_refused`).
        let err = refused(400, json!([{"MessageId": "Base.1.8.PropertyNotWritable"}]));
        let no_settings = BootAttempt {
            settings_object_untried: false,
            ..ON_SYSTEM
        };
        assert_eq!(next_boot_attempt(&err, no_settings), BootRetry::WithoutMode);
        let on_settings = BootAttempt {
            on_settings_object: true,
            settings_object_untried: false,
            mode_sent: false,
        };
        assert_eq!(next_boot_attempt(&err, on_settings), BootRetry::GiveUp);
    }

    #[test]
    fn boot_mode_refused_is_retried_without_mode() {
        let no_settings = BootAttempt {
            settings_object_untried: false,
            ..ON_SYSTEM
        };
        let blamed = refused(
            400,
            json!([{"MessageId": "Base.1.8.PropertyValueNotInList",
                    "RelatedProperties": ["#/Boot/BootSourceOverrideMode"]}]),
        );
        assert_eq!(
            next_boot_attempt(&blamed, no_settings),
            BootRetry::WithoutMode
        );
        let bare = refused(400, json!([]));
        assert_eq!(
            next_boot_attempt(&bare, no_settings),
            BootRetry::WithoutMode
        );
        // Another property blamed: dropping the mode would not help.
        let target_blamed = refused(
            400,
            json!([{"MessageId": "Base.1.8.PropertyValueNotInList",
                    "MessageArgs": ["Usb", "BootSourceOverrideTarget"]}]),
        );
        assert_eq!(
            next_boot_attempt(&target_blamed, no_settings),
            BootRetry::GiveUp
        );
        // No mode sent, or not a 400: nothing to drop.
        let without_mode = BootAttempt {
            mode_sent: false,
            ..no_settings
        };
        assert_eq!(next_boot_attempt(&bare, without_mode), BootRetry::GiveUp);
        assert_eq!(
            next_boot_attempt(&refused(500, json!([])), no_settings),
            BootRetry::GiveUp
        );
        assert_eq!(
            next_boot_attempt(&Error::Closed, no_settings),
            BootRetry::GiveUp
        );
    }

    #[test]
    fn virtual_cd_is_usb_cd_and_supermicro_resends_enabled_and_mode() {
        let current = boot(json!({
            "BootSourceOverrideMode": "UEFI",
            "BootSourceOverrideTarget@Redfish.AllowableValues": ["None", "Pxe", "UsbCd", "Hdd"]
        }));
        let patch = plan_boot_patch(
            &wanted(BootSource::Cd, None),
            &current,
            &current,
            &supermicro(),
            "u",
        )
        .unwrap();
        assert_eq!(
            patch.body(),
            json!({"Boot": {"BootSourceOverrideTarget": "UsbCd",
                            "BootSourceOverrideEnabled": "Once",
                            "BootSourceOverrideMode": "UEFI"}})
        );
        // A model that offers plain Cd keeps it (ARS-111GL-NHR).
        let plain_cd = boot(json!({
            "BootSourceOverrideTarget@Redfish.AllowableValues": ["Pxe", "Cd"]
        }));
        let patch = plan_boot_patch(
            &wanted(BootSource::Cd, None),
            &plain_cd,
            &plain_cd,
            &supermicro(),
            "u",
        )
        .unwrap();
        assert_eq!(patch.target, BootSource::Cd);
        // The standard path sends neither the rewrite nor an unrequested mode.
        let patch = plan_boot_patch(
            &wanted(BootSource::Cd, None),
            &plain_cd,
            &plain_cd,
            &Quirks::default(),
            "u",
        )
        .unwrap();
        assert_eq!(
            patch.body(),
            json!({"Boot": {"BootSourceOverrideTarget": "Cd", "BootSourceOverrideEnabled": "Once"}})
        );
    }

    #[test]
    fn unchanged_mode_queues_bios_job_so_it_is_not_sent_but_still_checked() {
        let uefi = boot(json!({"BootSourceOverrideMode": "UEFI"}));
        let patch = plan_boot_patch(
            &wanted(BootSource::Pxe, Some(BootMode::Uefi)),
            &uefi,
            &uefi,
            &Quirks::default(),
            "u",
        )
        .unwrap();
        assert_eq!(patch.send_mode, None);
        assert_eq!(patch.expect_mode, Some(BootMode::Uefi));
        let patch = plan_boot_patch(
            &wanted(BootSource::Pxe, Some(BootMode::Legacy)),
            &uefi,
            &uefi,
            &Quirks::default(),
            "u",
        )
        .unwrap();
        assert_eq!(patch.send_mode, Some(BootMode::Legacy));
        // Quirk `override_mode_needs_resend`: vendors that need every field get it unchanged.
        let patch = plan_boot_patch(
            &wanted(BootSource::Pxe, Some(BootMode::Uefi)),
            &uefi,
            &uefi,
            &supermicro(),
            "u",
        )
        .unwrap();
        assert_eq!(patch.send_mode, Some(BootMode::Uefi));
    }

    #[test]
    fn no_boot_mode_at_all_is_unsupported() {
        let gen9 = boot(json!({"BootSourceOverrideTarget": "None"}));
        let err = plan_boot_patch(
            &wanted(BootSource::Pxe, Some(BootMode::Uefi)),
            &gen9,
            &gen9,
            &Quirks::default(),
            "https://bmc/redfish/v1/Systems/1",
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Unsupported {
                    missing: "Boot.BootSourceOverrideMode",
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            plan_boot_patch(
                &wanted(BootSource::Pxe, None),
                &gen9,
                &gen9,
                &Quirks::default(),
                "u"
            )
            .is_ok()
        );
    }

    #[test]
    fn allowed_values_check() {
        let allowed = vec![BootSource::Pxe, BootSource::Hdd];
        assert!(check_allowed("T", &BootSource::Pxe, &allowed).is_ok());
        assert!(
            check_allowed("T", &BootSource::Cd, &[]).is_ok(),
            "nothing advertised: allowed"
        );
        let err = check_allowed("BootSourceOverrideTarget", &BootSource::Cd, &allowed).unwrap_err();
        assert_eq!(
            err.to_string(),
            "BootSourceOverrideTarget \"Cd\" is not allowed by the BMC; allowed: Pxe, Hdd"
        );
    }

    #[test]
    fn settings_boot_inherits_system_allowable_values() {
        let system = Boot {
            boot_source_override_target_allowable_values: vec![BootSource::Pxe],
            ..Boot::default()
        };
        let mut settings = Boot::default();
        fill_missing_allowable(&mut settings, &system);
        assert_eq!(
            settings.boot_source_override_target_allowable_values,
            vec![BootSource::Pxe]
        );
    }

    #[test]
    fn once_stored_as_continuous_is_applied_but_must_be_cleared() {
        let written = BootPatch {
            target: BootSource::Pxe,
            enabled: BootOverrideEnabled::Once,
            send_mode: None,
            expect_mode: Some(BootMode::Uefi),
        };
        let read = |enabled: &str, target: &str, mode: &str| {
            boot(
                json!({"BootSourceOverrideEnabled": enabled, "BootSourceOverrideTarget": target,
                        "BootSourceOverrideMode": mode}),
            )
        };
        let exact = judge_read_back("u", &written, &read("Once", "Pxe", "UEFI")).unwrap();
        assert_eq!(exact, BootOverrideOutcome::Applied);
        assert!(!exact.must_clear_after_boot());
        let continuous =
            judge_read_back("u", &written, &read("Continuous", "Pxe", "UEFI")).unwrap();
        assert_eq!(continuous, BootOverrideOutcome::AppliedAsContinuous);
        assert!(continuous.must_clear_after_boot());
        // Continuous with another target or mode is not the override asked for.
        for (target, mode, property) in [
            ("Hdd", "UEFI", "BootSourceOverrideTarget"),
            ("Pxe", "Legacy", "BootSourceOverrideMode"),
        ] {
            let err =
                judge_read_back("u", &written, &read("Continuous", target, mode)).unwrap_err();
            assert!(
                matches!(err, Error::NotApplied { property: p, .. } if p == property),
                "{err}"
            );
        }
        // Other Enabled values are not applied: Disabled, or Once asked and nothing read.
        let err = judge_read_back("u", &written, &read("Disabled", "Pxe", "UEFI")).unwrap_err();
        assert!(matches!(
            err,
            Error::NotApplied {
                property: "BootSourceOverrideEnabled",
                ..
            }
        ));
        // Continuous asked and Once stored is not accepted: the override would not persist.
        let continuous_wanted = BootPatch {
            enabled: BootOverrideEnabled::Continuous,
            ..written
        };
        let err =
            judge_read_back("u", &continuous_wanted, &read("Once", "Pxe", "UEFI")).unwrap_err();
        assert!(matches!(
            err,
            Error::NotApplied {
                property: "BootSourceOverrideEnabled",
                ..
            }
        ));
        assert_eq!(
            serde_json::to_value(continuous).unwrap(),
            json!("applied_as_continuous")
        );
    }
}
