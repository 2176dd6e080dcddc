//! An embedded HTTP(S) server handing boot images and config drives to a BMC.
//!
//! Every URL carries a random 256-bit token as its first path segment
//! (`http://host:port/<token>/<name>`); anything else gets a bare 404, so the images cannot be
//! found by scanning. Files are served by tower-http's file service (Range requests, `HEAD`,
//! `Content-Length`, `Last-Modified`), from a directory, a file, or bytes the caller hands over
//! (written once into a private temporary directory so they are served the same way). Each
//! request is logged, who asked for which range, without the token.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tower_http::services::fs::ServeFileSystemResponseBody;
use tower_http::services::{ServeDir, ServeFile};
use url::Url;

use crate::error::Error;

/// How many fetches [`ImageServer::fetches`] keeps (the oldest are dropped first).
const FETCH_LOG_LIMIT: usize = 4096;
/// How long in-flight downloads may finish after [`ImageServer::stop`].
const STOP_GRACE: Duration = Duration::from_secs(1);

/// A certificate chain and private key in PEM, for HTTPS.
#[derive(Clone)]
pub struct TlsIdentity {
    /// The certificate chain, leaf first.
    pub cert_pem: Vec<u8>,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key_pem: Vec<u8>,
}

impl fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsIdentity")
            .field("cert_pem", &format_args!("{} bytes", self.cert_pem.len()))
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

/// Where and how to serve.
#[derive(Clone, Debug)]
pub struct ImageServerOptions {
    /// The address to listen on; port 0 picks a free one.
    pub listen: SocketAddr,
    /// The host name or address the BMC should use in URLs. Needed when `listen` is a wildcard
    /// address (`0.0.0.0`, `::`); defaults to the listening address otherwise.
    pub public_host: Option<String>,
    /// Serve HTTPS with this identity instead of HTTP.
    pub tls: Option<TlsIdentity>,
}

impl ImageServerOptions {
    /// Plain HTTP on `listen`.
    pub fn http(listen: SocketAddr) -> ImageServerOptions {
        ImageServerOptions {
            listen,
            public_host: None,
            tls: None,
        }
    }
}

/// One request the server answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fetch {
    /// Who asked.
    pub peer: SocketAddr,
    /// `GET`, `HEAD`, ...
    pub method: String,
    /// The image name, `None` when the token was wrong or missing.
    pub image: Option<String>,
    /// The path inside a served directory, if any.
    pub path_in_image: Option<String>,
    /// The `Range` header as sent (`bytes=0-2047`), `None` for a whole-file request.
    pub range: Option<String>,
    /// The status answered (200, 206, 404, 416, ...).
    pub status: u16,
    /// When the request arrived.
    pub at: SystemTime,
}

#[derive(Clone, Debug)]
enum Source {
    File(PathBuf),
    Dir(PathBuf),
}

struct Shared {
    token: String,
    images: Mutex<HashMap<String, Source>>,
    fetches: Mutex<VecDeque<Fetch>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding these locks leaves plain data behind; keep serving.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running image server. Dropping it stops the server and deletes the bytes it was handed.
pub struct ImageServer {
    shared: Arc<Shared>,
    base: Url,
    local_addr: SocketAddr,
    handle: axum_server::Handle<SocketAddr>,
    spool: tempfile::TempDir,
}

impl fmt::Debug for ImageServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImageServer")
            .field("local_addr", &self.local_addr)
            .field("scheme", &self.base.scheme())
            .field("token", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// 1-128 characters of `A-Z a-z 0-9 . _ -`, not starting with a dot: safe as one URL path
/// segment and as a file name.
fn check_name(name: &str) -> Result<(), Error> {
    let ok = (1..=128).contains(&name.len())
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidImageName(name.to_owned()))
    }
}

/// Compares without stopping at the first difference, so response times say nothing about how
/// much of a guessed token was right.
fn same_token(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn base_url(options: &ImageServerOptions, bound: SocketAddr, token: &str) -> Result<Url, Error> {
    let scheme = if options.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let host = match &options.public_host {
        Some(host) => match host.parse::<IpAddr>() {
            Ok(IpAddr::V6(v6)) => format!("[{v6}]"),
            _ => host.clone(),
        },
        None if bound.ip().is_unspecified() => return Err(Error::NoPublicHost { listen: bound }),
        None => match bound.ip() {
            IpAddr::V6(v6) => format!("[{v6}]"),
            IpAddr::V4(v4) => v4.to_string(),
        },
    };
    Url::parse(&format!("{scheme}://{host}:{}/{token}/", bound.port())).map_err(|_| {
        Error::InvalidPublicHost {
            host: options.public_host.clone().unwrap_or_default(),
        }
    })
}

impl ImageServer {
    /// Binds where `options` says and starts serving (nothing yet: add images with
    /// [`ImageServer::serve_bytes`], [`ImageServer::serve_file`], [`ImageServer::serve_dir`]).
    pub async fn start(options: ImageServerOptions) -> Result<ImageServer, Error> {
        let token: String = rand::random::<[u8; 32]>()
            .iter()
            .flat_map(|b| [b >> 4, b & 0xf])
            .map(|nibble| char::from_digit(u32::from(nibble), 16).unwrap_or('0'))
            .collect();
        if options.public_host.is_none() && options.listen.ip().is_unspecified() {
            return Err(Error::NoPublicHost {
                listen: options.listen,
            });
        }
        let bind_error = |source| Error::Bind {
            addr: options.listen,
            source,
        };
        let listener = std::net::TcpListener::bind(options.listen).map_err(bind_error)?;
        listener.set_nonblocking(true).map_err(bind_error)?;
        let local_addr = listener.local_addr().map_err(bind_error)?;
        let base = base_url(&options, local_addr, &token)?;
        let spool = tempfile::Builder::new()
            .prefix("ferrofish-images-")
            .tempdir()
            .map_err(|e| Error::ImageSource {
                path: std::env::temp_dir().display().to_string(),
                reason: format!("cannot create a spool directory: {e}"),
            })?;
        let shared = Arc::new(Shared {
            token,
            images: Mutex::new(HashMap::new()),
            fetches: Mutex::new(VecDeque::new()),
        });
        let app = Router::new()
            .fallback(handle_request)
            .with_state(shared.clone())
            .into_make_service_with_connect_info::<SocketAddr>();
        let handle = axum_server::Handle::new();
        if let Some(tls) = &options.tls {
            let config = axum_server::tls_rustls::RustlsConfig::from_pem(
                tls.cert_pem.clone(),
                tls.key_pem.clone(),
            )
            .await
            .map_err(|e| Error::Tls(e.to_string()))?;
            let server = axum_server::tls_rustls::from_tcp_rustls(listener, config)
                .map_err(bind_error)?
                .handle(handle.clone());
            tokio::spawn(async move { server.serve(app).await });
        } else {
            let server = axum_server::from_tcp(listener)
                .map_err(bind_error)?
                .handle(handle.clone());
            tokio::spawn(async move { server.serve(app).await });
        }
        tracing::info!(%local_addr, scheme = base.scheme(), "image server listening");
        Ok(ImageServer {
            shared,
            base,
            local_addr,
            handle,
            spool,
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The URL of image `name` (whether or not it is being served yet). For a directory
    /// served with [`ImageServer::serve_dir`], the URL ends with `/`; join file names onto it.
    pub fn url(&self, name: &str) -> Result<Url, Error> {
        check_name(name)?;
        let slash = if matches!(lock(&self.shared.images).get(name), Some(Source::Dir(_))) {
            "/"
        } else {
            ""
        };
        self.base
            .join(&format!("{name}{slash}"))
            .map_err(|_| Error::InvalidImageName(name.to_owned()))
    }

    /// Serves `bytes` as `name` (a config drive, a small image) and returns its URL. The bytes
    /// are written once to a private temporary directory, deleted when the server is dropped.
    /// Serving a name again replaces it.
    pub async fn serve_bytes(&self, name: &str, bytes: Vec<u8>) -> Result<Url, Error> {
        check_name(name)?;
        let path = self.spool.path().join(name);
        // Replace atomically, so a BMC reading the old image never sees a half-written file.
        let partial = self.spool.path().join(format!(".{name}.partial"));
        let write = async {
            tokio::fs::write(&partial, &bytes).await?;
            tokio::fs::rename(&partial, &path).await
        };
        write.await.map_err(|e| Error::ImageSource {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        lock(&self.shared.images).insert(name.to_owned(), Source::File(path));
        self.url(name)
    }

    /// Serves the regular file at `path` as `name` and returns its URL. The file is read at
    /// each request, so it must stay in place.
    pub async fn serve_file(&self, name: &str, path: impl AsRef<Path>) -> Result<Url, Error> {
        check_name(name)?;
        let path = path.as_ref();
        check_source(path, false).await?;
        lock(&self.shared.images).insert(name.to_owned(), Source::File(path.to_owned()));
        self.url(name)
    }

    /// Serves every file under directory `path` below `name/` and returns the directory's URL
    /// (ending with `/`). Paths with `..` are refused by the file service.
    pub async fn serve_dir(&self, name: &str, path: impl AsRef<Path>) -> Result<Url, Error> {
        check_name(name)?;
        let path = path.as_ref();
        check_source(path, true).await?;
        lock(&self.shared.images).insert(name.to_owned(), Source::Dir(path.to_owned()));
        self.url(name)
    }

    /// Stops serving `name`; later requests for it get 404. True when it was served.
    pub fn remove(&self, name: &str) -> bool {
        lock(&self.shared.images).remove(name).is_some()
    }

    /// The requests answered so far, oldest first (at most the last 4096).
    pub fn fetches(&self) -> Vec<Fetch> {
        lock(&self.shared.fetches).iter().cloned().collect()
    }

    /// Stops listening; downloads in flight get a second to finish.
    pub fn stop(self) {
        // Drop does the work.
    }
}

impl Drop for ImageServer {
    fn drop(&mut self) {
        self.handle.graceful_shutdown(Some(STOP_GRACE));
    }
}

/// Splits `/<token>/<name>[/<rest>]`; `None` unless the token matches.
fn route<'a>(path: &'a str, token: &str) -> Option<(&'a str, Option<&'a str>)> {
    let rest = path.strip_prefix('/')?;
    let (given, rest) = rest.split_once('/')?;
    if !same_token(given.as_bytes(), token.as_bytes()) {
        return None;
    }
    match rest.split_once('/') {
        Some((name, inner)) => Some((name, Some(inner))),
        None => Some((rest, None)),
    }
}

async fn handle_request(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let at = SystemTime::now();
    let method = request.method().to_string();
    let range = request
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let path = request.uri().path().to_owned();
    let routed = route(&path, &shared.token);
    let source = routed.and_then(|(name, _)| lock(&shared.images).get(name).cloned());
    let response = match (routed, source) {
        (Some((_, None)), Some(Source::File(file))) => {
            serve(ServeFile::new(file).try_call(request).await)
        }
        (Some((_, Some(inner))), Some(Source::Dir(dir))) => {
            let mut request = request;
            match format!("/{inner}").parse::<Uri>() {
                Ok(uri) => {
                    *request.uri_mut() = uri;
                    serve(
                        ServeDir::new(dir)
                            .append_index_html_on_directories(false)
                            .try_call(request)
                            .await,
                    )
                }
                Err(_) => StatusCode::NOT_FOUND.into_response(),
            }
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    };
    let fetch = Fetch {
        peer,
        method,
        image: routed.map(|(name, _)| name.to_owned()),
        path_in_image: routed.and_then(|(_, inner)| inner.map(str::to_owned)),
        range,
        status: response.status().as_u16(),
        at,
    };
    tracing::info!(
        peer = %fetch.peer,
        method = %fetch.method,
        image = fetch.image.as_deref().unwrap_or("<no valid token>"),
        path = fetch.path_in_image.as_deref().unwrap_or(""),
        range = fetch.range.as_deref().unwrap_or("whole"),
        status = fetch.status,
        "image fetch"
    );
    let mut log = lock(&shared.fetches);
    if log.len() == FETCH_LOG_LIMIT {
        log.pop_front();
    }
    log.push_back(fetch);
    response
}

fn serve(
    result: Result<axum::http::Response<ServeFileSystemResponseBody>, std::io::Error>,
) -> Response {
    match result {
        Ok(response) => response.map(Body::new),
        Err(e) => {
            tracing::warn!(error = %e, "image server: reading the image failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Refuses a path that cannot be served: missing, unreadable, or not a regular file (`dir`:
/// not a directory).
async fn check_source(path: &Path, dir: bool) -> Result<(), Error> {
    let refused = |reason: String| Error::ImageSource {
        path: path.display().to_string(),
        reason,
    };
    let meta = tokio::fs::metadata(path)
        .await
        .map_err(|e| refused(e.to_string()))?;
    match (dir, meta.is_dir(), meta.is_file()) {
        (true, true, _) | (false, _, true) => Ok(()),
        (true, false, _) => Err(refused("not a directory".into())),
        (false, _, false) => Err(refused("not a regular file".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_token_routes() {
        let token = "ab".repeat(32);
        assert_eq!(
            route(&format!("/{token}/boot.iso"), &token),
            Some(("boot.iso", None))
        );
        assert_eq!(
            route(&format!("/{token}/tree/a/b"), &token),
            Some(("tree", Some("a/b")))
        );
        assert_eq!(route("/boot.iso", &token), None);
        assert_eq!(route(&format!("/{}/boot.iso", &token[1..]), &token), None);
        assert_eq!(route(&format!("/{token}x/boot.iso"), &token), None);
        assert_eq!(route(&format!("/{token}"), &token), None);
    }

    #[test]
    fn names_are_single_safe_segments() {
        for ok in ["boot.iso", "config-2_node7.iso", "A"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".hidden", "a/b", "..", "a b", "é.iso", &"x".repeat(129)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn urls_use_the_public_host_and_bracket_ipv6() {
        let token = "t";
        let mut options = ImageServerOptions::http("0.0.0.0:0".parse().unwrap());
        let bound: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert!(matches!(
            base_url(&options, bound, token),
            Err(Error::NoPublicHost { .. })
        ));
        options.public_host = Some("fd00::5".into());
        assert_eq!(
            base_url(&options, bound, token).unwrap().as_str(),
            "http://[fd00::5]:8080/t/"
        );
        options.public_host = Some("images.example".into());
        options.tls = Some(TlsIdentity {
            cert_pem: Vec::new(),
            key_pem: b"SECRET".to_vec(),
        });
        assert_eq!(
            base_url(&options, bound, token).unwrap().as_str(),
            "https://images.example:8080/t/"
        );
        assert!(!format!("{options:?}").contains("SECRET"));
        options.public_host = Some("bad host/".into());
        assert!(base_url(&options, bound, token).is_err());
        let local = ImageServerOptions::http("127.0.0.1:0".parse().unwrap());
        assert_eq!(
            base_url(&local, "127.0.0.1:9".parse().unwrap(), token)
                .unwrap()
                .as_str(),
            "http://127.0.0.1:9/t/"
        );
    }
}
