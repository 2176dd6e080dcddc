//! `ferrofish.RedfishClient` and `ferrofish.AsyncRedfishClient`: the blocking and the asyncio
//! faces of `ferrofish::redfish::RedfishClient`, both over one `ClientCore`.
//!
//! Over 600 lines because the two classes' `#[pymethods]` blocks carry the Python signatures
//! and docstrings of every method twice (pyo3 needs each face spelled out), next to the one
//! implementation they share.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ferrofish::redfish::models::{
    BootMode, BootOverrideEnabled, BootSource, PowerState, ResetType,
};
use ferrofish::redfish::{
    AuthMode, BootOverride, Error, QUIRK_FIELDS, QuirksOverride, RedfishClient, RetryPolicy,
    System, TlsVerification,
};
use pyo3::exceptions::{PyOSError, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyType};
use secrecy::SecretString;
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::convert::{json_to_py, py_to_json};
use crate::errors::{ClientClosedError, InsecureTlsWarning, InvalidInputError, to_pyerr};
use crate::models::{PyBootOverrideOutcome, PyInventory};
use crate::runtime::{Face, check_same_process, drop_in_runtime, run, run_detached, to_none};
use crate::system::Owner;
use crate::vmedia::{PyAsyncVirtualMedia, PyVirtualMedia};

/// Retries after a failed attempt, as in the core's default policy (a test keeps them equal).
const DEFAULT_RETRIES: u32 = 4;

/// The `system=None` default: the one system of the BMC, looked up once per client.
pub(crate) type DefaultSystem = Arc<OnceCell<String>>;

/// The handle on the `system=None` system, opened once per client: a power poll then costs no
/// URL building.
pub(crate) type DefaultHandle = Arc<OnceCell<System>>;

/// The power state of the given system, or of the only one through the client's kept handle.
pub(crate) async fn power_state_of(
    client: &RedfishClient,
    given: Option<String>,
    default: &OnceCell<String>,
    handle: &OnceCell<System>,
) -> Result<Option<PowerState>, CallError> {
    if let Some(system) = given {
        return Ok(client.system(&system).await?.power_state().await?);
    }
    let system = handle
        .get_or_try_init(|| async {
            let id = resolve_system(client, None, default).await?;
            Ok::<_, CallError>(client.system(&id).await?)
        })
        .await?;
    Ok(system.power_state().await?)
}

/// An error of a call that may first have to pick the default system.
pub(crate) enum CallError {
    Redfish(Error),
    /// `system=None` on a BMC with zero or several systems.
    NoSingleSystem(Vec<String>),
}

impl From<Error> for CallError {
    fn from(error: Error) -> CallError {
        CallError::Redfish(error)
    }
}

pub(crate) fn call_error_to_pyerr(py: Python<'_>, error: CallError) -> PyErr {
    match error {
        CallError::Redfish(error) => to_pyerr(py, &error),
        CallError::NoSingleSystem(ids) => {
            InvalidInputError::new_err(no_single_system_message(&ids))
        }
    }
}

/// Why `system=None` cannot pick a system on a BMC listing `ids`.
fn no_single_system_message(ids: &[String]) -> String {
    if ids.is_empty() {
        return "the BMC lists no system".to_owned();
    }
    format!(
        "system=None needs a BMC with exactly one system, this one has {}: {}; pass system=",
        ids.len(),
        ids.join(", ")
    )
}

/// The `system=None` choice: the only system, or the list that makes the choice impossible.
fn single_system(mut ids: Vec<String>) -> Result<String, CallError> {
    if ids.len() == 1 {
        Ok(ids.remove(0))
    } else {
        Err(CallError::NoSingleSystem(ids))
    }
}

/// Picks the system: the one given, or the only one the BMC has (looked up once).
pub(crate) async fn resolve_system(
    client: &RedfishClient,
    given: Option<String>,
    default: &OnceCell<String>,
) -> Result<String, CallError> {
    if let Some(system) = given {
        return Ok(system);
    }
    default
        .get_or_try_init(|| async { single_system(client.system_ids().await?) })
        .await
        .cloned()
}

/// Refuses blank enumeration values before anything is sent.
fn non_blank<'a>(name: &str, value: &'a str) -> PyResult<&'a str> {
    if value.trim().is_empty() {
        return Err(InvalidInputError::new_err(format!(
            "{name} must not be empty"
        )));
    }
    Ok(value)
}

pub(crate) fn seconds(name: &str, value: f64) -> PyResult<Duration> {
    match Duration::try_from_secs_f64(value) {
        Ok(duration) if !duration.is_zero() => Ok(duration),
        _ => Err(InvalidInputError::new_err(format!(
            "{name} must be a positive number of seconds, not {value}"
        ))),
    }
}

/// The `verify=` argument.
#[derive(FromPyObject)]
pub(crate) enum Verify {
    /// `True`: the system trust store; `False`: no verification.
    Flag(bool),
    /// A CA bundle (PEM) file.
    CaBundle(PathBuf),
}

impl Verify {
    pub(crate) fn into_tls(self) -> PyResult<TlsVerification> {
        match self {
            Verify::Flag(true) => Ok(TlsVerification::SystemRoots),
            Verify::Flag(false) => Ok(TlsVerification::DangerAcceptInvalidCerts),
            Verify::CaBundle(path) => match std::fs::read_to_string(&path) {
                Ok(pem) => Ok(TlsVerification::CaBundlePem(pem)),
                // OSError(errno, text, filename) becomes FileNotFoundError, PermissionError, ...
                Err(error) => Err(PyOSError::new_err((
                    error.raw_os_error().unwrap_or(0),
                    format!("cannot read the CA bundle: {error}"),
                    path.to_string_lossy().into_owned(),
                ))),
            },
        }
    }
}

// --- Certificates: pin= ---------------------------------------------------------------------

/// Whether `text` is written as a SHA-256 fingerprint: 64 hex digits, with or without colons.
fn looks_like_sha256_fingerprint(text: &str) -> bool {
    let digits: String = text.trim().chars().filter(|c| *c != ':').collect();
    digits.len() == 64 && digits.chars().all(|c| c.is_ascii_hexdigit())
}

/// The `pin=` argument: the BMC's own certificate as PEM text, the path of a PEM file, or its
/// SHA-256 fingerprint (`sha256:AB:CD:…` or 64 hex digits; several, comma-separated, for a
/// rotation), which the core checks (`TlsVerification::PinnedSha256`).
pub(crate) fn pinned_tls(pin: &Bound<'_, PyAny>) -> PyResult<TlsVerification> {
    if let Ok(text) = pin.cast::<PyString>() {
        let text = text.to_cow()?;
        if text.contains("-----BEGIN") {
            return Ok(TlsVerification::PinnedCertificatePem(text.into_owned()));
        }
        let fingerprints = text.trim();
        let looks_like_fingerprints = fingerprints
            .split(',')
            .all(|one| looks_like_sha256_fingerprint(one.trim().trim_start_matches("sha256:")));
        if looks_like_fingerprints || fingerprints.to_ascii_lowercase().starts_with("sha256:") {
            return Ok(TlsVerification::PinnedSha256(fingerprints.to_owned()));
        }
    }
    let path: PathBuf = pin.extract()?;
    match std::fs::read_to_string(&path) {
        Ok(pem) => Ok(TlsVerification::PinnedCertificatePem(pem)),
        Err(error) => Err(PyOSError::new_err((
            error.raw_os_error().unwrap_or(0),
            format!("cannot read the pinned certificate: {error}"),
            path.to_string_lossy().into_owned(),
        ))),
    }
}

/// The TLS check of `verify=` and `pin=` together: a pin replaces the default `verify=True`
/// and cannot be combined with another `verify=`.
pub(crate) fn tls_of(verify: Verify, pin: Option<&Bound<'_, PyAny>>) -> PyResult<TlsVerification> {
    match (pin, verify) {
        (None, verify) => verify.into_tls(),
        (Some(pin), Verify::Flag(true)) => pinned_tls(pin),
        (Some(_), _) => Err(InvalidInputError::new_err(
            "pass either pin= or verify=, not both: a pinned certificate is the whole check",
        )),
    }
}

fn auth_mode(auth: &str) -> PyResult<AuthMode> {
    match auth.to_ascii_lowercase().as_str() {
        "session" => Ok(AuthMode::Session),
        "basic" => Ok(AuthMode::Basic),
        "auto" => Ok(AuthMode::Auto),
        _ => Err(InvalidInputError::new_err(format!(
            "auth must be \"session\", \"basic\" or \"auto\", not {auth:?}"
        ))),
    }
}

/// What `RedfishClient` and `AsyncRedfishClient` share: the client and the calls, each
/// written once and run through either face (`runtime::Face`).
pub(crate) struct ClientCore {
    /// `None` only while the object is being dropped.
    client: Option<RedfishClient>,
    url: String,
    username: String,
    default_system: DefaultSystem,
    default_handle: DefaultHandle,
    /// The process that built the client (see `runtime` on fork safety).
    pid: u32,
}

impl Drop for ClientCore {
    fn drop(&mut self) {
        // Python's garbage collector drops the client outside any tokio context; inside the
        // shared runtime the core can still delete an unclosed session in the background.
        if let Some(client) = self.client.take() {
            // The kept system handle holds the client too: both are dropped in the runtime (a
            // tuple's fields in order), or whichever goes last could not delete the session.
            let handle = std::mem::take(&mut self.default_handle);
            drop_in_runtime(self.pid, (handle, client));
        }
    }
}

/// Converts an optional power state to its `PowerState` member (or plain `str`), or `None`.
pub(crate) fn power_state_to_py(py: Python<'_>, state: Option<PowerState>) -> PyResult<Py<PyAny>> {
    match state {
        // Enums (ferrofish.enums): the member when the value is known.
        Some(state) => Ok(crate::enums::known_value(py, "PowerState", state.as_str())?.unbind()),
        None => Ok(py.None()),
    }
}

fn json_value_to_py(py: Python<'_>, value: &Value) -> PyResult<Py<PyAny>> {
    Ok(json_to_py(py, value)?.unbind())
}

impl ClientCore {
    /// Builds the client from the constructor's arguments; nothing is sent.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        py: Python<'_>,
        url: &str,
        username: String,
        password: String,
        verify: Verify,
        timeout: f64,
        connect_timeout: f64,
        auth: &str,
        max_concurrent_requests: usize,
        retries: u32,
        pin: Option<&Bound<'_, PyAny>>,
        quirks: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<ClientCore> {
        let quirks =
            crate::quirks::override_from::<QuirksOverride>("Redfish", QUIRK_FIELDS, quirks)?;
        if matches!(verify, Verify::Flag(false)) && pin.is_none() {
            let category = py.get_type::<InsecureTlsWarning>();
            PyErr::warn(
                py,
                &category,
                c"TLS verification is disabled (verify=False): anyone on the path to the BMC can \
                  read the credentials; pass verify=\"ca.pem\" with the BMC's certificate instead",
                // The user's line: the caller of RedfishClient(...) or AsyncRedfishClient(...).
                1,
            )?;
        }
        let password = SecretString::from(password);
        let client = RedfishClient::builder(url)
            .credentials(username.clone(), password)
            .auth(auth_mode(auth)?)
            .tls(tls_of(verify, pin)?)
            .request_timeout(seconds("timeout", timeout)?)
            .connect_timeout(seconds("connect_timeout", connect_timeout)?)
            .max_concurrent_requests(max_concurrent_requests)
            .retry_policy(RetryPolicy {
                max_retries: retries,
                ..RetryPolicy::default()
            })
            .quirks_override(quirks)
            .build()
            .map_err(|error| to_pyerr(py, &error))?;
        let url = client.endpoint().as_str().trim_end_matches('/').to_owned();
        Ok(ClientCore {
            client: Some(client),
            url,
            username,
            default_system: Arc::default(),
            default_handle: Arc::default(),
            pid: std::process::id(),
        })
    }

    pub(crate) fn client(&self) -> PyResult<&RedfishClient> {
        check_same_process(self.pid, "client")?;
        self.client
            .as_ref()
            .ok_or_else(|| ClientClosedError::new_err("the client is being dropped"))
    }

    /// The handle on the `system=None` system, once opened.
    pub(crate) fn default_handle(&self) -> DefaultHandle {
        Arc::clone(&self.default_handle)
    }

    /// The `system=None` choice of this client, shared with the areas built on it (`Bios`).
    pub(crate) fn default_system(&self) -> DefaultSystem {
        Arc::clone(&self.default_system)
    }

    /// Runs one operation on a system (the given one, or the only one).
    fn on_system<'py, T, Fut>(
        &self,
        py: Python<'py>,
        face: Face,
        system: Option<String>,
        operation: impl FnOnce(RedfishClient, String) -> Fut + Send + 'static,
        convert: impl FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
    ) -> PyResult<Bound<'py, PyAny>>
    where
        Fut: Future<Output = Result<T, Error>> + Send + 'static,
        T: Send + 'static,
    {
        let client = self.client()?.clone();
        let default = Arc::clone(&self.default_system);
        run(
            py,
            face,
            move || async move {
                let system = resolve_system(&client, system, &default).await?;
                Ok(operation(client, system).await?)
            },
            call_error_to_pyerr,
            convert,
        )
    }

    /// Runs one operation on the client (also the path of the vendor extensions: `DellOem`).
    pub(crate) fn call<'py, T, Fut>(
        &self,
        py: Python<'py>,
        face: Face,
        operation: impl FnOnce(RedfishClient) -> Fut + Send + 'static,
        convert: impl FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
    ) -> PyResult<Bound<'py, PyAny>>
    where
        Fut: Future<Output = Result<T, Error>> + Send + 'static,
        T: Send + 'static,
    {
        let client = self.client()?.clone();
        run(
            py,
            face,
            move || operation(client),
            |py, error: Error| to_pyerr(py, &error),
            convert,
        )
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    pub(crate) fn username(&self) -> &str {
        &self.username
    }

    pub(crate) fn system_ids<'py>(
        &self,
        py: Python<'py>,
        face: Face,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call(
            py,
            face,
            |client| async move { client.system_ids().await },
            |py, ids: Vec<String>| Ok(PyList::new(py, ids)?.into_any().unbind()),
        )
    }

    /// The quirks in force where they differ from DMTF behaviour, as `inspect --json` prints
    /// them (detection first, then the user's `quirks=`).
    pub(crate) fn quirks<'py>(&self, py: Python<'py>, face: Face) -> PyResult<Bound<'py, PyAny>> {
        self.call(
            py,
            face,
            |client| async move { client.quirks().await },
            |py, quirks: ferrofish::redfish::Quirks| {
                json_value_to_py(py, &Value::Object(quirks.differences_from_default()))
            },
        )
    }

    pub(crate) fn power_state<'py>(
        &self,
        py: Python<'py>,
        face: Face,
        system: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = self.client()?.clone();
        let (default, handle) = (self.default_system(), self.default_handle());
        run(
            py,
            face,
            move || async move { power_state_of(&client, system, &default, &handle).await },
            call_error_to_pyerr,
            power_state_to_py,
        )
    }

    pub(crate) fn reset<'py>(
        &self,
        py: Python<'py>,
        face: Face,
        reset_type: &str,
        system: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let reset_type = ResetType::from(non_blank("reset_type", reset_type)?);
        self.on_system(
            py,
            face,
            system,
            move |client, system| async move { client.reset(&system, reset_type).await },
            to_none,
        )
    }

    pub(crate) fn wait_for_power_state<'py>(
        &self,
        py: Python<'py>,
        face: Face,
        state: &str,
        timeout: f64,
        system: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let state = PowerState::from(non_blank("state", state)?);
        let timeout = seconds("timeout", timeout)?;
        self.on_system(
            py,
            face,
            system,
            move |client, system| async move {
                client.wait_for_power_state(&system, state, timeout).await
            },
            to_none,
        )
    }

    pub(crate) fn set_boot_override<'py>(
        &self,
        py: Python<'py>,
        face: Face,
        target: &str,
        enabled: &str,
        mode: Option<&str>,
        system: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let wanted = BootOverride {
            target: BootSource::from(non_blank("target", target)?),
            enabled: BootOverrideEnabled::from(non_blank("enabled", enabled)?),
            mode: mode
                .map(|mode| non_blank("mode", mode).map(BootMode::from))
                .transpose()?,
        };
        self.on_system(
            py,
            face,
            system,
            move |client, system| async move { client.set_boot_override(&system, wanted).await },
            |py, outcome| Ok(Py::new(py, PyBootOverrideOutcome::from_rust(outcome))?.into_any()),
        )
    }

    pub(crate) fn inventory<'py>(
        &self,
        py: Python<'py>,
        face: Face,
        system: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.on_system(
            py,
            face,
            system,
            |client, system| async move {
                // Boxed: the inventory future fetches many collections concurrently and is large.
                Box::pin(client.inventory(&system)).await
            },
            |py, inventory| Ok(Py::new(py, PyInventory::from_rust(&inventory)?)?.into_any()),
        )
    }

    pub(crate) fn virtual_media<'py>(
        &self,
        py: Python<'py>,
        face: Face,
        system: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.on_system(
            py,
            face,
            system,
            |client, system| async move { client.system(&system).await },
            move |py, system| match face {
                Face::Blocking => Ok(Py::new(py, PyVirtualMedia::new(&system))?.into_any()),
                Face::Awaitable => Ok(Py::new(py, PyAsyncVirtualMedia::new(&system))?.into_any()),
            },
        )
    }

    pub(crate) fn get_json<'py>(
        &self,
        py: Python<'py>,
        face: Face,
        path: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call(
            py,
            face,
            |client| async move { client.get_json(&path).await },
            |py, response| json_value_to_py(py, response.body()),
        )
    }

    pub(crate) fn patch_json<'py>(
        &self,
        py: Python<'py>,
        face: Face,
        path: String,
        body: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let body = py_to_json(body)?;
        self.call(
            py,
            face,
            |client| async move { client.patch_json(&path, &body).await },
            |py, response| json_value_to_py(py, response.body()),
        )
    }

    pub(crate) fn post_json<'py>(
        &self,
        py: Python<'py>,
        face: Face,
        path: String,
        body: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let body = py_to_json(body)?;
        self.call(
            py,
            face,
            |client| async move { client.post_json(&path, &body).await },
            |py, response| json_value_to_py(py, response.body()),
        )
    }

    pub(crate) fn delete<'py>(
        &self,
        py: Python<'py>,
        face: Face,
        path: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call(
            py,
            face,
            |client| async move { client.delete(&path).await.map(|_| ()) },
            to_none,
        )
    }

    pub(crate) fn request_counts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let counts = serde_json::to_value(self.client()?.request_counts()).unwrap_or(Value::Null);
        match &counts {
            Value::Object(map) => crate::convert::map_to_py(py, map),
            _ => Ok(PyDict::new(py)),
        }
    }

    pub(crate) fn reset_request_counts(&self) -> PyResult<()> {
        self.client()?.reset_request_counts();
        Ok(())
    }

    /// Deletes the session; the deletion runs on even when the caller stops waiting.
    pub(crate) fn close<'py>(&self, py: Python<'py>, face: Face) -> PyResult<Bound<'py, PyAny>> {
        let client = self.client()?.clone();
        // Ctrl-C (or cancelling the task) aborts the wait, never the DELETE, so an interrupted
        // close cannot leave the session open on the BMC (the core counts the client as closed
        // from the start and would not retry).
        run_detached(
            py,
            face,
            move || async move { client.close().await },
            |py, error: Option<Error>| match error {
                Some(error) => to_pyerr(py, &error),
                None => PyRuntimeError::new_err("the session deletion was cancelled"),
            },
            to_none,
        )
    }

    fn repr(&self, py: Python<'_>, class: &str) -> PyResult<String> {
        // Never the password or the session token: only what identifies the BMC and account.
        Ok(format!(
            "{class}(url={}, username={})",
            PyString::new(py, &self.url).repr()?,
            PyString::new(py, &self.username).repr()?
        ))
    }
}

/// A Redfish client for one BMC.
///
/// Every method blocks until the BMC answers, with the GIL released so other Python threads
/// keep running. Use it as a context manager, or call `close()`, so the BMC session is deleted.
/// Enumeration values (power states, reset types, boot targets) are the Redfish strings.
/// `AsyncRedfishClient` is the asyncio twin.
#[pyclass(frozen, module = "ferrofish._ferrofish", name = "RedfishClient")]
pub(crate) struct PyRedfishClient {
    core: ClientCore,
}

impl PyRedfishClient {
    /// What the areas built on this client (`Bios`) share with it.
    pub(crate) fn core(&self) -> &ClientCore {
        &self.core
    }
}

#[pymethods]
impl PyRedfishClient {
    /// Creates a client; nothing is sent until the first call.
    ///
    /// Args:
    ///     url: the BMC, `https://host[:port]` (`http://` only when written explicitly).
    ///     username: the account to log in with.
    ///     password: its password; kept in Rust, never shown by `repr` or in errors.
    ///     verify: `True` checks the certificate against the system trust store; a path
    ///         trusts only the CA certificates in that PEM file (the usual answer to a
    ///         self-signed BMC certificate); `False` turns verification off, which lets anyone
    ///         on the path read the credentials, and issues an `InsecureTlsWarning`.
    ///     timeout: seconds one request may take.
    ///     connect_timeout: seconds connecting may take.
    ///     auth: `"auto"` (default: a session, or HTTP Basic when the BMC has no
    ///         SessionService or refuses sessions), `"session"` (sessions only) or `"basic"`.
    ///     max_concurrent_requests: requests in flight to this BMC at once.
    ///     retries: attempts after the first on connection errors and 429/502/503/504
    ///         answers, with exponential backoff; `0` disables retries.
    ///     pin: the BMC's own certificate: a PEM file path, PEM text, or its SHA-256
    ///         fingerprint (`"sha256:AB:CD:…"` or 64 hex digits). The BMC must present exactly
    ///         it; host name, issuer and dates are not checked. The usual answer to a factory
    ///         self-signed certificate that names no address. Replaces `verify`.
    ///     quirks: the user's quirk overrides, applied after vendor detection: switch name to
    ///         value (`{"close_connections": True, "max_sessions": 4}`), `None` keeping what
    ///         detection chose; the names are those of `quirks()` and `docs/quirks.md`.
    ///
    /// Raises:
    ///     ValueError: a `quirks` name is no switch (the message names the closest).
    ///     TypeError: a `quirks` value has the wrong type.
    #[new]
    #[pyo3(
        text_signature = "(url, *, username, password, verify=True, timeout=60.0, \
        connect_timeout=10.0, auth='auto', max_concurrent_requests=5, retries=4, pin=None, \
        quirks=None)"
    )]
    #[pyo3(signature = (
        url,
        *,
        username,
        password,
        verify = Verify::Flag(true),
        timeout = 60.0,
        connect_timeout = 10.0,
        auth = "auto",
        max_concurrent_requests = 5,
        retries = DEFAULT_RETRIES,
        pin = None,
        quirks = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        url: &str,
        username: String,
        password: String,
        verify: Verify,
        timeout: f64,
        connect_timeout: f64,
        auth: &str,
        max_concurrent_requests: usize,
        retries: u32,
        pin: Option<&Bound<'_, PyAny>>,
        quirks: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let core = ClientCore::new(
            py,
            url,
            username,
            password,
            verify,
            timeout,
            connect_timeout,
            auth,
            max_concurrent_requests,
            retries,
            pin,
            quirks,
        )?;
        Ok(PyRedfishClient { core })
    }

    /// The service address, `scheme://host:port`.
    #[getter]
    fn url(&self) -> &str {
        self.core.url()
    }

    /// The account the client logs in with.
    #[getter]
    fn username(&self) -> &str {
        self.core.username()
    }

    /// The `@odata.id` of every system, such as `["/redfish/v1/Systems/1"]`.
    fn system_ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.core.system_ids(py, Face::Blocking)
    }

    /// The quirks in force for this BMC where they differ from DMTF behaviour, by switch name
    /// (`{"close_connections": True, ...}`): what vendor detection chose, then the
    /// constructor's `quirks=`. Reads the service root on first use.
    fn quirks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.core.quirks(py, Face::Blocking)
    }

    /// A handle on one system: its methods are this client's, with `system=` filled in.
    ///
    /// Args:
    ///     id: a system path (`/redfish/v1/Systems/1`) or `Id` (`"1"`); `None` picks the
    ///         BMC's only system.
    ///
    /// Raises:
    ///     InvalidInputError: `id` is `None` and the BMC has no system or several (the
    ///         message lists their paths).
    #[pyo3(signature = (id = None))]
    fn system<'py>(slf: &Bound<'py, Self>, id: Option<String>) -> PyResult<Bound<'py, PyAny>> {
        crate::system::open_system(slf.py(), Owner::Blocking(slf.clone().unbind()), id)
    }

    /// A handle on every member of the Systems collection, as a `list` of `System`.
    fn systems<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        crate::system::open_systems(slf.py(), Owner::Blocking(slf.clone().unbind()))
    }

    /// The system's `PowerState`: a `ferrofish.PowerState` member (equal to `"On"`, `"Off"`,
    /// `"PoweringOn"`, ...), the plain `str` for a value the firmware invented, or `None` when
    /// the BMC does not report it.
    ///
    /// Args:
    ///     system: a system path or `Id`; `None` picks the BMC's only system.
    #[pyo3(signature = (system = None))]
    fn power_state<'py>(
        &self,
        py: Python<'py>,
        system: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core.power_state(py, Face::Blocking, system)
    }

    /// The power state of many BMCs in one call: a `list` in the order of `clients`, each
    /// entry what `power_state()` would return for that client, or the exception it would
    /// raise (an instance, not raised: one BMC's failure does not hide the others').
    ///
    /// The polls run in Rust, at most `max_in_flight` at once, with the GIL released: a
    /// fleet's poll costs about what it costs from Rust, without a thread or a future per BMC.
    ///
    /// Args:
    ///     clients: `RedfishClient` or `AsyncRedfishClient` objects, or `(client, system_id)`
    ///         pairs for BMCs with several systems.
    ///     max_in_flight: the most polls in flight at once.
    ///
    /// Raises:
    ///     TypeError: an entry is not a client or a `(client, system_id)` pair (nothing is sent).
    ///     ValueError: `max_in_flight` is 0.
    #[staticmethod]
    #[pyo3(signature = (clients, *, max_in_flight = 256))]
    fn poll_power_states<'py>(
        py: Python<'py>,
        clients: &Bound<'py, PyAny>,
        max_in_flight: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        crate::poll::poll_power_states(py, Face::Blocking, clients, max_in_flight)
    }

    /// Resets the system, after checking `reset_type` against the values the BMC allows.
    ///
    /// Args:
    ///     reset_type: a Redfish `ResetType`, such as `"On"`, `"ForceOff"`, `"ForceRestart"`.
    ///     system: a system path or `Id`; `None` picks the BMC's only system.
    ///
    /// Raises:
    ///     ValueNotAllowedError: the BMC does not allow this reset type (see `.allowed`).
    #[pyo3(signature = (reset_type, system = None))]
    fn reset<'py>(
        &self,
        py: Python<'py>,
        reset_type: &str,
        system: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core.reset(py, Face::Blocking, reset_type, system)
    }

    /// Waits until the system's `PowerState` is `state`, polling with backoff.
    ///
    /// Raises:
    ///     WaitTimeoutError: the state was not reached within `timeout` seconds.
    #[pyo3(signature = (state, *, timeout = 300.0, system = None))]
    fn wait_for_power_state<'py>(
        &self,
        py: Python<'py>,
        state: &str,
        timeout: f64,
        system: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core
            .wait_for_power_state(py, Face::Blocking, state, timeout, system)
    }

    /// Sets the boot source override, then reads it back.
    ///
    /// Args:
    ///     target: a `BootSourceOverrideTarget`, such as `"Pxe"`, `"Hdd"`, `"Cd"`, `"BiosSetup"`.
    ///     enabled: `"Once"`, `"Continuous"` or `"Disabled"`.
    ///     mode: `"UEFI"` or `"Legacy"`; `None` keeps the current mode.
    ///     system: a system path or `Id`; `None` picks the BMC's only system.
    ///
    /// Returns:
    ///     A `BootOverrideOutcome`: `"applied"`, or `"applied_as_continuous"` when a one-time
    ///     override was stored as `Continuous`; then `must_clear_after_boot` is true and the
    ///     caller must clear the override once the system has booted.
    ///
    /// Raises:
    ///     ValueNotAllowedError: a value is not among the BMC's allowable values.
    ///     NotAppliedError: the BMC accepted the change but reads back something else.
    #[pyo3(signature = (target, *, enabled = "Once", mode = None, system = None))]
    fn set_boot_override<'py>(
        &self,
        py: Python<'py>,
        target: &str,
        enabled: &str,
        mode: Option<&str>,
        system: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core
            .set_boot_override(py, Face::Blocking, target, enabled, mode, system)
    }

    /// The system's hardware inventory: processors, memory, disks, NICs, PCIe devices, boot
    /// mode and secure boot, as one frozen `Inventory`.
    #[pyo3(signature = (system = None))]
    fn inventory<'py>(
        &self,
        py: Python<'py>,
        system: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core.inventory(py, Face::Blocking, system)
    }

    /// The system's virtual media: slots, insert and eject, boot once from an ISO. The
    /// returned object shares this client (its session and counters).
    ///
    /// Args:
    ///     system: a system path or `Id`; `None` picks the BMC's only system.
    #[pyo3(signature = (system = None))]
    fn virtual_media<'py>(
        &self,
        py: Python<'py>,
        system: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core.virtual_media(py, Face::Blocking, system)
    }

    /// GET any Redfish path (`/redfish/v1/...`) of this BMC; returns the JSON as `dict`/`list`.
    fn get_json<'py>(&self, py: Python<'py>, path: String) -> PyResult<Bound<'py, PyAny>> {
        self.core.get_json(py, Face::Blocking, path)
    }

    /// PATCH any Redfish path with a JSON body (`If-Match` from the last GET of that path).
    /// Returns the response body, or `None` when it is empty.
    fn patch_json<'py>(
        &self,
        py: Python<'py>,
        path: String,
        body: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core.patch_json(py, Face::Blocking, path, body)
    }

    /// POST a JSON body to any Redfish path (an action, a collection). Returns the response
    /// body, or `None` when it is empty.
    fn post_json<'py>(
        &self,
        py: Python<'py>,
        path: String,
        body: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core.post_json(py, Face::Blocking, path, body)
    }

    /// DELETE any Redfish path.
    fn delete<'py>(&self, py: Python<'py>, path: String) -> PyResult<Bound<'py, PyAny>> {
        self.core.delete(py, Face::Blocking, path)
    }

    /// Requests sent so far, by method: `{"get": 3, "post": 1, ..., "total": 4}`. Logins and
    /// retries count.
    fn request_counts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.core.request_counts(py)
    }

    /// Sets every request counter back to zero.
    fn reset_request_counts(&self) -> PyResult<()> {
        self.core.reset_request_counts()
    }

    /// Deletes the BMC session. Later calls raise `ClientClosedError`; closing twice is
    /// harmless. Ctrl-C while it waits raises `KeyboardInterrupt` but does not stop the
    /// deletion, which finishes in the background.
    fn close<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.core.close(py, Face::Blocking)
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Closes the client; an exception from the `with` body keeps propagating.
    fn __exit__(
        &self,
        py: Python<'_>,
        _exc_type: Option<&Bound<'_, PyType>>,
        _exc_value: Option<&Bound<'_, PyAny>>,
        _traceback: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        self.core.close(py, Face::Blocking)?;
        Ok(false)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        self.core.repr(py, "RedfishClient")
    }
}

/// The asyncio twin of `RedfishClient`: the same constructor, and each method returns an
/// awaitable of what the `RedfishClient` method returns. Use `async with` (or `await
/// close()`) so the BMC session is deleted; the deletion runs to the end even when the task
/// awaiting it is cancelled. Every client shares one tokio runtime with the blocking classes.
#[pyclass(frozen, module = "ferrofish._ferrofish", name = "AsyncRedfishClient")]
pub(crate) struct PyAsyncRedfishClient {
    core: ClientCore,
}

impl PyAsyncRedfishClient {
    /// What the areas built on this client (`AsyncBios`) share with it.
    pub(crate) fn core(&self) -> &ClientCore {
        &self.core
    }
}

#[pymethods]
impl PyAsyncRedfishClient {
    /// Creates a client; nothing is sent until the first call. The arguments are
    /// `RedfishClient`'s.
    #[new]
    #[pyo3(
        text_signature = "(url, *, username, password, verify=True, timeout=60.0, \
        connect_timeout=10.0, auth='auto', max_concurrent_requests=5, retries=4, pin=None, \
        quirks=None)"
    )]
    #[pyo3(signature = (
        url,
        *,
        username,
        password,
        verify = Verify::Flag(true),
        timeout = 60.0,
        connect_timeout = 10.0,
        auth = "auto",
        max_concurrent_requests = 5,
        retries = DEFAULT_RETRIES,
        pin = None,
        quirks = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        url: &str,
        username: String,
        password: String,
        verify: Verify,
        timeout: f64,
        connect_timeout: f64,
        auth: &str,
        max_concurrent_requests: usize,
        retries: u32,
        pin: Option<&Bound<'_, PyAny>>,
        quirks: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let core = ClientCore::new(
            py,
            url,
            username,
            password,
            verify,
            timeout,
            connect_timeout,
            auth,
            max_concurrent_requests,
            retries,
            pin,
            quirks,
        )?;
        Ok(PyAsyncRedfishClient { core })
    }

    /// The service address, `scheme://host:port`.
    #[getter]
    fn url(&self) -> &str {
        self.core.url()
    }

    /// The account the client logs in with.
    #[getter]
    fn username(&self) -> &str {
        self.core.username()
    }

    /// Awaitable `RedfishClient.system_ids()`.
    fn system_ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.core.system_ids(py, Face::Awaitable)
    }

    /// Awaitable `RedfishClient.quirks()`.
    fn quirks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.core.quirks(py, Face::Awaitable)
    }

    /// Awaitable `RedfishClient.system(id)`: an `AsyncSystem`.
    #[pyo3(signature = (id = None))]
    fn system<'py>(slf: &Bound<'py, Self>, id: Option<String>) -> PyResult<Bound<'py, PyAny>> {
        crate::system::open_system(slf.py(), Owner::Awaitable(slf.clone().unbind()), id)
    }

    /// Awaitable `RedfishClient.systems()`: a `list` of `AsyncSystem`.
    fn systems<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        crate::system::open_systems(slf.py(), Owner::Awaitable(slf.clone().unbind()))
    }

    /// Awaitable `RedfishClient.power_state(system)`.
    #[pyo3(signature = (system = None))]
    fn power_state<'py>(
        &self,
        py: Python<'py>,
        system: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core.power_state(py, Face::Awaitable, system)
    }

    /// Awaitable `RedfishClient.poll_power_states(clients, max_in_flight=...)`.
    #[staticmethod]
    #[pyo3(signature = (clients, *, max_in_flight = 256))]
    fn poll_power_states<'py>(
        py: Python<'py>,
        clients: &Bound<'py, PyAny>,
        max_in_flight: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        crate::poll::poll_power_states(py, Face::Awaitable, clients, max_in_flight)
    }

    /// Awaitable `RedfishClient.reset(reset_type, system)`.
    #[pyo3(signature = (reset_type, system = None))]
    fn reset<'py>(
        &self,
        py: Python<'py>,
        reset_type: &str,
        system: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core.reset(py, Face::Awaitable, reset_type, system)
    }

    /// Awaitable `RedfishClient.wait_for_power_state(state, ...)`.
    #[pyo3(signature = (state, *, timeout = 300.0, system = None))]
    fn wait_for_power_state<'py>(
        &self,
        py: Python<'py>,
        state: &str,
        timeout: f64,
        system: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core
            .wait_for_power_state(py, Face::Awaitable, state, timeout, system)
    }

    /// Awaitable `RedfishClient.set_boot_override(target, ...)`.
    #[pyo3(signature = (target, *, enabled = "Once", mode = None, system = None))]
    fn set_boot_override<'py>(
        &self,
        py: Python<'py>,
        target: &str,
        enabled: &str,
        mode: Option<&str>,
        system: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core
            .set_boot_override(py, Face::Awaitable, target, enabled, mode, system)
    }

    /// Awaitable `RedfishClient.inventory(system)`.
    #[pyo3(signature = (system = None))]
    fn inventory<'py>(
        &self,
        py: Python<'py>,
        system: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core.inventory(py, Face::Awaitable, system)
    }

    /// Awaitable of the system's `AsyncVirtualMedia`.
    #[pyo3(signature = (system = None))]
    fn virtual_media<'py>(
        &self,
        py: Python<'py>,
        system: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core.virtual_media(py, Face::Awaitable, system)
    }

    /// Awaitable `RedfishClient.get_json(path)`.
    fn get_json<'py>(&self, py: Python<'py>, path: String) -> PyResult<Bound<'py, PyAny>> {
        self.core.get_json(py, Face::Awaitable, path)
    }

    /// Awaitable `RedfishClient.patch_json(path, body)`.
    fn patch_json<'py>(
        &self,
        py: Python<'py>,
        path: String,
        body: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core.patch_json(py, Face::Awaitable, path, body)
    }

    /// Awaitable `RedfishClient.post_json(path, body)`.
    fn post_json<'py>(
        &self,
        py: Python<'py>,
        path: String,
        body: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core.post_json(py, Face::Awaitable, path, body)
    }

    /// Awaitable `RedfishClient.delete(path)`.
    fn delete<'py>(&self, py: Python<'py>, path: String) -> PyResult<Bound<'py, PyAny>> {
        self.core.delete(py, Face::Awaitable, path)
    }

    /// Requests sent so far, by method (no I/O: not awaitable).
    fn request_counts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.core.request_counts(py)
    }

    /// Sets every request counter back to zero.
    fn reset_request_counts(&self) -> PyResult<()> {
        self.core.reset_request_counts()
    }

    /// Awaitable `RedfishClient.close()`: deletes the BMC session. Cancelling the awaiting
    /// task does not stop the deletion, which finishes in the background.
    fn close<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.core.close(py, Face::Awaitable)
    }

    /// `async with` returns the client itself.
    fn __aenter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, PyAny>> {
        let py = slf.py();
        ready(py, slf.into_any())
    }

    /// Closes the client; an exception from the `async with` body keeps propagating.
    fn __aexit__<'py>(
        &self,
        py: Python<'py>,
        _exc_type: Option<&Bound<'py, PyAny>>,
        _exc_value: Option<&Bound<'py, PyAny>>,
        _traceback: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        // Awaits None, which is false: the body's exception is not swallowed.
        self.core.close(py, Face::Awaitable)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        self.core.repr(py, "AsyncRedfishClient")
    }
}

/// An awaitable that is already done with `value` (what `__aenter__` returns).
pub(crate) fn ready<'py>(py: Python<'py>, value: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let value = value.unbind();
    crate::runtime::awaitable(
        py,
        move || async move { Ok::<_, PyErr>(value) },
        |_py, error| error,
        |_py, value| Ok(value),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_none_picks_the_only_system_and_refuses_zero_or_several() {
        let one = single_system(vec!["/redfish/v1/Systems/1".to_owned()]);
        assert!(matches!(one, Ok(ref id) if id == "/redfish/v1/Systems/1"));

        let Err(CallError::NoSingleSystem(none)) = single_system(Vec::new()) else {
            panic!("zero systems picked something");
        };
        assert!(none.is_empty());
        assert_eq!(no_single_system_message(&none), "the BMC lists no system");

        let two = vec![
            "/redfish/v1/Systems/1".to_owned(),
            "/redfish/v1/Systems/2".to_owned(),
        ];
        let Err(CallError::NoSingleSystem(listed)) = single_system(two.clone()) else {
            panic!("two systems picked one");
        };
        assert_eq!(listed, two);
        assert_eq!(
            no_single_system_message(&listed),
            "system=None needs a BMC with exactly one system, this one has 2: \
             /redfish/v1/Systems/1, /redfish/v1/Systems/2; pass system="
        );
    }

    #[test]
    fn fingerprints_are_told_apart_from_paths() {
        let hex = "ab".repeat(32);
        assert!(looks_like_sha256_fingerprint(&hex));
        let colons = vec!["AB"; 32].join(":");
        assert!(looks_like_sha256_fingerprint(&colons));
        assert!(!looks_like_sha256_fingerprint("bmc.pem"));
        assert!(!looks_like_sha256_fingerprint(&"ab".repeat(20)));
    }

    #[test]
    fn documented_retry_default_is_the_core_default() {
        assert_eq!(DEFAULT_RETRIES, RetryPolicy::default().max_retries);
    }
}
