//! HTTP/1.1 as a client speaks it to one BMC, as pure functions: the request's bytes, the
//! answer's head, how its body is framed, and chunked decoding. No I/O; `parked` reads and
//! writes the socket.
//!
//! Written here rather than taken from hyper because a client of a fleet sends one request at a
//! time per BMC: hyper's HTTP/1.1 connection, built around a kept socket for each exchange,
//! costs two 8 KiB buffers, a dispatch channel, a body channel and their tasks' wake-ups per
//! request, which was the larger part of a power poll's CPU in our own code. The head is
//! parsed by `httparse` (hyper's own parser) with the same limits as hyper's defaults.

use bytes::Bytes;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode, Version};
use url::Url;

/// The most header lines an answer may carry (hyper's default).
pub(crate) const MAX_HEADERS: usize = 100;

/// The most bytes an answer's head may take (hyper's default read buffer limit is larger; a
/// BMC's head is a few hundred bytes).
pub(crate) const MAX_HEAD_BYTES: usize = 64 * 1024;

/// The most bytes a chunk-size line may take, extensions included.
const MAX_CHUNK_LINE_BYTES: usize = 1024;

/// Why an answer could not be read as HTTP/1.1.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum H1Error {
    /// The head is not HTTP (what `httparse` said).
    Head(String),
    /// The head is larger than [`MAX_HEAD_BYTES`] or has more than [`MAX_HEADERS`] lines.
    HeadTooLarge,
    /// `Content-Length` is not one number.
    ContentLength,
    /// A chunk of a chunked body is malformed.
    Chunk(&'static str),
}

impl std::fmt::Display for H1Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            H1Error::Head(why) => write!(f, "the answer's head is not HTTP/1.1: {why}"),
            H1Error::HeadTooLarge => write!(
                f,
                "the answer's head is larger than {MAX_HEAD_BYTES} bytes or {MAX_HEADERS} lines"
            ),
            H1Error::ContentLength => write!(f, "the answer's Content-Length is not a number"),
            H1Error::Chunk(why) => write!(f, "the answer's chunked body is malformed: {why}"),
        }
    }
}

impl std::error::Error for H1Error {}

/// Appends the request's bytes to `out`: request line, `Host`, `headers`, `Content-Length`
/// when there is a body (or the method carries one), and the body. Header names go out as
/// `HeaderMap` holds them (lower case), as hyper writes them. Pure.
pub(crate) fn encode_request(
    method: &Method,
    url: &Url,
    headers: &HeaderMap,
    body: Option<&[u8]>,
    out: &mut Vec<u8>,
) {
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(url.path().as_bytes());
    if let Some(query) = url.query() {
        out.push(b'?');
        out.extend_from_slice(query.as_bytes());
    }
    out.extend_from_slice(b" HTTP/1.1\r\nhost: ");
    if let Some(host) = url.host_str() {
        out.extend_from_slice(host.as_bytes());
    }
    if let Some(port) = url.port() {
        out.push(b':');
        out.extend_from_slice(port.to_string().as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    for (name, value) in headers {
        if name == header::HOST || name == header::CONTENT_LENGTH {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let carries_body = matches!(*method, Method::POST | Method::PUT | Method::PATCH);
    if body.is_some() || carries_body {
        let length = body.map_or(0, <[u8]>::len);
        out.extend_from_slice(b"content-length: ");
        out.extend_from_slice(length.to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if let Some(body) = body {
        out.extend_from_slice(body);
    }
}

/// An answer's head.
#[derive(Debug)]
pub(crate) struct Head {
    pub(crate) status: StatusCode,
    pub(crate) version: Version,
    pub(crate) headers: HeaderMap,
}

/// Parses the head at the start of `buf`: `None` while it is incomplete, else the head and the
/// bytes it took. Header values share one copy of the head's bytes. Pure.
pub(crate) fn parse_head(buf: &[u8]) -> Result<Option<(Head, usize)>, H1Error> {
    let mut lines = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut lines);
    let length = match response.parse(buf) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => {
            return if buf.len() > MAX_HEAD_BYTES {
                Err(H1Error::HeadTooLarge)
            } else {
                Ok(None)
            };
        }
        Err(httparse::Error::TooManyHeaders) => return Err(H1Error::HeadTooLarge),
        Err(other) => return Err(H1Error::Head(other.to_string())),
    };
    if length > MAX_HEAD_BYTES {
        return Err(H1Error::HeadTooLarge);
    }
    let status = response
        .code
        .and_then(|code| StatusCode::from_u16(code).ok())
        .ok_or_else(|| H1Error::Head("no status code".to_owned()))?;
    let version = if response.version == Some(0) {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    };
    let shared = Bytes::copy_from_slice(&buf[..length]);
    let start = buf.as_ptr() as usize;
    let mut headers = HeaderMap::with_capacity(response.headers.len());
    for line in response.headers.iter() {
        let name = HeaderName::from_bytes(line.name.as_bytes())
            .map_err(|_| H1Error::Head(format!("bad header name {:?}", line.name)))?;
        // The value's place in `buf`, to slice the shared copy instead of copying it again.
        let offset = line.value.as_ptr() as usize - start;
        let value = HeaderValue::from_maybe_shared(shared.slice(offset..offset + line.value.len()))
            .map_err(|_| H1Error::Head(format!("bad value of header {name}")))?;
        headers.append(name, value);
    }
    Ok(Some((
        Head {
            status,
            version,
            headers,
        },
        length,
    )))
}

/// How an answer's body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body (an answer to HEAD, 1xx, 204, 304).
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Until the BMC closes the connection (which then cannot be kept).
    UntilClose,
}

/// How the body of an answer with `head` to a `method` request is framed (RFC 9112 §6.3). Pure.
pub(crate) fn framing(method: &Method, head: &Head) -> Result<Framing, H1Error> {
    let status = head.status.as_u16();
    if *method == Method::HEAD || (100..200).contains(&status) || status == 204 || status == 304 {
        return Ok(Framing::Empty);
    }
    let mut codings = head
        .headers
        .get_all(header::TRANSFER_ENCODING)
        .iter()
        .flat_map(|value| value.as_bytes().split(|&b| b == b','))
        .map(<[u8]>::trim_ascii)
        .filter(|coding| !coding.is_empty())
        .peekable();
    if codings.peek().is_some() {
        // Chunked only when it is the last coding; otherwise the body runs to the close.
        return Ok(
            if codings
                .last()
                .is_some_and(|c| c.eq_ignore_ascii_case(b"chunked"))
            {
                Framing::Chunked
            } else {
                Framing::UntilClose
            },
        );
    }
    let mut lengths = head.headers.get_all(header::CONTENT_LENGTH).iter();
    let Some(first) = lengths.next() else {
        return Ok(Framing::UntilClose);
    };
    let length = parse_length(first.as_bytes())?;
    // Several Content-Length lines are accepted only when they agree (RFC 9112 §6.3).
    for other in lengths {
        if parse_length(other.as_bytes())? != length {
            return Err(H1Error::ContentLength);
        }
    }
    Ok(Framing::Length(length))
}

/// A Content-Length value: decimal digits only. Pure.
fn parse_length(value: &[u8]) -> Result<u64, H1Error> {
    let value = value.trim_ascii();
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return Err(H1Error::ContentLength);
    }
    std::str::from_utf8(value)
        .ok()
        .and_then(|digits| digits.parse().ok())
        .ok_or(H1Error::ContentLength)
}

/// Whether an answer leaves its connection open for the next request: HTTP/1.1 unless it says
/// `Connection: close`, HTTP/1.0 only when it says `keep-alive`. Pure.
pub(crate) fn keeps_alive(version: Version, headers: &HeaderMap) -> bool {
    let has = |token: &str| {
        headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    match version {
        Version::HTTP_11 => !has("close"),
        Version::HTTP_10 => has("keep-alive"),
        _ => false,
    }
}

/// Where a chunked decoder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    /// Reading a chunk-size line.
    Size,
    /// Reading this many more bytes of a chunk's data.
    Data(u64),
    /// Reading the CRLF after a chunk's data.
    DataEnd,
    /// Reading trailer lines after the last chunk, until an empty one.
    Trailers,
    Done,
}

/// Decodes a chunked body incrementally (RFC 9112 §7.1). Pure.
#[derive(Debug)]
pub(crate) struct ChunkedDecoder {
    state: ChunkState,
}

impl ChunkedDecoder {
    pub(crate) fn new() -> ChunkedDecoder {
        ChunkedDecoder {
            state: ChunkState::Size,
        }
    }

    /// Whether the last chunk and the trailers have been read.
    pub(crate) fn is_done(&self) -> bool {
        self.state == ChunkState::Done
    }

    /// Decodes what it can of `input`, appending chunk data to `out`; returns the bytes of
    /// `input` it used. Stops at a line that is not complete yet (call again with more) and
    /// at the end of the body (the rest of `input` is not the body's).
    pub(crate) fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, H1Error> {
        let mut used = 0;
        loop {
            let rest = &input[used..];
            match self.state {
                ChunkState::Done => return Ok(used),
                ChunkState::Size => {
                    let Some(line) = line_at(rest)? else {
                        return Ok(used);
                    };
                    used += line.len() + 2;
                    let digits = line
                        .split(|&b| b == b';')
                        .next()
                        .unwrap_or_default()
                        .trim_ascii();
                    let size = chunk_size(digits)?;
                    self.state = if size == 0 {
                        ChunkState::Trailers
                    } else {
                        ChunkState::Data(size)
                    };
                }
                ChunkState::Data(left) => {
                    if rest.is_empty() {
                        return Ok(used);
                    }
                    let take = usize::try_from(left).map_or(rest.len(), |l| l.min(rest.len()));
                    out.extend_from_slice(&rest[..take]);
                    used += take;
                    let left = left - take as u64;
                    self.state = if left == 0 {
                        ChunkState::DataEnd
                    } else {
                        ChunkState::Data(left)
                    };
                }
                ChunkState::DataEnd => {
                    if rest.len() < 2 {
                        return Ok(used);
                    }
                    if &rest[..2] != b"\r\n" {
                        return Err(H1Error::Chunk("no CRLF after a chunk's data"));
                    }
                    used += 2;
                    self.state = ChunkState::Size;
                }
                ChunkState::Trailers => {
                    let Some(line) = line_at(rest)? else {
                        return Ok(used);
                    };
                    used += line.len() + 2;
                    if line.is_empty() {
                        self.state = ChunkState::Done;
                    }
                }
            }
        }
    }
}

/// The line at the start of `input` without its CRLF, `None` when it is not complete yet.
fn line_at(input: &[u8]) -> Result<Option<&[u8]>, H1Error> {
    match input.windows(2).position(|pair| pair == b"\r\n") {
        Some(end) if end <= MAX_CHUNK_LINE_BYTES => Ok(Some(&input[..end])),
        Some(_) => Err(H1Error::Chunk("a line is too long")),
        None if input.len() > MAX_CHUNK_LINE_BYTES => Err(H1Error::Chunk("a line is too long")),
        None => Ok(None),
    }
}

/// A chunk size: hexadecimal digits, at most 16.
fn chunk_size(digits: &[u8]) -> Result<u64, H1Error> {
    if digits.is_empty() || digits.len() > 16 {
        return Err(H1Error::Chunk("a chunk size is not a hexadecimal number"));
    }
    digits.iter().try_fold(0_u64, |size, &digit| {
        let value = char::from(digit)
            .to_digit(16)
            .ok_or(H1Error::Chunk("a chunk size is not a hexadecimal number"))?;
        Ok((size << 4) | u64::from(value))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Head {
        parse_head(text.as_bytes()).unwrap().unwrap().0
    }

    #[test]
    fn a_request_is_its_line_host_headers_length_and_body() {
        let url = Url::parse("http://10.0.0.5:8000/redfish/v1/Systems/1?$expand=.").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert("OData-Version", HeaderValue::from_static("4.0"));
        let mut out = Vec::new();
        encode_request(&Method::PATCH, &url, &headers, Some(b"{\"a\":1}"), &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "PATCH /redfish/v1/Systems/1?$expand=. HTTP/1.1\r\nhost: 10.0.0.5:8000\r\n\
             accept: application/json\r\nodata-version: 4.0\r\ncontent-length: 7\r\n\r\n{\"a\":1}"
        );
    }

    #[test]
    fn a_get_has_no_length_and_a_bodiless_post_says_zero() {
        let url = Url::parse("https://bmc.example/redfish/v1").unwrap();
        let mut get = Vec::new();
        encode_request(&Method::GET, &url, &HeaderMap::new(), None, &mut get);
        assert_eq!(
            get,
            b"GET /redfish/v1 HTTP/1.1\r\nhost: bmc.example\r\n\r\n"
        );
        let mut post = Vec::new();
        encode_request(&Method::POST, &url, &HeaderMap::new(), None, &mut post);
        assert!(post.ends_with(b"content-length: 0\r\n\r\n"));
    }

    #[test]
    fn host_names_the_port_only_when_it_is_not_the_schemes() {
        let host = |u: &str| {
            let mut out = Vec::new();
            encode_request(
                &Method::GET,
                &Url::parse(u).unwrap(),
                &HeaderMap::new(),
                None,
                &mut out,
            );
            let text = String::from_utf8(out).unwrap();
            text.lines().nth(1).unwrap().to_owned()
        };
        assert_eq!(host("http://10.0.0.1/redfish/v1"), "host: 10.0.0.1");
        assert_eq!(host("https://bmc.example:443/"), "host: bmc.example");
        assert_eq!(host("https://bmc.example:8443/"), "host: bmc.example:8443");
        assert_eq!(host("http://[::1]:8000/"), "host: [::1]:8000");
    }

    #[test]
    fn a_head_is_parsed_once_complete_and_its_values_are_kept() {
        let text = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nETag: \"x\"\r\n\r\n{}";
        assert!(parse_head(&text.as_bytes()[..20]).unwrap().is_none());
        let (head, length) = parse_head(text.as_bytes()).unwrap().unwrap();
        assert_eq!(length, text.len() - 2);
        assert_eq!(head.status, StatusCode::OK);
        assert_eq!(head.version, Version::HTTP_11);
        assert_eq!(head.headers[header::ETAG], "\"x\"");
        assert_eq!(framing(&Method::GET, &head), Ok(Framing::Length(2)));
    }

    #[test]
    fn garbage_and_oversized_heads_are_errors() {
        assert!(matches!(
            parse_head(b"SSH-2.0-OpenSSH\r\n\r\n"),
            Err(H1Error::Head(_))
        ));
        let many = "X-Many: y\r\n".repeat(MAX_HEADERS + 1);
        let text = format!("HTTP/1.1 200 OK\r\n{many}\r\n");
        assert_eq!(
            parse_head(text.as_bytes()).unwrap_err(),
            H1Error::HeadTooLarge
        );
        let endless = format!("HTTP/1.1 200 OK\r\nX: {}", "y".repeat(MAX_HEAD_BYTES));
        assert_eq!(
            parse_head(endless.as_bytes()).unwrap_err(),
            H1Error::HeadTooLarge
        );
    }

    #[test]
    fn framing_follows_rfc_9112() {
        let get = &Method::GET;
        assert_eq!(
            framing(
                &Method::HEAD,
                &head("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n")
            ),
            Ok(Framing::Empty)
        );
        assert_eq!(
            framing(get, &head("HTTP/1.1 204 No Content\r\n\r\n")),
            Ok(Framing::Empty)
        );
        assert_eq!(
            framing(
                get,
                &head("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n")
            ),
            Ok(Framing::Empty)
        );
        assert_eq!(
            framing(
                get,
                &head(
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\nContent-Length: 3\r\n\r\n"
                )
            ),
            Ok(Framing::Chunked)
        );
        assert_eq!(
            framing(
                get,
                &head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n")
            ),
            Ok(Framing::UntilClose)
        );
        assert_eq!(
            framing(get, &head("HTTP/1.0 200 OK\r\n\r\n")),
            Ok(Framing::UntilClose)
        );
        assert_eq!(
            framing(
                get,
                &head("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n")
            ),
            Ok(Framing::Length(5))
        );
        for bad in ["5, 6", "-1", "0x10", ""] {
            let text = format!("HTTP/1.1 200 OK\r\nContent-Length: {bad}\r\n\r\n");
            assert_eq!(
                framing(get, &head(&text)),
                Err(H1Error::ContentLength),
                "{bad}"
            );
        }
    }

    #[test]
    fn keep_alive_follows_the_version_and_connection_header() {
        let mut headers = HeaderMap::new();
        assert!(keeps_alive(Version::HTTP_11, &headers));
        assert!(!keeps_alive(Version::HTTP_10, &headers));
        headers.insert(header::CONNECTION, HeaderValue::from_static("Keep-Alive"));
        assert!(keeps_alive(Version::HTTP_10, &headers));
        headers.insert(
            header::CONNECTION,
            HeaderValue::from_static("upgrade, Close"),
        );
        assert!(!keeps_alive(Version::HTTP_11, &headers));
    }

    /// Feeds `body` to a decoder in pieces of `step` bytes, as reads would deliver it.
    fn decode_in_steps(body: &[u8], step: usize) -> Result<(Vec<u8>, usize), H1Error> {
        let mut decoder = ChunkedDecoder::new();
        let mut out = Vec::new();
        let mut pending: Vec<u8> = Vec::new();
        let mut consumed = 0;
        for piece in body.chunks(step) {
            pending.extend_from_slice(piece);
            let used = decoder.decode(&pending, &mut out)?;
            consumed += used;
            pending.drain(..used);
            if decoder.is_done() {
                break;
            }
        }
        assert!(decoder.is_done(), "the body did not end");
        Ok((out, consumed))
    }

    #[test]
    fn chunked_bodies_decode_whatever_the_reads_cut() {
        let body = b"4\r\nWiki\r\n7;name=value\r\npedia i\r\nB\r\nn \r\nchunks.\r\n0\r\nExpires: never\r\n\r\nNEXT";
        for step in [1, 2, 3, 7, 64, body.len()] {
            let (decoded, consumed) = decode_in_steps(body, step).unwrap();
            assert_eq!(decoded, b"Wikipedia in \r\nchunks.", "step {step}");
            assert_eq!(
                consumed,
                body.len() - 4,
                "step {step}: NEXT is not the body's"
            );
        }
    }

    #[test]
    fn malformed_chunks_are_errors() {
        for (body, why) in [
            (&b"zz\r\n"[..], "hexadecimal"),
            (b"3\r\nabcX\r\n", "CRLF"),
            (b"11111111111111111\r\n", "hexadecimal"),
        ] {
            let mut out = Vec::new();
            let err = ChunkedDecoder::new().decode(body, &mut out).unwrap_err();
            assert!(err.to_string().contains(why), "{err}");
        }
        let endless = vec![b'1'; MAX_CHUNK_LINE_BYTES + 1];
        let mut out = Vec::new();
        assert!(ChunkedDecoder::new().decode(&endless, &mut out).is_err());
    }
}
