//! The main job: takes nodes enroll → verify → inspect → clean with a BIOS profile → provide →
//! deploy by virtual media with a config drive → active, with live progress and a summary.
//!
//! ```text
//! cargo run --example provision                          # an embedded mock fleet of 4 nodes
//! cargo run --example provision -- --nodes 8 --personality dell --json
//! cargo run --example provision -- --bmc https://10.0.0.5 --bmc https://10.0.0.6 --user root \
//!     --image https://images.example/deploy.iso --network-data net.json --bios bios.json
//! cargo run --example provision -- --store sqlite:fleet.db --enroll fleet.json
//! cargo run --example provision -- --store sqlite:fleet.db --run --workers 16 --image ./deploy.iso
//! cargo run --example provision -- --store sqlite:fleet.db --status --json
//! PGPASSWORD=… cargo run --example provision -- --store postgres://fleet@db/ferrofish --run \
//!     --workers 16 --group site-b --holder conductor-b1 --wait-leases --image ./deploy.iso
//! ```
//!
//! Without `--bmc` and `--store`, an embedded mock fleet (`--nodes`, `--personality`) is
//! enrolled and driven in memory; it finishes in seconds. `--bmc` (repeatable) drives real
//! BMCs in memory, the password from `FERROFISH_PASSWORD` or a prompt. With `--store
//! sqlite:PATH` the nodes live in that file, with `--store postgres://…` in that database
//! (several processes, on several hosts, share one fleet: give each its own `--holder`;
//! `--wait-leases` makes each take over a dead one's nodes once their `--lease-ttl` lapses): `--enroll fleet.json` adds the nodes listed
//! (`[{"name", "bmc", "username", "password_env", "conductor_group"?}]`; each password is read
//! from the named environment variable when a run connects, never stored); `--run` drives every
//! enrolled node to active, resuming whatever a killed run left; `--status` prints each node.
//!
//! `--bios` is Ironic's settings list (`[{"name": "turbo", "value": "disabled"}]`, portable or
//! vendor names; default: turbo disabled); `--network-data` an OpenStack `network_data.json`
//! put on every node's config drive; `--image` the ISO booted once (an `http(s)` URL, or a file
//! served from here; without it, the embedded mock gets a small bootable image).
//!
//! Progress goes to stderr (one line rewritten on a terminal, plain lines otherwise); the
//! summary to stdout (`--json`: one object). Exit codes: 0 every node reached the goal, 1 some
//! did not or an error, 2 invalid input.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use ferrofish::provision::{
    BmcRef, CleanStep, Connector, DeploySpec, Driver, EnvRedfishConnector, Fleet, FleetEvent,
    FleetPlan, FleetSummary, Node, Policy, ProvisionError, RedfishPort, SqliteStore, StateStore,
    Store,
};
use ferrofish::vmedia::{ImageServer, ImageServerOptions, NetworkData};
use ferrofish_mock_bmc::{MockBmc, MockBmcHandle, Personality, PowerDelays};
use secrecy::SecretString;
use serde_json::{Value, json};

mod support;

/// The BIOS profile used when `--bios` is not given.
const DEFAULT_BIOS: &str = r#"[{"name": "turbo", "value": "disabled"}]"#;

/// Network data for the embedded mock when none is given.
const SAMPLE_NETWORK_DATA: &str = r#"{
  "links": [{"id": "eno1", "type": "phy", "ethernet_mac_address": "52:54:00:12:34:56"}],
  "networks": [{"id": "n0", "type": "ipv4", "link": "eno1", "ip_address": "198.51.100.23",
                "netmask": "255.255.255.0",
                "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "198.51.100.1"}]}]
}"#;

/// Command-line arguments.
#[derive(Debug, Parser)]
#[command(
    about = "Provision nodes: verify, inspect, clean with a BIOS profile, deploy by virtual media"
)]
#[allow(clippy::struct_excessive_bools)] // independent switches of a command line
struct Args {
    /// A BMC to provision (`http(s)://host[:port]`, optionally `/redfish/v1/Systems/<id>`);
    /// repeatable. Without it and without --store: an embedded mock fleet.
    #[arg(long)]
    bmc: Vec<String>,
    /// User name on the --bmc BMCs (the password: `FERROFISH_PASSWORD` or a prompt).
    #[arg(long)]
    user: Option<String>,
    /// The node store, `sqlite:PATH` or `postgres://USER@HOST[:PORT]/DB` (the password in
    /// `PGPASSWORD`); several processes may share either.
    #[arg(long, value_name = "URL")]
    store: Option<String>,
    /// With --store: enroll the nodes listed in this JSON file.
    #[arg(long, value_name = "FILE", requires = "store")]
    enroll: Option<PathBuf>,
    /// With --store: drive every enrolled node to active.
    #[arg(long, requires = "store")]
    run: bool,
    /// With --store: print every node's state.
    #[arg(long, requires = "store")]
    status: bool,
    /// Nodes driven at once.
    #[arg(long, default_value_t = 8)]
    workers: usize,
    /// Only the nodes of this conductor group.
    #[arg(long)]
    group: Option<String>,
    /// The lease holder name (default `provision@HOST`): a run with the same name resumes this
    /// holder's nodes at once; another name waits for their leases to lapse.
    #[arg(long)]
    holder: Option<String>,
    /// With --run: how long a lease lasts without renewal, in seconds; another process takes
    /// a dead one's nodes over this long after its last write.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    lease_ttl: u64,
    /// With --run: wait for the nodes other processes hold instead of skipping them (take each
    /// over when its lease lapses); end when every node is settled.
    #[arg(long, requires = "run")]
    wait_leases: bool,
    /// Nodes of the embedded mock fleet.
    #[arg(long, default_value_t = 4)]
    nodes: usize,
    /// Vendor personality of the embedded mock fleet (generic, dell, hpe, lenovo, supermicro).
    #[arg(long, default_value = "generic")]
    personality: String,
    /// BIOS settings to apply while cleaning (Ironic's `[{"name", "value"}]`).
    #[arg(long, value_name = "FILE")]
    bios: Option<PathBuf>,
    /// OpenStack `network_data.json` for every node's config drive.
    #[arg(long, value_name = "FILE")]
    network_data: Option<PathBuf>,
    /// The ISO to boot: an http(s) URL the BMCs reach, or a local file served from here.
    #[arg(long, value_name = "URL|PATH")]
    image: Option<String>,
    /// The local address to serve images and config drives from (default: the one routing
    /// to the first BMC).
    #[arg(long, value_name = "IP")]
    serve_on: Option<IpAddr>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// One entry of `--enroll`'s file.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EnrollEntry {
    name: String,
    bmc: String,
    username: String,
    password_env: String,
    #[serde(default)]
    conductor_group: Option<String>,
}

/// Opens ports with one password for every node (`--bmc` and the embedded mock).
struct SharedPassword {
    user: String,
    password: SecretString,
    media_retry_pause: Duration,
}

impl Connector for SharedPassword {
    type Port = RedfishPort;

    async fn connect(&self, node: &Node) -> Result<RedfishPort, ProvisionError> {
        RedfishPort::connect(
            &node.bmc.address,
            &self.user,
            self.password.clone(),
            Duration::from_secs(30),
        )
        .await
        .map(|port| port.with_media_retry_pause(self.media_retry_pause))
        .map_err(|err| ProvisionError::Connect {
            node: node.name.clone(),
            reason: err.to_string(),
        })
    }

    async fn disconnect(&self, port: RedfishPort) {
        port.close().await;
    }
}

fn input(message: impl Into<String>) -> (u8, String) {
    (2, message.into())
}

fn read_json(path: &Path) -> Result<Value, (u8, String)> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| input(format!("cannot read {}: {err}", path.display())))?;
    serde_json::from_str(&text).map_err(|err| input(format!("{}: {err}", path.display())))
}

fn bios_steps(args: &Args) -> Result<Vec<CleanStep>, (u8, String)> {
    let settings = match &args.bios {
        Some(path) => read_json(path)?,
        None => serde_json::from_str(DEFAULT_BIOS).map_err(|err| input(err.to_string()))?,
    };
    let step: CleanStep = serde_json::from_value(json!({
        "interface": "bios", "step": "apply_configuration", "args": {"settings": settings}
    }))
    .map_err(|err| input(err.to_string()))?;
    step.kind()
        .map_err(|reason| input(format!("--bios: {reason}")))?;
    Ok(vec![step])
}

fn network_data(args: &Args, embedded: bool) -> Result<Option<Value>, (u8, String)> {
    let value = match &args.network_data {
        Some(path) => read_json(path)?,
        None if embedded => {
            serde_json::from_str(SAMPLE_NETWORK_DATA).map_err(|e| input(e.to_string()))?
        }
        None => return Ok(None),
    };
    NetworkData::from_json(&value.to_string())
        .and_then(|data| data.validate())
        .map_err(|err| input(format!("--network-data: {err}")))?;
    Ok(Some(value))
}

/// The local address the kernel would use to reach `address` (a UDP "connect" sends nothing).
fn local_ip_toward(address: &str) -> Result<IpAddr, String> {
    let after_scheme = address.find("://").map_or(0, |i| i + 3);
    let authority = address[after_scheme..]
        .split('/')
        .next()
        .unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => (host, port.parse().unwrap_or(443)),
        _ => (authority, 443_u16),
    };
    let socket = std::net::UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))
        .map_err(|err| format!("cannot open a socket: {err}"))?;
    socket
        .connect((host, port))
        .and_then(|()| socket.local_addr())
        .map(|addr| addr.ip())
        .map_err(|err| format!("no route to {host} to serve images from (use --serve-on): {err}"))
}

/// The image server and the deploy image URL.
async fn images(
    args: &Args,
    first_bmc: Option<&str>,
    embedded: bool,
) -> Result<(Arc<ImageServer>, String), (u8, String)> {
    let ip = match (args.serve_on, embedded, first_bmc) {
        (Some(ip), _, _) => ip,
        (None, true, _) | (None, false, None) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        (None, false, Some(bmc)) => local_ip_toward(bmc).map_err(|m| (1, m))?,
    };
    let server = ImageServer::start(ImageServerOptions::http(SocketAddr::new(ip, 0)))
        .await
        .map_err(|err| (1, err.to_string()))?;
    let image = match args.image.as_deref() {
        Some(url) if url.starts_with("http://") || url.starts_with("https://") => url.to_owned(),
        Some(path) => {
            let path = PathBuf::from(path);
            if !path.is_file() {
                return Err(input(format!(
                    "--image {}: neither an http(s) URL nor a readable file",
                    path.display()
                )));
            }
            server
                .serve_file("deploy.iso", &path)
                .await
                .map_err(|err| (1, err.to_string()))?
                .to_string()
        }
        None if embedded => {
            // The mock boots an OS only from an El Torito CD.
            let iso = ferrofish_mock_bmc::iso9660::build_bootable_iso(
                "DEPLOY",
                &[("README.TXT", b"ferrofish provision demo image".as_slice())],
            );
            server
                .serve_bytes("deploy.iso", iso)
                .await
                .map_err(|err| (1, err.to_string()))?
                .to_string()
        }
        None => return Err(input("--image is needed to deploy real BMCs")),
    };
    Ok((Arc::new(server), image))
}

fn holder(args: &Args) -> String {
    args.holder.clone().unwrap_or_else(|| {
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into());
        format!("provision@{host}")
    })
}

/// Live progress on stderr: per node its last state and phase; one line rewritten on a
/// terminal, a plain line per event otherwise.
fn progress_sink(total: usize) -> ferrofish::provision::EventSink {
    let state = Arc::new(Mutex::new((
        support::Progress::new(),
        std::collections::BTreeMap::<String, String>::new(),
    )));
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    Arc::new(move |event: &FleetEvent| {
        let mut guard = state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (progress, nodes) = &mut *guard;
        let phase = event.phase.as_deref().unwrap_or("-");
        nodes.insert(event.node.clone(), event.state.to_string());
        if terminal {
            let active = nodes.values().filter(|s| *s == "active").count();
            progress.show(&format!(
                "{active}/{total} active | {}: {} {phase} ({})",
                event.node, event.state, event.message
            ));
        } else {
            progress.show(&format!(
                "{}: {} {phase}: {}",
                event.node, event.state, event.message
            ));
        }
    })
}

fn render(summary: &FleetSummary, json: bool) -> String {
    if json {
        return serde_json::to_string_pretty(&json!({
            "nodes": summary.nodes,
            "reached_goal": summary.reached(),
            "total": summary.nodes.len(),
            "elapsed_ms": summary.elapsed_ms,
        }))
        .unwrap_or_default();
    }
    let mut out = String::new();
    for node in &summary.nodes {
        let _ = writeln!(
            out,
            "{:<20} {:<14} {}",
            node.name,
            node.state.as_str(),
            node.last_error
                .as_deref()
                .unwrap_or(if node.reached_goal { "ok" } else { "" })
        );
    }
    let _ = write!(
        out,
        "{}/{} nodes reached the goal in {}.{} s",
        summary.reached(),
        summary.nodes.len(),
        summary.elapsed_ms / 1000,
        summary.elapsed_ms % 1000 / 100
    );
    out
}

fn plan(args: &Args, image: String, embedded: bool) -> Result<FleetPlan, (u8, String)> {
    Ok(FleetPlan {
        inspect: true,
        clean_steps: bios_steps(args)?,
        provide: true,
        deploy: Some(DeploySpec {
            image,
            network_data: network_data(args, embedded)?,
            boot_mode: None,
        }),
    })
}

/// `--enroll FILE`.
async fn enroll(store: &impl StateStore, path: &Path) -> Result<String, (u8, String)> {
    let entries: Vec<EnrollEntry> = serde_json::from_value(read_json(path)?)
        .map_err(|err| input(format!("{}: {err}", path.display())))?;
    let mut enrolled = 0;
    for entry in entries {
        if !entry.bmc.starts_with("http://") && !entry.bmc.starts_with("https://") {
            return Err(input(format!(
                "{}: bmc {:?} must be an http(s) URL",
                entry.name, entry.bmc
            )));
        }
        if std::env::var_os(&entry.password_env).is_none() {
            eprintln!(
                "provision: note: {} is not set now; it must be when the nodes are run",
                entry.password_env
            );
        }
        let mut node = Node::new(
            entry.name.clone(),
            BmcRef {
                address: entry.bmc,
                username: Some(entry.username),
                password_env: Some(entry.password_env),
                credentials_ref: None,
            },
        );
        node.conductor_group = entry.conductor_group;
        match store.enroll(&mut node).await {
            Ok(()) => enrolled += 1,
            Err(ProvisionError::AlreadyEnrolled { node }) => {
                eprintln!("provision: {node} is already enrolled; left as it is");
            }
            Err(err) => return Err((1, err.to_string())),
        }
    }
    Ok(format!("enrolled {enrolled} node(s)"))
}

/// `--status`.
async fn status(store: &impl StateStore, json: bool) -> Result<String, (u8, String)> {
    let rows = store.list().await.map_err(|err| (1, err.to_string()))?;
    let mut out = Vec::new();
    for row in rows {
        let node = store
            .load(&row.name)
            .await
            .map_err(|err| (1, err.to_string()))?
            .ok_or_else(|| (1, format!("{} vanished", row.name)))?;
        let phase = node.phase().map(ferrofish::provision::Phase::as_str);
        if json {
            out.push(
                json!({"name": node.name, "state": node.state, "phase": phase,
                       "last_error": node.last_error})
                .to_string(),
            );
        } else {
            out.push(format!(
                "{:<20} {:<14} {:<22} {}",
                node.name,
                node.state.as_str(),
                phase.unwrap_or_default(),
                node.last_error.unwrap_or_default()
            ));
        }
    }
    Ok(out.join("\n"))
}

async fn run_fleet<S: StateStore, C: Connector>(
    args: &Args,
    store: S,
    connector: C,
    plan: FleetPlan,
    server: Arc<ImageServer>,
    policy: Policy,
) -> Result<FleetSummary, (u8, String)> {
    let total = store
        .list()
        .await
        .map_err(|err| (1, err.to_string()))?
        .len();
    let driver = Driver::new(store, holder(args))
        .with_lease_ttl(Duration::from_secs(args.lease_ttl))
        .with_policy(policy)
        .with_image_server(server);
    // The inspection rules plug in here (`Driver::with_inspection_hook`).
    let fleet = Fleet::new(driver, connector, plan)
        .workers(args.workers)
        .group(args.group.clone())
        .wait_for_leases(args.wait_leases)
        .on_event(progress_sink(total));
    let summary = fleet.run().await.map_err(|err| (1, err.to_string()));
    support::Progress::new().end_line();
    summary
}

async fn in_memory(args: &Args) -> Result<(String, bool), (u8, String)> {
    let embedded = args.bmc.is_empty();
    let store = SqliteStore::connect("sqlite::memory:")
        .await
        .map_err(|err| (1, err.to_string()))?;
    let mut mock: Option<MockBmcHandle> = None;
    let (addresses, connector) = if embedded {
        let personality: Personality = args
            .personality
            .parse()
            .map_err(|err| input(format!("--personality: {err}")))?;
        if args.nodes == 0 {
            return Err(input("--nodes must be at least 1"));
        }
        let fleet = MockBmc::builder()
            .nodes(args.nodes)
            .personality(personality)
            .power_delays(PowerDelays {
                on: Duration::from_millis(100),
                force_off: Duration::from_millis(30),
                graceful_shutdown: Duration::from_millis(100),
            })
            .spawn()
            .await
            .map_err(|err| (1, format!("cannot start the embedded mock fleet: {err}")))?;
        eprintln!(
            "provision: no --bmc or --store: an embedded mock fleet of {} {} node(s)",
            args.nodes, args.personality
        );
        let addresses = fleet
            .nodes()
            .iter()
            .map(ferrofish_mock_bmc::NodeHandle::url)
            .collect();
        mock = Some(fleet);
        (
            addresses,
            SharedPassword {
                user: ferrofish_mock_bmc::DEFAULT_USER.into(),
                password: SecretString::from(ferrofish_mock_bmc::DEFAULT_PASSWORD),
                media_retry_pause: Duration::from_millis(50),
            },
        )
    } else {
        let user = args
            .user
            .clone()
            .ok_or_else(|| input("--bmc needs --user"))?;
        for bmc in &args.bmc {
            support::split_bmc_url(bmc).map_err(input)?;
        }
        let password = support::password_from_env_or_prompt(&user).map_err(input)?;
        (
            args.bmc.clone(),
            SharedPassword {
                user,
                password,
                media_retry_pause: Duration::from_secs(3),
            },
        )
    };
    let steps_ok = plan(args, String::new(), embedded).map(|_| ());
    steps_ok?;
    let (server, image) = images(args, addresses.first().map(String::as_str), embedded).await?;
    let plan = plan(args, image, embedded)?;
    for (i, address) in addresses.iter().enumerate() {
        let mut node = Node::new(
            format!("node-{i}"),
            BmcRef {
                address: address.clone(),
                ..BmcRef::default()
            },
        );
        store
            .enroll(&mut node)
            .await
            .map_err(|err| (1, err.to_string()))?;
    }
    let policy = if embedded {
        Policy {
            poll_interval: Duration::from_millis(50),
            ..Policy::default()
        }
    } else {
        Policy::default()
    };
    let summary = run_fleet(args, store, connector, plan, server, policy).await?;
    drop(mock);
    let all = summary.reached() == summary.nodes.len();
    Ok((render(&summary, args.json), all))
}

async fn with_store(args: &Args, url: &str) -> Result<(String, bool), (u8, String)> {
    if !args.bmc.is_empty() {
        return Err(input(
            "--bmc and --store do not mix: list the BMCs in the file given to --enroll",
        ));
    }
    let modes = [args.enroll.is_some(), args.run, args.status];
    if modes.iter().filter(|m| **m).count() != 1 {
        return Err(input(
            "with --store, give one of --enroll FILE, --run, --status",
        ));
    }
    let store = Store::connect(url).await.map_err(|err| {
        let code = if err.is_invalid_input() { 2 } else { 1 };
        (code, err.to_string())
    })?;
    if let Some(path) = &args.enroll {
        return enroll(&store, path).await.map(|out| (out, true));
    }
    if args.status {
        return status(&store, args.json).await.map(|out| (out, true));
    }
    // --run: validate the plan before anything is sent.
    plan(args, String::new(), false)?;
    let first = store
        .list()
        .await
        .map_err(|err| (1, err.to_string()))?
        .into_iter()
        .next();
    let first_bmc = match &first {
        Some(row) => store
            .load(&row.name)
            .await
            .ok()
            .flatten()
            .map(|n| n.bmc.address),
        None => None,
    };
    let (server, image) = images(args, first_bmc.as_deref(), false).await?;
    let plan = plan(args, image, false)?;
    let summary = run_fleet(
        args,
        store,
        EnvRedfishConnector::default(),
        plan,
        server,
        Policy::default(),
    )
    .await?;
    let all = summary.reached() == summary.nodes.len();
    Ok((render(&summary, args.json), all))
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let result = match args.store.clone() {
        Some(url) => with_store(&args, &url).await,
        None => in_memory(&args).await,
    };
    match result {
        Ok((output, all)) => {
            println!("{output}");
            if all {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err((code, message)) => {
            eprintln!("provision: {message}");
            ExitCode::from(code)
        }
    }
}
