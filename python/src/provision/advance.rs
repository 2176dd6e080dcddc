//! `Advance`: what one `StateStore.advance` call left.

use ferrofish::provision::{Advance, Node, Timestamp};
use pyo3::prelude::*;
use pyo3::types::PyString;

use super::settings::node_to_py;

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
    pub(crate) fn new(py: Python<'_>, advance: &Advance, node: &Node) -> PyResult<PyAdvance> {
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
