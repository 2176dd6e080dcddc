//! Python bindings of ferrofish.
use pyo3::prelude::*;

/// The native module `ferrofish._ferrofish`.
#[pymodule]
fn _ferrofish(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}
