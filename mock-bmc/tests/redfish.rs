//! Core Redfish behaviour over real HTTP: service documents, headers, auth, sessions, entity tags,
//! power, boot override, BIOS, `$expand`, TLS.
//!
//! Over 600 lines: one test per protocol rule, each short; splitting them by topic would only
//! scatter the shared request helpers.

mod common;

use std::time::Duration;

use common::{Bmc, PASS, USER, message_ids, spawn};
use ferrofish_mock_bmc::{MockBmc, Personality, PowerDelays, PowerState};
use serde_json::json;

const SYS: &str = "/redfish/v1/Systems/1";

#[tokio::test]
async fn open_documents_and_headers() {
    let mock = spawn(Personality::Generic).await;
    let bmc = Bmc::new(mock.node(0));
    let r = bmc.http.get(bmc.url("/redfish")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap(),
        json!({"v1": "/redfish/v1/"})
    );
    let r = bmc.http.get(bmc.url("/redfish/v1/")).send().await.unwrap();
    assert_eq!(r.status(), 200, "service root needs no auth");
    assert_eq!(r.headers()["odata-version"], "4.0");
    assert_eq!(r.headers()["cache-control"], "no-cache");
    assert!(r.headers().contains_key("etag"));
    assert_eq!(r.headers()["allow"], "GET, HEAD");
    assert!(
        r.headers()["link"]
            .to_str()
            .unwrap()
            .contains("rel=describedby")
    );
    let root: serde_json::Value = r.json().await.unwrap();
    assert_eq!(root["Systems"]["@odata.id"], "/redfish/v1/Systems");
    let r = bmc
        .http
        .get(bmc.url("/redfish/v1/$metadata"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/xml")
    );
    assert!(r.text().await.unwrap().contains("ComputerSystem.v1_27_0"));
    let odata: serde_json::Value = bmc
        .http
        .get(bmc.url("/redfish/v1/odata"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        odata["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["url"] == "/redfish/v1/Systems")
    );
    // 404 and 405 bodies follow DSP0266.
    let r = bmc.get("/redfish/v1/Nope").await;
    assert_eq!(r.status(), 404);
    assert_eq!(
        message_ids(&r.json().await.unwrap()),
        vec!["Base.1.18.ResourceNotFound"]
    );
    let r = bmc
        .http
        .delete(bmc.url(SYS))
        .basic_auth(USER, Some(PASS))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "GET, HEAD, PATCH");
    // Unsupported $ query → 501; unsupported OData-Version → 412.
    assert_eq!(bmc.get("/redfish/v1/Systems?$filter=x").await.status(), 501);
    let r = bmc
        .http
        .get(bmc.url("/redfish/v1/"))
        .header("OData-Version", "4.1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 412);
}

#[tokio::test]
async fn auth_rules_and_401_without_detail() {
    let mock = spawn(Personality::Generic).await;
    let bmc = Bmc::new(mock.node(0));
    let none = bmc.http.get(bmc.url(SYS)).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert!(none.headers().contains_key("www-authenticate"));
    let bad_pass = bmc
        .http
        .get(bmc.url(SYS))
        .basic_auth(USER, Some("wrong"))
        .send()
        .await
        .unwrap();
    let bad_user = bmc
        .http
        .get(bmc.url(SYS))
        .basic_auth("root", Some(PASS))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_pass.status(), 401);
    assert_eq!(bad_user.status(), 401);
    let (a, b) = (
        bad_pass.text().await.unwrap(),
        bad_user.text().await.unwrap(),
    );
    assert_eq!(
        a, b,
        "a wrong user and a wrong password are indistinguishable"
    );
    assert!(!a.to_lowercase().contains("password") && !a.contains("root"));
    let bad_token = bmc
        .http
        .get(bmc.url(SYS))
        .header("X-Auth-Token", "forged")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_token.status(), 401);
    // A session login with wrong credentials is a 401 too.
    let r = bmc
        .http
        .post(bmc.url("/redfish/v1/SessionService/Sessions"))
        .json(&json!({"UserName": USER, "Password": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn custom_credentials() {
    let builder = MockBmc::builder().credentials("ops", "s3cr3t-pw");
    let builder_debug = format!("{builder:?}");
    assert!(builder_debug.contains("ops"), "{builder_debug}");
    assert!(!builder_debug.contains("s3cr3t-pw"), "{builder_debug}");
    let mock = builder.spawn().await.unwrap();
    let bmc = Bmc::new(mock.node(0));
    assert_eq!(
        bmc.get(SYS).await.status(),
        401,
        "default credentials no longer work"
    );
    let r = bmc
        .http
        .get(bmc.url(SYS))
        .basic_auth("ops", Some("s3cr3t-pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let node = mock.node(0);
    let shown = format!(
        "{mock:?}{node:?}{:?}{}{}",
        node.view(),
        serde_json::to_string(&node.view()).unwrap(),
        serde_json::to_string(&node.requests()).unwrap(),
    );
    assert!(!shown.contains("s3cr3t-pw"), "{shown}");
}

/// Dropping the handle stops the node's listener: a fresh connection is refused afterwards.
#[tokio::test]
async fn dropping_the_handle_closes_the_port() {
    let mock = spawn(Personality::Generic).await;
    let addr = mock.node(0).addr();
    assert!(tokio::net::TcpStream::connect(addr).await.is_ok());
    drop(mock);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        match tokio::net::TcpStream::connect(addr).await {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => break,
            other => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "port {addr} still open: {other:?}"
                );
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
    }
}

#[tokio::test]
async fn sessions_tokens_idle_timeout_and_delete() {
    let mock = spawn(Personality::Generic).await;
    let bmc = Bmc::new(mock.node(0));
    let r = bmc
        .http
        .post(bmc.url("/redfish/v1/SessionService/Sessions"))
        .json(&json!({"UserName": USER, "Password": PASS}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let token = r.headers()["x-auth-token"].to_str().unwrap().to_owned();
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["Password"].is_null());
    assert_eq!(body["@odata.id"], location);
    let with_token = |path: &str| {
        bmc.http
            .get(bmc.url(path))
            .header("X-Auth-Token", &token)
            .send()
    };
    assert_eq!(with_token(SYS).await.unwrap().status(), 200);
    assert_eq!(mock.node(0).view().sessions, 1);
    let r = bmc
        .http
        .delete(bmc.url(&location))
        .header("X-Auth-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        with_token(SYS).await.unwrap().status(),
        401,
        "deleted session token is dead"
    );
    // SessionTimeout is enforced (minimum 30 s, so only check the setting is validated and stored).
    assert_eq!(
        bmc.patch("/redfish/v1/SessionService", json!({"SessionTimeout": 5}))
            .await
            .status(),
        400
    );
    assert_eq!(
        bmc.patch("/redfish/v1/SessionService", json!({"SessionTimeout": 45}))
            .await
            .status(),
        204
    );
    assert_eq!(
        bmc.get_json("/redfish/v1/SessionService").await["SessionTimeout"],
        45
    );
}

#[tokio::test]
async fn session_cap_per_personality() {
    for (p, cap, status, id) in [
        (Personality::Dell, 8, 503, "IDRAC.2.8.RAC0218"),
        (
            Personality::Lenovo,
            16,
            503,
            "Base.1.18.SessionLimitExceeded",
        ),
    ] {
        let mock = spawn(p).await;
        let bmc = Bmc::new(mock.node(0));
        let login = || {
            bmc.http
                .post(bmc.url("/redfish/v1/SessionService/Sessions"))
                .json(&json!({"UserName": USER, "Password": PASS}))
                .send()
        };
        let mut last = None;
        for _ in 0..cap {
            let r = login().await.unwrap();
            assert_eq!(r.status(), 201, "{p}");
            last = Some(r.headers()["location"].to_str().unwrap().to_owned());
        }
        let r = login().await.unwrap();
        assert_eq!(r.status().as_u16(), status, "{p}");
        assert_eq!(message_ids(&r.json().await.unwrap()), vec![id.to_owned()]);
        let del = bmc
            .http
            .delete(bmc.url(&last.unwrap()))
            .basic_auth(USER, Some(PASS))
            .send()
            .await
            .unwrap();
        assert_eq!(del.status(), 204);
        assert_eq!(
            login().await.unwrap().status(),
            201,
            "{p}: a freed slot can be reused"
        );
    }
}

#[tokio::test]
async fn etag_if_match_and_if_none_match() {
    let mock = spawn(Personality::Generic).await;
    let bmc = Bmc::new(mock.node(0));
    let r = bmc.get(SYS).await;
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let r = bmc
        .http
        .get(bmc.url(SYS))
        .basic_auth(USER, Some(PASS))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    let ok = bmc
        .http
        .patch(bmc.url(SYS))
        .basic_auth(USER, Some(PASS))
        .header("If-Match", &etag)
        .json(&json!({"AssetTag": "rack-7"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_ne!(
        ok.headers()["etag"].to_str().unwrap(),
        etag,
        "the resource changed"
    );
    let stale = bmc
        .http
        .patch(bmc.url(SYS))
        .basic_auth(USER, Some(PASS))
        .header("If-Match", &etag)
        .json(&json!({"AssetTag": "rack-8"}))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412);
    assert_eq!(
        message_ids(&stale.json().await.unwrap()),
        vec!["Base.1.18.PreconditionFailed"]
    );
    assert_eq!(
        bmc.get_json(SYS).await["AssetTag"],
        "rack-7",
        "a 412 changes nothing"
    );
}

#[tokio::test]
async fn power_transitions_and_reset_types() {
    let delays = PowerDelays {
        on: Duration::from_millis(20),
        force_off: Duration::from_millis(5),
        graceful_shutdown: Duration::from_secs(3600),
    };
    let mock = MockBmc::builder()
        .power_delays(delays)
        .spawn()
        .await
        .unwrap();
    let bmc = Bmc::new(mock.node(0));
    let sys = bmc.get_json(SYS).await;
    assert_eq!(sys["PowerState"], "Off");
    let allowed: Vec<&str> =
        sys["Actions"]["#ComputerSystem.Reset"]["ResetType@Redfish.AllowableValues"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
    for t in [
        "On",
        "ForceOff",
        "GracefulShutdown",
        "GracefulRestart",
        "ForceRestart",
        "Nmi",
        "PowerCycle",
        "PushPowerButton",
        "ForceOn",
    ] {
        assert!(allowed.contains(&t), "{t}");
    }
    assert_eq!(
        bmc.reset(SYS, "Nmi").await.status(),
        409,
        "NMI needs a running host"
    );
    let bad = bmc.reset(SYS, "Explode").await;
    assert_eq!(bad.status(), 400);
    assert_eq!(
        message_ids(&bad.json().await.unwrap()),
        vec!["Base.1.18.ActionParameterNotSupported"]
    );
    assert_eq!(
        bmc.post(&format!("{SYS}/Actions/ComputerSystem.Reset"), json!({}))
            .await
            .status(),
        400
    );
    assert_eq!(bmc.reset(SYS, "On").await.status(), 204);
    bmc.wait_power(SYS, "On").await;
    assert_eq!(mock.node(0).view().boot_count, 1);
    assert_eq!(bmc.reset(SYS, "Nmi").await.status(), 204);
    // GracefulShutdown (configured slower) stays in PoweringOff; ForceOff cuts through it.
    assert_eq!(bmc.reset(SYS, "GracefulShutdown").await.status(), 204);
    assert_eq!(bmc.get_json(SYS).await["PowerState"], "PoweringOff");
    assert_eq!(
        bmc.reset(SYS, "On").await.status(),
        409,
        "busy while powering off"
    );
    assert_eq!(bmc.reset(SYS, "ForceOff").await.status(), 204);
    bmc.wait_power(SYS, "Off").await;
    assert_eq!(mock.node(0).view().power, PowerState::Off);
    assert_eq!(
        bmc.reset(SYS, "PowerCycle").await.status(),
        204,
        "PowerCycle powers an off node on"
    );
    bmc.wait_power(SYS, "On").await;
    assert_eq!(bmc.reset(SYS, "ForceRestart").await.status(), 204);
    bmc.wait_power(SYS, "On").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while mock.node(0).view().boot_count < 3 {
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        bmc.get_json("/redfish/v1/Chassis/1U").await["PowerState"],
        "On"
    );
}

#[tokio::test]
async fn boot_override_once_is_consumed_at_boot() {
    let mock = spawn(Personality::Generic).await;
    let bmc = Bmc::new(mock.node(0));
    let r = bmc.patch(SYS, json!({"Boot": {"BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Once", "BootSourceOverrideMode": "UEFI"}})).await;
    assert_eq!(r.status(), 200);
    let boot = &bmc.get_json(SYS).await["Boot"];
    assert_eq!(boot["BootSourceOverrideTarget"], "Pxe");
    assert_eq!(boot["BootSourceOverrideEnabled"], "Once");
    assert!(
        boot["BootSourceOverrideTarget@Redfish.AllowableValues"]
            .as_array()
            .unwrap()
            .contains(&json!("Cd"))
    );
    let bad = bmc
        .patch(
            SYS,
            json!({"Boot": {"BootSourceOverrideTarget": "Floppy9"}}),
        )
        .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(
        message_ids(&bad.json().await.unwrap()),
        vec!["Base.1.18.PropertyValueNotInList"]
    );
    assert_eq!(
        bmc.patch(SYS, json!({"PowerState": "On"})).await.status(),
        400,
        "read-only property"
    );
    bmc.reset(SYS, "On").await;
    bmc.wait_power(SYS, "On").await;
    let boot = &bmc.get_json(SYS).await["Boot"];
    assert_eq!(
        boot["BootSourceOverrideEnabled"], "Disabled",
        "Once reverts after the boot"
    );
    let view = mock.node(0).view();
    assert_eq!(view.booted.map(|b| b.source), Some("Pxe".to_owned()));
    assert_eq!(view.boot_enabled, "Disabled");
}

#[tokio::test]
async fn bios_registry_validation_and_extended_info() {
    let mock = spawn(Personality::Generic).await;
    let bmc = Bmc::new(mock.node(0));
    let bios = bmc.get_json("/redfish/v1/Systems/1/Bios").await;
    assert!(bios["Attributes"].as_object().unwrap().len() >= 60);
    assert!(
        bios["Attributes"]["SetupPassword"].is_null(),
        "passwords are write-only"
    );
    assert_eq!(
        bios["@Redfish.Settings"]["SettingsObject"]["@odata.id"],
        "/redfish/v1/Systems/1/Bios/Settings"
    );
    let registry_file = bmc
        .get_json(&format!(
            "/redfish/v1/Registries/{}",
            bios["AttributeRegistry"].as_str().unwrap()
        ))
        .await;
    let registry = bmc
        .get_json(registry_file["Location"][0]["Uri"].as_str().unwrap())
        .await;
    let attrs = registry["RegistryEntries"]["Attributes"]
        .as_array()
        .unwrap();
    assert!(attrs.len() >= 60);
    for ty in ["Enumeration", "Integer", "String", "Boolean", "Password"] {
        assert!(attrs.iter().any(|a| a["Type"] == ty), "{ty}");
    }
    assert!(
        !registry["RegistryEntries"]["Dependencies"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let r = bmc.patch("/redfish/v1/Systems/1/Bios/Settings", json!({"Attributes": {"BootMode": "Legacy", "PxeDev1VlanId": 9999, "SystemBiosVersion": "x"}})).await;
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    let mut ids = message_ids(&body);
    ids.sort();
    assert_eq!(
        ids,
        vec![
            "Base.1.18.PropertyNotWritable",
            "Base.1.18.PropertyValueNotInList",
            "Base.1.18.PropertyValueOutOfRange"
        ]
    );
    let related: Vec<&str> = body["error"]["@Message.ExtendedInfo"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["RelatedProperties"][0].as_str())
        .collect();
    assert!(related.contains(&"/Attributes/BootMode"));
    assert!(
        mock.node(0).view().bios_pending.is_empty(),
        "a rejected PATCH stages nothing"
    );
    let r = bmc
        .post(
            "/redfish/v1/Systems/1/Bios/Actions/Bios.ResetBios",
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 204);
    assert_eq!(
        bmc.get_json("/redfish/v1/Systems/1/Bios").await["ResetBiosToDefaultsPending"],
        true
    );
}

#[tokio::test]
async fn expand_members_and_levels() {
    let mock = spawn(Personality::Generic).await;
    let bmc = Bmc::new(mock.node(0));
    let plain = bmc.get_json("/redfish/v1/Systems/1/Processors").await;
    assert_eq!(plain["Members"][0].as_object().unwrap().len(), 1);
    let expanded = bmc
        .get_json("/redfish/v1/Systems/1/Processors?$expand=.")
        .await;
    assert_eq!(expanded["Members"][0]["Id"], "CPU1");
    assert_eq!(expanded["Members@odata.count"], 2);
    let two = bmc
        .get_json("/redfish/v1/Systems?$expand=*($levels=2)")
        .await;
    assert_eq!(
        two["Members"][0]["Processors"]["Members@odata.count"], 2,
        "second level expanded"
    );
    assert_eq!(bmc.get("/redfish/v1/Systems?$expand=!").await.status(), 400);
}

/// The root advertises `MaxLevels` 3, and exactly that depth is served.
#[tokio::test]
async fn expand_max_levels_is_what_the_root_advertises() {
    let mock = spawn(Personality::Generic).await;
    let bmc = Bmc::new(mock.node(0));
    let root = bmc.get_json("/redfish/v1").await;
    assert_eq!(
        root["ProtocolFeaturesSupported"]["ExpandQuery"]["MaxLevels"],
        3
    );
    let three = bmc
        .get_json("/redfish/v1/Systems?$expand=.($levels=3)")
        .await;
    // Systems → System → Processors collection → Processor.
    assert_eq!(
        three["Members"][0]["Processors"]["Members"][0]["Id"],
        "CPU1"
    );
    let r = bmc.get("/redfish/v1/Systems?$expand=.($levels=4)").await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        message_ids(&r.json().await.unwrap()),
        vec!["Base.1.18.QueryParameterValueFormatError"]
    );
}

#[tokio::test]
async fn storage_controllers_and_volumes_follow_the_configured_sizes() {
    let size = ferrofish_mock_bmc::InventorySize {
        drives: 2,
        storage_controllers: 2,
        volumes: 3,
        ..ferrofish_mock_bmc::InventorySize::default()
    };
    let mock = MockBmc::builder()
        .nodes(2)
        .node_inventory(1, size)
        .spawn()
        .await
        .unwrap();
    let bmc = Bmc::new(mock.node(1));
    let storage = bmc.get_json("/redfish/v1/Systems/1/Storage").await;
    assert_eq!(storage["Members@odata.count"], 2);
    assert_eq!(
        storage["Members"],
        json!([
            {"@odata.id": "/redfish/v1/Systems/1/Storage/1"},
            {"@odata.id": "/redfish/v1/Systems/1/Storage/2"},
        ])
    );
    let mut serials = std::collections::HashSet::new();
    for c in 1..=2 {
        let controller = bmc
            .get_json(&format!("/redfish/v1/Systems/1/Storage/{c}"))
            .await;
        assert_eq!(controller["Id"], c.to_string());
        let volumes_path = format!("/redfish/v1/Systems/1/Storage/{c}/Volumes");
        assert_eq!(controller["Volumes"]["@odata.id"], volumes_path.as_str());
        let volumes = bmc.get_json(&volumes_path).await;
        assert_eq!(volumes["Members@odata.count"], 3);
        let members = volumes["Members"].as_array().unwrap();
        assert_eq!(members.len(), 3);
        for member in members {
            let path = member["@odata.id"].as_str().unwrap();
            let volume = bmc.get_json(path).await;
            assert_eq!(volume["@odata.id"], path);
            assert_eq!(volume["RAIDType"], "RAID1");
        }
        for d in 1..=2 {
            let drive = bmc
                .get_json(&format!("/redfish/v1/Systems/1/Storage/{c}/Drives/{d}"))
                .await;
            assert!(
                serials.insert(drive["SerialNumber"].as_str().unwrap().to_owned()),
                "drive serials repeat: {drive}"
            );
        }
    }
    // Nothing past the configured counts, and no aliases such as `01`.
    for missing in [
        "/redfish/v1/Systems/1/Storage/3",
        "/redfish/v1/Systems/1/Storage/02",
        "/redfish/v1/Systems/1/Storage/1/Volumes/4",
        "/redfish/v1/Systems/1/Storage/3/Volumes",
        "/redfish/v1/Systems/1/Storage/2/Drives/3",
    ] {
        assert_eq!(bmc.get(missing).await.status(), 404, "{missing}");
    }
    // The other node keeps the default layout: one controller with one volume.
    let default_node = Bmc::new(mock.node(0));
    assert_eq!(
        default_node.get_json("/redfish/v1/Systems/1/Storage").await["Members@odata.count"],
        1
    );
    assert_eq!(
        default_node
            .get_json("/redfish/v1/Systems/1/Storage/1/Volumes")
            .await["Members@odata.count"],
        1
    );
}

#[tokio::test]
async fn link_header_points_at_the_dmtf_json_schema_of_the_resource() {
    let mock = spawn(Personality::Generic).await;
    let bmc = Bmc::new(mock.node(0));
    let r = bmc.get(SYS).await;
    assert_eq!(r.status(), 200);
    let link = r.headers()["link"].to_str().unwrap().to_owned();
    let system: serde_json::Value = r.json().await.unwrap();
    let odata_type = system["@odata.type"].as_str().unwrap();
    assert!(
        odata_type.starts_with("#ComputerSystem.v1_"),
        "{odata_type}"
    );
    // `#ComputerSystem.v1_N_M.ComputerSystem` → `ComputerSystem.v1_N_M.json`.
    let version = odata_type.split('.').nth(1).unwrap();
    assert_eq!(
        link,
        format!(
            "<http://redfish.dmtf.org/schemas/v1/ComputerSystem.{version}.json>; rel=describedby"
        )
    );
    let collection = bmc.get("/redfish/v1/Systems").await;
    assert_eq!(
        collection.headers()["link"],
        "<http://redfish.dmtf.org/schemas/v1/ComputerSystemCollection.json>; rel=describedby"
    );
}

#[tokio::test]
async fn inventory_sizes_and_unique_macs() {
    let size = ferrofish_mock_bmc::InventorySize {
        processors: 4,
        dimms: 16,
        drives: 6,
        nics: 4,
        pcie_devices: 5,
        storage_controllers: 1,
        volumes: 1,
    };
    let mock = MockBmc::builder()
        .nodes(2)
        .inventory(size)
        .node_inventory(1, ferrofish_mock_bmc::InventorySize { nics: 1, ..size })
        .spawn()
        .await
        .unwrap();
    let a = Bmc::new(mock.node(0));
    let b = Bmc::new(mock.node(1));
    assert_eq!(
        a.get_json("/redfish/v1/Systems/1/Processors").await["Members@odata.count"],
        4
    );
    assert_eq!(
        a.get_json("/redfish/v1/Systems/1/Memory").await["Members@odata.count"],
        16
    );
    assert_eq!(
        a.get_json("/redfish/v1/Systems/1/Storage/1").await["Drives"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    assert_eq!(
        a.get_json("/redfish/v1/Chassis/1U/PCIeDevices").await["Members@odata.count"],
        5
    );
    assert_eq!(
        a.get_json("/redfish/v1/Systems/1/Storage/1/Volumes").await["Members@odata.count"],
        1
    );
    assert_eq!(
        a.get_json("/redfish/v1/Systems/1/SimpleStorage/1").await["Devices"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    assert_eq!(
        b.get_json("/redfish/v1/Systems/1/EthernetInterfaces").await["Members@odata.count"],
        1
    );
    let mut macs = std::collections::HashSet::new();
    for (bmc, n) in [(&a, 4), (&b, 1)] {
        for i in 1..=n {
            let nic = bmc
                .get_json(&format!("/redfish/v1/Systems/1/EthernetInterfaces/NIC{i}"))
                .await;
            assert!(
                macs.insert(nic["MACAddress"].as_str().unwrap().to_owned()),
                "duplicate MAC"
            );
        }
    }
    assert_eq!(macs.len(), 5);
    assert_eq!(
        a.get("/redfish/v1/Systems/1/Processors/CPU5")
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn tls_with_pinned_self_signed_certificate() {
    let mock = MockBmc::builder().tls(true).spawn().await.unwrap();
    let pem = mock.ca_pem().expect("tls mock exposes its certificate");
    let cert = reqwest::Certificate::from_pem(pem.as_bytes()).unwrap();
    let http = reqwest::Client::builder()
        .tls_certs_only([cert])
        .no_proxy()
        .build()
        .unwrap();
    let url = mock.node(0).url();
    assert!(url.starts_with("https://127.0.0.1:"));
    let r = http
        .get(format!("{url}/redfish/v1/Systems"))
        .basic_auth(USER, Some(PASS))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let untrusting = reqwest::Client::builder().no_proxy().build().unwrap();
    assert!(
        untrusting
            .get(format!("{url}/redfish/v1/"))
            .send()
            .await
            .is_err(),
        "self-signed is not trusted by default"
    );
}

/// A body over 1 MiB is refused whole with 413 `PayloadTooLarge`, and changes nothing.
#[tokio::test]
async fn oversized_body_is_413() {
    let mock = spawn(Personality::Generic).await;
    let bmc = Bmc::new(mock.node(0));
    let tag = "x".repeat(1 << 20);
    let r = bmc.patch(SYS, json!({"AssetTag": tag})).await;
    assert_eq!(r.status(), 413);
    assert_eq!(
        message_ids(&r.json().await.unwrap()),
        vec!["Base.1.18.PayloadTooLarge"]
    );
    assert_ne!(bmc.get_json(SYS).await["AssetTag"], json!(tag));
    // Just under the limit is read (and answered on its merits).
    let small = bmc.patch(SYS, json!({"AssetTag": "A2"})).await;
    assert_eq!(small.status(), 200);
}

/// `FullPowerCycle` is advertised by the generic personality, powers an off node on and
/// applies pending BIOS values like `PowerCycle`.
#[tokio::test]
async fn full_power_cycle_applies_bios() {
    let mock = spawn(Personality::Generic).await;
    let bmc = Bmc::new(mock.node(0));
    let sys = bmc.get_json(SYS).await;
    let allowed = &sys["Actions"]["#ComputerSystem.Reset"]["ResetType@Redfish.AllowableValues"];
    assert!(
        allowed
            .as_array()
            .is_some_and(|a| a.contains(&json!("FullPowerCycle"))),
        "{allowed}"
    );
    let before = bmc.get_json("/redfish/v1/Systems/1/Bios").await["@Redfish.Settings"].clone();
    assert!(before.get("Time").is_none(), "no apply yet: {before}");
    assert!(before.get("Messages").is_none(), "no apply yet: {before}");
    let r = bmc
        .patch(
            "/redfish/v1/Systems/1/Bios/Settings",
            json!({"Attributes": {"ProcTurboMode": "Disabled"}}),
        )
        .await;
    assert_eq!(r.status(), 204);
    assert_eq!(bmc.reset(SYS, "FullPowerCycle").await.status(), 204);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while bmc.node.view().boot_count < 1 {
        assert!(std::time::Instant::now() < deadline, "node did not boot");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let bios = bmc.get_json("/redfish/v1/Systems/1/Bios").await;
    assert_eq!(bios["Attributes"]["ProcTurboMode"], "Disabled");
    // `@Redfish.Settings` now tells when and how the apply went.
    let settings = &bios["@Redfish.Settings"];
    assert_eq!(settings["ETag"], "W/\"bios-apply-1\"");
    assert_eq!(settings["Messages"][0]["MessageId"], "Base.1.18.Success");
    let time = settings["Time"].as_str().unwrap_or_default();
    assert!(
        time.len() == 25 && time.ends_with("+00:00") && time.starts_with("20"),
        "{settings}"
    );
    // The same apply keeps its Time: read again across a second boundary it must not move,
    // or a client comparing Times would take it for a new apply.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let again = bmc.get_json("/redfish/v1/Systems/1/Bios").await;
    assert_eq!(again["@Redfish.Settings"]["Time"], time, "{again}");
}
