//! The crate's single error type. Long because one enum serves the whole crate: each variant,
//! its predicates and their tests stay together.
//!
//! Callers rarely need to `match`: the predicates ([`Error::status`], [`Error::is_not_found`],
//! [`Error::message_ids`], [`Error::url`], ...) answer the usual questions. No variant ever holds
//! a password or a session token, and `Display` shows Redfish `MessageId`s but not the BMC's
//! free-text messages (a BMC may echo request values in them; they stay reachable through
//! [`Error::messages`]).

use std::fmt;
use std::time::Duration;

use crate::models::RedfishMessage;

/// An HTTP method, as errors and responses name it. The crate's own type, so that the HTTP
/// library underneath can change without breaking callers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HttpMethod {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
    /// `PATCH`.
    Patch,
    /// `PUT`.
    Put,
    /// `DELETE`.
    Delete,
    /// Any other method.
    Other,
}

impl HttpMethod {
    /// The method as written on the wire (`GET`, ...; `OTHER` for [`HttpMethod::Other`]).
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Put => "PUT",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Other => "OTHER",
        }
    }

    pub(crate) fn from_wire(method: &reqwest::Method) -> HttpMethod {
        match *method {
            reqwest::Method::GET => HttpMethod::Get,
            reqwest::Method::POST => HttpMethod::Post,
            reqwest::Method::PATCH => HttpMethod::Patch,
            reqwest::Method::PUT => HttpMethod::Put,
            reqwest::Method::DELETE => HttpMethod::Delete,
            _ => HttpMethod::Other,
        }
    }
}

impl fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure of the HTTP library underneath (connection, TLS, protocol). Opaque on purpose:
/// its `Display` and [`std::error::Error::source`] chain tell what happened, and the HTTP
/// library can change without breaking callers.
pub struct TransportError(pub(crate) Box<dyn std::error::Error + Send + Sync>);

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// Why a body did not decode, in the JSON parser's words. It may quote a value from the body,
/// so it is scrubbed of the password and session token like the BMC's messages.
#[derive(Clone, PartialEq, Eq)]
pub struct DecodeDetail {
    message: String,
}

impl DecodeDetail {
    /// The detail of a JSON parser error.
    pub fn new(err: &serde_json::Error) -> DecodeDetail {
        DecodeDetail {
            message: err.to_string(),
        }
    }

    /// The parser's message, for example `invalid type: string "x", expected u64 at line 1`.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Debug for DecodeDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.message, f)
    }
}

impl fmt::Display for DecodeDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DecodeDetail {}

/// "its session limit (8) is reached", or without a known cap "its session limit is reached".
struct SessionCap(Option<u32>);

impl std::fmt::Display for SessionCap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(cap) => write!(f, "its session limit ({cap}) is reached"),
            None => f.write_str("its session limit is reached"),
        }
    }
}

/// `404 Not Found` with its reason phrase, as [`Error`]'s `Display` shows a status.
struct StatusText(u16);

impl fmt::Display for StatusText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reason = reqwest::StatusCode::from_u16(self.0)
            .ok()
            .and_then(|s| s.canonical_reason());
        match reason {
            Some(reason) => write!(f, "{} {reason}", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

/// Everything that can go wrong while talking to a Redfish service.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The endpoint given to the builder is not a usable `http(s)://host[:port]` URL.
    #[error("invalid endpoint {endpoint:?}: {reason}")]
    InvalidEndpoint {
        /// The endpoint as written, with any user-info removed.
        endpoint: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A path or identifier given by the caller cannot be turned into a request; nothing was sent.
    #[error("invalid path {path:?}: {reason}")]
    InvalidPath {
        /// The path as given.
        path: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A link taken from the BMC (`@odata.id`, `Location`, `nextLink`, an action target) points to
    /// another origin; it was not followed and no credentials were sent there.
    #[error("refused to follow {link:?}: it points outside {origin}")]
    OffOriginLink {
        /// The link as the BMC wrote it.
        link: String,
        /// The origin of the configured endpoint.
        origin: String,
    },
    /// The TLS settings could not be applied (for example a CA bundle that holds no certificate).
    #[error("invalid TLS configuration: {reason}")]
    TlsConfig {
        /// What was wrong with it.
        reason: &'static str,
        /// The underlying parser error, when there is one.
        #[source]
        source: Option<TransportError>,
    },
    /// The HTTP client could not be built from the builder's settings.
    #[error("could not build the HTTP client")]
    ClientBuild {
        /// The underlying error.
        #[source]
        source: TransportError,
    },
    /// The operation needs credentials and none were given to the builder.
    #[error("no credentials configured; call ClientBuilder::credentials")]
    MissingCredentials,
    /// The BMC could not be reached (connection refused, DNS, TLS handshake, ...).
    #[error("{method} {url}: cannot connect to the BMC; check the address and TLS settings")]
    Connect {
        /// The request method.
        method: HttpMethod,
        /// The request URL.
        url: String,
        /// The underlying error.
        #[source]
        source: TransportError,
    },
    /// The BMC did not answer within the request timeout.
    #[error("{method} {url}: no answer within {after:?}")]
    Timeout {
        /// The request method.
        method: HttpMethod,
        /// The request URL.
        url: String,
        /// The configured request timeout.
        after: Duration,
    },
    /// The connection broke while the request or response was in flight.
    #[error("{method} {url}: transport error")]
    Transport {
        /// The request method.
        method: HttpMethod,
        /// The request URL.
        url: String,
        /// The underlying error.
        #[source]
        source: TransportError,
    },
    /// The BMC answered with an HTTP error status.
    #[error("{method} {url}: HTTP {}{}", StatusText(*status), MessageIdList(messages))]
    Http {
        /// The request method.
        method: HttpMethod,
        /// The request URL.
        url: String,
        /// The status the BMC answered with.
        status: u16,
        /// The parsed `@Message.ExtendedInfo` (empty when the body had none).
        messages: Vec<RedfishMessage>,
    },
    /// Logging in failed: the session could not be created, or a re-login after a 401 failed.
    #[error(
        "authentication at {url} failed with HTTP {}{}; check the username and password",
        StatusText(*status),
        MessageIdList(messages)
    )]
    Authentication {
        /// The URL that refused the credentials.
        url: String,
        /// The status the BMC answered with.
        status: u16,
        /// The parsed `@Message.ExtendedInfo`, with any echo of the password removed.
        messages: Vec<RedfishMessage>,
    },
    /// The BMC refused a new session because its session limit is reached (quirk
    /// `session_cap`: iDRAC answers 503 with `RAC0218`, DMTF services `SessionLimitExceeded`).
    /// With [`crate::AuthMode::Auto`] the client then uses HTTP Basic instead, which takes
    /// no session slot; this error is what [`crate::AuthMode::Session`] reports.
    #[error(
        "the BMC at {url} refused a new session: {}; close other clients' sessions or wait \
         for them to time out (HTTP {}{})",
        SessionCap(*cap),
        StatusText(*status),
        MessageIdList(messages)
    )]
    SessionLimit {
        /// The sessions collection URL.
        url: String,
        /// The status the BMC answered with.
        status: u16,
        /// The vendor's known session cap, when the vendor is known.
        cap: Option<u32>,
        /// The parsed `@Message.ExtendedInfo`.
        messages: Vec<RedfishMessage>,
    },
    /// No session was requested: this process already holds as many sessions on the BMC as
    /// the cap ferrofish knows for it (quirk `session_cap`: iDRAC 8, XCC 16, or the user's
    /// `max_sessions` override). Clients of the same endpoint and account share one session,
    /// so this takes clients of several accounts, or clients built with
    /// `share_session(false)`. With [`crate::AuthMode::Auto`] the client uses HTTP Basic
    /// instead; this error is what [`crate::AuthMode::Session`] reports. Nothing was sent.
    #[error(
        "no new session opened at {url}: this process already holds {held} sessions on the \
         BMC, its session limit ({cap}); close other clients or share their session"
    )]
    SessionCapReached {
        /// The sessions collection URL.
        url: String,
        /// The cap in force.
        cap: u32,
        /// How many sessions this process holds on the BMC.
        held: usize,
    },
    /// The session was created but the BMC sent no `X-Auth-Token`.
    #[error("session created at {url} but the BMC sent no X-Auth-Token header")]
    SessionTokenMissing {
        /// The sessions collection URL.
        url: String,
    },
    /// The BMC answered with a body that is not the JSON expected at this URL.
    #[error("invalid JSON from {url} at {path}")]
    Decode {
        /// The URL whose body failed to decode.
        url: String,
        /// The JSON path where decoding failed (`.` for the document itself).
        path: String,
        /// What the JSON parser said, scrubbed of secrets like the BMC's messages.
        #[source]
        source: DecodeDetail,
    },
    /// A value the caller asked for is not among the values the BMC allows.
    #[error(
        "{property} {requested:?} is not allowed by the BMC; allowed: {}",
        AllowedList(allowed)
    )]
    NotAllowed {
        /// The Redfish property, for example `ResetType`.
        property: &'static str,
        /// The requested value.
        requested: String,
        /// What the BMC advertises in `@Redfish.AllowableValues`.
        allowed: Vec<String>,
    },
    /// The resource does not offer what the operation needs (an action, a link, a property).
    #[error("{operation} is not supported by {url}: {missing} is missing")]
    Unsupported {
        /// The operation that was attempted.
        operation: &'static str,
        /// The resource that lacks it.
        url: String,
        /// The property or link that is missing.
        missing: &'static str,
    },
    /// The path given for an operation names a resource of another type (for example the
    /// service root where a ComputerSystem was expected); nothing was changed.
    #[error("{url} is a {found} resource, not a {expected}")]
    WrongResourceType {
        /// The resource that was read.
        url: String,
        /// The resource type the operation needs, for example `ComputerSystem`.
        expected: &'static str,
        /// The type the resource declares: the namespace of its `@odata.type`, such as
        /// `ServiceRoot`.
        found: String,
    },
    /// The BMC accepted a write but reading back shows a different value.
    #[error("{url} accepted {property} = {expected:?} but reads back {actual:?}")]
    NotApplied {
        /// The resource that was written.
        url: String,
        /// The property that did not take.
        property: &'static str,
        /// The value that was written.
        expected: String,
        /// The value read back (`None` when the property is absent).
        actual: Option<String>,
    },
    /// A wait for a state ran out of time.
    #[error("{url}: {what} did not become {wanted:?} within {after:?} (last seen {last:?})")]
    WaitTimeout {
        /// The resource that was polled.
        url: String,
        /// What was waited for, for example `PowerState`.
        what: &'static str,
        /// The wanted value.
        wanted: String,
        /// The last value seen.
        last: Option<String>,
        /// How long the wait lasted.
        after: Duration,
    },
    /// The client was closed with [`crate::RedfishClient::close`]; build a new one.
    #[error("the client is closed")]
    Closed,
    /// The BMC's answer is larger than the client's limit
    /// ([`crate::ClientBuilder::max_response_bytes`]); nothing past the limit was read.
    #[error("{method} {url}: the answer exceeds the limit of {limit} bytes")]
    ResponseTooLarge {
        /// The request method.
        method: HttpMethod,
        /// The request URL.
        url: String,
        /// The configured limit in bytes.
        limit: u64,
    },
    /// A collection lists more members than the client's limit
    /// ([`crate::ClientBuilder::max_collection_members`]); none of them were fetched.
    #[error("{url}: the collection has more than {limit} members")]
    CollectionTooLarge {
        /// The collection URL.
        url: String,
        /// The configured limit.
        limit: usize,
    },
    /// A task ended in `Exception`, `Killed` or `Cancelled`.
    #[error("task {url} ended in state {state}{}", MessageIdList(messages))]
    TaskFailed {
        /// The task monitor or task URL.
        url: String,
        /// The final `TaskState`.
        state: String,
        /// The task's `Messages`, scrubbed like other BMC messages.
        messages: Vec<RedfishMessage>,
    },
    /// A task monitor or task answered 404 before the task was seen to end: the BMC dropped
    /// it, so its outcome is unknown.
    #[error("task {url} vanished (HTTP 404) before it was seen to end; its outcome is unknown")]
    TaskVanished {
        /// The task monitor or task URL.
        url: String,
    },
}

impl Error {
    /// The HTTP status, for errors that carry one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Http { status, .. }
            | Error::Authentication { status, .. }
            | Error::SessionLimit { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The URL involved, when the error is about one request or resource.
    pub fn url(&self) -> Option<&str> {
        match self {
            Error::Connect { url, .. }
            | Error::Timeout { url, .. }
            | Error::Transport { url, .. }
            | Error::Http { url, .. }
            | Error::Authentication { url, .. }
            | Error::SessionLimit { url, .. }
            | Error::SessionCapReached { url, .. }
            | Error::SessionTokenMissing { url }
            | Error::Decode { url, .. }
            | Error::Unsupported { url, .. }
            | Error::WrongResourceType { url, .. }
            | Error::NotApplied { url, .. }
            | Error::WaitTimeout { url, .. }
            | Error::ResponseTooLarge { url, .. }
            | Error::CollectionTooLarge { url, .. }
            | Error::TaskFailed { url, .. }
            | Error::TaskVanished { url } => Some(url),
            Error::OffOriginLink { link, .. } => Some(link),
            _ => None,
        }
    }

    /// The HTTP method of the failed request, when the error is about one request.
    pub fn method(&self) -> Option<HttpMethod> {
        match self {
            Error::Connect { method, .. }
            | Error::Timeout { method, .. }
            | Error::Transport { method, .. }
            | Error::Http { method, .. }
            | Error::ResponseTooLarge { method, .. } => Some(*method),
            _ => None,
        }
    }

    /// The Redfish messages (`@Message.ExtendedInfo`) the BMC sent with its error.
    pub fn messages(&self) -> &[RedfishMessage] {
        match self {
            Error::Http { messages, .. }
            | Error::Authentication { messages, .. }
            | Error::SessionLimit { messages, .. }
            | Error::TaskFailed { messages, .. } => messages,
            _ => &[],
        }
    }

    /// The `MessageId` of every message the BMC sent, in order.
    pub fn message_ids(&self) -> impl Iterator<Item = &str> {
        self.messages()
            .iter()
            .filter_map(|m| m.message_id.as_deref())
    }

    /// The first `MessageId`, the one Python exposes as `message_id`.
    pub fn message_id(&self) -> Option<&str> {
        self.message_ids().next()
    }

    /// The JSON path of a decode error.
    pub fn json_path(&self) -> Option<&str> {
        match self {
            Error::Decode { path, .. } => Some(path),
            _ => None,
        }
    }

    /// The BMC refused a new session because its session limit is reached.
    pub fn is_session_limit(&self) -> bool {
        matches!(
            self,
            Error::SessionLimit { .. } | Error::SessionCapReached { .. }
        )
    }

    /// `404 Not Found`.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// `401 Unauthorized`, or a failed login.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Error::Authentication { .. }) || self.status() == Some(401)
    }

    /// `403 Forbidden`: the credentials are valid but lack the privilege.
    pub fn is_forbidden(&self) -> bool {
        self.status() == Some(403)
    }

    /// `409 Conflict`.
    pub fn is_conflict(&self) -> bool {
        self.status() == Some(409)
    }

    /// `412 Precondition Failed` (an ETag mismatch that every `If-Match` variant hit).
    pub fn is_precondition_failed(&self) -> bool {
        self.status() == Some(412)
    }

    /// A request timeout or a wait that ran out of time.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. } | Error::WaitTimeout { .. })
    }

    /// The BMC could not be reached or the connection broke.
    pub fn is_connection(&self) -> bool {
        matches!(self, Error::Connect { .. } | Error::Transport { .. })
    }

    /// The TLS handshake was refused: the BMC's certificate is not trusted by the configured
    /// [`crate::TlsVerification`] (not the pinned one, not signed by the CA bundle, ...).
    /// Such an error is a [`Error::Connect`]; it is not retried.
    pub fn is_tls_rejected(&self) -> bool {
        self.tls_rejection_reason().is_some()
    }

    /// Why the TLS handshake was refused, in rustls' words (or "the BMC's certificate is not
    /// the pinned certificate"), when it was.
    pub fn tls_rejection_reason(&self) -> Option<String> {
        match self {
            Error::Connect { source, .. } | Error::Transport { source, .. } => {
                crate::tls::rejection_reason(&*source.0)
            }
            _ => None,
        }
    }

    /// Trying again later may succeed (the retry policy already did, within its budget).
    pub fn is_retryable(&self) -> bool {
        (self.is_connection() && !self.is_tls_rejected())
            || matches!(self, Error::Timeout { .. })
            || self.status().is_some_and(crate::retry::is_retryable_status)
    }

    /// The BMC's answer could not be decoded, or was larger than the client reads.
    pub fn is_decode(&self) -> bool {
        matches!(
            self,
            Error::Decode { .. }
                | Error::ResponseTooLarge { .. }
                | Error::CollectionTooLarge { .. }
        )
    }

    /// The BMC accepted a write but reads back something else ([`Error::NotApplied`]).
    pub fn is_not_applied(&self) -> bool {
        matches!(self, Error::NotApplied { .. })
    }

    /// A task ended badly or vanished ([`Error::TaskFailed`], [`Error::TaskVanished`]).
    pub fn is_task_failure(&self) -> bool {
        matches!(self, Error::TaskFailed { .. } | Error::TaskVanished { .. })
    }

    /// Messages in this error that may quote what a request carried, scrubbed of `secret`.
    pub(crate) fn scrub_messages(&mut self, secret: &str) {
        if let Error::Decode { source, .. } = self
            && !secret.is_empty()
            && source.message.contains(secret)
        {
            source.message = source.message.replace(secret, "[redacted]");
        }
        if let Error::Http { messages, .. }
        | Error::Authentication { messages, .. }
        | Error::SessionLimit { messages, .. }
        | Error::TaskFailed { messages, .. } = self
        {
            for message in messages {
                message.scrub(secret);
            }
        }
    }

    /// The caller's input was refused: before anything was sent, or (for
    /// [`Error::WrongResourceType`]) after reading the resource it named, before any change.
    pub fn is_invalid_input(&self) -> bool {
        matches!(
            self,
            Error::InvalidEndpoint { .. }
                | Error::InvalidPath { .. }
                | Error::WrongResourceType { .. }
                | Error::NotAllowed { .. }
                | Error::MissingCredentials
                | Error::TlsConfig { .. }
        )
    }
}

/// Formats ` [Id1, Id2]` after a status, or nothing.
struct MessageIdList<'a>(&'a [RedfishMessage]);

impl fmt::Display for MessageIdList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ids = self
            .0
            .iter()
            .filter_map(|m| m.message_id.as_deref())
            .peekable();
        if ids.peek().is_none() {
            return Ok(());
        }
        f.write_str(" [")?;
        for (i, id) in ids.enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(id)?;
        }
        f.write_str("]")
    }
}

/// Formats an allow-list as `A, B, C` or `none advertised`.
struct AllowedList<'a>(&'a [String]);

impl fmt::Display for AllowedList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none advertised");
        }
        f.write_str(&self.0.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: &str) -> RedfishMessage {
        RedfishMessage {
            message_id: Some(id.to_owned()),
            ..RedfishMessage::default()
        }
    }

    #[test]
    fn http_error_display_lists_message_ids_lower_case_without_period() {
        let err = Error::Http {
            method: HttpMethod::Get,
            url: "https://bmc/redfish/v1/Systems/9".into(),
            status: 404,
            messages: vec![
                message("Base.1.8.ResourceMissingAtURI"),
                message("Base.1.8.Other"),
            ],
        };
        let text = err.to_string();
        assert_eq!(
            text,
            "GET https://bmc/redfish/v1/Systems/9: HTTP 404 Not Found \
             [Base.1.8.ResourceMissingAtURI, Base.1.8.Other]"
        );
        assert!(!text.ends_with('.'));
        assert!(err.is_not_found());
        assert!(!err.is_unauthorized());
        assert_eq!(err.message_id(), Some("Base.1.8.ResourceMissingAtURI"));
        assert_eq!(err.url(), Some("https://bmc/redfish/v1/Systems/9"));
        assert_eq!(err.method(), Some(HttpMethod::Get));
    }

    #[test]
    fn display_hides_message_text_that_may_echo_input() {
        let err = Error::Http {
            method: HttpMethod::Patch,
            url: "https://bmc/x".into(),
            status: 400,
            messages: vec![RedfishMessage {
                message_id: Some("Base.1.8.PropertyValueNotInList".into()),
                message: Some("The value 'hunter2' is not in the list".into()),
                ..RedfishMessage::default()
            }],
        };
        assert!(!err.to_string().contains("hunter2"));
        assert_eq!(err.messages().len(), 1);
    }

    #[test]
    fn not_allowed_lists_allowed_values() {
        let err = Error::NotAllowed {
            property: "ResetType",
            requested: "Nmi".into(),
            allowed: vec!["On".into(), "ForceOff".into()],
        };
        assert_eq!(
            err.to_string(),
            "ResetType \"Nmi\" is not allowed by the BMC; allowed: On, ForceOff"
        );
        assert!(err.is_invalid_input());
        assert!(err.status().is_none());
    }

    #[test]
    fn retryable_statuses() {
        let make = |code: u16| Error::Http {
            method: HttpMethod::Get,
            url: String::new(),
            status: code,
            messages: vec![],
        };
        assert!(make(503).is_retryable());
        assert!(make(429).is_retryable());
        assert!(!make(400).is_retryable());
        assert!(make(412).is_precondition_failed());
        assert!(make(409).is_conflict());
    }

    #[test]
    fn error_stays_small() {
        // Results of every operation carry this type; keep it cheap to move.
        assert!(
            std::mem::size_of::<Error>() <= 128,
            "{}",
            std::mem::size_of::<Error>()
        );
    }
}
