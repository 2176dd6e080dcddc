//! `StateStore`: enrolling, reading, claiming, sending events to and advancing nodes.

use std::collections::HashSet;
use std::sync::Mutex;

use ferrofish::provision::{
    Advance, BmcConnector, BmcRef, Event, Node, Policy, ProvisionError, SqliteStore, StateStore,
    Timestamp, handle_event,
};
use ferrofish::{BmcAddress, BmcOptions};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString, PyType};
use serde_json::{Map, Value};

use super::advance::PyAdvance;
use super::errors::provision_to_pyerr;
use super::settings::{Settings, deploy_spec, invalid, lock, node_to_py};
use crate::client::seconds;
use crate::convert::py_to_json;
use crate::rules::{PyRuleSet, object_from_py};
use crate::runtime::block_on;
use crate::vmedia::server::PyImageServer;

/// The events `send` takes, for error messages.
const EVENTS: &str = "manage, inspect, clean, provide, deploy, undeploy, abort, adopt";

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
            let _context = crate::runtime::runtime().enter();
            drop(settings);
        }
    }
}

impl PyStateStore {
    pub(crate) fn settings(&self) -> PyResult<Settings> {
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
        let mut options = BmcOptions::default();
        options.request_timeout = seconds("request_timeout", request_timeout)?;
        let connector = BmcConnector::new(options);
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
                connections: super::settings::Connections::default(),
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
    /// is under way (password from the node's `password_env`), and keeps the connection for
    /// the next calls (one login per BMC and credentials reference, until `close()`; dropped
    /// after a failed step).
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
            let connections = settings.connections.clone();
            let base = settings.clone();
            settings
                .with_node(name, keep, move |_driver, mut node| async move {
                    if node.operation.is_none() {
                        return (node, Ok(Advance::Done));
                    }
                    let driver = base.driver(rules, images);
                    // One login for every advance of this store (closed on close()).
                    let port = match connections.get(&connector, &node).await {
                        Ok(port) => port,
                        Err(err) => return (node, Err(err)),
                    };
                    let result = driver.advance(&mut node, &port, Timestamp::now()).await;
                    if matches!(result, Err(_) | Ok(Advance::Failed { .. })) {
                        // A failure may be the session's (a changed password, a rebooted
                        // BMC): the next call logs in afresh.
                        connections.drop_for(&connector, &node).await;
                    }
                    (node, result)
                })
                .await
        })?;
        PyAdvance::new(py, &advance, &node)
    }

    /// Logs out of the BMCs `advance` kept connected and closes the database connections.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        self.run(py, move |settings| async move {
            settings.connections.close_all(&settings.connector).await;
            settings.store.close().await;
            Ok(())
        })
    }

    /// How many BMC connections `advance` keeps open (one per BMC address and credentials
    /// reference; logged out by `close()`).
    #[getter]
    fn open_connections(&self) -> PyResult<usize> {
        Ok(self.settings()?.connections.len())
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
}
