//! TLS verification against a real TLS server on 127.0.0.1, with certificates generated here:
//! a pinned leaf is the identity (name and dates unchecked), a pinned CA vouches for nothing,
//! a CA bundle does, system roots refuse a self-signed BMC, and "danger" accepts anything with
//! a warning. Refusals are typed, not retried, and the server never sees a request.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use axum_server::tls_rustls::RustlsConfig;
use ferrofish_redfish_core::{Error, RedfishClient, RetryPolicy, TlsVerification};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use serde_json::json;

/// A certificate and its key, both PEM.
struct Identity {
    cert_pem: String,
    /// The certificate's DER, for its fingerprint.
    cert_der: Vec<u8>,
    key_pem: String,
}

fn key() -> KeyPair {
    KeyPair::generate().expect("key generation")
}

/// The SHA-256 fingerprint of a DER certificate, as `sha256:AB:CD:…`.
fn fingerprint(der: &[u8]) -> String {
    use sha2::Digest as _;
    let hex: Vec<String> = sha2::Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    format!("sha256:{}", hex.join(":"))
}

/// A self-signed end-entity certificate for `names`, optionally already expired.
fn self_signed_leaf(names: &[&str], expired: bool) -> Identity {
    let key = key();
    let mut params =
        CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "BMC self-signed");
    if expired {
        params.not_before = rcgen::date_time_ymd(2001, 1, 1);
        params.not_after = rcgen::date_time_ymd(2002, 1, 1);
    }
    let cert = params.self_signed(&key).unwrap();
    Identity {
        cert_pem: cert.pem(),
        cert_der: cert.der().to_vec(),
        key_pem: key.serialize_pem(),
    }
}

/// A CA and a leaf for 127.0.0.1 it signed. The leaf's PEM carries the chain (leaf, CA), as
/// a BMC with a CA-issued certificate sends it.
struct CaAndLeaf {
    ca_pem: String,
    leaf: Identity,
}

fn ca_and_leaf() -> CaAndLeaf {
    let ca_key = key();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Test BMC CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf_key = key();
    let mut leaf_params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "bmc leaf");
    let leaf_cert = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
    CaAndLeaf {
        ca_pem: ca_cert.pem(),
        leaf: Identity {
            cert_pem: format!("{}{}", leaf_cert.pem(), ca_cert.pem()),
            cert_der: leaf_cert.der().to_vec(),
            key_pem: leaf_key.serialize_pem(),
        },
    }
}

/// An HTTPS server on an ephemeral port that serves a service root and counts requests.
struct TlsServer {
    addr: SocketAddr,
    requests: Arc<AtomicUsize>,
    handle: axum_server::Handle<SocketAddr>,
}

impl TlsServer {
    async fn start(identity: &Identity) -> TlsServer {
        let config = RustlsConfig::from_pem(
            identity.cert_pem.clone().into_bytes(),
            identity.key_pem.clone().into_bytes(),
        )
        .await
        .expect("server TLS config");
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&requests);
        let app = Router::new().route(
            "/redfish/v1/",
            get(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                async {
                    axum::Json(json!({
                        "@odata.id": "/redfish/v1/", "Id": "RootService", "Name": "Root",
                        "RedfishVersion": "1.15.0", "Vendor": "Contoso"
                    }))
                }
            }),
        );
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let handle = axum_server::Handle::new();
        let server = axum_server::from_tcp_rustls(listener, config)
            .unwrap()
            .handle(handle.clone());
        tokio::spawn(async move {
            let _ = server.serve(app.into_make_service()).await;
        });
        TlsServer {
            addr,
            requests,
            handle,
        }
    }

    fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}

fn client(server: &TlsServer, tls: TlsVerification) -> RedfishClient {
    RedfishClient::builder(server.url())
        .tls(tls)
        // Retries allowed: a refused certificate must still be tried only once.
        .retry_policy(RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_secs(1),
        })
        .request_timeout(Duration::from_secs(20))
        .build()
        .expect("client builds")
}

/// Asserts a refused handshake: a typed connect error, sent once, and nothing served.
fn assert_refused(err: &Error, server: &TlsServer, client: &RedfishClient, reason_part: &str) {
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert!(err.is_connection() && err.is_tls_rejected(), "{err:?}");
    assert!(
        !err.is_retryable(),
        "a refused certificate is not transient"
    );
    let reason = err.tls_rejection_reason().unwrap_or_default();
    assert!(
        reason.contains(reason_part),
        "reason {reason:?} should mention {reason_part:?}"
    );
    assert_eq!(client.request_counts().get, 1, "not retried");
    assert_eq!(server.requests(), 0, "the server served nothing");
}

#[tokio::test]
async fn pinned_leaf_is_accepted_whatever_its_name_and_dates() {
    // The BMC's certificate names another host and expired long ago: the pin is the identity.
    let identity = self_signed_leaf(&["bmc.example.invalid"], true);
    let server = TlsServer::start(&identity).await;
    let client = client(
        &server,
        TlsVerification::PinnedCertificatePem(identity.cert_pem.clone()),
    );
    let root = client.service_root().await.expect("pinned leaf accepted");
    assert_eq!(root.id.as_deref(), Some("RootService"));
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn a_different_leaf_with_the_same_name_is_refused() {
    let pinned = self_signed_leaf(&["127.0.0.1", "localhost"], false);
    let impostor = self_signed_leaf(&["127.0.0.1", "localhost"], false);
    let server = TlsServer::start(&impostor).await;
    let client = client(
        &server,
        TlsVerification::PinnedCertificatePem(pinned.cert_pem),
    );
    let err = client.service_root().await.unwrap_err();
    assert_refused(&err, &server, &client, "not the pinned certificate");
}

#[tokio::test]
async fn a_fingerprint_pin_is_accepted_whatever_the_name_and_dates() {
    let identity = self_signed_leaf(&["bmc.example.invalid"], true);
    let server = TlsServer::start(&identity).await;
    // As people copy it: lower-case hex without colons, among two pins (a rotation).
    let bare = fingerprint(&identity.cert_der)
        .trim_start_matches("sha256:")
        .replace(':', "")
        .to_ascii_lowercase();
    let other = format!("sha256:{}", "AB:".repeat(31) + "AB");
    let client = client(
        &server,
        TlsVerification::PinnedSha256(format!("{other}, {bare}")),
    );
    let root = client
        .service_root()
        .await
        .expect("pinned fingerprint accepted");
    assert_eq!(root.id.as_deref(), Some("RootService"));
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn a_fingerprint_mismatch_is_refused_naming_both_fingerprints() {
    let pinned = self_signed_leaf(&["127.0.0.1", "localhost"], false);
    let impostor = self_signed_leaf(&["127.0.0.1", "localhost"], false);
    let server = TlsServer::start(&impostor).await;
    let client = client(
        &server,
        TlsVerification::PinnedSha256(fingerprint(&pinned.cert_der)),
    );
    let err = client.service_root().await.unwrap_err();
    let expected = format!(
        "the BMC's certificate has SHA-256 fingerprint {}, not the pinned {}",
        fingerprint(&impostor.cert_der),
        fingerprint(&pinned.cert_der)
    );
    assert_refused(&err, &server, &client, &expected);
}

#[test]
fn a_fingerprint_pin_that_is_no_fingerprint_is_refused_at_build() {
    let err = RedfishClient::builder("bmc.example.invalid")
        .tls(TlsVerification::PinnedSha256("bmc.pem".into()))
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::TlsConfig { .. }), "{err}");
    assert!(err.is_invalid_input());
    assert!(
        err.to_string().contains("not a SHA-256 fingerprint"),
        "{err}"
    );
}

#[tokio::test]
async fn a_pinned_ca_does_not_vouch_for_the_leaves_it_signed() {
    let pki = ca_and_leaf();
    let server = TlsServer::start(&pki.leaf).await;
    let client = client(&server, TlsVerification::PinnedCertificatePem(pki.ca_pem));
    let err = client.service_root().await.unwrap_err();
    assert_refused(&err, &server, &client, "not the pinned certificate");
}

#[tokio::test]
async fn a_ca_bundle_trusts_the_leaves_it_signed() {
    let pki = ca_and_leaf();
    let server = TlsServer::start(&pki.leaf).await;
    let client = client(&server, TlsVerification::CaBundlePem(pki.ca_pem));
    client
        .service_root()
        .await
        .expect("leaf signed by the bundle's CA");
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn system_roots_refuse_a_self_signed_bmc() {
    let identity = self_signed_leaf(&["127.0.0.1", "localhost"], false);
    let server = TlsServer::start(&identity).await;
    let client = client(&server, TlsVerification::SystemRoots);
    let err = client.service_root().await.unwrap_err();
    assert_refused(&err, &server, &client, "certificate");
}

/// Collects formatted log output.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut out) = self.0.lock() {
            out.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[tokio::test]
async fn danger_accepts_a_self_signed_bmc_and_warns() {
    let identity = self_signed_leaf(&["bmc.example.invalid"], true);
    let server = TlsServer::start(&identity).await;
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    let client = tracing::subscriber::with_default(subscriber, || {
        client(&server, TlsVerification::DangerAcceptInvalidCerts)
    });
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("WARN") && logged.contains("danger_accept_invalid_certs"),
        "{logged}"
    );
    client.service_root().await.expect("anything goes");
    assert_eq!(server.requests(), 1);
}

#[test]
fn a_pin_without_a_certificate_is_refused_at_build() {
    let err = RedfishClient::builder("bmc.example.invalid")
        .tls(TlsVerification::PinnedCertificatePem(
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".into(),
        ))
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::TlsConfig { .. }), "{err}");
    assert!(err.is_invalid_input());
}
