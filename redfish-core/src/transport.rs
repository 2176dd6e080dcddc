//! The thin HTTP layer: authentication, sessions, retries, request accounting and tracing.
//! Every decision it makes is delegated to the pure functions in `retry`, `etag` and
//! `endpoint`.

use std::collections::HashMap;
use std::sync::Mutex as StdMutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{Mutex, OnceCell, Semaphore};
use tracing::Instrument;
use url::Url;

use crate::endpoint::{Endpoint, path_and_query, resource_key};
use crate::etag::ETag;
use crate::models::{ServiceRoot, parse_error_messages};
use crate::quirks::{Quirks, QuirksOverride};
use crate::retry::{self, AttemptOutcome, RetryDecision, RetryPolicy};
use crate::vendor::Vendor;
use crate::{AuthMode, Error};

/// A username and password. `Debug` never shows the password.
#[derive(Clone)]
pub(crate) struct Credentials {
    pub(crate) username: String,
    pub(crate) password: SecretString,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// An open Redfish session.
struct Session {
    token: SecretString,
    /// Where to DELETE it; `None` when the BMC gave neither `Location` nor `@odata.id`.
    uri: Option<Url>,
}

/// How requests are authenticated right now.
enum ActiveAuth {
    /// Nothing decided yet: the first authenticated request logs in.
    Pending,
    /// HTTP Basic on every request.
    Basic,
    /// A session token.
    Session(Session),
}

struct AuthState {
    active: ActiveAuth,
    /// Bumped on every login, so that concurrent 401s re-login only once.
    generation: u64,
}

/// Requests sent, by method.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestCounts {
    /// GET requests.
    pub get: u64,
    /// POST requests.
    pub post: u64,
    /// PATCH requests.
    pub patch: u64,
    /// PUT requests.
    pub put: u64,
    /// DELETE requests.
    pub delete: u64,
    /// Any other method.
    pub other: u64,
    /// All requests.
    pub total: u64,
}

#[derive(Default)]
struct Counters {
    get: AtomicU64,
    post: AtomicU64,
    patch: AtomicU64,
    put: AtomicU64,
    delete: AtomicU64,
    other: AtomicU64,
}

impl Counters {
    fn slot(&self, method: &Method) -> &AtomicU64 {
        match *method {
            Method::GET => &self.get,
            Method::POST => &self.post,
            Method::PATCH => &self.patch,
            Method::PUT => &self.put,
            Method::DELETE => &self.delete,
            _ => &self.other,
        }
    }

    fn snapshot(&self) -> RequestCounts {
        let read = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut c = RequestCounts {
            get: read(&self.get),
            post: read(&self.post),
            patch: read(&self.patch),
            put: read(&self.put),
            delete: read(&self.delete),
            other: read(&self.other),
            total: 0,
        };
        c.total = [c.get, c.post, c.patch, c.put, c.delete, c.other]
            .into_iter()
            .fold(0, u64::saturating_add);
        c
    }

    fn reset(&self) {
        for a in [
            &self.get,
            &self.post,
            &self.patch,
            &self.put,
            &self.delete,
            &self.other,
        ] {
            a.store(0, Ordering::Relaxed);
        }
    }
}

/// A response with a success status, body read.
pub(crate) struct Response {
    pub(crate) status: StatusCode,
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

/// Options of one logical request.
#[derive(Default)]
pub(crate) struct RequestOptions {
    /// Send credentials (everything but the service root and the login itself).
    pub(crate) unauthenticated: bool,
    /// The `If-Match` value to send.
    pub(crate) if_match: Option<String>,
}

/// The shared state behind every clone of a client.
pub(crate) struct Inner {
    pub(crate) endpoint: Endpoint,
    http: reqwest::Client,
    auth_mode: AuthMode,
    credentials: Option<Credentials>,
    request_timeout: Duration,
    retry: RetryPolicy,
    limiter: Semaphore,
    counters: Counters,
    auth: Mutex<AuthState>,
    pub(crate) service_root: OnceCell<ServiceRoot>,
    pub(crate) vendor_quirks: OnceCell<(Vendor, Quirks)>,
    pub(crate) quirks_override: QuirksOverride,
    /// Quirks used before the vendor is known: the DMTF default plus the user override.
    early_quirks: Quirks,
    etags: StdMutex<HashMap<String, ETag>>,
    closed: AtomicBool,
}

/// Settings the builder hands over.
pub(crate) struct InnerConfig {
    pub(crate) endpoint: Endpoint,
    pub(crate) http: reqwest::Client,
    pub(crate) auth_mode: AuthMode,
    pub(crate) credentials: Option<Credentials>,
    pub(crate) request_timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) max_concurrent_requests: usize,
    pub(crate) quirks_override: QuirksOverride,
}

impl Inner {
    pub(crate) fn new(config: InnerConfig) -> Inner {
        let mut early_quirks = Quirks::default();
        config.quirks_override.apply(&mut early_quirks);
        Inner {
            endpoint: config.endpoint,
            http: config.http,
            auth_mode: config.auth_mode,
            credentials: config.credentials,
            request_timeout: config.request_timeout,
            retry: config.retry,
            limiter: Semaphore::new(
                config
                    .max_concurrent_requests
                    .clamp(1, Semaphore::MAX_PERMITS),
            ),
            counters: Counters::default(),
            auth: Mutex::new(AuthState {
                active: ActiveAuth::Pending,
                generation: 0,
            }),
            service_root: OnceCell::new(),
            vendor_quirks: OnceCell::new(),
            quirks_override: config.quirks_override,
            early_quirks,
            etags: StdMutex::new(HashMap::new()),
            closed: AtomicBool::new(false),
        }
    }

    pub(crate) fn request_counts(&self) -> RequestCounts {
        self.counters.snapshot()
    }

    pub(crate) fn reset_request_counts(&self) {
        self.counters.reset();
    }

    /// The quirks in force: resolved ones once known, the early ones before.
    pub(crate) fn quirks_now(&self) -> &Quirks {
        self.vendor_quirks
            .get()
            .map_or(&self.early_quirks, |(_, q)| q)
    }

    /// The last ETag seen for a resource.
    pub(crate) fn etag_for(&self, url: &Url) -> Option<ETag> {
        self.etags.lock().ok()?.get(&resource_key(url)).cloned()
    }

    fn remember_etag(&self, url: &Url, tag: Option<ETag>) {
        if url.query().is_some() {
            return;
        }
        if let Ok(mut map) = self.etags.lock() {
            match tag {
                Some(tag) => map.insert(resource_key(url), tag),
                None => map.remove(&resource_key(url)),
            };
        }
    }

    /// Sends one logical request: authentication, re-login once on 401, retries, 406 fallback.
    pub(crate) async fn request(
        &self,
        method: Method,
        url: &Url,
        body: Option<&Value>,
        options: &RequestOptions,
    ) -> Result<Response, Error> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        let body = body.map(Value::to_string);
        let mut identity = self.quirks_now().accept_encoding_identity;
        let mut relogged_in = false;
        let mut replayed_on_stale_connection = false;
        let mut retries_done = 0;
        loop {
            let auth = if options.unauthenticated {
                None
            } else {
                Some(self.current_auth().await?)
            };
            let attempt = self
                .send_once(
                    &method,
                    url,
                    body.clone(),
                    options.if_match.as_deref(),
                    auth.as_ref().map(|(_, a)| a),
                    identity,
                )
                .await;
            let response = match attempt {
                Ok(response) => response,
                Err(SendFailure::Connect(source)) => {
                    let decision = retry::decide(
                        &self.retry,
                        &method,
                        AttemptOutcome::ConnectFailed,
                        retries_done,
                        None,
                        &[],
                        rand::random::<f64>(),
                    );
                    if let RetryDecision::RetryAfter(delay) = decision {
                        retries_done += 1;
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    return Err(Error::Connect {
                        method,
                        url: url.to_string(),
                        source,
                    });
                }
                // Quirk 47: the BMC closed a pooled keep-alive connection under the request.
                // Replayed at once on a fresh connection, outside the retry budget: the BMC
                // did not fail, the connection pool went stale.
                Err(SendFailure::StaleConnection(source)) => {
                    if retry::replay_on_stale_connection(&method, replayed_on_stale_connection) {
                        tracing::debug!(
                            path = %url.path(),
                            "the BMC closed the reused connection; sending again"
                        );
                        replayed_on_stale_connection = true;
                        continue;
                    }
                    return Err(Error::Transport {
                        method,
                        url: url.to_string(),
                        source,
                    });
                }
                // Timeouts, other broken connections, and refused certificates (which will be
                // refused again) are not retried.
                Err(failure) => return Err(failure.into_error(method, url, self.request_timeout)),
            };
            let status = response.status;
            if status.is_success() {
                return Ok(response);
            }
            if status == StatusCode::UNAUTHORIZED
                && !relogged_in
                && let Some((generation, AuthHeader::Token(_))) = &auth
            {
                tracing::info!(path = %url.path(), "session rejected with 401; logging in again");
                self.relogin(*generation).await?;
                relogged_in = true;
                continue;
            }
            if status == StatusCode::NOT_ACCEPTABLE
                && identity
                && self.quirks_now().retry_406_without_identity
            {
                identity = false;
                continue;
            }
            match self.retry_delay_for_status(&method, url, &response, retries_done) {
                Ok(delay) => {
                    retries_done += 1;
                    tokio::time::sleep(delay).await;
                }
                Err(mut err) => {
                    self.scrub(&mut err, auth.as_ref().map(|(_, a)| a));
                    return Err(err);
                }
            }
        }
    }

    /// Removes the password and the session token from the BMC's messages in an error: a
    /// BMC may echo what a request carried, and messages reach `Debug` and Python.
    fn scrub(&self, err: &mut Error, auth: Option<&AuthHeader>) {
        let Error::Http { messages, .. } = err else {
            return;
        };
        for message in messages.iter_mut() {
            if let Some(credentials) = &self.credentials {
                message.scrub(credentials.password.expose_secret());
            }
            if let Some(AuthHeader::Token(token)) = auth {
                message.scrub(token.expose_secret());
            }
        }
    }

    /// For an error answer: the delay before retrying, or the error to report.
    fn retry_delay_for_status(
        &self,
        method: &Method,
        url: &Url,
        response: &Response,
        retries_done: u32,
    ) -> Result<Duration, Error> {
        let status = response.status;
        let messages = parse_error_messages(&response.body);
        let short_ids: Vec<&str> = messages.iter().filter_map(|m| m.short_id()).collect();
        let retry_after = response
            .headers
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry::parse_retry_after(v, SystemTime::now(), self.retry.max_backoff));
        let decision = retry::decide(
            &self.retry,
            method,
            AttemptOutcome::Status {
                status: status.as_u16(),
                short_message_ids: &short_ids,
            },
            retries_done,
            retry_after,
            &self.quirks_now().transient_post_message_ids,
            rand::random::<f64>(),
        );
        match decision {
            RetryDecision::RetryAfter(delay) => {
                tracing::debug!(path = %url.path(), status = status.as_u16(), ?delay, "retrying");
                Ok(delay)
            }
            RetryDecision::GiveUp => Err(Error::Http {
                method: method.clone(),
                url: url.to_string(),
                status,
                messages: messages.clone(),
            }),
        }
    }

    /// GET a resource as JSON, remembering its ETag (header first, then `@odata.etag`).
    pub(crate) async fn get_value(&self, url: &Url) -> Result<Value, Error> {
        let response = self
            .request(Method::GET, url, None, &RequestOptions::default())
            .await?;
        let value: Value = decode(&response.url, &response.body)?;
        self.remember_from(&response, &value);
        Ok(value)
    }

    /// GET a resource and decode it, remembering its ETag.
    pub(crate) async fn get_typed<T: serde::de::DeserializeOwned>(
        &self,
        url: &Url,
    ) -> Result<T, Error> {
        self.get_checked(url, None).await
    }

    /// GET a resource that must be of type `expected` (for example `ComputerSystem`): a body
    /// whose `@odata.type` names another type is [`Error::WrongResourceType`]. A body without
    /// `@odata.type` is accepted, as some firmware leaves it out.
    pub(crate) async fn get_resource<T: serde::de::DeserializeOwned>(
        &self,
        url: &Url,
        expected: &'static str,
    ) -> Result<T, Error> {
        self.get_checked(url, Some(expected)).await
    }

    async fn get_checked<T: serde::de::DeserializeOwned>(
        &self,
        url: &Url,
        expected: Option<&'static str>,
    ) -> Result<T, Error> {
        let response = self
            .request(Method::GET, url, None, &RequestOptions::default())
            .await?;
        if let Some(expected) = expected {
            // Checked before decoding: another resource may decode as this one, emptily.
            let declared = serde_json::from_slice::<TypeOnly>(&response.body)
                .ok()
                .and_then(|t| t.odata_type);
            check_resource_type(url, declared.as_deref(), expected)?;
        }
        let typed: T = decode(&response.url, &response.body)?;
        let etag_in_body = serde_json::from_slice::<EtagOnly>(&response.body).ok();
        let strip = self.quirks_now().strip_gzip_etag_suffix;
        let tag = header_etag(&response.headers, strip).or_else(|| {
            etag_in_body
                .and_then(|e| e.etag)
                .and_then(|raw| ETag::parse(&raw, strip))
        });
        self.remember_etag(&response.url, tag);
        Ok(typed)
    }

    fn remember_from(&self, response: &Response, value: &Value) {
        let strip = self.quirks_now().strip_gzip_etag_suffix;
        let tag = header_etag(&response.headers, strip).or_else(|| {
            value
                .get("@odata.etag")
                .and_then(Value::as_str)
                .and_then(|raw| ETag::parse(raw, strip))
        });
        self.remember_etag(&response.url, tag);
    }

    /// The authentication to use, logging in first when nothing is decided yet.
    async fn current_auth(&self) -> Result<(u64, AuthHeader), Error> {
        let mut state = self.auth.lock().await;
        if matches!(state.active, ActiveAuth::Pending) {
            // Boxed: logging in sends requests itself.
            state.active = Box::pin(self.login()).await?;
            state.generation += 1;
        }
        let header = match &state.active {
            ActiveAuth::Session(session) => AuthHeader::Token(session.token.clone()),
            ActiveAuth::Basic | ActiveAuth::Pending => {
                let credentials = self.credentials.as_ref().ok_or(Error::MissingCredentials)?;
                AuthHeader::Basic(credentials.clone())
            }
        };
        Ok((state.generation, header))
    }

    /// Replaces the session after a 401, unless another task already did.
    async fn relogin(&self, seen_generation: u64) -> Result<(), Error> {
        let (old_uri, new_token) = {
            let mut state = self.auth.lock().await;
            if state.generation != seen_generation {
                return Ok(());
            }
            let session = Box::pin(self.create_session()).await?;
            let new_token = session.token.clone();
            let new_uri = session.uri.clone();
            let old = std::mem::replace(&mut state.active, ActiveAuth::Session(session));
            state.generation += 1;
            let old_uri = match old {
                ActiveAuth::Session(Session { uri: Some(uri), .. })
                    if Some(&uri) != new_uri.as_ref() =>
                {
                    Some(uri)
                }
                _ => None,
            };
            (old_uri, new_token)
        };
        if let Some(old_uri) = old_uri {
            self.delete_stale_session(&old_uri, new_token).await;
        }
        Ok(())
    }

    /// Best effort: deletes the session a 401 replaced, so a session the BMC still counts
    /// (one rejected for another reason than expiry) does not use up its session slots. Sent
    /// with the new token, which the old session's owner holds. Failures are only logged.
    async fn delete_stale_session(&self, old_uri: &Url, new_token: SecretString) {
        let result = self
            .send_once(
                &Method::DELETE,
                old_uri,
                None,
                None,
                Some(&AuthHeader::Token(new_token)),
                self.quirks_now().accept_encoding_identity,
            )
            .await;
        match result {
            Ok(r) if r.status.is_success() || r.status == StatusCode::NOT_FOUND => {
                tracing::debug!(path = %old_uri.path(), status = r.status.as_u16(), "replaced session deleted");
            }
            Ok(r) => tracing::info!(
                path = %old_uri.path(),
                status = r.status.as_u16(),
                "could not delete the replaced session; the BMC will time it out"
            ),
            Err(failure) => tracing::info!(
                path = %old_uri.path(),
                error = failure.kind(),
                "could not delete the replaced session; the BMC will time it out"
            ),
        }
    }

    /// Decides the authentication mode and logs in when it is a session.
    async fn login(&self) -> Result<ActiveAuth, Error> {
        if self.credentials.is_none() {
            return Err(Error::MissingCredentials);
        }
        let use_session = match self.auth_mode {
            AuthMode::Basic => false,
            AuthMode::Session => true,
            AuthMode::Auto => {
                self.service_root().await?.has_session_service() && self.quirks_now().session_auth
            }
        };
        if use_session {
            Ok(ActiveAuth::Session(self.create_session().await?))
        } else {
            Ok(ActiveAuth::Basic)
        }
    }

    /// The cached service root (fetched without credentials, as the standard allows).
    pub(crate) async fn service_root(&self) -> Result<&ServiceRoot, Error> {
        self.service_root
            .get_or_try_init(|| async {
                let url = self.endpoint.resolve("/redfish/v1/")?;
                let options = RequestOptions {
                    unauthenticated: true,
                    ..RequestOptions::default()
                };
                let response = self.request(Method::GET, &url, None, &options).await?;
                decode::<ServiceRoot>(&response.url, &response.body)
            })
            .await
    }

    /// POSTs the credentials to the sessions collection.
    async fn create_session(&self) -> Result<Session, Error> {
        let credentials = self.credentials.as_ref().ok_or(Error::MissingCredentials)?;
        let sessions_path = self
            .service_root()
            .await?
            .sessions_link()
            .unwrap_or("/redfish/v1/SessionService/Sessions")
            .to_owned();
        let url = self.endpoint.resolve(&sessions_path)?;
        let body = serde_json::json!({
            "UserName": credentials.username,
            "Password": credentials.password.expose_secret(),
        });
        let options = RequestOptions {
            unauthenticated: true,
            ..RequestOptions::default()
        };
        let response = match self
            .request(Method::POST, &url, Some(&body), &options)
            .await
        {
            Ok(response) => response,
            Err(Error::Http {
                url,
                status,
                mut messages,
                ..
            }) => {
                // A BMC may echo the refused password in its message text.
                for message in &mut messages {
                    message.scrub(credentials.password.expose_secret());
                }
                return Err(Error::Authentication {
                    url,
                    status,
                    messages,
                });
            }
            Err(other) => return Err(other),
        };
        let token = response
            .headers
            .get("x-auth-token")
            .and_then(|v| v.to_str().ok())
            .filter(|t| !t.is_empty())
            .map(|t| SecretString::from(t.to_owned()))
            .ok_or_else(|| Error::SessionTokenMissing {
                url: url.to_string(),
            })?;
        let location = response
            .headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok());
        // Quirk 58: some BMCs put the session URI only in the body.
        let body_id = serde_json::from_slice::<Value>(&response.body)
            .ok()
            .and_then(|v| {
                v.get("@odata.id")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            });
        let mut uri = None;
        let mut refused = None;
        for candidate in location.into_iter().chain(body_id.as_deref()) {
            match self.endpoint.resolve(candidate) {
                Ok(resolved) => {
                    uri = Some(resolved);
                    break;
                }
                Err(err) => {
                    tracing::warn!(error = %err, "ignoring the session URI the BMC sent");
                    refused = Some(err);
                }
            }
        }
        if uri.is_none() {
            if let Some(err) = refused {
                return Err(err);
            }
            tracing::warn!(
                path = %url.path(),
                "the BMC sent no session URI; the session cannot be deleted and will time out"
            );
        }
        Ok(Session { token, uri })
    }

    /// Deletes the session, if any, and refuses further requests.
    pub(crate) async fn close(&self) -> Result<(), Error> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let session = {
            let mut state = self.auth.lock().await;
            match std::mem::replace(&mut state.active, ActiveAuth::Pending) {
                ActiveAuth::Session(session) => Some(session),
                _ => None,
            }
        };
        let Some(Session {
            token,
            uri: Some(uri),
        }) = session
        else {
            return Ok(());
        };
        let auth = AuthHeader::Token(token.clone());
        let delete = || self.send_once(&Method::DELETE, &uri, None, None, Some(&auth), true);
        let mut result = delete().await;
        if matches!(result, Err(SendFailure::StaleConnection(_))) {
            // Quirk 47, as in `request`: an idle pooled connection is likely at close time.
            result = delete().await;
        }
        match result {
            Ok(r) if r.status.is_success() || r.status == StatusCode::NOT_FOUND => Ok(()),
            Ok(r) => {
                let mut err = Error::Http {
                    method: Method::DELETE,
                    url: uri.to_string(),
                    messages: parse_error_messages(&r.body),
                    status: r.status,
                };
                self.scrub(&mut err, Some(&AuthHeader::Token(token)));
                Err(err)
            }
            Err(failure) => Err(failure.into_error(Method::DELETE, &uri, self.request_timeout)),
        }
    }

    /// One HTTP exchange: concurrency slot, headers, counting, tracing span.
    async fn send_once(
        &self,
        method: &Method,
        url: &Url,
        body: Option<String>,
        if_match: Option<&str>,
        auth: Option<&AuthHeader>,
        identity: bool,
    ) -> Result<Response, SendFailure> {
        let _permit = self
            .limiter
            .acquire()
            .await
            .map_err(|_| SendFailure::Timeout)?;
        let quirks = self.quirks_now();
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .header(header::ACCEPT, "application/json")
            .header("OData-Version", "4.0");
        if identity {
            request = request.header(header::ACCEPT_ENCODING, "identity");
        }
        if quirks.close_connections {
            request = request.header(header::CONNECTION, "close");
        }
        if let Some(tag) = if_match.and_then(|t| HeaderValue::from_str(t).ok()) {
            request = request.header(header::IF_MATCH, tag);
        }
        match auth {
            Some(AuthHeader::Token(token)) => {
                if let Ok(mut value) = HeaderValue::from_str(token.expose_secret()) {
                    value.set_sensitive(true);
                    request = request.header("X-Auth-Token", value);
                }
            }
            Some(AuthHeader::Basic(credentials)) => {
                request = request.basic_auth(
                    &credentials.username,
                    Some(credentials.password.expose_secret()),
                );
            }
            None => {}
        }
        if let Some(body) = body {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let span = tracing::debug_span!(
            "redfish_request",
            bmc = %self.endpoint.origin(),
            method = %method,
            path = %path_and_query(url),
            status = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
        );
        async {
            self.counters.slot(method).fetch_add(1, Ordering::Relaxed);
            let started = Instant::now();
            let result = request.send().await;
            let outcome = match result {
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    let final_url = response.url().clone();
                    match response.bytes().await {
                        Ok(bytes) => Ok(Response {
                            status,
                            url: final_url,
                            headers,
                            body: bytes.to_vec(),
                        }),
                        Err(err) => Err(SendFailure::from(err)),
                    }
                }
                Err(err) => Err(SendFailure::from(err)),
            };
            let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let span = tracing::Span::current();
            span.record("elapsed_ms", elapsed_ms);
            match &outcome {
                Ok(r) => {
                    span.record("status", r.status.as_u16());
                    tracing::debug!(status = r.status.as_u16(), elapsed_ms, "redfish response");
                }
                Err(failure) => {
                    tracing::debug!(error = failure.kind(), elapsed_ms, "redfish request failed");
                }
            }
            outcome
        }
        .instrument(span)
        .await
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if *self.closed.get_mut() {
            return;
        }
        let ActiveAuth::Session(Session {
            token,
            uri: Some(uri),
        }) = std::mem::replace(&mut self.auth.get_mut().active, ActiveAuth::Pending)
        else {
            return;
        };
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(
                path = %uri.path(),
                "redfish client dropped without close() outside a tokio runtime; \
                 its session stays open until the BMC times it out"
            );
            return;
        };
        tracing::warn!(
            path = %uri.path(),
            "redfish client dropped without close(); deleting its session in the background"
        );
        let http = self.http.clone();
        handle.spawn(async move {
            let Ok(mut value) = HeaderValue::from_str(token.expose_secret()) else { return };
            value.set_sensitive(true);
            let result = http.delete(uri.clone()).header("X-Auth-Token", value).send().await;
            if let Err(err) = result {
                tracing::warn!(path = %uri.path(), error = %err, "background session delete failed");
            }
        });
    }
}

/// The credential a request carries.
enum AuthHeader {
    Token(SecretString),
    Basic(Credentials),
}

/// Why one HTTP exchange failed.
enum SendFailure {
    Connect(reqwest::Error),
    /// The connection was closed or reset by the BMC after the request was written and
    /// before any answer (quirk 47: a pooled keep-alive connection the BMC had dropped).
    StaleConnection(reqwest::Error),
    /// The TLS handshake refused the BMC's certificate (or the BMC refused ours).
    TlsRejected(reqwest::Error),
    Timeout,
    Other(reqwest::Error),
}

impl SendFailure {
    /// The error to report for a failure that is not retried.
    fn into_error(self, method: Method, url: &Url, timeout: Duration) -> Error {
        let url = url.to_string();
        match self {
            SendFailure::Connect(source) | SendFailure::TlsRejected(source) => Error::Connect {
                method,
                url,
                source,
            },
            SendFailure::Timeout => Error::Timeout {
                method,
                url,
                after: timeout,
            },
            SendFailure::StaleConnection(source) | SendFailure::Other(source) => Error::Transport {
                method,
                url,
                source,
            },
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            SendFailure::Connect(_) => "connect",
            SendFailure::TlsRejected(_) => "tls",
            SendFailure::StaleConnection(_) => "connection closed by the BMC",
            SendFailure::Timeout => "timeout",
            SendFailure::Other(_) => "transport",
        }
    }
}

impl From<reqwest::Error> for SendFailure {
    fn from(err: reqwest::Error) -> SendFailure {
        if crate::tls::rejection_reason(&err).is_some() {
            SendFailure::TlsRejected(err)
        } else if err.is_connect() {
            SendFailure::Connect(err)
        } else if err.is_timeout() {
            SendFailure::Timeout
        } else if closed_by_peer(&err) {
            SendFailure::StaleConnection(err)
        } else {
            SendFailure::Other(err)
        }
    }
}

/// Whether an exchange failed because the peer closed or reset the connection before its
/// answer began: hyper's "connection closed before message completed", or a reset, abort or
/// broken pipe underneath.
fn closed_by_peer(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = err.source();
    while let Some(current) = source {
        if current
            .downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_incomplete_message)
        {
            return true;
        }
        if let Some(io) = current.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
            )
        {
            return true;
        }
        source = current.source();
    }
    false
}

#[derive(Deserialize)]
struct TypeOnly {
    #[serde(rename = "@odata.type")]
    odata_type: Option<String>,
}

/// The resource type an `@odata.type` names:
/// `#ComputerSystem.v1_20_0.ComputerSystem` → `ComputerSystem`.
pub(crate) fn resource_type(odata_type: &str) -> &str {
    let unqualified = odata_type.trim().trim_start_matches('#');
    unqualified.split('.').next().unwrap_or(unqualified)
}

/// Refuses a resource whose declared type is not `expected`. Pure.
pub(crate) fn check_resource_type(
    url: &Url,
    declared: Option<&str>,
    expected: &'static str,
) -> Result<(), Error> {
    let Some(found) = declared.map(resource_type).filter(|t| !t.is_empty()) else {
        return Ok(());
    };
    if found.eq_ignore_ascii_case(expected) {
        return Ok(());
    }
    Err(Error::WrongResourceType {
        url: url.to_string(),
        expected,
        found: found.to_owned(),
    })
}

#[derive(Deserialize)]
struct EtagOnly {
    #[serde(rename = "@odata.etag")]
    etag: Option<String>,
}

fn header_etag(headers: &HeaderMap, strip_gzip: bool) -> Option<ETag> {
    headers
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .and_then(|raw| ETag::parse(raw, strip_gzip))
}

/// Decodes JSON, naming the URL and the JSON path on failure.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(url: &Url, body: &[u8]) -> Result<T, Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|err| Error::Decode {
        url: url.to_string(),
        path: err.path().to_string(),
        source: err.into_inner(),
    })
}

/// Decodes an already-parsed value, prefixing the JSON path (for members of a collection).
pub(crate) fn decode_value<T: serde::de::DeserializeOwned>(
    url: &Url,
    prefix: &str,
    value: Value,
) -> Result<T, Error> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let inner = err.path().to_string();
        let path = if inner == "." {
            prefix.to_owned()
        } else {
            format!("{prefix}.{inner}")
        };
        Error::Decode {
            url: url.to_string(),
            path,
            source: err.into_inner(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_type_is_the_namespace_of_odata_type() {
        assert_eq!(
            resource_type("#ComputerSystem.v1_20_0.ComputerSystem"),
            "ComputerSystem"
        );
        assert_eq!(resource_type("#ServiceRoot.ServiceRoot"), "ServiceRoot");
        assert_eq!(resource_type(" ComputerSystem "), "ComputerSystem");
    }

    #[test]
    fn only_a_declared_other_type_is_refused() {
        let url = Url::parse("https://bmc/redfish/v1").unwrap();
        let check = |declared| check_resource_type(&url, declared, "ComputerSystem");
        assert!(check(None).is_ok(), "firmware that leaves @odata.type out");
        assert!(check(Some("")).is_ok());
        assert!(check(Some("#ComputerSystem.v1_5_0.ComputerSystem")).is_ok());
        assert!(check(Some("#computersystem.v1_5_0.ComputerSystem")).is_ok());
        let err = check(Some("#ServiceRoot.v1_15_0.ServiceRoot")).unwrap_err();
        assert!(
            matches!(&err, Error::WrongResourceType { found, expected: "ComputerSystem", .. } if found == "ServiceRoot"),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "https://bmc/redfish/v1 is a ServiceRoot resource, not a ComputerSystem"
        );
    }
}
