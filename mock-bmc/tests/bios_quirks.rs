//! The BIOS quirk switches over plain HTTP: each changes what the wire shows, from the
//! builder, the node handle and the admin API.

mod common;

use common::{Bmc, PASS, USER, fast_delays, message_ids};
use ferrofish_mock_bmc::{BiosOptionsChange, MockBmc, Personality};
use serde_json::{Value, json};

const BIOS: &str = "/redfish/v1/Systems/1/Bios";
const SETTINGS: &str = "/redfish/v1/Systems/1/Bios/Settings";

async fn node(
    builder: ferrofish_mock_bmc::MockBmcBuilder,
) -> (ferrofish_mock_bmc::MockBmcHandle, Bmc) {
    let mock = builder
        .power_delays(fast_delays())
        .spawn()
        .await
        .expect("mock");
    let bmc = Bmc::new(mock.node(0));
    (mock, bmc)
}

/// Powers the node on and restarts it so pending values meet a reset, then waits for `On`.
async fn restart(bmc: &Bmc) {
    bmc.node.set_power(true);
    bmc.wait_power("/redfish/v1/Systems/1", "On").await;
    let r = bmc.reset("/redfish/v1/Systems/1", "ForceRestart").await;
    assert!(r.status().is_success(), "{}", r.status());
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    bmc.wait_power("/redfish/v1/Systems/1", "On").await;
}

#[tokio::test]
async fn rejected_at_apply_drops_the_value_and_says_why_in_the_settings_messages() {
    let (_mock, bmc) = node(MockBmc::builder().bios_rejected_at_apply(["ProcTurboMode"])).await;
    let r = bmc
        .patch(
            SETTINGS,
            json!({"Attributes": {"ProcTurboMode": "Disabled", "BootSeqRetryCount": 4}}),
        )
        .await;
    assert_eq!(r.status(), 204, "the PATCH itself is accepted");
    restart(&bmc).await;
    let bios = bmc.get_json(BIOS).await;
    assert_eq!(
        bios["Attributes"]["ProcTurboMode"], "Enabled",
        "not applied"
    );
    assert_eq!(
        bios["Attributes"]["BootSeqRetryCount"], 4,
        "the other one is"
    );
    let messages = bios["@Redfish.Settings"]["Messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["MessageId"], "Base.1.18.PropertyValueNotInList");
    assert_eq!(
        messages[0]["MessageArgs"],
        json!(["Disabled", "ProcTurboMode"])
    );
    assert_eq!(
        messages[0]["RelatedProperties"],
        json!(["#/Attributes/ProcTurboMode"])
    );
    assert!(bmc.node.view().bios_pending.is_empty());
}

#[tokio::test]
async fn never_applies_keeps_the_values_pending_without_a_message_or_time() {
    let (_mock, bmc) = node(MockBmc::builder().bios_never_applies(true)).await;
    let r = bmc
        .patch(SETTINGS, json!({"Attributes": {"BootSeqRetryCount": 4}}))
        .await;
    assert_eq!(r.status(), 204);
    restart(&bmc).await;
    let bios = bmc.get_json(BIOS).await;
    assert_eq!(bios["Attributes"]["BootSeqRetryCount"], 3);
    assert!(bios["@Redfish.Settings"].get("Time").is_none());
    assert!(bios["@Redfish.Settings"].get("Messages").is_none());
    assert_eq!(bmc.node.view().bios_pending["BootSeqRetryCount"], json!(4));
    // Switched off at run time, the next reset applies them.
    bmc.node.set_bios_options(&BiosOptionsChange {
        never_applies: Some(false),
        ..BiosOptionsChange::default()
    });
    restart(&bmc).await;
    assert_eq!(
        bmc.get_json(BIOS).await["Attributes"]["BootSeqRetryCount"],
        4
    );
}

#[tokio::test]
async fn supermicro_suffixes_every_name_and_refuses_the_clean_one_unless_switched_off() {
    let (_mock, bmc) = node(MockBmc::builder().personality(Personality::Supermicro)).await;
    assert!(
        bmc.node.bios_options().suffixed_names,
        "Supermicro's default"
    );
    let sd = "/redfish/v1/Systems/1/Bios/SD";
    let bios = bmc.get_json(BIOS).await;
    let attrs = bios["Attributes"].as_object().unwrap();
    assert!(attrs.keys().all(|k| k.contains('#')), "{:?}", attrs.keys());
    let turbo = attrs
        .keys()
        .find(|k| k.starts_with("ProcTurboMode#"))
        .unwrap()
        .clone();
    let registry = bmc
        .get_json(
            "/redfish/v1/Registries/BiosAttributeRegistry.v1_0_0/BiosAttributeRegistry.v1_0_0.json",
        )
        .await;
    let entries = registry["RegistryEntries"]["Attributes"]
        .as_array()
        .unwrap();
    assert!(entries.iter().any(|a| a["AttributeName"] == turbo.as_str()));
    let deps = registry["RegistryEntries"]["Dependencies"]
        .as_array()
        .unwrap();
    assert!(
        deps.iter()
            .all(|d| d["DependencyFor"].as_str().unwrap().contains('#')),
        "dependencies name the suffixed attributes too"
    );

    let r = bmc
        .patch(sd, json!({"Attributes": {"ProcTurboMode": "Disabled"}}))
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        message_ids(&r.json().await.unwrap()),
        ["Base.1.18.PropertyUnknown"]
    );
    let r = bmc
        .patch(sd, json!({"Attributes": {turbo.clone(): "Disabled"}}))
        .await;
    assert_eq!(r.status(), 204);
    let pending = bmc.get_json(sd).await;
    assert_eq!(pending["Attributes"][turbo.as_str()], "Disabled");

    bmc.node.set_bios_options(&BiosOptionsChange {
        suffixed_names: Some(false),
        ..BiosOptionsChange::default()
    });
    let bios = bmc.get_json(BIOS).await;
    assert_eq!(bios["Attributes"]["ProcTurboMode"], "Enabled");
}

#[tokio::test]
async fn the_ami_settings_object_takes_if_match_star_only() {
    let (_mock, bmc) = node(MockBmc::builder().bios_settings_if_match_star(true)).await;
    let etag = bmc
        .get(SETTINGS)
        .await
        .headers()
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let body = json!({"Attributes": {"BootSeqRetryCount": 4}});
    let patch = |if_match: Option<&str>| {
        let mut rb = bmc
            .http
            .patch(bmc.url(SETTINGS))
            .basic_auth(USER, Some(PASS))
            .json(&body);
        if let Some(v) = if_match {
            rb = rb.header("If-Match", v);
        }
        rb.send()
    };
    let r = patch(None).await.unwrap();
    assert_eq!(r.status(), 428);
    assert_eq!(
        message_ids(&r.json().await.unwrap()),
        ["Base.1.18.PreconditionRequired"]
    );
    assert_eq!(
        patch(Some(&etag)).await.unwrap().status(),
        412,
        "its own ETag"
    );
    let weak = format!("W/{}", etag.trim_start_matches("W/"));
    assert_eq!(patch(Some(&weak)).await.unwrap().status(), 412);
    assert_eq!(patch(Some("*")).await.unwrap().status(), 204);
    // Other resources keep the standard rules.
    let r = bmc
        .patch("/redfish/v1/Systems/1", json!({"AssetTag": "x"}))
        .await;
    assert!(r.status().is_success(), "{}", r.status());
}

#[tokio::test]
async fn reset_bios_without_a_body_is_refused_only_when_switched_on() {
    let (mock, bmc) = node(MockBmc::builder().admin_api("127.0.0.1:0".parse().unwrap())).await;
    let target = format!("{BIOS}/Actions/Bios.ResetBios");
    let bare = || {
        bmc.http
            .post(bmc.url(&target))
            .basic_auth(USER, Some(PASS))
            .send()
    };
    assert_eq!(bare().await.unwrap().status(), 204, "off by default");
    // Switched on through the admin API.
    let admin = format!("http://{}/nodes/0/options", mock.admin_addr().unwrap());
    let shown: Value = bmc
        .http
        .post(&admin)
        .json(&json!({"bios": {"reset_bios_needs_body": true}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["bios"]["reset_bios_needs_body"], true);
    assert_eq!(shown["bios"]["suffixed_names"], false);
    let r = bare().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        message_ids(&r.json().await.unwrap()),
        ["Base.1.18.MalformedJSON"]
    );
    assert_eq!(bmc.post(&target, json!({})).await.status(), 204);
    assert!(bmc.node.view().bios_reset_pending);
}
