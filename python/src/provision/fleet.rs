//! `run_fleet`: many nodes towards a plan, with progress to a Python callback.

use std::sync::Arc;

use ferrofish::provision::{Event, EventSink, Fleet, FleetEvent, FleetPlan};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use serde_json::{Map, Value};

use super::errors::provision_to_pyerr;
use super::settings::{deploy_spec, invalid};
use super::store::PyStateStore;
use crate::convert::json_to_py;
use crate::rules::{PyRuleSet, object_from_py};
use crate::runtime::block_on_reporting;
use crate::vmedia::server::PyImageServer;

/// Progress of one node in a fleet run.
#[pyclass(frozen, module = "ferrofish._ferrofish", name = "FleetEvent")]
pub(crate) struct PyFleetEvent {
    event: FleetEvent,
}

#[pymethods]
impl PyFleetEvent {
    /// The node's name.
    #[getter]
    fn node(&self) -> &str {
        &self.event.node
    }

    /// Its state (`"inspecting"`).
    #[getter]
    fn state(&self) -> &'static str {
        self.event.state.as_str()
    }

    /// Its sub-phase, when an operation is under way (`"inspect_read"`).
    #[getter]
    fn phase(&self) -> Option<&str> {
        self.event.phase.as_deref()
    }

    /// What happened (`"claimed"`, `"inspect"`, `"inspecting done"`, `"failed: …"`).
    #[getter]
    fn message(&self) -> &str {
        &self.event.message
    }

    /// `{"node", "state", "phase", "message"}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        dict.set_item("node", &self.event.node)?;
        dict.set_item("state", self.event.state.as_str())?;
        dict.set_item("phase", self.event.phase.as_deref())?;
        dict.set_item("message", &self.event.message)?;
        Ok(dict)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "FleetEvent(node={}, state='{}', phase={}, message={})",
            PyString::new(py, &self.event.node).repr()?,
            self.event.state.as_str(),
            match &self.event.phase {
                Some(phase) => PyString::new(py, phase).repr()?.to_string(),
                None => "None".to_owned(),
            },
            PyString::new(py, &self.event.message).repr()?
        ))
    }
}

fn flag(map: &Map<String, Value>, key: &str) -> PyResult<bool> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(value)) => Ok(*value),
        Some(_) => Err(invalid(format!("plan[{key:?}] must be a bool"))),
    }
}

/// A `FleetPlan` from `{"inspect", "clean_steps", "provide", "deploy": {"image",
/// "network_data", "boot_mode"}}` (every key optional).
fn plan_from_map(py: Python<'_>, map: &Map<String, Value>) -> PyResult<FleetPlan> {
    const KEYS: [&str; 4] = ["inspect", "clean_steps", "provide", "deploy"];
    if let Some(key) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(invalid(format!(
            "unknown key {key:?} in the plan (accepted: {})",
            KEYS.join(", ")
        )));
    }
    let clean_steps = match map.get("clean_steps") {
        None | Some(Value::Null) => Vec::new(),
        Some(steps) => {
            match Event::clean_from_json(steps).map_err(|e| provision_to_pyerr(py, &e))? {
                Event::Clean { steps } => steps,
                _ => Vec::new(),
            }
        }
    };
    let deploy = match map.get("deploy") {
        None | Some(Value::Null) => None,
        Some(Value::Object(spec)) => {
            if let Some(key) = spec
                .keys()
                .find(|k| !["image", "network_data", "boot_mode"].contains(&k.as_str()))
            {
                return Err(invalid(format!(
                    "unknown key {key:?} in plan[\"deploy\"] (accepted: image, network_data, \
                     boot_mode)"
                )));
            }
            let image = match spec.get("image") {
                Some(Value::String(image)) => Some(image.clone()),
                _ => None,
            };
            let boot_mode = match spec.get("boot_mode") {
                Some(Value::String(mode)) => Some(mode.as_str()),
                None | Some(Value::Null) => None,
                Some(_) => return Err(invalid("boot_mode must be a str".to_owned())),
            };
            let spec = deploy_spec(image, spec.get("network_data").cloned(), boot_mode)?;
            ferrofish::provision::validate_deploy(&spec)
                .map_err(|reason| invalid(format!("plan[\"deploy\"]: {reason}")))?;
            Some(spec)
        }
        Some(_) => return Err(invalid("plan[\"deploy\"] must be a dict".to_owned())),
    };
    Ok(FleetPlan {
        inspect: flag(map, "inspect")?,
        clean_steps,
        provide: flag(map, "provide")?,
        deploy,
    })
}

/// Drives every node of the store (of `group`) towards the plan's goal, `workers` at a time,
/// resuming whatever a killed run left, and returns the summary `{"nodes": [{"name",
/// "state", "phase", "last_error", "reached_goal", "skipped"}], "elapsed_ms"}`.
///
/// `on_event(event)` gets each `FleetEvent` (node, state, phase, message) on the calling thread,
/// in the order they happened; the GIL is released in between. If it raises, or on Ctrl-C, the
/// run stops and the exception propagates; nodes it was driving keep their lease until it lapses
/// (`lease_ttl`), and a later run resumes them.
///
/// Args:
///     store: the `StateStore` (its holder, timeouts, and `password_env` of each node).
///     plan: `{"inspect": bool, "clean_steps": [...], "provide": bool, "deploy": {"image",
///         "network_data", "boot_mode"}}`, every key optional; the goal is `active` with a
///         deploy, `available` with provide, else `manageable`.
///     rules: a `RuleSet` run after inspection (without `inventory.bmc_address`).
///     image_server: serves config drives for deploys with network data.
#[pyfunction]
#[pyo3(signature = (
    store,
    plan,
    *,
    workers = 8,
    group = None,
    on_event = None,
    rules = None,
    image_server = None,
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_fleet<'py>(
    py: Python<'py>,
    store: &Bound<'py, PyStateStore>,
    plan: &Bound<'py, PyAny>,
    workers: usize,
    group: Option<String>,
    on_event: Option<&Bound<'py, PyAny>>,
    rules: Option<PyRef<'py, PyRuleSet>>,
    image_server: Option<PyRef<'py, PyImageServer>>,
) -> PyResult<Bound<'py, PyAny>> {
    if workers == 0 {
        return Err(invalid("workers must be at least 1".to_owned()));
    }
    if let Some(callback) = on_event
        && !callback.is_callable()
    {
        return Err(PyTypeError::new_err("on_event must be callable"));
    }
    let plan = plan_from_map(py, &object_from_py(plan, "plan")?)?;
    let settings = store.get().settings()?;
    let rules = rules.map(|r| r.rules().clone());
    let images = image_server.map(|s| s.server()).transpose()?;
    let summary = block_on_reporting(
        py,
        move |sender| async move {
            let sink: EventSink = Arc::new(move |event: &FleetEvent| {
                // The receiver is gone only when the caller stopped waiting.
                let _ = sender.send(event.clone());
            });
            let driver = settings.driver(rules, images);
            Fleet::new(driver, settings.connector.clone(), plan)
                .workers(workers)
                .group(group)
                .on_event(sink)
                .run()
                .await
        },
        |py, e| provision_to_pyerr(py, &e),
        |py, event: FleetEvent| {
            if let Some(callback) = on_event {
                callback.call1((Py::new(py, PyFleetEvent { event })?,))?;
            }
            Ok(())
        },
    )?;
    let value = serde_json::to_value(&summary)
        .map_err(|e| PyRuntimeError::new_err(format!("fleet summary: {e}")))?;
    json_to_py(py, &value)
}
