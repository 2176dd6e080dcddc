//! The Dell OEM client's link safety against a hand-made iDRAC (wiremock): an action target
//! or job link on another origin is refused and nothing is sent there.

mod common;

use common::{SESSION_1, TOKEN, client, mount_session};
use ferrofish_redfish_core::Error;
use ferrofish_redfish_core::oem::dell::DellOem;
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const MANAGER: &str = "/redfish/v1/Managers/iDRAC.Embedded.1";

/// A JSON GET, with or without the session token (the root is read before login).
async fn get_json(server: &MockServer, at: &str, body: serde_json::Value) {
    Mock::given(method("GET"))
        .and(wiremock::matchers::path(at))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

async fn idrac(lc_service: serde_json::Value) -> MockServer {
    let server = MockServer::start().await;
    mount_session(&server, TOKEN, SESSION_1).await;
    get_json(
        &server,
        "/redfish/v1/",
        common::service_root(&json!({"Vendor": "Dell"})),
    )
    .await;
    get_json(
        &server,
        "/redfish/v1/Managers",
        json!({"Members": [{"@odata.id": MANAGER}]}),
    )
    .await;
    get_json(
        &server,
        MANAGER,
        json!({"@odata.id": MANAGER, "Id": "iDRAC.Embedded.1", "Model": "15G Monolithic",
               "FirmwareVersion": "6.00.30.00",
               "Links": {"Oem": {"Dell": {
                   "DellLCService": {"@odata.id": format!("{MANAGER}/Oem/Dell/DellLCService")},
                   "Jobs": {"@odata.id": "https://elsewhere.example/redfish/v1/Jobs"}}}}}),
    )
    .await;
    get_json(
        &server,
        &format!("{MANAGER}/Oem/Dell/DellLCService"),
        lc_service,
    )
    .await;
    server
}

#[tokio::test]
async fn an_off_origin_dell_action_target_is_refused_and_nothing_is_posted() {
    let server = idrac(
        json!({"@odata.type": "#DellLCService.v1_3_0.DellLCService", "Actions": {
        "#DellLCService.GetRemoteServicesAPIStatus": {"target": "https://evil.example/steal"}}}),
    )
    .await;
    let client = client(&server);
    let dell = DellOem::new(&client);
    let err = dell.remote_services_status().await.expect_err("refused");
    assert!(matches!(err, Error::OffOriginLink { .. }), "{err}");
    let err = dell
        .jobs()
        .await
        .expect_err("the jobs link is off origin too");
    assert!(matches!(err, Error::OffOriginLink { .. }), "{err}");
    let posts = server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.method.as_str() == "POST" && !r.url.path().ends_with("/Sessions"))
        .count();
    assert_eq!(posts, 0);
}

#[tokio::test]
async fn an_lc_answer_without_its_fields_is_unsupported_not_ready() {
    let server = idrac(json!({"Actions": {}})).await;
    Mock::given(method("POST"))
        .and(wiremock::matchers::path(format!(
            "{MANAGER}/Oem/Dell/DellLCService/Actions/DellLCService.GetRemoteServicesAPIStatus"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"Foo": 1})))
        .mount(&server)
        .await;
    let client = client(&server);
    let err = DellOem::new(&client)
        .remote_services_status()
        .await
        .expect_err("no LCStatus");
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
}
