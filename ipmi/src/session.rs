//! The RMCP+ session machine, pure: the Open Session + RAKP handshake, sequence numbers with a
//! sliding window, per-packet integrity and confidentiality, idle expiry. Time is passed in;
//! randomness (console random, session ID, IVs) is passed in too, so every step is testable
//! byte for byte.
//!
//! Just over 600 lines: the handshake and the established session share the framing and the
//! keys, and the handshake hands its keys to the session (and closes with them on failure).

use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretSlice, SecretString};

use crate::commands::{CloseSession, Command};
use crate::crypto::{CipherSuite, RakpTranscript, SessionKeys};
use crate::error::Error;
use crate::wire::{
    self, Datagram, DecodeError, IpmiRequest, IpmiResponse, OpenSessionRequest,
    OpenSessionResponse, PayloadType, Rakp1, Rakp2, Rakp3, Rakp4, RmcpPlusHeader,
};
pub use crate::wire::{Privilege, RmcpPlusStatus};

/// User name, password and optional BMC key. `Debug` shows the user name only.
#[derive(Clone)]
pub struct Credentials {
    /// User name (at most 16 bytes, no NUL).
    pub username: String,
    /// Password (Kuid, at most 20 bytes).
    pub password: SecretString,
    /// BMC key Kg (at most 20 bytes); without it Kg = password.
    pub kg: Option<SecretSlice<u8>>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"[REDACTED]")
            .field("kg", &self.kg.as_ref().map(|_| "[REDACTED]"))
            .finish()
    }
}

impl Credentials {
    /// Check the lengths the protocol allows (Table 13-11, §13.31). Nothing is sent when this
    /// fails.
    pub fn validate(&self) -> Result<(), Error> {
        if self.username.len() > 16 {
            return Err(Error::InvalidArgument {
                name: "user",
                reason: "longer than 16 bytes",
            });
        }
        if self.username.contains('\0') {
            return Err(Error::InvalidArgument {
                name: "user",
                reason: "contains a nul byte",
            });
        }
        if self.password.expose_secret().len() > 20 {
            return Err(Error::InvalidArgument {
                name: "password",
                reason: "longer than 20 bytes",
            });
        }
        if let Some(kg) = &self.kg
            && kg.expose_secret().len() > 20
        {
            return Err(Error::InvalidArgument {
                name: "kg",
                reason: "longer than 20 bytes",
            });
        }
        Ok(())
    }
}

/// Everything the console chooses for one handshake attempt.
#[derive(Debug, Clone)]
pub struct HandshakeParams {
    /// Label for errors (the BMC address).
    pub peer: String,
    /// Suite to propose.
    pub suite: CipherSuite,
    /// Privilege requested in Open Session and RAKP 1.
    pub privilege: Privilege,
    /// Console session ID (non-zero, random).
    pub console_session_id: u32,
    /// Console random Rm.
    pub console_random: [u8; 16],
    /// Message tag for this attempt.
    pub tag: u8,
    /// Whether Get Channel Authentication Capabilities reported a non-zero Kg.
    pub bmc_reports_kg: bool,
}

/// What a handshake step produced.
#[derive(Debug)]
pub enum Progress {
    /// The datagram was not for this handshake step (stale or foreign); keep waiting.
    Ignored(Option<DecodeError>),
    /// Send this datagram next and wait for its reply.
    Send(Vec<u8>),
    /// The session is established.
    Established(Box<Session>),
}

#[derive(Debug)]
enum Step {
    AwaitOpenSession,
    AwaitRakp2 {
        bmc_session_id: u32,
    },
    AwaitRakp4 {
        transcript: RakpTranscript,
        keys: SessionKeys,
    },
    Done,
}

/// The Open Session → RAKP 1/2 → RAKP 3/4 exchange.
#[derive(Debug)]
pub struct Handshake {
    params: HandshakeParams,
    step: Step,
    rakp2_code_all_zero: bool,
    rakp2_failed: bool,
}

impl Handshake {
    /// Start a handshake.
    pub fn new(params: HandshakeParams) -> Self {
        Handshake {
            params,
            step: Step::AwaitOpenSession,
            rakp2_code_all_zero: false,
            rakp2_failed: false,
        }
    }

    /// The parameters of this attempt.
    pub fn params(&self) -> &HandshakeParams {
        &self.params
    }

    /// The RAKP 1 role byte: privilege with the name-only lookup bit.
    pub fn role_byte(&self) -> u8 {
        (self.params.privilege as u8) | 0x10
    }

    /// Whether RAKP 2 carried an all-zero key exchange code (firmware that fails suite 17 this
    /// way; the client then falls back to suite 3).
    pub fn rakp2_code_was_all_zero(&self) -> bool {
        self.rakp2_code_all_zero
    }

    /// After a failed RAKP 2 check: a RAKP 3 carrying status 0Fh (invalid integrity check
    /// value), so the BMC frees the half-open session and can count the failed login.
    pub fn rakp3_rejection(&self) -> Option<Vec<u8>> {
        match self.step {
            Step::AwaitRakp2 { bmc_session_id } if self.rakp2_failed => {
                let rakp3 = Rakp3 {
                    tag: self.params.tag,
                    status: 0x0F,
                    bmc_session_id,
                    key_exchange_code: Vec::new(),
                };
                Some(presession(PayloadType::Rakp3, &rakp3.encode()))
            }
            _ => None,
        }
    }

    /// Close Session for the session the BMC may hold after this (failed or abandoned)
    /// attempt: once RAKP 3 is sent, the BMC may have activated the session even if its RAKP 4
    /// never arrived, so a restart or a failure from here on must not leave it open. Framed
    /// in-session with the keys this attempt derived (`iv` is the AES IV). `None` before RAKP 3
    /// (nothing to close with) and once the session is established (the caller owns it then).
    pub fn close_session_request(&self, iv: [u8; 16], now: Instant) -> Option<Vec<u8>> {
        let Step::AwaitRakp4 { transcript, keys } = &self.step else {
            return None;
        };
        let mut session = Session::new(
            self.params.peer.clone(),
            self.params.suite,
            keys.clone(),
            transcript.bmc_session_id,
            self.params.console_session_id,
            now,
        );
        Some(session.close_session_request(iv))
    }

    /// The Open Session Request datagram.
    pub fn open_session_request(&self) -> Vec<u8> {
        let payload = OpenSessionRequest {
            tag: self.params.tag,
            max_privilege: self.params.privilege as u8,
            console_session_id: self.params.console_session_id,
            algorithms: self.params.suite.algorithms(),
        }
        .encode();
        presession(PayloadType::OpenSessionRequest, &payload)
    }

    /// Feed a received datagram.
    pub fn on_datagram(
        &mut self,
        bytes: &[u8],
        creds: &Credentials,
        now: Instant,
    ) -> Result<Progress, Error> {
        // Unauthenticated packets have no trailer, so the suite's auth code length only matters
        // for the one authenticated reply the handshake takes (see `open_in_session_rakp4`).
        let packet = match wire::decode_datagram(bytes, self.params.suite.auth_code_len()) {
            Ok(Datagram::RmcpPlus(p)) if !p.authenticated && !p.encrypted => p,
            Ok(Datagram::RmcpPlus(p)) => match self.open_in_session_rakp4(p) {
                Ok(Some(p)) => p,
                Ok(None) => return Ok(Progress::Ignored(None)),
                Err(e) => return Ok(Progress::Ignored(Some(e))),
            },
            Ok(_) => return Ok(Progress::Ignored(None)),
            Err(e) => return Ok(Progress::Ignored(Some(e))),
        };
        match (&self.step, packet.payload_type) {
            (Step::AwaitOpenSession, PayloadType::OpenSessionResponse) => {
                match OpenSessionResponse::decode(&packet.payload) {
                    Ok(reply) => self.on_open_session_response(&reply, creds),
                    Err(e) => Ok(Progress::Ignored(Some(e))),
                }
            }
            (Step::AwaitRakp2 { bmc_session_id }, PayloadType::Rakp2) => {
                let bmc_session_id = *bmc_session_id;
                match Rakp2::decode(&packet.payload) {
                    Ok(reply) => self.on_rakp2(bmc_session_id, &reply, creds),
                    Err(e) => Ok(Progress::Ignored(Some(e))),
                }
            }
            (Step::AwaitRakp4 { .. }, PayloadType::Rakp4) => match Rakp4::decode(&packet.payload) {
                Ok(reply) => self.on_rakp4(&reply, creds, now),
                Err(e) => Ok(Progress::Ignored(Some(e))),
            },
            _ => Ok(Progress::Ignored(None)),
        }
    }

    /// Quirk "rakp4-in-session" (`OpenIPMI` `ipmi_sim`): when RAKP 3 is retransmitted because
    /// RAKP 4 was lost, the BMC has already activated the session and answers with RAKP 4
    /// framed in-session (integrity-protected and encrypted with the new keys). Accept exactly
    /// that: payload type RAKP 4, our session ID, a valid auth code under K1.
    fn open_in_session_rakp4(
        &self,
        mut packet: wire::RmcpPlusPacket,
    ) -> Result<Option<wire::RmcpPlusPacket>, DecodeError> {
        let Step::AwaitRakp4 { keys, .. } = &self.step else {
            return Ok(None);
        };
        let suite = self.params.suite;
        if packet.payload_type != PayloadType::Rakp4
            || packet.session_id != self.params.console_session_id
        {
            return Ok(None);
        }
        let (Some((alg, len)), Some(trailer)) = (suite.integrity(), &packet.trailer) else {
            return Ok(None);
        };
        if !keys.verify_auth_code(alg, len, &trailer.signed, &trailer.auth_code) {
            return Err(DecodeError::BadAuthCode);
        }
        if packet.encrypted {
            packet.payload = keys.decrypt(&packet.payload)?;
        }
        Ok(Some(packet))
    }

    fn on_open_session_response(
        &mut self,
        reply: &OpenSessionResponse,
        creds: &Credentials,
    ) -> Result<Progress, Error> {
        let (peer, suite) = (self.params.peer.clone(), self.params.suite);
        if reply.tag != self.params.tag
            || reply
                .console_session_id
                .is_some_and(|id| id != self.params.console_session_id)
        {
            return Ok(Progress::Ignored(None));
        }
        if reply.status != 0 {
            return Err(Error::OpenSessionRejected {
                address: peer,
                suite,
                status: RmcpPlusStatus(reply.status),
            });
        }
        let Some((bmc_session_id, algs)) = reply.accepted else {
            return Ok(Progress::Ignored(None));
        };
        if algs != suite.algorithms() {
            return Err(Error::AlgorithmMismatch {
                address: peer,
                suite,
                auth: algs.auth,
                integrity: algs.integrity,
                confidentiality: algs.confidentiality,
            });
        }
        if bmc_session_id == 0 {
            return Err(Error::Decode {
                address: peer,
                context: "open session",
                source: DecodeError::InvalidValue {
                    what: "managed system session id",
                    value: 0,
                },
            });
        }
        let rakp1 = Rakp1 {
            tag: self.params.tag,
            bmc_session_id,
            console_random: self.params.console_random,
            role: self.role_byte(),
            username: creds.username.as_bytes().to_vec(),
        }
        .encode();
        self.step = Step::AwaitRakp2 { bmc_session_id };
        Ok(Progress::Send(presession(PayloadType::Rakp1, &rakp1)))
    }

    fn on_rakp2(
        &mut self,
        bmc_session_id: u32,
        reply: &Rakp2,
        creds: &Credentials,
    ) -> Result<Progress, Error> {
        let (peer, suite) = (self.params.peer.clone(), self.params.suite);
        if reply.tag != self.params.tag
            || (reply.status == 0 && reply.console_session_id != self.params.console_session_id)
        {
            return Ok(Progress::Ignored(None));
        }
        let status = RmcpPlusStatus(reply.status);
        if status == RmcpPlusStatus::UNAUTHORIZED_NAME {
            return Err(Error::UnknownUser {
                address: peer,
                user: creds.username.clone(),
            });
        }
        if reply.status != 0 {
            return Err(Error::RakpRejected {
                address: peer,
                message: "rakp 1",
                status,
            });
        }
        let Some((bmc_random, bmc_guid)) = reply.bmc_random_and_guid else {
            return Ok(Progress::Ignored(None));
        };
        let transcript = RakpTranscript {
            console_session_id: self.params.console_session_id,
            bmc_session_id,
            console_random: self.params.console_random,
            bmc_random,
            bmc_guid,
            role: self.role_byte(),
            username: creds.username.as_bytes().to_vec(),
        };
        let kuid = creds.password.expose_secret().as_bytes();
        let (code, keys) = if let Some(alg) = suite.auth_hash() {
            if !transcript.verify_rakp2(alg, kuid, &reply.key_exchange_code) {
                self.rakp2_failed = true;
                self.rakp2_code_all_zero = !reply.key_exchange_code.is_empty()
                    && reply.key_exchange_code.iter().all(|b| *b == 0);
                return Err(Error::Rakp2CheckFailed {
                    address: peer,
                    user: creds.username.clone(),
                });
            }
            let kg = creds.kg.as_ref().map_or(kuid, |k| k.expose_secret());
            (
                transcript.rakp3_code(alg, kuid),
                transcript.session_keys(alg, kg),
            )
        } else {
            let empty = || SecretSlice::from(Vec::new());
            (
                Vec::new(),
                SessionKeys {
                    sik: empty(),
                    k1: empty(),
                    k2: empty(),
                },
            )
        };
        let rakp3 = Rakp3 {
            tag: self.params.tag,
            status: 0,
            bmc_session_id,
            key_exchange_code: code,
        }
        .encode();
        self.step = Step::AwaitRakp4 { transcript, keys };
        Ok(Progress::Send(presession(PayloadType::Rakp3, &rakp3)))
    }

    fn on_rakp4(
        &mut self,
        reply: &Rakp4,
        creds: &Credentials,
        now: Instant,
    ) -> Result<Progress, Error> {
        let (peer, suite) = (self.params.peer.clone(), self.params.suite);
        let Step::AwaitRakp4 { transcript, keys } = &self.step else {
            return Ok(Progress::Ignored(None));
        };
        if reply.tag != self.params.tag
            || (reply.status == 0 && reply.console_session_id != self.params.console_session_id)
        {
            return Ok(Progress::Ignored(None));
        }
        if reply.status != 0 {
            return Err(Error::RakpRejected {
                address: peer,
                message: "rakp 3",
                status: RmcpPlusStatus(reply.status),
            });
        }
        if let Some(alg) = suite.auth_hash()
            && !transcript.verify_rakp4(alg, keys, suite.rakp4_icv_len(), &reply.integrity_check)
        {
            return Err(Error::Rakp4CheckFailed {
                address: peer,
                bmc_reports_kg: self.params.bmc_reports_kg,
                kg_given: creds.kg.is_some(),
            });
        }
        let session = Session::new(
            peer,
            suite,
            keys.clone(),
            transcript.bmc_session_id,
            self.params.console_session_id,
            now,
        );
        self.step = Step::Done;
        Ok(Progress::Established(Box::new(session)))
    }
}

/// Frame a pre-session RMCP+ payload (session ID and sequence 0, no trailer).
fn presession(payload_type: PayloadType, payload: &[u8]) -> Vec<u8> {
    let header = RmcpPlusHeader {
        encrypted: false,
        authenticated: false,
        payload_type,
        session_id: 0,
        sequence: 0,
    };
    wire::encode_rmcp_plus(&header, payload, None)
}

/// Frame a pre-session IPMI request (Get Channel Authentication Capabilities) in IPMI 1.5 framing.
pub fn encode_presession_request(request: &IpmiRequest) -> Vec<u8> {
    wire::encode_ipmi15_unauthenticated(&request.encode())
}

/// Decode a pre-session IPMI reply in either framing (IPMI 1.5 or unauthenticated RMCP+).
pub fn decode_presession_response(bytes: &[u8]) -> Result<IpmiResponse, DecodeError> {
    match wire::decode_datagram(bytes, 0)? {
        Datagram::Ipmi15(p) => IpmiResponse::decode(&p.message),
        Datagram::RmcpPlus(p)
            if p.payload_type == PayloadType::Ipmi && !p.authenticated && !p.encrypted =>
        {
            IpmiResponse::decode(&p.payload)
        }
        _ => Err(DecodeError::InvalidValue {
            what: "pre-session reply framing",
            value: 0,
        }),
    }
}

/// How far behind the highest received sequence number a packet may arrive and still be taken.
pub const RECEIVE_WINDOW_BEHIND: u32 = 8;

/// Receive-side sequence tracking: a sliding window with duplicate detection.
#[derive(Debug, Clone, Default)]
pub struct SequenceWindow {
    highest: u32,
    /// Bit i set = `highest - i` was received.
    seen: u32,
}

impl SequenceWindow {
    /// Decide whether to accept `seq`, and record it when accepted. Sequence 0 is never valid
    /// in a session; duplicates and packets more than [`RECEIVE_WINDOW_BEHIND`] behind are
    /// dropped; any forward jump is taken (replies to lost requests advance the BMC's counter).
    pub fn accept(&mut self, seq: u32) -> bool {
        if seq == 0 {
            return false;
        }
        if self.highest == 0 {
            self.highest = seq;
            self.seen = 1;
            return true;
        }
        let ahead = seq.wrapping_sub(self.highest);
        if ahead != 0 && ahead < 0x8000_0000 {
            self.seen = if ahead >= 32 { 0 } else { self.seen << ahead };
            self.seen |= 1;
            self.highest = seq;
            return true;
        }
        let behind = self.highest.wrapping_sub(seq);
        if behind >= RECEIVE_WINDOW_BEHIND {
            return false;
        }
        let bit = 1u32 << behind;
        if self.seen & bit != 0 {
            return false;
        }
        self.seen |= bit;
        true
    }
}

/// An established RMCP+ session.
#[derive(Debug)]
pub struct Session {
    peer: String,
    suite: CipherSuite,
    keys: SessionKeys,
    bmc_session_id: u32,
    console_session_id: u32,
    next_sequence: u32,
    next_rq_seq: u8,
    inbound: SequenceWindow,
    last_activity: Instant,
    privilege: Privilege,
}

impl Session {
    /// A session from its negotiated state (normally made by [`Handshake`]).
    pub fn new(
        peer: String,
        suite: CipherSuite,
        keys: SessionKeys,
        bmc_session_id: u32,
        console_session_id: u32,
        now: Instant,
    ) -> Self {
        Session {
            peer,
            suite,
            keys,
            bmc_session_id,
            console_session_id,
            next_sequence: 1,
            next_rq_seq: 1,
            inbound: SequenceWindow::default(),
            last_activity: now,
            privilege: Privilege::User,
        }
    }

    /// The negotiated cipher suite.
    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    /// The BMC's session ID (what Close Session names).
    pub fn bmc_session_id(&self) -> u32 {
        self.bmc_session_id
    }

    /// The console's session ID.
    pub fn console_session_id(&self) -> u32 {
        self.console_session_id
    }

    /// The BMC label used in errors.
    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// The current session privilege (User until Set Session Privilege Level succeeds).
    pub fn privilege(&self) -> Privilege {
        self.privilege
    }

    /// Record the privilege the BMC granted.
    pub fn set_privilege(&mut self, privilege: Privilege) {
        self.privilege = privilege;
    }

    /// Set the next outbound session sequence number (tests and golden packets).
    pub fn set_next_sequence(&mut self, seq: u32) {
        self.next_sequence = seq.max(1);
    }

    /// Take the next 6-bit request sequence number (1..=63, then around again).
    pub fn take_rq_seq(&mut self) -> u8 {
        let seq = self.next_rq_seq;
        self.next_rq_seq = if seq >= 63 { 1 } else { seq + 1 };
        seq
    }

    /// Whether the session has been idle longer than `idle_timeout` at `now` (the BMC has
    /// probably dropped it, so the client opens a new one instead of waiting for timeouts).
    pub fn idle_expired(&self, now: Instant, idle_timeout: Duration) -> bool {
        now.saturating_duration_since(self.last_activity) >= idle_timeout
    }

    /// Frame an in-session request. Each call uses a new session sequence number (so a
    /// retransmission of the same request, with the same rqSeq, gets a fresh one); 0 is skipped
    /// on wrap-around. `iv` is the AES IV for this packet.
    pub fn encode_request(&mut self, request: &IpmiRequest, iv: [u8; 16]) -> Vec<u8> {
        let sequence = self.next_sequence;
        self.next_sequence = self.next_sequence.wrapping_add(1).max(1);
        let message = request.encode();
        let encrypted = self.suite.encrypts();
        let payload = if encrypted {
            self.keys.encrypt(iv, &message)
        } else {
            message
        };
        let integrity = self.suite.integrity();
        let header = RmcpPlusHeader {
            encrypted,
            authenticated: integrity.is_some(),
            payload_type: PayloadType::Ipmi,
            session_id: self.bmc_session_id,
            sequence,
        };
        match integrity {
            Some((alg, len)) => {
                let keys = &self.keys;
                let sign = move |signed: &[u8]| keys.auth_code(alg, len, signed);
                wire::encode_rmcp_plus(&header, &payload, Some(&sign))
            }
            None => wire::encode_rmcp_plus(&header, &payload, None),
        }
    }

    /// Frame Close Session for this session (App 3Ch naming the BMC's session ID), with the
    /// next sequence numbers. Sessions are a scarce BMC resource: this is sent on every way out.
    pub fn close_session_request(&mut self, iv: [u8; 16]) -> Vec<u8> {
        let close = CloseSession {
            bmc_session_id: self.bmc_session_id,
        };
        let rq_seq = self.take_rq_seq();
        let request = IpmiRequest::to_bmc(
            CloseSession::NET_FN,
            CloseSession::COMMAND,
            rq_seq,
            close.request_data(),
        );
        self.encode_request(&request, iv)
    }

    /// Check and open an in-session datagram. `Ok(None)` = dropped quietly (another session,
    /// duplicate, outside the window); `Err` = dropped because it is malformed or forged.
    /// The window only advances for packets that passed the integrity check.
    pub fn decode_response(
        &mut self,
        bytes: &[u8],
        now: Instant,
    ) -> Result<Option<IpmiResponse>, DecodeError> {
        let Datagram::RmcpPlus(packet) = wire::decode_datagram(bytes, self.suite.auth_code_len())?
        else {
            return Ok(None);
        };
        if packet.session_id != self.console_session_id || packet.payload_type != PayloadType::Ipmi
        {
            return Ok(None);
        }
        if let Some((alg, len)) = self.suite.integrity() {
            let Some(trailer) = &packet.trailer else {
                return Err(DecodeError::InvalidValue {
                    what: "unauthenticated packet in an authenticated session",
                    value: packet.sequence,
                });
            };
            if !self
                .keys
                .verify_auth_code(alg, len, &trailer.signed, &trailer.auth_code)
            {
                return Err(DecodeError::BadAuthCode);
            }
        }
        let message = if packet.encrypted {
            if !self.suite.encrypts() {
                return Err(DecodeError::InvalidValue {
                    what: "encrypted payload without confidentiality",
                    value: 0,
                });
            }
            self.keys.decrypt(&packet.payload)?
        } else {
            packet.payload
        };
        let response = IpmiResponse::decode(&message)?;
        if !self.inbound.accept(packet.sequence) {
            return Ok(None);
        }
        self.last_activity = now;
        Ok(Some(response))
    }
}
