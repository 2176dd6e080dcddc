//! Request counts and rates of out-of-band inspection against the mock BMC on loopback.
//!
//! `cargo bench --bench inventory` prints, per personality, how many requests one `inventory()`
//! costs on a fresh client (discovery included) and on a warm one, then how many inventories per
//! second a fleet of clients achieves. Request counts are deterministic; rates depend on the
//! machine. Everything stays on 127.0.0.1 and is bounded in count.

use std::time::{Duration, Instant};

use ferrofish::redfish::{RedfishClient, RequestCounts};
use ferrofish_mock_bmc::{DEFAULT_PASSWORD, DEFAULT_USER, MockBmc, Personality};
use secrecy::SecretString;

const FLEET_NODES: usize = 64;
const FLEET_ROUNDS: usize = 3;

fn client(url: &str) -> RedfishClient {
    RedfishClient::builder(url)
        .credentials(DEFAULT_USER, SecretString::from(DEFAULT_PASSWORD))
        .request_timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

fn counts_line(counts: &RequestCounts) -> String {
    format!(
        "{:>3} requests ({} GET, {} POST, {} DELETE)",
        counts.total, counts.get, counts.post, counts.delete
    )
}

async fn single_node(personality: Personality) {
    let mock = MockBmc::builder()
        .personality(personality)
        .spawn()
        .await
        .expect("mock");
    let client = client(&mock.node(0).url());
    let systems = client.system_ids().await.expect("systems");
    let Some(system) = systems.first() else {
        println!("{personality:?}: no system");
        return;
    };
    let started = Instant::now();
    client.inventory(system).await.expect("inventory");
    let cold = client.request_counts();
    let cold_time = started.elapsed();

    client.reset_request_counts();
    let started = Instant::now();
    client.inventory(system).await.expect("inventory");
    let warm = client.request_counts();
    let warm_time = started.elapsed();
    client.close().await.expect("close");
    println!(
        "{:<11} first inventory: {} in {:>6.1} ms | again: {} in {:>6.1} ms",
        format!("{personality:?}"),
        counts_line(&cold),
        cold_time.as_secs_f64() * 1e3,
        counts_line(&warm),
        warm_time.as_secs_f64() * 1e3,
    );
}

#[allow(
    clippy::cast_precision_loss,
    reason = "counts far below 2^52 print as rates"
)]
async fn fleet() {
    let mock = MockBmc::builder()
        .nodes(FLEET_NODES)
        .spawn()
        .await
        .expect("mock");
    let clients: Vec<RedfishClient> = mock
        .nodes()
        .iter()
        .map(|node| client(&node.url()))
        .collect();
    // Warm up: log in and discover once per client, as a long-running service would.
    for c in &clients {
        c.system_ids().await.expect("systems");
    }
    let started = Instant::now();
    let mut inventories = 0_u64;
    for _ in 0..FLEET_ROUNDS {
        let tasks: Vec<_> = clients
            .iter()
            .cloned()
            .map(|c| tokio::spawn(async move { c.inventory("1").await.map(|_| ()) }))
            .collect();
        for task in tasks {
            task.await.expect("join").expect("inventory");
            inventories += 1;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let requests: u64 = clients.iter().map(|c| c.request_counts().total).sum();
    for c in &clients {
        c.close().await.expect("close");
    }
    println!(
        "fleet: {inventories} inventories of {FLEET_NODES} nodes in {elapsed:.2} s = {:.0} inventories/s, {:.0} requests/s",
        inventories as f64 / elapsed,
        requests as f64 / elapsed,
    );
}

#[tokio::main]
async fn main() {
    println!("inventory() against ferrofish-mock-bmc on 127.0.0.1");
    for personality in [
        Personality::Generic,
        Personality::Dell,
        Personality::Hpe,
        Personality::Lenovo,
        Personality::Supermicro,
    ] {
        single_node(personality).await;
    }
    fleet().await;
}
