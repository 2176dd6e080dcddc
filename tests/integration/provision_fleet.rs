//! Issue 16: several processes drive one fleet through `PostgreSQL`. Against a throwaway cluster
//! (skipped with a message when no `PostgreSQL` binaries are installed): the store refuses a stale
//! revision and takes leases in one statement; a conductor group is respected (on `SQLite` too);
//! three `provision --run` processes share a mock fleet with each node's mutating requests sent
//! by one holder at a time; a process `kill -9`ed mid-clean has its nodes taken over once its
//! lease lapses, with no double reboot.
//!
//! `FERROFISH_FLEET_TEST_NODES` sets the size of the shared fleet (default the 300: about
//! 25 s on two cores).

use std::process::Stdio;
use std::time::{Duration, Instant};

use ferrofish::provision::{
    BmcRef, Driver, Fleet, FleetPlan, Node, Phase, ProvisionState, StateStore, Store, Timestamp,
};
use ferrofish_mock_bmc::{DEFAULT_PASSWORD, DEFAULT_USER, MockBmc, MockBmcHandle, PowerDelays};
use serde_json::{Value, json};

use crate::pg_cluster::PgCluster;
use crate::provision_support::{Env, MockConnector, NETWORK_DATA, fast_policy};
use crate::support::example_binary;

const PASSWORD_VAR: &str = "FERROFISH_FLEET_TEST_PASSWORD";

fn node(name: &str, group: Option<&str>, address: String) -> Node {
    let mut node = Node::new(
        name,
        BmcRef {
            address,
            username: Some(DEFAULT_USER.into()),
            password_env: Some(PASSWORD_VAR.into()),
            credentials_ref: None,
        },
    );
    node.conductor_group = group.map(str::to_owned);
    node
}

#[tokio::test]
async fn postgres_refuses_a_stale_revision_and_takes_leases_in_one_statement() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    // Processes connecting at once migrate one after the other.
    let url = cluster.url();
    let stores = futures::future::join_all((0..4).map(|_| Store::connect(&url))).await;
    let stores: Vec<Store> = stores.into_iter().map(|s| s.expect("connect")).collect();
    let store = &stores[0];
    assert!(matches!(store, Store::Postgres(_)));
    let mut enrolled = node("n1", Some("site-a"), "http://127.0.0.1:9".into());
    store.enroll(&mut enrolled).await.unwrap();
    assert!(matches!(
        stores[1].enroll(&mut enrolled.clone()).await,
        Err(ferrofish::provision::ProvisionError::AlreadyEnrolled { .. })
    ));

    let now = Timestamp::now();
    let ttl = Duration::from_secs(30);
    let claimed = store.claim("n1", "a", now, ttl).await.unwrap();
    assert_eq!(claimed.previous, None, "a fresh node had no lease");
    let mut first = claimed.node.clone();
    let mut second = claimed.node;
    first.fields.insert("extra".into(), json!({"who": "first"}));
    store.save(&mut first, "a", now, ttl).await.unwrap();
    second
        .fields
        .insert("extra".into(), json!({"who": "second"}));
    let err = stores[2]
        .save(&mut second, "a", now, ttl)
        .await
        .unwrap_err();
    assert!(err.is_stale_revision(), "{err}");
    let reloaded = stores[3].load("n1").await.unwrap().unwrap();
    assert_eq!(reloaded.fields["extra"]["who"], "first");
    assert_eq!(reloaded.revision, first.revision);
    assert_eq!(reloaded.conductor_group.as_deref(), Some("site-a"));
    // Without the lease, the right revision is refused too.
    let err = store
        .save(&mut reloaded.clone(), "b", now, ttl)
        .await
        .unwrap_err();
    assert!(err.is_stale_revision(), "{err}");
    // Another holder is refused while the lease runs, and told whose it is.
    let err = stores[1].claim("n1", "b", now, ttl).await.unwrap_err();
    assert!(err.is_lease_held(), "{err}");
    assert!(err.to_string().contains("leased to a"), "{err}");
    // Once it lapsed, it is taken over, and the claim says from whom.
    let later = now.plus(ttl + Duration::from_millis(1));
    let taken = stores[1].claim("n1", "b", later, ttl).await.unwrap();
    let previous = taken.previous.expect("the lapsed lease");
    assert_eq!(previous.holder, "a");
    assert_eq!(previous.expires_at, now.plus(ttl));
    assert_eq!(taken.node.lease.as_ref().unwrap().holder, "b");
    // The old holder's write is now refused.
    let err = store.save(&mut first, "a", later, ttl).await.unwrap_err();
    assert!(err.is_stale_revision(), "{err}");
    // Racing claims on a free node: exactly one wins.
    stores[1].release("n1", "b").await.unwrap();
    let race = futures::future::join_all(
        stores
            .iter()
            .enumerate()
            .map(|(i, s)| s.claim("n1", ["w0", "w1", "w2", "w3"][i], later, ttl)),
    )
    .await;
    assert_eq!(race.iter().filter(|r| r.is_ok()).count(), 1, "{race:?}");
    // Reconnecting applies no migration twice.
    Store::connect(&cluster.url()).await.expect("reconnect");
    for store in &stores {
        store.close().await;
    }
}

/// Enrolls mock nodes 0, 1 in `site-a` and 2, 3 in `site-b`, runs the fleet for `site-b`
/// (verification only), and checks `site-a` was never touched.
async fn group_is_respected(url: &str) {
    let mock = MockBmc::builder().nodes(4).spawn().await.expect("mock");
    let store = Store::connect(url).await.expect("store");
    for i in 0..4 {
        let group = if i < 2 { "site-a" } else { "site-b" };
        let mut n = node(&format!("node-{i}"), Some(group), mock.node(i).url());
        store.enroll(&mut n).await.unwrap();
    }
    let driver = Driver::new(store.clone(), "conductor-b").with_policy(fast_policy());
    let summary = Fleet::new(driver, MockConnector, FleetPlan::default())
        .group(Some("site-b".into()))
        .run()
        .await
        .unwrap();
    let names: Vec<&str> = summary.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["node-2", "node-3"], "{summary:#?}");
    assert_eq!(summary.reached(), 2, "{summary:#?}");
    for i in 0..4 {
        let stored = store.load(&format!("node-{i}")).await.unwrap().unwrap();
        if i < 2 {
            assert_eq!(stored.state, ProvisionState::Enroll);
            assert_eq!(
                mock.node(i).request_count(),
                0,
                "site-a node-{i} was contacted"
            );
        } else {
            assert_eq!(stored.state, ProvisionState::Manageable);
            assert!(mock.node(i).request_count() > 0);
        }
    }
    store.close().await;
}

#[tokio::test]
async fn a_conductor_group_is_respected_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    group_is_respected(&format!("sqlite:{}", dir.path().join("fleet.db").display())).await;
}

#[tokio::test]
async fn a_conductor_group_is_respected_on_postgres() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    group_is_respected(&cluster.url()).await;
}

/// The example against `store_url`.
fn command(store_url: &str, args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(example_binary("provision"));
    command
        .args(["--store", store_url])
        .args(args)
        .env(PASSWORD_VAR, DEFAULT_PASSWORD)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    command
}

/// Writes `fleet.json` for every mock node and enrolls it through the example.
async fn enroll_through_the_example(env: &Env, store_url: &str) {
    let fleet: Vec<Value> = (0..env.mock.len())
        .map(|i| {
            json!({"name": format!("node-{i:03}"), "bmc": env.mock.node(i).url(),
                   "username": DEFAULT_USER, "password_env": PASSWORD_VAR,
                   "conductor_group": "site-a"})
        })
        .collect();
    let file = env.dir.path().join("fleet.json");
    std::fs::write(&file, serde_json::to_vec(&fleet).unwrap()).unwrap();
    let out = command(store_url, &["--enroll", file.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains(&format!("enrolled {} node(s)", env.mock.len()))
    );
}

/// `provision --run` as holder `holder`, waiting for other holders' leases.
fn spawn_run(env: &Env, store_url: &str, holder: &str, extra: &[&str]) -> tokio::process::Child {
    // One file per holder: rewriting a shared one truncates it under a process still reading
    // it (seen as "EOF while parsing" in a process started just before).
    let net = env.dir.path().join(format!("net-{holder}.json"));
    std::fs::write(&net, NETWORK_DATA).unwrap();
    let mut args = vec![
        "--run",
        "--wait-leases",
        "--holder",
        holder,
        "--image",
        &env.image_url,
        "--network-data",
        net.to_str().unwrap(),
        "--json",
    ];
    args.extend_from_slice(extra);
    command(store_url, &args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn provision --run")
}

/// The holder named in a request's `User-Agent` (`ferrofish/V (holder)`).
fn holder_of(request: &ferrofish_mock_bmc::LogEntry) -> String {
    request
        .headers
        .iter()
        .find(|(name, _)| name == "user-agent")
        .and_then(|(_, agent)| agent.split_once('(').map(|(_, h)| h.trim_end_matches(')')))
        .unwrap_or("?")
        .to_owned()
}

/// The holders that sent node `i`'s mutating requests, one entry per run of consecutive
/// requests by the same holder. Checks none came back after another took over.
fn mutating_holders(mock: &MockBmcHandle, i: usize) -> Vec<String> {
    let mut runs: Vec<String> = Vec::new();
    for request in mock.node(i).requests() {
        if request.method == "GET" {
            continue;
        }
        let holder = holder_of(&request);
        if runs.last() != Some(&holder) {
            assert!(
                !runs.contains(&holder),
                "node {i}: {holder} sent a mutating request after another holder took over: {runs:?} then {} {}",
                request.method,
                request.path
            );
            runs.push(holder);
        }
    }
    runs
}

async fn finished(child: tokio::process::Child, nodes: usize) -> Value {
    let out = tokio::time::timeout(Duration::from_secs(300), child.wait_with_output())
        .await
        .expect("the run ends")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{:?}\n{stderr}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    assert_eq!(summary["reached_goal"], nodes, "{summary:#}");
    summary
}

async fn all_active(store_url: &str, nodes: usize) {
    let out = command(store_url, &["--status", "--json"])
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), nodes);
    for line in &lines {
        assert_eq!(line["state"], "active", "{line}");
        assert!(line["last_error"].is_null(), "{line}");
    }
}

// Two threads: the mock fleet in this process answers three processes at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_share_one_fleet_on_postgres() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    example_binary("provision");
    let nodes: usize = std::env::var("FERROFISH_FLEET_TEST_NODES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let mock = MockBmc::builder()
        .nodes(nodes)
        .power_delays(PowerDelays {
            on: Duration::ZERO,
            force_off: Duration::ZERO,
            graceful_shutdown: Duration::ZERO,
        })
        .spawn()
        .await
        .expect("mock (raise `ulimit -n` for a large fleet)");
    let env = Env::with_mock(mock).await;
    let url = cluster.url();
    enroll_through_the_example(&env, &url).await;

    let started = Instant::now();
    let children: Vec<_> = ["p0", "p1", "p2"]
        .iter()
        .map(|holder| spawn_run(&env, &url, holder, &["--workers", "8", "--group", "site-a"]))
        .collect();
    // Together: a child whose stderr pipe nobody drains would block on its progress lines.
    futures::future::join_all(children.into_iter().map(|child| finished(child, nodes))).await;
    eprintln!("{nodes} nodes by 3 processes in {:?}", started.elapsed());
    all_active(&url, nodes).await;

    let mut drivers = std::collections::BTreeSet::new();
    for i in 0..nodes {
        let runs = mutating_holders(&env.mock, i);
        // No process died: one holder drove each node from start to end.
        assert_eq!(runs.len(), 1, "node {i}: {runs:?}");
        drivers.insert(runs[0].clone());
        assert_eq!(env.mock.node(i).view().boot_count, 2, "node {i}");
    }
    assert!(
        drivers.len() >= 2 && drivers.iter().all(|h| h.starts_with('p')),
        "the fleet was shared: {drivers:?}"
    );
}

#[tokio::test]
async fn a_process_killed_mid_clean_has_its_nodes_taken_over_on_postgres() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    example_binary("provision");
    let nodes = 6;
    let env = super::provision_process::slow_env(nodes).await;
    let url = cluster.url();
    enroll_through_the_example(&env, &url).await;

    let ttl = ["--lease-ttl", "2", "--workers", "2"];
    let mut victim = spawn_run(&env, &url, "p0", &ttl);
    let others = [
        spawn_run(&env, &url, "p1", &ttl),
        spawn_run(&env, &url, "p2", &ttl),
    ];

    // Kill p0 once a node it holds is cleaning (its BIOS reboot or the wait for it).
    let watcher = Store::connect(&url).await.unwrap();
    let clean_phases = [
        Phase::BiosStage,
        Phase::RebootOnWait,
        Phase::BiosWaitApplied,
    ];
    let started = Instant::now();
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "never saw p0 cleaning a node"
        );
        let mut cleaning = false;
        for row in watcher.list().await.unwrap() {
            if row.lease.as_ref().is_some_and(|l| l.holder == "p0") {
                let n = watcher.load(&row.name).await.unwrap().unwrap();
                cleaning |= n.phase().is_some_and(|p| clean_phases.contains(&p));
            }
        }
        if cleaning {
            victim.kill().await.expect("kill -9");
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = victim.wait().await;
    let (held_by_victim, in_operation) = held_by(&watcher, "p0").await;
    assert!(
        !in_operation.is_empty(),
        "p0 died in the middle of an operation: {held_by_victim:?}"
    );

    futures::future::join_all(others.into_iter().map(|child| finished(child, nodes))).await;
    all_active(&url, nodes).await;
    for i in 0..nodes {
        let name = format!("node-{i:03}");
        let stored = watcher.load(&name).await.unwrap().unwrap();
        assert_eq!(stored.state, ProvisionState::Active);
        // Off at the start: the BIOS reboot is one boot (On alone), the deploy another.
        let view = env.mock.node(i).view();
        assert_eq!(
            view.boot_count, 2,
            "{name} booted {} times",
            view.boot_count
        );
        let runs = mutating_holders(&env.mock, i);
        if let Some((_, lapsed_at)) = held_by_victim.iter().find(|(n, _)| *n == name) {
            // p0's mutating requests, if it sent any, all came before the taker's.
            assert!(
                runs.iter().skip(1).all(|h| h != "p0") && runs.last().is_some_and(|h| h != "p0"),
                "{name} was taken over: {runs:?}"
            );
            if !in_operation.contains(&name) {
                continue;
            }
            // The crash rules either resume the phase or, for a phase that must not resume
            // (a verify, say), fail it with "interrupted in …" and the fleet starts it again.
            let resumed = stored
                .history
                .iter()
                .find(|h| {
                    h.event == "resume"
                        || (h.event == "fail"
                            && h.message
                                .as_deref()
                                .is_some_and(|m| m.starts_with("interrupted in")))
                })
                .unwrap_or_else(|| panic!("{name} resumed by the crash rules: {stored:#?}"));
            // Taken over only once p0's lease lapsed (its last write + 2 s).
            assert!(
                resumed.at >= *lapsed_at,
                "{name} resumed at {:?}, before p0's lease lapsed at {lapsed_at:?}",
                resumed.at
            );
        } else {
            assert!(!runs.iter().any(|h| h == "p0"), "{name}: {runs:?}");
        }
    }
    watcher.close().await;
}

/// What `holder` held when it died (a dead process releases nothing), read at once since its
/// leases last from its last write: each node with the lease's expiry, and the names of those
/// in the middle of an operation (a node held between two operations, its lease kept while the
/// next is chosen, has nothing to resume).
async fn held_by(
    watcher: &Store,
    holder: &str,
) -> (Vec<(String, Timestamp)>, std::collections::BTreeSet<String>) {
    let held: Vec<_> = watcher
        .list()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|row| {
            let lease = row.lease.filter(|l| l.holder == holder)?;
            Some((row.name, lease.expires_at))
        })
        .collect();
    let mut in_operation = std::collections::BTreeSet::new();
    for (name, _) in &held {
        let node = watcher.load(name).await.unwrap().unwrap();
        if node.operation.is_some() {
            in_operation.insert(name.clone());
        }
    }
    (held, in_operation)
}
