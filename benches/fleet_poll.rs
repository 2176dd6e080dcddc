//! One process, many BMCs: what polling the power state of a whole fleet costs the client.
//!
//! `cargo bench --bench fleet_poll [-- --nodes 1000,10000 --rounds 5]` starts a mock fleet in
//! child processes (this same binary, so the mock's memory and CPU are not the client's; at most
//! 4,000 BMCs per child, so that no child needs more file descriptors than a default hard limit
//! allows), then, per fleet size, prints beside the goals of issue 16:
//! - resident memory per managed BMC: the growth from 10% of the clients to all of them, each
//!   logged in and polled once, divided by the clients added (goal ≤ 16 KiB);
//! - client CPU per poll: the polling thread's user + system time over every poll of the
//!   measured rounds (goal ≤ 25 µs), polls/s, and p50/p99 latency.
//!
//! `--idle 1,0` measures with each of these `max_idle_connections` (default 1, the client's
//! default): 0 keeps no connection between polls, so each poll pays a TCP handshake (and a TLS
//! one on a real BMC) to save the kept connection's memory.
//!
//! `--transport parked,pooled` measures with each HTTP path of the client (set through
//! `FERROFISH_HTTP_TRANSPORT` in the measuring process): `parked`, the default, keeps only the
//! socket between polls (each request written and read on it by the client's own HTTP/1.1
//! codec); `pooled` keeps reqwest's pooled hyper connections, as the client did before.
//!
//! `--tls` serves the fleet over HTTPS (the mock's self-signed certificate; the clients skip
//! verification, so they share one TLS configuration): what an idle TLS connection costs.
//!
//! `--in-flight N` (default 256) bounds the polls in flight at once, so that the latency is a
//! poll's own and not its wait behind thousands of others on the one thread.
//!
//! `--exit-after-connect` ends the process right after every client is logged in and polled
//! once, without closing anything: under a heap profiler (`heaptrack`), what each client holds
//! is then what the profiler reports as leaked, by allocation site.
//!
//! The file-descriptor soft limit is raised to the hard limit first (each BMC holds a socket).
//!
//! The clients run on one current-thread runtime in the main thread, so the thread's CPU time
//! is the client's whole cost (HTTP, TLS-free loopback, JSON). Its kernel share is inflated on
//! loopback: the sending thread also runs the receiving side's TCP processing, which on a real
//! network happens elsewhere, so user and kernel time are printed apart. Times depend on the machine;
//! nothing here is asserted. Everything stays on 127.0.0.1.

use std::io::{BufRead as _, Read as _, Write as _};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ferrofish::redfish::{RedfishClient, System, TlsVerification};
use ferrofish_mock_bmc::{DEFAULT_PASSWORD, DEFAULT_USER, MockBmc};
use futures::StreamExt as _;
use futures::future::join_all;
use secrecy::SecretString;

/// Issue 16's goals.
const MEMORY_GOAL_KIB: f64 = 16.0;
const CPU_GOAL_MICROS: f64 = 25.0;
/// The client's HTTP path, read once by the library: `pooled` (reqwest's) or `parked`.
const TRANSPORT_ENV: &str = "FERROFISH_HTTP_TRANSPORT";
/// Set in the child that serves the mock fleet: how many nodes.
const CHILD_ENV: &str = "FERROFISH_FLEET_POLL_MOCK_NODES";
/// Set in the child that serves the mock fleet: serve HTTPS.
const CHILD_TLS_ENV: &str = "FERROFISH_FLEET_POLL_MOCK_TLS";
/// The most BMCs one mock child serves: each takes a listener and an accepted socket.
const NODES_PER_CHILD: usize = 4000;
/// Clients logging in at once while the fleet is set up: few and the same number in both
/// phases of the memory measurement, so that the buffers of requests in flight (which depend
/// on this number, not on the fleet's size) are the same at both measuring points and the
/// growth between them is what each client keeps.
const CONNECT_IN_FLIGHT: usize = 64;

/// What the command line asks for.
struct Arguments {
    sizes: Vec<usize>,
    rounds: usize,
    /// The `max_idle_connections` values to measure with.
    idle: Vec<usize>,
    /// Polls in flight at once.
    in_flight: usize,
    /// The HTTP paths to measure with (`pooled`, `parked`).
    transports: Vec<String>,
    /// Serve the fleet over HTTPS.
    tls: bool,
    exit_after_connect: bool,
}

fn main() {
    if let Ok(nodes) = std::env::var(CHILD_ENV) {
        serve_mock(
            nodes.parse().expect("node count"),
            std::env::var_os(CHILD_TLS_ENV).is_some(),
        );
        return;
    }
    let args = arguments();
    let fd_limit = raise_fd_limit();
    println!(
        "fleet_poll: power-state polls from one thread, mock fleet in child processes \
         (open files limit {fd_limit})"
    );
    let runs: Vec<(usize, usize, &str)> = args
        .sizes
        .iter()
        .flat_map(|&nodes| args.idle.iter().map(move |&idle| (nodes, idle)))
        .flat_map(|(nodes, idle)| {
            args.transports
                .iter()
                .map(move |transport| (nodes, idle, transport.as_str()))
        })
        .collect();
    let transport_now = std::env::var(TRANSPORT_ENV).unwrap_or_else(|_| "parked".to_owned());
    if let [(nodes, idle, transport)] = runs[..]
        && transport == transport_now
    {
        measure(nodes, idle, transport, &args);
        return;
    }
    // One process per measurement: memory freed by an earlier one would be reused by the next
    // and hide its growth.
    for (nodes, idle, transport) in runs {
        let mut again = Command::new(std::env::current_exe().expect("this binary"));
        again.env(TRANSPORT_ENV, transport);
        again.args([
            "--transport",
            transport,
            "--nodes",
            &nodes.to_string(),
            "--idle",
            &idle.to_string(),
            "--rounds",
            &args.rounds.to_string(),
            "--in-flight",
            &args.in_flight.to_string(),
        ]);
        if args.exit_after_connect {
            again.arg("--exit-after-connect");
        }
        if args.tls {
            again.arg("--tls");
        }
        let status = again.status().expect("run one measurement");
        assert!(status.success(), "the measurement of {nodes} BMCs failed");
    }
}

/// Raises this process's open-files soft limit to its hard limit (the children inherit it) and
/// returns the limit in force.
fn raise_fd_limit() -> String {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = rustix::process::Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        if let Err(err) = setrlimit(Resource::Nofile, raised) {
            eprintln!("could not raise the open-files limit: {err}");
        }
    }
    getrlimit(Resource::Nofile)
        .current
        .map_or_else(|| "unlimited".to_owned(), |n| n.to_string())
}

/// `--nodes 1000,10000`, `--rounds N`, `--idle 1,0`, `--in-flight N`, `--transport LIST` and
/// `--exit-after-connect`; anything else (cargo passes `--bench`) is ignored.
fn arguments() -> Arguments {
    let mut sizes = vec![1000];
    let mut rounds = 5;
    let mut idle = vec![1];
    let mut in_flight = 256;
    let mut transports = vec!["parked".to_owned()];
    let mut exit_after_connect = false;
    let mut tls = false;
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
            "--idle" => {
                let list = args.next().expect("--idle takes a list such as 1,0");
                idle = list
                    .split(',')
                    .map(|n| n.trim().parse().expect("an idle connection count"))
                    .collect();
            }
            "--in-flight" => {
                in_flight = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--in-flight N");
            }
            "--transport" => {
                let list = args
                    .next()
                    .expect("--transport takes a list such as pooled,parked");
                transports = list.split(',').map(|t| t.trim().to_owned()).collect();
                assert!(
                    transports.iter().all(|t| t == "pooled" || t == "parked"),
                    "--transport: pooled or parked"
                );
            }
            "--exit-after-connect" => exit_after_connect = true,
            "--tls" => tls = true,
            _ => {}
        }
    }
    Arguments {
        sizes,
        rounds,
        idle,
        in_flight,
        transports,
        tls,
        exit_after_connect,
    }
}

/// The child: serves `nodes` mock BMCs, prints their URLs as one JSON line, and serves until
/// its standard input closes (the parent exiting closes it, so no mock outlives a bench).
fn serve_mock(nodes: usize, tls: bool) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let mock = MockBmc::builder()
            .nodes(nodes)
            .tls(tls)
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

/// Mock children serving `nodes` BMCs in all, and their URLs.
fn spawn_mock_children(nodes: usize, tls: bool) -> (Vec<std::process::Child>, Vec<String>) {
    let mut children = Vec::new();
    let mut urls = Vec::with_capacity(nodes);
    let mut left = nodes;
    while left > 0 {
        let these = left.min(NODES_PER_CHILD);
        left -= these;
        let mut command = Command::new(std::env::current_exe().expect("this binary"));
        command.env(CHILD_ENV, these.to_string());
        if tls {
            command.env(CHILD_TLS_ENV, "1");
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("mock child");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("child stdout"))
            .read_line(&mut line)
            .expect("mock URLs");
        let some: Vec<String> = serde_json::from_str(&line).expect("mock URLs as JSON");
        urls.extend(some);
        children.push(child);
    }
    (children, urls)
}

fn measure(nodes: usize, idle: usize, transport: &str, args: &Arguments) {
    let rounds = args.rounds;
    let (mut children, urls) = spawn_mock_children(nodes, args.tls);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let tenth = (nodes / 10).max(1);
        let first = connect_and_poll(&urls[..tenth], idle, args.tls).await;
        let rss_tenth = resident_kib();
        let rest = connect_and_poll(&urls[tenth..], idle, args.tls).await;
        let rss_all = resident_kib();
        if args.exit_after_connect {
            println!(
                "{nodes} BMCs connected: resident {rss_tenth} KiB with {tenth} clients, \
                 {rss_all} KiB with {nodes}; exiting without closing them"
            );
            std::process::exit(0);
        }
        let added = (nodes - tenth).max(1);
        #[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
        let per_bmc = (rss_all.saturating_sub(rss_tenth)) as f64 / added as f64;

        let systems: Vec<System> = first.into_iter().chain(rest).collect();
        let mut latencies = Vec::with_capacity(nodes * rounds);
        let cpu_before = thread_cpu();
        let started = Instant::now();
        for _ in 0..rounds {
            latencies.extend(poll_all(&systems, args.in_flight).await);
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
        println!(
            "{nodes} BMCs{}, {rounds} rounds ({polls} polls, {} in flight), up to {idle} idle \
             connection(s) per BMC, {transport} transport:",
            if args.tls { " over TLS" } else { "" },
            args.in_flight
        );
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
    for child in &mut children {
        drop(child.stdin.take());
    }
    for mut child in children {
        let _ = child.wait();
    }
}

/// One client per BMC, each logged in and polled once (so its session and caches exist), at
/// most [`CONNECT_IN_FLIGHT`] at a time.
async fn connect_and_poll(urls: &[String], idle: usize, tls: bool) -> Vec<System> {
    futures::stream::iter(urls.iter().map(|url| async move {
        let mut builder = RedfishClient::builder(url.as_str());
        if tls {
            builder = builder.tls(TlsVerification::DangerAcceptInvalidCerts);
        }
        let client = builder
            .credentials(DEFAULT_USER, SecretString::from(DEFAULT_PASSWORD))
            .request_timeout(Duration::from_secs(60))
            .max_idle_connections(idle)
            .build()
            .expect("client");
        let system = client.system("1").await.expect("system handle");
        system.power_state().await.expect("first poll");
        system
    }))
    .buffered(CONNECT_IN_FLIGHT)
    .collect()
    .await
}

/// One poll of every BMC, at most `in_flight` at a time (all at once, the latency would be
/// the time spent queued behind thousands of others on the one thread).
async fn poll_all(systems: &[System], in_flight: usize) -> Vec<Duration> {
    futures::stream::iter(systems.iter().map(|system| async move {
        let started = Instant::now();
        system.power_state().await.expect("poll");
        started.elapsed()
    }))
    .buffer_unordered(in_flight.max(1))
    .collect()
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
