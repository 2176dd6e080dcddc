//! HPE's boot-on-next-reset path of `boot_from_iso`, which the mock BMC does not offer yet:
//! a slot with `Oem.Hpe.BootOnNextServerReset` is set instead of the System's boot override,
//! and only `BootProgress` confirms the boot — an `OSRunning` left over from before the reset
//! does not count until the BMC has shown the new boot starting. Against a stateful wiremock
//! iLO on loopback.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferrofish_redfish_core::{AuthMode, RedfishClient, SecretString};
use ferrofish_vmedia::{BootOptions, VirtualMedia};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const SYSTEM: &str = "/redfish/v1/Systems/1";
const RESET: &str = "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset";
const MANAGER: &str = "/redfish/v1/Managers/1";
const COLLECTION: &str = "/redfish/v1/Managers/1/VirtualMedia";
const CD: &str = "/redfish/v1/Managers/1/VirtualMedia/2";
const INSERT: &str = "/redfish/v1/Managers/1/VirtualMedia/2/Actions/VirtualMedia.InsertMedia";
const EJECT: &str = "/redfish/v1/Managers/1/VirtualMedia/2/Actions/VirtualMedia.EjectMedia";
const IMAGE: &str = "http://192.0.2.5:8080/t0ken/boot.iso";

#[derive(Default)]
struct Ilo {
    image: Option<String>,
    boot_on_next_reset: bool,
    resets: Vec<Value>,
    /// System reads since the reset: the boot shows up on the third.
    reads_after_reset: usize,
}

#[derive(Clone)]
struct Handler(Arc<Mutex<Ilo>>);

impl Respond for Handler {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut ilo = self.0.lock().unwrap();
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let ok = |json: Value| ResponseTemplate::new(200).set_body_json(json);
        match (request.method.as_str(), request.url.path()) {
            ("GET", SYSTEM) => {
                let state = if ilo.resets.is_empty() {
                    "OSRunning"
                } else {
                    ilo.reads_after_reset += 1;
                    // The first read still shows the old boot (the BMC has not caught up with
                    // the reset), the second the new boot starting, then the OS.
                    if ilo.reads_after_reset == 2 {
                        "SystemHardwareInitializationComplete"
                    } else {
                        "OSRunning"
                    }
                };
                ok(json!({
                    "@odata.id": SYSTEM, "@odata.type": "#ComputerSystem.v1_13_0.ComputerSystem",
                    "Id": "1", "PowerState": "On",
                    "Boot": {"BootSourceOverrideEnabled": "Disabled", "BootSourceOverrideTarget": "None"},
                    "BootProgress": {"LastState": state},
                    "Links": {"ManagedBy": [{"@odata.id": MANAGER}]},
                    "Actions": {"#ComputerSystem.Reset": {"target": RESET,
                        "ResetType@Redfish.AllowableValues": ["On", "ForceOff", "ForceRestart"]}}
                }))
            }
            ("GET", MANAGER) => ok(json!({"@odata.id": MANAGER, "Id": "1",
                "@odata.type": "#Manager.v1_5_1.Manager",
                "VirtualMedia": {"@odata.id": COLLECTION}})),
            ("GET", COLLECTION) => ok(json!({"@odata.id": COLLECTION,
                "Members": [{"@odata.id": CD}], "Members@odata.count": 1})),
            ("GET", CD) => ok(json!({
                "@odata.id": CD, "Id": "2", "MediaTypes": ["CD", "DVD"],
                "Image": ilo.image, "Inserted": ilo.image.is_some(),
                "Oem": {"Hpe": {"BootOnNextServerReset": ilo.boot_on_next_reset}},
                "Actions": {"#VirtualMedia.InsertMedia": {"target": INSERT},
                            "#VirtualMedia.EjectMedia": {"target": EJECT}}
            })),
            ("POST", INSERT) => {
                ilo.image = body["Image"].as_str().map(str::to_owned);
                ResponseTemplate::new(204)
            }
            ("POST", EJECT) => {
                ilo.image = None;
                ilo.boot_on_next_reset = false;
                ResponseTemplate::new(204)
            }
            ("PATCH", CD) => {
                match body.pointer("/Oem/Hpe/BootOnNextServerReset") {
                    Some(Value::Bool(on)) => ilo.boot_on_next_reset = *on,
                    _ => return ResponseTemplate::new(400),
                }
                ResponseTemplate::new(204)
            }
            ("POST", RESET) => {
                ilo.resets.push(body);
                ResponseTemplate::new(204)
            }
            _ => ResponseTemplate::new(404),
        }
    }
}

#[tokio::test]
async fn boot_on_next_reset_replaces_the_override_and_a_stale_os_state_is_not_believed() {
    let state = Arc::new(Mutex::new(Ilo::default()));
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/redfish/v1/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "@odata.id": "/redfish/v1", "Id": "RootService", "Vendor": "HPE",
            "Systems": {"@odata.id": "/redfish/v1/Systems"}})))
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::any())
        .respond_with(Handler(state.clone()))
        .mount(&server)
        .await;
    let client = RedfishClient::builder(server.uri())
        .credentials("admin", SecretString::from("Pw-SECRET"))
        .auth(AuthMode::Basic)
        .build()
        .unwrap();
    let system = client.system(SYSTEM).await.unwrap();
    let options = BootOptions {
        timeout: Duration::from_secs(20),
        poll_interval: Duration::from_millis(10),
        eject_after: true,
    };
    let report = VirtualMedia::new(&system)
        .boot_from_iso(IMAGE, &options)
        .await
        .unwrap();
    assert!(report.hpe_boot_on_next_reset);
    assert_eq!(report.boot_progress.as_deref(), Some("OSRunning"));
    assert!(report.ejected);
    {
        let ilo = state.lock().unwrap();
        assert_eq!(ilo.resets, [json!({"ResetType": "ForceRestart"})]);
        assert!(
            ilo.reads_after_reset >= 3,
            "the stale OSRunning was taken for the boot"
        );
        assert_eq!(ilo.image, None);
    }
    // No boot override was written to the System.
    let requests = server.received_requests().await.unwrap();
    assert!(
        !requests
            .iter()
            .any(|r| r.method.as_str() == "PATCH" && r.url.path() == SYSTEM)
    );
    let slot_patch = requests
        .iter()
        .find(|r| r.method.as_str() == "PATCH" && r.url.path() == CD)
        .expect("the slot was PATCHed");
    let body: Value = serde_json::from_slice(&slot_patch.body).unwrap();
    assert_eq!(
        body,
        json!({"Oem": {"Hpe": {"BootOnNextServerReset": true}}})
    );
}
