//! Edge cases through the I/O path, against a small stateful fake BMC on 127.0.0.1: no
//! registry (validation from current types), malformed registry, Bios resource and settings
//! object (typed errors naming the URL and JSON path, the registry error cached), a registry
//! file without `Location`, a system without Bios, and an attribute the BMC rejects only when
//! applying (reported with its `MessageId` from the settings object's `Messages`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferrofish_bios::{ApplyOptions, AttributeStatus, Bios, BiosError, Profile};
use ferrofish_redfish_core::{RedfishClient, SecretString, System, TaskWait};
use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

type Resources = Arc<Mutex<HashMap<String, Value>>>;

/// Serves `resources` by path; a reset POST runs `on_reset` on them; PATCH merges the
/// `Attributes` into the settings object.
struct Fake {
    resources: Resources,
    on_reset: fn(&mut HashMap<String, Value>),
}

impl Respond for Fake {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path().trim_end_matches('/').to_owned();
        let mut resources = self.resources.lock().unwrap();
        match request.method.as_str() {
            "POST" if path.ends_with("/Sessions") => ResponseTemplate::new(201)
                .insert_header("X-Auth-Token", "t")
                .insert_header("Location", "/redfish/v1/SessionService/Sessions/1"),
            "POST" if path.ends_with("ComputerSystem.Reset") => {
                (self.on_reset)(&mut resources);
                ResponseTemplate::new(204)
            }
            "PATCH" => {
                let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
                if let Some(Value::Object(target)) = resources
                    .get_mut(&path)
                    .and_then(|r| r.get_mut("Attributes"))
                    && let Some(Value::Object(changes)) = body.get("Attributes")
                {
                    target.extend(changes.clone());
                }
                ResponseTemplate::new(204)
            }
            "DELETE" => ResponseTemplate::new(204),
            "GET" => match resources.get(&path) {
                Some(v) => ResponseTemplate::new(200).set_body_json(v),
                None => ResponseTemplate::new(404),
            },
            _ => ResponseTemplate::new(405),
        }
    }
}

const BIOS: &str = "/redfish/v1/Systems/1/Bios";
const SETTINGS: &str = "/redfish/v1/Systems/1/Bios/Settings";
const REGISTRY: &str = "/redfish/v1/Registries/Bios.v1_0_0/Bios.v1_0_0.json";

fn base() -> HashMap<String, Value> {
    let mut r = HashMap::new();
    r.insert("/redfish/v1".into(), json!({"@odata.id": "/redfish/v1", "@odata.type": "#ServiceRoot.v1_5_0.ServiceRoot", "Id": "RootService",
        "Systems": {"@odata.id": "/redfish/v1/Systems"}, "Registries": {"@odata.id": "/redfish/v1/Registries"},
        "Links": {"Sessions": {"@odata.id": "/redfish/v1/SessionService/Sessions"}}}));
    r.insert(
        "/redfish/v1/Systems".into(),
        json!({"Members": [{"@odata.id": "/redfish/v1/Systems/1"}], "Members@odata.count": 1}),
    );
    r.insert("/redfish/v1/Systems/1".into(), json!({"@odata.id": "/redfish/v1/Systems/1", "@odata.type": "#ComputerSystem.v1_20_0.ComputerSystem", "Id": "1",
        "PowerState": "On", "Bios": {"@odata.id": BIOS},
        "Actions": {"#ComputerSystem.Reset": {"target": "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset"}}}));
    r.insert(BIOS.into(), json!({"@odata.id": BIOS, "@odata.type": "#Bios.v1_2_0.Bios", "AttributeRegistry": "Bios.v1_0_0",
        "Attributes": {"BootMode": "Uefi", "Retries": 3, "Turbo": "Enabled"},
        "@Redfish.Settings": {"SettingsObject": {"@odata.id": SETTINGS}, "SupportedApplyTimes": ["OnReset"]}}));
    r.insert(
        SETTINGS.into(),
        json!({"@odata.id": SETTINGS, "@odata.type": "#Bios.v1_2_0.Bios", "Attributes": {}}),
    );
    r.insert(
        "/redfish/v1/Registries".into(),
        json!({"Members": [{"@odata.id": "/redfish/v1/Registries/Bios.v1_0_0"}]}),
    );
    r.insert("/redfish/v1/Registries/Bios.v1_0_0".into(), json!({"@odata.type": "#MessageRegistryFile.v1_1_0.MessageRegistryFile", "Id": "Bios.v1_0_0",
        "Location": [{"Language": "en", "Uri": REGISTRY}]}));
    r.insert(REGISTRY.into(), json!({"@odata.type": "#AttributeRegistry.v1_3_0.AttributeRegistry", "Id": "Bios.v1_0_0",
        "RegistryEntries": {"Attributes": [
            {"AttributeName": "BootMode", "Type": "Enumeration", "Value": [{"ValueName": "Uefi"}, {"ValueName": "Bios"}]},
            {"AttributeName": "Retries", "Type": "Integer", "LowerBound": 0, "UpperBound": 9},
            {"AttributeName": "Turbo", "Type": "Enumeration", "Value": [{"ValueName": "Enabled"}, {"ValueName": "Disabled"}]}]}}));
    r
}

fn no_op(_: &mut HashMap<String, Value>) {}

async fn start(
    resources: HashMap<String, Value>,
    on_reset: fn(&mut HashMap<String, Value>),
) -> (MockServer, Resources, System) {
    let server = MockServer::start().await;
    let shared = Arc::new(Mutex::new(resources));
    Mock::given(any())
        .respond_with(Fake {
            resources: Arc::clone(&shared),
            on_reset,
        })
        .mount(&server)
        .await;
    let client = RedfishClient::builder(server.uri())
        .credentials("u", SecretString::from("p"))
        .request_timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let system = client
        .system("/redfish/v1/Systems/1")
        .await
        .expect("system");
    (server, shared, system)
}

async fn gets(server: &MockServer, path: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.method.as_str() == "GET" && r.url.path() == path)
        .count()
}

#[tokio::test]
async fn without_registries_validation_uses_current_types_and_says_so() {
    let mut r = base();
    r.remove("/redfish/v1/Registries");
    let (_server, _r, system) = start(r, no_op).await;
    let snapshot = Bios::new(&system).read().await.expect("read");
    assert!(snapshot.registry.registry.is_none());
    assert!(
        snapshot
            .registry
            .note
            .as_deref()
            .is_some_and(|n| n.contains("no Registries"))
    );
    let plan = snapshot
        .plan(&Profile::parse("Retries=4\nBootMode=Anything").unwrap())
        .expect("types only");
    assert!(plan.validated.registry_missing);
    let err = snapshot
        .plan(&Profile::parse("Retries=many\nRetriez=1").unwrap())
        .expect_err("types");
    assert_eq!(err.problems().len(), 2, "{err}");
}

#[tokio::test]
async fn a_malformed_registry_names_url_and_path_and_is_read_once() {
    let mut r = base();
    r.insert(
        REGISTRY.into(),
        json!({"RegistryEntries": {"Attributes": {"not": "a list"}}}),
    );
    let (server, _r, system) = start(r, no_op).await;
    let bios = Bios::new(&system);
    for _ in 0..2 {
        let err = bios.read().await.expect_err("malformed");
        let BiosError::Malformed { url, json_path, .. } = &err else {
            panic!("{err}")
        };
        assert!(url.ends_with(REGISTRY), "{url}");
        assert_eq!(json_path, "$.RegistryEntries.Attributes");
    }
    assert_eq!(
        gets(&server, REGISTRY).await,
        1,
        "cached per client, failure included"
    );
}

#[tokio::test]
async fn malformed_bios_and_settings_objects_are_typed_errors() {
    let mut r = base();
    r.get_mut(SETTINGS).unwrap()["Attributes"] = json!(["x"]);
    let (_server, shared, system) = start(r, no_op).await;
    let bios = Bios::new(&system);
    let err = bios.read().await.expect_err("settings malformed");
    assert!(
        matches!(&err, BiosError::Malformed { url, json_path, .. } if url.ends_with(SETTINGS) && json_path == "$.Attributes"),
        "{err}"
    );
    shared.lock().unwrap().get_mut(BIOS).unwrap()["Attributes"] = json!("x");
    let err = bios.read().await.expect_err("bios malformed");
    assert!(
        matches!(&err, BiosError::Malformed { url, .. } if url.ends_with(BIOS)),
        "{err}"
    );
}

#[tokio::test]
async fn a_registry_file_without_location_falls_back_under_the_bios_resource() {
    let mut r = base();
    r.insert(
        "/redfish/v1/Registries/Bios.v1_0_0".into(),
        json!({"Id": "Bios.v1_0_0"}),
    );
    let registry = r.remove(REGISTRY).unwrap();
    r.insert(format!("{BIOS}/BiosRegistry"), registry);
    let (_server, _r, system) = start(r, no_op).await;
    let snapshot = Bios::new(&system).read().await.expect("read");
    assert_eq!(
        snapshot.registry.registry.map(|r| r.attributes.len()),
        Some(3)
    );
}

#[tokio::test]
async fn a_system_without_bios_says_so() {
    let mut r = base();
    r.get_mut("/redfish/v1/Systems/1")
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove("Bios");
    let (_server, _r, system) = start(r, no_op).await;
    let err = Bios::new(&system).read().await.expect_err("no bios");
    assert!(matches!(err, BiosError::NoBios { .. }), "{err}");
}

/// The reset applies `Retries` and refuses `Turbo`, saying so in `@Redfish.Settings.Messages`.
fn apply_one_reject_one(r: &mut HashMap<String, Value>) {
    let pending = r[SETTINGS]["Attributes"].clone();
    let bios = r.get_mut(BIOS).unwrap();
    if let Some(v) = pending.get("Retries") {
        bios["Attributes"]["Retries"] = v.clone();
    }
    bios["@Redfish.Settings"]["Time"] = json!("2026-12-06T05:00:00Z");
    bios["@Redfish.Settings"]["Messages"] = json!([{
        "MessageId": "Base.1.18.PropertyValueNotInList",
        "Message": "The value 'Disabled' for the property Turbo is not in the list of acceptable values.",
        "MessageArgs": ["Disabled", "Turbo"], "Severity": "Warning"}]);
    r.get_mut(SETTINGS).unwrap()["Attributes"] = json!({});
}

#[tokio::test]
async fn an_attribute_rejected_at_apply_time_is_reported_with_the_bmc_message() {
    let (_server, _r, system) = start(base(), apply_one_reject_one).await;
    let bios = Bios::new(&system);
    let staged = bios
        .stage(&Profile::parse("Retries=5\nTurbo=Disabled").unwrap())
        .await
        .expect("stage");
    assert!(staged.sent);
    let options = ApplyOptions {
        wait: TaskWait {
            timeout: Duration::from_secs(5),
            initial_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(100),
        },
        reset: true,
    };
    let err = bios
        .apply(&staged, &options, &mut |_| {})
        .await
        .expect_err("rejected");
    let BiosError::NotApplied { report } = &err else {
        panic!("{err}")
    };
    assert_eq!(report.attributes[0].status, AttributeStatus::Applied);
    assert!(
        matches!(&report.attributes[1].status, AttributeStatus::Rejected { message_id: Some(id), message: Some(m) }
            if id == "Base.1.18.PropertyValueNotInList" && m.contains("Turbo")),
        "{report}"
    );
}
