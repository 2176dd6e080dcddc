//! Running async Rust from blocking Python methods.
//!
//! Every blocking method runs its future on the one shared tokio runtime of
//! `pyo3_async_runtimes` with the GIL released, so other Python threads keep running. The wait is
//! cut into short slices; between slices the thread re-attaches to check for signals, so Ctrl-C
//! raises `KeyboardInterrupt` promptly instead of after the BMC's timeout.

use std::future::Future;
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

/// How long the thread waits with the GIL released before it checks for signals.
const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(100);

/// Runs the future built by `make_future` to completion, with the GIL released.
///
/// The future is built inside the runtime (never before), because some futures, such as
/// `tokio::time::sleep`, register with the runtime when they are created. If a signal handler
/// raises (Ctrl-C), the task is aborted and the exception propagates.
pub(crate) fn block_on<T, E, Fut, Make>(
    py: Python<'_>,
    make_future: Make,
    map_err: impl FnOnce(Python<'_>, E) -> PyErr,
) -> PyResult<T>
where
    Make: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    let runtime = pyo3_async_runtimes::tokio::get_runtime();
    let mut task = runtime.spawn(async move { make_future().await });
    loop {
        let slice = py.detach(|| {
            runtime.block_on(async { tokio::time::timeout(SIGNAL_CHECK_INTERVAL, &mut task).await })
        });
        match slice {
            Ok(Ok(Ok(value))) => return Ok(value),
            Ok(Ok(Err(error))) => return Err(map_err(py, error)),
            Ok(Err(join_error)) => {
                if join_error.is_panic() {
                    // Let pyo3 turn the panic into `PanicException`, as for any other panic.
                    std::panic::resume_unwind(join_error.into_panic());
                }
                return Err(PyRuntimeError::new_err("the ferrofish task was cancelled"));
            }
            Err(_still_running) => {
                if let Err(interrupt) = py.check_signals() {
                    task.abort();
                    return Err(interrupt);
                }
            }
        }
    }
}
