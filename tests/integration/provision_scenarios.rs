//! Acceptance scenarios of ironic-flows §5 against the mock BMC with fault injection, one test
//! each (the number is the scenario's). Each drives one node with `Driver::advance` and checks
//! the node document and the mock's request log.

use std::time::Duration;

use ferrofish::provision::{
    Advance, DeploySpec, Event, Fleet, FleetPlan, Phase, Policy, ProvisionState, StateStore,
    Timestamp,
};
use ferrofish_mock_bmc::{MockBmc, Personality, PowerDelays};
use serde_json::json;

use crate::provision_support::{
    Env, MockConnector, bios_clean, drive_until, fast_policy, manageable, port, writes,
};

fn resets(writes: &[String]) -> usize {
    writes
        .iter()
        .filter(|w| w.contains("ComputerSystem.Reset"))
        .count()
}

/// 1: verify reads power and vendor and sends nothing that changes the BMC.
#[tokio::test]
async fn s01_verify_records_power_and_vendor_without_writing() {
    let env = Env::start(1, Personality::Dell).await;
    let driver = env.driver("s01");
    let port = port(&env.mock, 0).await;
    let node = manageable(&env, &driver, &port).await;
    assert_eq!(node.power_state.as_deref(), Some("off"));
    assert_eq!(node.properties().unwrap()["vendor"], "Dell");
    assert!(
        writes(&env.mock, 0).is_empty(),
        "{:?}",
        writes(&env.mock, 0)
    );
}

/// 4: `power_on` on a node that is on sends no reset; on a node that is off exactly one.
#[tokio::test]
async fn s04_power_on_is_idempotent() {
    let env = Env::start(1, Personality::Generic).await;
    let driver = env.driver("s04");
    let port = port(&env.mock, 0).await;
    let mut node = manageable(&env, &driver, &port).await;
    let power_on = Event::clean_from_json(&json!([{"step": "power_on"}])).unwrap();
    driver
        .send(&mut node, power_on.clone(), Timestamp::now())
        .await
        .unwrap();
    assert_eq!(
        drive_until(&driver, &mut node, &port, |_| false).await,
        Advance::Done
    );
    assert_eq!(resets(&writes(&env.mock, 0)), 1);
    assert_eq!(node.power_state.as_deref(), Some("on"));
    env.mock.node(0).clear_requests();
    driver
        .send(&mut node, power_on, Timestamp::now())
        .await
        .unwrap();
    assert_eq!(
        drive_until(&driver, &mut node, &port, |_| false).await,
        Advance::Done
    );
    assert_eq!(resets(&writes(&env.mock, 0)), 0, "already on: nothing sent");
    assert_eq!(node.state, ProvisionState::Manageable);
}

/// 5: the BMC accepts `On` but the power never shows within the timeout: the clean fails,
/// with maintenance and Ironic's fault.
#[tokio::test]
async fn s05_power_state_never_reached_fails_the_clean_with_maintenance() {
    let env = Env::start(1, Personality::Generic).await;
    let driver = env.driver("s05").with_policy(Policy {
        power_timeout: Duration::from_millis(600),
        ..fast_policy()
    });
    let port = port(&env.mock, 0).await;
    let mut node = manageable(&env, &driver, &port).await;
    // 150 ms × 1000: the node stays "PoweringOn" far past the timeout.
    env.mock.node(0).faults().slow_power(1000);
    let power_on = Event::clean_from_json(&json!([{"step": "power_on"}])).unwrap();
    driver
        .send(&mut node, power_on, Timestamp::now())
        .await
        .unwrap();
    let end = drive_until(&driver, &mut node, &port, |_| false).await;
    assert!(matches!(end, Advance::Failed { .. }), "{end:?}");
    assert_eq!(node.state, ProvisionState::CleanFailed);
    assert!(node.maintenance);
    assert_eq!(node.fault.as_deref(), Some("clean failure"));
    let error = node.last_error.clone().unwrap();
    assert!(error.contains("power state on not reached"), "{error}");
    assert_eq!(resets(&writes(&env.mock, 0)), 1, "one On, never repeated");
    // The operator acknowledges: `manage` brings it back.
    driver
        .send(&mut node, Event::Manage, Timestamp::now())
        .await
        .unwrap();
    assert_eq!(node.state, ProvisionState::Manageable);
    assert!(!node.maintenance);
}

/// 10: every insert fails: the deploy fails, the error names the image, no power-on is sent.
#[tokio::test]
async fn s10_vmedia_insert_failure_fails_the_deploy_without_powering_on() {
    let env = Env::start(1, Personality::Generic).await;
    let driver = env.driver("s10");
    let port = port(&env.mock, 0).await;
    let mut node = manageable(&env, &driver, &port).await;
    driver
        .send(&mut node, Event::Provide, Timestamp::now())
        .await
        .unwrap();
    drive_until(&driver, &mut node, &port, |_| false).await;
    assert_eq!(node.state, ProvisionState::Available);
    env.mock.node(0).faults().image_download_fails_next(20);
    env.mock.node(0).clear_requests();
    let spec = DeploySpec {
        network_data: None,
        ..env.deploy()
    };
    driver
        .send(&mut node, Event::Deploy(spec), Timestamp::now())
        .await
        .unwrap();
    let end = drive_until(&driver, &mut node, &port, |_| false).await;
    assert!(matches!(end, Advance::Failed { .. }), "{end:?}");
    assert_eq!(node.state, ProvisionState::DeployFailed);
    let error = node.last_error.clone().unwrap();
    assert!(error.contains("deploy.iso"), "names the image: {error}");
    assert!(error.contains("deploy_insert"), "names the phase: {error}");
    let writes = writes(&env.mock, 0);
    assert!(
        !writes.iter().any(|w| w.contains("ComputerSystem.Reset")),
        "no power action at all (the node was off): {writes:#?}"
    );
    assert!(
        writes.iter().any(|w| w.contains("InsertMedia")),
        "{writes:#?}"
    );
    assert_eq!(env.mock.node(0).view().boot_count, 0);
}

/// 12 and 13: BIOS apply out of band: one PATCH, one boot (the node was off: `On` alone),
/// the values verified; the same clean again sends nothing.
#[tokio::test]
async fn s12_s13_bios_apply_then_the_same_apply_is_a_no_op() {
    let env = Env::start(1, Personality::Generic).await;
    let driver = env.driver("s12");
    let port = port(&env.mock, 0).await;
    let mut node = manageable(&env, &driver, &port).await;
    let clean = bios_clean(&json!([{"name": "ProcTurboMode", "value": "Disabled"}]));
    driver
        .send(&mut node, clean.clone(), Timestamp::now())
        .await
        .unwrap();
    assert_eq!(
        drive_until(&driver, &mut node, &port, |_| false).await,
        Advance::Done
    );
    assert_eq!(node.state, ProvisionState::Manageable, "{node:#?}");
    let first = writes(&env.mock, 0);
    let patches: Vec<&String> = first.iter().filter(|w| w.starts_with("PATCH")).collect();
    assert_eq!(patches.len(), 1, "{first:#?}");
    assert!(patches[0].contains("Bios"), "{first:#?}");
    assert_eq!(resets(&first), 1, "off before: On alone: {first:#?}");
    let view = env.mock.node(0).view();
    assert_eq!(view.bios_changed["ProcTurboMode"], "Disabled");
    assert_eq!(view.boot_count, 1);

    env.mock.node(0).clear_requests();
    driver
        .send(&mut node, clean, Timestamp::now())
        .await
        .unwrap();
    assert_eq!(
        drive_until(&driver, &mut node, &port, |_| false).await,
        Advance::Done
    );
    assert_eq!(node.state, ProvisionState::Manageable);
    assert!(
        writes(&env.mock, 0).is_empty(),
        "{:?}",
        writes(&env.mock, 0)
    );
    assert_eq!(env.mock.node(0).view().boot_count, 1);
}

/// 14: a value the registry does not allow: nothing sent, clean failed with maintenance and
/// the attribute named.
#[tokio::test]
async fn s14_bios_attribute_rejected_locally_sends_nothing() {
    let env = Env::start(1, Personality::Generic).await;
    let driver = env.driver("s14");
    let port = port(&env.mock, 0).await;
    let mut node = manageable(&env, &driver, &port).await;
    env.mock.node(0).clear_requests();
    let clean = bios_clean(&json!([
        {"name": "ProcTurboMode", "value": "Sideways"},
        {"name": "ProcCStates", "value": "Disabled"}
    ]));
    driver
        .send(&mut node, clean, Timestamp::now())
        .await
        .unwrap();
    let end = drive_until(&driver, &mut node, &port, |_| false).await;
    assert!(matches!(end, Advance::Failed { .. }), "{end:?}");
    assert_eq!(node.state, ProvisionState::CleanFailed);
    assert!(node.maintenance);
    let error = node.last_error.clone().unwrap();
    assert!(error.contains("ProcTurboMode"), "{error}");
    assert!(!error.contains("ProcCStates"), "only the offender: {error}");
    assert!(
        writes(&env.mock, 0).is_empty(),
        "{:?}",
        writes(&env.mock, 0)
    );
}

/// 17: the BMC stops answering while the node waits for its BIOS values: warnings, no state
/// change, and the step completes once it is back.
#[tokio::test]
async fn s17_bmc_unreachable_mid_clean_waits_then_completes() {
    let env = Env::start(1, Personality::Generic).await;
    let driver = env.driver("s17");
    let port = port(&env.mock, 0).await;
    let mut node = manageable(&env, &driver, &port).await;
    let clean = bios_clean(&json!([{"name": "ProcTurboMode", "value": "Disabled"}]));
    driver
        .send(&mut node, clean, Timestamp::now())
        .await
        .unwrap();
    drive_until(&driver, &mut node, &port, |n| {
        n.phase() == Some(Phase::BiosWaitApplied)
    })
    .await;
    env.mock
        .node(0)
        .faults()
        .reboot_bmc(Duration::from_millis(700));
    let advance = driver
        .advance(&mut node, &port, Timestamp::now())
        .await
        .unwrap();
    assert!(matches!(advance, Advance::Waiting { .. }), "{advance:?}");
    assert_eq!(node.state, ProvisionState::Cleaning);
    let op = node.operation.clone().unwrap();
    assert_eq!(op.phase, Phase::BiosWaitApplied);
    assert!(op.scratch.failed_reads >= 1, "{op:#?}");
    assert!(op.scratch.last_warning.is_some());
    assert!(op.scratch.reboot_requested);
    assert_eq!(
        drive_until(&driver, &mut node, &port, |_| false).await,
        Advance::Done
    );
    assert_eq!(node.state, ProvisionState::Manageable, "{node:#?}");
    assert_eq!(env.mock.node(0).view().boot_count, 1, "no second reboot");
}

/// 17, second half: the BMC stays away past the deadline: clean failed, maintenance, the
/// last failed read in the error.
#[tokio::test]
async fn s17_bmc_unreachable_past_the_deadline_fails_the_clean() {
    let env = Env::start(1, Personality::Generic).await;
    let driver = env.driver("s17b").with_policy(Policy {
        bios_timeout: Duration::from_millis(800),
        ..fast_policy()
    });
    let port = port(&env.mock, 0).await;
    let mut node = manageable(&env, &driver, &port).await;
    let clean = bios_clean(&json!([{"name": "ProcTurboMode", "value": "Disabled"}]));
    driver
        .send(&mut node, clean, Timestamp::now())
        .await
        .unwrap();
    drive_until(&driver, &mut node, &port, |n| {
        n.phase() == Some(Phase::BiosWaitApplied)
    })
    .await;
    env.mock
        .node(0)
        .faults()
        .reboot_bmc(Duration::from_secs(30));
    let end = drive_until(&driver, &mut node, &port, |_| false).await;
    assert!(matches!(end, Advance::Failed { .. }), "{end:?}");
    assert_eq!(node.state, ProvisionState::CleanFailed);
    assert!(node.maintenance);
    let error = node.last_error.clone().unwrap();
    assert!(error.contains("did not answer"), "{error}");
    env.mock.node(0).faults().clear();
}

/// 18: a process dies while the node waits for its BIOS values; another takes the lapsed
/// lease, only polls (no second PATCH, no second boot), and keeps the persisted deadline.
#[tokio::test]
async fn s18_takeover_in_a_resumable_phase_only_polls() {
    let env = Env::start(1, Personality::Generic).await;
    let first = env
        .driver("first")
        .with_lease_ttl(Duration::from_millis(300));
    let port = port(&env.mock, 0).await;
    let mut node = manageable(&env, &first, &port).await;
    let clean = bios_clean(&json!([{"name": "ProcTurboMode", "value": "Disabled"}]));
    first
        .send(&mut node, clean, Timestamp::now())
        .await
        .unwrap();
    drive_until(&first, &mut node, &port, |n| {
        n.phase() == Some(Phase::BiosWaitApplied)
    })
    .await;
    let deadline = node.operation.as_ref().unwrap().deadline;
    drop(first); // the "crash": nothing is released
    let second = env.driver("second");
    let early = second.claim("node-0", Timestamp::now()).await.unwrap_err();
    assert!(early.is_lease_held(), "{early}");
    tokio::time::sleep(Duration::from_millis(350)).await;
    let mut node = second.claim("node-0", Timestamp::now()).await.unwrap();
    assert_eq!(node.operation.as_ref().unwrap().deadline, deadline);
    assert_eq!(node.history.back().unwrap().event, "resume");
    assert_eq!(
        drive_until(&second, &mut node, &port, |_| false).await,
        Advance::Done
    );
    assert_eq!(node.state, ProvisionState::Manageable);
    let writes = writes(&env.mock, 0);
    assert_eq!(
        writes.iter().filter(|w| w.starts_with("PATCH")).count(),
        1,
        "{writes:#?}"
    );
    assert_eq!(env.mock.node(0).view().boot_count, 1);
}

/// 19: verifying does not resume (Ironic's stuck-state rule): back to enroll, "interrupted".
#[tokio::test]
async fn s19_takeover_in_verifying_fails_back_to_enroll() {
    let env = Env::start(1, Personality::Generic).await;
    env.enroll_all().await;
    let first = env
        .driver("first")
        .with_lease_ttl(Duration::from_millis(100));
    let mut node = first.claim("node-0", Timestamp::now()).await.unwrap();
    first
        .send(&mut node, Event::Manage, Timestamp::now())
        .await
        .unwrap();
    assert_eq!(node.state, ProvisionState::Verifying);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let node = env
        .driver("second")
        .claim("node-0", Timestamp::now())
        .await
        .unwrap();
    assert_eq!(node.state, ProvisionState::Enroll);
    let error = node.last_error.clone().unwrap();
    assert!(error.contains("interrupted in verify"), "{error}");
    assert!(writes(&env.mock, 0).is_empty());
}

/// 20 (failure half): a rule that fails the inspection: inspect failed, properties not saved.
#[tokio::test]
async fn s20_a_failing_rule_fails_inspection_and_saves_nothing() {
    let env = Env::start(1, Personality::Dell).await;
    let driver =
        env.driver("s20")
            .with_inspection_hook(std::sync::Arc::new(|inventory, _fields| {
                if inventory
                    .disks
                    .iter()
                    .all(|d| d.capacity_bytes.unwrap_or(0) < 10_u64.pow(15))
                {
                    Err("no disk of at least 1 PB found".into())
                } else {
                    Ok(())
                }
            }));
    let port = port(&env.mock, 0).await;
    let mut node = manageable(&env, &driver, &port).await;
    driver
        .send(&mut node, Event::Inspect, Timestamp::now())
        .await
        .unwrap();
    let end = drive_until(&driver, &mut node, &port, |_| false).await;
    assert!(matches!(end, Advance::Failed { .. }), "{end:?}");
    assert_eq!(node.state, ProvisionState::InspectFailed);
    assert!(node.last_error.clone().unwrap().contains("1 PB"));
    assert!(node.properties().unwrap().get("memory_mb").is_none());
    let stored = env.store.load("node-0").await.unwrap().unwrap();
    assert_eq!(stored.state, ProvisionState::InspectFailed);
}

/// Additional case: `clean` from `available` is refused, naming the allowed events, with no
/// BMC I/O and nothing written.
#[tokio::test]
async fn an_event_not_allowed_is_refused_with_the_allowed_ones() {
    let env = Env::start(1, Personality::Generic).await;
    let driver = env.driver("refuse");
    let port = port(&env.mock, 0).await;
    let mut node = manageable(&env, &driver, &port).await;
    driver
        .send(&mut node, Event::Provide, Timestamp::now())
        .await
        .unwrap();
    drive_until(&driver, &mut node, &port, |_| false).await;
    let revision = node.revision;
    let requests = env.mock.node(0).request_count();
    let err = driver
        .send(
            &mut node,
            bios_clean(&json!([{"name": "ProcTurboMode", "value": "Disabled"}])),
            Timestamp::now(),
        )
        .await
        .unwrap_err();
    assert!(err.is_invalid_input(), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("clean is not allowed in state available"),
        "{text}"
    );
    assert!(text.contains("allowed: deploy, manage"), "{text}");
    let ferrofish::provision::ProvisionError::InvalidEvent { allowed, event, .. } = &err else {
        panic!("not InvalidEvent: {err:?}");
    };
    assert_eq!(*event, ferrofish::provision::EventKind::Clean);
    assert_eq!(
        allowed,
        &[
            ferrofish::provision::EventKind::Deploy,
            ferrofish::provision::EventKind::Manage
        ],
        "a typed list"
    );
    assert_eq!(node.revision, revision);
    assert_eq!(
        env.store.load("node-0").await.unwrap().unwrap().revision,
        revision
    );
    assert_eq!(env.mock.node(0).request_count(), requests);
}

/// 11: the image never boots an OS: after the deadline the node is powered off, the media
/// ejected, and the deploy fails.
#[tokio::test]
async fn s11_a_boot_that_never_comes_fails_the_deploy_at_the_deadline() {
    let mock = MockBmc::builder()
        .power_delays(PowerDelays {
            on: Duration::from_millis(50),
            force_off: Duration::from_millis(20),
            graceful_shutdown: Duration::from_millis(50),
        })
        .spawn()
        .await
        .unwrap();
    let env = Env::with_mock(mock).await;
    // Not bootable: the mock stops at SystemHardwareInitializationComplete.
    let url = env
        .images
        .serve_bytes(
            "blank.iso",
            ferrofish_mock_bmc::iso9660::build_iso("BLANK", &[("A.TXT", b"x".as_slice())]),
        )
        .await
        .unwrap()
        .to_string();
    env.enroll_all().await;
    let driver = env.driver("s11").with_policy(Policy {
        boot_timeout: Duration::from_millis(700),
        ..fast_policy()
    });
    let plan = FleetPlan {
        provide: true,
        deploy: Some(DeploySpec {
            image: url,
            network_data: None,
            boot_mode: None,
        }),
        ..FleetPlan::default()
    };
    let summary = Fleet::new(driver, MockConnector, plan).run().await.unwrap();
    let node = &summary.nodes[0];
    assert_eq!(node.state, ProvisionState::DeployFailed, "{summary:#?}");
    let error = node.last_error.clone().unwrap();
    assert!(error.contains("timed out"), "{error}");
    assert!(error.contains("BootProgress"), "{error}");
    let view = env.mock.node(0).view();
    assert!(view.inserted_media.is_empty(), "ejected: {view:?}");
    // `ForceOff` was sent (the clean-up does not wait for it to finish).
    assert!(
        matches!(
            view.power,
            ferrofish_mock_bmc::PowerState::Off | ferrofish_mock_bmc::PowerState::PoweringOff
        ),
        "{view:?}"
    );
    let writes = writes(&env.mock, 0);
    let last_reset = writes
        .iter()
        .rposition(|w| w.contains("ComputerSystem.Reset"))
        .unwrap();
    assert!(
        writes[last_reset..]
            .iter()
            .any(|w| w.contains("EjectMedia")),
        "eject after the power-off: {writes:#?}"
    );
}

/// 2 and 3: verification with refused credentials, or with nobody listening, goes back to
/// `enroll` with `last_error` saying why (and, for 3, where).
#[tokio::test]
async fn s02_s03_verify_failures_return_to_enroll_with_the_reason() {
    let env = Env::start(1, Personality::Generic).await;
    env.enroll_all().await;
    let driver = env.driver("s02");
    let wrong =
        crate::provision_support::port_at(&env.mock.node(0).url(), "not-the-password").await;
    let mut node = driver.claim("node-0", Timestamp::now()).await.unwrap();
    driver
        .send(&mut node, Event::Manage, Timestamp::now())
        .await
        .unwrap();
    let end = drive_until(&driver, &mut node, &wrong, |_| false).await;
    assert!(matches!(end, Advance::Failed { .. }), "{end:?}");
    assert_eq!(node.state, ProvisionState::Enroll);
    let error = node.last_error.clone().unwrap();
    assert!(
        error.contains("401") || error.to_lowercase().contains("auth"),
        "{error}"
    );
    assert!(
        !error.contains("not-the-password"),
        "no secret in the error: {error}"
    );
    assert!(writes(&env.mock, 0).is_empty());

    // 3: the BMC does not answer (connections reset while it "reboots").
    let port = port(&env.mock, 0).await;
    env.mock
        .node(0)
        .faults()
        .reboot_bmc(Duration::from_secs(30));
    driver
        .send(&mut node, Event::Manage, Timestamp::now())
        .await
        .unwrap();
    let end = drive_until(&driver, &mut node, &port, |_| false).await;
    assert!(matches!(end, Advance::Failed { .. }), "{end:?}");
    assert_eq!(node.state, ProvisionState::Enroll);
    let error = node.last_error.clone().unwrap();
    let address = env.mock.node(0).url();
    assert!(
        error.contains(address.trim_start_matches("http://")),
        "names the address: {error}"
    );
    env.mock.node(0).faults().clear();
}
