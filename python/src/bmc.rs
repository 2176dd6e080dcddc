//! `ferrofish.Bmc`: one BMC over Redfish, IPMI or both, addressed as Metal3 addresses it, and
//! the mapping of the facade's `ferrofish::Error` onto the Python exception classes.

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
use crate::runtime::{block_on, block_on_detached};

/// Decides the Python exception for a facade error: a Redfish error as the Redfish client
/// raises it, anything else by the facade's predicates.
pub(crate) fn facade_exception_spec(error: &Error) -> ExceptionSpec {
    if let Error::Redfish(redfish) = error {
        return exception_spec(redfish);
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

/// One BMC over Redfish, IPMI, or both (a combined endpoint), addressed as Metal3 addresses
/// it. Power and boot device go over Redfish and fall back to IPMI when Redfish is unreachable
/// or broken; every result says which protocol did it. Blocking calls release the GIL.
#[pyclass(frozen, module = "ferrofish._ferrofish", name = "Bmc")]
pub(crate) struct PyBmc {
    /// `None` only while the object is being dropped.
    bmc: Option<Bmc>,
}

impl Drop for PyBmc {
    fn drop(&mut self) {
        // Dropped outside any tokio context by Python's garbage collector; inside the shared
        // runtime the core can still delete an unclosed session in the background.
        if let Some(bmc) = self.bmc.take() {
            let _context = pyo3_async_runtimes::tokio::get_runtime().enter();
            drop(bmc);
        }
    }
}

impl PyBmc {
    fn bmc(&self) -> PyResult<Bmc> {
        self.bmc
            .clone()
            .ok_or_else(|| ClientClosedError::new_err("the Bmc is being dropped"))
    }

    /// Runs an operation with the GIL released and wraps its outcome.
    fn call<T, Fut>(
        &self,
        py: Python<'_>,
        operation: impl FnOnce(Bmc) -> Fut + Send + 'static,
        value: impl FnOnce(Python<'_>, &T) -> PyResult<Py<PyAny>>,
    ) -> PyResult<PyBmcOutcome>
    where
        Fut: std::future::Future<Output = Result<Outcome<T>, Error>> + Send + 'static,
        T: Send + 'static,
    {
        let bmc = self.bmc()?;
        let outcome = block_on(
            py,
            move || operation(bmc),
            |py, error: Error| facade_to_pyerr(py, &error),
        )?;
        let value = value(py, &outcome.value)?;
        Ok(PyBmcOutcome::new(&outcome, value))
    }
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
    ///     pin: the BMC's own Redfish certificate (PEM path or text), as for `RedfishClient`.
    ///
    /// Raises:
    ///     InvalidInputError: the address or an option is unusable (the message lists the
    ///         accepted schemes).
    #[staticmethod]
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
    ) -> PyResult<PyBmc> {
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
        Ok(PyBmc { bmc: Some(bmc) })
    }

    /// The address, in its canonical form (`redfish://10.0.0.5/redfish/v1/Systems/1`).
    #[getter]
    fn address(&self) -> PyResult<String> {
        Ok(self.bmc()?.address().to_string())
    }

    /// What each protocol can do: `{"redfish": ["power", "boot-device", ...], "ipmi": [...]}`
    /// for the protocols this BMC is spoken to with, in the order they are tried.
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

    /// The power state (`"On"`, `"Off"`, ...); IPMI reports `"On"` or `"Off"`.
    fn power_state(&self, py: Python<'_>) -> PyResult<PyBmcOutcome> {
        self.call(
            py,
            |bmc| async move { bmc.power_state().await },
            // Enums (ferrofish.enums): the member when the value is known.
            |py, state: &PowerState| {
                Ok(crate::enums::known_value(py, "PowerState", state.as_str())?.unbind())
            },
        )
    }

    /// Sends one power action: `"on"`, `"off"`, `"graceful-off"`, `"cycle"`, `"reboot"` or
    /// `"graceful-reboot"` (Redfish only). Nothing waits for it.
    fn power(&self, py: Python<'_>, action: &str) -> PyResult<PyBmcOutcome> {
        let action = power_action(action)?;
        self.call(
            py,
            move |bmc| async move { bmc.power(action).await },
            |py, (): &()| Ok(py.None()),
        )
    }

    /// Polls until the power state is `state` (`"On"` or `"Off"`).
    ///
    /// Raises:
    ///     WaitTimeoutError: not reached within `timeout` seconds (`last` is the last state).
    #[pyo3(signature = (state, *, timeout = 300.0))]
    fn wait_for_power_state(
        &self,
        py: Python<'_>,
        state: &str,
        timeout: f64,
    ) -> PyResult<PyBmcOutcome> {
        if state.trim().is_empty() {
            return Err(invalid("state must not be empty".to_owned()));
        }
        let wanted = PowerState::from(state);
        let timeout: Duration = seconds("timeout", timeout)?;
        self.call(
            py,
            move |bmc| async move { bmc.wait_for_power_state(wanted, timeout).await },
            |py, (): &()| Ok(py.None()),
        )
    }

    /// Sets the next boot device (`"pxe"`, `"disk"`, `"cdrom"`, `"bios"`, `"uefi-http"`),
    /// for every boot when `persistent`. The value is `{"device", "persistent",
    /// "must_clear_after_boot"}`.
    #[pyo3(signature = (device, *, persistent = false, mode = None))]
    fn set_boot_device(
        &self,
        py: Python<'_>,
        device: &str,
        persistent: bool,
        mode: Option<&str>,
    ) -> PyResult<PyBmcOutcome> {
        let device = boot_device(device)?;
        let mode = boot_mode(mode)?;
        self.call(
            py,
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

    /// Closes the Redfish session and the IPMI session.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let bmc = self.bmc()?;
        // Ctrl-C cannot abort the session deletion half-way.
        block_on_detached(
            py,
            move || async move { bmc.close().await },
            |py, error: Option<Error>| match error {
                Some(error) => facade_to_pyerr(py, &error),
                None => PyRuntimeError::new_err("closing the sessions was cancelled"),
            },
        )
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
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        // The address never carries credentials (the parser refuses user-info).
        let bmc = self.bmc()?;
        let protocols: Vec<&str> = bmc
            .capabilities()
            .protocols()
            .iter()
            .map(|p: &Protocol| p.as_str())
            .collect();
        Ok(format!(
            "Bmc(address={}, protocols={protocols:?})",
            PyString::new(py, &bmc.address().to_string()).repr()?
        ))
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
        assert_eq!(ipmi_unknown.class, ExceptionClass::BmcTimeout);
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
