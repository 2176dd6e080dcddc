//! Fleet benchmark: start N mock BMCs (default 10 000, `FLEET_NODES` to change), then print
//! start-up time, resident memory per idle node and Redfish GETs per second over keep-alive
//! connections on loopback. Not a test: it prints numbers and asserts nothing.
//!
//! `cargo bench -p ferrofish-mock-bmc --bench fleet`

#![allow(clippy::cast_precision_loss)] // printed figures, not exact arithmetic

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ferrofish_mock_bmc::MockBmc;

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
    let nodes: usize = std::env::var("FLEET_NODES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let secs: u64 = std::env::var("FLEET_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let clients: usize = std::env::var("FLEET_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let before = rss_kib();
        let t0 = Instant::now();
        // FLEET_BASE_PORT=N puts node i on port N+i instead of an ephemeral port each.
        let mut builder = MockBmc::builder().nodes(nodes);
        if let Some(port) = std::env::var("FLEET_BASE_PORT").ok().and_then(|v| v.parse::<u16>().ok()) {
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
        println!("nodes: {nodes}");
        println!("start-up: {:.3} s", startup.as_secs_f64());
        println!("rss: {before} KiB before, {after} KiB after, {:.1} KiB per idle node", per_node / 1024.0);

        let urls: Arc<Vec<String>> = Arc::new(mock.nodes().iter().map(|n| format!("{}/redfish/v1/Systems/1", n.url())).collect());
        let done = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut tasks = Vec::new();
        for c in 0..clients {
            let urls = urls.clone();
            let done = done.clone();
            let errors = errors.clone();
            tasks.push(tokio::spawn(async move {
                let http = reqwest::Client::builder().no_proxy().pool_max_idle_per_host(1).build().expect("client");
                // Each client talks to a few nodes, keeping their connections alive.
                let mine: Vec<&String> = urls.iter().skip(c).step_by(clients).take(8).collect();
                let mut i = 0;
                while Instant::now() < deadline {
                    let url = mine[i % mine.len()];
                    i += 1;
                    match http.get(url).basic_auth("admin", Some("password")).send().await {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
        let n = done.load(Ordering::Relaxed);
        println!(
            "GET /redfish/v1/Systems/1: {n} in {secs} s = {:.0} req/s ({} errors, {clients} keep-alive clients, client and server share the CPU)",
            n as f64 / secs as f64,
            errors.load(Ordering::Relaxed)
        );
        drop(mock);
    });
}
