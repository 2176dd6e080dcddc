//! Power, boot, BMC-identity and transport behaviours a node can be switched into, each a named
//! quirk of real firmware, so a provisioning flow's retry and fallback branches (and a client's
//! handling of each quirk, switched on and off) run against the mock.
//! Set at start ([`crate::MockBmcBuilder::power_on_conflicts`] and the other builder methods
//! named below), changed at run time ([`crate::NodeHandle::set_system_options`], admin `POST
//! /nodes/{i}/options` with `"system": {...}`).

use serde::{Deserialize, Serialize};

/// The power, boot, identity and transport switches of one node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[allow(clippy::struct_excessive_bools)] // each bool is one named vendor quirk, independent of the others
pub struct SystemOptions {
    /// Quirk `idrac10_power_on_conflict`: the next this-many `On` or `ForceOn` resets are
    /// answered 409 with `Base.1.18.ActionParameterValueConflict` and change nothing (iDRAC10
    /// shortly after a power-off). Each refused reset counts one down; other resets and every
    /// read are served as usual.
    pub power_on_conflicts: u32,
    /// Quirk `continuous_boot_refused`: a boot override PATCH asking for
    /// `BootSourceOverrideEnabled: Continuous` is refused with 400
    /// `PropertyValueNotInList`, though `Continuous` is listed as allowable (firmware that
    /// keeps only one-time overrides). `Once` and `Disabled` are accepted.
    pub continuous_boot_refused: bool,
    /// The Manager's `FirmwareVersion` instead of the personality's (`1.20.25.00` makes a
    /// Dell node an iDRAC10, whose version numbers restarted at 1.x).
    pub manager_firmware: Option<String>,
    /// The Manager's `Model` instead of the personality's (`17G Monolithic`: iDRAC10).
    pub manager_model: Option<String>,
    /// Quirk `gzip_weakens_etag` (iDRAC): to a request that does not ask for
    /// `Accept-Encoding: identity` (so accepts compression), every `ETag` is weak and carries
    /// `-gzip` (`W/"…-gzip"`); an `If-Match` naming that suffixed tag matches nothing and the
    /// PATCH is refused with 412, as iDRAC refuses it.
    pub gzip_weakens_etag: bool,
    /// Quirk `identity_encoding_refused` (HPE Gen10 Plus registries, some iDRAC): a request
    /// carrying `Accept-Encoding: identity` is answered 406 Not Acceptable.
    pub identity_encoding_refused: bool,
    /// Quirk `stale_keep_alive_connection` (iLO): a connection that has served an answer is
    /// reset when the next request arrives on it, so a client that reuses pooled keep-alive
    /// connections meets a reset; one that sends `Connection: close` never reuses one.
    pub stale_keep_alive_connection: bool,
    /// Quirk `ilo_busy_during_post`: the next this-many System PATCH requests that carry `Boot` are
    /// refused with 400 `iLO.2.15.UnableToModifyDuringSystemPOST` and change nothing (iLO
    /// while the host is in POST). Each refusal counts one down.
    pub ilo_busy_during_post: u32,
}

/// Changes to [`SystemOptions`]: a `None` field leaves the setting as it is (builder, admin
/// API). For the Manager's firmware and model, `Some("")` goes back to the personality's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SystemOptionsChange {
    /// [`SystemOptions::power_on_conflicts`].
    pub power_on_conflicts: Option<u32>,
    /// [`SystemOptions::continuous_boot_refused`].
    pub continuous_boot_refused: Option<bool>,
    /// [`SystemOptions::manager_firmware`].
    pub manager_firmware: Option<String>,
    /// [`SystemOptions::manager_model`].
    pub manager_model: Option<String>,
    /// [`SystemOptions::gzip_weakens_etag`].
    pub gzip_weakens_etag: Option<bool>,
    /// [`SystemOptions::identity_encoding_refused`].
    pub identity_encoding_refused: Option<bool>,
    /// [`SystemOptions::stale_keep_alive_connection`].
    pub stale_keep_alive_connection: Option<bool>,
    /// [`SystemOptions::ilo_busy_during_post`].
    pub ilo_busy_during_post: Option<u32>,
}

impl SystemOptionsChange {
    /// Applies the change.
    pub fn apply_to(&self, options: &mut SystemOptions) {
        if let Some(count) = self.power_on_conflicts {
            options.power_on_conflicts = count;
        }
        if let Some(on) = self.continuous_boot_refused {
            options.continuous_boot_refused = on;
        }
        let text = |value: &String| (!value.is_empty()).then(|| value.clone());
        if let Some(version) = &self.manager_firmware {
            options.manager_firmware = text(version);
        }
        if let Some(model) = &self.manager_model {
            options.manager_model = text(model);
        }
        if let Some(on) = self.gzip_weakens_etag {
            options.gzip_weakens_etag = on;
        }
        if let Some(on) = self.identity_encoding_refused {
            options.identity_encoding_refused = on;
        }
        if let Some(on) = self.stale_keep_alive_connection {
            options.stale_keep_alive_connection = on;
        }
        if let Some(count) = self.ilo_busy_during_post {
            options.ilo_busy_during_post = count;
        }
    }

    /// Every field of `options`, as a change (what the admin API shows).
    pub fn of(options: &SystemOptions) -> SystemOptionsChange {
        SystemOptionsChange {
            power_on_conflicts: Some(options.power_on_conflicts),
            continuous_boot_refused: Some(options.continuous_boot_refused),
            manager_firmware: Some(options.manager_firmware.clone().unwrap_or_default()),
            manager_model: Some(options.manager_model.clone().unwrap_or_default()),
            gzip_weakens_etag: Some(options.gzip_weakens_etag),
            identity_encoding_refused: Some(options.identity_encoding_refused),
            stale_keep_alive_connection: Some(options.stale_keep_alive_connection),
            ilo_busy_during_post: Some(options.ilo_busy_during_post),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_sets_only_what_it_names_and_an_empty_identity_restores_the_personality() {
        let mut o = SystemOptions::default();
        let change: SystemOptionsChange =
            serde_json::from_str(r#"{"power_on_conflicts": 2, "manager_firmware": "1.20.25.00"}"#)
                .unwrap();
        change.apply_to(&mut o);
        assert_eq!(o.power_on_conflicts, 2);
        assert_eq!(o.manager_firmware.as_deref(), Some("1.20.25.00"));
        assert!(!o.continuous_boot_refused && o.manager_model.is_none());
        SystemOptionsChange {
            manager_firmware: Some(String::new()),
            continuous_boot_refused: Some(true),
            ..SystemOptionsChange::default()
        }
        .apply_to(&mut o);
        assert_eq!(o.manager_firmware, None);
        assert!(o.continuous_boot_refused);
        assert_eq!(o.power_on_conflicts, 2);
        assert_eq!(SystemOptionsChange::of(&o).power_on_conflicts, Some(2));
        let transport: SystemOptionsChange = serde_json::from_str(
            r#"{"gzip_weakens_etag": true, "identity_encoding_refused": true,
                "stale_keep_alive_connection": true, "ilo_busy_during_post": 3}"#,
        )
        .unwrap();
        transport.apply_to(&mut o);
        assert!(
            o.gzip_weakens_etag && o.identity_encoding_refused && o.stale_keep_alive_connection
        );
        assert_eq!(o.ilo_busy_during_post, 3);
        let mut copy = SystemOptions::default();
        SystemOptionsChange::of(&o).apply_to(&mut copy);
        assert_eq!(copy, o, "the admin API's view sets every switch back");
        assert!(serde_json::from_str::<SystemOptionsChange>(r#"{"nope": 1}"#).is_err());
    }
}
