//! Lenient deserializers for values real firmware sends in the wrong shape (quirks `members_null`, `numbers_as_strings` and `empty_values`):
//! numbers as strings (`"N/A"`, `"42"`), `null` where a list is required, empty MAC addresses.
//!
//! Each reads a `serde_json::Value` first, so it also works inside `#[serde(flatten)]` structs.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A non-negative integer from a number, a numeric string or `null`; anything else is `None`.
pub(crate) fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(value_to_u64(&Value::deserialize(d)?))
}

pub(crate) fn value_to_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0 && f.fract() == 0.0 && *f < 1.8e19)
                .map(|f| {
                    #[allow(clippy::cast_sign_loss)]
                    let whole = f as u64;
                    whole
                })
        }),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<u64>()
                .ok()
                .or_else(|| value_to_u64(&serde_json::from_str(s).ok()?))
        }
        _ => None,
    }
}

/// A float from a number, a numeric string or `null`; anything else is `None`.
pub(crate) fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    })
}

/// A string from a string, a number (Processor `Socket` as an integer, quirk `numbers_as_strings`) or a bool;
/// `null` and structures are `None`.
pub(crate) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    })
}

/// A string that is `None` when empty or blank: empty MACs, empty UUIDs (quirks `members_null` and `empty_values`).
pub(crate) fn opt_nonempty_string<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    Ok(opt_string(d)?
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty()))
}

/// A bool from a bool or `"true"`/`"false"` in any case; anything else is `None`.
pub(crate) fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => Some(b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    })
}

/// A list where `null` (quirk `members_null`: `Members: null`) means empty. Elements must still decode.
pub(crate) fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// A list of strings where `null` means empty and non-string entries are dropped (some BMCs put
/// `null` into `@Redfish.AllowableValues`).
pub(crate) fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[derive(Deserialize, Debug)]
    struct Probe {
        #[serde(default, deserialize_with = "opt_u64")]
        n: Option<u64>,
        #[serde(default, deserialize_with = "opt_string")]
        s: Option<String>,
        #[serde(default, deserialize_with = "opt_nonempty_string")]
        mac: Option<String>,
        #[serde(default, deserialize_with = "opt_bool")]
        b: Option<bool>,
        #[serde(default, deserialize_with = "null_as_empty")]
        list: Vec<u8>,
        #[serde(default, deserialize_with = "string_list")]
        strings: Vec<String>,
    }

    fn probe(v: Value) -> Probe {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn numbers_as_strings_are_read_and_junk_is_none() {
        assert_eq!(probe(json!({"n": "42"})).n, Some(42));
        assert_eq!(probe(json!({"n": " 7 "})).n, Some(7));
        assert_eq!(probe(json!({"n": 3.0})).n, Some(3));
        assert_eq!(probe(json!({"n": "N/A"})).n, None);
        assert_eq!(probe(json!({"n": null})).n, None);
        assert_eq!(probe(json!({"n": -1})).n, None);
        assert_eq!(probe(json!({})).n, None);
    }

    #[test]
    fn strings_accept_integers() {
        assert_eq!(probe(json!({"s": 2})).s.as_deref(), Some("2"));
        assert_eq!(probe(json!({"s": {"a": 1}})).s, None);
    }

    #[test]
    fn empty_mac_is_none() {
        assert_eq!(probe(json!({"mac": ""})).mac, None);
        assert_eq!(probe(json!({"mac": " "})).mac, None);
        assert_eq!(probe(json!({"mac": "aa:bb"})).mac.as_deref(), Some("aa:bb"));
    }

    #[test]
    fn bools_from_strings() {
        assert_eq!(probe(json!({"b": "True"})).b, Some(true));
        assert_eq!(probe(json!({"b": 1})).b, None);
    }

    #[test]
    fn null_list_is_empty_but_bad_elements_fail() {
        assert!(probe(json!({"list": null})).list.is_empty());
        assert!(serde_json::from_value::<Probe>(json!({"list": ["x"]})).is_err());
        assert_eq!(
            probe(json!({"strings": ["A", null, 3, "B"]})).strings,
            vec!["A", "B"]
        );
    }
}
