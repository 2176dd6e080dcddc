//! A rule set as read from its file: rules, conditions, actions. `Debug` never shows an
//! operand or a value that sits on a secret path (a rule that sets `drac_password` holds the
//! password itself).

use std::fmt;

use regex::Regex;
use serde::Serialize;
use serde_json::Value;

use super::ops::Net;
use super::path::{FieldPath, NodePath};

/// How several values selected by one field (`disks[*].size`) combine. `invert` applies to
/// each value before they combine, as ironic-inspector does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Multiple {
    /// True when some value passes (the default).
    #[default]
    Any,
    /// True when every value passes.
    All,
    /// Only the first value counts.
    First,
    /// Only the last value counts.
    Last,
}

impl Multiple {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Multiple::Any => "any",
            Multiple::All => "all",
            Multiple::First => "first",
            Multiple::Last => "last",
        }
    }
}

/// When actions run relative to conditions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Evaluation {
    /// Current Ironic: rules by `priority` (higher first, file order among equals); each
    /// rule's actions run as soon as its conditions hold, so later rules see the changes. A
    /// condition on a missing field sees `null`.
    #[default]
    Immediate,
    /// ironic-inspector, bit for bit: every rule's conditions are checked on the node as it
    /// was, then the actions of the matching rules run in order; a condition on a missing
    /// field fails the rule (except `is-empty`, `is-none`, `is-false`), whatever `invert`
    /// says.
    LegacyTwoPhase,
}

/// A condition operator with its parsed operand.
#[derive(Clone)]
pub(crate) enum Op {
    Eq(Value),
    Ne(Value),
    Lt(Value),
    Le(Value),
    Gt(Value),
    Ge(Value),
    Contains(Regex),
    Matches(Regex),
    IsEmpty,
    InNet(Net),
    OneOf(Vec<Value>),
    IsNone,
    IsTrue,
    IsFalse,
}

impl Op {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Op::Eq(_) => "eq",
            Op::Ne(_) => "ne",
            Op::Lt(_) => "lt",
            Op::Le(_) => "le",
            Op::Gt(_) => "gt",
            Op::Ge(_) => "ge",
            Op::Contains(_) => "contains",
            Op::Matches(_) => "matches",
            Op::IsEmpty => "is-empty",
            Op::InNet(_) => "in-net",
            Op::OneOf(_) => "one-of",
            Op::IsNone => "is-none",
            Op::IsTrue => "is-true",
            Op::IsFalse => "is-false",
        }
    }

    /// The operand as the rule wrote it, for explanations.
    pub(crate) fn operand(&self) -> Option<Value> {
        match self {
            Op::Eq(v) | Op::Ne(v) | Op::Lt(v) | Op::Le(v) | Op::Gt(v) | Op::Ge(v) => {
                Some(v.clone())
            }
            Op::Contains(re) => Some(Value::String(re.as_str().to_owned())),
            // Shown as the rule wrote it, without the anchors the parser added.
            Op::Matches(re) => {
                let text = re.as_str();
                let written = text
                    .strip_prefix("^(?:")
                    .and_then(|t| t.strip_suffix(")$"))
                    .unwrap_or(text);
                Some(Value::String(written.to_owned()))
            }
            Op::InNet(net) => Some(Value::String(net.to_string())),
            Op::OneOf(values) => Some(Value::Array(values.clone())),
            Op::IsEmpty | Op::IsNone | Op::IsTrue | Op::IsFalse => None,
        }
    }

    /// Whether the operator looks at a missing field (legacy evaluation skips the rule for
    /// the others).
    pub(crate) fn accepts_missing(&self) -> bool {
        matches!(self, Op::IsEmpty | Op::IsNone | Op::IsFalse)
    }
}

/// One condition.
#[derive(Clone)]
pub(crate) struct Condition {
    /// The field as written (shown in explanations).
    pub(crate) field_text: String,
    pub(crate) field: FieldPath,
    pub(crate) op: Op,
    pub(crate) invert: bool,
    pub(crate) multiple: Multiple,
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let operand = if self.field.names_secret() {
            Some(Value::String("<redacted>".to_owned()))
        } else {
            self.op.operand()
        };
        f.debug_struct("Condition")
            .field("field", &self.field_text)
            .field("op", &self.op.name())
            .field("operand", &operand)
            .field("invert", &self.invert)
            .field("multiple", &self.multiple)
            .finish()
    }
}

/// What an action does.
#[derive(Clone)]
pub(crate) enum ActionKind {
    SetAttribute {
        path: NodePath,
        value: Value,
    },
    ExtendAttribute {
        path: NodePath,
        value: Value,
        unique: bool,
    },
    DelAttribute {
        path: NodePath,
    },
    SetCapability {
        name: String,
        value: Value,
    },
    UnsetCapability {
        name: String,
    },
    AddTrait {
        name: String,
    },
    RemoveTrait {
        name: String,
    },
    Fail {
        message: String,
    },
}

impl ActionKind {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            ActionKind::SetAttribute { .. } => "set-attribute",
            ActionKind::ExtendAttribute { .. } => "extend-attribute",
            ActionKind::DelAttribute { .. } => "del-attribute",
            ActionKind::SetCapability { .. } => "set-capability",
            ActionKind::UnsetCapability { .. } => "unset-capability",
            ActionKind::AddTrait { .. } => "add-trait",
            ActionKind::RemoveTrait { .. } => "remove-trait",
            ActionKind::Fail { .. } => "fail",
        }
    }
}

impl fmt::Debug for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = Value::String("<redacted>".to_owned());
        let mut s = f.debug_struct(self.name());
        match self {
            ActionKind::SetAttribute { path, value }
            | ActionKind::ExtendAttribute { path, value, .. } => {
                let shown = if path.is_secret() { &redacted } else { value };
                s.field("path", &path.display()).field("value", shown)
            }
            ActionKind::DelAttribute { path } => s.field("path", &path.display()),
            ActionKind::SetCapability { name, value } => {
                let shown = if super::path::is_secret_key(name) {
                    &redacted
                } else {
                    value
                };
                s.field("name", name).field("value", shown)
            }
            ActionKind::UnsetCapability { name }
            | ActionKind::AddTrait { name }
            | ActionKind::RemoveTrait { name } => s.field("name", name),
            ActionKind::Fail { message } => s.field("message", message),
        };
        s.finish()
    }
}

/// One rule.
#[derive(Clone, Debug)]
pub(crate) struct Rule {
    /// Position in the file.
    pub(crate) index: usize,
    /// JSON pointer of the rule in the file (`/3`, or empty for a one-rule file).
    pub(crate) pointer: String,
    pub(crate) description: Option<String>,
    pub(crate) priority: i64,
    pub(crate) sensitive: bool,
    pub(crate) scope: Option<String>,
    pub(crate) conditions: Vec<Condition>,
    pub(crate) actions: Vec<ActionKind>,
}
