//! The lean path's requests: the headers every request carries, redirects followed within the
//! origin, and the detached DELETE of a dropped client's session. The exchange itself, on a
//! kept socket, is `parked`'s.

use std::time::Duration;

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::state::{AuthHeader, Response};
use crate::http::parked::{self, BoxError, Connector, ExchangeFailure, ParkedSlot};
use crate::http::{Backend, HttpClient};

/// The headers every request carries, but `Host`, `User-Agent` and the body's.
pub(super) fn request_headers(
    if_match: Option<&str>,
    auth: Option<&AuthHeader>,
    identity: bool,
    keep: bool,
) -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(8);
    headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    headers.insert("OData-Version", HeaderValue::from_static("4.0"));
    if identity {
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("identity"),
        );
    }
    if !keep {
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    if let Some(tag) = if_match.and_then(|t| HeaderValue::from_str(t).ok()) {
        headers.insert(header::IF_MATCH, tag);
    }
    match auth {
        Some(AuthHeader::Token(token)) => {
            if let Ok(mut value) = HeaderValue::from_str(token.expose_secret()) {
                value.set_sensitive(true);
                headers.insert("X-Auth-Token", value);
            }
        }
        Some(AuthHeader::Basic(credentials)) => {
            if let Some(value) =
                parked::basic_auth(&credentials.username, credentials.password.expose_secret())
            {
                headers.insert(header::AUTHORIZATION, value);
            }
        }
        None => {}
    }
    headers
}

/// One exchange on the lean path, following redirects within the origin as the reqwest
/// path does (at most five requests), on the connection parked in `slot` if any.
#[allow(clippy::too_many_arguments, reason = "one exchange's parts, named")]
pub(super) async fn send_lean(
    http: &HttpClient,
    connector: &Connector,
    slot: &ParkedSlot,
    method: &Method,
    url: &Url,
    body: Option<String>,
    mut headers: HeaderMap,
    keep: bool,
    limit: u64,
) -> Result<Response, ExchangeFailure> {
    if let Some(agent) = &http.user_agent {
        headers.insert(header::USER_AGENT, agent.clone());
    }
    let mut body = body.map(String::into_bytes);
    if body.is_some() {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    let mut method = method.clone();
    let mut url = url.clone();
    let mut requested = 0;
    loop {
        requested += 1;
        let answer = parked::exchange(
            connector,
            slot,
            if keep { http.max_idle } else { 0 },
            &method,
            &url,
            &headers,
            body.as_deref(),
            limit,
        )
        .await?;
        let next = redirect_target(&url, answer.status, &answer.headers)
            .filter(|_| requested < MAX_REQUESTS_PER_SEND);
        let Some(next) = next else {
            return Ok(Response {
                status: answer.status,
                url,
                headers: answer.headers,
                body: answer.body,
            });
        };
        if changes_to_get(answer.status, &method) {
            method = Method::GET;
            body = None;
            headers.remove(header::CONTENT_TYPE);
        }
        url = next;
    }
}

/// DELETE of a session outside any client (one dropped without `close`): on a connection of
/// its own, closed afterwards.
pub(super) async fn delete_detached(
    http: &HttpClient,
    url: &Url,
    token: &SecretString,
    timeout: Duration,
) -> Result<StatusCode, BoxError> {
    let mut value = HeaderValue::from_str(token.expose_secret())?;
    value.set_sensitive(true);
    let mut headers = HeaderMap::new();
    headers.insert("X-Auth-Token", value);
    let sent = match &http.backend {
        Backend::Reqwest(client) => {
            let response = client
                .delete(url.clone())
                .timeout(timeout)
                .headers(headers)
                .send()
                .await?;
            return Ok(response.status());
        }
        Backend::Lean(connector) => {
            let slot = ParkedSlot::default();
            let delete = send_lean(
                http,
                connector,
                &slot,
                &Method::DELETE,
                url,
                None,
                headers,
                false,
                DETACHED_LIMIT,
            );
            tokio::time::timeout(timeout, delete).await
        }
    };
    match sent {
        Ok(Ok(response)) => Ok(response.status),
        Ok(Err(failure)) => Err(failure.into_source()),
        Err(elapsed) => Err(Box::new(elapsed)),
    }
}

/// The most of a detached DELETE's answer read: nobody looks at it.
const DETACHED_LIMIT: u64 = 64 * 1024;

/// The most requests one send makes by following redirects (reqwest's policy here: stop when
/// five were made).
const MAX_REQUESTS_PER_SEND: usize = 5;

/// Where a redirect answer sends the request next, when it is one and stays on the origin of
/// `url` (the session token must not reach another host). Pure.
pub(crate) fn redirect_target(url: &Url, status: StatusCode, headers: &HeaderMap) -> Option<Url> {
    if !matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let location = headers.get(header::LOCATION)?.to_str().ok()?;
    let next = url.join(location).ok()?;
    crate::endpoint::same_origin(&next, url).then_some(next)
}

/// Whether following this redirect turns the request into a GET without a body (301, 302 and
/// 303, as browsers and reqwest do; 307 and 308 keep the method). Pure.
pub(crate) fn changes_to_get(status: StatusCode, method: &Method) -> bool {
    matches!(status.as_u16(), 301..=303) && *method != Method::GET && *method != Method::HEAD
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_are_followed_only_within_the_origin() {
        let url = Url::parse("https://bmc.example/redfish/v1/Old").unwrap();
        let to = |location: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::LOCATION, HeaderValue::from_str(location).unwrap());
            headers
        };
        let found = StatusCode::FOUND;
        assert_eq!(
            redirect_target(&url, found, &to("/redfish/v1/New")).map(String::from),
            Some("https://bmc.example/redfish/v1/New".to_owned())
        );
        assert_eq!(
            redirect_target(&url, found, &to("https://evil.example/")),
            None
        );
        assert_eq!(
            redirect_target(&url, found, &to("http://bmc.example/")),
            None
        );
        assert_eq!(redirect_target(&url, found, &HeaderMap::new()), None);
        assert_eq!(redirect_target(&url, StatusCode::OK, &to("/x")), None);
        for status in [301, 302, 303, 307, 308] {
            let status = StatusCode::from_u16(status).unwrap();
            assert!(
                redirect_target(&url, status, &to("/x")).is_some(),
                "{status}"
            );
        }
    }

    #[test]
    fn only_301_to_303_turn_a_request_into_a_get() {
        let s = |code| StatusCode::from_u16(code).unwrap();
        assert!(changes_to_get(s(303), &Method::POST));
        assert!(changes_to_get(s(301), &Method::PATCH));
        assert!(!changes_to_get(s(307), &Method::POST));
        assert!(!changes_to_get(s(308), &Method::DELETE));
        assert!(!changes_to_get(s(302), &Method::GET));
    }
}
