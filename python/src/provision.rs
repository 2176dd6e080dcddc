//! `ferrofish.provision`: the provisioning state machine from Python.
//!
//! A `StateStore` is a `SqliteStore` with the driver's settings (lease holder, timeouts). Every
//! call claims the node's lease, does its work and releases the lease again (unless the caller
//! holds it with `claim()`), so other processes sharing the store see a free node between calls.
//! Nodes go in and out as dicts (the node document); passwords never do: a node names the
//! environment variable holding its BMC password (`password_env`), read when its BMC is
//! connected, as the Rust `EnvRedfishConnector` does.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ferrofish::BmcAddress;
use ferrofish::provision::{
    Advance, BmcRef, BootModeChoice, Connector, DeploySpec, Driver, EnvRedfishConnector, Event,
    EventSink, Fleet, FleetEvent, FleetPlan, InspectionHook, Node, Policy, ProvisionError,
    SqliteStore, StateStore, Timestamp, handle_event,
};
use ferrofish::rules::{RuleSet, inspection_data};
use ferrofish::vmedia::ImageServer;
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyType};
use serde_json::{Map, Value};

use crate::client::seconds;
use crate::convert::{json_to_py, py_to_json};
use crate::errors::{ExceptionClass, ExceptionSpec, Field, InvalidInputError, build_exception};
use crate::rules::{PyRuleSet, object_from_py};
use crate::runtime::{block_on, block_on_reporting};
use crate::vmedia::server::PyImageServer;

/// The events `send` takes, for error messages.
const EVENTS: &str = "manage, inspect, clean, provide, deploy, undeploy, abort, adopt";

/// Decides the Python exception for a provisioning error, by its predicates and variants.
pub(crate) fn provision_exception_spec(error: &ProvisionError) -> ExceptionSpec {
    let spec = |class, fields| ExceptionSpec {
        class,
        message: error.to_string(),
        fields,
        cause: None,
    };
    let node = |name: &str| ("node", Field::Text(Some(name.to_owned())));
    match error {
        ProvisionError::InvalidEvent {
            node: name,
            state,
            event,
            allowed,
            reason,
        } => spec(
            ExceptionClass::InvalidEvent,
            vec![
                node(name),
                ("state", Field::Text(Some(state.as_str().to_owned()))),
                ("event", Field::Text(Some(event.as_str().to_owned()))),
                ("allowed", Field::TextList(allowed_list(allowed))),
                ("reason", Field::Text(reason.clone())),
            ],
        ),
        ProvisionError::InvalidStep { index, .. } => spec(
            ExceptionClass::InvalidStep,
            vec![
                ("node", Field::Text(None)),
                ("index", Field::MaybeCount(Some(*index as u64))),
            ],
        ),
        ProvisionError::InvalidDeploy { node: name, .. } => {
            spec(ExceptionClass::InvalidDeploy, vec![node(name)])
        }
        ProvisionError::StaleRevision {
            node: name,
            revision,
        } => spec(
            ExceptionClass::StaleRevision,
            vec![node(name), ("revision", Field::Count(*revision))],
        ),
        ProvisionError::LeaseHeld {
            node: name,
            holder,
            remaining_ms,
        } => spec(
            ExceptionClass::LeaseHeld,
            vec![
                node(name),
                ("holder", Field::Text(Some(holder.clone()))),
                (
                    "remaining",
                    Field::Seconds(Duration::from_millis(*remaining_ms).as_secs_f64()),
                ),
            ],
        ),
        ProvisionError::NotFound { node: name } => {
            spec(ExceptionClass::NodeNotFound, vec![node(name)])
        }
        ProvisionError::AlreadyEnrolled { node: name } => {
            spec(ExceptionClass::AlreadyEnrolled, vec![node(name)])
        }
        ProvisionError::Connect { node: name, .. } => {
            spec(ExceptionClass::NodeConnection, vec![node(name)])
        }
        ProvisionError::Store { operation, .. } => spec(
            ExceptionClass::Store,
            vec![
                ("node", Field::Text(None)),
                ("operation", Field::Text(Some((*operation).to_owned()))),
            ],
        ),
        ProvisionError::Document { node: name, .. } => spec(
            ExceptionClass::Store,
            vec![
                (
                    "node",
                    Field::Text(Some(name.clone()).filter(|n| !n.is_empty())),
                ),
                ("operation", Field::Text(None)),
            ],
        ),
        // A bad store URL is the caller's mistake, found before anything is opened.
        _ if error.is_invalid_input() => spec(ExceptionClass::InvalidInput, Vec::new()),
        // A BMC call outside an operation, and a variant added later.
        _ => spec(ExceptionClass::Provision, vec![("node", Field::Text(None))]),
    }
}

/// `"deploy, manage"` as the events it lists (`"none"`: none).
fn allowed_list(allowed: &str) -> Vec<String> {
    allowed
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty() && *name != "none")
        .map(str::to_owned)
        .collect()
}

pub(crate) fn provision_to_pyerr(py: Python<'_>, error: &ProvisionError) -> PyErr {
    build_exception(py, &provision_exception_spec(error)).unwrap_or_else(|failure| failure)
}

fn invalid(message: String) -> PyErr {
    InvalidInputError::new_err(message)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Plain data behind the lock: a panic elsewhere leaves it usable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The node document as a plain dict (secrets scrubbed, as stored). `target`, `operation`,
/// `lease` and `last_error` are always there (`None` when absent), and `phase` repeats
/// `operation.phase` at the top level for callers that only want to show it.
fn node_to_py<'py>(py: Python<'py>, node: &Node) -> PyResult<Bound<'py, PyAny>> {
    let text = node.to_json().map_err(|e| provision_to_pyerr(py, &e))?;
    let mut value: Value = serde_json::from_str(&text)
        .map_err(|e| PyRuntimeError::new_err(format!("node document: {e}")))?;
    if let Value::Object(map) = &mut value {
        for key in ["target", "operation", "lease", "last_error"] {
            map.entry(key).or_insert(Value::Null);
        }
        let phase = node
            .phase()
            .map_or(Value::Null, |p| Value::String(p.as_str()));
        map.insert("phase".into(), phase);
    }
    json_to_py(py, &value)
}

/// The keys a node dict given to `enroll` may have.
const ENROLL_KEYS: &str =
    "name, bmc, username, password_env, credentials_ref, conductor_group, fields";

fn text_of(map: &Map<String, Value>, key: &str, required: bool) -> PyResult<Option<String>> {
    match map.get(key) {
        None | Some(Value::Null) if !required => Ok(None),
        Some(Value::String(text)) if !text.trim().is_empty() => Ok(Some(text.clone())),
        None | Some(Value::Null) => Err(invalid(format!("the node needs {key:?}"))),
        Some(_) => Err(invalid(format!("{key:?} must be a non-empty str"))),
    }
}

/// A new node in `enroll` from the dict `enroll` takes. Nothing is stored when it is refused.
fn node_from_map(map: &Map<String, Value>) -> PyResult<Node> {
    for key in map.keys() {
        if key.to_ascii_lowercase().contains("password") && key != "password_env" {
            return Err(invalid(format!(
                "{key:?}: passwords are never stored; put the password in an environment \
                 variable and name it in \"password_env\""
            )));
        }
        if !ENROLL_KEYS.split(", ").any(|known| known == key) {
            return Err(invalid(format!(
                "unknown key {key:?} in the node (accepted: {ENROLL_KEYS})"
            )));
        }
    }
    let name = text_of(map, "name", true)?.unwrap_or_default();
    let address = text_of(map, "bmc", true)?.unwrap_or_default();
    BmcAddress::parse(&address).map_err(|e| invalid(format!("node {name:?}: {e}")))?;
    let mut node = Node::new(
        name,
        BmcRef {
            address,
            username: text_of(map, "username", false)?,
            password_env: text_of(map, "password_env", false)?,
            credentials_ref: text_of(map, "credentials_ref", false)?,
        },
    );
    node.conductor_group = text_of(map, "conductor_group", false)?;
    match map.get("fields") {
        None | Some(Value::Null) => {}
        Some(Value::Object(fields)) => node.fields.clone_from(fields),
        Some(_) => return Err(invalid("\"fields\" must be a dict".to_owned())),
    }
    Ok(node)
}

/// `"uefi"` or `"bios"` (`None`: leave the boot mode as it is).
fn boot_mode_choice(mode: Option<&str>) -> PyResult<Option<BootModeChoice>> {
    match mode.map(str::to_ascii_lowercase).as_deref() {
        None => Ok(None),
        Some("uefi") => Ok(Some(BootModeChoice::Uefi)),
        Some("bios" | "legacy") => Ok(Some(BootModeChoice::Bios)),
        Some(other) => Err(invalid(format!(
            "boot_mode must be \"uefi\", \"bios\" or None, not {other:?}"
        ))),
    }
}

/// What `deploy` takes: `{"image", "network_data"?, "boot_mode"?}`.
fn deploy_spec(
    image: Option<String>,
    network_data: Option<Value>,
    boot_mode: Option<&str>,
) -> PyResult<DeploySpec> {
    let image = image.ok_or_else(|| invalid("deploy needs image=".to_owned()))?;
    Ok(DeploySpec {
        image,
        network_data: network_data.filter(|v| !v.is_null()),
        boot_mode: boot_mode_choice(boot_mode)?,
    })
}

/// The arguments of one event, as `send` takes them.
#[derive(Default)]
struct EventArgs {
    steps: Option<Value>,
    image: Option<String>,
    network_data: Option<Value>,
    boot_mode: Option<String>,
}

/// The event named `name` with its arguments; an argument the event does not take is refused.
fn event_of(py: Python<'_>, name: &str, args: EventArgs) -> PyResult<Event> {
    let deploy_args =
        args.image.is_some() || args.network_data.is_some() || args.boot_mode.is_some();
    let refuse_args = |event: Event| {
        if args.steps.is_some() || deploy_args {
            Err(invalid(format!(
                "{name} takes no arguments (steps= is for clean; image=, network_data=, \
                 boot_mode= for deploy)"
            )))
        } else {
            Ok(event)
        }
    };
    match name {
        "manage" => refuse_args(Event::Manage),
        "inspect" => refuse_args(Event::Inspect),
        "provide" => refuse_args(Event::Provide),
        "undeploy" => refuse_args(Event::Undeploy),
        "abort" => refuse_args(Event::Abort),
        "adopt" => refuse_args(Event::Adopt),
        "clean" => {
            if deploy_args {
                return Err(invalid("clean takes steps= only".to_owned()));
            }
            let steps = args
                .steps
                .ok_or_else(|| invalid("clean needs steps= (Ironic's clean_steps)".to_owned()))?;
            Event::clean_from_json(&steps).map_err(|e| provision_to_pyerr(py, &e))
        }
        "deploy" => {
            if args.steps.is_some() {
                return Err(invalid(
                    "deploy takes image=, network_data=, boot_mode=".to_owned(),
                ));
            }
            Ok(Event::Deploy(deploy_spec(
                args.image,
                args.network_data,
                args.boot_mode.as_deref(),
            )?))
        }
        _ => Err(invalid(format!(
            "unknown event {name:?} (events: {EVENTS})"
        ))),
    }
}

/// The inspection-rules hook over `rules`: inspection data from the inventory (with the BMC's
/// address when known), then the rules on the node's fields. The node keeps the
/// `secret://rules/…` references of the secrets rules set; the values are not kept.
fn rules_hook(rules: RuleSet, bmc_address: Option<String>) -> InspectionHook {
    Arc::new(move |inventory, fields| {
        let data = inspection_data(inventory, bmc_address.as_deref(), false);
        rules
            .apply(&data, fields)
            .map(|_applied| ())
            .map_err(|e| e.to_string())
    })
}

/// The driver's settings, cloned into each call's task.
#[derive(Clone)]
struct Settings {
    store: SqliteStore,
    holder: String,
    lease_ttl: Duration,
    policy: Policy,
    connector: EnvRedfishConnector,
}

impl Settings {
    fn driver(
        &self,
        rules: Option<InspectionHook>,
        images: Option<Arc<ImageServer>>,
    ) -> Driver<SqliteStore> {
        let mut driver = Driver::new(self.store.clone(), self.holder.clone())
            .with_policy(self.policy)
            .with_lease_ttl(self.lease_ttl);
        if let Some(hook) = rules {
            driver = driver.with_inspection_hook(hook);
        }
        if let Some(server) = images {
            driver = driver.with_image_server(server);
        }
        driver
    }

    /// The node with this holder's lease: claimed, or as it is when the caller holds the lease
    /// already (`claim()`). Claiming a held lease again would look like this holder restarting,
    /// and apply the crash-resume rules to a live operation.
    async fn take(
        &self,
        driver: &Driver<SqliteStore>,
        name: &str,
        held_by_caller: bool,
    ) -> Result<Node, ProvisionError> {
        let now = Timestamp::now();
        if held_by_caller {
            let held = self.store.load(name).await?.filter(|node| {
                node.lease
                    .as_ref()
                    .is_some_and(|lease| lease.holder == self.holder && lease.expires_at > now)
            });
            if let Some(node) = held {
                return Ok(node);
            }
        }
        driver.claim(name, now).await
    }

    /// Claims `name`, runs `work` on it, releases the lease again unless the caller holds it,
    /// and reads the node back as stored.
    async fn with_node<T, Fut>(
        &self,
        name: String,
        keep_lease: bool,
        work: impl FnOnce(Driver<SqliteStore>, Node) -> Fut,
    ) -> Result<(T, Node), ProvisionError>
    where
        Fut: std::future::Future<Output = (Node, Result<T, ProvisionError>)>,
    {
        let driver = self.driver(None, None);
        let node = self.take(&driver, &name, keep_lease).await?;
        let (node, result) = work(driver, node).await;
        if !keep_lease {
            // A failed release is not reported: the lease lapses by itself, and the work's own
            // result is what the caller asked for.
            let _released = self.store.release(&node.name, &self.holder).await;
        }
        let value = result?;
        let stored = self
            .store
            .load(&name)
            .await?
            .ok_or(ProvisionError::NotFound { node: name })?;
        Ok((value, stored))
    }
}

/// A store of node documents (`"sqlite:PATH"` or `"sqlite::memory:"`) and the settings to drive
/// them: the lease holder this process writes as, the timeouts. Blocking calls release the GIL.
#[pyclass(frozen, module = "ferrofish._ferrofish", name = "StateStore")]
pub(crate) struct PyStateStore {
    /// `None` only while the object is being dropped.
    settings: Option<Settings>,
    url: String,
    /// Nodes the caller claimed with `claim()`: calls keep their lease.
    claimed: Mutex<HashSet<String>>,
}

impl Drop for PyStateStore {
    fn drop(&mut self) {
        // The pool's connections are closed on the shared runtime.
        if let Some(settings) = self.settings.take() {
            let _context = pyo3_async_runtimes::tokio::get_runtime().enter();
            drop(settings);
        }
    }
}

impl PyStateStore {
    fn settings(&self) -> PyResult<Settings> {
        self.settings
            .clone()
            .ok_or_else(|| PyRuntimeError::new_err("the StateStore is being dropped"))
    }

    fn holds(&self, name: &str) -> bool {
        lock(&self.claimed).contains(name)
    }

    fn run<T, Fut>(
        &self,
        py: Python<'_>,
        work: impl FnOnce(Settings) -> Fut + Send + 'static,
    ) -> PyResult<T>
    where
        Fut: std::future::Future<Output = Result<T, ProvisionError>> + Send + 'static,
        T: Send + 'static,
    {
        let settings = self.settings()?;
        block_on(
            py,
            move || work(settings),
            |py, e| provision_to_pyerr(py, &e),
        )
    }
}

#[pymethods]
impl PyStateStore {
    /// Opens (and creates, and migrates) the store.
    ///
    /// Args:
    ///     url: `"sqlite:PATH"` (one file, shared by processes) or `"sqlite::memory:"`.
    ///     holder: the lease holder this object writes as. Two processes sharing a store at
    ///         the same time need different holders; a restarted process with the same holder
    ///         resumes its nodes at once (another waits until the leases lapse).
    ///     lease_ttl: seconds a lease lasts without renewal.
    ///     power_timeout, boot_timeout, bios_timeout: how long a power change, the deploy
    ///         boot and BIOS changes may take (Ironic's defaults).
    ///     poll_interval: seconds between reads while waiting.
    ///     request_timeout: seconds one Redfish request may take.
    ///
    /// Raises:
    ///     InvalidInputError: the URL is not a sqlite: URL, or a number is not positive.
    ///     StoreError: the database cannot be opened.
    #[new]
    #[pyo3(signature = (
        url,
        *,
        holder = "python",
        lease_ttl = 30.0,
        power_timeout = 60.0,
        boot_timeout = 1800.0,
        bios_timeout = 1800.0,
        poll_interval = 2.0,
        request_timeout = 30.0,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        url: String,
        holder: &str,
        lease_ttl: f64,
        power_timeout: f64,
        boot_timeout: f64,
        bios_timeout: f64,
        poll_interval: f64,
        request_timeout: f64,
    ) -> PyResult<PyStateStore> {
        if holder.trim().is_empty() {
            return Err(invalid("holder must not be empty".to_owned()));
        }
        let policy = Policy {
            power_timeout: seconds("power_timeout", power_timeout)?,
            boot_timeout: seconds("boot_timeout", boot_timeout)?,
            bios_timeout: seconds("bios_timeout", bios_timeout)?,
            poll_interval: seconds("poll_interval", poll_interval)?,
        };
        let connector = EnvRedfishConnector {
            request_timeout: seconds("request_timeout", request_timeout)?,
            ..EnvRedfishConnector::default()
        };
        let lease_ttl = seconds("lease_ttl", lease_ttl)?;
        let open_url = url.clone();
        let store = block_on(
            py,
            move || async move { SqliteStore::connect(&open_url).await },
            |py, e| provision_to_pyerr(py, &e),
        )?;
        Ok(PyStateStore {
            settings: Some(Settings {
                store,
                holder: holder.to_owned(),
                lease_ttl,
                policy,
                connector,
            }),
            url,
            claimed: Mutex::new(HashSet::new()),
        })
    }

    /// The URL it was opened with.
    #[getter]
    fn url(&self) -> &str {
        &self.url
    }

    /// The lease holder this object writes as.
    #[getter]
    fn holder(&self) -> PyResult<String> {
        Ok(self.settings()?.holder)
    }

    /// Enrolls a node and returns its document (state `"enroll"`, revision 1).
    ///
    /// Args:
    ///     node: `{"name", "bmc" (an address), "username", "password_env",
    ///         "credentials_ref"?, "conductor_group"?, "fields"?}`. The password is read from
    ///         the environment variable `password_env` names, when the BMC is connected; a
    ///         key naming a password is refused.
    ///
    /// Raises:
    ///     InvalidInputError: a key is missing, unknown, or names a password; the address is
    ///         not one ferrofish accepts.
    ///     AlreadyEnrolledError: a node of that name is enrolled already.
    fn enroll<'py>(
        &self,
        py: Python<'py>,
        node: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let map = object_from_py(node, "node")?;
        let mut node = node_from_map(&map)?;
        let enrolled = self.run(py, move |settings| async move {
            settings.store.enroll(&mut node).await?;
            Ok(node)
        })?;
        node_to_py(py, &enrolled)
    }

    /// The node's document: `{"name", "state", "target", "operation" (with "phase"),
    /// "revision", "lease", "last_error", "history", "fields", ...}`.
    ///
    /// Raises:
    ///     NodeNotFoundError: no node of that name.
    fn node<'py>(&self, py: Python<'py>, name: String) -> PyResult<Bound<'py, PyAny>> {
        let node = self.run(py, move |settings| async move {
            settings
                .store
                .load(&name)
                .await?
                .ok_or(ProvisionError::NotFound { node: name })
        })?;
        node_to_py(py, &node)
    }

    /// Every node's document, by name.
    fn nodes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let nodes = self.run(py, move |settings| async move {
            let mut nodes = Vec::new();
            for row in settings.store.list().await? {
                if let Some(node) = settings.store.load(&row.name).await? {
                    nodes.push(node);
                }
            }
            Ok(nodes)
        })?;
        let list = PyList::empty(py);
        for node in &nodes {
            list.append(node_to_py(py, node)?)?;
        }
        Ok(list)
    }

    /// Takes the node's lease for this holder and keeps it across calls until `release()`
    /// (each write renews it); claiming it again while held changes nothing. A node left
    /// mid-operation by a crashed process (or whose lease lapsed) has its phase's resume rule
    /// applied first. Returns the node.
    ///
    /// Raises:
    ///     LeaseHeldError: another holder's lease is in force (`holder`, `remaining`).
    fn claim<'py>(&self, py: Python<'py>, name: String) -> PyResult<Bound<'py, PyAny>> {
        let key = name.clone();
        let held = self.holds(&name);
        let node = self.run(py, move |settings| async move {
            let driver = settings.driver(None, None);
            settings.take(&driver, &name, held).await
        })?;
        lock(&self.claimed).insert(key);
        node_to_py(py, &node)
    }

    /// Gives up the lease `claim()` took (nothing happens when this holder has none).
    fn release(&self, py: Python<'_>, name: String) -> PyResult<()> {
        lock(&self.claimed).remove(&name);
        self.run(py, move |settings| async move {
            settings.store.release(&name, &settings.holder).await
        })
    }

    /// Sends an event to the node and returns its document. Refused events change nothing.
    ///
    /// Args:
    ///     name: the node.
    ///     event: `"manage"`, `"inspect"`, `"clean"`, `"provide"`, `"deploy"`, `"undeploy"`,
    ///         `"abort"` or `"adopt"`.
    ///     steps: for `clean`: Ironic's manual-cleaning steps, a list of
    ///         `{"interface", "step", "args"}` dicts or `{"clean_steps": [...]}`.
    ///     image: for `deploy`: an http(s) URL of an ISO the BMC can fetch.
    ///     network_data: for `deploy`: OpenStack `network_data.json` for the config drive.
    ///     boot_mode: for `deploy`: `"uefi"`, `"bios"` or None (leave it).
    ///     revision: the revision of a document the caller read; if the node was written
    ///         since, the event is refused with `StaleRevisionError` (compare-and-swap). Taking
    ///         and giving back the lease are writes too: use the revision of the document a
    ///         call returns. A refused event writes nothing.
    ///
    /// Raises:
    ///     InvalidEventError: not allowed in the node's state (`allowed` lists what is).
    ///     InvalidStepError: a clean step is unknown or malformed (`index`).
    ///     InvalidDeployError: the image URL or network data is unusable.
    ///     StaleRevisionError: the node changed since `revision`.
    ///     LeaseHeldError: another holder drives the node.
    #[pyo3(signature = (
        name,
        event,
        *,
        steps = None,
        image = None,
        network_data = None,
        boot_mode = None,
        revision = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn send<'py>(
        &self,
        py: Python<'py>,
        name: String,
        event: &str,
        steps: Option<&Bound<'py, PyAny>>,
        image: Option<String>,
        network_data: Option<&Bound<'py, PyAny>>,
        boot_mode: Option<String>,
        revision: Option<u64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let args = EventArgs {
            steps: steps.map(py_to_json).transpose()?,
            image,
            network_data: network_data.map(py_to_json).transpose()?,
            boot_mode,
        };
        let event = event_of(py, event, args)?;
        let keep = self.holds(&name);
        let ((), node) = self.run(py, move |settings| async move {
            // Refusals first, on the stored node and without claiming it: a refused event
            // writes nothing (not even a lease), so other writers' revisions stay current.
            let stored = settings
                .store
                .load(&name)
                .await?
                .ok_or_else(|| ProvisionError::NotFound { node: name.clone() })?;
            if let Some(read) = revision
                && stored.revision != read
            {
                return Err(ProvisionError::StaleRevision {
                    node: name,
                    revision: read,
                });
            }
            handle_event(&mut stored.clone(), event.clone(), Timestamp::now())?;
            settings
                .with_node(name, keep, |driver, mut node| async move {
                    // Claiming bumps the revision by exactly one when nobody wrote since the
                    // check above.
                    if let Some(read) = revision
                        && node.revision != read.saturating_add(1)
                    {
                        let stale = ProvisionError::StaleRevision {
                            node: node.name.clone(),
                            revision: read,
                        };
                        return (node, Err(stale));
                    }
                    let result = driver.send(&mut node, event, Timestamp::now()).await;
                    (node, result)
                })
                .await
        })?;
        node_to_py(py, &node)
    }

    /// One bounded step of the node's operation: reads what its phase needs, makes at most
    /// one mutating BMC request, writes the node. Connects to the BMC only when an operation
    /// is under way (password from the node's `password_env`).
    ///
    /// Args:
    ///     rules: a `RuleSet` run after out-of-band inspection on the node's fields (with
    ///         `inventory.bmc_address` from the node's address); a `fail` fails inspection.
    ///     image_server: serves the config drive of a deploy with network data.
    ///
    /// Returns:
    ///     An `Advance`: `kind` is `"continue"` (call again now), `"waiting"` (call again at
    ///     `until`), `"done"` (no operation under way) or `"failed"` (`error`; the node is in
    ///     its failure state).
    ///
    /// Raises:
    ///     NodeConnectionError: the BMC could not be connected to (or `password_env` is unset).
    ///     LeaseHeldError: another holder drives the node.
    #[pyo3(signature = (name, *, rules = None, image_server = None))]
    fn advance(
        &self,
        py: Python<'_>,
        name: String,
        rules: Option<PyRef<'_, PyRuleSet>>,
        image_server: Option<PyRef<'_, PyImageServer>>,
    ) -> PyResult<PyAdvance> {
        let rules = rules.map(|r| r.rules().clone());
        let images = image_server.map(|s| s.server()).transpose()?;
        let keep = self.holds(&name);
        let (advance, node) = self.run(py, move |settings| async move {
            let connector = settings.connector.clone();
            let base = settings.clone();
            settings
                .with_node(name, keep, move |_driver, mut node| async move {
                    if node.operation.is_none() {
                        return (node, Ok(Advance::Done));
                    }
                    let hook = rules.map(|r| rules_hook(r, Some(node.bmc.address.clone())));
                    let driver = base.driver(hook, images);
                    let port = match connector.connect(&node).await {
                        Ok(port) => port,
                        Err(err) => return (node, Err(err)),
                    };
                    let result = driver.advance(&mut node, &port, Timestamp::now()).await;
                    connector.disconnect(port).await;
                    (node, result)
                })
                .await
        })?;
        PyAdvance::new(py, &advance, &node)
    }

    /// Closes the database connections.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        self.run(py, move |settings| async move {
            settings.store.close().await;
            Ok(())
        })
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        _exc_type: Option<&Bound<'_, PyType>>,
        _exc_value: Option<&Bound<'_, PyAny>>,
        _traceback: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "StateStore(url={}, holder={})",
            PyString::new(py, &self.url).repr()?,
            PyString::new(py, &self.settings()?.holder).repr()?
        ))
    }
}

/// What one `advance` call left: `kind` (`"continue"`, `"waiting"`, `"done"`, `"failed"`),
/// `until` (epoch seconds, when waiting), `error` (when failed) and the node as stored.
#[pyclass(frozen, module = "ferrofish._ferrofish", name = "Advance")]
pub(crate) struct PyAdvance {
    kind: &'static str,
    until: Option<Timestamp>,
    error: Option<String>,
    node: Py<PyAny>,
}

impl PyAdvance {
    fn new(py: Python<'_>, advance: &Advance, node: &Node) -> PyResult<PyAdvance> {
        let (kind, until, error) = match advance {
            Advance::Continue => ("continue", None, None),
            Advance::Waiting { until } => ("waiting", Some(*until), None),
            Advance::Done => ("done", None, None),
            Advance::Failed { error } => ("failed", None, Some(error.clone())),
        };
        Ok(PyAdvance {
            kind,
            until,
            error,
            node: node_to_py(py, node)?.unbind(),
        })
    }
}

#[allow(
    clippy::cast_precision_loss,
    reason = "epoch milliseconds fit an f64 exactly"
)]
fn epoch_seconds(at: Timestamp) -> f64 {
    at.as_millis() as f64 / 1000.0
}

#[pymethods]
impl PyAdvance {
    /// `"continue"`, `"waiting"`, `"done"` or `"failed"`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.kind
    }

    /// When to call again (seconds since the epoch, as `time.time()`), when waiting.
    #[getter]
    fn until(&self) -> Option<f64> {
        self.until.map(epoch_seconds)
    }

    /// Seconds from now until `until` (0 when not waiting or already past).
    #[getter]
    fn delay(&self) -> f64 {
        self.until
            .map_or(0.0, |until| Timestamp::now().until(until).as_secs_f64())
    }

    /// Why the operation failed, when it did.
    #[getter]
    fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// The node document after the step.
    #[getter]
    fn node(&self, py: Python<'_>) -> Py<PyAny> {
        self.node.clone_ref(py)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let error = match &self.error {
            Some(text) => PyString::new(py, text).repr()?.to_string(),
            None => "None".to_owned(),
        };
        Ok(format!(
            "Advance(kind='{}', until={}, error={error})",
            self.kind,
            self.until
                .map_or_else(|| "None".to_owned(), |t| epoch_seconds(t).to_string()),
        ))
    }
}

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
    let hook = rules.map(|r| rules_hook(r.rules().clone(), None));
    let images = image_server.map(|s| s.server()).transpose()?;
    let summary = block_on_reporting(
        py,
        move |sender| async move {
            let sink: EventSink = Arc::new(move |event: &FleetEvent| {
                // The receiver is gone only when the caller stopped waiting.
                let _ = sender.send(event.clone());
            });
            let driver = settings.driver(hook, images);
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

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyStateStore>()?;
    module.add_class::<PyAdvance>()?;
    module.add_class::<PyFleetEvent>()?;
    module.add_function(wrap_pyfunction!(run_fleet, module)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrofish::provision::{EventKind, ProvisionState};
    use serde_json::json;

    #[test]
    fn provision_errors_map_by_variant_with_their_fields() {
        let refused = provision_exception_spec(&ProvisionError::InvalidEvent {
            node: "node-0".into(),
            state: ProvisionState::Available,
            event: EventKind::Clean,
            allowed: "deploy, manage".into(),
            reason: None,
        });
        assert_eq!(refused.class, ExceptionClass::InvalidEvent);
        assert!(refused.fields.contains(&(
            "allowed",
            Field::TextList(vec!["deploy".into(), "manage".into()])
        )));
        assert!(
            refused
                .fields
                .contains(&("state", Field::Text(Some("available".into()))))
        );
        let none = provision_exception_spec(&ProvisionError::InvalidEvent {
            node: "n".into(),
            state: ProvisionState::Verifying,
            event: EventKind::Manage,
            allowed: "none".into(),
            reason: None,
        });
        assert!(
            none.fields
                .contains(&("allowed", Field::TextList(Vec::new())))
        );

        let stale = provision_exception_spec(&ProvisionError::StaleRevision {
            node: "n".into(),
            revision: 7,
        });
        assert_eq!(stale.class, ExceptionClass::StaleRevision);
        assert!(stale.fields.contains(&("revision", Field::Count(7))));

        let held = provision_exception_spec(&ProvisionError::LeaseHeld {
            node: "n".into(),
            holder: "other".into(),
            remaining_ms: 1500,
        });
        assert_eq!(held.class, ExceptionClass::LeaseHeld);
        assert!(held.fields.contains(&("remaining", Field::Seconds(1.5))));

        let url = provision_exception_spec(&ProvisionError::StoreUrl {
            url: "postgres://x".into(),
            reason: "not a sqlite: URL".into(),
        });
        assert_eq!(url.class, ExceptionClass::InvalidInput);
        assert_eq!(
            provision_exception_spec(&ProvisionError::NotFound { node: "x".into() }).class,
            ExceptionClass::NodeNotFound
        );
        assert_eq!(
            provision_exception_spec(&ProvisionError::InvalidStep {
                index: 1,
                reason: "unknown".into()
            })
            .fields,
            vec![
                ("node", Field::Text(None)),
                ("index", Field::MaybeCount(Some(1)))
            ]
        );
    }

    #[test]
    fn a_node_dict_never_takes_a_password() {
        let map = |value: Value| value.as_object().unwrap().clone();
        let node = node_from_map(&map(json!({
            "name": "n0", "bmc": "http://127.0.0.1:8000", "username": "admin",
            "password_env": "N0_PASSWORD", "conductor_group": "a", "fields": {"extra": {"rack": 4}}
        })))
        .unwrap();
        assert_eq!(node.bmc.password_env.as_deref(), Some("N0_PASSWORD"));
        assert_eq!(node.conductor_group.as_deref(), Some("a"));
        assert_eq!(node.fields["extra"]["rack"], 4);
        assert!(
            node_from_map(&map(
                json!({"name": "n0", "bmc": "http://h", "password": "x"})
            ))
            .is_err()
        );
        assert!(
            node_from_map(&map(
                json!({"name": "n0", "bmc": "http://h", "bmc_password": "x"})
            ))
            .is_err()
        );
        assert!(node_from_map(&map(json!({"name": "n0"}))).is_err());
        assert!(node_from_map(&map(json!({"name": "n0", "bmc": "ftp://h"}))).is_err());
        assert!(
            node_from_map(&map(json!({"name": "n0", "bmc": "http://h", "colour": 1}))).is_err()
        );
    }

    #[test]
    fn allowed_lists_split_and_none_is_empty() {
        assert_eq!(allowed_list("deploy, manage"), ["deploy", "manage"]);
        assert!(allowed_list("none").is_empty());
    }
}
