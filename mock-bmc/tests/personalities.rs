//! One test per named quirk of each personality table, plus BIOS apply on the right reset.

mod common;

use std::time::Duration;

use common::{Bmc, PASS, USER, message_ids, spawn};
use ferrofish_mock_bmc::Personality;
use serde_json::json;

async fn wait_booted(bmc: &Bmc, count: u32) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while bmc.node.view().boot_count < count {
        assert!(std::time::Instant::now() < deadline, "node did not boot");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Stage a BIOS change on the settings object (expected at the literal `settings_path`),
/// `GracefulRestart`, check, then `ForceRestart` and check.
async fn bios_apply_case(p: Personality, graceful_applies: bool, settings_path: &str) {
    let mock = spawn(p).await;
    let bmc = Bmc::new(mock.node(0));
    let prof = p.profile();
    let sys = format!("/redfish/v1/Systems/{}", prof.system_id);
    let bios = bmc.get_json(&format!("{sys}/Bios")).await;
    let settings = bios["@Redfish.Settings"]["SettingsObject"]["@odata.id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(settings, settings_path, "{p}");
    // Supermicro spells it with its `#XXXX` suffix (quirk `bios_suffixed_names`).
    let turbo = bios["Attributes"]
        .as_object()
        .unwrap()
        .keys()
        .find(|k| k.split('#').next() == Some("ProcTurboMode"))
        .unwrap()
        .clone();
    let turbo = turbo.as_str();
    bmc.reset(&sys, "On").await;
    wait_booted(&bmc, 1).await;
    let mut body = json!({"Attributes": {turbo: "Disabled"}});
    if !prof.rejects_settings_apply_time {
        body["@Redfish.SettingsApplyTime"] = json!({"ApplyTime": "OnReset"});
    }
    let r = bmc.patch(&settings, body).await;
    assert!(r.status().is_success(), "{p}: {}", r.status());
    assert_eq!(
        bmc.node.view().bios_pending.get("ProcTurboMode"),
        Some(&json!("Disabled"))
    );
    assert_eq!(
        bmc.get_json(&settings).await["Attributes"][turbo],
        "Disabled"
    );
    assert_eq!(
        bmc.get_json(&format!("{sys}/Bios")).await["Attributes"][turbo],
        "Enabled",
        "{p}: current unchanged until reset"
    );
    // Past HPE's busy window.
    tokio::time::sleep(Duration::from_millis(
        prof.busy_after_power_change_ms.unwrap_or(0),
    ))
    .await;
    assert_eq!(
        bmc.reset(&sys, "GracefulRestart").await.status(),
        204,
        "{p}"
    );
    wait_booted(&bmc, 2).await;
    let applied = bmc.get_json(&format!("{sys}/Bios")).await["Attributes"][turbo] == "Disabled";
    assert_eq!(
        applied, graceful_applies,
        "{p}: GracefulRestart applying BIOS"
    );
    if !graceful_applies {
        tokio::time::sleep(Duration::from_millis(
            prof.busy_after_power_change_ms.unwrap_or(0),
        ))
        .await;
        assert_eq!(bmc.reset(&sys, "ForceRestart").await.status(), 204);
        wait_booted(&bmc, 3).await;
        assert_eq!(
            bmc.get_json(&format!("{sys}/Bios")).await["Attributes"][turbo],
            "Disabled",
            "{p}: ForceRestart applies"
        );
    }
    assert!(bmc.node.view().bios_pending.is_empty());
}

#[tokio::test]
async fn bios_apply_generic_needs_force_restart() {
    bios_apply_case(
        Personality::Generic,
        false,
        "/redfish/v1/Systems/1/Bios/Settings",
    )
    .await;
}

#[tokio::test]
async fn bios_apply_dell_graceful_restart_runs_the_job() {
    bios_apply_case(
        Personality::Dell,
        true,
        "/redfish/v1/Systems/System.Embedded.1/Bios/Settings",
    )
    .await;
}

#[tokio::test]
async fn bios_apply_hpe_lower_case_settings() {
    bios_apply_case(
        Personality::Hpe,
        true,
        "/redfish/v1/Systems/1/Bios/settings",
    )
    .await;
}

#[tokio::test]
async fn bios_apply_lenovo_pending() {
    bios_apply_case(
        Personality::Lenovo,
        false,
        "/redfish/v1/Systems/1/Bios/Pending",
    )
    .await;
}

#[tokio::test]
async fn bios_apply_supermicro_sd() {
    bios_apply_case(
        Personality::Supermicro,
        false,
        "/redfish/v1/Systems/1/Bios/SD",
    )
    .await;
}

#[tokio::test]
async fn dell_bios_patch_creates_job_at_idrac_jobs() {
    // A slow power-on so the job is observably `Running` while the applying reset is under way.
    let mock = ferrofish_mock_bmc::MockBmc::builder()
        .personality(Personality::Dell)
        .power_delays(ferrofish_mock_bmc::PowerDelays {
            on: Duration::from_millis(1_500),
            ..common::fast_delays()
        })
        .spawn()
        .await
        .unwrap();
    let bmc = Bmc::new(mock.node(0));
    let sys = "/redfish/v1/Systems/System.Embedded.1";
    let settings = "/redfish/v1/Systems/System.Embedded.1/Bios/Settings";
    let job_path = "/redfish/v1/Managers/iDRAC.Embedded.1/Jobs/JID_000000000001";
    let r = bmc.patch(settings, json!({"Attributes": {"NumLock": "Off"}, "@Redfish.SettingsApplyTime": {"ApplyTime": "OnReset"}})).await;
    assert_eq!(r.status(), 202);
    assert_eq!(r.headers()["location"], job_path);
    let job: serde_json::Value = r.json().await.unwrap();
    assert_eq!(job["JobState"], "Scheduled");
    let job = bmc.get_json(job_path).await;
    assert_eq!(job["@odata.id"], job_path);
    assert_eq!(job["Id"], "JID_000000000001");
    assert_eq!(job["JobType"], "BIOSConfiguration");
    assert_eq!(job["JobState"], "Scheduled");
    assert_eq!(job["PercentComplete"], 0);
    assert_eq!(job["Message"], "Task successfully scheduled.");
    let jobs = bmc
        .get_json("/redfish/v1/Managers/iDRAC.Embedded.1/Jobs")
        .await;
    assert_eq!(jobs["Members"], json!([{"@odata.id": job_path}]));
    assert_eq!(
        bmc.get_json("/redfish/v1/Managers/iDRAC.Embedded.1").await["Links"]["Oem"]["Dell"]["Jobs"]
            ["@odata.id"],
        "/redfish/v1/Managers/iDRAC.Embedded.1/Jobs"
    );
    let again = bmc.patch(settings, json!({"Attributes": {"NumLock": "On"}, "@Redfish.SettingsApplyTime": {"ApplyTime": "OnReset"}})).await;
    assert_eq!(again.status(), 400);
    assert_eq!(
        message_ids(&again.json().await.unwrap()),
        vec!["IDRAC.2.8.SYS011"]
    );
    // Still a TaskService task, with its monitor.
    let monitor = "/redfish/v1/TaskService/TaskMonitors/JID_000000000001";
    let m = bmc.get(monitor).await;
    assert_eq!(m.status(), 202, "job waits for a reset");
    assert!(m.headers().contains_key("retry-after"));
    assert_eq!(
        bmc.get_json("/redfish/v1/TaskService/Tasks").await["Members"],
        json!([{"@odata.id": "/redfish/v1/TaskService/Tasks/JID_000000000001"}])
    );
    assert_eq!(bmc.reset(sys, "On").await.status(), 204);
    let running = bmc.get_json(job_path).await;
    assert_eq!(running["JobState"], "Running", "{running}");
    assert_eq!(running["PercentComplete"], 50);
    wait_booted(&bmc, 1).await;
    let done = bmc.get_json(job_path).await;
    assert_eq!(done["JobState"], "Completed");
    assert_eq!(done["PercentComplete"], 100);
    assert_eq!(done["Message"], "Job completed successfully.");
    assert_eq!(bmc.get(monitor).await.status(), 200);
    assert_eq!(
        bmc.node.view().bios_changed.get("NumLock"),
        Some(&json!("Off"))
    );
}

#[tokio::test]
async fn dell_bios_values_without_job_stay_pending_across_resets() {
    let mock = spawn(Personality::Dell).await;
    let bmc = Bmc::new(mock.node(0));
    let sys = "/redfish/v1/Systems/System.Embedded.1";
    let settings = "/redfish/v1/Systems/System.Embedded.1/Bios/Settings";
    let r = bmc
        .patch(settings, json!({"Attributes": {"NumLock": "Off"}}))
        .await;
    assert_eq!(r.status(), 204, "no apply time: staged, no job");
    assert!(r.headers().get("location").is_none());
    assert_eq!(
        bmc.get_json("/redfish/v1/Managers/iDRAC.Embedded.1/Jobs")
            .await["Members@odata.count"],
        0
    );
    bmc.reset(sys, "On").await;
    wait_booted(&bmc, 1).await;
    let view = bmc.node.view();
    assert_eq!(
        view.bios_changed.get("NumLock"),
        None,
        "no job: not applied"
    );
    assert_eq!(view.bios_pending.get("NumLock"), Some(&json!("Off")));
    // A job created later applies everything pending, the earlier value included.
    let r = bmc.patch(settings, json!({"Attributes": {"ProcTurboMode": "Disabled"}, "@Redfish.SettingsApplyTime": {"ApplyTime": "OnReset"}})).await;
    assert_eq!(r.status(), 202);
    assert_eq!(bmc.reset(sys, "ForceRestart").await.status(), 204);
    wait_booted(&bmc, 2).await;
    let view = bmc.node.view();
    assert_eq!(view.bios_changed.get("NumLock"), Some(&json!("Off")));
    assert_eq!(
        view.bios_changed.get("ProcTurboMode"),
        Some(&json!("Disabled"))
    );
    assert!(view.bios_pending.is_empty());
}

/// iDRAC9 on 6.00 firmware: slots under the System (`1`, `2`, CD or USB) and under the
/// Manager (`CD`, `RemovableDisk`), each level linked and each slot with its actions.
#[tokio::test]
async fn dell_vmedia_at_system_and_manager_with_actions() {
    let mock = spawn(Personality::Dell).await;
    let bmc = Bmc::new(mock.node(0));
    let system = bmc.get_json("/redfish/v1/Systems/System.Embedded.1").await;
    assert_eq!(
        system["VirtualMedia"]["@odata.id"],
        "/redfish/v1/Systems/System.Embedded.1/VirtualMedia"
    );
    let manager = bmc.get_json("/redfish/v1/Managers/iDRAC.Embedded.1").await;
    assert_eq!(
        manager["VirtualMedia"]["@odata.id"],
        "/redfish/v1/Managers/iDRAC.Embedded.1/VirtualMedia"
    );
    for (collection, ids) in [
        (
            "/redfish/v1/Systems/System.Embedded.1/VirtualMedia",
            ["1", "2"],
        ),
        (
            "/redfish/v1/Managers/iDRAC.Embedded.1/VirtualMedia",
            ["CD", "RemovableDisk"],
        ),
    ] {
        let coll = bmc.get_json(collection).await;
        let members: Vec<String> = coll["Members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["@odata.id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(members, ids.map(|id| format!("{collection}/{id}")));
        for member in members {
            let slot = bmc.get_json(&member).await;
            assert_eq!(
                slot["Actions"]["#VirtualMedia.InsertMedia"]["target"],
                format!("{member}/Actions/VirtualMedia.InsertMedia")
            );
        }
    }
    let system_slot = bmc
        .get_json("/redfish/v1/Systems/System.Embedded.1/VirtualMedia/1")
        .await;
    assert_eq!(system_slot["MediaTypes"], json!(["CD", "DVD", "USBStick"]));
    // A Manager slot id is not a System slot id, and the reverse.
    for path in [
        "/redfish/v1/Systems/System.Embedded.1/VirtualMedia/CD",
        "/redfish/v1/Managers/iDRAC.Embedded.1/VirtualMedia/1",
    ] {
        assert_eq!(bmc.get(path).await.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn dell_redundant_power_request_conflicts() {
    let mock = spawn(Personality::Dell).await;
    let bmc = Bmc::new(mock.node(0));
    let r = bmc
        .reset("/redfish/v1/Systems/System.Embedded.1", "ForceOff")
        .await;
    assert_eq!(r.status(), 409);
    let generic = spawn(Personality::Generic).await;
    let g = Bmc::new(generic.node(0));
    assert_eq!(
        g.reset("/redfish/v1/Systems/1", "ForceOff").await.status(),
        204,
        "generic: no-op success"
    );
}

#[tokio::test]
async fn dell_transient_sys518_on_request() {
    let mock = spawn(Personality::Dell).await;
    let bmc = Bmc::new(mock.node(0));
    mock.node(0).faults().transient_error_next(2);
    for _ in 0..2 {
        let r = bmc.get("/redfish/v1/Systems").await;
        assert_eq!(r.status(), 503);
        assert!(
            r.headers().get("retry-after").is_none(),
            "iDRAC sends no Retry-After with SYS518"
        );
        assert_eq!(
            message_ids(&r.json().await.unwrap()),
            vec!["IDRAC.2.8.SYS518"]
        );
    }
    assert_eq!(bmc.get("/redfish/v1/Systems").await.status(), 200);
    // The DMTF-style transient error of the generic personality does carry one.
    let generic = spawn(Personality::Generic).await;
    generic.node(0).faults().transient_error_next(1);
    let r = Bmc::new(generic.node(0)).get("/redfish/v1/Systems").await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "2");
}

#[tokio::test]
async fn hpe_busy_after_power_change_and_oem() {
    let mock = spawn(Personality::Hpe).await;
    let bmc = Bmc::new(mock.node(0));
    let sys = "/redfish/v1/Systems/1";
    assert!(bmc.get_json(sys).await["Oem"]["Hpe"].is_object());
    assert_eq!(bmc.reset(sys, "On").await.status(), 204);
    let r = bmc.reset(sys, "ForceOff").await;
    assert_eq!(r.status(), 400, "right after a power change");
    assert_eq!(
        message_ids(&r.json().await.unwrap()),
        vec!["iLO.2.15.InvalidOperationForSystemState"]
    );
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(bmc.reset(sys, "ForceOff").await.status(), 204);
}

#[tokio::test]
async fn hpe_pending_lists_all_attributes_lenovo_too_dell_only_changes() {
    for (p, all, settings) in [
        (
            Personality::Hpe,
            true,
            "/redfish/v1/Systems/1/Bios/settings",
        ),
        (
            Personality::Lenovo,
            true,
            "/redfish/v1/Systems/1/Bios/Pending",
        ),
        (
            Personality::Dell,
            false,
            "/redfish/v1/Systems/System.Embedded.1/Bios/Settings",
        ),
    ] {
        let mock = spawn(p).await;
        let bmc = Bmc::new(mock.node(0));
        let n = bmc.get_json(settings).await["Attributes"]
            .as_object()
            .map_or(0, serde_json::Map::len);
        assert_eq!(n > 50, all, "{p}: {n}");
    }
}

#[tokio::test]
async fn hpe_eject_requires_a_body() {
    let mock = spawn(Personality::Hpe).await;
    let bmc = Bmc::new(mock.node(0));
    let target = "/redfish/v1/Managers/1/VirtualMedia/2/Actions/VirtualMedia.EjectMedia";
    let r = bmc
        .http
        .post(bmc.url(target))
        .basic_auth(USER, Some(PASS))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(bmc.post(target, json!({})).await.status(), 204);
}

#[tokio::test]
async fn lenovo_rejects_settings_apply_time_and_continuous() {
    let mock = spawn(Personality::Lenovo).await;
    let bmc = Bmc::new(mock.node(0));
    let r = bmc.patch("/redfish/v1/Systems/1/Bios/Pending", json!({"Attributes": {"NumLock": "Off"}, "@Redfish.SettingsApplyTime": {"ApplyTime": "OnReset"}})).await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        message_ids(&r.json().await.unwrap()),
        vec!["Base.1.18.PropertyUnknown"]
    );
    assert_eq!(
        bmc.patch(
            "/redfish/v1/Systems/1/Bios/Pending",
            json!({"Attributes": {"NumLock": "Off"}})
        )
        .await
        .status(),
        204
    );
    let r = bmc.patch("/redfish/v1/Systems/1", json!({"Boot": {"BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Continuous"}})).await;
    assert_eq!(r.status(), 400, "XCC has no Continuous");
}

#[tokio::test]
async fn lenovo_virtual_media_by_patch_only() {
    let mock = spawn(Personality::Lenovo).await;
    let bmc = Bmc::new(mock.node(0));
    let slot = bmc
        .get_json("/redfish/v1/Managers/1/VirtualMedia/EXT1")
        .await;
    assert!(slot.get("Actions").is_none());
    let r = bmc
        .post(
            "/redfish/v1/Managers/1/VirtualMedia/EXT1/Actions/VirtualMedia.InsertMedia",
            json!({"Image": "http://127.0.0.1:1/x.iso"}),
        )
        .await;
    assert_eq!(r.status(), 404);
    let r = bmc
        .patch(
            "/redfish/v1/Managers/1/VirtualMedia/EXT1",
            json!({"Image": "http://127.0.0.1:1/x.iso"}),
        )
        .await;
    assert_eq!(r.status(), 400, "Inserted is required on XCC");
    assert_eq!(
        message_ids(&r.json().await.unwrap()),
        vec!["Base.1.18.PropertyMissing"]
    );
}

#[tokio::test]
async fn supermicro_usbcd_target_and_enabled_must_be_resent() {
    let mock = spawn(Personality::Supermicro).await;
    let bmc = Bmc::new(mock.node(0));
    let sys = "/redfish/v1/Systems/1";
    let allowed =
        bmc.get_json(sys).await["Boot"]["BootSourceOverrideTarget@Redfish.AllowableValues"].clone();
    assert!(allowed.as_array().unwrap().contains(&json!("UsbCd")));
    assert!(!allowed.as_array().unwrap().contains(&json!("Cd")));
    assert_eq!(
        bmc.patch(
            sys,
            json!({"Boot": {"BootSourceOverrideTarget": "Cd", "BootSourceOverrideEnabled": "Once"}})
        )
        .await
        .status(),
        400
    );
    assert_eq!(bmc.patch(sys, json!({"Boot": {"BootSourceOverrideTarget": "UsbCd", "BootSourceOverrideEnabled": "Once"}})).await.status(), 200);
    assert_eq!(
        bmc.get_json(sys).await["Boot"]["BootSourceOverrideEnabled"],
        "Once"
    );
    // Target alone: the override is dropped.
    assert_eq!(
        bmc.patch(sys, json!({"Boot": {"BootSourceOverrideTarget": "Pxe"}}))
            .await
            .status(),
        200
    );
    assert_eq!(
        bmc.get_json(sys).await["Boot"]["BootSourceOverrideEnabled"],
        "Disabled"
    );
    // Generic keeps Enabled when only the target is sent.
    let g = spawn(Personality::Generic).await;
    let gb = Bmc::new(g.node(0));
    gb.patch(
        sys,
        json!({"Boot": {"BootSourceOverrideTarget": "Cd", "BootSourceOverrideEnabled": "Once"}}),
    )
    .await;
    gb.patch(sys, json!({"Boot": {"BootSourceOverrideTarget": "Pxe"}}))
        .await;
    assert_eq!(
        gb.get_json(sys).await["Boot"]["BootSourceOverrideEnabled"],
        "Once"
    );
}

/// Quirk `override_mode_needs_resend` (Supermicro): a target without the mode falls back to
/// Legacy; re-sending UEFI with the target keeps it. Generic keeps the mode.
#[tokio::test]
async fn supermicro_boot_mode_resets_to_legacy_unless_resent() {
    let sys = "/redfish/v1/Systems/1";
    let mock = spawn(Personality::Supermicro).await;
    let bmc = Bmc::new(mock.node(0));
    let full = json!({"Boot": {"BootSourceOverrideTarget": "UsbCd", "BootSourceOverrideEnabled": "Once", "BootSourceOverrideMode": "UEFI"}});
    assert_eq!(bmc.patch(sys, full.clone()).await.status(), 200);
    assert_eq!(
        bmc.get_json(sys).await["Boot"]["BootSourceOverrideMode"],
        "UEFI"
    );
    let no_mode =
        json!({"Boot": {"BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Once"}});
    assert_eq!(bmc.patch(sys, no_mode.clone()).await.status(), 200);
    let boot = bmc.get_json(sys).await["Boot"].clone();
    assert_eq!(boot["BootSourceOverrideMode"], "Legacy", "{boot}");
    assert_eq!(boot["BootSourceOverrideTarget"], "Pxe");
    assert_eq!(bmc.patch(sys, full).await.status(), 200);
    assert_eq!(
        bmc.get_json(sys).await["Boot"]["BootSourceOverrideMode"],
        "UEFI"
    );

    let generic = spawn(Personality::Generic).await;
    let g = Bmc::new(generic.node(0));
    let uefi = json!({"Boot": {"BootSourceOverrideTarget": "Cd", "BootSourceOverrideEnabled": "Once", "BootSourceOverrideMode": "UEFI"}});
    assert_eq!(g.patch(sys, uefi).await.status(), 200);
    assert_eq!(g.patch(sys, no_mode).await.status(), 200);
    assert_eq!(
        g.get_json(sys).await["Boot"]["BootSourceOverrideMode"],
        "UEFI"
    );
}

#[tokio::test]
async fn supermicro_sd_omits_attributes_when_nothing_pending_and_insert_rejects_readonly_fields() {
    let mock = spawn(Personality::Supermicro).await;
    let bmc = Bmc::new(mock.node(0));
    assert!(
        bmc.get_json("/redfish/v1/Systems/1/Bios/SD")
            .await
            .get("Attributes")
            .is_none()
    );
    let r = bmc
        .post(
            "/redfish/v1/Managers/1/VirtualMedia/CD1/Actions/VirtualMedia.InsertMedia",
            json!({"Image": "http://127.0.0.1:1/x.iso", "Inserted": true, "WriteProtected": true}),
        )
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        message_ids(&r.json().await.unwrap()),
        vec!["Base.1.18.PropertyNotWritable"]
    );
}

/// AMI `MegaRAC` (DGX H100): `Self` ids, the root names AMI while the System names NVIDIA.
/// Quirk `patch_requires_if_match`: no PATCH without `If-Match` (428), `*` or the tag passes;
/// Generic takes a PATCH without it.
#[tokio::test]
async fn ami_self_ids_and_patch_requires_if_match() {
    let mock = spawn(Personality::Ami).await;
    let bmc = Bmc::new(mock.node(0));
    let root = bmc.get_json("/redfish/v1").await;
    assert_eq!(root["Vendor"], "AMI");
    let sys = "/redfish/v1/Systems/Self";
    let system = bmc.get_json(sys).await;
    assert_eq!(system["Manufacturer"], "NVIDIA");
    assert_eq!(
        system["Links"]["ManagedBy"][0]["@odata.id"],
        "/redfish/v1/Managers/Self"
    );
    assert_eq!(
        system["Links"]["Chassis"][0]["@odata.id"],
        "/redfish/v1/Chassis/Self"
    );
    let body = json!({"AssetTag": "rack-7"});
    let r = bmc.patch(sys, body.clone()).await;
    assert_eq!(r.status(), 428);
    assert_eq!(
        message_ids(&r.json().await.unwrap()),
        vec!["Base.1.18.PreconditionRequired"]
    );
    assert_ne!(
        bmc.get_json(sys).await["AssetTag"],
        "rack-7",
        "nothing changed"
    );
    let star = bmc
        .http
        .patch(bmc.url(sys))
        .basic_auth(USER, Some(PASS))
        .header("If-Match", "*")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(star.status(), 200);
    assert_eq!(bmc.get_json(sys).await["AssetTag"], "rack-7");
    let g = spawn(Personality::Generic).await;
    let gb = Bmc::new(g.node(0));
    assert_eq!(gb.patch("/redfish/v1/Systems/1", body).await.status(), 200);
}

/// Quirk `expand_drops_required_properties` (AMI): members inlined by `$expand` lack `Id` and
/// `Name` (and a chassis its `ChassisType`); the member's own GET has them. Generic keeps them.
#[tokio::test]
async fn ami_expand_drops_required_properties_of_members() {
    let mock = spawn(Personality::Ami).await;
    let bmc = Bmc::new(mock.node(0));
    let expanded = bmc.get_json("/redfish/v1/Chassis?$expand=.").await;
    let member = &expanded["Members"][0];
    assert_eq!(member["@odata.id"], "/redfish/v1/Chassis/Self");
    for required in ["Id", "Name", "ChassisType"] {
        assert!(
            member.get(required).is_none(),
            "{required} inlined: {member}"
        );
    }
    let direct = bmc.get_json("/redfish/v1/Chassis/Self").await;
    assert_eq!(direct["Id"], "Self");
    assert!(direct["ChassisType"].is_string());
    let g = spawn(Personality::Generic).await;
    let gb = Bmc::new(g.node(0));
    let expanded = gb.get_json("/redfish/v1/Chassis?$expand=.").await;
    assert!(expanded["Members"][0]["Id"].is_string());
}

/// AMI's BIOS settings object is `Bios/SD` and takes `If-Match: *` only (quirk
/// `bios_settings_if_match_star`, on by default for this personality).
#[tokio::test]
async fn ami_bios_sd_takes_if_match_star_only() {
    let mock = spawn(Personality::Ami).await;
    let bmc = Bmc::new(mock.node(0));
    let bios = bmc.get_json("/redfish/v1/Systems/Self/Bios").await;
    let settings = bios["@Redfish.Settings"]["SettingsObject"]["@odata.id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(settings, "/redfish/v1/Systems/Self/Bios/SD");
    let etag = bmc
        .get(&settings)
        .await
        .headers()
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let body = json!({"Attributes": {"BootSeqRetryCount": 4}});
    let with = |tag: &'static str| {
        bmc.http
            .patch(bmc.url(&settings))
            .basic_auth(USER, Some(PASS))
            .header("If-Match", tag)
            .json(&body)
            .send()
    };
    let own = bmc
        .http
        .patch(bmc.url(&settings))
        .basic_auth(USER, Some(PASS))
        .header("If-Match", etag.as_str())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 412, "its own tag is refused");
    assert!(with("*").await.unwrap().status().is_success());
    assert_eq!(
        bmc.node.view().bios_pending.get("BootSeqRetryCount"),
        Some(&json!(4))
    );
}

/// Quirk `override_mode_needs_resend` on AMI (every boot field in every request): a target
/// alone loses Enabled and the mode.
#[tokio::test]
async fn ami_boot_patch_loses_what_it_does_not_resend() {
    let mock = spawn(Personality::Ami).await;
    let bmc = Bmc::new(mock.node(0));
    let sys = "/redfish/v1/Systems/Self";
    let patch = |body: serde_json::Value| {
        bmc.http
            .patch(bmc.url(sys))
            .basic_auth(USER, Some(PASS))
            .header("If-Match", "*")
            .json(&body)
            .send()
    };
    let full = json!({"Boot": {"BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Once", "BootSourceOverrideMode": "UEFI"}});
    assert_eq!(patch(full).await.unwrap().status(), 200);
    let boot = bmc.get_json(sys).await["Boot"].clone();
    assert_eq!(
        (
            &boot["BootSourceOverrideEnabled"],
            &boot["BootSourceOverrideMode"]
        ),
        (&json!("Once"), &json!("UEFI"))
    );
    let target_only = json!({"Boot": {"BootSourceOverrideTarget": "Hdd"}});
    assert_eq!(patch(target_only).await.unwrap().status(), 200);
    let boot = bmc.get_json(sys).await["Boot"].clone();
    assert_eq!(
        (
            &boot["BootSourceOverrideEnabled"],
            &boot["BootSourceOverrideMode"]
        ),
        (&json!("Disabled"), &json!("Legacy"))
    );
}

/// Fujitsu iRMC: ids `0` and `iRMC`, `Oem.ts_fujitsu`, and no `On` among the reset types
/// (quirk `irmc_power_on_is_a_button_press`): `On` is refused, a button press powers on.
#[tokio::test]
async fn irmc_ids_oem_and_power_on_by_button_only() {
    let mock = spawn(Personality::Irmc).await;
    let bmc = Bmc::new(mock.node(0));
    let root = bmc.get_json("/redfish/v1").await;
    assert_eq!(root["Vendor"], "Fujitsu");
    assert!(root["Oem"]["ts_fujitsu"].is_object());
    let sys = "/redfish/v1/Systems/0";
    let system = bmc.get_json(sys).await;
    assert!(system["Oem"]["ts_fujitsu"].is_object());
    assert_eq!(
        system["Links"]["ManagedBy"][0]["@odata.id"],
        "/redfish/v1/Managers/iRMC"
    );
    let allowed = system["Actions"]["#ComputerSystem.Reset"]["ResetType@Redfish.AllowableValues"]
        .as_array()
        .unwrap()
        .clone();
    assert!(!allowed.contains(&json!("On")), "{allowed:?}");
    let r = bmc.reset(sys, "On").await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        message_ids(&r.json().await.unwrap()),
        vec!["Base.1.18.ActionParameterNotSupported"]
    );
    assert!(!bmc.node.power_is_on());
    assert_eq!(bmc.reset(sys, "PushPowerButton").await.status(), 204);
    bmc.wait_power(sys, "On").await;
}

/// iLO 5's OEM power actions: `PressAndHold` forces the power off, `ColdBoot` cycles it; a
/// value outside the action's own list is refused. Another personality has no such route.
#[tokio::test]
async fn hpe_oem_power_button_and_system_reset() {
    let mock = spawn(Personality::Hpe).await;
    let bmc = Bmc::new(mock.node(0));
    let sys = "/redfish/v1/Systems/1";
    let actions = bmc.get_json(sys).await["Oem"]["Hpe"]["Actions"].clone();
    let button = actions["#HpeComputerSystemExt.PowerButton"]["target"]
        .as_str()
        .unwrap()
        .to_owned();
    let system_reset = actions["#HpeComputerSystemExt.SystemReset"]["target"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        actions["#HpeComputerSystemExt.SystemReset"]["ResetType@Redfish.AllowableValues"],
        json!(["ColdBoot", "AuxCycle"])
    );
    mock.node(0).set_power(true);
    tokio::time::sleep(Duration::from_millis(1_100)).await; // iLO's busy window
    assert_eq!(
        bmc.post(&button, json!({"PushType": "PressAndHold"}))
            .await
            .status(),
        204
    );
    bmc.wait_power(sys, "Off").await;
    tokio::time::sleep(Duration::from_millis(1_100)).await; // iLO's busy window
    assert_eq!(
        bmc.post(&system_reset, json!({"ResetType": "ColdBoot"}))
            .await
            .status(),
        204
    );
    bmc.wait_power(sys, "On").await;
    let r = bmc.post(&button, json!({"PushType": "Hold"})).await;
    assert_eq!(r.status(), 400);
    let g = spawn(Personality::Generic).await;
    let gb = Bmc::new(g.node(0));
    assert_eq!(
        gb.post(&button, json!({"PushType": "Press"}))
            .await
            .status(),
        404
    );
}
