//! Request counts, round trips and rates of out-of-band inspection against the mock BMC on
//! loopback.
//!
//! `cargo bench --bench inventory` prints, per personality:
//! - how many requests one `inventory()` costs on a new client (discovery included) and on a
//!   warm one, beside the goal of at most 8 GETs for the warm one;
//! - with every request held 100 ms by the mock's latency fault, the wall time of a warm
//!   inventory and of a cold `inspect` (new client: list the systems, read the inventory, log
//!   out), and the round trips on their critical path (whole latencies in the wall time:
//!   requests sent at once overlap, so this counts the requests that had to wait for another);
//!
//! then how many inventories per second a fleet of clients achieves. Request counts and round
//! trips are deterministic; times and rates depend on the machine. Everything stays on
//! 127.0.0.1 and is bounded in count.

use std::time::{Duration, Instant};

use ferrofish::redfish::{RedfishClient, RequestCounts};
use ferrofish_mock_bmc::{DEFAULT_PASSWORD, DEFAULT_USER, MockBmc, Personality};
use secrecy::SecretString;

const FLEET_NODES: usize = 64;
const FLEET_ROUNDS: usize = 3;
/// Issue 9: a full inventory on a warm client in at most this many GETs.
const WARM_GET_GOAL: u64 = 8;
/// The latency every request gets in the round-trip measurement.
const LATENCY: Duration = Duration::from_millis(100);
/// Issue 9: a cold `inspect` at 100 ms latency in at most this long.
const COLD_INSPECT_GOAL: Duration = Duration::from_millis(500);

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
    let verdict = if warm.get <= WARM_GET_GOAL {
        "within"
    } else {
        "OVER"
    };
    println!(
        "{:<11} first inventory: {} in {:>6.1} ms | again: {} in {:>6.1} ms | goal <= {WARM_GET_GOAL} GETs warm: {verdict}",
        format!("{personality:?}"),
        counts_line(&cold),
        cold_time.as_secs_f64() * 1e3,
        counts_line(&warm),
        warm_time.as_secs_f64() * 1e3,
    );
}

/// Round trips a wall time stands for, at `LATENCY` each: whole latencies only, since what
/// the client and the machine add is well under one.
fn round_trips(wall: Duration) -> u128 {
    wall.as_micros() / LATENCY.as_micros()
}

/// Wall time and critical-path round trips at 100 ms per request.
async fn at_latency(personality: Personality) {
    let mock = MockBmc::builder()
        .personality(personality)
        .spawn()
        .await
        .expect("mock");
    let node = mock.node(0);
    node.faults().latency(LATENCY);

    // Cold inspect: what the `inspect` example does on a new client.
    let started = Instant::now();
    let cold_client = client(&node.url());
    // Handles, as `inspect` lists them: one expanded request where the BMC allows, and the
    // System it returned is not read again for the inventory.
    let handles = cold_client.systems().await.expect("systems");
    handles
        .first()
        .expect("a system")
        .inventory()
        .await
        .expect("inventory");
    cold_client.close().await.expect("close");
    let system = handles[0].path().to_owned();
    let cold = started.elapsed();
    let cold_requests = cold_client.request_counts().total;

    // Warm inventory: discovery, login and vendor detection done by a first inventory.
    let warm_client = client(&node.url());
    warm_client.system_ids().await.expect("systems");
    warm_client.inventory(&system).await.expect("inventory");
    warm_client.reset_request_counts();
    let started = Instant::now();
    warm_client.inventory(&system).await.expect("inventory");
    let warm = started.elapsed();
    let warm_requests = warm_client.request_counts().total;
    warm_client.close().await.expect("close");

    let verdict = if cold <= COLD_INSPECT_GOAL {
        "within"
    } else {
        "OVER"
    };
    println!(
        "{:<11} at {} ms/request: warm inventory {:>3} requests, {} round trips, {:>5.0} ms | cold inspect {:>3} requests, {} round trips, {:>5.0} ms (goal <= {} ms: {verdict})",
        format!("{personality:?}"),
        LATENCY.as_millis(),
        warm_requests,
        round_trips(warm),
        warm.as_secs_f64() * 1e3,
        cold_requests,
        round_trips(cold),
        cold.as_secs_f64() * 1e3,
        COLD_INSPECT_GOAL.as_millis(),
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
    for personality in [
        Personality::Generic,
        Personality::Dell,
        Personality::Hpe,
        Personality::Lenovo,
        Personality::Supermicro,
    ] {
        at_latency(personality).await;
    }
    fleet().await;
}
