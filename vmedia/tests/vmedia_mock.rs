//! Virtual media against the mock BMC on every personality: the mock really downloads the
//! image from our image server over 127.0.0.1 and checks it is ISO 9660 (and reads the config
//! drive's static address). The request log checks call order and bodies.

use ferrofish_mock_bmc::{DEFAULT_USER, MockBmc, MockBmcHandle, Personality};
use ferrofish_redfish_core::{RedfishClient, SecretString, System};
use ferrofish_vmedia::{
    BootOptions, ConfigDrive, Error, ImageServer, ImageServerOptions, MediaKind, NetworkData,
    SlotLevel, VirtualMedia, write_iso,
};

const NETWORK_DATA: &str = r#"{
  "links": [{"id": "eno1", "type": "phy", "ethernet_mac_address": "52:54:00:12:34:56"}],
  "networks": [{"id": "n0", "type": "ipv4", "link": "eno1", "ip_address": "198.51.100.23",
                "netmask": "255.255.255.0",
                "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "198.51.100.1"}]}],
  "services": [{"type": "dns", "address": "198.51.100.53"}]
}"#;

/// Distinctive, so a leak is found by a plain search of the logs.
const PASSWORD: &str = "Pw-vmedia-7f3c9e";

struct Rig {
    mock: MockBmcHandle,
    server: ImageServer,
    system: System,
}

async fn rig(personality: Personality, insert_returns_task: bool) -> Rig {
    let mock = MockBmc::builder()
        .personality(personality)
        .credentials(DEFAULT_USER, PASSWORD)
        .insert_returns_task(insert_returns_task)
        .spawn()
        .await
        .unwrap();
    let client = RedfishClient::builder(mock.node(0).url())
        .credentials(DEFAULT_USER, SecretString::from(PASSWORD))
        .build()
        .unwrap();
    let system = client.systems().await.unwrap().remove(0);
    let server = ImageServer::start(ImageServerOptions::http("127.0.0.1:0".parse().unwrap()))
        .await
        .unwrap();
    Rig {
        mock,
        server,
        system,
    }
}

fn config_drive() -> Vec<u8> {
    ConfigDrive::new(
        "6f1c7a52-3b8e-4d0b-9f59-0c6a1e2d3b4c",
        Some(NetworkData::from_json(NETWORK_DATA).unwrap()),
    )
    .build()
    .unwrap()
}

/// A bootable image carrying the config drive, as a deploy ISO with the network data built in
/// is: the mock boots an OS only from an El Torito CD (a bare config drive is data, not an OS),
/// so the bootable wrapper comes from the mock's own writer; ferrofish's ISO writer is proven
/// by `config_drive_tools.rs`.
fn bootable_config_drive() -> Vec<u8> {
    let drive = ConfigDrive::new(
        "6f1c7a52-3b8e-4d0b-9f59-0c6a1e2d3b4c",
        Some(NetworkData::from_json(NETWORK_DATA).unwrap()),
    );
    let files = drive.files().unwrap();
    let files: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(path, data)| (path.as_str(), data.as_slice()))
        .collect();
    ferrofish_mock_bmc::iso9660::build_bootable_iso("config-2", &files)
}

fn all_personalities() -> [Personality; 7] {
    Personality::ALL
}

/// (method, path, body) of every Redfish write the node saw, in order.
fn writes(mock: &MockBmcHandle) -> Vec<(String, String, String)> {
    mock.node(0)
        .requests()
        .into_iter()
        .filter(|e| matches!(e.method.as_str(), "POST" | "PATCH" | "DELETE"))
        .filter(|e| !e.path.contains("SessionService"))
        .map(|e| (e.method, e.path, e.body))
        .collect()
}

#[tokio::test]
async fn insert_verify_and_eject_on_every_personality() {
    for personality in all_personalities() {
        let rig = rig(personality, false).await;
        let media = VirtualMedia::new(&rig.system);
        let slots = media.slots().await.unwrap();
        let cd: Vec<_> = slots.iter().filter(|s| s.accepts(MediaKind::Cd)).collect();
        assert!(!cd.is_empty(), "{personality:?}: no CD slot in {slots:?}");
        // Quirk `vmedia_at_system_or_manager`: the System's slots on the generic
        // personality, both levels on Dell (iDRAC9 6.x), the Manager's elsewhere.
        let levels: std::collections::BTreeSet<SlotLevel> = slots.iter().map(|s| s.level).collect();
        let expected: &[SlotLevel] = match personality {
            Personality::Generic => &[SlotLevel::System],
            Personality::Dell => &[SlotLevel::System, SlotLevel::Manager],
            _ => &[SlotLevel::Manager],
        };
        assert_eq!(
            levels.into_iter().collect::<Vec<_>>(),
            expected,
            "{personality:?}"
        );

        let url = rig
            .server
            .serve_bytes("config-2.iso", config_drive())
            .await
            .unwrap();
        let slot = media.insert(url.as_str(), MediaKind::Cd).await.unwrap();
        assert!(slot.holds(url.as_str()), "{personality:?}: {slot:?}");
        // Where both levels exist, the System's slot is chosen (as Ironic does).
        assert_eq!(slot.level, expected[0], "{personality:?}");
        let view = rig.mock.node(0).view();
        assert_eq!(
            view.inserted_media,
            [(slot.id.clone(), url.to_string())],
            "{personality:?}"
        );
        // The BMC fetched it from us, over loopback.
        let fetches = rig.server.fetches();
        assert!(
            fetches
                .iter()
                .any(|f| f.image.as_deref() == Some("config-2.iso") && f.status == 200),
            "{personality:?}: {fetches:?}"
        );

        // Inserting again is idempotent: the old copy is ejected first, the slot ends the same.
        let again = media.insert(url.as_str(), MediaKind::Cd).await.unwrap();
        assert_eq!(again.path, slot.path);
        assert_eq!(rig.mock.node(0).view().inserted_media.len(), 1);

        media.eject(&again).await.unwrap();
        assert!(
            rig.mock.node(0).view().inserted_media.is_empty(),
            "{personality:?}"
        );
        // Ejecting an empty slot sends nothing.
        let before = writes(&rig.mock).len();
        let empty = media.read_slot(&again).await.unwrap();
        media.eject(&empty).await.unwrap();
        assert_eq!(writes(&rig.mock).len(), before, "{personality:?}");
    }
}

#[tokio::test]
async fn stale_media_is_ejected_before_the_insert_and_bodies_are_minimal() {
    for personality in all_personalities() {
        let rig = rig(personality, false).await;
        let media = VirtualMedia::new(&rig.system);
        let stale = rig
            .server
            .serve_bytes(
                "stale.iso",
                write_iso("STALE", &std::collections::BTreeMap::new()).unwrap(),
            )
            .await
            .unwrap();
        let first = media.insert(stale.as_str(), MediaKind::Cd).await.unwrap();
        rig.mock.node(0).clear_requests();

        let url = rig
            .server
            .serve_bytes("config-2.iso", config_drive())
            .await
            .unwrap();
        let slot = media.insert(url.as_str(), MediaKind::Cd).await.unwrap();
        assert_eq!(slot.path, first.path);
        let log = writes(&rig.mock);
        assert_eq!(
            log.len(),
            2,
            "{personality:?}: one eject, one insert: {log:?}"
        );
        let (eject, insert) = (&log[0], &log[1]);
        if personality == Personality::Lenovo {
            // No actions on XCC: PATCH both ways, Inserted required.
            assert_eq!(eject.0, "PATCH");
            assert_eq!(eject.1, slot.path);
            assert_eq!(insert.0, "PATCH");
            let body: serde_json::Value = serde_json::from_str(&insert.2).unwrap();
            assert_eq!(
                body,
                serde_json::json!({"Image": url.as_str(), "Inserted": true})
            );
        } else {
            assert_eq!(eject.0, "POST");
            assert!(
                eject.1.ends_with("/Actions/VirtualMedia.EjectMedia"),
                "{eject:?}"
            );
            // iLO refuses an eject without a body: `{}` is always sent.
            assert_eq!(eject.2.trim(), "{}");
            assert!(insert.1.ends_with("/Actions/VirtualMedia.InsertMedia"));
            // The smallest body: Supermicro refuses Inserted/WriteProtected in the action.
            let body: serde_json::Value = serde_json::from_str(&insert.2).unwrap();
            assert_eq!(
                body,
                serde_json::json!({"Image": url.as_str()}),
                "{personality:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_202_insert_is_followed_to_the_end_of_its_task() {
    let rig = rig(Personality::Dell, true).await;
    let media = VirtualMedia::new(&rig.system);
    let url = rig
        .server
        .serve_bytes("config-2.iso", config_drive())
        .await
        .unwrap();
    let slot = media.insert(url.as_str(), MediaKind::Cd).await.unwrap();
    assert!(slot.holds(url.as_str()));
    let log = rig.mock.node(0).requests();
    let insert_at = log
        .iter()
        .position(|e| e.path.ends_with("VirtualMedia.InsertMedia"))
        .unwrap();
    assert_eq!(log[insert_at].status, 202);
    assert!(
        log[insert_at..]
            .iter()
            .any(|e| e.method == "GET" && e.path.contains("TaskMonitors")),
        "the task monitor was polled"
    );
    assert_eq!(rig.mock.node(0).view().inserted_media.len(), 1);
}

#[tokio::test]
async fn an_image_the_bmc_cannot_fetch_is_reported_with_the_bmcs_message() {
    for task in [false, true] {
        let rig = rig(Personality::Generic, task).await;
        let media = VirtualMedia::new(&rig.system);
        // A name this server does not serve: the BMC's download gets 404.
        let url = rig.server.url("missing.iso").unwrap();
        let err = media.insert(url.as_str(), MediaKind::Cd).await.unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(err, Error::ImageUnreachable { .. }),
            "task={task}: {text}"
        );
        assert!(text.contains("missing.iso"), "{text}");
        let token = url.path_segments().unwrap().next().unwrap();
        assert!(!text.contains(token), "the URL token leaked: {text}");
        assert!(rig.mock.node(0).view().inserted_media.is_empty());
    }
}

#[tokio::test]
async fn a_non_iso_image_is_refused_with_the_bmcs_message() {
    let rig = rig(Personality::Supermicro, false).await;
    let media = VirtualMedia::new(&rig.system);
    let url = rig
        .server
        .serve_bytes("not-an.iso", b"just text".to_vec())
        .await
        .unwrap();
    let err = media.insert(url.as_str(), MediaKind::Cd).await.unwrap_err();
    assert!(matches!(err, Error::ImageRejected { .. }), "{err}");
}

/// The headline: build the config drive, serve it, boot once from it. The mock reports the
/// node booted that image from CD and took the static address in `network_data.json`; the
/// request log shows insert, then override, then reset.
#[tokio::test]
async fn dhcp_less_boot_from_a_config_drive_on_every_personality() {
    for personality in all_personalities() {
        let rig = rig(personality, false).await;
        let media = VirtualMedia::new(&rig.system);
        let url = rig
            .server
            .serve_bytes("config-2.iso", bootable_config_drive())
            .await
            .unwrap();
        let boot_count = rig.mock.node(0).view().boot_count;
        let options = BootOptions {
            timeout: std::time::Duration::from_secs(30),
            poll_interval: std::time::Duration::from_millis(100),
            eject_after: true,
        };
        let report = media.boot_from_iso(url.as_str(), &options).await.unwrap();
        assert!(report.ejected);
        let view = rig.mock.node(0).view();
        assert_eq!(view.boot_count, boot_count + 1, "{personality:?}");
        let booted = view.booted.expect("a boot record");
        assert_eq!(
            booted.image.as_deref(),
            Some(url.as_str()),
            "{personality:?}"
        );
        let network = booted.static_network.expect("the static address was taken");
        assert_eq!(network.address.to_string(), "198.51.100.23");
        assert_eq!(
            network.gateway.map(|g| g.to_string()).as_deref(),
            Some("198.51.100.1")
        );
        // Override consumed, media ejected at the end.
        assert_eq!(view.boot_enabled, "Disabled", "{personality:?}");
        assert!(view.inserted_media.is_empty());

        let order: Vec<&str> = writes(&rig.mock)
            .iter()
            .map(|(method, path, body)| step_of(method, path, body))
            .collect();
        let expected = ["insert", "override", "reset", "eject"];
        assert_eq!(order, expected, "{personality:?}");
    }
}

/// Names a write from the request log: virtual-media insert/eject (action or PATCH), the boot
/// override PATCH, the reset.
fn step_of(method: &str, path: &str, body: &str) -> &'static str {
    let body: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    if path.ends_with("VirtualMedia.InsertMedia") {
        "insert"
    } else if path.ends_with("VirtualMedia.EjectMedia") {
        "eject"
    } else if path.ends_with("ComputerSystem.Reset") {
        "reset"
    } else if method == "PATCH" && path.contains("/VirtualMedia/") {
        if body["Inserted"] == false || body["Image"].is_null() {
            "eject"
        } else {
            "insert"
        }
    } else if method == "PATCH" && body.get("Boot").is_some() {
        "override"
    } else {
        "other"
    }
}

/// A disk image goes into the removable slot, chosen by `MediaTypes`, not into the CD.
#[tokio::test]
async fn a_removable_image_goes_to_the_usb_slot() {
    for personality in all_personalities() {
        let rig = rig(personality, false).await;
        let media = VirtualMedia::new(&rig.system);
        let url = rig
            .server
            .serve_bytes("disk.img", vec![0u8; 4096])
            .await
            .unwrap();
        let slot = media
            .insert(url.as_str(), MediaKind::Removable)
            .await
            .unwrap();
        assert!(
            slot.accepts(MediaKind::Removable),
            "{personality:?}: {slot:?}"
        );
        if personality == Personality::Dell {
            // iDRAC's System-level instances take CD or USB: the first free one is used.
            assert_eq!(slot.level, SlotLevel::System, "{slot:?}");
        } else {
            assert!(
                !slot.media_types.iter().any(|t| t == "CD"),
                "{personality:?}: {slot:?}"
            );
        }
        assert_eq!(
            rig.mock.node(0).view().inserted_media,
            [(slot.id.clone(), url.to_string())],
            "{personality:?}"
        );
    }
}
