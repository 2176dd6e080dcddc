//! Each `Quirks` switch of redfish-core against the mock BMC, on and off: with the vendor's
//! personality (or the mock switch that reproduces the deviation) the operation succeeds, and
//! with the same personality and the quirk switched off by the user (`QuirksOverride`) it fails
//! the way the real BMC does. `docs/quirks.md` ("On and off") names these tests, and the pairs
//! that live elsewhere (`tests/integration/vendors_vs_mock.rs`, `bios/tests`).

use std::time::Duration;

use ferrofish_mock_bmc::{
    DEFAULT_PASSWORD, DEFAULT_USER, LogEntry, MockBmc, MockBmcBuilder, MockBmcHandle, Personality,
    PowerDelays,
};
use ferrofish_redfish_core::{
    AuthMode, BootOverride, BootOverrideEnabled, BootSource, Error, PowerState, QuirksOverride,
    RedfishClient, ResetType, RetryPolicy, SecretString,
};
use serde_json::{Value, json};

const DELL_SYSTEM: &str = "/redfish/v1/Systems/System.Embedded.1";
const DELL_RESET: &str = "/redfish/v1/Systems/System.Embedded.1/Actions/ComputerSystem.Reset";
const HPE_RESET: &str = "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset";

async fn spawn(builder: MockBmcBuilder) -> MockBmcHandle {
    builder.spawn().await.expect("mock BMC")
}

fn mock(personality: Personality) -> MockBmcBuilder {
    MockBmc::builder()
        .personality(personality)
        .power_delays(PowerDelays {
            on: Duration::from_millis(10),
            force_off: Duration::from_millis(10),
            graceful_shutdown: Duration::from_millis(10),
        })
}

/// Powers the Dell node on and waits until the System says so.
async fn dell_powered_on(mock: &MockBmcHandle, client: &RedfishClient) {
    mock.node(0).set_power(true);
    client
        .wait_for_power_state("System.Embedded.1", PowerState::On, Duration::from_secs(10))
        .await
        .expect("on");
    mock.node(0).clear_requests();
}

/// A client of node 0 with the user's override; retries fast so a refused retry shows quickly.
fn client_with(mock: &MockBmcHandle, auth: AuthMode, overrides: QuirksOverride) -> RedfishClient {
    RedfishClient::builder(mock.node(0).url())
        .credentials(DEFAULT_USER, SecretString::from(DEFAULT_PASSWORD))
        .auth(auth)
        .retry_policy(RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(200),
        })
        .request_timeout(Duration::from_secs(20))
        .share_session(false)
        .quirks_override(overrides)
        .build()
        .expect("client")
}

fn client(mock: &MockBmcHandle, overrides: QuirksOverride) -> RedfishClient {
    client_with(mock, AuthMode::Auto, overrides)
}

fn header<'a>(entry: &'a LogEntry, name: &str) -> Option<&'a str> {
    entry
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The statuses the mock answered to `method` on `path`, in order.
fn statuses(mock: &MockBmcHandle, method: &str, path: &str) -> Vec<u16> {
    mock.node(0)
        .requests()
        .iter()
        .filter(|e| e.method == method && e.path == path)
        .map(|e| e.status)
        .collect()
}

fn ids(err: &Error) -> Vec<String> {
    err.message_ids().map(str::to_owned).collect()
}

/// Quirk `no_session_service` (switch `session_auth`): a BMC without a `SessionService` is used
/// over HTTP Basic by the default `Auto`; a client that insists on a session (the fallback
/// off) is refused by it. And `session_auth` off on a BMC with sessions skips the login.
#[tokio::test]
async fn no_session_service_basic_by_default_and_refused_without_the_fallback() {
    let basic_only = spawn(mock(Personality::Dell).basic_auth_only(true)).await;
    let auto = client(&basic_only, QuirksOverride::default());
    auto.system_ids().await.expect("over HTTP Basic");
    assert!(!auto.quirks().await.unwrap().session_auth);
    let last = basic_only.node(0).requests().pop().unwrap();
    assert_eq!(header(&last, "authorization"), Some("<redacted>"));

    let session_only = client_with(&basic_only, AuthMode::Session, QuirksOverride::default());
    let err = session_only
        .system_ids()
        .await
        .expect_err("no session to be had");
    assert!(matches!(err, Error::Authentication { .. }), "{err}");

    let with_sessions = spawn(mock(Personality::Dell)).await;
    let no_login = client(
        &with_sessions,
        QuirksOverride {
            session_auth: Some(false),
            ..QuirksOverride::default()
        },
    );
    no_login.system_ids().await.expect("over HTTP Basic");
    assert_eq!(
        with_sessions
            .node(0)
            .count("POST", "/redfish/v1/SessionService/Sessions"),
        0,
        "session_auth off: no login"
    );
}

/// Quirk `gzip_weakens_etag` (iDRAC; switches `accept_encoding_identity` and
/// `strip_gzip_etag_suffix`): asking for `identity` keeps the `ETag` strong; without it the
/// `-gzip` tag is stripped before `If-Match`; with both off, `If-Match` names the suffixed tag
/// and iDRAC refuses it with 412 until the client gives up the precondition.
#[tokio::test]
async fn gzip_weakens_etag_identity_and_strip_on_and_off() {
    let cases = [
        (None, None, vec![200], Some(false)),
        (Some(false), None, vec![200], Some(true)),
        (Some(false), Some(false), vec![412, 412, 200], None),
    ];
    for (identity, strip, patches, weak_if_match) in cases {
        let mock = spawn(mock(Personality::Dell).gzip_weakens_etag(true)).await;
        let client = client(
            &mock,
            QuirksOverride {
                accept_encoding_identity: identity,
                strip_gzip_etag_suffix: strip,
                ..QuirksOverride::default()
            },
        );
        let read = client.get::<Value>(DELL_SYSTEM).await.expect("read");
        let tag = read.etag.expect("iDRAC sends an ETag").header_value();
        assert_eq!(tag.contains("-gzip"), strip.is_some(), "{tag}");
        client
            .patch(DELL_SYSTEM, &json!({"AssetTag": "r7"}))
            .await
            .expect("the AssetTag is written in the end");
        assert_eq!(
            statuses(&mock, "PATCH", DELL_SYSTEM),
            patches,
            "{identity:?} {strip:?}"
        );
        let sent = mock.node(0).requests();
        let first = sent.iter().find(|e| e.method == "PATCH").unwrap();
        let if_match = header(first, "if-match").unwrap();
        assert_eq!(
            if_match.contains("-gzip"),
            weak_if_match.is_none(),
            "{if_match}"
        );
        if let Some(weak) = weak_if_match {
            assert_eq!(if_match.starts_with("W/"), weak, "{if_match}");
        }
        let last = sent.iter().rfind(|e| e.method == "PATCH").unwrap();
        assert_eq!(
            header(last, "if-match").is_none(),
            weak_if_match.is_none(),
            "with both off the write goes out without a precondition"
        );
    }
}

/// Quirk `identity_encoding_refused` (HPE Gen10 Plus registries; switch
/// `retry_406_without_identity`): a 406 to `Accept-Encoding: identity` is asked once more
/// without it; switched off, the 406 is the answer.
#[tokio::test]
async fn identity_encoding_refused_retried_without_identity_and_406_without_the_quirk() {
    let mock_on = spawn(mock(Personality::Hpe).identity_encoding_refused(true)).await;
    let on = client_with(&mock_on, AuthMode::Basic, QuirksOverride::default());
    on.get::<Value>("/redfish/v1/Systems/1")
        .await
        .expect("read");
    let gets = statuses(&mock_on, "GET", "/redfish/v1/Systems/1");
    assert_eq!(gets, [406, 200]);

    let mock_off = spawn(mock(Personality::Hpe).identity_encoding_refused(true)).await;
    let off = client_with(
        &mock_off,
        AuthMode::Basic,
        QuirksOverride {
            retry_406_without_identity: Some(false),
            ..QuirksOverride::default()
        },
    );
    let err = off
        .get::<Value>("/redfish/v1/Systems/1")
        .await
        .expect_err("406");
    assert_eq!(err.status(), Some(406), "{err}");
    let sent = mock_off.node(0).requests();
    assert!(
        sent.iter()
            .all(|e| e.status == 406 && header(e, "accept-encoding") == Some("identity")),
        "asked once, with identity, and refused: {sent:?}"
    );
}

/// Quirk `stale_keep_alive_connection` (iLO; switch `close_connections`): once the vendor is
/// known every request has a connection of its own (`Connection: close`, nothing pooled, not
/// even the connection the service root was read on), and the reset goes through; off, the
/// POST goes out on a reused connection, iLO resets it, and a POST is never replayed.
#[tokio::test]
async fn stale_keep_alive_connection_closed_on_hpe_and_a_reset_post_without_the_quirk() {
    let mock_on = spawn(mock(Personality::Hpe).stale_keep_alive_connection(true)).await;
    let on = client_with(&mock_on, AuthMode::Basic, QuirksOverride::default());
    on.reset("1", ResetType::On).await.expect("powered on");
    let sent = mock_on.node(0).requests();
    let post = sent.iter().find(|e| e.method == "POST").unwrap();
    assert_eq!(
        (post.path.as_str(), post.status, header(post, "connection")),
        (HPE_RESET, 204, Some("close"))
    );
    assert!(on.quirks().await.unwrap().close_connections);

    let mock_off = spawn(mock(Personality::Hpe).stale_keep_alive_connection(true)).await;
    let off = client_with(
        &mock_off,
        AuthMode::Basic,
        QuirksOverride {
            close_connections: Some(false),
            ..QuirksOverride::default()
        },
    );
    let err = off
        .reset("1", ResetType::On)
        .await
        .expect_err("reset under the POST");
    assert!(matches!(err, Error::Transport { .. }), "{err}");
    assert!(statuses(&mock_off, "POST", HPE_RESET).is_empty());
    assert!(!mock_off.node(0).power_is_on());
    assert!(
        mock_off
            .node(0)
            .requests()
            .iter()
            .all(|e| header(e, "connection").is_none())
    );
}

/// Quirk `idrac_data_sources_unavailable` (switch `transient_post_message_ids`, `SYS518`): a
/// POST answered 503 `SYS518` is sent again; without the message in the list it is not.
#[tokio::test]
async fn idrac_data_sources_unavailable_post_retried_and_not_without_the_message() {
    for (overrides, posts) in [
        (None, vec![503, 204]),
        (
            Some(vec!["ActionParameterValueConflict".to_owned()]),
            vec![503],
        ),
    ] {
        let mock = spawn(mock(Personality::Dell)).await;
        let client = client(
            &mock,
            QuirksOverride {
                transient_post_message_ids: overrides.clone(),
                ..QuirksOverride::default()
            },
        );
        dell_powered_on(&mock, &client).await;
        // Resolved first (a reset into the current state is fine on Dell), so the armed
        // SYS518 meets the POST.
        client
            .reset("System.Embedded.1", ResetType::On)
            .await
            .unwrap();
        mock.node(0).clear_requests();
        mock.node(0).faults().transient_error_next(1);
        let sent = client
            .post(DELL_RESET, &json!({"ResetType": "ForceOff"}))
            .await;
        assert_eq!(statuses(&mock, "POST", DELL_RESET), posts, "{overrides:?}");
        match sent {
            Ok(_) => assert!(overrides.is_none()),
            Err(err) => {
                assert!(overrides.is_some(), "{err}");
                assert_eq!(err.status(), Some(503));
                assert!(ids(&err).iter().any(|id| id.ends_with("SYS518")), "{err}");
            }
        }
    }
}

/// Quirk `idrac10_power_on_conflict` (switch `transient_post_message_ids`,
/// `ActionParameterValueConflict`, on for an iDRAC10 by its restarted firmware version, quirk
/// `idrac10_version_restart`): a power-on refused with 409 for a while is retried; without the
/// message it is the answer.
#[tokio::test]
async fn idrac10_power_on_conflict_retried_and_409_without_the_message() {
    for (overrides, posts) in [
        (None, vec![409, 204]),
        (Some(vec!["SYS518".to_owned()]), vec![409]),
    ] {
        let mock = spawn(
            mock(Personality::Dell)
                .manager_identity("1.20.25.00", "17G Monolithic")
                .power_on_conflicts(1),
        )
        .await;
        let client = client(
            &mock,
            QuirksOverride {
                transient_post_message_ids: overrides.clone(),
                ..QuirksOverride::default()
            },
        );
        let result = client.reset("System.Embedded.1", ResetType::On).await;
        assert_eq!(statuses(&mock, "POST", DELL_RESET), posts, "{overrides:?}");
        match result {
            Ok(()) => assert!(overrides.is_none()),
            Err(err) => {
                assert!(overrides.is_some(), "{err}");
                assert_eq!(err.status(), Some(409));
                assert!(
                    ids(&err)
                        .iter()
                        .any(|id| id.ends_with("ActionParameterValueConflict")),
                    "{err}"
                );
            }
        }
    }
}

/// Quirk `ilo_busy_during_post` (switch `transient_post_message_ids`,
/// `UnableToModifyDuringSystemPOST`): a boot override refused while the host is in POST is
/// sent again; without the message it is the answer.
#[tokio::test]
async fn ilo_busy_during_post_boot_patch_retried_and_refused_without_the_message() {
    let wanted = BootOverride {
        target: BootSource::Pxe,
        enabled: BootOverrideEnabled::Once,
        mode: None,
    };
    for (overrides, patches) in [
        (None, vec![400, 200]),
        (
            Some(vec!["InvalidOperationForSystemState".to_owned()]),
            vec![400],
        ),
    ] {
        let mock = spawn(mock(Personality::Hpe).ilo_busy_during_post(1)).await;
        let client = client(
            &mock,
            QuirksOverride {
                transient_post_message_ids: overrides.clone(),
                ..QuirksOverride::default()
            },
        );
        let result = client.set_boot_override("1", wanted.clone()).await;
        assert_eq!(
            statuses(&mock, "PATCH", "/redfish/v1/Systems/1"),
            patches,
            "{overrides:?}"
        );
        match result {
            Ok(_) => assert_eq!(mock.node(0).view().boot_target, "Pxe"),
            Err(err) => {
                assert!(overrides.is_some(), "{err}");
                assert!(
                    ids(&err)
                        .iter()
                        .any(|id| id.ends_with("UnableToModifyDuringSystemPOST")),
                    "{err}"
                );
                assert_ne!(mock.node(0).view().boot_target, "Pxe");
            }
        }
    }
}

/// Quirk `redundant_power_conflict` (switch `redundant_power_action_conflicts`): iDRAC's 409
/// to a reset into the current state is success; switched off, it is the 409.
#[tokio::test]
async fn redundant_power_conflict_is_success_on_dell_and_409_without_the_quirk() {
    for switch in [None, Some(false)] {
        let mock = spawn(mock(Personality::Dell)).await;
        let client = client(
            &mock,
            QuirksOverride {
                redundant_power_action_conflicts: switch,
                ..QuirksOverride::default()
            },
        );
        dell_powered_on(&mock, &client).await;
        let result = client.reset("System.Embedded.1", ResetType::On).await;
        assert_eq!(statuses(&mock, "POST", DELL_RESET), [409], "{switch:?}");
        match (switch, result) {
            (None, Ok(())) => {}
            (Some(false), Err(err)) => {
                assert_eq!(err.status(), Some(409), "{err}");
                assert!(
                    ids(&err)
                        .iter()
                        .any(|id| id.ends_with("ActionParameterValueConflict"))
                );
            }
            (switch, result) => panic!("{switch:?}: {result:?}"),
        }
        assert!(mock.node(0).power_is_on());
    }
}

/// Quirk `session_cap` (switch `max_sessions`, iDRAC 8): past the cap nothing is sent and the
/// error names the cap; with the cap switched off the ninth login goes out and iDRAC refuses it
/// with 503 `RAC0218`.
#[tokio::test]
async fn session_cap_nothing_sent_past_the_cap_and_rac0218_without_it() {
    const SESSIONS: &str = "/redfish/v1/SessionService/Sessions";
    let mock = spawn(mock(Personality::Dell)).await;
    let mut held = Vec::new();
    for _ in 0..8 {
        let c = client_with(&mock, AuthMode::Session, QuirksOverride::default());
        c.system_ids().await.expect("a session");
        held.push(c);
    }
    assert_eq!(statuses(&mock, "POST", SESSIONS), [201; 8]);

    let ninth = client_with(&mock, AuthMode::Session, QuirksOverride::default());
    let err = ninth.system_ids().await.expect_err("past the cap");
    assert!(
        matches!(
            err,
            Error::SessionCapReached {
                cap: 8,
                held: 8,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(statuses(&mock, "POST", SESSIONS).len(), 8, "nothing sent");

    let uncapped = client_with(
        &mock,
        AuthMode::Session,
        QuirksOverride {
            max_sessions: Some(None),
            ..QuirksOverride::default()
        },
    );
    let err = uncapped
        .system_ids()
        .await
        .expect_err("iDRAC's table is full");
    assert!(
        matches!(err, Error::SessionLimit { status: 503, .. }),
        "{err}"
    );
    assert!(ids(&err).iter().any(|id| id.ends_with("RAC0218")), "{err}");
    assert_eq!(statuses(&mock, "POST", SESSIONS).last(), Some(&503));
    for c in held {
        c.close().await.expect("logged out");
    }
}
