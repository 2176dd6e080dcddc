//! Typed attribute values. A BIOS attribute is an enumeration member, an integer, a string, a
//! boolean or a password; a password is held in a [`SecretString`] and never shown by `Debug`,
//! `Display` or serialization.

use std::collections::BTreeMap;
use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Serialize, Serializer};
use serde_json::Value;

/// One attribute value, typed by the registry (or, without one, by the JSON it was read as).
#[derive(Clone)]
pub enum AttributeValue {
    /// A member of an enumeration (`ValueName`).
    Enum(String),
    /// An integer.
    Integer(i64),
    /// A free string.
    String(String),
    /// A boolean.
    Boolean(bool),
    /// A password: write-only, never displayed, logged or serialized.
    Password(SecretString),
}

/// What the value is, without the value (safe to show for passwords).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum ValueKind {
    /// [`AttributeValue::Enum`].
    Enum,
    /// [`AttributeValue::Integer`].
    Integer,
    /// [`AttributeValue::String`].
    String,
    /// [`AttributeValue::Boolean`].
    Boolean,
    /// [`AttributeValue::Password`].
    Password,
}

impl fmt::Display for ValueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValueKind::Enum => "enumeration",
            ValueKind::Integer => "integer",
            ValueKind::String => "string",
            ValueKind::Boolean => "boolean",
            ValueKind::Password => "password",
        })
    }
}

/// How a password appears wherever a value is shown.
pub(crate) const REDACTED: &str = "<redacted>";

impl AttributeValue {
    /// The kind of value.
    pub fn kind(&self) -> ValueKind {
        match self {
            AttributeValue::Enum(_) => ValueKind::Enum,
            AttributeValue::Integer(_) => ValueKind::Integer,
            AttributeValue::String(_) => ValueKind::String,
            AttributeValue::Boolean(_) => ValueKind::Boolean,
            AttributeValue::Password(_) => ValueKind::Password,
        }
    }

    /// The value as the BMC wants it in a PATCH body. This is the only place a password is
    /// exposed, to build the request.
    pub fn to_wire(&self) -> Value {
        match self {
            AttributeValue::Enum(s) | AttributeValue::String(s) => Value::from(s.as_str()),
            AttributeValue::Integer(i) => Value::from(*i),
            AttributeValue::Boolean(b) => Value::from(*b),
            AttributeValue::Password(p) => Value::from(p.expose_secret()),
        }
    }

    /// Types a value read from the BMC without a registry: strings are strings, numbers
    /// integers, booleans booleans. `None` for `null`, fractions, arrays and objects.
    pub fn from_json_untyped(value: &Value) -> Option<AttributeValue> {
        match value {
            Value::String(s) => Some(AttributeValue::String(s.clone())),
            Value::Number(n) => n.as_i64().map(AttributeValue::Integer),
            Value::Bool(b) => Some(AttributeValue::Boolean(*b)),
            _ => None,
        }
    }

    /// The text of an enumeration or string value.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            AttributeValue::Enum(s) | AttributeValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// Whether two values say the same thing to the BMC. An enumeration and a string with the
    /// same text are equal (the registry decides which one a value is, and it may be missing on
    /// one side); a password equals nothing, since it cannot be read back.
    pub fn same_as(&self, other: &AttributeValue) -> bool {
        match (self, other) {
            (AttributeValue::Password(_), _) | (_, AttributeValue::Password(_)) => false,
            (AttributeValue::Integer(a), AttributeValue::Integer(b)) => a == b,
            (AttributeValue::Boolean(a), AttributeValue::Boolean(b)) => a == b,
            (a, b) => match (a.as_text(), b.as_text()) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            },
        }
    }
}

impl PartialEq for AttributeValue {
    /// Structural equality; passwords compare by their secret (for tests; nothing here
    /// decides on it, see [`AttributeValue::same_as`]).
    fn eq(&self, other: &AttributeValue) -> bool {
        match (self, other) {
            (AttributeValue::Password(a), AttributeValue::Password(b)) => {
                a.expose_secret() == b.expose_secret()
            }
            (AttributeValue::Enum(a), AttributeValue::Enum(b))
            | (AttributeValue::String(a), AttributeValue::String(b)) => a == b,
            (AttributeValue::Integer(a), AttributeValue::Integer(b)) => a == b,
            (AttributeValue::Boolean(a), AttributeValue::Boolean(b)) => a == b,
            _ => false,
        }
    }
}

impl fmt::Debug for AttributeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttributeValue::Enum(s) => f.debug_tuple("Enum").field(s).finish(),
            AttributeValue::Integer(i) => f.debug_tuple("Integer").field(i).finish(),
            AttributeValue::String(s) => f.debug_tuple("String").field(s).finish(),
            AttributeValue::Boolean(b) => f.debug_tuple("Boolean").field(b).finish(),
            AttributeValue::Password(_) => f.write_str("Password(<redacted>)"),
        }
    }
}

impl fmt::Display for AttributeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttributeValue::Enum(s) | AttributeValue::String(s) => f.write_str(s),
            AttributeValue::Integer(i) => write!(f, "{i}"),
            AttributeValue::Boolean(b) => write!(f, "{b}"),
            AttributeValue::Password(_) => f.write_str(REDACTED),
        }
    }
}

impl Serialize for AttributeValue {
    /// As JSON the BMC would show: a password serializes as `null` (as BMCs read it back).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            AttributeValue::Enum(s) | AttributeValue::String(s) => serializer.serialize_str(s),
            AttributeValue::Integer(i) => serializer.serialize_i64(*i),
            AttributeValue::Boolean(b) => serializer.serialize_bool(*b),
            AttributeValue::Password(_) => serializer.serialize_none(),
        }
    }
}

/// Attribute values by name, sorted.
pub type Attributes = BTreeMap<String, AttributeValue>;

/// A name without its Supermicro-style `#XXXX` suffix (`QuietBoot#002E` → `QuietBoot`; quirk
/// `bios_suffixed_names`). Pure.
pub fn unsuffixed(name: &str) -> &str {
    name.split_once('#').map_or(name, |(base, _)| base)
}

/// The names among `names` that spell `name`: `name` itself when present, else every name
/// that is `name` plus a `#XXXX` suffix (several when the firmware repeats a name). Pure.
pub fn spellings<'a>(name: &str, names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut suffixed = Vec::new();
    for n in names {
        if n == name {
            return vec![n];
        }
        if n.contains('#') && unsuffixed(n) == name {
            suffixed.push(n);
        }
    }
    suffixed
}

/// The value of `name` in `attrs`, with the name the BMC uses: exact, or the one attribute
/// that is `name` plus a `#XXXX` suffix (Supermicro). Pure.
pub fn lookup<'a>(attrs: &'a Attributes, name: &str) -> Option<(&'a str, &'a AttributeValue)> {
    match spellings(name, attrs.keys().map(String::as_str)).as_slice() {
        [one] => attrs.get_key_value(*one).map(|(k, v)| (k.as_str(), v)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_never_shows() {
        let p = AttributeValue::Password(SecretString::from("hunter2-secret"));
        for shown in [
            format!("{p:?}"),
            format!("{p}"),
            serde_json::to_string(&p).unwrap(),
            format!("{:?}", vec![p.clone()]),
        ] {
            assert!(!shown.contains("hunter2"), "{shown}");
        }
        assert_eq!(p.to_wire(), Value::from("hunter2-secret"));
        assert_eq!(serde_json::to_value(&p).unwrap(), Value::Null);
    }

    #[test]
    fn same_as_treats_enum_and_string_text_alike_and_passwords_as_unknown() {
        let e = AttributeValue::Enum("Enabled".into());
        assert!(e.same_as(&AttributeValue::String("Enabled".into())));
        assert!(!e.same_as(&AttributeValue::Enum("Disabled".into())));
        assert!(!AttributeValue::Integer(1).same_as(&AttributeValue::String("1".into())));
        let p = AttributeValue::Password(SecretString::from("x"));
        assert!(!p.same_as(&p.clone()));
    }

    #[test]
    fn suffixed_names_are_found_by_their_clean_name_unless_repeated() {
        let mut a = Attributes::new();
        a.insert("QuietBoot#002E".into(), AttributeValue::Boolean(false));
        a.insert(
            "TXTSupport#0062".into(),
            AttributeValue::Enum("Enabled".into()),
        );
        a.insert(
            "TXTSupport#0072".into(),
            AttributeValue::Enum("Enabled".into()),
        );
        a.insert("BootMode".into(), AttributeValue::Enum("Uefi".into()));
        assert_eq!(unsuffixed("QuietBoot#002E"), "QuietBoot");
        assert_eq!(unsuffixed("BootMode"), "BootMode");
        assert_eq!(
            lookup(&a, "QuietBoot"),
            Some(("QuietBoot#002E", &AttributeValue::Boolean(false)))
        );
        assert_eq!(
            lookup(&a, "QuietBoot#002E").map(|(k, _)| k),
            Some("QuietBoot#002E")
        );
        assert_eq!(lookup(&a, "BootMode").map(|(k, _)| k), Some("BootMode"));
        assert_eq!(lookup(&a, "TXTSupport"), None, "two spellings: ambiguous");
        assert_eq!(
            spellings("TXTSupport", a.keys().map(String::as_str)),
            ["TXTSupport#0062", "TXTSupport#0072"]
        );
        assert_eq!(lookup(&a, "Quiet"), None);
    }

    #[test]
    fn untyped_json() {
        assert_eq!(
            AttributeValue::from_json_untyped(&Value::from(3)),
            Some(AttributeValue::Integer(3))
        );
        assert_eq!(AttributeValue::from_json_untyped(&Value::Null), None);
        assert_eq!(AttributeValue::from_json_untyped(&Value::from(1.5)), None);
    }
}
