//! `ferrofish.System` and `ferrofish.AsyncSystem`: the system handle of
//! `ferrofish::redfish::System` (`client.system(id)`, `client.systems()`), blocking and asyncio.
//!
//! A handle is its client plus the system's resolved path; each method is the client's own
//! per-call code path (`ClientCore`) with `system=` filled in, so the two never drift apart.

use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};

use crate::bios::{PyAsyncBios, PyBios};
use crate::client::{
    CallError, ClientCore, PyAsyncRedfishClient, PyRedfishClient, call_error_to_pyerr,
    resolve_system,
};
use crate::errors::{InvalidInputError, to_pyerr};
use crate::runtime::{Face, run};

/// The client a handle was made from: it decides the face of every method.
pub(crate) enum Owner {
    Blocking(Py<PyRedfishClient>),
    Awaitable(Py<PyAsyncRedfishClient>),
}

impl Owner {
    fn core(&self) -> &ClientCore {
        match self {
            Owner::Blocking(client) => client.get().core(),
            Owner::Awaitable(client) => client.get().core(),
        }
    }

    fn face(&self) -> Face {
        match self {
            Owner::Blocking(_) => Face::Blocking,
            Owner::Awaitable(_) => Face::Awaitable,
        }
    }

    fn clone_ref(&self, py: Python<'_>) -> Owner {
        match self {
            Owner::Blocking(client) => Owner::Blocking(client.clone_ref(py)),
            Owner::Awaitable(client) => Owner::Awaitable(client.clone_ref(py)),
        }
    }

    fn client_object(&self, py: Python<'_>) -> Py<PyAny> {
        match self {
            Owner::Blocking(client) => client.clone_ref(py).into_any(),
            Owner::Awaitable(client) => client.clone_ref(py).into_any(),
        }
    }

    /// The Python handle of the system at `path`, of this owner's face.
    fn handle(self, py: Python<'_>, path: String) -> PyResult<Py<PyAny>> {
        let face = self.face();
        let core = SystemCore { owner: self, path };
        match face {
            Face::Blocking => Ok(Py::new(py, PySystem { core })?.into_any()),
            Face::Awaitable => Ok(Py::new(py, PyAsyncSystem { core })?.into_any()),
        }
    }
}

/// Why `client.system()` without an id cannot pick a system on a BMC listing `ids`.
fn no_single_system_message(ids: &[String]) -> String {
    if ids.is_empty() {
        return "the BMC lists no system".to_owned();
    }
    format!(
        "system() without an id needs a BMC with exactly one system, this one has {}: {}; \
         pass one of them",
        ids.len(),
        ids.join(", ")
    )
}

fn open_error_to_pyerr(py: Python<'_>, error: CallError) -> PyErr {
    match error {
        CallError::NoSingleSystem(ids) => {
            InvalidInputError::new_err(no_single_system_message(&ids))
        }
        other @ CallError::Redfish(_) => call_error_to_pyerr(py, other),
    }
}

/// `client.system(id)`: the handle on the given system, or on the BMC's only one (the same
/// choice, looked up once per client, as `system=None` on the client's methods).
pub(crate) fn open_system(
    py: Python<'_>,
    owner: Owner,
    id: Option<String>,
) -> PyResult<Bound<'_, PyAny>> {
    let core = owner.core();
    let client = core.client()?.clone();
    let default = core.default_system();
    let face = owner.face();
    if let Some(id) = &id
        && id.trim().is_empty()
    {
        return Err(InvalidInputError::new_err("id must not be empty"));
    }
    run(
        py,
        face,
        move || async move {
            let id = resolve_system(&client, id, &default).await?;
            Ok::<_, CallError>(client.system(&id).await?)
        },
        open_error_to_pyerr,
        move |py, system| owner.handle(py, system.path().to_owned()),
    )
}

/// `client.systems()`: a handle on every member of the Systems collection.
pub(crate) fn open_systems(py: Python<'_>, owner: Owner) -> PyResult<Bound<'_, PyAny>> {
    let client = owner.core().client()?.clone();
    run(
        py,
        owner.face(),
        move || async move { client.systems().await },
        |py, error| to_pyerr(py, &error),
        move |py, systems| {
            let handles = systems
                .iter()
                .map(|system| owner.clone_ref(py).handle(py, system.path().to_owned()))
                .collect::<PyResult<Vec<_>>>()?;
            Ok(PyList::new(py, handles)?.into_any().unbind())
        },
    )
}

/// What `System` and `AsyncSystem` share: the client and the system's path.
pub(crate) struct SystemCore {
    owner: Owner,
    /// `/redfish/v1/Systems/1`: passed as `system=` to the client's calls.
    path: String,
}

impl SystemCore {
    fn client(&self) -> &ClientCore {
        self.owner.core()
    }

    /// The last path segment: the system's `Id` as the BMC's URLs spell it.
    fn id(&self) -> &str {
        self.path
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(&self.path)
    }

    fn repr(&self, py: Python<'_>, class: &str) -> PyResult<String> {
        // The client's address and the path; never the credentials.
        Ok(format!(
            "{class}(path={}, url={})",
            PyString::new(py, &self.path).repr()?,
            PyString::new(py, self.client().url()).repr()?
        ))
    }
}

/// One ComputerSystem of a BMC, from `RedfishClient.system(id)` or `RedfishClient.systems()`.
///
/// Each method is the `RedfishClient` method of the same name with `system=` set to this
/// system; it shares the client's session and request counters.
#[pyclass(frozen, module = "ferrofish._ferrofish", name = "System")]
pub(crate) struct PySystem {
    core: SystemCore,
}

#[pymethods]
impl PySystem {
    /// The system's `Id`, the last segment of its path (`"1"`).
    #[getter]
    fn id(&self) -> &str {
        self.core.id()
    }

    /// The system's path, `/redfish/v1/Systems/1`.
    #[getter]
    fn path(&self) -> &str {
        &self.core.path
    }

    /// The `RedfishClient` this handle talks through.
    #[getter]
    fn client(&self, py: Python<'_>) -> Py<PyAny> {
        self.core.owner.client_object(py)
    }

    /// `RedfishClient.power_state(system)` for this system.
    fn power_state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.core
            .client()
            .power_state(py, Face::Blocking, Some(self.core.path.clone()))
    }

    /// `RedfishClient.reset(reset_type, system)` for this system.
    ///
    /// Raises:
    ///     ValueNotAllowedError: the BMC does not allow this reset type (see `.allowed`).
    fn reset<'py>(&self, py: Python<'py>, reset_type: &str) -> PyResult<Bound<'py, PyAny>> {
        self.core
            .client()
            .reset(py, Face::Blocking, reset_type, Some(self.core.path.clone()))
    }

    /// `RedfishClient.wait_for_power_state(state, ...)` for this system.
    ///
    /// Raises:
    ///     WaitTimeoutError: the state was not reached within `timeout` seconds.
    #[pyo3(signature = (state, *, timeout = 300.0))]
    fn wait_for_power_state<'py>(
        &self,
        py: Python<'py>,
        state: &str,
        timeout: f64,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core.client().wait_for_power_state(
            py,
            Face::Blocking,
            state,
            timeout,
            Some(self.core.path.clone()),
        )
    }

    /// `RedfishClient.set_boot_override(target, ...)` for this system.
    #[pyo3(signature = (target, *, enabled = "Once", mode = None))]
    fn set_boot_override<'py>(
        &self,
        py: Python<'py>,
        target: &str,
        enabled: &str,
        mode: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core.client().set_boot_override(
            py,
            Face::Blocking,
            target,
            enabled,
            mode,
            Some(self.core.path.clone()),
        )
    }

    /// `RedfishClient.inventory(system)` for this system.
    fn inventory<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.core
            .client()
            .inventory(py, Face::Blocking, Some(self.core.path.clone()))
    }

    /// `RedfishClient.virtual_media(system)` for this system.
    fn virtual_media<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.core
            .client()
            .virtual_media(py, Face::Blocking, Some(self.core.path.clone()))
    }

    /// `Bios(client, system)` for this system; sends nothing.
    fn bios(&self) -> PyResult<PyBios> {
        PyBios::for_system(self.core.client(), self.core.path.clone())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        self.core.repr(py, "System")
    }
}

/// The asyncio twin of `System`, from `AsyncRedfishClient.system(id)` or `.systems()`: each
/// method returns an awaitable of what the `System` method returns.
#[pyclass(frozen, module = "ferrofish._ferrofish", name = "AsyncSystem")]
pub(crate) struct PyAsyncSystem {
    core: SystemCore,
}

#[pymethods]
impl PyAsyncSystem {
    /// The system's `Id`, the last segment of its path (`"1"`).
    #[getter]
    fn id(&self) -> &str {
        self.core.id()
    }

    /// The system's path, `/redfish/v1/Systems/1`.
    #[getter]
    fn path(&self) -> &str {
        &self.core.path
    }

    /// The `AsyncRedfishClient` this handle talks through.
    #[getter]
    fn client(&self, py: Python<'_>) -> Py<PyAny> {
        self.core.owner.client_object(py)
    }

    /// Awaitable `System.power_state()`.
    fn power_state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.core
            .client()
            .power_state(py, Face::Awaitable, Some(self.core.path.clone()))
    }

    /// Awaitable `System.reset(reset_type)`.
    fn reset<'py>(&self, py: Python<'py>, reset_type: &str) -> PyResult<Bound<'py, PyAny>> {
        self.core.client().reset(
            py,
            Face::Awaitable,
            reset_type,
            Some(self.core.path.clone()),
        )
    }

    /// Awaitable `System.wait_for_power_state(state, ...)`.
    #[pyo3(signature = (state, *, timeout = 300.0))]
    fn wait_for_power_state<'py>(
        &self,
        py: Python<'py>,
        state: &str,
        timeout: f64,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core.client().wait_for_power_state(
            py,
            Face::Awaitable,
            state,
            timeout,
            Some(self.core.path.clone()),
        )
    }

    /// Awaitable `System.set_boot_override(target, ...)`.
    #[pyo3(signature = (target, *, enabled = "Once", mode = None))]
    fn set_boot_override<'py>(
        &self,
        py: Python<'py>,
        target: &str,
        enabled: &str,
        mode: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core.client().set_boot_override(
            py,
            Face::Awaitable,
            target,
            enabled,
            mode,
            Some(self.core.path.clone()),
        )
    }

    /// Awaitable `System.inventory()`.
    fn inventory<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.core
            .client()
            .inventory(py, Face::Awaitable, Some(self.core.path.clone()))
    }

    /// Awaitable of the system's `AsyncVirtualMedia`.
    fn virtual_media<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.core
            .client()
            .virtual_media(py, Face::Awaitable, Some(self.core.path.clone()))
    }

    /// `AsyncBios(client, system)` for this system; sends nothing, so not awaitable.
    fn bios(&self) -> PyResult<PyAsyncBios> {
        PyAsyncBios::for_system(self.core.client(), self.core.path.clone())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        self.core.repr(py, "AsyncSystem")
    }
}

/// Registers `System` and `AsyncSystem`.
pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PySystem>()?;
    module.add_class::<PyAsyncSystem>()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_lists_the_ids_to_choose_from() {
        assert_eq!(no_single_system_message(&[]), "the BMC lists no system");
        let two = [
            "/redfish/v1/Systems/1".to_owned(),
            "/redfish/v1/Systems/2".to_owned(),
        ];
        assert_eq!(
            no_single_system_message(&two),
            "system() without an id needs a BMC with exactly one system, this one has 2: \
             /redfish/v1/Systems/1, /redfish/v1/Systems/2; pass one of them"
        );
    }
}
