//! Desired BIOS settings in the formats operators already have: Ironic's settings list
//! (`[{"name": "ProcVirtualization", "value": "Enabled"}]`, also wrapped as
//! `{"settings": [...]}`, or the whole `apply_configuration` clean step), a plain JSON object
//! (`{"ProcVirtualization": "Enabled"}`), and `NAME=VALUE` pairs (one per line or argument).
//! Names may be vendor attribute names or portable names ([`crate::portable`]).

use std::fmt;

use serde_json::Value;

use crate::error::BiosError;

/// One requested setting, as written.
#[derive(Clone, PartialEq)]
pub struct ProfileEntry {
    /// The name as written (vendor or portable).
    pub name: String,
    /// The value as written: JSON from a file, a string from `NAME=VALUE`.
    pub value: Value,
}

impl fmt::Debug for ProfileEntry {
    /// The value is left out: it may be a password, and nothing knows yet which names are.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProfileEntry")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A desired configuration: entries in the order given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Profile {
    /// The entries.
    pub entries: Vec<ProfileEntry>,
}

impl Profile {
    /// An empty profile.
    pub fn new() -> Profile {
        Profile::default()
    }

    /// Adds one setting.
    #[must_use]
    pub fn set(mut self, name: impl Into<String>, value: impl Into<Value>) -> Profile {
        self.entries.push(ProfileEntry {
            name: name.into(),
            value: value.into(),
        });
        self
    }

    /// Reads a profile from text: JSON (an Ironic list, `{"settings": [...]}` or a plain
    /// object) when it starts with `[` or `{`, else `NAME=VALUE` lines (blank lines and lines
    /// starting with `#` are skipped).
    pub fn parse(text: &str) -> Result<Profile, BiosError> {
        let trimmed = text.trim_start();
        if trimmed.starts_with('[') || trimmed.starts_with('{') {
            let value: Value =
                serde_json::from_str(text).map_err(|e| BiosError::ProfileFormat {
                    reason: format!("not valid JSON: {e}"),
                })?;
            Profile::from_json(&value)
        } else {
            Profile::from_pairs(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#')),
            )
        }
    }

    /// Reads a profile file in any of the formats [`Profile::parse`] reads.
    pub fn read_file(path: &std::path::Path) -> Result<Profile, BiosError> {
        let text = std::fs::read_to_string(path).map_err(|e| BiosError::ProfileFormat {
            reason: format!("cannot read {}: {e}", path.display()),
        })?;
        Profile::parse(&text).map_err(|e| match e {
            BiosError::ProfileFormat { reason } => BiosError::ProfileFormat {
                reason: format!("{}: {reason}", path.display()),
            },
            other => other,
        })
    }

    /// Reads a profile from JSON: an Ironic settings list, `{"settings": [...]}`, or a plain
    /// object of names to values.
    pub fn from_json(value: &Value) -> Result<Profile, BiosError> {
        match value {
            Value::Array(items) => Profile::from_ironic_list(items),
            Value::Object(map) => match map.get("settings") {
                Some(Value::Array(items)) if map.len() == 1 => Profile::from_ironic_list(items),
                // A whole clean step: {"interface": "bios", "step": "apply_configuration",
                // "args": {"settings": [...]}}.
                _ if map.get("step").and_then(Value::as_str) == Some("apply_configuration") => {
                    match map.get("args").and_then(|a| a.get("settings")) {
                        Some(Value::Array(items)) => Profile::from_ironic_list(items),
                        _ => Err(BiosError::ProfileFormat {
                            reason: "the apply_configuration step has no args.settings list".into(),
                        }),
                    }
                }
                _ => Ok(Profile {
                    entries: map
                        .iter()
                        .map(|(name, value)| ProfileEntry {
                            name: name.clone(),
                            value: value.clone(),
                        })
                        .collect(),
                }),
            },
            _ => Err(BiosError::ProfileFormat {
                reason: "expected a JSON list of {\"name\", \"value\"} or an object".into(),
            }),
        }
    }

    fn from_ironic_list(items: &[Value]) -> Result<Profile, BiosError> {
        let entries = items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let name = item
                    .get("name")
                    .and_then(Value::as_str)
                    .filter(|n| !n.is_empty());
                match (name, item.get("value")) {
                    (Some(name), Some(value)) => Ok(ProfileEntry {
                        name: name.to_owned(),
                        value: value.clone(),
                    }),
                    _ => Err(BiosError::ProfileFormat {
                        reason: format!("settings[{i}] needs a non-empty \"name\" and a \"value\""),
                    }),
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(Profile { entries })
    }

    /// Reads `NAME=VALUE` pairs. The value is kept as a string; validation converts it to
    /// the attribute's type (`4` for an integer, `true` for a boolean).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = &'a str>) -> Result<Profile, BiosError> {
        let entries = pairs
            .into_iter()
            .enumerate()
            .map(|(i, pair)| match pair.split_once('=') {
                Some((name, value)) if !name.trim().is_empty() => Ok(ProfileEntry {
                    name: name.trim().to_owned(),
                    value: Value::from(value.trim()),
                }),
                _ => Err(BiosError::ProfileFormat {
                    reason: format!("pair {} is not NAME=VALUE", i + 1),
                }),
            })
            .collect::<Result<_, _>>()?;
        Ok(Profile { entries })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_three_formats_read_the_same() {
        let ironic =
            Profile::parse(r#"[{"name": "ProcVirtualization", "value": "Enabled"}, {"name": "BootSeqRetryCount", "value": 4}]"#)
                .unwrap();
        let wrapped = Profile::parse(
            r#"{"settings": [{"name": "ProcVirtualization", "value": "Enabled"}, {"name": "BootSeqRetryCount", "value": 4}]}"#,
        )
        .unwrap();
        let object =
            Profile::parse(r#"{"ProcVirtualization": "Enabled", "BootSeqRetryCount": 4}"#).unwrap();
        assert_eq!(ironic, wrapped);
        let step = Profile::parse(
            r#"{"interface": "bios", "step": "apply_configuration", "args": {"settings": [{"name": "ProcVirtualization", "value": "Enabled"}, {"name": "BootSeqRetryCount", "value": 4}]}}"#,
        )
        .unwrap();
        assert_eq!(ironic, step);
        let mut names: Vec<_> = object.entries.iter().map(|e| e.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["BootSeqRetryCount", "ProcVirtualization"]);
        let pairs =
            Profile::parse("# comment\nProcVirtualization=Enabled\n\n BootSeqRetryCount = 4\n")
                .unwrap();
        assert_eq!(pairs.entries[1].name, "BootSeqRetryCount");
        assert_eq!(pairs.entries[1].value, json!("4"));
    }

    #[test]
    fn bad_profiles_are_typed_errors() {
        for bad in [
            "{\"step\": \"apply_configuration\", \"args\": {}}",
            "[{\"name\": \"A\"}]",
            "[1]",
            "{not json",
            "JustAName",
            "=value",
            "42",
        ] {
            let err = Profile::parse(bad);
            assert!(
                matches!(err, Err(BiosError::ProfileFormat { .. })),
                "{bad}: {err:?}"
            );
        }
    }

    #[test]
    fn debug_never_shows_values() {
        let p = Profile::parse("SetupPassword=topsecret-1").unwrap();
        assert!(!format!("{p:?}").contains("topsecret"));
    }
}
