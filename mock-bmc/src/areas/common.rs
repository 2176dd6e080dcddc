//! What every area uses: the request context, the GET answer, and payload helpers.

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value, json};

use crate::messages;
use crate::node::Node;
use crate::reply::Reply;

/// What a request is about: the node, and the time it is served at.
pub(crate) struct Cx<'a> {
    pub node: &'a Arc<Node>,
    pub now: Instant,
}

/// What a GET answers.
pub(crate) enum Answer {
    /// A resource: the dispatcher adds `ETag`, `Allow` and `Link`, honours `If-None-Match`
    /// and `$expand`.
    Resource(Value),
    /// A complete answer of the area's own (task monitors, `$metadata`).
    Reply(Reply),
}

/// The answer to a PATCH of a resource with nothing writable: every property is read-only.
pub(crate) fn read_only(changes: &Map<String, Value>) -> Reply {
    messages::bad_request(
        changes
            .keys()
            .map(|k| messages::property_not_writable(k, "/"))
            .collect(),
    )
}

/// A request body as a JSON object; an empty body is `{}` when `empty_ok`.
pub(crate) fn parse_body(bytes: &[u8], empty_ok: bool) -> Result<Map<String, Value>, Reply> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return if empty_ok {
            Ok(Map::new())
        } else {
            Err(messages::malformed_json())
        };
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(messages::malformed_json()),
    }
}

pub(crate) fn link(path: &str) -> Value {
    json!({ "@odata.id": path })
}

pub(crate) fn collection(
    path: &str,
    ty: &str,
    name: &str,
    members: impl IntoIterator<Item = String>,
) -> Value {
    let members: Vec<Value> = members.into_iter().map(|m| link(&m)).collect();
    json!({
        "@odata.id": path,
        "@odata.type": format!("#{ty}.{ty}"),
        "Name": name,
        "Members@odata.count": members.len(),
        "Members": members,
    })
}

pub(crate) fn status_ok() -> Value {
    json!({ "State": "Enabled", "Health": "OK" })
}

/// The personality's (empty) `Oem` object, if it has an OEM key.
pub(crate) fn oem(node: &Node, body: Value) -> Option<(String, Value)> {
    node.profile().oem_key.map(|k| (k.to_owned(), body))
}
