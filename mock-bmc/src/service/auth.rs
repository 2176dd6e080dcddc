//! Authentication: session tokens and HTTP Basic, and which requests need neither.

use std::time::Instant;

use axum::http::{HeaderMap, Method, header};
use secrecy::ExposeSecret;

use crate::node::{Node, lock};

/// Encodes standard base64 (RFC 4648, with padding).
pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes standard base64 (RFC 4648, padding optional).
pub(crate) fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// Whether the request carries a valid session token or the right HTTP Basic credentials.
pub(crate) fn authenticate(node: &Node, headers: &HeaderMap, now: Instant) -> bool {
    check(node, headers, now).is_some()
}

fn check(node: &Node, headers: &HeaderMap, now: Instant) -> Option<()> {
    // Without a SessionService there are no tokens: only the Authorization header counts.
    if !node.basic_auth_only()
        && let Some(token) = headers.get("x-auth-token").and_then(|v| v.to_str().ok())
    {
        let mut st = lock(&node.state);
        st.expire_sessions(now);
        let s = st.sessions.iter_mut().find(|s| s.token == token)?;
        s.last_used = now;
        return Some(());
    }
    let raw = headers.get(header::AUTHORIZATION)?;
    // The common case, the exact header a client with the right credentials sends, is one
    // comparison; anything else is decoded and checked field by field.
    if raw.as_bytes() == node.shared.basic_authorization.expose_secret().as_bytes() {
        return Some(());
    }
    let value = raw.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = String::from_utf8(base64_decode(encoded.trim())?).ok()?;
    let (user, pass) = decoded.split_once(':')?;
    node.credentials_ok(user, pass).then_some(())
}

/// Requests served without credentials: the service root, the metadata documents, and
/// session login.
pub(crate) fn is_open(method: &Method, path: &str) -> bool {
    matches!(
        path,
        "/redfish" | "/redfish/v1" | "/redfish/v1/$metadata" | "/redfish/v1/odata"
    ) && (method == Method::GET || method == Method::HEAD)
        || (method == Method::POST
            && (path == "/redfish/v1/SessionService/Sessions"
                || path == "/redfish/v1/SessionService/Sessions/Members"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip() {
        assert_eq!(
            base64_decode("YWRtaW46cGFzc3dvcmQ=").as_deref(),
            Some(&b"admin:password"[..])
        );
        assert_eq!(base64_decode("YQ").as_deref(), Some(&b"a"[..]));
        assert_eq!(base64_decode("!!"), None);
        // RFC 4648 test vectors for the encoder (the precomputed Basic header).
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
            ("admin:password", "YWRtaW46cGFzc3dvcmQ="),
        ] {
            assert_eq!(base64_encode(plain.as_bytes()), encoded);
        }
    }
}
