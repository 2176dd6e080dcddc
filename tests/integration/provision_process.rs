//! The `provision` example as real processes sharing a `SQLite` store: enroll, run, `kill -9`
//! mid-run and resume (the mock's boot counts prove no double reboot), a lease held by another
//! process respected, `--status --json`; and the store's compare-and-swap refusing a stale
//! revision.

use std::process::Stdio;
use std::time::{Duration, Instant};

use ferrofish::provision::{Phase, ProvisionState, SqliteStore, StateStore, Timestamp};
use ferrofish_mock_bmc::{DEFAULT_PASSWORD, DEFAULT_USER, MockBmc, PowerDelays};
use serde_json::{Value, json};

use crate::provision_support::{Env, NETWORK_DATA};
use crate::support::example_binary;

const PASSWORD_VAR: &str = "FERROFISH_PROVISION_TEST_PASSWORD";

/// A mock fleet with power delays long enough to kill a run in the middle.
pub(crate) async fn slow_env(nodes: usize) -> Env {
    let mock = MockBmc::builder()
        .nodes(nodes)
        .power_delays(PowerDelays {
            on: Duration::from_millis(400),
            force_off: Duration::from_millis(150),
            graceful_shutdown: Duration::from_millis(300),
        })
        .spawn()
        .await
        .expect("mock");
    Env::with_mock(mock).await
}

/// Writes `fleet.json` and `net.json` and enrolls the fleet through the example.
async fn enroll(env: &Env) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = env.dir.path();
    let fleet: Vec<Value> = (0..env.mock.len())
        .map(|i| {
            json!({"name": format!("node-{i}"), "bmc": env.mock.node(i).url(),
                   "username": DEFAULT_USER, "password_env": PASSWORD_VAR})
        })
        .collect();
    let fleet_file = dir.join("fleet.json");
    std::fs::write(&fleet_file, serde_json::to_vec(&fleet).unwrap()).unwrap();
    let net = dir.join("net.json");
    std::fs::write(&net, NETWORK_DATA).unwrap();
    let out = run(env, &["--enroll", fleet_file.to_str().unwrap()]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(&format!("enrolled {} node(s)", env.mock.len())),
        "{said}"
    );
    (fleet_file, net)
}

fn command(env: &Env, args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(example_binary("provision"));
    command
        .args(["--store", &env.store_url])
        .args(args)
        .env(PASSWORD_VAR, DEFAULT_PASSWORD)
        .env("HOSTNAME", "provision-test")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    command
}

async fn run(env: &Env, args: &[&str]) -> std::process::Output {
    command(env, args).output().await.expect("run the example")
}

fn run_args<'a>(env: &'a Env, net: &'a std::path::Path) -> Vec<&'a str> {
    vec![
        "--run",
        "--workers",
        "3",
        "--image",
        &env.image_url,
        "--network-data",
        net.to_str().unwrap(),
        "--json",
    ]
}

#[tokio::test]
async fn a_run_killed_while_cleaning_resumes_without_a_double_reboot() {
    kill_and_resume(&[Phase::RebootOnWait, Phase::BiosWaitApplied]).await;
}

#[tokio::test]
async fn a_run_killed_while_preparing_the_deploy_boot_resumes() {
    kill_and_resume(&[
        Phase::DeployPowerOffWait,
        Phase::DeployEject,
        Phase::DeployConfigDrive,
        Phase::DeployInsert,
        Phase::DeployBootOnce,
        Phase::DeployPowerOn,
    ])
    .await;
}

#[tokio::test]
async fn a_run_killed_while_the_deploy_boots_resumes_without_a_double_reboot() {
    kill_and_resume(&[Phase::DeployWaitBoot, Phase::DeployEjectAfter]).await;
}

/// Runs the fleet in a child, `kill -9`s it once a node is in one of `phases`, runs again, and
/// checks every node is active, booted exactly twice, and never re-staged its BIOS after the
/// reset.
async fn kill_and_resume(phases: &[Phase]) {
    // Built before the clock starts.
    example_binary("provision");
    let env = slow_env(3).await;
    let (_, net) = enroll(&env).await;
    let mut child = command(&env, &run_args(&env, &net))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    // Kill it once a node waits on its BIOS reboot or its deploy boot.
    let watcher = SqliteStore::connect(&env.store_url).await.unwrap();
    let started = Instant::now();
    let mut killed_in = None;
    while killed_in.is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "never saw a node in {phases:?}"
        );
        for row in watcher.list().await.unwrap() {
            let node = watcher.load(&row.name).await.unwrap().unwrap();
            if let Some(phase) = node.phase().filter(|p| phases.contains(p)) {
                killed_in = Some((node.name.clone(), phase));
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().await.expect("kill -9");
    let status = child.wait().await.unwrap();
    assert!(!status.success(), "killed, not finished");
    let left: Vec<_> = watcher
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|row| (row.name, row.state, row.lease.is_some()))
        .collect();
    assert!(
        left.iter()
            .any(|(_, state, leased)| state != "active" && *leased),
        "the kill left work behind, leased: {left:?} (killed in {killed_in:?})"
    );

    // The same holder runs again: it takes its own leases over at once and resumes.
    let out = run(&env, &run_args(&env, &net)).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    assert_eq!(summary["reached_goal"], 3, "{summary:#}");

    let mut resumed = 0;
    for i in 0..3 {
        let node = watcher.load(&format!("node-{i}")).await.unwrap().unwrap();
        assert_eq!(node.state, ProvisionState::Active, "{node:#?}");
        resumed += node.history.iter().filter(|h| h.event == "resume").count();
        let view = env.mock.node(i).view();
        // Off at the start: the BIOS reboot is one boot (On alone), the deploy another.
        assert_eq!(
            view.boot_count, 2,
            "node-{i} booted {} times",
            view.boot_count
        );
        let log: Vec<String> = env
            .mock
            .node(i)
            .requests()
            .into_iter()
            .filter(|r| r.method != "GET")
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        let first_reset = log
            .iter()
            .position(|w| w.contains("ComputerSystem.Reset"))
            .expect("a reset");
        assert!(
            !log[first_reset..]
                .iter()
                .any(|w| w.starts_with("PATCH") && w.contains("Bios")),
            "a BIOS PATCH after the reset on node-{i}: {log:#?}"
        );
        // A kill between a PATCH and its write re-sends the same values (harmless, Ironic
        // notes it too); never more.
        let patches = log
            .iter()
            .filter(|w| w.starts_with("PATCH") && w.contains("Bios"))
            .count();
        assert!((1..=2).contains(&patches), "node-{i}: {log:#?}");
    }
    assert!(resumed >= 1, "the second run resumed what the first left");

    // `--status --json`: one object per node.
    let out = run(&env, &["--status", "--json"]).await;
    assert!(out.status.success());
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 3);
    for line in &lines {
        assert_eq!(line["state"], "active", "{line}");
        assert!(line["phase"].is_null());
        assert!(line["last_error"].is_null());
        assert!(line["name"].as_str().unwrap().starts_with("node-"));
    }
    // And no password anywhere in the store.
    let db = std::fs::read(env.store_url.trim_start_matches("sqlite:")).unwrap();
    assert!(!String::from_utf8_lossy(&db).contains(DEFAULT_PASSWORD));
}

#[tokio::test]
async fn a_lease_held_by_another_process_is_respected() {
    let env = slow_env(2).await;
    let (_, net) = enroll(&env).await;
    // "Another process": a holder that is not the example's, with a long lease.
    let other = SqliteStore::connect(&env.store_url).await.unwrap();
    other
        .claim(
            "node-0",
            "another-process",
            Timestamp::now(),
            Duration::from_secs(120),
        )
        .await
        .unwrap();
    let out = run(&env, &run_args(&env, &net)).await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "not every node reached the goal"
    );
    let summary: Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    let nodes = summary["nodes"].as_array().unwrap();
    assert_eq!(nodes[0]["name"], "node-0");
    assert_eq!(nodes[0]["skipped"], true, "{summary:#}");
    assert!(
        nodes[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("another-process")
    );
    assert_eq!(nodes[1]["state"], "active", "{summary:#}");
    // node-0 was not touched: no request reached its BMC, its document is as it was.
    assert_eq!(env.mock.node(0).request_count(), 0);
    let node = other.load("node-0").await.unwrap().unwrap();
    assert_eq!(node.state, ProvisionState::Enroll);
    assert_eq!(node.lease.unwrap().holder, "another-process");
}

#[tokio::test]
async fn a_stale_revision_is_refused() {
    let env = Env::start(1, ferrofish_mock_bmc::Personality::Generic).await;
    env.enroll_all().await;
    let now = Timestamp::now();
    let ttl = Duration::from_secs(30);
    let claimed = env.store.claim("node-0", "a", now, ttl).await.unwrap();
    let mut first = claimed.node.clone();
    let mut second = claimed.node;
    first.fields.insert("extra".into(), json!({"who": "first"}));
    env.store.save(&mut first, "a", now, ttl).await.unwrap();
    second
        .fields
        .insert("extra".into(), json!({"who": "second"}));
    let err = env
        .store
        .save(&mut second, "a", now, ttl)
        .await
        .unwrap_err();
    assert!(err.is_stale_revision(), "{err}");
    let stored = env.store.load("node-0").await.unwrap().unwrap();
    assert_eq!(stored.fields["extra"]["who"], "first");
    assert_eq!(stored.revision, first.revision);
    // A writer without the lease is refused too, even with the right revision.
    let mut intruder = stored.clone();
    let err = env
        .store
        .save(&mut intruder, "b", now, ttl)
        .await
        .unwrap_err();
    assert!(err.is_stale_revision(), "{err}");
    // And a second claim by another holder while the lease runs.
    let err = env.store.claim("node-0", "b", now, ttl).await.unwrap_err();
    assert!(err.is_lease_held(), "{err}");
    // Enrolling the same name twice is refused.
    let mut again = stored.clone();
    assert!(matches!(
        env.store.enroll(&mut again).await,
        Err(ferrofish::provision::ProvisionError::AlreadyEnrolled { .. })
    ));
}

#[tokio::test]
async fn without_bmc_or_store_the_example_provisions_an_embedded_mock_fleet() {
    let out = crate::support::run_example(
        "provision",
        &["--nodes", "3", "--personality", "dell", "--json"],
        "unused",
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("embedded mock fleet of 3 dell node(s)"),
        "{stderr}"
    );
    // Plain progress lines (stderr is not a terminal here), one per change.
    assert!(stderr.contains("node-2: active"), "{stderr}");
    assert!(
        stderr.contains("3 auto-discovered at http://127.0.0.1:"),
        "{stderr}"
    );
    let summary: Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    assert_eq!(summary["reached_goal"], 3, "{summary:#}");
    // Enrolled by auto-discovery, so the seed's Dell rule (the default rules here) fired.
    assert_eq!(summary["auto_discovered"], 3, "{summary:#}");
    assert_eq!(summary["rule_secrets_held_in_memory"], 3, "{summary:#}");
    for node in summary["nodes"].as_array().unwrap() {
        assert_eq!(node["state"], "active");
        assert!(node["last_error"].is_null(), "{node}");
        assert_eq!(node["auto_discovered"], true, "{node}");
        assert_eq!(node["driver"], "idrac", "{node}");
        assert!(
            node["driver_info"]["drac_address"]
                .as_str()
                .is_some_and(|a| a.starts_with("127.0.0.1:")),
            "{node}"
        );
        assert_eq!(
            node["driver_info"]["drac_password"],
            "secret://rules/driver_info/drac_password"
        );
        assert_eq!(node["traits"], json!(["CUSTOM_AUTO_DISCOVERED"]), "{node}");
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("calvin") && !stderr.contains("calvin"));

    // A rules file whose rule fails: every node is inspect_failed with the rule's message.
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.json");
    std::fs::write(
        &rules,
        r#"[{"description": "stop", "conditions": [{"op": "eq", "field": "data://auto_discovered", "value": true}],
             "actions": [{"action": "fail", "message": "not on this site"}]}]"#,
    )
    .unwrap();
    let out = crate::support::run_example(
        "provision",
        &["--nodes", "2", "--rules", rules.to_str().unwrap(), "--json"],
        "unused",
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    let summary: Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    for node in summary["nodes"].as_array().unwrap() {
        assert_eq!(node["state"], "inspect_failed", "{node}");
        assert!(
            node["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("not on this site")),
            "{node}"
        );
    }

    // Bad input is refused before anything runs, exit code 2.
    let out = crate::support::run_example("provision", &["--personality", "acme"], "unused").await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
