//! The vendors of the mock BMC's personalities as redfish-core sees them: detection from the
//! service root (and the Manager's model and firmware), and for the quirks of AMI, Fujitsu and
//! HPE a pair each: with the personality the operation succeeds, and with the same
//! personality and the quirk switched off (`QuirksOverride`) it fails the way the BMC does.

use std::time::Duration;

use ferrofish::redfish::oem::hpe::{HpePowerAction, HpePushType, HpeSystemResetType};
use ferrofish::redfish::{
    BootMode, BootOverride, BootOverrideEnabled, BootOverrideOutcome, BootSource, Error,
    PowerState, QuirksOverride, RedfishClient, ResetType, Vendor,
};
use ferrofish_mock_bmc::{
    DEFAULT_PASSWORD, DEFAULT_USER, MockBmc, MockBmcHandle, Personality, PowerDelays,
};
use secrecy::SecretString;
use serde_json::json;

fn client(mock: &MockBmcHandle, overrides: QuirksOverride) -> RedfishClient {
    RedfishClient::builder(mock.node(0).url())
        .credentials(DEFAULT_USER, SecretString::from(DEFAULT_PASSWORD))
        .request_timeout(Duration::from_secs(30))
        .quirks_override(overrides)
        .build()
        .expect("client")
}

async fn spawn(personality: Personality) -> MockBmcHandle {
    MockBmc::builder()
        .personality(personality)
        .power_delays(PowerDelays {
            on: Duration::from_millis(30),
            force_off: Duration::from_millis(10),
            graceful_shutdown: Duration::from_millis(40),
        })
        .spawn()
        .await
        .expect("mock")
}

fn header<'a>(entry: &'a ferrofish_mock_bmc::LogEntry, name: &str) -> Option<&'a str> {
    entry
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn detection_names_the_vendor_model_and_firmware_of_every_personality() {
    let expected = [
        (Personality::Generic, Vendor::Other("Ferrofish".into())),
        (Personality::Dell, Vendor::Dell),
        (Personality::Hpe, Vendor::Hpe),
        (Personality::Lenovo, Vendor::Lenovo),
        (Personality::Supermicro, Vendor::Supermicro),
        (Personality::Ami, Vendor::Ami),
        (Personality::Irmc, Vendor::Fujitsu),
    ];
    assert_eq!(
        expected.len(),
        Personality::ALL.len(),
        "a personality is missing"
    );
    for (personality, vendor) in expected {
        let mock = spawn(personality).await;
        let client = client(&mock, QuirksOverride::default());
        let identity = client.identity().await.expect("identity");
        let profile = personality.profile();
        assert_eq!(identity.vendor, vendor, "{personality}");
        assert_eq!(
            identity.model.as_deref(),
            Some(profile.manager_model),
            "{personality}"
        );
        assert_eq!(
            identity.firmware.as_deref(),
            Some(profile.firmware_version),
            "{personality}"
        );
        client.close().await.expect("close");
    }
}

#[tokio::test]
async fn the_quirks_in_force_name_what_ami_and_irmc_change() {
    let ami = spawn(Personality::Ami).await;
    let q = client(&ami, QuirksOverride::default())
        .quirks()
        .await
        .unwrap();
    assert!(q.if_match_required && q.boot_patch_needs_all_fields && !q.expand_collections);
    let irmc = spawn(Personality::Irmc).await;
    let q = client(&irmc, QuirksOverride::default())
        .quirks()
        .await
        .unwrap();
    assert!(q.power_on_by_push_button);
}

/// Quirk `patch_requires_if_match` (AMI): a PATCH with no entity tag known carries `If-Match: *`;
/// switched off, it carries none and the BMC refuses it with 428.
#[tokio::test]
async fn patch_requires_if_match_on_ami_and_the_refusal_without_the_quirk() {
    let sys = "/redfish/v1/Systems/Self";
    let mock = spawn(Personality::Ami).await;
    let with = client(&mock, QuirksOverride::default());
    with.patch(sys, &json!({"AssetTag": "rack-7"}))
        .await
        .expect("accepted with If-Match: *");
    let sent = mock.node(0).requests();
    let patch = sent.iter().rfind(|e| e.method == "PATCH").unwrap();
    assert_eq!((header(patch, "if-match"), patch.status), (Some("*"), 200));
    assert_eq!(
        with.get::<serde_json::Value>(sys).await.unwrap().value["AssetTag"],
        "rack-7"
    );

    let mock = spawn(Personality::Ami).await;
    let without = client(
        &mock,
        QuirksOverride {
            if_match_required: Some(false),
            ..QuirksOverride::default()
        },
    );
    let err = without
        .patch(sys, &json!({"AssetTag": "rack-7"}))
        .await
        .expect_err("refused");
    assert_eq!(err.status(), Some(428), "{err}");
    let sent = mock.node(0).requests();
    let patch = sent.iter().rfind(|e| e.method == "PATCH").unwrap();
    assert_eq!(header(patch, "if-match"), None);
    assert_ne!(
        without.get::<serde_json::Value>(sys).await.unwrap().value["AssetTag"],
        "rack-7"
    );
}

/// Quirk `override_mode_needs_resend` on AMI and Supermicro (`boot_patch_needs_all_fields`):
/// a boot override that leaves the mode as it is keeps UEFI because the mode is re-sent;
/// switched off, the mode is left out and the BMC silently drops to Legacy.
#[tokio::test]
async fn ami_and_supermicro_boot_override_keeps_the_mode_only_when_every_field_is_sent() {
    let wanted = BootOverride {
        target: BootSource::Pxe,
        enabled: BootOverrideEnabled::Once,
        mode: None,
    };
    for (personality, needs_all, mode_after) in [
        (Personality::Ami, None, "UEFI"),
        (Personality::Ami, Some(false), "Legacy"),
        (Personality::Supermicro, None, "UEFI"),
        (Personality::Supermicro, Some(false), "Legacy"),
    ] {
        let mock = spawn(personality).await;
        assert_eq!(mock.node(0).view().boot_mode, "UEFI");
        let client = client(
            &mock,
            QuirksOverride {
                boot_patch_needs_all_fields: needs_all,
                ..QuirksOverride::default()
            },
        );
        let outcome = client
            .set_boot_override(personality.profile().system_id, wanted.clone())
            .await
            .expect("the PATCH is accepted either way");
        assert_eq!(
            outcome,
            BootOverrideOutcome::Applied,
            "the mode was not asked for"
        );
        let view = mock.node(0).view();
        assert_eq!(
            (view.boot_target.as_str(), view.boot_enabled.as_str()),
            ("Pxe", "Once")
        );
        assert_eq!(view.boot_mode, mode_after, "{personality} {needs_all:?}");
    }
}

/// Quirk `virtual_cd_is_usb_cd` (Supermicro): `Cd` goes out as `UsbCd`, the target the BMC
/// lists; switched off, `Cd` is not among its targets and is refused before anything is sent.
#[tokio::test]
async fn supermicro_virtual_cd_is_usb_cd_and_refused_as_cd_without_the_quirk() {
    let wanted = BootOverride {
        target: BootSource::Cd,
        enabled: BootOverrideEnabled::Once,
        mode: Some(BootMode::Uefi),
    };
    let mock = spawn(Personality::Supermicro).await;
    let outcome = client(&mock, QuirksOverride::default())
        .set_boot_override("1", wanted.clone())
        .await
        .expect("UsbCd");
    assert_eq!(outcome, BootOverrideOutcome::Applied);
    assert_eq!(mock.node(0).view().boot_target, "UsbCd");

    let mock = spawn(Personality::Supermicro).await;
    let err = client(
        &mock,
        QuirksOverride {
            virtual_cd_boot_target_is_usb_cd: Some(false),
            ..QuirksOverride::default()
        },
    )
    .set_boot_override("1", wanted.clone())
    .await
    .expect_err("Cd is not a Supermicro target");
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
    assert_eq!(mock.node(0).count("PATCH", "/redfish/v1/Systems/1"), 0);
}

/// Quirk `ilo_not_ready_after_power_change` (HPE): a reset right after a power change is
/// refused with `InvalidOperationForSystemState` for a while; the client retries it; without
/// the message in the transient list the refusal is the answer.
#[tokio::test]
async fn ilo_not_ready_after_power_change_is_retried_and_fails_without_the_quirk() {
    let mock = spawn(Personality::Hpe).await;
    mock.node(0).set_power(true);
    client(&mock, QuirksOverride::default())
        .reset("1", ResetType::ForceOff)
        .await
        .expect("retried past iLO's busy window");
    let refused = mock
        .node(0)
        .requests()
        .iter()
        .filter(|e| e.method == "POST" && e.status == 400)
        .count();
    assert!(refused >= 1, "the first POST met the busy window");

    let mock = spawn(Personality::Hpe).await;
    mock.node(0).set_power(true);
    let err = client(
        &mock,
        QuirksOverride {
            transient_post_message_ids: Some(Vec::new()),
            ..QuirksOverride::default()
        },
    )
    .reset("1", ResetType::ForceOff)
    .await
    .expect_err("refused once and not retried");
    assert_eq!(err.status(), Some(400), "{err}");
    let posts: Vec<u16> = mock
        .node(0)
        .requests()
        .iter()
        .filter(|e| e.method == "POST" && e.path.ends_with("ComputerSystem.Reset"))
        .map(|e| e.status)
        .collect();
    assert_eq!(posts, [400], "sent once, refused, not retried");
}

/// Quirk `expand_drops_required_properties` (AMI): `$expand` is never sent and the inventory
/// is whole; switched on again, the expanded members come without their required properties
/// and each is read on its own, one GET per member on top of the expansions.
#[tokio::test]
async fn ami_inventory_without_expand_and_what_expand_costs_there() {
    let mut inventories = Vec::new();
    let mut gets = Vec::new();
    for expand in [None, Some(true)] {
        let mock = spawn(Personality::Ami).await;
        let client = client(
            &mock,
            QuirksOverride {
                expand_collections: expand,
                ..QuirksOverride::default()
            },
        );
        inventories.push(client.inventory("Self").await.expect("inventory"));
        let log = mock.node(0).requests();
        let expanded = log.iter().filter(|e| e.path.contains("$expand")).count();
        assert_eq!(
            expanded > 0,
            expand.is_some(),
            "{expand:?}: {expanded} expansions"
        );
        gets.push(log.iter().filter(|e| e.method == "GET").count());
    }
    assert_eq!(inventories[0], inventories[1]);
    assert!(
        inventories[0].warnings.is_empty(),
        "{:?}",
        inventories[0].warnings
    );
    assert!(
        gets[1] > gets[0],
        "expanding costs the expansions and every member again: {gets:?}"
    );
}

/// Quirk `irmc_power_on_is_a_button_press` (Fujitsu): `On`, which iRMC does not list, is a
/// button press from off and nothing while on; switched off, it is refused before anything is
/// sent.
#[tokio::test]
async fn irmc_power_on_is_a_button_press_and_not_allowed_without_the_quirk() {
    let mock = spawn(Personality::Irmc).await;
    let with = client(&mock, QuirksOverride::default());
    with.reset("0", ResetType::On).await.expect("powered on");
    let posts: Vec<_> = mock
        .node(0)
        .requests()
        .into_iter()
        .filter(|e| e.method == "POST" && e.path.ends_with("ComputerSystem.Reset"))
        .collect();
    assert_eq!(posts.len(), 1);
    assert!(
        posts[0].body.contains("PushPowerButton"),
        "{}",
        posts[0].body
    );
    with.wait_for_power_state("0", PowerState::On, Duration::from_secs(20))
        .await
        .expect("on");
    mock.node(0).clear_requests();
    with.reset("0", ResetType::On).await.expect("already on");
    assert_eq!(
        mock.node(0)
            .count("POST", "/redfish/v1/Systems/0/Actions/ComputerSystem.Reset"),
        0,
        "a press now would turn it off"
    );

    let mock = spawn(Personality::Irmc).await;
    let without = client(
        &mock,
        QuirksOverride {
            power_on_by_push_button: Some(false),
            ..QuirksOverride::default()
        },
    );
    let err = without
        .reset("0", ResetType::On)
        .await
        .expect_err("refused");
    assert!(
        matches!(
            err,
            Error::NotAllowed {
                property: "ResetType",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        mock.node(0)
            .requests()
            .iter()
            .filter(|e| e.method == "POST" && e.path.contains("Reset"))
            .count(),
        0
    );
    assert!(!mock.node(0).power_is_on());
}

/// iLO's OEM power actions, typed: press-and-hold forces the power off, a cold boot cycles
/// it; a System that does not advertise them (another vendor) gets nothing sent.
#[tokio::test]
async fn hpe_power_button_hold_and_cold_boot_through_the_oem_actions() {
    let mock = spawn(Personality::Hpe).await;
    mock.node(0).set_power(true);
    let client = client(&mock, QuirksOverride::default());
    client
        .wait_for_power_state("1", PowerState::On, Duration::from_secs(20))
        .await
        .expect("on");
    tokio::time::sleep(Duration::from_millis(1_100)).await; // iLO's busy window
    client
        .hpe_power_action("1", HpePowerAction::PowerButton(HpePushType::PressAndHold))
        .await
        .expect("hold");
    client
        .wait_for_power_state("1", PowerState::Off, Duration::from_secs(20))
        .await
        .expect("off");
    let hold = mock.node(0).requests();
    let hold = hold.iter().rfind(|e| e.method == "POST").unwrap();
    assert_eq!(
        hold.path,
        "/redfish/v1/Systems/1/Actions/Oem/Hpe/HpeComputerSystemExt.PowerButton/"
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&hold.body).unwrap(),
        json!({"PushType": "PressAndHold"})
    );
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    client
        .hpe_power_action(
            "1",
            HpePowerAction::SystemReset(HpeSystemResetType::ColdBoot),
        )
        .await
        .expect("cold boot");
    client
        .wait_for_power_state("1", PowerState::On, Duration::from_secs(20))
        .await
        .expect("on again");

    let dell = spawn(Personality::Dell).await;
    let err = client_for_dell(&dell)
        .hpe_power_action(
            "System.Embedded.1",
            HpePowerAction::PowerButton(HpePushType::Press),
        )
        .await
        .expect_err("not an iLO");
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    assert_eq!(
        dell.node(0)
            .requests()
            .iter()
            .filter(|e| e.method == "POST" && e.path.contains("Actions"))
            .count(),
        0
    );
}

fn client_for_dell(mock: &MockBmcHandle) -> RedfishClient {
    client(mock, QuirksOverride::default())
}
