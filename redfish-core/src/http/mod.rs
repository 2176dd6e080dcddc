//! The HTTP clients that Redfish clients send through.
//!
//! Clients with the same settings share one HTTP client: its TLS configuration (and, on reqwest,
//! its connection pool). A TLS configuration with the platform's roots costs on the order of 100 KiB,
//! which a process managing thousands of BMCs would otherwise pay once per BMC. A CA bundle or
//! a pinned certificate belongs to one BMC, so a client with either gets an HTTP client of its
//! own. What differs per request (the timeout, the credentials) is set on each request instead.
//!
//! Requests go through the lean path (`parked`): between requests a client keeps only its
//! socket, not an HTTP connection. reqwest remains for `https://` in builds with the
//! `native-tls` feature (the lean path's TLS is rustls), and when `FERROFISH_HTTP_TRANSPORT`
//! is `pooled` (to measure one path against the other).
//!
//! This module imports nothing from `transport`, which sends through it.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use reqwest::header::HeaderValue;

mod h1;
pub(crate) mod parked;
#[cfg(feature = "rustls")]
mod tls_config;

use crate::Error;
use crate::client::TlsVerification;
use parked::Connector;

/// What an HTTP client is built from.
pub(crate) struct HttpSettings<'a> {
    pub(crate) tls: &'a TlsVerification,
    pub(crate) connect_timeout: Duration,
    pub(crate) user_agent: &'a str,
    /// Idle connections kept per host.
    pub(crate) max_idle_connections: usize,
    /// Whether the endpoint is `https://` (a build without a TLS backend refuses it).
    pub(crate) https: bool,
}

/// The settings under which HTTP clients are shared. Users seldom vary these, so the table
/// stays a handful of entries however many BMCs there are.
#[derive(Clone, PartialEq, Eq, Hash)]
struct SharedKey {
    accept_invalid_certs: bool,
    connect_timeout: Duration,
    user_agent: String,
    max_idle_connections: usize,
    https: bool,
    /// A forked child must not send on its parent's pooled connections (the sockets are
    /// shared with the parent): it gets HTTP clients of its own.
    process: u32,
}

static SHARED: LazyLock<Mutex<HashMap<SharedKey, Arc<HttpClient>>>> = LazyLock::new(Mutex::default);

/// What requests are sent through.
pub(crate) struct HttpClient {
    pub(crate) backend: Backend,
    /// Connections a client keeps between requests (`max_idle_connections`).
    pub(crate) max_idle: usize,
    pub(crate) user_agent: Option<HeaderValue>,
}

/// The HTTP path of a client.
pub(crate) enum Backend {
    /// reqwest, whose pool keeps hyper's whole connection while idle.
    Reqwest(reqwest::Client),
    /// HTTP/1.1 over a socket parked per client between requests (see `transport::parked`).
    Lean(Connector),
}

/// Which path requests take: the lean one, unless `FERROFISH_HTTP_TRANSPORT=pooled` asks for
/// reqwest's pooled connections (kept to measure one against the other: `fleet_poll`). Read
/// once.
static PARKED: LazyLock<bool> =
    LazyLock::new(|| std::env::var("FERROFISH_HTTP_TRANSPORT").map_or(true, |v| v != "pooled"));

/// The HTTP client for these settings: a shared one where the trust settings are the
/// process's (system roots, or no verification), a new one for a CA bundle or a pin.
pub(crate) fn http_client(settings: &HttpSettings<'_>) -> Result<Arc<HttpClient>, Error> {
    let accept_invalid_certs = match settings.tls {
        TlsVerification::SystemRoots => false,
        TlsVerification::DangerAcceptInvalidCerts => true,
        TlsVerification::CaBundlePem(_)
        | TlsVerification::PinnedCertificatePem(_)
        | TlsVerification::PinnedSha256(_) => {
            return build(settings).map(Arc::new);
        }
    };
    let key = SharedKey {
        accept_invalid_certs,
        connect_timeout: settings.connect_timeout,
        user_agent: settings.user_agent.to_owned(),
        max_idle_connections: settings.max_idle_connections,
        https: settings.https,
        process: std::process::id(),
    };
    // A poisoned lock only means another thread panicked mid-insert; the map is still usable.
    let mut shared = SHARED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(http) = shared.get(&key) {
        return Ok(Arc::clone(http));
    }
    let http = Arc::new(build(settings)?);
    shared.insert(key, Arc::clone(&http));
    Ok(http)
}

fn build(settings: &HttpSettings<'_>) -> Result<HttpClient, Error> {
    let backend = match lean_connector(settings)? {
        Some(connector) => Backend::Lean(connector),
        None => Backend::Reqwest(build_reqwest(settings)?),
    };
    Ok(HttpClient {
        backend,
        max_idle: settings.max_idle_connections,
        user_agent: HeaderValue::from_str(settings.user_agent).ok(),
    })
}

/// The lean path's connector, where it serves these settings: plain HTTP always, `https://`
/// with rustls (a `native-tls` build keeps reqwest for it).
fn lean_connector(settings: &HttpSettings<'_>) -> Result<Option<Connector>, Error> {
    if !*PARKED {
        return Ok(None);
    }
    let connect_timeout = settings.connect_timeout;
    if !settings.https {
        return Ok(Some(Connector {
            connect_timeout,
            #[cfg(feature = "rustls")]
            tls: None,
        }));
    }
    #[cfg(all(feature = "rustls", not(feature = "native-tls")))]
    {
        let config = match settings.tls {
            TlsVerification::SystemRoots => tls_config::system_roots(),
            TlsVerification::CaBundlePem(pem) => tls_config::ca_bundle(pem),
            TlsVerification::PinnedCertificatePem(pem) => tls_config::pinned(pem),
            TlsVerification::PinnedSha256(fingerprints) => tls_config::pinned_sha256(fingerprints),
            TlsVerification::DangerAcceptInvalidCerts => tls_config::accept_invalid_certs(),
        }
        .map_err(|e| Error::TlsConfig {
            reason: e.reason,
            source: e.source.map(crate::error::TransportError),
        })?;
        Ok(Some(Connector {
            connect_timeout,
            tls: Some(tokio_rustls::TlsConnector::from(Arc::new(config))),
        }))
    }
    #[cfg(not(all(feature = "rustls", not(feature = "native-tls"))))]
    Ok(None)
}

fn build_reqwest(settings: &HttpSettings<'_>) -> Result<reqwest::Client, Error> {
    // Redirects are followed only within the origin the request went to: the session token
    // is a custom header that reqwest would carry to any host.
    let redirect = reqwest::redirect::Policy::custom(|attempt| {
        let same_origin = attempt
            .previous()
            .first()
            .is_none_or(|first| first.origin() == attempt.url().origin());
        if same_origin && attempt.previous().len() < 5 {
            attempt.follow()
        } else {
            attempt.stop()
        }
    });
    let http = reqwest::Client::builder()
        .connect_timeout(settings.connect_timeout)
        .user_agent(settings.user_agent)
        .redirect(redirect)
        .pool_max_idle_per_host(settings.max_idle_connections)
        // A BMC is reached directly; a proxy would see credentials on plain-HTTP endpoints.
        .no_proxy();
    let configured = match settings.tls {
        TlsVerification::SystemRoots => crate::tls::system_roots(http, settings.https),
        TlsVerification::CaBundlePem(pem) => crate::tls::ca_bundle(http, pem),
        // Only the leaf is compared (see `tls`): no name, issuer or date check, and a pinned
        // CA vouches for nothing.
        TlsVerification::PinnedCertificatePem(pem) => crate::tls::pinned(http, pem),
        TlsVerification::PinnedSha256(fingerprints) => {
            crate::tls::pinned_sha256(http, fingerprints)
        }
        TlsVerification::DangerAcceptInvalidCerts => crate::tls::accept_invalid_certs(http),
    };
    let http = configured.map_err(|e| Error::TlsConfig {
        reason: e.reason,
        source: e.source.map(crate::error::TransportError),
    })?;
    http.build().map_err(|source| Error::ClientBuild {
        source: crate::error::TransportError(Box::new(source)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings<'a>(tls: &'a TlsVerification, user_agent: &'a str) -> HttpSettings<'a> {
        HttpSettings {
            tls,
            connect_timeout: Duration::from_secs(10),
            user_agent,
            max_idle_connections: 1,
            https: true,
        }
    }

    #[test]
    fn same_settings_share_one_http_client() {
        let roots = TlsVerification::SystemRoots;
        let a = http_client(&settings(&roots, "shared-test/1")).unwrap();
        let b = http_client(&settings(&roots, "shared-test/1")).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        let other_agent = http_client(&settings(&roots, "shared-test/2")).unwrap();
        assert!(!Arc::ptr_eq(&a, &other_agent));
        let insecure = TlsVerification::DangerAcceptInvalidCerts;
        let c = http_client(&settings(&insecure, "shared-test/1")).unwrap();
        assert!(
            !Arc::ptr_eq(&a, &c),
            "verification off must never serve a verifying client"
        );
    }

    #[cfg(feature = "rustls")]
    #[test]
    fn a_pinned_certificate_gets_its_own_http_client() {
        let cert = rcgen::generate_simple_self_signed(vec!["bmc.example".to_owned()]).unwrap();
        let pinned = TlsVerification::PinnedCertificatePem(cert.cert.pem());
        let a = http_client(&settings(&pinned, "pin-test")).unwrap();
        let b = http_client(&settings(&pinned, "pin-test")).unwrap();
        assert!(!Arc::ptr_eq(&a, &b));
    }
}
