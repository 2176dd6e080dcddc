//! The value-level checks behind the condition operators. Pure; never panics on any JSON.
//!
//! Comparisons follow ironic-inspector: a numeric operand turns the field into a number
//! (`"42"` compares as 42), a boolean operand compares with booleans (and 0/1), a string
//! operand with strings; anything that cannot be compared is simply not a match.

use std::cmp::Ordering;
use std::fmt;
use std::net::{IpAddr, SocketAddr};

use serde_json::{Number, Value};

use super::template::python_str;

/// How `field` compares with `operand`, when they can be compared at all.
pub(crate) fn compare(field: &Value, operand: &Value) -> Option<Ordering> {
    match operand {
        Value::Number(wanted) => match field {
            Value::Number(n) => compare_numbers(n, wanted),
            Value::String(s) => compare_numbers(&parse_number(s.trim())?, wanted),
            Value::Bool(b) => compare_numbers(&Number::from(u8::from(*b)), wanted),
            _ => None,
        },
        Value::Bool(wanted) => match field {
            Value::Bool(b) => Some(b.cmp(wanted)),
            Value::Number(n) => compare_numbers(n, &Number::from(u8::from(*wanted))),
            _ => None,
        },
        Value::String(wanted) => match field {
            Value::String(s) => Some(s.as_str().cmp(wanted.as_str())),
            _ => None,
        },
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// `eq`: equal by [`compare`], or the same JSON for null, lists and objects.
pub(crate) fn equals(field: &Value, operand: &Value) -> bool {
    match compare(field, operand) {
        Some(order) => order == Ordering::Equal,
        None => {
            matches!(operand, Value::Null | Value::Array(_) | Value::Object(_)) && field == operand
        }
    }
}

fn parse_number(text: &str) -> Option<Number> {
    if let Ok(i) = text.parse::<i64>() {
        return Some(Number::from(i));
    }
    if let Ok(u) = text.parse::<u64>() {
        return Some(Number::from(u));
    }
    text.parse::<f64>().ok().and_then(Number::from_f64)
}

/// Exact for integers, IEEE for the rest.
fn compare_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    let as_int = |n: &Number| {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    };
    if let (Some(x), Some(y)) = (as_int(a), as_int(b)) {
        return Some(x.cmp(&y));
    }
    a.as_f64()?.partial_cmp(&b.as_f64()?)
}

/// `is-empty`: null, `""`, `[]`, `{}`.
pub(crate) fn is_empty(field: &Value) -> bool {
    match field {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Bool(_) | Value::Number(_) => false,
    }
}

/// `is-true` as current Ironic: `true`, a non-zero number, or `"yes"`/`"true"` (any case).
pub(crate) fn is_true(field: &Value) -> bool {
    match field {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => s.eq_ignore_ascii_case("yes") || s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// `is-false` as current Ironic: `false`, zero, `"no"`/`"false"` (any case), or null.
pub(crate) fn is_false(field: &Value) -> bool {
    match field {
        Value::Bool(b) => !*b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f == 0.0),
        Value::String(s) => s.eq_ignore_ascii_case("no") || s.eq_ignore_ascii_case("false"),
        Value::Null => true,
        _ => false,
    }
}

/// The text a regex operator looks at: the string itself, else what Python's `str()` gives.
pub(crate) fn regex_subject(field: &Value) -> String {
    python_str(field)
}

/// An IP network for `in-net`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Net {
    address: IpAddr,
    prefix: u8,
}

impl Net {
    /// `10.20.0.0/16`, `fd00::/8`, or a single address (a /32 or /128). Host bits may be set,
    /// as netaddr allows.
    pub(crate) fn parse(text: &str) -> Result<Net, String> {
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.trim(), None),
        };
        let address: IpAddr = address
            .parse()
            .map_err(|_| format!("{address:?} is not an IPv4 or IPv6 address"))?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("prefix {p:?} is not a number from 0 to {max}"))?,
        };
        Ok(Net { address, prefix })
    }

    /// Whether the network holds `ip` (of the same family).
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        match (self.address, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix)
    }
}

/// The IP address in a field: `10.0.0.5`, `10.0.0.5:8443`, `[fd00::1]:443`, `fd00::1`.
pub(crate) fn field_ip(field: &Value) -> Option<IpAddr> {
    let text = field.as_str()?.trim();
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            text.strip_prefix('[')
                .and_then(|t| t.strip_suffix(']'))
                .and_then(|t| t.parse().ok())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_compare_exactly_and_coerce_strings() {
        assert_eq!(
            compare(&json!(262_144), &json!(262_144)),
            Some(Ordering::Equal)
        );
        assert_eq!(
            compare(&json!("262144"), &json!(262_144)),
            Some(Ordering::Equal)
        );
        assert_eq!(compare(&json!(" 7.5 "), &json!(7)), Some(Ordering::Greater));
        assert_eq!(
            compare(
                &json!(9_007_199_254_740_993_u64),
                &json!(9_007_199_254_740_992_u64)
            ),
            Some(Ordering::Greater)
        );
        assert_eq!(compare(&json!(-1), &json!(u64::MAX)), Some(Ordering::Less));
        assert_eq!(compare(&json!("many"), &json!(1)), None);
        assert_eq!(compare(&json!(null), &json!(1)), None);
        assert_eq!(compare(&json!([1]), &json!(1)), None);
    }

    #[test]
    fn booleans_and_strings_compare_with_their_kind() {
        assert!(equals(&json!(true), &json!(true)));
        assert!(!equals(&json!(false), &json!(true)));
        assert!(equals(&json!(1), &json!(true)), "legacy int(True) == 1");
        assert!(!equals(&json!("true"), &json!(true)));
        assert!(equals(&json!("Dell Inc."), &json!("Dell Inc.")));
        assert!(!equals(&json!(5), &json!("5")));
        assert_eq!(compare(&json!("abc"), &json!("abd")), Some(Ordering::Less));
        assert!(equals(&json!(null), &json!(null)));
        assert!(equals(&json!({"a": [1]}), &json!({"a": [1]})));
        assert!(!equals(&json!({"a": [2]}), &json!({"a": [1]})));
    }

    #[test]
    fn emptiness_truth_and_regex_subjects() {
        for empty in [json!(null), json!(""), json!([]), json!({})] {
            assert!(is_empty(&empty), "{empty}");
        }
        for full in [json!(0), json!(false), json!(" "), json!([null])] {
            assert!(!is_empty(&full), "{full}");
        }
        assert!(is_true(&json!("YES")) && is_true(&json!(2)) && !is_true(&json!("1")));
        assert!(is_false(&json!(null)) && is_false(&json!(0.0)) && !is_false(&json!("")));
        assert_eq!(regex_subject(&json!(true)), "True");
        assert_eq!(regex_subject(&json!(12)), "12");
    }

    #[test]
    fn networks_hold_their_addresses() {
        let net = Net::parse("10.20.0.0/16").unwrap();
        assert!(net.contains("10.20.255.1".parse().unwrap()));
        assert!(!net.contains("10.21.0.1".parse().unwrap()));
        assert!(!net.contains("::1".parse().unwrap()));
        assert!(
            Net::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        assert!(
            Net::parse("fd00::/8")
                .unwrap()
                .contains("fdab::1".parse().unwrap())
        );
        assert!(
            Net::parse("10.0.0.7")
                .unwrap()
                .contains("10.0.0.7".parse().unwrap())
        );
        assert!(
            Net::parse("10.20.1.2/16")
                .unwrap()
                .contains("10.20.9.9".parse().unwrap())
        );
        for bad in ["10.0.0.0/33", "10.0.0/8", "x/1", "::/129", "10.0.0.0/-1"] {
            assert!(Net::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            field_ip(&json!("10.0.0.5:8443")),
            Some("10.0.0.5".parse().unwrap())
        );
        assert_eq!(
            field_ip(&json!("[fd00::1]:443")),
            Some("fd00::1".parse().unwrap())
        );
        assert_eq!(
            field_ip(&json!("[fd00::1]")),
            Some("fd00::1".parse().unwrap())
        );
        assert_eq!(field_ip(&json!("bmc.example")), None);
        assert_eq!(field_ip(&json!(10)), None);
    }
}
