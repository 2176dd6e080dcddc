//! Authentication and the session lifecycle: choosing session or Basic, logging in,
//! re-login once on 401, deleting sessions on close and on drop.

use std::sync::atomic::Ordering;

use reqwest::header;
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use url::Url;

use super::send::SendFailure;
use super::shared::{ActiveAuth, CapPlace, Session, deletes_on_close};
use super::state::{AuthHeader, AuthMode, Inner, RequestOptions};
use crate::Error;
use crate::decode::decode;
use crate::error::HttpMethod;
use crate::models::{ServiceRoot, parse_error_messages};

impl Inner {
    /// The authentication to use, logging in first when nothing is decided yet.
    pub(super) async fn current_auth(&self) -> Result<(u64, AuthHeader), Error> {
        let mut state = self.shared.state.lock().await;
        // Checked under the lock `close` takes: a close that ran meanwhile has taken the
        // session away, and logging in now would leave a session nobody deletes.
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
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
    pub(super) async fn relogin(&self, seen_generation: u64) -> Result<(), Error> {
        let (old_uri, new_token) = {
            // The state is shared by every client of this BMC and account: the first to see
            // the 401 logs in again, for all of them.
            let mut state = self.shared.state.lock().await;
            if self.closed.load(Ordering::Acquire) {
                return Err(Error::Closed);
            }
            if state.generation != seen_generation {
                return Ok(());
            }
            let sessions_url = Box::pin(self.sessions_url()).await?;
            let session = Box::pin(self.create_session(&sessions_url, true)).await?;
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
    pub(super) async fn delete_stale_session(&self, old_uri: &Url, new_token: SecretString) {
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
    ///
    /// `Auto` (the default) works wherever sushy does (quirk `no_session_service`): a session
    /// first, HTTP Basic when the
    /// service has no SessionService or refuses to create a session (401, 404, 405, 501);
    /// a Basic that the BMC then refuses too is an [`Error::Authentication`]. When the service
    /// root is not known yet, the login is posted to the standard sessions URL while the root
    /// is being read, so logging in costs no extra round trip.
    pub(super) async fn login(&self) -> Result<ActiveAuth, Error> {
        if self.credentials.is_none() {
            return Err(Error::MissingCredentials);
        }
        // The user's `session_auth` off is known before the root: no login at all.
        if self.auth_mode == AuthMode::Basic
            || (self.auth_mode == AuthMode::Auto
                && self.quirks_override.session_auth == Some(false))
        {
            return Ok(ActiveAuth::Basic);
        }
        let standard = self.endpoint.resolve(STANDARD_SESSIONS_PATH)?;
        if CapPlace::held(self.endpoint.url()) > 0 && self.service_root.get().is_none() {
            // Other sessions of this process are open on this BMC: its cap (which the
            // vendor tells) matters now, so the login waits for the service root.
            self.service_root().await?;
        }
        let first_try = if let Some(root) = self.service_root.get() {
            if self.auth_mode == AuthMode::Auto
                && (!root.has_session_service() || !self.quirks_now().session_auth)
            {
                return Ok(ActiveAuth::Basic);
            }
            self.create_session(&self.advertised_sessions_url(root)?, false)
                .await
                .map_err(|err| (err, true))
        } else {
            let (root, session) =
                futures::join!(self.service_root(), self.create_session(&standard, false));
            match (session, root) {
                (Ok(session), _) => Ok(session),
                (Err(err), Ok(root)) => {
                    let advertised = self.advertised_sessions_url(root)?;
                    if advertised != standard && session_refused(&err) {
                        // A service that keeps its sessions elsewhere: try there.
                        self.create_session(&advertised, false)
                            .await
                            .map_err(|err| (err, root.has_session_service()))
                    } else {
                        Err((err, root.has_session_service()))
                    }
                }
                // The root could not be read: report that, it is the real problem.
                (Err(_), Err(root_err)) => return Err(root_err),
            }
        };
        // The login may have failed before the root was read: name the cap now it is.
        let first_try = first_try.map_err(|(mut err, advertised)| {
            if let Error::SessionLimit {
                cap: cap @ None, ..
            } = &mut err
            {
                *cap = self.known_session_cap();
            }
            (err, advertised)
        });
        match first_try {
            Ok(session) => Ok(ActiveAuth::Session(session)),
            // Basic takes no session slot (iDRAC, XCC), so a full BMC still answers.
            Err((err, _)) if self.auth_mode == AuthMode::Auto && err.is_session_limit() => {
                tracing::warn!(
                    bmc = %self.endpoint.origin(),
                    cap = ?self.known_session_cap(),
                    "the BMC's session limit is reached; using HTTP Basic for this client"
                );
                if let Ok(mut refusal) = self.login_refusal.lock() {
                    *refusal = Some(err);
                }
                Ok(ActiveAuth::Basic)
            }
            Err((err, advertised)) if self.auth_mode == AuthMode::Auto && session_refused(&err) => {
                tracing::info!(
                    bmc = %self.endpoint.origin(),
                    session_service_advertised = advertised,
                    status = err.status(),
                    "the BMC refuses sessions; using HTTP Basic"
                );
                // Kept to report if Basic is refused as well: the login's own answer says more.
                if let Ok(mut refusal) = self.login_refusal.lock() {
                    *refusal = Some(err);
                }
                Ok(ActiveAuth::Basic)
            }
            Err((err, _)) => Err(err),
        }
    }

    /// The session cap of the BMC's vendor (quirk `session_cap`), when the vendor is known
    /// from the Manager or the service root; the user's quirk override applies.
    fn known_session_cap(&self) -> Option<u32> {
        if let Some((_, quirks)) = self.vendor_quirks.get() {
            return quirks.max_sessions;
        }
        match self.service_root.get() {
            Some(root) => self.quirks_from_root(root).max_sessions,
            // Before the root is read, only the user's override can name it.
            None => self.early_quirks.max_sessions,
        }
    }

    /// Reads the service root and logs in at the same time: every operation on a system
    /// needs both, and a BMC answers in 100 ms to 2 s, so the login must not wait for the
    /// root. Without credentials only the root is read.
    pub(crate) async fn prime(&self, root_needed: bool) -> Result<(), Error> {
        let login_needed = self.credentials.is_some()
            && self.auth_mode != AuthMode::Basic
            && !self.closed.load(Ordering::Acquire);
        match (root_needed, login_needed) {
            (true, true) => {
                let (root, auth) = futures::join!(self.service_root(), self.current_auth());
                root?;
                auth.map(|_| ())
            }
            (true, false) => self.service_root().await.map(|_| ()),
            (false, true) => self.current_auth().await.map(|_| ()),
            (false, false) => Ok(()),
        }
    }

    /// The sessions collection the service root names, else the standard one.
    fn advertised_sessions_url(&self, root: &ServiceRoot) -> Result<Url, Error> {
        self.endpoint
            .resolve(root.sessions_link().unwrap_or(STANDARD_SESSIONS_PATH))
    }

    /// The sessions collection to log in at (the service root is read if needed).
    pub(super) async fn sessions_url(&self) -> Result<Url, Error> {
        let root = self.service_root().await?;
        self.advertised_sessions_url(root)
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

    /// POSTs the credentials to the sessions collection at `url`. Unless the new session
    /// is `replacing` one this process holds, nothing is sent when the process already holds
    /// as many sessions on this BMC as its known cap (quirk `session_cap`):
    /// [`Error::SessionCapReached`].
    pub(super) async fn create_session(
        &self,
        url: &Url,
        replacing: bool,
    ) -> Result<Session, Error> {
        let credentials = self.credentials.as_ref().ok_or(Error::MissingCredentials)?;
        let cap = if replacing {
            None
        } else {
            self.known_session_cap()
        };
        let place =
            CapPlace::take(self.endpoint.url(), cap).map_err(|held| Error::SessionCapReached {
                url: url.to_string(),
                cap: cap.unwrap_or_default(),
                held,
            })?;
        let body = serde_json::json!({
            "UserName": credentials.username,
            "Password": credentials.password.expose_secret(),
        });
        let options = RequestOptions {
            unauthenticated: true,
            ..RequestOptions::default()
        };
        let response = match self.request(Method::POST, url, Some(&body), &options).await {
            Ok(response) => response,
            Err(Error::Http {
                url,
                status,
                messages,
                ..
            }) if is_session_limit(&messages) => {
                return Err(Error::SessionLimit {
                    url,
                    status,
                    cap: self.known_session_cap(),
                    messages,
                });
            }
            // A refusal of the login is an authentication error; a BMC failing (5xx, 429)
            // stays an HTTP error. The password was scrubbed by `request` (it is in the body).
            Err(Error::Http {
                url,
                status,
                messages,
                ..
            }) if matches!(status, 400..=499 | 501) => {
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
        // Quirk `session_uri_only_in_body`: some BMCs put the session URI only in the body.
        let body = serde_json::from_slice::<Value>(&response.body).ok();
        let text = |key: &str| {
            body.as_ref()
                .and_then(|v| v.get(key))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let candidates: Vec<String> = location
            .map(str::to_owned)
            .into_iter()
            .chain(text("@odata.id"))
            .collect();
        let uri = session_delete_target(&self.endpoint, url, &candidates, text("Id").as_deref());
        if uri.is_none() {
            tracing::warn!(
                path = %url.path(),
                "the BMC sent no usable session URI; the session cannot be deleted and will time out"
            );
        }
        Ok(Session {
            token,
            uri,
            owner_pid: std::process::id(),
            _place: place,
        })
    }

    /// Deletes the session, if any, and refuses further requests.
    pub(crate) async fn close(&self) -> Result<(), Error> {
        let result = self.end_session().await;
        // A closed client sends nothing more: its kept connection goes now, not at drop.
        self.parked.clear();
        result
    }

    /// Deletes the session when this client is the last to use it.
    async fn end_session(&self) -> Result<(), Error> {
        let session = {
            // Under the auth lock, so that no login can start after this point (see
            // `current_auth`) and a login in progress finishes first and is deleted here.
            let mut state = self.shared.state.lock().await;
            if self.closed.swap(true, Ordering::AcqRel) {
                return Ok(());
            }
            if !self.shared.leave() {
                // Other clients of this BMC and account still use the session: the last
                // one deletes it.
                return Ok(());
            }
            match std::mem::replace(&mut state.active, ActiveAuth::Pending) {
                ActiveAuth::Session(session) => Some(session),
                _ => None,
            }
        };
        let Some(Session {
            token,
            uri: Some(uri),
            owner_pid,
            ..
        }) = session
        else {
            return Ok(());
        };
        if !deletes_on_close(owner_pid, std::process::id()) {
            tracing::debug!(path = %uri.path(), "the session belongs to the parent process; not deleted");
            return Ok(());
        }
        let auth = AuthHeader::Token(token.clone());
        let delete = || self.send_once(&Method::DELETE, &uri, None, None, Some(&auth), true);
        let mut result = delete().await;
        if matches!(result, Err(SendFailure::StaleConnection(_))) {
            // Quirk `stale_keep_alive_connection`, as in `request`: likely for an idle pooled
            // connection at close time.
            result = delete().await;
        }
        match result {
            Ok(r) if r.status.is_success() || r.status == StatusCode::NOT_FOUND => Ok(()),
            Ok(r) => {
                let mut err = Error::Http {
                    method: HttpMethod::Delete,
                    url: uri.to_string(),
                    messages: parse_error_messages(&r.body),
                    status: r.status.as_u16(),
                };
                self.scrub(&mut err, Some(&AuthHeader::Token(token)));
                Err(err)
            }
            Err(failure) => Err(failure.into_error(
                &Method::DELETE,
                &uri,
                self.request_timeout,
                self.max_response_bytes,
            )),
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if *self.closed.get_mut() || !self.shared.leave() {
            // Closed already, or other clients still use the session.
            return;
        }
        // The last user: nobody else holds the lock but a client that is about to learn it
        // was closed.
        let Ok(mut state) = self.shared.state.try_lock() else {
            return;
        };
        let ActiveAuth::Session(session) =
            std::mem::replace(&mut state.active, ActiveAuth::Pending)
        else {
            return;
        };
        drop(state);
        let (Some(uri), true) = (
            session.uri.clone(),
            deletes_on_close(session.owner_pid, std::process::id()),
        ) else {
            return;
        };
        let token = session.token.clone();
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
        let http = std::sync::Arc::clone(&self.http);
        let timeout = self.request_timeout;
        handle.spawn(async move {
            if let Err(err) = super::lean::delete_detached(&http, &uri, &token, timeout).await {
                tracing::warn!(path = %uri.path(), error = %err, "background session delete failed");
            }
            // Its place in the process's count is given back once the delete is done.
            drop(session);
        });
    }
}

/// Where every service keeps its sessions (DMTF DSP0266 requires this URI).
const STANDARD_SESSIONS_PATH: &str = "/redfish/v1/SessionService/Sessions";

/// Whether a failed login means "no sessions here" rather than a broken BMC: the statuses a
/// service without a usable SessionService answers. Pure.
/// Whether a refused login says the BMC's sessions are all taken (quirk `session_cap`): DMTF's
/// `SessionLimitExceeded`, or iDRAC's `RAC0218` ("The maximum number of user sessions is
/// reached", sent with 503). Pure.
pub(crate) fn is_session_limit(messages: &[crate::models::RedfishMessage]) -> bool {
    messages
        .iter()
        .filter_map(crate::models::RedfishMessage::short_id)
        .any(|id| id == "SessionLimitExceeded" || id == "RAC0218")
}

fn session_refused(err: &Error) -> bool {
    matches!(err.status(), Some(401 | 403 | 404 | 405 | 501))
}

/// Where to DELETE a new session (quirk `session_uri_outside_collection`): the first candidate (`Location`, then the body's
/// `@odata.id`) that lies on the endpoint's origin directly under the sessions collection.
/// Otherwise the session is deleted through the collection where that is safe: the member
/// named by the body's `Id`, or by a refused candidate whose path is a member of the
/// collection (an off-origin `Location` with the right path). `None` when nothing usable was
/// sent. A BMC must not be able to make `close` DELETE an arbitrary resource. Pure.
pub(crate) fn session_delete_target(
    endpoint: &crate::Endpoint,
    sessions: &Url,
    candidates: &[String],
    id: Option<&str>,
) -> Option<Url> {
    let collection = sessions.path().trim_end_matches('/');
    let member_of = |url: &Url| -> Option<String> {
        let rest = url
            .path()
            .trim_end_matches('/')
            .strip_prefix(collection)?
            .strip_prefix('/')?;
        (url.query().is_none() && is_plain_segment(rest)).then(|| rest.to_owned())
    };
    let mut through_collection = id.filter(|id| is_plain_segment(id)).map(str::to_owned);
    for candidate in candidates {
        match endpoint.resolve(candidate) {
            Ok(url) if member_of(&url).is_some() => return Some(url),
            Ok(url) => {
                tracing::warn!(path = %url.path(), "the session URI is not under the sessions collection; not using it");
            }
            Err(err) => {
                tracing::warn!(error = %err, "ignoring the session URI the BMC sent");
                if through_collection.is_none() {
                    through_collection = Url::parse(candidate.trim())
                        .ok()
                        .as_ref()
                        .and_then(member_of);
                }
            }
        }
    }
    let id = through_collection?;
    let mut url = sessions.clone();
    url.set_query(None);
    url.path_segments_mut().ok()?.pop_if_empty().push(&id);
    Some(url)
}

/// A single path segment that cannot climb or escape: no `/`, `\`, `?`, `#`, `%`, not `.`/`..`.
fn is_plain_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment != "."
        && segment != ".."
        && !segment.contains(['/', '\\', '?', '#', '%', '@'])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: &str) -> crate::models::RedfishMessage {
        serde_json::from_value(serde_json::json!({ "MessageId": id })).unwrap()
    }

    #[test]
    fn a_full_session_table_is_recognised_by_its_message_not_its_status() {
        assert!(is_session_limit(&[message(
            "Base.1.17.SessionLimitExceeded"
        )]));
        // iDRAC wraps its own id in a GeneralError.
        assert!(is_session_limit(&[
            message("Base.1.5.GeneralError"),
            message("IDRAC.2.1.RAC0218")
        ]));
        assert!(!is_session_limit(&[message("Base.1.5.GeneralError")]));
        assert!(!is_session_limit(&[message("Base.1.8.NoValidSession")]));
        assert!(!is_session_limit(&[]));
    }

    fn target(candidates: &[&str], id: Option<&str>) -> Option<String> {
        let endpoint = crate::Endpoint::parse("https://bmc.example").unwrap();
        let sessions = endpoint.resolve(STANDARD_SESSIONS_PATH).unwrap();
        let candidates: Vec<String> = candidates.iter().map(|c| (*c).to_owned()).collect();
        session_delete_target(&endpoint, &sessions, &candidates, id).map(|u| u.path().to_owned())
    }

    #[test]
    fn a_session_uri_under_the_collection_is_used() {
        assert_eq!(
            target(&["/redfish/v1/SessionService/Sessions/7"], None).as_deref(),
            Some("/redfish/v1/SessionService/Sessions/7")
        );
        assert_eq!(
            target(
                &["https://bmc.example/redfish/v1/SessionService/Sessions/7/"],
                None
            )
            .as_deref(),
            Some("/redfish/v1/SessionService/Sessions/7/")
        );
    }

    #[test]
    fn a_session_uri_elsewhere_is_refused_and_the_member_is_deleted_through_the_collection() {
        // A hostile BMC names an account or a system as "its session": never deleted.
        assert_eq!(
            target(&["/redfish/v1/AccountService/Accounts/2"], None),
            None
        );
        assert_eq!(
            target(&["/redfish/v1/AccountService/Accounts/2"], Some("s2")).as_deref(),
            Some("/redfish/v1/SessionService/Sessions/s2")
        );
        assert_eq!(
            target(
                &["/redfish/v1/SessionService/Sessions/../../Systems/1"],
                Some("abc")
            )
            .as_deref(),
            Some("/redfish/v1/SessionService/Sessions/abc")
        );
        assert_eq!(target(&["https://elsewhere.example/s/9"], None), None);
        assert_eq!(
            target(
                &["https://elsewhere.example/redfish/v1/SessionService/Sessions/9"],
                None
            )
            .as_deref(),
            Some("/redfish/v1/SessionService/Sessions/9")
        );
        assert_eq!(target(&["/redfish/v1/SessionService/Sessions"], None), None);
        assert_eq!(target(&[], Some("..")), None);
        assert_eq!(target(&[], None), None);
    }

    #[test]
    fn refusals_that_mean_no_sessions_here() {
        let http = |status| Error::Authentication {
            url: String::new(),
            status,
            messages: vec![],
        };
        for status in [401, 403, 404, 405, 501] {
            assert!(session_refused(&http(status)), "{status}");
        }
        assert!(!session_refused(&http(500)));
        assert!(!session_refused(&Error::Closed));
    }
}
