//! Provisioning through the facade's `Bmc` (any address scheme) with the inspection rules in
//! the inspect step: auto-discovered Dell nodes get the seed rule's driver and BMC address,
//! the password stays out of the store; a rule's `fail` fails inspection; an IPMI-only node
//! verifies and is refused inspection as unsupported.

use ferrofish::provision::{
    BmcConnector, BmcRef, Fleet, FleetPlan, InspectionRules, Node, ProvisionState, SecretMap,
    StateStore,
};
use ferrofish::rules::{DiscoverOptions, DiscoveryCredentials, RuleSet, discover};
use ferrofish::{Credentials, SecretString};
use ferrofish_mock_bmc::{DEFAULT_PASSWORD, DEFAULT_USER, MockBmc, Personality};
use secrecy::ExposeSecret as _;
use serde_json::json;

use crate::provision_support::Env;

const SEED_DELL: &str = include_str!("../../src/rules/testdata/seed-dell.json");
const REFERENCE: &str = "secret://rules/driver_info/drac_password";

fn connector() -> BmcConnector {
    BmcConnector::default().with_credentials(Credentials::new(
        DEFAULT_USER,
        SecretString::from(DEFAULT_PASSWORD),
    ))
}

/// Discovers the mock's nodes and enrolls each as `node-i` at `scheme://host:port`, with the
/// discovered fields and `extra.auto_discovered`.
async fn discover_and_enroll(env: &Env, scheme: &str) {
    let urls: Vec<String> = (0..env.mock.len())
        .map(|i| env.mock.node(i).url())
        .collect();
    let found = discover(
        &urls,
        &DiscoveryCredentials::new(DEFAULT_USER, SecretString::from(DEFAULT_PASSWORD)),
        &DiscoverOptions::default(),
    )
    .await
    .expect("discover");
    for (i, discovered) in found.into_iter().enumerate() {
        let mut nodes = discovered.outcome.expect("the mock answers");
        let mut fields = nodes.remove(0).node;
        fields.insert("extra".into(), json!({"auto_discovered": true}));
        let host = discovered.endpoint.trim_start_matches("http://");
        let mut node = Node::new(
            format!("node-{i}"),
            BmcRef {
                address: format!("{scheme}+http://{host}"),
                ..BmcRef::default()
            },
        );
        node.fields = fields;
        env.store.enroll(&mut node).await.expect("enroll");
    }
}

#[tokio::test]
async fn the_seed_dell_rule_sets_driver_and_bmc_address_during_a_provision_run() {
    let env = Env::start(2, Personality::Dell).await;
    discover_and_enroll(&env, "idrac-virtualmedia").await;
    let secrets = SecretMap::new();
    let rules = InspectionRules::with_secrets(
        RuleSet::from_json(SEED_DELL).expect("the seed rule parses"),
        secrets.clone(),
    );
    let driver = env.driver("bmc-test").with_rules(rules);
    let plan = env.full_plan(&json!([{"name": "turbo", "value": "disabled"}]));
    let summary = Fleet::new(driver, connector(), plan)
        .workers(2)
        .run()
        .await
        .expect("run");
    assert_eq!(summary.reached(), 2, "{summary:#?}");

    for i in 0..2 {
        let node = env.store.load(&format!("node-{i}")).await.unwrap().unwrap();
        assert_eq!(node.state, ProvisionState::Active, "{node:#?}");
        let host = env
            .mock
            .node(i)
            .url()
            .trim_start_matches("http://")
            .to_owned();
        assert_eq!(node.fields["driver"], "idrac", "{:#?}", node.fields);
        assert_eq!(node.fields["driver_info"]["drac_address"], json!(host));
        assert_eq!(node.fields["driver_info"]["drac_username"], "root");
        assert_eq!(node.fields["driver_info"]["drac_password"], REFERENCE);
        assert_eq!(
            secrets
                .get(&node.name, REFERENCE)
                .map(|s| s.expose_secret().to_owned()),
            Some("calvin".to_owned())
        );
        // The deploy went through the Bmc: the mock booted the CD and ended on the disk.
        let view = env.mock.node(i).view();
        assert_eq!(view.boot_target, "Hdd");
        assert!(view.inserted_media.is_empty(), "{view:?}");
    }
    assert_eq!(secrets.len(), 2);
    assert!(!format!("{secrets:?}").contains("calvin"));
    // Nothing the rules set in clear reached the store.
    let db = std::fs::read(env.dir.path().join("fleet.db")).unwrap();
    let wal = std::fs::read(env.dir.path().join("fleet.db-wal")).unwrap_or_default();
    for bytes in [db, wal] {
        assert!(
            !bytes.windows(6).any(|w| w == b"calvin"),
            "the rule's password is in the store"
        );
    }
}

#[tokio::test]
async fn a_rule_fail_fails_inspection_with_its_message_and_saves_nothing() {
    let env = Env::start(1, Personality::Generic).await;
    discover_and_enroll(&env, "redfish-virtualmedia").await;
    let rules = RuleSet::from_json(
        r#"[{"description": "discovered nodes need a ticket",
             "conditions": [{"op": "eq", "field": "data://auto_discovered", "value": true}],
             "actions": [{"action": "add-trait", "name": "CUSTOM_SEEN"},
                         {"action": "fail", "message": "no ticket for {data[inventory][bmc_address]}"}]}]"#,
    )
    .unwrap();
    let driver = env
        .driver("bmc-test")
        .with_rules(InspectionRules::new(rules));
    let plan = FleetPlan {
        inspect: true,
        ..FleetPlan::default()
    };
    let summary = Fleet::new(driver, connector(), plan).run().await.unwrap();
    assert_eq!(summary.reached(), 0);
    let node = env.store.load("node-0").await.unwrap().unwrap();
    assert_eq!(node.state, ProvisionState::InspectFailed, "{node:#?}");
    let error = node.last_error.clone().unwrap_or_default();
    let host = env
        .mock
        .node(0)
        .url()
        .trim_start_matches("http://")
        .to_owned();
    assert!(error.contains(&format!("no ticket for {host}")), "{error}");
    // All or nothing: neither the trait nor the inspected properties were kept.
    assert_eq!(node.fields["traits"], json!([]));
    assert!(
        node.properties()
            .is_none_or(|p| p.get("memory_mb").is_none()),
        "{:#?}",
        node.fields
    );
}

#[tokio::test]
async fn an_ipmi_only_node_verifies_and_its_inspection_is_unsupported() {
    let mock = MockBmc::builder().ipmi(true).spawn().await.expect("mock");
    let ipmi = mock.node(0).ipmi_addr().expect("IPMI");
    let env = Env::with_mock(mock).await;
    let mut node = Node::new(
        "bmc-ipmi",
        BmcRef {
            address: format!("ipmi://{ipmi}"),
            ..BmcRef::default()
        },
    );
    env.store.enroll(&mut node).await.unwrap();
    let plan = FleetPlan {
        inspect: true,
        ..FleetPlan::default()
    };
    let summary = Fleet::new(env.driver("bmc-test"), connector(), plan)
        .run()
        .await
        .unwrap();
    assert_eq!(summary.reached(), 0);
    let node = env.store.load("bmc-ipmi").await.unwrap().unwrap();
    let events: Vec<&str> = node.history.iter().map(|h| h.event.as_str()).collect();
    assert_eq!(&events[..2], ["manage", "done"], "{:#?}", node.history);
    assert_eq!(node.power_state.as_deref(), Some("off"), "{node:#?}");
    assert_eq!(node.state, ProvisionState::InspectFailed, "{node:#?}");
    let error = node.last_error.unwrap_or_default();
    assert!(
        error.contains("inventory is not available over IPMI"),
        "{error}"
    );
    // The power was read over IPMI; Redfish was never spoken.
    let requests = env.mock.node(0).requests();
    assert!(
        requests.iter().all(|r| r.method == "IPMI"),
        "{:?}",
        requests.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    assert!(
        requests
            .iter()
            .any(|r| r.path == "/ipmi/chassis/get-status"),
        "{:?}",
        requests.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
}
