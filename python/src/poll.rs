//! `RedfishClient.poll_power_states(clients)` and its asyncio twin: the power state of many
//! BMCs in one call.
//!
//! A fleet's power poll from Python threads pays, per BMC, a thread's hand-off to the runtime,
//! the GIL, and the interpreter's call; from asyncio, a future and a wake-up of the event loop
//! each. Here the polls run inside Rust, at most `max_in_flight` at once, in one task of the
//! runtime with the GIL released, and Python sees one call and one list (issue 16's "from
//! Python" CPU per poll).

use ferrofish::redfish::RedfishClient;
use ferrofish::redfish::models::PowerState;
use futures::StreamExt as _;
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};
use tokio::task::JoinError;

use crate::client::{
    CallError, ClientCore, DefaultHandle, DefaultSystem, PyAsyncRedfishClient, PyRedfishClient,
    call_error_to_pyerr, power_state_of, power_state_to_py,
};
use crate::runtime::{AbortOnDrop, Face, run, runtime};

/// One entry of the caller's list: a poll to make, or the error its client gave before
/// anything could be sent (closed, or built before a fork).
enum Entry {
    Poll {
        client: RedfishClient,
        system: Option<String>,
        default: DefaultSystem,
        handle: DefaultHandle,
    },
    Refused(PyErr),
}

/// The client of an entry: a `RedfishClient` or an `AsyncRedfishClient`, alone or as
/// `(client, system_id)`.
fn entry(item: &Bound<'_, PyAny>) -> PyResult<Entry> {
    let (client, system) = match item.cast::<PyTuple>() {
        Ok(pair) if pair.len() == 2 => {
            let system: String = pair.get_item(1)?.extract().map_err(|_| {
                PyTypeError::new_err("the second element of a (client, system) pair is a str")
            })?;
            (pair.get_item(0)?, Some(system))
        }
        _ => (item.clone(), None),
    };
    let with_core = |core: &ClientCore| match core.client() {
        Ok(client) => Entry::Poll {
            client: client.clone(),
            system: system.clone(),
            default: core.default_system(),
            handle: core.default_handle(),
        },
        Err(refused) => Entry::Refused(refused),
    };
    if let Ok(blocking) = client.cast::<PyRedfishClient>() {
        return Ok(with_core(blocking.get().core()));
    }
    if let Ok(asynchronous) = client.cast::<PyAsyncRedfishClient>() {
        return Ok(with_core(asynchronous.get().core()));
    }
    Err(PyTypeError::new_err(format!(
        "poll_power_states takes RedfishClient or AsyncRedfishClient objects, or \
         (client, system_id) pairs, not {}",
        client.get_type().name()?
    )))
}

/// Polls every entry's power state, at most `max_in_flight` at once, through `face`: the list
/// of results in the entries' order, each the state (as `power_state()` returns it) or the
/// exception `power_state()` would have raised. Bad arguments raise before anything is sent.
pub(crate) fn poll_power_states<'py>(
    py: Python<'py>,
    face: Face,
    clients: &Bound<'py, PyAny>,
    max_in_flight: usize,
) -> PyResult<Bound<'py, PyAny>> {
    if max_in_flight == 0 {
        return Err(PyValueError::new_err("max_in_flight must be at least 1"));
    }
    let mut refused = Vec::new();
    let mut polls = Vec::new();
    for (index, item) in clients.try_iter()?.enumerate() {
        match entry(&item?)? {
            Entry::Poll {
                client,
                system,
                default,
                handle,
            } => polls.push((index, client, system, default, handle)),
            Entry::Refused(error) => refused.push((index, error)),
        }
    }
    let total = polls.len() + refused.len();
    run(
        py,
        face,
        move || async move {
            // One task for the whole batch, on a worker: the thread that waits for the sockets
            // then runs the polls they wake, where the calling thread would be woken for each.
            let batch = futures::stream::iter(polls)
                .map(|(index, client, system, default, handle)| async move {
                    let state = power_state_of(&client, system, &default, &handle).await;
                    (index, state)
                })
                .buffer_unordered(max_in_flight)
                .collect::<Vec<(usize, Result<Option<PowerState>, CallError>)>>();
            AbortOnDrop(runtime().spawn(batch)).await
        },
        |_, join_error: JoinError| {
            if join_error.is_panic() {
                std::panic::resume_unwind(join_error.into_panic());
            }
            PyRuntimeError::new_err("the ferrofish task was cancelled")
        },
        move |py, states| {
            let mut results: Vec<Py<PyAny>> = (0..total).map(|_| py.None()).collect();
            for (index, state) in states {
                results[index] = match state {
                    Ok(state) => power_state_to_py(py, state)?,
                    Err(error) => call_error_to_pyerr(py, error).into_value(py).into_any(),
                };
            }
            for (index, error) in refused {
                results[index] = error.into_value(py).into_any();
            }
            Ok(PyList::new(py, results)?.into_any().unbind())
        },
    )
}
