//! Operations against wiremock: inventory request counts (with and without `$expand`, and
//! the expand fallback), inventory warnings, reset validation, boot override with read-back
//! and its outcome, power waits, and when the Manager is read.
//!
//! Over 600 lines: the operations share one fixture BMC (`common`) and one test binary, which
//! links once.

mod common;

use std::time::Duration;

use common::*;
use ferrofish_redfish_core::{
    BootMode, BootOverride, BootOverrideEnabled, BootOverrideOutcome, BootSource, Error,
    InventoryWarning, PowerState, ResetType, WarningReason,
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
/// controller with 2 drives and a `Volumes` collection holding 1 RAID1 volume, 1 `PCIe` device
/// and `SecureBoot`.
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
                    {"@odata.id": p("Storage/RAID1/Drives/0")}, {"@odata.id": p("Storage/RAID1/Drives/1")}],
                    "Volumes": {"@odata.id": p("Storage/RAID1/Volumes")}}),
                )],
            ),
            (
                "Storage/RAID1/Volumes",
                vec![member(
                    &p("Storage/RAID1/Volumes/V1"),
                    &json!({"CapacityBytes": 960_197_124_096_u64, "RAIDType": "RAID1", "VolumeType": "Mirrored"}),
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
            // This collection's expansion drops Id and Name (quirk
            // `expand_drops_required_properties`).
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
    let drives: Vec<Value> = (0..2)
        .map(|i| json!({
            "@odata.id": format!("{SYS}/Storage/RAID1/Drives/{i}"), "Id": i.to_string(), "Name": "Disk",
            "CapacityBytes": 960_197_124_096_u64, "MediaType": "SSD", "SerialNumber": format!("S{i}")
        }))
        .collect();
    for drive in &drives {
        get_json(server, drive["@odata.id"].as_str().unwrap(), drive.clone()).await;
    }
    // The controller expanded one level holds its drives (its Volumes collection stays a link
    // to a collection whose members are links, as one level leaves it).
    let controller = f
        .collections
        .iter()
        .find(|(name, _)| *name == "Storage")
        .map(|(_, members)| members[0].clone())
        .unwrap();
    let mut expanded_controller = controller.clone();
    expanded_controller["Drives"] = json!(drives);
    Mock::given(method("GET"))
        .and(path(format!("{SYS}/Storage/RAID1")))
        .and(query_param("$expand", ".($levels=1)"))
        .respond_with(ResponseTemplate::new(200).set_body_json(expanded_controller))
        .with_priority(1)
        .mount(server)
        .await;
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
    let names_vendor = root_extra.get("Vendor").is_some();
    let server = bmc(root_extra).await;
    mount_system(&server, expand_variant).await;
    let client = client(&server);
    // Warm-up: service root, login and vendor detection happen once per client. The Managers
    // collection is read only when the root does not name the vendor.
    client.quirks().await.unwrap();
    let warm = client.request_counts();
    if names_vendor {
        assert_eq!(
            (warm.get, warm.post, warm.total),
            (1, 0, 1),
            "the root alone, read without credentials: no Manager, no login yet"
        );
    } else {
        assert_eq!(
            (warm.get, warm.post, warm.total),
            (2, 1, 3),
            "root + managers + login"
        );
    }
    if names_vendor {
        // Log in now, so the inventory's counts hold GETs only, as in the other case.
        client.system("1").await.unwrap();
    }
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
    assert_eq!(inv.volumes.len(), 1);
    assert_eq!(inv.volumes[0].id.as_deref(), Some("V1"));
    assert_eq!(inv.volumes[0].capacity_bytes, Some(960_197_124_096));
    assert_eq!(inv.volumes[0].raid_type.as_deref(), Some("RAID1"));
    assert_eq!(inv.volumes[0].volume_type.as_deref(), Some("Mirrored"));
    assert_eq!(inv.nics.len(), 1);
    assert_eq!(inv.nics[0].mac_address, "aa:bb:cc:00:00:01");
    assert_eq!(
        inv.pcie_devices.len(),
        1,
        "duplicate links are fetched once"
    );
    assert_eq!(inv.boot_mode, Some(BootMode::Uefi));
    assert_eq!(inv.secure_boot.as_ref().unwrap().enabled, Some(true));
    assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
}

#[tokio::test]
async fn inventory_request_counts_without_expand() {
    let (inv, counts, _server) = inventory_with(json!({}), None).await;
    assert_fixture_inventory(&inv);
    // System 1; Processors: collection 1 + 3 members (the GPU is fetched, then filtered);
    // Memory 1 + 3 (the empty slot too); EthernetInterfaces 1 + 1; Storage 1 + 1 controller;
    // the controller's 2 drive links 2; its Volumes collection 1 + 1 volume; the 2 PCIe links
    // name the same device, fetched once: 1; SecureBoot 1. Total 1+4+4+2+2+2+2+1+1 = 19.
    assert_eq!(counts.get, 19);
    assert_eq!(counts.total, 19);
}

#[tokio::test]
async fn inventory_request_counts_with_expand() {
    let (inv, counts, server) = inventory_with(expand_feature(), None).await;
    assert_fixture_inventory(&inv);
    // System 1; Processors, Memory, EthernetInterfaces and Storage, one `$expand` GET each:
    // 4. `MaxLevels` is 1, so the controller's two drives are links: the controller is read
    // again expanded one level, 1 (not one GET per drive); its Volumes collection expanded,
    // 1; PCIe, no chassis, the System's links: 1 (deduplicated); SecureBoot 1.
    // Total 1+4+1+1+1+1 = 9.
    assert_eq!(counts.get, 9);
    assert_eq!(counts.total, 9);
    assert!(
        received(&server, "GET", &format!("{SYS}/Storage/RAID1/Drives/0"))
            .await
            .is_empty()
    );
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
    // The 9 GETs of the expanded read, plus: the expanded Memory answer lacked Id/Name, so
    // its 3 members are fetched one by one. Total 9 + 3 = 12.
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
    // AMI advertises $expand but its expanded members are unreliable (quirk
    // `expand_drops_required_properties`).
    let mut root = expand_feature();
    root["Vendor"] = json!("AMI");
    let (inv, counts, server) = inventory_with(root, None).await;
    assert_fixture_inventory(&inv);
    // The same 19 GETs as without `$expand` (see above), and no `$expand` query at all.
    assert_eq!(counts.get, 19);
    let expanded = server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.query().is_some_and(|q| q.contains("expand")))
        .count();
    assert_eq!(expanded, 0);
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
    // Quirk `redundant_power_conflict`: iDRAC answers 409 to "On" when the system is on.
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

    let outcome = client.set_boot_override("1", pxe_once()).await.unwrap();
    assert_eq!(outcome, BootOverrideOutcome::Applied);
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
async fn once_stored_as_continuous_is_an_outcome_the_caller_must_clear() {
    // Quirk `once_stored_as_continuous` (sushy-tools emulator): a one-time override is read
    // back as Continuous. That is applied, but the caller learns it must clear it.
    let server = bmc(json!({})).await;
    let mut after = boot_system(false);
    after["Boot"]["BootSourceOverrideTarget"] = json!("Pxe");
    after["Boot"]["BootSourceOverrideEnabled"] = json!("Continuous");
    Mock::given(method("GET"))
        .and(path(SYS))
        .respond_with(ResponseTemplate::new(200).set_body_json(boot_system(false)))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    get_json(&server, SYS, after).await;
    Mock::given(method("PATCH"))
        .and(path(SYS))
        .and(body_json(json!({"Boot": {"BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Once"}})))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let outcome = client.set_boot_override("1", pxe_once()).await.unwrap();
    assert_eq!(outcome, BootOverrideOutcome::AppliedAsContinuous);
    assert!(outcome.must_clear_after_boot());
    client.close().await.unwrap();
    server.verify().await;
}

#[tokio::test]
async fn boot_override_goes_to_the_settings_object_when_it_carries_boot() {
    // Quirk `boot_settings_object`.
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
    let outcome = client
        .set_boot_override(
            "1",
            BootOverride {
                target: BootSource::Hdd,
                ..pxe_once()
            },
        )
        .await
        .unwrap();
    assert_eq!(outcome, BootOverrideOutcome::Applied);
    assert!(received(&server, "PATCH", SYS).await.is_empty());
    client.close().await.unwrap();
    server.verify().await;
}

#[tokio::test]
async fn reset_is_validated_through_the_action_info_resource() {
    // The allowed values live in `@Redfish.ActionInfo`, not inline on the action.
    let server = bmc(json!({})).await;
    let info = format!("{SYS}/ResetActionInfo");
    let mut system = system_json("1");
    system["Actions"]["#ComputerSystem.Reset"] = json!({
        "target": format!("{SYS}/Actions/ComputerSystem.Reset"),
        "@Redfish.ActionInfo": info
    });
    get_json(&server, SYS, system).await;
    get_json(
        &server,
        &info,
        json!({"@odata.id": info, "Id": "ResetActionInfo", "Parameters": [
            {"Name": "Other", "AllowableValues": ["Nmi"]},
            {"Name": "ResetType", "Required": true, "DataType": "String",
             "AllowableValues": ["On", "ForceOff"]}
        ]}),
    )
    .await;
    Mock::given(method("POST"))
        .and(path(format!("{SYS}/Actions/ComputerSystem.Reset")))
        .and(body_json(json!({"ResetType": "ForceOff"})))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    // Nmi is allowed by another parameter only; ForceRestart by none.
    for refused in [ResetType::Nmi, ResetType::ForceRestart] {
        let err = client.reset("1", refused).await.unwrap_err();
        match &err {
            Error::NotAllowed { allowed, .. } => assert_eq!(allowed, &["On", "ForceOff"]),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(client.request_counts().post, 1, "only the login was POSTed");
    assert_eq!(received(&server, "GET", &info).await.len(), 2);
    client.reset("1", ResetType::ForceOff).await.unwrap();
    client.close().await.unwrap();
    server.verify().await;
}

/// A system whose Boot is read-only, with a settings object (iDRAC10, Lenovo SE450).
fn read_only_boot_system() -> Value {
    let mut s = boot_system(true);
    s["Boot"]["BootSourceOverrideMode@Redfish.AllowableValues"] = json!(["UEFI", "Legacy"]);
    s
}

#[tokio::test]
async fn boot_override_moves_to_the_settings_object_when_the_system_refuses_boot() {
    // Quirk `boot_settings_object`: the settings object holds no Boot yet, so the System is tried first; it answers
    // PropertyNotWritable, and the write goes to the settings object with that object's ETag.
    let server = bmc(json!({})).await;
    let settings = format!("{SYS}/Settings");
    get_json_with_etag(&server, SYS, "\"sys-1\"", read_only_boot_system()).await;
    Mock::given(method("GET"))
        .and(path(settings.as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("ETag", "\"set-1\"")
                .set_body_json(json!({"@odata.id": settings, "Id": "Settings"})),
        )
        // The probe, which also supplies the ETag for the PATCH.
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    get_json(
        &server,
        &settings,
        json!({"Boot": {"BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Once"}}),
    )
    .await;
    let expected_body =
        json!({"Boot": {"BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Once"}});
    Mock::given(method("PATCH"))
        .and(path(SYS))
        .and(wiremock::matchers::header("If-Match", "\"sys-1\""))
        .and(body_json(&expected_body))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "code": "Base.1.12.GeneralError",
            "@Message.ExtendedInfo": [{"MessageId": "Base.1.12.PropertyNotWritable",
                                       "MessageArgs": ["Boot"]}]}})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(settings.as_str()))
        .and(wiremock::matchers::header("If-Match", "\"set-1\""))
        .and(body_json(&expected_body))
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    client.quirks().await.unwrap();
    client.reset_request_counts();
    let outcome = client.set_boot_override("1", pxe_once()).await.unwrap();
    assert_eq!(outcome, BootOverrideOutcome::Applied);
    // GET System; GET settings (probe: no Boot, ETag "set-1"); PATCH System (refused);
    // PATCH settings with If-Match "set-1"; GET settings (read-back).
    let counts = client.request_counts();
    assert_eq!((counts.get, counts.patch), (3, 2));
    client.close().await.unwrap();
    server.verify().await;
}

#[tokio::test]
async fn boot_override_without_a_settings_object_reports_the_refusal() {
    let server = bmc(json!({})).await;
    get_json(&server, SYS, boot_system(false)).await;
    Mock::given(method("PATCH"))
        .and(path(SYS))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "@Message.ExtendedInfo": [{"MessageId": "Base.1.12.PropertyNotWritable"}]}})))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let err = client.set_boot_override("1", pxe_once()).await.unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.message_id(), Some("Base.1.12.PropertyNotWritable"));
    client.close().await.unwrap();
    server.verify().await;
}

#[tokio::test]
async fn boot_override_retries_without_a_refused_mode_and_still_checks_it() {
    // Quirk `boot_mode_refused` (HPE DL160 Gen10): a PATCH that carries BootSourceOverrideMode is refused; the
    // retry sends Target and Enabled only. The mode did not change, and the read-back says so.
    let server = bmc(json!({"Vendor": "HPE"})).await;
    let mut before = boot_system(false);
    before["Boot"]["BootSourceOverrideMode@Redfish.AllowableValues"] = json!(["UEFI", "Legacy"]);
    Mock::given(method("GET"))
        .and(path(SYS))
        .respond_with(ResponseTemplate::new(200).set_body_json(before.clone()))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let mut after = before;
    after["Boot"]["BootSourceOverrideTarget"] = json!("Pxe");
    after["Boot"]["BootSourceOverrideEnabled"] = json!("Once");
    get_json(&server, SYS, after).await;
    Mock::given(method("PATCH"))
        .and(path(SYS))
        .and(body_json(
            json!({"Boot": {"BootSourceOverrideTarget": "Pxe",
            "BootSourceOverrideEnabled": "Once", "BootSourceOverrideMode": "Legacy"}}),
        ))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "@Message.ExtendedInfo": [{"MessageId": "iLO.2.14.PropertyNotWritable",
                "RelatedProperties": ["#/Boot/BootSourceOverrideMode"]}]}})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(SYS))
        .and(body_json(
            json!({"Boot": {"BootSourceOverrideTarget": "Pxe",
            "BootSourceOverrideEnabled": "Once"}}),
        ))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let err = client
        .set_boot_override(
            "1",
            BootOverride {
                mode: Some(BootMode::Legacy),
                ..pxe_once()
            },
        )
        .await
        .unwrap_err();
    match &err {
        Error::NotApplied {
            property,
            expected,
            actual,
            ..
        } => {
            assert_eq!(*property, "BootSourceOverrideMode");
            assert_eq!(expected, "Legacy");
            assert_eq!(actual.as_deref(), Some("UEFI"));
        }
        other => panic!("unexpected {other:?}"),
    }
    client.close().await.unwrap();
    server.verify().await;
}

#[tokio::test]
async fn supermicro_boots_virtual_cd_as_usb_cd_and_resends_enabled_and_mode() {
    // Quirks `virtual_cd_is_usb_cd` and `override_needs_enabled`: Cd is UsbCd there, and Enabled and the current Mode go with every
    // target change.
    let server = bmc(json!({"Vendor": "Supermicro"})).await;
    let mut before = boot_system(false);
    before["Boot"]["BootSourceOverrideTarget@Redfish.AllowableValues"] =
        json!(["None", "Pxe", "Hdd", "UsbCd"]);
    Mock::given(method("GET"))
        .and(path(SYS))
        .respond_with(ResponseTemplate::new(200).set_body_json(before.clone()))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let mut after = before;
    after["Boot"]["BootSourceOverrideTarget"] = json!("UsbCd");
    after["Boot"]["BootSourceOverrideEnabled"] = json!("Once");
    get_json(&server, SYS, after).await;
    Mock::given(method("PATCH"))
        .and(path(SYS))
        .and(body_json(
            json!({"Boot": {"BootSourceOverrideTarget": "UsbCd",
            "BootSourceOverrideEnabled": "Once", "BootSourceOverrideMode": "UEFI"}}),
        ))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let outcome = client
        .set_boot_override(
            "1",
            BootOverride {
                target: BootSource::Cd,
                ..pxe_once()
            },
        )
        .await
        .unwrap();
    assert_eq!(outcome, BootOverrideOutcome::Applied);
    client.close().await.unwrap();
    server.verify().await;
}

#[tokio::test]
async fn hpe_boot_patch_during_post_is_retried() {
    // Quirk `ilo_busy_during_post`: iLO refuses boot changes while the host is in POST; the message is transient.
    let server = bmc(json!({"Vendor": "HPE"})).await;
    Mock::given(method("GET"))
        .and(path(SYS))
        .respond_with(ResponseTemplate::new(200).set_body_json(boot_system(false)))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let mut after = boot_system(false);
    after["Boot"]["BootSourceOverrideTarget"] = json!("Pxe");
    after["Boot"]["BootSourceOverrideEnabled"] = json!("Once");
    get_json(&server, SYS, after).await;
    Mock::given(method("PATCH"))
        .and(path(SYS))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "@Message.ExtendedInfo": [{"MessageId": "iLO.2.14.UnableToModifyDuringSystemPOST"}]}})))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(SYS))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let outcome = client.set_boot_override("1", pxe_once()).await.unwrap();
    assert_eq!(outcome, BootOverrideOutcome::Applied);
    assert_eq!(received(&server, "PATCH", SYS).await.len(), 2);
    client.close().await.unwrap();
    server.verify().await;
}

/// A service root that declares its type, served at `/redfish/v1` as well (without the slash,
/// as a caller writes it).
async fn typed_root_bmc() -> MockServer {
    let typed = json!({"@odata.type": "#ServiceRoot.v1_15_0.ServiceRoot"});
    let server = bmc(typed.clone()).await;
    get_json(&server, "/redfish/v1", service_root(&typed)).await;
    let mut chassis = member("/redfish/v1/Chassis/1", &json!({}));
    chassis["@odata.type"] = json!("#Chassis.v1_25_0.Chassis");
    get_json(&server, "/redfish/v1/Chassis/1", chassis).await;
    let mut system = system_json("1");
    system["@odata.type"] = json!("#ComputerSystem.v1_20_0.ComputerSystem");
    get_json(&server, SYS, system).await;
    server
}

#[tokio::test]
async fn system_operations_refuse_a_resource_that_is_not_a_computer_system() {
    let server = typed_root_bmc().await;
    let client = client(&server);
    client.quirks().await.unwrap();
    client.reset_request_counts();

    let err = client.inventory("/redfish/v1").await.unwrap_err();
    let Error::WrongResourceType {
        url,
        expected,
        found,
    } = &err
    else {
        panic!("not WrongResourceType: {err:?}");
    };
    assert_eq!(url.as_str(), format!("{}/redfish/v1", server.uri()));
    assert_eq!(
        (*expected, found.as_str()),
        ("ComputerSystem", "ServiceRoot")
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{}/redfish/v1 is a ServiceRoot resource, not a ComputerSystem",
            server.uri()
        )
    );
    assert!(err.is_invalid_input());
    assert_eq!(err.url(), Some(url.as_str()));
    // Only the resource itself was read: no collection of an "empty inventory" was fetched.
    assert_eq!(client.request_counts().total, 1);

    // Every operation on a system checks the same way, and a reset sends no POST.
    let chassis = "/redfish/v1/Chassis/1";
    let refused = [
        client
            .system(chassis)
            .await
            .unwrap()
            .read()
            .await
            .map(|_| ())
            .unwrap_err(),
        client.reset(chassis, ResetType::On).await.unwrap_err(),
        client
            .wait_for_power_state(chassis, PowerState::On, Duration::from_secs(5))
            .await
            .unwrap_err(),
        client
            .set_boot_override(chassis, pxe_once())
            .await
            .unwrap_err(),
    ];
    for err in &refused {
        assert!(
            matches!(err, Error::WrongResourceType { found, .. } if found == "Chassis"),
            "{err:?}"
        );
    }
    assert_eq!(client.request_counts().post, 0);
    assert_eq!(client.request_counts().patch, 0);

    // A real system, type declared, is accepted.
    assert_eq!(
        client
            .system(SYS)
            .await
            .unwrap()
            .power_state()
            .await
            .unwrap(),
        Some(PowerState::On)
    );
    client.close().await.unwrap();
}

/// Mounts a two-page Chassis collection whose second page links a third page at `third`.
async fn paged_chassis(server: &MockServer, third: Option<String>) {
    get_json(
        server,
        "/redfish/v1/Chassis",
        json!({
            "Members": [{"@odata.id": "/redfish/v1/Chassis/1"}, {}],
            "Members@odata.count": 3,
            "Members@odata.nextLink": "/redfish/v1/Chassis?$skip=2"
        }),
    )
    .await;
    let mut second = json!({"Members": [{"@odata.id": "/redfish/v1/Chassis/2"}]});
    if let Some(third) = third {
        second["Members@odata.nextLink"] = json!(third);
    }
    Mock::given(method("GET"))
        .and(path("/redfish/v1/Chassis"))
        .and(query_param("$skip", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(second))
        .with_priority(1)
        .mount(server)
        .await;
    for id in ["1", "2"] {
        let at = format!("/redfish/v1/Chassis/{id}");
        get_json(
            server,
            &at,
            member(&at, &json!({"ChassisType": "RackMount"})),
        )
        .await;
    }
}

#[tokio::test]
async fn public_collection_api_pages_through_next_links() {
    let server = bmc(json!({})).await;
    paged_chassis(&server, None).await;
    let client = client(&server);
    client.quirks().await.unwrap();
    client.reset_request_counts();

    let links = client
        .collection_links("/redfish/v1/Chassis")
        .await
        .unwrap();
    assert_eq!(links, ["/redfish/v1/Chassis/1", "/redfish/v1/Chassis/2"]);
    assert_eq!(client.request_counts().get, 2, "one GET per page");

    client.reset_request_counts();
    let chassis: Vec<ferrofish_redfish_core::models::Chassis> =
        client.collection("/redfish/v1/Chassis").await.unwrap();
    let ids: Vec<_> = chassis.iter().map(|c| c.id.as_deref()).collect();
    assert_eq!(ids, [Some("1"), Some("2")]);
    assert_eq!(client.request_counts().get, 4, "two pages, two members");

    let raw: Vec<Value> = client.collection("/redfish/v1/Chassis").await.unwrap();
    assert_eq!(raw[1]["ChassisType"], "RackMount");

    // Caller paths are checked before anything is sent.
    client.reset_request_counts();
    for bad in [
        "/login.html",
        "https://elsewhere.invalid/redfish/v1/Chassis",
        "",
    ] {
        let err = client.collection_links(bad).await.unwrap_err();
        assert!(
            matches!(err, Error::InvalidPath { .. } | Error::OffOriginLink { .. }),
            "{bad}: {err:?}"
        );
    }
    assert_eq!(client.request_counts().total, 0);
    client.close().await.unwrap();
}

#[tokio::test]
async fn public_collection_api_refuses_an_off_origin_next_link() {
    let elsewhere = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"Members": []})))
        .mount(&elsewhere)
        .await;
    let server = bmc(json!({})).await;
    paged_chassis(
        &server,
        Some(format!("{}/redfish/v1/Chassis?$skip=3", elsewhere.uri())),
    )
    .await;
    let client = client(&server);

    let err = client
        .collection_links("/redfish/v1/Chassis")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::OffOriginLink { link, .. } if link.starts_with(&elsewhere.uri())),
        "{err:?}"
    );
    let err = client
        .collection::<Value>("/redfish/v1/Chassis")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::OffOriginLink { .. }), "{err:?}");
    client.close().await.unwrap();
    assert!(
        elsewhere
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty(),
        "the other origin received nothing"
    );
}

#[tokio::test]
async fn pcie_devices_come_from_every_chassis_collection_in_chassis_order() {
    let server = bmc(json!({})).await;
    let chassis: Vec<String> = (1..=3)
        .map(|i| format!("/redfish/v1/Chassis/{i}"))
        .collect();
    let links: Vec<Value> = chassis.iter().map(|c| json!({"@odata.id": c})).collect();
    get_json(
        &server,
        SYS,
        json!({"@odata.id": SYS, "Id": "1", "Name": "System", "Links": {"Chassis": links}}),
    )
    .await;
    // Chassis 1 holds two devices, chassis 2 one; chassis 3 links a collection it does not
    // serve (404), which means "none".
    let devices = [(1, vec!["a", "b"]), (2, vec!["c"])];
    for (i, at) in chassis.iter().enumerate() {
        let collection = format!("{at}/PCIeDevices");
        get_json(
            &server,
            at,
            member(at, &json!({"PCIeDevices": {"@odata.id": collection}})),
        )
        .await;
        let Some((_, names)) = devices.iter().find(|(n, _)| *n == i + 1) else {
            continue;
        };
        let members: Vec<Value> = names
            .iter()
            .map(|d| json!({"@odata.id": format!("{collection}/{d}")}))
            .collect();
        get_json(&server, &collection, json!({"Members": members})).await;
        for d in names {
            let device = format!("{collection}/{d}");
            get_json(
                &server,
                &device,
                member(&device, &json!({"Manufacturer": "Acme"})),
            )
            .await;
        }
    }
    let client = client(&server);
    client.quirks().await.unwrap();
    client.reset_request_counts();
    let inventory = client.inventory("1").await.unwrap();
    let ids: Vec<_> = inventory
        .pcie_devices
        .iter()
        .map(|d| d.id.as_deref().unwrap_or_default())
        .collect();
    assert_eq!(ids, ["a", "b", "c"]);
    // System 1; the PCIeDevices collections at the schema's URI 3 (one answers 404), so only
    // chassis 3 is read, 1, and the collection it links is the one that answered 404; devices
    // 3. Total 1 + 3 + 1 + 3 = 8, the same whether the collections are read in turn or at once.
    let counts = client.request_counts();
    assert_eq!((counts.get, counts.total), (8, 8));
    // The collection chassis 3 links but does not serve is a warning, not a failure.
    let reasons: Vec<_> = inventory
        .warnings
        .iter()
        .map(|w| {
            (
                w.url.rsplit_once("/redfish").map(|(_, p)| p.to_owned()),
                w.reason,
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [(
            Some("/v1/Chassis/3/PCIeDevices".to_owned()),
            WarningReason::NotFound
        )]
    );
    client.close().await.unwrap();
}

/// A BMC whose linked parts fail in every way a real one does: the Memory collection is not
/// served (404), one processor answers 500, one NIC is not JSON, `SecureBoot` is not
/// implemented (501), one drive does not answer in time.
async fn broken_bmc() -> MockServer {
    let server = bmc(json!({})).await;
    let p = |s: &str| format!("{SYS}/{s}");
    get_json(&server, SYS, json!({
        "@odata.id": SYS, "Id": "1", "Name": "System", "PowerState": "On",
        "ProcessorSummary": {"Count": 2, "CoreCount": 48, "LogicalProcessorCount": 96, "Model": "Summary CPU"},
        "MemorySummary": {"TotalSystemMemoryGiB": 256},
        "Processors": {"@odata.id": p("Processors")},
        "Memory": {"@odata.id": p("Memory")},
        "EthernetInterfaces": {"@odata.id": p("EthernetInterfaces")},
        "Storage": {"@odata.id": p("Storage")},
        "SecureBoot": {"@odata.id": p("SecureBoot")}
    }))
    .await;
    let link = |s: &str| json!({"@odata.id": p(s)});
    get_json(
        &server,
        &p("Processors"),
        json!({"Members": [link("Processors/CPU1"), link("Processors/CPU2")]}),
    )
    .await;
    get_json(
        &server,
        &p("Processors/CPU1"),
        member(
            &p("Processors/CPU1"),
            &json!({"ProcessorType": "CPU", "TotalCores": 24, "TotalThreads": 48}),
        ),
    )
    .await;
    for (at, code) in [
        ("Processors/CPU2", 500),
        ("Memory", 404),
        ("SecureBoot", 501),
    ] {
        Mock::given(method("GET"))
            .and(path(p(at)))
            .respond_with(ResponseTemplate::new(code))
            .mount(&server)
            .await;
    }
    get_json(
        &server,
        &p("EthernetInterfaces"),
        json!({"Members": [link("EthernetInterfaces/1"), link("EthernetInterfaces/2")]}),
    )
    .await;
    get_json(
        &server,
        &p("EthernetInterfaces/1"),
        member(
            &p("EthernetInterfaces/1"),
            &json!({"MACAddress": "aa:bb:cc:00:00:01"}),
        ),
    )
    .await;
    Mock::given(method("GET"))
        .and(path(p("EthernetInterfaces/2")))
        .respond_with(ResponseTemplate::new(200).set_body_raw("<html>busy</html>", "text/html"))
        .mount(&server)
        .await;
    get_json(
        &server,
        &p("Storage"),
        json!({"Members": [link("Storage/1")]}),
    )
    .await;
    get_json(
        &server,
        &p("Storage/1"),
        member(
            &p("Storage/1"),
            &json!({"Drives": [link("Storage/1/Drives/0"), link("Storage/1/Drives/1")]}),
        ),
    )
    .await;
    get_json(
        &server,
        &p("Storage/1/Drives/0"),
        member(&p("Storage/1/Drives/0"), &json!({"CapacityBytes": 1000})),
    )
    .await;
    Mock::given(method("GET"))
        .and(path(p("Storage/1/Drives/1")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(Duration::from_secs(5))
                .set_body_json(json!({})),
        )
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn inventory_survives_a_broken_bmc_and_lists_what_it_could_not_read() {
    let server = broken_bmc().await;
    let client = ferrofish_redfish_core::RedfishClient::builder(server.uri())
        .credentials(USER, ferrofish_redfish_core::SecretString::from(PASSWORD))
        .retry_policy(ferrofish_redfish_core::RetryPolicy::none())
        .request_timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let inv = client.inventory("1").await.unwrap();
    let seen: Vec<(String, WarningReason, Option<u16>)> = inv
        .warnings
        .iter()
        .map(|w: &InventoryWarning| {
            let path = w
                .url
                .split_once("/redfish")
                .map_or(w.url.clone(), |(_, p)| p.to_owned());
            (path, w.reason, w.status)
        })
        .collect();
    let at = |s: &str| format!("/v1/Systems/1/{s}");
    assert_eq!(
        seen,
        [
            (at("EthernetInterfaces/2"), WarningReason::Unparsable, None),
            (at("Memory"), WarningReason::NotFound, Some(404)),
            (at("Processors/CPU2"), WarningReason::Refused, Some(500)),
            (at("SecureBoot"), WarningReason::NotImplemented, Some(501)),
            (at("Storage/1/Drives/1"), WarningReason::Timeout, None),
        ],
        "sorted by URL"
    );
    // What could be read is there.
    assert_eq!(inv.nics.len(), 1);
    assert_eq!(inv.disks.len(), 1);
    assert!(inv.secure_boot.is_none());
    // Totals come from the summaries where members are missing.
    assert_eq!(
        inv.cpu.count, 2,
        "ProcessorSummary.Count, not the one CPU read"
    );
    assert_eq!(inv.cpu.cores, Some(48));
    assert_eq!(inv.cpu.threads, Some(96));
    assert_eq!(inv.cpu.processors.len(), 1);
    assert_eq!(inv.memory.total_mib, 256 * 1024);
    assert!(inv.memory.dimms.is_empty());
    // The warnings survive a JSON round trip with the rest.
    let back: ferrofish_redfish_core::Inventory =
        serde_json::from_value(serde_json::to_value(&inv).unwrap()).unwrap();
    assert_eq!(back.warnings, inv.warnings);
    client.close().await.unwrap();
}

#[tokio::test]
async fn an_unreadable_system_is_an_error_not_a_warning() {
    let server = bmc(json!({})).await;
    Mock::given(method("GET"))
        .and(path(SYS))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let client = client(&server);
    let err = client.inventory("1").await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    client.close().await.unwrap();
}

#[tokio::test]
async fn the_manager_is_read_only_before_the_operation_a_firmware_rule_is_about() {
    // Quirks `idrac10_version_restart` and `idrac10_power_on_conflict`: the root names Dell,
    // so an inventory reads no Manager; the first reset reads it (iDRAC10 firmware), and the
    // 409 iDRAC10 answers to a power-on right after a power-off is then retried.
    let server = bmc(json!({"Vendor": "Dell"})).await;
    let manager = "/redfish/v1/Managers/iDRAC.Embedded.1";
    Mock::given(method("GET"))
        .and(path("/redfish/v1/Managers"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"Members": [{"@odata.id": manager}]})),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    get_json(
        &server,
        manager,
        json!({"@odata.id": manager, "Id": "iDRAC.Embedded.1", "Name": "Manager",
               "Model": "17G Monolithic", "FirmwareVersion": "1.20.25.00"}),
    )
    .await;
    let mut off = system_json("1");
    off["PowerState"] = json!("Off");
    get_json(&server, SYS, off).await;
    let reset = format!("{SYS}/Actions/ComputerSystem.Reset");
    Mock::given(method("POST"))
        .and(path(reset.as_str()))
        .respond_with(ResponseTemplate::new(409).set_body_json(json!({"error": {
            "@Message.ExtendedInfo": [{"MessageId": "Base.1.12.ActionParameterValueConflict"}]}})))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(reset.as_str()))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let client = client(&server);

    let inventory = client.inventory("1").await.unwrap();
    assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);
    assert!(
        received(&server, "GET", "/redfish/v1/Managers")
            .await
            .is_empty()
    );
    assert!(received(&server, "GET", manager).await.is_empty());

    client.reset("1", ResetType::On).await.unwrap();
    let order: Vec<String> = server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect();
    let position = |wanted: &str| order.iter().position(|seen| seen == wanted).unwrap();
    assert!(position(&format!("GET {manager}")) < position(&format!("POST {reset}")));
    assert_eq!(
        received(&server, "POST", &reset).await.len(),
        2,
        "the 409 was retried"
    );
    assert_eq!(
        received(&server, "GET", manager).await.len(),
        1,
        "read once"
    );
    client.close().await.unwrap();
}

#[tokio::test]
async fn two_expand_levels_bring_the_drives_inside_the_storage_answer() {
    // `MaxLevels` 2: the Storage collection expanded two levels holds the controllers and
    // their drives; the Volumes collection comes inline with its members as links (a third
    // level), so it is read once, expanded.
    let root = json!({"ProtocolFeaturesSupported": {"ExpandQuery": {"NoLinks": true, "Levels": true, "MaxLevels": 2}}});
    let server = bmc(root).await;
    mount_system(&server, None).await;
    let p = |s: &str| format!("{SYS}/{s}");
    let drives: Vec<Value> = (0..2)
        .map(|i| json!({"@odata.id": p(&format!("Storage/RAID1/Drives/{i}")), "Id": i.to_string(),
                         "Name": "Disk", "CapacityBytes": 960_197_124_096_u64, "SerialNumber": format!("S{i}")}))
        .collect();
    let controller = json!({
        "@odata.id": p("Storage/RAID1"), "Id": "RAID1", "Name": "member", "Drives": drives,
        "Volumes": {"@odata.id": p("Storage/RAID1/Volumes"),
                    "Members": [{"@odata.id": p("Storage/RAID1/Volumes/V1")}]}
    });
    Mock::given(method("GET"))
        .and(path(p("Storage")))
        .and(query_param("$expand", ".($levels=2)"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"Members": [controller]})))
        .with_priority(1)
        .mount(&server)
        .await;
    let client = client(&server);
    client.system("1").await.unwrap();
    client.quirks().await.unwrap();
    client.reset_request_counts();
    let inv = client.inventory("1").await.unwrap();
    assert_fixture_inventory(&inv);
    // System 1; Processors, Memory, EthernetInterfaces expanded one level and Storage two: 4;
    // the Volumes collection expanded, 1; PCIe 1; SecureBoot 1. Total 8 (9 with one level).
    let counts = client.request_counts();
    assert_eq!((counts.get, counts.total), (8, 8));
    for (verb, at) in [
        ("GET", p("Storage/RAID1")),
        ("GET", p("Storage/RAID1/Drives/0")),
        ("GET", p("Storage/RAID1/Volumes/V1")),
    ] {
        assert!(received(&server, verb, &at).await.is_empty(), "{at}");
    }
    client.close().await.unwrap();
}

#[tokio::test]
async fn pcie_devices_behind_a_chassis_link_off_the_schema_uri_are_still_found() {
    // A BMC that keeps the collection elsewhere: `{chassis}/PCIeDevices` answers 404, so the
    // chassis is read and its link followed.
    let server = bmc(json!({})).await;
    let chassis = "/redfish/v1/Chassis/1";
    let collection = "/redfish/v1/Chassis/1/Oem/PCIe";
    let device = format!("{collection}/gpu0");
    get_json(
        &server,
        SYS,
        json!({"@odata.id": SYS, "Id": "1", "Name": "System",
               "Links": {"Chassis": [{"@odata.id": chassis}]}}),
    )
    .await;
    get_json(
        &server,
        chassis,
        member(chassis, &json!({"PCIeDevices": {"@odata.id": collection}})),
    )
    .await;
    get_json(
        &server,
        collection,
        json!({"Members": [{"@odata.id": device}]}),
    )
    .await;
    get_json(
        &server,
        &device,
        member(&device, &json!({"Manufacturer": "Acme"})),
    )
    .await;
    let client = client(&server);
    client.quirks().await.unwrap();
    client.reset_request_counts();
    let inventory = client.inventory("1").await.unwrap();
    assert_eq!(inventory.pcie_devices.len(), 1);
    assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);
    // System, the schema URI (404), the chassis, its collection, the device.
    assert_eq!(client.request_counts().get, 5);
    client.close().await.unwrap();
}
