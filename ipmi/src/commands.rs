//! Typed IPMI commands: one request type and one response type each, pure encode/parse.
//!
//! Use them through [`crate::IpmiClient`]'s methods, or send any [`Command`] with
//! [`crate::IpmiClient::execute`].
//!
//! Longer than 600 lines on purpose: one short section per command, all of the same shape
//! (request bytes, reply parser); splitting them would scatter the byte-level formats.

use crate::wire::{DecodeError, Privilege};

/// Network function codes (requests; the response is one more).
pub mod net_fn {
    /// Chassis.
    pub const CHASSIS: u8 = 0x00;
    /// Application.
    pub const APP: u8 = 0x06;
}

/// An IPMI completion code (Table 5-2) with its meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CompletionCode {
    /// 00h: command completed normally.
    Success,
    /// C0h: node busy.
    NodeBusy,
    /// C1h: invalid command.
    InvalidCommand,
    /// C2h: command invalid for the given LUN.
    InvalidForLun,
    /// C3h: timeout while processing the command.
    Timeout,
    /// C4h: out of space.
    OutOfSpace,
    /// C5h: reservation canceled or invalid reservation ID.
    ReservationCanceled,
    /// C6h: request data truncated.
    RequestTruncated,
    /// C7h: request data length invalid.
    RequestLengthInvalid,
    /// C8h: request data field length limit exceeded.
    RequestTooLong,
    /// C9h: parameter out of range.
    ParameterOutOfRange,
    /// 0xCA: cannot return the number of requested data bytes.
    CannotReturnRequestedBytes,
    /// 0xCB: requested sensor, data or record not present.
    NotPresent,
    /// 0xCC: invalid data field in request.
    InvalidDataField,
    /// 0xCD: command illegal for the specified sensor or record type.
    IllegalForSensorOrRecord,
    /// 0xCE: command response could not be provided.
    CannotProvideResponse,
    /// 0xCF: cannot execute a duplicated request.
    DuplicateRequest,
    /// D0h: SDR repository in update mode.
    SdrInUpdateMode,
    /// D1h: device in firmware update mode.
    FirmwareUpdateMode,
    /// D2h: BMC initialization in progress.
    InitializationInProgress,
    /// D3h: destination unavailable.
    DestinationUnavailable,
    /// D4h: insufficient privilege level.
    InsufficientPrivilege,
    /// D5h: not supported in present state.
    NotSupportedInPresentState,
    /// D6h: sub-function disabled or unavailable.
    SubFunctionDisabled,
    /// 0xFF: unspecified error.
    Unspecified,
    /// 80h–BEh: command-specific code (see the command's section of the spec).
    CommandSpecific(u8),
    /// 01h–7Eh: OEM code.
    Oem(u8),
    /// Any other (reserved) value.
    Reserved(u8),
}

impl CompletionCode {
    /// Decode a completion code byte.
    pub fn from_u8(v: u8) -> Self {
        match v {
            0x00 => Self::Success,
            0xC0 => Self::NodeBusy,
            0xC1 => Self::InvalidCommand,
            0xC2 => Self::InvalidForLun,
            0xC3 => Self::Timeout,
            0xC4 => Self::OutOfSpace,
            0xC5 => Self::ReservationCanceled,
            0xC6 => Self::RequestTruncated,
            0xC7 => Self::RequestLengthInvalid,
            0xC8 => Self::RequestTooLong,
            0xC9 => Self::ParameterOutOfRange,
            0xCA => Self::CannotReturnRequestedBytes,
            0xCB => Self::NotPresent,
            0xCC => Self::InvalidDataField,
            0xCD => Self::IllegalForSensorOrRecord,
            0xCE => Self::CannotProvideResponse,
            0xCF => Self::DuplicateRequest,
            0xD0 => Self::SdrInUpdateMode,
            0xD1 => Self::FirmwareUpdateMode,
            0xD2 => Self::InitializationInProgress,
            0xD3 => Self::DestinationUnavailable,
            0xD4 => Self::InsufficientPrivilege,
            0xD5 => Self::NotSupportedInPresentState,
            0xD6 => Self::SubFunctionDisabled,
            0xFF => Self::Unspecified,
            0x80..=0xBE => Self::CommandSpecific(v),
            0x01..=0x7E => Self::Oem(v),
            other => Self::Reserved(other),
        }
    }

    /// The byte on the wire.
    pub fn to_u8(self) -> u8 {
        match self {
            Self::Success => 0x00,
            Self::NodeBusy => 0xC0,
            Self::InvalidCommand => 0xC1,
            Self::InvalidForLun => 0xC2,
            Self::Timeout => 0xC3,
            Self::OutOfSpace => 0xC4,
            Self::ReservationCanceled => 0xC5,
            Self::RequestTruncated => 0xC6,
            Self::RequestLengthInvalid => 0xC7,
            Self::RequestTooLong => 0xC8,
            Self::ParameterOutOfRange => 0xC9,
            Self::CannotReturnRequestedBytes => 0xCA,
            Self::NotPresent => 0xCB,
            Self::InvalidDataField => 0xCC,
            Self::IllegalForSensorOrRecord => 0xCD,
            Self::CannotProvideResponse => 0xCE,
            Self::DuplicateRequest => 0xCF,
            Self::SdrInUpdateMode => 0xD0,
            Self::FirmwareUpdateMode => 0xD1,
            Self::InitializationInProgress => 0xD2,
            Self::DestinationUnavailable => 0xD3,
            Self::InsufficientPrivilege => 0xD4,
            Self::NotSupportedInPresentState => 0xD5,
            Self::SubFunctionDisabled => 0xD6,
            Self::Unspecified => 0xFF,
            Self::CommandSpecific(v) | Self::Oem(v) | Self::Reserved(v) => v,
        }
    }

    /// What the code means.
    pub fn meaning(self) -> &'static str {
        match self {
            Self::Success => "command completed normally",
            Self::NodeBusy => "node busy",
            Self::InvalidCommand => "invalid command",
            Self::InvalidForLun => "command invalid for given lun",
            Self::Timeout => "timeout while processing command",
            Self::OutOfSpace => "out of space",
            Self::ReservationCanceled => "reservation canceled or invalid reservation id",
            Self::RequestTruncated => "request data truncated",
            Self::RequestLengthInvalid => "request data length invalid",
            Self::RequestTooLong => "request data field length limit exceeded",
            Self::ParameterOutOfRange => "parameter out of range",
            Self::CannotReturnRequestedBytes => "cannot return number of requested data bytes",
            Self::NotPresent => "requested sensor, data, or record not present",
            Self::InvalidDataField => "invalid data field in request",
            Self::IllegalForSensorOrRecord => "command illegal for specified sensor or record type",
            Self::CannotProvideResponse => "command response could not be provided",
            Self::DuplicateRequest => "cannot execute duplicated request",
            Self::SdrInUpdateMode => "sdr repository in update mode",
            Self::FirmwareUpdateMode => "device in firmware update mode",
            Self::InitializationInProgress => "bmc initialization in progress",
            Self::DestinationUnavailable => "destination unavailable",
            Self::InsufficientPrivilege => "insufficient privilege level",
            Self::NotSupportedInPresentState => "command not supported in present state",
            Self::SubFunctionDisabled => "sub-function disabled or unavailable",
            Self::Unspecified => "unspecified error",
            Self::CommandSpecific(_) => "command-specific error",
            Self::Oem(_) => "oem error",
            Self::Reserved(_) => "reserved completion code",
        }
    }
}

impl std::fmt::Display for CompletionCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "completion code {:#04x} ({})",
            self.to_u8(),
            self.meaning()
        )
    }
}

/// A typed IPMI command: request bytes out, typed response in.
pub trait Command {
    /// What a successful reply parses into.
    type Output;
    /// Name used in errors.
    const NAME: &'static str;
    /// Request network function.
    const NET_FN: u8;
    /// Command byte.
    const COMMAND: u8;
    /// Whether running the command twice has the same effect as running it once.
    ///
    /// When a reused session stops answering, the client opens a new session and sends an
    /// idempotent command again by itself. A command that is not idempotent (Chassis Control:
    /// a second power cycle is a second outage) is not re-sent in the new session, because the
    /// BMC may have run it and lost only the replies; the client returns
    /// [`crate::Error::OutcomeUnknown`] instead. Within one session retransmissions are always
    /// safe: they keep the request sequence number, which the BMC uses to drop duplicates.
    const IDEMPOTENT: bool;
    /// Request data bytes.
    fn request_data(&self) -> Vec<u8>;
    /// Parse the reply data (after a zero completion code).
    fn parse_response(&self, data: &[u8]) -> Result<Self::Output, DecodeError>;
}

fn bcd(v: u8) -> u8 {
    (v >> 4) * 10 + (v & 0x0F)
}

// --- Get Device ID ----------------------------------------------------------------------------

/// Get Device ID (App 01h, §20.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GetDeviceId;

/// The reply to Get Device ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceId {
    /// Device ID.
    pub device_id: u8,
    /// Device revision (bits 3:0).
    pub device_revision: u8,
    /// The device provides device SDRs.
    pub provides_device_sdrs: bool,
    /// Firmware major revision (bits 6:0).
    pub firmware_major: u8,
    /// Firmware minor revision (decoded from BCD).
    pub firmware_minor: u8,
    /// False while the device is busy updating firmware or self-initializing.
    pub device_available: bool,
    /// IPMI version as (major, minor), e.g. (2, 0).
    pub ipmi_version: (u8, u8),
    /// Additional device support bits (7 chassis, 6 bridge, 5 event generator, 4 event
    /// receiver, 3 FRU, 2 SEL, 1 SDR repository, 0 sensor).
    pub additional_device_support: u8,
    /// IANA manufacturer ID (20 bits).
    pub manufacturer_id: u32,
    /// Product ID.
    pub product_id: u16,
    /// Auxiliary firmware revision, when sent.
    pub aux_firmware_revision: Option<[u8; 4]>,
}

impl Command for GetDeviceId {
    type Output = DeviceId;
    const NAME: &'static str = "get device id";
    const NET_FN: u8 = net_fn::APP;
    const COMMAND: u8 = 0x01;
    const IDEMPOTENT: bool = true;

    fn request_data(&self) -> Vec<u8> {
        Vec::new()
    }

    fn parse_response(&self, d: &[u8]) -> Result<DeviceId, DecodeError> {
        DecodeError::need("get device id reply", 11, d.len())?;
        let aux_firmware_revision = if d.len() >= 15 {
            Some([d[11], d[12], d[13], d[14]])
        } else {
            None
        };
        Ok(DeviceId {
            device_id: d[0],
            device_revision: d[1] & 0x0F,
            provides_device_sdrs: d[1] & 0x80 != 0,
            firmware_major: d[2] & 0x7F,
            device_available: d[2] & 0x80 == 0,
            firmware_minor: bcd(d[3]),
            ipmi_version: (d[4] & 0x0F, d[4] >> 4),
            additional_device_support: d[5],
            manufacturer_id: u32::from_le_bytes([d[6], d[7], d[8] & 0x0F, 0]),
            product_id: u16::from_le_bytes([d[9], d[10]]),
            aux_firmware_revision,
        })
    }
}

// --- Chassis ----------------------------------------------------------------------------------

/// Get Chassis Status (Chassis 01h, §28.2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GetChassisStatus;

/// Power restore policy (bits 6:5 of the current power state byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerRestorePolicy {
    /// Stay off after AC returns.
    AlwaysOff,
    /// Restore the previous state.
    Previous,
    /// Always power up.
    AlwaysOn,
    /// Unknown (3).
    Unknown,
}

/// The reply to Get Chassis Status.
#[allow(clippy::struct_excessive_bools)] // one bool per spec bit
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChassisStatus {
    /// System power is on.
    pub power_on: bool,
    /// Power overload.
    pub power_overload: bool,
    /// Interlock active.
    pub interlock: bool,
    /// Main power fault.
    pub power_fault: bool,
    /// Power control fault.
    pub power_control_fault: bool,
    /// Power restore policy.
    pub restore_policy: PowerRestorePolicy,
    /// Last power event byte.
    pub last_power_event: u8,
    /// Miscellaneous chassis state byte (bit 0 intrusion, 1 front panel lockout, 2 drive
    /// fault, 3 cooling fault, 5:4 identify state).
    pub misc_state: u8,
    /// Front panel button capabilities, when sent.
    pub front_panel: Option<u8>,
}

impl Command for GetChassisStatus {
    type Output = ChassisStatus;
    const NAME: &'static str = "get chassis status";
    const NET_FN: u8 = net_fn::CHASSIS;
    const COMMAND: u8 = 0x01;
    const IDEMPOTENT: bool = true;

    fn request_data(&self) -> Vec<u8> {
        Vec::new()
    }

    fn parse_response(&self, d: &[u8]) -> Result<ChassisStatus, DecodeError> {
        DecodeError::need("get chassis status reply", 3, d.len())?;
        let p = d[0];
        Ok(ChassisStatus {
            power_on: p & 0x01 != 0,
            power_overload: p & 0x02 != 0,
            interlock: p & 0x04 != 0,
            power_fault: p & 0x08 != 0,
            power_control_fault: p & 0x10 != 0,
            restore_policy: match (p >> 5) & 0x03 {
                0 => PowerRestorePolicy::AlwaysOff,
                1 => PowerRestorePolicy::Previous,
                2 => PowerRestorePolicy::AlwaysOn,
                _ => PowerRestorePolicy::Unknown,
            },
            last_power_event: d[1],
            misc_state: d[2],
            front_panel: d.get(3).copied(),
        })
    }
}

/// Chassis Control actions (Chassis 02h, §28.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChassisControl {
    /// 00h: power down (hard off).
    PowerOff,
    /// 01h: power up.
    PowerOn,
    /// 02h: power cycle.
    PowerCycle,
    /// 03h: hard reset.
    HardReset,
    /// 04h: pulse diagnostic interrupt (NMI).
    DiagnosticInterrupt,
    /// 05h: soft shutdown via ACPI.
    SoftOff,
}

impl ChassisControl {
    /// The request byte.
    pub fn to_u8(self) -> u8 {
        match self {
            ChassisControl::PowerOff => 0x00,
            ChassisControl::PowerOn => 0x01,
            ChassisControl::PowerCycle => 0x02,
            ChassisControl::HardReset => 0x03,
            ChassisControl::DiagnosticInterrupt => 0x04,
            ChassisControl::SoftOff => 0x05,
        }
    }
}

impl Command for ChassisControl {
    type Output = ();
    const NAME: &'static str = "chassis control";
    const NET_FN: u8 = net_fn::CHASSIS;
    const COMMAND: u8 = 0x02;
    // A second power cycle or reset is a second outage.
    const IDEMPOTENT: bool = false;

    fn request_data(&self) -> Vec<u8> {
        vec![self.to_u8()]
    }

    fn parse_response(&self, _: &[u8]) -> Result<(), DecodeError> {
        Ok(())
    }
}

// --- Boot options -----------------------------------------------------------------------------

/// Boot device selector (parameter 5 data byte 2, bits 5:2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BootDevice {
    /// 0000b: no override.
    NoOverride,
    /// 0001b: force PXE.
    Pxe,
    /// 0010b: force boot from default hard drive.
    Disk,
    /// 0011b: default hard drive, safe mode.
    DiskSafeMode,
    /// 0100b: diagnostic partition.
    Diagnostic,
    /// 0101b: CD/DVD.
    Cdrom,
    /// 0110b: BIOS setup.
    BiosSetup,
    /// 0111b: remote floppy / primary removable media.
    RemoteFloppy,
    /// 1000b: remote CD/DVD.
    RemoteCdrom,
    /// 1001b: primary remote media.
    RemoteMedia,
    /// 1011b: remote hard drive.
    RemoteDisk,
    /// 1111b: floppy / primary removable media.
    Floppy,
    /// Any other selector value.
    Other(u8),
}

impl BootDevice {
    /// The 4-bit selector.
    pub fn selector(self) -> u8 {
        match self {
            BootDevice::NoOverride => 0x0,
            BootDevice::Pxe => 0x1,
            BootDevice::Disk => 0x2,
            BootDevice::DiskSafeMode => 0x3,
            BootDevice::Diagnostic => 0x4,
            BootDevice::Cdrom => 0x5,
            BootDevice::BiosSetup => 0x6,
            BootDevice::RemoteFloppy => 0x7,
            BootDevice::RemoteCdrom => 0x8,
            BootDevice::RemoteMedia => 0x9,
            BootDevice::RemoteDisk => 0xB,
            BootDevice::Floppy => 0xF,
            BootDevice::Other(v) => v & 0x0F,
        }
    }

    /// Decode a 4-bit selector.
    pub fn from_selector(v: u8) -> Self {
        match v & 0x0F {
            0x0 => BootDevice::NoOverride,
            0x1 => BootDevice::Pxe,
            0x2 => BootDevice::Disk,
            0x3 => BootDevice::DiskSafeMode,
            0x4 => BootDevice::Diagnostic,
            0x5 => BootDevice::Cdrom,
            0x6 => BootDevice::BiosSetup,
            0x7 => BootDevice::RemoteFloppy,
            0x8 => BootDevice::RemoteCdrom,
            0x9 => BootDevice::RemoteMedia,
            0xB => BootDevice::RemoteDisk,
            0xF => BootDevice::Floppy,
            other => BootDevice::Other(other),
        }
    }
}

impl std::fmt::Display for BootDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            BootDevice::NoOverride => "none",
            BootDevice::Pxe => "pxe",
            BootDevice::Disk => "disk",
            BootDevice::DiskSafeMode => "disk-safe-mode",
            BootDevice::Diagnostic => "diagnostic",
            BootDevice::Cdrom => "cdrom",
            BootDevice::BiosSetup => "bios",
            BootDevice::RemoteFloppy => "remote-floppy",
            BootDevice::RemoteCdrom => "remote-cdrom",
            BootDevice::RemoteMedia => "remote-media",
            BootDevice::RemoteDisk => "remote-disk",
            BootDevice::Floppy => "floppy",
            BootDevice::Other(v) => return write!(f, "selector {v:#x}"),
        };
        f.write_str(name)
    }
}

/// How a boot override applies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct BootOptions {
    /// Apply to all future boots instead of the next one only (advisory on many systems).
    pub persistent: bool,
    /// Boot in UEFI mode instead of legacy (PC compatible).
    pub efi: bool,
}

/// Boot flags (boot options parameter 5, five bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BootFlags {
    /// Byte 1 bit 7: the flags are valid.
    pub valid: bool,
    /// Byte 1 bit 6: persistent, else next boot only.
    pub persistent: bool,
    /// Byte 1 bit 5: EFI boot, else legacy.
    pub efi: bool,
    /// Byte 2 bits 5:2.
    pub device: BootDevice,
    /// All five bytes as read or to be written (other bits kept as they are).
    pub raw: [u8; 5],
}

impl BootFlags {
    /// Flags that request `device` with `options`, other bits zero.
    pub fn new(device: BootDevice, options: BootOptions) -> Self {
        let mut raw = [0u8; 5];
        raw[0] =
            0x80 | if options.persistent { 0x40 } else { 0 } | if options.efi { 0x20 } else { 0 };
        raw[1] = device.selector() << 2;
        Self::from_bytes(raw)
    }

    /// Decode the five data bytes.
    pub fn from_bytes(raw: [u8; 5]) -> Self {
        BootFlags {
            valid: raw[0] & 0x80 != 0,
            persistent: raw[0] & 0x40 != 0,
            efi: raw[0] & 0x20 != 0,
            device: BootDevice::from_selector(raw[1] >> 2),
            raw,
        }
    }
}

/// A boot option parameter to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootParameter {
    /// Parameter 3: boot flag valid bit clearing (08h = don't clear after the 60 s timeout).
    ValidBitClearing(u8),
    /// Parameter 5: boot flags.
    BootFlags(BootFlags),
}

/// Set System Boot Options (Chassis 08h, §28.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetSystemBootOptions(pub BootParameter);

impl Command for SetSystemBootOptions {
    type Output = ();
    const NAME: &'static str = "set system boot options";
    const NET_FN: u8 = net_fn::CHASSIS;
    const COMMAND: u8 = 0x08;
    // Parameters 0 (set in progress) and 4 (boot info acknowledge) drive BMC-side state
    // machines, and a boot flag write may race a boot that consumes it: never re-sent blindly.
    const IDEMPOTENT: bool = false;

    fn request_data(&self) -> Vec<u8> {
        match self.0 {
            BootParameter::ValidBitClearing(v) => vec![0x03, v],
            BootParameter::BootFlags(flags) => {
                let mut out = vec![0x05];
                out.extend_from_slice(&flags.raw);
                out
            }
        }
    }

    fn parse_response(&self, _: &[u8]) -> Result<(), DecodeError> {
        Ok(())
    }
}

/// Get System Boot Options (Chassis 09h, §28.13) for one parameter selector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetSystemBootOptions {
    /// Parameter selector (bits 6:0).
    pub parameter: u8,
}

/// The reply to Get System Boot Options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootOptionParameter {
    /// Parameter version (01h).
    pub version: u8,
    /// The parameter is marked invalid / locked (bit 7).
    pub invalid: bool,
    /// Parameter selector echoed.
    pub parameter: u8,
    /// Parameter data.
    pub data: Vec<u8>,
}

impl BootOptionParameter {
    /// Interpret parameter 5 data as boot flags.
    pub fn boot_flags(&self) -> Result<BootFlags, DecodeError> {
        if self.parameter != 5 {
            return Err(DecodeError::InvalidValue {
                what: "boot option parameter selector",
                value: self.parameter.into(),
            });
        }
        DecodeError::need("boot flags", 5, self.data.len())?;
        let mut raw = [0u8; 5];
        raw.copy_from_slice(&self.data[..5]);
        Ok(BootFlags::from_bytes(raw))
    }
}

impl Command for GetSystemBootOptions {
    type Output = BootOptionParameter;
    const NAME: &'static str = "get system boot options";
    const NET_FN: u8 = net_fn::CHASSIS;
    const COMMAND: u8 = 0x09;
    const IDEMPOTENT: bool = true;

    fn request_data(&self) -> Vec<u8> {
        vec![self.parameter & 0x7F, 0x00, 0x00]
    }

    fn parse_response(&self, d: &[u8]) -> Result<BootOptionParameter, DecodeError> {
        DecodeError::need("get system boot options reply", 2, d.len())?;
        Ok(BootOptionParameter {
            version: d[0] & 0x0F,
            invalid: d[1] & 0x80 != 0,
            parameter: d[1] & 0x7F,
            data: d[2..].to_vec(),
        })
    }
}

// --- Channel / session ------------------------------------------------------------------------

/// Get Channel Authentication Capabilities (App 38h, §22.13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetChannelAuthCapabilities {
    /// Channel (0Eh = the channel this arrives on).
    pub channel: u8,
    /// Ask for IPMI v2.0 extended data (bit 7 of the channel byte).
    pub ipmi_v2_extended: bool,
    /// Requested maximum privilege.
    pub privilege: Privilege,
}

/// The reply to Get Channel Authentication Capabilities.
#[allow(clippy::struct_excessive_bools)] // one bool per spec bit
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelAuthCapabilities {
    /// Channel number.
    pub channel: u8,
    /// IPMI 1.5 authentication type support bits (0 none, 1 MD2, 2 MD5, 4 straight, 5 OEM).
    pub auth_types: u8,
    /// Byte 2 bit 7: extended capabilities are present.
    pub ipmi_v2_extended: bool,
    /// A non-zero BMC key (Kg) is configured.
    pub kg_set: bool,
    /// Per-message authentication is disabled.
    pub per_message_auth_disabled: bool,
    /// User-level authentication is disabled.
    pub user_level_auth_disabled: bool,
    /// Non-null user names are enabled.
    pub non_null_usernames: bool,
    /// Null user names are enabled.
    pub null_usernames: bool,
    /// Anonymous login is enabled.
    pub anonymous_login: bool,
    /// The channel supports IPMI v2.0 (RMCP+).
    pub supports_v20: bool,
    /// The channel supports IPMI v1.5.
    pub supports_v15: bool,
    /// OEM IANA number.
    pub oem_id: u32,
    /// OEM auxiliary data.
    pub oem_aux: u8,
}

impl Command for GetChannelAuthCapabilities {
    type Output = ChannelAuthCapabilities;
    const NAME: &'static str = "get channel authentication capabilities";
    const NET_FN: u8 = net_fn::APP;
    const COMMAND: u8 = 0x38;
    const IDEMPOTENT: bool = true;

    fn request_data(&self) -> Vec<u8> {
        let ext = if self.ipmi_v2_extended { 0x80 } else { 0 };
        vec![(self.channel & 0x0F) | ext, self.privilege as u8]
    }

    fn parse_response(&self, d: &[u8]) -> Result<ChannelAuthCapabilities, DecodeError> {
        DecodeError::need("get channel authentication capabilities reply", 8, d.len())?;
        let extended = d[1] & 0x80 != 0;
        Ok(ChannelAuthCapabilities {
            channel: d[0],
            auth_types: d[1] & 0x3F,
            ipmi_v2_extended: extended,
            kg_set: d[2] & 0x20 != 0,
            per_message_auth_disabled: d[2] & 0x10 != 0,
            user_level_auth_disabled: d[2] & 0x08 != 0,
            non_null_usernames: d[2] & 0x04 != 0,
            null_usernames: d[2] & 0x02 != 0,
            anonymous_login: d[2] & 0x01 != 0,
            supports_v20: extended && d[3] & 0x02 != 0,
            supports_v15: !extended || d[3] & 0x01 != 0,
            oem_id: u32::from_le_bytes([d[4], d[5], d[6], 0]),
            oem_aux: d[7],
        })
    }
}

/// Get Channel Cipher Suites (App 54h, §22.15): one 16-byte chunk of the record list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetChannelCipherSuites {
    /// Channel (0Eh = this channel).
    pub channel: u8,
    /// Payload type (00h = IPMI).
    pub payload_type: u8,
    /// List index (0..=63); the request asks for the list by cipher suite (bit 7).
    pub index: u8,
}

/// One chunk of cipher suite record data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CipherSuiteChunk {
    /// Channel number.
    pub channel: u8,
    /// Record bytes (up to 16; fewer means the list ended).
    pub data: Vec<u8>,
}

impl Command for GetChannelCipherSuites {
    type Output = CipherSuiteChunk;
    const NAME: &'static str = "get channel cipher suites";
    const NET_FN: u8 = net_fn::APP;
    const COMMAND: u8 = 0x54;
    const IDEMPOTENT: bool = true;

    fn request_data(&self) -> Vec<u8> {
        vec![
            self.channel & 0x0F,
            self.payload_type & 0x3F,
            0x80 | (self.index & 0x3F),
        ]
    }

    fn parse_response(&self, d: &[u8]) -> Result<CipherSuiteChunk, DecodeError> {
        DecodeError::need("get channel cipher suites reply", 1, d.len())?;
        Ok(CipherSuiteChunk {
            channel: d[0],
            data: d[1..].to_vec(),
        })
    }
}

/// A cipher suite record from Get Channel Cipher Suites.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CipherSuiteRecord {
    /// Cipher suite ID.
    pub id: u8,
    /// OEM IANA for OEM records (C1h).
    pub oem_iana: Option<u32>,
    /// Authentication algorithm number.
    pub auth: Option<u8>,
    /// Integrity algorithm numbers (first listed).
    pub integrity: Option<u8>,
    /// Confidentiality algorithm number (first listed).
    pub confidentiality: Option<u8>,
}

/// Parse concatenated cipher suite record data (all chunks joined).
///
/// A record (Table 22-18) starts with C0h (standard) or C1h (OEM), then the suite ID; an OEM
/// record then carries the 3-byte IANA enterprise number (least significant byte first), as
/// ipmitool's and `FreeIPMI`'s record layouts have it. Algorithm bytes follow, tagged by their
/// top two bits (00b authentication, 01b integrity, 10b confidentiality) until the next record
/// start.
pub fn parse_cipher_suite_records(data: &[u8]) -> Result<Vec<CipherSuiteRecord>, DecodeError> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < data.len() {
        let (what, header_len) = match data[i] {
            0xC0 => ("cipher suite record", 2),
            0xC1 => ("oem cipher suite record", 5),
            other => {
                return Err(DecodeError::InvalidValue {
                    what: "cipher suite record start",
                    value: other.into(),
                });
            }
        };
        DecodeError::need(what, i + header_len, data.len())?;
        let oem_iana = (data[i] == 0xC1)
            .then(|| u32::from_le_bytes([data[i + 2], data[i + 3], data[i + 4], 0]));
        let mut rec = CipherSuiteRecord {
            id: data[i + 1],
            oem_iana,
            auth: None,
            integrity: None,
            confidentiality: None,
        };
        i += header_len;
        while i < data.len() && data[i] & 0xC0 != 0xC0 {
            let alg = data[i] & 0x3F;
            match data[i] >> 6 {
                0 => rec.auth = Some(alg),
                1 => rec.integrity = rec.integrity.or(Some(alg)),
                _ => rec.confidentiality = rec.confidentiality.or(Some(alg)),
            }
            i += 1;
        }
        out.push(rec);
    }
    Ok(out)
}

/// Set Session Privilege Level (App 3Bh, §22.18).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetSessionPrivilegeLevel(pub Privilege);

impl Command for SetSessionPrivilegeLevel {
    type Output = Option<Privilege>;
    const NAME: &'static str = "set session privilege level";
    const NET_FN: u8 = net_fn::APP;
    const COMMAND: u8 = 0x3B;
    const IDEMPOTENT: bool = true;

    fn request_data(&self) -> Vec<u8> {
        vec![self.0 as u8]
    }

    fn parse_response(&self, d: &[u8]) -> Result<Option<Privilege>, DecodeError> {
        DecodeError::need("set session privilege level reply", 1, d.len())?;
        Ok(Privilege::from_u8(d[0]))
    }
}

/// Close Session (App 3Ch, §22.19).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseSession {
    /// The BMC's session ID to close.
    pub bmc_session_id: u32,
}

impl Command for CloseSession {
    type Output = ();
    const NAME: &'static str = "close session";
    const NET_FN: u8 = net_fn::APP;
    const COMMAND: u8 = 0x3C;
    // Meaningless in another session: it would close the new one.
    const IDEMPOTENT: bool = false;

    fn request_data(&self) -> Vec<u8> {
        self.bmc_session_id.to_le_bytes().to_vec()
    }

    fn parse_response(&self, _: &[u8]) -> Result<(), DecodeError> {
        Ok(())
    }
}
