//! Virtual media with real images served over HTTP on loopback, and a DHCP-less config-drive
//! boot end to end.

mod common;

use std::time::Duration;

use common::{
    Bmc, NETWORK_DATA, config_drive, image_server, message_ids, spawn, spawn_async_insert,
    wait_task,
};
use ferrofish_mock_bmc::Personality;
use serde_json::json;

async fn wait_booted(bmc: &Bmc, count: u32) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while bmc.node.view().boot_count < count {
        assert!(std::time::Instant::now() < deadline, "node did not boot");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Insert the config drive in the personality's CD slot, boot once from CD, check the address.
async fn config_drive_boot(p: Personality) {
    let img = image_server(vec![("/cd.iso", config_drive())]).await;
    let mock = spawn(p).await;
    let bmc = Bmc::new(mock.node(0));
    let prof = p.profile();
    let sys = format!("/redfish/v1/Systems/{}", prof.system_id);
    let coll_path = match prof.vmedia_location {
        ferrofish_mock_bmc::personality::VmediaLocation::System => format!("{sys}/VirtualMedia"),
        _ => format!("/redfish/v1/Managers/{}/VirtualMedia", prof.manager_id),
    };
    let coll = bmc.get_json(&coll_path).await;
    // Pick the slot whose MediaTypes include CD, as a client does.
    let mut slot_path = None;
    for m in coll["Members"].as_array().unwrap() {
        let path = m["@odata.id"].as_str().unwrap().to_owned();
        let slot = bmc.get_json(&path).await;
        if slot["MediaTypes"]
            .as_array()
            .unwrap()
            .contains(&json!("CD"))
        {
            assert_eq!(slot["Inserted"], false);
            slot_path = Some((path, slot.get("Actions").is_some()));
            break;
        }
    }
    let (slot_path, has_actions) = slot_path.expect("a CD slot");
    let image = format!("http://{img}/cd.iso");
    let r = if has_actions {
        bmc.post(
            &format!("{slot_path}/Actions/VirtualMedia.InsertMedia"),
            json!({"Image": image, "TransferProtocolType": "HTTP"}),
        )
        .await
    } else {
        bmc.patch(
            &slot_path,
            json!({"Image": image, "Inserted": true, "WriteProtected": true}),
        )
        .await
    };
    assert_eq!(
        r.status(),
        204,
        "{p}: synchronous without the insert_returns_task option"
    );
    let slot = bmc.get_json(&slot_path).await;
    assert_eq!(slot["Inserted"], true);
    assert_eq!(slot["Image"], image);
    assert_eq!(bmc.node.view().inserted_media.len(), 1);
    let r = bmc.patch(&sys, json!({"Boot": {"BootSourceOverrideTarget": prof.cd_boot_target, "BootSourceOverrideEnabled": "Once"}})).await;
    assert_eq!(r.status(), 200, "{p}");
    assert_eq!(bmc.reset(&sys, "On").await.status(), 204);
    wait_booted(&bmc, 1).await;
    let view = bmc.node.view();
    let booted = view.booted.expect("booted");
    assert_eq!(booted.source, prof.cd_boot_target);
    assert_eq!(booted.image.as_deref(), Some(image.as_str()));
    assert_eq!(
        view.static_network
            .map(|n| n.address.to_string())
            .as_deref(),
        Some("192.0.2.44"),
        "{p}"
    );
    let nic = bmc
        .get_json(&format!("{sys}/EthernetInterfaces/NIC1"))
        .await;
    assert_eq!(nic["IPv4Addresses"][0]["Address"], "192.0.2.44");
    assert_eq!(nic["IPv4Addresses"][0]["AddressOrigin"], "Static");
    // Eject (action or PATCH) empties the slot.
    let r = if has_actions {
        bmc.post(
            &format!("{slot_path}/Actions/VirtualMedia.EjectMedia"),
            json!({}),
        )
        .await
    } else {
        bmc.patch(&slot_path, json!({"Image": null, "Inserted": false}))
            .await
    };
    assert_eq!(r.status(), 204);
    assert_eq!(bmc.get_json(&slot_path).await["Inserted"], false);
}

#[tokio::test]
async fn config_drive_boot_generic() {
    config_drive_boot(Personality::Generic).await;
}

#[tokio::test]
async fn config_drive_boot_dell() {
    config_drive_boot(Personality::Dell).await;
}

#[tokio::test]
async fn config_drive_boot_lenovo_patch() {
    config_drive_boot(Personality::Lenovo).await;
}

#[tokio::test]
async fn config_drive_boot_supermicro_usbcd() {
    config_drive_boot(Personality::Supermicro).await;
}

#[tokio::test]
async fn xorriso_config_drive_when_available() {
    let dir = std::env::temp_dir().join(format!("ffmock-vm-{}", std::process::id()));
    let src = dir.join("src/openstack/latest");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("network_data.json"), NETWORK_DATA).unwrap();
    let iso = dir.join("cd.iso");
    let status = std::process::Command::new("xorriso")
        .args([
            "-as", "mkisofs", "-quiet", "-J", "-R", "-V", "config-2", "-o",
        ])
        .arg(&iso)
        .arg(dir.join("src"))
        .status();
    let Ok(status) = status else {
        eprintln!("skipping: xorriso not installed");
        return;
    };
    assert!(status.success());
    let img = image_server(vec![("/cd.iso", std::fs::read(&iso).unwrap())]).await;
    let _ = std::fs::remove_dir_all(&dir);
    let mock = spawn(Personality::Generic).await;
    let bmc = Bmc::new(mock.node(0));
    let r = bmc
        .post(
            "/redfish/v1/Systems/1/VirtualMedia/CD/Actions/VirtualMedia.InsertMedia",
            json!({"Image": format!("http://{img}/cd.iso")}),
        )
        .await;
    assert_eq!(r.status(), 204);
    bmc.patch(
        "/redfish/v1/Systems/1",
        json!({"Boot": {"BootSourceOverrideTarget": "Cd", "BootSourceOverrideEnabled": "Once"}}),
    )
    .await;
    bmc.reset("/redfish/v1/Systems/1", "On").await;
    wait_booted(&bmc, 1).await;
    assert_eq!(
        bmc.node
            .view()
            .static_network
            .map(|n| n.address.to_string())
            .as_deref(),
        Some("192.0.2.44")
    );
}

#[tokio::test]
async fn bad_and_unreachable_images_are_rejected() {
    let mut not_iso = vec![0u8; 40_000];
    not_iso[..4].copy_from_slice(b"\x7fELF");
    let img = image_server(vec![
        ("/bad.iso", not_iso),
        ("/tiny.iso", b"CD001".to_vec()),
    ])
    .await;
    let mock = spawn(Personality::Generic).await;
    let bmc = Bmc::new(mock.node(0));
    let insert = "/redfish/v1/Systems/1/VirtualMedia/CD/Actions/VirtualMedia.InsertMedia";
    for path in ["/bad.iso", "/tiny.iso"] {
        let r = bmc
            .post(insert, json!({"Image": format!("http://{img}{path}")}))
            .await;
        assert_eq!(r.status(), 400, "{path}");
        assert_eq!(
            message_ids(&r.json().await.unwrap()),
            vec!["Base.1.18.ActionParameterValueFormatError"]
        );
    }
    let r = bmc
        .post(
            insert,
            json!({"Image": format!("http://{img}/missing.iso")}),
        )
        .await;
    assert_eq!(r.status(), 400, "404 from the image server");
    assert_eq!(
        message_ids(&r.json().await.unwrap()),
        vec!["Base.1.18.ResourceNotFound"]
    );
    // A port nobody listens on; the credentials in the URL appear in no answer.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let r = bmc
        .post(
            insert,
            json!({"Image": format!("http://u:ImagePw-secret@{closed}/x.iso")}),
        )
        .await;
    assert_eq!(r.status(), 500);
    let text = r.text().await.unwrap();
    assert!(!text.contains("ImagePw-secret"), "{text}");
    assert_eq!(
        message_ids(&serde_json::from_str(&text).unwrap()),
        vec!["Base.1.18.CouldNotEstablishConnection"]
    );
    assert!(
        text.contains(&format!("http://<redacted>@{closed}/x.iso")),
        "{text}"
    );
    assert_eq!(
        bmc.post(insert, json!({})).await.status(),
        400,
        "Image is required"
    );
    assert_eq!(
        bmc.post(insert, json!({"Image": "http://x/y.iso", "Bogus": 1}))
            .await
            .status(),
        400
    );
    assert!(bmc.node.view().inserted_media.is_empty());
    assert_eq!(
        bmc.get_json("/redfish/v1/Systems/1/VirtualMedia/CD").await["Inserted"],
        false
    );
}

/// 401/403 from the image server → `ResourceAtUriUnauthorized`; a non-HTTP protocol (by
/// scheme or `TransferProtocolType`) → `ActionParameterNotSupported` naming the parameter.
#[tokio::test]
async fn refused_images_and_non_http_protocols() {
    let img = image_server(vec![("/tiny.iso", b"CD001".to_vec())]).await;
    let mock = spawn(Personality::Generic).await;
    let bmc = Bmc::new(mock.node(0));
    let insert = "/redfish/v1/Systems/1/VirtualMedia/CD/Actions/VirtualMedia.InsertMedia";
    // An image server that refuses the BMC: 401 and 403.
    let locked = {
        use axum::http::StatusCode;
        use axum::routing::get;
        let app = axum::Router::new()
            .route("/locked.iso", get(|| async { StatusCode::UNAUTHORIZED }))
            .route("/forbidden.iso", get(|| async { StatusCode::FORBIDDEN }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    };
    for (path, code) in [("/locked.iso", "HTTP 401"), ("/forbidden.iso", "HTTP 403")] {
        let r = bmc
            .post(insert, json!({"Image": format!("http://{locked}{path}")}))
            .await;
        assert_eq!(r.status(), 400, "{path}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(
            message_ids(&body),
            vec!["Base.1.18.ResourceAtUriUnauthorized"]
        );
        assert_eq!(
            body["error"]["@Message.ExtendedInfo"][0]["MessageArgs"][1],
            code
        );
    }
    for body in [
        json!({"Image": "ftp://127.0.0.1/x.iso"}),
        json!({"Image": format!("http://{img}/tiny.iso"), "TransferProtocolType": "NFS"}),
    ] {
        let r = bmc.post(insert, body.clone()).await;
        assert_eq!(r.status(), 400, "{body}");
        let reply: serde_json::Value = r.json().await.unwrap();
        assert_eq!(
            message_ids(&reply),
            vec!["Base.1.18.ActionParameterNotSupported"]
        );
        assert_eq!(
            reply["error"]["@Message.ExtendedInfo"][0]["MessageArgs"][0],
            "TransferProtocolType"
        );
    }
    assert!(bmc.node.view().inserted_media.is_empty());
}

#[tokio::test]
async fn plain_iso_boots_without_address_and_second_insert_conflicts() {
    let plain = ferrofish_mock_bmc::iso9660::build_iso("UBUNTU_24_04", &[("README.TXT", b"hello")]);
    let img = image_server(vec![("/os.iso", plain)]).await;
    let mock = spawn(Personality::Generic).await;
    let bmc = Bmc::new(mock.node(0));
    let insert = "/redfish/v1/Systems/1/VirtualMedia/CD/Actions/VirtualMedia.InsertMedia";
    assert_eq!(
        bmc.post(insert, json!({"Image": format!("http://{img}/os.iso")}))
            .await
            .status(),
        204
    );
    assert_eq!(
        bmc.post(insert, json!({"Image": format!("http://{img}/os.iso")}))
            .await
            .status(),
        409
    );
    bmc.patch(
        "/redfish/v1/Systems/1",
        json!({"Boot": {"BootSourceOverrideTarget": "Cd", "BootSourceOverrideEnabled": "Once"}}),
    )
    .await;
    bmc.reset("/redfish/v1/Systems/1", "On").await;
    wait_booted(&bmc, 1).await;
    let v = bmc.node.view();
    assert_eq!(
        v.booted.and_then(|b| b.image).as_deref(),
        Some(format!("http://{img}/os.iso").as_str())
    );
    assert_eq!(v.static_network, None);
}

/// Option `insert_returns_task`: `InsertMedia` answers 202 with a task monitor at once; the slot
/// shows the image only after the download, and a bad image ends the task in Exception.
#[tokio::test]
async fn insert_returns_task_option_runs_the_insert_as_a_task() {
    const INSERT: &str = "/redfish/v1/Managers/1/VirtualMedia/CD1/Actions/VirtualMedia.InsertMedia";
    const SLOT: &str = "/redfish/v1/Managers/1/VirtualMedia/CD1";
    // An image server that accepts and never answers keeps the first task running.
    let stall = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let stall_addr = stall.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((conn, _)) = stall.accept().await {
            open.push(conn);
        }
    });
    let mock = spawn_async_insert().await;
    let bmc = Bmc::new(mock.node(0));
    let r = bmc
        .post(
            INSERT,
            json!({"Image": format!("http://{stall_addr}/slow.iso")}),
        )
        .await;
    assert_eq!(r.status(), 202);
    assert_eq!(r.headers()["retry-after"], "1");
    let monitor = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        monitor.starts_with("/redfish/v1/TaskService/TaskMonitors/"),
        "{monitor}"
    );
    let task: serde_json::Value = r.json().await.unwrap();
    assert_eq!(task["TaskState"], "Running");
    let running = bmc.get(&monitor).await;
    assert_eq!(running.status(), 202);
    assert_eq!(bmc.get_json(SLOT).await["Inserted"], false);
    // A second insert while the first is in flight is refused.
    let again = bmc
        .post(INSERT, json!({"Image": "http://127.0.0.1:1/x.iso"}))
        .await;
    assert_eq!(again.status(), 409);
    held.abort();
    drop(mock);

    // A reachable image that is not ISO 9660: the POST succeeds, the task fails and says why.
    let img = image_server(vec![
        ("/junk.iso", vec![0u8; 40_000]),
        ("/cd.iso", config_drive()),
    ])
    .await;
    let mock = spawn_async_insert().await;
    let bmc = Bmc::new(mock.node(0));
    let r = bmc
        .post(INSERT, json!({"Image": format!("http://{img}/junk.iso")}))
        .await;
    assert_eq!(r.status(), 202);
    let monitor = r.headers()["location"].to_str().unwrap().to_owned();
    let task = wait_task(&bmc, &monitor).await;
    assert_eq!(task["TaskState"], "Exception");
    assert_eq!(task["TaskStatus"], "Critical");
    let text = task["Messages"][0]["Message"].as_str().unwrap_or_default();
    assert!(text.contains("junk.iso"), "{task:#}");
    assert_eq!(bmc.get_json(SLOT).await["Inserted"], false);
    // The task resource itself says the same.
    let task_path = task["@odata.id"].as_str().unwrap().to_owned();
    assert_eq!(bmc.get_json(&task_path).await["TaskState"], "Exception");

    let r = bmc
        .post(INSERT, json!({"Image": format!("http://{img}/cd.iso")}))
        .await;
    assert_eq!(r.status(), 202);
    let monitor = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(wait_task(&bmc, &monitor).await["TaskState"], "Completed");
    let slot = bmc.get_json(SLOT).await;
    assert_eq!(slot["Inserted"], true);
    assert_eq!(slot["Image"], format!("http://{img}/cd.iso"));
}

/// Without the option (the default, every personality, Supermicro included) inserts answer a
/// synchronous 204, and a 400 for a bad image in the POST itself.
#[tokio::test]
async fn inserts_stay_synchronous_by_default() {
    let img = image_server(vec![("/junk.iso", vec![0u8; 40_000])]).await;
    for (p, insert) in [
        (
            Personality::Generic,
            "/redfish/v1/Systems/1/VirtualMedia/CD/Actions/VirtualMedia.InsertMedia",
        ),
        (
            Personality::Supermicro,
            "/redfish/v1/Managers/1/VirtualMedia/CD1/Actions/VirtualMedia.InsertMedia",
        ),
    ] {
        let mock = spawn(p).await;
        let bmc = Bmc::new(mock.node(0));
        let r = bmc
            .post(insert, json!({"Image": format!("http://{img}/junk.iso")}))
            .await;
        assert_eq!(r.status(), 400, "{p}");
        assert!(r.headers().get("location").is_none(), "{p}");
    }
}

async fn spawn_with_quirk(
    p: Personality,
    quirk: ferrofish_mock_bmc::VmediaQuirk,
) -> (ferrofish_mock_bmc::MockBmcHandle, Bmc) {
    let mock = ferrofish_mock_bmc::MockBmc::builder()
        .personality(p)
        .vmedia_quirk(quirk)
        .power_delays(common::fast_delays())
        .spawn()
        .await
        .unwrap();
    let bmc = Bmc::new(mock.node(0));
    (mock, bmc)
}

const GENERIC_CD: &str = "/redfish/v1/Systems/1/VirtualMedia/CD";
const GENERIC_INSERT: &str =
    "/redfish/v1/Systems/1/VirtualMedia/CD/Actions/VirtualMedia.InsertMedia";

/// Each body quirk refuses the smallest body as the BMC does (status, `MessageId`, the field
/// named in the text), and takes the body once the field is there.
#[tokio::test]
async fn vmedia_body_quirks_refuse_the_smallest_body_as_the_bmc_does() {
    use ferrofish_mock_bmc::VmediaQuirk as Q;
    let img = image_server(vec![("/cd.iso", config_drive())]).await;
    let image = format!("http://{img}/cd.iso");
    for (quirk, ids, field, fixed) in [
        (
            Q::TransferProtocolRequired,
            vec!["Base.1.18.ActionParameterMissing"],
            "TransferProtocolType",
            json!({"Image": image, "TransferProtocolType": "HTTP"}),
        ),
        (
            Q::TransferMethodRequired,
            vec!["Base.1.18.GeneralError"],
            "TransferMethod",
            json!({"Image": image, "TransferMethod": "Stream"}),
        ),
        (
            Q::CredentialsRequired,
            vec![
                "Base.1.18.ActionParameterMissing",
                "Base.1.18.ActionParameterMissing",
            ],
            "UserName",
            json!({"Image": image, "UserName": "none", "Password": "none"}),
        ),
    ] {
        let (_mock, bmc) = spawn_with_quirk(Personality::Generic, quirk).await;
        let r = bmc.post(GENERIC_INSERT, json!({"Image": image})).await;
        assert_eq!(r.status(), 400, "{quirk:?}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(message_ids(&body), ids, "{quirk:?}: {body}");
        assert!(body.to_string().contains(field), "{quirk:?}: {body}");
        assert_eq!(bmc.get_json(GENERIC_CD).await["Inserted"], false);
        let r = bmc.post(GENERIC_INSERT, fixed).await;
        assert_eq!(r.status(), 204, "{quirk:?}");
        assert_eq!(bmc.get_json(GENERIC_CD).await["Image"], image.as_str());
    }
}

/// Quirk `hpe_boot_on_next_reset`: the flag shows on every slot, is refused on an empty slot,
/// and makes the next reset boot that slot once without touching the System's override.
#[tokio::test]
async fn hpe_boot_on_next_reset_boots_the_flagged_slot_once() {
    let img = image_server(vec![("/cd.iso", config_drive())]).await;
    let image = format!("http://{img}/cd.iso");
    let (_mock, bmc) = spawn_with_quirk(
        Personality::Hpe,
        ferrofish_mock_bmc::VmediaQuirk::HpeBootOnNextReset,
    )
    .await;
    let slot = "/redfish/v1/Managers/1/VirtualMedia/2";
    let read = bmc.get_json(slot).await;
    assert_eq!(read["Oem"]["Hpe"]["BootOnNextServerReset"], false);
    let flag = json!({"Oem": {"Hpe": {"BootOnNextServerReset": true}}});
    assert_eq!(
        bmc.patch(slot, flag.clone()).await.status(),
        400,
        "empty slot"
    );
    let r = bmc
        .post(
            &format!("{slot}/Actions/VirtualMedia.InsertMedia"),
            json!({"Image": image}),
        )
        .await;
    assert_eq!(r.status(), 204);
    assert_eq!(bmc.patch(slot, flag).await.status(), 204);
    assert_eq!(
        bmc.get_json(slot).await["Oem"]["Hpe"]["BootOnNextServerReset"],
        true
    );
    assert_eq!(bmc.reset("/redfish/v1/Systems/1", "On").await.status(), 204);
    wait_booted(&bmc, 1).await;
    let view = bmc.node.view();
    let booted = view.booted.expect("booted");
    assert_eq!(booted.source, "Cd");
    assert_eq!(booted.image.as_deref(), Some(image.as_str()));
    assert_eq!(
        view.boot_enabled, "Disabled",
        "the System's override untouched"
    );
    assert_eq!(
        bmc.get_json(slot).await["Oem"]["Hpe"]["BootOnNextServerReset"],
        false,
        "spent by the boot"
    );
    // Without the switch there is no such flag.
    let plain = spawn(Personality::Hpe).await;
    let plain = Bmc::new(plain.node(0));
    assert!(plain.get_json(slot).await.get("Oem").is_none());
}
