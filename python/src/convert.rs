//! Conversion between JSON values and plain Python objects.
//!
//! JSON objects become `dict`, arrays `list`, numbers `int` or `float`, and back. Going to JSON,
//! anything that is not plain data (a set, bytes, a non-string key, NaN) is a `TypeError` or
//! `ValueError` naming where it was found, and nothing is sent.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

/// Deeper Python structures than this are refused, which also stops on reference cycles.
const MAX_DEPTH: usize = 128;

/// Converts a JSON value to the equivalent plain Python object.
pub(crate) fn json_to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(flag) => PyBool::new(py, *flag).to_owned().into_any(),
        Value::Number(number) => number_to_py(py, number)?,
        Value::String(text) => PyString::new(py, text).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => map_to_py(py, map)?.into_any(),
    })
}

/// Converts a JSON object to a Python `dict`, keeping the key order.
pub(crate) fn map_to_py<'py>(
    py: Python<'py>,
    map: &Map<String, Value>,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (key, item) in map {
        dict.set_item(key, json_to_py(py, item)?)?;
    }
    Ok(dict)
}

fn number_to_py<'py>(py: Python<'py>, number: &Number) -> PyResult<Bound<'py, PyAny>> {
    if let Some(signed) = number.as_i64() {
        Ok(signed.into_pyobject(py)?.into_any())
    } else if let Some(unsigned) = number.as_u64() {
        Ok(unsigned.into_pyobject(py)?.into_any())
    } else {
        // Without serde_json's arbitrary_precision every other number is an f64.
        Ok(PyFloat::new(py, number.as_f64().unwrap_or(f64::NAN)).into_any())
    }
}

/// Converts plain Python data (dict with str keys, list, tuple, str, int, float, bool, None) to
/// JSON.
pub(crate) fn py_to_json(value: &Bound<'_, PyAny>) -> PyResult<Value> {
    to_json_at(value, "$", 0)
}

fn to_json_at(value: &Bound<'_, PyAny>, path: &str, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "value at {path} is nested deeper than {MAX_DEPTH} levels (or contains itself)"
        )));
    }
    if value.is_none() {
        return Ok(Value::Null);
    }
    // bool before int: Python's bool is a subclass of int.
    if let Ok(flag) = value.cast::<PyBool>() {
        return Ok(Value::Bool(flag.is_true()));
    }
    if value.is_instance_of::<PyInt>() {
        if let Ok(signed) = value.extract::<i64>() {
            return Ok(Value::from(signed));
        }
        if let Ok(unsigned) = value.extract::<u64>() {
            return Ok(Value::from(unsigned));
        }
        return Err(PyValueError::new_err(format!(
            "integer at {path} does not fit in 64 bits"
        )));
    }
    if let Ok(float) = value.cast::<PyFloat>() {
        return Number::from_f64(float.value())
            .map(Value::Number)
            .ok_or_else(|| {
                PyValueError::new_err(format!("float at {path} is not finite, JSON has no NaN"))
            });
    }
    if let Ok(text) = value.cast::<PyString>() {
        return Ok(Value::String(text.to_cow()?.into_owned()));
    }
    if let Ok(dict) = value.cast::<PyDict>() {
        let mut map = Map::with_capacity(dict.len());
        for (key, item) in dict.iter() {
            let Ok(key) = key.cast::<PyString>() else {
                return Err(PyTypeError::new_err(format!(
                    "key {} at {path} is not a str",
                    key.repr()?
                )));
            };
            let key = key.to_cow()?.into_owned();
            let item_path = format!("{path}.{key}");
            let item = to_json_at(&item, &item_path, depth + 1)?;
            map.insert(key, item);
        }
        return Ok(Value::Object(map));
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        let mut items = Vec::new();
        for (index, item) in value.try_iter()?.enumerate() {
            items.push(to_json_at(&item?, &format!("{path}[{index}]"), depth + 1)?);
        }
        return Ok(Value::Array(items));
    }
    Err(PyTypeError::new_err(format!(
        "value at {path} has type {}, which JSON cannot represent",
        value.get_type().name()?
    )))
}
