//! A response under construction, and how it becomes an HTTP response: the DSP0266 headers
//! every answer carries, strong `ETag`s, and the malformed-body fault.

use axum::body::Body;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::node::{Node, lock};

pub(crate) enum Payload {
    Empty,
    Json(Value),
    /// JSON already serialised (a GET serialises once for both its `ETag` and its body).
    JsonBytes(Vec<u8>),
    Xml(String),
}

/// A response under construction.
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: Vec<(header::HeaderName, String)>,
    pub payload: Payload,
}

impl Reply {
    pub fn json(status: StatusCode, body: Value) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            payload: Payload::Json(body),
        }
    }

    pub fn empty(status: StatusCode) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            payload: Payload::Empty,
        }
    }

    pub fn xml(text: String) -> Self {
        Reply {
            status: StatusCode::OK,
            headers: Vec::new(),
            payload: Payload::Xml(text),
        }
    }

    #[must_use]
    pub fn header(mut self, name: header::HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The JSON body, if the payload is one (tests).
    #[cfg(test)]
    pub fn json_body(&self) -> Option<Value> {
        match &self.payload {
            Payload::Json(v) => Some(v.clone()),
            Payload::JsonBytes(b) => serde_json::from_slice(b).ok(),
            _ => None,
        }
    }
}

/// Which methods a resource allows (the `Allow` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Allow {
    Get,
    GetPatch,
    GetPost,
    GetDelete,
    Post,
}

impl Allow {
    pub fn header(self) -> &'static str {
        match self {
            Allow::Get => "GET, HEAD",
            Allow::GetPatch => "GET, HEAD, PATCH",
            Allow::GetPost => "GET, HEAD, POST",
            Allow::GetDelete => "GET, HEAD, DELETE",
            Allow::Post => "POST",
        }
    }

    pub fn allows(self, method: &Method) -> bool {
        self.header().split(", ").any(|m| m == method.as_str())
    }
}

/// The HTTP response: content type, `OData-Version`, `Cache-Control`, the reply's headers, and
/// the malformed-body fault applied to JSON; no body for HEAD.
pub(crate) fn finish(node: &Node, method: &Method, reply: Reply) -> Response {
    let mut builder = Response::builder().status(reply.status);
    let mut content_type = None;
    let body = match reply.payload {
        Payload::Empty => Vec::new(),
        payload @ (Payload::Json(_) | Payload::JsonBytes(_)) => {
            content_type = Some("application/json; charset=utf-8");
            let mut bytes = match payload {
                Payload::JsonBytes(bytes) => bytes,
                Payload::Json(v) => serde_json::to_vec(&v).unwrap_or_default(),
                _ => Vec::new(),
            };
            let mut f = lock(&node.faults);
            if f.malformed_next > 0 && !bytes.is_empty() {
                f.malformed_next -= 1;
                bytes.truncate(bytes.len() / 2);
            }
            bytes
        }
        Payload::Xml(s) => {
            content_type = Some("application/xml");
            s.into_bytes()
        }
    };
    if let Some(ct) = content_type {
        builder = builder.header(header::CONTENT_TYPE, ct);
    }
    builder = builder
        .header("OData-Version", "4.0")
        .header(header::CACHE_CONTROL, "no-cache");
    for (k, v) in reply.headers {
        if let Ok(v) = HeaderValue::from_str(&v) {
            builder = builder.header(k, v);
        }
    }
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(body)
    };
    builder
        .body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// Strong `ETag` of a JSON body (FNV-1a over its serialisation).
pub(crate) fn etag_of(body: &Value) -> String {
    etag_of_bytes(&serde_json::to_vec(body).unwrap_or_default())
}

/// Strong `ETag` of a serialised JSON body.
pub(crate) fn etag_of_bytes(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("\"{h:016x}\"")
}

/// Whether an `If-Match` / `If-None-Match` value names `etag` (or is `*`).
pub(crate) fn etag_matches(header_value: &str, etag: &str) -> bool {
    header_value
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || t == etag || t.strip_prefix("W/") == Some(etag))
}

/// Where DMTF publishes the JSON schema of a resource.
const DMTF_JSON_SCHEMA_BASE: &str = "http://redfish.dmtf.org/schemas/v1";

/// The `Link` header value DSP0266 asks for on a resource: its JSON schema with
/// `rel=describedby`. The schema file is the `@odata.type` without the leading `#` and the
/// trailing type name: `#ComputerSystem.v1_20_0.ComputerSystem` → `ComputerSystem.v1_20_0.json`,
/// and an unversioned `#ComputerSystemCollection.ComputerSystemCollection` →
/// `ComputerSystemCollection.json`. `None` when the type has no namespace to name a file by.
pub(crate) fn describedby_link(odata_type: &str) -> Option<String> {
    let (namespace, type_name) = odata_type.strip_prefix('#')?.rsplit_once('.')?;
    if namespace.is_empty() || type_name.is_empty() {
        return None;
    }
    Some(format!(
        "<{DMTF_JSON_SCHEMA_BASE}/{namespace}.json>; rel=describedby"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn describedby_link_names_the_dmtf_json_schema_of_the_odata_type() {
        assert_eq!(
            describedby_link("#ComputerSystem.v1_20_0.ComputerSystem").as_deref(),
            Some(
                "<http://redfish.dmtf.org/schemas/v1/ComputerSystem.v1_20_0.json>; rel=describedby"
            )
        );
        assert_eq!(
            describedby_link("#ComputerSystemCollection.ComputerSystemCollection").as_deref(),
            Some(
                "<http://redfish.dmtf.org/schemas/v1/ComputerSystemCollection.json>; rel=describedby"
            )
        );
        assert_eq!(describedby_link("ComputerSystem"), None);
        assert_eq!(describedby_link("#ComputerSystem"), None);
        assert_eq!(describedby_link("#.ComputerSystem"), None);
        assert_eq!(describedby_link(""), None);
    }

    #[test]
    fn etag_matching() {
        let e = etag_of(&json!({"a": 1}));
        assert!(etag_matches(&e, &e));
        assert!(etag_matches("*", &e));
        assert!(etag_matches(&format!("W/{e}"), &e));
        assert!(!etag_matches("\"other\"", &e));
        assert_ne!(e, etag_of(&json!({"a": 2})));
    }
}
