//! `ferrofish.Bios`: BIOS attributes of one system from Python: read (current and pending as
//! Python values), the registry, validate (raising `BiosValidationError` with every problem),
//! diff, stage, apply and verify (the per-attribute report), and factory reset.
//! `ferrofish.AsyncBios` is the asyncio face of the same `BiosCore`; over 600 lines because of
//! the two faces' `#[pymethods]`.
//!
//! Profiles come as a `dict` (`{"BootMode": "Uefi"}`), Ironic's settings list
//! (`[{"name": ..., "value": ...}]`), a list of `"NAME=VALUE"` strings, or one `str` (JSON or
//! `NAME=VALUE` lines). Password values never come back: they read as `None`.

use std::sync::Arc;
use std::time::Duration;

use ferrofish::bios::{
    ApplyOptions, AttributeKind, BIOS_QUIRK_FIELDS, Bios, BiosError, BiosQuirksOverride, Plan,
    Profile, RegistryInfo, StageOutcome,
};
use ferrofish::redfish::{RedfishClient, TaskWait};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use serde_json::{Value, json};

use crate::client::{
    CallError, ClientCore, DefaultSystem, PyAsyncRedfishClient, PyRedfishClient,
    call_error_to_pyerr, resolve_system,
};
use crate::convert::{json_to_py, py_to_json};
use crate::errors::{ClientClosedError, InvalidInputError, bios_to_pyerr};
use crate::runtime::{Face, check_same_process, drop_in_runtime, run};

/// An error of a BIOS call: choosing the system, or the BIOS operation.
enum BiosCallError {
    System(CallError),
    Bios(BiosError),
}

impl From<BiosError> for BiosCallError {
    fn from(error: BiosError) -> BiosCallError {
        BiosCallError::Bios(error)
    }
}

impl From<CallError> for BiosCallError {
    fn from(error: CallError) -> BiosCallError {
        BiosCallError::System(error)
    }
}

impl From<ferrofish::redfish::Error> for BiosCallError {
    fn from(error: ferrofish::redfish::Error) -> BiosCallError {
        BiosCallError::Bios(error.into())
    }
}

fn to_pyerr(py: Python<'_>, error: BiosCallError) -> PyErr {
    match error {
        BiosCallError::System(error) => call_error_to_pyerr(py, error),
        BiosCallError::Bios(error) => bios_to_pyerr(py, &error),
    }
}

/// A profile from the Python forms operators have. Nothing is sent when it cannot be read.
fn profile_from_py(profile: &Bound<'_, PyAny>) -> PyResult<Profile> {
    let parsed = if let Ok(text) = profile.cast::<PyString>() {
        Profile::parse(&text.to_cow()?)
    } else if let Ok(list) = profile.cast::<PyList>()
        && !list.is_empty()
        && list.iter().all(|item| item.is_instance_of::<PyString>())
    {
        let pairs: Vec<String> = list.extract()?;
        Profile::from_pairs(pairs.iter().map(String::as_str))
    } else {
        Profile::from_json(&py_to_json(profile)?)
    };
    parsed.map_err(|error| InvalidInputError::new_err(error.to_string()))
}

fn wait_options(timeout: f64, poll_interval: f64, reset: bool) -> PyResult<ApplyOptions> {
    let positive = |name: &str, value: f64| match Duration::try_from_secs_f64(value) {
        Ok(duration) if !duration.is_zero() => Ok(duration),
        _ => Err(InvalidInputError::new_err(format!(
            "{name} must be a positive number of seconds, not {value}"
        ))),
    };
    let poll = positive("poll_interval", poll_interval)?;
    Ok(ApplyOptions {
        wait: TaskWait {
            timeout: positive("timeout", timeout)?,
            initial_delay: poll.min(Duration::from_secs(1)),
            max_delay: poll,
        },
        reset,
    })
}

/// The registry as Python sees it: where it came from, why it is missing, and each attribute.
fn registry_json(info: &RegistryInfo) -> Value {
    let attributes: Vec<Value> = info
        .registry
        .iter()
        .flat_map(|r| r.attributes.iter())
        .map(|a| {
            let mut entry = json!({
                "name": a.name,
                "display_name": a.display_name,
                "read_only": a.read_only || a.immutable,
                "hidden": a.hidden,
                "default": a.default_value,
            });
            let (kind, limits) = match &a.kind {
                AttributeKind::Enumeration { values } => {
                    ("enumeration", json!({"allowed": values}))
                }
                AttributeKind::Integer {
                    lower,
                    upper,
                    increment,
                } => (
                    "integer",
                    json!({"lower": lower, "upper": upper, "increment": increment}),
                ),
                AttributeKind::String {
                    min_length,
                    max_length,
                    pattern,
                } => (
                    "string",
                    json!({"min_length": min_length, "max_length": max_length, "pattern": pattern}),
                ),
                AttributeKind::Boolean => ("boolean", json!({})),
                AttributeKind::Password {
                    min_length,
                    max_length,
                } => (
                    "password",
                    json!({"min_length": min_length, "max_length": max_length}),
                ),
                AttributeKind::Other(other) => (other.as_str(), json!({})),
            };
            entry["type"] = Value::from(kind);
            if let (Value::Object(entry), Value::Object(limits)) = (&mut entry, limits) {
                entry.extend(limits);
            }
            entry
        })
        .collect();
    json!({
        "id": info.registry.as_ref().map(|r| r.id.clone()),
        "url": info.url,
        "note": info.note,
        "missing": info.registry.is_none(),
        "attributes": attributes,
    })
}

fn plan_json(plan: &Plan) -> Value {
    let settings: Vec<Value> = plan
        .validated
        .settings
        .iter()
        .map(|s| json!({"name": s.name, "requested_as": s.requested_as, "value": s.value}))
        .collect();
    json!({
        "settings": settings,
        "registry_missing": plan.validated.registry_missing,
        "notes": plan.validated.notes,
        "changes": plan.diff.changes,
        "already_pending": plan.diff.already_pending,
        "unchanged": plan.diff.unchanged,
        "empty": plan.diff.is_empty(),
        "summary": plan.diff.to_string(),
    })
}

/// What staging did: whether a PATCH went out and what it changes. Pass it to `Bios.apply`.
/// Values are not shown (a password is never repeated).
#[pyclass(frozen, module = "ferrofish._ferrofish", name = "BiosStaged")]
pub(crate) struct PyBiosStaged {
    staged: StageOutcome,
}

#[pymethods]
impl PyBiosStaged {
    /// Whether a PATCH was sent (`False`: nothing to change, nothing sent).
    #[getter]
    fn sent(&self) -> bool {
        self.staged.sent
    }

    /// The settings object written (`.../Bios/Settings`, `.../Bios/SD`, ...).
    #[getter]
    fn settings_url(&self) -> String {
        self.staged.settings_url.to_string()
    }

    /// The job or task the BMC created for the change (Dell's BIOS job), if any.
    #[getter]
    fn job(&self) -> Option<String> {
        self.staged.job.clone()
    }

    /// The validated settings and the diff, as plain data (passwords as `None`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let mut value = plan_json(&self.staged.plan);
        value["sent"] = Value::from(self.staged.sent);
        value["settings_url"] = Value::from(self.staged.settings_url.as_str());
        value["job"] = json!(self.staged.job);
        json_to_py(py, &value)
    }

    fn __repr__(&self) -> String {
        let names: Vec<&str> = self
            .staged
            .plan
            .diff
            .changes
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        format!(
            "BiosStaged(sent={}, changes=[{}], already_pending={:?})",
            if self.staged.sent { "True" } else { "False" },
            names.join(", "),
            self.staged.plan.diff.already_pending
        )
    }
}

/// What `Bios` and `AsyncBios` share: the system and the calls, each written once and run
/// through either face (`runtime::Face`).
struct BiosCore {
    /// `None` only while the object is being dropped.
    client: Option<RedfishClient>,
    system: Option<String>,
    default_system: DefaultSystem,
    /// The user's BIOS quirk overrides (`Bios(..., quirks={...})`), applied after detection.
    quirks: BiosQuirksOverride,
    /// The process that built it (see `runtime` on fork safety).
    pid: u32,
}

impl Drop for BiosCore {
    fn drop(&mut self) {
        // It may hold the last clone of the client, whose drop deletes the session in the
        // background (or, in a forked child, must not).
        if let Some(client) = self.client.take() {
            drop_in_runtime(self.pid, client);
        }
    }
}

fn json_value_to_py(py: Python<'_>, value: &Value) -> PyResult<Py<PyAny>> {
    Ok(json_to_py(py, value)?.unbind())
}

impl BiosCore {
    fn new(
        client: &ClientCore,
        system: Option<String>,
        quirks: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<BiosCore> {
        Ok(BiosCore {
            quirks: crate::quirks::override_from::<BiosQuirksOverride>(
                "BIOS",
                BIOS_QUIRK_FIELDS,
                quirks,
            )?,
            client: Some(client.client()?.clone()),
            system,
            default_system: client.default_system(),
            pid: std::process::id(),
        })
    }

    /// Runs one BIOS operation through `face`.
    fn run<'py, T, Fut>(
        &self,
        py: Python<'py>,
        face: Face,
        operation: impl FnOnce(Bios) -> Fut + Send + 'static,
        convert: impl FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
    ) -> PyResult<Bound<'py, PyAny>>
    where
        Fut: Future<Output = Result<T, BiosError>> + Send + 'static,
        T: Send + 'static,
    {
        check_same_process(self.pid, "Bios")?;
        let client = self
            .client
            .clone()
            .ok_or_else(|| ClientClosedError::new_err("the Bios is being dropped"))?;
        let system = self.system.clone();
        let default = Arc::clone(&self.default_system);
        let quirks = self.quirks.clone();
        run(
            py,
            face,
            move || async move {
                let id = resolve_system(&client, system, &default).await?;
                let handle = client.system(&id).await?;
                let bios = Bios::new(&handle).with_quirks_override(quirks);
                Ok::<T, BiosCallError>(operation(bios).await?)
            },
            to_pyerr,
            convert,
        )
    }

    fn read<'py>(&self, py: Python<'py>, face: Face) -> PyResult<Bound<'py, PyAny>> {
        self.run(
            py,
            face,
            |bios| async move {
                let s = bios.read().await?;
                Ok(json!({
                    "url": s.url.as_str(),
                    "attribute_registry": s.attribute_registry,
                    "current": s.current,
                    "pending": s.pending,
                    "settings_url": s.settings.url.as_str(),
                    "supported_apply_times": s.settings.supported_apply_times.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "messages": s.settings.messages,
                    "registry_url": s.registry.url,
                    "registry_note": s.registry.note,
                    "registry_missing": s.registry.registry.is_none(),
                }))
            },
            |py, value| json_value_to_py(py, &value),
        )
    }

    fn registry<'py>(&self, py: Python<'py>, face: Face) -> PyResult<Bound<'py, PyAny>> {
        self.run(
            py,
            face,
            |bios| async move { Ok(registry_json(&bios.registry().await?)) },
            |py, value| json_value_to_py(py, &value),
        )
    }

    fn validate<'py>(
        &self,
        py: Python<'py>,
        face: Face,
        profile: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let profile = profile_from_py(profile)?;
        self.run(
            py,
            face,
            |bios| async move { Ok(bios.plan(&profile).await?.1) },
            |py, plan| json_value_to_py(py, &plan_json(&plan)["settings"]),
        )
    }

    fn diff<'py>(
        &self,
        py: Python<'py>,
        face: Face,
        profile: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let profile = profile_from_py(profile)?;
        self.run(
            py,
            face,
            |bios| async move { Ok(bios.plan(&profile).await?.1) },
            |py, plan| json_value_to_py(py, &plan_json(&plan)),
        )
    }

    fn stage<'py>(
        &self,
        py: Python<'py>,
        face: Face,
        profile: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let profile = profile_from_py(profile)?;
        self.run(
            py,
            face,
            |bios| async move { bios.stage(&profile).await },
            |py, staged| Ok(Py::new(py, PyBiosStaged { staged })?.into_any()),
        )
    }

    fn apply<'py>(
        &self,
        py: Python<'py>,
        face: Face,
        staged: &Bound<'py, PyBiosStaged>,
        options: ApplyOptions,
    ) -> PyResult<Bound<'py, PyAny>> {
        let staged = staged.get().staged.clone();
        self.run(
            py,
            face,
            move |bios| async move { bios.apply(&staged, &options, &mut |_| {}).await },
            |py, report| json_value_to_py(py, &json!(report.attributes)),
        )
    }

    fn apply_and_verify<'py>(
        &self,
        py: Python<'py>,
        face: Face,
        profile: &Bound<'py, PyAny>,
        options: ApplyOptions,
    ) -> PyResult<Bound<'py, PyAny>> {
        let profile = profile_from_py(profile)?;
        self.run(
            py,
            face,
            move |bios| async move {
                let staged = bios.stage(&profile).await?;
                bios.apply(&staged, &options, &mut |_| {}).await
            },
            |py, report| json_value_to_py(py, &json!(report.attributes)),
        )
    }

    fn factory_reset<'py>(
        &self,
        py: Python<'py>,
        face: Face,
        options: ApplyOptions,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.run(
            py,
            face,
            move |bios| async move { bios.factory_reset(&options, &mut |_| {}).await },
            |py, report| json_value_to_py(py, &json!(report)),
        )
    }

    fn repr(&self, class: &str) -> String {
        let system = self
            .system
            .as_deref()
            .map_or_else(|| "None".to_owned(), |s| format!("'{s}'"));
        let url = self
            .client
            .as_ref()
            .map_or("", |client| client.endpoint().as_str());
        format!("{class}(url='{url}', system={system})")
    }
}

/// BIOS settings of one system: `Bios(client, system=None)` (the only system when `None`).
/// Nothing is sent until a method is called; the registry is read once per client.
/// `AsyncBios` is the asyncio twin.
#[pyclass(frozen, module = "ferrofish._ferrofish", name = "Bios")]
pub(crate) struct PyBios {
    core: BiosCore,
}

#[pymethods]
impl PyBios {
    /// The BIOS of one system of `client`.
    ///
    /// Args:
    ///     client: the `RedfishClient` of the BMC.
    ///     system: a system path or `Id`; `None` picks the BMC's only system.
    ///     quirks: the user's BIOS quirk overrides, applied after vendor detection: switch
    ///         name to `bool` or `None` (`paths_case_insensitive`,
    ///         `pending_lists_all_attributes`, `settings_patch_schedules_job`,
    ///         `settings_apply_time_refused`; see `docs/quirks.md`).
    ///
    /// Raises:
    ///     ValueError: a `quirks` name is no BIOS switch (the message names the closest).
    ///     TypeError: a `quirks` value is not a `bool`.
    #[new]
    #[pyo3(signature = (client, system = None, *, quirks = None))]
    fn new(
        client: &Bound<'_, PyRedfishClient>,
        system: Option<String>,
        quirks: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyBios> {
        Ok(PyBios {
            core: BiosCore::new(client.get().core(), system, quirks)?,
        })
    }

    /// Current and pending values (`dict`s of Python values; passwords never appear), where
    /// changes go, the registry's id and URL, and the BMC's messages on the last apply.
    fn read<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.core.read(py, Face::Blocking)
    }

    /// The attribute registry: `id`, `url`, `note` (why it is missing, or a version
    /// mismatch), `missing`, and `attributes` (name, type, read_only, allowed values, bounds).
    fn registry<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.core.registry(py, Face::Blocking)
    }

    /// Validates `profile` against the registry and current values; sends nothing. Returns
    /// the settings as the BMC names them (`name`, `requested_as`, `value`).
    ///
    /// Raises:
    ///     BiosValidationError: with `.problems`, every problem at once.
    fn validate<'py>(
        &self,
        py: Python<'py>,
        profile: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core.validate(py, Face::Blocking, profile)
    }

    /// Validates `profile` and compares it with current and pending values; sends nothing.
    /// Returns `changes`, `already_pending`, `unchanged`, `empty` and a `summary` line.
    fn diff<'py>(
        &self,
        py: Python<'py>,
        profile: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core.diff(py, Face::Blocking, profile)
    }

    /// Validates, diffs and stages `profile` with one PATCH of the settings object (none when
    /// nothing changes).
    fn stage<'py>(
        &self,
        py: Python<'py>,
        profile: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core.stage(py, Face::Blocking, profile)
    }

    /// Applies what `stage` staged (the reset that applies BIOS unless `reset=False`), waits
    /// up to `timeout` seconds, and verifies each attribute. Returns the report: one `dict`
    /// per attribute with `name` and `status` (`applied`).
    ///
    /// Raises:
    ///     BiosNotAppliedError: an attribute is still pending, rejected (with the BMC's
    ///         `message_id` and `message`) or not applied; `.report` has every attribute.
    #[pyo3(signature = (staged, *, timeout = 1800.0, poll_interval = 15.0, reset = true))]
    fn apply<'py>(
        &self,
        py: Python<'py>,
        staged: &Bound<'py, PyBiosStaged>,
        timeout: f64,
        poll_interval: f64,
        reset: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = wait_options(timeout, poll_interval, reset)?;
        self.core.apply(py, Face::Blocking, staged, options)
    }

    /// `stage` then `apply`: validates, stages, applies and verifies `profile`.
    #[pyo3(signature = (profile, *, timeout = 1800.0, poll_interval = 15.0, reset = true))]
    fn apply_and_verify<'py>(
        &self,
        py: Python<'py>,
        profile: &Bound<'py, PyAny>,
        timeout: f64,
        poll_interval: f64,
        reset: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = wait_options(timeout, poll_interval, reset)?;
        self.core
            .apply_and_verify(py, Face::Blocking, profile, options)
    }

    /// Resets every attribute to its default (`#Bios.ResetBios` with `{}`), applies it with a
    /// reset and verifies. Returns `checked` (attributes with a registry default) and
    /// `not_default` (empty).
    ///
    /// Raises:
    ///     BiosNotAppliedError: with `.not_default`, the attributes not back at their default.
    #[pyo3(signature = (*, timeout = 1800.0, poll_interval = 15.0, reset = true))]
    fn factory_reset<'py>(
        &self,
        py: Python<'py>,
        timeout: f64,
        poll_interval: f64,
        reset: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = wait_options(timeout, poll_interval, reset)?;
        self.core.factory_reset(py, Face::Blocking, options)
    }

    fn __repr__(&self) -> String {
        self.core.repr("Bios")
    }
}

/// The asyncio twin of `Bios`: `AsyncBios(async_client, system=None)`; each method returns an
/// awaitable of what the `Bios` method returns.
// Issue 15: the system handle's `bios()` (`System.bios()`, `AsyncSystem.bios()`).
impl PyBios {
    /// The BIOS of the system at `system` (a path), for `System.bios()`.
    pub(crate) fn for_system(client: &ClientCore, system: String) -> PyResult<PyBios> {
        Ok(PyBios {
            core: BiosCore::new(client, Some(system), None)?,
        })
    }
}

impl PyAsyncBios {
    /// The BIOS of the system at `system` (a path), for `AsyncSystem.bios()`.
    pub(crate) fn for_system(client: &ClientCore, system: String) -> PyResult<PyAsyncBios> {
        Ok(PyAsyncBios {
            core: BiosCore::new(client, Some(system), None)?,
        })
    }
}

#[pyclass(frozen, module = "ferrofish._ferrofish", name = "AsyncBios")]
pub(crate) struct PyAsyncBios {
    core: BiosCore,
}

#[pymethods]
impl PyAsyncBios {
    #[new]
    #[pyo3(signature = (client, system = None, *, quirks = None))]
    fn new(
        client: &Bound<'_, PyAsyncRedfishClient>,
        system: Option<String>,
        quirks: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyAsyncBios> {
        Ok(PyAsyncBios {
            core: BiosCore::new(client.get().core(), system, quirks)?,
        })
    }

    /// Awaitable `Bios.read()`.
    fn read<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.core.read(py, Face::Awaitable)
    }

    /// Awaitable `Bios.registry()`.
    fn registry<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.core.registry(py, Face::Awaitable)
    }

    /// Awaitable `Bios.validate(profile)`.
    fn validate<'py>(
        &self,
        py: Python<'py>,
        profile: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core.validate(py, Face::Awaitable, profile)
    }

    /// Awaitable `Bios.diff(profile)`.
    fn diff<'py>(
        &self,
        py: Python<'py>,
        profile: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core.diff(py, Face::Awaitable, profile)
    }

    /// Awaitable `Bios.stage(profile)`.
    fn stage<'py>(
        &self,
        py: Python<'py>,
        profile: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core.stage(py, Face::Awaitable, profile)
    }

    /// Awaitable `Bios.apply(staged, ...)`.
    #[pyo3(signature = (staged, *, timeout = 1800.0, poll_interval = 15.0, reset = true))]
    fn apply<'py>(
        &self,
        py: Python<'py>,
        staged: &Bound<'py, PyBiosStaged>,
        timeout: f64,
        poll_interval: f64,
        reset: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = wait_options(timeout, poll_interval, reset)?;
        self.core.apply(py, Face::Awaitable, staged, options)
    }

    /// Awaitable `Bios.apply_and_verify(profile, ...)`.
    #[pyo3(signature = (profile, *, timeout = 1800.0, poll_interval = 15.0, reset = true))]
    fn apply_and_verify<'py>(
        &self,
        py: Python<'py>,
        profile: &Bound<'py, PyAny>,
        timeout: f64,
        poll_interval: f64,
        reset: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = wait_options(timeout, poll_interval, reset)?;
        self.core
            .apply_and_verify(py, Face::Awaitable, profile, options)
    }

    /// Awaitable `Bios.factory_reset(...)`.
    #[pyo3(signature = (*, timeout = 1800.0, poll_interval = 15.0, reset = true))]
    fn factory_reset<'py>(
        &self,
        py: Python<'py>,
        timeout: f64,
        poll_interval: f64,
        reset: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = wait_options(timeout, poll_interval, reset)?;
        self.core.factory_reset(py, Face::Awaitable, options)
    }

    fn __repr__(&self) -> String {
        self.core.repr("AsyncBios")
    }
}

/// Adds the BIOS classes to the module.
pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyBios>()?;
    module.add_class::<PyBiosStaged>()?;
    Ok(())
}
