//! What the provisioning tests share: a mock fleet, a store in a temporary directory, an image
//! server with a bootable deploy image, and a connector with the mock's credentials.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferrofish::provision::{
    BmcRef, CleanStep, Connector, DeploySpec, Driver, FleetEvent, FleetPlan, Node, Policy,
    ProvisionError, RedfishPort, SqliteStore, StateStore,
};
use ferrofish::vmedia::{ImageServer, ImageServerOptions};
use ferrofish_mock_bmc::{DEFAULT_PASSWORD, DEFAULT_USER, MockBmc, MockBmcHandle, Personality};
use serde_json::{Value, json};

/// Static addressing for the config drive.
pub const NETWORK_DATA: &str = r#"{
  "links": [{"id": "eno1", "type": "phy", "ethernet_mac_address": "52:54:00:ab:cd:ef"}],
  "networks": [{"id": "n0", "type": "ipv4", "link": "eno1", "ip_address": "192.0.2.77",
                "netmask": "255.255.255.0",
                "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "192.0.2.1"}]}]
}"#;

/// Opens Redfish ports on the mock with its default credentials.
#[derive(Clone, Debug)]
pub struct MockConnector;

impl Connector for MockConnector {
    type Port = RedfishPort;

    async fn connect(&self, node: &Node) -> Result<RedfishPort, ProvisionError> {
        let port = RedfishPort::connect(
            &node.bmc.address,
            DEFAULT_USER,
            DEFAULT_PASSWORD.into(),
            Duration::from_secs(5),
        )
        .await
        .map_err(|err| ProvisionError::Connect {
            node: node.name.clone(),
            reason: err.to_string(),
        })?;
        Ok(port.with_media_retry_pause(Duration::from_millis(20)))
    }

    async fn disconnect(&self, port: RedfishPort) {
        port.close().await;
    }
}

/// Short timeouts and quick polls for the mock.
pub fn fast_policy() -> Policy {
    Policy {
        power_timeout: Duration::from_secs(5),
        boot_timeout: Duration::from_secs(20),
        bios_timeout: Duration::from_secs(10),
        poll_interval: Duration::from_millis(25),
    }
}

/// A mock fleet, a store, an image server with a bootable deploy image.
pub struct Env {
    pub mock: MockBmcHandle,
    pub store: SqliteStore,
    #[allow(dead_code)] // used by the crash tests
    pub store_url: String,
    pub images: Arc<ImageServer>,
    pub image_url: String,
    pub dir: tempfile::TempDir,
}

impl Env {
    pub async fn start(nodes: usize, personality: Personality) -> Env {
        let mock = MockBmc::builder()
            .nodes(nodes)
            .personality(personality)
            .spawn()
            .await
            .expect("mock");
        Env::with_mock(mock).await
    }

    pub async fn with_mock(mock: MockBmcHandle) -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        let store_url = format!("sqlite:{}", dir.path().join("fleet.db").display());
        let store = SqliteStore::connect(&store_url).await.expect("store");
        let images = ImageServer::start(ImageServerOptions::http(SocketAddr::from((
            Ipv4Addr::LOCALHOST,
            0,
        ))))
        .await
        .expect("image server");
        let iso = ferrofish_mock_bmc::iso9660::build_bootable_iso(
            "DEPLOY",
            &[("README.TXT", b"a deploy image".as_slice())],
        );
        let image_url = images
            .serve_bytes("deploy.iso", iso)
            .await
            .expect("serve")
            .to_string();
        Env {
            mock,
            store,
            store_url,
            images: Arc::new(images),
            image_url,
            dir,
        }
    }

    /// Enrolls node `i` of the mock as `node-i`.
    pub async fn enroll_all(&self) {
        for i in 0..self.mock.len() {
            let mut node = Node::new(
                format!("node-{i}"),
                BmcRef {
                    address: self.mock.node(i).url(),
                    username: Some(DEFAULT_USER.into()),
                    password_env: Some("UNUSED_BY_THE_MOCK_CONNECTOR".into()),
                    credentials_ref: None,
                },
            );
            self.store.enroll(&mut node).await.expect("enroll");
        }
    }

    pub fn driver(&self, holder: &str) -> Driver<SqliteStore> {
        Driver::new(self.store.clone(), holder)
            .with_policy(fast_policy())
            .with_image_server(self.images.clone())
    }

    pub fn deploy(&self) -> DeploySpec {
        DeploySpec {
            image: self.image_url.clone(),
            network_data: Some(serde_json::from_str::<Value>(NETWORK_DATA).unwrap()),
            boot_mode: None,
        }
    }

    /// Inspect, clean with `settings`, provide, deploy.
    pub fn full_plan(&self, settings: &Value) -> FleetPlan {
        FleetPlan {
            inspect: true,
            clean_steps: vec![
                serde_json::from_value::<CleanStep>(json!({
                    "interface": "bios", "step": "apply_configuration",
                    "args": {"settings": settings}
                }))
                .unwrap(),
            ],
            provide: true,
            deploy: Some(self.deploy()),
        }
    }
}

/// Collects fleet events.
pub fn event_log() -> (Arc<Mutex<Vec<FleetEvent>>>, ferrofish::provision::EventSink) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink_log = log.clone();
    (
        log,
        Arc::new(move |event: &FleetEvent| sink_log.lock().unwrap().push(event.clone())),
    )
}

/// Mutating requests (not GET) the mock recorded for node `i`, as `METHOD path`.
pub fn writes(mock: &MockBmcHandle, i: usize) -> Vec<String> {
    mock.node(i)
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET" && !r.path.contains("SessionService"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// A port on mock node `i`, without transport retries (so an outage shows at once).
pub async fn port(mock: &MockBmcHandle, i: usize) -> RedfishPort {
    let client = ferrofish::redfish::RedfishClient::builder(mock.node(i).url())
        .credentials(DEFAULT_USER, DEFAULT_PASSWORD.into())
        .retry_policy(ferrofish::redfish::RetryPolicy::none())
        .request_timeout(Duration::from_secs(2))
        .build()
        .expect("client");
    let system = client.systems().await.expect("systems").remove(0);
    RedfishPort::new(&system).with_media_retry_pause(Duration::from_millis(20))
}

/// Calls `advance` until the operation ends or `stop` says so; returns the last result.
pub async fn drive_until<P: ferrofish::provision::BmcPort>(
    driver: &Driver<SqliteStore>,
    node: &mut Node,
    port: &P,
    stop: impl Fn(&Node) -> bool,
) -> ferrofish::provision::Advance {
    use ferrofish::provision::{Advance, Timestamp};
    for _ in 0..2_000 {
        let advance = driver
            .advance(node, port, Timestamp::now())
            .await
            .expect("advance");
        match &advance {
            Advance::Done | Advance::Failed { .. } => return advance,
            _ if stop(node) => return advance,
            Advance::Waiting { until } => {
                let pause = Timestamp::now()
                    .until(*until)
                    .min(Duration::from_millis(50));
                tokio::time::sleep(pause).await;
            }
            Advance::Continue => {}
        }
    }
    panic!("the node never settled: {node:#?}");
}

/// A clean event with one `bios.apply_configuration`.
pub fn bios_clean(settings: &Value) -> ferrofish::provision::Event {
    ferrofish::provision::Event::clean_from_json(&json!([{
        "interface": "bios", "step": "apply_configuration", "args": {"settings": settings}
    }]))
    .expect("clean steps")
}

/// Enrolls node 0, claims it for `driver` and takes it to `manageable`.
pub async fn manageable<P: ferrofish::provision::BmcPort>(
    env: &Env,
    driver: &Driver<SqliteStore>,
    port: &P,
) -> Node {
    use ferrofish::provision::{Event, ProvisionState, Timestamp};
    env.enroll_all().await;
    let mut node = driver
        .claim("node-0", Timestamp::now())
        .await
        .expect("claim");
    driver
        .send(&mut node, Event::Manage, Timestamp::now())
        .await
        .expect("manage");
    drive_until(driver, &mut node, port, |_| false).await;
    assert_eq!(node.state, ProvisionState::Manageable, "{node:#?}");
    node
}

/// A port on `/redfish/v1/Systems/1` of `url` with `password`, without retries (only the
/// service root is read to build it).
pub async fn port_at(url: &str, password: &str) -> RedfishPort {
    let client = ferrofish::redfish::RedfishClient::builder(url)
        .credentials(DEFAULT_USER, password.into())
        .retry_policy(ferrofish::redfish::RetryPolicy::none())
        .request_timeout(Duration::from_secs(2))
        .build()
        .expect("client");
    let system = client
        .system("/redfish/v1/Systems/1")
        .await
        .expect("system");
    RedfishPort::new(&system)
}
