//! `ferrofish-mock-bmc`: a realistic, fast Redfish and IPMI BMC emulator.
//!
//! (Long because this page is the mock's manual: where each area lives, every switch and
//! fault, and the builder they are set through; the code is in the area modules.)
//!
//! One process serves many BMCs ("nodes"), each on its own loopback port, each with its own
//! state: power with transition delays, a boot override consumed at boot, virtual media that
//! really downloads the image and checks it is ISO 9660 (and boots config drives, taking the
//! static address in `network_data.json`), BIOS current/pending values with a 65-attribute
//! registry, sessions, tasks, `ETags` and `$expand`. Vendor personalities reproduce known firmware
//! quirks ([`Personality`], [`Profile`]). Faults are injected per node ([`Faults`], admin API),
//! and every request is recorded ([`NodeHandle::requests`]) with secrets redacted.
//!
//! With [`MockBmcBuilder::ipmi`] each node also answers IPMI v2.0 RMCP+ on its own UDP port
//! (cipher suites 17 and 3, optional Kg), on the same state: `ipmitool chassis power on` is
//! what the next Redfish GET shows, a Redfish boot override is what `ipmitool chassis bootparam
//! get 5` reads (see [`ipmi`] and the mapping table below).
//!
//! Over 600 lines: most of this file is the crate documentation and the builder (one method
//! per option); serving lives in the modules listed under "Where each area lives".
//!
//! It builds its own payloads and uses none of ferrofish's client crates, so a misunderstanding
//! shared by client and mock cannot pass silently; DMTF's validators check it
//! (`mock-bmc/conformance/run.sh`).
//!
//! # Library
//!
//! ```no_run
//! # async fn demo() -> Result<(), ferrofish_mock_bmc::MockBmcError> {
//! use ferrofish_mock_bmc::{MockBmc, Personality};
//! let mock = MockBmc::builder().nodes(2).personality(Personality::Dell).spawn().await?;
//! let url = mock.node(0).url(); // e.g. http://127.0.0.1:41234
//! // ... talk Redfish to `url` with user `admin`, password `password` ...
//! assert_eq!(mock.node(0).count("GET", "/redfish/v1"), 0);
//! drop(mock); // shuts every listener down
//!
//! // The same fleet with IPMI: `ipmitool -I lanplus -H 127.0.0.1 -p PORT -U admin -P password`.
//! let mock = MockBmc::builder().ipmi(true).spawn().await?;
//! let ipmi = mock.node(0).ipmi_addr(); // Some(127.0.0.1:PORT), UDP
//! # let _ = ipmi;
//! # Ok(()) }
//! ```
//!
//! Default credentials: user **`admin`**, password **`password`** ([`DEFAULT_USER`],
//! [`DEFAULT_PASSWORD`]).
//!
//! # Binary
//!
//! ```text
//! ferrofish-mock-bmc --nodes N --listen 127.0.0.1:8000 [--tls] [--personality generic|dell|hpe|lenovo|supermicro|ami|irmc]
//!                    [--user U --password P] [--admin-listen 127.0.0.1:0] [--faults JSON] [--insert-returns-task]
//!                    [--basic-auth-only] [--systems-per-node N] [--bios-options JSON]
//!                    [--power-on-ms MS --force-off-ms MS --graceful-shutdown-ms MS]
//!                    [--ipmi 127.0.0.1:6230 [--ipmi-kg-hex HEX]]
//! ferrofish-mock-bmc --capture DIR [--listen 127.0.0.1:8000]
//! ```
//!
//! `--capture DIR` serves a real BMC's capture (DMTF mockup layout) read-only instead of the
//! emulated nodes, and prints `{"capture": DIR, "url": URL}` ([`CaptureBmc`]).
//!
//! Node `i` listens on port `PORT + i` (or an ephemeral port each when `PORT` is 0); with
//! `--ipmi ADDR` it also answers IPMI on UDP port `ADDR`'s port + `i` (ephemeral each when 0),
//! same user and password at Administrator privilege, with the BMC key `--ipmi-kg-hex` (also
//! read from `FERROFISH_MOCK_BMC_IPMI_KG_HEX`) when given. Once every listener is bound the
//! binary prints exactly one JSON line on stdout and serves until SIGINT or SIGTERM:
//!
//! ```json
//! {"personality":"dell","tls":false,"user":"admin","admin":"http://127.0.0.1:40001",
//!  "ca_pem_path":null,
//!  "basic_auth_only":false,
//!  "nodes":[{"index":0,"addr":"127.0.0.1:8000","url":"http://127.0.0.1:8000","ipmi":"127.0.0.1:6230"}]}
//! ```
//!
//! `ipmi` is each node's IPMI `host:port` (UDP), `null` without `--ipmi`.
//!
//! `--faults` takes a [`FaultSpec`] (armed on every node) or an array of them; an entry with
//! `"node": i` is armed on node `i` only ([`parse_node_fault_specs`]).
//! `--insert-returns-task` makes `InsertMedia` asynchronous ([`MockBmcBuilder::insert_returns_task`]).
//! `--basic-auth-only` serves without a `SessionService`, HTTP Basic only
//! ([`MockBmcBuilder::basic_auth_only`]); the JSON line then says `"basic_auth_only": true`.
//! `--systems-per-node N` serves N Systems on each node ([`MockBmcBuilder::systems_per_node`]).
//! `--bios-options JSON` sets the BIOS quirk switches ([`BiosOptionsChange`]; also the builder's
//! `bios_*` methods, [`NodeHandle::set_bios_options`] and the admin API's options).
//! The power, boot, Manager identity and transport switches ([`SystemOptions`]:
//! `power_on_conflicts`, `continuous_boot_refused`, `manager_firmware`, `manager_model`,
//! `gzip_weakens_etag`, `identity_encoding_refused`, `stale_keep_alive_connection`,
//! `ilo_busy_during_post`) are set through the builder ([`MockBmcBuilder::power_on_conflicts`],
//! [`MockBmcBuilder::continuous_boot_refused`], [`MockBmcBuilder::manager_identity`] and the
//! methods named after the other switches), [`NodeHandle::set_system_options`] and the admin
//! API's options (`"system": {...}`).
//! The binary logs to stderr, filtered by `RUST_LOG` (default `info`; `debug` adds a line per
//! request, path without query, never credentials).
//!
//! With `--tls`, `ca_pem_path` is the path of the self-signed certificate (PEM) every node
//! presents; clients pin it or use it as their CA bundle.
//!
//! # Admin API
//!
//! Plain HTTP on loopback (`admin` in the JSON line), no authentication, JSON bodies:
//!
//! | route | meaning |
//! |---|---|
//! | `GET /nodes` | every node: index, addr, url, ipmi (`host:port` or `null`), `basic_auth_only` |
//! | `GET /nodes/{i}` | [`NodeView`]: power, boot override, BIOS changed/pending, inserted media, last boot and static address, sessions |
//! | `GET /nodes/{i}/requests` | `{"count": N, "entries": [`[`LogEntry`]`...]}` |
//! | `DELETE /nodes/{i}/requests` | forget the log |
//! | `POST /nodes/{i}/faults` | arm faults, body a [`FaultSpec`] |
//! | `DELETE /nodes/{i}/faults` | clear faults |
//! | `POST /faults` | arm a [`FaultSpec`] on every node |
//! | `GET /nodes/{i}/ipmi/faults` | the node's IPMI faults: `{"drop_every_nth_reply": N or null, "reply_delay_ms": M, "refused_suites": [17]}` |
//! | `POST /nodes/{i}/ipmi/faults` | replace them (same body, every field optional; 404 without IPMI) |
//! | `DELETE /nodes/{i}/ipmi/faults` | clear them |
//! | `GET /nodes/{i}/options` | the node's run-time options: `{"basic_auth_only": false, "bios": {...}, "system": {...}}` ([`BiosOptionsChange`], [`SystemOptionsChange`], every field shown) |
//! | `POST /nodes/{i}/options` | change them (every field optional), answers the new options |
//! | `POST /options` | change them on every node |
//!
//! # IPMI on the fleet
//!
//! Each node's IPMI server ([`NodeHandle::ipmi`]) runs on the node's own state:
//!
//! | IPMI | Redfish |
//! |---|---|
//! | Chassis Control power up / power down / soft shutdown / power cycle / hard reset / NMI | `ResetType` `On` / `ForceOff` / `GracefulShutdown` / `PowerCycle` / `ForceRestart` / `Nmi`, with the same transition delays; the boot at the end consumes a `Once` override exactly as after a Redfish reset. A control the state refuses (power up while on, hard reset while off, anything but power down during a transition) is acknowledged and does nothing, as a power button would. |
//! | Get Chassis Status "power on" | `PowerState` other than `Off` (the rail is on in POST and during an orderly shutdown) |
//! | boot flags valid / persistent / EFI | `BootSourceOverrideEnabled` `Disabled` when not valid, else `Continuous` (persistent) or `Once` (`Once` on Lenovo, which has no `Continuous`); `BootSourceOverrideMode` `UEFI` / `Legacy` |
//! | device PXE / disk / CD-DVD / BIOS setup / diagnostic / floppy-removable / none | `Pxe` / `Hdd` / `Cd` (Supermicro `UsbCd`) / `BiosSetup` / `Diags` or `Utilities` / `Floppy`, `Usb` or `UsbHdd` (the first the personality offers; none: the override is dropped) / `None` + `Disabled`; Redfish targets IPMI cannot name (`UefiHttp`, `UefiTarget`) read as "no override" |
//! | Get Device ID | the personality's IANA manufacturer number (Dell 674, HPE 47196, Lenovo 19046, Supermicro 10876, AMI 20974, Fujitsu 10368, generic 32473) |
//! | Get System GUID | the System's Redfish `UUID`, least significant byte first |
//!
//! IPMI commands go into the node's request log with Redfish requests, in one sequence (method
//! `IPMI`, path `/ipmi/<command>`, data in hex, completion code as status; see [`LogEntry`]), so
//! they count in [`NodeHandle::request_count`] and [`NodeHandle::count`]. The RMCP+ handshake
//! and retransmissions answered from the reply cache are not logged. A simulated BMC reboot
//! ([`Faults::reboot_bmc`], `bmc_reboot_ms`) silences IPMI too: no datagram is answered while
//! it lasts, and the IPMI sessions are lost with the Redfish ones. The other Redfish faults
//! (latency, error answers, connection resets) do not act on IPMI, which has its own
//! ([`ipmi::IpmiFaults`]: drop every Nth reply, delay, refuse a suite).
//!
//! # Scale
//!
//! Node state is a few hundred bytes: inventory payloads are generated on request from counts
//! ([`InventorySize`]) and the node index, BIOS values are stored only where they differ from the
//! registry defaults. `cargo bench -p ferrofish-mock-bmc --bench fleet` prints start-up time,
//! resident memory per idle node and GET/s, with the load coming from separate processes (`wrk`
//! when installed, and the bench binary re-executed as a one-thread keep-alive load generator).
//! On the 2-core development machine, 10 000 nodes with ephemeral ports: start-up 0.42–0.59 s,
//! 7.0 KiB resident per idle node (9.8 KiB with IPMI), 15 000–18 000 `GET
//! /redfish/v1/Systems/1` per second.
//!
//! Listeners on port 0 are bound without `SO_REUSEADDR`: with it, Linux searches only half of
//! the ephemeral range for a port-0 bind and scans it port by port, so binding became slow from
//! about the 7 000th listener (10 000 nodes took about 15 s; now about 0.5 s). Each node needs
//! one file descriptor, two with IPMI: raise `ulimit -n` accordingly (10 000 nodes with IPMI need
//! more than 20 000).
//!
//! # Boot progress
//!
//! Each System's `BootProgress.LastState` follows the boot: `None` while off or shutting down;
//! during POST (the power-on delay) `MemoryInitializationStarted`, then
//! `SystemHardwareInitializationComplete`; after POST, when what was booted carries an operating
//! system (the disk, or a virtual CD whose ISO has an El Torito boot record,
//! [`iso9660::build_bootable_iso`]), `OSBootStarted` for another power-on delay and then
//! `OSRunning`; `SetupEntered` after a `BiosSetup` boot; and
//! `SystemHardwareInitializationComplete` when nothing bootable was found (PXE, an empty CD
//! slot, a config drive).
//!
//! # Where each area lives
//!
//! A request goes through `service` (faults, `OData-Version`, authentication, query, `ETag`,
//! `$expand`, the request log), which finds its row in the one route table, `routes.rs`, and
//! hands it to the area module that owns the resource:
//!
//! | area | module | owns |
//! |---|---|---|
//! | service root and metadata | `areas/root.rs` | `/redfish`, the service root, `$metadata`, `odata` |
//! | sessions and accounts | `areas/sessions.rs` | `SessionService`, login and logout, accounts, roles |
//! | systems with power and boot | `areas/systems.rs` | the Systems, `ComputerSystem.Reset`, the boot override PATCH, `BootProgress` |
//! | BIOS | `areas/bios.rs` | `Bios`, the settings object PATCH (Dell jobs), `ResetBios`, the attribute registry files |
//! | virtual media | `areas/vmedia.rs` | slots, insert and eject (actions or PATCH), the image download, asynchronous inserts |
//! | tasks and jobs | `areas/tasks.rs` | `TaskService`, tasks, task monitors (DELETE cancels), Dell jobs |
//! | inventory | `areas/inventory.rs` | processors, memory, storage, NICs, chassis, `PCIe` devices |
//! | managers | `areas/managers.rs` | the Manager |
//! | admin API | `admin.rs` | the loopback admin API above |
//!
//! Around them: `messages.rs` names every Base registry message (and the vendors' own) in one
//! place, `reply.rs` turns a reply into the HTTP response, `state.rs` holds the pure state
//! machines, `node.rs` a node's state, faults and log, `handle.rs` the public handles,
//! `redact.rs` what the log keeps, `bridge.rs` the IPMI view of a node, `ipmi/` the RMCP+
//! server, `personality.rs` the vendor quirks as data.
//!
//! To add a route: add a variant to the area's enum in `routes.rs` and a row to `ROUTES` (its
//! path pattern with placeholders such as `{system}` or `{id}`, the methods it allows, and a
//! `route_when` guard if only some personalities or options have it); then the arm in that
//! area's `get` (and `patch`, `post` or `delete` if the row allows them). Messages come from
//! `messages.rs`; add one there rather than writing a `MessageId` in an area. A new area is a
//! new module under `areas/`, a variant of `routes::Resource`, and one arm in each dispatch
//! function of `areas/mod.rs`.

mod admin;
mod areas;
pub mod bios;
pub mod bios_options;
mod bridge;
mod capture;
mod error;
mod handle;
mod ids;
pub mod ipmi;
pub mod iso9660;
mod messages;
mod node;
mod paths;
pub mod personality;
mod redact;
mod reply;
mod routes;
mod service;
pub mod state;
pub mod system_options;

#[doc(hidden)]
pub mod fuzzing;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use secrecy::{ExposeSecret, SecretString};

pub use bios_options::{BiosOptions, BiosOptionsChange};
pub use capture::{CAPTURE_SESSION, CAPTURE_TOKEN, CaptureBmc, CapturedRequest};
pub use error::MockBmcError;
pub use handle::{Faults, NodeHandle, NodeView};
pub use node::{FailNext, FaultSpec, InventorySize, LogEntry};
pub use personality::{Personality, Profile, VmediaQuirk};
pub use state::{OverrideEnabled, PowerDelays, PowerState};
pub use system_options::{SystemOptions, SystemOptionsChange};

/// Default user name.
pub const DEFAULT_USER: &str = "admin";
/// Default password.
pub const DEFAULT_PASSWORD: &str = "password";

/// Entry point: [`MockBmc::builder`].
#[derive(Debug)]
pub struct MockBmc;

impl MockBmc {
    /// A builder with one generic node on `127.0.0.1`, ephemeral port, plain HTTP, default
    /// credentials.
    pub fn builder() -> MockBmcBuilder {
        MockBmcBuilder::default()
    }
}

/// Configures and starts a fleet of mock BMCs.
#[allow(clippy::struct_excessive_bools)] // each bool is one independent on/off option
pub struct MockBmcBuilder {
    nodes: usize,
    personality: Personality,
    tls: bool,
    user: String,
    password: SecretString,
    listen: SocketAddr,
    admin_listen: Option<SocketAddr>,
    delays: PowerDelays,
    inventory: InventorySize,
    node_inventory: Vec<(usize, InventorySize)>,
    faults: Option<FaultSpec>,
    node_faults: Vec<(usize, FaultSpec)>,
    max_image_bytes: u64,
    insert_returns_task: bool,
    vmedia_quirks: Vec<VmediaQuirk>,
    basic_auth_only: bool,
    bios: BiosOptionsChange,
    system: SystemOptionsChange,
    systems_per_node: u8,
    ipmi: bool,
    ipmi_listen: Option<SocketAddr>,
    ipmi_kg: Option<ipmi::IpmiKey>,
}

impl std::fmt::Debug for MockBmcBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockBmcBuilder")
            .field("nodes", &self.nodes)
            .field("personality", &self.personality)
            .field("tls", &self.tls)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("listen", &self.listen)
            .field("ipmi", &self.ipmi)
            .field("ipmi_listen", &self.ipmi_listen)
            .field("ipmi_kg", &self.ipmi_kg.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

impl Default for MockBmcBuilder {
    fn default() -> Self {
        MockBmcBuilder {
            nodes: 1,
            personality: Personality::Generic,
            tls: false,
            user: DEFAULT_USER.to_owned(),
            password: SecretString::from(DEFAULT_PASSWORD),
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            admin_listen: None,
            delays: PowerDelays::default(),
            inventory: InventorySize::default(),
            node_inventory: Vec::new(),
            faults: None,
            node_faults: Vec::new(),
            max_image_bytes: 64 << 20,
            insert_returns_task: false,
            vmedia_quirks: Vec::new(),
            basic_auth_only: false,
            bios: BiosOptionsChange::default(),
            system: SystemOptionsChange::default(),
            systems_per_node: 1,
            ipmi: false,
            ipmi_listen: None,
            ipmi_kg: None,
        }
    }
}

impl MockBmcBuilder {
    /// Number of nodes (≥ 1).
    #[must_use]
    pub fn nodes(mut self, n: usize) -> Self {
        self.nodes = n;
        self
    }

    /// Personality of every node.
    #[must_use]
    pub fn personality(mut self, p: Personality) -> Self {
        self.personality = p;
        self
    }

    /// Serve HTTPS with a self-signed certificate generated at start.
    #[must_use]
    pub fn tls(mut self, on: bool) -> Self {
        self.tls = on;
        self
    }

    /// Credentials every node accepts.
    #[must_use]
    pub fn credentials(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.user = user.into();
        self.password = SecretString::from(password.into());
        self
    }

    /// Address of node 0; node `i` uses port + `i`, or an ephemeral port each when the port is 0.
    #[must_use]
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Also serve the admin API on this address (loopback only).
    #[must_use]
    pub fn admin_api(mut self, addr: SocketAddr) -> Self {
        self.admin_listen = Some(addr);
        self
    }

    /// Power transition delays.
    #[must_use]
    pub fn power_delays(mut self, delays: PowerDelays) -> Self {
        self.delays = delays;
        self
    }

    /// Inventory counts of every node.
    #[must_use]
    pub fn inventory(mut self, size: InventorySize) -> Self {
        self.inventory = size;
        self
    }

    /// Inventory counts of node `index` (overrides [`Self::inventory`]).
    #[must_use]
    pub fn node_inventory(mut self, index: usize, size: InventorySize) -> Self {
        self.node_inventory.push((index, size));
        self
    }

    /// Faults armed on every node at start.
    #[must_use]
    pub fn faults(mut self, spec: FaultSpec) -> Self {
        self.faults = Some(spec);
        self
    }

    /// Faults armed at start on node `index` only (after those of [`Self::faults`]);
    /// [`Self::spawn`] refuses an index beyond the fleet.
    #[must_use]
    pub fn node_faults(mut self, index: usize, spec: FaultSpec) -> Self {
        self.node_faults.push((index, spec));
        self
    }

    /// Largest image a node downloads on insert (default 64 MiB).
    #[must_use]
    pub fn max_image_bytes(mut self, bytes: u64) -> Self {
        self.max_image_bytes = bytes;
        self
    }

    /// Asynchronous inserts (default off, any personality): `VirtualMedia.InsertMedia` answers
    /// `202 Accepted` at once with a Task (its monitor in `Location`, `Retry-After`) and
    /// downloads and checks the image in the background; the slot shows `Inserted` only once
    /// the task has completed, and a bad image ends the task in `Exception` instead of failing
    /// the POST (DSP0266 asynchronous operations; gofish follows the `Location` of an insert
    /// since its PR #419). An option rather than a personality quirk: no field report in the
    /// project's references ties this behaviour to a particular vendor.
    #[must_use]
    pub fn insert_returns_task(mut self, on: bool) -> Self {
        self.insert_returns_task = on;
        self
    }

    /// Switches a virtual-media quirk on for every node (any personality; call once per
    /// quirk): the insert-body refusals of Nokia, NVIDIA DGX and OCPBUGS-12703 BMCs, or iLO's
    /// `Oem.Hpe.BootOnNextServerReset` slot flag ([`VmediaQuirk`]).
    #[must_use]
    pub fn vmedia_quirk(mut self, quirk: VmediaQuirk) -> Self {
        if !self.vmedia_quirks.contains(&quirk) {
            self.vmedia_quirks.push(quirk);
        }
        self
    }

    /// Serve without a `SessionService`, taking HTTP Basic authentication only (default off,
    /// any personality), as many small BMCs and emulators do (sushy-tools among them): the
    /// service root links no `SessionService` and has no `Links.Sessions`, everything under
    /// `/redfish/v1/SessionService` answers 404 (a session login `POST` included, with or
    /// without credentials), and `X-Auth-Token` is not accepted. Switchable per node at run
    /// time ([`NodeHandle::set_basic_auth_only`], admin `POST /nodes/{i}/options`).
    #[must_use]
    pub fn basic_auth_only(mut self, on: bool) -> Self {
        self.basic_auth_only = on;
        self
    }

    /// Quirk `bios_rejected_at_apply` on every node ([`BiosOptions::rejected_at_apply`]):
    /// these attributes pass the settings PATCH and are refused at the applying reset, with a
    /// message in `@Redfish.Settings.Messages`. Switchable at run time
    /// ([`NodeHandle::set_bios_options`], admin `POST /nodes/{i}/options`).
    #[must_use]
    pub fn bios_rejected_at_apply<S: Into<String>>(
        mut self,
        attributes: impl IntoIterator<Item = S>,
    ) -> Self {
        self.bios.rejected_at_apply = Some(attributes.into_iter().map(Into::into).collect());
        self
    }

    /// Quirk `bios_rejected_at_patch` on every node ([`BiosOptions::rejected_at_patch`]): a
    /// settings PATCH naming one of these attributes is refused with 400 and a message naming
    /// it. Switchable at run time ([`NodeHandle::set_bios_options`]).
    #[must_use]
    pub fn bios_rejected_at_patch<S: Into<String>>(
        mut self,
        attributes: impl IntoIterator<Item = S>,
    ) -> Self {
        self.bios.rejected_at_patch = Some(attributes.into_iter().map(Into::into).collect());
        self
    }

    /// Quirk `bios_never_applies` ([`BiosOptions::never_applies`]): BIOS changes are accepted
    /// and stay pending across every reset, without a message. Switchable at run time.
    #[must_use]
    pub fn bios_never_applies(mut self, on: bool) -> Self {
        self.bios.never_applies = Some(on);
        self
    }

    /// Quirk `bios_suffixed_names` ([`BiosOptions::suffixed_names`]): attribute names carry a
    /// `#XXXX` suffix, as on Supermicro. Default: on for [`Personality::Supermicro`], off
    /// elsewhere. Switchable at run time.
    #[must_use]
    pub fn bios_suffixed_names(mut self, on: bool) -> Self {
        self.bios.suffixed_names = Some(on);
        self
    }

    /// Quirk `bios_settings_if_match_star` ([`BiosOptions::settings_if_match_star`]): the BIOS
    /// settings object takes a PATCH only with `If-Match: *` (AMI). Switchable at run time.
    #[must_use]
    pub fn bios_settings_if_match_star(mut self, on: bool) -> Self {
        self.bios.settings_if_match_star = Some(on);
        self
    }

    /// Quirk `reset_bios_needs_body` ([`BiosOptions::reset_bios_needs_body`]):
    /// `#Bios.ResetBios` without a body is refused with 400. Switchable at run time.
    #[must_use]
    pub fn reset_bios_needs_body(mut self, on: bool) -> Self {
        self.bios.reset_bios_needs_body = Some(on);
        self
    }

    /// Quirk `idrac10_power_on_conflict` on every node ([`SystemOptions::power_on_conflicts`]):
    /// the next `count` `On`/`ForceOn` resets are answered 409
    /// `ActionParameterValueConflict`; reads and other resets are not. Switchable at run time
    /// ([`NodeHandle::set_system_options`], admin `POST /nodes/{i}/options`).
    #[must_use]
    pub fn power_on_conflicts(mut self, count: u32) -> Self {
        self.system.power_on_conflicts = Some(count);
        self
    }

    /// Quirk `continuous_boot_refused` ([`SystemOptions::continuous_boot_refused`]): a
    /// `Continuous` boot override is refused with 400. Switchable at run time.
    #[must_use]
    pub fn continuous_boot_refused(mut self, on: bool) -> Self {
        self.system.continuous_boot_refused = Some(on);
        self
    }

    /// Quirk `gzip_weakens_etag` ([`SystemOptions::gzip_weakens_etag`]): without
    /// `Accept-Encoding: identity`, entity tags are weak with `-gzip`, and an `If-Match` naming one
    /// is refused with 412. Switchable at run time.
    #[must_use]
    pub fn gzip_weakens_etag(mut self, on: bool) -> Self {
        self.system.gzip_weakens_etag = Some(on);
        self
    }

    /// Quirk `identity_encoding_refused` ([`SystemOptions::identity_encoding_refused`]): a
    /// request with `Accept-Encoding: identity` is answered 406. Switchable at run time.
    #[must_use]
    pub fn identity_encoding_refused(mut self, on: bool) -> Self {
        self.system.identity_encoding_refused = Some(on);
        self
    }

    /// Quirk `stale_keep_alive_connection` ([`SystemOptions::stale_keep_alive_connection`]):
    /// a reused keep-alive connection is reset under its next request. Switchable at run time.
    #[must_use]
    pub fn stale_keep_alive_connection(mut self, on: bool) -> Self {
        self.system.stale_keep_alive_connection = Some(on);
        self
    }

    /// Quirk `ilo_busy_during_post` ([`SystemOptions::ilo_busy_during_post`]): the next
    /// `count` boot override PATCH requests are refused with 400 `UnableToModifyDuringSystemPOST`.
    /// Switchable at run time.
    #[must_use]
    pub fn ilo_busy_during_post(mut self, count: u32) -> Self {
        self.system.ilo_busy_during_post = Some(count);
        self
    }

    /// The Manager's `FirmwareVersion` and `Model` instead of the personality's
    /// ([`SystemOptions::manager_firmware`]): `("1.20.25.00", "17G Monolithic")` on
    /// [`Personality::Dell`] is an iDRAC10. Switchable at run time.
    #[must_use]
    pub fn manager_identity(mut self, firmware: &str, model: &str) -> Self {
        self.system.manager_firmware = Some(firmware.to_owned());
        self.system.manager_model = Some(model.to_owned());
        self
    }

    /// Systems each node serves (default 1, at most 16), as a multi-node chassis or blade
    /// enclosure BMC does: `Systems/1`, `Systems/2`, ... (the personality's System id with
    /// its trailing number counted up: `System.Embedded.2` on Dell). Each System has its own
    /// power state machine, boot override, `BootProgress`, reset action and inventory; the BIOS
    /// and the virtual media belong to the first, which is also the one IPMI and the
    /// [`NodeHandle`] power and boot methods act on. [`Self::spawn`] refuses 0 or more than 16.
    #[must_use]
    pub fn systems_per_node(mut self, systems: u8) -> Self {
        self.systems_per_node = systems;
        self
    }

    /// Also serve IPMI v2.0 (RMCP+ over UDP, cipher suites 17 and 3) on every node, on the
    /// same state as its Redfish side: node `i` on an ephemeral UDP port of its Redfish address
    /// (see [`Self::ipmi_listen`] to choose). The account is the Redfish one
    /// ([`Self::credentials`]) at Administrator privilege; IPMI limits the user name to 16
    /// bytes and the password to 20, which [`Self::spawn`] checks.
    #[must_use]
    pub fn ipmi(mut self, on: bool) -> Self {
        self.ipmi = on;
        self
    }

    /// Serve IPMI with node 0 on `addr`; node `i` uses port + `i`, or an ephemeral port each
    /// when the port is 0. Implies [`Self::ipmi`].
    #[must_use]
    pub fn ipmi_listen(mut self, addr: SocketAddr) -> Self {
        self.ipmi = true;
        self.ipmi_listen = Some(addr);
        self
    }

    /// The BMC key (Kg) every node's IPMI server requires; without it sessions are keyed by
    /// the password alone.
    #[must_use]
    pub fn ipmi_kg(mut self, key: ipmi::IpmiKey) -> Self {
        self.ipmi_kg = Some(key);
        self
    }

    /// The IPMI configuration of node `index` (users, Kg, GUID), or `None` without IPMI.
    fn ipmi_config(&self, index: usize) -> Result<Option<ipmi::IpmiConfig>, MockBmcError> {
        if !self.ipmi {
            return Ok(None);
        }
        let user = ipmi::IpmiUser::new(
            &self.user,
            self.password.expose_secret(),
            ipmi::Privilege::Administrator,
        )?;
        let mut config = ipmi::IpmiConfig::new(vec![user]);
        config.bmc_key.clone_from(&self.ipmi_kg);
        config.guid = bridge::guid_of(index);
        Ok(Some(config))
    }

    /// Binds every listener and starts serving.
    #[allow(clippy::too_many_lines)]
    pub async fn spawn(self) -> Result<MockBmcHandle, MockBmcError> {
        if self.nodes == 0 {
            return Err(MockBmcError::InvalidConfig("nodes must be at least 1"));
        }
        if !(1..=paths::MAX_SYSTEMS).contains(&self.systems_per_node) {
            return Err(MockBmcError::InvalidConfig(
                "systems per node must be between 1 and 16",
            ));
        }
        if self.node_faults.iter().any(|(i, _)| *i >= self.nodes) {
            return Err(MockBmcError::InvalidConfig(
                "node faults name a node index beyond the fleet",
            ));
        }
        if let Some(a) = self.admin_listen
            && !a.ip().is_loopback()
        {
            return Err(MockBmcError::InvalidConfig(
                "the admin API listens on loopback only",
            ));
        }
        if self.listen.port() != 0 && usize::from(self.listen.port()) + self.nodes > 65_536 {
            return Err(MockBmcError::InvalidConfig("port range exceeds 65535"));
        }
        if let Some(a) = self.ipmi_listen
            && a.port() != 0
            && usize::from(a.port()) + self.nodes > 65_536
        {
            return Err(MockBmcError::InvalidConfig("ipmi port range exceeds 65535"));
        }
        // Validates the IPMI account before anything is bound.
        let ipmi_template = self.ipmi_config(0)?;
        let http = reqwest::Client::builder()
            .tls_danger_accept_invalid_certs(true)
            .no_proxy()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|e| MockBmcError::Tls(e.to_string()))?;
        let basic_authorization = SecretString::from(format!(
            "Basic {}",
            service::auth::base64_encode(
                format!("{}:{}", self.user, self.password.expose_secret()).as_bytes()
            )
        ));
        let shared = Arc::new(node::Shared {
            personality: self.personality,
            profile: self.personality.profile(),
            user: self.user,
            password: self.password,
            delays: self.delays,
            tls: self.tls,
            http,
            max_image_bytes: self.max_image_bytes,
            insert_returns_task: self.insert_returns_task,
            vmedia_quirks: self.vmedia_quirks,
            paths: paths::paths_of(self.personality.profile(), self.systems_per_node),
            basic_authorization,
        });
        let (tls_config, cert_pem) = if self.tls {
            let ck = rcgen::generate_simple_self_signed(vec![
                "localhost".to_owned(),
                "127.0.0.1".to_owned(),
                self.listen.ip().to_string(),
            ])
            .map_err(|e| MockBmcError::Tls(e.to_string()))?;
            let cert_pem = ck.cert.pem();
            let key_pem = ck.signing_key.serialize_pem();
            let config = axum_server::tls_rustls::RustlsConfig::from_pem(
                cert_pem.clone().into_bytes(),
                key_pem.into_bytes(),
            )
            .await
            .map_err(|e| MockBmcError::Tls(e.to_string()))?;
            (Some(config), Some(cert_pem))
        } else {
            (None, None)
        };
        // One handle per listener: a handle shared by thousands of servers makes start-up
        // quadratic (every server registers with it).
        let mut server_handles: Vec<axum_server::Handle<SocketAddr>> =
            Vec::with_capacity(self.nodes + 1);
        let mut nodes = Vec::with_capacity(self.nodes);
        let now = Instant::now();
        for index in 0..self.nodes {
            let addr = if self.listen.port() == 0 {
                self.listen
            } else {
                SocketAddr::new(self.listen.ip(), self.listen.port() + index as u16)
            };
            let listener = bind_listener(addr)?;
            let bound = listener.local_addr()?;
            let sizes = self
                .node_inventory
                .iter()
                .rev()
                .find(|(i, _)| *i == index)
                .map_or(self.inventory, |(_, s)| *s);
            let mut node_state = state::NodeState::new(shared.profile)
                .with_systems(usize::from(self.systems_per_node), shared.profile);
            node_state.bios_options = BiosOptions::for_personality(self.personality);
            self.bios.apply_to(&mut node_state.bios_options);
            self.system.apply_to(&mut node_state.system_options);
            let node = Arc::new(node::Node {
                index,
                shared: shared.clone(),
                sizes,
                state: Mutex::new(node_state),
                faults: Mutex::new(node::FaultState {
                    power_factor: 1,
                    ..node::FaultState::default()
                }),
                log: Mutex::new(node::RequestLog::default()),
                addr: bound,
                basic_auth_only: std::sync::atomic::AtomicBool::new(self.basic_auth_only),
                background: Mutex::new(Vec::new()),
            });
            if let Some(spec) = &self.faults {
                node.apply_faults(spec, now);
            }
            for (_, spec) in self.node_faults.iter().filter(|(i, _)| *i == index) {
                node.apply_faults(spec, now);
            }
            let app = Router::new()
                .fallback(service::dispatch)
                .with_state(node.clone());
            let acceptor = service::connection::FaultAcceptor { node: node.clone() };
            let h = axum_server::Handle::new();
            server_handles.push(h.clone());
            if let Some(cfg) = &tls_config {
                let server = axum_server::tls_rustls::from_tcp_rustls(listener, cfg.clone())?
                    .map(|a| a.acceptor(acceptor))
                    .handle(h);
                tokio::spawn(async move { server.serve(app.into_make_service()).await });
            } else {
                let server = axum_server::from_tcp(listener)?
                    .acceptor(acceptor)
                    .handle(h);
                tokio::spawn(async move { server.serve(app.into_make_service()).await });
            }
            let ipmi = match &ipmi_template {
                Some(template) => {
                    let addr = match self.ipmi_listen {
                        Some(a) if a.port() != 0 => {
                            SocketAddr::new(a.ip(), a.port() + index as u16)
                        }
                        Some(a) => a,
                        None => SocketAddr::new(bound.ip(), 0),
                    };
                    let mut config = template.clone();
                    config.guid = bridge::guid_of(index);
                    let adapter = Arc::new(bridge::NodeIpmi { node: node.clone() });
                    Some(ipmi::IpmiServer::bind(addr, adapter, config).await?)
                }
                None => None,
            };
            nodes.push(NodeHandle { node, ipmi });
        }
        let nodes = Arc::new(nodes);
        let admin_addr = match self.admin_listen {
            Some(addr) => {
                let listener = std::net::TcpListener::bind(addr)
                    .map_err(|source| MockBmcError::Bind { addr, source })?;
                listener.set_nonblocking(true)?;
                let bound = listener.local_addr()?;
                let app = admin::router(nodes.clone());
                let h = axum_server::Handle::new();
                server_handles.push(h.clone());
                let server = axum_server::from_tcp(listener)?.handle(h);
                tokio::spawn(async move { server.serve(app.into_make_service()).await });
                Some(bound)
            }
            None => None,
        };
        tracing::info!(
            nodes = nodes.len(),
            personality = self.personality.name(),
            tls = self.tls,
            ipmi = self.ipmi,
            first = %nodes.first().map(NodeHandle::url).unwrap_or_default(),
            "mock BMC fleet started"
        );
        Ok(MockBmcHandle {
            nodes,
            server_handles,
            admin_addr,
            cert_pem,
            personality: self.personality,
            user: shared.user.clone(),
        })
    }
}

/// A running fleet. Dropping it shuts every listener down.
pub struct MockBmcHandle {
    nodes: Arc<Vec<NodeHandle>>,
    server_handles: Vec<axum_server::Handle<SocketAddr>>,
    admin_addr: Option<SocketAddr>,
    cert_pem: Option<String>,
    personality: Personality,
    user: String,
}

impl std::fmt::Debug for MockBmcHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockBmcHandle")
            .field("nodes", &self.nodes.len())
            .field("personality", &self.personality)
            .field("admin", &self.admin_addr)
            .finish_non_exhaustive()
    }
}

impl MockBmcHandle {
    /// Node `i`.
    ///
    /// # Panics
    /// When `i` is not below [`Self::len`] (a bug in the calling test).
    pub fn node(&self, i: usize) -> NodeHandle {
        match self.nodes.get(i) {
            Some(n) => n.clone(),
            None => panic!(
                "mock BMC has {} nodes, node {i} does not exist",
                self.nodes.len()
            ),
        }
    }

    /// Node `i`, or `None`.
    pub fn try_node(&self, i: usize) -> Option<NodeHandle> {
        self.nodes.get(i).cloned()
    }

    /// Every node.
    pub fn nodes(&self) -> &[NodeHandle] {
        &self.nodes
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Always false: a fleet has at least one node.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Personality of the fleet.
    pub fn personality(&self) -> Personality {
        self.personality
    }

    /// User name the nodes accept.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// Address of the admin API, when enabled.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin_addr
    }

    /// The self-signed certificate (PEM) every node presents, when TLS is on. It is its own CA:
    /// add it as a root certificate or pin it.
    pub fn ca_pem(&self) -> Option<&str> {
        self.cert_pem.as_deref()
    }

    /// Stops every listener now, HTTP and IPMI (also done on drop).
    pub fn shutdown(&self) {
        for h in &self.server_handles {
            h.shutdown();
        }
        for n in self.nodes.iter() {
            if let Some(ipmi) = &n.ipmi {
                ipmi.shutdown();
            }
        }
    }
}

impl Drop for MockBmcHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Binds a node's TCP listener (non-blocking, for the server).
///
/// With port 0 the socket is bound without `SO_REUSEADDR` (which `std` always sets): for a
/// port-0 bind Linux then searches only half of the ephemeral range first and scans it port by
/// port, so binding thousands of listeners slows to milliseconds each once about 7 000 are bound
/// (10 000 listeners: about 15 s, against 0.4 s without the option). `SO_REUSEADDR` only
/// matters for re-binding a fixed port whose old connections linger in `TIME_WAIT`, so fixed
/// ports keep it.
fn bind_listener(addr: SocketAddr) -> Result<std::net::TcpListener, MockBmcError> {
    let bind_error = |source| MockBmcError::Bind { addr, source };
    let listener = if addr.port() == 0 {
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()
        } else {
            tokio::net::TcpSocket::new_v6()
        }
        .map_err(bind_error)?;
        socket.set_reuseaddr(false).map_err(bind_error)?;
        socket.bind(addr).map_err(bind_error)?;
        socket.listen(1024).map_err(bind_error)?.into_std()?
    } else {
        std::net::TcpListener::bind(addr).map_err(bind_error)?
    };
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Parses a [`FaultSpec`] from JSON text (the CLI's `--faults`).
pub fn parse_fault_spec(json: &str) -> Result<FaultSpec, MockBmcError> {
    serde_json::from_str(json).map_err(|e| MockBmcError::InvalidFaults(e.to_string()))
}

/// Parses the CLI's `--faults`: one [`FaultSpec`] object or an array of them, each optionally
/// with `"node": i` to arm it on node `i` only (`None` in the result: every node). For example
/// `[{"latency_ms": 50}, {"node": 1, "transient_next": 3}]`.
pub fn parse_node_fault_specs(json: &str) -> Result<Vec<(Option<usize>, FaultSpec)>, MockBmcError> {
    let invalid = |e: String| MockBmcError::InvalidFaults(e);
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| invalid(e.to_string()))?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        one => vec![one],
    };
    items
        .into_iter()
        .map(|mut item| {
            let node = match item.as_object_mut().and_then(|o| o.remove("node")) {
                None => None,
                Some(n) => Some(
                    n.as_u64()
                        .and_then(|n| usize::try_from(n).ok())
                        .ok_or_else(|| {
                            invalid(format!("\"node\" must be a node index, not {n}"))
                        })?,
                ),
            };
            let spec = serde_json::from_value(item).map_err(|e| invalid(e.to_string()))?;
            Ok((node, spec))
        })
        .collect()
}
