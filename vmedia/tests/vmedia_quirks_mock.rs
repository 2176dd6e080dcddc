//! Against the mock BMC with its virtual-media quirk switches and options: each insert-body
//! quirk (the mock refuses the smallest body as the BMC does, the client adds the field the
//! error names), HPE's boot-on-next-reset, Dell's two slot levels, the 202 task path with its
//! call order in the mock's request log, and the request count of a whole boot.

use std::time::Duration;

use ferrofish_mock_bmc::{
    DEFAULT_PASSWORD, DEFAULT_USER, MockBmc, MockBmcHandle, Personality, VmediaQuirk,
};
use ferrofish_redfish_core::{RedfishClient, SecretString, System};
use ferrofish_vmedia::{
    BootOptions, BootPhase, ConfigDrive, ImageServer, ImageServerOptions, MediaKind, NetworkData,
    SlotLevel, VirtualMedia,
};
use serde_json::{Value, json};

const NETWORK_DATA: &str = r#"{
  "links": [{"id": "eno1", "type": "phy", "ethernet_mac_address": "52:54:00:12:34:56"}],
  "networks": [{"id": "n0", "type": "ipv4", "link": "eno1", "ip_address": "198.51.100.23",
                "netmask": "255.255.255.0"}]
}"#;

struct Rig {
    mock: MockBmcHandle,
    server: ImageServer,
    client: RedfishClient,
    system: System,
}

async fn rig(personality: Personality, quirks: &[VmediaQuirk], insert_returns_task: bool) -> Rig {
    let mut builder = MockBmc::builder()
        .personality(personality)
        .insert_returns_task(insert_returns_task);
    for quirk in quirks {
        builder = builder.vmedia_quirk(*quirk);
    }
    let mock = builder.spawn().await.unwrap();
    let client = RedfishClient::builder(mock.node(0).url())
        .credentials(DEFAULT_USER, SecretString::from(DEFAULT_PASSWORD))
        .build()
        .unwrap();
    let system = client.systems().await.unwrap().remove(0);
    // A warm client: it knows its vendor and quirks.
    client.vendor().await.unwrap();
    let server = ImageServer::start(ImageServerOptions::http("127.0.0.1:0".parse().unwrap()))
        .await
        .unwrap();
    Rig {
        mock,
        server,
        client,
        system,
    }
}

/// A bootable config drive (the mock boots an OS only from an El Torito image).
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

fn fast() -> BootOptions {
    BootOptions {
        timeout: Duration::from_secs(30),
        poll_interval: Duration::from_millis(50),
        eject_after: true,
    }
}

/// The insert bodies the node saw, in order.
fn insert_bodies(mock: &MockBmcHandle) -> Vec<(u16, Value)> {
    mock.node(0)
        .requests()
        .into_iter()
        .filter(|e| e.path.ends_with("VirtualMedia.InsertMedia"))
        .map(|e| (e.status, serde_json::from_str(&e.body).unwrap_or_default()))
        .collect()
}

/// One insert against the mock with `quirk` on: the first body is `Image` alone and is
/// refused with 400; the second carries exactly what the error named, and is taken.
async fn body_quirk(quirk: VmediaQuirk, added: &Value) {
    let rig = rig(Personality::Generic, &[quirk], false).await;
    let url = rig
        .server
        .serve_bytes("config-2.iso", bootable_config_drive())
        .await
        .unwrap();
    let slot = VirtualMedia::new(&rig.system)
        .insert(url.as_str(), MediaKind::Cd)
        .await
        .unwrap();
    assert!(slot.holds(url.as_str()), "{quirk:?}");
    let mut grown = json!({"Image": url.as_str()});
    for (k, v) in added.as_object().unwrap() {
        grown[k] = v.clone();
    }
    assert_eq!(
        insert_bodies(&rig.mock),
        [(400, json!({"Image": url.as_str()})), (204, grown)],
        "{quirk:?}"
    );
    assert_eq!(
        rig.mock.node(0).view().inserted_media,
        [(slot.id.clone(), url.to_string())]
    );
}

/// Quirk `transfer_protocol_required` (Nokia): `ActionParameterMissing` names the field; the
/// protocol comes from the URL's scheme.
#[tokio::test]
async fn transfer_protocol_is_added_when_the_mock_asks_for_it() {
    body_quirk(
        VmediaQuirk::TransferProtocolRequired,
        &json!({"TransferProtocolType": "HTTP"}),
    )
    .await;
}

/// Quirk `transfer_method_required` (OCPBUGS-12703): only a `GeneralError`'s text names it.
#[tokio::test]
async fn transfer_method_is_added_when_the_mock_asks_for_it() {
    body_quirk(
        VmediaQuirk::TransferMethodRequired,
        &json!({"TransferMethod": "Stream"}),
    )
    .await;
}

/// Quirk `credentials_required` (NVIDIA DGX): placeholder credentials for an anonymous image.
#[tokio::test]
async fn credentials_are_added_when_the_mock_asks_for_them() {
    body_quirk(
        VmediaQuirk::CredentialsRequired,
        // The mock's log never shows a password, even a placeholder.
        &json!({"UserName": "none", "Password": "<redacted>"}),
    )
    .await;
}

/// Quirk `credentials_required` on the AMI (DGX) personality, the BMC family that reports it:
/// the insert lands in the Manager's `CD1` slot after one refusal, with placeholders.
#[tokio::test]
async fn credentials_required_on_the_ami_personality() {
    let rig = rig(Personality::Ami, &[VmediaQuirk::CredentialsRequired], false).await;
    let url = rig
        .server
        .serve_bytes("config-2.iso", bootable_config_drive())
        .await
        .unwrap();
    let slot = VirtualMedia::new(&rig.system)
        .insert(url.as_str(), MediaKind::Cd)
        .await
        .unwrap();
    assert_eq!(slot.id, "CD1");
    let statuses: Vec<u16> = insert_bodies(&rig.mock).iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses, [400, 204]);
    assert_eq!(
        insert_bodies(&rig.mock)[1].1["UserName"],
        json!("none"),
        "placeholder added only after the refusal"
    );
}

/// All three at once: one field more per refusal, in the order the BMC asks.
#[tokio::test]
async fn every_body_quirk_at_once_grows_the_body_one_field_per_refusal() {
    let rig = rig(
        Personality::Supermicro,
        &[
            VmediaQuirk::TransferProtocolRequired,
            VmediaQuirk::TransferMethodRequired,
            VmediaQuirk::CredentialsRequired,
        ],
        false,
    )
    .await;
    let url = rig
        .server
        .serve_bytes("config-2.iso", bootable_config_drive())
        .await
        .unwrap();
    VirtualMedia::new(&rig.system)
        .insert(url.as_str(), MediaKind::Cd)
        .await
        .unwrap();
    let statuses: Vec<u16> = insert_bodies(&rig.mock).iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses, [400, 400, 400, 204]);
    let last = &insert_bodies(&rig.mock)[3].1;
    // Supermicro refuses Inserted/WriteProtected in the action: never sent.
    assert_eq!(
        last,
        &json!({"Image": url.as_str(), "TransferProtocolType": "HTTP", "TransferMethod": "Stream",
                "UserName": "none", "Password": "<redacted>"})
    );
}

/// Quirk `hpe_boot_on_next_reset`: the slot's flag is set instead of the System's override;
/// the mock boots the image from that slot and the override stays untouched.
#[tokio::test]
async fn hpe_boot_on_next_reset_is_used_against_the_mock() {
    let rig = rig(Personality::Hpe, &[VmediaQuirk::HpeBootOnNextReset], false).await;
    let url = rig
        .server
        .serve_bytes("config-2.iso", bootable_config_drive())
        .await
        .unwrap();
    let report = VirtualMedia::new(&rig.system)
        .boot_from_iso(url.as_str(), &fast())
        .await
        .unwrap();
    assert!(report.hpe_boot_on_next_reset);
    let view = rig.mock.node(0).view();
    let booted = view.booted.expect("a boot record");
    assert_eq!(booted.image.as_deref(), Some(url.as_str()));
    assert_eq!(
        booted
            .static_network
            .map(|n| n.address.to_string())
            .as_deref(),
        Some("198.51.100.23")
    );
    assert_eq!(view.boot_enabled, "Disabled", "no System override was set");
    let writes: Vec<String> = rig
        .mock
        .node(0)
        .requests()
        .into_iter()
        .filter(|e| matches!(e.method.as_str(), "POST" | "PATCH"))
        .filter(|e| !e.path.contains("SessionService"))
        .map(|e| {
            format!(
                "{} {}",
                e.method,
                e.path.rsplit('/').next().unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(
        writes,
        [
            "POST VirtualMedia.InsertMedia",
            "PATCH 2",
            "POST ComputerSystem.Reset",
            "POST VirtualMedia.EjectMedia"
        ]
    );
}

/// Quirk `vmedia_at_system_or_manager` on iDRAC9 6.x: both levels are listed, the System's
/// slot takes the image, and `eject_all` clears stale media at both levels.
#[tokio::test]
async fn dell_lists_both_levels_inserts_at_the_system_and_ejects_both() {
    let rig = rig(Personality::Dell, &[], false).await;
    let media = VirtualMedia::new(&rig.system);
    let slots = media.slots().await.unwrap();
    let paths: Vec<&str> = slots.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/redfish/v1/Systems/System.Embedded.1/VirtualMedia/1",
            "/redfish/v1/Systems/System.Embedded.1/VirtualMedia/2",
            "/redfish/v1/Managers/iDRAC.Embedded.1/VirtualMedia/CD",
            "/redfish/v1/Managers/iDRAC.Embedded.1/VirtualMedia/RemovableDisk",
        ]
    );
    assert!(slots.iter().all(|s| s.insert_target.is_some()));
    let url = rig
        .server
        .serve_bytes("config-2.iso", bootable_config_drive())
        .await
        .unwrap();
    let slot = media.insert(url.as_str(), MediaKind::Cd).await.unwrap();
    assert_eq!(slot.level, SlotLevel::System);
    assert_eq!(slot.id, "1");
    // Something else left an image in the Manager's CD slot.
    let manager_cd = slots.iter().find(|s| s.id == "CD").unwrap();
    let http = reqwest::Client::new();
    let answer = http
        .post(format!(
            "{}{}",
            rig.mock.node(0).url(),
            manager_cd.insert_target.as_deref().unwrap()
        ))
        .basic_auth(DEFAULT_USER, Some(DEFAULT_PASSWORD))
        .json(&json!({"Image": url.as_str()}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 204);
    assert_eq!(rig.mock.node(0).view().inserted_media.len(), 2);
    let ejected = media.eject_all(MediaKind::Cd).await.unwrap();
    let mut ids: Vec<&str> = ejected.iter().map(|s| s.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["1", "CD"]);
    assert!(rig.mock.node(0).view().inserted_media.is_empty());
}

/// The 202 task path, in the mock's request log: the insert POST answered 202, its monitor
/// polled until the task ended, then the verifying GET of the slot, then the override, the
/// reset and the eject.
#[tokio::test]
async fn a_202_insert_is_followed_in_order_in_the_request_log() {
    let rig = rig(Personality::Generic, &[], true).await;
    let url = rig
        .server
        .serve_bytes("config-2.iso", bootable_config_drive())
        .await
        .unwrap();
    rig.mock.node(0).clear_requests();
    VirtualMedia::new(&rig.system)
        .boot_from_iso(url.as_str(), &fast())
        .await
        .unwrap();
    let log = rig.mock.node(0).requests();
    let steps: Vec<(String, u16)> = log
        .iter()
        .map(|e| {
            let path = e.path.split('?').next().unwrap_or_default();
            let step = if path.ends_with("VirtualMedia.InsertMedia") {
                "insert"
            } else if path.contains("/TaskMonitors/") {
                "monitor"
            } else if path.ends_with("/VirtualMedia/CD") && e.method == "GET" {
                "verify"
            } else if path.ends_with("/VirtualMedia") {
                "listing"
            } else if path.ends_with("ComputerSystem.Reset") {
                "reset"
            } else if path.ends_with("VirtualMedia.EjectMedia") {
                "eject"
            } else if e.method == "PATCH" {
                "override"
            } else if path == "/redfish/v1/Systems/1" {
                "system"
            } else {
                "other"
            };
            (step.to_owned(), e.status)
        })
        .collect();
    let names: Vec<&str> = steps.iter().map(|(s, _)| s.as_str()).collect();
    let insert = names.iter().position(|s| *s == "insert").unwrap();
    assert_eq!(steps[insert].1, 202);
    assert_eq!(names[..insert], ["system", "listing"]);
    // Every monitor poll comes before the verifying GET; the last says the task ended.
    let verify = names.iter().position(|s| *s == "verify").unwrap();
    assert!(verify > insert + 1, "{names:?}");
    assert!(
        names[insert + 1..verify].iter().all(|s| *s == "monitor"),
        "{names:?}"
    );
    assert_ne!(
        steps[verify - 1].1,
        202,
        "the monitor was polled to the task's end"
    );
    assert_eq!(
        names[verify + 1..verify + 3],
        ["override", "reset"],
        "{names:?}"
    );
    assert!(
        names[verify + 3..names.len() - 1]
            .iter()
            .all(|s| *s == "system")
    );
    assert_eq!(names.last(), Some(&"eject"));
}

/// The request goal: insert + boot once + reset + eject in 7 requests on a warm client
/// against the generic personality (the polls while the node boots are counted apart).
/// Request counts are deterministic; the phases come from the progress callback.
#[tokio::test]
async fn a_whole_boot_costs_seven_requests_besides_the_boot_polls() {
    for personality in [
        Personality::Generic,
        Personality::Dell,
        Personality::Hpe,
        Personality::Supermicro,
    ] {
        whole_boot_costs_seven_requests(personality).await;
    }
}

/// Where the slots are under the Manager (HPE, Supermicro), its collection is read at the
/// schema's URI, so the Manager itself is not read: the same 7 requests.
async fn whole_boot_costs_seven_requests(personality: Personality) {
    let rig = rig(personality, &[], false).await;
    let url = rig
        .server
        .serve_bytes("config-2.iso", bootable_config_drive())
        .await
        .unwrap();
    let client = rig.client.clone();
    client.reset_request_counts();
    let mut marks: Vec<(&'static str, u64)> = Vec::new();
    let report = VirtualMedia::new(&rig.system)
        .boot_from_iso_with_progress(url.as_str(), &fast(), &mut |phase: &BootPhase| {
            marks.push((phase.name(), client.request_counts().total));
        })
        .await
        .unwrap();
    assert!(report.ejected && !report.override_stored_as_continuous);
    let total = client.request_counts().total;
    let at = |name: &str| marks.iter().find(|(n, _)| *n == name).unwrap().1;
    let polls = marks
        .iter()
        .filter(|(n, _)| *n == "waiting_for_boot")
        .count() as u64;
    let names: Vec<&str> = marks.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names[..3],
        ["inserting", "setting_override", "resetting"],
        "{personality:?}"
    );
    // Insert: the System, the expanded slot listing, InsertMedia, the verifying GET.
    assert_eq!(at("setting_override"), 4, "{personality:?}: {marks:?}");
    // Override: one PATCH, judged from the System the BMC answers with.
    assert_eq!(at("resetting") - at("setting_override"), 1, "{marks:?}");
    // Reset: one POST (the first boot poll is counted with the polls).
    assert_eq!(at("waiting_for_boot") - at("resetting"), 2, "{marks:?}");
    // Eject: one POST.
    assert_eq!(total - at("ejecting_at_end"), 1, "{marks:?}");
    assert_eq!(total - polls, 7, "{personality:?}: {marks:?}");
    assert_eq!(rig.mock.node(0).view().boot_enabled, "Disabled");
}
