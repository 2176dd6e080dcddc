//! Reads a rules file: ironic-inspector's legacy dialect (the seed's file) and ferrofish's
//! canonical form (the same shape plus `priority`, `sensitive`, `!op`, `regex`, `subnet`,
//! `values`, `multiple: last` and a few current-Ironic actions). Every error names the rule
//! and the JSON pointer of the element at fault, and never echoes a value from the file.

use regex::{Regex, RegexBuilder};
use serde_json::{Map, Value};

use super::error::RuleError;
use super::model::{ActionKind, Condition, Multiple, Op, Rule};
use super::ops::Net;
use super::path::{FieldPath, NodePath};
use super::template::{Template, check_value};

/// Compiled regexes stay small whatever a rules file holds.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Operators and what they accept, in the order error messages list them.
const OPERATORS: &str = "eq, ne, lt, le, gt, ge, contains, matches, is-empty, in-net, one-of, is-none, is-true, is-false";
const ACTIONS: &str = "set-attribute, extend-attribute, del-attribute, set-capability, unset-capability, add-trait, remove-trait, fail";

/// Where the error is: the rule and its description, filled in as parsing goes.
struct At<'a> {
    rule: usize,
    description: Option<&'a str>,
}

impl At<'_> {
    fn err(&self, pointer: String, message: impl Into<String>) -> RuleError {
        RuleError::Invalid {
            rule: Some(self.rule),
            description: self.description.map(str::to_owned),
            pointer,
            message: message.into(),
        }
    }
}

/// Parses a whole file: a list of rules, or one rule object.
pub(crate) fn parse_rules(text: &str) -> Result<Vec<Rule>, RuleError> {
    let value: Value = serde_json::from_str(text).map_err(|e| RuleError::Json {
        line: e.line(),
        column: e.column(),
        message: json_message(&e),
    })?;
    match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(index, item)| parse_rule(index, format!("/{index}"), item))
            .collect(),
        Value::Object(_) => Ok(vec![parse_rule(0, String::new(), &value)?]),
        _ => Err(RuleError::Invalid {
            rule: None,
            description: None,
            pointer: String::new(),
            message: "a rules file is a list of rule objects (or one rule object)".to_owned(),
        }),
    }
}

/// `serde_json`'s message without its own " at line … column …" suffix (we report those).
fn json_message(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

fn parse_rule(index: usize, pointer: String, value: &Value) -> Result<Rule, RuleError> {
    let mut at = At {
        rule: index,
        description: None,
    };
    let Value::Object(map) = value else {
        return Err(at.err(pointer, "a rule is an object"));
    };
    let description = match map.get("description") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err(at.err(format!("{pointer}/description"), "must be a string")),
    };
    at.description = description;
    for key in map.keys() {
        if !matches!(
            key.as_str(),
            "uuid"
                | "description"
                | "priority"
                | "sensitive"
                | "scope"
                | "phase"
                | "conditions"
                | "actions"
        ) {
            return Err(at.err(
                format!("{pointer}/{}", escape(key)),
                format!(
                    "unexpected key {key:?}; a rule has uuid, description, priority, sensitive, scope, phase, conditions, actions"
                ),
            ));
        }
    }
    if map.get("uuid").is_some_and(|uuid| !uuid.is_string()) {
        return Err(at.err(format!("{pointer}/uuid"), "must be a string"));
    }
    let priority = match map.get("priority") {
        None => 0,
        Some(v) => v
            .as_i64()
            .ok_or_else(|| at.err(format!("{pointer}/priority"), "must be an integer"))?,
    };
    let sensitive = match map.get("sensitive") {
        None => false,
        Some(v) => v
            .as_bool()
            .ok_or_else(|| at.err(format!("{pointer}/sensitive"), "must be true or false"))?,
    };
    let scope = match map.get("scope") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(at.err(format!("{pointer}/scope"), "must be a string")),
    };
    match map.get("phase") {
        None => {}
        Some(Value::String(p)) if p == "main" => {}
        Some(_) => return Err(at.err(format!("{pointer}/phase"), "the only phase is \"main\"")),
    }
    let conditions = match map.get("conditions") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, c)| parse_condition(&at, &format!("{pointer}/conditions/{i}"), c))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(at.err(format!("{pointer}/conditions"), "must be a list")),
    };
    let actions: Vec<ActionKind> = match map.get("actions") {
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, a)| parse_action(&at, &format!("{pointer}/actions/{i}"), a))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(at.err(format!("{pointer}/actions"), "must be a list")),
        None => return Err(at.err(pointer, "a rule needs \"actions\" (at least one)")),
    };
    if actions.is_empty() {
        return Err(at.err(
            format!("{pointer}/actions"),
            "a rule needs at least one action",
        ));
    }
    Ok(Rule {
        index,
        pointer,
        description: description.map(str::to_owned),
        priority,
        sensitive,
        scope,
        conditions,
        actions,
    })
}

/// JSON pointer escaping of one key.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn string_at<'m>(
    at: &At<'_>,
    map: &'m Map<String, Value>,
    pointer: &str,
    key: &str,
) -> Result<Option<&'m str>, RuleError> {
    match map.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(at.err(format!("{pointer}/{key}"), "must be a string")),
    }
}

fn required_string<'m>(
    at: &At<'_>,
    map: &'m Map<String, Value>,
    pointer: &str,
    key: &str,
) -> Result<&'m str, RuleError> {
    string_at(at, map, pointer, key)?
        .ok_or_else(|| at.err(pointer.to_owned(), format!("missing \"{key}\"")))
}

fn parse_condition(at: &At<'_>, pointer: &str, value: &Value) -> Result<Condition, RuleError> {
    let Value::Object(map) = value else {
        return Err(at.err(pointer.to_owned(), "a condition is an object"));
    };
    let op_text = required_string(at, map, pointer, "op")?;
    let field_text = required_string(at, map, pointer, "field")?;
    let field = FieldPath::parse(field_text).map_err(|m| at.err(format!("{pointer}/field"), m))?;
    let (op_name, bang) = match op_text.strip_prefix('!') {
        Some(rest) => (rest, true),
        None => (op_text, false),
    };
    let invert_key = match map.get("invert") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(at.err(format!("{pointer}/invert"), "must be true or false")),
    };
    if bang && invert_key {
        return Err(at.err(
            format!("{pointer}/op"),
            "\"!op\" and \"invert\": true together would cancel out; write one",
        ));
    }
    let multiple = match string_at(at, map, pointer, "multiple")? {
        None | Some("any") => Multiple::Any,
        Some("all") => Multiple::All,
        Some("first") => Multiple::First,
        Some("last") => Multiple::Last,
        Some(_) => {
            return Err(at.err(
                format!("{pointer}/multiple"),
                "must be one of any, all, first, last",
            ));
        }
    };
    let (op, operand_keys) = parse_op(at, pointer, op_name, map)?;
    for key in map.keys() {
        let known = matches!(key.as_str(), "op" | "field" | "invert" | "multiple")
            || operand_keys.contains(&key.as_str());
        if !known {
            let accepted = if operand_keys.is_empty() {
                "op, field, invert, multiple".to_owned()
            } else {
                format!("op, field, invert, multiple, {}", operand_keys.join(", "))
            };
            return Err(at.err(
                format!("{pointer}/{}", escape(key)),
                format!("unexpected key {key:?} for {op_name}; accepted: {accepted}"),
            ));
        }
    }
    Ok(Condition {
        field_text: field_text.to_owned(),
        field,
        op,
        invert: bang || invert_key,
        multiple,
    })
}

/// The operator and the operand keys it allows.
fn parse_op(
    at: &At<'_>,
    pointer: &str,
    name: &str,
    map: &Map<String, Value>,
) -> Result<(Op, &'static [&'static str]), RuleError> {
    const VALUE: &[&str] = &["value"];
    let value = || {
        map.get("value")
            .cloned()
            .ok_or_else(|| at.err(pointer.to_owned(), format!("{name} needs a \"value\"")))
    };
    // One of two spellings (`value` or the canonical name), exactly one present.
    let one_of = |canonical: &'static str| -> Result<(&'static str, &Value), RuleError> {
        match (map.get("value"), map.get(canonical)) {
            (Some(v), None) => Ok(("value", v)),
            (None, Some(v)) => Ok((canonical, v)),
            (Some(_), Some(_)) => Err(at.err(
                format!("{pointer}/{canonical}"),
                format!("give \"value\" or \"{canonical}\", not both"),
            )),
            (None, None) => Err(at.err(
                pointer.to_owned(),
                format!("{name} needs a \"value\" (or \"{canonical}\")"),
            )),
        }
    };
    let op = match name {
        "eq" => (Op::Eq(value()?), VALUE),
        "ne" => (Op::Ne(value()?), VALUE),
        "lt" => (Op::Lt(value()?), VALUE),
        "le" => (Op::Le(value()?), VALUE),
        "gt" => (Op::Gt(value()?), VALUE),
        "ge" => (Op::Ge(value()?), VALUE),
        "contains" | "matches" => {
            let (key, v) = one_of("regex")?;
            let Value::String(text) = v else {
                return Err(at.err(
                    format!("{pointer}/{key}"),
                    "a regular expression is a string",
                ));
            };
            let anchored;
            let source = if name == "matches" {
                // A full match, as Ironic means it (it appends `$` to a match at the start).
                anchored = format!("^(?:{text})$");
                &anchored
            } else {
                text
            };
            let regex = compile(source).map_err(|m| at.err(format!("{pointer}/{key}"), m))?;
            // Kept as written for explanations; the anchored form is what runs.
            let op = if name == "matches" {
                Op::Matches(regex)
            } else {
                Op::Contains(regex)
            };
            (op, &["value", "regex"][..])
        }
        "in-net" => {
            let (key, v) = one_of("subnet")?;
            let Value::String(text) = v else {
                return Err(at.err(
                    format!("{pointer}/{key}"),
                    "a network is a string like 10.0.0.0/8",
                ));
            };
            let net = Net::parse(text).map_err(|m| at.err(format!("{pointer}/{key}"), m))?;
            (Op::InNet(net), &["value", "subnet"][..])
        }
        "one-of" => {
            let (key, v) = one_of("values")?;
            let Value::Array(items) = v else {
                return Err(at.err(format!("{pointer}/{key}"), "one-of takes a list"));
            };
            (Op::OneOf(items.clone()), &["value", "values"][..])
        }
        "is-empty" => (Op::IsEmpty, &[][..]),
        "is-none" => (Op::IsNone, &[][..]),
        "is-true" => (Op::IsTrue, &[][..]),
        "is-false" => (Op::IsFalse, &[][..]),
        _ => {
            return Err(at.err(
                format!("{pointer}/op"),
                format!("unknown operator {name:?}; accepted: {OPERATORS} (prefix ! to invert)"),
            ));
        }
    };
    Ok(op)
}

fn compile(source: &str) -> Result<Regex, String> {
    RegexBuilder::new(source)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| format!("not a valid regular expression: {e}"))
}

fn parse_action(at: &At<'_>, pointer: &str, value: &Value) -> Result<ActionKind, RuleError> {
    let Value::Object(map) = value else {
        return Err(at.err(pointer.to_owned(), "an action is an object"));
    };
    let name = required_string(at, map, pointer, "action")?;
    let path = |map: &Map<String, Value>| -> Result<NodePath, RuleError> {
        let text = required_string(at, map, pointer, "path")?;
        NodePath::parse(text).map_err(|m| at.err(format!("{pointer}/path"), m))
    };
    let templated = |key: &str| -> Result<Value, RuleError> {
        let v = map
            .get(key)
            .ok_or_else(|| at.err(pointer.to_owned(), format!("{name} needs \"{key}\"")))?;
        check_value(v).map_err(|m| at.err(format!("{pointer}/{key}"), m))?;
        Ok(v.clone())
    };
    let plain_name = || -> Result<String, RuleError> {
        let text = required_string(at, map, pointer, "name")?;
        if text.trim().is_empty() {
            return Err(at.err(format!("{pointer}/name"), "must not be empty"));
        }
        Ok(text.to_owned())
    };
    let (kind, keys): (ActionKind, &[&str]) = match name {
        "set-attribute" => (
            ActionKind::SetAttribute {
                path: path(map)?,
                value: templated("value")?,
            },
            &["path", "value", "reset_interfaces"],
        ),
        "extend-attribute" => {
            let unique = match map.get("unique") {
                None => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Err(at.err(format!("{pointer}/unique"), "must be true or false")),
            };
            (
                ActionKind::ExtendAttribute {
                    path: path(map)?,
                    value: templated("value")?,
                    unique,
                },
                &["path", "value", "unique"],
            )
        }
        "del-attribute" => (ActionKind::DelAttribute { path: path(map)? }, &["path"]),
        "set-capability" => {
            let name = plain_name()?;
            if name.contains([':', ',']) {
                return Err(at.err(
                    format!("{pointer}/name"),
                    "a capability name cannot hold ':' or ','",
                ));
            }
            (
                ActionKind::SetCapability {
                    name,
                    value: templated("value")?,
                },
                &["name", "value"],
            )
        }
        "unset-capability" => (
            ActionKind::UnsetCapability {
                name: plain_name()?,
            },
            &["name"],
        ),
        "add-trait" => (
            ActionKind::AddTrait {
                name: plain_name()?,
            },
            &["name"],
        ),
        "remove-trait" => (
            ActionKind::RemoveTrait {
                name: plain_name()?,
            },
            &["name"],
        ),
        "fail" => (fail_action(at, pointer, map)?, &["message", "msg"]),
        _ => return Err(unknown_action(at, pointer, name)),
    };
    check_action_keys(at, pointer, name, map, keys)?;
    Ok(kind)
}

fn unknown_action(at: &At<'_>, pointer: &str, name: &str) -> RuleError {
    let message = if matches!(
        name,
        "log"
            | "set-plugin-data"
            | "extend-plugin-data"
            | "unset-plugin-data"
            | "set-port-attribute"
            | "extend-port-attribute"
            | "del-port-attribute"
            | "api-call"
    ) {
        format!(
            "{name:?} is a current-Ironic action ferrofish does not run (it has no plugin data, ports, log sink or webhooks here); accepted: {ACTIONS}"
        )
    } else {
        format!("unknown action {name:?}; accepted: {ACTIONS}")
    };
    at.err(format!("{pointer}/action"), message)
}

/// Refuses keys the action does not take (a typo must not pass silently).
fn check_action_keys(
    at: &At<'_>,
    pointer: &str,
    name: &str,
    map: &Map<String, Value>,
    keys: &[&str],
) -> Result<(), RuleError> {
    if map.get("reset_interfaces").is_some_and(|v| !v.is_boolean()) {
        return Err(at.err(
            format!("{pointer}/reset_interfaces"),
            "must be true or false",
        ));
    }
    for key in map.keys() {
        if key != "action" && !keys.contains(&key.as_str()) {
            return Err(at.err(
                format!("{pointer}/{}", escape(key)),
                format!(
                    "unexpected key {key:?} for {name}; accepted: action, {}",
                    keys.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

fn fail_action(
    at: &At<'_>,
    pointer: &str,
    map: &Map<String, Value>,
) -> Result<ActionKind, RuleError> {
    let key = match (map.get("message"), map.get("msg")) {
        (Some(_), None) => "message",
        (None, Some(_)) => "msg",
        (Some(_), Some(_)) => {
            return Err(at.err(
                format!("{pointer}/msg"),
                "give \"message\" or \"msg\", not both",
            ));
        }
        (None, None) => return Err(at.err(pointer.to_owned(), "fail needs \"message\"")),
    };
    let message = required_string(at, map, pointer, key)?;
    Template::parse(message).map_err(|m| at.err(format!("{pointer}/{key}"), m))?;
    Ok(ActionKind::Fail {
        message: message.to_owned(),
    })
}
