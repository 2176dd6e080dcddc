//! The public resource layer, tasks and the hardening of the client against a broken or
//! hostile BMC, against wiremock BMCs on loopback.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use ferrofish_redfish_core::{Error, PowerState, RedfishClient, ResetType, SecretString, TaskWait};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SYS: &str = "/redfish/v1/Systems/1";
const MONITOR: &str = "/redfish/v1/TaskService/TaskMonitors/7";

fn quick_wait() -> TaskWait {
    TaskWait {
        timeout: Duration::from_secs(20),
        initial_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
    }
}

#[tokio::test]
async fn typed_get_keeps_the_etag_and_writes_return_status_location_and_retry_after() {
    let server = bmc(json!({})).await;
    let mut typed = system_json("1");
    typed["@odata.type"] = json!("#ComputerSystem.v1_20_0.ComputerSystem");
    get_json_with_etag(&server, SYS, "W/\"sys-9\"", typed).await;
    Mock::given(method("PATCH"))
        .and(path(SYS))
        .and(header("If-Match", "W/\"sys-9\""))
        .respond_with(
            ResponseTemplate::new(202)
                .insert_header("Location", MONITOR)
                .insert_header("Retry-After", "3"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let system = client
        .get_as::<ferrofish_redfish_core::ComputerSystem>(SYS, "ComputerSystem")
        .await
        .unwrap();
    assert_eq!(system.value.power_state, Some(PowerState::On));
    assert_eq!(system.etag.unwrap().header_value(), "W/\"sys-9\"");
    let answer = client.patch(SYS, &json!({"AssetTag": "r7"})).await.unwrap();
    assert_eq!(answer.status(), 202);
    assert!(answer.is_accepted());
    assert_eq!(answer.location(), Some(MONITOR));
    assert_eq!(answer.retry_after(), Some(Duration::from_secs(3)));
    assert_eq!(answer.body(), &Value::Null);
    // A type check that fails sends nothing more and says what was found.
    let err = client.get_as::<Value>(SYS, "Bios").await.unwrap_err();
    assert!(
        matches!(&err, Error::WrongResourceType { found, .. } if found == "ComputerSystem"),
        "{err}"
    );
    server.verify().await;
    client.close().await.unwrap();
}

#[tokio::test]
async fn settings_object_is_read_from_the_resource() {
    let server = bmc(json!({})).await;
    get_json(
        &server,
        "/redfish/v1/Systems/1/Bios",
        json!({"@odata.type": "#Bios.v1_2_0.Bios", "Attributes": {},
            "@Redfish.Settings": {"SettingsObject": {"@odata.id": "/redfish/v1/Systems/1/Bios/SD"},
                "SupportedApplyTimes": ["OnReset"]}}),
    )
    .await;
    let client = client(&server);
    let settings = client
        .settings_object("/redfish/v1/Systems/1/Bios")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        settings.settings_url.path(),
        "/redfish/v1/Systems/1/Bios/SD"
    );
    assert_eq!(settings.supported_apply_times.len(), 1);
    assert_eq!(settings.supported_apply_times[0].as_str(), "OnReset");
    client.close().await.unwrap();
}

/// Mounts a task monitor that answers 202 (running, with progress) `running` times, then `last`.
async fn monitor(server: &MockServer, running: u64, last: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(MONITOR))
        .respond_with(ResponseTemplate::new(202).set_body_json(json!({
            "@odata.type": "#Task.v1_4_3.Task", "Id": "7", "TaskState": "Running",
            "PercentComplete": 40, "Messages": []})))
        .up_to_n_times(running)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(MONITOR))
        .respond_with(last)
        .with_priority(2)
        .mount(server)
        .await;
}

async fn start_task(server: &MockServer) -> (RedfishClient, ferrofish_redfish_core::Response) {
    Mock::given(method("POST"))
        .and(path("/redfish/v1/UpdateService/Actions/Oem.Slow"))
        .respond_with(ResponseTemplate::new(202).insert_header("Location", MONITOR))
        .mount(server)
        .await;
    let client = client(server);
    let started = client
        .post("/redfish/v1/UpdateService/Actions/Oem.Slow", &json!({}))
        .await
        .unwrap();
    (client, started)
}

#[tokio::test]
async fn a_task_monitor_is_followed_to_the_end_with_progress_events() {
    let server = bmc(json!({})).await;
    monitor(
        &server,
        2,
        ResponseTemplate::new(200).set_body_json(json!({
            "@odata.type": "#Task.v1_4_3.Task", "Id": "7", "TaskState": "Completed",
            "PercentComplete": 100})),
    )
    .await;
    let (client, started) = start_task(&server).await;
    let mut seen = Vec::new();
    let outcome = client
        .wait_task(started, &quick_wait(), &mut |p| seen.push(p.percent))
        .await
        .unwrap();
    assert_eq!(
        seen,
        vec![Some(40), Some(40)],
        "one event per running answer"
    );
    assert_eq!(outcome.url.unwrap().path(), MONITOR);
    assert_eq!(outcome.task.unwrap().percent_complete, Some(100));
    assert_eq!(received(&server, "GET", MONITOR).await.len(), 3);
    client.close().await.unwrap();
}

#[tokio::test]
async fn a_task_that_fails_or_vanishes_is_a_typed_error_and_cancel_deletes_the_monitor() {
    let server = bmc(json!({})).await;
    monitor(
        &server,
        1,
        ResponseTemplate::new(200).set_body_json(json!({
            "@odata.type": "#Task.v1_4_3.Task", "TaskState": "Exception",
            "Messages": [{"MessageId": "Base.1.8.InternalError", "Message": format!("bad {PASSWORD}")}]})),
    )
    .await;
    let (client, started) = start_task(&server).await;
    let err = client
        .wait_task(started, &quick_wait(), &mut |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::TaskFailed { state, .. } if state == "Exception"),
        "{err:?}"
    );
    assert!(err.is_task_failure());
    assert_eq!(err.message_id(), Some("Base.1.8.InternalError"));
    assert!(
        !format!("{err:?}").contains(PASSWORD),
        "task messages are scrubbed"
    );

    let vanishing = bmc(json!({})).await;
    // The monitor answers 404 at once: the BMC dropped the task.
    let (client, started) = start_task(&vanishing).await;
    let err = client
        .wait_task(started, &quick_wait(), &mut |_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TaskVanished { .. }), "{err:?}");

    Mock::given(method("DELETE"))
        .and(path(MONITOR))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&vanishing)
        .await;
    client.cancel_task(MONITOR).await.unwrap();
    vanishing.verify().await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_before_it_is_buffered() {
    let server = bmc(json!({})).await;
    get_json(
        &server,
        SYS,
        json!({"Id": "1", "Padding": "x".repeat(4096)}),
    )
    .await;
    let client = RedfishClient::builder(server.uri())
        .credentials(USER, SecretString::from(PASSWORD))
        .max_response_bytes(1024)
        .build()
        .unwrap();
    let err = read_system(&client, "1").await.unwrap_err();
    assert!(
        matches!(err, Error::ResponseTooLarge { limit: 1024, .. }),
        "{err:?}"
    );
    client.close().await.unwrap();

    // A chunked answer without Content-Length that never ends: read up to the limit only.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let sent = Arc::new(Mutex::new(0_usize));
    let sent_by_server = Arc::clone(&sent);
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = [0_u8; 4096];
        let _ = socket.read(&mut request).await;
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        if socket.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let chunk = format!("{:x}\r\n{}\r\n", 65536, " ".repeat(65536));
        while socket.write_all(chunk.as_bytes()).await.is_ok() {
            *sent_by_server.lock().unwrap() += 65536;
            if *sent_by_server.lock().unwrap() > 64 * 1024 * 1024 {
                break;
            }
        }
    });
    let endless = RedfishClient::builder(format!("http://{address}"))
        .max_response_bytes(1024 * 1024)
        .build()
        .unwrap();
    let err = endless.service_root().await.unwrap_err();
    assert!(matches!(err, Error::ResponseTooLarge { .. }), "{err:?}");
    assert!(
        *sent.lock().unwrap() < 16 * 1024 * 1024,
        "the client stopped reading near the limit"
    );
}

#[tokio::test]
async fn a_collection_over_the_member_limit_is_refused() {
    let server = bmc(json!({})).await;
    let members: Vec<Value> = (1..=5)
        .map(|i| json!({"@odata.id": format!("/redfish/v1/Chassis/{i}")}))
        .collect();
    get_json(&server, "/redfish/v1/Chassis", json!({"Members": members})).await;
    let client = RedfishClient::builder(server.uri())
        .credentials(USER, SecretString::from(PASSWORD))
        .max_collection_members(3)
        .build()
        .unwrap();
    let err = client
        .collection_links("/redfish/v1/Chassis")
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::CollectionTooLarge { limit: 3, .. }),
        "{err:?}"
    );
    client.close().await.unwrap();
}

#[tokio::test]
async fn a_reset_without_target_posts_under_the_system_itself() {
    let server = bmc(json!({})).await;
    get_json(
        &server,
        SYS,
        json!({"Id": "1", "PowerState": "On", "Actions": {"#ComputerSystem.Reset": {}}}),
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/redfish/v1/Systems/1/Actions/ComputerSystem.Reset"))
        .and(body_json(json!({"ResetType": "ForceRestart"})))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    client
        .system("1")
        .await
        .unwrap()
        .reset(ResetType::ForceRestart)
        .await
        .unwrap();
    server.verify().await;
    client.close().await.unwrap();
}

#[tokio::test]
async fn a_power_wait_ends_by_its_deadline_even_with_a_request_in_flight() {
    let server = bmc(json!({})).await;
    Mock::given(method("GET"))
        .and(path(SYS))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(system_json("1"))
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&server)
        .await;
    let client = client(&server);
    // The slow answer would say "On" (the wanted state) after 3 s; the deadline is 300 ms.
    let err = client
        .system(SYS)
        .await
        .unwrap()
        .wait_for_power_state(PowerState::On, Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::WaitTimeout { .. }), "{err:?}");
    client.close().await.unwrap();
}

#[tokio::test]
async fn secrets_a_caller_sent_in_a_body_never_reach_an_error() {
    let server = bmc(json!({})).await;
    let new_password = "N3w-Acc0unt-S3cret";
    Mock::given(method("PATCH"))
        .and(path("/redfish/v1/AccountService/Accounts/3"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "@Message.ExtendedInfo": [{
                "MessageId": format!("Base.1.8.{new_password}"),
                "Message": format!("The value '{new_password}' is too weak"),
                "MessageArgs": [new_password]}]}})))
        .mount(&server)
        .await;
    let client = client(&server);
    let err = client
        .patch(
            "/redfish/v1/AccountService/Accounts/3",
            &json!({"Password": new_password}),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(!shown.contains(new_password), "{shown}");
    }
    client.close().await.unwrap();
}

#[tokio::test]
async fn a_session_uri_outside_the_sessions_collection_is_never_deleted() {
    // A hostile BMC names an account as the session's URI, and its Id in the body.
    let server = bmc_answering_login_with(
        ResponseTemplate::new(201)
            .insert_header("X-Auth-Token", TOKEN)
            .insert_header("Location", "/redfish/v1/AccountService/Accounts/1")
            .set_body_json(json!({"Id": "s-42"})),
    )
    .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    get_json(&server, SYS, system_json("1")).await;
    let client = client(&server);
    read_system(&client, "1").await.unwrap();
    client.close().await.unwrap();
    assert!(
        received(&server, "DELETE", "/redfish/v1/AccountService/Accounts/1")
            .await
            .is_empty()
    );
    assert_eq!(
        received(
            &server,
            "DELETE",
            "/redfish/v1/SessionService/Sessions/s-42"
        )
        .await
        .len(),
        1,
        "deleted through the collection instead"
    );
}

#[derive(Debug, serde::Deserialize)]
struct Counter {
    #[serde(rename = "Count")]
    _count: u32,
}

#[tokio::test]
async fn a_body_that_does_not_decode_names_the_url_and_never_quotes_a_secret() {
    let server = bmc(json!({})).await;
    // A hostile BMC echoes the password where a number belongs, and answers garbage elsewhere.
    get_json(
        &server,
        "/redfish/v1/Oem/Counter",
        json!({"Count": PASSWORD}),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/redfish/v1/Oem/Garbage"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>not json</html>"))
        .mount(&server)
        .await;
    let client = client(&server);
    let err = client
        .get::<Counter>("/redfish/v1/Oem/Counter")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Decode { path, .. } if path == "Count"),
        "{err:?}"
    );
    assert!(err.url().unwrap().ends_with("/redfish/v1/Oem/Counter"));
    let shown = format!("{err} {err:?} {:?}", std::error::Error::source(&err));
    assert!(!shown.contains(PASSWORD), "{shown}");
    assert!(
        shown.contains("[redacted]"),
        "the parser's words stay, minus the secret: {shown}"
    );

    let err = client
        .get_json("/redfish/v1/Oem/Garbage")
        .await
        .unwrap_err();
    assert!(err.is_decode(), "{err:?}");
    assert!(err.url().unwrap().ends_with("/redfish/v1/Oem/Garbage"));
    client.close().await.unwrap();
}

#[tokio::test]
async fn before_the_firmware_is_read_a_vendor_named_by_the_root_already_gets_its_retries() {
    // iDRAC's "data sources unavailable" (SYS518) answers a read while the iDRAC reloads.
    let server = bmc(json!({"Vendor": "Dell", "Oem": {"Dell": {}}})).await;
    Mock::given(method("GET"))
        .and(path(SYS))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "@Message.ExtendedInfo": [{"MessageId": "IDRAC.2.8.SYS518"}]}})))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    get_json(&server, SYS, system_json("1")).await;
    let client = client(&server);
    let inventory = client.inventory("1").await.unwrap();
    assert_eq!(inventory.system.id.as_deref(), Some("1"));
    assert_eq!(received(&server, "GET", SYS).await.len(), 2, "retried once");
    assert!(
        received(&server, "GET", "/redfish/v1/Managers")
            .await
            .is_empty(),
        "no Manager read for an inventory"
    );
    client.close().await.unwrap();
}
