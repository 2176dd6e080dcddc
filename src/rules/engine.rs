//! Runs rules over inspection data and a node document. Pure: the caller's node is changed
//! only by `RuleSet::apply`, and only when the whole run succeeds.
//!
//! Secrets: a value written at a path with `password` in it is stored in the node as a
//! reference (`secret://rules/<path>`, or left as it is when the rule already wrote a
//! `secret://` reference) and handed back beside the node as a `SecretString`.

use secrecy::SecretString;
use serde_json::{Map, Value};

use super::error::RuleError;
use super::explain::{Change, ConditionReport, REDACTED, RuleReport};
use super::model::{ActionKind, Condition, Evaluation, Multiple, Op, Rule};
use super::ops;
use super::path::{self, Scheme, is_secret_key, select};
use super::template::{Context, MASK, Template, python_str, render_value};

/// The prefix of every reference the rules engine stores in place of a secret.
pub const SECRET_REFERENCE_PREFIX: &str = "secret://rules/";

/// A secret value a rule set, kept out of the node.
#[derive(Clone, Debug)]
pub struct RuleSecret {
    /// Where in the node it belongs (`driver_info/drac_password`).
    pub path: String,
    /// What the node holds there instead (`secret://rules/driver_info/drac_password`).
    pub reference: String,
    /// The value, for the caller's secret store.
    pub value: SecretString,
}

/// The result of a whole run.
pub(crate) struct Run {
    pub(crate) reports: Vec<RuleReport>,
    pub(crate) secrets: Vec<RuleSecret>,
    pub(crate) result: Result<(), RuleError>,
}

/// Evaluates `rules` in `order` over `data`, changing `node` as the actions say.
pub(crate) fn run(
    rules: &[Rule],
    order: &[usize],
    mode: Evaluation,
    data: &Value,
    node: &mut Map<String, Value>,
) -> Run {
    let mut run = Run {
        reports: Vec::new(),
        secrets: Vec::new(),
        result: Ok(()),
    };
    match mode {
        Evaluation::Immediate => {
            for &index in order {
                let rule = &rules[index];
                let mut report = check_rule(rule, mode, data, node);
                let outcome = if report.matched {
                    apply_actions(rule, data, node, &mut run.secrets, &mut report.changes)
                } else {
                    Ok(())
                };
                run.reports.push(report);
                if let Err(err) = outcome {
                    run.result = Err(err);
                    break;
                }
            }
        }
        Evaluation::LegacyTwoPhase => {
            run.reports = order
                .iter()
                .map(|&index| check_rule(&rules[index], mode, data, node))
                .collect();
            for report in &mut run.reports {
                if !report.matched {
                    continue;
                }
                let rule = &rules[report.index];
                if let Err(err) =
                    apply_actions(rule, data, node, &mut run.secrets, &mut report.changes)
                {
                    run.result = Err(err);
                    break;
                }
            }
        }
    }
    run
}

fn check_rule(
    rule: &Rule,
    mode: Evaluation,
    data: &Value,
    node: &Map<String, Value>,
) -> RuleReport {
    let mut report = RuleReport {
        index: rule.index,
        description: rule.description.clone(),
        priority: rule.priority,
        skipped: None,
        matched: false,
        conditions: Vec::new(),
        changes: Vec::new(),
    };
    if let Some(scope) = &rule.scope {
        let node_scope = path::read(node, &["properties".into(), "inspection_scope".into()]);
        if node_scope.and_then(Value::as_str) != Some(scope.as_str()) {
            report.skipped = Some(format!(
                "its scope {scope:?} is not the node's properties.inspection_scope"
            ));
            return report;
        }
    }
    let view = node_view(node);
    report.conditions = rule
        .conditions
        .iter()
        .map(|c| check_condition(c, mode, rule.sensitive, data, &view))
        .collect();
    report.matched = report.conditions.iter().all(|c| c.matched);
    report
}

/// The node as `node://` fields see it: the document, plus `capabilities` parsed from
/// `properties.capabilities` (unless the node has a top-level `capabilities` of its own).
fn node_view(node: &Map<String, Value>) -> Value {
    let mut view = node.clone();
    if !view.contains_key("capabilities") {
        let caps = capabilities(node);
        let object: Map<String, Value> = caps
            .into_iter()
            .filter_map(|(k, v)| Some((k, Value::String(v?))))
            .collect();
        view.insert("capabilities".into(), Value::Object(object));
    }
    Value::Object(view)
}

fn check_condition(
    cond: &Condition,
    mode: Evaluation,
    sensitive: bool,
    data: &Value,
    view: &Value,
) -> ConditionReport {
    let root = match cond.field.scheme {
        Scheme::Data => data,
        Scheme::Node => view,
    };
    let secret = cond.field.names_secret();
    let mut values: Vec<Value> = select(root, &cond.field.steps)
        .into_iter()
        .map(|v| {
            if secret && !sensitive && !ops::is_empty(v) {
                Value::String(MASK.to_owned())
            } else {
                v.clone()
            }
        })
        .collect();
    let missing = values.is_empty();
    let matched = if missing && mode == Evaluation::LegacyTwoPhase && !cond.op.accepts_missing() {
        false
    } else {
        if missing {
            values.push(Value::Null);
        }
        let results: Vec<bool> = values
            .iter()
            .map(|v| check_op(&cond.op, v) != cond.invert)
            .collect();
        match cond.multiple {
            Multiple::Any => results.iter().any(|r| *r),
            Multiple::All => results.iter().all(|r| *r),
            Multiple::First => results.first().copied().unwrap_or(false),
            Multiple::Last => results.last().copied().unwrap_or(false),
        }
    };
    let seen = if missing {
        Vec::new()
    } else if secret {
        values.iter().map(|v| redact_scalar(v.clone())).collect()
    } else {
        values
    };
    ConditionReport {
        field: cond.field_text.clone(),
        op: cond.op.name(),
        operand: if secret {
            cond.op
                .operand()
                .map(|_| Value::String(REDACTED.to_owned()))
        } else {
            cond.op.operand()
        },
        invert: cond.invert,
        multiple: cond.multiple,
        missing,
        seen,
        matched,
    }
}

/// One value against one operator.
pub(crate) fn check_op(op: &Op, value: &Value) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let order = |operand: &Value| ops::compare(value, operand);
    match op {
        Op::Eq(x) => ops::equals(value, x),
        Op::Ne(x) => !ops::equals(value, x),
        Op::Lt(x) => order(x) == Some(Less),
        Op::Le(x) => matches!(order(x), Some(Less | Equal)),
        Op::Gt(x) => order(x) == Some(Greater),
        Op::Ge(x) => matches!(order(x), Some(Greater | Equal)),
        Op::Contains(re) | Op::Matches(re) => {
            !value.is_null() && re.is_match(&ops::regex_subject(value))
        }
        Op::IsEmpty => ops::is_empty(value),
        Op::InNet(net) => ops::field_ip(value).is_some_and(|ip| net.contains(ip)),
        Op::OneOf(values) => values.iter().any(|x| ops::equals(value, x)),
        Op::IsNone => value.is_null(),
        Op::IsTrue => ops::is_true(value),
        Op::IsFalse => ops::is_false(value),
    }
}

fn apply_actions(
    rule: &Rule,
    data: &Value,
    node: &mut Map<String, Value>,
    secrets: &mut Vec<RuleSecret>,
    changes: &mut Vec<Change>,
) -> Result<(), RuleError> {
    for (index, action) in rule.actions.iter().enumerate() {
        let failure = |message: String| RuleError::Action {
            rule: rule.index,
            description: rule.description.clone(),
            action: index,
            pointer: format!("{}/actions/{index}", rule.pointer),
            message,
        };
        let ctx = Context {
            data,
            node,
            mask_secrets: !rule.sensitive,
        };
        if let ActionKind::Fail { message } = action {
            let text = Template::parse(message)
                .and_then(|t| t.render(&ctx))
                .map_err(failure)?;
            return Err(RuleError::Failed {
                rule: rule.index,
                description: rule.description.clone(),
                message: python_str(&text),
            });
        }
        let rendered = match action {
            ActionKind::SetAttribute { value, .. }
            | ActionKind::ExtendAttribute { value, .. }
            | ActionKind::SetCapability { value, .. } => {
                Some(render_value(value, &ctx).map_err(failure)?)
            }
            _ => None,
        };
        let mut change = Change {
            rule: rule.index,
            action: index,
            kind: action.name(),
            target: String::new(),
            before: None,
            after: None,
            secret: false,
        };
        apply_one(action, rendered, node, secrets, &mut change).map_err(failure)?;
        changes.push(change);
    }
    Ok(())
}

fn apply_one(
    action: &ActionKind,
    rendered: Option<Value>,
    node: &mut Map<String, Value>,
    secrets: &mut Vec<RuleSecret>,
    change: &mut Change,
) -> Result<(), String> {
    let value = rendered.unwrap_or(Value::Null);
    match action {
        ActionKind::SetAttribute { path, .. } => {
            let shown_path = path.display();
            let sealed = seal(&shown_path, path.is_secret(), value, secrets);
            change.secret = path.is_secret() || holds_reference(&sealed);
            let before = path::write(node, &path.segments, sealed.clone())?;
            change.target = shown_path;
            change.before = before.map(|b| redact(b, path.is_secret()));
            change.after = Some(sealed);
        }
        ActionKind::ExtendAttribute { path, unique, .. } => {
            change.target = path.display();
            let existing = path::read(node, &path.segments).cloned();
            let mut list = match existing.clone() {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => items,
                Some(_) => return Err(format!("{} is not a list", path.display())),
            };
            let element_path = format!("{}/{}", path.display(), list.len());
            let sealed = seal(&element_path, path.is_secret(), value, secrets);
            if !(*unique && list.contains(&sealed)) {
                list.push(sealed);
            }
            change.secret = path.is_secret() || list.iter().any(holds_reference);
            change.before = existing.map(|b| redact(b, path.is_secret()));
            let after = Value::Array(list);
            change.after = Some(after.clone());
            path::write(node, &path.segments, after)?;
        }
        ActionKind::DelAttribute { path } => {
            change.target = path.display();
            change.secret = path.is_secret();
            change.before =
                path::remove(node, &path.segments)?.map(|b| redact(b, path.is_secret()));
        }
        ActionKind::SetCapability { name, .. } => {
            let secret = is_secret_key(name);
            let text = match seal(
                &format!("properties/capabilities/{name}"),
                secret,
                value,
                secrets,
            ) {
                Value::String(s) => s,
                other => python_str(&other),
            };
            change.target = format!("capability {name}");
            change.secret = secret;
            let before = set_capability(node, name, Some(text.clone()))?;
            change.before = before.map(|b| redact(Value::String(b), secret));
            change.after = Some(Value::String(text));
        }
        ActionKind::UnsetCapability { name } => {
            let secret = is_secret_key(name);
            change.target = format!("capability {name}");
            change.secret = secret;
            change.before =
                set_capability(node, name, None)?.map(|b| redact(Value::String(b), secret));
        }
        ActionKind::AddTrait { name } | ActionKind::RemoveTrait { name } => {
            let add = matches!(action, ActionKind::AddTrait { .. });
            change.target = format!("trait {name}");
            let traits = node
                .entry("traits")
                .or_insert_with(|| Value::Array(Vec::new()));
            if traits.is_null() {
                *traits = Value::Array(Vec::new());
            }
            let Value::Array(list) = traits else {
                return Err("traits is not a list".to_owned());
            };
            let present = list.iter().any(|t| t.as_str() == Some(name));
            let shown = Value::String(name.clone());
            change.before = present.then(|| shown.clone());
            if add && !present {
                list.push(shown.clone());
            } else if !add {
                list.retain(|t| t.as_str() != Some(name));
            }
            change.after = add.then_some(shown);
        }
        ActionKind::Fail { .. } => {}
    }
    Ok(())
}

/// Replaces each clear-text secret inside `value` with a reference, collecting the secrets.
/// `secret` says whether `path` (or a parent) names a secret.
fn seal(path: &str, secret: bool, value: Value, secrets: &mut Vec<RuleSecret>) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let child = format!("{path}/{k}");
                    let sealed = seal(&child, secret || is_secret_key(&k), v, secrets);
                    (k, sealed)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| seal(&format!("{path}/{i}"), secret, v, secrets))
                .collect(),
        ),
        Value::String(s) if secret && !s.is_empty() && !s.starts_with("secret://") => {
            keep_secret(path, s, secrets)
        }
        Value::Number(n) if secret => keep_secret(path, n.to_string(), secrets),
        Value::Bool(b) if secret => keep_secret(path, python_str(&Value::Bool(b)), secrets),
        other => other,
    }
}

fn keep_secret(path: &str, value: String, secrets: &mut Vec<RuleSecret>) -> Value {
    let reference = format!("{SECRET_REFERENCE_PREFIX}{path}");
    secrets.retain(|s| s.path != path);
    secrets.push(RuleSecret {
        path: path.to_owned(),
        reference: reference.clone(),
        value: SecretString::from(value),
    });
    Value::String(reference)
}

fn holds_reference(value: &Value) -> bool {
    match value {
        Value::String(s) => s.starts_with(SECRET_REFERENCE_PREFIX),
        Value::Array(items) => items.iter().any(holds_reference),
        Value::Object(map) => map.values().any(holds_reference),
        _ => false,
    }
}

/// A value as reports may show it: clear-text secrets (not references) become `<redacted>`.
fn redact(value: Value, secret: bool) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let inner = secret || is_secret_key(&k);
                    (k, redact(v, inner))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(|v| redact(v, secret)).collect()),
        other if secret => redact_scalar(other),
        other => other,
    }
}

fn redact_scalar(value: Value) -> Value {
    match &value {
        Value::String(s) if s.is_empty() || s.starts_with("secret://") || s == MASK => value,
        Value::Null => value,
        _ => Value::String(REDACTED.to_owned()),
    }
}

/// `properties.capabilities` as ordered pairs; an entry without `:` keeps its text as the key
/// and no value, so it is written back as it was.
fn capabilities(node: &Map<String, Value>) -> Vec<(String, Option<String>)> {
    match path::read(node, &["properties".into(), "capabilities".into()]) {
        Some(Value::String(text)) => text
            .split(',')
            .filter(|entry| !entry.trim().is_empty())
            .map(|entry| match entry.split_once(':') {
                Some((k, v)) => (k.trim().to_owned(), Some(v.trim().to_owned())),
                None => (entry.trim().to_owned(), None),
            })
            .collect(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| (k.clone(), Some(python_str(v))))
            .collect(),
        _ => Vec::new(),
    }
}

/// Sets (or with `None` removes) one capability, keeping the others in their order and in
/// the form the node keeps them (Ironic's `k:v,k2:v2` string, or an object). Returns the old
/// value.
fn set_capability(
    node: &mut Map<String, Value>,
    name: &str,
    value: Option<String>,
) -> Result<Option<String>, String> {
    let as_object = matches!(
        path::read(node, &["properties".into(), "capabilities".into()]),
        Some(Value::Object(_))
    );
    let mut caps = capabilities(node);
    let before = caps
        .iter()
        .find(|(k, _)| k == name)
        .and_then(|(_, v)| v.clone());
    match (caps.iter_mut().find(|(k, _)| k == name), value) {
        (Some(entry), Some(v)) => entry.1 = Some(v),
        (None, Some(v)) => caps.push((name.to_owned(), Some(v))),
        (_, None) => caps.retain(|(k, _)| k != name),
    }
    let written = if as_object {
        Value::Object(
            caps.into_iter()
                .map(|(k, v)| (k, v.map_or(Value::Null, Value::String)))
                .collect(),
        )
    } else {
        let parts: Vec<String> = caps
            .into_iter()
            .map(|(k, v)| match v {
                Some(v) => format!("{k}:{v}"),
                None => k,
            })
            .collect();
        Value::String(parts.join(","))
    };
    path::write(node, &["properties".into(), "capabilities".into()], written)?;
    Ok(before)
}
