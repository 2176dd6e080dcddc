//! The protocol engine of one node: datagram in, optional datagram out. Pure apart from the
//! injected randomness; time is passed in.
//!
//! Over 600 lines: the engine is about 570; the rest are byte-exact tests against ipmitool
//! traces, which need the private session state and stay beside it.

use std::net::SocketAddr;
use std::time::Instant;

use super::codec::{
    self, Datagram, OpenSessionGrant, OpenSessionRequest, Request, RmcppPacket, payload,
};
use super::commands::{self, BootParameters, CommandContext, app, cc, net_fn};
use super::compare::constant_time_eq;
use super::config::{CipherSuite, IpmiConfig, IpmiFaults, Privilege};
use super::crypto::{RakpInputs, SessionKeys, SuiteHash};
use super::node::{HandledCommand, IpmiNode};
use super::session::{
    ActiveSession, Handshake, SequenceWindow, Session, SessionState, SessionTable,
};

/// A source of random bytes (session IDs, RAKP randoms, IVs). Injected so tests can replay
/// known handshakes.
pub(crate) type Entropy = Box<dyn FnMut(&mut [u8]) + Send>;

/// RMCP+ status codes (Table 13-15) this server sends.
mod status {
    pub(super) const NO_RESOURCES: u8 = 0x01;
    pub(super) const INVALID_SESSION_ID: u8 = 0x02;
    pub(super) const INVALID_AUTHENTICATION_ALGORITHM: u8 = 0x04;
    pub(super) const INVALID_INTEGRITY_ALGORITHM: u8 = 0x05;
    pub(super) const INVALID_ROLE: u8 = 0x09;
    pub(super) const UNAUTHORIZED_ROLE: u8 = 0x0A;
    pub(super) const INVALID_NAME_LENGTH: u8 = 0x0C;
    pub(super) const UNAUTHORIZED_NAME: u8 = 0x0D;
    pub(super) const INVALID_INTEGRITY_CHECK_VALUE: u8 = 0x0F;
    pub(super) const INVALID_CONFIDENTIALITY_ALGORITHM: u8 = 0x10;
    pub(super) const NO_CIPHER_SUITE_MATCH: u8 = 0x11;
}

/// The IPMI state of one node: configuration, faults, sessions, boot options.
pub(crate) struct Responder {
    pub(crate) config: IpmiConfig,
    pub(crate) faults: IpmiFaults,
    sessions: SessionTable,
    boot: BootParameters,
    entropy: Entropy,
}

impl Responder {
    /// A responder with no sessions.
    pub(crate) fn new(config: IpmiConfig, entropy: Entropy) -> Self {
        Self {
            faults: config.faults.clone(),
            config,
            sessions: SessionTable::default(),
            boot: BootParameters::default(),
            entropy,
        }
    }

    /// Forgets every session, as a BMC does when it restarts.
    pub(crate) fn forget_sessions(&mut self) {
        self.sessions.clear();
    }

    /// Number of sessions not yet idle for the timeout, half-open ones included.
    pub(crate) fn session_count(&mut self, now: Instant) -> usize {
        self.sessions.expire(now, self.config.idle_timeout);
        self.sessions.len()
    }

    /// Answers one datagram; `None` means stay silent (garbage, replays, unknown sessions).
    /// `peer` is the datagram's source address: a retransmitted Open Session comes from the
    /// same one, while another console process reusing ipmitool's fixed session ID does not.
    pub(crate) fn handle(
        &mut self,
        datagram: &[u8],
        peer: SocketAddr,
        now: Instant,
        node: &dyn IpmiNode,
    ) -> Option<Vec<u8>> {
        self.sessions.expire(now, self.config.idle_timeout);
        let parsed = match codec::parse_datagram(datagram) {
            Ok(parsed) => parsed,
            Err(error) => {
                tracing::debug!(reason = error.0, "ipmi: dropped datagram");
                return None;
            }
        };
        match parsed {
            Datagram::AsfPing { rmcp_sequence, tag } => Some(codec::asf_pong(rmcp_sequence, tag)),
            Datagram::Ipmi15 {
                session_id: 0,
                message,
            } => self
                .pre_session_command(message, node)
                .map(|response| codec::ipmi15_packet(&response)),
            Datagram::Ipmi15 { .. } => None,
            Datagram::Rmcpp(packet) => self.rmcpp(&packet, peer, now, node),
        }
    }

    fn random<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0; N];
        (self.entropy)(&mut out);
        out
    }

    fn rmcpp(
        &mut self,
        packet: &RmcppPacket<'_>,
        peer: SocketAddr,
        now: Instant,
        node: &dyn IpmiNode,
    ) -> Option<Vec<u8>> {
        let plain = packet.payload_type & 0xC0 == 0;
        match (packet.kind(), packet.session_id) {
            (payload::IPMI, 0) if plain => self
                .pre_session_command(packet.payload, node)
                .map(|response| codec::rmcpp_unauthenticated(payload::IPMI, &response)),
            (payload::IPMI, id) if id != 0 => self.in_session(packet, now, node),
            (payload::OPEN_SESSION_REQUEST, 0) if plain => self
                .open_session(packet.payload, peer, now)
                .map(|reply| codec::rmcpp_unauthenticated(payload::OPEN_SESSION_RESPONSE, &reply)),
            (payload::RAKP1, 0) if plain => self
                .rakp1(packet.payload, now)
                .map(|reply| codec::rmcpp_unauthenticated(payload::RAKP2, &reply)),
            (payload::RAKP3, 0) if plain => self
                .rakp3(packet.payload, now)
                .map(|reply| codec::rmcpp_unauthenticated(payload::RAKP4, &reply)),
            _ => None,
        }
    }

    /// Get Channel Authentication Capabilities / Get Channel Cipher Suites before a session.
    fn pre_session_command(&mut self, message: &[u8], node: &dyn IpmiNode) -> Option<Vec<u8>> {
        let request = codec::parse_request(message).ok()?;
        if self.config.quirks.ignore_extended_auth_capabilities
            && (request.net_fn, request.command)
                == (net_fn::APP, app::GET_CHANNEL_AUTH_CAPABILITIES)
            && request
                .data
                .first()
                .is_some_and(|channel| channel & 0x80 != 0)
        {
            tracing::debug!("ipmi: quirk: ignoring auth capabilities with the v2.0 bit");
            return None;
        }
        let mut ctx = CommandContext {
            node,
            config: &self.config,
            boot: &mut self.boot,
            privilege: None,
        };
        let (code, data) = commands::handle(&mut ctx, &request);
        node.command_handled(&HandledCommand {
            net_fn: request.net_fn,
            command: request.command,
            data: request.data,
            completion_code: code,
            in_session: false,
        });
        Some(codec::build_response(&request, code, &data))
    }

    /// Picks the suite for an Open Session proposal: the first configured suite whose whole
    /// triple matches (records of length 0 match anything), or the RMCP+ status to refuse with.
    fn select_suite(&self, request: &OpenSessionRequest) -> Result<CipherSuite, u8> {
        let fits = |proposal: Option<u8>, algorithm: u8| proposal.is_none_or(|p| p == algorithm);
        let suites = &self.config.cipher_suites;
        let any = |pick: fn((u8, u8, u8)) -> u8, proposal: Option<u8>| {
            suites.iter().any(|s| fits(proposal, pick(s.algorithms())))
        };
        if !any(|a| a.0, request.authentication.algorithm) {
            return Err(status::INVALID_AUTHENTICATION_ALGORITHM);
        }
        if !any(|a| a.1, request.integrity.algorithm) {
            return Err(status::INVALID_INTEGRITY_ALGORITHM);
        }
        if !any(|a| a.2, request.confidentiality.algorithm) {
            return Err(status::INVALID_CONFIDENTIALITY_ALGORITHM);
        }
        suites
            .iter()
            .copied()
            .filter(|suite| {
                let (auth, integrity, confidentiality) = suite.algorithms();
                fits(request.authentication.algorithm, auth)
                    && fits(request.integrity.algorithm, integrity)
                    && fits(request.confidentiality.algorithm, confidentiality)
            })
            .find(|suite| !self.faults.refused_suites.contains(suite))
            .ok_or(status::NO_CIPHER_SUITE_MATCH)
    }

    fn open_session(&mut self, payload: &[u8], peer: SocketAddr, now: Instant) -> Option<Vec<u8>> {
        let request = codec::parse_open_session_request(payload).ok()?;
        if let Some(reply) = self.sessions.retransmitted_open(payload, peer) {
            return Some(reply.to_vec());
        }
        let refuse = |status: u8| {
            Some(codec::open_session_response(
                request.tag,
                status,
                request.console_session_id,
                None,
            ))
        };
        if request.console_session_id == 0 {
            return refuse(status::INVALID_SESSION_ID);
        }
        let suite = match self.select_suite(&request) {
            Ok(suite) => suite,
            Err(status) => return refuse(status),
        };
        let highest = self.config.highest_privilege();
        let granted = match request.requested_privilege {
            0 => highest,
            level => match Privilege::from_level(level) {
                None => return refuse(status::INVALID_ROLE),
                Some(asked) if asked > highest => return refuse(status::UNAUTHORIZED_ROLE),
                Some(asked) => asked,
            },
        };
        if self.sessions.len() >= self.config.max_sessions {
            return refuse(status::NO_RESOURCES);
        }
        let managed_session_id = loop {
            let id = u32::from_le_bytes(self.random());
            if id != 0 && !self.sessions.contains(id) {
                break id;
            }
        };
        let grant = OpenSessionGrant {
            max_privilege: granted.level(),
            console_session_id: request.console_session_id,
            managed_session_id,
            algorithms: suite.algorithms(),
        };
        let reply =
            codec::open_session_response(request.tag, 0, request.console_session_id, Some(&grant));
        tracing::debug!(
            suite = suite.id(),
            session = managed_session_id,
            "ipmi: session opened"
        );
        self.sessions.insert(
            managed_session_id,
            Session {
                console_session_id: request.console_session_id,
                suite,
                granted_privilege: granted,
                last_activity: now,
                state: SessionState::Opened {
                    peer,
                    request: payload.to_vec(),
                    reply: reply.clone(),
                },
            },
        );
        Some(reply)
    }

    fn rakp1(&mut self, payload: &[u8], now: Instant) -> Option<Vec<u8>> {
        let rakp1 = codec::parse_rakp1(payload).ok()?;
        let bmc_random: [u8; 16] = self.random();
        let guid = self.config.guid;
        let Some(session) = self.sessions.get_mut(rakp1.managed_session_id) else {
            return Some(codec::rakp2(rakp1.tag, status::INVALID_SESSION_ID, 0, None));
        };
        match &session.state {
            SessionState::Authenticating(handshake) if handshake.rakp1 == payload => {
                return Some(handshake.rakp2.clone());
            }
            SessionState::Opened { .. } | SessionState::Authenticating(_) => {}
            SessionState::Active(_) => return None,
        }
        session.last_activity = now;
        let console_session_id = session.console_session_id;
        let refusal = if rakp1.name.len() > 16 {
            Err(status::INVALID_NAME_LENGTH)
        } else {
            match Privilege::from_level(rakp1.role) {
                Some(privilege) if rakp1.role & 0xE0 == 0 => Ok(privilege),
                _ => Err(status::INVALID_ROLE),
            }
        }
        .and_then(|privilege| {
            // Name-only lookup (bit 4) or name+privilege lookup: both find the user by name.
            let user = self
                .config
                .users
                .iter()
                .find(|user| user.name() == rakp1.name)
                .ok_or(status::UNAUTHORIZED_NAME)?;
            if privilege > user.max_privilege() || privilege > session.granted_privilege {
                return Err(status::UNAUTHORIZED_ROLE);
            }
            Ok((privilege, user.clone()))
        });
        let (privilege_limit, user) = match refusal {
            Ok(found) => found,
            Err(code) => {
                tracing::debug!(status = code, "ipmi: rakp 1 refused");
                self.sessions.remove(rakp1.managed_session_id);
                return Some(codec::rakp2(rakp1.tag, code, console_session_id, None));
            }
        };
        let inputs = RakpInputs {
            console_session_id,
            managed_session_id: rakp1.managed_session_id,
            console_random: &rakp1.console_random,
            bmc_random: &bmc_random,
            guid: &guid,
            role: rakp1.role,
            name: rakp1.name,
        };
        let code = inputs.rakp2_code(SuiteHash::of(session.suite), user.password().padded());
        let reply = codec::rakp2(
            rakp1.tag,
            0,
            console_session_id,
            Some((&bmc_random, &guid, &code)),
        );
        session.state = SessionState::Authenticating(Box::new(Handshake {
            user,
            console_random: rakp1.console_random,
            bmc_random,
            role: rakp1.role,
            privilege_limit,
            rakp1: payload.to_vec(),
            rakp2: reply.clone(),
        }));
        Some(reply)
    }

    fn rakp3(&mut self, payload: &[u8], now: Instant) -> Option<Vec<u8>> {
        let rakp3 = codec::parse_rakp3(payload).ok()?;
        let id = rakp3.managed_session_id;
        let guid = self.config.guid;
        let Some(session) = self.sessions.get_mut(id) else {
            return Some(codec::rakp4(rakp3.tag, status::INVALID_SESSION_ID, 0, &[]));
        };
        let console_session_id = session.console_session_id;
        let handshake = match &session.state {
            SessionState::Active(active) if active.rakp3 == payload => {
                return Some(active.rakp4.clone());
            }
            SessionState::Authenticating(handshake) => handshake,
            SessionState::Opened { .. } | SessionState::Active(_) => {
                return Some(codec::rakp4(
                    rakp3.tag,
                    status::INVALID_SESSION_ID,
                    console_session_id,
                    &[],
                ));
            }
        };
        if rakp3.status != 0 {
            // The console rejected RAKP 2 (e.g. wrong password on its side): no answer.
            self.sessions.remove(id);
            return None;
        }
        let hash = SuiteHash::of(session.suite);
        let inputs = RakpInputs {
            console_session_id,
            managed_session_id: id,
            console_random: &handshake.console_random,
            bmc_random: &handshake.bmc_random,
            guid: &guid,
            role: handshake.role,
            name: handshake.user.name(),
        };
        let password = handshake.user.password().padded();
        if !constant_time_eq(&inputs.rakp3_code(hash, password), rakp3.auth_code) {
            tracing::debug!(session = id, "ipmi: rakp 3 code mismatch (wrong password)");
            self.sessions.remove(id);
            return Some(codec::rakp4(
                rakp3.tag,
                status::INVALID_INTEGRITY_CHECK_VALUE,
                console_session_id,
                &[],
            ));
        }
        let kg = self
            .config
            .bmc_key
            .as_ref()
            .map_or(password, |key| key.padded());
        let sik = inputs.session_integrity_key(hash, kg);
        let icv = inputs.rakp4_icv(hash, &sik);
        let reply = codec::rakp4(rakp3.tag, 0, console_session_id, &icv);
        let privilege_limit = handshake.privilege_limit;
        session.last_activity = now;
        session.state = SessionState::Active(Box::new(ActiveSession {
            keys: SessionKeys::derive(hash, &sik),
            privilege_limit,
            privilege: privilege_limit.min(Privilege::User),
            inbound: SequenceWindow::default(),
            outbound_sequence: 0,
            rakp3: payload.to_vec(),
            rakp4: reply.clone(),
            last_exchange: None,
        }));
        tracing::debug!(session = id, "ipmi: session active");
        Some(reply)
    }

    /// The established session with the BMC's session ID `id`, and its console session ID.
    fn active_mut(&mut self, id: u32) -> Option<(&mut ActiveSession, u32)> {
        let session = self.sessions.get_mut(id)?;
        match &mut session.state {
            SessionState::Active(active) => Some((active, session.console_session_id)),
            _ => None,
        }
    }

    /// Checks an in-session packet (payload bits, integrity, sequence window) and decrypts it.
    fn open_packet(&mut self, packet: &RmcppPacket<'_>, now: Instant) -> Option<Vec<u8>> {
        let id = packet.session_id;
        let session = self.sessions.get_mut(id)?;
        let SessionState::Active(active) = &mut session.state else {
            return None;
        };
        // Suites 3 and 17 both integrity-protect and encrypt every packet.
        if !(packet.encrypted() && packet.authenticated()) {
            return None;
        }
        let (span, auth_code) = packet.integrity_parts(active.keys.icv_len()).ok()?;
        if !constant_time_eq(&active.keys.integrity_code(span), auth_code) {
            tracing::debug!(session = id, "ipmi: integrity check failed");
            return None;
        }
        if !active.inbound.accept(packet.sequence) {
            return None;
        }
        session.last_activity = now;
        active.keys.decrypt(packet.payload).ok()
    }

    fn in_session(
        &mut self,
        packet: &RmcppPacket<'_>,
        now: Instant,
        node: &dyn IpmiNode,
    ) -> Option<Vec<u8>> {
        let id = packet.session_id;
        let message = self.open_packet(packet, now)?;
        let request = codec::parse_request(&message).ok()?;
        let (active, _) = self.active_mut(id)?;
        let privilege = active.privilege;
        let cached = match &active.last_exchange {
            Some((seen, response)) if *seen == message => Some(response.clone()),
            _ => None,
        };
        let mut close = None;
        let response = if let Some(response) = cached {
            response
        } else {
            let (code, data) = match (request.net_fn, request.command) {
                (net_fn::APP, app::SET_SESSION_PRIVILEGE) => {
                    let ceiling = self.config.quirks.session_privilege_ceiling;
                    set_session_privilege(self.active_mut(id)?.0, request.data, ceiling)
                }
                (net_fn::APP, app::CLOSE_SESSION) => {
                    match close_session_target(id, privilege, &request) {
                        Ok(target) if self.sessions.contains(target) => {
                            close = Some(target);
                            (cc::OK, Vec::new())
                        }
                        Ok(_) => (cc::INVALID_SESSION_ID, Vec::new()),
                        Err(code) => (code, Vec::new()),
                    }
                }
                _ => {
                    let mut ctx = CommandContext {
                        node,
                        config: &self.config,
                        boot: &mut self.boot,
                        privilege: Some(privilege),
                    };
                    commands::handle(&mut ctx, &request)
                }
            };
            node.command_handled(&HandledCommand {
                net_fn: request.net_fn,
                command: request.command,
                data: request.data,
                completion_code: code,
                in_session: true,
            });
            let response = codec::build_response(&request, code, &data);
            self.active_mut(id)?.0.last_exchange = Some((message, response.clone()));
            response
        };
        let iv: [u8; 16] = self.random();
        let (active, console_session_id) = self.active_mut(id)?;
        let sequence = active.next_outbound_sequence();
        let sealed = seal(&active.keys, console_session_id, sequence, &iv, &response);
        if let Some(target) = close {
            self.sessions.remove(target);
            tracing::debug!(session = target, "ipmi: session closed");
        }
        Some(sealed)
    }
}

/// Set Session Privilege Level (§22.18): 0 reports the current level. `ceiling` is the quirk
/// [`super::config::IpmiQuirks::session_privilege_ceiling`].
fn set_session_privilege(
    active: &mut ActiveSession,
    data: &[u8],
    ceiling: Option<Privilege>,
) -> (u8, Vec<u8>) {
    let [byte] = data else {
        return (cc::LENGTH_INVALID, Vec::new());
    };
    let level = byte & 0x0F;
    if level == 0 {
        return (cc::OK, vec![active.privilege.level()]);
    }
    match Privilege::from_level(level) {
        None => (cc::INVALID_DATA, Vec::new()),
        Some(asked) if asked > active.privilege_limit || ceiling.is_some_and(|c| asked > c) => {
            (cc::PRIVILEGE_EXCEEDS_LIMIT, Vec::new())
        }
        Some(asked) => {
            active.privilege = asked;
            (cc::OK, vec![asked.level()])
        }
    }
}

/// Which session Close Session (§22.19) closes: its own, or (administrators only) another.
fn close_session_target(own: u32, privilege: Privilege, request: &Request<'_>) -> Result<u32, u8> {
    let [a, b, c, d, ..] = request.data else {
        return Err(cc::LENGTH_INVALID);
    };
    let target = u32::from_le_bytes([*a, *b, *c, *d]);
    if target == own {
        Ok(own)
    } else if target == 0 {
        // Closing by session handle is not supported.
        Err(cc::INVALID_SESSION_ID)
    } else if privilege >= Privilege::Administrator {
        Ok(target)
    } else {
        Err(cc::INSUFFICIENT_PRIVILEGE)
    }
}

/// Wraps a response message for the console: encrypted payload, integrity trailer.
fn seal(
    keys: &SessionKeys,
    console_session_id: u32,
    sequence: u32,
    iv: &[u8; 16],
    message: &[u8],
) -> Vec<u8> {
    let encrypted = keys.encrypt(iv, message);
    let payload_type = codec::PAYLOAD_ENCRYPTED | codec::PAYLOAD_AUTHENTICATED | payload::IPMI;
    let mut out = codec::rmcpp_header(payload_type, console_session_id, sequence, encrypted.len());
    out.extend_from_slice(&encrypted);
    let pad = codec::integrity_pad_len(out.len() - 4);
    out.extend(std::iter::repeat_n(0xFF, pad));
    out.push(pad as u8);
    out.push(0x07);
    let code = keys.integrity_code(&out[4..]);
    out.extend_from_slice(&code);
    out
}

#[cfg(test)]
mod tests {
    //! The whole handshake of `ipmitool -C 17` replayed against the responder: the console's
    //! packets and every expected value are transcribed from
    //! `shared/reference/ipmi-traces/ipmitool-C17-vvvv.txt` (the BMC's randoms are injected).
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use super::*;
    use crate::ipmi::config::{IpmiKey, IpmiUser};
    use crate::ipmi::node::SimpleIpmiNode;

    fn hex(text: &str) -> Vec<u8> {
        let digits: Vec<u8> = text
            .bytes()
            .filter(u8::is_ascii_hexdigit)
            .map(|c| (c as char).to_digit(16).unwrap() as u8)
            .collect();
        digits.chunks(2).map(|p| p[0] << 4 | p[1]).collect()
    }

    const MANAGED_SESSION_ID: &str = "47 07 02 f9";
    const BMC_RANDOM: &str = "0b 52 b6 18 c3 bd ca dd c4 46 75 a4 55 19 24 47";
    const CONSOLE_RANDOM: &str = "a9 da 16 72 5b 41 57 e0 63 6e c3 42 28 b4 e9 02";
    const GUID: &str = "a1 23 45 67 89 ab cd ef a1 23 45 67 89 ab cd ef";
    const RAKP2_CODE: &str = "9c 75 c3 49 3d e0 9f 2b 18 3a 84 57 22 ce d6 d4
                              8b b7 9b 9e 95 ba dc 6e df 8d 02 36 69 f8 c4 96";
    const RAKP3_CODE: &str = "a1 17 54 17 15 0f 80 af 76 71 7f 11 9e 16 1f 22
                              68 b0 2c 4b 08 f8 fa f4 ec f3 1b 81 63 2a 83 a2";
    const RAKP4_ICV: &str = "ad 81 05 1d d9 2a 86 47 32 9e 96 e6 35 4a df da";
    /// The console's Set Session Privilege Level request (authcode input ‖ output).
    const REQUEST: &str = "06 c0 47 07 02 f9 03 00 00 00 20 00 98 29 87 46
                           ec 0c 4d 91 e9 02 c7 dc 1c 21 00 7a b1 c3 3d 9c
                           e4 63 07 7b 86 d8 87 5a 78 8d a0 45 ff ff 02 07
                           00 d7 b9 41 49 55 a7 41 7a a5 c6 e0 ee 22 1c 5c";
    /// The BMC's response to it, and the IV it used.
    const RESPONSE: &str = "06 c0 a4 a3 a2 a0 01 00 00 00 20 00 41 ec fc 10
                            df 2e 0b bb c4 9c 4a d3 f7 68 cf cb 95 6d 8a 22
                            17 79 39 67 bf f6 fa b7 23 13 ac 43 ff ff 02 07
                            00 e0 35 d6 9c e2 b2 93 0e cc ad 61 cb 4d 73 f4";
    const RESPONSE_IV: &str = "41 ec fc 10 df 2e 0b bb c4 9c 4a d3 f7 68 cf cb";

    const PEER: SocketAddr = SocketAddr::V4(std::net::SocketAddrV4::new(
        std::net::Ipv4Addr::LOCALHOST,
        40623,
    ));

    fn rmcp(body: &[u8]) -> Vec<u8> {
        let mut out = vec![0x06, 0x00, 0xff, 0x07];
        out.extend_from_slice(body);
        out
    }

    fn responder(config: IpmiConfig) -> Responder {
        let queue = Arc::new(Mutex::new(VecDeque::from([
            hex(MANAGED_SESSION_ID),
            hex(BMC_RANDOM),
            hex(RESPONSE_IV),
        ])));
        let entropy: Entropy = Box::new(move |buffer: &mut [u8]| {
            let next = queue.lock().unwrap().pop_front();
            match next {
                Some(bytes) => buffer.copy_from_slice(&bytes),
                None => buffer.fill(0x5A),
            }
        });
        Responder::new(config, entropy)
    }

    fn config() -> IpmiConfig {
        let mut config = IpmiConfig::new(vec![
            IpmiUser::new("admin", "password", Privilege::Administrator).unwrap(),
            IpmiUser::new("viewer", "password", Privilege::User).unwrap(),
        ]);
        config.guid = hex(GUID).try_into().unwrap();
        config
    }

    fn open_session_request(privilege: u8, auth: u8, integrity: u8) -> Vec<u8> {
        let mut payload = vec![0x00, privilege, 0, 0, 0xa4, 0xa3, 0xa2, 0xa0];
        payload.extend_from_slice(&[0x00, 0, 0, 0x08, auth, 0, 0, 0]);
        payload.extend_from_slice(&[0x01, 0, 0, 0x08, integrity, 0, 0, 0]);
        payload.extend_from_slice(&[0x02, 0, 0, 0x08, 0x01, 0, 0, 0]);
        codec::rmcpp_unauthenticated(payload::OPEN_SESSION_REQUEST, &payload)
    }

    fn rakp1(name: &[u8], role: u8) -> Vec<u8> {
        let mut payload = vec![0x00, 0, 0, 0];
        payload.extend_from_slice(&hex(MANAGED_SESSION_ID));
        payload.extend_from_slice(&hex(CONSOLE_RANDOM));
        payload.extend_from_slice(&[role, 0, 0, name.len() as u8]);
        payload.extend_from_slice(name);
        codec::rmcpp_unauthenticated(payload::RAKP1, &payload)
    }

    fn rakp3(code: &[u8]) -> Vec<u8> {
        let mut payload = vec![0x00, 0x00, 0, 0];
        payload.extend_from_slice(&hex(MANAGED_SESSION_ID));
        payload.extend_from_slice(code);
        codec::rmcpp_unauthenticated(payload::RAKP3, &payload)
    }

    /// Runs Open Session, RAKP 1 and RAKP 3 of the trace; returns RAKP 4's payload.
    fn handshake(responder: &mut Responder, node: &SimpleIpmiNode, now: Instant) -> Vec<u8> {
        let open = responder
            .handle(&open_session_request(0x00, 0x03, 0x04), PEER, now, node)
            .unwrap();
        assert_eq!(open[5], payload::OPEN_SESSION_RESPONSE);
        let body = &open[16..];
        assert_eq!(body[1], 0, "status");
        assert_eq!(body[2], 4, "the real maximum privilege, not 0");
        assert_eq!(&body[8..12], hex(MANAGED_SESSION_ID).as_slice());
        assert_eq!((body[16], body[24], body[32]), (0x03, 0x04, 0x01));

        let rakp2 = responder
            .handle(&rakp1(b"admin", 0x14), PEER, now, node)
            .unwrap();
        let mut expected = vec![0x00, 0x00, 0, 0, 0xa4, 0xa3, 0xa2, 0xa0];
        expected.extend(hex(BMC_RANDOM));
        expected.extend(hex(GUID));
        expected.extend(hex(RAKP2_CODE));
        assert_eq!(&rakp2[16..], expected.as_slice());

        let rakp4 = responder
            .handle(&rakp3(&hex(RAKP3_CODE)), PEER, now, node)
            .unwrap();
        rakp4[16..].to_vec()
    }

    #[test]
    fn ipmitool_suite_17_handshake_and_first_command_are_byte_exact() {
        let node = SimpleIpmiNode::default();
        let mut responder = responder(config());
        let now = Instant::now();
        let rakp4 = handshake(&mut responder, &node, now);
        let mut expected = vec![0x00, 0x00, 0, 0, 0xa4, 0xa3, 0xa2, 0xa0];
        expected.extend(hex(RAKP4_ICV));
        assert_eq!(rakp4, expected);

        let reply = responder
            .handle(&rmcp(&hex(REQUEST)), PEER, now, &node)
            .unwrap();
        assert_eq!(reply, rmcp(&hex(RESPONSE)), "golden response packet");
        // A replay of the same packet (same session sequence) is dropped.
        assert_eq!(
            responder.handle(&rmcp(&hex(REQUEST)), PEER, now, &node),
            None
        );
    }

    #[test]
    fn retransmitted_handshake_messages_get_the_same_answers() {
        let node = SimpleIpmiNode::default();
        let mut responder = responder(config());
        let now = Instant::now();
        let open = responder
            .handle(&open_session_request(0x00, 0x03, 0x04), PEER, now, &node)
            .unwrap();
        let again = responder
            .handle(&open_session_request(0x00, 0x03, 0x04), PEER, now, &node)
            .unwrap();
        assert_eq!(open, again);
        assert_eq!(responder.session_count(now), 1);
        let rakp2 = responder.handle(&rakp1(b"admin", 0x14), PEER, now, &node);
        assert_eq!(
            responder.handle(&rakp1(b"admin", 0x14), PEER, now, &node),
            rakp2
        );
        let rakp4 = responder.handle(&rakp3(&hex(RAKP3_CODE)), PEER, now, &node);
        assert_eq!(
            responder.handle(&rakp3(&hex(RAKP3_CODE)), PEER, now, &node),
            rakp4
        );
    }

    #[test]
    fn unknown_user_gets_status_0d_and_the_session_is_dropped() {
        let node = SimpleIpmiNode::default();
        let mut responder = responder(config());
        let now = Instant::now();
        responder.handle(&open_session_request(0, 0x03, 0x04), PEER, now, &node);
        let rakp2 = responder
            .handle(&rakp1(b"nobody", 0x14), PEER, now, &node)
            .unwrap();
        assert_eq!(&rakp2[16..], &[0x00, 0x0D, 0, 0, 0xa4, 0xa3, 0xa2, 0xa0]);
        assert_eq!(responder.session_count(now), 0);
    }

    #[test]
    fn privilege_above_the_users_limit_gets_status_0a() {
        let node = SimpleIpmiNode::default();
        let mut responder = responder(config());
        let now = Instant::now();
        responder.handle(&open_session_request(0, 0x03, 0x04), PEER, now, &node);
        let rakp2 = responder
            .handle(&rakp1(b"viewer", 0x14), PEER, now, &node)
            .unwrap();
        assert_eq!(rakp2[17], 0x0A);
    }

    #[test]
    fn wrong_password_fails_at_rakp3_with_status_0f() {
        let node = SimpleIpmiNode::default();
        let mut responder = responder(config());
        let now = Instant::now();
        responder.handle(&open_session_request(0, 0x03, 0x04), PEER, now, &node);
        responder.handle(&rakp1(b"admin", 0x14), PEER, now, &node);
        let mut code = hex(RAKP3_CODE);
        code[0] ^= 1;
        let rakp4 = responder.handle(&rakp3(&code), PEER, now, &node).unwrap();
        assert_eq!(&rakp4[16..], &[0x00, 0x0F, 0, 0, 0xa4, 0xa3, 0xa2, 0xa0]);
        assert_eq!(responder.session_count(now), 0);
    }

    #[test]
    fn with_a_bmc_key_the_sik_and_rakp4_change() {
        let node = SimpleIpmiNode::default();
        let mut config = config();
        config.bmc_key = Some(IpmiKey::from_text("kg-secret").unwrap());
        let mut responder = responder(config);
        let rakp4 = handshake(&mut responder, &node, Instant::now());
        assert_eq!(rakp4[1], 0, "status");
        // Independently: HMAC-SHA256(Kg, Rm ‖ Rc ‖ role ‖ len ‖ name), then the ICV.
        let mut kg = [0u8; 20];
        kg[..9].copy_from_slice(b"kg-secret");
        let hash = SuiteHash::Sha256;
        let mut sik_input = hex(CONSOLE_RANDOM);
        sik_input.extend(hex(BMC_RANDOM));
        sik_input.extend_from_slice(&[0x14, 5]);
        sik_input.extend_from_slice(b"admin");
        let sik = hash.hmac(&kg, &[&sik_input]);
        let mut icv_input = hex(CONSOLE_RANDOM);
        icv_input.extend(hex(MANAGED_SESSION_ID));
        icv_input.extend(hex(GUID));
        let icv = hash.hmac(&sik, &[&icv_input]);
        assert_eq!(&rakp4[8..], &icv[..16]);
        assert_ne!(&rakp4[8..], hex(RAKP4_ICV).as_slice());
    }

    #[test]
    fn refused_and_unconfigured_suites_get_open_session_errors() {
        let node = SimpleIpmiNode::default();
        let now = Instant::now();
        let mut only3 = config();
        only3.cipher_suites = vec![CipherSuite::Suite3];
        let mut responder = responder(only3);
        let reply = responder
            .handle(&open_session_request(0, 0x03, 0x04), PEER, now, &node)
            .unwrap();
        assert_eq!(reply[17], 0x04, "no configured suite uses RAKP-HMAC-SHA256");
        // A mixed triple (SHA-1 auth, SHA-256 integrity) matches no whole suite.
        let reply = responder
            .handle(&open_session_request(0, 0x01, 0x04), PEER, now, &node)
            .unwrap();
        assert_eq!(reply[17], 0x05);
        // Suite 0 (no authentication) is never accepted.
        let reply = responder
            .handle(&open_session_request(0, 0x00, 0x00), PEER, now, &node)
            .unwrap();
        assert_eq!(reply[17], 0x04);

        let mut responder2 = responder_with_fault();
        let reply = responder2
            .handle(&open_session_request(0, 0x03, 0x04), PEER, now, &node)
            .unwrap();
        assert_eq!(reply[17], 0x11, "listed but refused");
        let reply = responder2
            .handle(&open_session_request(0, 0x01, 0x01), PEER, now, &node)
            .unwrap();
        assert_eq!(reply[17], 0x00);
    }

    fn responder_with_fault() -> Responder {
        let mut responder = responder(config());
        responder.faults.refused_suites = vec![CipherSuite::Suite17];
        responder
    }

    #[test]
    fn idle_sessions_time_out() {
        let node = SimpleIpmiNode::default();
        let mut config = config();
        config.idle_timeout = Duration::from_secs(30);
        let mut responder = responder(config);
        let start = Instant::now();
        handshake(&mut responder, &node, start);
        assert_eq!(responder.session_count(start + Duration::from_secs(29)), 1);
        let late = start + Duration::from_secs(31);
        assert_eq!(
            responder.handle(&rmcp(&hex(REQUEST)), PEER, late, &node),
            None
        );
        assert_eq!(responder.session_count(late), 0);
    }

    #[test]
    fn tampered_or_unauthenticated_packets_are_dropped() {
        let node = SimpleIpmiNode::default();
        let mut responder = responder(config());
        let now = Instant::now();
        handshake(&mut responder, &node, now);
        let mut tampered = rmcp(&hex(REQUEST));
        tampered[30] ^= 0x01;
        assert_eq!(responder.handle(&tampered, PEER, now, &node), None);
        let mut plain = rmcp(&hex(REQUEST));
        plain[5] = 0x00;
        assert_eq!(responder.handle(&plain, PEER, now, &node), None);
        // The genuine packet still works: the bad ones did not advance the window.
        assert!(
            responder
                .handle(&rmcp(&hex(REQUEST)), PEER, now, &node)
                .is_some()
        );
    }

    #[test]
    fn set_session_privilege_respects_the_limit() {
        let mut active = ActiveSession {
            keys: SessionKeys::derive(SuiteHash::Sha1, &[0; 20]),
            privilege_limit: Privilege::Operator,
            privilege: Privilege::User,
            inbound: SequenceWindow::default(),
            outbound_sequence: 0,
            rakp3: Vec::new(),
            rakp4: Vec::new(),
            last_exchange: None,
        };
        let mut set = |data: &[u8]| set_session_privilege(&mut active, data, None);
        assert_eq!(set(&[0x00]), (0x00, vec![2]));
        assert_eq!(set(&[0x04]), (0x81, vec![]));
        assert_eq!(set(&[0x06]), (0xCC, vec![]));
        assert_eq!(set(&[]), (0xC7, vec![]));
        assert_eq!(set(&[0x03]), (0x00, vec![3]));
        assert_eq!(active.privilege, Privilege::Operator);
        // Quirk session_privilege_ceiling: RAKP granted administrator, 3Bh still refuses it.
        active.privilege_limit = Privilege::Administrator;
        let ceiling = Some(Privilege::Operator);
        assert_eq!(
            set_session_privilege(&mut active, &[0x04], ceiling),
            (0x81, vec![])
        );
        assert_eq!(
            set_session_privilege(&mut active, &[0x03], ceiling),
            (0x00, vec![3])
        );
        assert_eq!(
            set_session_privilege(&mut active, &[0x04], None),
            (0x00, vec![4])
        );
    }

    #[test]
    fn close_session_targets() {
        fn request(data: &[u8]) -> Request<'_> {
            Request {
                rs_addr: 0x20,
                net_fn: 0x06,
                rs_lun: 0,
                rq_addr: 0x81,
                rq_seq: 9,
                rq_lun: 0,
                command: 0x3C,
                data,
            }
        }
        let own = 0xf902_0747;
        let data = [0x47, 0x07, 0x02, 0xf9];
        assert_eq!(
            close_session_target(own, Privilege::User, &request(&data)),
            Ok(own)
        );
        let other = [1, 0, 0, 0];
        assert_eq!(
            close_session_target(own, Privilege::Operator, &request(&other)),
            Err(0xD4)
        );
        assert_eq!(
            close_session_target(own, Privilege::Administrator, &request(&other)),
            Ok(1)
        );
        assert_eq!(
            close_session_target(own, Privilege::User, &request(&[0, 0])),
            Err(0xC7)
        );
    }

    #[test]
    fn pre_session_commands_answer_in_their_own_framing() {
        let node = SimpleIpmiNode::default();
        let mut responder = responder(config());
        let now = Instant::now();
        // Get Channel Cipher Suites, RMCP+ framing, session 0.
        let message = [0x20, 0x18, 0xc8, 0x81, 0x00, 0x54, 0x0e, 0x00, 0x80, 0x9d];
        let request = codec::rmcpp_unauthenticated(payload::IPMI, &message);
        let reply = responder.handle(&request, PEER, now, &node).unwrap();
        assert_eq!(&reply[4..6], &[0x06, 0x00]);
        assert_eq!(
            &reply[22..34],
            &[
                0x00, 0x01, 0xC0, 0x11, 0x03, 0x44, 0x81, 0xC0, 0x03, 0x01, 0x41, 0x81
            ]
        );
        // Get Device ID before a session: insufficient privilege.
        let message = [0x20, 0x18, 0xc8, 0x81, 0x04, 0x01, 0x7a];
        let request = codec::rmcpp_unauthenticated(payload::IPMI, &message);
        let reply = responder.handle(&request, PEER, now, &node).unwrap();
        assert_eq!(reply[22], 0xD4);
    }
}
