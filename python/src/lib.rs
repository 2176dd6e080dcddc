//! Python bindings of ferrofish: the native module `ferrofish._ferrofish`.
//!
//! The Python package `ferrofish` re-exports what this module defines. The exceptions are
//! defined in Python (`ferrofish/exceptions.py`) and raised from here through one conversion
//! (`errors.rs`). Blocking methods run on one shared tokio runtime with the GIL released
//! (`runtime.rs`).

// Doc comments on #[pymethods] and #[pyclass] items are the Python docstrings that `help()`
// shows, written in the Google style (`Args:` / `Raises:`), not rustdoc Markdown.
#![allow(clippy::doc_markdown)]

mod bios;
mod bmc;
mod client;
mod convert;
mod errors;
mod models;
mod provision;
mod rules;
mod runtime;
mod vmedia;
// Issue 15: IPMI from Python, logging bridge, str enums.
mod enums;
mod ipmi;
mod logging;
// Issue 15: the system handle.
mod system;
// Issue 15: the Dell iDRAC extension (LC readiness, job queue).
mod dell;
// Issue 14: the user's quirk overrides from Python dicts.
mod quirks;
// Issue 16: a fleet's power poll in one call.
mod poll;

use pyo3::prelude::*;

/// The native module `ferrofish._ferrofish`.
#[pymodule]
fn _ferrofish(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    module.add_class::<client::PyRedfishClient>()?;
    models::register(module)?;
    module.add_class::<bmc::PyBmc>()?;
    module.add_class::<bmc::PyBmcOutcome>()?;
    bios::register(module)?;
    vmedia::register(module)?;
    // Issue 15: IPMI from Python, logging bridge, str enums.
    ipmi::register(module)?;
    enums::register(module)?;
    logging::install(module.py());
    // Issue 15: the asyncio twins.
    module.add_class::<client::PyAsyncRedfishClient>()?;
    module.add_class::<bmc::PyAsyncBmc>()?;
    module.add_class::<bios::PyAsyncBios>()?;
    module.add_class::<vmedia::PyAsyncVirtualMedia>()?;
    // Inspection rules and provisioning (issue 13).
    rules::register(module)?;
    provision::register(module)?;
    // Issue 15: the system handle.
    system::register(module)?;
    // Issue 15: the Dell iDRAC extension.
    dell::register(module)?;
    Ok(())
}
