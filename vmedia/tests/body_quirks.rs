//! Insert-body quirks the mock BMC has no personality switch for yet (`TransferProtocolType`
//! required as on Nokia, `TransferMethod` as in OCPBUGS-12703, placeholder credentials as on
//! NVIDIA DGX), against a wiremock BMC on loopback that keeps its slot's state: each branch of
//! the body growth runs, in the order the BMC asks, and the slot is verified at the end.

use std::sync::{Arc, Mutex};

use ferrofish_redfish_core::{RedfishClient, SecretString};
use ferrofish_vmedia::{Error, MediaKind, VirtualMedia};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const SYSTEM: &str = "/redfish/v1/Systems/1";
const COLLECTION: &str = "/redfish/v1/Systems/1/VirtualMedia";
const CD: &str = "/redfish/v1/Systems/1/VirtualMedia/CD";
const INSERT: &str = "/redfish/v1/Systems/1/VirtualMedia/CD/Actions/VirtualMedia.InsertMedia";
const IMAGE: &str = "https://images.example:8443/f00d/boot.iso";

#[derive(Default)]
struct SlotState {
    image: Option<String>,
    bodies: Vec<Value>,
}

fn error(id: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(400).set_body_json(json!({"error": {
        "code": id, "message": "error",
        "@Message.ExtendedInfo": [{"MessageId": id, "Message": message}]}}))
}

/// Accepts an insert only with every field the quirky BMCs ask for, asking one at a time.
struct PickyInsert(Arc<Mutex<SlotState>>);

impl Respond for PickyInsert {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let mut state = self.0.lock().unwrap();
        state.bodies.push(body.clone());
        if body.get("TransferProtocolType").is_none() {
            return error(
                "Base.1.8.ActionParameterMissing",
                "The action VirtualMedia.InsertMedia requires the parameter TransferProtocolType to be present in the request body.",
            );
        }
        if body.get("TransferMethod").is_none() {
            return error(
                "Base.1.8.PropertyMissing",
                "The property TransferMethod is a required property and must be included in the request.",
            );
        }
        if body.get("UserName").is_none() {
            return error(
                "Base.1.8.GeneralError",
                "UserName and Password are required to mount remote media.",
            );
        }
        state.image = body["Image"].as_str().map(str::to_owned);
        ResponseTemplate::new(204)
    }
}

struct SlotRead(Arc<Mutex<SlotState>>);

impl Respond for SlotRead {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let state = self.0.lock().unwrap();
        ResponseTemplate::new(200).set_body_json(json!({
            "@odata.id": CD, "Id": "CD", "MediaTypes": ["CD", "DVD"],
            "Image": state.image, "Inserted": state.image.is_some(),
            "Actions": {"#VirtualMedia.InsertMedia": {"target": INSERT}}
        }))
    }
}

async fn bmc(slot_media_types: &[&str], state: &Arc<Mutex<SlotState>>) -> MockServer {
    bmc_with(slot_media_types, state, PickyInsert(state.clone())).await
}

async fn bmc_with(
    slot_media_types: &[&str],
    state: &Arc<Mutex<SlotState>>,
    insert: impl Respond + 'static,
) -> MockServer {
    let server = MockServer::start().await;
    let get = |at: &'static str, body: Value| {
        Mock::given(method("GET"))
            .and(path(at))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
    };
    get(
        "/redfish/v1/",
        json!({"@odata.id": "/redfish/v1", "Id": "RootService",
        "Systems": {"@odata.id": "/redfish/v1/Systems"}}),
    )
    .mount(&server)
    .await;
    get(
        SYSTEM,
        json!({"@odata.id": SYSTEM, "@odata.type": "#ComputerSystem.v1_20_0.ComputerSystem",
        "Id": "1", "VirtualMedia": {"@odata.id": COLLECTION}}),
    )
    .mount(&server)
    .await;
    get(
        COLLECTION,
        json!({"@odata.id": COLLECTION, "Members": [{"@odata.id": CD}],
        "Members@odata.count": 1}),
    )
    .mount(&server)
    .await;
    if slot_media_types.contains(&"CD") {
        Mock::given(method("GET"))
            .and(path(CD))
            .respond_with(SlotRead(state.clone()))
            .mount(&server)
            .await;
    } else {
        get(
            CD,
            json!({"@odata.id": CD, "Id": "CD", "MediaTypes": slot_media_types}),
        )
        .mount(&server)
        .await;
    }
    Mock::given(method("POST"))
        .and(path(INSERT))
        .respond_with(insert)
        .mount(&server)
        .await;
    server
}

fn client(server: &MockServer) -> RedfishClient {
    RedfishClient::builder(server.uri())
        .credentials("admin", SecretString::from("Pw-SECRET"))
        .auth(ferrofish_redfish_core::AuthMode::Basic)
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_body_grows_one_asked_field_at_a_time_until_the_bmc_accepts() {
    let state = Arc::new(Mutex::new(SlotState::default()));
    let server = bmc(&["CD", "DVD"], &state).await;
    let system = client(&server).system(SYSTEM).await.unwrap();
    let slot = VirtualMedia::new(&system)
        .insert(IMAGE, MediaKind::Cd)
        .await
        .unwrap();
    assert!(slot.holds(IMAGE));
    let bodies = state.lock().unwrap().bodies.clone();
    assert_eq!(
        bodies,
        [
            json!({"Image": IMAGE}),
            json!({"Image": IMAGE, "TransferProtocolType": "HTTPS"}),
            json!({"Image": IMAGE, "TransferProtocolType": "HTTPS", "TransferMethod": "Stream"}),
            json!({"Image": IMAGE, "TransferProtocolType": "HTTPS", "TransferMethod": "Stream",
                   "UserName": "none", "Password": "none"}),
        ]
    );
}

#[tokio::test]
async fn a_system_without_a_cd_slot_is_a_typed_error_and_nothing_is_written() {
    let state = Arc::new(Mutex::new(SlotState::default()));
    let server = bmc(&["USBStick"], &state).await;
    let system = client(&server).system(SYSTEM).await.unwrap();
    let err = VirtualMedia::new(&system)
        .insert(IMAGE, MediaKind::Cd)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NoSlot { found: 1, .. }), "{err}");
    let posts = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() != "GET")
        .count();
    assert_eq!(posts, 0);
}

/// Answers 5xx to the first `failures` inserts (an iDRAC still finishing an eject), then
/// inserts.
struct BusyThenInsert {
    state: Arc<Mutex<SlotState>>,
    failures: usize,
}

impl Respond for BusyThenInsert {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let mut state = self.state.lock().unwrap();
        state.bodies.push(body.clone());
        if state.bodies.len() <= self.failures {
            return ResponseTemplate::new(500).set_body_json(json!({"error": {
                "code": "Base.1.8.GeneralError", "message": "error",
                "@Message.ExtendedInfo": [{"MessageId": "Base.1.8.GeneralError",
                    "Message": "A general error has occurred."}]}}));
        }
        state.image = body["Image"].as_str().map(str::to_owned);
        ResponseTemplate::new(204)
    }
}

#[tokio::test]
async fn a_5xx_insert_is_retried_on_the_same_slot_a_bounded_number_of_times() {
    for (failures, succeeds) in [(2, true), (10, false)] {
        let state = Arc::new(Mutex::new(SlotState::default()));
        let insert = BusyThenInsert {
            state: state.clone(),
            failures,
        };
        let server = bmc_with(&["CD", "DVD"], &state, insert).await;
        let system = client(&server).system(SYSTEM).await.unwrap();
        let media = VirtualMedia::new(&system)
            .with_server_error_pause(std::time::Duration::from_millis(10));
        let result = media.insert(IMAGE, MediaKind::Cd).await;
        let posts = state.lock().unwrap().bodies.len();
        if succeeds {
            assert!(result.unwrap().holds(IMAGE));
            assert_eq!(posts, 3);
        } else {
            let err = result.unwrap_err();
            assert!(
                matches!(&err, Error::Redfish(e) if e.status() == Some(500)),
                "{err}"
            );
            // The first try and 3 retries.
            assert_eq!(posts, 4);
        }
    }
}
