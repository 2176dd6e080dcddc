//! Running async Rust from blocking Python methods.
//!
//! Every blocking method runs its future on the one shared tokio runtime of
//! `pyo3_async_runtimes` with the GIL released, so other Python threads keep running: polled
//! on the calling thread when it is the only blocking call in progress, on the runtime's
//! workers when several threads call at once ([`block_on`]). The wait is
//! cut into short slices; between slices the thread re-attaches to check for signals, so Ctrl-C
//! raises `KeyboardInterrupt` promptly instead of after the BMC's timeout.
//!
//! The async twins (`AsyncRedfishClient`, ...) return awaitables that run on the same runtime
//! ([`awaitable`]), through pyo3-async-runtimes' generic layer, so there is one runtime for
//! both faces.
//!
//! Fork safety: the runtime records the process it was built in. A forked child has none of
//! the parent's worker threads, so its first call builds a runtime of its own (the parent's is
//! left alone: tearing it down would wait for threads that do not exist in the child). Objects
//! built before the fork refuse to be used in the child ([`check_same_process`]) and are
//! forgotten, not dropped, there ([`forget_if_forked`]): dropping one would send on the
//! parent's pooled connections or delete the parent's session.

use std::cell::{Cell, OnceCell};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::task::Poll;
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3_async_runtimes::TaskLocals;
use pyo3_async_runtimes::generic::{ContextExt, Runtime as GenericRuntime};
use tokio::runtime::Runtime;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio::task::{JoinError, JoinHandle};

use crate::errors::ClientClosedError;

/// The shared runtime and the process that built it.
struct ProcessRuntime {
    pid: u32,
    runtime: Runtime,
}

/// The current process's runtime, leaked on purpose: it lives as long as the process, and a
/// forked child must never drop its parent's. Taken only on a thread's first call and in a
/// forked child (see [`THREAD_CACHE`]), so the lock is almost never held when a fork happens.
static RUNTIME: Mutex<Option<&'static ProcessRuntime>> = Mutex::new(None);

thread_local! {
    /// This thread's copy of [`RUNTIME`], so calls take no lock.
    static THREAD_CACHE: Cell<Option<&'static ProcessRuntime>> = const { Cell::new(None) };
}

/// The shared tokio runtime of this process, built on first use and again in a forked child.
pub(crate) fn runtime() -> &'static Runtime {
    let pid = std::process::id();
    if let Some(cached) = THREAD_CACHE.get()
        && cached.pid == pid
    {
        return &cached.runtime;
    }
    let mut shared = RUNTIME.lock().unwrap_or_else(PoisonError::into_inner);
    let current = match *shared {
        Some(current) if current.pid == pid => current,
        _ => {
            let built: &'static ProcessRuntime = Box::leak(Box::new(ProcessRuntime {
                pid,
                runtime: build_runtime(),
            }));
            *shared = Some(built);
            built
        }
    };
    THREAD_CACHE.set(Some(current));
    &current.runtime
}

/// The environment variable that sets the shared runtime's worker threads (tokio's own name).
const WORKER_THREADS_ENV: &str = "TOKIO_WORKER_THREADS";

/// The shared runtime's worker threads: `TOKIO_WORKER_THREADS` when it is a positive number,
/// else one. Pure.
///
/// One by default, not one per core: a Python process keeps about one core busy (the GIL), and
/// with a second worker the tasks of a fleet's poll move between the two, each move a thread
/// wake-up: measured on `RedfishClient.poll_power_states` over 1,000 mock BMCs, 25-29 µs of CPU
/// per poll with one worker, 33-35 µs with two. The blocking calls, alone, run on their calling
/// thread anyway. A process that opens thousands of TLS connections at once, where handshakes
/// keep several cores busy, can ask for more.
fn worker_threads(configured: Option<&str>) -> usize {
    configured
        .and_then(|value| value.trim().parse().ok())
        .filter(|&threads: &usize| threads > 0)
        .unwrap_or(1)
}

fn build_runtime() -> Runtime {
    let threads = worker_threads(std::env::var(WORKER_THREADS_ENV).ok().as_deref());
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("ferrofish-tokio")
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        // Only resource exhaustion (no thread can be started) fails here; nothing can run.
        Err(error) => panic!("cannot start the ferrofish tokio runtime: {error}"),
    }
}

/// Refuses an object built in another process (before an `os.fork()`): its connections and
/// session belong to the parent.
pub(crate) fn check_same_process(built_in: u32, what: &str) -> PyResult<()> {
    if built_in == std::process::id() {
        Ok(())
    } else {
        Err(ClientClosedError::new_err(format!(
            "this {what} was created before os.fork(), in the parent process; create a new one \
             in the child (its connections and session belong to the parent)"
        )))
    }
}

/// Drops `value` inside the shared runtime (an unclosed session is deleted in the background),
/// or, in a forked child, forgets it: its connections and session are the parent's.
pub(crate) fn drop_in_runtime<T>(built_in: u32, value: T) {
    if built_in == std::process::id() {
        let _context = runtime().enter();
        drop(value);
    } else {
        std::mem::forget(value);
    }
}

/// pyo3-async-runtimes' view of [`runtime`]: where awaitables run.
struct SharedRuntime;

tokio::task_local! {
    /// The asyncio event loop (and context) an awaitable was created from.
    static TASK_LOCALS: OnceCell<TaskLocals>;
}

impl GenericRuntime for SharedRuntime {
    type JoinError = tokio::task::JoinError;
    type JoinHandle = tokio::task::JoinHandle<()>;

    fn spawn<F>(fut: F) -> Self::JoinHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        runtime().spawn(fut)
    }

    fn spawn_blocking<F>(f: F) -> Self::JoinHandle
    where
        F: FnOnce() + Send + 'static,
    {
        runtime().spawn_blocking(f)
    }
}

impl ContextExt for SharedRuntime {
    fn scope<F, R>(locals: TaskLocals, fut: F) -> Pin<Box<dyn Future<Output = R> + Send>>
    where
        F: Future<Output = R> + Send + 'static,
    {
        let cell = OnceCell::new();
        let _ = cell.set(locals);
        Box::pin(TASK_LOCALS.scope(cell, fut))
    }

    fn get_task_locals() -> Option<TaskLocals> {
        TASK_LOCALS
            .try_with(|cell| cell.get().cloned())
            .unwrap_or_default()
    }
}

/// A result turned into a Python object only once the GIL is held (pyo3-async-runtimes
/// converts on a blocking thread, never on a runtime worker).
struct Deferred(Box<dyn ConvertOnce>);

/// What [`Deferred`] holds: the conversion of a finished call's result.
trait ConvertOnce: FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send {}

impl<F: FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send> ConvertOnce for F {}

impl<'py> IntoPyObject<'py> for Deferred {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        (self.0)(py).map(|object| object.into_bound(py))
    }
}

/// The awaitable twin of [`block_on`]: an asyncio awaitable of the future built by
/// `make_future` (built inside the runtime), its value converted by `convert` and its error
/// by `map_err`, both with the GIL held. Cancelling the awaiting task drops the future.
pub(crate) fn awaitable<T, E, Fut, Make>(
    py: Python<'_>,
    make_future: Make,
    map_err: impl FnOnce(Python<'_>, E) -> PyErr + Send + 'static,
    convert: impl FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
) -> PyResult<Bound<'_, PyAny>>
where
    Make: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    crate::logging::refresh(py);
    pyo3_async_runtimes::generic::future_into_py::<SharedRuntime, _, _>(py, async move {
        let result = make_future().await;
        Ok(Deferred(Box::new(move |py| match result {
            Ok(value) => convert(py, value),
            Err(error) => Err(map_err(py, error)),
        })))
    })
}

/// [`awaitable`] for work that must finish even when the awaiting task is cancelled (deleting
/// a session): it runs in a task of its own, so cancelling stops the wait, never the work.
/// `map_err` gets `None` when the runtime cancelled the task.
pub(crate) fn awaitable_detached<T, E, Fut, Make>(
    py: Python<'_>,
    make_future: Make,
    map_err: impl FnOnce(Python<'_>, Option<E>) -> PyErr + Send + 'static,
    convert: impl FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
) -> PyResult<Bound<'_, PyAny>>
where
    Make: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    awaitable(
        py,
        move || async move {
            match runtime().spawn(async move { make_future().await }).await {
                Ok(result) => result.map_err(Some),
                Err(join_error) if join_error.is_panic() => {
                    std::panic::resume_unwind(join_error.into_panic())
                }
                Err(_cancelled) => Err(None),
            }
        },
        map_err,
        convert,
    )
}

/// How long the thread waits with the GIL released before it checks for signals.
const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(100);

/// Blocking calls in progress in this process, on every thread.
static BLOCKING_CALLS: AtomicUsize = AtomicUsize::new(0);

/// Counts one blocking call while it lives.
struct BlockingCall;

impl BlockingCall {
    /// Counts this call; whether it is the only one in progress.
    fn start() -> (BlockingCall, bool) {
        let others = BLOCKING_CALLS.fetch_add(1, Ordering::AcqRel);
        (BlockingCall, others == 0)
    }
}

impl Drop for BlockingCall {
    fn drop(&mut self) {
        BLOCKING_CALLS.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What a blocking call waits for: its future's result, or why its task did not finish.
type Waited<T, E> = Pin<Box<dyn Future<Output = Result<Result<T, E>, JoinError>> + Send>>;

/// A spawned task, aborted when its waiter gives up (Ctrl-C).
pub(crate) struct AbortOnDrop<T>(pub(crate) JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> Future for AbortOnDrop<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

/// Runs the future built by `make_future` to completion, with the GIL released.
///
/// Where the future is polled: when no other blocking call is in progress, on the calling
/// thread, as `Runtime::block_on` does for a Rust caller (a worker would cost two thread
/// wake-ups a call, the worker's and then the caller's: most of what the bindings added to a
/// call). With other blocking calls in progress (a pool of Python threads polling a fleet), on
/// the runtime's workers, which take every thread's requests in turn and answer many sockets
/// per wake-up where each calling thread would be woken for its own.
///
/// The future is built inside the runtime's context (never before), because some futures, such
/// as `tokio::time::sleep`, register with the runtime when they are created. If a signal
/// handler raises (Ctrl-C), the future is dropped (its task aborted), which cancels the call,
/// and the exception propagates.
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
    let runtime = runtime();
    let (_counted, alone) = BlockingCall::start();
    // Entered for the whole call: the future is built and dropped in the runtime's context
    // (dropping a client may spawn its session's deletion).
    let _context = runtime.enter();
    let mut future: Waited<T, E> = if alone {
        Box::pin(async move { Ok(make_future().await) })
    } else {
        Box::pin(AbortOnDrop(
            runtime.spawn(async move { make_future().await }),
        ))
    };
    loop {
        let slice = py.detach(|| {
            runtime.block_on(tokio::time::timeout(SIGNAL_CHECK_INTERVAL, future.as_mut()))
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
            Err(_still_running) => py.check_signals()?,
        }
    }
}

/// Which face of the API a call is made through: a blocking class (`RedfishClient`) or its
/// async twin (`AsyncRedfishClient`). One implementation serves both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Face {
    /// Block the calling thread (GIL released) and return the value.
    Blocking,
    /// Return an asyncio awaitable of the value.
    Awaitable,
}

/// Runs the future built by `make_future` through `face`: its value (converted by `convert`)
/// for [`Face::Blocking`], an awaitable of it for [`Face::Awaitable`].
pub(crate) fn run<T, E, Fut, Make>(
    py: Python<'_>,
    face: Face,
    make_future: Make,
    map_err: impl FnOnce(Python<'_>, E) -> PyErr + Send + 'static,
    convert: impl FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
) -> PyResult<Bound<'_, PyAny>>
where
    Make: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    match face {
        Face::Blocking => {
            let value = block_on(py, make_future, map_err)?;
            convert(py, value).map(|object| object.into_bound(py))
        }
        Face::Awaitable => awaitable(py, make_future, map_err, convert),
    }
}

/// [`run`] for work that must finish even when the caller stops waiting (Ctrl-C, a cancelled
/// task): deleting a session.
pub(crate) fn run_detached<T, E, Fut, Make>(
    py: Python<'_>,
    face: Face,
    make_future: Make,
    map_err: impl FnOnce(Python<'_>, Option<E>) -> PyErr + Send + 'static,
    convert: impl FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
) -> PyResult<Bound<'_, PyAny>>
where
    Make: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    match face {
        Face::Blocking => {
            let value = block_on_detached(py, make_future, map_err)?;
            convert(py, value).map(|object| object.into_bound(py))
        }
        Face::Awaitable => awaitable_detached(py, make_future, map_err, convert),
    }
}

/// `convert` for calls that return nothing.
#[allow(
    clippy::unnecessary_wraps,
    reason = "the signature every `convert` has"
)]
pub(crate) fn to_none(py: Python<'_>, (): ()) -> PyResult<Py<PyAny>> {
    Ok(py.None())
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
    let runtime = runtime();
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

#[cfg(test)]
mod tests {
    use super::worker_threads;

    #[test]
    fn one_worker_unless_tokio_worker_threads_names_a_positive_number() {
        assert_eq!(worker_threads(None), 1);
        assert_eq!(worker_threads(Some("4")), 4);
        assert_eq!(worker_threads(Some(" 2 ")), 2);
        assert_eq!(worker_threads(Some("0")), 1);
        assert_eq!(worker_threads(Some("many")), 1);
    }
}
