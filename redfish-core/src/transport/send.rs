//! Sending: one logical request with authentication, re-login on 401, retries and the
//! stale-connection replay; one HTTP exchange with its concurrency slot, headers, size limit,
//! counting and tracing span.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{self, HeaderMap};
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde_json::Value;
use tracing::Instrument;
use url::Url;

use super::lean;
use super::state::{AuthHeader, Inner, RequestOptions, Response};
use crate::Error;
use crate::endpoint::path_and_query;
use crate::error::{HttpMethod, TransportError};
use crate::http::Backend;
use crate::http::parked::{BoxError, Connector, ExchangeFailure};
use crate::models::parse_error_messages;
use crate::retry::{self, AttemptOutcome, RetryDecision};

impl Inner {
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
                    if let Some(delay) = self.connect_retry_delay(&method, retries_done) {
                        retries_done += 1;
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    return Err(Error::Connect {
                        method: HttpMethod::from_wire(&method),
                        url: url.to_string(),
                        source: TransportError(source),
                    });
                }
                // Quirk `stale_keep_alive_connection`: the BMC closed a pooled connection under the request.
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
                        method: HttpMethod::from_wire(&method),
                        url: url.to_string(),
                        source: TransportError(source),
                    });
                }
                // Timeouts, other broken connections, and refused certificates (which will be
                // refused again) are not retried.
                Err(failure) => {
                    return Err(failure.into_error(
                        &method,
                        url,
                        self.request_timeout,
                        self.max_response_bytes,
                    ));
                }
            };
            let status = response.status;
            if status.is_success() {
                return Ok(response);
            }
            if status == StatusCode::UNAUTHORIZED && self.closed.load(Ordering::Acquire) {
                // Closed meanwhile: never log in again for a client that is going away.
                return Err(Error::Closed);
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
            if status == StatusCode::UNAUTHORIZED
                && let Some((_, AuthHeader::Basic(_))) = &auth
            {
                return Err(self.basic_refused(url, &response));
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
                Err(err) => return Err(self.scrubbed(err, auth.as_ref(), body.as_deref())),
            }
        }
    }

    /// Removes the password and the session token from the BMC's messages in an error: a
    /// BMC may echo what a request carried, and messages reach `Debug` and Python.
    pub(super) fn scrub(&self, err: &mut Error, auth: Option<&AuthHeader>) {
        if let Some(credentials) = &self.credentials {
            err.scrub_messages(credentials.password.expose_secret());
        }
        if let Some(AuthHeader::Token(token)) = auth {
            err.scrub_messages(token.expose_secret());
        }
    }

    /// Whether and when to retry after a failed connection.
    fn connect_retry_delay(&self, method: &Method, retries_done: u32) -> Option<Duration> {
        match retry::decide(
            &self.retry,
            method,
            AttemptOutcome::ConnectFailed,
            retries_done,
            None,
            &[],
            rand::random::<f64>(),
        ) {
            RetryDecision::RetryAfter(delay) => Some(delay),
            RetryDecision::GiveUp => None,
        }
    }

    /// The error for a 401 to HTTP Basic. Basic has nothing to renew: the credentials
    /// themselves are refused. When Basic was the fallback from a refused login, that refusal
    /// says more.
    fn basic_refused(&self, url: &Url, response: &Response) -> Error {
        let refusal = self.login_refusal.lock().ok().and_then(|mut r| r.take());
        let mut err = refusal.unwrap_or_else(|| Error::Authentication {
            url: url.to_string(),
            status: response.status.as_u16(),
            messages: parse_error_messages(&response.body),
        });
        self.scrub(&mut err, None);
        err
    }

    /// An error with every secret the request carried removed from the BMC's messages.
    fn scrubbed(
        &self,
        mut err: Error,
        auth: Option<&(u64, AuthHeader)>,
        body: Option<&str>,
    ) -> Error {
        self.scrub(&mut err, auth.map(|(_, a)| a));
        for secret in secrets_in_body(body) {
            err.scrub_messages(&secret);
        }
        err
    }

    /// Removes the password from the messages of an error built outside `request` (a
    /// failed task's messages may quote what an operation carried).
    pub(crate) fn scrub_credentials(&self, err: &mut Error) {
        self.scrub(err, None);
    }

    /// For an error answer: the delay before retrying, or the error to report.
    pub(super) fn retry_delay_for_status(
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
                method: HttpMethod::from_wire(method),
                url: url.to_string(),
                status: status.as_u16(),
                messages,
            }),
        }
    }

    /// One HTTP exchange: concurrency slot, headers, counting, size limit, tracing span.
    pub(super) async fn send_once(
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
        let keep = !quirks.close_connections;
        let exchange = match &self.http.backend {
            Backend::Lean(connector) => Exchange::Lean {
                connector,
                headers: lean::request_headers(if_match, auth, identity, keep),
                body,
            },
            Backend::Reqwest(http) => Exchange::Reqwest(
                self.reqwest_request(http, method, url, body, if_match, auth, identity, keep),
            ),
        };
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
            let outcome = match exchange {
                Exchange::Reqwest(request) => match request.send().await {
                    Ok(response) => read_bounded(response, self.max_response_bytes).await,
                    Err(err) => Err(SendFailure::from(err)),
                },
                Exchange::Lean {
                    connector,
                    headers,
                    body,
                } => {
                    // Boxed: the connect and TLS handshake futures are large, and every future
                    // awaiting this one would carry them inline.
                    let lean = Box::pin(lean::send_lean(
                        &self.http,
                        connector,
                        &self.parked,
                        method,
                        url,
                        body,
                        headers,
                        keep,
                        self.max_response_bytes,
                    ));
                    match tokio::time::timeout(self.request_timeout, lean).await {
                        Ok(result) => result.map_err(SendFailure::from),
                        Err(_) => Err(SendFailure::Timeout),
                    }
                }
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

    /// The request through reqwest: its pooled connections.
    #[allow(clippy::too_many_arguments, reason = "one exchange's parts, named")]
    fn reqwest_request(
        &self,
        http: &reqwest::Client,
        method: &Method,
        url: &Url,
        body: Option<String>,
        if_match: Option<&str>,
        auth: Option<&AuthHeader>,
        identity: bool,
        keep: bool,
    ) -> reqwest::RequestBuilder {
        let mut request = http
            .request(method.clone(), url.clone())
            .timeout(self.request_timeout)
            .headers(lean::request_headers(if_match, auth, identity, keep));
        if let Some(body) = body {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        request
    }
}

/// Which path one exchange takes.
enum Exchange<'a> {
    Reqwest(reqwest::RequestBuilder),
    Lean {
        connector: &'a Connector,
        headers: HeaderMap,
        body: Option<String>,
    },
}

/// Reads a response body, refusing it as soon as it is known to exceed `limit` bytes: from
/// `Content-Length` before reading, else while reading. Nothing past the limit is buffered.
async fn read_bounded(
    mut response: reqwest::Response,
    limit: u64,
) -> Result<Response, SendFailure> {
    if response
        .content_length()
        .is_some_and(|length| length > limit)
    {
        return Err(SendFailure::TooLarge);
    }
    let status = response.status();
    // Taken, not copied: nothing reads the headers from the reqwest response afterwards.
    let headers = std::mem::take(response.headers_mut());
    let url = response.url().clone();
    // Sized once from Content-Length (already checked against the limit) where it is given.
    let mut body = Vec::with_capacity(
        response
            .content_length()
            .and_then(|length| usize::try_from(length).ok())
            .unwrap_or(0),
    );
    while let Some(chunk) = response.chunk().await.map_err(SendFailure::from)? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(SendFailure::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Response {
        status,
        url,
        headers,
        body,
    })
}

/// The string values a request body carries under secret-looking names (`Password`,
/// `NewPassword`, `Token`, `Passphrase`, `Secret`, SNMP `Community`...), so that a BMC that
/// echoes them in an error message cannot leak them into an error. Pure.
pub(crate) fn secrets_in_body(body: Option<&str>) -> Vec<String> {
    fn walk(value: &Value, secret_key: bool, found: &mut Vec<String>) {
        match value {
            Value::String(text) if secret_key && !text.is_empty() => found.push(text.clone()),
            Value::Array(items) => items.iter().for_each(|v| walk(v, secret_key, found)),
            Value::Object(map) => {
                for (key, v) in map {
                    let key = key.to_ascii_lowercase();
                    let secret = ["password", "passphrase", "secret", "token", "community"]
                        .iter()
                        .any(|word| key.contains(word));
                    walk(v, secret, found);
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    if let Some(value) = body.and_then(|b| serde_json::from_str::<Value>(b).ok()) {
        walk(&value, false, &mut found);
    }
    found
}

/// Why one HTTP exchange failed.
pub(super) enum SendFailure {
    /// The answer is larger than the client reads.
    TooLarge,
    Connect(BoxError),
    /// The connection was closed or reset by the BMC after the request was written and
    /// before any answer (quirk `stale_keep_alive_connection`: a pooled connection the BMC dropped).
    StaleConnection(BoxError),
    /// The TLS handshake refused the BMC's certificate (or the BMC refused ours).
    TlsRejected(BoxError),
    Timeout,
    Other(BoxError),
}

impl SendFailure {
    /// The error to report for a failure that is not retried.
    pub(super) fn into_error(
        self,
        method: &Method,
        url: &Url,
        timeout: Duration,
        limit: u64,
    ) -> Error {
        let url = url.to_string();
        let method = HttpMethod::from_wire(method);
        match self {
            SendFailure::TooLarge => Error::ResponseTooLarge { method, url, limit },
            SendFailure::Connect(source) | SendFailure::TlsRejected(source) => Error::Connect {
                method,
                url,
                source: TransportError(source),
            },
            SendFailure::Timeout => Error::Timeout {
                method,
                url,
                after: timeout,
            },
            SendFailure::StaleConnection(source) | SendFailure::Other(source) => Error::Transport {
                method,
                url,
                source: TransportError(source),
            },
        }
    }

    pub(super) fn kind(&self) -> &'static str {
        match self {
            SendFailure::TooLarge => "answer too large",
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
            SendFailure::TlsRejected(Box::new(err))
        } else if err.is_connect() {
            SendFailure::Connect(Box::new(err))
        } else if err.is_timeout() {
            SendFailure::Timeout
        } else if closed_by_peer(&err) {
            SendFailure::StaleConnection(Box::new(err))
        } else {
            SendFailure::Other(Box::new(err))
        }
    }
}

impl From<ExchangeFailure> for SendFailure {
    fn from(failure: ExchangeFailure) -> SendFailure {
        match failure {
            ExchangeFailure::Tls(err) if crate::tls::rejection_reason(&*err).is_some() => {
                SendFailure::TlsRejected(err)
            }
            ExchangeFailure::Connect(err) | ExchangeFailure::Tls(err) => SendFailure::Connect(err),
            ExchangeFailure::ClosedByPeer(err) => SendFailure::StaleConnection(err),
            ExchangeFailure::TooLarge => SendFailure::TooLarge,
            ExchangeFailure::Other(err) => SendFailure::Other(err),
        }
    }
}

/// Whether an exchange failed because the peer closed or reset the connection before its
/// answer began: the HTTP library's "connection closed before message completed", or a reset,
/// abort or broken pipe underneath. The message is matched as text so that no HTTP library
/// type is needed; the stale-connection tests catch a change of wording.
fn closed_by_peer(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = err.source();
    while let Some(current) = source {
        if current
            .to_string()
            .contains("connection closed before message completed")
        {
            return true;
        }
        source = current.source();
    }
    crate::http::parked::reset_underneath(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_a_body_are_found_under_secret_looking_names_only() {
        let body = r#"{"UserName":"ops","Password":"pw-1","Oem":{"X":{"NewPassword":"pw-2"}},
            "SNMP":{"CommunityStrings":[{"CommunityString":"c-3"}]},"Token":"","Enabled":true}"#;
        let mut found = secrets_in_body(Some(body));
        found.sort();
        assert_eq!(found, vec!["c-3", "pw-1", "pw-2"]);
        assert!(secrets_in_body(Some("not json")).is_empty());
        assert!(secrets_in_body(None).is_empty());
    }
}
