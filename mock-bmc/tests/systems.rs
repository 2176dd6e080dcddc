//! Several Systems per node ([`MockBmcBuilder::systems_per_node`]): each has its own power,
//! boot override and inventory; BIOS and virtual media stay with the first.

mod common;

use common::{Bmc, fast_delays, message_ids};
use ferrofish_mock_bmc::{MockBmc, MockBmcError, Personality, SystemOptionsChange};
use serde_json::json;

const S1: &str = "/redfish/v1/Systems/System.Embedded.1";
const S2: &str = "/redfish/v1/Systems/System.Embedded.2";
const S3: &str = "/redfish/v1/Systems/System.Embedded.3";

#[tokio::test]
async fn each_system_has_its_own_power_boot_and_inventory() {
    let mock = MockBmc::builder()
        .personality(Personality::Dell)
        .power_delays(fast_delays())
        .systems_per_node(3)
        .spawn()
        .await
        .unwrap();
    let bmc = Bmc::new(mock.node(0));
    let systems = bmc.get_json("/redfish/v1/Systems").await;
    assert_eq!(systems["Members@odata.count"], 3);
    assert_eq!(systems["Members"][2]["@odata.id"], S3);

    let (one, two) = (bmc.get_json(S1).await, bmc.get_json(S2).await);
    assert_eq!(two["Id"], "System.Embedded.2");
    assert_ne!(one["UUID"], two["UUID"]);
    assert_ne!(one["SerialNumber"], two["SerialNumber"]);
    assert!(one.get("Bios").is_some() && two.get("Bios").is_none());

    // Power: only the System reset moves.
    assert_eq!(bmc.reset(S2, "On").await.status(), 204);
    bmc.wait_power(S2, "On").await;
    assert_eq!(bmc.get_json(S1).await["PowerState"], "Off");
    assert_eq!(bmc.get_json(S3).await["PowerState"], "Off");
    // An OS from the disk: started, or already running when this read comes late (a loaded
    // machine can take longer than the fast power-on delay between the two reads).
    let last_state = bmc.get_json(S2).await["BootProgress"]["LastState"].clone();
    assert!(
        last_state == "OSBootStarted" || last_state == "OSRunning",
        "{last_state}"
    );
    assert_eq!(
        bmc.node.view().power,
        ferrofish_mock_bmc::PowerState::Off,
        "the handle shows the first"
    );
    // Dell answers 409 to On while on, per System.
    assert_eq!(bmc.reset(S2, "On").await.status(), 409);
    assert_eq!(bmc.reset(S1, "On").await.status(), 204);

    // Boot override: only the System patched changes.
    let r = bmc
        .patch(S3, json!({"Boot": {"BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Once"}}))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["Boot"]["BootSourceOverrideTarget"],
        "Pxe"
    );
    assert_eq!(
        bmc.get_json(S1).await["Boot"]["BootSourceOverrideTarget"],
        "None"
    );
    assert_eq!(bmc.node.boot_override().0, "None");

    // Inventory per System, with distinct MAC addresses.
    let nic1 = bmc.get_json(&format!("{S1}/EthernetInterfaces/NIC1")).await;
    let nic2 = bmc.get_json(&format!("{S2}/EthernetInterfaces/NIC1")).await;
    assert_ne!(nic1["MACAddress"], nic2["MACAddress"]);
    let cpus = bmc.get_json(&format!("{S3}/Processors")).await;
    assert_eq!(
        cpus["Members"][0]["@odata.id"],
        format!("{S3}/Processors/CPU1")
    );
    assert_eq!(
        bmc.get(&format!("{S3}/Processors/CPU1")).await.status(),
        200
    );

    // BIOS and virtual media are the first System's.
    assert_eq!(bmc.get(&format!("{S2}/Bios")).await.status(), 404);
    assert_eq!(bmc.get(&format!("{S1}/Bios")).await.status(), 200);
    assert_eq!(
        bmc.get("/redfish/v1/Systems/System.Embedded.4")
            .await
            .status(),
        404
    );

    // The chassis and the manager name every System; $expand reaches all of them.
    let chassis = bmc.get_json("/redfish/v1/Chassis/System.Embedded.1").await;
    assert_eq!(
        chassis["Links"]["ComputerSystems"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let manager = bmc.get_json("/redfish/v1/Managers/iDRAC.Embedded.1").await;
    assert_eq!(
        manager["Links"]["ManagerForServers"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let expanded = bmc.get_json("/redfish/v1/Systems?$expand=.").await;
    assert_eq!(expanded["Members"][1]["Id"], "System.Embedded.2");
}

#[tokio::test]
async fn one_system_is_the_default_and_the_count_is_checked() {
    let mock = common::spawn(Personality::Generic).await;
    let bmc = Bmc::new(mock.node(0));
    assert_eq!(
        bmc.get_json("/redfish/v1/Systems").await["Members@odata.count"],
        1
    );
    assert_eq!(bmc.get("/redfish/v1/Systems/2").await.status(), 404);
    for bad in [0, 17] {
        let err = MockBmc::builder()
            .systems_per_node(bad)
            .spawn()
            .await
            .unwrap_err();
        assert!(
            matches!(err, MockBmcError::InvalidConfig(_)),
            "{bad}: {err}"
        );
    }
    let mock = MockBmc::builder()
        .systems_per_node(2)
        .spawn()
        .await
        .unwrap();
    let bmc = Bmc::new(mock.node(0));
    assert_eq!(bmc.get_json("/redfish/v1/Systems/2").await["Id"], "2");
}

/// Quirk `idrac10_power_on_conflict`: the next N `On`/`ForceOn` resets answer 409
/// `ActionParameterValueConflict` and change nothing; reads and other resets are served.
/// Quirk `continuous_boot_refused`: a `Continuous` override is refused with 400, `Once` is
/// taken. The Manager's identity switches. Set by the builder, the handle and the admin API.
#[tokio::test]
async fn power_on_conflicts_refused_continuous_and_manager_identity_switches() {
    let mock = MockBmc::builder()
        .personality(Personality::Dell)
        .power_delays(fast_delays())
        .power_on_conflicts(2)
        .manager_identity("1.20.25.00", "17G Monolithic")
        .admin_api("127.0.0.1:0".parse().unwrap())
        .spawn()
        .await
        .unwrap();
    let bmc = Bmc::new(mock.node(0));
    let manager = bmc.get_json("/redfish/v1/Managers/iDRAC.Embedded.1").await;
    assert_eq!(manager["FirmwareVersion"], "1.20.25.00");
    assert_eq!(manager["Model"], "17G Monolithic");
    for left in [1, 0] {
        let r = bmc.reset(S1, "On").await;
        assert_eq!(r.status(), 409);
        assert_eq!(
            message_ids(&r.json().await.unwrap()),
            ["Base.1.18.ActionParameterValueConflict"]
        );
        assert_eq!(bmc.node.system_options().power_on_conflicts, left);
        assert_eq!(
            bmc.get_json(S1).await["PowerState"],
            "Off",
            "nothing changed"
        );
    }
    assert_eq!(
        bmc.reset(S1, "On").await.status(),
        204,
        "the third is taken"
    );
    bmc.wait_power(S1, "On").await;
    // Only power-on resets are counted down: a ForceOff goes through while armed. (iDRAC
    // offers no `ForceOn`; the switch counts it too where a personality does.)
    bmc.node.set_system_options(&SystemOptionsChange {
        power_on_conflicts: Some(1),
        ..SystemOptionsChange::default()
    });
    assert_eq!(bmc.reset(S1, "ForceOff").await.status(), 204);
    bmc.wait_power(S1, "Off").await;
    assert_eq!(
        bmc.node.system_options().power_on_conflicts,
        1,
        "not counted down"
    );
    assert_eq!(bmc.reset(S1, "On").await.status(), 409);
    assert_eq!(bmc.reset(S1, "On").await.status(), 204);

    // Continuous refused, switched on through the admin API; Once still taken.
    let admin = format!("http://{}/nodes/0/options", mock.admin_addr().unwrap());
    let shown: serde_json::Value = bmc
        .http
        .post(&admin)
        .json(&json!({"system": {"continuous_boot_refused": true, "manager_firmware": ""}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["system"]["continuous_boot_refused"], true);
    assert_eq!(shown["system"]["manager_model"], "17G Monolithic");
    let manager = bmc.get_json("/redfish/v1/Managers/iDRAC.Embedded.1").await;
    assert_eq!(
        manager["FirmwareVersion"], "6.00.30.00",
        "the personality's again"
    );
    let system = bmc.get_json(S1).await;
    assert!(
        system["Boot"]["BootSourceOverrideEnabled@Redfish.AllowableValues"]
            .as_array()
            .unwrap()
            .contains(&json!("Continuous")),
        "still advertised"
    );
    let r = bmc
        .patch(S1, json!({"Boot": {"BootSourceOverrideTarget": "Cd", "BootSourceOverrideEnabled": "Continuous"}}))
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        message_ids(&r.json().await.unwrap()),
        ["Base.1.18.PropertyValueNotInList"]
    );
    assert_eq!(bmc.node.boot_override().0, "None", "nothing changed");
    let r = bmc
        .patch(S1, json!({"Boot": {"BootSourceOverrideTarget": "Cd", "BootSourceOverrideEnabled": "Once"}}))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(bmc.node.boot_override().0, "Cd");
}
