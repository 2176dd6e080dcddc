//! The public handles tests use on a running node: [`NodeHandle`] (addresses, request log,
//! state snapshot, power and boot for adapters) and [`Faults`] (fault controls).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::ipmi::{IpmiNode, IpmiServerHandle};
use crate::iso9660::ConfigDriveNetwork;
use crate::node::{FailNext, FaultSpec, FaultState, LogEntry, Node, lock};
use crate::personality::Personality;
use crate::state::{BootRecord, PowerState};

/// A handle on one node of a running mock (cheap to clone).
#[derive(Clone)]
pub struct NodeHandle {
    pub(crate) node: Arc<Node>,
    /// The node's IPMI server, when the fleet serves IPMI.
    pub(crate) ipmi: Option<IpmiServerHandle>,
}

impl std::fmt::Debug for NodeHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeHandle")
            .field("index", &self.node.index)
            .field("addr", &self.node.addr)
            .field("ipmi", &self.ipmi_addr())
            .finish()
    }
}

/// What a test may read of a node's state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeView {
    /// Power state.
    pub power: PowerState,
    /// `BootSourceOverrideTarget`.
    pub boot_target: String,
    /// `BootSourceOverrideEnabled`.
    pub boot_enabled: String,
    /// `BootSourceOverrideMode`.
    pub boot_mode: String,
    /// BIOS values that differ from the defaults.
    pub bios_changed: serde_json::Map<String, serde_json::Value>,
    /// Pending BIOS values.
    pub bios_pending: serde_json::Map<String, serde_json::Value>,
    /// `ResetBios` waiting for a reset.
    pub bios_reset_pending: bool,
    /// Images inserted, per slot id.
    pub inserted_media: Vec<(String, String)>,
    /// Last boot.
    pub booted: Option<BootRecord>,
    /// Number of boots.
    pub boot_count: u32,
    /// Static address taken from a config drive at the last boot.
    pub static_network: Option<ConfigDriveNetwork>,
    /// Number of open sessions.
    pub sessions: usize,
}

impl NodeHandle {
    /// Index of the node in the fleet.
    pub fn index(&self) -> usize {
        self.node.index
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.node.addr
    }

    /// The node's IPMI (RMCP+, UDP) address, when the fleet serves IPMI
    /// ([`crate::MockBmcBuilder::ipmi`]).
    pub fn ipmi_addr(&self) -> Option<SocketAddr> {
        self.ipmi.as_ref().map(IpmiServerHandle::local_addr)
    }

    /// The node's IPMI server: its faults ([`IpmiServerHandle::set_faults`]: drop every Nth
    /// reply, delay, refuse a suite) and open sessions. `None` when the fleet serves no IPMI.
    /// The server stops with the fleet, even while a clone of this handle is kept.
    pub fn ipmi(&self) -> Option<&IpmiServerHandle> {
        self.ipmi.as_ref()
    }

    /// This node's state seen through [`IpmiNode`], e.g. to serve it with an
    /// [`crate::ipmi::IpmiServer`] of your own configuration. Changes made through it are
    /// seen over Redfish and recorded in the request log like the fleet's own IPMI server's.
    pub fn ipmi_node(&self) -> Arc<dyn IpmiNode> {
        Arc::new(crate::bridge::NodeIpmi {
            node: self.node.clone(),
        })
    }

    /// Base URL, `http://127.0.0.1:PORT` (or `https://` with TLS), without a trailing slash.
    pub fn url(&self) -> String {
        let scheme = if self.node.shared.tls {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.node.addr)
    }

    /// Whether the node serves without a `SessionService` and takes HTTP Basic only
    /// ([`crate::MockBmcBuilder::basic_auth_only`]).
    pub fn basic_auth_only(&self) -> bool {
        self.node.basic_auth_only()
    }

    /// Switches the basic-auth-only mode of this node at run time (also `POST
    /// /nodes/{i}/options` on the admin API). Turning it on ends every open session.
    pub fn set_basic_auth_only(&self, on: bool) {
        self.node.set_basic_auth_only(on);
    }

    /// The node's BIOS quirk switches ([`crate::BiosOptions`]).
    pub fn bios_options(&self) -> crate::BiosOptions {
        lock(&self.node.state).bios_options.clone()
    }

    /// Changes the node's BIOS quirk switches at run time (also `POST /nodes/{i}/options` on
    /// the admin API); fields left `None` keep their setting.
    pub fn set_bios_options(&self, change: &crate::BiosOptionsChange) {
        change.apply_to(&mut lock(&self.node.state).bios_options);
    }

    /// The node's power, boot and Manager identity switches ([`crate::SystemOptions`]).
    pub fn system_options(&self) -> crate::SystemOptions {
        lock(&self.node.state).system_options.clone()
    }

    /// Changes the node's power, boot and Manager identity switches at run time (also `POST
    /// /nodes/{i}/options` on the admin API, `"system": {...}`); fields left `None` keep their
    /// setting.
    pub fn set_system_options(&self, change: &crate::SystemOptionsChange) {
        change.apply_to(&mut lock(&self.node.state).system_options);
    }

    /// Personality of the node.
    pub fn personality(&self) -> Personality {
        self.node.shared.personality
    }

    /// The recorded requests, oldest first (at most the last 10 000).
    pub fn requests(&self) -> Vec<LogEntry> {
        lock(&self.node.log).entries.iter().cloned().collect()
    }

    /// Total number of requests served (including ones dropped from the stored log).
    pub fn request_count(&self) -> u64 {
        lock(&self.node.log).total
    }

    /// Number of requests with this method and exact path (without query).
    pub fn count(&self, method: &str, path: &str) -> usize {
        lock(&self.node.log)
            .entries
            .iter()
            .filter(|e| e.method == method && e.path.split('?').next() == Some(path))
            .count()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        let mut log = lock(&self.node.log);
        log.entries.clear();
        log.total = 0;
    }

    /// Fault controls.
    pub fn faults(&self) -> Faults {
        Faults {
            node: self.node.clone(),
        }
    }

    /// A snapshot of the node's state, with power transitions brought up to date.
    pub fn view(&self) -> NodeView {
        let now = Instant::now();
        let profile = self.node.profile();
        let mut st = self.node.state_at(now);
        st.expire_sessions(now);
        let power = st.power(now, profile, self.node.delays());
        let name_map = |pairs: &[(u16, serde_json::Value)]| {
            pairs
                .iter()
                .filter_map(|(i, v)| {
                    crate::bios::ATTRIBUTES.get(usize::from(*i)).map(|a| {
                        // Write-only BIOS passwords never leave the node, not even to tests.
                        let v = if matches!(a.kind, crate::bios::AttrKind::Password { .. }) {
                            serde_json::Value::from("<redacted>")
                        } else {
                            v.clone()
                        };
                        (a.name.to_owned(), v)
                    })
                })
                .collect()
        };
        NodeView {
            power,
            boot_target: st.boot.target.clone(),
            boot_enabled: st.boot.enabled.as_str().to_owned(),
            boot_mode: st.boot.mode.clone(),
            bios_changed: name_map(&st.bios_current),
            bios_pending: name_map(&st.bios_pending),
            bios_reset_pending: st.bios_reset_pending,
            inserted_media: profile
                .vmedia_slots
                .iter()
                .zip(&st.media)
                .filter_map(|(d, m)| {
                    m.image
                        .clone()
                        .filter(|_| m.inserted)
                        .map(|i| (d.id.to_owned(), i))
                })
                .collect(),
            booted: st.booted.clone(),
            boot_count: st.boot_count,
            static_network: st.booted.as_ref().and_then(|b| b.static_network.clone()),
            sessions: st.sessions.len(),
        }
    }

    /// Power control for adapters (IPMI): `true` powers on, `false` forces off; takes effect
    /// after the configured transition delay, like a Redfish reset.
    pub fn set_power(&self, on: bool) {
        let now = Instant::now();
        let delays = self.node.delays();
        let kind = if on {
            crate::state::ResetType::On
        } else {
            crate::state::ResetType::ForceOff
        };
        let _ = lock(&self.node.state).reset(kind, now, self.node.profile(), delays);
    }

    /// Power cycle (IPMI `chassis power cycle`): off then on, applying pending BIOS values.
    pub fn power_cycle(&self) {
        let now = Instant::now();
        let delays = self.node.delays();
        let _ = lock(&self.node.state).reset(
            crate::state::ResetType::PowerCycle,
            now,
            self.node.profile(),
            delays,
        );
    }

    /// Whether the host is on (`On` or `PoweringOff`), as IPMI's chassis status reports it.
    pub fn power_is_on(&self) -> bool {
        matches!(self.view().power, PowerState::On | PowerState::PoweringOff)
    }

    /// Sets the boot override (target in the personality's vocabulary, e.g. `Pxe`, `Cd`).
    pub fn set_boot_override(
        &self,
        target: &str,
        enabled: crate::state::OverrideEnabled,
        uefi: bool,
    ) {
        let mut st = lock(&self.node.state);
        target.clone_into(&mut st.boot.target);
        st.boot.enabled = enabled;
        if uefi { "UEFI" } else { "Legacy" }.clone_into(&mut st.boot.mode);
    }

    /// The boot override: (target, enabled, mode).
    pub fn boot_override(&self) -> (String, crate::state::OverrideEnabled, String) {
        let st = lock(&self.node.state);
        (
            st.boot.target.clone(),
            st.boot.enabled,
            st.boot.mode.clone(),
        )
    }
}

/// Fault controls of one node (see [`FaultSpec`] for the meaning of each).
#[derive(Clone)]
pub struct Faults {
    node: Arc<Node>,
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Faults")
            .field("node", &self.node.index)
            .finish()
    }
}

impl Faults {
    /// Applies a whole fault description.
    pub fn apply(&self, spec: &FaultSpec) -> &Self {
        self.node.apply_faults(spec, Instant::now());
        self
    }

    /// Adds latency to every request.
    pub fn latency(&self, latency: Duration) -> &Self {
        lock(&self.node.faults).latency = latency;
        self
    }

    /// Answers the next `count` requests with `status` (and `Retry-After` when given).
    pub fn fail_next(&self, count: u32, status: u16, retry_after_secs: Option<u32>) -> &Self {
        self.apply(&FaultSpec {
            fail_next: Some(FailNext {
                count,
                status,
                retry_after: retry_after_secs,
            }),
            ..FaultSpec::default()
        })
    }

    /// Answers the next `count` requests with the personality's transient error (Dell `SYS518`).
    pub fn transient_error_next(&self, count: u32) -> &Self {
        lock(&self.node.faults).transient_next = count;
        self
    }

    /// Resets the connection of the next `count` requests.
    pub fn reset_connection_next(&self, count: u32) -> &Self {
        lock(&self.node.faults).reset_next = count;
        self
    }

    /// Invalidates every session now.
    pub fn expire_sessions(&self) -> &Self {
        lock(&self.node.state).sessions.clear();
        self
    }

    /// Sends a truncated JSON body for the next `count` responses.
    pub fn malformed_json_next(&self, count: u32) -> &Self {
        lock(&self.node.faults).malformed_next = count;
        self
    }

    /// Multiplies power transition delays by `factor`.
    pub fn slow_power(&self, factor: u32) -> &Self {
        lock(&self.node.faults).power_factor = factor.max(1);
        self
    }

    /// Fails the next `count` image downloads.
    pub fn image_download_fails_next(&self, count: u32) -> &Self {
        lock(&self.node.faults).image_fail_next = count;
        self
    }

    /// Reboots the BMC: unreachable for `down` over Redfish and IPMI, sessions of both lost.
    pub fn reboot_bmc(&self, down: Duration) -> &Self {
        self.apply(&FaultSpec {
            bmc_reboot_ms: Some(u64::try_from(down.as_millis()).unwrap_or(u64::MAX)),
            ..FaultSpec::default()
        })
    }

    /// Clears every fault (a reboot under way ends now).
    pub fn clear(&self) -> &Self {
        let mut f = lock(&self.node.faults);
        // The restart count is history, not a fault: IPMI must not forget sessions again.
        let bmc_restarts = f.bmc_restarts;
        *f = FaultState {
            power_factor: 1,
            bmc_restarts,
            ..FaultState::default()
        };
        self
    }
}
