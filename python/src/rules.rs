//! `ferrofish.rules`: Ironic's inspection rules over inspection data and a node, from Python.
//!
//! Nodes are plain dicts; `apply` returns a new dict and never changes the caller's. A value a
//! rule sets at a `*password*` path is not in the returned node (a `secret://rules/…`
//! reference is) but in a [`PyRuleSecret`], whose `repr` never shows it.

use ferrofish::ExposeSecret;
use ferrofish::redfish::Inventory;
use ferrofish::rules::{Evaluation, RuleError, RuleSecret, RuleSet, inspection_data};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use serde_json::{Map, Value};

use crate::convert::{json_to_py, map_to_py, py_to_json};
use crate::errors::{ExceptionClass, ExceptionSpec, Field, InvalidInputError, build_exception};
use crate::models::PyInventory;

fn index(value: usize) -> Field {
    Field::MaybeCount(Some(value as u64))
}

/// Decides the Python exception for a rules error: the rule's index, description, JSON pointer
/// and action index as attributes. No variant carries a value from the data or the node.
pub(crate) fn rule_exception_spec(error: &RuleError) -> ExceptionSpec {
    let spec = |class, fields| ExceptionSpec {
        class,
        message: error.to_string(),
        fields,
        cause: None,
    };
    let located = |rule: Field, description: Option<&String>, pointer: Option<&str>, action| {
        vec![
            ("rule", rule),
            ("description", Field::Text(description.cloned())),
            ("pointer", Field::Text(pointer.map(str::to_owned))),
            ("action", action),
        ]
    };
    match error {
        RuleError::Json { .. } => spec(
            ExceptionClass::InvalidRules,
            located(Field::MaybeCount(None), None, None, Field::MaybeCount(None)),
        ),
        RuleError::Invalid {
            rule,
            description,
            pointer,
            ..
        } => spec(
            ExceptionClass::InvalidRules,
            located(
                Field::MaybeCount(rule.map(|r| r as u64)),
                description.as_ref(),
                Some(pointer),
                Field::MaybeCount(None),
            ),
        ),
        RuleError::Failed {
            rule, description, ..
        } => spec(
            ExceptionClass::RuleFailed,
            located(
                index(*rule),
                description.as_ref(),
                None,
                Field::MaybeCount(None),
            ),
        ),
        RuleError::Action {
            rule,
            description,
            action,
            pointer,
            ..
        } => spec(
            ExceptionClass::Rule,
            located(
                index(*rule),
                description.as_ref(),
                Some(pointer),
                index(*action),
            ),
        ),
        // Discovery input (not bound here) and a variant added later.
        _ if error.is_invalid_input() => spec(ExceptionClass::InvalidInput, Vec::new()),
        _ => spec(
            ExceptionClass::Rule,
            located(Field::MaybeCount(None), None, None, Field::MaybeCount(None)),
        ),
    }
}

pub(crate) fn rule_to_pyerr(py: Python<'_>, error: &RuleError) -> PyErr {
    build_exception(py, &rule_exception_spec(error)).unwrap_or_else(|failure| failure)
}

fn evaluation(name: &str) -> PyResult<Evaluation> {
    match name {
        "immediate" => Ok(Evaluation::Immediate),
        "legacy_two_phase" => Ok(Evaluation::LegacyTwoPhase),
        _ => Err(InvalidInputError::new_err(format!(
            "evaluation must be \"immediate\" or \"legacy_two_phase\", not {name:?}"
        ))),
    }
}

fn evaluation_name(evaluation: Evaluation) -> &'static str {
    match evaluation {
        Evaluation::LegacyTwoPhase => "legacy_two_phase",
        Evaluation::Immediate => "immediate",
    }
}

/// A node dict as a JSON object (a `TypeError` naming where, for anything else).
pub(crate) fn object_from_py(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Map<String, Value>> {
    match py_to_json(value)? {
        Value::Object(map) => Ok(map),
        _ => Err(PyTypeError::new_err(format!(
            "{what} must be a dict, not {}",
            value.get_type().name()?
        ))),
    }
}

/// A secret value a rule set (a BMC password, for instance), kept out of the node: the node
/// holds `reference` at `path` instead. `repr` and `str` never show the value; `reveal()`
/// returns it, for the caller's secret store. It cannot be pickled (that would write it out).
#[pyclass(frozen, module = "ferrofish._ferrofish", name = "RuleSecret")]
pub(crate) struct PyRuleSecret {
    secret: RuleSecret,
}

#[pymethods]
impl PyRuleSecret {
    /// Where in the node it belongs (`driver_info/drac_password`).
    #[getter]
    fn path(&self) -> &str {
        &self.secret.path
    }

    /// What the node holds there instead (`secret://rules/driver_info/drac_password`).
    #[getter]
    fn reference(&self) -> &str {
        &self.secret.reference
    }

    /// The secret value itself. Call it only to hand the value to a secret store.
    fn reveal(&self) -> &str {
        self.secret.value.expose_secret()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "RuleSecret(path={}, reference={}, value=<redacted>)",
            PyString::new(py, &self.secret.path).repr()?,
            PyString::new(py, &self.secret.reference).repr()?
        ))
    }

    #[allow(
        clippy::unused_self,
        reason = "a Python method: pickling always refuses"
    )]
    fn __reduce__(&self) -> PyResult<()> {
        Err(PyTypeError::new_err(
            "a RuleSecret cannot be pickled: store reveal() in a secret store deliberately",
        ))
    }
}

/// What `RuleSet.apply` did: the rules whose actions ran, every change, and the secrets set.
#[pyclass(frozen, module = "ferrofish._ferrofish", name = "RulesApplied")]
pub(crate) struct PyRulesApplied {
    matched: Vec<usize>,
    /// The serde form of each `Change` (secrets appear as their references).
    changes: Vec<Value>,
    secrets: Vec<Py<PyRuleSecret>>,
}

#[pymethods]
impl PyRulesApplied {
    /// Indexes (in the file) of the rules whose actions ran, in the order they ran.
    #[getter]
    fn matched<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, &self.matched)
    }

    /// Every change, in order: `{"rule", "action", "kind", "target", "before", "after",
    /// "secret"}` (a secret's `after` is its reference).
    #[getter]
    fn changes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for change in &self.changes {
            list.append(json_to_py(py, change)?)?;
        }
        Ok(list)
    }

    /// The secret values the rules set, kept out of the node.
    #[getter]
    fn secrets<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.secrets.iter().map(|s| s.clone_ref(py)))
    }

    fn __repr__(&self) -> String {
        format!(
            "RulesApplied(matched={:?}, changes={}, secrets={})",
            self.matched,
            self.changes.len(),
            self.secrets.len()
        )
    }
}

/// A parsed rules file (ironic-inspector's JSON, or ferrofish's canonical form; see
/// docs/rules.md), ready to run over inspection data and a node.
#[pyclass(frozen, module = "ferrofish._ferrofish", name = "RuleSet")]
pub(crate) struct PyRuleSet {
    rules: RuleSet,
}

impl PyRuleSet {
    pub(crate) fn rules(&self) -> &RuleSet {
        &self.rules
    }

    fn parse(py: Python<'_>, text: &str, evaluation_mode: &str) -> PyResult<PyRuleSet> {
        let mode = evaluation(evaluation_mode)?;
        let rules = RuleSet::from_json(text).map_err(|e| rule_to_pyerr(py, &e))?;
        Ok(PyRuleSet {
            rules: rules.with_evaluation(mode),
        })
    }
}

#[pymethods]
impl PyRuleSet {
    /// Rules from Python data: a list of rule dicts, or one rule dict.
    ///
    /// Args:
    ///     rules: the rules, as `json.load` would return the file.
    ///     evaluation: `"immediate"` (current Ironic: by priority, each rule's actions run
    ///         before the next rule's conditions) or `"legacy_two_phase"` (ironic-inspector).
    ///
    /// Raises:
    ///     InvalidRulesError: a rule is malformed (`rule` and `pointer` say which element).
    #[new]
    #[pyo3(signature = (rules, *, evaluation = "immediate"))]
    fn new(py: Python<'_>, rules: &Bound<'_, PyAny>, evaluation: &str) -> PyResult<PyRuleSet> {
        let value = py_to_json(rules)?;
        PyRuleSet::parse(py, &value.to_string(), evaluation)
    }

    /// Rules from the text of a rules file.
    ///
    /// Raises:
    ///     InvalidRulesError: not JSON (line and column in the message), or a malformed rule.
    #[staticmethod]
    #[pyo3(signature = (text, *, evaluation = "immediate"))]
    fn from_json(py: Python<'_>, text: &str, evaluation: &str) -> PyResult<PyRuleSet> {
        PyRuleSet::parse(py, text, evaluation)
    }

    /// `"immediate"` or `"legacy_two_phase"`.
    #[getter]
    fn evaluation(&self) -> &'static str {
        evaluation_name(self.rules.evaluation())
    }

    fn __len__(&self) -> usize {
        self.rules.len()
    }

    /// Runs the rules over `data` (see `inspection_data`) and `node`, and returns the changed
    /// node as a new dict with what was done: `(node, applied)`. The `node` passed in is never
    /// changed. All or nothing: on an error nothing is returned but the exception.
    ///
    /// Raises:
    ///     RuleFailedError: a `fail` action ran.
    ///     RuleError: an action could not be applied (`rule`, `action`, `pointer`).
    fn apply<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        node: &Bound<'py, PyAny>,
    ) -> PyResult<(Bound<'py, PyDict>, PyRulesApplied)> {
        let data = py_to_json(data)?;
        let mut node = object_from_py(node, "node")?;
        let applied = self
            .rules
            .apply(&data, &mut node)
            .map_err(|e| rule_to_pyerr(py, &e))?;
        let changes = applied
            .changes
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| PyTypeError::new_err(format!("cannot serialize a change: {e}")))?;
        let secrets = applied
            .secrets
            .into_iter()
            .map(|secret| Py::new(py, PyRuleSecret { secret }))
            .collect::<PyResult<Vec<_>>>()?;
        Ok((
            map_to_py(py, &node)?,
            PyRulesApplied {
                matched: applied.matched,
                changes,
                secrets,
            },
        ))
    }

    /// What `apply` would do, changing nothing: an `Explanation`, a dict of which conditions
    /// held on which values and what each action would change (`{"evaluation", "rules",
    /// "outcome"}`), whose `str()` is the same account in words. Secrets show as references
    /// or `<redacted>`. A failing rule is reported in `outcome`, not raised.
    fn explain<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        node: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let data = py_to_json(data)?;
        let node = object_from_py(node, "node")?;
        let explanation = self.rules.explain(&data, &node);
        let value = serde_json::to_value(&explanation)
            .map_err(|e| PyTypeError::new_err(format!("cannot serialize the explanation: {e}")))?;
        let class = py.import("ferrofish.rules")?.getattr("Explanation")?;
        class.call1((json_to_py(py, &value)?, explanation.to_string()))
    }

    fn __repr__(&self) -> String {
        format!(
            "RuleSet({} rule{}, evaluation={:?})",
            self.rules.len(),
            if self.rules.len() == 1 { "" } else { "s" },
            evaluation_name(self.rules.evaluation())
        )
    }
}

/// An `Inventory` object, or the dict its `to_dict()` returns.
pub(crate) fn inventory_from_py(value: &Bound<'_, PyAny>) -> PyResult<Inventory> {
    let map = if let Ok(inventory) = value.cast::<PyInventory>() {
        inventory.get().as_map().clone()
    } else {
        object_from_py(value, "inventory")?
    };
    serde_json::from_value(Value::Object(map))
        .map_err(|e| InvalidInputError::new_err(format!("not an inventory: {e}")))
}

/// Inspection data in the shape Ironic's inspector produces (`{"inventory": {...},
/// "auto_discovered": ..., "memory_mb": ..., ...}`), built from an out-of-band inventory.
///
/// Args:
///     inventory: what `RedfishClient.inventory()` returned (or its `to_dict()`).
///     bmc_address: the BMC's host (a URL is reduced to its host), for
///         `inventory.bmc_address`; absent when `None`.
///     auto_discovered: the node was found by auto-discovery (rules test it).
#[pyfunction(name = "inspection_data")]
#[pyo3(signature = (inventory, bmc_address = None, auto_discovered = false))]
pub(crate) fn py_inspection_data<'py>(
    py: Python<'py>,
    inventory: &Bound<'py, PyAny>,
    bmc_address: Option<&str>,
    auto_discovered: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let inventory = inventory_from_py(inventory)?;
    json_to_py(
        py,
        &inspection_data(&inventory, bmc_address, auto_discovered),
    )
}

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyRuleSet>()?;
    module.add_class::<PyRulesApplied>()?;
    module.add_class::<PyRuleSecret>()?;
    module.add_function(wrap_pyfunction!(py_inspection_data, module)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_errors_carry_rule_pointer_and_action() {
        let invalid = RuleSet::from_json(
            r#"[{"conditions": [{"op": "nope", "field": "data://x", "value": 1}], "actions": []}]"#,
        )
        .unwrap_err();
        let spec = rule_exception_spec(&invalid);
        assert_eq!(spec.class, ExceptionClass::InvalidRules);
        assert!(spec.fields.contains(&("rule", Field::MaybeCount(Some(0)))));
        assert!(
            spec.fields
                .contains(&("pointer", Field::Text(Some("/0/conditions/0/op".into())))),
            "{spec:?}"
        );

        let json = RuleSet::from_json("[{").unwrap_err();
        assert_eq!(
            rule_exception_spec(&json).class,
            ExceptionClass::InvalidRules
        );

        let failed = rule_exception_spec(&RuleError::Failed {
            rule: 2,
            description: Some("no BMC".into()),
            message: "stop".into(),
        });
        assert_eq!(failed.class, ExceptionClass::RuleFailed);
        assert!(
            failed
                .fields
                .contains(&("rule", Field::MaybeCount(Some(2))))
        );

        let action = rule_exception_spec(&RuleError::Action {
            rule: 1,
            description: None,
            action: 3,
            pointer: "/1/actions/3".into(),
            message: "no such data".into(),
        });
        assert_eq!(action.class, ExceptionClass::Rule);
        assert!(
            action
                .fields
                .contains(&("action", Field::MaybeCount(Some(3))))
        );
        assert!(
            action
                .fields
                .contains(&("pointer", Field::Text(Some("/1/actions/3".into()))))
        );
    }

    #[test]
    fn evaluation_names_round_trip_and_others_are_refused() {
        for name in ["immediate", "legacy_two_phase"] {
            assert_eq!(evaluation_name(evaluation(name).unwrap()), name);
        }
        assert!(evaluation("two_phase").is_err());
    }
}
