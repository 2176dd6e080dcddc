//! Reading, validating, diffing and staging against the mock BMC, on every personality.
//! Everything stays on 127.0.0.1; request counts come from the mock's own log.

use std::time::Duration;

use ferrofish_bios::{AttributeValue, Bios, BiosError, ProblemKind, Profile};
use ferrofish_mock_bmc::{DEFAULT_PASSWORD, DEFAULT_USER, MockBmc, MockBmcHandle, Personality};
use ferrofish_redfish_core::{RedfishClient, SecretString, System};

async fn start(personality: Personality) -> (MockBmcHandle, RedfishClient, System) {
    let mock = MockBmc::builder()
        .personality(personality)
        .spawn()
        .await
        .expect("mock");
    let client = RedfishClient::builder(mock.node(0).url())
        .credentials(DEFAULT_USER, SecretString::from(DEFAULT_PASSWORD))
        .request_timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let system = client.systems().await.expect("systems").remove(0);
    (mock, client, system)
}

fn patches(mock: &MockBmcHandle) -> Vec<ferrofish_mock_bmc::LogEntry> {
    mock.node(0)
        .requests()
        .into_iter()
        .filter(|e| e.method == "PATCH")
        .collect()
}

#[tokio::test]
async fn every_personality_reads_validates_diffs_and_stages() {
    for personality in Personality::ALL {
        let (mock, client, system) = start(personality).await;
        let bios = Bios::new(&system);
        let snapshot = bios.read().await.expect("read");
        let registry = snapshot.registry.registry.clone().unwrap_or_else(|| {
            panic!(
                "{personality:?}: registry missing: {:?}",
                snapshot.registry.note
            )
        });
        assert_eq!(registry.attributes.len(), 65, "{personality:?}");
        assert_eq!(snapshot.registry.note, None, "{personality:?}");
        assert_eq!(
            snapshot.value("BootMode").map(|(_, v)| v),
            Some(&AttributeValue::Enum("Uefi".into())),
            "{personality:?}"
        );
        assert!(
            snapshot.value("SetupPassword").is_none(),
            "write-only passwords read as null"
        );

        // Every kind of problem at once, and nothing sent.
        let bad = Profile::new()
            .set("ProcVirtualisation", "Enabled")
            .set("SystemBiosVersion", "9")
            .set("BootSeqRetryCount", 11)
            .set("ProcCoreDisable", 3)
            .set("OemHostname", "bad_name!")
            .set("BootMode", "Legacy")
            .set("MemPatrolScrub", "maybe")
            .set("ProcVirtualization", "Disabled")
            .set("SriovGlobalEnable", "Enabled");
        let err = bios.stage(&bad).await.expect_err("refused");
        let kinds: Vec<&ProblemKind> = err.problems().iter().map(|p| &p.kind).collect();
        assert_eq!(kinds.len(), 8, "{personality:?}: {err}");
        assert!(
            matches!(kinds[0], ProblemKind::UnknownName { suggestions } if suggestions[0].starts_with("ProcVirtualization"))
        );
        assert!(
            kinds.contains(&&ProblemKind::ReadOnly {
                by_dependency: true
            }),
            "{err}"
        );
        assert!(matches!(err, BiosError::Invalid { .. }));
        assert!(
            patches(&mock).is_empty(),
            "{personality:?}: an invalid profile sends nothing"
        );

        stage_and_restage(&mock, &bios, &snapshot, personality).await;

        // The registry was read once for this client.
        let registry_gets = mock
            .node(0)
            .requests()
            .iter()
            .filter(|e| {
                e.method == "GET"
                    && std::path::Path::new(&e.path)
                        .extension()
                        .is_some_and(|x| x.eq_ignore_ascii_case("json"))
            })
            .count();
        assert_eq!(registry_gets, 1, "{personality:?}");
        client.close().await.ok();
    }
}

async fn stage_and_restage(
    mock: &MockBmcHandle,
    bios: &Bios,
    snapshot: &ferrofish_bios::BiosSnapshot,
    personality: Personality,
) {
    // Current values: an empty diff sends nothing and says so.
    let same = Profile::parse("BootMode=Uefi\nBootSeqRetryCount=3\nhyper-threading=on").unwrap();
    let outcome = bios.stage(&same).await.expect("stage no-op");
    assert!(!outcome.sent);
    assert!(
        outcome
            .plan
            .diff
            .to_string()
            .starts_with("nothing to change")
    );
    assert!(
        patches(mock).is_empty(),
        "{personality:?}: an empty diff sends no PATCH"
    );

    // One real change, staged with one PATCH carrying If-Match. AMI's `Bios/SD` refuses its
    // own tag (quirk `bios_settings_if_match_star`): there the tag's 412 comes first, then
    // `If-Match: *` is accepted.
    let change = Profile::parse(r#"[{"name": "BootSeqRetryCount", "value": 5}, {"name": "hyper-threading", "value": "off"}]"#).unwrap();
    let outcome = bios.stage(&change).await.expect("stage");
    assert!(outcome.sent, "{personality:?}");
    let mut sent = patches(mock);
    let refused = sent.iter().filter(|e| e.status == 412).count();
    let expected_refusals = usize::from(personality == Personality::Ami);
    assert_eq!(refused, expected_refusals, "{personality:?}: {sent:?}");
    sent.retain(|e| e.status != 412);
    assert_eq!(sent.len(), 1, "{personality:?}");
    assert_eq!(sent[0].path, snapshot.settings.url.path());
    assert!(
        sent[0]
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("if-match")),
        "{personality:?}: If-Match"
    );
    let body: serde_json::Value = serde_json::from_str(&sent[0].body).unwrap();
    // Supermicro spells every name with a `#XXXX` suffix.
    let sent_value = |name: &str| {
        body["Attributes"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(k, _)| ferrofish_bios::value::unsuffixed(k) == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(sent_value("BootSeqRetryCount"), Some(5.into()));
    assert_eq!(sent_value("ProcHyperthreading"), Some("Disabled".into()));
    // Quirk `settings_apply_time_refused` (Lenovo): advertised but never sent.
    let advertised = !snapshot.settings.supported_apply_times.is_empty()
        && !snapshot.quirks.settings_apply_time_refused;
    assert_eq!(
        body.get("@Redfish.SettingsApplyTime").is_some(),
        advertised,
        "{personality:?}: apply time only where supported"
    );
    assert_eq!(
        outcome.job.is_some(),
        personality == Personality::Dell,
        "{personality:?}: only the Dell PATCH schedules a job"
    );
    let view = mock.node(0).view();
    assert_eq!(
        view.bios_pending.get("BootSeqRetryCount"),
        Some(&serde_json::json!(5))
    );

    // Staging the same again: already pending, nothing sent (no second Dell job).
    let again = bios.stage(&change).await.expect("stage again");
    assert!(!again.sent, "{personality:?}");
    assert_eq!(again.plan.diff.already_pending.len(), 2, "{personality:?}");
    assert_eq!(patches(mock).len(), 1 + expected_refusals);
}

#[tokio::test]
async fn a_warm_read_costs_two_requests_and_a_stage_three() {
    let (_mock, client, system) = start(Personality::Generic).await;
    let bios = Bios::new(&system);
    bios.read().await.expect("cold read");
    client.reset_request_counts();
    bios.read().await.expect("warm read");
    assert_eq!(client.request_counts().total, 2, "GET Bios + GET settings");
    client.reset_request_counts();
    let outcome = bios
        .stage(&Profile::new().set("turbo", "disabled"))
        .await
        .expect("stage");
    assert!(outcome.sent);
    assert_eq!(client.request_counts().total, 3, "two GETs and the PATCH");
}

#[tokio::test]
async fn password_values_never_reach_the_error_or_debug() {
    let (mock, _client, system) = start(Personality::Generic).await;
    let bios = Bios::new(&system);
    let long = "p".repeat(40) + "-very-secret";
    let err = bios
        .stage(&Profile::new().set("SetupPassword", long.as_str()))
        .await
        .expect_err("too long");
    assert!(matches!(
        err.problems()[0].kind,
        ProblemKind::Length { length: 52, .. }
    ));
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(!shown.contains("very-secret"), "{shown}");
    }
    assert!(patches(&mock).is_empty());
    // A valid password is staged; the outcome shows it nowhere.
    let outcome = bios
        .stage(&Profile::new().set("SetupPassword", "fine-secret-1"))
        .await
        .expect("stage");
    assert!(outcome.sent);
    assert!(!format!("{outcome:?}").contains("fine-secret"));
}

fn quick() -> ferrofish_bios::ApplyOptions {
    ferrofish_bios::ApplyOptions {
        wait: ferrofish_redfish_core::TaskWait {
            timeout: Duration::from_secs(20),
            initial_delay: Duration::from_millis(50),
            max_delay: Duration::from_millis(200),
        },
        reset: true,
    }
}

#[tokio::test]
async fn every_personality_applies_verifies_and_factory_resets() {
    for personality in Personality::ALL {
        let (mock, _client, system) = start(personality).await;
        mock.node(0).set_power(true);
        let bios = Bios::new(&system);
        let staged = bios
            .stage(
                &Profile::parse("BootSeqRetryCount=6\nvirtualization=off\nAssetTag=rack-7")
                    .unwrap(),
            )
            .await
            .expect("stage");
        let mut events = Vec::new();
        let report = bios
            .apply(&staged, &quick(), &mut |e| events.push(e.clone()))
            .await
            .unwrap_or_else(|e| panic!("{personality:?}: {e}"));
        assert!(report.all_applied(), "{personality:?}: {report}");
        assert_eq!(report.attributes.len(), 3);
        assert_eq!(
            report.reset,
            Some(ferrofish_redfish_core::ResetType::ForceRestart)
        );
        assert!(matches!(
            events[0],
            ferrofish_bios::ApplyEvent::Resetting(_)
        ));
        if personality == Personality::Dell {
            assert!(
                events.iter().any(|e| matches!(e, ferrofish_bios::ApplyEvent::Job { state, .. } if state == "Completed")),
                "the Dell job was followed to its end: {events:?}"
            );
        }
        let view = mock.node(0).view();
        assert_eq!(
            view.bios_changed.get("BootSeqRetryCount"),
            Some(&serde_json::json!(6)),
            "{personality:?}"
        );
        assert!(
            view.bios_pending.is_empty(),
            "{personality:?}: {:?}",
            view.bios_pending
        );

        let reset = bios
            .factory_reset(&quick(), &mut |_| {})
            .await
            .unwrap_or_else(|e| panic!("{personality:?}: {e}"));
        assert!(reset.checked > 50, "{personality:?}: {}", reset.checked);
        assert!(
            mock.node(0).view().bios_changed.is_empty(),
            "{personality:?}"
        );
    }
}

#[tokio::test]
async fn accepted_but_never_applied_is_an_error_with_the_report() {
    let (_mock, _client, system) = start(Personality::Generic).await;
    let bios = Bios::new(&system);
    let staged = bios
        .stage(&Profile::new().set("BootSeqRetryCount", 2))
        .await
        .expect("stage");
    // Nobody resets the system: the values stay pending until the deadline.
    let mut options = quick();
    options.reset = false;
    options.wait.timeout = Duration::from_millis(600);
    let err = bios
        .apply(&staged, &options, &mut |_| {})
        .await
        .expect_err("never applied");
    let BiosError::NotApplied { report } = &err else {
        panic!("{err}")
    };
    assert_eq!(
        report.attributes[0].status,
        ferrofish_bios::AttributeStatus::StillPending
    );
    assert!(
        err.to_string().contains("BootSeqRetryCount: still pending"),
        "{err}"
    );
}

#[tokio::test]
async fn an_ironic_settings_list_file_is_staged() {
    let (mock, _client, system) = start(Personality::Dell).await;
    let path =
        std::env::temp_dir().join(format!("ferrofish-bios-ironic-{}.json", std::process::id()));
    std::fs::write(
        &path,
        r#"[{"name": "ProcTurboMode", "value": "Disabled"}, {"name": "SriovGlobalEnable", "value": "Enabled"}]"#,
    )
    .unwrap();
    let profile = Profile::read_file(&path).expect("profile");
    std::fs::remove_file(&path).ok();
    let outcome = Bios::new(&system).stage(&profile).await.expect("stage");
    assert_eq!(outcome.plan.diff.changes.len(), 2);
    let pending = mock.node(0).view().bios_pending;
    assert_eq!(
        pending.get("ProcTurboMode"),
        Some(&serde_json::json!("Disabled"))
    );
    assert_eq!(
        pending.get("SriovGlobalEnable"),
        Some(&serde_json::json!("Enabled"))
    );
    let missing = Profile::read_file(std::path::Path::new("/nonexistent/ferrofish.json"));
    assert!(
        matches!(missing, Err(BiosError::ProfileFormat { reason }) if reason.contains("/nonexistent/ferrofish.json"))
    );
}
