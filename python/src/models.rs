//! Frozen Python mirrors of the Rust result types (`Inventory`, `CpuInfo`, ...).
//!
//! Each class keeps the serde form of the Rust value and reads its attributes from it, so the
//! Python attributes are the Rust field names and `to_dict()` is exactly the JSON the Rust value
//! serializes to. A unit test checks every class lists exactly the fields its Rust type has.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use ferrofish::redfish::{BootOverrideOutcome, Inventory};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};
use serde_json::{Map, Value};

use crate::convert::{json_to_py, map_to_py};

/// Reads one field, `None` when the serialized value lacks it.
fn field<'py>(
    py: Python<'py>,
    map: &Map<String, Value>,
    name: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let value = map.get(name).unwrap_or(&Value::Null);
    // Enums (ferrofish.enums): the member when the value is known, else the plain `str`.
    if let (Some(enum_name), Value::String(text)) = (enum_of_field(name), value) {
        return crate::enums::known_value(py, enum_name, text);
    }
    json_to_py(py, value)
}

/// The `ferrofish.enums` enum a record field holds, by field name (the records use each of
/// these names for that enum only).
fn enum_of_field(name: &str) -> Option<&'static str> {
    match name {
        "power_state" => Some("PowerState"),
        "boot_mode" => Some("BootMode"),
        _ => None,
    }
}

/// The object at `name`, or `None`.
fn object_field<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Map<String, Value>> {
    map.get(name).and_then(Value::as_object)
}

/// The objects of the list at `name` (non-objects are skipped; the Rust types have none).
fn object_list<'a>(
    map: &'a Map<String, Value>,
    name: &str,
) -> impl Iterator<Item = &'a Map<String, Value>> {
    map.get(name)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
}

/// The JSON object a record class wraps, from the serialized Rust value.
pub(crate) fn to_object(
    serialized: serde_json::Result<Value>,
    class: &str,
) -> PyResult<Map<String, Value>> {
    match serialized {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(PyValueError::new_err(format!(
            "{class} did not serialize to an object"
        ))),
        Err(error) => Err(PyValueError::new_err(format!(
            "cannot serialize {class}: {error}"
        ))),
    }
}

/// `Name(field=repr, ...)`, from the Python values of the fields, in declared order.
fn record_repr(object: &Bound<'_, PyAny>, class: &str, fields: &[&str]) -> PyResult<String> {
    let mut parts = Vec::with_capacity(fields.len());
    for name in fields {
        let value = object.getattr(PyString::new(object.py(), name))?;
        parts.push(format!("{name}={}", value.repr()?));
    }
    Ok(format!("{class}({})", parts.join(", ")))
}

fn hash_map(map: &Map<String, Value>) -> u64 {
    let mut hasher = DefaultHasher::new();
    // serde_json's map is sorted by key, so equal values serialize to the same text.
    serde_json::to_string(map)
        .unwrap_or_default()
        .hash(&mut hasher);
    hasher.finish()
}

/// Declares a frozen record class over the serde form of a Rust type.
///
/// `fields` are plain values (str, int, bool, None); `records` hold one nested record class or
/// `None`; `lists` hold a tuple of nested record class instances.
macro_rules! record_class {
    (
        $(#[$meta:meta])*
        $class:ident as $py_name:literal mirrors $rust:ty {
            fields { $($field:ident),* $(,)? }
            records { $($record:ident: $record_class:ident),* $(,)? }
            lists { $($list:ident: $list_class:ident),* $(,)? }
        }
    ) => {
        $(#[$meta])*
        #[pyclass(frozen, module = "ferrofish._ferrofish", name = $py_name)]
        pub(crate) struct $class {
            map: Map<String, Value>,
        }

        impl $class {
            /// The Python attribute names: plain fields, then records, then lists.
            #[allow(dead_code, reason = "read by the field-drift unit test")]
            pub(crate) const FIELDS: &'static [&'static str] = &[
                $(stringify!($field),)* $(stringify!($record),)* $(stringify!($list),)*
            ];

            pub(crate) fn from_map(map: Map<String, Value>) -> $class {
                $class { map }
            }

            /// The serde form it wraps (read back into the Rust type by the rules bindings).
            #[allow(dead_code, reason = "only the inventory is read back")]
            pub(crate) fn as_map(&self) -> &Map<String, Value> {
                &self.map
            }

            /// Wraps a Rust value.
            #[allow(dead_code, reason = "only top-level results are built from Rust values")]
            pub(crate) fn from_rust(value: &$rust) -> PyResult<$class> {
                Ok($class::from_map(to_object(serde_json::to_value(value), $py_name)?))
            }
        }

        #[pymethods]
        impl $class {
            $(
                #[getter]
                fn $field<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                    field(py, &self.map, stringify!($field))
                }
            )*
            $(
                #[getter]
                fn $record(&self, py: Python<'_>) -> PyResult<Option<Py<$record_class>>> {
                    object_field(&self.map, stringify!($record))
                        .map(|map| Py::new(py, $record_class::from_map(map.clone())))
                        .transpose()
                }
            )*
            $(
                #[getter]
                fn $list<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
                    let items = object_list(&self.map, stringify!($list))
                        .map(|map| Py::new(py, $list_class::from_map(map.clone())))
                        .collect::<PyResult<Vec<_>>>()?;
                    PyTuple::new(py, items)
                }
            )*

            /// The value as plain `dict`/`list`/`str`/`int` data, as the Rust value serializes
            /// to JSON.
            fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
                map_to_py(py, &self.map)
            }

            fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
                record_repr(slf.as_any(), $py_name, $class::FIELDS)
            }

            fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
                other
                    .cast::<$class>()
                    .is_ok_and(|other| other.get().map == self.map)
            }

            fn __hash__(&self) -> u64 {
                hash_map(&self.map)
            }
        }
    };
}

record_class! {
    /// What a system is made of: identity, CPUs, memory, disks, NICs, PCIe devices, boot mode
    /// and secure boot.
    PyInventory as "Inventory" mirrors Inventory {
        fields { boot_mode }
        records { system: PySystemIdentity, cpu: PyCpuInventory, memory: PyMemoryInventory, secure_boot: PySecureBootInfo }
        lists { disks: PyDiskInfo, volumes: PyVolumeInfo, nics: PyNicInfo, pcie_devices: PyPcieDeviceInfo, warnings: PyInventoryWarning }
    }
}

record_class! {
    /// A linked part of the system the inventory could not read (the rest was read): its URL,
    /// the reason (`not_found`, `not_implemented`, `refused`, `timeout`, `unparsable`,
    /// `bad_link`), the HTTP status when there was one, and the error in words.
    PyInventoryWarning as "InventoryWarning" mirrors ferrofish::redfish::InventoryWarning {
        fields { url, reason, status, message }
        records {}
        lists {}
    }
}

/// What became of a boot override the BMC accepted, as read back: `outcome` is `"applied"`,
/// or `"applied_as_continuous"` when a one-time override was stored as `Continuous`; then
/// `must_clear_after_boot` is true and the caller must clear the override after the boot.
#[pyclass(frozen, module = "ferrofish._ferrofish", name = "BootOverrideOutcome")]
pub(crate) struct PyBootOverrideOutcome {
    outcome: BootOverrideOutcome,
}

impl PyBootOverrideOutcome {
    pub(crate) fn from_rust(outcome: BootOverrideOutcome) -> PyBootOverrideOutcome {
        PyBootOverrideOutcome { outcome }
    }
}

#[pymethods]
impl PyBootOverrideOutcome {
    /// `"applied"` or `"applied_as_continuous"`.
    #[getter]
    fn outcome(&self) -> &'static str {
        self.outcome.as_str()
    }

    /// Whether the override stays in force after the boot, so the caller must clear it.
    #[getter]
    fn must_clear_after_boot(&self) -> bool {
        self.outcome.must_clear_after_boot()
    }

    fn __repr__(&self) -> String {
        format!(
            "BootOverrideOutcome(outcome={:?}, must_clear_after_boot={})",
            self.outcome.as_str(),
            if self.outcome.must_clear_after_boot() {
                "True"
            } else {
                "False"
            }
        )
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyBootOverrideOutcome>()
            .is_ok_and(|other| other.get().outcome == self.outcome)
    }

    fn __hash__(&self) -> u64 {
        let mut hasher = DefaultHasher::new();
        self.outcome.hash(&mut hasher);
        hasher.finish()
    }
}

record_class! {
    /// Who the system is: ids, vendor, model, serial number, BIOS version, power state.
    PySystemIdentity as "SystemIdentity" mirrors ferrofish::redfish::SystemIdentity {
        fields { odata_id, id, name, manufacturer, model, serial_number, sku, uuid, bios_version, power_state }
        records {}
        lists {}
    }
}

record_class! {
    /// The processors: count, model and architecture of the first, total cores and threads.
    PyCpuInventory as "CpuInventory" mirrors ferrofish::redfish::CpuInventory {
        fields { count, model, architecture, cores, threads }
        records {}
        lists { processors: PyCpuInfo }
    }
}

record_class! {
    /// One CPU.
    PyCpuInfo as "CpuInfo" mirrors ferrofish::redfish::CpuInfo {
        fields { id, socket, manufacturer, model, architecture, cores, threads, max_speed_mhz }
        records {}
        lists {}
    }
}

record_class! {
    /// The memory: total MiB and the populated DIMMs.
    PyMemoryInventory as "MemoryInventory" mirrors ferrofish::redfish::MemoryInventory {
        fields { total_mib }
        records {}
        lists { dimms: PyDimmInfo }
    }
}

record_class! {
    /// One DIMM.
    PyDimmInfo as "DimmInfo" mirrors ferrofish::redfish::DimmInfo {
        fields { id, capacity_mib, memory_device_type, manufacturer, part_number, serial_number, speed_mhz }
        records {}
        lists {}
    }
}

record_class! {
    /// One physical disk.
    PyDiskInfo as "DiskInfo" mirrors ferrofish::redfish::DiskInfo {
        fields { id, name, capacity_bytes, media_type, protocol, model, serial_number }
        records {}
        lists {}
    }
}

record_class! {
    /// One logical volume (a RAID virtual disk).
    PyVolumeInfo as "VolumeInfo" mirrors ferrofish::redfish::VolumeInfo {
        fields { id, name, capacity_bytes, raid_type, volume_type }
        records {}
        lists {}
    }
}

record_class! {
    /// One network interface with a MAC address.
    PyNicInfo as "NicInfo" mirrors ferrofish::redfish::NicInfo {
        fields { id, mac_address, speed_mbps, link_status }
        records {}
        lists {}
    }
}

record_class! {
    /// One PCIe device.
    PyPcieDeviceInfo as "PcieDeviceInfo" mirrors ferrofish::redfish::PcieDeviceInfo {
        fields { id, name, manufacturer, model, device_type }
        records {}
        lists {}
    }
}

record_class! {
    /// Secure boot state.
    PySecureBootInfo as "SecureBootInfo" mirrors ferrofish::redfish::SecureBootInfo {
        fields { enabled, current_boot, mode }
        records {}
        lists {}
    }
}

/// Adds every record class to the module, under its Rust name.
pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyInventory>()?;
    module.add_class::<PySystemIdentity>()?;
    module.add_class::<PyCpuInventory>()?;
    module.add_class::<PyCpuInfo>()?;
    module.add_class::<PyMemoryInventory>()?;
    module.add_class::<PyDimmInfo>()?;
    module.add_class::<PyDiskInfo>()?;
    module.add_class::<PyVolumeInfo>()?;
    module.add_class::<PyNicInfo>()?;
    module.add_class::<PyPcieDeviceInfo>()?;
    module.add_class::<PySecureBootInfo>()?;
    module.add_class::<PyInventoryWarning>()?;
    module.add_class::<PyBootOverrideOutcome>()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrofish::redfish::{
        CpuInfo, CpuInventory, DimmInfo, DiskInfo, MemoryInventory, NicInfo, PcieDeviceInfo,
        SecureBootInfo, SystemIdentity, VolumeInfo,
    };

    fn serialized_fields(serialized: serde_json::Result<Value>) -> Vec<String> {
        match serialized.unwrap() {
            Value::Object(map) => map.keys().cloned().collect(),
            other => panic!("not an object: {other}"),
        }
    }

    fn declared(fields: &[&str]) -> Vec<String> {
        fields.iter().map(|f| (*f).to_owned()).collect()
    }

    fn sorted(mut names: Vec<String>) -> Vec<String> {
        names.sort();
        names
    }

    /// A field added to (or renamed in) a Rust type must appear in its Python class.
    #[test]
    fn every_class_lists_exactly_the_fields_of_its_rust_type() {
        macro_rules! same_fields {
            ($($rust:ident => $python:ident),+ $(,)?) => {$(
                assert_eq!(
                    sorted(serialized_fields(serde_json::to_value($rust::default()))),
                    sorted(declared($python::FIELDS)),
                    stringify!($rust),
                );
            )+};
        }
        same_fields!(
            Inventory => PyInventory,
            SystemIdentity => PySystemIdentity,
            CpuInventory => PyCpuInventory,
            CpuInfo => PyCpuInfo,
            MemoryInventory => PyMemoryInventory,
            DimmInfo => PyDimmInfo,
            DiskInfo => PyDiskInfo,
            VolumeInfo => PyVolumeInfo,
            NicInfo => PyNicInfo,
            PcieDeviceInfo => PyPcieDeviceInfo,
            SecureBootInfo => PySecureBootInfo,
        );
        // No Default for a warning: one read from its JSON form stands in.
        let warning: ferrofish::redfish::InventoryWarning =
            serde_json::from_value(serde_json::json!({
                "url": "https://bmc/redfish/v1/Systems/1/Memory", "reason": "not_found",
                "status": 404, "message": "404"
            }))
            .unwrap();
        assert_eq!(
            sorted(serialized_fields(serde_json::to_value(warning))),
            sorted(declared(PyInventoryWarning::FIELDS)),
        );
    }
}
