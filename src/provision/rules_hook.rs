//! The inspection rules in the inspect step: Ironic's rules ([`RuleSet`]) run on inspection
//! data built from the out-of-band inventory, the node's BMC address and whether it was
//! auto-discovered, and change the node's fields. The secrets rules set (a
//! `driver_info/*password*`) never reach the node: it holds `secret://rules/…` references and
//! the values go to a [`SecretMap`] the caller holds in memory.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use secrecy::SecretString;
use serde_json::Value;

use super::node::Node;
use crate::redfish::Inventory;
use crate::rules::{Applied, RuleError, RuleSet, inspection_data};

/// The secret values inspection rules produced, by node and reference, held in memory by the
/// process that ran the rules (never written to the store, never printed: `Debug` shows how
/// many there are). A caller that must keep them across runs copies them into its own secret
/// store; a run that resumes a node inspected earlier does not have them.
#[derive(Clone, Default)]
pub struct SecretMap {
    inner: Arc<Mutex<BTreeMap<String, BTreeMap<String, SecretString>>>>,
}

impl SecretMap {
    /// An empty map.
    pub fn new() -> SecretMap {
        SecretMap::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, BTreeMap<String, SecretString>>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps `value` for `node` under `reference` (`secret://rules/driver_info/drac_password`).
    pub fn insert(&self, node: &str, reference: &str, value: SecretString) {
        self.lock()
            .entry(node.to_owned())
            .or_default()
            .insert(reference.to_owned(), value);
    }

    /// The value behind `reference` for `node`.
    pub fn get(&self, node: &str, reference: &str) -> Option<SecretString> {
        self.lock().get(node)?.get(reference).cloned()
    }

    /// The references held for `node`, sorted.
    pub fn references(&self, node: &str) -> Vec<String> {
        self.lock()
            .get(node)
            .map(|refs| refs.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// How many secrets are held, over every node.
    pub fn len(&self) -> usize {
        self.lock().values().map(BTreeMap::len).sum()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for SecretMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretMap")
            .field("secrets", &self.len())
            .finish_non_exhaustive()
    }
}

/// Inspection rules for [`super::Driver::with_rules`]: a rule set and the [`SecretMap`] its
/// secrets go to. Cheap to clone.
#[derive(Clone, Debug)]
pub struct InspectionRules {
    rules: Arc<RuleSet>,
    secrets: SecretMap,
}

impl InspectionRules {
    /// Runs `rules`, keeping their secrets in a new map.
    pub fn new(rules: RuleSet) -> InspectionRules {
        InspectionRules::with_secrets(rules, SecretMap::new())
    }

    /// Runs `rules`, keeping their secrets in `secrets`.
    pub fn with_secrets(rules: RuleSet, secrets: SecretMap) -> InspectionRules {
        InspectionRules {
            rules: Arc::new(rules),
            secrets,
        }
    }

    /// Where the secrets go.
    pub fn secrets(&self) -> &SecretMap {
        &self.secrets
    }

    /// The rule set.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// The inspection data the rules see for `node`: [`inspection_data`] of `inventory`, the
    /// node's BMC address and its `extra.auto_discovered` flag. Pure.
    pub fn data_for(node: &Node, inventory: &Inventory) -> Value {
        inspection_data(
            inventory,
            Some(node.bmc.address.as_str()),
            auto_discovered(node),
        )
    }

    /// Applies the rules to `node`'s fields (all or nothing) and keeps the secrets they set.
    /// A rule's `fail` is [`RuleError::Failed`] with its message.
    pub fn apply(&self, node: &mut Node, inventory: &Inventory) -> Result<Applied, RuleError> {
        let data = InspectionRules::data_for(node, inventory);
        let applied = self.rules.apply(&data, &mut node.fields)?;
        for secret in &applied.secrets {
            self.secrets
                .insert(&node.name, &secret.reference, secret.value.clone());
        }
        Ok(applied)
    }
}

/// Whether the node was enrolled by auto-discovery: `extra.auto_discovered` is `true` (where
/// the `provision` example and [`crate::rules::discover`]'s callers record it).
pub fn auto_discovered(node: &Node) -> bool {
    node.fields
        .get("extra")
        .and_then(|extra| extra.get("auto_discovered"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provision::BmcRef;
    use secrecy::ExposeSecret as _;
    use serde_json::json;

    const SEED_DELL: &str = include_str!("../rules/testdata/seed-dell.json");

    fn dell_inventory() -> Inventory {
        let mut inventory = Inventory::default();
        inventory.system.manufacturer = Some("Dell Inc.".into());
        inventory
    }

    fn node(auto: bool) -> Node {
        let mut node = Node::new(
            "r640",
            BmcRef {
                address: "http://127.0.0.1:8000/redfish/v1/Systems/1".into(),
                ..BmcRef::default()
            },
        );
        if auto {
            node.fields
                .insert("extra".into(), json!({"auto_discovered": true}));
        }
        node
    }

    #[test]
    fn the_seed_rule_sets_the_driver_and_address_and_keeps_the_password_apart() {
        let rules = InspectionRules::new(RuleSet::from_json(SEED_DELL).unwrap());
        let mut discovered = node(true);
        let applied = rules.apply(&mut discovered, &dell_inventory()).unwrap();
        assert_eq!(applied.matched, vec![0]);
        assert_eq!(discovered.fields["driver"], "idrac");
        assert_eq!(
            discovered.fields["driver_info"]["drac_address"],
            "127.0.0.1:8000"
        );
        let reference = "secret://rules/driver_info/drac_password";
        assert_eq!(discovered.fields["driver_info"]["drac_password"], reference);
        let text = discovered.to_json().unwrap();
        assert!(!text.contains("calvin"), "{text}");
        assert_eq!(
            rules
                .secrets()
                .get("r640", reference)
                .map(|s| s.expose_secret().to_owned()),
            Some("calvin".into())
        );
        assert!(!format!("{rules:?}").contains("calvin"));

        // Not auto-discovered: the seed rule's first condition does not hold.
        let mut enrolled = node(false);
        let applied = rules.apply(&mut enrolled, &dell_inventory()).unwrap();
        assert!(applied.matched.is_empty());
        assert!(enrolled.fields.get("driver").is_none());
    }

    #[test]
    fn a_fail_action_is_a_failed_by_rule_error_and_changes_nothing() {
        let rules = InspectionRules::new(
            RuleSet::from_json(
                r#"[{"description": "no Dell", "conditions": [{"op": "eq",
                    "field": "data://inventory.system_vendor.manufacturer", "value": "Dell Inc."}],
                    "actions": [{"action": "set-attribute", "path": "driver", "value": "idrac"},
                                {"action": "fail", "message": "Dell is not allowed here"}]}]"#,
            )
            .unwrap(),
        );
        let mut n = node(true);
        let before = n.fields.clone();
        let err = rules.apply(&mut n, &dell_inventory()).unwrap_err();
        assert!(err.is_failed_by_rule(), "{err}");
        assert!(
            err.to_string().contains("Dell is not allowed here"),
            "{err}"
        );
        assert_eq!(n.fields, before);
    }
}
