//! ServiceRoot and SessionService.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::de;
use crate::odata::{Link, ODataId};

/// The service root, `/redfish/v1`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ServiceRoot {
    /// `@odata.id`.
    #[serde(rename = "@odata.id")]
    pub odata_id: Option<ODataId>,
    /// `Id`.
    #[serde(deserialize_with = "de::opt_string")]
    pub id: Option<String>,
    /// `Name`.
    #[serde(deserialize_with = "de::opt_string")]
    pub name: Option<String>,
    /// The Redfish protocol version, for example `1.13.1`.
    #[serde(deserialize_with = "de::opt_string")]
    pub redfish_version: Option<String>,
    /// The service UUID.
    #[serde(rename = "UUID", deserialize_with = "de::opt_nonempty_string")]
    pub uuid: Option<String>,
    /// `Vendor` (since ServiceRoot 1.5), for example `Dell` or `HPE`.
    #[serde(deserialize_with = "de::opt_nonempty_string")]
    pub vendor: Option<String>,
    /// `Product`, for example `Integrated Dell Remote Access Controller`.
    #[serde(deserialize_with = "de::opt_nonempty_string")]
    pub product: Option<String>,
    /// What the service says it supports (`$expand`, `$select`, ...).
    pub protocol_features_supported: Option<ProtocolFeatures>,
    /// The systems collection.
    pub systems: Option<Link>,
    /// The chassis collection.
    pub chassis: Option<Link>,
    /// The managers collection.
    pub managers: Option<Link>,
    /// The session service.
    pub session_service: Option<Link>,
    /// The account service.
    pub account_service: Option<Link>,
    /// The task service (the property is named `Tasks`).
    pub tasks: Option<Link>,
    /// The update service.
    pub update_service: Option<Link>,
    /// The registries collection.
    pub registries: Option<Link>,
    /// The event service.
    pub event_service: Option<Link>,
    /// `Links` (where `Sessions` lives).
    pub links: Option<ServiceRootLinks>,
    /// The vendor `Oem` object.
    pub oem: Option<Map<String, Value>>,
    /// Every other property, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ServiceRoot {
    /// The sessions collection from `Links.Sessions`.
    pub fn sessions_link(&self) -> Option<&str> {
        self.links
            .as_ref()
            .and_then(|l| l.sessions.as_ref())
            .and_then(Link::path)
    }

    /// Whether the service offers session login (a sessions link or a session service).
    pub fn has_session_service(&self) -> bool {
        self.sessions_link().is_some()
            || self.session_service.as_ref().and_then(Link::path).is_some()
    }

    /// The keys of the `Oem` object, for vendor detection.
    pub fn oem_keys(&self) -> impl Iterator<Item = &str> {
        self.oem.iter().flat_map(|m| m.keys().map(String::as_str))
    }
}

/// `ServiceRoot.Links`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ServiceRootLinks {
    /// The sessions collection to POST a login to.
    pub sessions: Option<Link>,
    /// Every other property, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `ProtocolFeaturesSupported`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ProtocolFeatures {
    /// `$expand` support.
    pub expand_query: Option<ExpandQuery>,
    /// `$filter` support.
    #[serde(deserialize_with = "de::opt_bool")]
    pub filter_query: Option<bool>,
    /// `$select` support.
    #[serde(deserialize_with = "de::opt_bool")]
    pub select_query: Option<bool>,
    /// `only` support.
    #[serde(deserialize_with = "de::opt_bool")]
    pub only_member_query: Option<bool>,
    /// Every other property, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `ProtocolFeaturesSupported.ExpandQuery`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ExpandQuery {
    /// `$expand=*`.
    #[serde(deserialize_with = "de::opt_bool")]
    pub expand_all: Option<bool>,
    /// `$levels` is honoured.
    #[serde(deserialize_with = "de::opt_bool")]
    pub levels: Option<bool>,
    /// `$expand=~` (links only).
    #[serde(deserialize_with = "de::opt_bool")]
    pub links: Option<bool>,
    /// `$expand=.` (everything except links): what ferrofish uses.
    #[serde(deserialize_with = "de::opt_bool")]
    pub no_links: Option<bool>,
    /// The deepest `$levels` accepted.
    #[serde(deserialize_with = "de::opt_u64")]
    pub max_levels: Option<u64>,
    /// Every other property, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ExpandQuery {
    /// Whether `$expand=.($levels=1)` is advertised.
    pub fn supports_no_links_one_level(&self) -> bool {
        self.no_links == Some(true) && self.levels != Some(false)
    }

    /// The `$expand` value to send for up to `wanted` levels, and the levels it reaches, or
    /// `None` when nothing usable is advertised. Pure.
    ///
    /// `.` (no links) is preferred, since `*` would also inline every `Links` target; `*` is
    /// used for one level only, where a collection has nothing but its members to inline.
    /// `($levels=n)` is sent only when `Levels` is advertised, with `n` capped by `MaxLevels`
    /// (1 when absent); without `Levels` the bare form reaches one level.
    pub fn expand_value(&self, wanted: u64) -> Option<(String, u64)> {
        let (kind, deepest) = if self.no_links == Some(true) {
            let deepest = if self.levels == Some(true) {
                self.max_levels.unwrap_or(1).max(1)
            } else {
                1
            };
            ('.', deepest)
        } else if self.expand_all == Some(true) {
            ('*', 1)
        } else {
            return None;
        };
        let levels = wanted.clamp(1, deepest);
        let value = if self.levels == Some(true) {
            format!("{kind}($levels={levels})")
        } else {
            kind.to_string()
        };
        Some((value, levels))
    }
}

/// The session service, `/redfish/v1/SessionService`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct SessionService {
    /// `@odata.id`.
    #[serde(rename = "@odata.id")]
    pub odata_id: Option<ODataId>,
    /// `Id`.
    #[serde(deserialize_with = "de::opt_string")]
    pub id: Option<String>,
    /// `Name`.
    #[serde(deserialize_with = "de::opt_string")]
    pub name: Option<String>,
    /// Whether sessions are enabled.
    #[serde(deserialize_with = "de::opt_bool")]
    pub service_enabled: Option<bool>,
    /// Idle timeout in seconds.
    #[serde(deserialize_with = "de::opt_u64")]
    pub session_timeout: Option<u64>,
    /// The sessions collection.
    pub sessions: Option<Link>,
    /// Every other property, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn parses_root_with_expand_and_sessions() {
        let root: ServiceRoot = serde_json::from_value(json!({
            "@odata.id": "/redfish/v1",
            "Id": "RootService",
            "RedfishVersion": "1.13.1",
            "Vendor": "Dell",
            "UUID": "",
            "Links": {"Sessions": {"@odata.id": "/redfish/v1/SessionService/Sessions"}},
            "Systems": {"@odata.id": "/redfish/v1/Systems"},
            "ProtocolFeaturesSupported": {"ExpandQuery": {"NoLinks": true, "Levels": true,
                "MaxLevels": 1}, "SelectQuery": true},
            "Oem": {"Dell": {"ServiceTag": "X"}},
            "Fabrics": {"@odata.id": "/redfish/v1/Fabrics"}
        }))
        .unwrap();
        assert_eq!(
            root.sessions_link(),
            Some("/redfish/v1/SessionService/Sessions")
        );
        assert!(root.has_session_service());
        assert_eq!(root.uuid, None, "an empty UUID reads as absent");
        let expand = root
            .protocol_features_supported
            .unwrap()
            .expand_query
            .unwrap();
        assert!(expand.supports_no_links_one_level());
        assert_eq!(expand.max_levels, Some(1));
        assert_eq!(root.oem.unwrap().keys().collect::<Vec<_>>(), vec!["Dell"]);
        assert!(root.extra.contains_key("Fabrics"));
    }

    #[test]
    fn root_without_sessions() {
        let root: ServiceRoot = serde_json::from_value(json!({"Id": "r"})).unwrap();
        assert!(!root.has_session_service());
        let root: ServiceRoot = serde_json::from_value(
            json!({"SessionService": {"@odata.id": "/redfish/v1/SessionService"}}),
        )
        .unwrap();
        assert!(root.has_session_service());
        assert_eq!(root.sessions_link(), None);
    }

    #[test]
    fn expand_without_no_links_is_not_used() {
        let e: ExpandQuery = serde_json::from_value(json!({"ExpandAll": true})).unwrap();
        assert!(!e.supports_no_links_one_level());
    }

    #[test]
    fn expand_value_follows_expand_all_levels_and_max_levels() {
        let q = |v: serde_json::Value| -> ExpandQuery { serde_json::from_value(v).unwrap() };
        let idrac = q(
            json!({"ExpandAll": true, "Levels": true, "Links": true, "MaxLevels": 1, "NoLinks": true}),
        );
        assert_eq!(idrac.expand_value(1), Some((".($levels=1)".into(), 1)));
        assert_eq!(
            idrac.expand_value(3),
            Some((".($levels=1)".into(), 1)),
            "capped by MaxLevels"
        );
        let deep = q(json!({"Levels": true, "MaxLevels": 3, "NoLinks": true}));
        assert_eq!(deep.expand_value(2), Some((".($levels=2)".into(), 2)));
        assert_eq!(deep.expand_value(5), Some((".($levels=3)".into(), 3)));
        let no_levels = q(json!({"NoLinks": true}));
        assert_eq!(no_levels.expand_value(2), Some((".".into(), 1)));
        let levels_without_max = q(json!({"NoLinks": true, "Levels": true}));
        assert_eq!(
            levels_without_max.expand_value(2),
            Some((".($levels=1)".into(), 1))
        );
        let only_all = q(json!({"ExpandAll": true, "Levels": true, "MaxLevels": 3}));
        assert_eq!(only_all.expand_value(3), Some(("*($levels=1)".into(), 1)));
        assert_eq!(q(json!({"Links": true})).expand_value(1), None);
        assert_eq!(
            q(json!({"ExpandAll": false, "NoLinks": false})).expand_value(1),
            None
        );
    }
}
