//! Acceptance scenarios 15 and 16 of ironic-flows §5 (BIOS settings the BMC refuses or never
//! applies) against the mock's BIOS quirk switches (`bios_rejected_at_apply`,
//! `bios_never_applies`), driven through `Driver::advance`.

use std::time::Duration;

use ferrofish::provision::{Advance, Policy, ProvisionState, Timestamp};
use ferrofish_mock_bmc::{MockBmc, MockBmcHandle, Personality};
use serde_json::json;

use crate::provision_support::{
    Env, bios_clean, drive_until, fast_policy, manageable, port, writes,
};

fn count(writes: &[String], what: &str) -> usize {
    writes.iter().filter(|w| w.contains(what)).count()
}

/// Runs a clean with `settings` on node 0 of `mock` and returns the env and the node.
async fn clean(
    mock: MockBmcHandle,
    policy: Policy,
    settings: &serde_json::Value,
) -> (Env, ferrofish::provision::Node, Advance) {
    let env = Env::with_mock(mock).await;
    let driver = env.driver("bios-scenarios").with_policy(policy);
    let port = port(&env.mock, 0).await;
    let mut node = manageable(&env, &driver, &port).await;
    env.mock.node(0).clear_requests();
    driver
        .send(&mut node, bios_clean(settings), Timestamp::now())
        .await
        .unwrap();
    let end = drive_until(&driver, &mut node, &port, |_| false).await;
    (env, node, end)
}

/// 15: the BMC accepts the PATCH but refuses the value when it applies it, saying so in
/// `@Redfish.Settings.Messages`: the step fails at once (not at the deadline) with the BMC's
/// message, `clean_failed` with maintenance, after one PATCH and one reboot.
#[tokio::test]
async fn s15_bios_attribute_rejected_by_the_bmc_fails_with_its_message() {
    let mock = MockBmc::builder()
        .bios_rejected_at_apply(["ProcTurboMode"])
        .spawn()
        .await
        .expect("mock");
    let started = std::time::Instant::now();
    let (env, node, end) = clean(
        mock,
        Policy {
            // Long: the failure must come from the BMC's verdict, not from the deadline.
            bios_timeout: Duration::from_secs(60),
            ..fast_policy()
        },
        &json!([{"name": "ProcTurboMode", "value": "Disabled"}]),
    )
    .await;
    assert!(matches!(end, Advance::Failed { .. }), "{end:?}");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(node.state, ProvisionState::CleanFailed, "{node:#?}");
    assert!(node.maintenance);
    assert_eq!(node.fault.as_deref(), Some("clean failure"));
    let error = node.last_error.clone().unwrap_or_default();
    assert!(error.contains("refused by the BMC"), "{error}");
    assert!(error.contains("ProcTurboMode"), "{error}");
    // The BMC's own words (its PropertyValueNotInList message) are in the error.
    let view = env.mock.node(0).view();
    assert!(
        !view.bios_changed.contains_key("ProcTurboMode"),
        "the mock refused it: {view:?}"
    );
    let log = writes(&env.mock, 0);
    assert_eq!(
        count(&log, "PATCH /redfish/v1/Systems/1/Bios"),
        1,
        "{log:?}"
    );
    assert_eq!(view.boot_count, 1, "one reboot, no retry: {log:?}");
    assert!(
        error.contains("is not in the list of acceptable values"),
        "the BMC's message: {error}"
    );
}

/// 15, the PATCH variant: the settings PATCH itself is answered 400 with a Redfish error
/// naming the attribute (`bios_rejected_at_patch`): the step fails at once with the BMC's
/// message, `clean_failed` with maintenance, and nothing else is sent (no reset, no second
/// PATCH).
#[tokio::test]
async fn s15_bios_patch_refused_with_400_fails_with_the_bmc_message_and_sends_nothing_else() {
    let mock = MockBmc::builder()
        .bios_rejected_at_patch(["ProcTurboMode"])
        .spawn()
        .await
        .expect("mock");
    let (env, node, end) = clean(
        mock,
        Policy {
            bios_timeout: Duration::from_secs(60),
            ..fast_policy()
        },
        &json!([{"name": "ProcTurboMode", "value": "Disabled"}]),
    )
    .await;
    assert!(matches!(end, Advance::Failed { .. }), "{end:?}");
    assert_eq!(node.state, ProvisionState::CleanFailed, "{node:#?}");
    assert!(node.maintenance);
    assert_eq!(node.fault.as_deref(), Some("clean failure"));
    let error = node.last_error.clone().unwrap_or_default();
    assert!(error.contains("400"), "{error}");
    assert!(
        error.contains("The value 'Disabled' for the property ProcTurboMode is not in the list"),
        "the BMC's message: {error}"
    );
    assert!(error.contains("bios_stage"), "names the phase: {error}");
    let log = writes(&env.mock, 0);
    assert_eq!(
        log,
        ["PATCH /redfish/v1/Systems/1/Bios/Settings"],
        "one refused PATCH and nothing else"
    );
    let patch = env
        .mock
        .node(0)
        .requests()
        .into_iter()
        .find(|r| r.method == "PATCH")
        .expect("the PATCH");
    assert_eq!(patch.status, 400);
    let view = env.mock.node(0).view();
    assert_eq!(view.boot_count, 0, "no reboot");
    assert!(view.bios_pending.is_empty(), "nothing staged: {view:?}");
}

/// 16: the PATCH is accepted and a reboot done, but the value never applies (it stays
/// pending in a settings object that holds only changes): at the deadline the step fails
/// with "attributes … are not updated", `clean_failed`; never a second PATCH or reboot.
#[tokio::test]
async fn s16_bios_setting_silently_not_applied_fails_at_the_deadline() {
    let mock = MockBmc::builder()
        .bios_never_applies(true)
        .spawn()
        .await
        .expect("mock");
    let (env, node, end) = clean(
        mock,
        Policy {
            bios_timeout: Duration::from_millis(1500),
            ..fast_policy()
        },
        &json!([{"name": "ProcTurboMode", "value": "Disabled"}]),
    )
    .await;
    assert!(matches!(end, Advance::Failed { .. }), "{end:?}");
    assert_eq!(node.state, ProvisionState::CleanFailed, "{node:#?}");
    assert!(node.maintenance);
    let error = node.last_error.clone().unwrap_or_default();
    assert!(
        error.contains("BIOS attributes ProcTurboMode are not updated"),
        "{error}"
    );
    let view = env.mock.node(0).view();
    assert_eq!(
        view.bios_pending.get("ProcTurboMode"),
        Some(&json!("Disabled")),
        "still pending: {view:?}"
    );
    let log = writes(&env.mock, 0);
    assert_eq!(
        count(&log, "PATCH /redfish/v1/Systems/1/Bios"),
        1,
        "{log:?}"
    );
    assert_eq!(view.boot_count, 1, "{log:?}");
}

/// 16, HPE half: a settings object that lists every attribute keeps the applied value in
/// pending; presence there alone must not fail the step.
#[tokio::test]
async fn s16_pending_that_lists_every_attribute_does_not_fail_the_step() {
    let mock = MockBmc::builder()
        .personality(Personality::Hpe)
        .spawn()
        .await
        .expect("mock");
    let (env, node, end) = clean(
        mock,
        fast_policy(),
        &json!([{"name": "turbo", "value": "disabled"}]),
    )
    .await;
    assert_eq!(end, Advance::Done, "{node:#?}");
    assert_eq!(node.state, ProvisionState::Manageable, "{node:#?}");
    let view = env.mock.node(0).view();
    assert!(!view.bios_changed.is_empty(), "{view:?}");
}
