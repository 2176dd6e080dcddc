//! The AttributeRegistry (DSP0266 `AttributeRegistry`): what each attribute is, what it allows,
//! and the `Dependencies` that make an attribute read-only, hidden or forced to a value
//! depending on others. Parsed leniently: unknown properties and types are kept or ignored;
//! only what makes the registry unusable (no `RegistryEntries.Attributes`, an attribute without
//! a name) is an error, naming the URL and the JSON path.

use std::collections::HashMap;

use serde_json::Value;

use crate::error::BiosError;

/// What an attribute holds and the limits the registry puts on it.
#[derive(Clone, Debug, PartialEq)]
pub enum AttributeKind {
    /// One of the listed `ValueName`s (or `ValueDisplayName`s when a name is missing).
    Enumeration {
        /// Allowed values, in registry order.
        values: Vec<String>,
    },
    /// An integer.
    Integer {
        /// `LowerBound`.
        lower: Option<i64>,
        /// `UpperBound`.
        upper: Option<i64>,
        /// `ScalarIncrement` (0 or absent: any step).
        increment: Option<i64>,
    },
    /// A string.
    String {
        /// `MinLength`.
        min_length: Option<u64>,
        /// `MaxLength`.
        max_length: Option<u64>,
        /// `ValueExpression`, a regular expression.
        pattern: Option<String>,
    },
    /// `true` / `false`.
    Boolean,
    /// A write-only password.
    Password {
        /// `MinLength`.
        min_length: Option<u64>,
        /// `MaxLength`.
        max_length: Option<u64>,
    },
    /// A type this crate does not know; values pass unchecked.
    Other(String),
}

/// One registry attribute.
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::struct_excessive_bools)] // the registry's own flags, one each
pub struct AttributeDef {
    /// `AttributeName`.
    pub name: String,
    /// `DisplayName`.
    pub display_name: Option<String>,
    /// Type and limits.
    pub kind: AttributeKind,
    /// `ReadOnly` as published (Dell publishes it as evaluated on the current values).
    pub read_only: bool,
    /// `Immutable`: never writable.
    pub immutable: bool,
    /// `Hidden`.
    pub hidden: bool,
    /// `GrayOut` (HPE): shown but not changeable.
    pub gray_out: bool,
    /// `ResetRequired`.
    pub reset_required: bool,
    /// `DefaultValue`, as sent.
    pub default_value: Option<Value>,
}

/// A `MapFromCondition`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    /// `EQU`.
    Equal,
    /// `NEQ`.
    NotEqual,
    /// `GTR`.
    Greater,
    /// `GEQ`.
    GreaterOrEqual,
    /// `LSS`.
    Less,
    /// `LEQ`.
    LessOrEqual,
}

/// How a condition joins the previous ones (`MapTerms`). Absent means `OR`: Dell lists
/// alternatives (`SysProfile` is one of five values) without it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Terms {
    /// `AND`.
    And,
    /// `OR`.
    Or,
}

/// One `MapFrom` condition.
#[derive(Clone, Debug, PartialEq)]
pub struct MapFrom {
    /// `MapFromAttribute`.
    pub attribute: String,
    /// `MapFromCondition`.
    pub condition: Condition,
    /// `MapFromValue`.
    pub value: Value,
    /// `MapTerms`.
    pub terms: Terms,
}

/// What a dependency changes (`MapToProperty`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MapToProperty {
    /// `ReadOnly`.
    ReadOnly,
    /// `Hidden`.
    Hidden,
    /// `GrayOut`.
    GrayOut,
    /// `CurrentValue`: the dependency forces the attribute's value.
    CurrentValue,
    /// Anything else (ignored).
    Other(String),
}

/// One `Map` dependency.
#[derive(Clone, Debug, PartialEq)]
pub struct Dependency {
    /// The conditions, in order.
    pub map_from: Vec<MapFrom>,
    /// `MapToAttribute`.
    pub target: String,
    /// `MapToProperty`.
    pub property: MapToProperty,
    /// `MapToValue`.
    pub value: Value,
}

impl Dependency {
    /// Whether the conditions hold, reading attribute values through `value_of`. Pure.
    pub fn holds(&self, value_of: &dyn Fn(&str) -> Option<Value>) -> bool {
        let mut result: Option<bool> = None;
        for cond in &self.map_from {
            let this =
                value_of(&cond.attribute).is_some_and(|v| compare(&v, cond.condition, &cond.value));
            result = Some(match (result, cond.terms) {
                (None, _) => this,
                (Some(acc), Terms::And) => acc && this,
                (Some(acc), Terms::Or) => acc || this,
            });
        }
        result.unwrap_or(false)
    }
}

fn compare(actual: &Value, condition: Condition, wanted: &Value) -> bool {
    let ordering = match (actual.as_f64(), wanted.as_f64()) {
        (Some(a), Some(b)) => a.partial_cmp(&b),
        _ => match (actual.as_str(), wanted.as_str()) {
            (Some(a), Some(b)) => Some(a.cmp(b)),
            _ => (actual == wanted).then_some(std::cmp::Ordering::Equal),
        },
    };
    match condition {
        Condition::Equal => ordering == Some(std::cmp::Ordering::Equal),
        Condition::NotEqual => ordering != Some(std::cmp::Ordering::Equal),
        Condition::Greater => ordering == Some(std::cmp::Ordering::Greater),
        Condition::GreaterOrEqual => ordering.is_some_and(std::cmp::Ordering::is_ge),
        Condition::Less => ordering == Some(std::cmp::Ordering::Less),
        Condition::LessOrEqual => ordering.is_some_and(std::cmp::Ordering::is_le),
    }
}

/// A parsed attribute registry.
#[derive(Clone, Debug, PartialEq)]
pub struct AttributeRegistry {
    /// `Id`, for example `BiosAttributeRegistry.v1_0_3`.
    pub id: String,
    /// `Language`.
    pub language: Option<String>,
    /// `RegistryVersion`.
    pub version: Option<String>,
    /// `OwningEntity`.
    pub owning_entity: Option<String>,
    /// The attributes, in registry order.
    pub attributes: Vec<AttributeDef>,
    /// The `Map` dependencies.
    pub dependencies: Vec<Dependency>,
    by_name: HashMap<String, usize>,
}

/// The result of evaluating dependencies for one attribute on one configuration.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Effective {
    /// Read-only in that configuration.
    pub read_only: bool,
    /// Hidden in that configuration.
    pub hidden: bool,
    /// A value a `CurrentValue` dependency forces.
    pub forced_value: Option<Value>,
}

impl AttributeRegistry {
    /// Parses a registry body read from `url`.
    pub fn parse(url: &str, body: &Value) -> Result<AttributeRegistry, BiosError> {
        let malformed = |path: &str, reason: &str| BiosError::Malformed {
            url: url.to_owned(),
            json_path: path.to_owned(),
            reason: reason.to_owned(),
        };
        if !body.is_object() {
            return Err(malformed("$", "the registry is not a JSON object"));
        }
        let entries = body
            .get("RegistryEntries")
            .filter(|e| e.is_object())
            .ok_or_else(|| malformed("$.RegistryEntries", "missing or not an object"))?;
        let list = entries
            .get("Attributes")
            .and_then(Value::as_array)
            .ok_or_else(|| malformed("$.RegistryEntries.Attributes", "missing or not an array"))?;
        let mut attributes = Vec::with_capacity(list.len());
        for (i, a) in list.iter().enumerate() {
            let at = |field: &str| format!("$.RegistryEntries.Attributes[{i}]{field}");
            let name = a
                .get("AttributeName")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .ok_or_else(|| malformed(&at(".AttributeName"), "missing or not a string"))?;
            attributes.push(parse_attribute(name, a).ok_or_else(|| {
                malformed(&at(".Value"), "an enumeration's Value is not an array")
            })?);
        }
        let dependencies = match entries.get("Dependencies") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(deps)) => deps.iter().filter_map(parse_dependency).collect(),
            Some(_) => {
                return Err(malformed("$.RegistryEntries.Dependencies", "not an array"));
            }
        };
        let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
        let by_name = attributes
            .iter()
            .enumerate()
            .map(|(i, a)| (a.name.clone(), i))
            .collect();
        Ok(AttributeRegistry {
            id: text("Id").unwrap_or_default(),
            language: text("Language"),
            version: text("RegistryVersion"),
            owning_entity: text("OwningEntity"),
            attributes,
            dependencies,
            by_name,
        })
    }

    /// The attribute called `name`.
    pub fn get(&self, name: &str) -> Option<&AttributeDef> {
        self.by_name.get(name).map(|&i| &self.attributes[i])
    }

    /// Every attribute name.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.attributes.iter().map(|a| a.name.as_str())
    }

    /// Whether `name` is read-only, hidden or forced in the configuration `value_of`
    /// describes, compared with the configuration `current_of` describes.
    ///
    /// A registry's `ReadOnly`/`Hidden` may itself be the result of its dependencies on the
    /// current values (Dell publishes `ProcTurboMode` read-only while `SysProfile` is not
    /// `Custom`). So: a flag that a dependency explains on the current values is not taken as
    /// fixed; the dependencies are then evaluated on the resulting configuration. `Immutable`
    /// always means read-only. Pure.
    pub fn effective(
        &self,
        name: &str,
        value_of: &dyn Fn(&str) -> Option<Value>,
        current_of: &dyn Fn(&str) -> Option<Value>,
    ) -> Effective {
        let Some(def) = self.get(name) else {
            return Effective::default();
        };
        let deps: Vec<&Dependency> = self
            .dependencies
            .iter()
            .filter(|d| d.target == name)
            .collect();
        let flag = |property: &MapToProperty, published: bool| -> bool {
            let relevant: Vec<&&Dependency> =
                deps.iter().filter(|d| &d.property == property).collect();
            let explained_now = relevant
                .iter()
                .any(|d| d.value == Value::Bool(published) && d.holds(current_of));
            let base = published && !explained_now;
            relevant
                .iter()
                .filter(|d| d.holds(value_of))
                .filter_map(|d| d.value.as_bool())
                .next_back()
                .unwrap_or(base)
        };
        let read_only = def.immutable
            || flag(&MapToProperty::ReadOnly, def.read_only)
            || flag(&MapToProperty::GrayOut, def.gray_out);
        let hidden = flag(&MapToProperty::Hidden, def.hidden);
        let forced_value = deps
            .iter()
            .filter(|d| d.property == MapToProperty::CurrentValue && d.holds(value_of))
            .map(|d| d.value.clone())
            .next_back();
        Effective {
            read_only,
            hidden,
            forced_value,
        }
    }
}

/// One attribute; `None` when its `Value` list is not a list.
fn parse_attribute(name: &str, a: &Value) -> Option<AttributeDef> {
    let flag = |k: &str| a.get(k).and_then(Value::as_bool).unwrap_or(false);
    let int = |k: &str| a.get(k).and_then(Value::as_i64);
    let uint = |k: &str| a.get(k).and_then(Value::as_u64);
    let ty = a.get("Type").and_then(Value::as_str).unwrap_or("");
    let kind = match ty {
        "Enumeration" => {
            let values = match a.get("Value") {
                Some(Value::Array(values)) => values
                    .iter()
                    .filter_map(|v| {
                        v.get("ValueName")
                            .or_else(|| v.get("ValueDisplayName"))
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                    })
                    .collect(),
                None | Some(Value::Null) => Vec::new(),
                Some(_) => return None,
            };
            AttributeKind::Enumeration { values }
        }
        "Integer" => AttributeKind::Integer {
            lower: int("LowerBound"),
            upper: int("UpperBound"),
            increment: int("ScalarIncrement").filter(|&s| s > 0),
        },
        "String" => AttributeKind::String {
            min_length: uint("MinLength"),
            max_length: uint("MaxLength"),
            pattern: a
                .get("ValueExpression")
                .and_then(Value::as_str)
                .filter(|p| !p.is_empty())
                .map(str::to_owned),
        },
        "Boolean" => AttributeKind::Boolean,
        "Password" => AttributeKind::Password {
            min_length: uint("MinLength"),
            max_length: uint("MaxLength"),
        },
        other => AttributeKind::Other(other.to_owned()),
    };
    Some(AttributeDef {
        name: name.to_owned(),
        display_name: a
            .get("DisplayName")
            .and_then(Value::as_str)
            .map(str::to_owned),
        kind,
        read_only: flag("ReadOnly"),
        immutable: flag("Immutable"),
        hidden: flag("Hidden"),
        gray_out: flag("GrayOut"),
        reset_required: flag("ResetRequired"),
        default_value: a.get("DefaultValue").filter(|v| !v.is_null()).cloned(),
    })
}

/// A dependency this crate can evaluate, or `None` (not a `Map`, or incomplete): skipping an
/// unreadable dependency only makes validation less strict, never refuses a valid profile.
fn parse_dependency(d: &Value) -> Option<Dependency> {
    if d.get("Type")
        .and_then(Value::as_str)
        .is_some_and(|t| t != "Map")
    {
        return None;
    }
    let dep = d.get("Dependency")?;
    let map_from = dep
        .get("MapFrom")?
        .as_array()?
        .iter()
        .map(|m| {
            if m.get("MapFromProperty")
                .and_then(Value::as_str)
                .is_some_and(|p| p != "CurrentValue")
            {
                return None;
            }
            let condition = match m.get("MapFromCondition")?.as_str()? {
                "EQU" => Condition::Equal,
                "NEQ" => Condition::NotEqual,
                "GTR" => Condition::Greater,
                "GEQ" => Condition::GreaterOrEqual,
                "LSS" => Condition::Less,
                "LEQ" => Condition::LessOrEqual,
                _ => return None,
            };
            Some(MapFrom {
                attribute: m.get("MapFromAttribute")?.as_str()?.to_owned(),
                condition,
                value: m.get("MapFromValue").cloned().unwrap_or(Value::Null),
                terms: match m.get("MapTerms").and_then(Value::as_str) {
                    Some("AND") => Terms::And,
                    _ => Terms::Or,
                },
            })
        })
        .collect::<Option<Vec<_>>>()?;
    if map_from.is_empty() {
        return None;
    }
    let property = match dep.get("MapToProperty")?.as_str()? {
        "ReadOnly" => MapToProperty::ReadOnly,
        "Hidden" => MapToProperty::Hidden,
        "GrayOut" => MapToProperty::GrayOut,
        "CurrentValue" => MapToProperty::CurrentValue,
        other => MapToProperty::Other(other.to_owned()),
    };
    Some(Dependency {
        map_from,
        target: dep.get("MapToAttribute")?.as_str()?.to_owned(),
        property,
        value: dep.get("MapToValue").cloned().unwrap_or(Value::Null),
    })
}

#[cfg(test)]
#[path = "registry_tests.rs"]
mod tests;
