//! Runs the real `power` example (and the `ipmi` example without `--bmc`) against mock BMCs on
//! 127.0.0.1 that answer Redfish and IPMI on the same node, and checks what they print, their
//! exit codes, and what the node saw: which protocol carried the action, and the fallback to
//! IPMI when the Redfish side fails.

use ferrofish_mock_bmc::{DEFAULT_PASSWORD, MockBmc, MockBmcHandle, PowerState};
use serde_json::Value;

use crate::support::run_example;

async fn combined() -> MockBmcHandle {
    MockBmc::builder().ipmi(true).spawn().await.unwrap()
}

fn ipmi_port(mock: &MockBmcHandle) -> String {
    mock.node(0)
        .ipmi_addr()
        .expect("IPMI on")
        .port()
        .to_string()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[track_caller]
fn json_ok(output: &std::process::Output) -> Value {
    assert!(
        output.status.success(),
        "exit {}: {}",
        output.status,
        text(&output.stderr)
    );
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("{err}: {}", text(&output.stdout)))
}

/// Requests of the node by protocol: (Redfish, IPMI chassis controls).
fn traffic(mock: &MockBmcHandle) -> (usize, usize) {
    let log = mock.node(0).requests();
    let redfish = log.iter().filter(|e| e.method != "IPMI").count();
    let controls = log
        .iter()
        .filter(|e| e.method == "IPMI" && e.path == "/ipmi/chassis/control")
        .count();
    (redfish, controls)
}

#[tokio::test]
async fn without_bmc_it_reads_an_embedded_mock_over_redfish() {
    let output = run_example("power", &["status", "--json"], "unused").await;
    let report = json_ok(&output);
    assert_eq!(report["power_state"], "Off", "{report}");
    assert_eq!(report["read"]["via"], "redfish", "{report}");
    assert!(report.get("action").is_none(), "{report}");
    assert!(
        text(&output.stderr).contains("embedded mock BMC"),
        "{}",
        text(&output.stderr)
    );
}

#[tokio::test]
async fn on_with_wait_over_redfish_reaches_the_node_and_reports_redfish() {
    let mock = combined().await;
    let bmc = format!("redfish+http://{}", mock.node(0).addr());
    let output = run_example(
        "power",
        &["--bmc", &bmc, "--user", "admin", "on", "--wait", "--json"],
        DEFAULT_PASSWORD,
    )
    .await;
    let report = json_ok(&output);
    assert_eq!(report["action"], "on");
    assert_eq!(report["action_result"]["via"], "redfish", "{report}");
    assert_eq!(report["action_result"]["fallback_reason"], Value::Null);
    assert_eq!(report["waited"]["via"], "redfish", "{report}");
    assert_eq!(report["power_state"], "On", "{report}");
    assert!(mock.node(0).power_is_on());
    assert_eq!(traffic(&mock).1, 0, "no IPMI control without a fallback");
    // Progress goes to stderr as plain lines (not a terminal), never to stdout.
    let stderr = text(&output.stderr);
    assert!(stderr.contains("waiting for On: "), "{stderr}");
    assert!(!stderr.contains('\r'), "{stderr:?}");
}

#[tokio::test]
async fn an_ipmi_address_powers_off_over_ipmi_and_sends_no_redfish() {
    let mock = combined().await;
    mock.node(0).set_power(true);
    let bmc = format!("ipmi://127.0.0.1:{}", ipmi_port(&mock));
    mock.node(0).clear_requests();
    let output = run_example(
        "power",
        &["--bmc", &bmc, "--user", "admin", "off", "--wait"],
        DEFAULT_PASSWORD,
    )
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("power off: sent over IPMI"), "{stdout}");
    assert!(stdout.contains("power is Off (over IPMI)"), "{stdout}");
    assert!(!mock.node(0).power_is_on());
    assert_eq!(traffic(&mock), (0, 1));
}

#[tokio::test]
async fn a_failing_redfish_side_falls_back_to_ipmi_and_says_so() {
    let mock = combined().await;
    let node = mock.node(0);
    // Every Redfish request answers 500 (not retried, not a refusal): Redfish is broken.
    node.faults().fail_next(10_000, 500, None);
    let bmc = format!("http://{}", node.addr());
    let output = run_example(
        "power",
        &[
            "--bmc",
            &bmc,
            "--user",
            "admin",
            "--ipmi-port",
            &ipmi_port(&mock),
            "on",
            "--wait",
            "--json",
        ],
        DEFAULT_PASSWORD,
    )
    .await;
    let report = json_ok(&output);
    assert_eq!(report["action_result"]["via"], "ipmi", "{report}");
    let reason = report["action_result"]["fallback_reason"]
        .as_str()
        .unwrap_or_default();
    assert!(reason.contains("HTTP 500"), "{report}");
    assert_eq!(report["read"]["via"], "ipmi", "{report}");
    assert_eq!(report["power_state"], "On", "{report}");
    // IPMI's "on" is the rail: the node may still be in POST (`PoweringOn`), never off.
    assert_ne!(node.view().power, PowerState::Off);
    assert_eq!(traffic(&mock).1, 1, "exactly one chassis control");

    // The same in text: the reader is told which protocol did it and why.
    node.faults().fail_next(10_000, 500, None);
    let output = run_example(
        "power",
        &[
            "--bmc",
            &bmc,
            "--user",
            "admin",
            "--ipmi-port",
            &ipmi_port(&mock),
            "status",
        ],
        DEFAULT_PASSWORD,
    )
    .await;
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        stdout.starts_with("power is On (over IPMI (Redfish failed: ")
            && stdout.contains("HTTP 500"),
        "{stdout}"
    );
}

#[tokio::test]
async fn refused_credentials_do_not_fall_back_and_are_not_echoed() {
    let mock = combined().await;
    let wrong = "not-the-Passw0rd";
    let output = run_example(
        "power",
        &[
            "--bmc",
            &mock.node(0).url(),
            "--user",
            "admin",
            "--ipmi-port",
            &ipmi_port(&mock),
            "off",
        ],
        wrong,
    )
    .await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert!(output.stdout.is_empty());
    let stderr = text(&output.stderr);
    assert!(!stderr.contains(wrong), "{stderr}");
    let ipmi_commands = mock
        .node(0)
        .requests()
        .iter()
        .filter(|e| e.method == "IPMI")
        .count();
    assert_eq!(ipmi_commands, 0, "a refused login is not retried over IPMI");
}

#[tokio::test]
async fn a_bad_address_or_graceful_cycle_is_invalid_input_and_sends_nothing() {
    let output = run_example(
        "power",
        &["--bmc", "ilo4://10.0.0.5", "--user", "admin", "status"],
        "unused",
    )
    .await;
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("no longer supported"), "{stderr}");
    assert!(stderr.contains("accepted: redfish://"), "{stderr}");

    let output = run_example("power", &["cycle", "--graceful"], "unused").await;
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("--graceful applies to off and reboot"));
    // Refused before the embedded mock starts: nothing was connected to.
    assert!(!text(&output.stderr).contains("embedded mock"));
}

#[tokio::test]
async fn graceful_reboot_over_ipmi_alone_is_unsupported_not_a_no_op() {
    let mock = combined().await;
    mock.node(0).set_power(true);
    mock.node(0).clear_requests();
    let bmc = format!("127.0.0.1:{}", ipmi_port(&mock));
    let output = run_example(
        "power",
        &["--bmc", &bmc, "--user", "admin", "reboot", "--graceful"],
        DEFAULT_PASSWORD,
    )
    .await;
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("graceful-reboot is not available over IPMI"),
        "{stderr}"
    );
    assert_eq!(traffic(&mock).1, 0);
}

#[tokio::test]
async fn the_ipmi_example_runs_against_an_embedded_mock_without_bmc() {
    let output = run_example("ipmi", &["--json", "power", "status"], "unused").await;
    let report = json_ok(&output);
    assert_eq!(report["power"], "off", "{report}");
    assert!(text(&output.stderr).contains("embedded mock BMC"));

    // A Redfish address is refused by the IPMI-only example.
    let output = run_example(
        "ipmi",
        &[
            "--bmc",
            "redfish://10.0.0.5",
            "--user",
            "admin",
            "power",
            "status",
        ],
        "unused",
    )
    .await;
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("needs ipmi://"));
}
