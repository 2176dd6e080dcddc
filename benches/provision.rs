//! Fleet throughput of the provisioning state machine: N mock nodes (default 1,000) through the
//! whole flow (verify → inspect → clean with a BIOS profile → provide → deploy by virtual media
//! with a config drive → active) with the mock's power delays at zero, on a `SQLite` store.
//!
//! ```text
//! cargo bench --bench provision                        # 1,000 nodes, 64 at a time
//! FERROFISH_BENCH_NODES=100 cargo bench --bench provision
//! cargo bench --bench provision -- --nodes 200 --workers 32
//! ```
//!
//! Prints nodes per second and peak resident memory (`VmHWM` of `/proc/self/status`): in all,
//! before the run (store and image server up), and the growth per managed node, beside the
//! goal of at most 64 KiB per node. The mock fleet runs in a child process (this binary
//! re-executed with `--serve-mock N`), so its request logs do not count as the provisioning
//! side's memory. Times and memory depend on the machine; everything stays on 127.0.0.1 and is
//! bounded in count; the child ends when this process closes its stdin or exits.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferrofish::provision::{
    BmcRef, CleanStep, Connector, DeploySpec, Driver, Fleet, FleetPlan, Node, Policy,
    ProvisionError, RedfishPort, SqliteStore, StateStore,
};
use ferrofish::vmedia::{ImageServer, ImageServerOptions};
use ferrofish_mock_bmc::{DEFAULT_PASSWORD, DEFAULT_USER, MockBmc, PowerDelays};
use serde_json::json;

/// Issue 13: resident memory per managed node.
const GOAL_KIB_PER_NODE: u64 = 64;

const NETWORK_DATA: &str = r#"{
  "links": [{"id": "eno1", "type": "phy", "ethernet_mac_address": "52:54:00:ab:cd:ef"}],
  "networks": [{"id": "n0", "type": "ipv4", "link": "eno1", "ip_address": "192.0.2.77",
                "netmask": "255.255.255.0"}]
}"#;

struct MockConnector;

impl Connector for MockConnector {
    type Port = RedfishPort;

    async fn connect(&self, node: &Node) -> Result<RedfishPort, ProvisionError> {
        RedfishPort::connect(
            &node.bmc.address,
            DEFAULT_USER,
            DEFAULT_PASSWORD.into(),
            Duration::from_secs(30),
        )
        .await
        .map(|p| p.with_media_retry_pause(Duration::from_millis(10)))
        .map_err(|err| ProvisionError::Connect {
            node: node.name.clone(),
            reason: err.to_string(),
        })
    }

    async fn disconnect(&self, port: RedfishPort) {
        port.close().await;
    }
}

/// `VmHWM` in KiB (0 where `/proc` is absent).
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn arg(name: &str) -> Option<usize> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
}

/// Child mode: serve `nodes` mock BMCs, print their URLs as one JSON line, serve until stdin
/// closes.
async fn serve_mock(nodes: usize) {
    let mock = MockBmc::builder()
        .nodes(nodes)
        .power_delays(PowerDelays {
            on: Duration::ZERO,
            force_off: Duration::ZERO,
            graceful_shutdown: Duration::ZERO,
        })
        .spawn()
        .await
        .expect("mock fleet (raise `ulimit -n`?)");
    let urls: Vec<String> = mock
        .nodes()
        .iter()
        .map(ferrofish_mock_bmc::NodeHandle::url)
        .collect();
    println!("{}", serde_json::to_string(&urls).expect("JSON"));
    let mut sink = Vec::new();
    let _ = tokio::io::AsyncReadExt::read_to_end(&mut tokio::io::stdin(), &mut sink).await;
    drop(mock);
}

/// Starts the mock fleet in a child process; returns it and the node URLs.
async fn spawn_mock(nodes: usize) -> (tokio::process::Child, Vec<String>) {
    let mut child = tokio::process::Command::new(std::env::current_exe().expect("this binary"))
        .args(["--serve-mock", &nodes.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn the mock fleet");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    tokio::io::AsyncBufReadExt::read_line(&mut tokio::io::BufReader::new(stdout), &mut line)
        .await
        .expect("the mock's URLs");
    let urls = serde_json::from_str(&line).expect("a JSON list of URLs");
    (child, urls)
}

#[tokio::main]
#[allow(clippy::too_many_lines)] // one measurement, set up and printed in order
async fn main() {
    if let Some(nodes) = arg("--serve-mock") {
        serve_mock(nodes).await;
        return;
    }
    let nodes = arg("--nodes")
        .or_else(|| {
            std::env::var("FERROFISH_BENCH_NODES")
                .ok()
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(1_000)
        .max(1);
    let workers = arg("--workers").unwrap_or(64).max(1);

    let (mut mock, urls) = spawn_mock(nodes).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite:{}", dir.path().join("fleet.db").display());
    let store = SqliteStore::connect(&url).await.expect("store");
    for (i, address) in urls.iter().enumerate() {
        let mut node = Node::new(
            format!("node-{i:05}"),
            BmcRef {
                address: address.clone(),
                ..BmcRef::default()
            },
        );
        store.enroll(&mut node).await.expect("enroll");
    }
    let server = ImageServer::start(ImageServerOptions::http(SocketAddr::from((
        Ipv4Addr::LOCALHOST,
        0,
    ))))
    .await
    .expect("image server");
    let iso = ferrofish_mock_bmc::iso9660::build_bootable_iso(
        "DEPLOY",
        &[("README.TXT", b"bench".as_slice())],
    );
    let image = server
        .serve_bytes("deploy.iso", iso)
        .await
        .expect("serve")
        .to_string();
    let plan = FleetPlan {
        inspect: true,
        clean_steps: vec![CleanStep::bios_apply(&[
            ferrofish::provision::BiosSetting {
                name: "ProcTurboMode".into(),
                value: json!("Disabled"),
            },
        ])],
        provide: true,
        deploy: Some(DeploySpec {
            image,
            network_data: Some(serde_json::from_str(NETWORK_DATA).expect("network data")),
            boot_mode: None,
        }),
    };
    let driver = Driver::new(store.clone(), "bench")
        .with_policy(Policy {
            poll_interval: Duration::from_millis(5),
            ..Policy::default()
        })
        .with_image_server(Arc::new(server));
    let before_kib = peak_rss_kib();
    let started = Instant::now();
    let summary = Fleet::new(driver, MockConnector, plan)
        .workers(workers)
        .run()
        .await
        .expect("run");
    let elapsed = started.elapsed();
    let peak_kib = peak_rss_kib();
    let reached = summary.reached();
    if reached != nodes {
        let failed: Vec<_> = summary
            .nodes
            .iter()
            .filter(|n| !n.reached_goal)
            .take(3)
            .collect();
        eprintln!(
            "{} node(s) did not reach active, e.g. {failed:#?}",
            nodes - reached
        );
    }
    let per_node = peak_kib.saturating_sub(before_kib) / nodes as u64;
    println!("provision: {nodes} nodes, {workers} at a time, mock power delays 0");
    println!(
        "  whole flow:        {reached}/{nodes} active in {:.2} s = {:.1} nodes/s",
        elapsed.as_secs_f64(),
        f64::from(u32::try_from(reached).unwrap_or(u32::MAX)) / elapsed.as_secs_f64()
    );
    println!(
        "  peak RSS (VmHWM):  {peak_kib} KiB in all, {before_kib} KiB before the run (store, image server; the mock runs in a child)"
    );
    println!(
        "  per managed node:  {per_node} KiB growth (goal <= {GOAL_KIB_PER_NODE} KiB: {}), {} KiB in all / nodes",
        if per_node <= GOAL_KIB_PER_NODE {
            "met"
        } else {
            "NOT met"
        },
        peak_kib / nodes as u64
    );
    store.close().await;
    drop(mock.stdin.take());
    let _ = mock.wait().await;
}
