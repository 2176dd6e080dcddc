//! `ferrofish.Bmc` and `ferrofish.AsyncBmc`: one BMC over Redfish, IPMI or both, addressed as
//! Metal3 addresses it, and the mapping of the facade's `ferrofish::Error` onto the Python
//! exception classes.
//!
//! Over 600 lines because both faces' `#[pymethods]` (signatures and docstrings) sit next to
//! the `BmcCore` they share and the error mapping's unit tests.

use std::time::Duration;

use ferrofish::redfish::{BootMode, PowerState};
use ferrofish::{
    Bmc, BmcOptions, BootDevice, Capability, Credentials, Error, IpmiOptions, Outcome, PowerAction,
    Protocol,
};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyType};
use secrecy::{SecretSlice, SecretString};

use crate::client::{Verify, seconds, tls_of};
use crate::errors::{
    ClientClosedError, ExceptionClass, ExceptionSpec, Field, InsecureTlsWarning, InvalidInputError,
    build_exception, exception_spec,
};
use crate::ipmi::ipmi_exception_spec;
use crate::models::PyInventory;
use crate::runtime::{Face, check_same_process, drop_in_runtime, run, run_detached, to_none};

/// Decides the Python exception for a facade error: a Redfish error as the Redfish client
/// raises it, anything else by the facade's predicates.
pub(crate) fn facade_exception_spec(error: &Error) -> ExceptionSpec {
    if let Error::Redfish(redfish) = error {
        return exception_spec(redfish);
    }
    // The same class `IpmiClient` raises: an IPMI action that got no answer may have run.
    if let Some(ipmi) = error.ipmi()
        && ipmi.is_outcome_unknown()
    {
        let mut spec = ipmi_exception_spec(ipmi);
        // The whole story, with the Redfish failure of a fallback.
        spec.message = error.to_string();
        return spec;
    }
    let spec = |class, fields| ExceptionSpec {
        class,
        message: error.to_string(),
        fields,
        cause: None,
    };
    match error {
        Error::Unsupported {
            capability,
            protocol,
        } => spec(
            ExceptionClass::UnsupportedOperation,
            vec![
                (
                    "operation",
                    Field::Text(Some(capability.as_str().to_owned())),
                ),
                ("url", Field::Text(None)),
                (
                    "missing",
                    Field::Text(Some(format!("{capability} over {protocol}"))),
                ),
            ],
        ),
        Error::PowerWaitTimeout {
            wanted,
            last,
            after,
        } => spec(
            ExceptionClass::WaitTimeout,
            vec![
                ("url", Field::Text(None)),
                ("timeout", Field::Seconds(after.as_secs_f64())),
                ("what", Field::Text(Some("PowerState".to_owned()))),
                ("wanted", Field::Text(Some(wanted.clone()))),
                ("last", Field::Text(last.clone())),
            ],
        ),
        _ => {
            let class = if error.is_invalid_input() {
                ExceptionClass::InvalidInput
            } else if error.is_auth() {
                ExceptionClass::Authentication
            } else if error.is_timeout() {
                ExceptionClass::BmcTimeout
            } else if error.is_connection() {
                ExceptionClass::BmcConnection
            } else if error.is_closed() {
                ExceptionClass::ClientClosed
            } else if error.is_not_applied() {
                ExceptionClass::NotApplied
            } else if error.is_unsupported() {
                ExceptionClass::UnsupportedOperation
            } else {
                ExceptionClass::Ferrofish
            };
            spec(class, Vec::new())
        }
    }
}

/// Converts a facade error to the matching `ferrofish.exceptions` exception.
pub(crate) fn facade_to_pyerr(py: Python<'_>, error: &Error) -> PyErr {
    build_exception(py, &facade_exception_spec(error)).unwrap_or_else(|failure| failure)
}

fn invalid(message: String) -> PyErr {
    InvalidInputError::new_err(message)
}

fn power_action(action: &str) -> PyResult<PowerAction> {
    Ok(match action.to_ascii_lowercase().as_str() {
        "on" => PowerAction::On,
        "off" => PowerAction::Off,
        "graceful-off" => PowerAction::GracefulOff,
        "cycle" => PowerAction::Cycle,
        "reboot" => PowerAction::Reboot,
        "graceful-reboot" => PowerAction::GracefulReboot,
        _ => {
            return Err(invalid(format!(
                "action must be \"on\", \"off\", \"graceful-off\", \"cycle\", \"reboot\" or \
                 \"graceful-reboot\", not {action:?}"
            )));
        }
    })
}

fn boot_device(device: &str) -> PyResult<BootDevice> {
    Ok(match device.to_ascii_lowercase().as_str() {
        "pxe" => BootDevice::Pxe,
        "disk" => BootDevice::Disk,
        "cdrom" => BootDevice::Cdrom,
        "bios" => BootDevice::BiosSetup,
        "uefi-http" => BootDevice::UefiHttp,
        _ => {
            return Err(invalid(format!(
                "device must be \"pxe\", \"disk\", \"cdrom\", \"bios\" or \"uefi-http\", not \
                 {device:?}"
            )));
        }
    })
}

fn boot_mode(mode: Option<&str>) -> PyResult<Option<BootMode>> {
    match mode.map(str::to_ascii_lowercase).as_deref() {
        None => Ok(None),
        Some("uefi") => Ok(Some(BootMode::Uefi)),
        Some("legacy") => Ok(Some(BootMode::Legacy)),
        Some(_) => Err(invalid(format!(
            "mode must be \"UEFI\", \"Legacy\" or None, not {:?}",
            mode.unwrap_or_default()
        ))),
    }
}

/// What an operation returned and which protocol did it.
#[pyclass(frozen, module = "ferrofish._ferrofish", name = "BmcOutcome")]
pub(crate) struct PyBmcOutcome {
    value: Py<PyAny>,
    via: &'static str,
    fallback_reason: Option<String>,
}

impl PyBmcOutcome {
    fn new<T>(outcome: &Outcome<T>, value: Py<PyAny>) -> PyBmcOutcome {
        PyBmcOutcome {
            value,
            via: outcome.via.as_str(),
            fallback_reason: outcome.fallback_reason.clone(),
        }
    }
}

#[pymethods]
impl PyBmcOutcome {
    /// What the operation returned (`None` for an action).
    #[getter]
    fn value(&self, py: Python<'_>) -> Py<PyAny> {
        self.value.clone_ref(py)
    }

    /// `"redfish"` or `"ipmi"`: the protocol that did it.
    #[getter]
    fn via(&self) -> &'static str {
        self.via
    }

    /// Why Redfish was not used, when IPMI did it on a combined endpoint.
    #[getter]
    fn fallback_reason(&self) -> Option<&str> {
        self.fallback_reason.as_deref()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "BmcOutcome(value={}, via={:?}, fallback_reason={})",
            self.value.bind(py).repr()?,
            self.via,
            match &self.fallback_reason {
                Some(reason) => PyString::new(py, reason).repr()?.to_string(),
                None => "None".to_owned(),
            }
        ))
    }
}

/// What `Bmc` and `AsyncBmc` share: the BMC and the calls, each written once and run through
/// either face (`runtime::Face`).
struct BmcCore {
    /// `None` only while the object is being dropped.
    bmc: Option<Bmc>,
    /// The process that built it (see `runtime` on fork safety).
    pid: u32,
}

impl Drop for BmcCore {
    fn drop(&mut self) {
        // Dropped outside any tokio context by Python's garbage collector; inside the shared
        // runtime the core can still delete an unclosed session in the background.
        if let Some(bmc) = self.bmc.take() {
            drop_in_runtime(self.pid, bmc);
        }
    }
}

impl BmcCore {
    /// Parses the address and builds the clients (the constructor's arguments).
    #[allow(clippy::too_many_arguments)]
    fn connect(
        py: Python<'_>,
        address: &str,
        username: String,
        password: String,
        verify: Verify,
        timeout: f64,
        ipmi_port: Option<u16>,
        ipmi_cipher_suite: Option<u8>,
        ipmi_kg: Option<Vec<u8>>,
        pin: Option<&Bound<'_, PyAny>>,
        quirks: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<BmcCore> {
        let quirks = crate::quirks::override_from::<ferrofish::redfish::QuirksOverride>(
            "Redfish",
            ferrofish::redfish::QUIRK_FIELDS,
            quirks,
        )?;
        if matches!(verify, Verify::Flag(false)) && pin.is_none() {
            let category = py.get_type::<InsecureTlsWarning>();
            PyErr::warn(
                py,
                &category,
                c"TLS verification is disabled (verify=False): anyone on the path to the BMC can \
                  read the credentials",
                1,
            )?;
        }
        let mut options = BmcOptions::default();
        options.tls = tls_of(verify, pin)?;
        options.request_timeout = seconds("timeout", timeout)?;
        options.quirks = quirks;
        if ipmi_port.is_some() || ipmi_cipher_suite.is_some() {
            let mut ipmi = ipmi_port.map_or_else(IpmiOptions::default, IpmiOptions::on_port);
            ipmi.cipher_suite = ipmi_cipher_suite;
            options.ipmi = Some(ipmi);
        }
        let mut credentials = Credentials::new(username, SecretString::from(password));
        if let Some(kg) = ipmi_kg {
            credentials = credentials.with_ipmi_kg(SecretSlice::from(kg));
        }
        let bmc =
            Bmc::connect(address, credentials, options).map_err(|e| facade_to_pyerr(py, &e))?;
        Ok(BmcCore {
            bmc: Some(bmc),
            pid: std::process::id(),
        })
    }

    fn bmc(&self) -> PyResult<Bmc> {
        check_same_process(self.pid, "Bmc")?;
        self.bmc
            .clone()
            .ok_or_else(|| ClientClosedError::new_err("the Bmc is being dropped"))
    }

    /// Runs an operation through `face` and wraps its outcome.
    fn call<'py, T, Fut>(
        &self,
        py: Python<'py>,
        face: Face,
        operation: impl FnOnce(Bmc) -> Fut + Send + 'static,
        value: impl FnOnce(Python<'_>, &T) -> PyResult<Py<PyAny>> + Send + 'static,
    ) -> PyResult<Bound<'py, PyAny>>
    where
        Fut: std::future::Future<Output = Result<Outcome<T>, Error>> + Send + 'static,
        T: Send + 'static,
    {
        let bmc = self.bmc()?;
        run(
            py,
            face,
            move || operation(bmc),
            |py, error: Error| facade_to_pyerr(py, &error),
            move |py, outcome| {
                let value = value(py, &outcome.value)?;
                Ok(Py::new(py, PyBmcOutcome::new(&outcome, value))?.into_any())
            },
        )
    }

    fn address(&self) -> PyResult<String> {
        Ok(self.bmc()?.address().to_string())
    }

    fn capabilities<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let capabilities = self.bmc()?.capabilities();
        let dict = PyDict::new(py);
        for protocol in capabilities.protocols() {
            let names: Vec<&str> = capabilities
                .of(*protocol)
                .iter()
                .map(|c: &Capability| c.as_str())
                .collect();
            dict.set_item(protocol.as_str(), names)?;
        }
        Ok(dict)
    }

    fn power_state<'py>(&self, py: Python<'py>, face: Face) -> PyResult<Bound<'py, PyAny>> {
        self.call(
            py,
            face,
            |bmc| async move { bmc.power_state().await },
            // Enums (ferrofish.enums): the member when the value is known.
            |py, state: &PowerState| {
                Ok(crate::enums::known_value(py, "PowerState", state.as_str())?.unbind())
            },
        )
    }

    fn power<'py>(&self, py: Python<'py>, face: Face, action: &str) -> PyResult<Bound<'py, PyAny>> {
        let action = power_action(action)?;
        self.call(
            py,
            face,
            move |bmc| async move { bmc.power(action).await },
            |py, (): &()| Ok(py.None()),
        )
    }

    fn wait_for_power_state<'py>(
        &self,
        py: Python<'py>,
        face: Face,
        state: &str,
        timeout: f64,
    ) -> PyResult<Bound<'py, PyAny>> {
        if state.trim().is_empty() {
            return Err(invalid("state must not be empty".to_owned()));
        }
        let wanted = PowerState::from(state);
        let timeout: Duration = seconds("timeout", timeout)?;
        self.call(
            py,
            face,
            move |bmc| async move { bmc.wait_for_power_state(wanted, timeout).await },
            |py, (): &()| Ok(py.None()),
        )
    }

    fn set_boot_device<'py>(
        &self,
        py: Python<'py>,
        face: Face,
        device: &str,
        persistent: bool,
        mode: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let device = boot_device(device)?;
        let mode = boot_mode(mode)?;
        self.call(
            py,
            face,
            move |bmc| async move { bmc.set_boot_device(device, persistent, mode).await },
            |py, set| {
                let dict = PyDict::new(py);
                dict.set_item("device", set.device.as_str())?;
                dict.set_item("persistent", set.persistent)?;
                dict.set_item("must_clear_after_boot", set.must_clear_after_boot)?;
                Ok(dict.into_any().unbind())
            },
        )
    }

    fn inventory<'py>(&self, py: Python<'py>, face: Face) -> PyResult<Bound<'py, PyAny>> {
        let bmc = self.bmc()?;
        run(
            py,
            face,
            // Boxed: the inventory future fetches many collections concurrently and is large.
            move || async move { Box::pin(bmc.inventory()).await },
            |py, error: Error| facade_to_pyerr(py, &error),
            |py, inventory| Ok(Py::new(py, PyInventory::from_rust(&inventory)?)?.into_any()),
        )
    }

    fn close<'py>(&self, py: Python<'py>, face: Face) -> PyResult<Bound<'py, PyAny>> {
        let bmc = self.bmc()?;
        // Ctrl-C (or a cancelled task) cannot abort the session deletion half-way.
        run_detached(
            py,
            face,
            move || async move { bmc.close().await },
            |py, error: Option<Error>| match error {
                Some(error) => facade_to_pyerr(py, &error),
                None => PyRuntimeError::new_err("closing the sessions was cancelled"),
            },
            to_none,
        )
    }

    fn repr(&self, py: Python<'_>, class: &str) -> PyResult<String> {
        // The address never carries credentials (the parser refuses user-info).
        let bmc = self.bmc()?;
        let protocols: Vec<&str> = bmc
            .capabilities()
            .protocols()
            .iter()
            .map(|p: &Protocol| p.as_str())
            .collect();
        Ok(format!(
            "{class}(address={}, protocols={protocols:?})",
            PyString::new(py, &bmc.address().to_string()).repr()?
        ))
    }
}

/// One BMC over Redfish, IPMI, or both (a combined endpoint), addressed as Metal3 addresses
/// it. Power and boot device go over Redfish and fall back to IPMI when Redfish is unreachable
/// or broken; every result says which protocol did it. Blocking calls release the GIL.
/// `AsyncBmc` is the asyncio twin.
#[pyclass(frozen, module = "ferrofish._ferrofish", name = "Bmc")]
pub(crate) struct PyBmc {
    core: BmcCore,
}

#[pymethods]
impl PyBmc {
    /// Parses the address and builds the clients; nothing is sent until the first call.
    ///
    /// Args:
    ///     address: `redfish://`, `redfish-virtualmedia://`, `redfish-uefihttp://`,
    ///         `idrac-redfish://`, `idrac-virtualmedia://`, `ilo5-redfish://`,
    ///         `ilo5-virtualmedia://` (each also `+http`/`+https`), `http(s)://`, `ipmi://`
    ///         or a bare `host[:port]` (IPMI), with an optional `/redfish/v1/Systems/<id>`.
    ///     username: the account, for every protocol.
    ///     password: its password; kept in Rust, never shown by `repr` or in errors.
    ///     verify: Redfish certificate check, as for `RedfishClient`.
    ///     timeout: seconds one Redfish request may take.
    ///     ipmi_port: the same host also answers IPMI on this UDP port (a combined endpoint).
    ///     ipmi_cipher_suite: pin IPMI cipher suite 17 or 3.
    ///     ipmi_kg: the IPMI BMC key (Kg), when the BMC has one.
    ///     pin: the BMC's own Redfish certificate (PEM path or text, or its SHA-256
    ///         fingerprint), as for `RedfishClient`.
    ///     quirks: the user's Redfish quirk overrides, as for `RedfishClient(quirks=...)`.
    ///
    /// Raises:
    ///     InvalidInputError: the address or an option is unusable (the message lists the
    ///         accepted schemes).
    #[staticmethod]
    // Spelled out: pyo3 cannot render `verify`'s default, and stubtest compares it.
    #[pyo3(
        text_signature = "(address, *, username, password, verify=True, timeout=60.0, \
        ipmi_port=None, ipmi_cipher_suite=None, ipmi_kg=None, pin=None, quirks=None)"
    )]
    #[pyo3(signature = (
        address,
        *,
        username,
        password,
        verify = Verify::Flag(true),
        timeout = 60.0,
        ipmi_port = None,
        ipmi_cipher_suite = None,
        ipmi_kg = None,
        pin = None,
        quirks = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn connect(
        py: Python<'_>,
        address: &str,
        username: String,
        password: String,
        verify: Verify,
        timeout: f64,
        ipmi_port: Option<u16>,
        ipmi_cipher_suite: Option<u8>,
        ipmi_kg: Option<Vec<u8>>,
        pin: Option<&Bound<'_, PyAny>>,
        quirks: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyBmc> {
        let core = BmcCore::connect(
            py,
            address,
            username,
            password,
            verify,
            timeout,
            ipmi_port,
            ipmi_cipher_suite,
            ipmi_kg,
            pin,
            quirks,
        )?;
        Ok(PyBmc { core })
    }

    /// The address, in its canonical form (`redfish://10.0.0.5/redfish/v1/Systems/1`).
    #[getter]
    fn address(&self) -> PyResult<String> {
        self.core.address()
    }

    /// What each protocol can do: `{"redfish": ["power", "boot-device", ...], "ipmi": [...]}`
    /// for the protocols this BMC is spoken to with, in the order they are tried.
    fn capabilities<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.core.capabilities(py)
    }

    /// The power state (`"On"`, `"Off"`, ...); IPMI reports `"On"` or `"Off"`.
    fn power_state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.core.power_state(py, Face::Blocking)
    }

    /// Sends one power action: `"on"`, `"off"`, `"graceful-off"`, `"cycle"`, `"reboot"` or
    /// `"graceful-reboot"` (Redfish only). Nothing waits for it.
    ///
    /// Raises:
    ///     OutcomeUnknown: IPMI got no answer to the action, which may or may not have run
    ///         (read the state back before sending it again).
    fn power<'py>(&self, py: Python<'py>, action: &str) -> PyResult<Bound<'py, PyAny>> {
        self.core.power(py, Face::Blocking, action)
    }

    /// Polls until the power state is `state` (`"On"` or `"Off"`).
    ///
    /// Raises:
    ///     WaitTimeoutError: not reached within `timeout` seconds (`last` is the last state).
    #[pyo3(signature = (state, *, timeout = 300.0))]
    fn wait_for_power_state<'py>(
        &self,
        py: Python<'py>,
        state: &str,
        timeout: f64,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core
            .wait_for_power_state(py, Face::Blocking, state, timeout)
    }

    /// Sets the next boot device (`"pxe"`, `"disk"`, `"cdrom"`, `"bios"`, `"uefi-http"`),
    /// for every boot when `persistent`. The value is `{"device", "persistent",
    /// "must_clear_after_boot"}`.
    #[pyo3(signature = (device, *, persistent = false, mode = None))]
    fn set_boot_device<'py>(
        &self,
        py: Python<'py>,
        device: &str,
        persistent: bool,
        mode: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core
            .set_boot_device(py, Face::Blocking, device, persistent, mode)
    }

    /// The system's hardware inventory (Redfish only), as `RedfishClient.inventory()`.
    ///
    /// Raises:
    ///     UnsupportedOperation: the BMC is spoken to over IPMI only.
    fn inventory<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.core.inventory(py, Face::Blocking)
    }

    /// Closes the Redfish session and the IPMI session.
    fn close<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.core.close(py, Face::Blocking)
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Closes the BMC; an exception from the `with` body keeps propagating.
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
        self.core.repr(py, "Bmc")
    }
}

/// The asyncio twin of `Bmc`: `AsyncBmc.connect(...)` takes `Bmc.connect`'s arguments, and
/// each method returns an awaitable of what the `Bmc` method returns. Use `async with` so the
/// sessions are closed; closing runs to the end even when the awaiting task is cancelled.
#[pyclass(frozen, module = "ferrofish._ferrofish", name = "AsyncBmc")]
pub(crate) struct PyAsyncBmc {
    core: BmcCore,
}

#[pymethods]
impl PyAsyncBmc {
    /// Parses the address and builds the clients; nothing is sent until the first call (so
    /// this is not awaited). The arguments are `Bmc.connect`'s.
    #[staticmethod]
    // Spelled out: pyo3 cannot render `verify`'s default, and stubtest compares it.
    #[pyo3(
        text_signature = "(address, *, username, password, verify=True, timeout=60.0, \
        ipmi_port=None, ipmi_cipher_suite=None, ipmi_kg=None, pin=None, quirks=None)"
    )]
    #[pyo3(signature = (
        address,
        *,
        username,
        password,
        verify = Verify::Flag(true),
        timeout = 60.0,
        ipmi_port = None,
        ipmi_cipher_suite = None,
        ipmi_kg = None,
        pin = None,
        quirks = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn connect(
        py: Python<'_>,
        address: &str,
        username: String,
        password: String,
        verify: Verify,
        timeout: f64,
        ipmi_port: Option<u16>,
        ipmi_cipher_suite: Option<u8>,
        ipmi_kg: Option<Vec<u8>>,
        pin: Option<&Bound<'_, PyAny>>,
        quirks: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyAsyncBmc> {
        let core = BmcCore::connect(
            py,
            address,
            username,
            password,
            verify,
            timeout,
            ipmi_port,
            ipmi_cipher_suite,
            ipmi_kg,
            pin,
            quirks,
        )?;
        Ok(PyAsyncBmc { core })
    }

    /// The address, in its canonical form.
    #[getter]
    fn address(&self) -> PyResult<String> {
        self.core.address()
    }

    /// What each protocol can do (no I/O: not awaitable).
    fn capabilities<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.core.capabilities(py)
    }

    /// Awaitable `Bmc.power_state()`.
    fn power_state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.core.power_state(py, Face::Awaitable)
    }

    /// Awaitable `Bmc.power(action)`.
    fn power<'py>(&self, py: Python<'py>, action: &str) -> PyResult<Bound<'py, PyAny>> {
        self.core.power(py, Face::Awaitable, action)
    }

    /// Awaitable `Bmc.wait_for_power_state(state, timeout=...)`.
    #[pyo3(signature = (state, *, timeout = 300.0))]
    fn wait_for_power_state<'py>(
        &self,
        py: Python<'py>,
        state: &str,
        timeout: f64,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core
            .wait_for_power_state(py, Face::Awaitable, state, timeout)
    }

    /// Awaitable `Bmc.set_boot_device(device, ...)`.
    #[pyo3(signature = (device, *, persistent = false, mode = None))]
    fn set_boot_device<'py>(
        &self,
        py: Python<'py>,
        device: &str,
        persistent: bool,
        mode: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core
            .set_boot_device(py, Face::Awaitable, device, persistent, mode)
    }

    /// Awaitable `Bmc.inventory()`.
    fn inventory<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.core.inventory(py, Face::Awaitable)
    }

    /// Awaitable `Bmc.close()`.
    fn close<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.core.close(py, Face::Awaitable)
    }

    /// `async with` returns the BMC itself.
    fn __aenter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, PyAny>> {
        let py = slf.py();
        crate::client::ready(py, slf.into_any())
    }

    /// Closes the BMC; an exception from the `async with` body keeps propagating.
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
        self.core.repr(py, "AsyncBmc")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facade_errors_map_onto_the_existing_classes() {
        let address = Error::from(ferrofish::BmcAddress::parse("ftp://bmc").unwrap_err());
        let spec = facade_exception_spec(&address);
        assert_eq!(spec.class, ExceptionClass::InvalidInput);
        assert!(spec.message.contains("accepted:"), "{}", spec.message);

        let unsupported = facade_exception_spec(&Error::Unsupported {
            capability: Capability::Bios,
            protocol: Protocol::Ipmi,
        });
        assert_eq!(unsupported.class, ExceptionClass::UnsupportedOperation);
        assert!(
            unsupported
                .fields
                .contains(&("missing", Field::Text(Some("bios over IPMI".into()))))
        );

        let wait = facade_exception_spec(&Error::PowerWaitTimeout {
            wanted: "On".into(),
            last: Some("Off".into()),
            after: Duration::from_millis(1500),
        });
        assert_eq!(wait.class, ExceptionClass::WaitTimeout);
        assert!(wait.fields.contains(&("timeout", Field::Seconds(1.5))));
        assert!(
            wait.fields
                .contains(&("last", Field::Text(Some("Off".into()))))
        );

        let redfish = facade_exception_spec(&Error::Redfish(ferrofish::redfish::Error::Closed));
        assert_eq!(redfish.class, ExceptionClass::ClientClosed);

        let ipmi_auth =
            facade_exception_spec(&Error::Ipmi(ferrofish::ipmi::Error::Rakp2CheckFailed {
                address: "127.0.0.1:623".into(),
                user: "admin".into(),
            }));
        assert_eq!(ipmi_auth.class, ExceptionClass::Authentication);
        let ipmi_unknown =
            facade_exception_spec(&Error::Ipmi(ferrofish::ipmi::Error::OutcomeUnknown {
                address: "127.0.0.1:623".into(),
                command: "chassis control",
                attempts: 4,
            }));
        // As `IpmiClient` raises it (it was BmcTimeoutError before issue 15).
        assert_eq!(ipmi_unknown.class, ExceptionClass::OutcomeUnknown);
        assert!(
            ipmi_unknown
                .fields
                .contains(&("command", Field::Text(Some("chassis control".into()))))
        );
        assert!(ipmi_unknown.fields.contains(&("attempts", Field::Count(4))));

        // After a Redfish failure too; the message tells both.
        let fallback = facade_exception_spec(&Error::FallbackFailed {
            redfish: Box::new(ferrofish::redfish::Error::Closed),
            ipmi: Box::new(ferrofish::ipmi::Error::OutcomeUnknown {
                address: "127.0.0.1:623".into(),
                command: "chassis control",
                attempts: 4,
            }),
        });
        assert_eq!(fallback.class, ExceptionClass::OutcomeUnknown);
        assert!(
            fallback.message.starts_with("over Redfish: "),
            "{}",
            fallback.message
        );
    }

    #[test]
    fn names_are_checked_before_anything_is_sent() {
        assert_eq!(
            power_action("Graceful-Reboot").unwrap(),
            PowerAction::GracefulReboot
        );
        assert_eq!(boot_device("uefi-http").unwrap(), BootDevice::UefiHttp);
        assert_eq!(boot_mode(Some("uefi")).unwrap(), Some(BootMode::Uefi));
        assert!(power_action("reset").is_err());
        assert!(boot_device("usb").is_err());
        assert!(boot_mode(Some("efi")).is_err());
    }
}
