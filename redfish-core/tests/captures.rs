//! Real vendor captures (Dell iDRAC9, HPE iLO 5), served by the mock BMC's capture server: every
//! System, Manager and Chassis parses, the inventory holds what the capture holds, and what
//! `inspect` costs in requests is asserted exactly.
//!
//! That server answers `$expand` the way the captured service root advertises it
//! (`ProtocolFeaturesSupported.ExpandQuery`): a form or a depth it does not advertise is a 400,
//! as a real service answers, so a client that sends one fails here.
//!
//! Expected counts are computed here from the raw files, independently of the client.
//! Skipped (with a message) when `../shared/fixtures/vendor-captures` is absent.

use std::path::{Path, PathBuf};

use ferrofish_mock_bmc::CaptureBmc;
use ferrofish_redfish_core::models::{Chassis, Manager};
use ferrofish_redfish_core::{RedfishClient, RequestCounts, SecretString, Vendor};
use serde_json::Value;

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
    pcie: usize,
    volumes: usize,
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
    // PCIe devices: the members of the PCIeDevices collections of the system's chassis.
    let system = read_json(&system_dir.join("index.json"));
    let root = system_dir.ancestors().nth(4).unwrap().to_path_buf();
    let pcie = system
        .pointer("/Links/Chassis")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c["@odata.id"].as_str())
        .map(|c| children(&root.join(c.trim_start_matches('/')).join("PCIeDevices")).len())
        .sum();
    let volumes = std::fs::read_dir(system_dir.join("Storage"))
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|controller| controller.path().join("Volumes/index.json"))
        .filter(|file| file.is_file())
        .map(|file| {
            // The collection's members: the folder also holds `Capabilities` on iLO.
            read_json(&file)["Members"].as_array().map_or(0, Vec::len)
        })
        .sum();
    Expected {
        cpus,
        dimms,
        disks: drive_ids.len(),
        nics,
        pcie,
        volumes,
    }
}

/// Every Manager and Chassis of the capture decodes into its model.
async fn every_manager_and_chassis_parses(client: &RedfishClient) {
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
}

/// What `inspect` costs against a capture: (GET, total) requests for listing the systems and
/// reading every inventory on a new client, the logout excluded.
struct Cost {
    get: u64,
    total: u64,
}

async fn check_capture(vendor_dir: &str, vendor: Vendor, cost: Cost) {
    let Some(dir) = capture_dir(vendor_dir) else {
        return;
    };
    let server = CaptureBmc::serve(dir.clone()).await.unwrap();
    let client = RedfishClient::builder(server.url())
        .credentials("root", SecretString::from("capture"))
        .build()
        .unwrap();

    // What `inspect` does: list the systems, read each inventory.
    let systems = client.system_ids().await.unwrap();
    assert!(!systems.is_empty());
    let mut inventories = Vec::new();
    for system in &systems {
        inventories.push(client.inventory(system).await.unwrap());
    }
    let counts: RequestCounts = client.request_counts();
    println!("{vendor_dir}: inspect costs {counts:?}");
    assert_eq!(
        (counts.get, counts.total),
        (cost.get, cost.total),
        "{vendor_dir}: requests of system_ids + inventory"
    );
    let requests = server.requests();
    let manager_reads = requests
        .iter()
        .filter(|r| r.path.to_ascii_lowercase().contains("/managers"))
        .count();
    assert_eq!(
        manager_reads, 0,
        "the root names the vendor: no Manager read"
    );
    // The capture server refuses (400) an `$expand` the captured root does not advertise.
    let refused = requests
        .iter()
        .filter(|r| r.query.as_deref().is_some_and(|q| q.contains("expand")))
        .filter(|r| r.status == 400)
        .count();
    assert_eq!(refused, 0, "every $expand sent is one the root advertises");

    assert_eq!(client.vendor().await.unwrap(), vendor);

    every_manager_and_chassis_parses(&client).await;

    for (system, inventory) in systems.iter().zip(&inventories) {
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
        let system_dir = dir.join(system.trim_start_matches('/'));
        let want = expected_counts(&system_dir);
        println!(
            "{vendor_dir} {system}: {} CPUs, {} DIMMs, {} disks, {} volumes, {} NICs, {} PCIe, warnings {:?}",
            inventory.cpu.count,
            inventory.memory.dimms.len(),
            inventory.disks.len(),
            inventory.volumes.len(),
            inventory.nics.len(),
            inventory.pcie_devices.len(),
            inventory.warnings,
        );
        assert!(want.cpus > 0 && want.dimms > 0 && want.disks > 0 && want.nics > 0);
        assert_eq!(inventory.cpu.count, want.cpus as u64, "CPUs");
        assert_eq!(inventory.memory.dimms.len(), want.dimms, "DIMMs");
        assert_eq!(inventory.disks.len(), want.disks, "disks");
        assert_eq!(inventory.nics.len(), want.nics, "NICs");
        assert_eq!(inventory.pcie_devices.len(), want.pcie, "PCIe devices");
        assert_eq!(inventory.volumes.len(), want.volumes, "volumes");
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
        assert!(inventory.cpu.cores.is_some_and(|c| c > 0));
        assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);
    }
    client.close().await.unwrap();
}

#[tokio::test]
async fn dell_idrac9_capture() {
    // Root, login, Systems: 2 GETs and the POST. The inventory: System 1; the chassis'
    // PCIeDevices expanded at the schema's URI, 1 (13 devices; 13 GETs before); Storage expanded
    // one level (MaxLevels is 1), 1; the controller with 3 drive links read again expanded,
    // 1 (3 GETs before); 3 Volumes collections expanded, 3; Processors, Memory,
    // EthernetInterfaces expanded and SecureBoot, 4. No Manager (2 GETs before).
    // 2 + 1 + 1 + 1 + 1 + 3 + 4 = 13 GETs, 14 requests (30 before; sushy 25).
    check_capture("dell", Vendor::Dell, Cost { get: 13, total: 14 }).await;
}

#[tokio::test]
async fn hpe_ilo5_capture() {
    // Root, login, Systems: 2 GETs and the POST. The inventory: System 1; the chassis'
    // PCIeDevices expanded at the schema's URI, 1; Storage expanded one level, 1: 16 NVMe controllers with one
    // drive link each, 16, and one RAID controller with 2 drive links read again expanded, 1,
    // and its Volumes collection expanded, 1; Processors, Memory, EthernetInterfaces
    // expanded and SecureBoot, 4. 2 + 1 + 1 + 1 + 16 + 1 + 1 + 4 = 27 GETs, 28 requests
    // (39 before).
    check_capture("hpe", Vendor::Hpe, Cost { get: 27, total: 28 }).await;
}

/// Detection on the captures: the vendor, the Manager's model and firmware as the capture's
/// files hold them, and the quirks that firmware brings (the Dell capture's 6.00 is an
/// iDRAC9: quirk `idrac10_version_restart` must not take it for an iDRAC10).
async fn check_identity(vendor_dir: &str, vendor: Vendor, manager: &str) {
    let Some(dir) = capture_dir(vendor_dir) else {
        return;
    };
    let manager_json = read_json(&dir.join(manager.trim_matches('/')).join("index.json"));
    let server = CaptureBmc::serve(dir).await.unwrap();
    let client = RedfishClient::builder(server.url())
        .credentials("root", SecretString::from("capture"))
        .build()
        .unwrap();
    let identity = client.identity().await.unwrap();
    assert_eq!(identity.vendor, vendor, "{vendor_dir}");
    assert_eq!(
        identity.model.as_deref(),
        manager_json["Model"].as_str(),
        "{vendor_dir}: model"
    );
    assert_eq!(
        identity.firmware.as_deref(),
        manager_json["FirmwareVersion"].as_str(),
        "{vendor_dir}: firmware"
    );
    let quirks = client.quirks().await.unwrap();
    match vendor {
        Vendor::Dell => {
            assert_eq!(quirks.max_sessions, Some(8));
            assert!(quirks.redundant_power_action_conflicts);
            assert_eq!(quirks.transient_post_message_ids, vec!["SYS518"]);
        }
        Vendor::Hpe => {
            assert!(quirks.close_connections);
            assert!(
                quirks
                    .transient_post_message_ids
                    .contains(&"UnableToModifyDuringSystemPOST".to_owned())
            );
        }
        _ => {}
    }
    client.close().await.unwrap();
}

#[tokio::test]
async fn dell_capture_is_detected_as_an_idrac9_with_its_firmware() {
    check_identity(
        "dell",
        Vendor::Dell,
        "/redfish/v1/Managers/iDRAC.Embedded.1",
    )
    .await;
}

#[tokio::test]
async fn hpe_capture_is_detected_as_an_ilo5_with_its_firmware() {
    check_identity("hpe", Vendor::Hpe, "/redfish/v1/Managers/1").await;
}

/// The Dell OEM client on the iDRAC9 capture: the job queue is where the Manager's
/// `Links.Oem.Dell.Jobs` says (6.x: `…/Oem/Dell/Jobs`), its captured job decodes, the LC
/// status action is the one the captured `DellLCService` lists, and the DMTF `JobService`
/// view of the same job decodes alike.
#[tokio::test]
async fn dell_capture_job_queue_and_lc_service_decode() {
    use ferrofish_redfish_core::oem::dell::{DellJob, DellOem, JobState};

    let Some(dir) = capture_dir("dell") else {
        return;
    };
    let server = CaptureBmc::serve(dir).await.unwrap();
    let lc_action = "/redfish/v1/Managers/iDRAC.Embedded.1/Oem/Dell/DellLCService/Actions/DellLCService.GetRemoteServicesAPIStatus";
    server.answer_post(
        lc_action,
        serde_json::json!({
            "LCStatus": "Ready", "RTStatus": "Ready", "ServerStatus": "OutOfPOST", "Status": "Ready"
        }),
    );
    let client = RedfishClient::builder(server.url())
        .credentials("root", SecretString::from("capture"))
        .build()
        .unwrap();
    let dell = DellOem::new(&client);
    assert_eq!(
        dell.jobs_path().await.unwrap(),
        "/redfish/v1/Managers/iDRAC.Embedded.1/Oem/Dell/Jobs"
    );
    let jobs = dell.jobs().await.unwrap();
    assert_eq!(jobs.len(), 1);
    let job = dell.job("JID_102241909559").await.unwrap();
    assert_eq!(job, jobs[0]);
    assert_eq!(job.state, JobState::Completed);
    assert_eq!(job.job_type.as_deref(), Some("BIOSConfiguration"));
    assert_eq!(job.percent, Some(100));
    assert_eq!(
        job.end_time.as_deref(),
        Some("2024-03-26T22:17:44"),
        "EndTime is TIME_NA"
    );
    assert!(dell.remote_services_status().await.unwrap().is_ready());
    let posts = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == lc_action)
        .count();
    assert_eq!(posts, 1, "the target the captured DellLCService lists");
    let dmtf = client
        .get_json("/redfish/v1/JobService/Jobs/JID_102241909559")
        .await
        .unwrap();
    let dmtf = DellJob::from_body(dmtf.body());
    assert_eq!(dmtf.state, JobState::Completed);
    assert_eq!(dmtf.message_id.as_deref(), Some("IDRAC.2.7.PR19"));
}
