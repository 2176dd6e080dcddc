//! The image server over 127.0.0.1 with a real HTTP client: ranges, HEAD, lengths, 404 without
//! the token, directories, HTTPS with a given certificate, and the fetch log.

use ferrofish_vmedia::{Error, ImageServer, ImageServerOptions, TlsIdentity};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, RANGE};

/// 5 sectors and a bit of a pseudo-random pattern, so a wrong offset cannot match by chance.
fn image() -> Vec<u8> {
    (0u32..10_300)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

async fn local_server() -> ImageServer {
    ImageServer::start(ImageServerOptions::http("127.0.0.1:0".parse().unwrap()))
        .await
        .unwrap()
}

fn content_length(response: &reqwest::Response) -> Option<u64> {
    response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn whole_file_range_and_head_are_answered_correctly() {
    let server = local_server().await;
    let data = image();
    let url = server.serve_bytes("boot.iso", data.clone()).await.unwrap();
    assert_eq!(url.host_str(), Some("127.0.0.1"));
    assert_eq!(url.port(), Some(server.local_addr().port()));
    let http = reqwest::Client::new();

    let whole = http.get(url.clone()).send().await.unwrap();
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(content_length(&whole), Some(data.len() as u64));
    assert_eq!(whole.bytes().await.unwrap(), data);

    let part = http
        .get(url.clone())
        .header(RANGE, "bytes=2048-4095")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(content_length(&part), Some(2048));
    assert_eq!(
        part.headers()[CONTENT_RANGE],
        format!("bytes 2048-4095/{}", data.len()).as_str()
    );
    assert_eq!(part.bytes().await.unwrap(), data[2048..4096]);

    let tail = http
        .get(url.clone())
        .header(RANGE, "bytes=-100")
        .send()
        .await
        .unwrap();
    assert_eq!(tail.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(tail.bytes().await.unwrap(), data[data.len() - 100..]);

    let beyond = http
        .get(url.clone())
        .header(RANGE, "bytes=999999-")
        .send()
        .await
        .unwrap();
    assert_eq!(beyond.status(), StatusCode::RANGE_NOT_SATISFIABLE);

    let head = http.head(url.clone()).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(content_length(&head), Some(data.len() as u64));
    assert!(head.bytes().await.unwrap().is_empty());

    // The log has one entry per request, in order, with who asked and which range.
    let fetches = server.fetches();
    let seen: Vec<(&str, Option<&str>, u16)> = fetches
        .iter()
        .map(|f| (f.method.as_str(), f.range.as_deref(), f.status))
        .collect();
    assert_eq!(
        seen,
        [
            ("GET", None, 200),
            ("GET", Some("bytes=2048-4095"), 206),
            ("GET", Some("bytes=-100"), 206),
            ("GET", Some("bytes=999999-"), 416),
            ("HEAD", None, 200),
        ]
    );
    assert!(fetches.iter().all(|f| f.peer.ip().is_loopback()));
    assert!(
        fetches
            .iter()
            .all(|f| f.image.as_deref() == Some("boot.iso"))
    );
}

#[tokio::test]
async fn without_the_exact_token_everything_is_404_and_the_token_is_not_logged() {
    let server = local_server().await;
    let url = server.serve_bytes("boot.iso", image()).await.unwrap();
    let token = url.path_segments().unwrap().next().unwrap().to_owned();
    assert_eq!(token.len(), 64, "a 256-bit token in hex");
    let other = local_server().await;
    let other_url = other.url("boot.iso").unwrap();
    assert_ne!(
        other_url.path(),
        url.path(),
        "each server draws its own token"
    );

    let http = reqwest::Client::new();
    let origin = format!("http://{}", server.local_addr());
    let mut wrong = token.clone();
    wrong.replace_range(0..1, if token.starts_with('0') { "1" } else { "0" });
    for path in [
        "/boot.iso".to_owned(),
        "/".to_owned(),
        format!("/{wrong}/boot.iso"),
        format!("/{token}/other.iso"),
        format!("/{token}"),
        format!("/{token}/boot.iso/extra"),
    ] {
        let response = http.get(format!("{origin}{path}")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let fetches = server.fetches();
    assert_eq!(fetches.len(), 6);
    assert!(fetches.iter().all(|f| f.status == 404));
    // Wrong or missing token: logged without a name, and the guess is not kept.
    assert_eq!(fetches[0].image, None);
    assert_eq!(fetches[2].image, None);
    let dump = format!("{fetches:?} {server:?}");
    assert!(!dump.contains(&token), "the token leaked: {dump}");
    assert!(!dump.contains(&wrong));

    // Removed images are gone.
    assert!(server.remove("boot.iso"));
    let gone = http.get(url).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn files_and_directories_from_disk_are_served_and_dot_dot_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(tree.join("EFI/BOOT")).unwrap();
    std::fs::write(tree.join("EFI/BOOT/BOOTX64.EFI"), b"efi binary").unwrap();
    std::fs::write(dir.path().join("secret.txt"), b"outside").unwrap();
    std::fs::write(dir.path().join("big.iso"), image()).unwrap();

    let server = local_server().await;
    let file_url = server
        .serve_file("big.iso", dir.path().join("big.iso"))
        .await
        .unwrap();
    let dir_url = server.serve_dir("tree", &tree).await.unwrap();
    assert!(dir_url.path().ends_with("/tree/"));
    let http = reqwest::Client::new();

    let part = http
        .get(file_url)
        .header(RANGE, "bytes=0-9")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.bytes().await.unwrap(), image()[..10]);

    let efi = http
        .get(dir_url.join("EFI/BOOT/BOOTX64.EFI").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(efi.status(), StatusCode::OK);
    assert_eq!(efi.bytes().await.unwrap(), &b"efi binary"[..]);
    // An HTTP client would resolve `..` itself: send the raw request line.
    for escape in ["../secret.txt", "%2e%2e/secret.txt", "EFI/../../secret.txt"] {
        let status =
            raw_get_status(server.local_addr(), &format!("{}{escape}", dir_url.path())).await;
        assert_eq!(status, 404, "{escape}");
    }
    assert_eq!(
        raw_get_status(
            server.local_addr(),
            &format!("{}EFI/BOOT/BOOTX64.EFI", dir_url.path())
        )
        .await,
        200,
        "the raw request itself works"
    );
    let log = server.fetches();
    assert_eq!(log.len(), 6);
    assert_eq!(log[1].image.as_deref(), Some("tree"));
    assert_eq!(
        log[1].path_in_image.as_deref(),
        Some("EFI/BOOT/BOOTX64.EFI")
    );

    // What cannot be served is refused up front, with the path named.
    let missing = server
        .serve_file("x.iso", dir.path().join("nope.iso"))
        .await
        .unwrap_err();
    assert!(missing.to_string().contains("nope.iso"), "{missing}");
    assert!(matches!(
        server.serve_file("t.iso", &tree).await,
        Err(Error::ImageSource { .. })
    ));
    assert!(matches!(
        server.serve_dir("d", dir.path().join("big.iso")).await,
        Err(Error::ImageSource { .. })
    ));
    assert!(matches!(
        server.serve_bytes("../x", Vec::new()).await,
        Err(Error::InvalidImageName(_))
    ));
}

#[tokio::test]
async fn https_with_a_given_certificate() {
    let key = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let cert_pem = key.cert.pem();
    let server = ImageServer::start(ImageServerOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        public_host: None,
        tls: Some(TlsIdentity {
            cert_pem: cert_pem.clone().into_bytes(),
            key_pem: key.signing_key.serialize_pem().into_bytes(),
        }),
    })
    .await
    .unwrap();
    let url = server.serve_bytes("config-2.iso", image()).await.unwrap();
    assert_eq!(url.scheme(), "https");
    let http = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap()])
        .build()
        .unwrap();
    let part = http
        .get(url)
        .header(RANGE, "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.bytes().await.unwrap(), image()[100..200]);

    let bad = ImageServer::start(ImageServerOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        public_host: None,
        tls: Some(TlsIdentity {
            cert_pem: b"not a certificate".to_vec(),
            key_pem: b"not a key".to_vec(),
        }),
    })
    .await;
    assert!(matches!(bad, Err(Error::Tls(_))));
}

#[tokio::test]
async fn dropping_the_server_stops_listening() {
    let server = local_server().await;
    let url = server.serve_bytes("a.iso", image()).await.unwrap();
    let addr = server.local_addr();
    drop(server);
    // The listener closes within the grace period.
    let mut refused = false;
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(refused, "{url} still accepts connections");
}

#[tokio::test]
async fn a_wildcard_listen_address_needs_a_public_host_and_nothing_is_bound_without_one() {
    // Refused before binding, so this test listens on no public interface.
    let err = ImageServer::start(ImageServerOptions::http("0.0.0.0:0".parse().unwrap()))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NoPublicHost { .. }), "{err}");
    assert!(err.to_string().contains("public_host"));
    let server = ImageServer::start(ImageServerOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        public_host: Some("localhost".into()),
        tls: None,
    })
    .await
    .unwrap();
    let url = server.serve_bytes("a.iso", vec![1, 2, 3]).await.unwrap();
    assert_eq!(url.host_str(), Some("localhost"));
    assert_eq!(url.port(), Some(server.local_addr().port()));
}

/// Sends `GET path` as written (no client-side normalisation) and returns the status code.
async fn raw_get_status(addr: std::net::SocketAddr, path: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).await.unwrap();
    let reply = String::from_utf8_lossy(&reply);
    reply
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {reply:?}"))
}
