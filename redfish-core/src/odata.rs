//! OData plumbing: resource identifiers, navigation links and collections.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::de;

/// The `@odata.id` of a resource: its path on the service (as the BMC wrote it).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ODataId(String);

impl ODataId {
    /// Wraps a path.
    pub fn new(path: impl Into<String>) -> ODataId {
        ODataId(path.into())
    }

    /// The path as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last path segment (the resource's `Id` by convention), ignoring a trailing slash.
    pub fn last_segment(&self) -> &str {
        let path = self
            .0
            .split(['#', '?'])
            .next()
            .unwrap_or_default()
            .trim_end_matches('/');
        path.rsplit('/').next().unwrap_or(path)
    }
}

impl fmt::Display for ODataId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for ODataId {
    fn from(s: &str) -> ODataId {
        ODataId(s.to_owned())
    }
}

/// A navigation link, `{"@odata.id": "..."}`. Some firmware leaves the id out (quirk `link_without_id`); such a
/// link is kept with `odata_id: None` rather than failing the whole resource.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Link {
    /// The linked resource.
    #[serde(rename = "@odata.id", default, skip_serializing_if = "Option::is_none")]
    pub odata_id: Option<ODataId>,
}

impl Link {
    /// The linked path, when present.
    pub fn path(&self) -> Option<&str> {
        self.odata_id.as_ref().map(ODataId::as_str)
    }
}

/// A resource collection. `T` is [`Link`] for a plain collection, or a model for an expanded one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>", serialize = "T: Serialize"))]
pub struct Collection<T> {
    /// The collection's own id.
    #[serde(rename = "@odata.id", default, skip_serializing_if = "Option::is_none")]
    pub odata_id: Option<ODataId>,
    /// The collection's name.
    #[serde(rename = "Name", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The members on this page (`null` reads as empty, quirk `members_null`).
    #[serde(
        rename = "Members",
        default = "Vec::new",
        deserialize_with = "de::null_as_empty"
    )]
    pub members: Vec<T>,
    /// `Members@odata.count`, which some firmware leaves out (quirk `empty_values`).
    #[serde(
        rename = "Members@odata.count",
        default,
        deserialize_with = "de::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub count: Option<u64>,
    /// The next page, when the service pages the collection.
    #[serde(
        rename = "Members@odata.nextLink",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub next_link: Option<String>,
    /// Every other property, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Required members of any Redfish resource; an expanded member without them is incomplete
/// (quirk `expand_drops_required_properties`: some `$expand` implementations drop them).
pub(crate) fn has_resource_basics(member: &Value) -> bool {
    let Some(obj) = member.as_object() else {
        return false;
    };
    ["@odata.id", "Id", "Name"].iter().all(|key| {
        obj.get(*key)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn last_segment_ignores_trailing_slash_and_fragment() {
        assert_eq!(ODataId::from("/redfish/v1/Systems/1/").last_segment(), "1");
        assert_eq!(
            ODataId::from("/redfish/v1/Chassis/1/Thermal#/Fans/0").last_segment(),
            "Thermal"
        );
        assert_eq!(
            ODataId::from("System.Embedded.1").last_segment(),
            "System.Embedded.1"
        );
    }

    #[test]
    fn collection_tolerates_missing_count_and_null_members() {
        let c: Collection<Link> = serde_json::from_value(json!({
            "@odata.id": "/redfish/v1/Systems",
            "Members": null,
            "Description": "kept"
        }))
        .unwrap();
        assert!(c.members.is_empty());
        assert_eq!(c.count, None);
        assert_eq!(c.extra["Description"], "kept");
    }

    #[test]
    fn collection_reads_count_as_string_and_next_link() {
        let c: Collection<Link> = serde_json::from_value(json!({
            "Members": [{"@odata.id": "/a"}, {}],
            "Members@odata.count": "2",
            "Members@odata.nextLink": "/redfish/v1/X?$skip=2"
        }))
        .unwrap();
        assert_eq!(c.count, Some(2));
        assert_eq!(c.members[0].path(), Some("/a"));
        assert_eq!(c.members[1].path(), None);
        assert_eq!(c.next_link.as_deref(), Some("/redfish/v1/X?$skip=2"));
    }

    #[test]
    fn link_with_non_string_id_is_a_decode_error() {
        let err =
            serde_json::from_value::<Collection<Link>>(json!({"Members": [{"@odata.id": 5}]}));
        assert!(err.is_err());
    }

    #[test]
    fn resource_basics() {
        assert!(has_resource_basics(
            &json!({"@odata.id": "/x", "Id": "1", "Name": "n"})
        ));
        assert!(!has_resource_basics(&json!({"@odata.id": "/x", "Id": "1"})));
        assert!(!has_resource_basics(
            &json!({"@odata.id": "/x", "Id": "", "Name": "n"})
        ));
        assert!(!has_resource_basics(&json!("x")));
    }
}
