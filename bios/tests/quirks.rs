//! The client against each BIOS quirk the mock reproduces: the branch that copes runs, and
//! where the client has a switch for it, the failure mode with the switch off.

use std::time::Duration;

use ferrofish_bios::{
    ApplyOptions, AttributeStatus, AttributeValue, Bios, BiosError, BiosQuirksOverride,
    ProblemKind, Profile,
};
use ferrofish_mock_bmc::{
    DEFAULT_PASSWORD, DEFAULT_USER, MockBmc, MockBmcBuilder, MockBmcHandle, Personality,
};
use ferrofish_redfish_core::{QuirksOverride, RedfishClient, SecretString, System, TaskWait};

async fn start(builder: MockBmcBuilder, overrides: QuirksOverride) -> (MockBmcHandle, System) {
    let mock = builder.spawn().await.expect("mock");
    let client = RedfishClient::builder(mock.node(0).url())
        .credentials(DEFAULT_USER, SecretString::from(DEFAULT_PASSWORD))
        .quirks_override(overrides)
        .build()
        .expect("client");
    let system = client.systems().await.expect("systems").remove(0);
    mock.node(0).set_power(true);
    (mock, system)
}

fn quick(timeout: Duration) -> ApplyOptions {
    ApplyOptions {
        wait: TaskWait {
            timeout,
            initial_delay: Duration::from_millis(50),
            max_delay: Duration::from_millis(200),
        },
        reset: true,
    }
}

fn patches(mock: &MockBmcHandle) -> Vec<ferrofish_mock_bmc::LogEntry> {
    mock.node(0)
        .requests()
        .into_iter()
        .filter(|e| e.method == "PATCH")
        .collect()
}

#[tokio::test]
async fn bios_rejected_at_apply_is_reported_with_the_bmc_message_id_and_text() {
    for personality in Personality::ALL {
        let (_mock, system) = start(
            MockBmc::builder()
                .personality(personality)
                .bios_rejected_at_apply(["ProcTurboMode"]),
            QuirksOverride::default(),
        )
        .await;
        let bios = Bios::new(&system);
        let staged = bios
            .stage(&Profile::parse("turbo=off\nBootSeqRetryCount=4").unwrap())
            .await
            .expect("the PATCH is accepted");
        let err = bios
            .apply(&staged, &quick(Duration::from_secs(20)), &mut |_| {})
            .await
            .expect_err("one attribute refused");
        let BiosError::NotApplied { report } = &err else {
            panic!("{personality:?}: {err}")
        };
        let status = |prefix: &str| {
            report
                .attributes
                .iter()
                .find(|a| a.name.starts_with(prefix))
                .map_or_else(|| panic!("{personality:?}: {report}"), |a| a.status.clone())
        };
        assert_eq!(status("BootSeqRetryCount"), AttributeStatus::Applied);
        let AttributeStatus::Rejected {
            message_id,
            message,
        } = status("ProcTurboMode")
        else {
            panic!("{personality:?}: {report}")
        };
        assert_eq!(
            message_id.as_deref(),
            Some("Base.1.18.PropertyValueNotInList")
        );
        assert!(
            message
                .as_deref()
                .is_some_and(|m| m.contains("ProcTurboMode")),
            "{message:?}"
        );
        assert!(err.to_string().contains("PropertyValueNotInList"), "{err}");
    }
}

#[tokio::test]
async fn bios_never_applies_is_accepted_but_not_applied() {
    for personality in [Personality::Generic, Personality::Dell, Personality::Hpe] {
        let (mock, system) = start(
            MockBmc::builder()
                .personality(personality)
                .bios_never_applies(true),
            QuirksOverride::default(),
        )
        .await;
        let bios = Bios::new(&system);
        let staged = bios
            .stage(&Profile::new().set("BootSeqRetryCount", 7))
            .await
            .expect("stage");
        let err = bios
            .apply(&staged, &quick(Duration::from_millis(1500)), &mut |_| {})
            .await
            .expect_err("never applied");
        let BiosError::NotApplied { report } = &err else {
            panic!("{personality:?}: {err}")
        };
        assert!(report.reset.is_some(), "the reset was issued");
        assert_eq!(
            report.attributes[0].status,
            AttributeStatus::StillPending,
            "{personality:?}: {report}"
        );
        assert_eq!(
            mock.node(0).view().bios_pending.get("BootSeqRetryCount"),
            Some(&serde_json::json!(7))
        );
    }
}

#[tokio::test]
async fn bios_suffixed_names_map_clean_and_portable_names_both_ways() {
    let (mock, system) = start(
        MockBmc::builder().personality(Personality::Supermicro),
        QuirksOverride::default(),
    )
    .await;
    let bios = Bios::new(&system);
    let snapshot = bios.read().await.expect("read");
    // Reading: a clean name finds the suffixed attribute.
    let (wire, value) = snapshot.value("BootSeqRetryCount").expect("found");
    assert!(wire.starts_with("BootSeqRetryCount#"), "{wire}");
    assert_eq!(value, &AttributeValue::Integer(3));
    let (turbo, _) = snapshot.value("ProcTurboMode").unwrap();
    let turbo = turbo.to_owned();
    // Writing: clean, portable and suffixed vendor names all go out suffixed.
    let profile = Profile::new()
        .set("BootSeqRetryCount", 5)
        .set("hyper-threading", "off")
        .set(turbo.as_str(), "Disabled");
    let staged = bios.stage(&profile).await.expect("stage");
    let sent = patches(&mock);
    assert_eq!(sent.len(), 1);
    let body: serde_json::Value = serde_json::from_str(&sent[0].body).unwrap();
    let keys: Vec<&String> = body["Attributes"].as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 3);
    assert!(keys.iter().all(|k| k.contains('#')), "{keys:?}");
    let requested: Vec<&str> = staged
        .plan
        .diff
        .changes
        .iter()
        .map(|c| c.requested_as.as_str())
        .collect();
    assert!(requested.contains(&"BootSeqRetryCount") && requested.contains(&"hyper-threading"));
    let report = bios
        .apply(&staged, &quick(Duration::from_secs(20)), &mut |_| {})
        .await
        .expect("applied");
    assert!(report.all_applied(), "{report}");
    assert_eq!(
        mock.node(0).view().bios_changed.get("BootSeqRetryCount"),
        Some(&serde_json::json!(5))
    );
    // An unknown clean name is still refused with suggestions in the BMC's spelling.
    let err = bios
        .stage(&Profile::new().set("BootSeqRetryCnt", 5))
        .await
        .expect_err("unknown");
    assert!(
        matches!(&err.problems()[0].kind, ProblemKind::UnknownName { suggestions } if suggestions[0].starts_with("BootSeqRetryCount#")),
        "{err}"
    );
}

#[tokio::test]
async fn bios_suffixed_names_switched_off_reads_plain_names() {
    let (_mock, system) = start(
        MockBmc::builder()
            .personality(Personality::Supermicro)
            .bios_suffixed_names(false),
        QuirksOverride::default(),
    )
    .await;
    let snapshot = Bios::new(&system).read().await.expect("read");
    assert_eq!(
        snapshot.value("BootSeqRetryCount").map(|(k, _)| k),
        Some("BootSeqRetryCount")
    );
    assert!(snapshot.current.keys().all(|k| !k.contains('#')));
}

#[tokio::test]
async fn bios_settings_if_match_star_is_sent_where_the_bmc_requires_if_match() {
    // The AMI switch of redfish-core (on for AMI by vendor; forced here, the mock wears the
    // generic personality).
    let (mock, system) = start(
        MockBmc::builder().bios_settings_if_match_star(true),
        QuirksOverride {
            if_match_required: Some(true),
            ..QuirksOverride::default()
        },
    )
    .await;
    let bios = Bios::new(&system);
    let staged = bios
        .stage(&Profile::new().set("BootSeqRetryCount", 5))
        .await
        .expect("stage");
    assert!(staged.sent);
    let sent = patches(&mock);
    let if_match = |e: &ferrofish_mock_bmc::LogEntry| {
        e.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("if-match"))
            .map(|(_, v)| v.clone())
    };
    let last = sent.last().unwrap();
    assert_eq!(if_match(last).as_deref(), Some("*"));
    assert_eq!(last.status, 204);
    assert!(
        sent[..sent.len() - 1].iter().all(|e| e.status == 412),
        "the BMC's own tag was tried first and refused: {sent:?}"
    );
    assert_eq!(
        mock.node(0).view().bios_pending.get("BootSeqRetryCount"),
        Some(&serde_json::json!(5))
    );
}

#[tokio::test]
async fn bios_settings_if_match_star_failure_mode_without_the_switch() {
    let (mock, system) = start(
        MockBmc::builder().bios_settings_if_match_star(true),
        QuirksOverride {
            if_match_required: Some(false),
            ..QuirksOverride::default()
        },
    )
    .await;
    let err = Bios::new(&system)
        .stage(&Profile::new().set("BootSeqRetryCount", 5))
        .await
        .expect_err("refused");
    assert!(matches!(err, BiosError::Redfish(_)), "{err:?}");
    assert!(err.to_string().contains("PreconditionRequired"), "{err}");
    let last = patches(&mock).pop().unwrap();
    assert_eq!(last.status, 428);
    assert!(
        mock.node(0).view().bios_pending.is_empty(),
        "nothing staged"
    );
}

/// The AMI personality (DGX H100) as it comes: `Bios/SD` takes `If-Match: *` only, and the
/// vendor's quirk `patch_requires_if_match` ends the sequence with `*`; with that quirk
/// switched off the sequence ends without `If-Match` and the BMC refuses it (428).
#[tokio::test]
async fn ami_bios_sd_is_staged_with_if_match_star_and_refused_without_the_quirk() {
    for (if_match_required, staged) in [(None, true), (Some(false), false)] {
        let (mock, system) = start(
            MockBmc::builder().personality(Personality::Ami),
            QuirksOverride {
                if_match_required,
                ..QuirksOverride::default()
            },
        )
        .await;
        let result = Bios::new(&system)
            .stage(&Profile::new().set("BootSeqRetryCount", 5))
            .await;
        assert_eq!(result.is_ok(), staged, "{if_match_required:?}: {result:?}");
        let last = patches(&mock).pop().unwrap();
        assert!(
            last.path.ends_with("/Systems/Self/Bios/SD"),
            "{}",
            last.path
        );
        assert_eq!(last.status, if staged { 204 } else { 428 });
        assert_eq!(
            mock.node(0)
                .view()
                .bios_pending
                .get("BootSeqRetryCount")
                .is_some(),
            staged
        );
    }
}

#[tokio::test]
async fn reset_bios_needs_body_factory_reset_posts_an_empty_object() {
    let (mock, system) = start(
        MockBmc::builder().reset_bios_needs_body(true),
        QuirksOverride::default(),
    )
    .await;
    let bios = Bios::new(&system);
    let staged = bios
        .stage(&Profile::new().set("BootSeqRetryCount", 5))
        .await
        .unwrap();
    bios.apply(&staged, &quick(Duration::from_secs(20)), &mut |_| {})
        .await
        .expect("applied");
    let report = bios
        .factory_reset(&quick(Duration::from_secs(20)), &mut |_| {})
        .await
        .expect("factory reset");
    assert!(report.not_default.is_empty() && report.checked > 50);
    let post = mock
        .node(0)
        .requests()
        .into_iter()
        .find(|e| e.method == "POST" && e.path.ends_with("Bios.ResetBios"))
        .expect("posted");
    assert_eq!(post.body, "{}");
    assert_eq!(post.status, 204);
    assert!(mock.node(0).view().bios_changed.is_empty());
}

/// Quirk `settings_apply_time_refused` on Lenovo, whose `Bios/Pending` advertises `OnReset`:
/// with the quirk (the vendor's default) no apply time is sent and the change stages; forced
/// off by the user (`BiosQuirksOverride`), the apply time is sent and refused with
/// `PropertyUnknown`, as the XCC does.
#[tokio::test]
async fn settings_apply_time_refused_on_and_off_on_lenovo() {
    let profile = Profile::new().set("BootSeqRetryCount", 7);
    let (mock, system) = start(
        MockBmc::builder().personality(Personality::Lenovo),
        QuirksOverride::default(),
    )
    .await;
    Bios::new(&system).stage(&profile).await.expect("stages");
    let sent = patches(&mock);
    assert_eq!(sent.len(), 1);
    assert!(
        !sent[0].body.contains("SettingsApplyTime"),
        "{}",
        sent[0].body
    );
    assert!(sent[0].status < 300);

    let (mock, system) = start(
        MockBmc::builder().personality(Personality::Lenovo),
        QuirksOverride::default(),
    )
    .await;
    let mut off = BiosQuirksOverride::default();
    off.settings_apply_time_refused = Some(false);
    let err = Bios::new(&system)
        .with_quirks_override(off)
        .stage(&profile)
        .await
        .expect_err("the XCC refuses the apply time");
    assert!(err.to_string().contains("PropertyUnknown"), "{err}");
    let sent = patches(&mock);
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].body.contains("SettingsApplyTime"),
        "{}",
        sent[0].body
    );
    assert_eq!(sent[0].status, 400);
}

/// Quirk `pending_lists_all_attributes` on HPE, whose settings object lists every writable
/// attribute: with the quirk the applied change is judged by value and the apply succeeds;
/// forced off, presence in pending is taken for "not applied yet" and the applied change is
/// wrongly reported still pending.
#[tokio::test]
async fn pending_lists_all_attributes_on_and_off_on_hpe() {
    let profile = Profile::new().set("BootSeqRetryCount", 7);
    let (_mock, system) = start(
        MockBmc::builder().personality(Personality::Hpe),
        QuirksOverride::default(),
    )
    .await;
    let bios = Bios::new(&system);
    let staged = bios.stage(&profile).await.expect("stage");
    let report = bios
        .apply(&staged, &quick(Duration::from_secs(20)), &mut |_| {})
        .await
        .expect("applied");
    assert_eq!(report.attributes[0].status, AttributeStatus::Applied);

    let (mock, system) = start(
        MockBmc::builder().personality(Personality::Hpe),
        QuirksOverride::default(),
    )
    .await;
    let mut off = BiosQuirksOverride::default();
    off.pending_lists_all_attributes = Some(false);
    let bios = Bios::new(&system).with_quirks_override(off);
    let staged = bios.stage(&profile).await.expect("stage");
    let err = bios
        .apply(&staged, &quick(Duration::from_millis(1500)), &mut |_| {})
        .await
        .expect_err("taken for not applied");
    let BiosError::NotApplied { report } = &err else {
        panic!("{err}")
    };
    assert_ne!(
        report.attributes[0].status,
        AttributeStatus::Applied,
        "{report}"
    );
    // It was applied all the same: the BMC's current value is the requested one.
    let now = Bios::new(&system).read().await.expect("read");
    assert_eq!(
        now.value("BootSeqRetryCount").map(|(_, v)| v.clone()),
        Some(AttributeValue::Integer(7))
    );
    drop(mock);
}
