//! What a rule run did or would do: per rule, each condition with the values it saw, and each
//! change with the value before and after. Values on secret paths are never in here in clear:
//! a password a rule sets shows as its reference (`secret://rules/...`), one already in the
//! node or the data as `<redacted>`.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use super::model::{Evaluation, Multiple};

/// The text shown instead of a secret value.
pub(crate) const REDACTED: &str = "<redacted>";

/// The whole account of a run over one node, in evaluation order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Explanation {
    /// How the rules were evaluated.
    pub evaluation: Evaluation,
    /// One entry per rule evaluated, in the order they were.
    pub rules: Vec<RuleReport>,
    /// How the run ended.
    pub outcome: Outcome,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Every matching rule's actions ran (or would run).
    Completed {
        /// How many changes were made (or would be).
        changes: usize,
    },
    /// A `fail` action stopped inspection.
    Failed {
        /// Index of the rule in the file.
        rule: usize,
        /// Its message.
        message: String,
    },
    /// An action could not be applied (the message of the [`RuleError`](super::RuleError)).
    Error {
        /// What went wrong.
        message: String,
    },
}

/// One rule's evaluation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleReport {
    /// Index of the rule in the file.
    pub index: usize,
    /// Its description.
    pub description: Option<String>,
    /// Its priority.
    pub priority: i64,
    /// Why the rule was not considered at all (its `scope` does not match the node).
    pub skipped: Option<String>,
    /// Whether every condition held.
    pub matched: bool,
    /// Each condition, in the rule's order (all are evaluated, for the explanation).
    pub conditions: Vec<ConditionReport>,
    /// What its actions changed (or would change).
    pub changes: Vec<Change>,
}

/// One condition's evaluation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConditionReport {
    /// The field as written.
    pub field: String,
    /// The operator.
    pub op: &'static str,
    /// The operand (`<redacted>` when the field names a secret).
    pub operand: Option<Value>,
    /// Whether the result of each value is inverted.
    pub invert: bool,
    /// How several values combine.
    pub multiple: Multiple,
    /// The field selected nothing.
    pub missing: bool,
    /// The values the field selected (secrets redacted).
    pub seen: Vec<Value>,
    /// Whether the condition held.
    pub matched: bool,
}

/// One change to the node.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    /// Index of the rule in the file.
    pub rule: usize,
    /// Index of the action in the rule.
    pub action: usize,
    /// The action's name (`set-attribute`, ...).
    pub kind: &'static str,
    /// What it changes: a node path (`driver_info/drac_address`), `capability NAME` or
    /// `trait NAME`.
    pub target: String,
    /// The value before (`None`: absent).
    pub before: Option<Value>,
    /// The value after (`None`: removed).
    pub after: Option<Value>,
    /// The target holds a secret: `after` is the reference stored in the node, and the value
    /// itself is in [`Applied::secrets`](super::Applied::secrets).
    pub secret: bool,
}

impl Change {
    /// Whether the action left the node as it was (a trait already there, a unique value
    /// already in the list, the same value set again).
    pub fn is_noop(&self) -> bool {
        self.before == self.after
    }
}

fn shown(value: Option<&Value>) -> String {
    value.map_or_else(|| "(absent)".to_owned(), Value::to_string)
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for rule in &self.rules {
            write!(f, "rule {}", rule.index)?;
            if let Some(text) = &rule.description {
                write!(f, " {text:?}")?;
            }
            if rule.priority != 0 {
                write!(f, " (priority {})", rule.priority)?;
            }
            match (&rule.skipped, rule.matched) {
                (Some(why), _) => writeln!(f, ": skipped, {why}")?,
                (None, true) => writeln!(f, ": matched")?,
                (None, false) => writeln!(f, ": not matched")?,
            }
            for c in &rule.conditions {
                let verdict = if c.matched { "yes" } else { "no " };
                let not = if c.invert { "not " } else { "" };
                write!(f, "  {verdict} {} {not}{}", c.field, c.op)?;
                if let Some(operand) = &c.operand {
                    write!(f, " {operand}")?;
                }
                if c.multiple != Multiple::Any {
                    write!(f, " [{}]", c.multiple.as_str())?;
                }
                if c.missing {
                    writeln!(f, " (field missing)")?;
                } else {
                    let seen: Vec<String> = c.seen.iter().map(Value::to_string).collect();
                    writeln!(f, " (saw {})", seen.join(", "))?;
                }
            }
            for change in &rule.changes {
                let note = match (change.is_noop(), change.secret) {
                    (true, _) => " (unchanged)",
                    (false, true) => " (secret: value kept apart)",
                    (false, false) => "",
                };
                writeln!(
                    f,
                    "  {} {}: {} -> {}{note}",
                    change.kind,
                    change.target,
                    shown(change.before.as_ref()),
                    shown(change.after.as_ref()),
                )?;
            }
        }
        match &self.outcome {
            Outcome::Completed { changes } => write!(f, "outcome: completed, {changes} change(s)"),
            Outcome::Failed { rule, message } => {
                write!(f, "outcome: inspection fails (rule {rule}): {message}")
            }
            Outcome::Error { message } => write!(f, "outcome: error: {message}"),
        }
    }
}
