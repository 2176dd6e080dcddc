//! The connection a client keeps between requests (issue 16: only the socket is kept, and the
//! client's own HTTP/1.1 codec writes and reads each request on it): when it is reused, when it
//! is not, and what a stalled or redirecting BMC gets. Against a small HTTP/1.1 server on
//! 127.0.0.1 that logs, per accepted connection, the requests it received, so reuse is observed
//! on the wire.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ferrofish_redfish_core::{AuthMode, Error, QuirksOverride, RedfishClient, SecretString};
use tokio::io::AsyncWriteExt as _;

/// How the server answers.
#[derive(Clone, Copy, Default)]
struct Behaviour {
    /// Say `Connection: close` in every answer, yet keep the socket open.
    says_close: bool,
    /// Close the socket right after each answer (a BMC dropping idle connections at once).
    closes_after_answer: bool,
    /// Never answer (a stalled BMC).
    silent: bool,
    /// Answer `/redfish/v1/Old` with a 302 to this location.
    redirect_to: Option<&'static str>,
}

/// What wraps accepted connections in TLS (nothing in builds without rustls).
#[cfg(feature = "rustls")]
type TlsAcceptor = tokio_rustls::TlsAcceptor;
#[cfg(not(feature = "rustls"))]
type TlsAcceptor = ();

/// One request as the server saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Seen {
    method: String,
    path: String,
    /// The request's `Connection` header, lower-cased.
    connection: Option<String>,
    host: Option<String>,
}

struct Server {
    url: String,
    /// Per accepted connection, the requests it carried.
    connections: Arc<Mutex<Vec<Vec<Seen>>>>,
    /// Per accepted connection, whether the client ended it.
    ended: Arc<Mutex<Vec<bool>>>,
}

impl Server {
    async fn start(behaviour: Behaviour) -> Server {
        Server::start_with(behaviour, None).await
    }

    /// With `tls`, every accepted connection is wrapped in TLS before it is served.
    async fn start_with(behaviour: Behaviour, tls: Option<TlsAcceptor>) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{}", listener.local_addr().unwrap());
        let connections: Arc<Mutex<Vec<Vec<Seen>>>> = Arc::default();
        let ended: Arc<Mutex<Vec<bool>>> = Arc::default();
        let log = Arc::clone(&connections);
        let ends = Arc::clone(&ended);
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let index = {
                    let mut log = log.lock().unwrap();
                    log.push(Vec::new());
                    ends.lock().unwrap().push(false);
                    log.len() - 1
                };
                let log = Arc::clone(&log);
                let ends = Arc::clone(&ends);
                let tls = tls.clone();
                tokio::spawn(async move {
                    let ended = match tls {
                        #[cfg(feature = "rustls")]
                        Some(acceptor) => match acceptor.accept(socket).await {
                            Ok(stream) => serve(stream, index, behaviour, log).await,
                            Err(_) => true,
                        },
                        _ => serve(socket, index, behaviour, log).await,
                    };
                    if ended {
                        ends.lock().unwrap()[index] = true;
                    }
                });
            }
        });
        Server {
            url,
            connections,
            ended,
        }
    }

    fn connections(&self) -> Vec<Vec<Seen>> {
        self.connections.lock().unwrap().clone()
    }

    fn ended(&self) -> Vec<bool> {
        self.ended.lock().unwrap().clone()
    }

    /// The methods per connection, for short assertions.
    fn methods(&self) -> Vec<Vec<String>> {
        self.connections()
            .into_iter()
            .map(|c| c.into_iter().map(|s| s.method).collect())
            .collect()
    }
}

/// Serves one connection; true when the client ended it.
async fn serve<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    mut socket: S,
    index: usize,
    behaviour: Behaviour,
    log: Arc<Mutex<Vec<Vec<Seen>>>>,
) -> bool {
    let mut buffer = Vec::new();
    loop {
        let Some(request) = common::read_request(&mut socket, &mut buffer).await else {
            return true;
        };
        let head = request.head();
        let header = |name: &str| request.header(name).map(|v| v.to_ascii_lowercase());
        let mut words = head.split(' ');
        let seen = Seen {
            method: words.next().unwrap_or_default().to_owned(),
            path: words.next().unwrap_or_default().to_owned(),
            connection: header("connection"),
            host: header("host"),
        };
        let path = seen.path.clone();
        log.lock().unwrap()[index].push(seen);
        if behaviour.silent {
            tokio::time::sleep(Duration::from_secs(60)).await;
            return false;
        }
        let body = br#"{"@odata.id": "/redfish/v1/Systems", "Members": []}"#;
        let (status, extra) = match behaviour.redirect_to {
            Some(location) if path == "/redfish/v1/Old" => {
                ("302 Found", format!("Location: {location}\r\n"))
            }
            _ => ("200 OK", String::new()),
        };
        let connection = if behaviour.says_close {
            "close"
        } else {
            "keep-alive"
        };
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             {extra}Connection: {connection}\r\n\r\n",
            body.len()
        );
        if socket.write_all(response.as_bytes()).await.is_err()
            || socket.write_all(body).await.is_err()
        {
            return true;
        }
        if behaviour.closes_after_answer {
            return false;
        }
    }
}

const USER: &str = "ops";
const PASSWORD: &str = "Pw-kept-SECRET";

fn builder(url: &str) -> ferrofish_redfish_core::ClientBuilder {
    RedfishClient::builder(url)
        .credentials(USER, SecretString::from(PASSWORD))
        .auth(AuthMode::Basic)
        .retry_policy(ferrofish_redfish_core::RetryPolicy::none())
        .request_timeout(Duration::from_secs(20))
}

async fn three_gets(client: &RedfishClient) {
    for _ in 0..3 {
        client.get_json("/redfish/v1/Systems").await.unwrap();
    }
}

fn gets(connections: usize, per_connection: usize) -> Vec<Vec<String>> {
    vec![vec!["GET".to_owned(); per_connection]; connections]
}

#[tokio::test]
async fn sequential_requests_share_one_kept_connection() {
    let server = Server::start(Behaviour::default()).await;
    let client = builder(&server.url).build().unwrap();
    three_gets(&client).await;
    assert_eq!(server.methods(), gets(1, 3));
    let first = &server.connections()[0][0];
    assert_eq!(first.connection, None, "keep-alive is HTTP/1.1's default");
    let port = server.url.rsplit(':').next().unwrap();
    assert_eq!(first.host.as_deref(), Some(&*format!("127.0.0.1:{port}")));
    assert_eq!(first.path, "/redfish/v1/Systems");
    assert_eq!(client.request_counts().get, 3);
    client.close().await.unwrap();
}

#[tokio::test]
async fn no_idle_connection_means_a_connection_per_request() {
    let server = Server::start(Behaviour::default()).await;
    let client = builder(&server.url)
        .max_idle_connections(0)
        .build()
        .unwrap();
    three_gets(&client).await;
    assert_eq!(server.methods(), gets(3, 1));
}

#[tokio::test]
async fn as_many_connections_are_kept_as_max_idle_connections_says() {
    for (max_idle, expected) in [(1, vec![2, 1, 1]), (2, vec![2, 2])] {
        let server = Server::start(Behaviour::default()).await;
        let client = builder(&server.url)
            .max_idle_connections(max_idle)
            .build()
            .unwrap();
        // Two at once, twice: the first pair opens two connections, the second reuses as
        // many as were kept.
        for _ in 0..2 {
            let (a, b) = tokio::join!(
                client.get_json("/redfish/v1/Systems"),
                client.get_json("/redfish/v1/Systems")
            );
            a.unwrap();
            b.unwrap();
        }
        let mut per_connection: Vec<usize> = server.connections().iter().map(Vec::len).collect();
        per_connection.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(per_connection, expected, "max_idle_connections({max_idle})");
    }
}

#[tokio::test]
async fn quirk_close_connections_asks_for_close_and_keeps_nothing() {
    let server = Server::start(Behaviour::default()).await;
    let client = builder(&server.url)
        .quirks_override(QuirksOverride {
            close_connections: Some(true),
            ..QuirksOverride::default()
        })
        .build()
        .unwrap();
    three_gets(&client).await;
    assert_eq!(server.methods(), gets(3, 1));
    for connection in server.connections() {
        assert_eq!(connection[0].connection.as_deref(), Some("close"));
    }
}

#[tokio::test]
async fn an_answer_that_says_close_is_not_reused() {
    // The server keeps the socket open: a reuse would show as a second request on it.
    let server = Server::start(Behaviour {
        says_close: true,
        ..Behaviour::default()
    })
    .await;
    let client = builder(&server.url).build().unwrap();
    three_gets(&client).await;
    assert_eq!(server.methods(), gets(3, 1));
}

#[tokio::test]
async fn a_connection_the_bmc_closed_while_idle_is_not_sent_on() {
    // Closed after each answer and noticed before reuse: no request is lost or replayed.
    let server = Server::start(Behaviour {
        closes_after_answer: true,
        ..Behaviour::default()
    })
    .await;
    let client = builder(&server.url).build().unwrap();
    for _ in 0..3 {
        client.get_json("/redfish/v1/Systems").await.unwrap();
        // Time for the close to arrive, as between two polls.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(server.methods(), gets(3, 1));
    assert_eq!(client.request_counts().get, 3, "nothing replayed");
}

#[tokio::test]
async fn a_silent_bmc_is_a_timeout_after_the_request_timeout() {
    let server = Server::start(Behaviour {
        silent: true,
        ..Behaviour::default()
    })
    .await;
    let client = builder(&server.url)
        .request_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.get_json("/redfish/v1/Systems").await.unwrap_err();
    assert!(
        matches!(err, Error::Timeout { after, .. } if after == Duration::from_millis(300)),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    // The stalled connection is not kept: the next request opens another.
    let _ = client.get_json("/redfish/v1/Systems").await.unwrap_err();
    assert_eq!(server.methods(), gets(2, 1));
}

#[tokio::test]
async fn a_redirect_within_the_origin_is_followed_on_the_kept_connection() {
    let server = Server::start(Behaviour {
        redirect_to: Some("/redfish/v1/Systems"),
        ..Behaviour::default()
    })
    .await;
    let client = builder(&server.url).build().unwrap();
    let response = client.get_json("/redfish/v1/Old").await.unwrap();
    assert_eq!(response.body()["@odata.id"], "/redfish/v1/Systems");
    assert_eq!(response.url().path(), "/redfish/v1/Systems");
    let paths: Vec<String> = server.connections()[0]
        .iter()
        .map(|s| s.path.clone())
        .collect();
    assert_eq!(paths, ["/redfish/v1/Old", "/redfish/v1/Systems"]);
    assert_eq!(server.connections().len(), 1);
    assert_eq!(
        client.request_counts().get,
        1,
        "one request as the caller sees it"
    );
}

#[tokio::test]
async fn a_redirect_to_another_origin_is_not_followed() {
    let elsewhere = Server::start(Behaviour::default()).await;
    let location: &'static str =
        Box::leak(format!("{}/redfish/v1/Systems", elsewhere.url).into_boxed_str());
    let server = Server::start(Behaviour {
        redirect_to: Some(location),
        ..Behaviour::default()
    })
    .await;
    let client = builder(&server.url).build().unwrap();
    let err = client.get_json("/redfish/v1/Old").await.unwrap_err();
    assert_eq!(err.status(), Some(302), "{err:?}");
    assert!(
        elsewhere.connections().is_empty(),
        "the other origin got nothing"
    );
}

#[tokio::test]
async fn closing_the_client_drops_its_kept_connection() {
    if std::env::var("FERROFISH_HTTP_TRANSPORT").is_ok_and(|v| v == "pooled") {
        // reqwest's pool is shared by the clients of the same settings, not the client's.
        eprintln!("skipped: FERROFISH_HTTP_TRANSPORT=pooled keeps connections in a shared pool");
        return;
    }
    let server = Server::start(Behaviour::default()).await;
    let client = builder(&server.url).build().unwrap();
    client.get_json("/redfish/v1/Systems").await.unwrap();
    assert_eq!(server.ended(), [false], "kept open between requests");
    client.close().await.unwrap();
    // The server's next read sees the end of the connection.
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.ended() != [true] {
        assert!(
            Instant::now() < deadline,
            "the connection stayed open after close"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = builder(&url).build().unwrap();
    let err = client.get_json("/redfish/v1/Systems").await.unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert!(err.is_connection(), "{err:?}");
    assert!(!format!("{err:?}").contains(PASSWORD));
}

#[cfg(feature = "rustls")]
#[tokio::test]
async fn a_tls_connection_is_kept_and_reused_too() {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let server = Server::start_with(Behaviour::default(), Some(acceptor)).await;
    let client = builder(&server.url)
        .tls(ferrofish_redfish_core::TlsVerification::PinnedCertificatePem(cert.pem()))
        .build()
        .unwrap();
    for _ in 0..3 {
        client.get_json("/redfish/v1/Systems").await.unwrap();
        // Idle for a moment: whatever the server sends after an answer (TLS 1.3 session
        // tickets) must not make the kept connection look closed.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(server.methods(), gets(1, 3));
    client.close().await.unwrap();
}
