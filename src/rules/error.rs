//! The one error type of `ferrofish::rules`. No variant carries a value read from the
//! inspection data, the node or a rule's operand: only names, positions and the operator's own
//! words, so an error can be logged without leaking a password a rule sets.

/// Why a rule set could not be read, applied, or used for discovery.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuleError {
    /// The rules file is not JSON at all.
    #[error("the rules file is not valid JSON (line {line}, column {column}): {message}")]
    Json {
        /// 1-based line of the syntax error.
        line: usize,
        /// 1-based column of the syntax error.
        column: usize,
        /// What the JSON parser expected there.
        message: String,
    },
    /// The file is JSON but a rule in it is not valid.
    #[error("{}: at {}: {message}", rule_label(*rule, description.as_deref()), shown_pointer(pointer))]
    Invalid {
        /// Index of the rule in the file (0-based); `None` when the top level itself is wrong.
        rule: Option<usize>,
        /// The rule's `description`, when it has one.
        description: Option<String>,
        /// JSON pointer of the offending element in the file, e.g. `/0/conditions/1/op`.
        pointer: String,
        /// What is wrong and what is accepted.
        message: String,
    },
    /// A `fail` action ran: inspection must stop with this message.
    #[error("{} failed inspection: {message}", rule_label(Some(*rule), description.as_deref()))]
    Failed {
        /// Index of the rule in the file.
        rule: usize,
        /// The rule's `description`, when it has one.
        description: Option<String>,
        /// The rule's message (its templates filled in).
        message: String,
    },
    /// An action could not be carried out on this node (a template names data that is not
    /// there, a path crosses a value that is not an object, ...). Nothing was changed.
    #[error("{} action {action} ({pointer}): {message}", rule_label(Some(*rule), description.as_deref()))]
    Action {
        /// Index of the rule in the file.
        rule: usize,
        /// The rule's `description`, when it has one.
        description: Option<String>,
        /// Index of the action in the rule.
        action: usize,
        /// JSON pointer of the action in the file, e.g. `/0/actions/3`.
        pointer: String,
        /// What went wrong.
        message: String,
    },
    /// An auto-discovery address is neither a host, a URL nor a CIDR; nothing was sent.
    #[error("discovery address {input:?} is not usable: {message}")]
    BadAddress {
        /// The address as given.
        input: String,
        /// Why, and what is accepted.
        message: String,
    },
    /// The addresses (CIDRs expanded) exceed the cap; nothing was sent.
    #[error("discovery would probe {count} addresses, more than the cap of {cap}")]
    TooManyAddresses {
        /// How many addresses the input expands to (saturating).
        count: u128,
        /// The cap in force.
        cap: usize,
    },
}

impl RuleError {
    /// Whether this is a `fail` action's outcome (inspection failed on purpose), rather than a
    /// broken rule file or an action that could not be applied.
    pub fn is_failed_by_rule(&self) -> bool {
        matches!(self, RuleError::Failed { .. })
    }

    /// Whether the rules file itself is wrong (JSON or rule structure).
    pub fn is_invalid_rules(&self) -> bool {
        matches!(self, RuleError::Json { .. } | RuleError::Invalid { .. })
    }

    /// Whether the caller gave discovery input that was refused before anything was sent.
    pub fn is_invalid_input(&self) -> bool {
        matches!(
            self,
            RuleError::BadAddress { .. } | RuleError::TooManyAddresses { .. }
        )
    }
}

fn shown_pointer(pointer: &str) -> &str {
    if pointer.is_empty() {
        "the top level"
    } else {
        pointer
    }
}

fn rule_label(rule: Option<usize>, description: Option<&str>) -> String {
    match (rule, description) {
        (Some(index), Some(text)) => format!("rule {index} ({text:?})"),
        (Some(index), None) => format!("rule {index}"),
        (None, _) => "rules file".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_rule_and_the_pointer() {
        let err = RuleError::Invalid {
            rule: Some(2),
            description: Some("Dell".into()),
            pointer: "/2/conditions/0/op".into(),
            message: "unknown operator".into(),
        };
        assert_eq!(
            err.to_string(),
            "rule 2 (\"Dell\"): at /2/conditions/0/op: unknown operator"
        );
        assert!(err.is_invalid_rules());
        assert!(!err.is_failed_by_rule());
        let top = RuleError::Invalid {
            rule: None,
            description: None,
            pointer: String::new(),
            message: "expected a list".into(),
        };
        assert_eq!(
            top.to_string(),
            "rules file: at the top level: expected a list"
        );
    }
}
