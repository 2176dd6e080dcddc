//! `ferrofish.build_config_drive` and `ferrofish.config_drive_files`: an OpenStack config
//! drive from plain Python data. The dicts are read into the crate's typed serde models, so a
//! value of the wrong shape is a `ConfigDriveError` naming its JSON path, and nothing is built.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ferrofish::vmedia::{ConfigDrive, MetaData, NetworkData};
use pyo3::exceptions::{PyOSError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};
use serde::de::DeserializeOwned;

use super::server::bytes_of;
use crate::convert::py_to_json;
use crate::errors::{ExceptionClass, ExceptionSpec, Field, spec_to_pyerr, vmedia_to_pyerr};

/// The exception for a document that does not fit its schema: where, and what serde said.
fn schema_error(document: &str, path: &str, reason: &str) -> ExceptionSpec {
    ExceptionSpec {
        class: ExceptionClass::ConfigDrive,
        message: format!(
            "{document}: the value at {path} does not fit the schema: {reason}; fix it and build again"
        ),
        fields: vec![
            ("document", Field::Text(Some(document.to_owned()))),
            ("path", Field::Text(Some(path.to_owned()))),
        ],
        cause: None,
    }
}

/// Reads a `dict` into `T`, naming the JSON path of the first value that does not fit.
fn typed<T: DeserializeOwned>(value: &Bound<'_, PyAny>, document: &str, argument: &str) -> PyResult<T> {
    if !value.is_instance_of::<PyDict>() {
        return Err(PyTypeError::new_err(format!(
            "{argument} must be a dict in the {document} form, not {}",
            value.get_type().name()?
        )));
    }
    let json = py_to_json(value)?;
    serde_path_to_error::deserialize(&json).map_err(|error| {
        let spec = schema_error(document, &error.path().to_string(), &error.inner().to_string());
        spec_to_pyerr(value.py(), &spec)
    })
}

/// The drive's contents from the Python arguments, validated.
fn drive_of(
    py: Python<'_>,
    network_data: Option<&Bound<'_, PyAny>>,
    meta_data: Option<&Bound<'_, PyAny>>,
    user_data: Option<&Bound<'_, PyAny>>,
) -> PyResult<ConfigDrive> {
    let network_data = network_data
        .map(|value| {
            let data: NetworkData = typed(value, "network_data.json", "network_data")?;
            data.validate().map_err(|error| vmedia_to_pyerr(py, &error))?;
            Ok::<_, PyErr>(data)
        })
        .transpose()?;
    let meta_data = match meta_data {
        Some(value) => typed::<MetaData>(value, "meta_data.json", "meta_data")?,
        // cloud-init takes the uuid as the instance id: a fresh one means "a new instance".
        None => MetaData {
            uuid: py.import("uuid")?.call_method0("uuid4")?.str()?.to_string(),
            ..MetaData::default()
        },
    };
    let user_data = match user_data {
        Some(value) => match value.cast::<PyString>() {
            Ok(text) => Some(text.to_cow()?.into_owned().into_bytes()),
            Err(_) => Some(bytes_of(value, "user_data")?),
        },
        None => None,
    };
    let drive = ConfigDrive {
        meta_data,
        network_data,
        user_data,
    };
    // Checks everything the image needs (a uuid, valid network data) before any is built.
    drive.files().map_err(|error| vmedia_to_pyerr(py, &error))?;
    Ok(drive)
}

/// Builds an OpenStack config drive: an ISO 9660 image (Joliet and Rock Ridge) labelled
/// `config-2` holding `openstack/latest/meta_data.json`, `network_data.json` and `user_data`,
/// which cloud-init and glean read at boot to configure static addresses without DHCP.
///
/// Args:
///     network_data: the OpenStack `network_data.json` document as a dict (`links`,
///         `networks`, `services`); `None` leaves it out (the node falls back to DHCP).
///     meta_data: the `meta_data.json` document (`uuid` required; `hostname`, `name`,
///         `public_keys`, `meta`); `None` gives a fresh random `uuid`.
///     user_data: a cloud-config or script, `str` (written as UTF-8) or `bytes`.
///     path: also write the image to this file.
///
/// Returns:
///     The image, as bytes (serve it with `ImageServer.add_bytes`).
///
/// Raises:
///     ConfigDriveError: a document does not fit its schema (`path` names the value) or is
///         inconsistent (a link that does not exist, a bad VLAN id, ...). Nothing is built.
#[pyfunction]
#[pyo3(signature = (network_data, meta_data = None, user_data = None, *, path = None))]
fn build_config_drive<'py>(
    py: Python<'py>,
    network_data: Option<&Bound<'py, PyAny>>,
    meta_data: Option<&Bound<'py, PyAny>>,
    user_data: Option<&Bound<'py, PyAny>>,
    path: Option<PathBuf>,
) -> PyResult<Bound<'py, PyBytes>> {
    let drive = drive_of(py, network_data, meta_data, user_data)?;
    let image = py
        .detach(move || drive.build())
        .map_err(|error| vmedia_to_pyerr(py, &error))?;
    if let Some(path) = path {
        std::fs::write(&path, &image).map_err(|error| {
            PyOSError::new_err((
                error.raw_os_error().unwrap_or(0),
                format!("cannot write the config drive: {error}"),
                path.to_string_lossy().into_owned(),
            ))
        })?;
    }
    Ok(PyBytes::new(py, &image))
}

/// The files a config drive holds, `{"openstack/latest/meta_data.json": b"...", ...}`, after
/// the same validation as `build_config_drive`: for putting them into an image of your own,
/// such as a deploy ISO that carries its network configuration (Ironic's DHCP-less boot).
#[pyfunction]
#[pyo3(signature = (network_data, meta_data = None, user_data = None))]
fn config_drive_files<'py>(
    py: Python<'py>,
    network_data: Option<&Bound<'py, PyAny>>,
    meta_data: Option<&Bound<'py, PyAny>>,
    user_data: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let drive = drive_of(py, network_data, meta_data, user_data)?;
    let files: BTreeMap<String, Vec<u8>> =
        drive.files().map_err(|error| vmedia_to_pyerr(py, &error))?;
    let dict = PyDict::new(py);
    for (name, data) in files {
        dict.set_item(name, PyBytes::new(py, &data))?;
    }
    Ok(dict)
}

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(build_config_drive, module)?)?;
    module.add_function(wrap_pyfunction!(config_drive_files, module)?)?;
    Ok(())
}
