//! Running async Rust from blocking Python methods.
//!
//! Every blocking method runs its future on the one shared tokio runtime of
//! `pyo3_async_runtimes` with the GIL released, so other Python threads keep running. The wait is
//! cut into short slices; between slices the thread re-attaches to check for signals, so Ctrl-C
//! raises `KeyboardInterrupt` promptly instead of after the BMC's timeout.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

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
    // The log threshold follows the `ferrofish` logger's level from this call on.
    crate::logging::refresh(py);
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

/// What one wait of [`block_on_reporting`] ended with.
enum Slice<Event, Joined> {
    /// The task reported something.
    Event(Event),
    /// The task ended.
    Done(Joined),
}

/// [`block_on`] for work that must finish even when the caller is interrupted (deleting a
/// session): it runs in a task of its own, so Ctrl-C aborts the wait, never the work, which
/// then finishes in the background. `map_err` gets `None` when the runtime cancelled the task.
pub(crate) fn block_on_detached<T, E, Fut, Make>(
    py: Python<'_>,
    make_future: Make,
    map_err: impl FnOnce(Python<'_>, Option<E>) -> PyErr,
) -> PyResult<T>
where
    Make: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    block_on(
        py,
        move || async move {
            match tokio::spawn(async move { make_future().await }).await {
                Ok(result) => result.map_err(Some),
                Err(join_error) if join_error.is_panic() => {
                    std::panic::resume_unwind(join_error.into_panic())
                }
                // Only a runtime shutting down cancels it.
                Err(_cancelled) => Err(None),
            }
        },
        map_err,
    )
}

/// [`block_on`] for a task that reports as it goes: `make_future` gets a sender, and each
/// event it sends is handed to `on_event` on the calling thread, with the GIL held, as soon
/// as it arrives (before the task's result: nothing sent is lost). If `on_event` raises, the
/// task is aborted, as for Ctrl-C, and the exception propagates.
pub(crate) fn block_on_reporting<T, E, Event, Fut, Make>(
    py: Python<'_>,
    make_future: Make,
    map_err: impl FnOnce(Python<'_>, E) -> PyErr,
    mut on_event: impl FnMut(Python<'_>, Event) -> PyResult<()>,
) -> PyResult<T>
where
    Make: FnOnce(UnboundedSender<Event>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
    Event: Send + 'static,
{
    crate::logging::refresh(py);
    let runtime = pyo3_async_runtimes::tokio::get_runtime();
    let (sender, mut events) = unbounded_channel();
    let mut task = runtime.spawn(async move { make_future(sender).await });
    loop {
        let slice = py.detach(|| {
            runtime.block_on(async {
                let next = std::future::poll_fn(|cx| {
                    // Events first: the task sends each before it finishes.
                    if let Poll::Ready(Some(event)) = events.poll_recv(cx) {
                        return Poll::Ready(Slice::Event(event));
                    }
                    Pin::new(&mut task).poll(cx).map(Slice::Done)
                });
                tokio::time::timeout(SIGNAL_CHECK_INTERVAL, next).await
            })
        });
        match slice {
            Ok(Slice::Event(event)) => {
                if let Err(error) = on_event(py, event).and_then(|()| py.check_signals()) {
                    task.abort();
                    return Err(error);
                }
            }
            Ok(Slice::Done(Ok(Ok(value)))) => return Ok(value),
            Ok(Slice::Done(Ok(Err(error)))) => return Err(map_err(py, error)),
            Ok(Slice::Done(Err(join_error))) => {
                if join_error.is_panic() {
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
