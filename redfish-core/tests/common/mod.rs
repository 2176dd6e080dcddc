//! Shared helpers for the wiremock-based tests: a minimal BMC with sessions.

#![allow(dead_code)] // each test binary uses a different subset

use std::time::Duration;

use ferrofish_redfish_core::{RedfishClient, RetryPolicy, SecretString};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

pub const USER: &str = "admin";
pub const PASSWORD: &str = "Pw-7f3c9e-SECRET";
pub const TOKEN: &str = "Tok-91bd-SECRET";
pub const SESSIONS: &str = "/redfish/v1/SessionService/Sessions";
pub const SESSION_1: &str = "/redfish/v1/SessionService/Sessions/1";

/// A service root; `extra` is merged in.
pub fn service_root(extra: &Value) -> Value {
    let mut root = json!({
        "@odata.id": "/redfish/v1",
        "Id": "RootService",
        "Name": "Root",
        "RedfishVersion": "1.15.0",
        "Links": {"Sessions": {"@odata.id": SESSIONS}},
        "SessionService": {"@odata.id": "/redfish/v1/SessionService"},
        "Systems": {"@odata.id": "/redfish/v1/Systems"},
        "Managers": {"@odata.id": "/redfish/v1/Managers"}
    });
    if let (Some(root), Some(extra)) = (root.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            root.insert(k.clone(), v.clone());
        }
    }
    root
}

/// Starts a BMC with a service root, an empty Managers collection, session create (token
/// `TOKEN`, Location `SESSION_1`) and session delete.
pub async fn bmc(root_extra: Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/redfish/v1/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(service_root(&root_extra)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/redfish/v1/Managers"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"Members": []})))
        .mount(&server)
        .await;
    mount_session(&server, TOKEN, SESSION_1).await;
    Mock::given(method("DELETE"))
        .and(path(SESSION_1))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    server
}

pub async fn mount_session(server: &MockServer, token: &str, location: &str) {
    Mock::given(method("POST"))
        .and(path(SESSIONS))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("X-Auth-Token", token)
                .insert_header("Location", location)
                .set_body_json(json!({"@odata.id": location, "Id": "1", "UserName": USER})),
        )
        .mount(server)
        .await;
}

/// Mounts a JSON GET that requires the session token.
pub async fn get_json(server: &MockServer, at: &str, body: Value) {
    Mock::given(method("GET"))
        .and(path(at))
        .and(header("X-Auth-Token", TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

/// Mounts a JSON GET that answers with `etag` in the `ETag` header.
pub async fn get_json_with_etag(server: &MockServer, at: &str, etag: &str, body: Value) {
    Mock::given(method("GET"))
        .and(path(at))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("ETag", etag)
                .set_body_json(body),
        )
        .mount(server)
        .await;
}

pub fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_secs(3),
    }
}

pub fn client(server: &MockServer) -> RedfishClient {
    RedfishClient::builder(server.uri())
        .credentials(USER, SecretString::from(PASSWORD))
        .retry_policy(fast_retries())
        .request_timeout(Duration::from_secs(20))
        .build()
        .expect("client builds")
}

/// Requests the server received with this method and path.
pub async fn received(server: &MockServer, verb: &str, at: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.method.as_str() == verb && r.url.path() == at)
        .collect()
}

/// Waits (polling, generous deadline) until the server has seen `verb at`.
pub async fn wait_for_request(server: &MockServer, verb: &str, at: &str) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while tokio::time::Instant::now() < deadline {
        if !received(server, verb, at).await.is_empty() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// Matches requests that do not carry a header.
pub struct NoHeader(pub &'static str);

impl Match for NoHeader {
    fn matches(&self, request: &Request) -> bool {
        !request.headers.contains_key(self.0)
    }
}

pub fn system_json(id: &str) -> Value {
    json!({
        "@odata.id": format!("/redfish/v1/Systems/{id}"),
        "Id": id,
        "Name": "System",
        "PowerState": "On",
        "Actions": {"#ComputerSystem.Reset": {
            "target": format!("/redfish/v1/Systems/{id}/Actions/ComputerSystem.Reset"),
            "ResetType@Redfish.AllowableValues": ["On", "ForceOff", "ForceRestart", "GracefulShutdown"]
        }}
    })
}

/// GETs one system through its handle and returns the model.
#[allow(dead_code)] // not every test binary reads systems
pub async fn read_system(
    client: &ferrofish_redfish_core::RedfishClient,
    system: &str,
) -> Result<ferrofish_redfish_core::ComputerSystem, ferrofish_redfish_core::Error> {
    Ok(client.system(system).await?.read().await?.value)
}

/// A BMC whose service root is standard and whose session POST answers `login`: for the tests
/// of what a BMC says about the session it created.
pub async fn bmc_answering_login_with(login: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/redfish/v1/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(service_root(&json!({}))))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(SESSIONS))
        .respond_with(login)
        .mount(&server)
        .await;
    server
}

/// One HTTP/1.1 request as a raw-socket test server received it.
pub struct RawRequest {
    /// The head and the body.
    pub bytes: Vec<u8>,
    /// Where the head ends (after its blank line).
    pub head_len: usize,
}

impl RawRequest {
    /// The head as text.
    pub fn head(&self) -> String {
        String::from_utf8_lossy(&self.bytes[..self.head_len]).into_owned()
    }

    /// A header's value, trimmed; the name without case.
    pub fn header(&self, name: &str) -> Option<String> {
        self.head().lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }
}

/// Reads one request (its head, then `Content-Length` bytes of body) from `socket`, keeping
/// in `buffer` what was read past it; `None` once the client closed the connection or it
/// failed. For the tests' raw-socket servers.
pub async fn read_request<S: tokio::io::AsyncRead + Unpin>(
    socket: &mut S,
    buffer: &mut Vec<u8>,
) -> Option<RawRequest> {
    use tokio::io::AsyncReadExt as _;
    let mut read_more = async |buffer: &mut Vec<u8>| {
        let mut chunk = [0_u8; 4096];
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                buffer.extend_from_slice(&chunk[..n]);
                true
            }
        }
    };
    let head_len = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if !read_more(buffer).await {
            return None;
        }
    };
    let length: usize = RawRequest {
        bytes: buffer[..head_len].to_vec(),
        head_len,
    }
    .header("content-length")
    .and_then(|v| v.parse().ok())
    .unwrap_or(0);
    while buffer.len() < head_len + length {
        if !read_more(buffer).await {
            return None;
        }
    }
    Some(RawRequest {
        bytes: buffer.drain(..head_len + length).collect(),
        head_len,
    })
}
