//! What every provisioning call shares: the driver's settings, node documents as dicts, the
//! deploy arguments and the rules hook.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ferrofish::Bmc;
use ferrofish::provision::{
    BmcConnector, BootModeChoice, Connector, DeploySpec, Driver, InspectionRules, Node, Policy,
    ProvisionError, SqliteStore, StateStore, Timestamp,
};
use ferrofish::rules::RuleSet;
use ferrofish::vmedia::ImageServer;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use serde_json::Value;

use super::errors::provision_to_pyerr;
use crate::convert::json_to_py;
use crate::errors::InvalidInputError;

pub(crate) fn invalid(message: String) -> PyErr {
    InvalidInputError::new_err(message)
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Plain data behind the lock: a panic elsewhere leaves it usable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The node document as a plain dict (secrets scrubbed, as stored). `target`, `operation`,
/// `lease` and `last_error` are always there (`None` when absent), and `phase` repeats
/// `operation.phase` at the top level for callers that only want to show it.
pub(crate) fn node_to_py<'py>(py: Python<'py>, node: &Node) -> PyResult<Bound<'py, PyAny>> {
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

/// `"uefi"` or `"bios"` (`None`: leave the boot mode as it is).
pub(crate) fn boot_mode_choice(mode: Option<&str>) -> PyResult<Option<BootModeChoice>> {
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
pub(crate) fn deploy_spec(
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

/// Which connection a node uses: its BMC address and the reference to its credentials (never
/// the password itself). Two nodes on one BMC with one login share it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct ConnectionKey {
    address: String,
    username: Option<String>,
    password_env: Option<String>,
    credentials_ref: Option<String>,
}

impl ConnectionKey {
    fn of(node: &Node) -> ConnectionKey {
        ConnectionKey {
            address: node.bmc.address.clone(),
            username: node.bmc.username.clone(),
            password_env: node.bmc.password_env.clone(),
            credentials_ref: node.bmc.credentials_ref.clone(),
        }
    }
}

/// The connected BMCs of one `StateStore`, so successive `advance` calls reuse one login
/// (Ironic caches its sessions the same way). A connection is dropped (and logged out) when a
/// step fails or errs, so a changed password or a rebooted BMC gets a fresh one, and all of
/// them on `close()`.
#[derive(Clone, Default)]
pub(crate) struct Connections {
    open: Arc<Mutex<HashMap<ConnectionKey, Bmc>>>,
}

impl Connections {
    /// The node's connection: the open one, or a new one from `connector`.
    pub(crate) async fn get(
        &self,
        connector: &BmcConnector,
        node: &Node,
    ) -> Result<Bmc, ProvisionError> {
        let key = ConnectionKey::of(node);
        if let Some(bmc) = lock(&self.open).get(&key) {
            return Ok(bmc.clone());
        }
        let bmc = connector.connect(node).await?;
        // Two calls racing for one key: the first stored wins, the other's is closed.
        let (kept, spare) = {
            let mut open = lock(&self.open);
            if let Some(existing) = open.get(&key) {
                (existing.clone(), Some(bmc))
            } else {
                open.insert(key, bmc.clone());
                (bmc, None)
            }
        };
        if let Some(spare) = spare {
            connector.disconnect(spare).await;
        }
        Ok(kept)
    }

    /// Forgets and logs out of the node's connection.
    pub(crate) async fn drop_for(&self, connector: &BmcConnector, node: &Node) {
        let removed = lock(&self.open).remove(&ConnectionKey::of(node));
        if let Some(bmc) = removed {
            connector.disconnect(bmc).await;
        }
    }

    /// Logs out of every connection.
    pub(crate) async fn close_all(&self, connector: &BmcConnector) {
        let all: Vec<Bmc> = lock(&self.open).drain().map(|(_, bmc)| bmc).collect();
        for bmc in all {
            connector.disconnect(bmc).await;
        }
    }

    /// How many are open.
    pub(crate) fn len(&self) -> usize {
        lock(&self.open).len()
    }
}

/// The driver's settings, cloned into each call's task.
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) store: SqliteStore,
    pub(crate) holder: String,
    pub(crate) lease_ttl: Duration,
    pub(crate) policy: Policy,
    pub(crate) connector: BmcConnector,
    pub(crate) connections: Connections,
}

impl Settings {
    pub(crate) fn driver(
        &self,
        rules: Option<RuleSet>,
        images: Option<Arc<ImageServer>>,
    ) -> Driver<SqliteStore> {
        let mut driver = Driver::new(self.store.clone(), self.holder.clone())
            .with_policy(self.policy)
            .with_lease_ttl(self.lease_ttl);
        // The rules see each node's BMC address and whether it was auto-discovered; the
        // secrets they set stay in this driver's memory, the node keeps references.
        if let Some(rules) = rules {
            driver = driver.with_rules(InspectionRules::new(rules));
        }
        if let Some(server) = images {
            driver = driver.with_image_server(server);
        }
        driver
    }

    /// The node with this holder's lease: claimed, or as it is when the caller holds the lease
    /// already (`claim()`). Claiming a held lease again would look like this holder restarting,
    /// and apply the crash-resume rules to a live operation.
    pub(crate) async fn take(
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
    pub(crate) async fn with_node<T, Fut>(
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
