//! `ferrofish.provision`: the provisioning state machine from Python.
//!
//! A `StateStore` is a `SqliteStore` with the driver's settings (lease holder, timeouts). Every
//! call claims the node's lease, does its work and releases the lease again (unless the caller
//! holds it with `claim()`), so other processes sharing the store see a free node between calls.
//! Nodes go in and out as dicts (the node document); passwords never do: a node names the
//! environment variable holding its BMC password (`password_env`), read when its BMC is
//! connected. BMCs are reached through `BmcConnector`, so a node's address may use any scheme
//! `BmcAddress` accepts (`redfish-virtualmedia://`, `idrac-redfish://`, `ipmi://`, ...).
//!
//! Modules, each importing only those listed before it: `errors` (the exception mapping),
//! `settings` (the driver's settings, node documents as dicts, deploy arguments), `advance`
//! (the result of one step), `store` (`StateStore`), `fleet` (`run_fleet`, `FleetEvent`).

mod advance;
mod errors;
mod fleet;
mod settings;
mod store;

use pyo3::prelude::*;

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<store::PyStateStore>()?;
    module.add_class::<advance::PyAdvance>()?;
    module.add_class::<fleet::PyFleetEvent>()?;
    module.add_function(wrap_pyfunction!(fleet::run_fleet, module)?)?;
    Ok(())
}
