//! Real vendor captures (Dell iDRAC9, HPE iLO 5), served from a tiny local server: every
//! System, Manager and Chassis parses, and the inventory holds what the capture holds.
//!
//! Expected counts are computed here from the raw files, independently of the client.
//! Skipped (with a message) when `../shared/fixtures/vendor-captures` is absent.

use std::path::{Path, PathBuf};

use ferrofish_redfish_core::models::{Chassis, Manager};
use ferrofish_redfish_core::{RedfishClient, SecretString, Vendor};
use serde_json::Value;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn capture_dir(vendor: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/vendor-captures")
        .join(vendor);
    if dir.join("redfish/v1/index.json").is_file() {
        Some(dir)
    } else {
        println!("skipping: vendor capture {} not found", dir.display());
        None
    }
}

/// Serves a mockup: `GET /a/b` → `a/b/index.json`, with login and logout.
struct CaptureServer {
    root: PathBuf,
}

impl CaptureServer {
    fn file_for(&self, url_path: &str) -> Option<PathBuf> {
        let relative = url_path.trim_matches('/');
        let exact = self.root.join(relative).join("index.json");
        if exact.is_file() {
            return Some(exact);
        }
        // iLO treats paths case-insensitively (its root links `/redfish/v1/systems/1/bios`).
        let mut dir = self.root.clone();
        for segment in relative.split('/') {
            let entry = std::fs::read_dir(&dir)
                .ok()?
                .filter_map(Result::ok)
                .find(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .eq_ignore_ascii_case(segment)
                })?;
            dir = entry.path();
        }
        let file = dir.join("index.json");
        file.is_file().then_some(file)
    }
}

impl Respond for CaptureServer {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path();
        match request.method.as_str() {
            "POST" if path.trim_end_matches('/').ends_with("/SessionService/Sessions") => {
                ResponseTemplate::new(201)
                    .insert_header("X-Auth-Token", "capture-token")
                    .insert_header("Location", "/redfish/v1/SessionService/Sessions/capture")
                    .set_body_json(serde_json::json!({"@odata.id": "/redfish/v1/SessionService/Sessions/capture"}))
            }
            "DELETE" => ResponseTemplate::new(204),
            "GET" => match self.file_for(path) {
                Some(file) => ResponseTemplate::new(200)
                    .set_body_raw(std::fs::read(file).unwrap_or_default(), "application/json"),
                None => ResponseTemplate::new(404),
            },
            _ => ResponseTemplate::new(405),
        }
    }
}

fn read_json(file: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap()
}

/// The `index.json` of every direct child folder of `dir`.
fn children(dir: &Path) -> Vec<Value> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .map(|e| e.path().join("index.json"))
        .filter(|f| f.is_file())
        .map(|f| read_json(&f))
        .collect()
}

fn state(v: &Value) -> Option<&str> {
    v.pointer("/Status/State").and_then(Value::as_str)
}

fn non_empty(v: &Value, key: &str) -> bool {
    v.get(key)
        .and_then(Value::as_str)
        .is_some_and(|s| !s.trim().is_empty())
}

struct Expected {
    cpus: usize,
    dimms: usize,
    disks: usize,
    nics: usize,
}

/// Counts straight from the capture's files.
fn expected_counts(system_dir: &Path) -> Expected {
    let cpus = children(&system_dir.join("Processors"))
        .iter()
        .filter(|p| p.get("ProcessorType").and_then(Value::as_str) == Some("CPU"))
        .filter(|p| state(p) != Some("Absent"))
        .count();
    let dimms = children(&system_dir.join("Memory"))
        .iter()
        .filter(|m| {
            state(m) != Some("Absent") && m.get("CapacityMiB").and_then(Value::as_u64) != Some(0)
        })
        .count();
    let mut drive_ids = std::collections::BTreeSet::new();
    for controller in std::fs::read_dir(system_dir.join("Storage"))
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
    {
        for drive in children(&controller.path().join("Drives")) {
            if state(&drive) != Some("Absent") {
                drive_ids.insert(
                    drive["@odata.id"]
                        .as_str()
                        .unwrap()
                        .trim_end_matches('/')
                        .to_owned(),
                );
            }
        }
    }
    let nics = children(&system_dir.join("EthernetInterfaces"))
        .iter()
        .filter(|n| non_empty(n, "MACAddress") || non_empty(n, "PermanentMACAddress"))
        .count();
    Expected {
        cpus,
        dimms,
        disks: drive_ids.len(),
        nics,
    }
}

async fn check_capture(vendor_dir: &str, vendor: Vendor) {
    let Some(dir) = capture_dir(vendor_dir) else {
        return;
    };
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(CaptureServer { root: dir.clone() })
        .mount(&server)
        .await;
    let client = RedfishClient::builder(server.uri())
        .credentials("root", SecretString::from("capture"))
        .build()
        .unwrap();

    assert_eq!(client.vendor().await.unwrap(), vendor);

    for collection in ["/redfish/v1/Managers", "/redfish/v1/Chassis"] {
        let members = client.get_json(collection).await.unwrap().into_body();
        let members = members["Members"].as_array().unwrap().clone();
        assert!(!members.is_empty(), "{collection} is empty");
        for member in members {
            let path = member["@odata.id"].as_str().unwrap();
            let json = client.get_json(path).await.unwrap().into_body();
            if collection.ends_with("Managers") {
                let m: Manager =
                    serde_json::from_value(json).unwrap_or_else(|e| panic!("{path}: {e}"));
                assert!(m.firmware_version.is_some(), "{path}");
            } else {
                let c: Chassis =
                    serde_json::from_value(json).unwrap_or_else(|e| panic!("{path}: {e}"));
                assert!(c.id.is_some(), "{path}");
            }
        }
    }

    let systems = client.system_ids().await.unwrap();
    assert!(!systems.is_empty());
    for system in &systems {
        let parsed = client
            .system(system)
            .await
            .unwrap()
            .read()
            .await
            .unwrap()
            .value;
        assert!(
            parsed.reset_action().is_some(),
            "{system} has a Reset action"
        );
        let inventory = client.inventory(system).await.unwrap();
        let system_dir = dir.join(system.trim_start_matches('/'));
        let want = expected_counts(&system_dir);
        println!(
            "{vendor_dir} {system}: {} CPUs, {} DIMMs, {} disks, {} NICs, {} PCIe, {:?}",
            inventory.cpu.count,
            inventory.memory.dimms.len(),
            inventory.disks.len(),
            inventory.nics.len(),
            inventory.pcie_devices.len(),
            client.request_counts()
        );
        assert!(want.cpus > 0 && want.dimms > 0 && want.disks > 0 && want.nics > 0);
        assert_eq!(inventory.cpu.count, want.cpus as u64, "CPUs");
        assert_eq!(inventory.memory.dimms.len(), want.dimms, "DIMMs");
        assert_eq!(inventory.disks.len(), want.disks, "disks");
        assert_eq!(inventory.nics.len(), want.nics, "NICs");
        let summary_gib = parsed
            .memory_summary
            .unwrap()
            .total_system_memory_gib
            .unwrap();
        let mib_from_summary = format!("{:.0}", summary_gib * 1024.0);
        assert_eq!(
            inventory.memory.total_mib.to_string(),
            mib_from_summary,
            "DIMMs add up to the summary"
        );
        assert!(!inventory.pcie_devices.is_empty());
        assert!(inventory.cpu.cores.is_some_and(|c| c > 0));
    }
    client.close().await.unwrap();
}

#[tokio::test]
async fn dell_idrac9_capture() {
    check_capture("dell", Vendor::Dell).await;
}

#[tokio::test]
async fn hpe_ilo5_capture() {
    check_capture("hpe", Vendor::Hpe).await;
}
