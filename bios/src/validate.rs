//! Validation of a desired profile before anything is sent, reporting every problem at once:
//! unknown names (with the three closest valid names), read-only, wrong type, a value not
//! allowed (with the allowed ones), integers out of bounds or off the increment, strings of
//! the wrong length or not matching the pattern, and registry dependencies that make an
//! attribute read-only, hidden or forced to another value in the resulting configuration.
//! Without a registry, types are taken from the current values and the result says the
//! registry was missing. Pure: no I/O.

use std::collections::HashSet;

use secrecy::SecretString;
use serde_json::Value;

use crate::portable::{self, VendorRow};
pub use crate::problem::{Problem, ProblemKind};
use crate::profile::Profile;
use crate::registry::{AttributeKind, AttributeRegistry, MapToProperty};
use crate::value::{AttributeValue, Attributes, ValueKind};

/// What validation reads: the registry when there is one, current and pending values, and
/// the vendor row for portable names.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// The attribute registry; `None` when none could be found.
    pub registry: Option<&'a AttributeRegistry>,
    /// Current values.
    pub current: &'a Attributes,
    /// Pending values (staged, not applied yet).
    pub pending: &'a Attributes,
    /// Which vendor's portable names to try first.
    pub vendor: VendorRow,
}

/// One accepted setting.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    /// The name as the profile wrote it (vendor or portable).
    pub requested_as: String,
    /// The vendor attribute name.
    pub name: String,
    /// The typed value.
    pub value: AttributeValue,
}

/// A profile that passed validation.
#[derive(Clone, Debug, PartialEq)]
pub struct Validated {
    /// The settings, in profile order.
    pub settings: Vec<Setting>,
    /// No registry was available: only types (from current values) and names were checked.
    pub registry_missing: bool,
    /// What could not be checked (a pattern this crate's regex engine does not accept).
    pub notes: Vec<String>,
}

/// Levenshtein distance, case-insensitive.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut row = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != cb);
            row[j + 1] = substitute.min(prev[j + 1] + 1).min(row[j] + 1);
        }
        prev = row;
    }
    prev[b.len()]
}

/// The three names closest to `wanted`, closest first (ties by name). A `#XXXX` suffix
/// (Supermicro) does not count in the distance unless `wanted` has one too.
pub fn closest_names<'a>(wanted: &str, names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let compared = |n: &'a str| {
        if wanted.contains('#') {
            n
        } else {
            crate::value::unsuffixed(n)
        }
    };
    let mut scored: Vec<(usize, &str)> = names
        .map(|n| (edit_distance(wanted, compared(n)), n))
        .collect();
    scored.sort_unstable();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored
        .into_iter()
        .take(3)
        .map(|(_, n)| n.to_owned())
        .collect()
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A value as dependency conditions compare it (a password is unknown).
fn condition_value(v: &AttributeValue) -> Value {
    match v {
        AttributeValue::Password(_) => Value::Null,
        other => other.to_wire(),
    }
}

/// Whether a name is a secret when nothing else says so.
fn looks_secret(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.contains("password") || lower.contains("passwd") || lower.contains("pwd")
}

impl Context<'_> {
    /// Every attribute name this BMC has: the registry's, else the current values'.
    fn names(&self) -> Vec<&str> {
        match self.registry {
            Some(r) => r.names().collect(),
            None => self.current.keys().map(String::as_str).collect(),
        }
    }

    fn has(&self, name: &str) -> bool {
        match self.registry {
            Some(r) => r.get(name).is_some(),
            None => self.current.contains_key(name),
        }
    }

    /// The BMC's spellings of `name`: itself, or every attribute whose name is `name` plus a
    /// `#XXXX` suffix (Supermicro `QuietBoot#002E`, quirk `bios_suffixed_names`).
    fn spellings(&self, name: &str) -> Vec<String> {
        if self.has(name) {
            return vec![name.to_owned()];
        }
        crate::value::spellings(name, self.names().into_iter())
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    /// The BMC's one spelling of `name`, if it has exactly one.
    fn find_name(&self, name: &str) -> Option<String> {
        let mut found = self.spellings(name);
        (found.len() == 1).then(|| found.remove(0))
    }

    fn allowed_values(&self, name: &str) -> Vec<String> {
        match self.registry.and_then(|r| r.get(name)).map(|d| &d.kind) {
            Some(AttributeKind::Enumeration { values }) => values.clone(),
            _ => Vec::new(),
        }
    }
}

/// Validates `profile`: every problem at once, or the typed settings. Pure.
pub fn validate(profile: &Profile, ctx: &Context<'_>) -> Result<Validated, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut settings: Vec<Setting> = Vec::new();
    let mut notes = Vec::new();
    let mut seen = HashSet::new();
    for entry in &profile.entries {
        let problem = |attribute: Option<&str>, kind| Problem {
            name: entry.name.clone(),
            attribute: attribute.map(str::to_owned),
            kind,
        };
        let spellings = ctx.spellings(&entry.name);
        let (attribute, raw) = if let [actual] = spellings.as_slice() {
            (actual.clone(), entry.value.clone())
        } else if spellings.len() > 1 {
            problems.push(problem(
                None,
                ProblemKind::Ambiguous {
                    candidates: spellings,
                },
            ));
            continue;
        } else if let Some(setting) = portable::lookup(&entry.name) {
            let find = |n: &str| {
                ctx.find_name(n)
                    .map(|a| (a.clone(), ctx.allowed_values(&a)))
            };
            if let Some(r) = portable::resolve(setting, &entry.value, ctx.vendor, &find) {
                (r.attribute, r.value)
            } else {
                let mut tried: Vec<String> = setting
                    .mappings
                    .iter()
                    .flat_map(|m| m.attributes.iter().map(|a| (*a).to_owned()))
                    .collect();
                tried.dedup();
                problems.push(problem(None, ProblemKind::PortableUnavailable { tried }));
                continue;
            }
        } else {
            let suggestions = closest_names(&entry.name, ctx.names().into_iter());
            problems.push(problem(None, ProblemKind::UnknownName { suggestions }));
            continue;
        };
        if !seen.insert(attribute.clone()) {
            problems.push(problem(Some(&attribute), ProblemKind::Duplicate));
            continue;
        }
        match typed_value(&attribute, &raw, ctx, &mut notes) {
            Ok(value) => settings.push(Setting {
                requested_as: entry.name.clone(),
                name: attribute,
                value,
            }),
            Err(kinds) => problems.extend(kinds.into_iter().map(|k| problem(Some(&attribute), k))),
        }
    }
    if let Some(registry) = ctx.registry {
        dependency_problems(registry, ctx, &settings, &mut problems);
    }
    if problems.is_empty() {
        Ok(Validated {
            settings,
            registry_missing: ctx.registry.is_none(),
            notes,
        })
    } else {
        Err(problems)
    }
}

/// Read-only, hidden and forced values, evaluated on the resulting configuration (current,
/// then pending, then the profile), for the settings that change something.
fn dependency_problems(
    registry: &AttributeRegistry,
    ctx: &Context<'_>,
    settings: &[Setting],
    problems: &mut Vec<Problem>,
) {
    let resulting = |name: &str| -> Option<Value> {
        settings
            .iter()
            .find(|s| s.name == name)
            .map(|s| &s.value)
            .or_else(|| ctx.pending.get(name))
            .or_else(|| ctx.current.get(name))
            .map(condition_value)
    };
    let current = |name: &str| ctx.current.get(name).map(condition_value);
    for s in settings {
        // Restating the value the attribute already has (and will keep) changes nothing and
        // sends nothing, so locks do not apply to it.
        let unchanged = ctx
            .current
            .get(&s.name)
            .is_some_and(|c| c.same_as(&s.value))
            && ctx.pending.get(&s.name).is_none_or(|p| p.same_as(&s.value));
        if unchanged {
            continue;
        }
        let effective = registry.effective(&s.name, &resulting, &current);
        let by_dependency = registry
            .dependencies
            .iter()
            .any(|d| d.target == s.name && d.property == MapToProperty::ReadOnly);
        let problem = |kind| Problem {
            name: s.requested_as.clone(),
            attribute: Some(s.name.clone()),
            kind,
        };
        if effective.read_only {
            let immutable = registry.get(&s.name).is_some_and(|d| d.immutable);
            problems.push(problem(ProblemKind::ReadOnly {
                by_dependency: by_dependency && !immutable,
            }));
            continue;
        }
        let hidden_by_dependency = registry.dependencies.iter().any(|d| {
            d.target == s.name
                && d.property == MapToProperty::Hidden
                && d.value == Value::Bool(true)
                && d.holds(&resulting)
        });
        if hidden_by_dependency {
            problems.push(problem(ProblemKind::Hidden));
            continue;
        }
        if let Some(forced) = effective.forced_value
            && forced != condition_value(&s.value)
        {
            problems.push(problem(ProblemKind::ForcedValue { forced }));
        }
    }
}

/// The value typed by the registry (or the current value), checked against its limits.
fn typed_value(
    name: &str,
    raw: &Value,
    ctx: &Context<'_>,
    notes: &mut Vec<String>,
) -> Result<AttributeValue, Vec<ProblemKind>> {
    let wrong = |expected| {
        vec![ProblemKind::WrongType {
            expected,
            got: json_kind(raw),
        }]
    };
    let Some(def) = ctx.registry.and_then(|r| r.get(name)) else {
        return untyped_value(name, raw, ctx);
    };
    match &def.kind {
        AttributeKind::Enumeration { values } => {
            let text = match raw {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return Err(wrong(ValueKind::Enum)),
            };
            if values.is_empty() || values.contains(&text) {
                Ok(AttributeValue::Enum(text))
            } else if raw.is_number() {
                Err(wrong(ValueKind::Enum))
            } else {
                Err(vec![ProblemKind::NotAllowed {
                    value: text,
                    allowed: values.clone(),
                }])
            }
        }
        AttributeKind::Integer {
            lower,
            upper,
            increment,
        } => {
            let value = as_integer(raw).ok_or_else(|| wrong(ValueKind::Integer))?;
            integer_problem(value, *lower, *upper, *increment)
                .map_or(Ok(AttributeValue::Integer(value)), |p| Err(vec![p]))
        }
        AttributeKind::String {
            min_length,
            max_length,
            pattern,
        } => {
            let text = raw.as_str().ok_or_else(|| wrong(ValueKind::String))?;
            let mut problems = Vec::new();
            if let Some(p) = length_problem(text, *min_length, *max_length) {
                problems.push(p);
            }
            if let Some(pattern) = pattern {
                match regex::Regex::new(pattern) {
                    Ok(re) if !re.is_match(text) => problems.push(ProblemKind::Pattern {
                        value: text.to_owned(),
                        pattern: pattern.clone(),
                    }),
                    Ok(_) => {}
                    Err(_) => notes.push(format!(
                        "{name}: the registry's pattern is not a regular expression this library reads; not checked"
                    )),
                }
            }
            if problems.is_empty() {
                Ok(AttributeValue::String(text.to_owned()))
            } else {
                Err(problems)
            }
        }
        AttributeKind::Boolean => as_bool(raw)
            .map(AttributeValue::Boolean)
            .ok_or_else(|| wrong(ValueKind::Boolean)),
        AttributeKind::Password {
            min_length,
            max_length,
        } => {
            let text = raw.as_str().ok_or_else(|| wrong(ValueKind::Password))?;
            match length_problem(text, *min_length, *max_length) {
                Some(p) => Err(vec![p]),
                None => Ok(AttributeValue::Password(SecretString::from(
                    text.to_owned(),
                ))),
            }
        }
        AttributeKind::Other(_) => {
            AttributeValue::from_json_untyped(raw).ok_or_else(|| wrong(ValueKind::String))
        }
    }
}

/// Without a registry the current value's type decides.
fn untyped_value(
    name: &str,
    raw: &Value,
    ctx: &Context<'_>,
) -> Result<AttributeValue, Vec<ProblemKind>> {
    let wrong = |expected| {
        vec![ProblemKind::WrongType {
            expected,
            got: json_kind(raw),
        }]
    };
    match ctx.current.get(name).map(AttributeValue::kind) {
        Some(ValueKind::Integer) => as_integer(raw)
            .map(AttributeValue::Integer)
            .ok_or_else(|| wrong(ValueKind::Integer)),
        Some(ValueKind::Boolean) => as_bool(raw)
            .map(AttributeValue::Boolean)
            .ok_or_else(|| wrong(ValueKind::Boolean)),
        Some(ValueKind::Password) => password(raw).ok_or_else(|| wrong(ValueKind::Password)),
        Some(ValueKind::Enum | ValueKind::String) => raw
            .as_str()
            .map(|s| AttributeValue::String(s.to_owned()))
            .ok_or_else(|| wrong(ValueKind::String)),
        None if looks_secret(name) => password(raw).ok_or_else(|| wrong(ValueKind::Password)),
        None => AttributeValue::from_json_untyped(raw).ok_or_else(|| wrong(ValueKind::String)),
    }
}

/// Bounds first, then the increment (counted from the lower bound, or 0). Pure.
fn integer_problem(
    value: i64,
    lower: Option<i64>,
    upper: Option<i64>,
    increment: Option<i64>,
) -> Option<ProblemKind> {
    if lower.is_some_and(|l| value < l) || upper.is_some_and(|u| value > u) {
        return Some(ProblemKind::OutOfBounds {
            value,
            lower,
            upper,
        });
    }
    let inc = increment?;
    let from = lower.unwrap_or(0);
    // i128: the difference of two i64 cannot overflow it.
    (((i128::from(value) - i128::from(from)) % i128::from(inc)) != 0).then_some(
        ProblemKind::OffIncrement {
            value,
            increment: inc,
            from,
        },
    )
}

fn length_problem(text: &str, min: Option<u64>, max: Option<u64>) -> Option<ProblemKind> {
    let length = text.chars().count() as u64;
    (min.is_some_and(|m| length < m) || max.is_some_and(|m| length > m))
        .then_some(ProblemKind::Length { length, min, max })
}

fn as_integer(raw: &Value) -> Option<i64> {
    match raw {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_bool(raw: &Value) -> Option<bool> {
    match raw {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn password(raw: &Value) -> Option<AttributeValue> {
    raw.as_str()
        .map(|s| AttributeValue::Password(SecretString::from(s.to_owned())))
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
