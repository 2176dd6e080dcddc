//! Runs the real `bios-get`, `bios-set` and `bios-reset` example binaries against a mock BMC
//! on 127.0.0.1 started here, and checks what they print, their exit codes, and what the mock
//! saw (its request log and state).

use ferrofish_mock_bmc::{DEFAULT_PASSWORD, MockBmc, MockBmcHandle, Personality, PowerState};

use crate::support::run_example;

async fn mock(personality: Personality) -> MockBmcHandle {
    let mock = MockBmc::builder()
        .personality(personality)
        .spawn()
        .await
        .unwrap();
    mock.node(0).set_power(true);
    // On before anything is staged: the mock applies pending values when a boot completes, so
    // a power-on still under way would apply what a test means to leave pending.
    for _ in 0..200 {
        if mock.node(0).view().power == PowerState::On {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(mock.node(0).view().power, PowerState::On);
    mock
}

fn patches(mock: &MockBmcHandle) -> usize {
    mock.node(0)
        .requests()
        .iter()
        .filter(|e| e.method == "PATCH")
        .count()
}

async fn run(name: &str, mock: &MockBmcHandle, args: &[&str]) -> std::process::Output {
    let url = mock.node(0).url();
    let mut all = vec!["--bmc", url.as_str(), "--user", "admin"];
    all.extend_from_slice(args);
    run_example(name, &all, DEFAULT_PASSWORD).await
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn bios_get_lists_attributes_with_types_and_filters_them() {
    let mock = mock(Personality::Dell).await;
    let output = run("bios-get", &mock, &[]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let boot_mode = stdout
        .lines()
        .find(|l| l.starts_with("BootMode "))
        .unwrap_or_else(|| panic!("no BootMode row: {stdout}"));
    assert!(
        boot_mode.contains("enumeration") && boot_mode.contains("Uefi"),
        "{boot_mode}"
    );
    assert!(stdout.ends_with("65 attribute(s)\n"), "{stdout}");

    let output = run("bios-get", &mock, &["--json", "--filter", "boot*"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let attributes = value["attributes"].as_array().expect("attributes");
    assert!(attributes.len() >= 3, "{value}");
    assert!(
        attributes.iter().all(|a| a["name"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .starts_with("boot")),
        "the filter kept only Boot*: {value}"
    );
    let count = attributes
        .iter()
        .find(|a| a["name"] == "BootSeqRetryCount")
        .expect("BootSeqRetryCount");
    assert_eq!(count["type"], "integer");
    assert_eq!(count["current"], 3);
    assert_eq!(count["limits"]["upper"], 10);
    assert_eq!(patches(&mock), 0);
}

#[tokio::test]
async fn bios_set_dry_run_prints_the_diff_and_sends_nothing() {
    let mock = mock(Personality::Generic).await;
    let output = run(
        "bios-set",
        &mock,
        &[
            "--set",
            "BootSeqRetryCount=6",
            "--set",
            "BootMode=Uefi",
            "--dry-run",
        ],
    )
    .await;
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(stdout.contains("BootSeqRetryCount: 3 -> 6"), "{stdout}");
    assert!(
        !stdout.contains("BootMode:"),
        "an unchanged value is no change: {stdout}"
    );
    assert!(stdout.contains("dry run: nothing sent"), "{stdout}");
    assert_eq!(patches(&mock), 0, "a dry run sends no PATCH");
    assert!(mock.node(0).view().bios_pending.is_empty());
}

#[tokio::test]
async fn bios_set_refuses_an_unknown_name_with_exit_2_and_the_closest_names() {
    let mock = mock(Personality::Generic).await;
    let output = run(
        "bios-set",
        &mock,
        &[
            "--set",
            "ProcVirtualisation=Enabled",
            "--set",
            "BootSeqRetryCount=99",
        ],
    )
    .await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("2 problem(s)"),
        "every problem is listed: {stderr}"
    );
    assert!(
        stderr.contains("ProcVirtualisation: no such attribute; did you mean ProcVirtualization"),
        "{stderr}"
    );
    assert!(
        stderr.contains("BootSeqRetryCount: 99 is outside 0..=10"),
        "{stderr}"
    );
    assert_eq!(patches(&mock), 0, "nothing is sent for a refused profile");

    // The same as JSON on stdout, for scripts.
    let output = run(
        "bios-set",
        &mock,
        &["--set", "ProcVirtualisation=Enabled", "--json"],
    )
    .await;
    assert_eq!(output.status.code(), Some(2));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(value["problems"][0]["kind"], "unknown_name");
    assert_eq!(value["problems"][0]["suggestions"][0], "ProcVirtualization");
}

#[tokio::test]
async fn bios_set_rejects_bad_input_before_contacting_the_bmc() {
    let mock = mock(Personality::Generic).await;
    let output = run("bios-set", &mock, &["--set", "NoEqualsSign"]).await;
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let output = run(
        "bios-set",
        &mock,
        &["--file", "/nonexistent/ferrofish-bios.json"],
    )
    .await;
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("/nonexistent/ferrofish-bios.json"));
    assert_eq!(mock.node(0).request_count(), 0);
}

#[tokio::test]
async fn bios_set_apply_applies_and_reports_each_attribute() {
    let mock = mock(Personality::Dell).await;
    let output = run(
        "bios-set",
        &mock,
        &[
            "--set",
            "BootSeqRetryCount=6",
            "--set",
            "virtualization=off",
            "--apply",
        ],
    )
    .await;
    let stdout = text(&output.stdout);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("  BootSeqRetryCount: applied"), "{stdout}");
    assert!(stdout.contains("  ProcVirtualization: applied"), "{stdout}");
    // Progress goes to stderr as plain lines when it is not a terminal.
    assert!(
        stderr.contains("resetting the system (ForceRestart)\n"),
        "{stderr}"
    );
    let view = mock.node(0).view();
    assert_eq!(
        view.bios_changed.get("BootSeqRetryCount"),
        Some(&serde_json::json!(6))
    );
    assert!(view.bios_pending.is_empty(), "{:?}", view.bios_pending);
}

#[tokio::test]
async fn bios_set_stages_an_ironic_settings_file_without_applying() {
    let mock = mock(Personality::Generic).await;
    let path = std::env::temp_dir().join(format!(
        "ferrofish-bios-set-example-{}.json",
        std::process::id()
    ));
    std::fs::write(
        &path,
        r#"[{"name": "ProcTurboMode", "value": "Disabled"}, {"name": "BootSeqRetryCount", "value": 5}]"#,
    )
    .unwrap();
    let output = run(
        "bios-set",
        &mock,
        &["--file", path.to_str().unwrap(), "--json"],
    )
    .await;
    std::fs::remove_file(&path).ok();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(value["staged"], true);
    assert_eq!(value["diff"]["changes"].as_array().map(Vec::len), Some(2));
    let pending = mock.node(0).view().bios_pending;
    assert_eq!(
        pending.get("ProcTurboMode"),
        Some(&serde_json::json!("Disabled"))
    );
    assert_eq!(
        pending.get("BootSeqRetryCount"),
        Some(&serde_json::json!(5))
    );
}

#[tokio::test]
async fn bios_set_exits_3_when_the_changes_are_accepted_but_not_applied() {
    let mock = mock(Personality::Generic).await;
    // Nobody reboots the system within the one-second wait: the value stays pending.
    let output = run(
        "bios-set",
        &mock,
        &[
            "--set",
            "BootSeqRetryCount=2",
            "--apply",
            "--no-reset",
            "--wait-timeout",
            "1",
        ],
    )
    .await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("  BootSeqRetryCount: still pending"),
        "{stderr}"
    );
    assert_eq!(
        mock.node(0).view().bios_pending.get("BootSeqRetryCount"),
        Some(&serde_json::json!(2)),
        "staged, not applied"
    );
}

#[tokio::test]
async fn bios_reset_apply_restores_the_defaults() {
    let mock = mock(Personality::Generic).await;
    let set = run(
        "bios-set",
        &mock,
        &["--set", "BootSeqRetryCount=7", "--apply"],
    )
    .await;
    assert!(set.status.success(), "{}", text(&set.stderr));
    assert_eq!(
        mock.node(0).view().bios_changed.get("BootSeqRetryCount"),
        Some(&serde_json::json!(7))
    );

    let dry = run("bios-reset", &mock, &["--dry-run"]).await;
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    let stdout = text(&dry.stdout);
    assert!(
        stdout.contains("1 attribute(s) not at their default: BootSeqRetryCount"),
        "{stdout}"
    );
    assert!(
        !mock.node(0).view().bios_reset_pending,
        "a dry run sends nothing"
    );

    let output = run("bios-reset", &mock, &["--apply"]).await;
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(stdout.starts_with("BIOS reset to defaults"), "{stdout}");
    assert!(
        mock.node(0).view().bios_changed.is_empty(),
        "{:?}",
        mock.node(0).view().bios_changed
    );
}
