use ferrofish_redfish_core::oem::dell::DellJob;
use secrecy::SecretString;

use super::*;
use crate::value::AttributeValue;

fn change(name: &str, value: AttributeValue) -> Change {
    Change {
        name: name.into(),
        requested_as: name.into(),
        current: None,
        pending: None,
        value,
    }
}

fn attrs(pairs: &[(&str, &str)]) -> Attributes {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), AttributeValue::Enum((*v).to_owned())))
        .collect()
}

#[test]
fn each_outcome_is_told_apart() {
    let e = |s: &str| AttributeValue::Enum(s.to_owned());
    let changes = vec![
        change("Applied", e("On")),
        change("Pending", e("On")),
        change("Refused", e("On")),
        change("Dropped", e("On")),
        change("Secret", AttributeValue::Password(SecretString::from("x"))),
    ];
    let current = attrs(&[
        ("Applied", "On"),
        ("Pending", "Off"),
        ("Refused", "Off"),
        ("Dropped", "Off"),
    ]);
    let pending = attrs(&[("Pending", "On")]);
    let messages: Vec<RedfishMessage> = serde_json::from_value(serde_json::json!([
        {"MessageId": "Base.1.8.Success", "Message": "Refused fine"},
        {"MessageId": "Base.1.8.PropertyValueNotInList", "Message": "The value On for Refused is not allowed.", "MessageArgs": ["On", "Refused"]}
    ]))
    .unwrap();
    let out = verify(&changes, &current, &pending, &messages, None, false);
    let statuses: Vec<&AttributeStatus> = out.iter().map(|o| &o.status).collect();
    assert_eq!(statuses[0], &AttributeStatus::Applied);
    assert_eq!(statuses[1], &AttributeStatus::StillPending);
    assert!(
        matches!(statuses[2], AttributeStatus::Rejected { message_id: Some(id), .. } if id.ends_with("PropertyValueNotInList"))
    );
    assert_eq!(statuses[3], &AttributeStatus::NotApplied);
    assert_eq!(statuses[4], &AttributeStatus::Unverifiable);
    let report = ApplyReport {
        attributes: out,
        reset: None,
        job: None,
    };
    assert!(!report.all_applied());
    assert!(
        report
            .to_string()
            .contains("Refused: rejected (Base.1.8.PropertyValueNotInList")
    );
}

#[test]
fn a_failed_job_rejects_what_no_message_names() {
    let job = serde_json::json!({"JobState": "Failed", "Message": "Invalid attribute value.", "MessageId": "SYS011"});
    let end = JobEnd::Finished(DellJob::from_body(&job));
    let message = end.failure();
    assert!(message.is_some());
    let out = verify(
        &[change("A", AttributeValue::Enum("On".into()))],
        &attrs(&[("A", "Off")]),
        &Attributes::new(),
        &[],
        message.as_ref(),
        false,
    );
    assert!(
        matches!(&out[0].status, AttributeStatus::Rejected { message_id: Some(id), .. } if id == "SYS011")
    );
    let scheduled = DellJob::from_body(&serde_json::json!({"JobState": "Scheduled"}));
    assert!(!scheduled.state.is_terminal() && !scheduled.state.is_failure());
}

#[test]
fn the_reset_that_applies() {
    assert_eq!(reset_for(Some(&PowerState::Off)), ResetType::On);
    assert_eq!(reset_for(Some(&PowerState::On)), ResetType::ForceRestart);
    assert_eq!(reset_for(None), ResetType::ForceRestart);
}

#[test]
fn scrub_removes_passwords_from_bmc_messages() {
    let mut m = RedfishMessage {
        message: Some("value hunter22 refused for SetupPassword".into()),
        message_args: vec!["hunter22".into(), "SetupPassword".into()],
        ..RedfishMessage::default()
    };
    scrub(&mut m, &["hunter22".to_owned()]);
    assert!(!format!("{m:?}").contains("hunter22"));
    assert_eq!(m.message_args[1], "SetupPassword");
}

#[test]
fn a_value_shown_current_but_still_pending_is_not_applied_where_pending_holds_only_changes() {
    let c = [change(
        "ProcTurboMode",
        AttributeValue::Enum("Disabled".into()),
    )];
    let shown = attrs(&[("ProcTurboMode", "Disabled")]);
    // iDRAC: Bios already shows the value, the job has not run.
    let out = verify(&c, &shown, &shown, &[], None, false);
    assert_eq!(out[0].status, AttributeStatus::StillPending);
    // iLO: every attribute is listed as pending; presence means nothing.
    let out = verify(&c, &shown, &shown, &[], None, true);
    assert_eq!(out[0].status, AttributeStatus::Applied);
    // iLO: a pending value that differs from current and equals the request is still pending.
    let out = verify(
        &c,
        &attrs(&[("ProcTurboMode", "Enabled")]),
        &shown,
        &[],
        None,
        true,
    );
    assert_eq!(out[0].status, AttributeStatus::StillPending);
}
