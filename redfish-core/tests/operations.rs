//! Operations against wiremock: inventory request counts (with and without `$expand`, and
//! the expand fallback), reset validation, boot override with read-back, power waits.

mod common;

use std::time::Duration;

use common::*;
use ferrofish_redfish_core::{
    BootMode, BootOverride, BootOverrideEnabled, BootSource, Error, PowerState, ResetType,
};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SYS: &str = "/redfish/v1/Systems/1";

fn expand_feature() -> Value {
    json!({"ProtocolFeaturesSupported": {"ExpandQuery": {"NoLinks": true, "Levels": true, "MaxLevels": 1}}})
}

fn member(id: &str, extra: &Value) -> Value {
    let mut m = json!({"@odata.id": id, "Id": id.rsplit('/').next().unwrap(), "Name": "member"});
    for (k, v) in extra.as_object().unwrap() {
        m[k] = v.clone();
    }
    m
}

/// A system of known shape: 2 CPUs (plus a GPU), 3 DIMM slots (one empty), 1 NIC, one storage
/// controller with 2 drives, 1 `PCIe` device and `SecureBoot`.
struct Fixture {
    collections: Vec<(&'static str, Vec<Value>)>,
}

fn fixture() -> Fixture {
    let p = |s: &str| format!("{SYS}/{s}");
    Fixture {
        collections: vec![
            (
                "Processors",
                vec![
                    member(
                        &p("Processors/CPU1"),
                        &json!({"ProcessorType": "CPU", "Model": "Xeon 6354 ", "TotalCores": 18, "TotalThreads": 36, "InstructionSet": "x86-64"}),
                    ),
                    member(
                        &p("Processors/CPU2"),
                        &json!({"ProcessorType": "CPU", "Model": "Xeon 6354", "TotalCores": 18, "TotalThreads": 36}),
                    ),
                    member(&p("Processors/GPU1"), &json!({"ProcessorType": "GPU"})),
                ],
            ),
            (
                "Memory",
                vec![
                    member(
                        &p("Memory/A1"),
                        &json!({"CapacityMiB": 32768, "MemoryDeviceType": "DDR4"}),
                    ),
                    member(
                        &p("Memory/A2"),
                        &json!({"CapacityMiB": 32768, "MemoryDeviceType": "DDR4"}),
                    ),
                    member(
                        &p("Memory/A3"),
                        &json!({"CapacityMiB": 0, "Status": {"State": "Absent"}}),
                    ),
                ],
            ),
            (
                "EthernetInterfaces",
                vec![member(
                    &p("EthernetInterfaces/NIC1"),
                    &json!({"MACAddress": "aa:bb:cc:00:00:01", "SpeedMbps": 25000, "LinkStatus": "LinkUp"}),
                )],
            ),
            (
                "Storage",
                vec![member(
                    &p("Storage/RAID1"),
                    &json!({"Drives": [
                    {"@odata.id": p("Storage/RAID1/Drives/0")}, {"@odata.id": p("Storage/RAID1/Drives/1")}]}),
                )],
            ),
        ],
    }
}

async fn mount_system(server: &MockServer, expand_variant: Option<&str>) {
    let f = fixture();
    get_json(server, SYS, json!({
        "@odata.id": SYS, "Id": "1", "Name": "System", "Manufacturer": "Contoso", "Model": "R1",
        "SerialNumber": "SN1", "UUID": "u-1", "PowerState": "On",
        "Boot": {"BootSourceOverrideMode": "UEFI"},
        "Processors": {"@odata.id": format!("{SYS}/Processors")},
        "Memory": {"@odata.id": format!("{SYS}/Memory")},
        "EthernetInterfaces": {"@odata.id": format!("{SYS}/EthernetInterfaces")},
        "Storage": {"@odata.id": format!("{SYS}/Storage")},
        "SecureBoot": {"@odata.id": format!("{SYS}/SecureBoot")},
        "PCIeDevices": [{"@odata.id": format!("{SYS}/PCIeDevices/0")}, {"@odata.id": format!("{SYS}/PCIeDevices/0")}]
    }))
    .await;
    for (name, members) in &f.collections {
        let collection = format!("{SYS}/{name}");
        let links: Vec<Value> = members
            .iter()
            .map(|m| json!({"@odata.id": m["@odata.id"]}))
            .collect();
        get_json(
            server,
            &collection,
            json!({"Members": links, "Members@odata.count": links.len()}),
        )
        .await;
        for m in members {
            get_json(server, m["@odata.id"].as_str().unwrap(), m.clone()).await;
        }
        let expanded: Vec<Value> = if expand_variant == Some(*name) {
            // This collection's expansion drops Id and Name (quirk 63).
            members
                .iter()
                .map(|m| json!({"@odata.id": m["@odata.id"], "CapacityMiB": m["CapacityMiB"]}))
                .collect()
        } else {
            members.clone()
        };
        Mock::given(method("GET"))
            .and(path(collection.as_str()))
            .and(query_param("$expand", ".($levels=1)"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"Members": expanded})))
            .with_priority(1)
            .mount(server)
            .await;
    }
    for i in 0..2 {
        get_json(server, &format!("{SYS}/Storage/RAID1/Drives/{i}"), json!({
            "@odata.id": format!("{SYS}/Storage/RAID1/Drives/{i}"), "Id": i.to_string(), "Name": "Disk",
            "CapacityBytes": 960_197_124_096_u64, "MediaType": "SSD", "SerialNumber": format!("S{i}")
        }))
        .await;
    }
    get_json(
        server,
        &format!("{SYS}/PCIeDevices/0"),
        json!({"Id": "0", "Name": "NIC card", "Manufacturer": "Acme"}),
    )
    .await;
    get_json(server, &format!("{SYS}/SecureBoot"), json!({"SecureBootEnable": true, "SecureBootCurrentBoot": "Enabled", "SecureBootMode": "DeployedMode"})).await;
}

async fn inventory_with(
    root_extra: Value,
    expand_variant: Option<&str>,
) -> (
    ferrofish_redfish_core::Inventory,
    ferrofish_redfish_core::RequestCounts,
    MockServer,
) {
    let server = bmc(root_extra).await;
    mount_system(&server, expand_variant).await;
    let client = client(&server);
    // Warm-up: service root, login and vendor detection happen once per client.
    client.quirks().await.unwrap();
    let warm = client.request_counts();
    assert_eq!(
        (warm.get, warm.post, warm.total),
        (2, 1, 3),
        "root + managers + login"
    );
    client.reset_request_counts();
    let inventory = client.inventory("1").await.unwrap();
    let counts = client.request_counts();
    client.close().await.unwrap();
    (inventory, counts, server)
}

fn assert_fixture_inventory(inv: &ferrofish_redfish_core::Inventory) {
    assert_eq!(inv.system.serial_number.as_deref(), Some("SN1"));
    assert_eq!(inv.cpu.count, 2, "the GPU is not a CPU");
    assert_eq!(inv.cpu.model.as_deref(), Some("Xeon 6354"));
    assert_eq!(inv.cpu.cores, Some(36));
    assert_eq!(inv.cpu.threads, Some(72));
    assert_eq!(inv.cpu.architecture.as_deref(), Some("x86-64"));
    assert_eq!(inv.memory.dimms.len(), 2);
    assert_eq!(inv.memory.total_mib, 65536);
    assert_eq!(inv.disks.len(), 2);
    assert_eq!(inv.disks[1].serial_number.as_deref(), Some("S1"));
    assert_eq!(inv.disks[0].capacity_bytes, Some(960_197_124_096));
    assert_eq!(inv.nics.len(), 1);
    assert_eq!(inv.nics[0].mac_address, "aa:bb:cc:00:00:01");
    assert_eq!(
        inv.pcie_devices.len(),
        1,
        "duplicate links are fetched once"
    );
    assert_eq!(inv.boot_mode, Some(BootMode::Uefi));
    assert_eq!(inv.secure_boot.as_ref().unwrap().enabled, Some(true));
}

#[tokio::test]
async fn inventory_request_counts_without_expand() {
    let (inv, counts, _server) = inventory_with(json!({}), None).await;
    assert_fixture_inventory(&inv);
    // System 1; Processors 1+3; Memory 1+3; NICs 1+1; Storage 1+1; drives 2; PCIe 1; SecureBoot 1.
    assert_eq!(counts.get, 17);
    assert_eq!(counts.total, 17);
}

#[tokio::test]
async fn inventory_request_counts_with_expand() {
    let (inv, counts, server) = inventory_with(expand_feature(), None).await;
    assert_fixture_inventory(&inv);
    // System 1; four expanded collections 4; drives 2; PCIe 1; SecureBoot 1.
    assert_eq!(counts.get, 9);
    assert_eq!(counts.total, 9);
    assert!(
        received(&server, "GET", &format!("{SYS}/Memory/A1"))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn expand_falls_back_to_member_gets_when_members_are_incomplete() {
    let (inv, counts, server) = inventory_with(expand_feature(), Some("Memory")).await;
    assert_fixture_inventory(&inv);
    assert_eq!(
        inv.memory.dimms[0].memory_device_type.as_deref(),
        Some("DDR4"),
        "from the member GET"
    );
    // The expanded Memory answer lacked Id/Name: its 3 members are fetched one by one.
    assert_eq!(counts.get, 12);
    assert_eq!(
        received(&server, "GET", &format!("{SYS}/Memory/A3"))
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn expand_off_switch_by_vendor() {
    // AMI advertises $expand but its expanded members are unreliable (quirk 63).
    let mut root = expand_feature();
    root["Vendor"] = json!("AMI");
    let (inv, counts, _server) = inventory_with(root, None).await;
    assert_fixture_inventory(&inv);
    assert_eq!(counts.get, 17);
}

#[tokio::test]
async fn system_ids_follow_next_links() {
    let server = bmc(json!({})).await;
    get_json(
        &server,
        "/redfish/v1/Systems",
        json!({
            "Members": [{"@odata.id": "/redfish/v1/Systems/1"}],
            "Members@odata.nextLink": "/redfish/v1/Systems?$skip=1"
        }),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/redfish/v1/Systems"))
        .and(query_param("$skip", "1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"Members": [{"@odata.id": "/redfish/v1/Systems/2"}]})),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    let client = client(&server);
    assert_eq!(
        client.system_ids().await.unwrap(),
        vec!["/redfish/v1/Systems/1", "/redfish/v1/Systems/2"]
    );
    client.close().await.unwrap();
}

#[tokio::test]
async fn reset_is_validated_against_allowable_values_before_sending() {
    let server = bmc(json!({})).await;
    get_json(&server, SYS, system_json("1")).await;
    Mock::given(method("POST"))
        .and(path(format!("{SYS}/Actions/ComputerSystem.Reset")))
        .and(body_json(json!({"ResetType": "ForceRestart"})))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let err = client.reset("1", ResetType::Nmi).await.unwrap_err();
    match &err {
        Error::NotAllowed {
            property,
            requested,
            allowed,
        } => {
            assert_eq!(*property, "ResetType");
            assert_eq!(requested, "Nmi");
            assert_eq!(
                allowed,
                &["On", "ForceOff", "ForceRestart", "GracefulShutdown"]
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(client.request_counts().post, 1, "only the login was POSTed");
    client.reset(SYS, ResetType::ForceRestart).await.unwrap();
    client.close().await.unwrap();
    server.verify().await;
}

#[tokio::test]
async fn reset_into_current_state_is_fine_on_dell() {
    // Quirk 53: iDRAC answers 409 to "On" when the system is on.
    let server = bmc(json!({"Vendor": "Dell"})).await;
    get_json(&server, SYS, system_json("1")).await;
    Mock::given(method("POST"))
        .and(path(format!("{SYS}/Actions/ComputerSystem.Reset")))
        .respond_with(ResponseTemplate::new(409))
        .mount(&server)
        .await;
    let client = client(&server);
    client.reset("1", ResetType::On).await.unwrap();
    assert!(
        client
            .reset("1", ResetType::ForceRestart)
            .await
            .unwrap_err()
            .is_conflict()
    );
    client.close().await.unwrap();
}

#[tokio::test]
async fn wait_for_power_state_polls_until_reached_or_times_out() {
    let server = bmc(json!({})).await;
    let mut off = system_json("1");
    off["PowerState"] = json!("Off");
    Mock::given(method("GET"))
        .and(path(SYS))
        .respond_with(ResponseTemplate::new(200).set_body_json(off))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    get_json(&server, SYS, system_json("1")).await;
    let client = client(&server);
    client
        .wait_for_power_state("1", PowerState::On, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(received(&server, "GET", SYS).await.len(), 3);

    let err = client
        .wait_for_power_state("1", PowerState::Off, Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(err.to_string().contains("PowerState"), "{err}");
    client.close().await.unwrap();
}

fn boot_system(settings: bool) -> Value {
    let mut s = system_json("1");
    s["Boot"] = json!({
        "BootSourceOverrideTarget": "None",
        "BootSourceOverrideEnabled": "Disabled",
        "BootSourceOverrideMode": "UEFI",
        "BootSourceOverrideTarget@Redfish.AllowableValues": ["None", "Pxe", "Hdd", "Cd"],
        "BootSourceOverrideEnabled@Redfish.AllowableValues": ["Disabled", "Once"]
    });
    if settings {
        s["@Redfish.Settings"] =
            json!({"SettingsObject": {"@odata.id": format!("{SYS}/Settings")}});
    }
    s
}

fn pxe_once() -> BootOverride {
    BootOverride {
        target: BootSource::Pxe,
        enabled: BootOverrideEnabled::Once,
        mode: None,
    }
}

#[tokio::test]
async fn boot_override_is_validated_patched_and_read_back() {
    let server = bmc(json!({})).await;
    let mut after = boot_system(false);
    after["Boot"]["BootSourceOverrideTarget"] = json!("Pxe");
    after["Boot"]["BootSourceOverrideEnabled"] = json!("Once");
    Mock::given(method("GET"))
        .and(path(SYS))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("ETag", "\"7\"")
                .set_body_json(boot_system(false)),
        )
        // The refused attempt and the accepted one each read the system first.
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    get_json(&server, SYS, after).await;
    Mock::given(method("PATCH"))
        .and(path(SYS))
        .and(wiremock::matchers::header("If-Match", "\"7\""))
        .and(body_json(json!({"Boot": {"BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Once"}})))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);

    let err = client
        .set_boot_override(
            "1",
            BootOverride {
                enabled: BootOverrideEnabled::Continuous,
                ..pxe_once()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotAllowed {
                property: "BootSourceOverrideEnabled",
                ..
            }
        ),
        "{err}"
    );
    assert!(received(&server, "PATCH", SYS).await.is_empty());

    client.set_boot_override("1", pxe_once()).await.unwrap();
    client.close().await.unwrap();
    server.verify().await;
}

#[tokio::test]
async fn boot_override_accepted_but_not_applied_is_its_own_error() {
    let server = bmc(json!({})).await;
    get_json(&server, SYS, boot_system(false)).await;
    Mock::given(method("PATCH"))
        .and(path(SYS))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let client = client(&server);
    let err = client.set_boot_override("1", pxe_once()).await.unwrap_err();
    match &err {
        Error::NotApplied {
            property,
            expected,
            actual,
            ..
        } => {
            assert_eq!(*property, "BootSourceOverrideTarget");
            assert_eq!(expected, "Pxe");
            assert_eq!(actual.as_deref(), Some("None"));
        }
        other => panic!("unexpected {other:?}"),
    }
    client.close().await.unwrap();
}

#[tokio::test]
async fn boot_override_goes_to_the_settings_object_when_it_carries_boot() {
    // Quirk 18.
    let server = bmc(json!({})).await;
    get_json(&server, SYS, boot_system(true)).await;
    let settings = format!("{SYS}/Settings");
    Mock::given(method("GET"))
        .and(path(settings.as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"Boot": {"BootSourceOverrideTarget": "None"}})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    get_json(
        &server,
        &settings,
        json!({"Boot": {"BootSourceOverrideTarget": "Hdd", "BootSourceOverrideEnabled": "Once"}}),
    )
    .await;
    Mock::given(method("PATCH"))
        .and(path(settings.as_str()))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    // The settings object lists no allowable values: the System's apply.
    let err = client
        .set_boot_override(
            "1",
            BootOverride {
                target: BootSource::UefiShell,
                ..pxe_once()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotAllowed {
                property: "BootSourceOverrideTarget",
                ..
            }
        ),
        "{err}"
    );
    client
        .set_boot_override(
            "1",
            BootOverride {
                target: BootSource::Hdd,
                ..pxe_once()
            },
        )
        .await
        .unwrap();
    assert!(received(&server, "PATCH", SYS).await.is_empty());
    client.close().await.unwrap();
    server.verify().await;
}
