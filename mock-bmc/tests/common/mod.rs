//! Helpers shared by the integration tests: a reqwest client, polling, an image server.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ferrofish_mock_bmc::{MockBmc, MockBmcHandle, NodeHandle, Personality, PowerDelays};
use serde_json::Value;

pub const USER: &str = "admin";
pub const PASS: &str = "password";

pub fn fast_delays() -> PowerDelays {
    PowerDelays {
        on: Duration::from_millis(30),
        force_off: Duration::from_millis(10),
        graceful_shutdown: Duration::from_millis(40),
    }
}

pub async fn spawn(p: Personality) -> MockBmcHandle {
    MockBmc::builder()
        .nodes(1)
        .personality(p)
        .power_delays(fast_delays())
        .spawn()
        .await
        .expect("mock starts")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

pub struct Bmc {
    pub base: String,
    pub http: reqwest::Client,
    pub node: NodeHandle,
}

impl Bmc {
    pub fn new(node: NodeHandle) -> Self {
        Bmc {
            base: node.url(),
            http: client(),
            node,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .basic_auth(USER, Some(PASS))
            .send()
            .await
            .expect("GET")
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().await.expect("json")
    }

    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .basic_auth(USER, Some(PASS))
            .json(&body)
            .send()
            .await
            .expect("POST")
    }

    pub async fn patch(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .patch(self.url(path))
            .basic_auth(USER, Some(PASS))
            .json(&body)
            .send()
            .await
            .expect("PATCH")
    }

    pub async fn reset(&self, system: &str, kind: &str) -> reqwest::Response {
        self.post(
            &format!("{system}/Actions/ComputerSystem.Reset"),
            serde_json::json!({"ResetType": kind}),
        )
        .await
    }

    /// Polls the System until `PowerState` equals `want` (generous timeout for loaded machines).
    pub async fn wait_power(&self, system: &str, want: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let v = self.get_json(system).await;
            if v["PowerState"] == want {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "PowerState stayed {} (wanted {want})",
                v["PowerState"]
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

pub fn message_ids(body: &Value) -> Vec<String> {
    body["error"]["@Message.ExtendedInfo"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m["MessageId"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Serves `routes` (path → bytes) over plain HTTP on an ephemeral loopback port.
pub async fn image_server(routes: Vec<(&'static str, Vec<u8>)>) -> SocketAddr {
    use axum::routing::get;
    let mut app = axum::Router::new();
    for (path, bytes) in routes {
        app = app.route(path, get(move || async move { bytes.clone() }));
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind image server");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

pub const NETWORK_DATA: &[u8] = br#"{"links":[{"id":"eth0","type":"phy","ethernet_mac_address":"02:f0:00:00:00:01"}],
 "networks":[{"id":"net0","link":"eth0","type":"ipv4","ip_address":"192.0.2.44","netmask":"255.255.255.0",
 "routes":[{"network":"0.0.0.0","netmask":"0.0.0.0","gateway":"192.0.2.1"}]}],"services":[]}"#;

/// A config drive built by hand with the crate's minimal ISO writer.
pub fn config_drive() -> Vec<u8> {
    ferrofish_mock_bmc::iso9660::build_iso(
        "config-2",
        &[
            ("openstack/latest/network_data.json", NETWORK_DATA),
            ("openstack/latest/meta_data.json", b"{\"uuid\":\"x\"}"),
        ],
    )
}

/// Polls a task monitor until it stops answering 202 (each 202 carries `Retry-After`), then
/// returns the task.
pub async fn wait_task(bmc: &Bmc, monitor: &str) -> serde_json::Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let r = bmc.get(monitor).await;
        if r.status() != 202 {
            assert_eq!(r.status(), 200, "{monitor}");
            return r.json().await.unwrap();
        }
        assert!(r.headers().contains_key("retry-after"));
        assert!(std::time::Instant::now() < deadline, "task never finished");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A Supermicro fleet with the `insert_returns_task` option.
pub async fn spawn_async_insert() -> ferrofish_mock_bmc::MockBmcHandle {
    ferrofish_mock_bmc::MockBmc::builder()
        .personality(Personality::Supermicro)
        .insert_returns_task(true)
        .power_delays(fast_delays())
        .spawn()
        .await
        .unwrap()
}
