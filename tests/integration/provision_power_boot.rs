//! Acceptance scenarios 3, 6, 7 and 9 of ironic-flows §5 against the mock's switches: a
//! transient 503 with `Retry-After` retried by redfish-core's `RetryPolicy` inside a verify;
//! iDRAC10's transient 409 on power-on retried by the quirk `idrac10_power_on_conflict` (and
//! not on iDRAC9); a `Continuous` boot override the BMC refuses, set once and remembered, and
//! the remembered device re-applied before the power-on of a later reboot; stale media
//! ejected before the insert.

use std::time::{Duration, Instant};

use ferrofish::provision::{
    Advance, BmcPort, BootDevice, Event, MediaSlot, Node, Phase, ProvisionState, RememberedBoot,
    StateStore, Timestamp,
};
use ferrofish::redfish::RetryPolicy;
use ferrofish::{Bmc, BmcOptions, Credentials, PowerAction, SecretString};
use ferrofish_mock_bmc::{
    DEFAULT_PASSWORD, DEFAULT_USER, MockBmc, MockBmcHandle, Personality, SystemOptionsChange,
};
use serde_json::{Value, json};

use crate::provision_support::{Env, drive_until, manageable, port};

/// A `Bmc` on mock node `i` at a Metal3 address, with `retry`.
fn bmc(mock: &MockBmcHandle, i: usize, scheme: &str, retry: RetryPolicy) -> Bmc {
    let mut options = BmcOptions::default();
    options.redfish_retry = retry;
    options.request_timeout = Duration::from_secs(5);
    Bmc::connect(
        format!("{scheme}+http://127.0.0.1:{}", mock.node(i).addr().port()),
        Credentials::new(DEFAULT_USER, SecretString::from(DEFAULT_PASSWORD)),
        options,
    )
    .expect("a valid address")
}

/// Retries quickly (the mock's faults, not the wall clock, are under test).
fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        max_retries: 4,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_secs(2),
    }
}

/// `(ResetType, status)` of each reset the mock received on node 0, in order.
fn resets(mock: &MockBmcHandle) -> Vec<(String, u16)> {
    mock.node(0)
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("ComputerSystem.Reset"))
        .map(|r| {
            let body: Value = serde_json::from_str(&r.body).unwrap_or_default();
            (
                body["ResetType"].as_str().unwrap_or("?").to_owned(),
                r.status,
            )
        })
        .collect()
}

/// Resets and boot-override requests of node 0, in order: `ForceOff`, `On`, `Boot Cd Once`.
fn power_and_boot_writes(mock: &MockBmcHandle) -> Vec<String> {
    mock.node(0)
        .requests()
        .into_iter()
        .filter_map(|r| {
            let body: Value = serde_json::from_str(&r.body).unwrap_or_default();
            if r.method == "POST" && r.path.ends_with("ComputerSystem.Reset") {
                Some(body["ResetType"].as_str().unwrap_or("?").to_owned())
            } else if r.method == "PATCH" && body.get("Boot").is_some() {
                Some(format!(
                    "Boot {} {} ({})",
                    body["Boot"]["BootSourceOverrideTarget"]
                        .as_str()
                        .unwrap_or("?"),
                    body["Boot"]["BootSourceOverrideEnabled"]
                        .as_str()
                        .unwrap_or("?"),
                    r.status
                ))
            } else {
                None
            }
        })
        .collect()
}

async fn clean<P: BmcPort>(
    driver: &ferrofish::provision::Driver<ferrofish::provision::SqliteStore>,
    node: &mut Node,
    port: &P,
    steps: Value,
) -> Advance {
    driver
        .send(
            node,
            Event::clean_from_json(&steps).expect("steps"),
            Timestamp::now(),
        )
        .await
        .expect("clean accepted");
    drive_until(driver, node, port, |_| false).await
}

/// 3: a 503 with `Retry-After: 1` on the verify's reads is retried by redfish-core's
/// `RetryPolicy` (honouring the header) and the node reaches `manageable`; with the policy
/// turned off the same fault fails the verify, so the retry is the policy's.
#[tokio::test]
async fn s03_a_transient_503_with_retry_after_is_retried_by_the_policy_and_verify_succeeds() {
    for (retry, succeeds) in [(quick_retries(), true), (RetryPolicy::none(), false)] {
        let env = Env::start(1, Personality::Generic).await;
        env.enroll_all().await;
        let driver = env.driver("s03");
        let port = bmc(&env.mock, 0, "redfish", retry);
        // Logged in first, so the faults hit the verify's reads (a login POST is never
        // retried on a 503: nothing says the BMC did not act on it).
        port.power_state().await.expect("login and a first read");
        let mut node = driver
            .claim("node-0", Timestamp::now())
            .await
            .expect("claim");
        driver
            .send(&mut node, Event::Manage, Timestamp::now())
            .await
            .expect("manage");
        env.mock.node(0).clear_requests();
        env.mock.node(0).faults().fail_next(2, 503, Some(1));
        let started = Instant::now();
        let end = drive_until(&driver, &mut node, &port, |_| false).await;
        let answered: Vec<u16> = env
            .mock
            .node(0)
            .requests()
            .iter()
            .map(|r| r.status)
            .collect();
        if succeeds {
            assert_eq!(end, Advance::Done, "{node:#?}");
            assert_eq!(node.state, ProvisionState::Manageable);
            assert_eq!(node.last_error, None);
            assert_eq!(&answered[..2], [503, 503], "{answered:?}");
            assert!(answered[2..].iter().all(|s| *s == 200), "{answered:?}");
            assert!(
                started.elapsed() >= Duration::from_millis(1900),
                "Retry-After: 1 honoured twice, not the 20 ms backoff: {:?}",
                started.elapsed()
            );
        } else {
            assert!(matches!(end, Advance::Failed { .. }), "{end:?}");
            assert_eq!(node.state, ProvisionState::Enroll);
            let error = node.last_error.clone().unwrap_or_default();
            assert!(error.contains("503"), "{error}");
            assert_eq!(answered, [503], "one attempt without retries");
        }
    }
}

/// 6: an iDRAC10 (firmware 1.x, a 17G Manager) answers the first two `On` resets with 409
/// `ActionParameterValueConflict`: the quirk `idrac10_power_on_conflict` retries the POST
/// with the `RetryPolicy`, the third is taken and the `power_on` step completes. On an
/// iDRAC9 (6.x) the same 409 is not retried: the step fails with the BMC's error, and a
/// direct `Bmc::power` gets a typed 409.
#[tokio::test]
async fn s06_a_transient_409_on_power_on_is_retried_on_idrac10_only() {
    let mock = MockBmc::builder()
        .personality(Personality::Dell)
        .power_on_conflicts(2)
        .manager_identity("1.20.25.00", "17G Monolithic")
        .spawn()
        .await
        .expect("mock");
    let env = Env::with_mock(mock).await;
    let driver = env.driver("s06");
    let port = bmc(&env.mock, 0, "idrac-redfish", quick_retries());
    let mut node = manageable(&env, &driver, &port).await;
    env.mock.node(0).clear_requests();
    let end = clean(&driver, &mut node, &port, json!([{"step": "power_on"}])).await;
    assert_eq!(end, Advance::Done, "{node:#?}");
    assert_eq!(node.state, ProvisionState::Manageable);
    assert_eq!(node.power_state.as_deref(), Some("on"));
    assert_eq!(
        resets(&env.mock),
        [
            ("On".to_owned(), 409),
            ("On".to_owned(), 409),
            ("On".to_owned(), 204)
        ],
        "two refused, the third taken"
    );
    assert_eq!(env.mock.node(0).system_options().power_on_conflicts, 0);

    // iDRAC9: the quirk is off, the 409 is final.
    let mock = MockBmc::builder()
        .personality(Personality::Dell)
        .power_on_conflicts(1)
        .spawn()
        .await
        .expect("mock");
    let env = Env::with_mock(mock).await;
    let driver = env.driver("s06-idrac9");
    let port = bmc(&env.mock, 0, "idrac-redfish", quick_retries());
    let mut node = manageable(&env, &driver, &port).await;
    env.mock.node(0).clear_requests();
    let end = clean(&driver, &mut node, &port, json!([{"step": "power_on"}])).await;
    assert!(matches!(end, Advance::Failed { .. }), "{end:?}");
    assert_eq!(node.state, ProvisionState::CleanFailed);
    assert!(node.maintenance);
    let error = node.last_error.clone().unwrap_or_default();
    assert!(error.contains("409"), "{error}");
    assert!(
        error.contains("powered off a moment ago"),
        "the BMC's words: {error}"
    );
    assert_eq!(resets(&env.mock), [("On".to_owned(), 409)], "never retried");
    env.mock.node(0).set_system_options(&SystemOptionsChange {
        power_on_conflicts: Some(1),
        ..SystemOptionsChange::default()
    });
    let err = port.power(PowerAction::On).await.unwrap_err();
    assert_eq!(err.status(), Some(409), "{err}");
    assert!(
        err.redfish()
            .is_some_and(ferrofish::redfish::Error::is_conflict),
        "{err:?}"
    );
}

/// 7, first half: the BMC refuses `Continuous` (400 with its message), so the deploy's
/// persistent boot from disk is set once instead, on the next call, and remembered in the
/// node document.
#[tokio::test]
async fn s07_a_refused_continuous_override_is_set_once_and_remembered() {
    let mock = MockBmc::builder()
        .continuous_boot_refused(true)
        .spawn()
        .await
        .expect("mock");
    let env = Env::with_mock(mock).await;
    let driver = env.driver("s07");
    let port = port(&env.mock, 0).await;
    let mut node = manageable(&env, &driver, &port).await;
    driver
        .send(&mut node, Event::Provide, Timestamp::now())
        .await
        .unwrap();
    drive_until(&driver, &mut node, &port, |_| false).await;
    env.mock.node(0).clear_requests();
    driver
        .send(&mut node, Event::Deploy(env.deploy()), Timestamp::now())
        .await
        .unwrap();
    let end = drive_until(&driver, &mut node, &port, |_| false).await;
    assert_eq!(end, Advance::Done, "{node:#?}");
    assert_eq!(node.state, ProvisionState::Active);
    assert_eq!(
        power_and_boot_writes(&env.mock),
        [
            "Boot Cd Once (200)",
            "On",
            "Boot Hdd Continuous (400)",
            "Boot Hdd Once (200)"
        ],
        "the refused persistent form, then once"
    );
    assert_eq!(
        node.remembered_boot,
        Some(RememberedBoot {
            device: BootDevice::Disk,
            mode: None
        })
    );
    let view = env.mock.node(0).view();
    assert_eq!(
        (view.boot_target.as_str(), view.boot_enabled.as_str()),
        ("Hdd", "Once")
    );
    // Persisted: the stored document remembers it too.
    let stored = env.store.load("node-0").await.unwrap().unwrap();
    assert_eq!(stored.remembered_boot, node.remembered_boot);
}

/// 7: a node that remembers a one-time CD override (the BMC refused `Continuous`): a reboot
/// of the powered-on node is `ForceOff`, wait off, the override again (`Cd`, `Once`), `On`;
/// again at the next reboot, since the boot consumed it; a `power_on` step re-applies it
/// too, and sends none when the BMC still shows it.
#[tokio::test]
async fn s07_a_reboot_re_applies_the_remembered_one_time_device_before_power_on() {
    let env = Env::start(1, Personality::Generic).await;
    let driver = env.driver("s07-reboot");
    let port = port(&env.mock, 0).await;
    let mut node = manageable(&env, &driver, &port).await;
    assert_eq!(
        clean(&driver, &mut node, &port, json!([{"step": "power_on"}])).await,
        Advance::Done
    );
    // What the deploy would have left after the BMC refused `Continuous` for the CD.
    node.remembered_boot = Some(RememberedBoot {
        device: BootDevice::Cd,
        mode: None,
    });
    for round in 0..2 {
        env.mock.node(0).clear_requests();
        let boots = env.mock.node(0).view().boot_count;
        let end = clean(&driver, &mut node, &port, json!([{"step": "reboot"}])).await;
        assert_eq!(end, Advance::Done, "{node:#?}");
        assert_eq!(
            power_and_boot_writes(&env.mock),
            ["ForceOff", "Boot Cd Once (200)", "On"],
            "round {round}: off, the override, then on"
        );
        assert_eq!(env.mock.node(0).view().boot_count, boots + 1);
        let view = env.mock.node(0).view();
        assert_eq!(view.boot_enabled, "Disabled", "the boot consumed it");
        assert!(node.remembered_boot.is_some(), "still remembered");
    }
    // power_off then power_on: the override again before the On.
    env.mock.node(0).clear_requests();
    let end = clean(
        &driver,
        &mut node,
        &port,
        json!([{"step": "power_off"}, {"step": "power_on"}]),
    )
    .await;
    assert_eq!(end, Advance::Done);
    assert_eq!(
        power_and_boot_writes(&env.mock),
        ["ForceOff", "Boot Cd Once (200)", "On"]
    );
    // Still armed on the BMC (set by someone, not consumed): nothing but the power.
    clean(&driver, &mut node, &port, json!([{"step": "power_off"}])).await;
    port.set_boot_override(BootDevice::Cd, false, None)
        .await
        .expect("armed");
    env.mock.node(0).clear_requests();
    clean(&driver, &mut node, &port, json!([{"step": "power_on"}])).await;
    assert_eq!(power_and_boot_writes(&env.mock), ["On"]);
}

/// 9: the CD slot already shows the very image the deploy is about to insert: the deploy
/// still ejects it, then inserts, and a read afterwards shows the image inserted.
#[tokio::test]
async fn s09_stale_media_with_the_same_url_is_ejected_then_inserted() {
    let env = Env::start(1, Personality::Generic).await;
    let driver = env.driver("s09");
    let port = port(&env.mock, 0).await;
    let mut node = manageable(&env, &driver, &port).await;
    driver
        .send(&mut node, Event::Provide, Timestamp::now())
        .await
        .unwrap();
    drive_until(&driver, &mut node, &port, |_| false).await;
    port.insert(&env.image_url, MediaSlot::Cd)
        .await
        .expect("stale media");
    let stale = env.mock.node(0).view().inserted_media;
    assert!(
        stale.iter().any(|(_, image)| *image == env.image_url),
        "{stale:?}"
    );
    env.mock.node(0).clear_requests();
    driver
        .send(&mut node, Event::Deploy(env.deploy()), Timestamp::now())
        .await
        .unwrap();
    drive_until(&driver, &mut node, &port, |n| {
        n.phase() == Some(Phase::DeployBootOnce)
    })
    .await;
    let media: Vec<String> = env
        .mock
        .node(0)
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.contains("VirtualMedia"))
        .map(|r| {
            let action = r.path.rsplit('.').next().unwrap_or_default().to_owned();
            let body: Value = serde_json::from_str(&r.body).unwrap_or_default();
            match body["Image"].as_str() {
                Some(image) if image == env.image_url => format!("{action} image"),
                Some(_) => format!("{action} other"),
                None => action,
            }
        })
        .collect();
    let first_eject = media.iter().position(|m| m == "EjectMedia");
    let insert = media.iter().position(|m| m == "InsertMedia image");
    assert!(
        matches!((first_eject, insert), (Some(e), Some(i)) if e < i),
        "ejected before the insert, never trusting the stale report: {media:?}"
    );
    let view = env.mock.node(0).view();
    assert!(
        view.inserted_media
            .iter()
            .any(|(_, image)| *image == env.image_url),
        "inserted afterwards: {view:?}"
    );
}
