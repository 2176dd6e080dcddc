//! The node state the IPMI server reads and changes, as semantic types.

use std::sync::{Mutex, MutexGuard};

/// What a node exposes to its IPMI server.
///
/// The Redfish side of the mock implements this for its node, so a power or boot change made
/// over IPMI is seen over Redfish and the other way round. Calls are short and synchronous; the
/// server never holds one across an await point.
pub trait IpmiNode: Send + Sync + 'static {
    /// Whether the system is powered on (Get Chassis Status byte 1, bit 0).
    fn power_is_on(&self) -> bool;

    /// Applies a Chassis Control request (already validated and authorized).
    fn chassis_control(&self, control: ChassisControl);

    /// The current boot override, as the node sees it.
    fn boot_flags(&self) -> BootFlags;

    /// Replaces the boot override (Set System Boot Options, parameter 5).
    fn set_boot_flags(&self, flags: BootFlags);

    /// What Get Device ID reports; a fixed identity by default.
    fn device_identity(&self) -> DeviceIdentity {
        DeviceIdentity::default()
    }

    /// Whether the BMC answers at all now. While `false` every datagram is dropped unanswered
    /// and nothing is executed, as during a BMC reboot. Always reachable by default; the
    /// fleet's nodes follow their Redfish reboot fault ([`crate::FaultSpec::bmc_reboot_ms`]).
    fn is_reachable(&self) -> bool {
        true
    }

    /// How many times the BMC has restarted. When it changes the server forgets every session
    /// (a rebooted BMC keeps none), so clients must open a new one. Constant 0 by default.
    fn restart_count(&self) -> u64 {
        0
    }

    /// Called once for every IPMI command the server executed (pre-session and in-session,
    /// not for retransmissions answered from the reply cache, not for the session handshake),
    /// with the request data and the completion code answered. Nothing by default; the
    /// fleet's nodes record it in their request log.
    fn command_handled(&self, command: &HandledCommand<'_>) {
        let _ = command;
    }
}

/// One executed IPMI command, as [`IpmiNode::command_handled`] sees it. Request data of the
/// commands this server executes carries no secret (passwords only travel in RAKP messages,
/// which are not commands).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandledCommand<'a> {
    /// Network function of the request (even value: `0x00` chassis, `0x06` application).
    pub net_fn: u8,
    /// Command number.
    pub command: u8,
    /// Request data bytes.
    pub data: &'a [u8],
    /// Completion code answered (`0x00` = success).
    pub completion_code: u8,
    /// Whether it arrived inside an authenticated session.
    pub in_session: bool,
}

impl HandledCommand<'_> {
    /// A short stable name (`chassis/control`, `app/get-device-id`, ...; unknown commands as
    /// `raw/NETFN/CMD` in hex).
    pub fn name(&self) -> String {
        let known = match (self.net_fn, self.command) {
            (0x00, 0x01) => "chassis/get-status",
            (0x00, 0x02) => "chassis/control",
            (0x00, 0x08) => "chassis/set-boot-options",
            (0x00, 0x09) => "chassis/get-boot-options",
            (0x06, 0x01) => "app/get-device-id",
            (0x06, 0x37) => "app/get-system-guid",
            (0x06, 0x38) => "app/get-channel-auth-capabilities",
            (0x06, 0x3B) => "app/set-session-privilege",
            (0x06, 0x3C) => "app/close-session",
            (0x06, 0x54) => "app/get-channel-cipher-suites",
            (net_fn, command) => return format!("raw/{net_fn:02x}/{command:02x}"),
        };
        known.to_owned()
    }
}

/// A Chassis Control action (IPMI v2.0 §28.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChassisControl {
    /// 00h: power down (hard off).
    PowerDown,
    /// 01h: power up.
    PowerUp,
    /// 02h: power cycle.
    PowerCycle,
    /// 03h: hard reset.
    HardReset,
    /// 04h: pulse a diagnostic interrupt (NMI).
    DiagnosticInterrupt,
    /// 05h: soft shutdown through ACPI.
    SoftShutdown,
}

impl ChassisControl {
    /// Decodes the request byte (low nibble); reserved values give `None`.
    pub fn from_byte(byte: u8) -> Option<Self> {
        match byte & 0x0F {
            0x00 => Some(Self::PowerDown),
            0x01 => Some(Self::PowerUp),
            0x02 => Some(Self::PowerCycle),
            0x03 => Some(Self::HardReset),
            0x04 => Some(Self::DiagnosticInterrupt),
            0x05 => Some(Self::SoftShutdown),
            _ => None,
        }
    }
}

/// The boot device selector of boot-flags parameter 5, data byte 2 bits 5:2 (Table 28-14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum BootDevice {
    /// 0000b: no override.
    #[default]
    NoOverride,
    /// 0001b: force PXE.
    Pxe,
    /// 0010b: force boot from the default hard drive.
    Disk,
    /// 0011b: force boot from the default hard drive, safe mode.
    DiskSafeMode,
    /// 0100b: force boot from the diagnostic partition.
    Diagnostic,
    /// 0101b: force boot from the default CD/DVD.
    Cdrom,
    /// 0110b: force boot into BIOS setup.
    BiosSetup,
    /// 0111b: force boot from a remotely connected floppy or primary removable media.
    RemoteFloppy,
    /// 1000b: force boot from a remotely connected CD/DVD.
    RemoteCdrom,
    /// 1001b: force boot from the primary remote media.
    RemoteMedia,
    /// 1011b: force boot from a remotely connected hard drive.
    RemoteDisk,
    /// 1111b: force boot from a floppy or primary removable media.
    Floppy,
}

impl BootDevice {
    /// Decodes the 4-bit selector; reserved values give `None`.
    pub fn from_selector(selector: u8) -> Option<Self> {
        match selector {
            0b0000 => Some(Self::NoOverride),
            0b0001 => Some(Self::Pxe),
            0b0010 => Some(Self::Disk),
            0b0011 => Some(Self::DiskSafeMode),
            0b0100 => Some(Self::Diagnostic),
            0b0101 => Some(Self::Cdrom),
            0b0110 => Some(Self::BiosSetup),
            0b0111 => Some(Self::RemoteFloppy),
            0b1000 => Some(Self::RemoteCdrom),
            0b1001 => Some(Self::RemoteMedia),
            0b1011 => Some(Self::RemoteDisk),
            0b1111 => Some(Self::Floppy),
            _ => None,
        }
    }

    /// The 4-bit selector as it goes on the wire.
    pub fn selector(self) -> u8 {
        match self {
            Self::NoOverride => 0b0000,
            Self::Pxe => 0b0001,
            Self::Disk => 0b0010,
            Self::DiskSafeMode => 0b0011,
            Self::Diagnostic => 0b0100,
            Self::Cdrom => 0b0101,
            Self::BiosSetup => 0b0110,
            Self::RemoteFloppy => 0b0111,
            Self::RemoteCdrom => 0b1000,
            Self::RemoteMedia => 0b1001,
            Self::RemoteDisk => 0b1011,
            Self::Floppy => 0b1111,
        }
    }
}

/// The boot override of boot-options parameter 5, in semantic form.
///
/// `valid == false` means "no override in effect", whatever the other fields say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct BootFlags {
    /// Data byte 1 bit 7: the flags are valid.
    pub valid: bool,
    /// Data byte 1 bit 6: applies to all future boots, not only the next one.
    pub persistent: bool,
    /// Data byte 1 bit 5: boot in EFI mode (else PC-compatible legacy).
    pub efi: bool,
    /// Data byte 2 bits 5:2: the device to boot from.
    pub device: BootDevice,
}

impl BootFlags {
    /// Decodes the five data bytes of parameter 5; a reserved device selector gives `None`.
    /// Bytes 3–5 (locks, verbosity, mux, instance) have no semantic form and are ignored here.
    pub fn from_parameter(data: [u8; 5]) -> Option<Self> {
        Some(Self {
            valid: data[0] & 0x80 != 0,
            persistent: data[0] & 0x40 != 0,
            efi: data[0] & 0x20 != 0,
            device: BootDevice::from_selector((data[1] >> 2) & 0x0F)?,
        })
    }

    /// Encodes as the five data bytes of parameter 5 (bytes 3–5 zero).
    pub fn to_parameter(self) -> [u8; 5] {
        let mut byte1 = 0;
        if self.valid {
            byte1 |= 0x80;
        }
        if self.persistent {
            byte1 |= 0x40;
        }
        if self.efi {
            byte1 |= 0x20;
        }
        [byte1, self.device.selector() << 2, 0, 0, 0]
    }
}

/// What Get Device ID reports (IPMI v2.0 §20.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeviceIdentity {
    /// Device ID.
    pub device_id: u8,
    /// Device revision (low nibble).
    pub device_revision: u8,
    /// Major firmware revision (7 bits).
    pub firmware_major: u8,
    /// Minor firmware revision, BCD encoded (e.g. `0x25` for ".25").
    pub firmware_minor_bcd: u8,
    /// IANA manufacturer ID (20 bits; sent as 3 bytes, least significant first).
    pub manufacturer_id: u32,
    /// Product ID.
    pub product_id: u16,
    /// Auxiliary firmware revision (4 bytes, vendor-defined).
    pub aux_firmware: [u8; 4],
}

impl Default for DeviceIdentity {
    fn default() -> Self {
        Self {
            device_id: 0x20,
            device_revision: 0x01,
            firmware_major: 1,
            firmware_minor_bcd: 0x00,
            // 32473 is the IANA enterprise number reserved for documentation (RFC 5612).
            manufacturer_id: 32473,
            product_id: 0x0F15,
            aux_firmware: [0; 4],
        }
    }
}

/// A self-contained [`IpmiNode`] for tests and examples: power and boot flags behind a mutex,
/// plus a log of the Chassis Control requests it received.
#[derive(Debug, Default)]
pub struct SimpleIpmiNode {
    state: Mutex<SimpleState>,
}

#[derive(Debug, Default)]
struct SimpleState {
    power_on: bool,
    boot: BootFlags,
    controls: Vec<ChassisControl>,
}

impl SimpleIpmiNode {
    /// A node that is powered on or off, with no boot override.
    pub fn new(power_on: bool) -> Self {
        Self {
            state: Mutex::new(SimpleState {
                power_on,
                ..SimpleState::default()
            }),
        }
    }

    /// Sets the power state directly (as the Redfish side or a test would).
    pub fn set_power(&self, on: bool) {
        self.lock().power_on = on;
    }

    /// Every Chassis Control request received so far, oldest first.
    pub fn control_log(&self) -> Vec<ChassisControl> {
        self.lock().controls.clone()
    }

    fn lock(&self) -> MutexGuard<'_, SimpleState> {
        // A panic while holding this lock cannot leave the plain data inconsistent.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl IpmiNode for SimpleIpmiNode {
    fn power_is_on(&self) -> bool {
        self.lock().power_on
    }

    fn chassis_control(&self, control: ChassisControl) {
        let mut state = self.lock();
        state.controls.push(control);
        match control {
            ChassisControl::PowerDown | ChassisControl::SoftShutdown => state.power_on = false,
            ChassisControl::PowerUp | ChassisControl::PowerCycle | ChassisControl::HardReset => {
                state.power_on = true;
            }
            ChassisControl::DiagnosticInterrupt => {}
        }
    }

    fn boot_flags(&self) -> BootFlags {
        self.lock().boot
    }

    fn set_boot_flags(&self, flags: BootFlags) {
        self.lock().boot = flags;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boot_flags_decode_what_ipmitool_sends_for_pxe_efiboot() {
        // ipmitool 1.8.19 `chassis bootdev pxe options=efiboot` sends param 5 = a0 04 00 00 00.
        let flags = BootFlags::from_parameter([0xa0, 0x04, 0, 0, 0]);
        assert_eq!(
            flags,
            Some(BootFlags {
                valid: true,
                persistent: false,
                efi: true,
                device: BootDevice::Pxe
            })
        );
        // `disk options=persistent,efiboot` → e0 08; `cdrom` → 80 14.
        let disk = BootFlags::from_parameter([0xe0, 0x08, 0, 0, 0]).unwrap();
        assert!(disk.persistent && disk.efi && disk.device == BootDevice::Disk);
        let cd = BootFlags::from_parameter([0x80, 0x14, 0, 0, 0]).unwrap();
        assert!(!cd.persistent && !cd.efi && cd.device == BootDevice::Cdrom);
    }

    #[test]
    fn boot_flags_round_trip_and_reject_reserved_selectors() {
        for selector in 0..16u8 {
            match BootDevice::from_selector(selector) {
                Some(device) => assert_eq!(device.selector(), selector),
                None => assert!(matches!(selector, 0b1010 | 0b1100 | 0b1101 | 0b1110)),
            }
        }
        assert_eq!(
            BootFlags::from_parameter([0x80, 0b1010 << 2, 0, 0, 0]),
            None
        );
        let flags = BootFlags {
            valid: true,
            persistent: true,
            efi: false,
            device: BootDevice::BiosSetup,
        };
        assert_eq!(flags.to_parameter(), [0xc0, 0x18, 0, 0, 0]);
        assert_eq!(BootFlags::from_parameter(flags.to_parameter()), Some(flags));
    }

    #[test]
    fn simple_node_applies_controls_and_logs_them() {
        let node = SimpleIpmiNode::new(false);
        node.chassis_control(ChassisControl::PowerUp);
        assert!(node.power_is_on());
        node.chassis_control(ChassisControl::SoftShutdown);
        assert!(!node.power_is_on());
        assert_eq!(
            node.control_log(),
            vec![ChassisControl::PowerUp, ChassisControl::SoftShutdown]
        );
    }
}
