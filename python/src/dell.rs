//! `ferrofish.DellOem`: the Dell iDRAC extension of a `RedfishClient` (the Lifecycle
//! Controller's readiness and the job queue), the Python face of
//! `ferrofish::redfish::oem::dell::DellOem`. Blocking only.

use ferrofish::redfish::oem::dell::{DellJob, DellOem, LcStatus, Readiness, ServerStatus};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};
use serde_json::{Value, json};

use crate::client::PyRedfishClient;
use crate::convert::json_to_py;
use crate::errors::InvalidInputError;
use crate::runtime::{Face, to_none};

/// The status as a `dict`: `lc`, `rt`, `server`, `status` (the iDRAC's strings, `None` when
/// left out) and `ready` (`LCStatus` is `Ready`).
fn status_json(status: &LcStatus) -> Value {
    json!({
        "lc": status.lc.as_ref().map(Readiness::as_str),
        "rt": status.rt.as_ref().map(Readiness::as_str),
        "server": status.server.as_ref().map(ServerStatus::as_str),
        "status": status.status.as_ref().map(Readiness::as_str),
        "ready": status.is_ready(),
    })
}

/// A job as a `dict`: the `DellJob` fields, plus `terminal` and `failed`.
fn job_json(job: &DellJob) -> Value {
    json!({
        "id": job.id,
        "name": job.name,
        "job_type": job.job_type,
        "state": job.state.as_str(),
        "percent": job.percent,
        "message": job.message,
        "message_id": job.message_id,
        "start_time": job.start_time,
        "end_time": job.end_time,
        "terminal": job.state.is_terminal(),
        "failed": job.state.is_failure(),
    })
}

fn value_to_py(py: Python<'_>, value: &Value) -> PyResult<Py<PyAny>> {
    Ok(json_to_py(py, value)?.unbind())
}

/// Refuses a blank job id before anything is sent (the core refuses other malformed ids the
/// same way, with `InvalidInputError`).
fn non_blank_job_id(id: &str) -> PyResult<String> {
    if id.trim().is_empty() {
        return Err(InvalidInputError::new_err("job id must not be empty"));
    }
    Ok(id.to_owned())
}

/// The Dell iDRAC extension of a `RedfishClient`: Lifecycle Controller readiness and the job
/// queue. It shares the client's session and request counters; the Manager's links and the
/// action targets are read once per client.
#[pyclass(frozen, module = "ferrofish._ferrofish", name = "DellOem")]
pub(crate) struct PyDellOem {
    client: Py<PyRedfishClient>,
}

impl PyDellOem {
    /// Runs one Dell operation through the client's own per-call path.
    fn call<'py, T, Fut>(
        &self,
        py: Python<'py>,
        operation: impl FnOnce(DellOem) -> Fut + Send + 'static,
        convert: impl FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
    ) -> PyResult<Bound<'py, PyAny>>
    where
        Fut: std::future::Future<Output = Result<T, ferrofish::redfish::Error>> + Send + 'static,
        T: Send + 'static,
    {
        self.client.get().core().call(
            py,
            Face::Blocking,
            move |client| operation(DellOem::new(&client)),
            convert,
        )
    }
}

#[pymethods]
impl PyDellOem {
    /// The Dell extension of `client`; sends nothing.
    #[new]
    fn new(client: Py<PyRedfishClient>) -> PyDellOem {
        PyDellOem { client }
    }

    /// The `RedfishClient` this extension talks through.
    #[getter]
    fn client(&self, py: Python<'_>) -> Py<PyRedfishClient> {
        self.client.clone_ref(py)
    }

    /// Asks the Lifecycle Controller whether it is ready (`GetRemoteServicesAPIStatus`).
    ///
    /// Returns:
    ///     A `dict`: `lc`, `rt`, `server`, `status` (the iDRAC's strings, `None` when left
    ///     out) and `ready` (`lc` is `"Ready"`: configuration work can start).
    fn remote_services_status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.call(
            py,
            |oem| async move { oem.remote_services_status().await },
            |py, status| value_to_py(py, &status_json(&status)),
        )
    }

    /// Every job of the queue, as `dict`s: `id`, `name`, `job_type`, `state`, `percent`,
    /// `message`, `message_id`, `start_time`, `end_time`, `terminal`, `failed`.
    fn jobs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.call(
            py,
            |oem| async move { oem.jobs().await },
            |py, jobs| {
                let items = jobs
                    .iter()
                    .map(|job| value_to_py(py, &job_json(job)))
                    .collect::<PyResult<Vec<_>>>()?;
                Ok(PyList::new(py, items)?.into_any().unbind())
            },
        )
    }

    /// One job of the queue (`JID_…` or `RID_…`), as the `dict` `jobs()` lists.
    ///
    /// Raises:
    ///     InvalidInputError: `id` is not a Dell job id; nothing is sent.
    ///     NotFoundError: the queue has no such job.
    fn job<'py>(&self, py: Python<'py>, id: &str) -> PyResult<Bound<'py, PyAny>> {
        let id = non_blank_job_id(id)?;
        self.call(
            py,
            move |oem| async move { oem.job(&id).await },
            |py, job| value_to_py(py, &job_json(&job)),
        )
    }

    /// Deletes one job (`DellJobService.DeleteJobQueue`).
    ///
    /// Raises:
    ///     InvalidInputError: `id` is not a Dell job id; nothing is sent.
    fn delete_job<'py>(&self, py: Python<'py>, id: &str) -> PyResult<Bound<'py, PyAny>> {
        let id = non_blank_job_id(id)?;
        self.call(
            py,
            move |oem| async move { oem.delete_job(&id).await },
            to_none,
        )
    }

    /// Empties the job queue (`JID_CLEARALL`). `force=True` sends `JID_CLEARALL_FORCE`, which
    /// also drops pending configuration and restarts the Lifecycle Controller (not ready for
    /// a few minutes afterwards: poll `remote_services_status()`).
    #[pyo3(signature = (*, force = false))]
    fn clear_job_queue<'py>(&self, py: Python<'py>, force: bool) -> PyResult<Bound<'py, PyAny>> {
        self.call(
            py,
            move |oem| async move { oem.clear_job_queue(force).await },
            to_none,
        )
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        // The client's address only; never the credentials.
        Ok(format!(
            "DellOem(url={})",
            PyString::new(py, self.client.get().core().url()).repr()?
        ))
    }
}

/// Registers `DellOem`.
pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyDellOem>()
}
