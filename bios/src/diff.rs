//! What a validated profile changes, against the current *and* the pending values (Ironic's
//! no-op rule): a value already current with nothing else pending, or already pending, is not
//! sent again. Pure.

use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::validate::Validated;
use crate::value::{AttributeValue, Attributes};

/// One attribute to send.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    /// The vendor attribute name.
    pub name: String,
    /// The name as the profile wrote it.
    pub requested_as: String,
    /// The current value (`None` when the BMC does not show one, as for passwords).
    pub current: Option<AttributeValue>,
    /// A pending value this change replaces.
    pub pending: Option<AttributeValue>,
    /// The value to send.
    pub value: AttributeValue,
}

/// The result of comparing a profile with the BMC.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Diff {
    /// Attributes to send.
    pub changes: Vec<Change>,
    /// Attributes whose requested value is already pending (staged, to be applied at reset).
    pub already_pending: Vec<String>,
    /// Attributes already at the requested value, with nothing different pending.
    pub unchanged: Vec<String>,
}

impl Diff {
    /// Compares `validated` with `current` and `pending`. `pending_lists_all` (HPE, Lenovo):
    /// the settings object lists every attribute, so a pending value equal to the current one
    /// means nothing is staged; elsewhere (Dell) it means a change is staged and still to be
    /// applied, even if `Bios` already shows it (quirk `pending_shown_before_job`: iDRAC shows pending values in `Bios` before its job ran).
    pub fn compute(
        validated: &Validated,
        current: &Attributes,
        pending: &Attributes,
        pending_lists_all: bool,
    ) -> Diff {
        let mut diff = Diff::default();
        for s in &validated.settings {
            let cur = current.get(&s.name);
            let pen = pending.get(&s.name);
            let is_current = cur.is_some_and(|c| c.same_as(&s.value));
            let is_pending = pen.is_some_and(|p| p.same_as(&s.value));
            if is_current && (pen.is_none() || (is_pending && pending_lists_all)) {
                diff.unchanged.push(s.name.clone());
            } else if is_pending {
                diff.already_pending.push(s.name.clone());
            } else {
                diff.changes.push(Change {
                    name: s.name.clone(),
                    requested_as: s.requested_as.clone(),
                    current: cur.cloned(),
                    pending: pen.cloned(),
                    value: s.value.clone(),
                });
            }
        }
        diff
    }

    /// Nothing to send.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The `Attributes` object of the PATCH (passwords exposed here only).
    pub fn patch_attributes(&self) -> Map<String, Value> {
        self.changes
            .iter()
            .map(|c| (c.name.clone(), c.value.to_wire()))
            .collect()
    }
}

impl fmt::Display for Diff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.changes.is_empty() {
            write!(
                f,
                "nothing to change: {} already current, {} already pending",
                self.unchanged.len(),
                self.already_pending.len()
            )?;
        }
        for (i, c) in self.changes.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            let current = c
                .current
                .as_ref()
                .map_or_else(|| "?".to_owned(), ToString::to_string);
            write!(f, "{}: {current} -> {}", c.name, c.value)?;
            if let Some(p) = &c.pending {
                write!(f, " (replaces pending {p})")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;
    use crate::validate::Setting;

    fn attrs(pairs: &[(&str, &str)]) -> Attributes {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), AttributeValue::Enum((*v).to_owned())))
            .collect()
    }

    fn wanted(pairs: &[(&str, AttributeValue)]) -> Validated {
        Validated {
            settings: pairs
                .iter()
                .map(|(k, v)| Setting {
                    requested_as: (*k).to_owned(),
                    name: (*k).to_owned(),
                    value: v.clone(),
                })
                .collect(),
            registry_missing: false,
            notes: Vec::new(),
        }
    }

    #[test]
    fn current_and_pending_both_count() {
        let e = |s: &str| AttributeValue::Enum(s.to_owned());
        let current = attrs(&[("A", "On"), ("B", "On"), ("C", "On"), ("D", "On")]);
        // B is pending Off; C pending On back (HPE lists everything); D pending Off.
        let pending = attrs(&[("B", "Off"), ("C", "On"), ("D", "Off")]);
        let v = wanted(&[
            ("A", e("On")),
            ("B", e("Off")),
            ("C", e("On")),
            ("D", e("On")),
            ("E", e("X")),
        ]);
        let d = Diff::compute(&v, &current, &pending, true);
        assert_eq!(d.unchanged, ["A", "C"]);
        assert_eq!(d.already_pending, ["B"]);
        let names: Vec<_> = d.changes.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["D", "E"], "D reverts a conflicting pending value");
        assert_eq!(d.changes[0].pending, Some(e("Off")));
        // Where pending holds only changes, C is staged and still to be applied.
        let d = Diff::compute(&v, &current, &pending, false);
        assert_eq!(d.unchanged, ["A"]);
        assert_eq!(d.already_pending, ["B", "C"]);
    }

    #[test]
    fn empty_diff_says_so_and_passwords_are_always_sent_but_never_shown() {
        let v = wanted(&[("A", AttributeValue::Enum("On".into()))]);
        let d = Diff::compute(&v, &attrs(&[("A", "On")]), &Attributes::new(), false);
        assert!(d.is_empty());
        assert!(d.to_string().starts_with("nothing to change"));
        let p = AttributeValue::Password(SecretString::from("pw-secret-9"));
        let d = Diff::compute(
            &wanted(&[("SetupPassword", p)]),
            &Attributes::new(),
            &Attributes::new(),
            false,
        );
        assert_eq!(d.changes.len(), 1);
        assert!(!d.to_string().contains("pw-secret"));
        assert!(!format!("{d:?}").contains("pw-secret"));
        assert!(!serde_json::to_string(&d).unwrap().contains("pw-secret"));
        assert_eq!(d.patch_attributes()["SetupPassword"], "pw-secret-9");
    }
}
