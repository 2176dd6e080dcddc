//! Virtual-media slot discovery on real vendor captures (Dell iDRAC9 6.00 with slots under
//! both the System and the Manager, HPE iLO 5 with slots under the Manager only), served
//! by the mock BMC's capture server. The expected slots are read from the capture's files here,
//! independently of the crate. Skipped (with a message) when
//! `../shared/fixtures/vendor-captures` is absent.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ferrofish_mock_bmc::CaptureBmc;
use ferrofish_redfish_core::{RedfishClient, SecretString};
use ferrofish_vmedia::slots::rank_slots;
use ferrofish_vmedia::{MediaKind, SlotLevel, VirtualMedia};
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

fn odata_id(value: Option<&Value>) -> Option<String> {
    value?.get("@odata.id")?.as_str().map(str::to_owned)
}

/// (level, id, media types, has an insert action) of every slot the capture holds for the
/// system: its own collection, then each managing Manager's.
fn expected_slots(root: &Path, system: &str) -> Vec<(SlotLevel, String, Vec<String>, bool)> {
    let file = |path: &str| root.join(path.trim_matches('/')).join("index.json");
    let system_json = read_json(&file(system));
    let mut collections = Vec::new();
    if let Some(path) = odata_id(system_json.get("VirtualMedia")) {
        collections.push((SlotLevel::System, path));
    }
    for manager in system_json
        .pointer("/Links/ManagedBy")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let manager_json = read_json(&file(&odata_id(Some(manager)).unwrap()));
        if let Some(path) = odata_id(manager_json.get("VirtualMedia")) {
            collections.push((SlotLevel::Manager, path));
        }
    }
    let mut slots = Vec::new();
    for (level, path) in collections {
        for member in read_json(&file(&path))["Members"].as_array().unwrap() {
            let slot = read_json(&file(&odata_id(Some(member)).unwrap()));
            slots.push((
                level,
                slot["Id"].as_str().unwrap().to_owned(),
                slot["MediaTypes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t.as_str().unwrap().to_owned())
                    .collect(),
                slot.pointer("/Actions/#VirtualMedia.InsertMedia/target")
                    .is_some(),
            ));
        }
    }
    slots
}

/// Discovers the slots of the capture's first system and checks them against the files;
/// returns the id and level of the slot a CD image would go to first.
async fn check_slots(vendor: &str, want_levels: &[SlotLevel]) -> Option<(SlotLevel, String)> {
    let dir = capture_dir(vendor)?;
    let server = CaptureBmc::serve(dir.clone())
        .await
        .expect("serve the capture");
    let client = RedfishClient::builder(server.url())
        .credentials("root", SecretString::from("capture-password"))
        .request_timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let system_path = client.system_ids().await.expect("systems").remove(0);
    let system = client.system(&system_path).await.expect("system");
    let media = VirtualMedia::new(&system);
    let slots = media.slots().await.expect("slots");

    let want = expected_slots(&dir, &system_path);
    let got: Vec<(SlotLevel, String, Vec<String>, bool)> = slots
        .iter()
        .map(|s| {
            (
                s.level,
                s.id.clone(),
                s.media_types.clone(),
                s.insert_target.is_some(),
            )
        })
        .collect();
    assert_eq!(got, want, "{vendor}: every slot of the capture, in order");
    let levels: Vec<SlotLevel> = slots.iter().map(|s| s.level).collect();
    for level in want_levels {
        assert!(levels.contains(level), "{vendor}: slots at {level:?}");
    }
    assert!(
        slots.iter().all(|s| !s.is_occupied()),
        "{vendor}: the captured slots are empty"
    );
    let first = *rank_slots(&slots, MediaKind::Cd)
        .first()
        .expect("a slot takes a CD image");
    client.close().await.expect("close");
    Some((slots[first].level, slots[first].id.clone()))
}

/// Quirk `vmedia_at_system_or_manager`: iDRAC9 6.00 lists slots under the System and the
/// Manager; a CD goes to the System's (as Ironic does).
#[tokio::test]
async fn dell_capture_slots_at_both_levels_and_a_cd_goes_to_the_system() {
    let Some((level, id)) = check_slots("dell", &[SlotLevel::System, SlotLevel::Manager]).await
    else {
        return;
    };
    assert_eq!((level, id.as_str()), (SlotLevel::System, "1"));
}

/// iLO 5 lists its slots under the Manager only; slot 1 is for floppy and USB images, so a CD
/// goes to slot 2 (which carries `Oem.Hpe.BootOnNextServerReset`).
#[tokio::test]
async fn hpe_capture_slots_under_the_manager_and_a_cd_goes_to_the_cd_slot() {
    let Some((level, id)) = check_slots("hpe", &[SlotLevel::Manager]).await else {
        return;
    };
    assert_eq!((level, id.as_str()), (SlotLevel::Manager, "2"));
}
