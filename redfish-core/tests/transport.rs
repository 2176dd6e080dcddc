//! Transport behaviour against wiremock on 127.0.0.1: sessions, re-login, retries, `ETag`s,
//! link safety, decode errors, and secrets. Long: one file per concern of the transport would
//! split tests that share the same wiremock BMC set-up.

mod common;

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use ferrofish_redfish_core::{AuthMode, Error, RedfishClient, SecretString};
use serde_json::json;
use wiremock::matchers::{any, body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn logs_in_through_links_sessions_and_deletes_the_session_on_close() {
    let server = bmc(json!({})).await;
    get_json(&server, "/redfish/v1/Systems/1", system_json("1")).await;
    let client = client(&server);

    let system = read_system(&client, "/redfish/v1/Systems/1").await.unwrap();
    assert_eq!(system.id.as_deref(), Some("1"));
    let logins = received(&server, "POST", SESSIONS).await;
    assert_eq!(logins.len(), 1);
    let body: serde_json::Value = logins[0].body_json().unwrap();
    assert_eq!(body, json!({"UserName": USER, "Password": PASSWORD}));

    client.close().await.unwrap();
    let deletes = received(&server, "DELETE", SESSION_1).await;
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].headers["x-auth-token"], TOKEN);
    // Closing again sends nothing more; later operations are refused.
    client.close().await.unwrap();
    assert_eq!(received(&server, "DELETE", SESSION_1).await.len(), 1);
    assert!(matches!(
        read_system(&client, "1").await,
        Err(Error::Closed)
    ));
}

#[tokio::test]
async fn session_uri_from_body_when_location_is_missing() {
    // Quirk `session_uri_only_in_body`.
    let server = bmc_answering_login_with(
        ResponseTemplate::new(201)
            .insert_header("X-Auth-Token", TOKEN)
            .set_body_json(json!({"@odata.id": "/redfish/v1/SessionService/Sessions/77"})),
    )
    .await;
    Mock::given(method("DELETE"))
        .and(path("/redfish/v1/SessionService/Sessions/77"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    get_json(&server, "/redfish/v1/Systems/1", system_json("1")).await;
    let client = client(&server);
    read_system(&client, "1").await.unwrap();
    client.close().await.unwrap();
    server.verify().await;
}

#[tokio::test]
async fn session_is_deleted_in_the_background_when_the_client_is_dropped() {
    let server = bmc(json!({})).await;
    get_json(&server, "/redfish/v1/Systems/1", system_json("1")).await;
    let client = client(&server);
    let clone = client.clone();
    read_system(&client, "1").await.unwrap();
    drop(client);
    // A clone keeps the session alive.
    tokio::task::yield_now().await;
    assert!(received(&server, "DELETE", SESSION_1).await.is_empty());
    drop(clone);
    assert!(
        wait_for_request(&server, "DELETE", SESSION_1).await,
        "no DELETE after drop"
    );
    let deletes = received(&server, "DELETE", SESSION_1).await;
    assert_eq!(deletes[0].headers["x-auth-token"], TOKEN);
}

#[test]
fn dropping_outside_a_runtime_warns_instead_of_panicking() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (server, client) = runtime.block_on(async {
        let server = bmc(json!({})).await;
        get_json(&server, "/redfish/v1/Systems/1", system_json("1")).await;
        let client = client(&server);
        read_system(&client, "1").await.unwrap();
        (server, client)
    });
    // The client outlives its runtime, as when Python drops it at interpreter exit.
    let checker = tokio::runtime::Runtime::new().unwrap();
    drop(runtime);
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || drop(client));
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("WARN")
            && logged.contains(
                "redfish client dropped without close() outside a tokio runtime; \
                 its session stays open until the BMC times it out"
            )
            && logged.contains(SESSION_1),
        "no warning naming the session: {logged:?}"
    );
    assert!(!logged.contains(TOKEN), "{logged}");
    let deletes = checker.block_on(received(&server, "DELETE", SESSION_1));
    assert!(deletes.is_empty(), "nothing can be sent without a runtime");
    checker.block_on(async move { drop(server) });
}

/// A BMC whose first login hands out a token that its System then refuses with 401, and whose
/// second login (session 2) works.
async fn bmc_whose_first_session_expires() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/redfish/v1/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(service_root(&json!({}))))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(SESSIONS))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("X-Auth-Token", "expired")
                .insert_header("Location", SESSION_1),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount_session(&server, TOKEN, "/redfish/v1/SessionService/Sessions/2").await;
    Mock::given(method("GET"))
        .and(path("/redfish/v1/Systems/1"))
        .and(header("X-Auth-Token", "expired"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    get_json(&server, "/redfish/v1/Systems/1", system_json("1")).await;
    server
}

#[tokio::test]
async fn relogs_in_once_on_401_and_replays() {
    let server = bmc_whose_first_session_expires().await;
    Mock::given(method("DELETE"))
        .and(path("/redfish/v1/SessionService/Sessions/2"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    // The replaced session is deleted too, with the token that works.
    Mock::given(method("DELETE"))
        .and(path(SESSION_1))
        .and(header("X-Auth-Token", TOKEN))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;

    let client = client(&server);
    let system = read_system(&client, "1").await.unwrap();
    assert_eq!(system.power_state.unwrap().as_str(), "On");
    assert_eq!(received(&server, "POST", SESSIONS).await.len(), 2);
    assert_eq!(
        received(&server, "GET", "/redfish/v1/Systems/1")
            .await
            .len(),
        2
    );
    assert_eq!(received(&server, "DELETE", SESSION_1).await.len(), 1);
    let counts = client.request_counts();
    assert_eq!(
        (counts.get, counts.post, counts.delete, counts.total),
        (3, 2, 1, 6)
    );
    client.close().await.unwrap();
    // Both sessions the client created are gone: one DELETE each, nothing else.
    assert_eq!(received(&server, "DELETE", SESSION_1).await.len(), 1);
    assert_eq!(
        received(&server, "DELETE", "/redfish/v1/SessionService/Sessions/2")
            .await
            .len(),
        1
    );
    server.verify().await;
}

#[tokio::test]
async fn a_failed_delete_of_the_replaced_session_does_not_fail_the_request() {
    let server = bmc_whose_first_session_expires().await;
    Mock::given(method("DELETE"))
        .and(path(SESSION_1))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/redfish/v1/SessionService/Sessions/2"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let client = client(&server);
    assert!(read_system(&client, "1").await.is_ok());
    // Tried exactly once (not retried, not left for later), and the replay went through.
    assert_eq!(received(&server, "DELETE", SESSION_1).await.len(), 1);
    client.close().await.unwrap();
    assert_eq!(
        received(&server, "DELETE", "/redfish/v1/SessionService/Sessions/2")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn a_second_401_is_reported_not_looped() {
    let server = bmc(json!({})).await;
    // The first login gets session 1 (from `bmc`), the re-login session 2.
    Mock::given(method("POST"))
        .and(path(SESSIONS))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("X-Auth-Token", TOKEN)
                .insert_header("Location", SESSION_1),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    // Outranks the session mock of `bmc` for every later login.
    Mock::given(method("POST"))
        .and(path(SESSIONS))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("X-Auth-Token", TOKEN)
                .insert_header("Location", "/redfish/v1/SessionService/Sessions/2"),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/redfish/v1/SessionService/Sessions/2"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/redfish/v1/Systems/1"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let client = client(&server);
    let err = read_system(&client, "1").await.unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
    assert_eq!(
        received(&server, "POST", SESSIONS).await.len(),
        2,
        "exactly one re-login"
    );
    assert_eq!(
        received(&server, "GET", "/redfish/v1/Systems/1")
            .await
            .len(),
        2
    );
    // The session the re-login replaced was deleted right away ...
    assert_eq!(received(&server, "DELETE", SESSION_1).await.len(), 1);
    client.close().await.unwrap();
    // ... and the new one on close: no session is left on the BMC.
    assert_eq!(received(&server, "DELETE", SESSION_1).await.len(), 1);
    assert_eq!(
        received(&server, "DELETE", "/redfish/v1/SessionService/Sessions/2")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn basic_auth_sends_no_session_request() {
    let server = bmc(json!({})).await;
    Mock::given(method("GET"))
        .and(path("/redfish/v1/Systems/1"))
        .and(header(
            "Authorization",
            "Basic YWRtaW46UHctN2YzYzllLVNFQ1JFVA==",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(system_json("1")))
        .mount(&server)
        .await;
    let client = RedfishClient::builder(server.uri())
        .credentials(USER, SecretString::from(PASSWORD))
        .auth(AuthMode::Basic)
        .build()
        .unwrap();
    read_system(&client, "/redfish/v1/Systems/1").await.unwrap();
    assert!(received(&server, "POST", SESSIONS).await.is_empty());
    assert_eq!(
        client.request_counts().total,
        1,
        "basic auth needs no service root either"
    );
}

/// A service without a `SessionService` that takes HTTP Basic only (sushy-tools, small BMCs):
/// GET root unauthenticated, everything else needs Basic, session POSTs answer `status`.
async fn basic_only_bmc(session_post_status: u16, with_session_service: bool) -> MockServer {
    let server = MockServer::start().await;
    let root = if with_session_service {
        service_root(&json!({}))
    } else {
        json!({"Id": "Root", "Systems": {"@odata.id": "/redfish/v1/Systems"}})
    };
    Mock::given(method("GET"))
        .and(path("/redfish/v1/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(root))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(SESSIONS))
        .respond_with(ResponseTemplate::new(session_post_status))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/redfish/v1/Systems/1"))
        .and(header(
            "Authorization",
            "Basic YWRtaW46UHctN2YzYzllLVNFQ1JFVA==",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(system_json("1")))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn default_auth_falls_back_to_basic_when_sessions_are_refused_and_remembers_it() {
    // The default mode is Auto: no .auth() call.
    for (status, advertised) in [
        (404, false),
        (405, false),
        (501, true),
        (401, false),
        (401, true),
    ] {
        let server = basic_only_bmc(status, advertised).await;
        let client = RedfishClient::builder(server.uri())
            .credentials(USER, SecretString::from(PASSWORD))
            .build()
            .unwrap();
        let system = read_system(&client, "1").await;
        assert!(system.is_ok(), "{status} {advertised}: {system:?}");
        // The login was posted while the root was read (no round trip waits for the root),
        // refused once, and Basic is remembered: a second read posts nothing more.
        read_system(&client, "/redfish/v1/Systems/1").await.unwrap();
        assert_eq!(
            received(&server, "POST", SESSIONS).await.len(),
            1,
            "{status}"
        );
        let counts = client.request_counts();
        assert_eq!((counts.get, counts.post), (3, 1), "{status}");
        client.close().await.unwrap();
        assert_eq!(client.request_counts().delete, 0, "no session to delete");
    }
}

#[tokio::test]
async fn with_the_root_known_a_service_without_sessions_gets_no_session_post() {
    let server = basic_only_bmc(404, false).await;
    let client = RedfishClient::builder(server.uri())
        .credentials(USER, SecretString::from(PASSWORD))
        .build()
        .unwrap();
    client.service_root().await.unwrap();
    read_system(&client, "1").await.unwrap();
    assert!(received(&server, "POST", SESSIONS).await.is_empty());
}

#[tokio::test]
async fn session_mode_does_not_fall_back_and_basic_refused_after_fallback_is_an_auth_error() {
    let server = basic_only_bmc(404, false).await;
    let strict = RedfishClient::builder(server.uri())
        .credentials(USER, SecretString::from(PASSWORD))
        .auth(AuthMode::Session)
        .build()
        .unwrap();
    let err = read_system(&strict, "1").await.unwrap_err();
    assert!(
        matches!(err, Error::Authentication { status: 404, .. }),
        "{err:?}"
    );

    // Wrong password: the session POST is refused, Basic is refused too (the GET answers 401
    // to anything without the right Authorization): one Authentication error naming the login.
    let wrong = RedfishClient::builder(server.uri())
        .credentials(USER, SecretString::from("not-the-password"))
        .build()
        .unwrap();
    Mock::given(any())
        .respond_with(ResponseTemplate::new(401))
        .with_priority(10)
        .mount(&server)
        .await;
    let err = read_system(&wrong, "1").await.unwrap_err();
    assert!(
        matches!(&err, Error::Authentication { url, status: 404, .. } if url.ends_with(SESSIONS)),
        "{err:?}"
    );
    assert!(err.is_unauthorized());
}

#[tokio::test]
async fn no_login_after_close_even_when_a_401_arrives() {
    let server = bmc(json!({})).await;
    get_json(&server, "/redfish/v1/Systems/1", system_json("1")).await;
    let client = client(&server);
    read_system(&client, "1").await.unwrap();
    client.close().await.unwrap();
    let posts = received(&server, "POST", SESSIONS).await.len();
    assert!(matches!(
        read_system(&client, "1").await,
        Err(Error::Closed)
    ));
    assert!(
        client.service_root().await.is_ok(),
        "the cached root stays readable"
    );
    assert_eq!(
        received(&server, "POST", SESSIONS).await.len(),
        posts,
        "no new session"
    );
}

#[tokio::test]
async fn retries_503_honouring_retry_after() {
    let server = bmc(json!({})).await;
    Mock::given(method("GET"))
        .and(path("/redfish/v1/Systems/1"))
        .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    get_json(&server, "/redfish/v1/Systems/1", system_json("1")).await;
    let client = client(&server);
    client.service_root().await.unwrap();
    let started = Instant::now();
    read_system(&client, "1").await.unwrap();
    // The policy's own backoff is 10 ms: waiting a second shows Retry-After was honoured.
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        received(&server, "GET", "/redfish/v1/Systems/1")
            .await
            .len(),
        2
    );
    client.close().await.unwrap();
}

#[tokio::test]
async fn retries_are_bounded_and_the_last_error_is_reported() {
    let server = bmc(json!({})).await;
    Mock::given(method("GET"))
        .and(path("/redfish/v1/Systems/1"))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({"error": {
            "@Message.ExtendedInfo": {"MessageId": "Base.1.8.ServiceTemporarilyUnavailable"}}})))
        .mount(&server)
        .await;
    let client = client(&server);
    let err = read_system(&client, "1").await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(
        err.message_id(),
        Some("Base.1.8.ServiceTemporarilyUnavailable")
    );
    assert_eq!(
        received(&server, "GET", "/redfish/v1/Systems/1")
            .await
            .len(),
        4,
        "1 + 3 retries"
    );
    client.close().await.unwrap();
}

#[tokio::test]
async fn post_is_not_retried_on_503_but_is_on_a_known_transient_message() {
    let server = bmc(json!({"Vendor": "Dell"})).await;
    Mock::given(method("POST"))
        .and(path("/redfish/v1/Systems/1/Actions/Oem.Busy"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/redfish/v1/Systems/1/Actions/Oem.Reload"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "@Message.ExtendedInfo": [{"MessageId": "IDRAC.2.8.SYS518", "Message": "reloading"}]}})))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/redfish/v1/Systems/1/Actions/Oem.Reload"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let client = client(&server);
    let err = client
        .post_json("/redfish/v1/Systems/1/Actions/Oem.Busy", &json!({}))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(
        received(&server, "POST", "/redfish/v1/Systems/1/Actions/Oem.Busy")
            .await
            .len(),
        1
    );

    let value = client
        .post_json("/redfish/v1/Systems/1/Actions/Oem.Reload", &json!({}))
        .await
        .unwrap();
    assert!(value.body().is_null());
    assert_eq!(
        received(&server, "POST", "/redfish/v1/Systems/1/Actions/Oem.Reload")
            .await
            .len(),
        2
    );
    client.close().await.unwrap();
}

#[tokio::test]
async fn patch_falls_back_weak_strong_none_on_412() {
    let server = bmc(json!({})).await;
    let at = "/redfish/v1/Systems/1";
    get_json_with_etag(&server, at, "W/\"abc-gzip\"", system_json("1")).await;
    Mock::given(method("PATCH"))
        .and(path(at))
        .and(header("If-Match", "W/\"abc\""))
        .respond_with(ResponseTemplate::new(412))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(at))
        .and(header("If-Match", "\"abc\""))
        .respond_with(ResponseTemplate::new(412))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(at))
        .and(NoHeader("if-match"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&server)
        .await;
    let client = client(&server);
    client.get_json(at).await.unwrap();
    let answer = client
        .patch_json(at, &json!({"AssetTag": "rack-7"}))
        .await
        .unwrap();
    assert_eq!(answer.body(), &json!({"ok": true}));
    let patches = received(&server, "PATCH", at).await;
    let sent: Vec<Option<&str>> = patches
        .iter()
        .map(|r| r.headers.get("if-match").and_then(|v| v.to_str().ok()))
        .collect();
    assert_eq!(sent, vec![Some("W/\"abc\""), Some("\"abc\""), None]);
    for request in &patches {
        assert_eq!(request.headers["accept-encoding"], "identity");
        assert_eq!(
            request.body_json::<serde_json::Value>().unwrap(),
            json!({"AssetTag": "rack-7"})
        );
    }
    client.close().await.unwrap();
}

#[tokio::test]
async fn empty_etag_is_dropped_and_412_without_etag_is_reported() {
    let server = bmc(json!({})).await;
    let at = "/redfish/v1/Systems/1";
    get_json_with_etag(&server, at, "\"\"", system_json("1")).await;
    Mock::given(method("PATCH"))
        .and(path(at))
        .respond_with(ResponseTemplate::new(412))
        .mount(&server)
        .await;
    let client = client(&server);
    client.get_json(at).await.unwrap();
    let err = client
        .patch_json(at, &json!({"AssetTag": "x"}))
        .await
        .unwrap_err();
    assert!(err.is_precondition_failed());
    let patches = received(&server, "PATCH", at).await;
    assert_eq!(patches.len(), 1);
    assert!(!patches[0].headers.contains_key("if-match"));
    client.close().await.unwrap();
}

#[tokio::test]
async fn malformed_json_is_a_decode_error_naming_url_and_path() {
    let server = bmc(json!({})).await;
    get_json(
        &server,
        "/redfish/v1/Systems/1",
        json!({"Id": "1", "Boot": "Pxe"}),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/redfish/v1/Systems/2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(r#"{"Id": "2", "Name": "#, "application/json"),
        )
        .mount(&server)
        .await;
    let client = client(&server);

    let err = read_system(&client, "1").await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert_eq!(err.json_path(), Some("Boot"));
    assert!(err.url().unwrap().ends_with("/redfish/v1/Systems/1"));
    assert!(err.to_string().contains("/redfish/v1/Systems/1"), "{err}");
    assert!(err.to_string().contains("Boot"), "{err}");

    let err = read_system(&client, "2").await.unwrap_err();
    assert!(err.is_decode(), "{err:?}");
    assert!(err.url().unwrap().ends_with("/redfish/v1/Systems/2"));
    client.close().await.unwrap();
}

#[tokio::test]
async fn off_origin_links_are_refused_and_the_other_origin_receives_nothing() {
    let server = bmc(json!({})).await;
    let elsewhere = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&elsewhere)
        .await;
    let evil = elsewhere.uri();

    // A collection member, a nextLink, an action target and a redirect, all elsewhere.
    get_json(
        &server,
        "/redfish/v1/Systems",
        json!({
            "Members": [{"@odata.id": "/redfish/v1/Systems/1"}],
            "Members@odata.nextLink": format!("{evil}/redfish/v1/Systems?$skip=1")
        }),
    )
    .await;
    let mut system = system_json("1");
    system["Actions"]["#ComputerSystem.Reset"]["target"] = json!(format!(
        "{evil}/redfish/v1/Systems/1/Actions/ComputerSystem.Reset"
    ));
    system["Processors"] = json!({"@odata.id": "/redfish/v1/Systems/1/Processors"});
    get_json(&server, "/redfish/v1/Systems/1", system).await;
    get_json(
        &server,
        "/redfish/v1/Systems/1/Processors",
        json!({
            "Members": [{"@odata.id": format!("{evil}/redfish/v1/Systems/1/Processors/1")}]
        }),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/redfish/v1/Moved"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("Location", format!("{evil}/redfish/v1/")),
        )
        .mount(&server)
        .await;

    let client = client(&server);
    let err = client.system_ids().await.unwrap_err();
    assert!(matches!(err, Error::OffOriginLink { .. }), "{err}");
    let err = client
        .reset("1", ferrofish_redfish_core::ResetType::ForceRestart)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::OffOriginLink { .. }), "{err}");
    let err = client.inventory("1").await.unwrap_err();
    assert!(matches!(err, Error::OffOriginLink { .. }), "{err}");
    let err = client.get_json("/redfish/v1/Moved").await.unwrap_err();
    assert_eq!(err.status(), Some(302), "{err}");
    let err = client
        .get_json(&format!("{evil}/redfish/v1/"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::OffOriginLink { .. }), "{err}");

    assert!(
        received(
            &server,
            "POST",
            "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset"
        )
        .await
        .is_empty()
    );
    client.close().await.unwrap();
    let leaked = elsewhere.received_requests().await.unwrap();
    assert!(
        leaked.is_empty(),
        "the other origin received {} request(s)",
        leaked.len()
    );
}

#[tokio::test]
async fn off_origin_session_location_falls_back_to_the_body_id() {
    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(204))
        .mount(&elsewhere)
        .await;
    Mock::given(method("GET"))
        .and(path("/redfish/v1/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(service_root(&json!({}))))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(SESSIONS))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("X-Auth-Token", TOKEN)
                .insert_header(
                    "Location",
                    format!("{}/redfish/v1/SessionService/Sessions/1", elsewhere.uri()),
                )
                .set_body_json(json!({"@odata.id": SESSION_1})),
        )
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(SESSION_1))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    get_json(&server, "/redfish/v1/Systems/1", system_json("1")).await;
    let client = client(&server);
    read_system(&client, "1").await.unwrap();
    client.close().await.unwrap();
    server.verify().await;
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn caller_input_is_validated_before_anything_is_sent() {
    let server = MockServer::start().await;
    let client = client(&server);
    for bad in ["", "../x", "1/2", "a?b"] {
        let err = read_system(&client, bad).await.unwrap_err();
        assert!(err.is_invalid_input(), "{bad:?}: {err}");
    }
    assert!(
        client
            .get_json("/index.html")
            .await
            .unwrap_err()
            .is_invalid_input()
    );
    assert!(server.received_requests().await.unwrap().is_empty());
    assert!(
        RedfishClient::builder("ftp://bmc")
            .build()
            .unwrap_err()
            .is_invalid_input()
    );
}

#[tokio::test]
async fn concurrency_is_limited_per_bmc() {
    const LIMIT: usize = 2;
    /// Requests in flight now, and the most seen at once, measured by the server.
    #[derive(Clone, Default)]
    struct InFlight(Arc<Mutex<(usize, usize)>>);

    async fn slow(
        axum::extract::State(flight): axum::extract::State<InFlight>,
    ) -> axum::Json<serde_json::Value> {
        {
            let mut counts = flight.0.lock().unwrap();
            counts.0 += 1;
            counts.1 = counts.1.max(counts.0);
        }
        // Hold each request until LIMIT are in flight (so the peak reaches the limit however
        // slow the machine), then a little longer, so a request beyond the limit would be
        // counted if the client let one through.
        let deadline = Instant::now() + Duration::from_secs(10);
        while flight.0.lock().unwrap().0 < LIMIT && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        flight.0.lock().unwrap().0 -= 1;
        axum::Json(json!({}))
    }

    let flight = InFlight::default();
    let app = axum::Router::new()
        .route("/redfish/v1/Slow/{id}", axum::routing::get(slow))
        .with_state(flight.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let client = RedfishClient::builder(&url)
        .credentials(USER, SecretString::from(PASSWORD))
        .auth(AuthMode::Basic)
        .max_concurrent_requests(LIMIT)
        .build()
        .unwrap();
    let tasks = (0..6).map(|i| {
        let client = client.clone();
        async move { client.get_json(&format!("/redfish/v1/Slow/{i}")).await }
    });
    let results = futures::future::join_all(tasks).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let (now, peak) = *flight.0.lock().unwrap();
    assert_eq!(now, 0);
    assert_eq!(
        peak, LIMIT,
        "requests in flight at once, seen by the server"
    );
    assert_eq!(client.request_counts().get, 6);
    server.abort();
}

/// A tracing writer that keeps everything in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[tokio::test]
async fn secrets_never_reach_errors_debug_or_logs() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // 1. A login refused with a message that echoes the password.
    let refusing = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/redfish/v1/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(service_root(&json!({}))))
        .mount(&refusing)
        .await;
    Mock::given(method("POST"))
        .and(path(SESSIONS))
        .and(body_json(json!({"UserName": USER, "Password": PASSWORD})))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": {
            "@Message.ExtendedInfo": [{"MessageId": "Base.1.8.PropertyValueIncorrect",
                "Message": format!("The value '{PASSWORD}' is incorrect"),
                "MessageArgs": [PASSWORD, "Password"]}]}})))
        .mount(&refusing)
        .await;
    // Basic is refused too (the Auto fallback tries it): any other request answers 401.
    Mock::given(any())
        .respond_with(ResponseTemplate::new(401))
        .with_priority(10)
        .mount(&refusing)
        .await;
    let builder =
        RedfishClient::builder(refusing.uri()).credentials(USER, SecretString::from(PASSWORD));
    let builder_debug = format!("{builder:?}");
    let refused = builder.build().unwrap();
    let login_error = read_system(&refused, "1").await.unwrap_err();
    assert!(login_error.is_unauthorized());
    assert_eq!(
        login_error.message_id(),
        Some("Base.1.8.PropertyValueIncorrect")
    );

    // 2. A session token that works, then failing requests of every kind.
    let server = bmc(json!({})).await;
    Mock::given(method("GET"))
        .and(path("/redfish/v1/Systems/1"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(json!({"error": {"code": "Base.1.8.InternalError"}})),
        )
        .mount(&server)
        .await;
    get_json(&server, "/redfish/v1/Systems/2", json!({"Boot": 7})).await;
    let client2 = client(&server);
    let http_error = read_system(&client2, "1").await.unwrap_err();
    let decode_error = read_system(&client2, "2").await.unwrap_err();
    let client_debug = format!("{client2:?}");
    drop(client2); // background delete, logged

    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let unreachable = RedfishClient::builder(format!("http://127.0.0.1:{closed_port}"))
        .credentials(USER, SecretString::from(PASSWORD))
        .retry_policy(ferrofish_redfish_core::RetryPolicy::none())
        .build()
        .unwrap();
    let connect_error = read_system(&unreachable, "1").await.unwrap_err();
    assert!(connect_error.is_connection(), "{connect_error}");
    assert!(wait_for_request(&server, "DELETE", SESSION_1).await);

    let mut shown = String::new();
    for err in [&login_error, &http_error, &decode_error, &connect_error] {
        writeln!(shown, "{err}\n{err:?}").unwrap();
        let mut source = std::error::Error::source(err);
        while let Some(s) = source {
            writeln!(shown, "{s}\n{s:?}").unwrap();
            source = s.source();
        }
    }
    shown.push_str(&builder_debug);
    shown.push_str(&client_debug);
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logged.contains("redfish_request"), "tracing was captured");
    for secret in [PASSWORD, TOKEN] {
        assert!(
            !shown.contains(secret),
            "{secret} leaked into an error or Debug:\n{shown}"
        );
        assert!(!logged.contains(secret), "{secret} leaked into the logs");
    }
}

#[tokio::test]
async fn a_406_is_retried_once_without_accept_encoding_identity() {
    // Quirk 49: HPE Gen10 Plus answers 406 to `Accept-Encoding: identity` on some resources.
    let server = bmc(json!({})).await;
    let sys = "/redfish/v1/Systems/1";
    Mock::given(method("GET"))
        .and(path(sys))
        .and(header("Accept-Encoding", "identity"))
        .respond_with(ResponseTemplate::new(406))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(sys))
        .and(NoHeader("accept-encoding"))
        .respond_with(ResponseTemplate::new(200).set_body_json(system_json("1")))
        .mount(&server)
        .await;
    let client = client(&server);
    let system = read_system(&client, "1").await.unwrap();
    assert_eq!(system.id.as_deref(), Some("1"));
    let seen = received(&server, "GET", sys).await;
    assert_eq!(seen.len(), 2, "one refused attempt, one retry");
    let encoding = |r: &wiremock::Request| {
        r.headers
            .get("accept-encoding")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(encoding(&seen[0]).as_deref(), Some("identity"));
    assert_eq!(encoding(&seen[1]), None);
    // Other requests keep asking for identity (the service root was fetched with it).
    let root = received(&server, "GET", "/redfish/v1/").await;
    assert_eq!(encoding(&root[0]).as_deref(), Some("identity"));
    client.close().await.unwrap();

    // With the quirk turned off, the 406 is the answer.
    let strict = RedfishClient::builder(server.uri())
        .credentials(USER, SecretString::from(PASSWORD))
        .retry_policy(fast_retries())
        .quirks_override(ferrofish_redfish_core::QuirksOverride {
            retry_406_without_identity: Some(false),
            ..Default::default()
        })
        .build()
        .unwrap();
    let err = read_system(&strict, "1").await.unwrap_err();
    assert_eq!(err.status(), Some(406));
    assert_eq!(received(&server, "GET", sys).await.len(), 3);
    strict.close().await.unwrap();
}

#[tokio::test]
async fn secrets_echoed_in_any_error_message_are_scrubbed() {
    // A BMC that echoes the session token (or, with Basic auth, the password) in an error.
    let server = bmc(json!({})).await;
    let echo = json!({"error": {"@Message.ExtendedInfo": [{
        "MessageId": "Base.1.8.InsufficientPrivilege",
        "Message": format!("token {TOKEN} / password {PASSWORD} lacks privilege"),
        "MessageArgs": [TOKEN, PASSWORD],
        "Oem": {"Echo": {"Authorization": PASSWORD, "X-Auth-Token": TOKEN}}
    }]}});
    Mock::given(method("GET"))
        .and(path("/redfish/v1/Systems/1"))
        .respond_with(ResponseTemplate::new(403).set_body_json(echo))
        .mount(&server)
        .await;
    let session = client(&server);
    let basic = RedfishClient::builder(server.uri())
        .credentials(USER, SecretString::from(PASSWORD))
        .auth(AuthMode::Basic)
        .build()
        .unwrap();
    // The Basic client never saw the token: only the password is its secret.
    for (client, secrets) in [
        (&session, &[PASSWORD, TOKEN][..]),
        (&basic, &[PASSWORD][..]),
    ] {
        let err = read_system(client, "1").await.unwrap_err();
        assert!(err.is_forbidden(), "{err}");
        let shown = format!("{err}\n{err:?}");
        for secret in secrets {
            assert!(!shown.contains(secret), "{secret} leaked:\n{shown}");
        }
        let message = err.messages()[0].message.as_deref().unwrap_or_default();
        assert!(message.contains("[redacted]"), "{message}");
        assert_eq!(err.message_id(), Some("Base.1.8.InsufficientPrivilege"));
    }
    session.close().await.unwrap();
    basic.close().await.unwrap();
}

/// A raw HTTP/1.1 server for quirk `stale_keep_alive_connection`: on the first connection it answers one request with
/// keep-alive, then reads the next request and closes the socket without answering it; every
/// later connection is answered normally. Records the method of each request per connection.
struct ClosingServer {
    url: String,
    /// For each accepted connection, the methods of the requests it received.
    seen: Arc<Mutex<Vec<Vec<String>>>>,
}

impl ClosingServer {
    async fn start() -> ClosingServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen: Arc<Mutex<Vec<Vec<String>>>> = Arc::default();
        let log = Arc::clone(&seen);
        tokio::spawn(async move {
            let mut index = 0;
            while let Ok((socket, _)) = listener.accept().await {
                log.lock().unwrap().push(Vec::new());
                let log = Arc::clone(&log);
                let answers = if index == 0 { Some(1) } else { None };
                index += 1;
                tokio::spawn(serve_connection(socket, index - 1, answers, log));
            }
        });
        ClosingServer { url, seen }
    }

    fn connections(&self) -> Vec<Vec<String>> {
        self.seen.lock().unwrap().clone()
    }
}

/// Serves one connection; with `answers = Some(n)` the request after the n-th is read and the
/// socket closed without an answer.
async fn serve_connection(
    mut socket: tokio::net::TcpStream,
    index: usize,
    answers: Option<usize>,
    log: Arc<Mutex<Vec<Vec<String>>>>,
) {
    use tokio::io::AsyncWriteExt;
    let mut buffer = Vec::new();
    let mut answered = 0;
    loop {
        let Some(request) = common::read_request(&mut socket, &mut buffer).await else {
            return;
        };
        let head = request.head();
        let method = head.split(' ').next().unwrap_or_default().to_owned();
        log.lock().unwrap()[index].push(method);
        if answers.is_some_and(|limit| answered >= limit) {
            // Closed before the request was processed, as a BMC dropping an idle connection.
            return;
        }
        let body = br#"{"@odata.id": "/redfish/v1/Systems", "Members": []}"#;
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             Connection: keep-alive\r\n\r\n",
            body.len()
        );
        if socket.write_all(response.as_bytes()).await.is_err()
            || socket.write_all(body).await.is_err()
        {
            return;
        }
        answered += 1;
    }
}

fn basic_client(url: &str) -> RedfishClient {
    RedfishClient::builder(url)
        .credentials(USER, SecretString::from(PASSWORD))
        .auth(AuthMode::Basic)
        .retry_policy(ferrofish_redfish_core::RetryPolicy::none())
        .request_timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

#[tokio::test]
async fn an_idempotent_request_on_a_connection_the_bmc_closed_is_retried_once() {
    // Quirk 47. Retries are off in the policy: this retry is not a BMC failure.
    let server = ClosingServer::start().await;
    let client = basic_client(&server.url);
    client.get_json("/redfish/v1/Systems").await.unwrap();
    let second = client.get_json("/redfish/v1/Systems").await;
    let err_chain = second.as_ref().err().map(|e| {
        let mut text = format!("{e:?}");
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            write!(text, "\n  <- {s:?}").unwrap();
            source = s.source();
        }
        text
    });
    assert!(second.is_ok(), "{err_chain:?}");
    // The second GET reached the first connection, which closed; the replay used a new one.
    assert_eq!(
        server.connections(),
        [
            vec!["GET".to_owned(), "GET".to_owned()],
            vec!["GET".to_owned()]
        ]
    );
    assert_eq!(client.request_counts().get, 3);
}

#[tokio::test]
async fn a_post_on_a_connection_the_bmc_closed_is_not_replayed() {
    let server = ClosingServer::start().await;
    let client = basic_client(&server.url);
    // The service root (read by post_json for the vendor) is the one answered request.
    let err = client
        .post_json("/redfish/v1/Systems", &json!({"Name": "x"}))
        .await
        .unwrap_err();
    assert!(err.is_connection(), "{err:?}");
    assert_eq!(
        server.connections(),
        [vec!["GET".to_owned(), "POST".to_owned()]],
        "the POST was sent once and never again"
    );
    assert_eq!(client.request_counts().post, 1);
}
