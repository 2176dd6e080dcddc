//! One process, many BMCs: what polling the power state of a whole fleet costs the client.
//!
//! `cargo bench --bench fleet_poll [-- --nodes 1000,10000 --rounds 5]` starts a mock fleet in a
//! child process (this same binary, so the mock's memory and CPU are not the client's), then,
//! per fleet size, prints beside the goals of issue 16:
//! - resident memory per managed BMC: the growth from 10% of the clients to all of them, each
//!   logged in and polled once, divided by the clients added (goal ≤ 16 KiB);
//! - client CPU per poll: the polling thread's user + system time over every poll of the
//!   measured rounds (goal ≤ 25 µs), polls/s, and p50/p99 latency.
//!
//! The clients run on one current-thread runtime in the main thread, so the thread's CPU time
//! is the client's whole cost (HTTP, TLS-free loopback, JSON). Its kernel share is inflated on
//! loopback: the sending thread also runs the receiving side's TCP processing, which on a real
//! network happens elsewhere, so user and kernel time are printed apart. Times depend on the machine;
//! nothing here is asserted. Everything stays on 127.0.0.1.

use std::io::{BufRead as _, Read as _, Write as _};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ferrofish::redfish::{RedfishClient, System};
use ferrofish_mock_bmc::{DEFAULT_PASSWORD, DEFAULT_USER, MockBmc};
use futures::future::join_all;
use secrecy::SecretString;

/// Issue 16's goals.
const MEMORY_GOAL_KIB: f64 = 16.0;
const CPU_GOAL_MICROS: f64 = 25.0;
/// Set in the child that serves the mock fleet: how many nodes.
const CHILD_ENV: &str = "FERROFISH_FLEET_POLL_MOCK_NODES";

fn main() {
    if let Ok(nodes) = std::env::var(CHILD_ENV) {
        serve_mock(nodes.parse().expect("node count"));
        return;
    }
    let (sizes, rounds) = arguments();
    println!("fleet_poll: power-state polls from one thread, mock fleet in a child process");
    for nodes in sizes {
        measure(nodes, rounds);
    }
}

/// `--nodes 1000,10000` and `--rounds N`; anything else (cargo passes `--bench`) is ignored.
fn arguments() -> (Vec<usize>, usize) {
    let mut sizes = vec![1000];
    let mut rounds = 5;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--nodes" => {
                let list = args
                    .next()
                    .expect("--nodes takes a list such as 1000,10000");
                sizes = list
                    .split(',')
                    .map(|n| n.trim().parse().expect("a node count"))
                    .collect();
            }
            "--rounds" => {
                rounds = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--rounds N");
            }
            _ => {}
        }
    }
    (sizes, rounds)
}

/// The child: serves `nodes` mock BMCs, prints their URLs as one JSON line, and serves until
/// its standard input closes (the parent exiting closes it, so no mock outlives a bench).
fn serve_mock(nodes: usize) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let mock = MockBmc::builder()
            .nodes(nodes)
            .spawn()
            .await
            .expect("mock fleet");
        let urls: Vec<String> = mock
            .nodes()
            .iter()
            .map(ferrofish_mock_bmc::NodeHandle::url)
            .collect();
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", serde_json::to_string(&urls).expect("json")).expect("stdout");
        out.flush().expect("stdout");
        drop(out);
        tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
        })
        .await
        .expect("stdin watcher");
        drop(mock);
    });
}

fn measure(nodes: usize, rounds: usize) {
    let mut child = Command::new(std::env::current_exe().expect("this binary"))
        .env(CHILD_ENV, nodes.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("mock child");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("child stdout"))
        .read_line(&mut line)
        .expect("mock URLs");
    let urls: Vec<String> = serde_json::from_str(&line).expect("mock URLs as JSON");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let tenth = (nodes / 10).max(1);
        let first = connect_and_poll(&urls[..tenth]).await;
        let rss_tenth = resident_kib();
        let rest = connect_and_poll(&urls[tenth..]).await;
        let rss_all = resident_kib();
        let added = (nodes - tenth).max(1);
        #[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
        let per_bmc = (rss_all.saturating_sub(rss_tenth)) as f64 / added as f64;

        let systems: Vec<System> = first.into_iter().chain(rest).collect();
        let mut latencies = Vec::with_capacity(nodes * rounds);
        let cpu_before = thread_cpu();
        let started = Instant::now();
        for _ in 0..rounds {
            latencies.extend(poll_all(&systems).await);
        }
        let wall = started.elapsed();
        let cpu = thread_cpu().since(cpu_before);
        let polls = latencies.len();
        latencies.sort_unstable();
        #[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
        let per_poll = |d: Duration| d.as_secs_f64() * 1e6 / polls as f64;
        let (user, system) = (per_poll(cpu.user), per_poll(cpu.system));
        let cpu_per_poll = user + system;
        #[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
        let rate = polls as f64 / wall.as_secs_f64();
        println!("{nodes} BMCs, {rounds} rounds ({polls} polls):");
        println!(
            "  memory per managed BMC: {per_bmc:>8.1} KiB   (goal ≤ {MEMORY_GOAL_KIB} KiB; \
             resident {rss_tenth} KiB with {tenth} clients, {rss_all} KiB with {nodes})"
        );
        println!(
            "  client CPU per poll:    {cpu_per_poll:>8.1} µs    (goal ≤ {CPU_GOAL_MICROS} µs; \
             user {user:.1} µs, kernel {system:.1} µs)"
        );
        println!(
            "  {rate:>8.0} polls/s   p50 {:?}   p99 {:?}",
            percentile(&latencies, 50),
            percentile(&latencies, 99)
        );
        join_all(systems.iter().map(|s| s.client().close())).await;
    });
    drop(child.stdin.take());
    let _ = child.wait();
}

/// One client per BMC, each logged in and polled once (so its session and caches exist).
async fn connect_and_poll(urls: &[String]) -> Vec<System> {
    join_all(urls.iter().map(|url| async move {
        let client = RedfishClient::builder(url.as_str())
            .credentials(DEFAULT_USER, SecretString::from(DEFAULT_PASSWORD))
            .request_timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        let system = client.system("1").await.expect("system handle");
        system.power_state().await.expect("first poll");
        system
    }))
    .await
}

async fn poll_all(systems: &[System]) -> Vec<Duration> {
    join_all(systems.iter().map(|system| async move {
        let started = Instant::now();
        system.power_state().await.expect("poll");
        started.elapsed()
    }))
    .await
}

fn percentile(sorted: &[Duration], pct: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[(sorted.len() - 1) * pct / 100]
}

/// `VmRSS` of this process, in KiB.
fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// User and system CPU time of the calling thread (fields 14 and 15 of its `stat`, in clock
/// ticks of 10 ms; the rounds run long enough for that resolution).
fn thread_cpu() -> CpuTime {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    // The command name may hold spaces; the fields after its closing parenthesis do not.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        Duration::from_millis(
            fields
                .get(i)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0)
                * 10,
        )
    };
    CpuTime {
        user: ticks(11),
        system: ticks(12),
    }
}

#[derive(Clone, Copy)]
struct CpuTime {
    user: Duration,
    system: Duration,
}

impl CpuTime {
    fn since(self, before: CpuTime) -> CpuTime {
        CpuTime {
            user: self.user.saturating_sub(before.user),
            system: self.system.saturating_sub(before.system),
        }
    }
}
