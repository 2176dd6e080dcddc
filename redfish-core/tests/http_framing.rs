//! The client's own HTTP/1.1 codec on the wire: what a request looks like, and how answers
//! framed every way HTTP/1.1 allows (and some ways it does not) are read. Against a scripted
//! server on 127.0.0.1 that writes raw bytes, in pieces, and logs each connection's requests.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferrofish_redfish_core::{AuthMode, Error, RedfishClient, RetryPolicy, SecretString};
use tokio::io::AsyncWriteExt as _;

/// One answer: the bytes, written in these pieces with a pause between them, and whether the
/// server closes the connection afterwards.
struct Reply {
    pieces: Vec<Vec<u8>>,
    close: bool,
}

impl Reply {
    fn whole(bytes: impl Into<Vec<u8>>) -> Reply {
        Reply {
            pieces: vec![bytes.into()],
            close: false,
        }
    }
}

type Script = Arc<dyn Fn(usize) -> Reply + Send + Sync>;

struct Server {
    url: String,
    /// Per accepted connection, each request's raw bytes (head and body).
    connections: Arc<Mutex<Vec<Vec<Vec<u8>>>>>,
}

impl Server {
    /// Answers the n-th request it receives (counting from 0, over all connections) with
    /// `script(n)`.
    async fn start(script: impl Fn(usize) -> Reply + Send + Sync + 'static) -> Server {
        let script: Script = Arc::new(script);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let connections: Arc<Mutex<Vec<Vec<Vec<u8>>>>> = Arc::default();
        let log = Arc::clone(&connections);
        let served = Arc::new(Mutex::new(0_usize));
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let index = {
                    let mut log = log.lock().unwrap();
                    log.push(Vec::new());
                    log.len() - 1
                };
                let (log, script, served) =
                    (Arc::clone(&log), Arc::clone(&script), Arc::clone(&served));
                tokio::spawn(serve(socket, index, log, script, served));
            }
        });
        Server { url, connections }
    }

    fn requests_per_connection(&self) -> Vec<usize> {
        self.connections
            .lock()
            .unwrap()
            .iter()
            .map(Vec::len)
            .collect()
    }

    /// Every request received, in order, as text.
    fn requests(&self) -> Vec<String> {
        let connections = self.connections.lock().unwrap();
        connections
            .iter()
            .flatten()
            .map(|raw| String::from_utf8(raw.clone()).unwrap())
            .collect()
    }
}

async fn serve(
    mut socket: tokio::net::TcpStream,
    index: usize,
    log: Arc<Mutex<Vec<Vec<Vec<u8>>>>>,
    script: Script,
    served: Arc<Mutex<usize>>,
) {
    let mut buffer = Vec::new();
    while let Some(request) = common::read_request(&mut socket, &mut buffer).await {
        let request = request.bytes;
        log.lock().unwrap()[index].push(request);
        let n = {
            let mut served = served.lock().unwrap();
            *served += 1;
            *served - 1
        };
        let reply = script(n);
        for piece in reply.pieces {
            if socket.write_all(&piece).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        if reply.close {
            return;
        }
    }
}

fn client(server: &Server) -> RedfishClient {
    RedfishClient::builder(&server.url)
        .credentials("ops", SecretString::from("Pw-framing-SECRET"))
        .auth(AuthMode::Basic)
        .retry_policy(RetryPolicy::none())
        .request_timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

const BODY: &str = r#"{"@odata.id": "/redfish/v1/Systems", "Members": []}"#;

fn with_length(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// `body` as chunks of at most `size` bytes.
fn chunked(body: &str, size: usize) -> Vec<u8> {
    let mut out =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_vec();
    for chunk in body.as_bytes().chunks(size) {
        out.extend_from_slice(format!("{:X};ext=1\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\nX-Trailer: yes\r\n\r\n");
    out
}

/// `bytes` cut into pieces of `size`, so that reads see the answer in parts.
fn in_pieces(bytes: &[u8], size: usize) -> Vec<Vec<u8>> {
    bytes.chunks(size).map(<[u8]>::to_vec).collect()
}

#[tokio::test]
async fn a_request_carries_its_line_host_headers_length_and_body() {
    let server = Server::start(|_| Reply::whole(with_length("{}"))).await;
    let client = client(&server);
    client
        .patch_json(
            "/redfish/v1/Systems/1",
            &serde_json::json!({"AssetTag": "rack-7"}),
        )
        .await
        .unwrap();
    // The client may read the service root first (to know the vendor); the PATCH is the last.
    let requests = server.requests();
    let request = requests.last().unwrap();
    let (head, body) = request.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    assert_eq!(lines.next(), Some("PATCH /redfish/v1/Systems/1 HTTP/1.1"));
    let port = server.url.rsplit(':').next().unwrap();
    let headers: Vec<&str> = lines.collect();
    assert!(
        headers.contains(&&*format!("host: 127.0.0.1:{port}")),
        "{headers:?}"
    );
    assert!(
        headers.contains(&"content-type: application/json"),
        "{headers:?}"
    );
    assert!(headers.contains(&"odata-version: 4.0"), "{headers:?}");
    assert!(
        headers.contains(&&*format!("content-length: {}", body.len())),
        "{headers:?}"
    );
    assert!(
        headers
            .iter()
            .any(|h| h.starts_with("authorization: Basic ")),
        "{headers:?}"
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(body).unwrap(),
        serde_json::json!({"AssetTag": "rack-7"})
    );
}

#[tokio::test]
async fn a_chunked_answer_cut_anywhere_is_decoded_and_its_connection_kept() {
    let server = Server::start(|n| Reply {
        // A different cut for each request: chunks of 1, 7 and 64 bytes, written in pieces.
        pieces: in_pieces(&chunked(BODY, [1, 7, 64][n % 3]), [3, 11, 1000][n % 3]),
        close: false,
    })
    .await;
    let client = client(&server);
    for _ in 0..3 {
        let value = client.get_json("/redfish/v1/Systems").await.unwrap();
        assert_eq!(value.body()["@odata.id"], "/redfish/v1/Systems");
    }
    assert_eq!(server.requests_per_connection(), vec![3]);
}

#[tokio::test]
async fn an_http_1_0_answer_runs_to_the_close_and_its_connection_is_not_reused() {
    let server = Server::start(|_| Reply {
        pieces: in_pieces(
            format!("HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{BODY}").as_bytes(),
            16,
        ),
        close: true,
    })
    .await;
    let client = client(&server);
    for _ in 0..2 {
        let value = client.get_json("/redfish/v1/Systems").await.unwrap();
        assert_eq!(value.body()["Members"], serde_json::json!([]));
    }
    assert_eq!(server.requests_per_connection(), vec![1, 1]);
}

#[tokio::test]
async fn an_interim_100_continue_is_skipped() {
    let server = Server::start(|_| {
        let mut bytes = b"HTTP/1.1 100 Continue\r\n\r\n".to_vec();
        bytes.extend(with_length(BODY));
        Reply::whole(bytes)
    })
    .await;
    let value = client(&server)
        .get_json("/redfish/v1/Systems")
        .await
        .unwrap();
    assert_eq!(value.body()["@odata.id"], "/redfish/v1/Systems");
}

#[tokio::test]
async fn bytes_after_the_body_mean_the_connection_is_not_reused() {
    let server = Server::start(|_| {
        let mut bytes = with_length(BODY);
        bytes.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
        Reply::whole(bytes)
    })
    .await;
    let client = client(&server);
    for _ in 0..2 {
        client.get_json("/redfish/v1/Systems").await.unwrap();
    }
    assert_eq!(server.requests_per_connection(), vec![1, 1]);
}

/// The error of one GET against a server answering every request with `reply`.
async fn error_for(reply: fn() -> Reply) -> (Error, String) {
    let server = Server::start(move |_| reply()).await;
    let err = client(&server)
        .get_json("/redfish/v1/Systems")
        .await
        .unwrap_err();
    (err, server.url)
}

#[tokio::test]
async fn an_answer_cut_short_is_a_transport_error_naming_the_url() {
    for reply in [
        // The body ends before its Content-Length.
        (|| Reply {
            pieces: vec![b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{\"a\"".to_vec()],
            close: true,
        }) as fn() -> Reply,
        // The last chunk never comes.
        || Reply {
            pieces: vec![
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n".to_vec(),
            ],
            close: true,
        },
        // The head ends halfway.
        || Reply {
            pieces: vec![b"HTTP/1.1 200 OK\r\nContent-Le".to_vec()],
            close: true,
        },
    ] {
        let (err, url) = error_for(reply).await;
        assert!(matches!(err, Error::Transport { .. }), "{err:?}");
        assert!(err.to_string().contains(&url), "{err}");
    }
}

#[tokio::test]
async fn garbage_is_an_error_not_a_hang_or_a_panic() {
    for reply in [
        (|| Reply {
            pieces: vec![b"SSH-2.0-OpenSSH_9.6\r\n\r\n".to_vec()],
            close: false,
        }) as fn() -> Reply,
        || Reply::whole(&b"HTTP/1.1 200 OK\r\nContent-Length: lots\r\n\r\n{}"[..]),
        || Reply::whole(&b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"[..]),
        // A head that never ends: refused once it passes 64 KiB.
        || {
            Reply::whole(format!(
                "HTTP/1.1 200 OK\r\nX-Pad: {}",
                "p".repeat(70 * 1024)
            ))
        },
    ] {
        let (err, url) = error_for(reply).await;
        assert!(matches!(err, Error::Transport { .. }), "{err:?}");
        assert!(err.to_string().contains(&url), "{err}");
    }
}

#[tokio::test]
async fn a_chunked_answer_past_the_size_limit_is_refused() {
    let big = format!(r#"{{"Pad": "{}"}}"#, "x".repeat(8 * 1024));
    let server = Server::start(move |_| Reply::whole(chunked(&big, 1000))).await;
    let client = RedfishClient::builder(&server.url)
        .credentials("ops", SecretString::from("Pw-framing-SECRET"))
        .auth(AuthMode::Basic)
        .retry_policy(RetryPolicy::none())
        .max_response_bytes(4 * 1024)
        .build()
        .unwrap();
    let err = client.get_json("/redfish/v1/Systems").await.unwrap_err();
    assert!(matches!(err, Error::ResponseTooLarge { .. }), "{err:?}");
}
