//! `ferrofish-mock-bmc`: a realistic, fast Redfish BMC emulator.
//!
//! One process serves many BMCs ("nodes"), each on its own loopback port, each with its own
//! state: power with transition delays, a boot override consumed at boot, virtual media that
//! really downloads the image and checks it is ISO 9660 (and boots config drives, taking the
//! static address in `network_data.json`), BIOS current/pending values with a 65-attribute
//! registry, sessions, tasks, `ETags` and `$expand`. Vendor personalities reproduce known firmware
//! quirks ([`Personality`], [`Profile`]). Faults are injected per node ([`Faults`], admin API),
//! and every request is recorded ([`NodeHandle::requests`]) with secrets redacted.
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
//! # Ok(()) }
//! ```
//!
//! Default credentials: user **`admin`**, password **`password`** ([`DEFAULT_USER`],
//! [`DEFAULT_PASSWORD`]).
//!
//! # Binary
//!
//! ```text
//! ferrofish-mock-bmc --nodes N --listen 127.0.0.1:8000 [--tls] [--personality generic|dell|hpe|lenovo|supermicro]
//!                    [--user U --password P] [--admin-listen 127.0.0.1:0] [--faults JSON]
//!                    [--power-on-ms MS --force-off-ms MS --graceful-shutdown-ms MS]
//! ```
//!
//! Node `i` listens on port `PORT + i` (or an ephemeral port each when `PORT` is 0). Once every
//! listener is bound the binary prints exactly one JSON line on stdout and serves until SIGINT or
//! SIGTERM:
//!
//! ```json
//! {"personality":"dell","tls":false,"user":"admin","admin":"http://127.0.0.1:40001",
//!  "ca_pem_path":null,
//!  "nodes":[{"index":0,"addr":"127.0.0.1:8000","url":"http://127.0.0.1:8000"}]}
//! ```
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
//! | `GET /nodes` | every node: index, addr, url |
//! | `GET /nodes/{i}` | [`NodeView`]: power, boot override, BIOS changed/pending, inserted media, last boot and static address, sessions |
//! | `GET /nodes/{i}/requests` | `{"count": N, "entries": [`[`LogEntry`]`...]}` |
//! | `DELETE /nodes/{i}/requests` | forget the log |
//! | `POST /nodes/{i}/faults` | arm faults, body a [`FaultSpec`] |
//! | `DELETE /nodes/{i}/faults` | clear faults |
//! | `POST /faults` | arm a [`FaultSpec`] on every node |
//!
//! # Scale
//!
//! Node state is a few hundred bytes: inventory payloads are generated on request from counts
//! ([`InventorySize`]) and the node index, BIOS values are stored only where they differ from the
//! registry defaults. `cargo bench -p ferrofish-mock-bmc --bench fleet` prints start-up time,
//! resident memory per idle node and GET/s.
//!
//! For thousands of nodes give a fixed base port (`--listen 127.0.0.1:20000`): with port 0 the
//! kernel's ephemeral-port search makes binding the 8 000th and later sockets slow (10 000 nodes:
//! about 15 s with port 0, under 1 s with a base port).

pub mod bios;
mod error;
pub mod ipmi;
pub mod iso9660;
mod node;
pub mod personality;
mod resources;
mod server;
pub mod state;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use secrecy::SecretString;

pub use error::MockBmcError;
pub use node::{FailNext, FaultSpec, Faults, InventorySize, LogEntry, NodeHandle, NodeView};
pub use personality::{Personality, Profile};
pub use state::{OverrideEnabled, PowerDelays, PowerState};

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
    max_image_bytes: u64,
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
            max_image_bytes: 64 << 20,
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

    /// Largest image a node downloads on insert (default 64 MiB).
    #[must_use]
    pub fn max_image_bytes(mut self, bytes: u64) -> Self {
        self.max_image_bytes = bytes;
        self
    }

    /// Binds every listener and starts serving.
    #[allow(clippy::too_many_lines)]
    pub async fn spawn(self) -> Result<MockBmcHandle, MockBmcError> {
        if self.nodes == 0 {
            return Err(MockBmcError::InvalidConfig("nodes must be at least 1"));
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
        let http = reqwest::Client::builder()
            .tls_danger_accept_invalid_certs(true)
            .no_proxy()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|e| MockBmcError::Tls(e.to_string()))?;
        let shared = Arc::new(node::Shared {
            personality: self.personality,
            profile: self.personality.profile(),
            user: self.user,
            password: self.password,
            delays: self.delays,
            tls: self.tls,
            http,
            max_image_bytes: self.max_image_bytes,
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
            let listener = std::net::TcpListener::bind(addr)
                .map_err(|source| MockBmcError::Bind { addr, source })?;
            listener.set_nonblocking(true)?;
            let bound = listener.local_addr()?;
            let sizes = self
                .node_inventory
                .iter()
                .rev()
                .find(|(i, _)| *i == index)
                .map_or(self.inventory, |(_, s)| *s);
            let node = Arc::new(node::Node {
                index,
                shared: shared.clone(),
                sizes,
                state: Mutex::new(state::NodeState::new(shared.profile)),
                faults: Mutex::new(node::FaultState {
                    power_factor: 1,
                    ..node::FaultState::default()
                }),
                log: Mutex::new(node::RequestLog::default()),
                addr: bound,
            });
            if let Some(spec) = &self.faults {
                node.apply_faults(spec, now);
            }
            let app = Router::new()
                .fallback(server::dispatch)
                .with_state(node.clone());
            let acceptor = server::FaultAcceptor { node: node.clone() };
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
            nodes.push(NodeHandle { node });
        }
        let nodes = Arc::new(nodes);
        let admin_addr = match self.admin_listen {
            Some(addr) => {
                let listener = std::net::TcpListener::bind(addr)
                    .map_err(|source| MockBmcError::Bind { addr, source })?;
                listener.set_nonblocking(true)?;
                let bound = listener.local_addr()?;
                let app = admin_router(nodes.clone());
                let h = axum_server::Handle::new();
                server_handles.push(h.clone());
                let server = axum_server::from_tcp(listener)?.handle(h);
                tokio::spawn(async move { server.serve(app.into_make_service()).await });
                Some(bound)
            }
            None => None,
        };
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

    /// Stops every listener now (also done on drop).
    pub fn shutdown(&self) {
        for h in &self.server_handles {
            h.shutdown();
        }
    }
}

impl Drop for MockBmcHandle {
    fn drop(&mut self) {
        for h in &self.server_handles {
            h.shutdown();
        }
    }
}

type Fleet = Arc<Vec<NodeHandle>>;

fn admin_router(nodes: Fleet) -> Router {
    Router::new()
        .route("/nodes", get(admin_list))
        .route("/nodes/{i}", get(admin_view))
        .route(
            "/nodes/{i}/requests",
            get(admin_requests).delete(admin_clear_requests),
        )
        .route(
            "/nodes/{i}/faults",
            post(admin_faults).delete(admin_clear_faults),
        )
        .route("/faults", post(admin_faults_all))
        .with_state(nodes)
}

fn node_entry(n: &NodeHandle) -> serde_json::Value {
    serde_json::json!({"index": n.index(), "addr": n.addr().to_string(), "url": n.url()})
}

async fn admin_list(State(nodes): State<Fleet>) -> impl IntoResponse {
    axum::Json(nodes.iter().map(node_entry).collect::<Vec<_>>())
}

fn pick(nodes: &Fleet, i: usize) -> Result<&NodeHandle, (StatusCode, &'static str)> {
    nodes.get(i).ok_or((StatusCode::NOT_FOUND, "no such node"))
}

async fn admin_view(
    State(nodes): State<Fleet>,
    Path(i): Path<usize>,
) -> Result<impl IntoResponse, (StatusCode, &'static str)> {
    Ok(axum::Json(pick(&nodes, i)?.view()))
}

async fn admin_requests(
    State(nodes): State<Fleet>,
    Path(i): Path<usize>,
) -> Result<impl IntoResponse, (StatusCode, &'static str)> {
    let n = pick(&nodes, i)?;
    Ok(axum::Json(
        serde_json::json!({"count": n.request_count(), "entries": n.requests()}),
    ))
}

async fn admin_clear_requests(
    State(nodes): State<Fleet>,
    Path(i): Path<usize>,
) -> Result<StatusCode, (StatusCode, &'static str)> {
    pick(&nodes, i)?.clear_requests();
    Ok(StatusCode::NO_CONTENT)
}

fn parse_spec(body: &[u8]) -> Result<FaultSpec, (StatusCode, String)> {
    serde_json::from_slice(body).map_err(|e| {
        (
            StatusCode::BAD_REQUEST,
            format!("invalid fault description: {e}"),
        )
    })
}

async fn admin_faults(
    State(nodes): State<Fleet>,
    Path(i): Path<usize>,
    body: axum::body::Bytes,
) -> Result<StatusCode, (StatusCode, String)> {
    let spec = parse_spec(&body)?;
    let n = nodes
        .get(i)
        .ok_or((StatusCode::NOT_FOUND, "no such node".to_owned()))?;
    n.faults().apply(&spec);
    Ok(StatusCode::NO_CONTENT)
}

async fn admin_clear_faults(
    State(nodes): State<Fleet>,
    Path(i): Path<usize>,
) -> Result<StatusCode, (StatusCode, &'static str)> {
    pick(&nodes, i)?.faults().clear();
    Ok(StatusCode::NO_CONTENT)
}

async fn admin_faults_all(
    State(nodes): State<Fleet>,
    body: axum::body::Bytes,
) -> Result<StatusCode, (StatusCode, String)> {
    let spec = parse_spec(&body)?;
    for n in nodes.iter() {
        n.faults().apply(&spec);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Parses a [`FaultSpec`] from JSON text (the CLI's `--faults`).
pub fn parse_fault_spec(json: &str) -> Result<FaultSpec, MockBmcError> {
    serde_json::from_str(json).map_err(|e| MockBmcError::InvalidFaults(e.to_string()))
}
