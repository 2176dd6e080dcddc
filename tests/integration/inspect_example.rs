//! Runs the real `inspect` example binary (built by `cargo test` beside the test binaries)
//! against a mock BMC on 127.0.0.1 and checks what it prints.

use ferrofish_mock_bmc::{DEFAULT_PASSWORD, InventorySize, MockBmc, Personality};

use crate::support::run_example;

async fn run_inspect(args: &[&str], password: &str) -> std::process::Output {
    run_example("inspect", args, password).await
}

#[tokio::test]
async fn inspect_json_reports_the_inventory_the_mock_was_built_with() {
    let size = InventorySize {
        processors: 3,
        dimms: 5,
        drives: 4,
        nics: 6,
        pcie_devices: 2,
        storage_controllers: 1,
        volumes: 2,
    };
    let mock = MockBmc::builder()
        .personality(Personality::Dell)
        .inventory(size)
        .spawn()
        .await
        .unwrap();
    let node = mock.node(0);

    let output = run_inspect(
        &["--bmc", &node.url(), "--user", "admin", "--json"],
        DEFAULT_PASSWORD,
    )
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "inspect failed: {stderr}");

    let inventory: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout is JSON");
    assert_eq!(inventory["cpu"]["count"], 3);
    assert_eq!(
        inventory["cpu"]["processors"].as_array().map(Vec::len),
        Some(3)
    );
    assert_eq!(
        inventory["memory"]["dimms"].as_array().map(Vec::len),
        Some(5)
    );
    assert_eq!(inventory["disks"].as_array().map(Vec::len), Some(4));
    assert_eq!(inventory["nics"].as_array().map(Vec::len), Some(6));
    assert_eq!(inventory["pcie_devices"].as_array().map(Vec::len), Some(2));
    assert_eq!(inventory["volumes"].as_array().map(Vec::len), Some(2));
    // Who the BMC is: the mock's iDRAC, as its Manager names it, and the quirks Dell brings.
    let bmc = &inventory["bmc"];
    assert_eq!(bmc["vendor"], "Dell", "{bmc}");
    assert_eq!(bmc["model"], "16G Monolithic", "{bmc}");
    assert_eq!(bmc["firmware"], "6.00.30.00", "{bmc}");
    assert_eq!(bmc["quirks"]["max_sessions"], 8, "{bmc}");
    assert!(
        bmc["quirks"].get("session_auth").is_none(),
        "only what differs from DMTF behaviour: {bmc}"
    );
    // The session it opened is closed again: a leaked one would count against the BMC's cap.
    assert_eq!(node.count("POST", "/redfish/v1/SessionService/Sessions"), 1);
    assert_eq!(node.view().sessions, 0, "inspect left a session open");
}

#[tokio::test]
async fn inspect_with_a_system_path_prints_only_that_system_as_a_table() {
    let mock = MockBmc::builder()
        .personality(Personality::Dell)
        .spawn()
        .await
        .unwrap();
    let node = mock.node(0);
    let url = format!("{}/redfish/v1/Systems/System.Embedded.1", node.url());

    let output = run_inspect(&["--bmc", &url, "--user", "admin"], DEFAULT_PASSWORD).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "inspect failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Who the BMC is, then the one system.
    assert!(
        stdout.starts_with("BMC  Dell  model 16G Monolithic  firmware 6.00.30.00\n"),
        "{stdout}"
    );
    assert!(stdout.contains("max_sessions=8"), "{stdout}");
    assert_eq!(
        stdout.matches("/redfish/v1/Systems/").count(),
        1,
        "only the system named: {stdout}"
    );
    assert!(
        stdout.contains("\n/redfish/v1/Systems/System.Embedded.1\n"),
        "{stdout}"
    );
    assert!(stdout.contains("disks (2)"), "{stdout}");
    // The system was named, so the Systems collection is never listed.
    assert_eq!(node.count("GET", "/redfish/v1/Systems"), 0);
}

#[tokio::test]
async fn inspect_with_a_wrong_password_fails_without_printing_it() {
    let mock = MockBmc::builder().spawn().await.unwrap();
    let wrong = "not-the-password-7f3a";

    let output = run_inspect(&["--bmc", &mock.node(0).url(), "--user", "admin"], wrong).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        output.stdout.is_empty(),
        "nothing goes to stdout on failure"
    );
    assert!(stderr.starts_with("inspect: "), "{stderr}");
    assert!(!stderr.contains(wrong), "the password leaked: {stderr}");
}

#[tokio::test]
async fn inspect_of_the_service_root_url_inspects_every_system() {
    let mock = MockBmc::builder().spawn().await.unwrap();
    let node = mock.node(0);
    let url = format!("{}/redfish/v1/", node.url());

    let output = run_inspect(
        &["--bmc", &url, "--user", "admin", "--json"],
        DEFAULT_PASSWORD,
    )
    .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let inventory: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    // The service root is not mistaken for a system: the Systems collection is listed and the
    // one system in it is inspected.
    assert_eq!(inventory["system"]["odata_id"], "/redfish/v1/Systems/1");
    assert_eq!(node.count("GET", "/redfish/v1/Systems"), 1);
}

#[tokio::test]
async fn inspect_refuses_a_path_that_is_not_a_system_before_contacting_the_bmc() {
    let mock = MockBmc::builder().spawn().await.unwrap();
    let node = mock.node(0);
    let url = format!("{}/redfish/v1/Managers/1", node.url());

    let output = run_inspect(&["--bmc", &url, "--user", "admin"], DEFAULT_PASSWORD).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("/redfish/v1/Managers/1 is not a system"),
        "{stderr}"
    );
    assert_eq!(node.request_count(), 0, "nothing is sent for bad input");
}

#[tokio::test]
async fn inspect_without_bmc_inspects_the_embedded_mock() {
    let output = run_inspect(&["--json"], "unused").await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("inspecting an embedded mock BMC at http://127.0.0.1:"),
        "{stderr}"
    );
    let inventory: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    // The embedded mock is built with the mock's default inventory size.
    let size = InventorySize::default();
    assert_eq!(inventory["cpu"]["count"], u64::from(size.processors));
    assert_eq!(
        inventory["disks"].as_array().map(Vec::len),
        Some(usize::from(size.drives))
    );
}
