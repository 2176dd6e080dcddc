//! The HTTP side: one listener per node, a single dispatch function, DSP0266 headers and error
//! bodies, authentication, `ETags`, `$expand`, actions, and connection-level faults.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::bios::{self, Violation};
use crate::iso9660;
use crate::node::{LogEntry, Node, lock};
use crate::personality::VendorError;
use crate::resources::{self, Allow, paths, render};
use crate::state::{OverrideEnabled, ResetRefusal, ResetType, Session, Task, TaskState};

const MAX_BODY: usize = 1 << 20;
const BASE: &str = "Base.1.18";

enum Payload {
    Empty,
    Json(Value),
    /// JSON already serialised (a GET serialises once for both its `ETag` and its body).
    JsonBytes(Vec<u8>),
    Xml(String),
}

/// A response under construction.
pub(crate) struct Reply {
    status: StatusCode,
    headers: Vec<(header::HeaderName, String)>,
    payload: Payload,
}

impl Reply {
    fn json(status: StatusCode, body: Value) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            payload: Payload::Json(body),
        }
    }

    fn empty(status: StatusCode) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            payload: Payload::Empty,
        }
    }

    fn header(mut self, name: header::HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// One `@Message.ExtendedInfo` entry.
#[allow(clippy::needless_pass_by_value)]
fn message(id: &str, text: String, args: &[&str], related: &[String], resolution: &str) -> Value {
    json!({
        "@odata.type": "#Message.v1_3_0.Message",
        "MessageId": id,
        "Message": text,
        "MessageArgs": args,
        "MessageSeverity": "Warning",
        "Severity": "Warning",
        "RelatedProperties": related,
        "Resolution": resolution,
    })
}

fn base_message(
    name: &str,
    text: String,
    args: &[&str],
    related: &[String],
    resolution: &str,
) -> Value {
    message(&format!("{BASE}.{name}"), text, args, related, resolution)
}

/// A DSP0266 error body.
#[allow(clippy::needless_pass_by_value)]
fn error(status: StatusCode, infos: Vec<Value>) -> Reply {
    let (code, text) = match infos.as_slice() {
        [one] => (
            one["MessageId"].as_str().unwrap_or_default().to_owned(),
            one["Message"].as_str().unwrap_or_default().to_owned(),
        ),
        _ => (
            format!("{BASE}.GeneralError"),
            "A general error has occurred. See ExtendedInfo for more information.".to_owned(),
        ),
    };
    Reply::json(
        status,
        json!({"error": {"code": code, "message": text, "@Message.ExtendedInfo": infos}}),
    )
}

fn vendor_error(e: VendorError) -> Reply {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let reply = error(
        status,
        vec![message(
            e.message_id,
            e.message.to_owned(),
            &[],
            &[],
            "Retry the operation later.",
        )],
    );
    match e.retry_after_secs {
        Some(secs) => reply.header(header::RETRY_AFTER, secs.to_string()),
        None => reply,
    }
}

fn not_found(path: &str) -> Reply {
    error(
        StatusCode::NOT_FOUND,
        vec![base_message(
            "ResourceNotFound",
            format!("The requested resource of type Resource named '{path}' was not found."),
            &["Resource", path],
            &[],
            "Provide a valid resource identifier and resubmit the request.",
        )],
    )
}

fn malformed_json() -> Reply {
    error(StatusCode::BAD_REQUEST, vec![base_message("MalformedJSON", "The request body submitted was malformed JSON and could not be parsed by the receiving service.".into(), &[], &[], "Ensure that the request body is valid JSON and resubmit the request.")])
}

fn unauthorized() -> Reply {
    // No detail: a client must not learn whether the user or the password was wrong.
    error(
        StatusCode::UNAUTHORIZED,
        vec![base_message(
            "NoValidSession",
            "There is no valid session established with the implementation.".into(),
            &[],
            &[],
            "Establish a session before attempting any operations.",
        )],
    )
    .header(header::WWW_AUTHENTICATE, "Basic realm=\"Redfish\"")
}

fn method_not_allowed(allow: Allow) -> Reply {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        vec![base_message(
            "OperationNotAllowed",
            "The HTTP method is not allowed on this resource.".into(),
            &[],
            &[],
            "Use a method listed in the Allow header.",
        )],
    )
    .header(header::ALLOW, allow.header())
}

fn property_unknown(name: &str, prefix: &str) -> Value {
    base_message(
        "PropertyUnknown",
        format!("The property {name} is not in the list of valid properties for the resource."),
        &[name],
        &[format!("{prefix}{name}")],
        "Remove the unknown property from the request body and resubmit the request if the operation failed.",
    )
}

fn property_not_writable(name: &str, prefix: &str) -> Value {
    base_message(
        "PropertyNotWritable",
        format!("The property {name} is a read only property and cannot be assigned a value."),
        &[name],
        &[format!("{prefix}{name}")],
        "Remove the property from the request body and resubmit the request if the operation failed.",
    )
}

fn value_not_in_list(name: &str, value: &Value, prefix: &str) -> Value {
    let v = value_text(value);
    base_message(
        "PropertyValueNotInList",
        format!("The value '{v}' for the property {name} is not in the list of acceptable values."),
        &[&v, name],
        &[format!("{prefix}{name}")],
        "Choose a value from the enumeration list that the implementation can support and resubmit the request if the operation failed.",
    )
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn violation_message(v: &Violation) -> Value {
    let p = "/Attributes/";
    match v {
        Violation::Unknown { name } => property_unknown(name, p),
        Violation::ReadOnly { name } => property_not_writable(name, p),
        Violation::WrongType { name, value } => {
            let t = value_text(value);
            base_message(
                "PropertyValueTypeError",
                format!(
                    "The value '{t}' for the property {name} is of a different type than the property can accept."
                ),
                &[&t, name],
                &[format!("{p}{name}")],
                "Correct the value for the property in the request body and resubmit the request if the operation failed.",
            )
        }
        Violation::NotInList { name, value } => value_not_in_list(name, value, p),
        Violation::OutOfRange { name, value } => {
            let t = value_text(value);
            base_message(
                "PropertyValueOutOfRange",
                format!(
                    "The value '{t}' for the property {name} is not in the supported range of acceptable values."
                ),
                &[&t, name],
                &[format!("{p}{name}")],
                "Correct the value for the property in the request body and resubmit the request if the operation failed.",
            )
        }
        Violation::BadFormat { name, value } => {
            let t = value_text(value);
            base_message(
                "PropertyValueFormatError",
                format!(
                    "The value '{t}' for the property {name} is of a different format than the property can accept."
                ),
                &[&t, name],
                &[format!("{p}{name}")],
                "Correct the value for the property in the request body and resubmit the request if the operation failed.",
            )
        }
    }
}

/// Strong `ETag` of a JSON body (FNV-1a over its serialisation).
pub(crate) fn etag_of(body: &Value) -> String {
    etag_of_bytes(&serde_json::to_vec(body).unwrap_or_default())
}

/// Strong `ETag` of a serialised JSON body.
fn etag_of_bytes(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("\"{h:016x}\"")
}

fn etag_matches(header_value: &str, etag: &str) -> bool {
    header_value
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || t == etag || t.strip_prefix("W/") == Some(etag))
}

/// Encodes standard base64 (RFC 4648, with padding).
pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64 (RFC 4648, padding optional).
pub(crate) fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// Who is asking.
enum Auth {
    Basic,
    Session,
}

fn authenticate(node: &Node, headers: &HeaderMap, now: Instant) -> Option<Auth> {
    // Without a SessionService there are no tokens: only the Authorization header counts.
    if !node.basic_auth_only()
        && let Some(token) = headers.get("x-auth-token").and_then(|v| v.to_str().ok())
    {
        let mut st = lock(&node.state);
        st.expire_sessions(now);
        let s = st.sessions.iter_mut().find(|s| s.token == token)?;
        s.last_used = now;
        return Some(Auth::Session);
    }
    let raw = headers.get(header::AUTHORIZATION)?;
    // The common case, the exact header a client with the right credentials sends, is one
    // comparison; anything else is decoded and checked field by field.
    if raw.as_bytes() == node.shared.basic_authorization.expose_secret().as_bytes() {
        return Some(Auth::Basic);
    }
    let value = raw.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = String::from_utf8(base64_decode(encoded.trim())?).ok()?;
    let (user, pass) = decoded.split_once(':')?;
    credentials_ok(node, user, pass).then_some(Auth::Basic)
}

fn credentials_ok(node: &Node, user: &str, pass: &str) -> bool {
    user == node.shared.user && pass == node.shared.password.expose_secret()
}

fn is_open(method: &Method, path: &str) -> bool {
    matches!(
        path,
        "/redfish" | "/redfish/v1" | "/redfish/v1/$metadata" | "/redfish/v1/odata"
    ) && (method == Method::GET || method == Method::HEAD)
        || (method == Method::POST
            && (path == "/redfish/v1/SessionService/Sessions"
                || path == "/redfish/v1/SessionService/Sessions/Members"))
}

fn redact_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            let name = k.as_str().to_owned();
            let secret = matches!(
                name.as_str(),
                "authorization" | "x-auth-token" | "cookie" | "proxy-authorization"
            );
            let value = if secret {
                "<redacted>".to_owned()
            } else {
                String::from_utf8_lossy(v.as_bytes()).into_owned()
            };
            (name, value)
        })
        .collect()
}

/// `text` with the user-info (`user:password@`) of every URL in it replaced by `<redacted>@`:
/// an `Image` such as `http://u:pw@host/x.iso` carries credentials the log must not keep.
pub(crate) fn strip_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let authority_end = tail
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace() || c == '"')
            .unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match authority.rfind('@') {
            Some(userinfo_end) => {
                out.push_str("<redacted>");
                out.push_str(&authority[userinfo_end..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    out
}

fn redact_json(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, val) in m.iter_mut() {
                if k.to_ascii_lowercase().contains("password") || k.eq_ignore_ascii_case("token") {
                    *val = Value::from("<redacted>");
                } else {
                    redact_json(val);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(redact_json),
        Value::String(text) if text.contains("://") => *text = strip_userinfo(text),
        _ => {}
    }
}

fn redact_body(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return String::new();
    }
    if let Ok(mut v) = serde_json::from_slice::<Value>(bytes) {
        redact_json(&mut v);
        v.to_string()
    } else {
        // Not JSON: keep it only if it cannot carry a secret we know of.
        {
            let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).into_owned();
            if text.to_ascii_lowercase().contains("password") {
                "<redacted non-json body>".to_owned()
            } else {
                strip_userinfo(&text)
            }
        }
    }
}

/// The axum handler every request of a node goes through.
pub(crate) async fn dispatch(State(node): State<Arc<Node>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    // A body over the limit is refused whole (413), never silently cut or emptied.
    let (bytes, too_large) = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => (bytes, false),
        Err(_) => (axum::body::Bytes::new(), true),
    };
    let latency = lock(&node.faults).latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let now = Instant::now();
    let method = parts.method.clone();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), ToString::to_string);
    let reply = if too_large {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            vec![base_message(
                "PayloadTooLarge",
                "The supplied payload exceeds the maximum size supported by the service.".into(),
                &[],
                &[],
                "Check that the supplied payload is correct and supported by this service.",
            )],
        )
    } else {
        handle(&node, &method, &parts.uri, &parts.headers, &bytes, now).await
    };
    let response = finish(&node, &method, reply);
    // The path only: a query could carry anything, the request log keeps it redacted.
    tracing::debug!(
        node = node.index,
        %method,
        path = parts.uri.path(),
        status = response.status().as_u16(),
        "request"
    );
    node.record(LogEntry {
        seq: 0,
        method: method.to_string(),
        path: path_and_query,
        headers: redact_headers(&parts.headers),
        body: redact_body(&bytes),
        status: response.status().as_u16(),
    });
    response
}

fn finish(node: &Node, method: &Method, reply: Reply) -> Response {
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

#[derive(Clone, Copy, PartialEq, Eq)]
enum ExpandKind {
    All,
    NoLinks,
    LinksOnly,
}

/// Parses `$expand`; `Err` carries the offending text.
fn parse_expand(v: &str) -> Result<(ExpandKind, u8), String> {
    let (kind, rest) = match v.chars().next() {
        Some('*') => (ExpandKind::All, &v[1..]),
        Some('.') => (ExpandKind::NoLinks, &v[1..]),
        Some('~') => (ExpandKind::LinksOnly, &v[1..]),
        _ => return Err(v.to_owned()),
    };
    if rest.is_empty() {
        return Ok((kind, 1));
    }
    let levels = rest
        .strip_prefix("($levels=")
        .and_then(|r| r.strip_suffix(')'))
        .and_then(|n| n.parse::<u8>().ok())
        .filter(|n| (1..=resources::MAX_EXPAND_LEVELS).contains(n))
        .ok_or_else(|| v.to_owned())?;
    Ok((kind, levels))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn expand(
    node: &Node,
    st: &mut crate::state::NodeState,
    body: &mut Value,
    kind: ExpandKind,
    levels: u8,
    now: Instant,
    in_links: bool,
) {
    if levels == 0 {
        return;
    }
    let Value::Object(map) = body else { return };
    for (key, value) in map.iter_mut() {
        if key.starts_with('@') || key == "Actions" || key == "Oem" {
            continue;
        }
        let under_links = in_links || key == "Links";
        let wanted = match kind {
            ExpandKind::All => true,
            ExpandKind::NoLinks => !under_links,
            ExpandKind::LinksOnly => under_links,
        };
        match value {
            Value::Object(o) if o.len() == 1 && o.contains_key("@odata.id") => {
                if wanted
                    && let Some(path) = o
                        .get("@odata.id")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                {
                    expand_one(node, st, value, &path, kind, levels, now);
                }
            }
            Value::Object(_) if key == "Links" || key == "Boot" || key == "Status" => {
                expand(node, st, value, kind, levels, now, under_links);
            }
            Value::Array(items) => {
                for item in items.iter_mut() {
                    let path = item
                        .as_object()
                        .filter(|o| o.len() == 1)
                        .and_then(|o| o.get("@odata.id"))
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                    if let (true, Some(path)) = (wanted, path) {
                        expand_one(node, st, item, &path, kind, levels, now);
                    }
                }
            }
            _ => {}
        }
    }
}

fn expand_one(
    node: &Node,
    st: &mut crate::state::NodeState,
    slot: &mut Value,
    path: &str,
    kind: ExpandKind,
    levels: u8,
    now: Instant,
) {
    let Some(rest) = path.strip_prefix("/redfish/v1") else {
        return;
    };
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    if let Some(mut r) = render(node, st, &segs, now) {
        expand(node, st, &mut r.body, kind, levels - 1, now, false);
        *slot = r.body;
    }
}

#[allow(clippy::too_many_lines)]
async fn handle(
    node: &Arc<Node>,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    bytes: &[u8],
    now: Instant,
) -> Reply {
    // Faults that answer before anything else.
    {
        let mut f = lock(&node.faults);
        if f.fail_next > 0 {
            f.fail_next -= 1;
            let status =
                StatusCode::from_u16(f.fail_status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let retry = f.fail_retry_after;
            drop(f);
            let reply = error(
                status,
                vec![base_message(
                    "ServiceTemporarilyUnavailable",
                    format!(
                        "The service is temporarily unavailable.  Retry in {} seconds.",
                        retry.unwrap_or(1)
                    ),
                    &[&retry.unwrap_or(1).to_string()],
                    &[],
                    "Wait the indicated time and retry the operation.",
                )],
            );
            return match retry {
                Some(s) => reply.header(header::RETRY_AFTER, s.to_string()),
                None => reply,
            };
        }
        if f.transient_next > 0 {
            f.transient_next -= 1;
            drop(f);
            return vendor_error(node.profile().transient_error);
        }
    }
    if let Some(v) = headers.get("odata-version")
        && v.as_bytes() != b"4.0"
    {
        return error(
            StatusCode::PRECONDITION_FAILED,
            vec![base_message(
                "PreconditionFailed",
                "The OData-Version requested is not supported; this service supports 4.0.".into(),
                &[],
                &[],
                "Send OData-Version: 4.0 or omit the header.",
            )],
        );
    }
    let raw_path = uri.path();
    let path = if raw_path.len() > 1 {
        raw_path.trim_end_matches('/')
    } else {
        raw_path
    };
    let is_get = method == Method::GET || method == Method::HEAD;

    if !is_open(method, path) {
        match authenticate(node, headers, now) {
            Some(_) => {}
            None => return unauthorized(),
        }
    }
    if path == "/redfish" {
        return if is_get {
            Reply::json(StatusCode::OK, json!({"v1": "/redfish/v1/"}))
        } else {
            method_not_allowed(Allow::Get)
        };
    }
    if path == "/redfish/v1/$metadata" {
        return if is_get {
            Reply {
                status: StatusCode::OK,
                headers: Vec::new(),
                payload: Payload::Xml(resources::metadata_xml()),
            }
        } else {
            method_not_allowed(Allow::Get)
        };
    }
    if path == "/redfish/v1/odata" {
        return if is_get {
            Reply::json(StatusCode::OK, resources::odata_doc(node.basic_auth_only()))
        } else {
            method_not_allowed(Allow::Get)
        };
    }
    let Some(rest) = path.strip_prefix("/redfish/v1") else {
        return not_found(path);
    };
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();

    // Query parameters: $expand is supported; other $-parameters are not (501, DSP0266).
    let mut expand_req = None;
    if let Some(q) = uri.query() {
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let k = percent_decode(k);
            if k == "$expand" {
                match parse_expand(&percent_decode(v)) {
                    Ok(e) => expand_req = Some(e),
                    Err(bad) => {
                        return error(
                            StatusCode::BAD_REQUEST,
                            vec![base_message(
                                "QueryParameterValueFormatError",
                                format!(
                                    "The value '{bad}' for the parameter $expand is of a different format than the parameter can accept."
                                ),
                                &[&bad, "$expand"],
                                &[],
                                "Correct the value for the query parameter in the request and resubmit the request if the operation failed.",
                            )],
                        );
                    }
                }
            } else if k.starts_with('$') || k == "only" || k == "excerpt" {
                return error(
                    StatusCode::NOT_IMPLEMENTED,
                    vec![base_message(
                        "QueryNotSupported",
                        "Querying is not supported by the implementation.".into(),
                        &[],
                        &[],
                        "Remove the query parameters and resubmit the request if the operation failed.",
                    )],
                );
            }
        }
    }

    // Actions and other POST-only targets.
    if let Some(reply) = post_targets(node, method, &segs, headers, bytes, now).await {
        return reply;
    }

    match handle_resource(node, method, &segs, headers, bytes, now, expand_req, path) {
        Ok(reply) => reply,
        Err(changes) => patch_resource(node, &segs, &changes, now).await,
    }
}

/// GET/HEAD/PATCH-precondition/DELETE on a rendered resource; `Err` carries a PATCH body that
/// passed the precondition, to be applied (asynchronously) by the caller.
#[allow(clippy::too_many_arguments)]
fn handle_resource(
    node: &Arc<Node>,
    method: &Method,
    segs: &[&str],
    headers: &HeaderMap,
    bytes: &[u8],
    now: Instant,
    expand_req: Option<(ExpandKind, u8)>,
    path: &str,
) -> Result<Reply, serde_json::Map<String, Value>> {
    let mut st = node.state_at(now);
    let Some(mut resource) = render(node, &mut st, segs, now) else {
        return Ok(not_found(path));
    };
    if !resource.allow.allows(method.as_str()) {
        return Ok(method_not_allowed(resource.allow));
    }
    let allow = resource.allow.header();
    let serialised = serde_json::to_vec(&resource.body).unwrap_or_default();
    let etag = etag_of_bytes(&serialised);
    match *method {
        Method::GET | Method::HEAD => {
            if let Some(inm) = headers
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                && etag_matches(inm, &etag)
            {
                return Ok(Reply::empty(StatusCode::NOT_MODIFIED).header(header::ETAG, etag));
            }
            let described_by = resource
                .body
                .get("@odata.type")
                .and_then(Value::as_str)
                .and_then(describedby_link);
            let payload = if let Some((kind, levels)) = expand_req {
                expand(node, &mut st, &mut resource.body, kind, levels, now, false);
                Payload::Json(resource.body)
            } else {
                Payload::JsonBytes(serialised)
            };
            let mut reply = Reply {
                status: StatusCode::OK,
                headers: Vec::new(),
                payload,
            }
            .header(header::ETAG, etag)
            .header(header::ALLOW, allow);
            if let Some(link) = described_by {
                reply = reply.header(header::LINK, link);
            }
            Ok(reply)
        }
        Method::PATCH => {
            if let Some(im) = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok())
                && !etag_matches(im, &etag)
            {
                return Ok(error(StatusCode::PRECONDITION_FAILED, vec![base_message("PreconditionFailed", "The ETag supplied did not match the ETag required to change this resource.".into(), &[], &[], "Try the operation again using the appropriate ETag.")]));
            }
            let Ok(Value::Object(changes)) = serde_json::from_slice::<Value>(bytes) else {
                return Ok(malformed_json());
            };
            drop(st);
            Err(changes)
        }
        Method::DELETE => {
            if let ["SessionService", "Sessions", sid] = segs {
                st.sessions.retain(|s| s.id.to_string() != *sid);
                return Ok(Reply::empty(StatusCode::NO_CONTENT));
            }
            Ok(method_not_allowed(resource.allow))
        }
        _ => Ok(method_not_allowed(resource.allow)),
    }
}

/// Where DMTF publishes the JSON schema of a resource.
const DMTF_JSON_SCHEMA_BASE: &str = "http://redfish.dmtf.org/schemas/v1";

/// The `Link` header value DSP0266 asks for on a resource: its JSON schema with
/// `rel=describedby`. The schema file is the `@odata.type` without the leading `#` and the
/// trailing type name: `#ComputerSystem.v1_20_0.ComputerSystem` → `ComputerSystem.v1_20_0.json`,
/// and an unversioned `#ComputerSystemCollection.ComputerSystemCollection` →
/// `ComputerSystemCollection.json`. `None` when the type has no namespace to name a file by.
fn describedby_link(odata_type: &str) -> Option<String> {
    let (namespace, type_name) = odata_type.strip_prefix('#')?.rsplit_once('.')?;
    if namespace.is_empty() || type_name.is_empty() {
        return None;
    }
    Some(format!(
        "<{DMTF_JSON_SCHEMA_BASE}/{namespace}.json>; rel=describedby"
    ))
}

fn parse_body(bytes: &[u8], empty_ok: bool) -> Result<serde_json::Map<String, Value>, Reply> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return if empty_ok {
            Ok(serde_json::Map::new())
        } else {
            Err(malformed_json())
        };
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(malformed_json()),
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[allow(clippy::too_many_lines)]
async fn post_targets(
    node: &Arc<Node>,
    method: &Method,
    segs: &[&str],
    headers: &HeaderMap,
    bytes: &[u8],
    now: Instant,
) -> Option<Reply> {
    // GETs of ordinary resources (the bulk of the traffic) are none of the targets below.
    if method != Method::POST && segs.first() != Some(&"TaskService") && !segs.contains(&"Actions")
    {
        return None;
    }
    let p = node.profile();
    let ps = paths(node);
    let full = format!("/redfish/v1/{}", segs.join("/"));
    let action = |target: &str| full == target;
    let reset_target = format!("{}/Actions/ComputerSystem.Reset", ps.system);
    let reset_bios_target = format!("{}/Actions/Bios.ResetBios", ps.bios);
    let vmedia_action = full
        .strip_prefix(&format!("{}/", ps.vmedia))
        .and_then(|r| r.split_once("/Actions/VirtualMedia."));
    let is_action = action(&reset_target)
        || action(&reset_bios_target)
        || vmedia_action.is_some()
        || segs.first() == Some(&"TaskService") && segs.get(1) == Some(&"TaskMonitors");
    let session_create = method == Method::POST
        && (segs == ["SessionService", "Sessions"]
            || segs == ["SessionService", "Sessions", "Members"]);
    if !is_action && !session_create {
        return None;
    }
    if segs.first() == Some(&"TaskService") {
        if method != Method::GET && method != Method::HEAD && method != Method::DELETE {
            return Some(method_not_allowed(Allow::GetDelete));
        }
        let tid = segs.get(2).copied().unwrap_or_default();
        let mut st = node.state_at(now);
        let Some(task) = st
            .tasks
            .iter_mut()
            .find(|t| resources::task_id(node, t.id) == tid)
        else {
            return Some(not_found(&full));
        };
        if method == Method::DELETE {
            // DSP0266: a DELETE on the task monitor cancels the operation. One already over
            // stays as it ended.
            if matches!(task.state, TaskState::Pending | TaskState::Running) {
                task.state = TaskState::Cancelled;
                let id = task.id;
                drop(st);
                lock(&node.background).retain(|(task_id, handle)| {
                    if *task_id == id {
                        handle.abort();
                    }
                    *task_id != id
                });
            }
            return Some(Reply::empty(StatusCode::NO_CONTENT));
        }
        let task = &*task;
        let body = resources::task_body(node, task);
        return Some(
            if matches!(task.state, TaskState::Pending | TaskState::Running) {
                // A BIOS job waits for a reset; an image download finishes in moments.
                let retry_after = if task.state == TaskState::Running {
                    "1"
                } else {
                    "5"
                };
                Reply::json(StatusCode::ACCEPTED, body)
                    .header(header::RETRY_AFTER, retry_after)
                    .header(header::LOCATION, full)
            } else {
                Reply::json(StatusCode::OK, body)
            },
        );
    }
    if method != Method::POST {
        return Some(method_not_allowed(Allow::Post));
    }
    if session_create {
        if node.basic_auth_only() {
            return Some(not_found(&full));
        }
        return Some(create_session(node, bytes, now));
    }
    if action(&reset_target) {
        let body = match parse_body(bytes, false) {
            Ok(b) => b,
            Err(r) => return Some(r),
        };
        return Some(reset(node, &body, now));
    }
    if action(&reset_bios_target) {
        if let Err(r) = parse_body(bytes, true) {
            return Some(r);
        }
        node.state_at(now).bios_reset_pending = true;
        return Some(Reply::empty(StatusCode::NO_CONTENT));
    }
    if let Some((slot, act)) = vmedia_action {
        if p.vmedia_patch_only {
            return Some(not_found(&full));
        }
        let Some(slot_idx) = p.vmedia_slots.iter().position(|s| s.id == slot) else {
            return Some(not_found(&full));
        };
        let _ = headers;
        return Some(match act {
            "InsertMedia" => {
                let body = match parse_body(bytes, false) {
                    Ok(b) => b,
                    Err(r) => return Some(r),
                };
                insert_media(node, slot_idx, &body, true).await
            }
            "EjectMedia" => {
                if p.eject_requires_body && bytes.is_empty() {
                    return Some(error(StatusCode::BAD_REQUEST, vec![base_message("MalformedJSON", "The request body submitted was malformed JSON and could not be parsed by the receiving service.".into(), &[], &[], "Send an empty JSON object.")]));
                }
                if let Err(r) = parse_body(bytes, true) {
                    return Some(r);
                }
                let mut st = node.state_at(now);
                if let Some(m) = st.media.get_mut(slot_idx) {
                    *m = crate::state::MediaSlot::default();
                }
                Reply::empty(StatusCode::NO_CONTENT)
            }
            _ => not_found(&full),
        });
    }
    None
}

fn create_session(node: &Node, bytes: &[u8], now: Instant) -> Reply {
    let body = match parse_body(bytes, false) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let user = body.get("UserName").and_then(Value::as_str);
    let pass = body.get("Password").and_then(Value::as_str);
    let (Some(user), Some(pass)) = (user, pass) else {
        let missing = if user.is_none() {
            "UserName"
        } else {
            "Password"
        };
        return error(
            StatusCode::BAD_REQUEST,
            vec![base_message(
                "PropertyMissing",
                format!(
                    "The property {missing} is a required property and must be included in the request."
                ),
                &[missing],
                &[format!("/{missing}")],
                "Ensure that the property is in the request body and has a valid value and resubmit the request if the operation failed.",
            )],
        );
    };
    if !credentials_ok(node, user, pass) {
        return unauthorized();
    }
    let mut st = lock(&node.state);
    st.expire_sessions(now);
    if st.sessions.len() >= node.profile().session_cap {
        drop(st);
        return vendor_error(node.profile().session_limit_error);
    }
    let id = st.take_id();
    let token = new_token();
    st.sessions.push(Session {
        id,
        token: token.clone(),
        user: user.to_owned(),
        last_used: now,
    });
    let location = format!("/redfish/v1/SessionService/Sessions/{id}");
    Reply::json(StatusCode::CREATED, resources::session_body(id, user))
        .header(header::LOCATION, location)
        .header(header::HeaderName::from_static("x-auth-token"), token)
}

/// 43 characters from a 62-symbol alphabet: about 256 bits of randomness.
fn new_token() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(43);
    while out.len() < 43 {
        let mut r = rand::random::<u128>();
        for _ in 0..21 {
            out.push(char::from(ALPHABET[(r % 62) as usize]));
            r /= 62;
        }
    }
    out.truncate(43);
    out
}

fn reset(node: &Node, body: &serde_json::Map<String, Value>, now: Instant) -> Reply {
    let p = node.profile();
    let action = "ComputerSystem.Reset";
    let Some(kind_str) = body.get("ResetType").and_then(Value::as_str) else {
        return error(
            StatusCode::BAD_REQUEST,
            vec![base_message(
                "ActionParameterMissing",
                format!(
                    "The action {action} requires the parameter ResetType to be present in the request body."
                ),
                &[action, "ResetType"],
                &["/ResetType".into()],
                "Supply the action with the required parameter in the request body when the request is resubmitted.",
            )],
        );
    };
    if let Some(unknown) = body.keys().find(|k| *k != "ResetType") {
        return error(
            StatusCode::BAD_REQUEST,
            vec![base_message(
                "ActionParameterUnknown",
                format!("The action {action} was submitted with the invalid parameter {unknown}."),
                &[action, unknown],
                &[format!("/{unknown}")],
                "Correct the invalid parameter and resubmit the request if the operation failed.",
            )],
        );
    }
    let kind = ResetType::parse(kind_str).filter(|_| p.reset_types.contains(&kind_str));
    let Some(kind) = kind else {
        return error(
            StatusCode::BAD_REQUEST,
            vec![base_message(
                "ActionParameterNotSupported",
                format!(
                    "The parameter {kind_str} for the action {action} is not supported on the target resource."
                ),
                &[kind_str, action],
                &["/ResetType".into()],
                "Remove the parameter supplied and resubmit the request if the operation failed.",
            )],
        );
    };
    let delays = node.delays();
    let mut st = node.state_at(now);
    if let (Some(ms), Some(last)) = (p.busy_after_power_change_ms, st.last_power_change)
        && now.duration_since(last) < std::time::Duration::from_millis(ms)
    {
        drop(st);
        return vendor_error(p.transient_error);
    }
    match st.reset(kind, now, p, delays) {
        Ok(()) => Reply::empty(StatusCode::NO_CONTENT),
        Err(ResetRefusal::AlreadyInState) if !p.redundant_power_conflict => {
            Reply::empty(StatusCode::NO_CONTENT)
        }
        Err(refusal) => {
            let why = match refusal {
                ResetRefusal::AlreadyInState => {
                    "the system is already in the requested power state"
                }
                ResetRefusal::NotPoweredOn => "the system is powered off",
                ResetRefusal::InTransition => "a power transition is in progress",
            };
            error(
                StatusCode::CONFLICT,
                vec![base_message(
                    "ActionParameterValueConflict",
                    format!("The reset type {kind_str} cannot be applied because {why}."),
                    &["ResetType", kind_str],
                    &["/ResetType".into()],
                    "Wait for the current power state to settle, then retry.",
                )],
            )
        }
    }
}

/// Validates `InsertMedia` parameters, downloads the image, checks it and stores it in the slot.
#[allow(clippy::too_many_lines, clippy::items_after_statements)]
async fn insert_media(
    node: &Arc<Node>,
    slot_idx: usize,
    body: &serde_json::Map<String, Value>,
    via_action: bool,
) -> Reply {
    let p = node.profile();
    let action = "VirtualMedia.InsertMedia";
    const KNOWN: &[&str] = &[
        "Image",
        "Inserted",
        "WriteProtected",
        "TransferProtocolType",
        "TransferMethod",
        "UserName",
        "Password",
        "MediaType",
    ];
    if let Some(unknown) = body.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return error(
            StatusCode::BAD_REQUEST,
            vec![base_message(
                "ActionParameterUnknown",
                format!("The action {action} was submitted with the invalid parameter {unknown}."),
                &[action, unknown],
                &[format!("/{unknown}")],
                "Correct the invalid parameter and resubmit the request if the operation failed.",
            )],
        );
    }
    if via_action
        && p.insert_rejects_readonly_fields
        && let Some(ro) = ["Inserted", "WriteProtected"]
            .into_iter()
            .find(|k| body.contains_key(*k))
    {
        return error(
            StatusCode::BAD_REQUEST,
            vec![property_not_writable(ro, "/")],
        );
    }
    let Some(image) = body.get("Image").and_then(Value::as_str).map(str::to_owned) else {
        return error(
            StatusCode::BAD_REQUEST,
            vec![base_message(
                "ActionParameterMissing",
                format!(
                    "The action {action} requires the parameter Image to be present in the request body."
                ),
                &[action, "Image"],
                &["/Image".into()],
                "Supply the action with the required parameter in the request body when the request is resubmitted.",
            )],
        );
    };
    let write_protected = body
        .get("WriteProtected")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    {
        let st = lock(&node.state);
        let inserting = st
            .tasks
            .iter()
            .any(|t| t.state == TaskState::Running && t.name == INSERT_TASK);
        if inserting || st.media.get(slot_idx).is_some_and(|m| m.inserted) {
            return error(StatusCode::CONFLICT, vec![base_message("ResourceInUse", "The change to the requested resource failed because the resource is in use or in transition.".into(), &[], &[], "Eject the inserted media first.")]);
        }
    }
    if non_http_transfer(&image, body) {
        return unsupported_transfer_protocol();
    }
    if via_action && node.shared.insert_returns_task {
        return insert_as_task(node, slot_idx, image, write_protected);
    }
    match load_image(node, slot_idx, image, write_protected).await {
        Ok(slot) => {
            store_media(node, slot_idx, slot);
            Reply::empty(StatusCode::NO_CONTENT)
        }
        Err((status, info)) => error(status, vec![info]),
    }
}

/// Name of the task an asynchronous insert runs as.
const INSERT_TASK: &str = "Virtual media insert";

/// Option `insert_returns_task` ([`crate::MockBmcBuilder::insert_returns_task`]): answers 202 with the task at once and loads the image in the
/// background; the task ends `Completed`, or `Exception` with the reason a synchronous insert
/// would have answered.
fn insert_as_task(
    node: &Arc<Node>,
    slot_idx: usize,
    image: String,
    write_protected: bool,
) -> Reply {
    let (id, body) = {
        let mut st = lock(&node.state);
        let id = st.take_id();
        let task = Task {
            id,
            name: INSERT_TASK,
            state: TaskState::Running,
            start_unix: unix_now(),
            message: None,
        };
        let body = resources::task_body(node, &task);
        st.tasks.push(task);
        (id, body)
    };
    let background = node.clone();
    let download = tokio::spawn(async move {
        let outcome = load_image(&background, slot_idx, image, write_protected).await;
        let mut st = lock(&background.state);
        // A task cancelled meanwhile (DELETE on its monitor) stores nothing.
        let Some(task) = st
            .tasks
            .iter_mut()
            .find(|t| t.id == id && t.state == TaskState::Running)
        else {
            return;
        };
        match outcome {
            Ok(slot) => {
                task.state = TaskState::Completed;
                if let Some(m) = st.media.get_mut(slot_idx) {
                    *m = slot;
                }
            }
            Err((_, info)) => {
                task.state = TaskState::Exception;
                task.message = info
                    .get("Message")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
            }
        }
    });
    let mut running = lock(&node.background);
    running.retain(|(_, handle)| !handle.is_finished());
    running.push((id, download.abort_handle()));
    drop(running);
    let monitor = format!(
        "/redfish/v1/TaskService/TaskMonitors/{}",
        resources::task_id(node, id)
    );
    Reply::json(StatusCode::ACCEPTED, body)
        .header(header::LOCATION, monitor)
        .header(header::RETRY_AFTER, "1")
}

/// Downloads the image and checks it (ISO 9660 for CD slots, config drive): the slot to store.
/// `Err` carries the status and message a BMC answers for the failure.
async fn load_image(
    node: &Arc<Node>,
    slot_idx: usize,
    image: String,
    write_protected: bool,
) -> Result<crate::state::MediaSlot, (StatusCode, Value)> {
    let p = node.profile();
    let action = "VirtualMedia.InsertMedia";
    let is_cd = p
        .vmedia_slots
        .get(slot_idx)
        .is_some_and(|s| s.media_types.contains(&"CD"));
    let data = match fetch_image(node, &image).await {
        Ok(d) => d,
        Err(failure) => return Err(fetch_failure_reply(&strip_userinfo(&image), failure)),
    };
    // Messages name the image without its user-info.
    let shown = strip_userinfo(&image);
    let (label, config_drive, bootable) = if is_cd {
        if !iso9660::has_iso9660_signature(&data) {
            return Err((
                StatusCode::BAD_REQUEST,
                base_message(
                    "ActionParameterValueFormatError",
                    format!(
                        "The value '{shown}' for the parameter Image in the action {action} is of a different format than the parameter can accept."
                    ),
                    &[&shown, "Image", action],
                    &["/Image".into()],
                    "Provide an ISO 9660 image.",
                ),
            ));
        }
        match iso9660::IsoImage::parse(&data) {
            Ok(iso) => (
                Some(iso.volume_label().to_owned()),
                iso9660::config_drive_network(&iso).ok().flatten(),
                iso.is_bootable(),
            ),
            Err(_) => (None, None, false),
        }
    } else {
        (None, None, false)
    };
    Ok(crate::state::MediaSlot {
        // The slot keeps the URL without its user-info: `Image` is readable by every client.
        image: Some(without_userinfo(&image)),
        inserted: true,
        write_protected,
        image_size: data.len() as u64,
        volume_label: label,
        config_drive,
        bootable,
    })
}

/// Stores a loaded image in its slot.
fn store_media(node: &Node, slot_idx: usize, slot: crate::state::MediaSlot) {
    if let Some(m) = lock(&node.state).media.get_mut(slot_idx) {
        *m = slot;
    }
}

/// `url` without its user-info (`http://u:pw@host/x.iso` → `http://host/x.iso`); text that is
/// not a URL, or has no user-info, is returned unchanged.
pub(crate) fn without_userinfo(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            // Both only fail for URLs that cannot carry user-info at all.
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Why an image download failed; each maps to the error a BMC answers ([`fetch_failure_reply`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FetchFailure {
    /// No usable connection: refused, unreachable, timed out, cut mid-transfer (or the
    /// image-download fault).
    Connection,
    /// The image server answered 401 or 403.
    Unauthorized(u16),
    /// The image server answered another non-success status (404 and the rest).
    NotFound(u16),
    /// Not a URL at all.
    InvalidUrl,
    /// Larger than the node accepts.
    TooLarge,
}

/// The status and message for a failed download of `image` (already without user-info).
fn fetch_failure_reply(image: &str, failure: FetchFailure) -> (StatusCode, Value) {
    let action = "VirtualMedia.InsertMedia";
    let related = ["/Image".to_owned()];
    match failure {
        FetchFailure::Connection => (
            StatusCode::INTERNAL_SERVER_ERROR,
            base_message(
                "CouldNotEstablishConnection",
                format!("The service failed to establish a connection with the URI '{image}'."),
                &[image],
                &related,
                "Ensure that the URI contains a valid and reachable node name, protocol information, and other URI components.",
            ),
        ),
        FetchFailure::Unauthorized(status) => {
            let why = format!("HTTP {status}");
            (
                StatusCode::BAD_REQUEST,
                base_message(
                    "ResourceAtUriUnauthorized",
                    format!(
                        "While accessing the resource at '{image}', the service received an authorization error '{why}'."
                    ),
                    &[image, &why],
                    &related,
                    "Ensure that the appropriate access is provided for the service in order for it to access the URI.",
                ),
            )
        }
        FetchFailure::NotFound(_) => (
            StatusCode::BAD_REQUEST,
            base_message(
                "ResourceNotFound",
                format!("The requested resource of type Image named '{image}' was not found."),
                &["Image", image],
                &related,
                "Provide an image URL the image server serves and resubmit the request.",
            ),
        ),
        FetchFailure::InvalidUrl => (
            StatusCode::BAD_REQUEST,
            base_message(
                "ActionParameterValueFormatError",
                format!(
                    "The value '{image}' for the parameter Image in the action {action} is of a different format than the parameter can accept."
                ),
                &[image, "Image", action],
                &related,
                "Provide an absolute http or https URL.",
            ),
        ),
        FetchFailure::TooLarge => (
            StatusCode::BAD_REQUEST,
            base_message(
                "ActionParameterValueError",
                format!("The value for the parameter Image in the action {action} is invalid."),
                &["Image", action],
                &related,
                "Provide a smaller image.",
            ),
        ),
    }
}

/// A 400 `ActionParameterNotSupported` naming `TransferProtocolType`: the mock (like most
/// BMCs' HTTP-only firmware) downloads over http and https only.
fn unsupported_transfer_protocol() -> Reply {
    let action = "VirtualMedia.InsertMedia";
    error(
        StatusCode::BAD_REQUEST,
        vec![base_message(
            "ActionParameterNotSupported",
            format!(
                "The parameter TransferProtocolType for the action {action} is not supported on the target resource."
            ),
            &["TransferProtocolType", action],
            &["/TransferProtocolType".into()],
            "Use an http or https image URL (TransferProtocolType HTTP or HTTPS).",
        )],
    )
}

/// Whether an insert asks for a protocol other than HTTP(S): by `TransferProtocolType` or by
/// the scheme of `Image`.
fn non_http_transfer(image: &str, body: &serde_json::Map<String, Value>) -> bool {
    let protocol = body.get("TransferProtocolType").and_then(Value::as_str);
    if protocol.is_some_and(|p| !matches!(p, "HTTP" | "HTTPS")) {
        return true;
    }
    url::Url::parse(image).is_ok_and(|u| !matches!(u.scheme(), "http" | "https"))
}

async fn fetch_image(node: &Node, url: &str) -> Result<Vec<u8>, FetchFailure> {
    {
        let mut f = lock(&node.faults);
        if f.image_fail_next > 0 {
            f.image_fail_next -= 1;
            return Err(FetchFailure::Connection);
        }
    }
    let parsed = url::Url::parse(url).map_err(|_| FetchFailure::InvalidUrl)?;
    let mut resp = node
        .shared
        .http
        .get(parsed)
        .send()
        .await
        .map_err(|_| FetchFailure::Connection)?;
    let status = resp.status().as_u16();
    match status {
        200..=299 => {}
        401 | 403 => return Err(FetchFailure::Unauthorized(status)),
        _ => return Err(FetchFailure::NotFound(status)),
    }
    let mut data = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|_| FetchFailure::Connection)? {
        data.extend_from_slice(&chunk);
        if data.len() as u64 > node.shared.max_image_bytes {
            return Err(FetchFailure::TooLarge);
        }
    }
    Ok(data)
}

#[allow(clippy::too_many_lines)]
async fn patch_resource(
    node: &Arc<Node>,
    segs: &[&str],
    patch: &serde_json::Map<String, Value>,
    now: Instant,
) -> Reply {
    let p = node.profile();
    let ps = paths(node);
    let full = format!("/redfish/v1/{}", segs.join("/"));
    if full == ps.system {
        let mut infos = Vec::new();
        for k in patch.keys() {
            if !matches!(k.as_str(), "Boot" | "AssetTag" | "LocationIndicatorActive") {
                infos.push(if is_known_system_property(k) {
                    property_not_writable(k, "/")
                } else {
                    property_unknown(k, "/")
                });
            }
        }
        let mut st = node.state_at(now);
        let mut boot = st.boot.clone();
        if let Some(b) = patch.get("Boot") {
            let Some(b) = b.as_object() else {
                return error(StatusCode::BAD_REQUEST, vec![property_unknown("Boot", "/")]);
            };
            for (k, v) in b {
                let text = v.as_str();
                match (k.as_str(), text) {
                    ("BootSourceOverrideTarget", Some(t)) if p.boot_targets.contains(&t) => {
                        t.clone_into(&mut boot.target);
                    }
                    ("BootSourceOverrideEnabled", Some(e))
                        if p.boot_enabled_values.contains(&e) =>
                    {
                        boot.enabled =
                            OverrideEnabled::parse(e).unwrap_or(OverrideEnabled::Disabled);
                    }
                    ("BootSourceOverrideMode", Some(m)) if m == "UEFI" || m == "Legacy" => {
                        m.clone_into(&mut boot.mode);
                    }
                    (
                        "BootSourceOverrideTarget"
                        | "BootSourceOverrideEnabled"
                        | "BootSourceOverrideMode",
                        _,
                    ) => infos.push(value_not_in_list(k, v, "/Boot/")),
                    _ => infos.push(property_unknown(k, "/Boot/")),
                }
            }
            // Supermicro drops the override unless Enabled is re-sent with the target.
            if p.override_needs_enabled
                && b.contains_key("BootSourceOverrideTarget")
                && !b.contains_key("BootSourceOverrideEnabled")
            {
                boot.enabled = OverrideEnabled::Disabled;
            }
            // ...and falls back to Legacy unless the mode is re-sent with the target.
            if p.override_mode_needs_resend
                && b.contains_key("BootSourceOverrideTarget")
                && !b.contains_key("BootSourceOverrideMode")
            {
                "Legacy".clone_into(&mut boot.mode);
            }
        }
        if !infos.is_empty() {
            return error(StatusCode::BAD_REQUEST, infos);
        }
        st.boot = boot;
        if let Some(tag) = patch.get("AssetTag").and_then(Value::as_str) {
            st.asset_tag = tag.chars().take(64).collect();
        }
        if let Some(on) = patch
            .get("LocationIndicatorActive")
            .and_then(Value::as_bool)
        {
            st.locator_on = on;
        }
        let mut st = st;
        return match render(node, &mut st, segs, now) {
            Some(r) => {
                let etag = etag_of(&r.body);
                Reply::json(StatusCode::OK, r.body).header(header::ETAG, etag)
            }
            None => Reply::empty(StatusCode::NO_CONTENT),
        };
    }
    if full == ps.bios_settings {
        return patch_bios(node, patch, now);
    }
    if full == "/redfish/v1/SessionService" {
        let mut infos = Vec::new();
        let mut timeout = None;
        for (k, v) in patch {
            match (k.as_str(), v.as_u64()) {
                ("SessionTimeout", Some(t)) if (30..=86_400).contains(&t) => timeout = Some(t),
                ("SessionTimeout", _) => infos.push(base_message("PropertyValueOutOfRange", format!("The value '{v}' for the property SessionTimeout is not in the supported range of acceptable values."), &[&v.to_string(), "SessionTimeout"], &["/SessionTimeout".into()], "Use a value between 30 and 86400.")),
                _ => infos.push(property_unknown(k, "/")),
            }
        }
        if !infos.is_empty() {
            return error(StatusCode::BAD_REQUEST, infos);
        }
        let mut st = node.state_at(now);
        if let Some(t) = timeout {
            st.session_timeout_secs = t;
        }
        return Reply::empty(StatusCode::NO_CONTENT);
    }
    if let Some(slot) = full.strip_prefix(&format!("{}/", ps.vmedia))
        && let Some(slot_idx) = p.vmedia_slots.iter().position(|s| s.id == slot)
    {
        // PATCH on a slot: Image + Inserted inserts (how XCC works), Image null / Inserted false ejects.
        let eject = patch.get("Image").is_some_and(Value::is_null)
            || patch.get("Inserted") == Some(&Value::Bool(false));
        if eject {
            if let Some(m) = node.state_at(now).media.get_mut(slot_idx) {
                *m = crate::state::MediaSlot::default();
            }
            return Reply::empty(StatusCode::NO_CONTENT);
        }
        if p.vmedia_patch_only && patch.contains_key("Image") && !patch.contains_key("Inserted") {
            return error(StatusCode::BAD_REQUEST, vec![base_message("PropertyMissing", "The property Inserted is a required property and must be included in the request.".into(), &["Inserted"], &["/Inserted".into()], "Ensure that the property is in the request body and has a valid value and resubmit the request if the operation failed.")]);
        }
        if patch.contains_key("Image") {
            return insert_media(node, slot_idx, patch, false).await;
        }
        return error(
            StatusCode::BAD_REQUEST,
            patch
                .keys()
                .map(|k| property_not_writable(k, "/"))
                .collect(),
        );
    }
    // Everything else that advertised PATCH is read-only in this mock.
    error(
        StatusCode::BAD_REQUEST,
        patch
            .keys()
            .map(|k| property_not_writable(k, "/"))
            .collect(),
    )
}

fn is_known_system_property(k: &str) -> bool {
    matches!(
        k,
        "Id" | "Name"
            | "PowerState"
            | "Manufacturer"
            | "Model"
            | "SerialNumber"
            | "UUID"
            | "Status"
            | "HostName"
            | "SKU"
            | "SystemType"
            | "BiosVersion"
    )
}

fn patch_bios(node: &Arc<Node>, patch: &serde_json::Map<String, Value>, now: Instant) -> Reply {
    let p = node.profile();
    let mut infos = Vec::new();
    let mut apply_time = None;
    for (k, v) in patch {
        match k.as_str() {
            "Attributes" => {}
            "@Redfish.SettingsApplyTime" if p.rejects_settings_apply_time => {
                infos.push(property_unknown(k, "/"));
            }
            "@Redfish.SettingsApplyTime" => {
                let at = v
                    .get("ApplyTime")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if p.settings_apply_times.contains(&at) {
                    apply_time = Some(at.to_owned());
                } else {
                    infos.push(value_not_in_list(
                        "ApplyTime",
                        &Value::from(at),
                        "/@Redfish.SettingsApplyTime/",
                    ));
                }
            }
            _ => infos.push(property_unknown(k, "/")),
        }
    }
    let Some(attrs) = patch.get("Attributes").and_then(Value::as_object) else {
        infos.push(base_message("PropertyMissing", "The property Attributes is a required property and must be included in the request.".into(), &["Attributes"], &["/Attributes".into()], "Ensure that the property is in the request body and has a valid value and resubmit the request if the operation failed."));
        return error(StatusCode::BAD_REQUEST, infos);
    };
    if !infos.is_empty() {
        return error(StatusCode::BAD_REQUEST, infos);
    }
    let mut st = node.state_at(now);
    let creates_job = p.bios_patch_creates_job && apply_time.is_some();
    if creates_job && st.bios_job_scheduled() {
        return error(StatusCode::BAD_REQUEST, vec![message("IDRAC.2.8.SYS011", "Pending configuration values are already committed, unable to perform another set operation.".into(), &[], &[], "Wait for the scheduled job to complete or delete the configuration jobs before attempting more set attribute operations.")]);
    }
    let effective = |i: usize| st.bios_pending_value(i).unwrap_or_else(|| st.bios_value(i));
    let accepted = match bios::validate(attrs, effective) {
        Ok(a) => a,
        Err(violations) => {
            return error(
                StatusCode::BAD_REQUEST,
                violations.iter().map(violation_message).collect(),
            );
        }
    };
    st.stage_bios(accepted);
    if creates_job {
        let id = st.take_id();
        st.tasks.push(Task {
            id,
            name: crate::state::BIOS_JOB_NAME,
            state: TaskState::Pending,
            start_unix: unix_now(),
            message: None,
        });
        // iDRAC answers with its job (not a task monitor) in `Location`; the job is also a
        // TaskService task whose monitor is `/redfish/v1/TaskService/TaskMonitors/JID_<n>`.
        let body = st
            .tasks
            .last()
            .map_or(Value::Null, |t| resources::dell_job_body(node, &st, t));
        return Reply::json(StatusCode::ACCEPTED, body)
            .header(header::LOCATION, resources::dell_job_path(node, id));
    }
    Reply::empty(StatusCode::NO_CONTENT)
}

/// A TCP stream that resets itself when the node has a connection fault armed.
pub(crate) struct FaultStream {
    inner: TcpStream,
    node: Arc<Node>,
}

impl AsyncRead for FaultStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = poll
            && buf.filled().len() > before
            && this.node.should_drop_connection(Instant::now())
        {
            // SO_LINGER 0 makes the close send RST, as a crashing or rebooting BMC does.
            let _ = this.inner.set_zero_linger();
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "fault: connection reset",
            )));
        }
        poll
    }
}

impl AsyncWrite for FaultStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// axum-server acceptor that wraps each TCP stream in a [`FaultStream`].
#[derive(Clone)]
pub(crate) struct FaultAcceptor {
    pub node: Arc<Node>,
}

impl<S: Send + 'static> axum_server::accept::Accept<TcpStream, S> for FaultAcceptor {
    type Stream = FaultStream;
    type Service = S;
    type Future = std::future::Ready<io::Result<(FaultStream, S)>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let _ = stream.set_nodelay(true);
        std::future::ready(Ok((
            FaultStream {
                inner: stream,
                node: self.node.clone(),
            },
            service,
        )))
    }
}

#[allow(dead_code)]
fn assert_send_checks(node: Arc<Node>, req: Request) {
    fn is_send<T: Send>(_: T) {}
    is_send(dispatch(State(node), req));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip() {
        assert_eq!(
            base64_decode("YWRtaW46cGFzc3dvcmQ=").as_deref(),
            Some(&b"admin:password"[..])
        );
        assert_eq!(base64_decode("YQ").as_deref(), Some(&b"a"[..]));
        assert_eq!(base64_decode("!!"), None);
        // RFC 4648 test vectors for the encoder (the precomputed Basic header).
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
            ("admin:password", "YWRtaW46cGFzc3dvcmQ="),
        ] {
            assert_eq!(base64_encode(plain.as_bytes()), encoded);
        }
    }

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
    fn expand_parsing() {
        assert!(matches!(parse_expand("*"), Ok((ExpandKind::All, 1))));
        assert!(matches!(
            parse_expand(".($levels=2)"),
            Ok((ExpandKind::NoLinks, 2))
        ));
        assert!(matches!(parse_expand("~"), Ok((ExpandKind::LinksOnly, 1))));
        assert!(parse_expand("x").is_err());
        assert!(parse_expand("*($levels=9)").is_err());
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

    #[test]
    fn redaction() {
        let body =
            redact_body(br#"{"UserName":"u","Password":"hunter2","Nested":{"NewPassword":"x"}}"#);
        assert!(
            !body.contains("hunter2") && !body.contains("\"x\""),
            "{body}"
        );
        let mut h = HeaderMap::new();
        h.insert("x-auth-token", HeaderValue::from_static("tok123"));
        h.insert(
            "authorization",
            HeaderValue::from_static("Basic YWRtaW46cGFzc3dvcmQ="),
        );
        let r = redact_headers(&h);
        assert!(r.iter().all(|(_, v)| v == "<redacted>"));
        assert_eq!(redact_body(b"password=hunter2"), "<redacted non-json body>");
    }

    #[test]
    fn user_info_is_stripped_from_urls() {
        assert_eq!(
            strip_userinfo("http://u:pw@host:8080/x.iso?a=b"),
            "http://<redacted>@host:8080/x.iso?a=b"
        );
        assert_eq!(
            strip_userinfo("see https://a@b@h/p and nfs://h2/p"),
            "see https://<redacted>@h/p and nfs://h2/p"
        );
        assert_eq!(strip_userinfo("http://host/x@y.iso"), "http://host/x@y.iso");
        assert_eq!(
            redact_body(br#"{"Image":"http://u:pw@h/x.iso","Inserted":true}"#),
            r#"{"Image":"http://<redacted>@h/x.iso","Inserted":true}"#
        );
        assert_eq!(
            redact_body(b"Image=http://u:pw@h/x.iso"),
            "Image=http://<redacted>@h/x.iso"
        );
    }
}
