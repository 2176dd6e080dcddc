//! The Redfish enumerations on the Python side: values returned as the members of the `str`
//! enums of `ferrofish/enums.py` when known, as plain `str` when the firmware invented them.

use ferrofish::redfish::models::{
    BootMode, BootOverrideEnabled, BootSource, PowerState, ResetType,
};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

/// `ferrofish.enums._known`, looked up once.
static KNOWN: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The member of the enum named `enum_name` whose value is `value`, or `value` as a `str`.
pub(crate) fn known_value<'py>(
    py: Python<'py>,
    enum_name: &str,
    value: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let known = KNOWN.get_or_try_init(py, || {
        Ok::<_, PyErr>(py.import("ferrofish.enums")?.getattr("_known")?.unbind())
    })?;
    known.bind(py).call1((enum_name, value))
}

/// The Rust variant a wire value parses into, as `(variant name, wire value)`, or `None` when
/// it is a value the enum does not know. `None` also for an unknown enum name.
fn rust_variant(enum_name: &str, value: &str) -> Option<(String, String)> {
    fn named<T: std::fmt::Debug>(variant: &T, wire: &str, other: bool) -> Option<(String, String)> {
        (!other).then(|| (format!("{variant:?}"), wire.to_owned()))
    }
    match enum_name {
        "PowerState" => {
            let v = PowerState::from(value);
            named(&v, v.as_str(), matches!(v, PowerState::Other(_)))
        }
        "ResetType" => {
            let v = ResetType::from(value);
            named(&v, v.as_str(), matches!(v, ResetType::Other(_)))
        }
        "BootSource" => {
            let v = BootSource::from(value);
            named(&v, v.as_str(), matches!(v, BootSource::Other(_)))
        }
        "BootOverrideEnabled" => {
            let v = BootOverrideEnabled::from(value);
            named(&v, v.as_str(), matches!(v, BootOverrideEnabled::Other(_)))
        }
        "BootMode" => {
            let v = BootMode::from(value);
            named(&v, v.as_str(), matches!(v, BootMode::Other(_)))
        }
        _ => None,
    }
}

/// For the tests of `ferrofish.enums`: the Rust variant `value` parses into, as
/// `(name, wire value)`, or `None` for a value the Rust enum does not know.
#[pyfunction]
#[pyo3(name = "_rust_enum_variant")]
fn py_rust_enum_variant(enum_name: &str, value: &str) -> Option<(String, String)> {
    rust_variant(enum_name, value)
}

/// Adds the private helper to the module.
pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    // Private: kept out of `__all__` (`add_function` would list it).
    module.setattr(
        "_rust_enum_variant",
        wrap_pyfunction!(py_rust_enum_variant, module)?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_are_named_as_in_rust_and_unknown_values_are_none() {
        assert_eq!(
            rust_variant("BootSource", "SDCard"),
            Some(("SdCard".to_owned(), "SDCard".to_owned()))
        );
        assert_eq!(
            rust_variant("BootMode", "uefi"),
            Some(("Uefi".to_owned(), "UEFI".to_owned()))
        );
        assert_eq!(rust_variant("PowerState", "Sleeping"), None);
        assert_eq!(rust_variant("NoSuchEnum", "On"), None);
    }
}
