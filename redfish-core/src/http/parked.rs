//! HTTP/1.1 exchanges over a socket kept between requests: the idle connection is the bare
//! socket (or TLS stream), not an HTTP connection.
//!
//! A pooled hyper connection keeps about 26 KiB while idle (its dispatch channel and two
//! 8 KiB buffers); a process managing thousands of BMCs pays that for each. Here an exchange
//! writes the request on the socket and reads the answer with the client's own HTTP/1.1 codec
//! (`h1`), and only the socket is parked in its client's pool, so an idle BMC costs the
//! socket and its registration with the runtime, and a request costs no HTTP connection's
//! setup.
//! A client talks to one BMC, so its pool is its own: at most `max_idle_connections` sockets,
//! one by default.
//!
//! A socket is parked only when the answer allows keep-alive, nothing unread is left behind it,
//! and the process is the one that opened it (a forked child never writes on its parent's
//! socket).

use std::pin::Pin;
use std::sync::Mutex as StdMutex;
use std::task::{Context, Poll};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, ReadBuf};
use tokio::net::TcpStream;
use url::{Host, Url};

use super::h1;

/// An error from the socket, TLS or HTTP layer.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How connections are opened: shared by the clients with the same settings.
pub(crate) struct Connector {
    pub(crate) connect_timeout: Duration,
    /// TLS for `https://` endpoints; `None` serves plain `http://` only.
    #[cfg(feature = "rustls")]
    pub(crate) tls: Option<tokio_rustls::TlsConnector>,
}

/// A connection's byte stream.
pub(crate) enum Io {
    Plain(TcpStream),
    #[cfg(feature = "rustls")]
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl Io {
    /// Whether an idle connection is still usable: nothing has arrived on it since its last
    /// answer. A BMC that closed it (a FIN, a TLS close_notify) or a runtime that is gone
    /// makes it readable or failed. No pooled connection task watches a parked socket, so this
    /// is checked before reuse; it costs no system call unless the reactor saw the socket
    /// become readable.
    fn still_open(&self) -> bool {
        let mut probe = [0_u8; 1];
        matches!(self.tcp().try_read(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
    }

    /// Readies a connection to be parked; false when it is no longer usable. One `recv` that
    /// would block ([`Io::still_open`]) makes the reactor track its readiness again, so the
    /// check before reuse costs no system call; then a waker that wakes nothing replaces the
    /// one the reactor holds. That one belongs to the last task that read the socket, and it
    /// would keep that task's whole allocation (a poll's task, a few KiB) alive with the idle
    /// socket.
    fn settle(&self) -> bool {
        let mut idle = Context::from_waker(std::task::Waker::noop());
        // Pending: nothing has arrived, and the reactor now holds the no-op waker.
        self.still_open() && self.tcp().poll_read_ready(&mut idle).is_pending()
    }

    /// The TCP socket under the stream.
    fn tcp(&self) -> &TcpStream {
        match self {
            Io::Plain(tcp) => tcp,
            #[cfg(feature = "rustls")]
            Io::Tls(tls) => tls.get_ref().0,
        }
    }
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            #[cfg(feature = "rustls")]
            Io::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_write(cx, buf),
            #[cfg(feature = "rustls")]
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_flush(cx),
            #[cfg(feature = "rustls")]
            Io::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_shutdown(cx),
            #[cfg(feature = "rustls")]
            Io::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            #[cfg(feature = "rustls")]
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Io::Plain(s) => s.is_write_vectored(),
            #[cfg(feature = "rustls")]
            Io::Tls(s) => s.is_write_vectored(),
        }
    }
}

/// The idle connections of one client (at most its `max_idle_connections`; one by default).
#[derive(Default)]
pub(crate) struct ParkedSlot {
    slot: StdMutex<Vec<Parked>>,
}

struct Parked {
    io: Io,
    /// The process that opened the socket.
    pid: u32,
}

impl ParkedSlot {
    /// The connection parked last, if one was parked by process `pid` (this one) and is still
    /// open (the others found on the way are dropped).
    fn take(&self, pid: u32) -> Option<Io> {
        let mut slot = self.slot.lock().ok()?;
        while let Some(parked) = slot.pop() {
            if reusable_by(parked.pid, pid) && parked.io.still_open() {
                return Some(parked.io);
            }
        }
        None
    }

    /// Parks `io` for process `pid` (this one), unless `max` connections are parked already
    /// (requests sent at once each opened one; `max` are kept).
    fn park(&self, io: Io, max: usize, pid: u32) {
        if let Ok(mut slot) = self.slot.lock()
            && slot.len() < max
        {
            // One at a time: the default of one idle connection costs one element, not the
            // four a first push would reserve.
            slot.reserve_exact(1);
            slot.push(Parked { io, pid });
        }
    }

    /// Drops the parked connections (the client is closing).
    pub(crate) fn clear(&self) {
        if let Ok(mut slot) = self.slot.lock() {
            *slot = Vec::new();
        }
    }
}

/// Whether a socket opened by process `owner` may carry requests of process `current`: not
/// after a fork, whose child shares its parent's socket. Pure.
pub(crate) fn reusable_by(owner: u32, current: u32) -> bool {
    owner == current
}

/// Why one exchange failed.
pub(crate) enum ExchangeFailure {
    Connect(BoxError),
    /// The TLS handshake failed (the certificate refused, or the BMC refused ours).
    #[cfg_attr(
        not(feature = "rustls"),
        allow(dead_code, reason = "rustls builds only")
    )]
    Tls(BoxError),
    /// The BMC closed or reset the connection before its answer began.
    ClosedByPeer(BoxError),
    /// The answer is larger than the limit.
    TooLarge,
    Other(BoxError),
}

impl ExchangeFailure {
    /// The underlying error, for a report that has no `Error` to put it in.
    pub(crate) fn into_source(self) -> BoxError {
        match self {
            ExchangeFailure::Connect(e)
            | ExchangeFailure::Tls(e)
            | ExchangeFailure::ClosedByPeer(e)
            | ExchangeFailure::Other(e) => e,
            ExchangeFailure::TooLarge => "the answer is larger than the client reads".into(),
        }
    }
}

/// An answer: status, headers and body.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

/// One request, its answer read up to `limit` bytes. A connection parked in `slot` is used
/// when there is one, else a new one is opened to `url`'s host; afterwards it is parked again
/// when the answer allows it and fewer than `max_idle` are parked (0: never). Timeouts are
/// the caller's (the whole exchange).
#[allow(clippy::too_many_arguments, reason = "one exchange's parts, named")]
pub(crate) async fn exchange(
    connector: &Connector,
    slot: &ParkedSlot,
    max_idle: usize,
    method: &Method,
    url: &Url,
    headers: &HeaderMap,
    body: Option<&[u8]>,
    limit: u64,
) -> Result<Answer, ExchangeFailure> {
    // Read once: each read is a system call.
    let pid = std::process::id();
    // Nothing to keep (quirk `stale_keep_alive_connection`'s `close_connections`): a
    // connection of its own, and none kept before the vendor was known is reused either.
    let kept = if max_idle > 0 {
        slot.take(pid)
    } else {
        slot.clear();
        None
    };
    let mut io = match kept {
        Some(io) => io,
        None => connector.connect(url).await?,
    };
    let mut request = Vec::with_capacity(REQUEST_CAPACITY + body.map_or(0, <[u8]>::len));
    h1::encode_request(method, url, headers, body, &mut request);
    io.write_all(&request).await.map_err(classify_io)?;
    io.flush().await.map_err(classify_io)?;
    drop(request);
    let (answer, reusable) = read_answer(&mut io, method, limit).await?;
    if max_idle > 0 && reusable && io.settle() {
        slot.park(io, max_idle, pid);
    }
    Ok(answer)
}

/// Room for a request's line and headers: one allocation for a Redfish request's few hundred
/// bytes.
const REQUEST_CAPACITY: usize = 512;

/// What a read asks the socket for at least: a power poll's whole answer (its head and a
/// System of a few KiB) in one read.
const READ_CHUNK: usize = 4096;

/// The most room reserved for a body before its bytes arrive.
const MAX_RESERVED_AHEAD: usize = 1024 * 1024;

/// Reads more of the answer into `buf`; the bytes read, 0 when the BMC closed the connection.
async fn read_more(io: &mut Io, buf: &mut Vec<u8>) -> Result<usize, ExchangeFailure> {
    if buf.capacity() - buf.len() < READ_CHUNK / 4 {
        buf.reserve(READ_CHUNK);
    }
    io.read_buf(buf).await.map_err(classify_io)
}

/// The BMC closed the connection before its answer was complete.
fn closed_early(what: &str) -> ExchangeFailure {
    ExchangeFailure::ClosedByPeer(format!("the BMC closed the connection {what}").into())
}

/// Reads the answer (skipping interim 1xx answers) and its body up to `limit` bytes; with the
/// answer, whether the connection may be kept: the answer allows it, its body had an end of
/// its own, and nothing was sent after it.
async fn read_answer(
    io: &mut Io,
    method: &Method,
    limit: u64,
) -> Result<(Answer, bool), ExchangeFailure> {
    let malformed = |err: h1::H1Error| ExchangeFailure::Other(Box::new(err));
    let mut buf = Vec::with_capacity(READ_CHUNK);
    let head = loop {
        match h1::parse_head(&buf).map_err(malformed)? {
            Some((head, length)) => {
                buf.drain(..length);
                if !head.status.is_informational() {
                    break head;
                }
            }
            None => {
                if read_more(io, &mut buf).await? == 0 {
                    return Err(closed_early(if buf.is_empty() {
                        "before answering"
                    } else {
                        "in the middle of the answer's head"
                    }));
                }
            }
        }
    };
    let mut reusable = h1::keeps_alive(head.version, &head.headers);
    // From here `buf` holds what was read past the head.
    let body = match h1::framing(method, &head).map_err(malformed)? {
        h1::Framing::Empty => {
            reusable &= buf.is_empty();
            Vec::new()
        }
        h1::Framing::Length(length) => {
            if length > limit {
                return Err(ExchangeFailure::TooLarge);
            }
            let length = usize::try_from(length).map_err(|_| ExchangeFailure::TooLarge)?;
            // Room for the declared length, up to a bound: a BMC may declare more than it
            // sends, and the rest is reserved as it arrives.
            buf.reserve(length.min(MAX_RESERVED_AHEAD).saturating_sub(buf.len()));
            while buf.len() < length {
                if read_more(io, &mut buf).await? == 0 {
                    return Err(closed_early("in the middle of the answer's body"));
                }
            }
            if buf.len() > length {
                reusable = false;
                buf.truncate(length);
            }
            buf
        }
        h1::Framing::Chunked => {
            let mut decoder = h1::ChunkedDecoder::new();
            let mut body = Vec::new();
            loop {
                let used = decoder.decode(&buf, &mut body).map_err(malformed)?;
                buf.drain(..used);
                if body.len() as u64 > limit {
                    return Err(ExchangeFailure::TooLarge);
                }
                if decoder.is_done() {
                    reusable &= buf.is_empty();
                    break body;
                }
                if read_more(io, &mut buf).await? == 0 {
                    return Err(closed_early("in the middle of the answer's body"));
                }
            }
        }
        h1::Framing::UntilClose => {
            reusable = false;
            while read_more(io, &mut buf).await? > 0 {
                if buf.len() as u64 > limit {
                    return Err(ExchangeFailure::TooLarge);
                }
            }
            buf
        }
    };
    Ok((
        Answer {
            status: head.status,
            headers: head.headers,
            body,
        },
        reusable,
    ))
}

/// Sorts a socket error: a connection reset, aborted or cut short is the BMC dropping it (on a
/// kept connection: quirk `stale_keep_alive_connection`).
fn classify_io(err: std::io::Error) -> ExchangeFailure {
    if matches!(
        err.kind(),
        std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::BrokenPipe
            | std::io::ErrorKind::UnexpectedEof
    ) {
        ExchangeFailure::ClosedByPeer(Box::new(err))
    } else {
        ExchangeFailure::Other(Box::new(err))
    }
}

/// Whether a reset, an abort or a broken pipe lies under `err` (its sources, not itself).
pub(crate) fn reset_underneath(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = err.source();
    while let Some(current) = next {
        if let Some(io) = current.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
            )
        {
            return true;
        }
        next = current.source();
    }
    false
}

impl Connector {
    /// Opens a connection to `url`'s host and port, within the connect timeout (TLS handshake
    /// included).
    async fn connect(&self, url: &Url) -> Result<Io, ExchangeFailure> {
        let port = url
            .port_or_known_default()
            .ok_or_else(|| ExchangeFailure::Connect("the URL has no port".into()))?;
        let host = url
            .host()
            .ok_or_else(|| ExchangeFailure::Connect("the URL has no host".into()))?;
        let connecting = async {
            let tcp = match &host {
                Host::Ipv4(ip) => TcpStream::connect((*ip, port)).await,
                Host::Ipv6(ip) => TcpStream::connect((*ip, port)).await,
                Host::Domain(name) => TcpStream::connect((*name, port)).await,
            }
            .map_err(|e| ExchangeFailure::Connect(Box::new(e)))?;
            // Requests are small and written whole: no reason to wait for an ACK.
            tcp.set_nodelay(true)
                .map_err(|e| ExchangeFailure::Connect(Box::new(e)))?;
            self.secure(url, &host, tcp).await
        };
        match tokio::time::timeout(self.connect_timeout, connecting).await {
            Ok(io) => io,
            Err(elapsed) => Err(ExchangeFailure::Connect(Box::new(elapsed))),
        }
    }

    /// The TLS handshake for `https://`; plain `http://` as it is.
    async fn secure(
        &self,
        url: &Url,
        host: &Host<&str>,
        tcp: TcpStream,
    ) -> Result<Io, ExchangeFailure> {
        if url.scheme() != "https" {
            return Ok(Io::Plain(tcp));
        }
        #[cfg(feature = "rustls")]
        if let Some(tls) = &self.tls {
            use rustls::pki_types::ServerName;
            let name = match host {
                Host::Ipv4(ip) => ServerName::from(std::net::IpAddr::V4(*ip)),
                Host::Ipv6(ip) => ServerName::from(std::net::IpAddr::V6(*ip)),
                Host::Domain(name) => ServerName::try_from((*name).to_owned())
                    .map_err(|e| ExchangeFailure::Connect(Box::new(e)))?,
            };
            return tls
                .connect(name, tcp)
                .await
                .map(|s| Io::Tls(Box::new(s)))
                .map_err(|e| ExchangeFailure::Tls(Box::new(e)));
        }
        let _ = host;
        Err(ExchangeFailure::Connect(
            "this HTTP client has no TLS configuration".into(),
        ))
    }
}

/// The `Authorization` value of HTTP Basic for `username` and `password`, marked sensitive.
/// Pure.
pub(crate) fn basic_auth(username: &str, password: &str) -> Option<HeaderValue> {
    use base64::Engine as _;
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    let mut value = HeaderValue::from_str(&format!("Basic {encoded}")).ok()?;
    value.set_sensitive(true);
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_is_sensitive_and_encoded() {
        let value = basic_auth("Aladdin", "open sesame").unwrap();
        assert_eq!(value, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        assert!(value.is_sensitive());
    }

    #[test]
    fn a_forked_child_never_reuses_its_parents_socket() {
        assert!(reusable_by(7, 7));
        assert!(!reusable_by(7, 8));
    }
}
