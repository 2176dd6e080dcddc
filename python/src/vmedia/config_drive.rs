//! `ferrofish.build_config_drive` and `ferrofish.config_drive_files`: an OpenStack config
//! drive from plain Python data. The dicts are read into the crate's typed serde models, so a
//! value of the wrong shape is a `ConfigDriveError` naming its JSON path, and nothing is built.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ferrofish::vmedia::{ConfigDrive, LinkKind, MetaData, NetworkConfig, NetworkData, Route};
use pyo3::exceptions::{PyOSError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};
use serde::de::DeserializeOwned;
use serde_json::Value;

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
fn typed<T: DeserializeOwned>(
    value: &Bound<'_, PyAny>,
    document: &str,
    argument: &str,
) -> PyResult<T> {
    if !value.is_instance_of::<PyDict>() {
        return Err(PyTypeError::new_err(format!(
            "{argument} must be a dict in the {document} form, not {}",
            value.get_type().name()?
        )));
    }
    let json = py_to_json(value)?;
    serde_path_to_error::deserialize(&json).map_err(|error| {
        let (path, reason) = (error.path().to_string(), error.inner().to_string());
        let (path, reason) = refine_path(&json, &path).unwrap_or((path, reason));
        spec_to_pyerr(value.py(), &schema_error(document, &path, &reason))
    })
}

/// serde reports an error inside a flattened part (a network's addresses and routes, a link's
/// bond or VLAN fields) at the list entry holding it, because it reads such parts from a
/// buffer that keeps no path. The field is found by reading the part alone without each key
/// in turn: the one key whose absence changes the error is the culprit. Routes are then read
/// alone to name the route. `networks[0]` becomes `networks[0].ip_address`, or
/// `networks[0].routes[1].gateway`.
fn refine_path(json: &Value, path: &str) -> Option<(String, String)> {
    let (list, rest) = path.split_once('[')?;
    let index: usize = rest.strip_suffix(']')?.parse().ok()?;
    let entry = json.get(list)?.get(index)?.as_object()?;
    let error_of = |entry: &serde_json::Map<String, Value>| -> Option<String> {
        let value = Value::Object(entry.clone());
        let error = match list {
            "networks" => serde_json::from_value::<NetworkConfig>(value).err(),
            "links" => serde_json::from_value::<LinkKind>(value).err(),
            _ => None,
        };
        error.map(|error| error.to_string())
    };
    let original = error_of(entry)?;
    let culprits: Vec<&String> = entry
        .keys()
        .filter(|key| key.as_str() != "type")
        .filter(|key| {
            let mut without = entry.clone();
            without.remove(key.as_str());
            error_of(&without).as_ref() != Some(&original)
        })
        .collect();
    let [field] = culprits.as_slice() else {
        return None;
    };
    let mut refined = format!("{path}.{field}");
    if field.as_str() == "routes"
        && let Some(routes) = entry.get("routes")
        && let Err(error) = serde_path_to_error::deserialize::<_, Vec<Route>>(routes)
    {
        refined.push_str(&error.path().to_string());
        return Some((refined, error.inner().to_string()));
    }
    Some((refined, original))
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
            data.validate()
                .map_err(|error| vmedia_to_pyerr(py, &error))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_error_inside_a_flattened_part_is_named_down_to_the_field() {
        let document = json!({
            "links": [{"id": "eno1", "type": "phy"},
                      {"id": "vlan5", "type": "vlan", "vlan_link": "eno1", "vlan_id": "five"}],
            "networks": [{"id": "n0", "type": "ipv4", "link": "eno1",
                          "ip_address": "300.1.1.1", "netmask": "255.255.255.0"},
                         {"id": "n1", "type": "ipv6", "link": "eno1", "ip_address": "fd00::5",
                          "netmask": "ffff:ffff:ffff:ffff::",
                          "routes": [{"network": "::", "netmask": "::", "gateway": "fd00::1"},
                                     {"network": "::", "netmask": "::", "gateway": "nope"}]}]
        });
        let (path, reason) = refine_path(&document, "networks[0]").unwrap();
        assert_eq!(path, "networks[0].ip_address");
        assert!(reason.contains("IPv4"), "{reason}");
        let (path, _) = refine_path(&document, "links[1]").unwrap();
        assert_eq!(path, "links[1].vlan_id");
        let (path, _) = refine_path(&document, "networks[1]").unwrap();
        assert_eq!(path, "networks[1].routes[1].gateway");
        // A valid entry, or a path that is not a list entry: nothing to refine.
        assert_eq!(refine_path(&document, "links[0]"), None);
        assert_eq!(refine_path(&document, "services"), None);
        assert_eq!(refine_path(&document, "networks[7]"), None);
    }
}
