//! The user's quirk overrides from Python: a `dict` of switch names to values, read into
//! redfish-core's `QuirksOverride` (`RedfishClient(..., quirks={...})`) or the BIOS crate's
//! `BiosQuirksOverride` (`Bios(..., quirks={...})`). A name that is no switch is a
//! `ValueError` naming the closest switches (a misspelt override must not be ignored); a
//! value of the wrong type is a `TypeError`; `None` keeps what detection chose.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::convert::py_to_json;

/// Reads `quirks` into the override `T` whose field names are `fields`; `what` names the
/// override in messages ("Redfish", "BIOS"). `None` is the empty override.
pub(crate) fn override_from<T: DeserializeOwned + Default>(
    what: &str,
    fields: &[&str],
    quirks: Option<&Bound<'_, PyDict>>,
) -> PyResult<T> {
    let Some(quirks) = quirks else {
        return Ok(T::default());
    };
    let mut chosen = Map::new();
    for (key, value) in quirks.iter() {
        let Ok(name) = key.extract::<String>() else {
            return Err(PyTypeError::new_err(format!(
                "{what} quirk names are strings, not {}",
                key.get_type().name()?
            )));
        };
        if !fields.contains(&name.as_str()) {
            return Err(PyValueError::new_err(format!(
                "{name:?} is not a {what} quirk switch; the closest: {}",
                closest(&name, fields).join(", ")
            )));
        }
        if value.is_none() {
            continue;
        }
        let wire = py_to_json(&value)?;
        // One field at a time, so the error names the switch that has the wrong type.
        let mut one = Map::new();
        one.insert(name.clone(), wire.clone());
        if let Err(error) = serde_json::from_value::<T>(Value::Object(one)) {
            return Err(PyTypeError::new_err(format!(
                "{what} quirk {name:?}: {error}"
            )));
        }
        chosen.insert(name, wire);
    }
    serde_json::from_value(Value::Object(chosen))
        .map_err(|error| PyTypeError::new_err(format!("{what} quirks: {error}")))
}

/// The three switch names nearest to `name` (edit distance), nearest first. Pure.
fn closest<'a>(name: &str, fields: &[&'a str]) -> Vec<&'a str> {
    let mut ranked: Vec<(usize, &str)> = fields
        .iter()
        .map(|f| (edit_distance(name, f), *f))
        .collect();
    ranked.sort_unstable();
    ranked.into_iter().take(3).map(|(_, f)| f).collect()
}

/// Levenshtein distance over characters. Pure.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_closest_switches_come_first() {
        let fields = ["close_connections", "expand_collections", "max_sessions"];
        assert_eq!(closest("close_conections", &fields)[0], "close_connections");
        assert_eq!(closest("max_session", &fields)[0], "max_sessions");
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "ab"), 2);
    }
}
