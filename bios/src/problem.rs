//! What is wrong with a profile: one [`Problem`] per entry and fault, shown without ever
//! repeating a password.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::value::ValueKind;

/// What is wrong with one entry of a profile.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProblemKind {
    /// No attribute of that name (nor a portable name).
    UnknownName {
        /// Up to three valid names closest by edit distance.
        suggestions: Vec<String>,
    },
    /// A portable name none of whose vendor attributes exists on this BMC.
    PortableUnavailable {
        /// The attribute names tried.
        tried: Vec<String>,
    },
    /// The name stands for several attributes: the firmware repeats it with different
    /// `#XXXX` suffixes (Supermicro); the profile must name one.
    Ambiguous {
        /// The attributes it could mean.
        candidates: Vec<String>,
    },
    /// The same attribute twice.
    Duplicate,
    /// Read-only: by the registry, or through a dependency in the resulting configuration.
    ReadOnly {
        /// A dependency decides it (it may change when other attributes change).
        by_dependency: bool,
    },
    /// A dependency hides the attribute in the resulting configuration.
    Hidden,
    /// A dependency forces another value in the resulting configuration.
    ForcedValue {
        /// The value the dependency forces.
        forced: Value,
    },
    /// The value's type does not match the attribute's.
    WrongType {
        /// The attribute's type.
        expected: ValueKind,
        /// The JSON type given.
        got: &'static str,
    },
    /// An enumeration value not in the list.
    NotAllowed {
        /// The value given.
        value: String,
        /// The allowed values.
        allowed: Vec<String>,
    },
    /// An integer outside `LowerBound..=UpperBound`.
    OutOfBounds {
        /// The value given.
        value: i64,
        /// `LowerBound`.
        lower: Option<i64>,
        /// `UpperBound`.
        upper: Option<i64>,
    },
    /// An integer not on `LowerBound + k * ScalarIncrement`.
    OffIncrement {
        /// The value given.
        value: i64,
        /// `ScalarIncrement`.
        increment: i64,
        /// Where the steps start.
        from: i64,
    },
    /// A string (or password) too short or too long. The value is not repeated.
    Length {
        /// Its length in characters.
        length: u64,
        /// `MinLength`.
        min: Option<u64>,
        /// `MaxLength`.
        max: Option<u64>,
    },
    /// A string not matching `ValueExpression`.
    Pattern {
        /// The value given.
        value: String,
        /// The pattern.
        pattern: String,
    },
}

/// One problem: which entry and what is wrong.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Problem {
    /// The name as the profile wrote it.
    pub name: String,
    /// The vendor attribute it resolved to, when it did.
    pub attribute: Option<String>,
    /// What is wrong.
    #[serde(flatten)]
    pub kind: ProblemKind,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.attribute {
            Some(a) if *a != self.name => write!(f, "{} ({a}): ", self.name)?,
            _ => write!(f, "{}: ", self.name)?,
        }
        let range = |lo: &Option<i64>, hi: &Option<i64>| {
            format!(
                "{}..={}",
                lo.map_or_else(String::new, |v| v.to_string()),
                hi.map_or_else(String::new, |v| v.to_string())
            )
        };
        match &self.kind {
            ProblemKind::UnknownName { suggestions } if suggestions.is_empty() => {
                f.write_str("no such attribute")
            }
            ProblemKind::UnknownName { suggestions } => {
                write!(
                    f,
                    "no such attribute; did you mean {}?",
                    suggestions.join(", ")
                )
            }
            ProblemKind::PortableUnavailable { tried } => write!(
                f,
                "this BMC has none of the attributes this portable name maps to ({})",
                tried.join(", ")
            ),
            ProblemKind::Ambiguous { candidates } => write!(
                f,
                "names several attributes on this BMC; name one of {}",
                candidates.join(", ")
            ),
            ProblemKind::Duplicate => f.write_str("set more than once"),
            ProblemKind::ReadOnly {
                by_dependency: false,
            } => f.write_str("read-only"),
            ProblemKind::ReadOnly {
                by_dependency: true,
            } => f.write_str("read-only in the resulting configuration (a registry dependency)"),
            ProblemKind::Hidden => {
                f.write_str("hidden in the resulting configuration (a registry dependency)")
            }
            ProblemKind::ForcedValue { forced } => {
                write!(
                    f,
                    "a registry dependency forces {forced} in the resulting configuration"
                )
            }
            ProblemKind::WrongType { expected, got } => {
                write!(f, "expects {expected}, got {got}")
            }
            ProblemKind::NotAllowed { value, allowed } => {
                write!(
                    f,
                    "{value:?} is not allowed; allowed: {}",
                    allowed.join(", ")
                )
            }
            ProblemKind::OutOfBounds {
                value,
                lower,
                upper,
            } => {
                write!(f, "{value} is outside {}", range(lower, upper))
            }
            ProblemKind::OffIncrement {
                value,
                increment,
                from,
            } => {
                write!(f, "{value} is not {from} plus a multiple of {increment}")
            }
            ProblemKind::Length { length, min, max } => write!(
                f,
                "length {length} is outside {}",
                range(
                    &min.and_then(|v| i64::try_from(v).ok()),
                    &max.and_then(|v| i64::try_from(v).ok())
                )
            ),
            ProblemKind::Pattern { value, pattern } => {
                write!(f, "{value:?} does not match {pattern}")
            }
        }
    }
}

/// The problems on one line each, for an error message.
pub(crate) fn summary(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
