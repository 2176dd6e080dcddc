//! The public client: one RMCP+ session per BMC, opened on first use, reused, re-opened when it
//! has idled out or stopped answering, closed by [`IpmiClient::close`] (and best-effort on drop).
//!
//! Longer than 600 lines on purpose: the builder's checks, the exchanges and the pure fallback
//! decisions (which suite next, when to step down or restart, when an outcome is unknown) are
//! read together with the methods that apply them, and a third of the file is their unit tests.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use secrecy::{SecretSlice, SecretString};

use crate::commands::{
    BootDevice, BootFlags, BootOptions, BootParameter, ChannelAuthCapabilities, ChassisControl,
    ChassisStatus, CipherSuiteRecord, CloseSession, Command, CompletionCode, DeviceId,
    GetChannelAuthCapabilities, GetChannelCipherSuites, GetChassisStatus, GetDeviceId,
    GetSystemBootOptions, SetSessionPrivilegeLevel, SetSystemBootOptions,
    parse_cipher_suite_records,
};
use crate::crypto::CipherSuite;
use crate::error::{Error, Stage};
use crate::session::{
    Credentials, Handshake, HandshakeParams, Privilege, Progress, Session,
    decode_presession_response, encode_presession_request,
};
use crate::transport::{Counters, Exchange, RetryPolicy, Transport, Verdict};
use crate::wire::{IpmiRequest, IpmiResponse, MAX_NET_FN, MAX_REQUEST_DATA_LEN};

/// The IPMI-over-LAN port.
pub const DEFAULT_PORT: u16 = 623;

/// Which cipher suites the client proposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuitePolicy {
    /// Suite 17, then suite 3 when the BMC refuses 17 (what pyghmi and xCAT do).
    Auto,
    /// Only this suite.
    Pinned(CipherSuite),
}

/// Counters of the client's traffic.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Request/reply exchanges that completed (deterministic under packet loss).
    pub round_trips: u64,
    /// Datagrams sent, retransmissions included.
    pub datagrams_sent: u64,
    /// Retransmissions.
    pub retransmissions: u64,
    /// Sessions established.
    pub sessions_opened: u64,
}

#[derive(Debug)]
struct Config {
    address: String,
    credentials: Credentials,
    suites: SuitePolicy,
    privilege: Privilege,
    step_down_to_operator: bool,
    retry: RetryPolicy,
    idle_timeout: Duration,
}

/// Builder for [`IpmiClient`]; nothing is sent until the first command.
#[derive(Debug)]
pub struct IpmiClientBuilder {
    address: String,
    username: String,
    password: SecretString,
    kg: Option<SecretSlice<u8>>,
    suites: SuitePolicy,
    privilege: Privilege,
    step_down_to_operator: bool,
    retry: RetryPolicy,
    idle_timeout: Duration,
}

impl IpmiClientBuilder {
    /// User name and password (Kuid).
    #[must_use]
    pub fn credentials(mut self, username: impl Into<String>, password: SecretString) -> Self {
        self.username = username.into();
        self.password = password;
        self
    }

    /// Pin one cipher suite instead of trying 17 then 3.
    #[must_use]
    pub fn cipher_suite(mut self, suite: CipherSuite) -> Self {
        self.suites = SuitePolicy::Pinned(suite);
        self
    }

    /// The BMC key Kg (at most 20 bytes), when the BMC has one configured.
    #[must_use]
    pub fn kg(mut self, kg: SecretSlice<u8>) -> Self {
        self.kg = Some(kg);
        self
    }

    /// Session privilege to ask for (default administrator, stepping down to operator when the
    /// BMC refuses administrator).
    #[must_use]
    pub fn privilege(mut self, privilege: Privilege) -> Self {
        self.privilege = privilege;
        self.step_down_to_operator = privilege == Privilege::Administrator;
        self
    }

    /// Per-attempt reply timeout (default 1 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.retry.timeout = timeout;
        self
    }

    /// Retransmissions after the first attempt (default 3).
    #[must_use]
    pub fn retries(mut self, retries: u32) -> Self {
        self.retry.retries = retries;
        self
    }

    /// Idle time after which the session is assumed dropped by the BMC and a new one is opened
    /// before the next command (default 20 s; `OpenIPMI` drops sessions after 30 s).
    #[must_use]
    pub fn idle_timeout(mut self, idle_timeout: Duration) -> Self {
        self.idle_timeout = idle_timeout;
        self
    }

    /// Validate the arguments and build the client (no I/O).
    pub fn build(self) -> Result<IpmiClient, Error> {
        let address = normalize_address(&self.address)?;
        let credentials = Credentials {
            username: self.username,
            password: self.password,
            kg: self.kg,
        };
        credentials.validate()?;
        validate_retry_policy(self.retry)?;
        Ok(IpmiClient {
            inner: Arc::new(Inner {
                config: Config {
                    address,
                    credentials,
                    suites: self.suites,
                    privilege: self.privilege,
                    step_down_to_operator: self.step_down_to_operator,
                    retry: self.retry,
                    idle_timeout: self.idle_timeout,
                },
                state: tokio::sync::Mutex::new(State::default()),
                counters: Counters::default(),
            }),
        })
    }
}

/// The longest a single request may wait for its reply, every attempt included. The transport
/// adds the per-attempt timeout to the clock and counts attempts in a `u32`; this bound keeps
/// both far from overflowing, and no BMC answers after a day.
const MAX_REQUEST_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

/// Check the timeout and retries the builder was given (pure, so it is unit-tested).
fn validate_retry_policy(retry: RetryPolicy) -> Result<(), Error> {
    if retry.timeout.is_zero() {
        return Err(Error::InvalidArgument {
            name: "timeout",
            reason: "must be greater than zero",
        });
    }
    if retry.timeout > MAX_REQUEST_WAIT {
        return Err(Error::InvalidArgument {
            name: "timeout",
            reason: "must be at most 24 hours",
        });
    }
    let within_a_day = retry
        .retries
        .checked_add(1)
        .and_then(|attempts| retry.timeout.checked_mul(attempts))
        .is_some_and(|total| total <= MAX_REQUEST_WAIT);
    if !within_a_day {
        return Err(Error::InvalidArgument {
            name: "retries",
            reason: "timeout x (retries + 1) must be at most 24 hours",
        });
    }
    Ok(())
}

/// Check a request before anything is sent: the network function has six bits in the IPMI
/// message header, and the data must fit the RMCP+ payload length field (and one UDP
/// datagram) in every cipher suite.
fn validate_request(net_fn: u8, data: &[u8]) -> Result<(), Error> {
    if net_fn > MAX_NET_FN {
        return Err(Error::InvalidArgument {
            name: "net_fn",
            reason: "above 0x3f (the field has six bits)",
        });
    }
    if data.len() > MAX_REQUEST_DATA_LEN {
        return Err(Error::InvalidArgument {
            name: "data",
            reason: "longer than an rmcp+ packet can carry (wire::MAX_REQUEST_DATA_LEN bytes)",
        });
    }
    Ok(())
}

/// Turn `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address into `host:port`.
fn normalize_address(input: &str) -> Result<String, Error> {
    let bad = |reason| Error::InvalidArgument {
        name: "bmc address",
        reason,
    };
    let input = input.trim();
    if input.is_empty() {
        return Err(bad("empty"));
    }
    if let Some(rest) = input.strip_prefix('[') {
        let Some((host, tail)) = rest.split_once(']') else {
            return Err(bad("unclosed '[' in ipv6 address"));
        };
        let port = match tail.strip_prefix(':') {
            Some(p) => p
                .parse::<u16>()
                .map_err(|_| bad("port is not a number 0-65535"))?,
            None if tail.is_empty() => DEFAULT_PORT,
            None => return Err(bad("unexpected text after ']'")),
        };
        return Ok(format!("[{host}]:{port}"));
    }
    match input.matches(':').count() {
        0 => Ok(format!("{input}:{DEFAULT_PORT}")),
        1 => {
            let (host, port) = input.split_once(':').unwrap_or((input, ""));
            if host.is_empty() {
                return Err(bad("empty host"));
            }
            let port = port
                .parse::<u16>()
                .map_err(|_| bad("port is not a number 0-65535"))?;
            Ok(format!("{host}:{port}"))
        }
        _ => Ok(format!("[{input}]:{DEFAULT_PORT}")),
    }
}

#[derive(Default)]
struct State {
    transport: Option<Transport>,
    session: Option<Session>,
    closed: bool,
}

impl State {
    /// Forget the session, sending Close Session without waiting (it may already be gone).
    fn abandon_session(&mut self) {
        if let (Some(mut session), Some(transport)) = (self.session.take(), self.transport.as_ref())
        {
            let close = close_datagram(&mut session);
            transport.send_now(&close);
        }
    }
}

impl Drop for State {
    fn drop(&mut self) {
        // Close Session always: sessions are a scarce BMC resource. Best effort, no waiting.
        self.abandon_session();
    }
}

fn close_datagram(session: &mut Session) -> Vec<u8> {
    session.close_session_request(random_iv())
}

struct Inner {
    config: Config,
    state: tokio::sync::Mutex<State>,
    counters: Counters,
}

/// An IPMI v2.0 (RMCP+) client for one BMC. Cheap to clone; clones share the session.
///
/// ```no_run
/// # async fn demo() -> Result<(), ferrofish_ipmi::Error> {
/// use ferrofish_ipmi::{ChassisControl, IpmiClient};
/// use secrecy::SecretString;
///
/// let bmc = IpmiClient::builder("10.0.0.5")
///     .credentials("admin", SecretString::from("password"))
///     .build()?;
/// let status = bmc.chassis_status().await?;
/// if !status.power_on {
///     bmc.chassis_control(ChassisControl::PowerOn).await?;
/// }
/// bmc.close().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct IpmiClient {
    inner: Arc<Inner>,
}

// Client handles are shared across tasks and wrapped by the Python bindings: keep them owned,
// thread-safe handles (this fails to compile if a field ever breaks that).
const _: () = {
    const fn assert_handle<T: Clone + Send + Sync + 'static>() {}
    assert_handle::<IpmiClient>();
};

impl std::fmt::Debug for IpmiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IpmiClient")
            .field("address", &self.inner.config.address)
            .field("credentials", &self.inner.config.credentials)
            .field("suites", &self.inner.config.suites)
            .finish_non_exhaustive()
    }
}

fn random_iv() -> [u8; 16] {
    let mut iv = [0u8; 16];
    rand::fill(&mut iv);
    iv
}

/// Pre-session exchange of Get Channel Authentication Capabilities.
struct AuthCapsExchange {
    request: GetChannelAuthCapabilities,
}

impl Exchange for AuthCapsExchange {
    type Output = IpmiResponse;

    fn datagram(&mut self, _attempt: u32) -> Vec<u8> {
        let req = IpmiRequest::to_bmc(
            GetChannelAuthCapabilities::NET_FN,
            GetChannelAuthCapabilities::COMMAND,
            0,
            self.request.request_data(),
        );
        encode_presession_request(&req)
    }

    fn judge(&mut self, bytes: &[u8], _now: Instant) -> Verdict<IpmiResponse> {
        match decode_presession_response(bytes) {
            Ok(r)
                if r.command == GetChannelAuthCapabilities::COMMAND
                    && r.net_fn == GetChannelAuthCapabilities::NET_FN + 1 =>
            {
                Verdict::Take(r)
            }
            Ok(_) => Verdict::Drop(None),
            Err(e) => Verdict::Drop(Some(e)),
        }
    }
}

/// One handshake step: resend the same datagram, feed replies to the handshake.
struct HandshakeStep<'a> {
    handshake: &'a mut Handshake,
    credentials: &'a Credentials,
    datagram: Vec<u8>,
}

impl Exchange for HandshakeStep<'_> {
    type Output = Progress;

    fn datagram(&mut self, _attempt: u32) -> Vec<u8> {
        self.datagram.clone()
    }

    fn judge(&mut self, bytes: &[u8], now: Instant) -> Verdict<Progress> {
        match self.handshake.on_datagram(bytes, self.credentials, now) {
            Ok(Progress::Ignored(reason)) => Verdict::Drop(reason),
            Ok(progress) => Verdict::Take(progress),
            Err(e) => Verdict::Fail(e),
        }
    }
}

/// One in-session request: same rqSeq on every attempt, a new session sequence each time.
struct SessionRequest<'a> {
    session: &'a mut Session,
    net_fn: u8,
    command: u8,
    rq_seq: u8,
    data: Vec<u8>,
    attempt: u32,
}

impl Exchange for SessionRequest<'_> {
    type Output = IpmiResponse;

    fn datagram(&mut self, attempt: u32) -> Vec<u8> {
        self.attempt = attempt;
        let request =
            IpmiRequest::to_bmc(self.net_fn, self.command, self.rq_seq, self.data.clone());
        self.session.encode_request(&request, random_iv())
    }

    fn judge(&mut self, bytes: &[u8], now: Instant) -> Verdict<IpmiResponse> {
        match self.session.decode_response(bytes, now) {
            Ok(Some(r))
                if r.rq_seq == self.rq_seq
                    && r.command == self.command
                    && r.net_fn == self.net_fn + 1 =>
            {
                // A BMC that saw both the original and a retransmission may answer the second
                // with "duplicate request"; the real answer is the other one.
                if self.attempt > 0 && r.completion_code == CompletionCode::DuplicateRequest.to_u8()
                {
                    return Verdict::Drop(None);
                }
                Verdict::Take(r)
            }
            Ok(_) => Verdict::Drop(None),
            Err(e) => Verdict::Drop(Some(e)),
        }
    }
}

/// How a handshake attempt failed, for the retry decision.
#[derive(Debug, PartialEq, Eq)]
enum Fallback {
    NextSuite,
    StepDown,
    /// Start over with a new Open Session (the BMC lost track of a half-open session).
    Restart,
    Fail,
}

/// What to do after a failed handshake attempt (pure, so it is unit-tested).
#[allow(clippy::fn_params_excessive_bools)] // four independent conditions of one decision table
fn handshake_fallback(
    error: &Error,
    more_suites: bool,
    can_step_down: bool,
    rakp2_all_zero: bool,
    can_restart: bool,
) -> Fallback {
    match error {
        // RAKP 4 lost and the retransmitted RAKP 3 unanswered, or a retransmission confused
        // the BMC (status 02h invalid / 08h inactive session id): a fresh handshake fixes it.
        Error::Timeout {
            stage: Stage::Rakp3,
            ..
        } if can_restart => Fallback::Restart,
        Error::RakpRejected { status, .. } if can_restart && matches!(status.0, 0x02 | 0x08) => {
            Fallback::Restart
        }
        // 0Fh for our RAKP 3 although RAKP 2 verified: a retransmitted RAKP 1 made the BMC
        // pick a new random after we had used the first one.
        Error::RakpRejected {
            message: "rakp 3",
            status,
            ..
        } if can_restart && status.0 == 0x0F => Fallback::Restart,
        Error::OpenSessionRejected { status, .. } | Error::RakpRejected { status, .. }
            if status.is_role_refusal() && can_step_down =>
        {
            Fallback::StepDown
        }
        Error::OpenSessionRejected { .. } | Error::AlgorithmMismatch { .. } if more_suites => {
            Fallback::NextSuite
        }
        // Quirk "suite17-zero-rakp2": some firmware answers suite 17 with an all-zero RAKP 2
        // code; retry with suite 3 like xCAT does.
        Error::Rakp2CheckFailed { .. } if more_suites && rakp2_all_zero => Fallback::NextSuite,
        _ => Fallback::Fail,
    }
}

/// Whether `error` for list index `index` of Get Channel Cipher Suites means "no more records":
/// when the list fills whole 16-byte chunks there is no short chunk to end it, and some BMCs
/// answer the next index with `C9h` (parameter out of range) or `CCh` (invalid data field) instead
/// of an empty chunk. At index 0 the same codes are real failures.
fn cipher_suite_list_ended(index: u8, error: &Error) -> bool {
    index > 0
        && matches!(
            error,
            Error::Command {
                code: CompletionCode::ParameterOutOfRange | CompletionCode::InvalidDataField,
                ..
            }
        )
}

/// The privilege to ask for after Set Session Privilege Level was refused with `code`, if any:
/// administrator steps down to operator on 80h (not available for this user), 81h (above the
/// limit) or D4h (insufficient privilege).
fn privilege_after_refusal(
    wanted: Privilege,
    code: CompletionCode,
    step_down: bool,
) -> Option<Privilege> {
    match code {
        CompletionCode::CommandSpecific(0x80 | 0x81) | CompletionCode::InsufficientPrivilege
            if wanted == Privilege::Administrator && step_down =>
        {
            Some(Privilege::Operator)
        }
        _ => None,
    }
}

impl IpmiClient {
    /// Start building a client for `address` (`host`, `host:port`, `[v6]:port`; port 623 by
    /// default).
    pub fn builder(address: impl Into<String>) -> IpmiClientBuilder {
        IpmiClientBuilder {
            address: address.into(),
            username: String::new(),
            password: SecretString::from(""),
            kg: None,
            suites: SuitePolicy::Auto,
            privilege: Privilege::Administrator,
            step_down_to_operator: true,
            retry: RetryPolicy::default(),
            idle_timeout: Duration::from_secs(20),
        }
    }

    /// The BMC address as `host:port`.
    pub fn address(&self) -> &str {
        &self.inner.config.address
    }

    /// Traffic counters.
    pub fn stats(&self) -> ClientStats {
        let c = &self.inner.counters;
        ClientStats {
            round_trips: c.round_trips.load(Ordering::Relaxed),
            datagrams_sent: c.datagrams_sent.load(Ordering::Relaxed),
            retransmissions: c.retransmissions.load(Ordering::Relaxed),
            sessions_opened: c.sessions_opened.load(Ordering::Relaxed),
        }
    }

    /// The cipher suite and privilege of the current session, if one is open.
    pub async fn session_info(&self) -> Option<(CipherSuite, Privilege)> {
        let state = self.inner.state.lock().await;
        state.session.as_ref().map(|s| (s.suite(), s.privilege()))
    }

    /// Get Device ID.
    pub async fn device_id(&self) -> Result<DeviceId, Error> {
        self.execute(&GetDeviceId).await
    }

    /// Get Chassis Status.
    pub async fn chassis_status(&self) -> Result<ChassisStatus, Error> {
        self.execute(&GetChassisStatus).await
    }

    /// Chassis Control: power on/off/cycle, hard reset, NMI, soft (ACPI) off.
    pub async fn chassis_control(&self, action: ChassisControl) -> Result<(), Error> {
        self.execute(&action).await
    }

    /// Set the boot device override: writes parameter 3 (don't clear the valid bit after 60 s),
    /// then parameter 5, then reads parameter 5 back. Returns the flags read back; fails with
    /// [`Error::ReadBackMismatch`] when the device selector did not stick. The persistent and EFI
    /// bits are returned but not enforced: many BMCs (and `ipmi_sim`) report them cleared.
    pub async fn set_boot_device(
        &self,
        device: BootDevice,
        options: BootOptions,
    ) -> Result<BootFlags, Error> {
        match self
            .execute(&SetSystemBootOptions(BootParameter::ValidBitClearing(0x08)))
            .await
        {
            // Quirk "boot-param-3-unsupported": some BMCs reject parameter 3; the override
            // still works, it only may expire after 60 s.
            Err(Error::Command {
                code: CompletionCode::CommandSpecific(0x80),
                ..
            }) => {
                tracing::debug!(bmc = %self.address(), "bmc does not support boot parameter 3");
            }
            other => other?,
        }
        self.execute(&SetSystemBootOptions(BootParameter::BootFlags(
            BootFlags::new(device, options),
        )))
        .await?;
        let read = self.boot_device().await?;
        if read.device != device {
            return Err(Error::ReadBackMismatch {
                address: self.address().to_owned(),
                what: "boot device",
                expected: device.to_string(),
                actual: read.device.to_string(),
            });
        }
        Ok(read)
    }

    /// Read the boot flags (boot options parameter 5).
    pub async fn boot_device(&self) -> Result<BootFlags, Error> {
        let param = self.execute(&GetSystemBootOptions { parameter: 5 }).await?;
        param.boot_flags().map_err(|source| Error::Decode {
            address: self.address().to_owned(),
            context: GetSystemBootOptions::NAME,
            source,
        })
    }

    /// Get Channel Authentication Capabilities (pre-session, no login needed).
    pub async fn channel_auth_capabilities(&self) -> Result<ChannelAuthCapabilities, Error> {
        let mut state = self.inner.state.lock().await;
        self.ensure_open(&state)?;
        Ok(self.auth_capabilities(&mut state).await?.0)
    }

    /// Get Channel Cipher Suites (in session): every suite record of this channel.
    pub async fn channel_cipher_suites(&self) -> Result<Vec<CipherSuiteRecord>, Error> {
        let mut data = Vec::new();
        for index in 0..64u8 {
            let result = self
                .execute(&GetChannelCipherSuites {
                    channel: 0x0E,
                    payload_type: 0,
                    index,
                })
                .await;
            let chunk = match result {
                Err(e) if cipher_suite_list_ended(index, &e) => break,
                other => other?,
            };
            let last = chunk.data.len() < 16;
            data.extend_from_slice(&chunk.data);
            if last {
                break;
            }
        }
        parse_cipher_suite_records(&data).map_err(|source| Error::Decode {
            address: self.address().to_owned(),
            context: GetChannelCipherSuites::NAME,
            source,
        })
    }

    /// Close the session (Close Session, waiting for the reply). Later calls fail with
    /// [`Error::Closed`]; clones share this state.
    pub async fn close(&self) -> Result<(), Error> {
        let mut state = self.inner.state.lock().await;
        state.closed = true;
        let State {
            transport: Some(transport),
            session: Some(session),
            ..
        } = &mut *state
        else {
            return Ok(());
        };
        let close = CloseSession {
            bmc_session_id: session.bmc_session_id(),
        };
        // The session stays in the state while Close Session is in flight: if this future is
        // dropped (a caller's timeout, Ctrl-C in Python), dropping the client still sends Close
        // Session for it, and so does calling `close` again.
        let result = self
            .request_in_session(
                transport,
                session,
                CloseSession::NET_FN,
                CloseSession::COMMAND,
                close.request_data(),
            )
            .await;
        state.session = None;
        match result {
            Ok(response) => self.check(CloseSession::NAME, &response),
            // When the reply to the first Close Session is lost, the BMC has already dropped
            // the session and ignores the retransmissions: silence after a retransmission
            // means closed as far as anyone can tell.
            Err(Error::Timeout { attempts, .. }) if attempts > 1 => {
                tracing::debug!(bmc = %self.address(), "no reply to close session; assuming closed");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Send any typed command in the session (opening or re-opening it as needed).
    ///
    /// When a reused session stops answering, a new one is opened and the command is sent
    /// again only if it is [`Command::IDEMPOTENT`]; a command that is not idempotent and gets
    /// no reply (in a reused or a fresh session) is [`Error::OutcomeUnknown`] (the BMC may have
    /// run it). A command whose `NET_FN` is above [`crate::wire::MAX_NET_FN`] or whose data is
    /// too long is [`Error::InvalidArgument`] and nothing is sent.
    pub async fn execute<C: Command>(&self, command: &C) -> Result<C::Output, Error> {
        let response = self
            .send(
                C::NAME,
                C::NET_FN,
                C::COMMAND,
                command.request_data(),
                C::IDEMPOTENT,
            )
            .await?;
        self.check(C::NAME, &response)?;
        command
            .parse_response(&response.data)
            .map_err(|source| Error::Decode {
                address: self.address().to_owned(),
                context: C::NAME,
                source,
            })
    }

    /// Send raw request bytes in the session; the reply is returned whatever its completion
    /// code.
    ///
    /// The client cannot tell whether raw bytes are safe to run twice, so they are treated as
    /// not idempotent: if the BMC stops answering, the result is [`Error::OutcomeUnknown`] and
    /// the request is not sent again in a new session.
    ///
    /// `net_fn` is the request network function (at most [`crate::wire::MAX_NET_FN`]) and
    /// `data` at most [`crate::wire::MAX_REQUEST_DATA_LEN`] bytes; anything else is
    /// [`Error::InvalidArgument`] and nothing is sent.
    pub async fn raw(&self, net_fn: u8, command: u8, data: Vec<u8>) -> Result<IpmiResponse, Error> {
        self.send("raw request", net_fn, command, data, false).await
    }

    async fn send(
        &self,
        name: &'static str,
        net_fn: u8,
        command: u8,
        data: Vec<u8>,
        idempotent: bool,
    ) -> Result<IpmiResponse, Error> {
        validate_request(net_fn, &data)?;
        let mut state = self.inner.state.lock().await;
        self.ensure_open(&state)?;
        let fresh = self.ensure_session(&mut state, Instant::now()).await?;
        let result = self
            .request_in_state(&mut state, net_fn, command, data.clone())
            .await;
        let attempts = match result {
            Err(Error::Timeout { attempts, .. }) if !fresh => attempts,
            // A session opened just now is not suspected of being dropped, so it is kept and
            // nothing is sent again. But a command that is not idempotent may still have run
            // (only its replies lost): that is an unknown outcome, not a plain timeout.
            Err(Error::Timeout { attempts, .. }) if !idempotent => {
                return Err(Error::OutcomeUnknown {
                    address: self.address().to_owned(),
                    command: name,
                    attempts,
                });
            }
            other => return other,
        };
        // A reused session that stops answering was probably dropped by the BMC, or the path
        // to it flapped: open a new one. Retransmissions within the old session were safe (same
        // rqSeq, the BMC drops duplicates); a new session has no such memory, so only an
        // idempotent command is sent again there (pitfall P6).
        tracing::debug!(bmc = %self.address(), command = name, "session stopped answering, re-opening");
        state.abandon_session();
        if idempotent {
            self.ensure_session(&mut state, Instant::now()).await?;
            return self
                .request_in_state(&mut state, net_fn, command, data)
                .await;
        }
        // The new session serves the caller's read-back; if it cannot be opened now, the next
        // command tries again, and the unknown outcome is still what the caller must know.
        if let Err(e) = self.ensure_session(&mut state, Instant::now()).await {
            tracing::debug!(bmc = %self.address(), error = %e, "re-opening the session failed");
        }
        Err(Error::OutcomeUnknown {
            address: self.address().to_owned(),
            command: name,
            attempts,
        })
    }

    fn ensure_open(&self, state: &State) -> Result<(), Error> {
        if state.closed {
            return Err(Error::Closed {
                address: self.address().to_owned(),
            });
        }
        Ok(())
    }

    fn check(&self, name: &'static str, response: &IpmiResponse) -> Result<(), Error> {
        match CompletionCode::from_u8(response.completion_code) {
            CompletionCode::Success => Ok(()),
            code => Err(Error::Command {
                address: self.address().to_owned(),
                command: name,
                code,
            }),
        }
    }

    async fn request_in_state(
        &self,
        state: &mut State,
        net_fn: u8,
        command: u8,
        data: Vec<u8>,
    ) -> Result<IpmiResponse, Error> {
        let State {
            transport: Some(transport),
            session: Some(session),
            ..
        } = state
        else {
            return Err(self.internal("a command was sent without an open session"));
        };
        self.request_in_session(transport, session, net_fn, command, data)
            .await
    }

    async fn request_in_session(
        &self,
        transport: &Transport,
        session: &mut Session,
        net_fn: u8,
        command: u8,
        data: Vec<u8>,
    ) -> Result<IpmiResponse, Error> {
        let rq_seq = session.take_rq_seq();
        let mut exchange = SessionRequest {
            session,
            net_fn,
            command,
            rq_seq,
            data,
            attempt: 0,
        };
        transport
            .exchange(
                Stage::Command { net_fn, command },
                self.inner.config.retry,
                &self.inner.counters,
                &mut exchange,
            )
            .await
    }

    async fn transport<'s>(&self, state: &'s mut State) -> Result<&'s Transport, Error> {
        let transport = match state.transport.take() {
            Some(t) => t,
            None => Transport::connect(self.address()).await?,
        };
        Ok(state.transport.insert(transport))
    }

    fn internal(&self, invariant: &'static str) -> Error {
        Error::Internal {
            address: self.address().to_owned(),
            invariant,
        }
    }

    /// Get Channel Authentication Capabilities, asking for the IPMI v2.0 extended data (8Eh)
    /// and, when that gets no answer at all, once more without it (0Eh): some BMCs only answer
    /// the IPMI 1.5 form (pitfall P12; ipmitool does the same).
    /// Returns the capabilities and whether they answer the extended (8Eh) form.
    async fn auth_capabilities(
        &self,
        state: &mut State,
    ) -> Result<(ChannelAuthCapabilities, bool), Error> {
        let extended = GetChannelAuthCapabilities {
            channel: 0x0E,
            ipmi_v2_extended: true,
            privilege: self.inner.config.privilege,
        };
        let transport = self.transport(state).await?;
        let config = &self.inner.config;
        let mut request = extended;
        let mut result = transport
            .exchange(
                Stage::AuthCapabilities,
                config.retry,
                &self.inner.counters,
                &mut AuthCapsExchange { request },
            )
            .await;
        if let Err(Error::Timeout { .. }) = result {
            tracing::debug!(bmc = %self.address(), "no answer to auth capabilities 8Eh, trying 0Eh");
            request = GetChannelAuthCapabilities {
                ipmi_v2_extended: false,
                ..extended
            };
            result = transport
                .exchange(
                    Stage::AuthCapabilities,
                    config.retry,
                    &self.inner.counters,
                    &mut AuthCapsExchange { request },
                )
                .await;
        }
        let response = result?;
        self.check(GetChannelAuthCapabilities::NAME, &response)?;
        let caps = request
            .parse_response(&response.data)
            .map_err(|source| Error::Decode {
                address: self.address().to_owned(),
                context: GetChannelAuthCapabilities::NAME,
                source,
            })?;
        Ok((caps, request.ipmi_v2_extended))
    }

    /// Make sure a usable session exists; returns true when it was opened just now.
    async fn ensure_session(&self, state: &mut State, now: Instant) -> Result<bool, Error> {
        if let Some(session) = &state.session {
            if !session.idle_expired(now, self.inner.config.idle_timeout) {
                return Ok(false);
            }
            tracing::debug!(bmc = %self.address(), "session idle too long, re-opening");
            state.abandon_session();
        }
        let session = self.open_session(state).await?;
        state.session = Some(session);
        self.inner
            .counters
            .sessions_opened
            .fetch_add(1, Ordering::Relaxed);
        Ok(true)
    }

    async fn open_session(&self, state: &mut State) -> Result<Session, Error> {
        let config = &self.inner.config;
        let (caps, asked_extended) = self.auth_capabilities(state).await?;
        // The answer to the 0Eh retry carries no extended data and so says nothing about IPMI
        // v2.0 either way: try RMCP+ and let Open Session tell.
        if asked_extended && !caps.supports_v20 {
            return Err(Error::RmcpPlusUnsupported {
                address: self.address().to_owned(),
            });
        }
        let suites: &[CipherSuite] = match &config.suites {
            SuitePolicy::Auto => &[CipherSuite::Suite17, CipherSuite::Suite3],
            SuitePolicy::Pinned(s) => std::slice::from_ref(s),
        };
        let mut privilege = config.privilege;
        let mut suite_index = 0;
        let mut tag = 0u8;
        let mut restarts_left = 1u32;
        let transport = self.transport(state).await?;
        let mut session = loop {
            let Some(&suite) = suites.get(suite_index) else {
                return Err(self.internal("fell back past the last cipher suite"));
            };
            let params = HandshakeParams {
                peer: self.address().to_owned(),
                suite,
                privilege,
                console_session_id: rand::random::<u32>().max(1),
                console_random: rand::random(),
                tag,
                bmc_reports_kg: caps.kg_set,
            };
            tag = tag.wrapping_add(1);
            let mut handshake = Handshake::new(params);
            let error = match self.run_handshake(transport, &mut handshake).await {
                Ok(session) => break session,
                Err(e) => e,
            };
            if let Some(rejection) = handshake.rakp3_rejection() {
                transport.send_now(&rejection);
            }
            // Past RAKP 3 the BMC may hold an active session whatever went wrong (a lost
            // RAKP 4, a wrong Kg): close it before restarting, falling back or giving up.
            if let Some(close) = handshake.close_session_request(random_iv(), Instant::now()) {
                transport.send_now(&close);
            }
            let more_suites = suite_index + 1 < suites.len();
            let can_step_down =
                config.step_down_to_operator && privilege == Privilege::Administrator;
            let decision = handshake_fallback(
                &error,
                more_suites,
                can_step_down,
                handshake.rakp2_code_was_all_zero(),
                restarts_left > 0,
            );
            tracing::debug!(bmc = %self.address(), %suite, error = %error, "handshake failed");
            match decision {
                Fallback::NextSuite => suite_index += 1,
                Fallback::StepDown => privilege = Privilege::Operator,
                Fallback::Restart => restarts_left -= 1,
                Fallback::Fail => return Err(error),
            }
        };
        tracing::debug!(bmc = %self.address(), suite = %session.suite(), "session established");
        if let Err(e) = self.set_privilege(transport, &mut session, privilege).await {
            // Close Session always, also when the session is unusable for us.
            transport.send_now(&close_datagram(&mut session));
            return Err(e);
        }
        Ok(session)
    }

    async fn run_handshake(
        &self,
        transport: &Transport,
        handshake: &mut Handshake,
    ) -> Result<Session, Error> {
        let config = &self.inner.config;
        let mut datagram = handshake.open_session_request();
        let mut stage = Stage::OpenSession;
        loop {
            let mut step = HandshakeStep {
                handshake: &mut *handshake,
                credentials: &config.credentials,
                datagram,
            };
            let progress = match transport
                .exchange(stage, config.retry, &self.inner.counters, &mut step)
                .await
            {
                Ok(p) => p,
                Err(Error::Timeout {
                    address,
                    stage: Stage::Rakp1,
                    attempts,
                    ..
                }) => {
                    return Err(Error::NoRakp2 { address, attempts });
                }
                Err(e) => return Err(e),
            };
            match progress {
                Progress::Send(next) => {
                    datagram = next;
                    stage = if stage == Stage::OpenSession {
                        Stage::Rakp1
                    } else {
                        Stage::Rakp3
                    };
                }
                Progress::Established(session) => return Ok(*session),
                Progress::Ignored(_) => {
                    return Err(self.internal("an ignored handshake datagram was taken as a reply"));
                }
            }
        }
    }

    async fn set_privilege(
        &self,
        transport: &Transport,
        session: &mut Session,
        privilege: Privilege,
    ) -> Result<(), Error> {
        if privilege <= Privilege::User {
            return Ok(());
        }
        let config = &self.inner.config;
        let mut wanted = privilege;
        loop {
            let request = SetSessionPrivilegeLevel(wanted);
            let response = self
                .request_in_session(
                    transport,
                    session,
                    SetSessionPrivilegeLevel::NET_FN,
                    SetSessionPrivilegeLevel::COMMAND,
                    request.request_data(),
                )
                .await?;
            let code = CompletionCode::from_u8(response.completion_code);
            if code == CompletionCode::Success {
                let granted = request
                    .parse_response(&response.data)
                    .ok()
                    .flatten()
                    .unwrap_or(wanted);
                session.set_privilege(granted);
                return Ok(());
            }
            match privilege_after_refusal(wanted, code, config.step_down_to_operator) {
                Some(lower) => wanted = lower,
                None => {
                    return Err(Error::PrivilegeRefused {
                        address: self.address().to_owned(),
                        requested: wanted,
                        code,
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::RmcpPlusStatus;

    #[test]
    fn timeouts_and_retries_that_would_overflow_are_refused_by_build() {
        let build = |timeout: Duration, retries: u32| {
            IpmiClient::builder("127.0.0.1")
                .timeout(timeout)
                .retries(retries)
                .build()
        };
        for (timeout, retries, argument) in [
            (Duration::ZERO, 3, "timeout"),
            (Duration::MAX, 0, "timeout"),
            (Duration::from_secs(24 * 3600 + 1), 0, "timeout"),
            // u32::MAX retries: the attempt count (retries + 1) does not fit.
            (Duration::from_millis(1), u32::MAX, "retries"),
            // Each attempt is fine, all of them together wait longer than a day.
            (Duration::from_secs(3600), 24, "retries"),
        ] {
            match build(timeout, retries) {
                Err(Error::InvalidArgument { name, .. }) => {
                    assert_eq!(name, argument, "{timeout:?} x {retries}");
                }
                other => {
                    panic!("{timeout:?} x {retries}: expected invalid argument, got {other:?}")
                }
            }
        }
        // The edges themselves are accepted.
        assert!(build(Duration::from_secs(3600), 23).is_ok());
        assert!(build(Duration::from_secs(24 * 3600), 0).is_ok());
        assert!(build(Duration::from_nanos(1), 1_000_000).is_ok());
    }

    #[test]
    fn requests_are_checked_against_the_six_bit_net_fn_and_the_packet_size() {
        assert!(validate_request(0x3F, &[]).is_ok());
        assert!(validate_request(0x2E, &vec![0; MAX_REQUEST_DATA_LEN]).is_ok());
        for (net_fn, len) in [(0x40, 0), (0xFF, 0), (0x06, MAX_REQUEST_DATA_LEN + 1)] {
            assert!(
                matches!(
                    validate_request(net_fn, &vec![0; len]),
                    Err(Error::InvalidArgument { .. })
                ),
                "{net_fn:#x} {len}"
            );
        }
    }

    #[test]
    fn addresses_get_the_default_port_and_ipv6_brackets() {
        assert_eq!(normalize_address("bmc1").unwrap(), "bmc1:623");
        assert_eq!(normalize_address("10.0.0.5:6230").unwrap(), "10.0.0.5:6230");
        assert_eq!(normalize_address("[fe80::1]:700").unwrap(), "[fe80::1]:700");
        assert_eq!(normalize_address("[fe80::1]").unwrap(), "[fe80::1]:623");
        assert_eq!(normalize_address("fe80::1").unwrap(), "[fe80::1]:623");
        for bad in ["", "host:", "host:99999", ":623", "[::1", "[::1]x"] {
            assert!(
                matches!(normalize_address(bad), Err(Error::InvalidArgument { .. })),
                "{bad:?}"
            );
        }
    }

    fn rejected(status: u8) -> Error {
        Error::OpenSessionRejected {
            address: "b".into(),
            suite: CipherSuite::Suite17,
            status: RmcpPlusStatus(status),
        }
    }

    #[test]
    fn refused_suite_falls_back_only_while_suites_remain() {
        assert_eq!(
            handshake_fallback(&rejected(0x04), true, true, false, true),
            Fallback::NextSuite
        );
        assert_eq!(
            handshake_fallback(&rejected(0x11), true, true, false, true),
            Fallback::NextSuite
        );
        assert_eq!(
            handshake_fallback(&rejected(0x04), false, true, false, true),
            Fallback::Fail
        );
        let mismatch = Error::AlgorithmMismatch {
            address: "b".into(),
            suite: CipherSuite::Suite17,
            auth: 1,
            integrity: 1,
            confidentiality: 1,
        };
        assert_eq!(
            handshake_fallback(&mismatch, true, true, false, true),
            Fallback::NextSuite
        );
    }

    #[test]
    fn role_refusal_steps_down_and_wrong_password_does_not_fall_back() {
        assert_eq!(
            handshake_fallback(&rejected(0x09), true, true, false, true),
            Fallback::StepDown
        );
        let rakp = Error::RakpRejected {
            address: "b".into(),
            message: "rakp 1",
            status: RmcpPlusStatus(0x0A),
        };
        assert_eq!(
            handshake_fallback(&rakp, false, true, false, true),
            Fallback::StepDown
        );
        assert_eq!(
            handshake_fallback(&rakp, false, false, false, true),
            Fallback::Fail
        );
        let bad = Error::Rakp2CheckFailed {
            address: "b".into(),
            user: "u".into(),
        };
        assert_eq!(
            handshake_fallback(&bad, true, true, false, true),
            Fallback::Fail
        );
        // Quirk suite17-zero-rakp2.
        assert_eq!(
            handshake_fallback(&bad, true, true, true, true),
            Fallback::NextSuite
        );
        let unknown = Error::UnknownUser {
            address: "b".into(),
            user: "u".into(),
        };
        assert_eq!(
            handshake_fallback(&unknown, true, true, false, true),
            Fallback::Fail
        );
    }

    #[test]
    fn lost_rakp4_restarts_the_handshake_once() {
        let timeout = Error::Timeout {
            address: "b".into(),
            stage: Stage::Rakp3,
            attempts: 4,
            timeout: Duration::from_secs(1),
            last_rejected: None,
        };
        assert_eq!(
            handshake_fallback(&timeout, false, true, false, true),
            Fallback::Restart
        );
        assert_eq!(
            handshake_fallback(&timeout, false, true, false, false),
            Fallback::Fail
        );
        let inactive = Error::RakpRejected {
            address: "b".into(),
            message: "rakp 3",
            status: RmcpPlusStatus(0x08),
        };
        assert_eq!(
            handshake_fallback(&inactive, false, true, false, true),
            Fallback::Restart
        );
        let stale_random = Error::RakpRejected {
            address: "b".into(),
            message: "rakp 3",
            status: RmcpPlusStatus(0x0F),
        };
        assert_eq!(
            handshake_fallback(&stale_random, false, true, false, true),
            Fallback::Restart
        );
        assert_eq!(
            handshake_fallback(&stale_random, false, true, false, false),
            Fallback::Fail
        );
    }

    #[test]
    fn cipher_suite_list_ends_on_c9_or_cc_only_after_the_first_chunk() {
        let refused = |code: u8| Error::Command {
            address: "b".into(),
            command: GetChannelCipherSuites::NAME,
            code: CompletionCode::from_u8(code),
        };
        assert!(cipher_suite_list_ended(1, &refused(0xC9)));
        assert!(cipher_suite_list_ended(2, &refused(0xCC)));
        // At index 0 nothing was listed yet: a failure, not an empty list.
        assert!(!cipher_suite_list_ended(0, &refused(0xC9)));
        assert!(!cipher_suite_list_ended(0, &refused(0xCC)));
        // Other codes and other errors still fail.
        assert!(!cipher_suite_list_ended(1, &refused(0xC1)));
        assert!(!cipher_suite_list_ended(1, &refused(0xD4)));
        let timeout = Error::Timeout {
            address: "b".into(),
            stage: Stage::AuthCapabilities,
            attempts: 1,
            timeout: Duration::from_secs(1),
            last_rejected: None,
        };
        assert!(!cipher_suite_list_ended(1, &timeout));
    }

    #[test]
    fn set_privilege_steps_down_from_administrator_only() {
        let admin = Privilege::Administrator;
        for code in [0x80, 0x81, 0xD4] {
            let code = CompletionCode::from_u8(code);
            assert_eq!(
                privilege_after_refusal(admin, code, true),
                Some(Privilege::Operator)
            );
            assert_eq!(privilege_after_refusal(admin, code, false), None);
            assert_eq!(
                privilege_after_refusal(Privilege::Operator, code, true),
                None
            );
        }
        assert_eq!(
            privilege_after_refusal(admin, CompletionCode::InvalidCommand, true),
            None
        );
    }
}
