//! Per-BMC behaviour as plain data, resolved by a pure function.
//!
//! Precedence: DMTF default → what the service advertises → vendor/firmware table → user
//! override. Quirk numbers refer to `redfish-anchors.md` §2.

use serde::{Deserialize, Serialize};

use crate::models::{Manager, ServiceRoot};
use crate::vendor::{Vendor, parse_firmware_version};

/// How the client adapts to one BMC. Every field names the quirk it handles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
#[allow(clippy::struct_excessive_bools)] // independent switches, not the states of one machine
pub struct Quirks {
    /// Log in through the SessionService. DMTF default: yes; off when the service root
    /// advertises no sessions (only with [`crate::AuthMode::Auto`]).
    pub session_auth: bool,
    /// Read collections with `$expand=.($levels=1)`. Advertised by
    /// `ProtocolFeaturesSupported.ExpandQuery`; turned off for AMI and NVIDIA platforms whose
    /// expanded members lose required properties (quirk 63). When expanded members are
    /// incomplete anyway, the client falls back to member GETs.
    pub expand_collections: bool,
    /// Send `Accept-Encoding: identity` so ETags stay strong (quirk 48).
    pub accept_encoding_identity: bool,
    /// Repeat a request without `Accept-Encoding: identity` when the BMC answers 406
    /// (quirk 49, HPE Gen10 Plus registries).
    pub retry_406_without_identity: bool,
    /// Remove the `-gzip` suffix iDRAC appends to ETags (quirk 48).
    pub strip_gzip_etag_suffix: bool,
    /// Send `If-Match: *` on a PATCH when no ETag is known; AMI refuses PATCH without the
    /// header (quirk 56).
    pub if_match_required: bool,
    /// Send `Connection: close`; HPE resets reused connections (quirk 47).
    pub close_connections: bool,
    /// Short `MessageId`s after which a request is retried, POST included: iDRAC `SYS518`
    /// (quirk 50), iLO `InvalidOperationForSystemState` (quirk 51), iDRAC10
    /// `ActionParameterValueConflict` after a power-off (quirk 52), iLO
    /// `UnableToModifyDuringSystemPOST` on a boot override PATCH while the host is in POST
    /// (quirk 25).
    pub transient_post_message_ids: Vec<String>,
    /// A reset into the state the system is already in answers 409 (Dell, quirk 53); the
    /// client treats that as success.
    pub redundant_power_action_conflicts: bool,
    /// The virtual CD boot target is `UsbCd`, not `Cd` (Supermicro, quirk 19).
    pub virtual_cd_boot_target_is_usb_cd: bool,
    /// Boot override PATCHes must carry Enabled and Mode even when unchanged (Supermicro and
    /// AMI, quirks 20 and 23).
    pub boot_patch_needs_all_fields: bool,
    /// How many sessions the BMC allows (iDRAC 8, RAC0218; XCC 16; quirk 59). Informational.
    pub max_sessions: Option<u32>,
}

impl Default for Quirks {
    /// The DMTF default: standard behaviour, nothing vendor-specific.
    fn default() -> Quirks {
        Quirks {
            session_auth: true,
            expand_collections: false,
            accept_encoding_identity: true,
            retry_406_without_identity: true,
            strip_gzip_etag_suffix: true,
            if_match_required: false,
            close_connections: false,
            transient_post_message_ids: Vec::new(),
            redundant_power_action_conflicts: false,
            virtual_cd_boot_target_is_usb_cd: false,
            boot_patch_needs_all_fields: false,
            max_sessions: None,
        }
    }
}

/// User overrides, applied last. Every `Some` replaces the resolved value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct QuirksOverride {
    /// Overrides [`Quirks::session_auth`]: log in with a session rather than HTTP Basic.
    pub session_auth: Option<bool>,
    /// Overrides [`Quirks::expand_collections`]: read collections with `$expand`.
    pub expand_collections: Option<bool>,
    /// Overrides [`Quirks::accept_encoding_identity`]: send `Accept-Encoding: identity`.
    pub accept_encoding_identity: Option<bool>,
    /// Overrides [`Quirks::retry_406_without_identity`]: retry a 406 without that header.
    pub retry_406_without_identity: Option<bool>,
    /// Overrides [`Quirks::strip_gzip_etag_suffix`]: drop the `-gzip` suffix of `ETag`s.
    pub strip_gzip_etag_suffix: Option<bool>,
    /// Overrides [`Quirks::if_match_required`]: send `If-Match` even without a known `ETag`.
    pub if_match_required: Option<bool>,
    /// Overrides [`Quirks::close_connections`]: send `Connection: close` on every request.
    pub close_connections: Option<bool>,
    /// Overrides [`Quirks::transient_post_message_ids`]: the messages on which a POST is
    /// retried (replaces the list, it does not extend it).
    pub transient_post_message_ids: Option<Vec<String>>,
    /// Overrides [`Quirks::redundant_power_action_conflicts`]: a 409 on a reset into the
    /// current power state means there is nothing to do.
    pub redundant_power_action_conflicts: Option<bool>,
    /// Overrides [`Quirks::virtual_cd_boot_target_is_usb_cd`]: boot target `Cd` is sent as
    /// `UsbCd`.
    pub virtual_cd_boot_target_is_usb_cd: Option<bool>,
    /// Overrides [`Quirks::boot_patch_needs_all_fields`]: a boot override PATCH always
    /// carries target, enabled and mode.
    pub boot_patch_needs_all_fields: Option<bool>,
    /// Overrides [`Quirks::max_sessions`]; `Some(None)` sets "no known limit".
    pub max_sessions: Option<Option<u32>>,
}

impl QuirksOverride {
    /// Applies the overrides to resolved quirks.
    pub fn apply(&self, quirks: &mut Quirks) {
        fn set<T: Clone>(target: &mut T, value: Option<&T>) {
            if let Some(v) = value {
                target.clone_from(v);
            }
        }
        set(&mut quirks.session_auth, self.session_auth.as_ref());
        set(
            &mut quirks.expand_collections,
            self.expand_collections.as_ref(),
        );
        set(
            &mut quirks.accept_encoding_identity,
            self.accept_encoding_identity.as_ref(),
        );
        set(
            &mut quirks.retry_406_without_identity,
            self.retry_406_without_identity.as_ref(),
        );
        set(
            &mut quirks.strip_gzip_etag_suffix,
            self.strip_gzip_etag_suffix.as_ref(),
        );
        set(
            &mut quirks.if_match_required,
            self.if_match_required.as_ref(),
        );
        set(
            &mut quirks.close_connections,
            self.close_connections.as_ref(),
        );
        set(
            &mut quirks.transient_post_message_ids,
            self.transient_post_message_ids.as_ref(),
        );
        set(
            &mut quirks.redundant_power_action_conflicts,
            self.redundant_power_action_conflicts.as_ref(),
        );
        set(
            &mut quirks.virtual_cd_boot_target_is_usb_cd,
            self.virtual_cd_boot_target_is_usb_cd.as_ref(),
        );
        set(
            &mut quirks.boot_patch_needs_all_fields,
            self.boot_patch_needs_all_fields.as_ref(),
        );
        set(&mut quirks.max_sessions, self.max_sessions.as_ref());
    }
}

/// Resolves the quirks of one BMC. Pure: everything it needs is passed in.
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
            .is_some_and(crate::models::ExpandQuery::supports_no_links_one_level),
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
            // iDRAC10 restarted its version numbers at 1.x (quirk 2) and its 17G models refuse
            // a power-on for a while after a power-off (quirk 52).
            if major.is_some_and(|m| m < 3) || model.starts_with("17G") {
                transient("ActionParameterValueConflict");
            }
            q.redundant_power_action_conflicts = true;
            q.max_sessions = Some(8);
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
        Vendor::Cisco | Vendor::Fujitsu | Vendor::Other(_) | Vendor::Generic => {}
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
        let no_expand =
            root(json!({"ProtocolFeaturesSupported": {"ExpandQuery": {"ExpandAll": true}}}));
        assert!(
            !resolve_quirks(
                &no_expand,
                &Vendor::Generic,
                None,
                &QuirksOverride::default()
            )
            .expand_collections
        );
    }

    #[test]
    fn quirk_63_expand_off_for_ami_and_nvidia() {
        assert!(!resolve(&Vendor::Ami, None).expand_collections);
        assert!(!resolve(&Vendor::Nvidia, None).expand_collections);
    }

    #[test]
    fn quirk_56_if_match_required_on_ami() {
        assert!(resolve(&Vendor::Ami, None).if_match_required);
        assert!(!resolve(&Vendor::Dell, None).if_match_required);
    }

    #[test]
    fn quirk_47_hpe_closes_connections() {
        assert!(resolve(&Vendor::Hpe, None).close_connections);
        assert!(!resolve(&Vendor::Lenovo, None).close_connections);
    }

    #[test]
    fn quirks_25_50_51_transient_messages() {
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
    fn quirk_52_idrac10_power_on_conflict_by_firmware() {
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
    fn quirk_53_dell_redundant_power_action() {
        assert!(resolve(&Vendor::Dell, None).redundant_power_action_conflicts);
        assert!(!resolve(&Vendor::Lenovo, None).redundant_power_action_conflicts);
    }

    #[test]
    fn quirks_19_20_23_supermicro_boot() {
        let q = resolve(&Vendor::Supermicro, None);
        assert!(q.virtual_cd_boot_target_is_usb_cd && q.boot_patch_needs_all_fields);
        assert!(resolve(&Vendor::Ami, None).boot_patch_needs_all_fields);
        assert!(!resolve(&Vendor::Dell, None).virtual_cd_boot_target_is_usb_cd);
    }

    #[test]
    fn quirk_59_session_caps() {
        assert_eq!(resolve(&Vendor::Dell, None).max_sessions, Some(8));
        assert_eq!(resolve(&Vendor::Lenovo, None).max_sessions, Some(16));
        assert_eq!(resolve(&Vendor::Generic, None).max_sessions, None);
    }

    #[test]
    fn quirk_48_gzip_and_identity_default_on() {
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
}
