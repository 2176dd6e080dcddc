//! What the request log keeps of a request: headers and bodies with secrets replaced, URLs
//! without their user-info.

use axum::http::HeaderMap;
use serde_json::Value;

pub(crate) fn redact_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            let name = k.as_str().to_owned();
            let secret = matches!(
                name.as_str(),
                "authorization" | "x-auth-token" | "cookie" | "proxy-authorization"
            );
            let value = if secret {
                "<redacted>".to_owned()
            } else {
                String::from_utf8_lossy(v.as_bytes()).into_owned()
            };
            (name, value)
        })
        .collect()
}

/// `text` with the user-info (`user:password@`) of every URL in it replaced by `<redacted>@`:
/// an `Image` such as `http://u:pw@host/x.iso` carries credentials the log must not keep.
pub(crate) fn strip_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let authority_end = tail
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace() || c == '"')
            .unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match authority.rfind('@') {
            Some(userinfo_end) => {
                out.push_str("<redacted>");
                out.push_str(&authority[userinfo_end..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    out
}

fn redact_json(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, val) in m.iter_mut() {
                if k.to_ascii_lowercase().contains("password") || k.eq_ignore_ascii_case("token") {
                    *val = Value::from("<redacted>");
                } else {
                    redact_json(val);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(redact_json),
        Value::String(text) if text.contains("://") => *text = strip_userinfo(text),
        _ => {}
    }
}

pub(crate) fn redact_body(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return String::new();
    }
    if let Ok(mut v) = serde_json::from_slice::<Value>(bytes) {
        redact_json(&mut v);
        v.to_string()
    } else {
        // Not JSON: keep it only if it cannot carry a secret we know of.
        {
            let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).into_owned();
            if text.to_ascii_lowercase().contains("password") {
                "<redacted non-json body>".to_owned()
            } else {
                strip_userinfo(&text)
            }
        }
    }
}

/// `url` without its user-info (`http://u:pw@host/x.iso` → `http://host/x.iso`); text that is
/// not a URL, or has no user-info, is returned unchanged.
pub(crate) fn without_userinfo(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            // Both only fail for URLs that cannot carry user-info at all.
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn redaction() {
        let body =
            redact_body(br#"{"UserName":"u","Password":"hunter2","Nested":{"NewPassword":"x"}}"#);
        assert!(
            !body.contains("hunter2") && !body.contains("\"x\""),
            "{body}"
        );
        let mut h = HeaderMap::new();
        h.insert("x-auth-token", HeaderValue::from_static("tok123"));
        h.insert(
            "authorization",
            HeaderValue::from_static("Basic YWRtaW46cGFzc3dvcmQ="),
        );
        let r = redact_headers(&h);
        assert!(r.iter().all(|(_, v)| v == "<redacted>"));
        assert_eq!(redact_body(b"password=hunter2"), "<redacted non-json body>");
    }

    #[test]
    fn user_info_is_stripped_from_urls() {
        assert_eq!(
            strip_userinfo("http://u:pw@host:8080/x.iso?a=b"),
            "http://<redacted>@host:8080/x.iso?a=b"
        );
        assert_eq!(
            strip_userinfo("see https://a@b@h/p and nfs://h2/p"),
            "see https://<redacted>@h/p and nfs://h2/p"
        );
        assert_eq!(strip_userinfo("http://host/x@y.iso"), "http://host/x@y.iso");
        assert_eq!(
            redact_body(br#"{"Image":"http://u:pw@h/x.iso","Inserted":true}"#),
            r#"{"Image":"http://<redacted>@h/x.iso","Inserted":true}"#
        );
        assert_eq!(
            redact_body(b"Image=http://u:pw@h/x.iso"),
            "Image=http://<redacted>@h/x.iso"
        );
    }

    #[test]
    fn stored_urls_lose_their_user_info() {
        assert_eq!(
            without_userinfo("http://u:pw@h:81/x.iso"),
            "http://h:81/x.iso"
        );
        assert_eq!(without_userinfo("https://u@h/x.iso"), "https://h/x.iso");
        assert_eq!(without_userinfo("http://h/x@y.iso"), "http://h/x@y.iso");
        assert_eq!(without_userinfo("not a url"), "not a url");
    }
}
