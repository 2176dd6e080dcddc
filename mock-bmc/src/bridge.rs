//! The IPMI face of a fleet node: [`IpmiNode`] over the very state its Redfish side serves, so a
//! power or boot change made with `ipmitool` is what the next Redfish GET shows, and the other
//! way round.
//!
//! The mapping is data plus two pure functions ([`boot_flags_of`], [`boot_override_for`]) so it
//! is unit-tested without sockets:
//!
//! | IPMI | Redfish |
//! |---|---|
//! | Chassis Control power up / down / soft / cycle / hard reset / NMI | `ResetType` `On` / `ForceOff` / `GracefulShutdown` / `PowerCycle` / `ForceRestart` / `Nmi`, through the same state machine (transition delays, boot at the end) |
//! | Get Chassis Status "power on" | `PowerState` is not `Off` (the rail is on during POST and during an orderly shutdown) |
//! | boot flags valid = 0 | `BootSourceOverrideEnabled` `Disabled` |
//! | persistent = 1 / 0 | `Continuous` / `Once` (`Once` where the personality has no `Continuous`) |
//! | EFI = 1 / 0 | `BootSourceOverrideMode` `UEFI` / `Legacy` |
//! | PXE, disk, CD/DVD, BIOS setup, diagnostic, floppy/removable | `Pxe`, `Hdd`, `Cd` (Supermicro `UsbCd`), `BiosSetup`, `Diags`/`Utilities`, `Floppy`/`Usb`/`UsbHdd` (the first the personality offers) |
//! | no override | `None`, `Disabled` |

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use crate::ipmi::{
    BootDevice, BootFlags, ChassisControl, DeviceIdentity, HandledCommand, IpmiNode,
};
use crate::node::{LogEntry, Node, lock};
use crate::personality::{Personality, Profile};
use crate::state::{BootOverride, OverrideEnabled, PowerState, ResetType};

/// A fleet node seen through [`IpmiNode`].
pub(crate) struct NodeIpmi {
    pub node: Arc<Node>,
}

/// The Redfish reset a Chassis Control request performs.
pub(crate) fn reset_for(control: ChassisControl) -> ResetType {
    match control {
        ChassisControl::PowerUp => ResetType::On,
        ChassisControl::PowerDown => ResetType::ForceOff,
        ChassisControl::SoftShutdown => ResetType::GracefulShutdown,
        ChassisControl::PowerCycle => ResetType::PowerCycle,
        ChassisControl::HardReset => ResetType::ForceRestart,
        ChassisControl::DiagnosticInterrupt => ResetType::Nmi,
    }
}

/// The IPMI device selector for a Redfish `BootSourceOverrideTarget`; targets IPMI cannot
/// express (`UefiHttp`, `UefiTarget`, `None`) read as "no override".
pub(crate) fn device_for_target(target: &str) -> BootDevice {
    match target {
        "Pxe" => BootDevice::Pxe,
        "Hdd" => BootDevice::Disk,
        "Cd" | "UsbCd" => BootDevice::Cdrom,
        "BiosSetup" => BootDevice::BiosSetup,
        "Diags" | "Utilities" => BootDevice::Diagnostic,
        "Floppy" | "Usb" | "UsbHdd" => BootDevice::Floppy,
        _ => BootDevice::NoOverride,
    }
}

/// The Redfish target for an IPMI device on this personality: the first candidate the
/// personality offers, or `None` when it offers none (the override is then dropped).
pub(crate) fn target_for_device(device: BootDevice, profile: &Profile) -> Option<&'static str> {
    let candidates: &[&'static str] = match device {
        BootDevice::NoOverride => &["None"],
        BootDevice::Pxe => &["Pxe"],
        BootDevice::Disk | BootDevice::DiskSafeMode | BootDevice::RemoteDisk => &["Hdd"],
        BootDevice::Cdrom | BootDevice::RemoteCdrom | BootDevice::RemoteMedia => {
            return Some(profile.cd_boot_target);
        }
        BootDevice::BiosSetup => &["BiosSetup"],
        BootDevice::Diagnostic => &["Diags", "Utilities"],
        BootDevice::RemoteFloppy | BootDevice::Floppy => &["Floppy", "Usb", "UsbHdd"],
    };
    candidates
        .iter()
        .copied()
        .find(|t| profile.boot_targets.contains(t))
}

/// Boot-flags parameter 5 as IPMI reads the Redfish boot override.
pub(crate) fn boot_flags_of(boot: &BootOverride) -> BootFlags {
    BootFlags {
        valid: boot.enabled != OverrideEnabled::Disabled,
        persistent: boot.enabled == OverrideEnabled::Continuous,
        efi: boot.mode == "UEFI",
        device: device_for_target(&boot.target),
    }
}

/// The Redfish boot override an IPMI Set System Boot Options (parameter 5) writes.
pub(crate) fn boot_override_for(flags: BootFlags, profile: &Profile) -> BootOverride {
    let mode = if flags.efi { "UEFI" } else { "Legacy" }.to_owned();
    let target = match flags.device {
        BootDevice::NoOverride => None,
        device => target_for_device(device, profile),
    };
    let Some(target) = target else {
        return BootOverride {
            target: "None".to_owned(),
            enabled: OverrideEnabled::Disabled,
            mode,
        };
    };
    let enabled = if !flags.valid {
        OverrideEnabled::Disabled
    } else if flags.persistent && profile.boot_enabled_values.contains(&"Continuous") {
        OverrideEnabled::Continuous
    } else {
        OverrideEnabled::Once
    };
    BootOverride {
        target: target.to_owned(),
        enabled,
        mode,
    }
}

/// Get Device ID of a personality: the vendor's IANA enterprise number, so `ipmitool mc info`
/// names the vendor the Redfish side claims to be.
pub(crate) fn device_identity_of(personality: Personality) -> DeviceIdentity {
    let manufacturer_id = match personality {
        Personality::Dell => 674,
        Personality::Hpe => 47_196,
        Personality::Lenovo => 19_046,
        Personality::Supermicro => 10_876,
        // American Megatrends (the DGX BMC firmware's maker) and Fujitsu (Siemens).
        Personality::Ami => 20_974,
        Personality::Irmc => 10_368,
        // 32473: the IANA number reserved for documentation (RFC 5612).
        _ => 32_473,
    };
    DeviceIdentity {
        manufacturer_id,
        ..DeviceIdentity::default()
    }
}

/// The 16-byte system GUID of node `index`: its Redfish `UUID`, least significant byte first
/// as IPMI sends GUIDs.
pub(crate) fn guid_of(index: usize) -> [u8; 16] {
    let uuid = crate::ids::uuid_for(index as u64);
    let hex: Vec<u8> = uuid
        .bytes()
        .filter(u8::is_ascii_hexdigit)
        .map(|c| match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => c - b'A' + 10,
        })
        .collect();
    let mut guid = [0; 16];
    for (slot, pair) in guid.iter_mut().rev().zip(hex.chunks(2)) {
        *slot = pair.iter().fold(0, |acc, nibble| (acc << 4) | nibble);
    }
    guid
}

fn hex(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len() * 3);
    for (i, b) in data.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{b:02x}");
    }
    out
}

impl IpmiNode for NodeIpmi {
    fn power_is_on(&self) -> bool {
        let now = Instant::now();
        let delays = self.node.delays();
        let profile = self.node.profile();
        lock(&self.node.state).power(now, profile, delays) != PowerState::Off
    }

    fn chassis_control(&self, control: ChassisControl) {
        let now = Instant::now();
        let delays = self.node.delays();
        let profile = self.node.profile();
        let kind = reset_for(control);
        // Like a BMC's power button logic, a request the state does not allow (on while on,
        // reset while off, anything but power down during a transition) does nothing.
        if let Err(refusal) = lock(&self.node.state).reset(kind, now, profile, delays) {
            tracing::debug!(
                node = self.node.index,
                ?control,
                ?refusal,
                "ipmi: chassis control had no effect"
            );
        }
    }

    fn boot_flags(&self) -> BootFlags {
        boot_flags_of(&self.node.state_at(Instant::now()).boot)
    }

    fn set_boot_flags(&self, flags: BootFlags) {
        let boot = boot_override_for(flags, self.node.profile());
        self.node.state_at(Instant::now()).boot = boot;
    }

    fn device_identity(&self) -> DeviceIdentity {
        device_identity_of(self.node.shared.personality)
    }

    fn is_reachable(&self) -> bool {
        !self.node.bmc_rebooting(Instant::now())
    }

    fn restart_count(&self) -> u64 {
        lock(&self.node.faults).bmc_restarts
    }

    fn command_handled(&self, command: &HandledCommand<'_>) {
        self.node.record(LogEntry {
            seq: 0,
            method: "IPMI".to_owned(),
            path: format!("/ipmi/{}", command.name()),
            headers: Vec::new(),
            body: logged_data(command.net_fn, command.command, command.data),
            status: u16::from(command.completion_code),
        });
    }
}

/// The commands whose request data is logged in hex: the ones the mock handles, none of which
/// carries a secret.
const DATA_LOGGED: &[(u8, u8)] = &[
    (0x00, 0x01), // Get Chassis Status
    (0x00, 0x02), // Chassis Control
    (0x00, 0x08), // Set System Boot Options
    (0x00, 0x09), // Get System Boot Options
    (0x06, 0x01), // Get Device ID
    (0x06, 0x37), // Get System GUID
    (0x06, 0x38), // Get Channel Authentication Capabilities
    (0x06, 0x3B), // Set Session Privilege Level
    (0x06, 0x3C), // Close Session
    (0x06, 0x54), // Get Channel Cipher Suites
];

/// Commands known to carry a secret (never logged, whatever `DATA_LOGGED` says): Set User
/// Password (06h/47h), Set Channel Security Keys (06h/56h), Activate Session (06h/3Ah, the
/// IPMI 1.5 password or auth code), Set LAN Configuration Parameters (0Ch/01h, parameter 22h
/// and the SNMP community, among others).
const SECRET_BEARING: &[(u8, u8)] = &[(0x06, 0x47), (0x06, 0x56), (0x06, 0x3A), (0x0C, 0x01)];

/// The body logged for an IPMI request: its data in hex for the commands in `DATA_LOGGED`, only
/// its length for anything else (commands the mock does not handle may carry passwords or keys
/// it cannot recognise).
fn logged_data(net_fn: u8, command: u8, data: &[u8]) -> String {
    let key = (net_fn & 0xFE, command);
    if DATA_LOGGED.contains(&key) && !SECRET_BEARING.contains(&key) {
        hex(data)
    } else {
        format!("<{} bytes not logged>", data.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boot(target: &str, enabled: OverrideEnabled, mode: &str) -> BootOverride {
        BootOverride {
            target: target.to_owned(),
            enabled,
            mode: mode.to_owned(),
        }
    }

    #[test]
    fn only_known_harmless_commands_log_their_data() {
        // Set User Password for user 3 with "secret".
        let set_password = [0x03, 0x02, b's', b'e', b'c', b'r', b'e', b't'];
        assert_eq!(
            logged_data(0x06, 0x47, &set_password),
            "<8 bytes not logged>"
        );
        assert_eq!(
            logged_data(0x06, 0x56, &[0x01, 0x01, 0xAA]),
            "<3 bytes not logged>"
        );
        assert_eq!(
            logged_data(0x2E, 0x01, &[0x57, 0x01]),
            "<2 bytes not logged>"
        );
        // Chassis Control power up, request or response netfn.
        assert_eq!(logged_data(0x00, 0x02, &[0x01]), "01");
        assert_eq!(logged_data(0x01, 0x02, &[0x01]), "01");
    }

    #[test]
    fn ipmitool_pxe_efiboot_becomes_a_once_uefi_pxe_override() {
        // `ipmitool chassis bootdev pxe options=efiboot` writes a0 04 00 00 00.
        let flags = BootFlags::from_parameter([0xa0, 0x04, 0, 0, 0]).unwrap();
        let profile = Personality::Generic.profile();
        assert_eq!(
            boot_override_for(flags, profile),
            boot("Pxe", OverrideEnabled::Once, "UEFI")
        );
    }

    #[test]
    fn each_device_maps_to_the_personalitys_vocabulary() {
        let flags = |device, persistent| BootFlags {
            valid: true,
            persistent,
            efi: false,
            device,
        };
        let generic = Personality::Generic.profile();
        let supermicro = Personality::Supermicro.profile();
        let lenovo = Personality::Lenovo.profile();
        let dell = Personality::Dell.profile();
        let hpe = Personality::Hpe.profile();
        let cases = [
            (
                flags(BootDevice::Disk, true),
                generic,
                "Hdd",
                OverrideEnabled::Continuous,
            ),
            (
                flags(BootDevice::Cdrom, false),
                generic,
                "Cd",
                OverrideEnabled::Once,
            ),
            (
                flags(BootDevice::Cdrom, false),
                supermicro,
                "UsbCd",
                OverrideEnabled::Once,
            ),
            (
                flags(BootDevice::BiosSetup, false),
                dell,
                "BiosSetup",
                OverrideEnabled::Once,
            ),
            (
                flags(BootDevice::Diagnostic, false),
                hpe,
                "Diags",
                OverrideEnabled::Once,
            ),
            (
                flags(BootDevice::Diagnostic, false),
                dell,
                "Utilities",
                OverrideEnabled::Once,
            ),
            // Generic offers no diagnostic target: the override is dropped.
            (
                flags(BootDevice::Diagnostic, false),
                generic,
                "None",
                OverrideEnabled::Disabled,
            ),
            (
                flags(BootDevice::Floppy, false),
                dell,
                "Floppy",
                OverrideEnabled::Once,
            ),
            (
                flags(BootDevice::Floppy, false),
                generic,
                "Usb",
                OverrideEnabled::Once,
            ),
            // XCC has no Continuous: a persistent IPMI override is recorded as Once.
            (
                flags(BootDevice::Pxe, true),
                lenovo,
                "Pxe",
                OverrideEnabled::Once,
            ),
        ];
        for (flags, profile, target, enabled) in cases {
            assert_eq!(
                boot_override_for(flags, profile),
                boot(target, enabled, "Legacy"),
                "{flags:?} on {}",
                profile.name
            );
        }
    }

    #[test]
    fn invalid_flags_or_no_override_disable_the_override() {
        let generic = Personality::Generic.profile();
        let invalid = BootFlags {
            valid: false,
            persistent: false,
            efi: true,
            device: BootDevice::Pxe,
        };
        assert_eq!(
            boot_override_for(invalid, generic),
            boot("Pxe", OverrideEnabled::Disabled, "UEFI")
        );
        let none = BootFlags {
            valid: true,
            device: BootDevice::NoOverride,
            ..invalid
        };
        assert_eq!(
            boot_override_for(none, generic),
            boot("None", OverrideEnabled::Disabled, "UEFI")
        );
        // Supermicro offers neither Floppy nor Usb, but UsbHdd.
        let floppy = BootFlags {
            device: BootDevice::Floppy,
            ..none
        };
        assert_eq!(
            boot_override_for(floppy, Personality::Supermicro.profile()).target,
            "UsbHdd"
        );
    }

    #[test]
    fn redfish_overrides_read_back_as_ipmi_flags() {
        assert_eq!(
            boot_flags_of(&boot("UsbCd", OverrideEnabled::Continuous, "Legacy")),
            BootFlags {
                valid: true,
                persistent: true,
                efi: false,
                device: BootDevice::Cdrom
            }
        );
        assert_eq!(
            boot_flags_of(&boot("Hdd", OverrideEnabled::Disabled, "UEFI")),
            BootFlags {
                valid: false,
                persistent: false,
                efi: true,
                device: BootDevice::Disk
            }
        );
        assert_eq!(
            boot_flags_of(&boot("UefiHttp", OverrideEnabled::Once, "UEFI")).device,
            BootDevice::NoOverride
        );
    }

    #[test]
    fn every_target_a_personality_offers_round_trips_where_ipmi_can_express_it() {
        for p in Personality::ALL {
            let profile = p.profile();
            for target in profile.boot_targets {
                let device = device_for_target(target);
                if device == BootDevice::NoOverride {
                    continue;
                }
                let back = target_for_device(device, profile).unwrap();
                assert_eq!(device_for_target(back), device, "{p} {target}");
            }
        }
    }

    #[test]
    fn chassis_controls_are_the_matching_resets() {
        assert_eq!(reset_for(ChassisControl::PowerUp), ResetType::On);
        assert_eq!(reset_for(ChassisControl::PowerDown), ResetType::ForceOff);
        assert_eq!(
            reset_for(ChassisControl::SoftShutdown),
            ResetType::GracefulShutdown
        );
        assert_eq!(reset_for(ChassisControl::PowerCycle), ResetType::PowerCycle);
        assert_eq!(
            reset_for(ChassisControl::HardReset),
            ResetType::ForceRestart
        );
    }

    #[test]
    fn guid_is_the_redfish_uuid_reversed() {
        let uuid = crate::ids::uuid_for(7).replace('-', "");
        let guid = guid_of(7);
        let back = guid.iter().rev().fold(String::new(), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        });
        assert_eq!(back, uuid);
        assert_ne!(guid_of(7), guid_of(8));
    }

    #[test]
    fn log_bodies_are_spaced_hex() {
        assert_eq!(hex(&[0xa0, 0x04, 0]), "a0 04 00");
        assert_eq!(hex(&[]), "");
    }
}
