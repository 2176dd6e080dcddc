//! The main job: takes nodes enroll → verify → inspect → clean with a BIOS profile → provide →
//! deploy by virtual media with a config drive → active, with live progress and a summary.
//!
//! ```text
//! cargo run --example provision                          # an embedded mock fleet of 4 nodes
//! cargo run --example provision -- --nodes 8 --personality dell --json
//! cargo run --example provision -- --bmc idrac-virtualmedia://10.0.0.5 \
//!     --bmc redfish-virtualmedia://10.0.0.6 --user root --rules rules.json \
//!     --image https://images.example/deploy.iso --network-data net.json --bios bios.json
//! cargo run --example provision -- --store sqlite:fleet.db --enroll fleet.json
//! cargo run --example provision -- --store sqlite:fleet.db --run --workers 16 --image ./deploy.iso
//! cargo run --example provision -- --store sqlite:fleet.db --status --json
//! PGPASSWORD=… cargo run --example provision -- --store postgres://fleet@db/ferrofish --run \
//!     --workers 16 --group site-b --holder conductor-b1 --wait-leases --image ./deploy.iso
//! ```
//!
//! Without `--bmc` and `--store`, an embedded mock fleet (`--nodes`, `--personality`) is
//! started, enrolled by auto-discovery (`ferrofish::rules::discover` over its addresses, so the
//! nodes carry `auto_discovered` and rules like the seed's Dell rule fire) and driven in
//! memory; it finishes in seconds. `--bmc` (repeatable, any address scheme `Bmc::connect`
//! takes: `redfish-virtualmedia://`, `idrac-virtualmedia://`, `ipmi://`, ...) drives real BMCs
//! in memory, the password from `FERROFISH_PASSWORD` or a prompt. With `--store
//! sqlite:PATH` the nodes live in that file, with `--store postgres://…` in that database
//! (several processes, on several hosts, share one fleet: give each its own `--holder`;
//! `--wait-leases` makes each take over a dead one's nodes once their `--lease-ttl` lapses):
//! `--enroll fleet.json` adds the nodes listed
//! (`[{"name", "bmc", "username", "password_env", "conductor_group"?}]`; each password is read
//! from the named environment variable when a run connects, never stored); `--run` drives every
//! enrolled node to active, resuming whatever a killed run left; `--status` prints each node.
//!
//! `--rules` is a rules file in Ironic's language (`docs/rules.md`), run in the inspect step
//! (default on the embedded mock: the seed's Dell rule and a trait for auto-discovered nodes).
//! A rule's `fail` fails the node's inspection. Secrets rules set (a `driver_info/*password*`)
//! stay in this process's memory (`SecretMap`): the nodes hold `secret://rules/…` references,
//! and neither the store, the progress nor the summary ever shows a value.
//!
//! `--bios` is Ironic's settings list (`[{"name": "turbo", "value": "disabled"}]`, portable or
//! vendor names; default: turbo disabled); `--network-data` an OpenStack `network_data.json`
//! put on every node's config drive; `--image` the ISO booted once (an `http(s)` URL, or a file
//! served from here; without it, the embedded mock gets a small bootable image).
//!
//! Progress goes to stderr (one bar per node on a terminal, plain lines otherwise); the
//! summary to stdout (`--json`: one object), with what the rules set on each node (driver,
//! capabilities, traits). Exit codes: 0 every node reached the goal, 1 some did not or an
//! error, 2 invalid input.
//!
//! Over 600 lines: the three modes (embedded, `--bmc`, `--store`) share the argument checks,
//! the plan, the image server and the summary, which read best in one file.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use ferrofish::provision::{
    BmcConnector, BmcRef, CleanStep, DeploySpec, Driver, Fleet, FleetEvent, FleetPlan,
    FleetSummary, InspectionRules, Node, Policy, ProvisionError, ProvisionState, SqliteStore,
    StateStore, Store,
};
use ferrofish::rules::{DiscoverOptions, DiscoveryCredentials, RuleSet};
use ferrofish::vmedia::{ImageServer, ImageServerOptions, NetworkData};
use ferrofish::{BmcAddress, BmcOptions, Credentials};
use ferrofish_mock_bmc::{MockBmc, MockBmcHandle, Personality, PowerDelays};
use secrecy::SecretString;
use serde_json::{Map, Value, json};

mod support;

/// The rules run on the embedded mock when `--rules` is not given: the seed's Dell rule as
/// written there, and a trait on every auto-discovered node.
const DEMO_RULES: &str = r#"[
  { "description": "Set the vendor driver for Dell hardware",
    "conditions": [
      {"op": "eq", "field": "data://auto_discovered", "value": true},
      {"op": "eq", "field": "data://inventory.system_vendor.manufacturer", "value": "Dell Inc."} ],
    "actions": [
      {"action": "set-attribute", "path": "driver", "value": "idrac"},
      {"action": "set-attribute", "path": "driver_info/drac_username", "value": "root"},
      {"action": "set-attribute", "path": "driver_info/drac_password", "value": "calvin"},
      {"action": "set-attribute", "path": "driver_info/drac_address", "value": "{data[inventory][bmc_address]}"} ] },
  { "description": "Mark auto-discovered nodes",
    "conditions": [{"op": "eq", "field": "data://auto_discovered", "value": true}],
    "actions": [{"action": "add-trait", "name": "CUSTOM_AUTO_DISCOVERED"}] }
]"#;

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
    /// A BMC to provision: `redfish://`, `redfish-virtualmedia://`, `idrac-virtualmedia://`,
    /// `ilo5-virtualmedia://`, `ipmi://`, `http(s)://` ... (optionally followed by
    /// `/redfish/v1/Systems/<id>`); repeatable. Without it and without --store: an embedded
    /// mock fleet, enrolled by auto-discovery.
    #[arg(long)]
    bmc: Vec<String>,
    /// User name on the --bmc BMCs (the password: `FERROFISH_PASSWORD` or a prompt).
    #[arg(long)]
    user: Option<String>,
    /// Trust only this certificate for every --bmc: a PEM file, or its SHA-256 fingerprint
    /// (`sha256:AB:CD:…` or 64 hex digits; several, comma-separated).
    #[arg(long, value_name = "PEM_OR_FINGERPRINT")]
    pin_cert: Option<String>,
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
    /// Vendor personality of the embedded mock fleet (generic, dell, hpe, lenovo, supermicro, ami,
    /// irmc).
    #[arg(long, default_value = "generic")]
    personality: String,
    /// Inspection rules (Ironic's rules JSON) run in the inspect step.
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
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
    let parsed = BmcAddress::parse(address).map_err(|err| err.to_string())?;
    let host = parsed.host().trim_start_matches('[').trim_end_matches(']');
    let port = parsed.port().unwrap_or(443);
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

/// How far along the way to `active` a state is, for the bars (failure states: unknown).
fn milestone(state: ProvisionState) -> Option<u64> {
    Some(match state {
        ProvisionState::Enroll => 0,
        ProvisionState::Verifying => 1,
        ProvisionState::Manageable => 2,
        ProvisionState::Inspecting => 3,
        ProvisionState::Cleaning => 4,
        ProvisionState::Available => 5,
        ProvisionState::Deploying => 6,
        ProvisionState::Active => MILESTONES,
        _ => return None,
    })
}

/// The length of a node's bar: the last milestone.
const MILESTONES: u64 = 7;

/// Live progress on stderr: one bar per node on a terminal (its state, phase and last
/// message), a plain line per event otherwise (`node-0: cleaning bios_stage: ...`).
fn progress_sink(
    progress: Arc<Mutex<support::progress::MultiWaitProgress>>,
) -> ferrofish::provision::EventSink {
    let furthest = Arc::new(Mutex::new(std::collections::BTreeMap::<String, u64>::new()));
    Arc::new(move |event: &FleetEvent| {
        let position = milestone(event.state).map(|at| {
            let mut furthest = furthest
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let seen = furthest.entry(event.node.clone()).or_default();
            *seen = (*seen).max(at);
            *seen
        });
        let phase = event.phase.as_deref().unwrap_or("-");
        let line = format!("{} {phase}: {}", event.state, event.message);
        let mut progress = progress
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        progress.show(&event.node, &line, position);
        if event.phase.is_none() && (event.state == ProvisionState::Active || position.is_none()) {
            progress.finish_task(&event.node);
        }
    })
}

/// What inspection and the rules left on a node, for the summary: `driver`, `driver_info`
/// (secrets as references), `capabilities`, `traits`, and whether it was auto-discovered.
fn node_fields(node: &Node) -> Map<String, Value> {
    let mut fields = Map::new();
    let get = |key: &str| node.fields.get(key).cloned().unwrap_or(Value::Null);
    fields.insert("driver".into(), get("driver"));
    let mut driver_info = match get("driver_info") {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    // References stay; anything else under a password-like key is redacted.
    ferrofish::provision::scrub_secrets(&mut driver_info);
    fields.insert("driver_info".into(), Value::Object(driver_info));
    fields.insert(
        "capabilities".into(),
        node.properties()
            .and_then(|p| p.get("capabilities"))
            .cloned()
            .unwrap_or(Value::Null),
    );
    fields.insert("traits".into(), get("traits"));
    fields.insert(
        "auto_discovered".into(),
        Value::Bool(ferrofish::provision::auto_discovered(node)),
    );
    fields
}

/// What a run leaves for the summary beyond the fleet's own: each node's fields, and how
/// many secrets the rules handed to this process.
struct RunReport {
    summary: FleetSummary,
    fields: std::collections::BTreeMap<String, Map<String, Value>>,
    secrets_held: usize,
}

fn text_of(value: &Value) -> String {
    match value {
        Value::Null => "-".into(),
        Value::String(text) if text.is_empty() => "-".into(),
        Value::String(text) => text.clone(),
        Value::Array(items) if items.is_empty() => "-".into(),
        Value::Array(items) => items.iter().map(text_of).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

fn render(report: &RunReport, json: bool) -> String {
    let summary = &report.summary;
    let discovered = report
        .fields
        .values()
        .filter(|f| f.get("auto_discovered") == Some(&Value::Bool(true)))
        .count();
    if json {
        let nodes: Vec<Value> = summary
            .nodes
            .iter()
            .map(|outcome| {
                let mut entry = match serde_json::to_value(outcome) {
                    Ok(Value::Object(map)) => map,
                    _ => Map::new(),
                };
                if let Some(fields) = report.fields.get(&outcome.name) {
                    entry.extend(fields.clone());
                }
                Value::Object(entry)
            })
            .collect();
        return serde_json::to_string_pretty(&json!({
            "nodes": nodes,
            "reached_goal": summary.reached(),
            "total": summary.nodes.len(),
            "auto_discovered": discovered,
            "rule_secrets_held_in_memory": report.secrets_held,
            "elapsed_ms": summary.elapsed_ms,
        }))
        .unwrap_or_default();
    }
    let mut out = String::new();
    for node in &summary.nodes {
        let fields = report.fields.get(&node.name);
        let field = |key: &str| fields.and_then(|f| f.get(key)).map_or("-".into(), text_of);
        let _ = writeln!(
            out,
            "{:<10} {:<14} driver={:<8} capabilities={} traits={} {}",
            node.name,
            node.state.as_str(),
            field("driver"),
            field("capabilities"),
            field("traits"),
            node.last_error
                .as_deref()
                .unwrap_or(if node.reached_goal { "ok" } else { "" })
        );
    }
    if discovered > 0 {
        let _ = writeln!(
            out,
            "{discovered} node(s) were auto-discovered (enrolled by probing their BMCs)"
        );
    }
    if report.secrets_held > 0 {
        let _ = writeln!(
            out,
            "the rules set {} secret(s): held in this process's memory, the nodes hold references",
            report.secrets_held
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

/// `--rules FILE`, else the demo rules on the embedded mock, else none.
fn inspection_rules(args: &Args, embedded: bool) -> Result<Option<InspectionRules>, (u8, String)> {
    let text = match &args.rules {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|err| input(format!("cannot read {}: {err}", path.display())))?,
        None if embedded => DEMO_RULES.to_owned(),
        None => return Ok(None),
    };
    RuleSet::from_json(&text)
        .map(|rules| Some(InspectionRules::new(rules)))
        .map_err(|err| input(format!("--rules: {err}")))
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
        if let Err(err) = BmcAddress::parse(&entry.bmc) {
            return Err(input(format!("{}: bmc: {err}", entry.name)));
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

async fn run_fleet<S: StateStore>(
    args: &Args,
    store: S,
    connector: BmcConnector,
    plan: FleetPlan,
    server: Arc<ImageServer>,
    policy: Policy,
    rules: Option<InspectionRules>,
) -> Result<RunReport, (u8, String)> {
    let mut driver = Driver::new(store, holder(args))
        .with_lease_ttl(Duration::from_secs(args.lease_ttl))
        .with_policy(policy)
        .with_image_server(server);
    let secrets = rules.as_ref().map(|r| r.secrets().clone());
    if let Some(rules) = rules {
        driver = driver.with_rules(rules);
    }
    let progress = Arc::new(Mutex::new(support::progress::MultiWaitProgress::new(
        MILESTONES,
    )));
    let fleet = Fleet::new(driver, connector, plan)
        .workers(args.workers)
        .group(args.group.clone())
        .wait_for_leases(args.wait_leases)
        .on_event(progress_sink(Arc::clone(&progress)));
    let summary = fleet.run().await.map_err(|err| (1, err.to_string()));
    progress
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .finish();
    let summary = summary?;
    let mut fields = std::collections::BTreeMap::new();
    for outcome in &summary.nodes {
        if let Ok(Some(node)) = fleet.driver().store().load(&outcome.name).await {
            fields.insert(outcome.name.clone(), node_fields(&node));
        }
    }
    Ok(RunReport {
        summary,
        fields,
        secrets_held: secrets.map_or(0, |s| s.len()),
    })
}

/// Starts the embedded mock fleet and enrolls it by auto-discovery: each BMC that answers
/// gives a node per system, its address and the discovered fields, `extra.auto_discovered`.
async fn discover_mock_fleet(
    args: &Args,
) -> Result<(MockBmcHandle, Vec<(String, Map<String, Value>)>), (u8, String)> {
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
    let urls: Vec<String> = fleet
        .nodes()
        .iter()
        .map(ferrofish_mock_bmc::NodeHandle::url)
        .collect();
    let credentials = DiscoveryCredentials::new(
        ferrofish_mock_bmc::DEFAULT_USER,
        SecretString::from(ferrofish_mock_bmc::DEFAULT_PASSWORD),
    );
    let options = DiscoverOptions {
        concurrency: args.nodes,
        ..DiscoverOptions::default()
    };
    let found = ferrofish::rules::discover(&urls, &credentials, &options)
        .await
        .map_err(|err| (1, format!("auto-discovery: {err}")))?;
    let mut enrolled = Vec::new();
    for discovered in found {
        let nodes = discovered.outcome.map_err(|failure| {
            (
                1,
                format!(
                    "auto-discovery: {} did not enroll: {}",
                    discovered.address, failure.message
                ),
            )
        })?;
        for node in nodes {
            let mut fields = node.node;
            let extra = fields
                .entry("extra")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(extra) = extra {
                extra.insert("auto_discovered".into(), Value::Bool(true));
            }
            enrolled.push((format!("{}{}", discovered.endpoint, node.system), fields));
        }
    }
    eprintln!(
        "provision: no --bmc or --store: an embedded mock fleet of {} {} node(s), \
         {} auto-discovered at {}",
        args.nodes,
        args.personality,
        enrolled.len(),
        urls.join(" ")
    );
    Ok((fleet, enrolled))
}

async fn in_memory(args: &Args) -> Result<(String, bool), (u8, String)> {
    let embedded = args.bmc.is_empty();
    // Everything the user gave is checked before a BMC is touched.
    let rules = inspection_rules(args, embedded)?;
    plan(args, String::new(), embedded)?;
    let mut mock: Option<MockBmcHandle> = None;
    let (nodes, connector) = if embedded {
        let (fleet, nodes) = discover_mock_fleet(args).await?;
        mock = Some(fleet);
        let credentials = Credentials::new(
            ferrofish_mock_bmc::DEFAULT_USER,
            SecretString::from(ferrofish_mock_bmc::DEFAULT_PASSWORD),
        );
        let mut options = BmcOptions::default();
        options.request_timeout = Duration::from_secs(10);
        (
            nodes,
            BmcConnector::new(options).with_credentials(credentials),
        )
    } else {
        let user = args
            .user
            .clone()
            .ok_or_else(|| input("--bmc needs --user"))?;
        for bmc in &args.bmc {
            support::parse_address(bmc).map_err(|err| input(format!("--bmc {bmc}: {err}")))?;
        }
        let password = support::password_from_env_or_prompt(&user).map_err(input)?;
        let nodes = args.bmc.iter().map(|b| (b.clone(), Map::new())).collect();
        let mut options = BmcOptions::default();
        if let Some(pin) = &args.pin_cert {
            options.tls = support::pinned_tls(pin).map_err(input)?;
        }
        (
            nodes,
            BmcConnector::new(options).with_credentials(Credentials::new(user, password)),
        )
    };
    let store = SqliteStore::connect("sqlite::memory:")
        .await
        .map_err(|err| (1, err.to_string()))?;
    let first = nodes.first().map(|(address, _)| address.as_str());
    let (server, image) = images(args, first, embedded).await?;
    let plan = plan(args, image, embedded)?;
    for (i, (address, fields)) in nodes.into_iter().enumerate() {
        let mut node = Node::new(
            format!("node-{i}"),
            BmcRef {
                address,
                ..BmcRef::default()
            },
        );
        node.fields = fields;
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
    let report = run_fleet(args, store, connector, plan, server, policy, rules).await?;
    drop(mock);
    let all = report.summary.reached() == report.summary.nodes.len();
    Ok((render(&report, args.json), all))
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
    // --run: validate the plan and the rules before anything is sent.
    plan(args, String::new(), false)?;
    let rules = inspection_rules(args, false)?;
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
    // Each node's password comes from the variable its `password_env` names, read now.
    // The holder names itself to the BMCs, so their logs tell the processes apart.
    let mut options = BmcOptions::default();
    if let Some(pin) = &args.pin_cert {
        options.tls = support::pinned_tls(pin).map_err(input)?;
    }
    options.user_agent = Some(format!(
        "ferrofish/{} ({})",
        env!("CARGO_PKG_VERSION"),
        holder(args)
    ));
    let report = run_fleet(
        args,
        store,
        BmcConnector::new(options),
        plan,
        server,
        Policy::default(),
        rules,
    )
    .await?;
    let all = report.summary.reached() == report.summary.nodes.len();
    Ok((render(&report, args.json), all))
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
