//! The one conversion from ferrofish errors to Python exceptions.
//!
//! The exception classes are defined in Python (`ferrofish/exceptions.py`) and imported here.
//! [`exception_spec`] decides the class, message and attributes without touching Python, so the
//! mapping is unit-tested in plain Rust; [`to_pyerr`] only builds the object it describes.
//! Over 600 lines because the one mapping covers every crate bound (Redfish, virtual media),
//! each with its unit tests. The rules and provisioning errors map in `rules.rs` and
//! `provision.rs`, onto the classes declared here.

use std::error::Error as StdError;

use ferrofish::redfish::Error;
use ferrofish::redfish::models::RedfishMessage;
use ferrofish::vmedia::{Error as VmediaError, MediaKind};
use pyo3::exceptions::{PyConnectionError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple, PyType};
use pyo3::{PyTypeInfo, import_exception};

import_exception!(ferrofish.exceptions, FerrofishError);
import_exception!(ferrofish.exceptions, BmcConnectionError);
import_exception!(ferrofish.exceptions, BmcTlsError);
import_exception!(ferrofish.exceptions, BmcTimeoutError);
import_exception!(ferrofish.exceptions, WaitTimeoutError);
import_exception!(ferrofish.exceptions, AuthenticationError);
import_exception!(ferrofish.exceptions, InvalidInputError);
import_exception!(ferrofish.exceptions, ValueNotAllowedError);
import_exception!(ferrofish.exceptions, UnsupportedOperationError);
import_exception!(ferrofish.exceptions, ClientClosedError);
import_exception!(ferrofish.exceptions, RedfishHttpError);
import_exception!(ferrofish.exceptions, NotFoundError);
import_exception!(ferrofish.exceptions, PreconditionFailedError);
import_exception!(ferrofish.exceptions, RedfishDecodeError);
import_exception!(ferrofish.exceptions, OffOriginLinkError);
import_exception!(ferrofish.exceptions, NotAppliedError);
import_exception!(ferrofish.exceptions, InsecureTlsWarning);
// BIOS (ferrofish-bios)
import_exception!(ferrofish.exceptions, BiosValidationError);
import_exception!(ferrofish.exceptions, BiosNotAppliedError);
// Virtual media.
import_exception!(ferrofish.exceptions, VirtualMediaError);
import_exception!(ferrofish.exceptions, NoSlotError);
import_exception!(ferrofish.exceptions, SlotBusyError);
import_exception!(ferrofish.exceptions, ImageUnreachableError);
import_exception!(ferrofish.exceptions, ImageRejectedError);
import_exception!(ferrofish.exceptions, InsertFailedError);
import_exception!(ferrofish.exceptions, NotInsertedError);
import_exception!(ferrofish.exceptions, NotEjectedError);
import_exception!(ferrofish.exceptions, OverrideNotConsumedError);
import_exception!(ferrofish.exceptions, BootNeverStartedError);
import_exception!(ferrofish.exceptions, ConfigDriveError);
import_exception!(ferrofish.exceptions, ImageServerError);
// Inspection rules and provisioning.
import_exception!(ferrofish.exceptions, RuleError);
import_exception!(ferrofish.exceptions, InvalidRulesError);
import_exception!(ferrofish.exceptions, RuleFailedError);
import_exception!(ferrofish.exceptions, ProvisionError);
import_exception!(ferrofish.exceptions, InvalidEventError);
import_exception!(ferrofish.exceptions, InvalidStepError);
import_exception!(ferrofish.exceptions, InvalidDeployError);
import_exception!(ferrofish.exceptions, StaleRevisionError);
import_exception!(ferrofish.exceptions, LeaseHeldError);
import_exception!(ferrofish.exceptions, NodeNotFoundError);
import_exception!(ferrofish.exceptions, AlreadyEnrolledError);
import_exception!(ferrofish.exceptions, StoreError);
import_exception!(ferrofish.exceptions, NodeConnectionError);
// IPMI (IpmiClient).
import_exception!(ferrofish.exceptions, IpmiError);
import_exception!(ferrofish.exceptions, OutcomeUnknown);

/// The Python exception class an error maps to (named as in `ferrofish/exceptions.py`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExceptionClass {
    Ferrofish,
    BmcConnection,
    BmcTls,
    BmcTimeout,
    WaitTimeout,
    Authentication,
    InvalidInput,
    ValueNotAllowed,
    UnsupportedOperation,
    ClientClosed,
    RedfishHttp,
    NotFound,
    PreconditionFailed,
    RedfishDecode,
    OffOriginLink,
    NotApplied,
    // BIOS (ferrofish-bios)
    BiosValidation,
    BiosNotApplied,
    // Virtual media.
    VirtualMedia,
    NoSlot,
    SlotBusy,
    ImageUnreachable,
    ImageRejected,
    InsertFailed,
    NotInserted,
    NotEjected,
    OverrideNotConsumed,
    BootNeverStarted,
    ConfigDrive,
    ImageServer,
    // Inspection rules and provisioning.
    Rule,
    InvalidRules,
    RuleFailed,
    Provision,
    InvalidEvent,
    InvalidStep,
    InvalidDeploy,
    StaleRevision,
    LeaseHeld,
    NodeNotFound,
    AlreadyEnrolled,
    Store,
    NodeConnection,
    // IPMI (IpmiClient).
    Ipmi,
    OutcomeUnknown,
}

impl ExceptionClass {
    fn type_object(self, py: Python<'_>) -> Bound<'_, PyType> {
        match self {
            ExceptionClass::Ferrofish => FerrofishError::type_object(py),
            ExceptionClass::BmcConnection => BmcConnectionError::type_object(py),
            ExceptionClass::BmcTls => BmcTlsError::type_object(py),
            ExceptionClass::BmcTimeout => BmcTimeoutError::type_object(py),
            ExceptionClass::WaitTimeout => WaitTimeoutError::type_object(py),
            ExceptionClass::Authentication => AuthenticationError::type_object(py),
            ExceptionClass::InvalidInput => InvalidInputError::type_object(py),
            ExceptionClass::ValueNotAllowed => ValueNotAllowedError::type_object(py),
            ExceptionClass::UnsupportedOperation => UnsupportedOperationError::type_object(py),
            ExceptionClass::ClientClosed => ClientClosedError::type_object(py),
            ExceptionClass::RedfishHttp => RedfishHttpError::type_object(py),
            ExceptionClass::NotFound => NotFoundError::type_object(py),
            ExceptionClass::PreconditionFailed => PreconditionFailedError::type_object(py),
            ExceptionClass::RedfishDecode => RedfishDecodeError::type_object(py),
            ExceptionClass::OffOriginLink => OffOriginLinkError::type_object(py),
            ExceptionClass::NotApplied => NotAppliedError::type_object(py),
            ExceptionClass::BiosValidation => BiosValidationError::type_object(py),
            ExceptionClass::BiosNotApplied => BiosNotAppliedError::type_object(py),
            // Virtual media.
            ExceptionClass::VirtualMedia => VirtualMediaError::type_object(py),
            ExceptionClass::NoSlot => NoSlotError::type_object(py),
            ExceptionClass::SlotBusy => SlotBusyError::type_object(py),
            ExceptionClass::ImageUnreachable => ImageUnreachableError::type_object(py),
            ExceptionClass::ImageRejected => ImageRejectedError::type_object(py),
            ExceptionClass::InsertFailed => InsertFailedError::type_object(py),
            ExceptionClass::NotInserted => NotInsertedError::type_object(py),
            ExceptionClass::NotEjected => NotEjectedError::type_object(py),
            ExceptionClass::OverrideNotConsumed => OverrideNotConsumedError::type_object(py),
            ExceptionClass::BootNeverStarted => BootNeverStartedError::type_object(py),
            ExceptionClass::ConfigDrive => ConfigDriveError::type_object(py),
            ExceptionClass::ImageServer => ImageServerError::type_object(py),
            // Inspection rules and provisioning.
            ExceptionClass::Rule => RuleError::type_object(py),
            ExceptionClass::InvalidRules => InvalidRulesError::type_object(py),
            ExceptionClass::RuleFailed => RuleFailedError::type_object(py),
            ExceptionClass::Provision => ProvisionError::type_object(py),
            ExceptionClass::InvalidEvent => InvalidEventError::type_object(py),
            ExceptionClass::InvalidStep => InvalidStepError::type_object(py),
            ExceptionClass::InvalidDeploy => InvalidDeployError::type_object(py),
            ExceptionClass::StaleRevision => StaleRevisionError::type_object(py),
            ExceptionClass::LeaseHeld => LeaseHeldError::type_object(py),
            ExceptionClass::NodeNotFound => NodeNotFoundError::type_object(py),
            ExceptionClass::AlreadyEnrolled => AlreadyEnrolledError::type_object(py),
            ExceptionClass::Store => StoreError::type_object(py),
            ExceptionClass::NodeConnection => NodeConnectionError::type_object(py),
            // IPMI (IpmiClient).
            ExceptionClass::Ipmi => IpmiError::type_object(py),
            ExceptionClass::OutcomeUnknown => OutcomeUnknown::type_object(py),
        }
    }
}

/// The value of one keyword argument of an exception class.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Field {
    Text(Option<String>),
    Status(u16),
    Seconds(f64),
    TextList(Vec<String>),
    Messages(Vec<RedfishMessage>),
    Count(u64),
    /// An index or number that may be absent (`None` in Python).
    MaybeCount(Option<u64>),
    /// A tuple of instances of the named `ferrofish.exceptions` class, each built from its
    /// keyword arguments (BIOS problems and attribute outcomes).
    Records(&'static str, Vec<Vec<(&'static str, Field)>>),
}

/// What kind of standard exception the underlying cause becomes (`__cause__`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CauseKind {
    /// A transport failure: `ConnectionError`.
    Connection,
    /// A parse failure: `ValueError`.
    Value,
}

/// Everything needed to raise one exception, decided without Python.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExceptionSpec {
    pub(crate) class: ExceptionClass,
    pub(crate) message: String,
    pub(crate) fields: Vec<(&'static str, Field)>,
    /// The source chain as text, raised as `__cause__`.
    pub(crate) cause: Option<(CauseKind, String)>,
}

fn text(value: &str) -> Field {
    Field::Text(Some(value.to_owned()))
}

/// The `source()` chain below `error`, joined with `": "`.
fn source_chain(error: &(dyn StdError + 'static)) -> String {
    let mut parts = Vec::new();
    let mut next = Some(error);
    while let Some(current) = next {
        parts.push(current.to_string());
        next = current.source();
    }
    parts.join(": ")
}

/// Decides the Python exception for a ferrofish error.
#[allow(
    clippy::too_many_lines,
    reason = "one arm per variant keeps the whole mapping in view"
)]
pub(crate) fn exception_spec(error: &Error) -> ExceptionSpec {
    let message = error.to_string();
    let method = || Field::Text(error.method().map(|m| m.as_str().to_owned()));
    let url = || Field::Text(error.url().map(str::to_owned));
    let cause = error
        .source()
        .map(|source| (CauseKind::Connection, source_chain(source)));
    let spec = |class, fields| ExceptionSpec {
        class,
        message: message.clone(),
        fields,
        cause: None,
    };
    match error {
        Error::Connect { .. } | Error::Transport { .. } => {
            // The core types refused certificates, so no text matching is needed here.
            let class = if error.is_tls_rejected() {
                ExceptionClass::BmcTls
            } else {
                ExceptionClass::BmcConnection
            };
            let mut fields = vec![("method", method()), ("url", url())];
            let mut message = message.clone();
            // Issue 15: why the certificate was refused (a pin mismatch names both
            // fingerprints), as `BmcTlsError.reason` and in the message.
            if class == ExceptionClass::BmcTls {
                let reason = error.tls_rejection_reason();
                if let Some(reason) = &reason {
                    message = format!("{message}: {reason}");
                }
                fields.push(("reason", Field::Text(reason)));
            }
            ExceptionSpec {
                message,
                cause,
                ..spec(class, fields)
            }
        }
        Error::Timeout { after, .. } => spec(
            ExceptionClass::BmcTimeout,
            vec![
                ("method", method()),
                ("url", url()),
                ("timeout", Field::Seconds(after.as_secs_f64())),
            ],
        ),
        Error::WaitTimeout {
            what,
            wanted,
            last,
            after,
            ..
        } => spec(
            ExceptionClass::WaitTimeout,
            vec![
                ("url", url()),
                ("timeout", Field::Seconds(after.as_secs_f64())),
                ("what", text(what)),
                ("wanted", text(wanted)),
                ("last", Field::Text(last.clone())),
            ],
        ),
        Error::Http {
            status, messages, ..
        } => {
            let class = match *status {
                404 => ExceptionClass::NotFound,
                412 => ExceptionClass::PreconditionFailed,
                _ => ExceptionClass::RedfishHttp,
            };
            spec(
                class,
                vec![
                    ("method", method()),
                    ("url", url()),
                    ("status", Field::Status(*status)),
                    ("messages", Field::Messages(messages.clone())),
                ],
            )
        }
        // A full session table is a login refusal too: a Session-mode client cannot log in.
        Error::Authentication {
            status, messages, ..
        }
        | Error::SessionLimit {
            status, messages, ..
        } => spec(
            ExceptionClass::Authentication,
            vec![
                ("url", url()),
                ("status", Field::Status(*status)),
                ("messages", Field::Messages(messages.clone())),
            ],
        ),
        // `SessionCapReached`: no login was sent, the process holds the BMC's known cap.
        Error::SessionTokenMissing { .. } | Error::SessionCapReached { .. } => {
            spec(ExceptionClass::Authentication, vec![("url", url())])
        }
        Error::Decode { path, .. } => ExceptionSpec {
            cause: cause.map(|(_, chain)| (CauseKind::Value, chain)),
            ..spec(
                ExceptionClass::RedfishDecode,
                vec![("url", url()), ("path", text(path))],
            )
        },
        Error::NotAllowed {
            property,
            requested,
            allowed,
        } => spec(
            ExceptionClass::ValueNotAllowed,
            vec![
                ("property", text(property)),
                ("requested", text(requested)),
                ("allowed", Field::TextList(allowed.clone())),
            ],
        ),
        Error::Unsupported {
            operation, missing, ..
        } => spec(
            ExceptionClass::UnsupportedOperation,
            vec![
                ("operation", text(operation)),
                ("url", url()),
                ("missing", text(missing)),
            ],
        ),
        Error::NotApplied {
            property,
            expected,
            actual,
            ..
        } => spec(
            ExceptionClass::NotApplied,
            vec![
                ("url", url()),
                ("property", text(property)),
                ("expected", text(expected)),
                ("actual", Field::Text(actual.clone())),
            ],
        ),
        Error::OffOriginLink { link, origin } => spec(
            ExceptionClass::OffOriginLink,
            vec![("url", text(link)), ("origin", text(origin))],
        ),
        Error::TlsConfig { .. } | Error::ClientBuild { .. } => ExceptionSpec {
            cause: cause.map(|(_, chain)| (CauseKind::Value, chain)),
            ..spec(ExceptionClass::InvalidInput, Vec::new())
        },
        // A system path naming another kind of resource is the caller's mistake too.
        Error::InvalidEndpoint { .. }
        | Error::InvalidPath { .. }
        | Error::WrongResourceType { .. }
        | Error::MissingCredentials => spec(ExceptionClass::InvalidInput, Vec::new()),
        Error::Closed => spec(ExceptionClass::ClientClosed, Vec::new()),
        // A variant added to the core later still raises a FerrofishError with its message.
        _ => spec(ExceptionClass::Ferrofish, Vec::new()),
    }
}

fn message_to_py<'py>(
    message_class: &Bound<'py, PyAny>,
    message: &RedfishMessage,
) -> PyResult<Bound<'py, PyAny>> {
    let kwargs = PyDict::new(message_class.py());
    kwargs.set_item("message_id", message.message_id.as_deref())?;
    kwargs.set_item("message", message.message.as_deref())?;
    kwargs.set_item("resolution", message.resolution.as_deref())?;
    let severity = message
        .message_severity
        .as_ref()
        .or(message.severity.as_ref());
    kwargs.set_item("severity", severity)?;
    kwargs.set_item(
        "message_args",
        PyTuple::new(message_class.py(), &message.message_args)?,
    )?;
    message_class.call((), Some(&kwargs))
}

fn field_to_py<'py>(py: Python<'py>, field: &Field) -> PyResult<Bound<'py, PyAny>> {
    Ok(match field {
        Field::Text(value) => value.as_deref().into_pyobject(py)?.into_any(),
        Field::Status(status) => status.into_pyobject(py)?.into_any(),
        Field::Seconds(seconds) => seconds.into_pyobject(py)?.into_any(),
        Field::TextList(values) => PyTuple::new(py, values)?.into_any(),
        Field::Count(count) => count.into_pyobject(py)?.into_any(),
        Field::MaybeCount(count) => count.into_pyobject(py)?.into_any(),
        Field::Records(class, records) => {
            let class = py.import("ferrofish.exceptions")?.getattr(*class)?;
            let items = records
                .iter()
                .map(|fields| {
                    let kwargs = PyDict::new(py);
                    for (name, field) in fields {
                        kwargs.set_item(*name, field_to_py(py, field)?)?;
                    }
                    class.call((), Some(&kwargs))
                })
                .collect::<PyResult<Vec<_>>>()?;
            PyTuple::new(py, items)?.into_any()
        }
        Field::Messages(messages) => {
            let message_class = py
                .import("ferrofish.exceptions")?
                .getattr("RedfishMessage")?;
            let items = messages
                .iter()
                .map(|message| message_to_py(&message_class, message))
                .collect::<PyResult<Vec<_>>>()?;
            PyTuple::new(py, items)?.into_any()
        }
    })
}

pub(crate) fn build_exception(py: Python<'_>, spec: &ExceptionSpec) -> PyResult<PyErr> {
    let kwargs = PyDict::new(py);
    for (name, field) in &spec.fields {
        kwargs.set_item(*name, field_to_py(py, field)?)?;
    }
    let instance = spec
        .class
        .type_object(py)
        .call((spec.message.as_str(),), Some(&kwargs))?;
    let error = PyErr::from_value(instance);
    if let Some((kind, chain)) = &spec.cause {
        let cause = match kind {
            CauseKind::Connection => PyConnectionError::new_err(chain.clone()),
            CauseKind::Value => PyValueError::new_err(chain.clone()),
        };
        error.set_cause(py, Some(cause));
    }
    Ok(error)
}

// BIOS (ferrofish-bios)

/// One BIOS problem as `ferrofish.exceptions.BiosProblem` takes it: the names to choose from
/// go in `suggestions` (closest names, the spellings of an ambiguous name, the attributes a
/// portable name tried), the allowed values in `allowed`. No value of a password is in it.
fn problem_fields(problem: &ferrofish::bios::Problem) -> Vec<(&'static str, Field)> {
    use ferrofish::bios::ProblemKind;
    let kind = serde_json::to_value(&problem.kind)
        .ok()
        .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_owned));
    let (suggestions, allowed) = match &problem.kind {
        ProblemKind::UnknownName { suggestions } => (suggestions.clone(), Vec::new()),
        ProblemKind::Ambiguous { candidates } => (candidates.clone(), Vec::new()),
        ProblemKind::PortableUnavailable { tried } => (tried.clone(), Vec::new()),
        ProblemKind::NotAllowed { allowed, .. } => (Vec::new(), allowed.clone()),
        _ => (Vec::new(), Vec::new()),
    };
    vec![
        ("name", text(&problem.name)),
        ("kind", Field::Text(kind)),
        ("message", text(&problem.to_string())),
        ("attribute", Field::Text(problem.attribute.clone())),
        ("suggestions", Field::TextList(suggestions)),
        ("allowed", Field::TextList(allowed)),
    ]
}

/// One attribute's outcome as `ferrofish.exceptions.BiosAttributeOutcome` takes it.
fn outcome_fields(outcome: &ferrofish::bios::AttributeOutcome) -> Vec<(&'static str, Field)> {
    use ferrofish::bios::AttributeStatus;
    let (status, message_id, message) = match &outcome.status {
        AttributeStatus::Applied => ("applied", None, None),
        AttributeStatus::StillPending => ("still_pending", None, None),
        AttributeStatus::Rejected {
            message_id,
            message,
        } => ("rejected", message_id.clone(), message.clone()),
        AttributeStatus::NotApplied => ("not_applied", None, None),
        AttributeStatus::Unverifiable => ("unverifiable", None, None),
        // A status added to the crate later is not applied either.
        _ => ("unknown", None, None),
    };
    vec![
        ("name", text(&outcome.name)),
        ("status", text(status)),
        ("message_id", Field::Text(message_id)),
        ("message", Field::Text(message)),
    ]
}

/// Decides the Python exception for a BIOS error; a Redfish error inside maps as any other.
pub(crate) fn bios_exception_spec(error: &ferrofish::bios::BiosError) -> ExceptionSpec {
    use ferrofish::bios::BiosError;
    let message = error.to_string();
    let spec = |class, fields| ExceptionSpec {
        class,
        message: message.clone(),
        fields,
        cause: None,
    };
    match error {
        BiosError::Redfish(inner) => exception_spec(inner),
        BiosError::Invalid { problems } => spec(
            ExceptionClass::BiosValidation,
            vec![(
                "problems",
                Field::Records("BiosProblem", problems.iter().map(problem_fields).collect()),
            )],
        ),
        BiosError::NotApplied { report } => spec(
            ExceptionClass::BiosNotApplied,
            vec![(
                "report",
                Field::Records(
                    "BiosAttributeOutcome",
                    report.attributes.iter().map(outcome_fields).collect(),
                ),
            )],
        ),
        BiosError::FactoryResetNotApplied { report } => spec(
            ExceptionClass::BiosNotApplied,
            vec![
                ("not_default", Field::TextList(report.not_default.clone())),
                ("checked", Field::Count(report.checked as u64)),
            ],
        ),
        BiosError::Malformed { url, json_path, .. } => spec(
            ExceptionClass::RedfishDecode,
            vec![("url", text(url)), ("path", text(json_path))],
        ),
        BiosError::ProfileFormat { .. } => spec(ExceptionClass::InvalidInput, Vec::new()),
        BiosError::NoBios { system } => spec(
            ExceptionClass::UnsupportedOperation,
            vec![
                ("operation", text("bios")),
                ("url", text(system)),
                ("missing", text("Bios")),
            ],
        ),
        _ => spec(ExceptionClass::Ferrofish, Vec::new()),
    }
}

/// Converts a BIOS error to the matching `ferrofish.exceptions` exception.
pub(crate) fn bios_to_pyerr(py: Python<'_>, error: &ferrofish::bios::BiosError) -> PyErr {
    build_exception(py, &bios_exception_spec(error)).unwrap_or_else(|failure| failure)
}

/// Converts a ferrofish error to the matching `ferrofish.exceptions` exception.
pub(crate) fn to_pyerr(py: Python<'_>, error: &Error) -> PyErr {
    // If building the exception itself fails (the package is broken), raise that failure.
    build_exception(py, &exception_spec(error)).unwrap_or_else(|failure| failure)
}

/// Raises the exception `spec` describes (for errors found in the bindings themselves).
pub(crate) fn spec_to_pyerr(py: Python<'_>, spec: &ExceptionSpec) -> PyErr {
    build_exception(py, spec).unwrap_or_else(|failure| failure)
}

// --- Virtual media ------------------------------------------------------------------------

/// `"cd"` or `"usb"`, the `media=` words of the Python API.
pub(crate) fn media_word(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Cd => "cd",
        MediaKind::Removable => "usb",
    }
}

/// Decides the Python exception for a virtual-media error. The crate redacts image URLs in
/// its errors, so the fields carry no token.
pub(crate) fn vmedia_exception_spec(error: &VmediaError) -> ExceptionSpec {
    let spec = |class, fields| ExceptionSpec {
        class,
        message: error.to_string(),
        fields,
        cause: None,
    };
    let config_drive = |document: Option<&str>| {
        spec(
            ExceptionClass::ConfigDrive,
            vec![
                ("document", Field::Text(document.map(str::to_owned))),
                ("path", Field::Text(None)),
            ],
        )
    };
    let server = |address: Option<String>, path: Option<&str>| {
        spec(
            ExceptionClass::ImageServer,
            vec![
                ("address", Field::Text(address)),
                ("path", Field::Text(path.map(str::to_owned))),
            ],
        )
    };
    match error {
        VmediaError::Redfish(error) => exception_spec(error),
        VmediaError::InvalidNetworkData { .. } => config_drive(Some("network_data.json")),
        VmediaError::InvalidMetaData { .. } => config_drive(Some("meta_data.json")),
        VmediaError::Json { what, source } => ExceptionSpec {
            cause: Some((CauseKind::Value, source.to_string())),
            ..config_drive(Some(what))
        },
        VmediaError::InvalidIsoPath { .. } => config_drive(None),
        VmediaError::Bind { addr, .. } => server(Some(addr.to_string()), None),
        VmediaError::Tls(_) => server(None, None),
        VmediaError::ImageSource { path, .. } => server(None, Some(path)),
        VmediaError::InvalidImageName(_)
        | VmediaError::NoPublicHost { .. }
        | VmediaError::InvalidPublicHost { .. } => spec(ExceptionClass::InvalidInput, Vec::new()),
        VmediaError::NoSlot { kind, found } => spec(
            ExceptionClass::NoSlot,
            vec![
                ("media", text(media_word(*kind))),
                ("found", Field::Count(*found as u64)),
            ],
        ),
        VmediaError::SlotBusy {
            slot,
            image,
            reason,
        } => spec(
            ExceptionClass::SlotBusy,
            vec![
                ("slot", text(slot)),
                ("image", text(image)),
                ("bmc_message", text(reason)),
            ],
        ),
        VmediaError::ImageUnreachable { image, bmc_message } => spec(
            ExceptionClass::ImageUnreachable,
            vec![("image", text(image)), ("bmc_message", text(bmc_message))],
        ),
        VmediaError::ImageRejected { image, bmc_message } => spec(
            ExceptionClass::ImageRejected,
            vec![("image", text(image)), ("bmc_message", text(bmc_message))],
        ),
        VmediaError::InsertFailed { first, last } => spec(
            ExceptionClass::InsertFailed,
            vec![("first", text(first)), ("last", text(last))],
        ),
        VmediaError::NotInserted { slot, found } => spec(
            ExceptionClass::NotInserted,
            vec![("slot", text(slot)), ("found", Field::Text(found.clone()))],
        ),
        VmediaError::NotEjected { slot } => {
            spec(ExceptionClass::NotEjected, vec![("slot", text(slot))])
        }
        VmediaError::OverrideNotConsumed { after } => spec(
            ExceptionClass::OverrideNotConsumed,
            vec![("timeout", Field::Seconds(after.as_secs_f64()))],
        ),
        VmediaError::BootNeverStarted { last_state, after } => spec(
            ExceptionClass::BootNeverStarted,
            vec![
                ("timeout", Field::Seconds(after.as_secs_f64())),
                ("last_state", Field::Text(last_state.clone())),
            ],
        ),
        // `IsoWrite`, and a variant added to the crate later, keep their message.
        _ => spec(ExceptionClass::VirtualMedia, Vec::new()),
    }
}

/// Converts a virtual-media error to the matching `ferrofish.exceptions` exception.
pub(crate) fn vmedia_to_pyerr(py: Python<'_>, error: &VmediaError) -> PyErr {
    spec_to_pyerr(py, &vmedia_exception_spec(error))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn not_allowed_becomes_value_not_allowed_with_the_allowed_values() {
        let spec = exception_spec(&Error::NotAllowed {
            property: "ResetType",
            requested: "Nmi".into(),
            allowed: vec!["On".into(), "ForceOff".into()],
        });
        assert_eq!(spec.class, ExceptionClass::ValueNotAllowed);
        assert_eq!(
            spec.fields,
            vec![
                ("property", Field::Text(Some("ResetType".into()))),
                ("requested", Field::Text(Some("Nmi".into()))),
                (
                    "allowed",
                    Field::TextList(vec!["On".into(), "ForceOff".into()])
                ),
            ]
        );
        assert!(
            spec.message.contains("allowed: On, ForceOff"),
            "{}",
            spec.message
        );
        assert!(spec.cause.is_none());
    }

    #[test]
    fn decode_error_names_url_and_path_and_keeps_the_parser_text_as_cause() {
        let source = serde_json::from_str::<u32>("\"ten\"").unwrap_err();
        let spec = exception_spec(&Error::Decode {
            url: "https://bmc/redfish/v1/Systems/1".into(),
            path: "ProcessorSummary.Count".into(),
            source: ferrofish::redfish::DecodeDetail::new(&source),
        });
        assert_eq!(spec.class, ExceptionClass::RedfishDecode);
        assert_eq!(
            spec.fields,
            vec![
                (
                    "url",
                    Field::Text(Some("https://bmc/redfish/v1/Systems/1".into()))
                ),
                ("path", Field::Text(Some("ProcessorSummary.Count".into()))),
            ]
        );
        let (kind, text) = spec.cause.expect("a decode error has a cause");
        assert_eq!(kind, CauseKind::Value);
        assert!(text.contains("invalid type"), "{text}");
    }

    #[test]
    fn wait_timeout_is_a_timeout_with_the_last_state_seen() {
        let spec = exception_spec(&Error::WaitTimeout {
            url: "https://bmc/redfish/v1/Systems/1".into(),
            what: "PowerState",
            wanted: "On".into(),
            last: Some("PoweringOn".into()),
            after: Duration::from_millis(1500),
        });
        assert_eq!(spec.class, ExceptionClass::WaitTimeout);
        assert!(spec.fields.contains(&("timeout", Field::Seconds(1.5))));
        assert!(
            spec.fields
                .contains(&("last", Field::Text(Some("PoweringOn".into()))))
        );
        assert!(
            spec.fields
                .contains(&("wanted", Field::Text(Some("On".into()))))
        );
    }

    #[test]
    fn not_applied_keeps_expected_and_absent_actual() {
        let spec = exception_spec(&Error::NotApplied {
            url: "https://bmc/redfish/v1/Systems/1".into(),
            property: "BootSourceOverrideTarget",
            expected: "Pxe".into(),
            actual: None,
        });
        assert_eq!(spec.class, ExceptionClass::NotApplied);
        assert!(spec.fields.contains(&("actual", Field::Text(None))));
        assert!(
            spec.fields
                .contains(&("expected", Field::Text(Some("Pxe".into()))))
        );
    }

    #[test]
    fn off_origin_link_reports_the_link_as_url() {
        let spec = exception_spec(&Error::OffOriginLink {
            link: "https://evil.example/redfish/v1/Sessions".into(),
            origin: "https://bmc".into(),
        });
        assert_eq!(spec.class, ExceptionClass::OffOriginLink);
        assert_eq!(
            spec.fields,
            vec![
                (
                    "url",
                    Field::Text(Some("https://evil.example/redfish/v1/Sessions".into()))
                ),
                ("origin", Field::Text(Some("https://bmc".into()))),
            ]
        );
    }

    #[test]
    fn caller_mistakes_are_invalid_input_and_closed_is_its_own_class() {
        let invalid = [
            Error::InvalidPath {
                path: "/login.html".into(),
                reason: "not under /redfish/",
            },
            Error::InvalidEndpoint {
                endpoint: "ftp://bmc".into(),
                reason: "bad scheme",
            },
            Error::MissingCredentials,
            Error::WrongResourceType {
                url: "https://bmc/redfish/v1".into(),
                expected: "ComputerSystem",
                found: "ServiceRoot".into(),
            },
        ];
        for error in &invalid {
            assert_eq!(
                exception_spec(error).class,
                ExceptionClass::InvalidInput,
                "{error}"
            );
        }
        assert_eq!(
            exception_spec(&Error::Closed).class,
            ExceptionClass::ClientClosed
        );
        let unsupported = exception_spec(&Error::Unsupported {
            operation: "reset",
            url: "https://bmc/redfish/v1/Systems/1".into(),
            missing: "Actions.#ComputerSystem.Reset",
        });
        assert_eq!(unsupported.class, ExceptionClass::UnsupportedOperation);
        assert!(
            unsupported
                .fields
                .contains(&("operation", Field::Text(Some("reset".into()))))
        );
    }

    // BIOS (ferrofish-bios)

    #[test]
    fn bios_errors_map_to_their_classes_with_problems_report_and_json_path() {
        use ferrofish::bios::{
            ApplyReport, AttributeOutcome, AttributeStatus, BiosError, Problem, ProblemKind,
        };
        let invalid = bios_exception_spec(&BiosError::Invalid {
            problems: vec![Problem {
                name: "BootMod".into(),
                attribute: None,
                kind: ProblemKind::UnknownName {
                    suggestions: vec!["BootMode".into()],
                },
            }],
        });
        assert_eq!(invalid.class, ExceptionClass::BiosValidation);
        let Field::Records("BiosProblem", records) = &invalid.fields[0].1 else {
            panic!("{invalid:?}")
        };
        assert!(records[0].contains(&("kind", Field::Text(Some("unknown_name".into())))));
        assert!(records[0].contains(&("suggestions", Field::TextList(vec!["BootMode".into()]))));
        let not_applied = bios_exception_spec(&BiosError::NotApplied {
            report: ApplyReport {
                attributes: vec![AttributeOutcome {
                    name: "ProcTurboMode".into(),
                    status: AttributeStatus::Rejected {
                        message_id: Some("Base.1.18.PropertyValueNotInList".into()),
                        message: Some("no".into()),
                    },
                }],
                reset: None,
                job: None,
            },
        });
        assert_eq!(not_applied.class, ExceptionClass::BiosNotApplied);
        let Field::Records("BiosAttributeOutcome", outcomes) = &not_applied.fields[0].1 else {
            panic!("{not_applied:?}")
        };
        assert!(outcomes[0].contains(&("status", Field::Text(Some("rejected".into())))));
        assert!(outcomes[0].contains(&(
            "message_id",
            Field::Text(Some("Base.1.18.PropertyValueNotInList".into()))
        )));
        let malformed = bios_exception_spec(&BiosError::Malformed {
            url: "https://bmc/r.json".into(),
            json_path: "$.RegistryEntries".into(),
            reason: "missing".into(),
        });
        assert_eq!(malformed.class, ExceptionClass::RedfishDecode);
        assert!(
            malformed
                .fields
                .contains(&("path", Field::Text(Some("$.RegistryEntries".into()))))
        );
    }

    // --- Virtual media ---

    #[test]
    fn vmedia_errors_map_to_their_classes_with_their_fields() {
        use ferrofish::vmedia::Error as V;
        let unreachable = vmedia_exception_spec(&V::ImageUnreachable {
            image: "http://10.0.0.1:8080/…/boot.iso".into(),
            bmc_message: "The image could not be downloaded (404)".into(),
        });
        assert_eq!(unreachable.class, ExceptionClass::ImageUnreachable);
        assert_eq!(
            unreachable.fields,
            vec![
                ("image", text("http://10.0.0.1:8080/…/boot.iso")),
                (
                    "bmc_message",
                    text("The image could not be downloaded (404)")
                ),
            ]
        );
        let no_slot = vmedia_exception_spec(&V::NoSlot {
            kind: MediaKind::Removable,
            found: 2,
        });
        assert_eq!(no_slot.class, ExceptionClass::NoSlot);
        assert_eq!(
            no_slot.fields,
            vec![("media", text("usb")), ("found", Field::Count(2))]
        );
        let never = vmedia_exception_spec(&V::BootNeverStarted {
            last_state: Some("SystemHardwareInitializationComplete".into()),
            after: Duration::from_secs(30),
        });
        assert_eq!(never.class, ExceptionClass::BootNeverStarted);
        assert!(never.fields.contains(&("timeout", Field::Seconds(30.0))));
        let pending = vmedia_exception_spec(&V::OverrideNotConsumed {
            after: Duration::from_millis(2500),
        });
        assert_eq!(pending.class, ExceptionClass::OverrideNotConsumed);
        assert_eq!(pending.fields, vec![("timeout", Field::Seconds(2.5))]);
        let busy = vmedia_exception_spec(&V::SlotBusy {
            slot: "/redfish/v1/Managers/1/VirtualMedia/CD".into(),
            image: "http://other/…/theirs.iso".into(),
            reason: "in use".into(),
        });
        assert_eq!(busy.class, ExceptionClass::SlotBusy);
        assert!(busy.fields.contains(&("bmc_message", text("in use"))));
    }

    #[test]
    fn vmedia_input_errors_are_value_errors_and_redfish_errors_keep_their_mapping() {
        use ferrofish::vmedia::Error as V;
        let network = vmedia_exception_spec(&V::InvalidNetworkData {
            reason: "vlan id 5000".into(),
        });
        assert_eq!(network.class, ExceptionClass::ConfigDrive);
        assert_eq!(
            network.fields,
            vec![
                ("document", text("network_data.json")),
                ("path", Field::Text(None))
            ]
        );
        assert_eq!(
            vmedia_exception_spec(&V::InvalidImageName("a/b".into())).class,
            ExceptionClass::InvalidInput
        );
        let bind = vmedia_exception_spec(&V::Bind {
            addr: "127.0.0.1:80".parse().unwrap(),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        });
        assert_eq!(bind.class, ExceptionClass::ImageServer);
        assert!(bind.fields.contains(&("address", text("127.0.0.1:80"))));
        let not_found = vmedia_exception_spec(&V::Redfish(Error::Http {
            method: ferrofish::redfish::HttpMethod::Get,
            url: "https://bmc/redfish/v1/Systems/9".into(),
            status: 404,
            messages: Vec::new(),
        }));
        assert_eq!(not_found.class, ExceptionClass::NotFound);
        assert_eq!(
            vmedia_exception_spec(&V::IsoWrite("disk full".into())).class,
            ExceptionClass::VirtualMedia
        );
    }
}
