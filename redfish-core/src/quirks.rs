//! Per-BMC behaviour as plain data, resolved by pure functions.
//!
//! Precedence: DMTF default → what the service advertises → vendor/firmware table → user
//! override. Each vendor behaviour has a name (`docs/quirks.md` lists them all, with where
//! each was seen and the test that proves it); the fields below are the switches those named
//! quirks turn.
//!
//! Resolution happens in two stages so the common case costs no request: the service root
//! usually names the vendor, and only a rule that depends on the firmware version
//! ([`firmware_matters`]) needs the Manager, which the client then reads only before the
//! operation that rule affects.

use serde::{Deserialize, Serialize};

use crate::models::{Manager, ServiceRoot};
use crate::vendor::{Vendor, parse_firmware_version};

/// Declares [`Quirks`], its DMTF default and [`QuirksOverride`] from one list, so every quirk
/// field has its override field and its `apply` line by construction.
macro_rules! declare_quirks {
    ($( $(#[$meta:meta])* $field:ident : $ty:ty = $default:expr ),* $(,)?) => {
        /// How the client adapts to one BMC. Each field is the switch of one or more named
        /// quirks (see `docs/quirks.md`).
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
        #[non_exhaustive]
        #[allow(clippy::struct_excessive_bools)] // independent switches, not the states of one machine
        pub struct Quirks {
            $( $(#[$meta])* pub $field: $ty, )*
        }

        impl Default for Quirks {
            /// The DMTF default: standard behaviour, nothing vendor-specific.
            fn default() -> Quirks {
                Quirks { $( $field: $default, )* }
            }
        }

        /// User overrides, applied last: every `Some` replaces the resolved value. Generated
        /// from the same list as [`Quirks`], so it has one field per quirk field.
        #[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct QuirksOverride {
            $(
                #[doc = concat!("Replaces [`Quirks::", stringify!($field), "`] when `Some`.")]
                pub $field: Option<$ty>,
            )*
        }

        impl QuirksOverride {
            /// Applies the overrides to resolved quirks.
            pub fn apply(&self, quirks: &mut Quirks) {
                $(
                    if let Some(value) = &self.$field {
                        quirks.$field.clone_from(value);
                    }
                )*
            }
        }

        /// The names of the [`Quirks`] fields, in declaration order.
        pub const QUIRK_FIELDS: &[&str] = &[$( stringify!($field) ),*];
    };
}

declare_quirks! {
    /// Log in through the SessionService. DMTF default: yes; off when the service root
    /// advertises no sessions (only with [`crate::AuthMode::Auto`]). Switched off by the user,
    /// `Auto` uses HTTP Basic without any login.
    session_auth: bool = true,
    /// Read collections with `$expand`, in the deepest form `ProtocolFeaturesSupported`
    /// allows. On when the root advertises `ExpandQuery`; off for AMI and NVIDIA platforms
    /// whose expanded members lose required properties (quirk
    /// `expand_drops_required_properties`). Incomplete expanded members are fetched anyway.
    expand_collections: bool = false,
    /// Send `Accept-Encoding: identity` so ETags stay strong (quirk `gzip_weakens_etag`).
    accept_encoding_identity: bool = true,
    /// Repeat a request without `Accept-Encoding: identity` when the BMC answers 406 (quirk
    /// `identity_encoding_refused`, HPE Gen10 Plus registries).
    retry_406_without_identity: bool = true,
    /// Remove the `-gzip` suffix iDRAC appends to ETags (quirk `gzip_weakens_etag`).
    strip_gzip_etag_suffix: bool = true,
    /// Send `If-Match: *` on a PATCH when no ETag is known (quirk `patch_requires_if_match`,
    /// AMI).
    if_match_required: bool = false,
    /// Send `Connection: close`, each request on a connection of its own, never a pooled one
    /// (quirk `stale_keep_alive_connection`: HPE resets reused connections).
    close_connections: bool = false,
    /// Short `MessageId`s after which a request is retried, POST included: quirks
    /// `idrac_data_sources_unavailable` (`SYS518`), `ilo_not_ready_after_power_change`
    /// (`InvalidOperationForSystemState`), `idrac10_power_on_conflict`
    /// (`ActionParameterValueConflict`) and `ilo_busy_during_post`
    /// (`UnableToModifyDuringSystemPOST`).
    transient_post_message_ids: Vec<String> = Vec::new(),
    /// A reset into the state the system is already in answers 409 (quirk
    /// `redundant_power_conflict`, Dell); the client treats that as success.
    redundant_power_action_conflicts: bool = false,
    /// The virtual CD boot target is `UsbCd`, not `Cd` (quirk `virtual_cd_is_usb_cd`,
    /// Supermicro).
    virtual_cd_boot_target_is_usb_cd: bool = false,
    /// Boot override PATCHes must carry Enabled and Mode even when unchanged (quirks
    /// `override_needs_enabled` and `override_mode_needs_resend`, Supermicro and AMI).
    boot_patch_needs_all_fields: bool = false,
    /// How many sessions the BMC allows (quirk `session_cap`: iDRAC 8, XCC 16).
    /// Informational.
    max_sessions: Option<u32> = None,
    /// Ask the Lifecycle Controller whether it is ready before configuration work (a BIOS
    /// change) and wait until it is (quirk `lc_busy_refuses_config`, Dell): an iDRAC refuses
    /// new configuration while its LC is busy. See `oem::dell`.
    lc_ready_before_config: bool = false,
    /// A reset to `On` that the BMC does not offer, where it offers `PushPowerButton`, is
    /// sent as a button press while the system is off, and is nothing to do while it is on
    /// (quirk `irmc_power_on_is_a_button_press`: iRMC lists no `On`).
    power_on_by_push_button: bool = false,
}

impl Quirks {
    /// The fields whose value differs from DMTF behaviour ([`Quirks::default`]), with their
    /// values: what a vendor, its firmware and the user's override changed. Pure.
    pub fn differences_from_default(&self) -> serde_json::Map<String, serde_json::Value> {
        let (Ok(serde_json::Value::Object(now)), Ok(serde_json::Value::Object(dmtf))) = (
            serde_json::to_value(self),
            serde_json::to_value(Quirks::default()),
        ) else {
            return serde_json::Map::new();
        };
        now.into_iter()
            .filter(|(field, value)| dmtf.get(field) != Some(value))
            .collect()
    }
}

/// Whether the vendor's table has a rule that depends on the firmware version, so resolving
/// it needs the Manager (today: Dell, whose iDRAC10 restarted its version numbers at 1.x,
/// quirk `idrac10_version_restart`, and refuses a power-on for a while after a power-off,
/// quirk `idrac10_power_on_conflict`). Pure.
pub fn firmware_matters(vendor: &Vendor) -> bool {
    matches!(vendor, Vendor::Dell)
}

/// Resolves the quirks of one BMC. Pure: everything it needs is passed in. `manager` may be
/// `None` when the vendor's rules do not depend on the firmware ([`firmware_matters`]); for
/// a vendor whose rules do, the result then holds only what holds for every firmware.
pub fn resolve_quirks(
    root: &ServiceRoot,
    vendor: &Vendor,
    manager: Option<&Manager>,
    overrides: &QuirksOverride,
) -> Quirks {
    // 1. DMTF default, 2. refined by what the service advertises.
    let mut q = Quirks {
        session_auth: root.has_session_service(),
        expand_collections: root
            .protocol_features_supported
            .as_ref()
            .and_then(|f| f.expand_query.as_ref())
            .is_some_and(|e| e.expand_value(1).is_some()),
        ..Quirks::default()
    };

    // 3. Vendor and firmware table.
    let firmware = manager
        .and_then(|m| m.firmware_version.as_deref())
        .and_then(|raw| parse_firmware_version(vendor, raw));
    let major = firmware.as_ref().and_then(|v| v.first().copied());
    let model = manager.and_then(|m| m.model.as_deref()).unwrap_or_default();
    let mut transient = |id: &str| q.transient_post_message_ids.push(id.to_owned());
    match vendor {
        Vendor::Dell => {
            transient("SYS518");
            // Quirk `idrac10_version_restart`: iDRAC10 counts from 1.x again, so a low major
            // or a 17G model is iDRAC10, which has quirk `idrac10_power_on_conflict`.
            if major.is_some_and(|m| m < 3) || model.starts_with("17G") {
                transient("ActionParameterValueConflict");
            }
            q.redundant_power_action_conflicts = true;
            q.max_sessions = Some(8);
            q.lc_ready_before_config = true;
        }
        Vendor::Hpe => {
            transient("InvalidOperationForSystemState");
            transient("UnableToModifyDuringSystemPOST");
            q.close_connections = true;
        }
        Vendor::Lenovo => q.max_sessions = Some(16),
        Vendor::Supermicro => {
            q.virtual_cd_boot_target_is_usb_cd = true;
            q.boot_patch_needs_all_fields = true;
        }
        Vendor::Ami => {
            q.expand_collections = false;
            q.if_match_required = true;
            q.boot_patch_needs_all_fields = true;
        }
        Vendor::Nvidia => {
            q.expand_collections = false;
            q.if_match_required = true;
        }
        Vendor::Fujitsu => q.power_on_by_push_button = true,
        Vendor::Cisco | Vendor::Other(_) | Vendor::Generic => {}
    }

    // 4. User override.
    overrides.apply(&mut q);
    q
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn root(v: serde_json::Value) -> ServiceRoot {
        serde_json::from_value(v).unwrap()
    }

    fn manager(model: &str, fw: &str) -> Manager {
        serde_json::from_value(json!({"Model": model, "FirmwareVersion": fw})).unwrap()
    }

    fn expand_root() -> ServiceRoot {
        root(json!({
            "Links": {"Sessions": {"@odata.id": "/redfish/v1/SessionService/Sessions"}},
            "ProtocolFeaturesSupported": {"ExpandQuery": {"NoLinks": true, "Levels": true}}
        }))
    }

    fn resolve(vendor: &Vendor, manager: Option<&Manager>) -> Quirks {
        resolve_quirks(&expand_root(), vendor, manager, &QuirksOverride::default())
    }

    #[test]
    fn dmtf_default_is_standard() {
        let q = Quirks::default();
        assert!(q.session_auth && q.accept_encoding_identity && q.strip_gzip_etag_suffix);
        assert!(!q.expand_collections && !q.if_match_required && !q.close_connections);
        assert!(q.transient_post_message_ids.is_empty());
    }

    #[test]
    fn session_auth_follows_advertised_session_service() {
        let q = resolve_quirks(
            &root(json!({})),
            &Vendor::Generic,
            None,
            &QuirksOverride::default(),
        );
        assert!(!q.session_auth);
        assert!(resolve(&Vendor::Generic, None).session_auth);
    }

    #[test]
    fn expand_follows_protocol_features() {
        assert!(resolve(&Vendor::Generic, None).expand_collections);
        let only_all =
            root(json!({"ProtocolFeaturesSupported": {"ExpandQuery": {"ExpandAll": true}}}));
        assert!(
            resolve_quirks(
                &only_all,
                &Vendor::Generic,
                None,
                &QuirksOverride::default()
            )
            .expand_collections,
            "`$expand=*` is one level on a collection"
        );
        let links_only =
            root(json!({"ProtocolFeaturesSupported": {"ExpandQuery": {"Links": true}}}));
        assert!(
            !resolve_quirks(
                &links_only,
                &Vendor::Generic,
                None,
                &QuirksOverride::default()
            )
            .expand_collections,
            "`$expand=~` would not inline the members"
        );
    }

    #[test]
    fn expand_drops_required_properties_turns_expand_off_for_ami_and_nvidia() {
        assert!(!resolve(&Vendor::Ami, None).expand_collections);
        assert!(!resolve(&Vendor::Nvidia, None).expand_collections);
    }

    #[test]
    fn patch_requires_if_match_on_ami() {
        assert!(resolve(&Vendor::Ami, None).if_match_required);
        assert!(!resolve(&Vendor::Dell, None).if_match_required);
    }

    #[test]
    fn stale_keep_alive_connection_hpe_closes_connections() {
        assert!(resolve(&Vendor::Hpe, None).close_connections);
        assert!(!resolve(&Vendor::Lenovo, None).close_connections);
    }

    #[test]
    fn transient_messages_of_idrac_and_ilo() {
        assert_eq!(
            resolve(&Vendor::Dell, Some(&manager("16G Monolithic", "7.00.00")))
                .transient_post_message_ids,
            vec!["SYS518"]
        );
        assert_eq!(
            resolve(&Vendor::Hpe, None).transient_post_message_ids,
            vec![
                "InvalidOperationForSystemState",
                "UnableToModifyDuringSystemPOST"
            ]
        );
        assert!(
            resolve(&Vendor::Generic, None)
                .transient_post_message_ids
                .is_empty()
        );
    }

    #[test]
    fn idrac10_power_on_conflict_by_firmware() {
        let idrac10 = resolve(
            &Vendor::Dell,
            Some(&manager("17G Monolithic", "1.20.25.00")),
        );
        assert!(
            idrac10
                .transient_post_message_ids
                .contains(&"ActionParameterValueConflict".to_owned())
        );
        let idrac9 = resolve(
            &Vendor::Dell,
            Some(&manager("15G Monolithic", "6.00.30.00")),
        );
        assert!(
            !idrac9
                .transient_post_message_ids
                .contains(&"ActionParameterValueConflict".to_owned())
        );
    }

    #[test]
    fn redundant_power_conflict_on_dell() {
        assert!(resolve(&Vendor::Dell, None).redundant_power_action_conflicts);
        assert!(!resolve(&Vendor::Lenovo, None).redundant_power_action_conflicts);
    }

    #[test]
    fn supermicro_and_ami_boot_switches() {
        let q = resolve(&Vendor::Supermicro, None);
        assert!(q.virtual_cd_boot_target_is_usb_cd && q.boot_patch_needs_all_fields);
        assert!(resolve(&Vendor::Ami, None).boot_patch_needs_all_fields);
        assert!(!resolve(&Vendor::Dell, None).virtual_cd_boot_target_is_usb_cd);
    }

    #[test]
    fn differences_name_what_a_vendor_changed_and_nothing_else() {
        assert!(Quirks::default().differences_from_default().is_empty());
        let dell = resolve(&Vendor::Dell, None).differences_from_default();
        assert_eq!(dell.get("max_sessions"), Some(&json!(8)));
        assert!(
            dell.keys().all(|k| QUIRK_FIELDS.contains(&k.as_str())),
            "{dell:?}"
        );
        assert!(
            !dell.contains_key("session_auth"),
            "unchanged from DMTF: {dell:?}"
        );
    }

    #[test]
    fn lc_busy_refuses_config_check_on_dell_only() {
        assert!(resolve(&Vendor::Dell, None).lc_ready_before_config);
        assert!(!resolve(&Vendor::Hpe, None).lc_ready_before_config);
        assert!(!resolve(&Vendor::Generic, None).lc_ready_before_config);
    }

    #[test]
    fn irmc_power_on_is_a_button_press_on_fujitsu_only() {
        assert!(resolve(&Vendor::Fujitsu, None).power_on_by_push_button);
        for vendor in [Vendor::Hpe, Vendor::Ami, Vendor::Generic] {
            assert!(
                !resolve(&vendor, None).power_on_by_push_button,
                "{vendor:?}"
            );
        }
    }

    #[test]
    fn session_cap_by_vendor() {
        assert_eq!(resolve(&Vendor::Dell, None).max_sessions, Some(8));
        assert_eq!(resolve(&Vendor::Lenovo, None).max_sessions, Some(16));
        assert_eq!(resolve(&Vendor::Generic, None).max_sessions, None);
    }

    #[test]
    fn gzip_weakens_etag_and_identity_switches_default_on() {
        let q = resolve(&Vendor::Dell, None);
        assert!(
            q.strip_gzip_etag_suffix && q.accept_encoding_identity && q.retry_406_without_identity
        );
    }

    #[test]
    fn user_override_wins_last() {
        let overrides = QuirksOverride {
            expand_collections: Some(false),
            close_connections: Some(false),
            transient_post_message_ids: Some(vec!["Custom".into()]),
            max_sessions: Some(None),
            ..QuirksOverride::default()
        };
        let q = resolve_quirks(&expand_root(), &Vendor::Hpe, None, &overrides);
        assert!(!q.expand_collections);
        assert!(!q.close_connections);
        assert_eq!(q.transient_post_message_ids, vec!["Custom"]);
        assert_eq!(q.max_sessions, None);
        assert!(
            q.session_auth,
            "fields without an override keep the resolved value"
        );
    }

    #[test]
    fn firmware_matters_only_where_a_rule_reads_it() {
        assert!(firmware_matters(&Vendor::Dell));
        for vendor in [
            Vendor::Hpe,
            Vendor::Lenovo,
            Vendor::Supermicro,
            Vendor::Generic,
        ] {
            assert!(!firmware_matters(&vendor), "{vendor:?}");
        }
        // Without the Manager, Dell gets what holds for every iDRAC, and no iDRAC10 rule.
        let q = resolve(&Vendor::Dell, None);
        assert_eq!(q.transient_post_message_ids, vec!["SYS518"]);
        assert!(q.redundant_power_action_conflicts);
    }

    #[test]
    fn every_quirk_field_has_an_override_that_applies() {
        // Serialising both shows the field lists are the same, whatever the macro expands to.
        let quirks = serde_json::to_value(Quirks::default()).unwrap();
        let mut names: Vec<&str> = quirks
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        let mut sorted = QUIRK_FIELDS.to_vec();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        // An override naming every field replaces every value.
        let mut flipped = serde_json::Map::new();
        for (name, value) in quirks.as_object().unwrap() {
            let other = match value {
                serde_json::Value::Bool(b) => json!(!b),
                serde_json::Value::Array(_) => json!(["X"]),
                _ => json!(3),
            };
            flipped.insert(name.clone(), other);
        }
        let overrides: QuirksOverride =
            serde_json::from_value(serde_json::Value::Object(flipped.clone())).unwrap();
        let mut q = Quirks::default();
        overrides.apply(&mut q);
        assert_eq!(
            serde_json::to_value(&q).unwrap(),
            serde_json::Value::Object(flipped)
        );
        // A misspelt override is refused rather than silently ignored.
        assert!(
            serde_json::from_value::<QuirksOverride>(json!({"close_conections": true})).is_err()
        );
    }
}
