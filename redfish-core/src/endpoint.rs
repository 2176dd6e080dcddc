//! The BMC's address and the resolution of every link the BMC sends back.
//!
//! Link safety lives here: [`Endpoint::resolve`] is the only way a string becomes a request URL,
//! and it refuses anything outside the endpoint's origin (scheme, host and port), so a BMC (or a
//! man in the middle of a plain-HTTP BMC) cannot make the client send credentials elsewhere.

use url::Url;

use crate::Error;

/// A Redfish service address: `https://host[:port]` (or `http://` when written explicitly).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    base: Url,
}

impl Endpoint {
    /// Parses an endpoint. Without a scheme, `https://` is assumed; `http://` is used only when
    /// written. A path other than `/` or `/redfish/v1` is refused, as are user-info (credentials
    /// go through [`crate::ClientBuilder::credentials`]), queries and fragments.
    pub fn parse(input: &str) -> Result<Endpoint, Error> {
        let trimmed = input.trim();
        let invalid = |reason| Error::InvalidEndpoint {
            endpoint: redact_userinfo(trimmed),
            reason,
        };
        if trimmed.is_empty() {
            return Err(invalid("it is empty"));
        }
        let with_scheme = if trimmed.contains("://") {
            trimmed.to_owned()
        } else {
            format!("https://{trimmed}")
        };
        let url = Url::parse(&with_scheme).map_err(|_| invalid("it is not a valid URL"))?;
        if url.scheme() != "https" && url.scheme() != "http" {
            return Err(invalid("the scheme must be https or http"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("it has no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(
                "credentials in the URL are not accepted; use ClientBuilder::credentials",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("it must not have a query or fragment"));
        }
        let path = url.path().trim_end_matches('/');
        if !path.is_empty() && path != "/redfish/v1" && path != "/redfish" {
            return Err(invalid(
                "it must be the service address, without a resource path",
            ));
        }
        let mut base = url;
        base.set_path("/");
        Ok(Endpoint { base })
    }

    /// The base URL, `scheme://host:port/`.
    pub fn url(&self) -> &Url {
        &self.base
    }

    /// `scheme://host:port`, as shown in errors.
    pub fn origin(&self) -> String {
        self.base.origin().ascii_serialization()
    }

    /// Whether the endpoint is plain HTTP.
    pub fn is_plain_http(&self) -> bool {
        self.base.scheme() == "http"
    }

    /// Resolves a link from the BMC (absolute path, absolute URL or relative reference) against
    /// the endpoint. Fragments (`...#/Fans/0`) are dropped. A link to another origin is refused.
    pub fn resolve(&self, link: &str) -> Result<Url, Error> {
        let trimmed = link.trim();
        if trimmed.is_empty() {
            return Err(Error::InvalidPath {
                path: link.to_owned(),
                reason: "it is empty",
            });
        }
        let mut url = self.base.join(trimmed).map_err(|_| Error::InvalidPath {
            path: redact_userinfo(trimmed),
            reason: "it is not a valid URL reference",
        })?;
        if !same_origin(&url, &self.base) || !url.username().is_empty() || url.password().is_some()
        {
            return Err(Error::OffOriginLink {
                link: redact_userinfo(trimmed),
                origin: self.origin(),
            });
        }
        url.set_fragment(None);
        Ok(url)
    }

    /// Resolves a path written by the caller. Besides the checks of [`Endpoint::resolve`], the
    /// result must stay under `/redfish/`, so a typo cannot reach the BMC's web UI.
    pub fn resolve_caller_path(&self, path: &str) -> Result<Url, Error> {
        let url = self.resolve(path)?;
        if !url.path().starts_with("/redfish/") && url.path() != "/redfish" {
            return Err(Error::InvalidPath {
                path: path.to_owned(),
                reason: "it must be a Redfish path under /redfish/",
            });
        }
        Ok(url)
    }
}

/// The path and query of a URL, for logs and request keys.
pub(crate) fn path_and_query(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

/// The key under which a resource's ETag is remembered: its path without a trailing slash.
pub(crate) fn resource_key(url: &Url) -> &str {
    let trimmed = url.path().trim_end_matches('/');
    if trimmed.is_empty() { "/" } else { trimmed }
}

/// Whether `a` and `b` have the same origin (scheme, host, and port with the scheme's default
/// filled in), as `Url::origin` compares HTTP(S) URLs, without building either origin (two
/// strings each): every request checks it. Pure.
pub(crate) fn same_origin(a: &Url, b: &Url) -> bool {
    matches!(a.scheme(), "http" | "https")
        && a.scheme() == b.scheme()
        && a.host() == b.host()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Removes `user:pass@` from a URL-ish string before it is put into an error.
fn redact_userinfo(input: &str) -> String {
    let Some(scheme_end) = input.find("://") else {
        return match input.rfind('@') {
            Some(at) if !input[..at].contains('/') => format!("[redacted]@{}", &input[at + 1..]),
            _ => input.to_owned(),
        };
    };
    let rest = &input[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}[redacted]@{}", &input[..scheme_end + 3], &rest[at + 1..]),
        None => input.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_without_scheme_is_https() {
        let e = Endpoint::parse("bmc.example:8443").unwrap();
        assert_eq!(e.url().as_str(), "https://bmc.example:8443/");
        assert!(!e.is_plain_http());
    }

    #[test]
    fn http_only_when_written() {
        let e = Endpoint::parse("http://10.0.0.5").unwrap();
        assert!(e.is_plain_http());
        assert_eq!(e.origin(), "http://10.0.0.5");
    }

    #[test]
    fn endpoint_accepts_service_root_path() {
        let e = Endpoint::parse("https://bmc/redfish/v1/").unwrap();
        assert_eq!(e.url().as_str(), "https://bmc/");
    }

    #[test]
    fn endpoint_refusals() {
        for (input, reason) in [
            ("", "it is empty"),
            ("ftp://bmc", "the scheme must be https or http"),
            (
                "https://bmc/redfish/v1/Systems/1",
                "it must be the service address",
            ),
            ("https://bmc/?a=b", "it must not have a query or fragment"),
        ] {
            let err = Endpoint::parse(input).unwrap_err();
            assert!(err.to_string().contains(reason), "{input}: {err}");
            assert!(err.is_invalid_input());
        }
    }

    #[test]
    fn unparseable_link_is_refused_without_echoing_its_user_info() {
        let e = Endpoint::parse("https://bmc").unwrap();
        // Port out of range: not a valid URL at all.
        let err = e
            .resolve("https://admin:S3cr3tPw@bmc:99999/redfish/v1")
            .unwrap_err();
        let Error::InvalidPath { path, reason } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(path, "https://[redacted]@bmc:99999/redfish/v1");
        assert_eq!(*reason, "it is not a valid URL reference");
        let shown = format!("{err} {err:?}");
        assert!(
            !shown.contains("S3cr3tPw") && !shown.contains("admin"),
            "{shown}"
        );
    }

    #[test]
    fn endpoint_with_userinfo_is_refused_and_the_password_is_not_echoed() {
        let err = Endpoint::parse("https://root:S3cr3tPw@bmc").unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("S3cr3tPw"), "{shown}");
        assert!(shown.contains("credentials in the URL"));
    }

    #[test]
    fn resolves_absolute_path_and_drops_fragment() {
        let e = Endpoint::parse("https://bmc:8443").unwrap();
        let url = e.resolve("/redfish/v1/Chassis/1/Thermal#/Fans/0").unwrap();
        assert_eq!(
            url.as_str(),
            "https://bmc:8443/redfish/v1/Chassis/1/Thermal"
        );
    }

    #[test]
    fn resolves_same_origin_absolute_url_and_default_port() {
        let e = Endpoint::parse("https://bmc").unwrap();
        let url = e.resolve("https://bmc:443/redfish/v1/Systems").unwrap();
        assert_eq!(url.as_str(), "https://bmc/redfish/v1/Systems");
    }

    #[test]
    fn keeps_queries_such_as_next_links() {
        let e = Endpoint::parse("https://bmc").unwrap();
        let url = e.resolve("/redfish/v1/Things?$skip=50").unwrap();
        assert_eq!(url.query(), Some("$skip=50"));
    }

    #[test]
    fn refuses_other_origins() {
        let e = Endpoint::parse("https://bmc:8443").unwrap();
        for link in [
            "https://evil.example/redfish/v1/Sessions",
            "//evil.example/redfish/v1",
            "http://bmc:8443/redfish/v1",
            "https://bmc:8444/redfish/v1",
            "https://user:pw@bmc:8443/redfish/v1",
        ] {
            let err = e.resolve(link).unwrap_err();
            assert!(matches!(err, Error::OffOriginLink { .. }), "{link}: {err}");
            assert!(!err.to_string().contains(":pw@"), "{err}");
        }
    }

    #[test]
    fn caller_paths_stay_under_redfish() {
        let e = Endpoint::parse("https://bmc").unwrap();
        assert!(e.resolve_caller_path("/redfish/v1/Systems/1").is_ok());
        assert!(matches!(
            e.resolve_caller_path("/login.html"),
            Err(Error::InvalidPath { .. })
        ));
        assert!(matches!(
            e.resolve_caller_path("/redfish/../admin"),
            Err(Error::InvalidPath { .. })
        ));
        assert!(matches!(
            e.resolve_caller_path(""),
            Err(Error::InvalidPath { .. })
        ));
    }

    proptest::proptest! {
        #[test]
        fn resolved_links_never_leave_the_origin(link in "\\PC{0,40}", prefix in proptest::sample::select(vec![
            "", "/", "//", "http://", "https://", "https://bmc:8443", "https://bmc:8443@evil", "\\\\",
        ])) {
            let e = Endpoint::parse("https://bmc:8443").unwrap();
            if let Ok(url) = e.resolve(&format!("{prefix}{link}")) {
                proptest::prop_assert_eq!(url.origin(), e.url().origin());
                proptest::prop_assert!(url.username().is_empty() && url.password().is_none());
                proptest::prop_assert!(url.fragment().is_none());
            }
        }
    }

    #[test]
    fn resource_key_ignores_trailing_slash() {
        let e = Endpoint::parse("https://bmc").unwrap();
        let a = e.resolve("/redfish/v1/Systems/1/").unwrap();
        let b = e.resolve("/redfish/v1/Systems/1").unwrap();
        assert_eq!(resource_key(&a), resource_key(&b));
    }

    #[test]
    fn same_origin_agrees_with_url_origin() {
        let urls = [
            "http://bmc.example/redfish/v1",
            "http://bmc.example:80/x",
            "http://BMC.example/",
            "http://bmc.example:8080/",
            "https://bmc.example/",
            "https://bmc.example:443/",
            "https://10.0.0.1/",
            "https://[::1]/",
            "ftp://bmc.example/",
        ];
        for a in urls {
            for b in urls {
                let (a_url, b_url) = (Url::parse(a).unwrap(), Url::parse(b).unwrap());
                let expected = a_url.scheme() != "ftp" && a_url.origin() == b_url.origin();
                assert_eq!(same_origin(&a_url, &b_url), expected, "{a} vs {b}");
            }
        }
    }
}
