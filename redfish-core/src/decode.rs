//! Decoding the BMC's JSON: typed values that name the URL and JSON path on failure, the
//! declared resource type, and the ETag a response carries. Pure: no I/O.

use reqwest::header::{self, HeaderMap};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use crate::Error;
use crate::etag::ETag;

/// The two annotations every read looks at besides the payload: the declared type and the
/// body's ETag, read in one pass over the body.
#[derive(Deserialize)]
pub(crate) struct Annotations {
    #[serde(rename = "@odata.type", default, deserialize_with = "string_or_none")]
    pub(crate) odata_type: Option<String>,
    #[serde(rename = "@odata.etag", default, deserialize_with = "string_or_none")]
    pub(crate) etag: Option<String>,
}

/// A malformed annotation is as good as none: one bad value must not hide the other.
fn string_or_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        _ => None,
    })
}

/// The resource type an `@odata.type` names:
/// `#ComputerSystem.v1_20_0.ComputerSystem` → `ComputerSystem`.
pub(crate) fn resource_type(odata_type: &str) -> &str {
    let unqualified = odata_type.trim().trim_start_matches('#');
    unqualified.split('.').next().unwrap_or(unqualified)
}

/// Refuses a resource whose declared type is not `expected`. Pure.
pub(crate) fn check_resource_type(
    url: &Url,
    declared: Option<&str>,
    expected: &'static str,
) -> Result<(), Error> {
    let Some(found) = declared.map(resource_type).filter(|t| !t.is_empty()) else {
        return Ok(());
    };
    if found.eq_ignore_ascii_case(expected) {
        return Ok(());
    }
    Err(Error::WrongResourceType {
        url: url.to_string(),
        expected,
        found: found.to_owned(),
    })
}

/// A response's entity tag: the `ETag` header first, then the body's `@odata.etag`. Pure.
pub(crate) fn response_etag(
    headers: &HeaderMap,
    body_etag: Option<&str>,
    strip_gzip: bool,
) -> Option<ETag> {
    headers
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .and_then(|raw| ETag::parse(raw, strip_gzip))
        .or_else(|| body_etag.and_then(|raw| ETag::parse(raw, strip_gzip)))
}

/// Decodes JSON, naming the URL and the JSON path on failure.
///
/// Decoded once without tracking the path, and again with it only when that fails: tracking
/// copies every key it passes into a `String` (about 60 allocations for a `ComputerSystem`
/// body even when only `PowerState` is kept), which a fleet's polls would pay on every read.
/// Both passes read the same bytes the same way (neither checks for trailing characters), so
/// the second fails exactly where the first did.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(url: &Url, body: &[u8]) -> Result<T, Error> {
    if let Ok(value) = T::deserialize(&mut serde_json::Deserializer::from_slice(body)) {
        return Ok(value);
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|err| Error::Decode {
        url: url.to_string(),
        path: err.path().to_string(),
        source: crate::error::DecodeDetail::new(&err.into_inner()),
    })
}

/// Decodes an already-parsed value, prefixing the JSON path (for members of a collection).
pub(crate) fn decode_value<T: serde::de::DeserializeOwned>(
    url: &Url,
    prefix: &str,
    value: Value,
) -> Result<T, Error> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let inner = err.path().to_string();
        let path = if inner == "." {
            prefix.to_owned()
        } else {
            format!("{prefix}.{inner}")
        };
        Error::Decode {
            url: url.to_string(),
            path,
            source: crate::error::DecodeDetail::new(&err.into_inner()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_type_is_the_namespace_of_odata_type() {
        assert_eq!(
            resource_type("#ComputerSystem.v1_20_0.ComputerSystem"),
            "ComputerSystem"
        );
        assert_eq!(resource_type("#ServiceRoot.ServiceRoot"), "ServiceRoot");
        assert_eq!(resource_type(" ComputerSystem "), "ComputerSystem");
    }

    #[test]
    fn a_body_that_does_not_decode_names_the_json_path_of_the_fault() {
        #[derive(Debug, serde::Deserialize)]
        struct Power {
            #[serde(rename = "Status")]
            status: Option<Status>,
        }
        #[derive(Debug, serde::Deserialize)]
        struct Status {
            #[serde(rename = "Health")]
            health: Option<u8>,
        }
        let url = Url::parse("https://bmc/redfish/v1/Systems/1").unwrap();
        let read: Power = decode(&url, br#"{"Other":{"x":[1]},"Status":{"Health":7}}"#).unwrap();
        assert_eq!(read.status.and_then(|s| s.health), Some(7));
        let err = decode::<Power>(&url, br#"{"Other":1,"Status":{"Health":"OK"}}"#).unwrap_err();
        assert!(
            matches!(&err, Error::Decode { path, url, .. } if path == "Status.Health"
                && url == "https://bmc/redfish/v1/Systems/1"),
            "{err:?}"
        );
        let err = decode::<Power>(&url, b"{\"Status\": ").unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    }

    #[test]
    fn only_a_declared_other_type_is_refused() {
        let url = Url::parse("https://bmc/redfish/v1").unwrap();
        let check = |declared| check_resource_type(&url, declared, "ComputerSystem");
        assert!(check(None).is_ok(), "firmware that leaves @odata.type out");
        assert!(check(Some("")).is_ok());
        assert!(check(Some("#ComputerSystem.v1_5_0.ComputerSystem")).is_ok());
        assert!(check(Some("#computersystem.v1_5_0.ComputerSystem")).is_ok());
        let err = check(Some("#ServiceRoot.v1_15_0.ServiceRoot")).unwrap_err();
        assert!(
            matches!(&err, Error::WrongResourceType { found, expected: "ComputerSystem", .. } if found == "ServiceRoot"),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "https://bmc/redfish/v1 is a ServiceRoot resource, not a ComputerSystem"
        );
    }
}
