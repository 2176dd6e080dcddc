//! The HTTP side of a node: the one axum handler every request goes through. It applies the
//! request-level faults, checks `OData-Version` and authentication, finds the row of the route
//! table ([`crate::routes`]), parses the query, and hands the request to the area that owns
//! the resource ([`crate::areas`]); GET adds `ETag`, `Allow`, `Link` and `$expand`, PATCH
//! checks `If-Match` first. Every request is recorded, redacted, in the node's log.

pub(crate) mod auth;
pub(crate) mod connection;
pub(crate) mod query;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use crate::areas::{self, Answer, Cx};
use crate::messages;
use crate::node::{LogEntry, Node, lock};
use crate::redact::{redact_body, redact_headers};
use crate::reply::{Payload, Reply, describedby_link, etag_matches, etag_of_bytes, finish};
use crate::routes::{self, Matched};

const MAX_BODY: usize = 1 << 20;

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
        messages::payload_too_large()
    } else {
        handle(&node, &method, &parts.uri, &parts.headers, &bytes, now).await
    };
    let mut response = finish(&node, &method, reply);
    gzip_weakens_etag(&node, &parts.headers, &mut response);
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

/// Whether the request asks for `Accept-Encoding: identity` (no compression).
fn asks_for_identity(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            coding
                .split(';')
                .next()
                .is_some_and(|c| c.trim().eq_ignore_ascii_case("identity"))
        })
}

/// Quirk `gzip_weakens_etag` (iDRAC), when the node's switch is on: an answer to a request
/// that accepts compression carries its `ETag` weak and suffixed with `-gzip`.
fn gzip_weakens_etag(node: &Node, request: &HeaderMap, response: &mut Response) {
    if !lock(&node.state).system_options.gzip_weakens_etag || asks_for_identity(request) {
        return;
    }
    let Some(tag) = response
        .headers()
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
    else {
        return;
    };
    let opaque = tag.trim_start_matches("W/").trim_matches('"');
    if let Ok(weak) = axum::http::HeaderValue::from_str(&format!("W/\"{opaque}-gzip\"")) {
        response.headers_mut().insert(header::ETAG, weak);
    }
}

/// The faults that answer before anything else (fail-next, transient error), if one is armed.
fn fault_answer(node: &Node) -> Option<Reply> {
    let mut f = lock(&node.faults);
    if f.fail_next > 0 {
        f.fail_next -= 1;
        let status = StatusCode::from_u16(f.fail_status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let retry = f.fail_retry_after;
        drop(f);
        return Some(messages::service_temporarily_unavailable(status, retry));
    }
    if f.transient_next > 0 {
        f.transient_next -= 1;
        drop(f);
        return Some(messages::vendor_error(node.profile().transient_error));
    }
    None
}

async fn handle(
    node: &Arc<Node>,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    bytes: &[u8],
    now: Instant,
) -> Reply {
    if let Some(reply) = fault_answer(node) {
        return reply;
    }
    // Quirk `identity_encoding_refused` (HPE Gen10 Plus registries): 406 to `identity`.
    if lock(&node.state).system_options.identity_encoding_refused && asks_for_identity(headers) {
        return messages::not_acceptable();
    }
    if let Some(v) = headers.get("odata-version")
        && v.as_bytes() != b"4.0"
    {
        return messages::odata_version_unsupported();
    }
    let raw_path = uri.path();
    let path = if raw_path.len() > 1 {
        raw_path.trim_end_matches('/')
    } else {
        raw_path
    };
    if !auth::is_open(method, path) && !auth::authenticate(node, headers, now) {
        return messages::unauthorized();
    }
    let matched = routes::resolve(node, path);
    // Query parameters count everywhere but on the version and metadata documents.
    let expand = if matched.as_ref().is_none_or(|m| m.resource.takes_query()) {
        match query::parse_query(uri.query()) {
            Ok(expand) => expand,
            Err(reply) => return reply,
        }
    } else {
        None
    };
    let Some(m) = matched else {
        return messages::not_found(path);
    };
    let cx = Cx { node, now };
    if !m.allow.allows(method) {
        // A member that is not there is a 404 whatever the method.
        if m.allow.allows(&Method::GET)
            && areas::get(&cx, &mut node.state_at(now), m.resource, &m.params).is_none()
        {
            return messages::not_found(path);
        }
        return messages::method_not_allowed(m.allow.header());
    }
    match *method {
        Method::GET | Method::HEAD => get(&cx, &m, headers, expand, path),
        Method::PATCH => patch(&cx, &m, headers, bytes, path).await,
        Method::POST => areas::post(&cx, m.resource, &m.params, bytes).await,
        Method::DELETE => areas::delete(&cx, m.resource, &m.params, path),
        _ => messages::method_not_allowed(m.allow.header()),
    }
}

/// GET and HEAD: the area's resource with `ETag` (`If-None-Match` answered 304), `Allow`,
/// `Link` to its schema, `$expand` applied.
fn get(
    cx: &Cx<'_>,
    m: &Matched<'_>,
    headers: &HeaderMap,
    expand: Option<query::Expand>,
    path: &str,
) -> Reply {
    let mut st = cx.node.state_at(cx.now);
    let mut body = match areas::get(cx, &mut st, m.resource, &m.params) {
        None => return messages::not_found(path),
        Some(Answer::Reply(reply)) => return reply,
        Some(Answer::Resource(body)) => body,
    };
    let serialised = serde_json::to_vec(&body).unwrap_or_default();
    let etag = etag_of_bytes(&serialised);
    if let Some(inm) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        && etag_matches(inm, &etag)
    {
        return Reply::empty(StatusCode::NOT_MODIFIED).header(header::ETAG, etag);
    }
    let described_by = body
        .get("@odata.type")
        .and_then(Value::as_str)
        .and_then(describedby_link);
    let payload = if let Some(expand) = expand {
        query::expand(cx, &mut st, &mut body, expand, false);
        Payload::Json(body)
    } else {
        Payload::JsonBytes(serialised)
    };
    let mut reply = Reply {
        status: StatusCode::OK,
        headers: Vec::new(),
        payload,
    }
    .header(header::ETAG, etag)
    .header(header::ALLOW, m.allow.header());
    if let Some(link) = described_by {
        reply = reply.header(header::LINK, link);
    }
    reply
}

/// PATCH: `If-Match` against the resource's current `ETag`, a JSON object body, then the area.
async fn patch(
    cx: &Cx<'_>,
    m: &Matched<'_>,
    headers: &HeaderMap,
    bytes: &[u8],
    path: &str,
) -> Reply {
    let (etag, star_only) = {
        let mut st = cx.node.state_at(cx.now);
        // Quirk `bios_settings_if_match_star` (AMI): the settings object takes `If-Match: *` only.
        let star_only = st.bios_options.settings_if_match_star
            && m.resource == routes::Resource::Bios(routes::BiosRes::Settings);
        let etag = match areas::get(cx, &mut st, m.resource, &m.params) {
            None => return messages::not_found(path),
            Some(Answer::Reply(_)) => return messages::method_not_allowed(m.allow.header()),
            Some(Answer::Resource(body)) => {
                etag_of_bytes(&serde_json::to_vec(&body).unwrap_or_default())
            }
        };
        (etag, star_only)
    };
    let if_match = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok());
    // Quirk `patch_requires_if_match` (AMI): no PATCH without the header.
    let required = star_only || cx.node.profile().patch_requires_if_match;
    match if_match {
        None if required => return messages::precondition_required(),
        Some(im) if star_only && im.trim() != "*" => return messages::etag_mismatch(),
        Some(im) if !etag_matches(im, &etag) => return messages::etag_mismatch(),
        _ => {}
    }
    let Ok(Value::Object(changes)) = serde_json::from_slice::<Value>(bytes) else {
        return messages::malformed_json();
    };
    areas::patch(cx, m.resource, &m.params, &changes).await
}

#[allow(dead_code)]
fn assert_send_checks(node: Arc<Node>, req: Request) {
    fn is_send<T: Send>(_: T) {}
    is_send(dispatch(State(node), req));
}
