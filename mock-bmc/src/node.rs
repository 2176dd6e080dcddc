//! A node: its state, faults and request log (the public handles on it are in `handle`).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::paths::Paths;
use crate::personality::{Personality, Profile};
use crate::state::{NodeState, PowerDelays};

/// How much inventory a node has. Payloads are generated from these counts and the node's
/// seed; nothing large is stored per node.
///
/// Storage counts are per controller: a node with `storage_controllers: 2, drives: 4,
/// volumes: 3` serves `Storage/1` and `Storage/2`, each with 4 drives and 3 volumes (8 drives
/// and 6 volumes in all). `SimpleStorage/1` lists the first controller's drives. When
/// deserialising, a missing field takes its [`Default`] value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InventorySize {
    /// Processors.
    pub processors: u8,
    /// DIMMs.
    pub dimms: u8,
    /// Drives on each storage controller.
    pub drives: u8,
    /// Ethernet interfaces of the System.
    pub nics: u8,
    /// `PCIe` devices.
    pub pcie_devices: u8,
    /// Storage controllers (`Systems/{id}/Storage/1`, `/2`, ...).
    pub storage_controllers: u8,
    /// Volumes (RAID virtual disks) on each storage controller.
    pub volumes: u8,
}

impl Default for InventorySize {
    fn default() -> Self {
        InventorySize {
            processors: 2,
            dimms: 8,
            drives: 2,
            nics: 2,
            pcie_devices: 3,
            storage_controllers: 1,
            volumes: 1,
        }
    }
}

/// Process-wide settings shared by every node.
pub(crate) struct Shared {
    pub personality: Personality,
    pub profile: &'static Profile,
    pub user: String,
    pub password: SecretString,
    pub delays: PowerDelays,
    pub tls: bool,
    pub http: reqwest::Client,
    pub max_image_bytes: u64,
    /// `InsertMedia` answers 202 with a task ([`crate::MockBmcBuilder::insert_returns_task`]).
    pub insert_returns_task: bool,
    /// Virtual-media quirks switched on ([`crate::MockBmcBuilder::vmedia_quirk`]).
    pub vmedia_quirks: Vec<crate::personality::VmediaQuirk>,
    /// Resource paths of the personality, rendered once instead of on every request.
    pub paths: Paths,
    /// The `Authorization` header value a client with the right credentials sends
    /// (`Basic base64(user:password)`), compared as bytes before anything is decoded.
    pub basic_authorization: SecretString,
}

impl Shared {
    /// Whether a virtual-media quirk is on.
    pub fn vmedia_quirk(&self, quirk: crate::personality::VmediaQuirk) -> bool {
        self.vmedia_quirks.contains(&quirk)
    }
}

/// Faults armed on a node. Counters count down per request.
#[derive(Debug, Default, Clone)]
pub(crate) struct FaultState {
    pub latency: Duration,
    pub fail_next: u32,
    pub fail_status: u16,
    pub fail_retry_after: Option<u32>,
    pub transient_next: u32,
    pub reset_next: u32,
    pub malformed_next: u32,
    pub power_factor: u32,
    pub image_fail_next: u32,
    pub unreachable_until: Option<Instant>,
    /// Simulated BMC reboots so far (IPMI forgets its sessions at each).
    pub bmc_restarts: u64,
}

/// A fault description, as accepted by the admin API (`POST /nodes/{i}/faults`) and the CLI
/// (`--faults JSON`). Every field is optional; absent fields leave the current setting alone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// Added latency for every request, in milliseconds (0 turns it off).
    pub latency_ms: Option<u64>,
    /// Answer the next `count` requests with `status` (and `Retry-After` when given).
    pub fail_next: Option<FailNext>,
    /// Answer the next N requests with the personality's transient error (Dell `SYS518`).
    pub transient_next: Option<u32>,
    /// Reset the connection of the next N requests (RST, no response).
    pub reset_next: Option<u32>,
    /// Invalidate every session now.
    #[serde(default)]
    pub expire_sessions: bool,
    /// Send a truncated JSON body for the next N responses.
    pub malformed_next: Option<u32>,
    /// Multiply power transition delays by this factor (1 = normal).
    pub power_slowdown: Option<u32>,
    /// Fail the next N image downloads as if the image server were unreachable.
    pub image_download_fail_next: Option<u32>,
    /// Reboot the BMC now: unreachable for this many milliseconds (Redfish connections reset,
    /// IPMI datagrams unanswered), and the sessions of both are lost.
    pub bmc_reboot_ms: Option<u64>,
}

/// Parameters of the `fail_next` fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailNext {
    /// How many requests.
    pub count: u32,
    /// HTTP status to answer.
    pub status: u16,
    /// `Retry-After` seconds, if any.
    pub retry_after: Option<u32>,
}

/// One recorded request.
///
/// Redfish and IPMI requests of a node share one log and one sequence, so a test can assert
/// the order of calls across protocols. An IPMI command (every one the node's IPMI server
/// executed, pre-session ones included; not the RMCP+ handshake, not retransmissions answered
/// from the reply cache) is recorded with `method` `"IPMI"`, `path` `/ipmi/<command>` (e.g.
/// `/ipmi/chassis/control`, `/ipmi/chassis/set-boot-options`, `/ipmi/app/get-device-id`, see
/// [`crate::ipmi::HandledCommand::name`]), no headers, the request data as spaced lower-case
/// hex in `body` (`"02"` for a power cycle) and the IPMI completion code in `status`
/// (0 = success). Only the commands the mock handles have their data logged; for any other
/// (`/ipmi/raw/06/47`, Set User Password, and the rest, which may carry a password or key)
/// `body` holds only the length, `"<18 bytes not logged>"`.
///
/// Redfish bodies are logged with password and token fields replaced by `"<redacted>"` and the
/// user-info of URLs (`http://user:pw@host/x.iso`) by `<redacted>@`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogEntry {
    /// Sequence number within the node, from 1.
    pub seq: u64,
    /// HTTP method, or `IPMI`.
    pub method: String,
    /// Path and query (`/ipmi/...` for IPMI commands).
    pub path: String,
    /// Headers; `Authorization`, `X-Auth-Token` and `Cookie` values are replaced by `<redacted>`.
    pub headers: Vec<(String, String)>,
    /// Body as text; `Password` members are replaced by `<redacted>`. IPMI: request data in hex.
    pub body: String,
    /// HTTP status answered, or the IPMI completion code.
    pub status: u16,
}

/// Bound on stored entries per node (counts keep going past it).
const LOG_CAP: usize = 10_000;

#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    pub entries: std::collections::VecDeque<LogEntry>,
    pub total: u64,
}

/// One emulated BMC.
pub(crate) struct Node {
    pub index: usize,
    pub shared: Arc<Shared>,
    pub sizes: InventorySize,
    pub state: Mutex<NodeState>,
    pub faults: Mutex<FaultState>,
    pub log: Mutex<RequestLog>,
    pub addr: SocketAddr,
    /// Option `basic_auth_only` ([`crate::MockBmcBuilder::basic_auth_only`]): no
    /// `SessionService`, HTTP Basic only. Switchable at run time (handle, admin API).
    pub basic_auth_only: AtomicBool,
    /// Background work of running tasks (asynchronous inserts), by task id, so that a DELETE
    /// on the task monitor can stop it.
    pub background: Mutex<Vec<(u32, tokio::task::AbortHandle)>>,
}

/// Locks a mutex, recovering the data if a previous holder panicked (state stays usable).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Node {
    pub fn profile(&self) -> &'static Profile {
        self.shared.profile
    }

    pub fn delays(&self) -> PowerDelays {
        let factor = lock(&self.faults).power_factor.max(1);
        self.shared.delays.scaled(factor)
    }

    /// State lock with power transitions brought up to `now`.
    pub fn state_at(&self, now: Instant) -> MutexGuard<'_, NodeState> {
        let delays = self.delays();
        let mut st = lock(&self.state);
        st.tick(now, self.shared.profile, delays);
        st
    }

    pub fn record(&self, mut entry: LogEntry) {
        let mut log = lock(&self.log);
        log.total += 1;
        entry.seq = log.total;
        if log.entries.len() == LOG_CAP {
            log.entries.pop_front();
        }
        log.entries.push_back(entry);
    }

    pub fn apply_faults(&self, spec: &FaultSpec, now: Instant) {
        let mut f = lock(&self.faults);
        if let Some(ms) = spec.latency_ms {
            f.latency = Duration::from_millis(ms);
        }
        if let Some(fail) = spec.fail_next {
            f.fail_next = fail.count;
            f.fail_status = fail.status;
            f.fail_retry_after = fail.retry_after;
        }
        if let Some(n) = spec.transient_next {
            f.transient_next = n;
        }
        if let Some(n) = spec.reset_next {
            f.reset_next = n;
        }
        if let Some(n) = spec.malformed_next {
            f.malformed_next = n;
        }
        if let Some(n) = spec.power_slowdown {
            f.power_factor = n.max(1);
        }
        if let Some(n) = spec.image_download_fail_next {
            f.image_fail_next = n;
        }
        if let Some(ms) = spec.bmc_reboot_ms {
            f.unreachable_until = Some(now + Duration::from_millis(ms));
            f.bmc_restarts += 1;
        }
        drop(f);
        if spec.expire_sessions || spec.bmc_reboot_ms.is_some() {
            lock(&self.state).sessions.clear();
        }
    }

    /// Whether `user` and `pass` are the fleet's credentials.
    pub fn credentials_ok(&self, user: &str, pass: &str) -> bool {
        use secrecy::ExposeSecret;
        user == self.shared.user && pass == self.shared.password.expose_secret()
    }

    /// Whether the node serves without a `SessionService`, taking HTTP Basic only.
    pub fn basic_auth_only(&self) -> bool {
        self.basic_auth_only.load(Ordering::Relaxed)
    }

    /// Switches [`Self::basic_auth_only`]; turning it on ends every session (their service is
    /// gone).
    pub fn set_basic_auth_only(&self, on: bool) {
        self.basic_auth_only.store(on, Ordering::Relaxed);
        if on {
            lock(&self.state).sessions.clear();
        }
    }

    /// Whether the BMC is rebooting at `now` (the `bmc_reboot_ms` fault): Redfish connections
    /// are reset and IPMI datagrams go unanswered.
    pub fn bmc_rebooting(&self, now: Instant) -> bool {
        lock(&self.faults)
            .unreachable_until
            .is_some_and(|t| now < t)
    }

    /// Whether a connection on this node must be dropped now (reboot window or reset fault).
    pub fn should_drop_connection(&self, now: Instant) -> bool {
        let mut f = lock(&self.faults);
        if f.unreachable_until.is_some_and(|t| now < t) {
            return true;
        }
        if f.reset_next > 0 {
            f.reset_next -= 1;
            return true;
        }
        false
    }
}
