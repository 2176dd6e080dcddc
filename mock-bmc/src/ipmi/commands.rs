//! IPMI command handlers: pure functions of the request, the node and the per-node IPMI state.
//! Session commands (Set Session Privilege Level, Close Session) live in the responder because
//! they change the session table.

use super::codec::Request;
use super::config::{CipherSuite, IpmiConfig, Privilege};
use super::node::{BootFlags, ChassisControl, IpmiNode};

/// Network functions (requests).
pub(crate) mod net_fn {
    /// Chassis.
    pub(crate) const CHASSIS: u8 = 0x00;
    /// Application.
    pub(crate) const APP: u8 = 0x06;
}

/// Application commands handled here or by the responder.
pub(crate) mod app {
    /// Get Device ID.
    pub(crate) const GET_DEVICE_ID: u8 = 0x01;
    /// Get System GUID.
    pub(crate) const GET_SYSTEM_GUID: u8 = 0x37;
    /// Get Channel Authentication Capabilities.
    pub(crate) const GET_CHANNEL_AUTH_CAPABILITIES: u8 = 0x38;
    /// Set Session Privilege Level.
    pub(crate) const SET_SESSION_PRIVILEGE: u8 = 0x3B;
    /// Close Session.
    pub(crate) const CLOSE_SESSION: u8 = 0x3C;
    /// Get Channel Cipher Suites.
    pub(crate) const GET_CHANNEL_CIPHER_SUITES: u8 = 0x54;
}

/// Chassis commands.
mod chassis {
    pub(super) const GET_STATUS: u8 = 0x01;
    pub(super) const CONTROL: u8 = 0x02;
    pub(super) const SET_BOOT_OPTIONS: u8 = 0x08;
    pub(super) const GET_BOOT_OPTIONS: u8 = 0x09;
}

/// Completion codes (Table 5-2) this server answers with.
pub(crate) mod cc {
    /// Command completed normally.
    pub(crate) const OK: u8 = 0x00;
    /// Boot options: parameter not supported.
    pub(crate) const PARAMETER_NOT_SUPPORTED: u8 = 0x80;
    /// Set Session Privilege Level: requested level exceeds the user/channel limit.
    pub(crate) const PRIVILEGE_EXCEEDS_LIMIT: u8 = 0x81;
    /// Close Session: invalid session ID.
    pub(crate) const INVALID_SESSION_ID: u8 = 0x87;
    /// Invalid command.
    pub(crate) const INVALID_COMMAND: u8 = 0xC1;
    /// Request data length invalid.
    pub(crate) const LENGTH_INVALID: u8 = 0xC7;
    /// Invalid data field in request.
    pub(crate) const INVALID_DATA: u8 = 0xCC;
    /// Insufficient privilege level.
    pub(crate) const INSUFFICIENT_PRIVILEGE: u8 = 0xD4;
}

/// A command's answer: completion code and response data.
pub(crate) type Reply = (u8, Vec<u8>);

fn reply(data: Vec<u8>) -> Reply {
    (cc::OK, data)
}

fn error(code: u8) -> Reply {
    (code, Vec::new())
}

/// System boot options kept per node, byte for byte (parameters 0, 3, 4, 5).
#[derive(Debug, Clone, Default)]
pub(crate) struct BootParameters {
    set_in_progress: u8,
    valid_bit_clearing: u8,
    boot_info_acknowledge: [u8; 2],
    /// Parameter 5 as last written, with the flags it decoded to; `None` until written.
    boot_flags: Option<([u8; 5], BootFlags)>,
    /// Parameters marked invalid/locked (selector byte bit 7 in Set), by selector.
    marked_invalid: [bool; 6],
}

impl BootParameters {
    /// Parameter 5 as it reads now: the bytes last written while the node still holds the
    /// flags they meant (so tools read back exactly what they wrote), else the node's current
    /// flags encoded (it changed through Redfish, or consumed a one-time override).
    fn boot_flags_bytes(&self, node: &dyn IpmiNode) -> [u8; 5] {
        let current = node.boot_flags();
        match self.boot_flags {
            Some((raw, written)) if written == current => raw,
            _ => current.to_parameter(),
        }
    }
}

/// The context a command runs in.
pub(crate) struct CommandContext<'a> {
    /// The node's state.
    pub(crate) node: &'a dyn IpmiNode,
    /// The server configuration.
    pub(crate) config: &'a IpmiConfig,
    /// Per-node boot options.
    pub(crate) boot: &'a mut BootParameters,
    /// The session's current privilege; `None` outside a session.
    pub(crate) privilege: Option<Privilege>,
}

/// The privilege a command needs (IPMI v2.0 Appendix G), or `None` when it is allowed before
/// a session exists.
fn required_privilege(net_fn: u8, command: u8) -> Option<Privilege> {
    match (net_fn, command) {
        (net_fn::APP, app::GET_CHANNEL_AUTH_CAPABILITIES | app::GET_CHANNEL_CIPHER_SUITES) => None,
        (
            net_fn::CHASSIS,
            chassis::CONTROL | chassis::SET_BOOT_OPTIONS | chassis::GET_BOOT_OPTIONS,
        ) => Some(Privilege::Operator),
        _ => Some(Privilege::User),
    }
}

/// Runs one (non-session) command.
pub(crate) fn handle(ctx: &mut CommandContext<'_>, request: &Request<'_>) -> Reply {
    let known = matches!(
        (request.net_fn, request.command),
        (
            net_fn::APP,
            app::GET_DEVICE_ID
                | app::GET_SYSTEM_GUID
                | app::GET_CHANNEL_AUTH_CAPABILITIES
                | app::GET_CHANNEL_CIPHER_SUITES
        ) | (
            net_fn::CHASSIS,
            chassis::GET_STATUS
                | chassis::CONTROL
                | chassis::SET_BOOT_OPTIONS
                | chassis::GET_BOOT_OPTIONS
        )
    );
    if !known {
        return error(cc::INVALID_COMMAND);
    }
    if let Some(needed) = required_privilege(request.net_fn, request.command) {
        match ctx.privilege {
            Some(current) if current >= needed => {}
            _ => return error(cc::INSUFFICIENT_PRIVILEGE),
        }
    }
    let data = request.data;
    match (request.net_fn, request.command) {
        (net_fn::APP, app::GET_DEVICE_ID) => get_device_id(ctx.node),
        (net_fn::APP, app::GET_SYSTEM_GUID) => reply(ctx.config.guid.to_vec()),
        (net_fn::APP, app::GET_CHANNEL_AUTH_CAPABILITIES) => {
            get_channel_auth_capabilities(ctx.config, data)
        }
        (net_fn::APP, app::GET_CHANNEL_CIPHER_SUITES) => {
            get_channel_cipher_suites(ctx.config, data)
        }
        (net_fn::CHASSIS, chassis::GET_STATUS) => get_chassis_status(ctx.node),
        (net_fn::CHASSIS, chassis::CONTROL) => chassis_control(ctx.node, data),
        (net_fn::CHASSIS, chassis::SET_BOOT_OPTIONS) => set_boot_options(ctx, data),
        (net_fn::CHASSIS, chassis::GET_BOOT_OPTIONS) => get_boot_options(ctx, data),
        _ => error(cc::INVALID_COMMAND),
    }
}

/// Resolves a request's channel byte (0Eh = "this channel") to the channel number.
fn channel(config: &IpmiConfig, byte: u8) -> Option<u8> {
    match byte & 0x0F {
        0x0E => Some(config.channel),
        number if number == config.channel => Some(number),
        _ => None,
    }
}

/// Get Device ID (§20.1): 15 bytes, manufacturer ID in 3 bytes.
fn get_device_id(node: &dyn IpmiNode) -> Reply {
    let id = node.device_identity();
    let manufacturer = (id.manufacturer_id & 0x000F_FFFF).to_le_bytes();
    let product = id.product_id.to_le_bytes();
    let mut data = vec![
        id.device_id,
        id.device_revision & 0x0F,
        id.firmware_major & 0x7F,
        id.firmware_minor_bcd,
        0x02,        // IPMI version 2.0
        0b1000_0000, // additional device support: chassis device
        manufacturer[0],
        manufacturer[1],
        manufacturer[2],
        product[0],
        product[1],
    ];
    data.extend_from_slice(&id.aux_firmware);
    reply(data)
}

/// Get Channel Authentication Capabilities (§22.13). This BMC offers IPMI 2.0 only, with
/// non-null user names; the Kg bit says whether a BMC key is set (`FreeIPMI` checks it).
fn get_channel_auth_capabilities(config: &IpmiConfig, data: &[u8]) -> Reply {
    let [channel_byte, privilege] = data else {
        return error(cc::LENGTH_INVALID);
    };
    let Some(number) = channel(config, *channel_byte) else {
        return error(cc::INVALID_DATA);
    };
    if Privilege::from_level(*privilege).is_none() {
        return error(cc::INVALID_DATA);
    }
    let extended = channel_byte & 0x80 != 0;
    let auth_types = if extended { 0x80 } else { 0x00 };
    let kg = if config.bmc_key.is_some() { 0x20 } else { 0x00 };
    let status = kg | 0x04; // non-null user names enabled
    let capabilities = if extended { 0x02 } else { 0x00 }; // supports IPMI 2.0 connections
    reply(vec![number, auth_types, status, capabilities, 0, 0, 0, 0])
}

/// The cipher suite records (Table 22-18) of the configured suites.
fn cipher_suite_records(suites: &[CipherSuite]) -> Vec<u8> {
    let mut out = Vec::new();
    for suite in suites {
        let (auth, integrity, confidentiality) = suite.algorithms();
        out.extend_from_slice(&[
            0xC0,
            suite.id(),
            auth,
            0x40 | integrity,
            0x80 | confidentiality,
        ]);
    }
    out
}

/// The supported algorithms, each once, tagged like the records' algorithm bytes.
fn supported_algorithms(suites: &[CipherSuite]) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::new();
    for suite in suites {
        let (auth, integrity, confidentiality) = suite.algorithms();
        for tagged in [auth, 0x40 | integrity, 0x80 | confidentiality] {
            if !out.contains(&tagged) {
                out.push(tagged);
            }
        }
    }
    out
}

/// Get Channel Cipher Suites (§22.15): 16 record bytes per list index.
fn get_channel_cipher_suites(config: &IpmiConfig, data: &[u8]) -> Reply {
    let [channel_byte, payload_type, index_byte] = data else {
        return error(cc::LENGTH_INVALID);
    };
    let Some(number) = channel(config, *channel_byte) else {
        return error(cc::INVALID_DATA);
    };
    let records = match (payload_type & 0x3F, index_byte & 0x80 != 0) {
        (0x00, true) => cipher_suite_records(&config.cipher_suites),
        (0x00, false) => supported_algorithms(&config.cipher_suites),
        _ => Vec::new(),
    };
    let start = usize::from(index_byte & 0x3F) * 16;
    let chunk = records.get(start..).unwrap_or_default();
    let mut out = vec![number];
    out.extend_from_slice(&chunk[..chunk.len().min(16)]);
    reply(out)
}

/// Get Chassis Status (§28.2).
fn get_chassis_status(node: &dyn IpmiNode) -> Reply {
    // Bits 6:5 = 01b: power restore policy "previous state".
    let power = 0x20 | u8::from(node.power_is_on());
    reply(vec![power, 0x00, 0x00, 0x00])
}

/// Chassis Control (§28.3).
fn chassis_control(node: &dyn IpmiNode, data: &[u8]) -> Reply {
    let [byte] = data else {
        return error(cc::LENGTH_INVALID);
    };
    match ChassisControl::from_byte(*byte) {
        Some(control) if byte & 0xF0 == 0 => {
            node.chassis_control(control);
            reply(Vec::new())
        }
        _ => error(cc::INVALID_DATA),
    }
}

/// Set System Boot Options (§28.12): parameters 0, 3, 4 and 5, kept byte for byte.
fn set_boot_options(ctx: &mut CommandContext<'_>, data: &[u8]) -> Reply {
    let [selector_byte, value @ ..] = data else {
        return error(cc::LENGTH_INVALID);
    };
    let selector = selector_byte & 0x7F;
    if selector == 3 && ctx.config.quirks.boot_parameter_3_unsupported {
        return error(cc::PARAMETER_NOT_SUPPORTED);
    }
    let expected_len = match selector {
        0 | 3 => 1,
        4 => 2,
        5 => 5,
        _ => return error(cc::PARAMETER_NOT_SUPPORTED),
    };
    if value.len() != expected_len {
        return error(cc::LENGTH_INVALID);
    }
    let boot = &mut *ctx.boot;
    match (selector, value) {
        (0, [state]) => match state & 0x03 {
            // Commit write (02h) takes effect at once here; the state stays as it was.
            0x02 => {}
            0x03 => return error(cc::INVALID_DATA),
            other => boot.set_in_progress = other,
        },
        (3, [mask]) => boot.valid_bit_clearing = *mask,
        (4, [mask, acknowledge]) => boot.boot_info_acknowledge = [*mask, *acknowledge],
        (5, bytes) => {
            let mut raw = [0; 5];
            raw.copy_from_slice(bytes);
            let Some(flags) = BootFlags::from_parameter(raw) else {
                return error(cc::INVALID_DATA);
            };
            boot.boot_flags = Some((raw, flags));
            ctx.node.set_boot_flags(flags);
        }
        _ => return error(cc::INVALID_DATA),
    }
    if let Some(mark) = boot.marked_invalid.get_mut(usize::from(selector)) {
        *mark = selector_byte & 0x80 != 0;
    }
    reply(Vec::new())
}

/// Get System Boot Options (§28.13).
fn get_boot_options(ctx: &mut CommandContext<'_>, data: &[u8]) -> Reply {
    let [selector_byte, _set, _block] = data else {
        return error(cc::LENGTH_INVALID);
    };
    let selector = selector_byte & 0x7F;
    if selector == 3 && ctx.config.quirks.boot_parameter_3_unsupported {
        return error(cc::PARAMETER_NOT_SUPPORTED);
    }
    let boot = &*ctx.boot;
    let value = match selector {
        0 => vec![boot.set_in_progress],
        3 => vec![boot.valid_bit_clearing],
        4 => boot.boot_info_acknowledge.to_vec(),
        5 => boot.boot_flags_bytes(ctx.node).to_vec(),
        _ => return error(cc::PARAMETER_NOT_SUPPORTED),
    };
    let invalid = boot
        .marked_invalid
        .get(usize::from(selector))
        .copied()
        .unwrap_or(false);
    let mut out = vec![0x01, selector | if invalid { 0x80 } else { 0x00 }];
    out.extend_from_slice(&value);
    reply(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipmi::config::IpmiUser;
    use crate::ipmi::node::{BootDevice, SimpleIpmiNode};

    fn config() -> IpmiConfig {
        IpmiConfig::new(vec![
            IpmiUser::new("admin", "password", Privilege::Administrator).unwrap(),
        ])
    }

    fn run(
        node: &SimpleIpmiNode,
        boot: &mut BootParameters,
        privilege: Option<Privilege>,
        net_fn: u8,
        command: u8,
        data: &[u8],
    ) -> Reply {
        let config = config();
        let mut ctx = CommandContext {
            node,
            config: &config,
            boot,
            privilege,
        };
        let request = Request {
            rs_addr: 0x20,
            net_fn,
            rs_lun: 0,
            rq_addr: 0x81,
            rq_seq: 1,
            rq_lun: 0,
            command,
            data,
        };
        handle(&mut ctx, &request)
    }

    const ADMIN: Option<Privilege> = Some(Privilege::Administrator);

    #[test]
    fn device_id_is_15_bytes_with_a_3_byte_manufacturer() {
        let node = SimpleIpmiNode::default();
        let (code, data) = run(
            &node,
            &mut BootParameters::default(),
            ADMIN,
            0x06,
            0x01,
            &[],
        );
        assert_eq!(code, 0);
        assert_eq!(data.len(), 15);
        assert_eq!(data[4], 0x02, "IPMI version 2.0");
        // 32473 = 7ED9h, least significant byte first, 3 bytes.
        assert_eq!(&data[6..9], &[0xD9, 0x7E, 0x00]);
    }

    #[test]
    fn auth_capabilities_report_v2_and_the_kg_bit() {
        let node = SimpleIpmiNode::default();
        let mut boot = BootParameters::default();
        let (code, data) = run(&node, &mut boot, None, 0x06, 0x38, &[0x8e, 0x04]);
        assert_eq!(code, 0);
        assert_eq!(data, vec![1, 0x80, 0x04, 0x02, 0, 0, 0, 0]);
        let mut with_kg = config();
        with_kg.bmc_key = Some(crate::ipmi::IpmiKey::from_text("kg").unwrap());
        let (_, data) = get_channel_auth_capabilities(&with_kg, &[0x0e, 0x04]);
        assert_eq!(data[2], 0x24);
        assert_eq!(data[1] & 0x80, 0, "no extended data when not asked for");
        assert_eq!(
            get_channel_auth_capabilities(&with_kg, &[0x0e]).0,
            cc::LENGTH_INVALID
        );
        assert_eq!(
            get_channel_auth_capabilities(&with_kg, &[0x05, 0x04]).0,
            cc::INVALID_DATA
        );
    }

    #[test]
    fn cipher_suites_list_the_spec_records_in_16_byte_pages() {
        let mut config = config();
        let (code, data) = get_channel_cipher_suites(&config, &[0x0e, 0x00, 0x80]);
        assert_eq!(code, 0);
        assert_eq!(
            data,
            vec![
                1, 0xC0, 0x11, 0x03, 0x44, 0x81, 0xC0, 0x03, 0x01, 0x41, 0x81
            ]
        );
        let (_, next) = get_channel_cipher_suites(&config, &[0x0e, 0x00, 0x81]);
        assert_eq!(next, vec![1], "second page is empty: the list ended");
        let (_, algorithms) = get_channel_cipher_suites(&config, &[0x0e, 0x00, 0x00]);
        assert_eq!(algorithms, vec![1, 0x03, 0x44, 0x81, 0x01, 0x41]);
        config.cipher_suites = vec![CipherSuite::Suite3];
        let (_, data) = get_channel_cipher_suites(&config, &[0x0e, 0x00, 0x80]);
        assert_eq!(data, vec![1, 0xC0, 0x03, 0x01, 0x41, 0x81]);
    }

    #[test]
    fn privileges_are_enforced() {
        let node = SimpleIpmiNode::new(false);
        let mut boot = BootParameters::default();
        let user = Some(Privilege::User);
        assert_eq!(run(&node, &mut boot, user, 0x00, 0x02, &[0x01]).0, 0xD4);
        assert!(!node.power_is_on());
        assert_eq!(run(&node, &mut boot, None, 0x00, 0x01, &[]).0, 0xD4);
        assert_eq!(run(&node, &mut boot, None, 0x06, 0x01, &[]).0, 0xD4);
        assert_eq!(run(&node, &mut boot, user, 0x00, 0x01, &[]).0, 0x00);
        let operator = Some(Privilege::Operator);
        assert_eq!(run(&node, &mut boot, operator, 0x00, 0x02, &[0x01]).0, 0x00);
        assert!(node.power_is_on());
    }

    #[test]
    fn unknown_commands_answer_c1() {
        let node = SimpleIpmiNode::default();
        let mut boot = BootParameters::default();
        // Get PICMG Properties, which ipmitool probes.
        assert_eq!(run(&node, &mut boot, ADMIN, 0x2c, 0x00, &[0x00]).0, 0xC1);
        assert_eq!(run(&node, &mut boot, ADMIN, 0x0a, 0x10, &[]).0, 0xC1);
    }

    #[test]
    fn chassis_status_and_control() {
        let node = SimpleIpmiNode::new(true);
        let mut boot = BootParameters::default();
        let (_, status) = run(&node, &mut boot, ADMIN, 0x00, 0x01, &[]);
        assert_eq!(status[0] & 1, 1);
        assert_eq!(run(&node, &mut boot, ADMIN, 0x00, 0x02, &[0x00]).0, 0);
        let (_, status) = run(&node, &mut boot, ADMIN, 0x00, 0x01, &[]);
        assert_eq!(status[0] & 1, 0);
        assert_eq!(run(&node, &mut boot, ADMIN, 0x00, 0x02, &[0x06]).0, 0xCC);
        assert_eq!(run(&node, &mut boot, ADMIN, 0x00, 0x02, &[]).0, 0xC7);
        assert_eq!(node.control_log(), vec![ChassisControl::PowerDown]);
    }

    #[test]
    fn ipmitool_bootdev_sequence_is_kept_byte_for_byte_and_reaches_the_node() {
        let node = SimpleIpmiNode::default();
        let mut boot = BootParameters::default();
        // What ipmitool 1.8.19 sends for `chassis bootdev pxe options=efiboot`.
        for data in [
            &[0x00, 0x01][..],
            &[0x04, 0x01, 0x01],
            &[0x05, 0xa0, 0x04, 0x00, 0x00, 0x00],
            &[0x00, 0x02],
            &[0x00, 0x00],
        ] {
            assert_eq!(run(&node, &mut boot, ADMIN, 0x00, 0x08, data).0, 0);
        }
        assert_eq!(
            node.boot_flags(),
            BootFlags {
                valid: true,
                persistent: false,
                efi: true,
                device: BootDevice::Pxe
            }
        );
        let (code, data) = run(&node, &mut boot, ADMIN, 0x00, 0x09, &[0x05, 0, 0]);
        assert_eq!(code, 0);
        assert_eq!(data, vec![0x01, 0x05, 0xa0, 0x04, 0x00, 0x00, 0x00]);
        let (_, data) = run(&node, &mut boot, ADMIN, 0x00, 0x09, &[0x04, 0, 0]);
        assert_eq!(data, vec![0x01, 0x04, 0x01, 0x01]);
        let (_, data) = run(&node, &mut boot, ADMIN, 0x00, 0x09, &[0x00, 0, 0]);
        assert_eq!(data, vec![0x01, 0x00, 0x00]);
        // pyghmi's param 3 = 08h reads back too.
        assert_eq!(run(&node, &mut boot, ADMIN, 0x00, 0x08, &[0x03, 0x08]).0, 0);
        let (_, data) = run(&node, &mut boot, ADMIN, 0x00, 0x09, &[0x03, 0, 0]);
        assert_eq!(data, vec![0x01, 0x03, 0x08]);
    }

    #[test]
    fn bytes_without_semantic_form_are_kept_while_the_node_agrees() {
        let node = SimpleIpmiNode::default();
        let mut boot = BootParameters::default();
        // Byte 3 = 01h (console redirection) has no semantic form but must read back.
        let sent = [0x05, 0xc0, 0x08, 0x01, 0x00, 0x02];
        assert_eq!(run(&node, &mut boot, ADMIN, 0x00, 0x08, &sent).0, 0);
        let (_, data) = run(&node, &mut boot, ADMIN, 0x00, 0x09, &[0x05, 0, 0]);
        assert_eq!(&data[2..], &sent[1..]);
        // The node changes its override (through Redfish): IPMI reports the node's truth.
        node.set_boot_flags(BootFlags {
            valid: true,
            persistent: false,
            efi: false,
            device: BootDevice::Cdrom,
        });
        let (_, data) = run(&node, &mut boot, ADMIN, 0x00, 0x09, &[0x05, 0, 0]);
        assert_eq!(&data[2..], &[0x80, 0x14, 0, 0, 0]);
    }

    #[test]
    fn boot_option_errors() {
        let node = SimpleIpmiNode::default();
        let mut boot = BootParameters::default();
        assert_eq!(
            run(&node, &mut boot, ADMIN, 0x00, 0x08, &[0x06, 0x00]).0,
            0x80
        );
        assert_eq!(
            run(&node, &mut boot, ADMIN, 0x00, 0x09, &[0x07, 0, 0]).0,
            0x80
        );
        assert_eq!(
            run(&node, &mut boot, ADMIN, 0x00, 0x08, &[0x05, 0x80]).0,
            0xC7
        );
        // Reserved device selector 1010b.
        let reserved = [0x05, 0x80, 0b1010 << 2, 0, 0, 0];
        assert_eq!(run(&node, &mut boot, ADMIN, 0x00, 0x08, &reserved).0, 0xCC);
        assert_eq!(node.boot_flags(), BootFlags::default());
        // Selector bit 7 marks the parameter invalid; Get reports it.
        assert_eq!(run(&node, &mut boot, ADMIN, 0x00, 0x08, &[0x83, 0x00]).0, 0);
        let (_, data) = run(&node, &mut boot, ADMIN, 0x00, 0x09, &[0x03, 0, 0]);
        assert_eq!(data, vec![0x01, 0x83, 0x00]);
    }
}
