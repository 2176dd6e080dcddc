//! `ferrofish.IpmiClient`: IPMI v2.0 (RMCP+) for pyghmi and ipmitool users, over
//! `ferrofish::ipmi::IpmiClient`, and the mapping of IPMI errors onto the Python exceptions.
//! Over 600 lines because the client, its two reply classes (`ChassisStatus`, `DeviceId`) and
//! the error mapping are one binding, kept in view together with their unit tests.

use ferrofish::ipmi::{
    BootDevice, BootOptions, ChassisControl, ChassisStatus, CipherSuite, CompletionCode, DeviceId,
    Error, IpmiClient, PowerRestorePolicy,
};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString, PyType};
use secrecy::{SecretSlice, SecretString};

use crate::enums::known_value;
use crate::errors::{
    ClientClosedError, ExceptionClass, ExceptionSpec, Field, InvalidInputError, build_exception,
};
use crate::runtime::{block_on, block_on_detached, check_same_process, drop_in_runtime};

/// The name of a completion code: the Rust variant's (`"InvalidCommand"`), without the byte
/// that `CommandSpecific(0x80)`, `Oem(..)` and `Reserved(..)` carry.
pub(crate) fn completion_code_name(code: CompletionCode) -> String {
    let debug = format!("{code:?}");
    match debug.split_once('(') {
        Some((name, _)) => name.to_owned(),
        None => debug,
    }
}

/// Decides the Python exception for an IPMI error. No variant carries a password or Kg.
pub(crate) fn ipmi_exception_spec(error: &Error) -> ExceptionSpec {
    let spec = |class, fields| ExceptionSpec {
        class,
        message: error.to_string(),
        fields,
        cause: None,
    };
    let address = || Field::Text(error.address().map(str::to_owned));
    if error.is_outcome_unknown() {
        let (command, attempts) = match error {
            Error::OutcomeUnknown {
                command, attempts, ..
            } => (Some((*command).to_owned()), u64::from(*attempts)),
            _ => (None, 0),
        };
        return spec(
            ExceptionClass::OutcomeUnknown,
            vec![
                ("address", address()),
                ("command", Field::Text(command)),
                ("attempts", Field::Count(attempts)),
            ],
        );
    }
    if error.is_invalid_input() {
        return spec(ExceptionClass::InvalidInput, Vec::new());
    }
    if error.is_auth() {
        return spec(ExceptionClass::Authentication, vec![("url", address())]);
    }
    if error.is_timeout() {
        let timeout = match error {
            Error::Timeout { timeout, .. } => Field::Seconds(timeout.as_secs_f64()),
            _ => Field::Text(None),
        };
        return spec(
            ExceptionClass::BmcTimeout,
            vec![("url", address()), ("timeout", timeout)],
        );
    }
    if error.is_connection() {
        return spec(ExceptionClass::BmcConnection, vec![("url", address())]);
    }
    if error.is_closed() {
        return spec(ExceptionClass::ClientClosed, Vec::new());
    }
    let command = match error {
        Error::Command { command, .. } => Field::Text(Some((*command).to_owned())),
        Error::Decode { context, .. } => Field::Text(Some((*context).to_owned())),
        _ => Field::Text(None),
    };
    let code = error.completion_code();
    spec(
        ExceptionClass::Ipmi,
        vec![
            ("address", address()),
            ("command", command),
            (
                "completion_code",
                code.map_or(Field::Text(None), |c| Field::Count(u64::from(c.to_u8()))),
            ),
            (
                "completion_code_name",
                Field::Text(code.map(completion_code_name)),
            ),
        ],
    )
}

/// Converts an IPMI error to the matching `ferrofish.exceptions` exception.
pub(crate) fn ipmi_to_pyerr(py: Python<'_>, error: &Error) -> PyErr {
    build_exception(py, &ipmi_exception_spec(error)).unwrap_or_else(|failure| failure)
}

fn invalid(message: String) -> PyErr {
    InvalidInputError::new_err(message)
}

/// `host` and `port` as the client takes them: `host:port`, `[v6]:port`.
fn host_port(host: &str, port: u16) -> PyResult<String> {
    let host = host.trim();
    if host.is_empty() {
        return Err(invalid("host must not be empty".to_owned()));
    }
    if host.starts_with('[') {
        if !host.ends_with(']') {
            return Err(invalid(format!(
                "host {host:?} is not a bracketed IPv6 address; pass the port as port="
            )));
        }
        return Ok(format!("{host}:{port}"));
    }
    match host.matches(':').count() {
        0 => Ok(format!("{host}:{port}")),
        1 => Err(invalid(format!(
            "host {host:?} contains a port; pass the port as port="
        ))),
        // A bare IPv6 address.
        _ => Ok(format!("[{host}]:{port}")),
    }
}

/// The `cipher_suite=` argument: `"auto"` (17, then 3), or the suite id 17 or 3.
#[derive(FromPyObject)]
enum SuiteArg {
    Id(u8),
    Name(String),
}

fn cipher_suite(arg: SuiteArg) -> PyResult<Option<CipherSuite>> {
    match arg {
        SuiteArg::Name(name) if name.eq_ignore_ascii_case("auto") => Ok(None),
        SuiteArg::Name(name) => Err(invalid(format!(
            "cipher_suite must be \"auto\", 17 or 3, not {name:?}"
        ))),
        SuiteArg::Id(id @ (17 | 3)) => {
            Ok(Some(CipherSuite::from_id(id).map_err(|_| {
                invalid(format!("cipher_suite {id} is not supported"))
            })?))
        }
        // Suite 0 authenticates nobody: never offered from Python.
        SuiteArg::Id(id) => Err(invalid(format!(
            "cipher_suite must be \"auto\", 17 or 3, not {id}"
        ))),
    }
}

/// The `kg=` argument: the BMC key as bytes, or as text (encoded UTF-8, as ipmitool `-k`).
#[derive(FromPyObject)]
enum KgArg {
    Bytes(Vec<u8>),
    Text(String),
}

impl KgArg {
    fn into_secret(self) -> SecretSlice<u8> {
        match self {
            KgArg::Bytes(bytes) => SecretSlice::from(bytes),
            KgArg::Text(text) => SecretSlice::from(text.into_bytes()),
        }
    }
}

/// Boot devices by the names pyghmi and ipmitool use (`network`, `hd`, `optical`, `setup`, ...)
/// and the client's own (`pxe`, `disk`, `cdrom`, `bios`, ...).
fn boot_device(device: &str) -> PyResult<BootDevice> {
    Ok(match device.to_ascii_lowercase().as_str() {
        "pxe" | "network" => BootDevice::Pxe,
        "disk" | "hd" => BootDevice::Disk,
        "safe" | "disk-safe-mode" => BootDevice::DiskSafeMode,
        "diag" | "diagnostic" => BootDevice::Diagnostic,
        "cdrom" | "optical" => BootDevice::Cdrom,
        "bios" | "setup" => BootDevice::BiosSetup,
        "floppy" => BootDevice::Floppy,
        "none" | "default" => BootDevice::NoOverride,
        _ => {
            return Err(invalid(format!(
                "device must be \"pxe\" (\"network\"), \"disk\" (\"hd\"), \"cdrom\" \
                 (\"optical\"), \"bios\" (\"setup\"), \"safe\", \"diag\", \"floppy\" or \"none\" \
                 (\"default\"), not {device:?}"
            )));
        }
    })
}

fn restore_policy_name(policy: PowerRestorePolicy) -> &'static str {
    match policy {
        PowerRestorePolicy::AlwaysOff => "AlwaysOff",
        PowerRestorePolicy::Previous => "Previous",
        PowerRestorePolicy::AlwaysOn => "AlwaysOn",
        PowerRestorePolicy::Unknown => "Unknown",
    }
}

/// The reply to Get Chassis Status.
#[pyclass(
    frozen,
    get_all,
    module = "ferrofish._ferrofish",
    name = "ChassisStatus"
)]
#[allow(clippy::struct_excessive_bools)] // one bool per bit of the reply
pub(crate) struct PyChassisStatus {
    /// System power is on.
    power_on: bool,
    /// A power overload was detected.
    power_overload: bool,
    /// The power interlock is active.
    interlock: bool,
    /// Main power fault.
    power_fault: bool,
    /// Power control fault.
    power_control_fault: bool,
    /// After AC returns: `"AlwaysOff"`, `"Previous"`, `"AlwaysOn"` or `"Unknown"`.
    restore_policy: &'static str,
    /// The last power event byte (bit 0 AC failed, 1 overload, 2 interlock, 3 fault, 4 by IPMI).
    last_power_event: u8,
    /// Miscellaneous state byte (bit 0 intrusion, 1 front panel lockout, 2 drive fault,
    /// 3 cooling fault, 5:4 identify state).
    misc_state: u8,
    /// Front panel button capabilities, when the BMC sends them.
    front_panel: Option<u8>,
}

impl PyChassisStatus {
    fn from_rust(status: &ChassisStatus) -> PyChassisStatus {
        PyChassisStatus {
            power_on: status.power_on,
            power_overload: status.power_overload,
            interlock: status.interlock,
            power_fault: status.power_fault,
            power_control_fault: status.power_control_fault,
            restore_policy: restore_policy_name(status.restore_policy),
            last_power_event: status.last_power_event,
            misc_state: status.misc_state,
            front_panel: status.front_panel,
        }
    }
}

#[pymethods]
impl PyChassisStatus {
    fn __repr__(&self) -> String {
        format!(
            "ChassisStatus(power_on={}, power_fault={}, restore_policy={:?})",
            py_bool(self.power_on),
            py_bool(self.power_fault),
            self.restore_policy
        )
    }
}

fn py_bool(value: bool) -> &'static str {
    if value { "True" } else { "False" }
}

/// The reply to Get Device ID.
#[pyclass(frozen, get_all, module = "ferrofish._ferrofish", name = "DeviceId")]
#[allow(clippy::struct_excessive_bools)] // one bool per bit of the reply
pub(crate) struct PyDeviceId {
    /// Device ID.
    device_id: u8,
    /// Device revision.
    device_revision: u8,
    /// The device provides device SDRs.
    provides_device_sdrs: bool,
    /// Firmware major revision.
    firmware_major: u8,
    /// Firmware minor revision (decoded from BCD).
    firmware_minor: u8,
    /// False while the device updates its firmware or initializes itself.
    device_available: bool,
    /// IPMI version as `(major, minor)`, such as `(2, 0)`.
    ipmi_version: (u8, u8),
    /// Additional device support bits (7 chassis, 6 bridge, ..., 0 sensor).
    additional_device_support: u8,
    /// IANA manufacturer ID (20 bits).
    manufacturer_id: u32,
    /// Product ID.
    product_id: u16,
    /// The four auxiliary firmware revision bytes, when the BMC sends them.
    aux_firmware_revision: Option<[u8; 4]>,
}

impl PyDeviceId {
    fn from_rust(id: &DeviceId) -> PyDeviceId {
        PyDeviceId {
            device_id: id.device_id,
            device_revision: id.device_revision,
            provides_device_sdrs: id.provides_device_sdrs,
            firmware_major: id.firmware_major,
            firmware_minor: id.firmware_minor,
            device_available: id.device_available,
            ipmi_version: id.ipmi_version,
            additional_device_support: id.additional_device_support,
            manufacturer_id: id.manufacturer_id,
            product_id: id.product_id,
            aux_firmware_revision: id.aux_firmware_revision,
        }
    }
}

#[pymethods]
impl PyDeviceId {
    /// The firmware revision as ipmitool prints it, such as `"9.08"`.
    #[getter]
    fn firmware_revision(&self) -> String {
        format!("{}.{:02}", self.firmware_major, self.firmware_minor)
    }

    fn __repr__(&self) -> String {
        format!(
            "DeviceId(manufacturer_id={:#x}, product_id={:#x}, firmware_revision={:?}, \
             ipmi_version=({}, {}))",
            self.manufacturer_id,
            self.product_id,
            self.firmware_revision(),
            self.ipmi_version.0,
            self.ipmi_version.1
        )
    }
}

/// An IPMI v2.0 (RMCP+) client for one BMC, for pyghmi and ipmitool users.
///
/// One session is opened on the first call and reused; `close()` (or the `with` block) ends it.
/// Every method blocks until the BMC answers, with the GIL released.
#[pyclass(frozen, module = "ferrofish._ferrofish", name = "IpmiClient")]
pub(crate) struct PyIpmiClient {
    /// `None` only while the object is being dropped.
    client: Option<IpmiClient>,
    username: String,
    /// The process that built it (see `runtime` on fork safety).
    pid: u32,
}

impl Drop for PyIpmiClient {
    fn drop(&mut self) {
        // The client sends Close Session for an open session when dropped; give it the runtime
        // (in a forked child, the session is the parent's: nothing is sent).
        if let Some(client) = self.client.take() {
            drop_in_runtime(self.pid, client);
        }
    }
}

impl PyIpmiClient {
    fn client(&self) -> PyResult<IpmiClient> {
        check_same_process(self.pid, "IpmiClient")?;
        self.client
            .clone()
            .ok_or_else(|| ClientClosedError::new_err("the IpmiClient is being dropped"))
    }

    /// Runs one operation with the GIL released.
    fn call<T, Fut>(
        &self,
        py: Python<'_>,
        operation: impl FnOnce(IpmiClient) -> Fut + Send + 'static,
    ) -> PyResult<T>
    where
        Fut: std::future::Future<Output = Result<T, Error>> + Send + 'static,
        T: Send + 'static,
    {
        let client = self.client()?;
        block_on(
            py,
            move || operation(client),
            |py, error: Error| ipmi_to_pyerr(py, &error),
        )
    }

    fn control(&self, py: Python<'_>, action: ChassisControl) -> PyResult<()> {
        self.call(py, move |client| async move {
            client.chassis_control(action).await
        })
    }
}

#[pymethods]
impl PyIpmiClient {
    /// Creates a client; nothing is sent until the first call.
    ///
    /// Args:
    ///     host: the BMC's name or address (IPv6 bare or in brackets), without a port.
    ///     username: the IPMI user.
    ///     password: its password (at most 20 bytes); kept in Rust, never shown by `repr`, in
    ///         errors or in log records.
    ///     kg: the BMC key, as bytes or text, when the BMC has one; never shown either.
    ///     port: the UDP port.
    ///     cipher_suite: `"auto"` (17, then 3 when the BMC refuses 17, as pyghmi does), or
    ///         17 or 3 alone. Suite 0 (no authentication) is refused.
    ///     timeout: seconds to wait for each reply before sending the request again.
    ///     retries: times a request is sent again after the first.
    ///
    /// Raises:
    ///     InvalidInputError: an argument is unusable; nothing was sent.
    #[new]
    #[pyo3(signature = (
        host,
        *,
        username,
        password,
        kg = None,
        port = 623,
        cipher_suite = SuiteArg::Name("auto".to_owned()),
        timeout = 1.0,
        retries = 3,
    ))]
    #[pyo3(text_signature = "(host, *, username, password, kg=None, port=623, \
        cipher_suite='auto', timeout=1.0, retries=3)")]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        host: &str,
        username: String,
        password: String,
        kg: Option<KgArg>,
        port: u16,
        cipher_suite: SuiteArg,
        timeout: f64,
        retries: u32,
    ) -> PyResult<Self> {
        let address = host_port(host, port)?;
        let mut builder = IpmiClient::builder(address)
            .credentials(username.clone(), SecretString::from(password))
            .timeout(crate::client::seconds("timeout", timeout)?)
            .retries(retries);
        if let Some(suite) = self::cipher_suite(cipher_suite)? {
            builder = builder.cipher_suite(suite);
        }
        if let Some(kg) = kg {
            builder = builder.kg(kg.into_secret());
        }
        let client = builder.build().map_err(|error| ipmi_to_pyerr(py, &error))?;
        Ok(PyIpmiClient {
            client: Some(client),
            username,
            pid: std::process::id(),
        })
    }

    /// The BMC as `host:port`.
    #[getter]
    fn address(&self) -> PyResult<String> {
        Ok(self.client()?.address().to_owned())
    }

    /// The IPMI user.
    #[getter]
    fn username(&self) -> &str {
        &self.username
    }

    /// `PowerState.On` or `PowerState.Off` (equal to `"On"` / `"Off"`), from Get Chassis Status.
    fn power_state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let status = self.call(py, |client| async move { client.chassis_status().await })?;
        known_value(py, "PowerState", if status.power_on { "On" } else { "Off" })
    }

    /// Powers on (Chassis Control 01h).
    ///
    /// Raises:
    ///     OutcomeUnknown: the BMC stopped answering; it may have run the command or not.
    fn power_on(&self, py: Python<'_>) -> PyResult<()> {
        self.control(py, ChassisControl::PowerOn)
    }

    /// Powers off at once, without telling the operating system (Chassis Control 00h).
    fn power_off(&self, py: Python<'_>) -> PyResult<()> {
        self.control(py, ChassisControl::PowerOff)
    }

    /// Powers off, waits, powers on (Chassis Control 02h).
    fn power_cycle(&self, py: Python<'_>) -> PyResult<()> {
        self.control(py, ChassisControl::PowerCycle)
    }

    /// Hard reset (Chassis Control 03h).
    fn power_reset(&self, py: Python<'_>) -> PyResult<()> {
        self.control(py, ChassisControl::HardReset)
    }

    /// Asks the operating system to shut down (ACPI soft off, Chassis Control 05h).
    fn power_soft(&self, py: Python<'_>) -> PyResult<()> {
        self.control(py, ChassisControl::SoftOff)
    }

    /// Sets the boot device override, then reads it back.
    ///
    /// Args:
    ///     device: `"pxe"` (or `"network"`), `"disk"` (`"hd"`), `"cdrom"` (`"optical"`),
    ///         `"bios"` (`"setup"`), `"safe"`, `"diag"`, `"floppy"` or `"none"` (`"default"`).
    ///     persistent: for every boot, not only the next one.
    ///     uefi: ask for an EFI boot.
    ///
    /// Returns:
    ///     The device the BMC reads back, in the names above (`"pxe"`, `"disk"`, ...).
    ///
    /// Raises:
    ///     IpmiError: the BMC refused it, or reads back another device.
    #[pyo3(signature = (device, persistent = false, uefi = false))]
    fn set_boot_device(
        &self,
        py: Python<'_>,
        device: &str,
        persistent: bool,
        uefi: bool,
    ) -> PyResult<String> {
        let device = boot_device(device)?;
        let options = BootOptions {
            persistent,
            efi: uefi,
        };
        let flags = self.call(py, move |client| async move {
            client.set_boot_device(device, options).await
        })?;
        Ok(flags.device.to_string())
    }

    /// Get Chassis Status.
    fn chassis_status(&self, py: Python<'_>) -> PyResult<PyChassisStatus> {
        let status = self.call(py, |client| async move { client.chassis_status().await })?;
        Ok(PyChassisStatus::from_rust(&status))
    }

    /// Get Device ID.
    fn device_id(&self, py: Python<'_>) -> PyResult<PyDeviceId> {
        let id = self.call(py, |client| async move { client.device_id().await })?;
        Ok(PyDeviceId::from_rust(&id))
    }

    /// Sends any request, as `ipmitool raw NETFN CMD DATA...` does, and returns the reply's
    /// data (after the completion code).
    ///
    /// The request is never sent again in a new session: if the BMC stops answering,
    /// `OutcomeUnknown` is raised.
    ///
    /// Args:
    ///     netfn: the request network function (at most 0x3f).
    ///     cmd: the command byte.
    ///     data: the request data.
    ///
    /// Raises:
    ///     IpmiError: the reply's completion code is not 0 (`completion_code` has it).
    #[pyo3(signature = (netfn, cmd, data = b"".to_vec()))]
    #[pyo3(text_signature = "($self, netfn, cmd, data=b'')")]
    fn raw<'py>(
        &self,
        py: Python<'py>,
        netfn: u8,
        cmd: u8,
        data: Vec<u8>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let response = self.call(py, move |client| async move {
            client.raw(netfn, cmd, data).await
        })?;
        if response.completion_code != 0 {
            let code = CompletionCode::from_u8(response.completion_code);
            let address = self.client()?.address().to_owned();
            return Err(ipmi_to_pyerr(
                py,
                &Error::Command {
                    address,
                    command: "raw request",
                    code,
                },
            ));
        }
        Ok(PyBytes::new(py, &response.data))
    }

    /// Traffic so far: `{"round_trips", "datagrams_sent", "retransmissions",
    /// "sessions_opened"}`.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let stats = self.client()?.stats();
        let dict = PyDict::new(py);
        dict.set_item("round_trips", stats.round_trips)?;
        dict.set_item("datagrams_sent", stats.datagrams_sent)?;
        dict.set_item("retransmissions", stats.retransmissions)?;
        dict.set_item("sessions_opened", stats.sessions_opened)?;
        Ok(dict)
    }

    /// Closes the session. Later calls raise `ClientClosedError`; closing twice is harmless.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let client = self.client()?;
        block_on_detached(
            py,
            move || async move { client.close().await },
            |py, error: Option<Error>| match error {
                Some(error) => ipmi_to_pyerr(py, &error),
                None => PyRuntimeError::new_err("closing the IPMI session was cancelled"),
            },
        )
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
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        // Never the password or the Kg.
        Ok(format!(
            "IpmiClient(address={}, username={})",
            PyString::new(py, &self.address()?).repr()?,
            PyString::new(py, &self.username).repr()?
        ))
    }
}

/// Adds the IPMI classes to the module.
pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyIpmiClient>()?;
    module.add_class::<PyChassisStatus>()?;
    module.add_class::<PyDeviceId>()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port_combine_and_a_port_in_the_host_is_refused() {
        assert_eq!(host_port("10.0.0.5", 623).unwrap(), "10.0.0.5:623");
        assert_eq!(host_port("bmc.example", 6230).unwrap(), "bmc.example:6230");
        assert_eq!(host_port("fe80::1", 623).unwrap(), "[fe80::1]:623");
        assert_eq!(host_port("[fe80::1]", 624).unwrap(), "[fe80::1]:624");
        assert!(host_port("10.0.0.5:624", 623).is_err());
        assert!(host_port("  ", 623).is_err());
    }

    #[test]
    fn completion_codes_are_named_as_the_rust_variants() {
        assert_eq!(
            completion_code_name(CompletionCode::from_u8(0xC1)),
            "InvalidCommand"
        );
        assert_eq!(
            completion_code_name(CompletionCode::from_u8(0x80)),
            "CommandSpecific"
        );
    }

    #[test]
    fn ipmi_errors_map_to_their_classes() {
        let command = ipmi_exception_spec(&Error::Command {
            address: "127.0.0.1:623".into(),
            command: "chassis control",
            code: CompletionCode::from_u8(0xD4),
        });
        assert_eq!(command.class, ExceptionClass::Ipmi);
        assert!(
            command
                .fields
                .contains(&("completion_code", Field::Count(0xD4)))
        );
        assert!(command.fields.contains(&(
            "completion_code_name",
            Field::Text(Some("InsufficientPrivilege".into()))
        )));
        let unknown = ipmi_exception_spec(&Error::OutcomeUnknown {
            address: "127.0.0.1:623".into(),
            command: "chassis control",
            attempts: 4,
        });
        assert_eq!(unknown.class, ExceptionClass::OutcomeUnknown);
        assert!(unknown.fields.contains(&("attempts", Field::Count(4))));
        let auth = ipmi_exception_spec(&Error::Rakp2CheckFailed {
            address: "127.0.0.1:623".into(),
            user: "admin".into(),
        });
        assert_eq!(auth.class, ExceptionClass::Authentication);
        assert_eq!(
            ipmi_exception_spec(&Error::CipherSuiteZeroRefused).class,
            ExceptionClass::InvalidInput
        );
    }
}
