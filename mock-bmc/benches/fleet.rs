//! Fleet benchmark: start N mock BMCs (default 10 000, `FLEET_NODES` to change) in this
//! process, then print start-up time, resident memory per idle node and Redfish GETs per second
//! served over keep-alive connections on loopback. Not a test: it prints numbers and asserts
//! nothing.
//!
//! The load comes from SEPARATE processes, so the figure measures the server, not a client
//! sharing its runtime: `wrk` when it is installed, and always this same binary re-executed as a
//! small load generator (one thread, raw HTTP/1.1 keep-alive requests with Basic auth, like
//! `wrk -t1`). Both share the machine's cores with the server, as a real client on the same host
//! would.
//!
//! `cargo bench -p ferrofish-mock-bmc --bench fleet`
//!
//! Environment: `FLEET_NODES` (10000), `FLEET_SECONDS` per load run (5), `FLEET_CONNECTIONS`
//! per load process (32), `FLEET_BASE_PORT` (node i on that port + i instead of an ephemeral
//! port each), `FLEET_IPMI=1` (also bind every node's IPMI UDP socket; needs two descriptors
//! per node).

#![allow(clippy::cast_precision_loss)] // printed figures, not exact arithmetic

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ferrofish_mock_bmc::MockBmc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `admin:password`, base64.
const AUTH: &str = "Basic YWRtaW46cGFzc3dvcmQ=";
const PATH: &str = "/redfish/v1/Systems/1";

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    if std::env::var_os("FLEET_LOADGEN_ADDRS").is_some() {
        load_generator();
        return;
    }
    let nodes: usize = env_or("FLEET_NODES", 10_000);
    let secs: u64 = env_or("FLEET_SECONDS", 5);
    let connections: usize = env_or("FLEET_CONNECTIONS", 32);
    let ipmi = std::env::var("FLEET_IPMI").is_ok_and(|v| v == "1");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let before = rss_kib();
        let t0 = Instant::now();
        let mut builder = MockBmc::builder().nodes(nodes).ipmi(ipmi);
        let base_port = std::env::var("FLEET_BASE_PORT")
            .ok()
            .and_then(|v| v.parse::<u16>().ok());
        if let Some(port) = base_port {
            builder = builder.listen(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
        }
        let mock = match builder.spawn().await {
            Ok(m) => m,
            Err(e) => {
                eprintln!("cannot start {nodes} nodes: {e} (raise `ulimit -n`?)");
                return;
            }
        };
        let startup = t0.elapsed();
        // Let the accept loops reach their idle state before measuring memory.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let after = rss_kib();
        let per_node = (after.saturating_sub(before) as f64 * 1024.0) / nodes as f64;
        println!(
            "nodes: {nodes} ({}{})",
            base_port.map_or("ephemeral port each".to_owned(), |p| format!("ports {p}+i")),
            if ipmi { ", with IPMI" } else { "" }
        );
        println!("start-up: {:.3} s", startup.as_secs_f64());
        println!(
            "rss: {before} KiB before, {after} KiB after, {:.1} KiB per idle node",
            per_node / 1024.0
        );
        let first = mock.node(0).addr().to_string();
        let last = mock.node(nodes - 1).addr().to_string();
        let middle = mock.node(nodes / 2).addr().to_string();

        // One load process on one node, then two processes on two nodes at once.
        let one = run_loadgens(std::slice::from_ref(&first), connections, secs);
        println!(
            "GET {PATH}: {one:.0} req/s (1 load process, {connections} keep-alive connections, 1 node)"
        );
        let two = run_loadgens(&[middle, last], connections / 2, secs);
        println!(
            "GET {PATH}: {two:.0} req/s (2 load processes, {} connections each, 2 nodes)",
            connections / 2
        );
        if let Some(rate) = wrk(&first, connections, secs) {
            println!("GET {PATH}: {rate:.0} req/s (wrk -t1 -c{connections}, 1 node)");
        } else {
            println!("wrk not installed: skipped its figure");
        }
        drop(mock);
    });
}

/// Runs one load-generator process per address at once; returns the summed request rate.
fn run_loadgens(addrs: &[String], connections: usize, secs: u64) -> f64 {
    let Ok(me) = std::env::current_exe() else {
        return 0.0;
    };
    let children: Vec<_> = addrs
        .iter()
        .filter_map(|addr| {
            Command::new(&me)
                .env("FLEET_LOADGEN_ADDRS", addr)
                .env("FLEET_CONNECTIONS", connections.to_string())
                .env("FLEET_SECONDS", secs.to_string())
                .stdout(Stdio::piped())
                .spawn()
                .ok()
        })
        .collect();
    let mut total = 0.0;
    for child in children {
        let Ok(output) = child.wait_with_output() else {
            continue;
        };
        let text = String::from_utf8_lossy(&output.stdout);
        let rate: f64 = text.trim().parse().unwrap_or(0.0);
        if rate == 0.0 {
            eprintln!("load generator reported nothing: {text}");
        }
        total += rate;
    }
    total
}

/// `wrk` against one node, when installed; its `Requests/sec` figure.
fn wrk(addr: &str, connections: usize, secs: u64) -> Option<f64> {
    let output = Command::new("wrk")
        .args(["-t1", &format!("-c{connections}"), &format!("-d{secs}s")])
        .args(["-H", &format!("Authorization: {AUTH}")])
        .arg(format!("http://{addr}{PATH}"))
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
}

/// Child mode: keep-alive GETs from one thread until the deadline; prints requests per second.
fn load_generator() {
    let addr = std::env::var("FLEET_LOADGEN_ADDRS").unwrap_or_default();
    let connections: usize = env_or("FLEET_CONNECTIONS", 32);
    let secs: u64 = env_or("FLEET_SECONDS", 5);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let done = rt.block_on(async move {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let request =
            format!("GET {PATH} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {AUTH}\r\n\r\n");
        let tasks: Vec<_> = (0..connections)
            .map(|_| {
                let addr = addr.clone();
                let request = request.clone();
                tokio::spawn(
                    async move { one_connection(&addr, request.as_bytes(), deadline).await },
                )
            })
            .collect();
        let mut done = 0u64;
        for t in tasks {
            done += t.await.unwrap_or(0);
        }
        done
    });
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", done as f64 / secs as f64);
}

/// Sends requests one after the other on one connection; returns the 200 answers received.
async fn one_connection(addr: &str, request: &[u8], deadline: Instant) -> u64 {
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        return 0;
    };
    let _ = stream.set_nodelay(true);
    let mut buffer = vec![0u8; 64 * 1024];
    let mut ok = 0;
    while Instant::now() < deadline {
        if stream.write_all(request).await.is_err() {
            break;
        }
        let mut filled = 0;
        // Read the head, then as much body as Content-Length says.
        let (head_end, length, status_ok) = loop {
            match stream.read(&mut buffer[filled..]).await {
                Ok(0) | Err(_) => return ok,
                Ok(n) => filled += n,
            }
            if let Some(end) = buffer[..filled].windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                break (end + 4, length, head.starts_with("http/1.1 200"));
            }
            if filled == buffer.len() {
                return ok;
            }
        };
        while filled < head_end + length {
            if filled == buffer.len() {
                buffer.resize(buffer.len() * 2, 0);
            }
            match stream.read(&mut buffer[filled..]).await {
                Ok(0) | Err(_) => return ok,
                Ok(n) => filled += n,
            }
        }
        if status_ok {
            ok += 1;
        }
    }
    ok
}
