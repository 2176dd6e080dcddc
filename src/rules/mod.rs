//! Inspection rules: Ironic's rules language over inspection data and a node, and
//! auto-discovery of BMCs to run them on.
//!
//! A rules file is ironic-inspector's JSON exactly as operators write it (the seed's Dell rule
//! works as written), or ferrofish's canonical form: the same shape with `priority`,
//! `sensitive`, `scope`, `!op`, `regex`/`subnet`/`values`, `multiple: last`, and the actions
//! `del-attribute`, `unset-capability`, `remove-trait`. See `docs/rules.md`.
//!
//! ```
//! use ferrofish::rules::RuleSet;
//! use serde_json::{json, Map};
//!
//! let rules = RuleSet::from_json(r#"[{"description": "Dell",
//!     "conditions": [{"op": "eq", "field": "data://inventory.system_vendor.manufacturer", "value": "Dell Inc."}],
//!     "actions": [{"action": "set-attribute", "path": "driver", "value": "idrac"},
//!                 {"action": "set-attribute", "path": "driver_info/drac_password", "value": "calvin"}]}]"#)?;
//! let data = json!({"inventory": {"system_vendor": {"manufacturer": "Dell Inc."}}});
//! let mut node = Map::new();
//! let applied = rules.apply(&data, &mut node)?;
//! assert_eq!(node["driver"], "idrac");
//! // The password is not in the node: a reference is, and the value comes back apart.
//! assert_eq!(node["driver_info"]["drac_password"], "secret://rules/driver_info/drac_password");
//! assert_eq!(applied.secrets[0].reference, "secret://rules/driver_info/drac_password");
//! # Ok::<(), ferrofish::rules::RuleError>(())
//! ```
//!
//! The node is a JSON object with Ironic's node fields: `driver`, `driver_info`,
//! `properties` (capabilities as Ironic keeps them, `"k:v,k2:v2"` in
//! `properties.capabilities`), `traits`, `extra`, and any other field a rule sets.

mod data;
mod discover;
mod engine;
mod error;
mod explain;
mod model;
mod ops;
mod parse;
mod path;
mod template;

use serde_json::{Map, Value};

pub use data::inspection_data;
pub use discover::{
    DEFAULT_MAX_ADDRESSES, DiscoverOptions, Discovered, DiscoveredNode, DiscoveryCredentials,
    DiscoveryFailure, FailureKind, discover, expand_addresses,
};
pub use engine::{RuleSecret, SECRET_REFERENCE_PREFIX};
pub use error::RuleError;
pub use explain::{Change, ConditionReport, Explanation, Outcome, RuleReport};
pub use model::{Evaluation, Multiple};

/// A parsed rules file, ready to run.
#[derive(Clone, Debug)]
pub struct RuleSet {
    rules: Vec<model::Rule>,
    /// Indexes into `rules` by priority, higher first, file order among equals.
    order: Vec<usize>,
    evaluation: Evaluation,
}

/// What [`RuleSet::apply`] did.
#[derive(Clone, Debug)]
pub struct Applied {
    /// Indexes (in the file) of the rules whose actions ran, in the order they ran.
    pub matched: Vec<usize>,
    /// Every change made to the node, in order (secrets appear as their references).
    pub changes: Vec<Change>,
    /// The secret values rules set, kept out of the node; the node holds each one's
    /// `reference`. The caller stores them in its secret store.
    pub secrets: Vec<RuleSecret>,
}

impl RuleSet {
    /// Reads a rules file: a JSON list of rules, or one rule object. Errors name the rule and
    /// the JSON pointer of the element at fault.
    pub fn from_json(text: &str) -> Result<RuleSet, RuleError> {
        let rules = parse::parse_rules(text)?;
        let mut order: Vec<usize> = (0..rules.len()).collect();
        // Stable: equal priorities keep the file's order.
        order.sort_by_key(|&i| std::cmp::Reverse(rules[i].priority));
        Ok(RuleSet {
            rules,
            order,
            evaluation: Evaluation::default(),
        })
    }

    /// The same rules, evaluated the given way (default [`Evaluation::Immediate`]).
    #[must_use]
    pub fn with_evaluation(mut self, evaluation: Evaluation) -> RuleSet {
        self.evaluation = evaluation;
        self
    }

    /// How the rules are evaluated.
    pub fn evaluation(&self) -> Evaluation {
        self.evaluation
    }

    /// How many rules the set holds.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether the set holds no rule.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Runs the rules over `data` (inspection data, see [`inspection_data`]) and changes
    /// `node` as their actions say. All or nothing: on an error (a `fail` action, an action
    /// that cannot apply) the node is left exactly as it was.
    pub fn apply(&self, data: &Value, node: &mut Map<String, Value>) -> Result<Applied, RuleError> {
        let mut working = node.clone();
        let run = engine::run(
            &self.rules,
            &self.order,
            self.evaluation,
            data,
            &mut working,
        );
        run.result?;
        *node = working;
        Ok(Applied {
            matched: run
                .reports
                .iter()
                .filter(|r| r.matched)
                .map(|r| r.index)
                .collect(),
            changes: run.reports.into_iter().flat_map(|r| r.changes).collect(),
            secrets: run.secrets,
        })
    }

    /// What [`apply`](RuleSet::apply) would do, changing nothing: which conditions held on
    /// which values, and what each action would change. Secrets show as references or
    /// `<redacted>`, never in clear.
    pub fn explain(&self, data: &Value, node: &Map<String, Value>) -> Explanation {
        let mut working = node.clone();
        let run = engine::run(
            &self.rules,
            &self.order,
            self.evaluation,
            data,
            &mut working,
        );
        let outcome = match run.result {
            Ok(()) => Outcome::Completed {
                changes: run.reports.iter().map(|r| r.changes.len()).sum(),
            },
            Err(RuleError::Failed { rule, message, .. }) => Outcome::Failed { rule, message },
            Err(other) => Outcome::Error {
                message: other.to_string(),
            },
        };
        Explanation {
            evaluation: self.evaluation,
            rules: run.reports,
            outcome,
        }
    }
}

#[cfg(test)]
mod tests;
