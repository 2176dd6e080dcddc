//! The library's `tracing` events, forwarded to Python's `logging` under the logger `ferrofish`.
//!
//! A small `tracing` subscriber instead of pyo3-log: pyo3-log bridges the `log` crate, so it
//! would need tracing's `log` feature and would name the loggers after the Rust crates
//! (`ferrofish_redfish_core`), outside the `ferrofish` hierarchy. Here an event of target
//! `ferrofish_redfish_core::transport::send` goes to the logger
//! `ferrofish.redfish_core.transport.send`, a child of `ferrofish`, with its level mapped
//! (TRACE 5, DEBUG 10, INFO 20, WARN 30, ERROR 40) and the source file and line of the event.
//! Only the library's own events are forwarded (not hyper's or rustls').
//!
//! Deciding costs no Python call: the effective level of the `ferrofish` logger is cached and
//! read again at the start of every blocking call (`refresh`), so `logger.setLevel(...)` or
//! pytest's `caplog.set_level(...)` takes effect from the next call. Spans are not forwarded.
//!
//! No secret reaches a record: the library's events carry none (its errors and `Debug`
//! outputs redact passwords, tokens and keys), and this bridge only formats what they carry.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU32, Ordering};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use tracing::field::{Field, Visit};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber, span};

/// The Python level at and above which events are forwarded: the cached effective level of
/// the `ferrofish` logger (WARNING, Python's default, until the first refresh).
static THRESHOLD: AtomicU32 = AtomicU32::new(30);

/// `logging.getLogger("ferrofish")`, looked up once.
static ROOT_LOGGER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The Python `logging` level of a `tracing` level.
fn python_level(level: Level) -> u32 {
    match level {
        Level::TRACE => 5,
        Level::DEBUG => 10,
        Level::INFO => 20,
        Level::WARN => 30,
        Level::ERROR => 40,
    }
}

/// The Python logger of an event target, or `None` when the event is not the library's.
fn logger_name(target: &str) -> Option<String> {
    let rest = target.strip_prefix("ferrofish")?;
    let rest = if let Some(sub) = rest.strip_prefix('_') {
        // A member crate: `ferrofish_ipmi::client` -> `ferrofish.ipmi.client`.
        format!(".{sub}")
    } else if rest.is_empty() || rest.starts_with("::") {
        rest.to_owned()
    } else {
        // Another crate whose name merely starts with "ferrofish".
        return None;
    };
    Some(format!("ferrofish{}", rest.replace("::", ".")))
}

/// Reads the effective level of the `ferrofish` logger again.
pub(crate) fn refresh(py: Python<'_>) {
    let level = ROOT_LOGGER
        .get_or_try_init(py, || {
            Ok::<_, PyErr>(
                py.import("logging")?
                    .call_method1("getLogger", ("ferrofish",))?
                    .unbind(),
            )
        })
        .and_then(|logger| logger.bind(py).call_method0("getEffectiveLevel")?.extract());
    if let Ok(level) = level {
        THRESHOLD.store(level, Ordering::Relaxed);
    }
}

/// The message and fields of an event as one line: `message key=value key=value`.
#[derive(Default)]
struct Line {
    message: String,
    fields: String,
}

impl Visit for Line {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }
}

/// The subscriber: forwards the library's events at or above the threshold.
struct PythonLogging;

impl PythonLogging {
    fn emit(metadata: &Metadata<'_>, line: &str) {
        let Some(name) = logger_name(metadata.target()) else {
            return;
        };
        let level = python_level(*metadata.level());
        // `None` while the interpreter shuts down: the record is dropped, never a panic.
        let _ = Python::try_attach(|py| -> PyResult<()> {
            let logger = py
                .import("logging")?
                .call_method1("getLogger", (name.as_str(),))?;
            if !logger
                .call_method1("isEnabledFor", (level,))?
                .extract::<bool>()?
            {
                return Ok(());
            }
            let record = logger.call_method1(
                "makeRecord",
                (
                    name.as_str(),
                    level,
                    metadata.file().unwrap_or("<rust>"),
                    metadata.line().unwrap_or(0),
                    line,
                    pyo3::types::PyTuple::empty(py),
                    py.None(),
                ),
            )?;
            logger.call_method1("handle", (record,))?;
            Ok(())
        });
    }
}

impl Subscriber for PythonLogging {
    fn register_callsite(&self, _metadata: &'static Metadata<'static>) -> Interest {
        // Asked every time: the threshold follows the Python logger's level.
        Interest::sometimes()
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.is_event()
            && python_level(*metadata.level()) >= THRESHOLD.load(Ordering::Relaxed)
            && logger_name(metadata.target()).is_some()
    }

    fn new_span(&self, _span: &span::Attributes<'_>) -> span::Id {
        // Spans are never enabled (see `enabled`); an id is still required.
        span::Id::from_u64(1)
    }

    fn record(&self, _span: &span::Id, _values: &span::Record<'_>) {}

    fn record_follows_from(&self, _span: &span::Id, _follows: &span::Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut line = Line::default();
        event.record(&mut line);
        line.message.push_str(&line.fields);
        PythonLogging::emit(event.metadata(), &line.message);
    }

    fn enter(&self, _span: &span::Id) {}

    fn exit(&self, _span: &span::Id) {}
}

/// Installs the bridge as the process's `tracing` subscriber, unless the embedding program
/// already installed one (then the events go there).
pub(crate) fn install(py: Python<'_>) {
    refresh(py);
    let _already_set = tracing::subscriber::set_global_default(PythonLogging);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_map_into_the_ferrofish_logger_hierarchy() {
        assert_eq!(
            logger_name("ferrofish_redfish_core::transport::send").as_deref(),
            Some("ferrofish.redfish_core.transport.send")
        );
        assert_eq!(
            logger_name("ferrofish_ipmi::client").as_deref(),
            Some("ferrofish.ipmi.client")
        );
        assert_eq!(
            logger_name("ferrofish::bmc").as_deref(),
            Some("ferrofish.bmc")
        );
        assert_eq!(logger_name("ferrofish").as_deref(), Some("ferrofish"));
        assert_eq!(logger_name("hyper_util::client"), None);
        assert_eq!(logger_name("ferrofishy::x"), None);
    }

    #[test]
    fn levels_map_onto_python_logging() {
        assert_eq!(python_level(Level::WARN), 30);
        assert_eq!(python_level(Level::DEBUG), 10);
        assert_eq!(python_level(Level::TRACE), 5);
    }
}
