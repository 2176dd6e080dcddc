//! Serving a real BMC's capture: a directory tree in the DMTF mockup layout (`redfish/v1/…/index.json`,
//! as DMTF's Redfish-Mockup-Creator writes it) answered over HTTP on loopback, read-only.
//!
//! The tests of several crates replay the same vendor captures (a Dell iDRAC9, an HPE iLO 5),
//! and a developer may want to point a client at one by hand; this is the one server for both
//! (`ferrofish-mock-bmc --capture DIR`). It is not a personality: nothing in it is invented, so
//! what a client gets is what the real BMC answered when it was captured.
//!
//! - `GET` answers the file of the path. Segments are matched exactly first, then without case,
//!   as iLO does (its root links `/redfish/v1/systems/1/bios`); a trailing slash is ignored.
//! - `$expand` is answered the way the captured service root advertises it
//!   (`ProtocolFeaturesSupported.ExpandQuery`): a form or a depth it does not advertise is a
//!   400 `QueryNotSupported`, as a real service answers. Other query parameters are ignored.
//! - A `POST` to a `SessionService/Sessions` collection logs in (201, a fixed token, `Location`
//!   and `@odata.id`); a `POST` to a path given an answer with [`CaptureBmc::answer_post`]
//!   (an action: a capture holds no action answers) gets that JSON; `DELETE` and `PATCH`
//!   answer 204 and change nothing; anything else is 405. Credentials are not checked: the
//!   capture holds no accounts.
//! - Every request is recorded with the status it got ([`CaptureBmc::requests`]).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// The token a capture server hands out at login.
pub const CAPTURE_TOKEN: &str = "capture-token";

/// The session a login creates (its URI, in `Location` and `@odata.id`).
pub const CAPTURE_SESSION: &str = "/redfish/v1/SessionService/Sessions/capture";

/// One request a [`CaptureBmc`] received.
#[derive(Debug, Clone, PartialEq)]
pub struct CapturedRequest {
    /// `GET`, `POST`, `PATCH`, `DELETE`, ...
    pub method: String,
    /// The path, as sent.
    pub path: String,
    /// The query string, without the `?`, if any.
    pub query: Option<String>,
    /// The body, when it parses as JSON.
    pub body: Option<Value>,
    /// The status it was answered with.
    pub status: u16,
}

/// A capture directory served over plain HTTP on `127.0.0.1`, until dropped.
pub struct CaptureBmc {
    url: String,
    requests: Arc<Mutex<Vec<CapturedRequest>>>,
    post_answers: Arc<Mutex<HashMap<String, Value>>>,
    handle: axum_server::Handle<SocketAddr>,
}

impl CaptureBmc {
    /// Serves `root` (the folder holding `redfish/v1/index.json`) on an ephemeral loopback
    /// port. Fails when the folder has no service root or the port cannot be bound.
    pub async fn serve(root: impl Into<PathBuf>) -> std::io::Result<Self> {
        Self::serve_on(root, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// As [`CaptureBmc::serve`], on `addr`.
    pub async fn serve_on(root: impl Into<PathBuf>, addr: SocketAddr) -> std::io::Result<Self> {
        let root = root.into();
        if !root.join("redfish/v1/index.json").is_file() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{} holds no redfish/v1/index.json", root.display()),
            ));
        }
        let listener = tokio::net::TcpListener::bind(addr).await?.into_std()?;
        let bound = listener.local_addr()?;
        let requests = Arc::new(Mutex::new(Vec::new()));
        let post_answers = Arc::new(Mutex::new(HashMap::new()));
        let capture = Arc::new(Capture {
            root,
            post_answers: Arc::clone(&post_answers),
        });
        let log = Arc::clone(&requests);
        let app = axum::Router::new().fallback(move |method: Method, uri: Uri, body: Bytes| {
            let capture = Arc::clone(&capture);
            let log = Arc::clone(&log);
            async move { capture.answer(&log, &method, &uri, &body) }
        });
        let handle = axum_server::Handle::new();
        let server = axum_server::from_tcp(listener)?.handle(handle.clone());
        tokio::spawn(async move {
            let _ = server.serve(app.into_make_service()).await;
        });
        Ok(Self {
            url: format!("http://{bound}"),
            requests,
            post_answers,
            handle,
        })
    }

    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Answers a `POST` to `path` (an action) with 200 and `body` from now on.
    pub fn answer_post(&self, path: &str, body: Value) {
        lock(&self.post_answers).insert(path.to_owned(), body);
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<CapturedRequest> {
        lock(&self.requests).clone()
    }
}

impl Drop for CaptureBmc {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}

/// The lock's value: a poisoned lock only means a handler panicked; the data is still usable.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

struct Capture {
    root: PathBuf,
    post_answers: Arc<Mutex<HashMap<String, Value>>>,
}

/// `$expand` as requested: (inline `Links` targets too, levels).
type ExpandRequest = (bool, u64);

impl Capture {
    fn answer(
        &self,
        log: &Mutex<Vec<CapturedRequest>>,
        method: &Method,
        uri: &Uri,
        body: &[u8],
    ) -> Response {
        let path = uri.path();
        let response = match *method {
            Method::POST
                if path
                    .trim_end_matches('/')
                    .ends_with("/SessionService/Sessions") =>
            {
                let mut response = (
                    StatusCode::CREATED,
                    axum::Json(json!({"@odata.id": CAPTURE_SESSION})),
                )
                    .into_response();
                let headers = response.headers_mut();
                headers.insert("X-Auth-Token", HeaderValue::from_static(CAPTURE_TOKEN));
                headers.insert(header::LOCATION, HeaderValue::from_static(CAPTURE_SESSION));
                response
            }
            Method::POST => match lock(&self.post_answers).get(path) {
                Some(answer) => axum::Json(answer.clone()).into_response(),
                None => StatusCode::METHOD_NOT_ALLOWED.into_response(),
            },
            Method::DELETE | Method::PATCH => StatusCode::NO_CONTENT.into_response(),
            Method::GET => self.get(path, uri.query()),
            _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
        };
        lock(log).push(CapturedRequest {
            method: method.to_string(),
            path: path.to_owned(),
            query: uri.query().map(str::to_owned),
            body: serde_json::from_slice(body).ok(),
            status: response.status().as_u16(),
        });
        response
    }

    fn get(&self, path: &str, query: Option<&str>) -> Response {
        let expand = match self.expand_request(query) {
            Ok(expand) => expand,
            Err(refusal) => {
                return (
                    StatusCode::BAD_REQUEST,
                    axum::Json(json!({"error": {
                        "code": "Base.1.8.QueryNotSupported",
                        "message": refusal,
                    }})),
                )
                    .into_response();
            }
        };
        let Some(file) = self.file_for(path) else {
            return StatusCode::NOT_FOUND.into_response();
        };
        match expand {
            None => match std::fs::read(&file) {
                Ok(bytes) => ([(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
                Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            },
            Some((all, levels)) => {
                let mut body = read_json(&file);
                self.expand(&mut body, all, levels);
                axum::Json(body).into_response()
            }
        }
    }

    /// The `index.json` for a URL path: exact segments first, then segments without case.
    fn file_for(&self, url_path: &str) -> Option<PathBuf> {
        let relative = url_path.trim_matches('/');
        if relative.split('/').any(|s| s == ".." || s == ".") {
            return None;
        }
        let exact = self.root.join(relative).join("index.json");
        if exact.is_file() {
            return Some(exact);
        }
        let mut dir = self.root.clone();
        for segment in relative.split('/') {
            let exact = dir.join(segment);
            dir = if exact.is_dir() {
                exact
            } else {
                std::fs::read_dir(&dir)
                    .ok()?
                    .filter_map(Result::ok)
                    .find(|e| {
                        e.file_name()
                            .to_string_lossy()
                            .eq_ignore_ascii_case(segment)
                    })?
                    .path()
            };
        }
        let file = dir.join("index.json");
        file.is_file().then_some(file)
    }

    /// Parses `$expand` against what the captured root advertises; `Err` is the 400 a service
    /// answers to a form or depth it does not support.
    fn expand_request(&self, query: Option<&str>) -> Result<Option<ExpandRequest>, String> {
        let Some(value) = query
            .into_iter()
            .flat_map(|q| q.split('&'))
            .find_map(|pair| {
                let (key, value) = pair.split_once('=')?;
                (percent_decoded(key) == "$expand").then(|| percent_decoded(value))
            })
        else {
            return Ok(None);
        };
        let advertised = read_json(&self.root.join("redfish/v1/index.json"))
            .pointer("/ProtocolFeaturesSupported/ExpandQuery")
            .cloned()
            .unwrap_or(Value::Null);
        let flag = |name: &str| advertised.get(name).and_then(Value::as_bool) == Some(true);
        let (all, rest) = match value.chars().next() {
            Some('*') if flag("ExpandAll") => (true, &value[1..]),
            Some('.') if flag("NoLinks") => (false, &value[1..]),
            _ => return Err(format!("unsupported $expand form {value}")),
        };
        let levels = if rest.is_empty() {
            1
        } else {
            let n = rest
                .strip_prefix("($levels=")
                .and_then(|r| r.strip_suffix(')'))
                .and_then(|n| n.parse::<u64>().ok())
                .ok_or_else(|| format!("malformed $expand {value}"))?;
            let max = advertised
                .get("MaxLevels")
                .and_then(Value::as_u64)
                .unwrap_or(1);
            if !flag("Levels") || n == 0 || n > max {
                return Err(format!("$levels={n} not supported (MaxLevels {max})"));
            }
            n
        };
        Ok(Some((all, levels)))
    }

    /// Inlines the resources `body` links to, `levels` deep, as a service does for `$expand`.
    fn expand(&self, body: &mut Value, all: bool, levels: u64) {
        if levels == 0 {
            return;
        }
        let Value::Object(map) = body else { return };
        for (key, value) in map.iter_mut() {
            if key.starts_with('@') || key == "Actions" || key == "Oem" || (key == "Links" && !all)
            {
                continue;
            }
            match value {
                Value::Array(items) => {
                    for item in items.iter_mut() {
                        self.inline(item, all, levels);
                    }
                }
                Value::Object(_) => self.inline(value, all, levels),
                _ => {}
            }
        }
    }

    fn inline(&self, slot: &mut Value, all: bool, levels: u64) {
        let Some(path) = slot
            .as_object()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.get("@odata.id"))
            .and_then(Value::as_str)
        else {
            return;
        };
        if let Some(file) = self.file_for(path) {
            let mut target = read_json(&file);
            self.expand(&mut target, all, levels - 1);
            *slot = target;
        }
    }
}

/// A capture file as JSON; `null` when it cannot be read or parsed (served as such).
fn read_json(file: &Path) -> Value {
    std::fs::read(file)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null)
}

/// `%24expand` → `$expand`: the few escapes a client puts in a query key or value.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let hex = |b: u8| char::from(b).to_digit(16);
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let high = bytes.get(i + 1).copied().and_then(hex);
            let low = bytes.get(i + 2).copied().and_then(hex);
            if let (Some(high), Some(low)) = (high, low) {
                out.push(u8::try_from(high * 16 + low).unwrap_or(b'?'));
                i += 3;
                continue;
            }
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_escapes_in_a_query_are_decoded() {
        assert_eq!(percent_decoded("%24expand"), "$expand");
        assert_eq!(percent_decoded(".(%24levels%3D2)"), ".($levels=2)");
        assert_eq!(percent_decoded("100%"), "100%");
    }

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let write = |path: &str, body: Value| {
            let folder = dir.path().join(path);
            std::fs::create_dir_all(&folder).unwrap();
            std::fs::write(folder.join("index.json"), body.to_string()).unwrap();
        };
        write(
            "redfish/v1",
            json!({"Systems": {"@odata.id": "/redfish/v1/Systems"},
                   "ProtocolFeaturesSupported": {"ExpandQuery": {"NoLinks": true, "Levels": true, "MaxLevels": 1}}}),
        );
        write(
            "redfish/v1/Systems",
            json!({"Members": [{"@odata.id": "/redfish/v1/Systems/1"}]}),
        );
        write("redfish/v1/Systems/1", json!({"Id": "1"}));
        dir
    }

    #[test]
    fn paths_match_exactly_then_without_case_and_never_leave_the_tree() {
        let dir = tree();
        let capture = Capture {
            root: dir.path().to_owned(),
            post_answers: Arc::default(),
        };
        assert!(capture.file_for("/redfish/v1/Systems/1/").is_some());
        assert_eq!(
            capture.file_for("/redfish/v1/systems/1"),
            capture.file_for("/redfish/v1/Systems/1")
        );
        assert!(capture.file_for("/redfish/v1/Systems/2").is_none());
        assert!(capture.file_for("/redfish/v1/../v1").is_none());
    }

    #[test]
    fn expand_is_answered_only_as_the_root_advertises() {
        let dir = tree();
        let capture = Capture {
            root: dir.path().to_owned(),
            post_answers: Arc::default(),
        };
        assert_eq!(
            capture.expand_request(Some("%24expand=.")),
            Ok(Some((false, 1)))
        );
        assert!(capture.expand_request(Some("$expand=*")).is_err());
        assert!(
            capture
                .expand_request(Some("$expand=.($levels=2)"))
                .is_err()
        );
        let mut systems = read_json(&dir.path().join("redfish/v1/Systems/index.json"));
        capture.expand(&mut systems, false, 1);
        assert_eq!(systems["Members"][0]["Id"], "1");
    }
}
