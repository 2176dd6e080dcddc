//! `ferrofish::rules` against the mock BMC: inspection data built from a real (mock Dell)
//! inventory, the seed's Dell rule run on it as written, and auto-discovery of several mock
//! BMCs on loopback ports with one address that does not answer.

use std::time::Duration;

use ferrofish::redfish::RedfishClient;
use ferrofish::rules::{
    DiscoverOptions, DiscoveryCredentials, FailureKind, RuleSet, discover, inspection_data,
};
use ferrofish_mock_bmc::{DEFAULT_PASSWORD, DEFAULT_USER, MockBmc, Personality};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};

/// The seed's rule file, byte for byte (see `src/rules/testdata`).
const SEED_RULE: &str = include_str!("../../src/rules/testdata/seed-dell.json");

fn credentials(password: &str) -> DiscoveryCredentials {
    DiscoveryCredentials::new(DEFAULT_USER, SecretString::from(password))
}

fn options() -> DiscoverOptions {
    DiscoverOptions {
        concurrency: 2,
        request_timeout: Duration::from_secs(30),
        ..DiscoverOptions::default()
    }
}

/// A loopback port nothing listens on (bound, then released).
fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

#[tokio::test]
async fn the_seed_rule_turns_a_mock_dell_into_an_idrac_node() {
    let mock = MockBmc::builder()
        .personality(Personality::Dell)
        .spawn()
        .await
        .expect("mock");
    let bmc = mock.node(0);
    let client = RedfishClient::builder(bmc.url())
        .credentials(DEFAULT_USER, SecretString::from(DEFAULT_PASSWORD))
        .build()
        .expect("client");
    let system = client.system_ids().await.expect("systems")[0].clone();
    let inventory = client.inventory(&system).await.expect("inventory");
    client.close().await.expect("close");

    let data = inspection_data(&inventory, Some(&bmc.url()), true);
    let address = format!("127.0.0.1:{}", bmc.addr().port());
    assert_eq!(data["inventory"]["bmc_address"], address.as_str());
    assert_eq!(
        data["inventory"]["system_vendor"]["manufacturer"],
        "Dell Inc."
    );
    assert_eq!(data["auto_discovered"], true);
    assert_eq!(data["memory_mb"], inventory.memory.total_mib);
    assert!(inventory.memory.total_mib > 0);
    assert_eq!(
        data["inventory"]["disks"].as_array().map(Vec::len),
        Some(inventory.disks.len())
    );
    assert_eq!(
        data["inventory"]["interfaces"].as_array().map(Vec::len),
        Some(inventory.nics.len())
    );
    assert_eq!(data["cpu_arch"], "x86_64");

    let rules = RuleSet::from_json(SEED_RULE).expect("the seed's rule parses");
    let mut node: Map<String, Value> = Map::new();
    node.insert("driver".into(), json!("redfish"));
    let applied = rules.apply(&data, &mut node).expect("applies");
    assert_eq!(applied.matched, vec![0]);
    assert_eq!(node["driver"], "idrac");
    assert_eq!(node["driver_info"]["drac_username"], "root");
    assert_eq!(node["driver_info"]["drac_address"], address.as_str());
    assert_eq!(
        node["driver_info"]["drac_password"],
        "secret://rules/driver_info/drac_password"
    );
    assert_eq!(applied.secrets[0].value.expose_secret(), "calvin");
    let explained = rules.explain(&data, &Map::new()).to_string();
    assert!(!explained.contains("calvin"), "{explained}");
    assert!(!Value::Object(node).to_string().contains("calvin"));
}

#[tokio::test]
async fn discovery_enrolls_every_answering_bmc_and_reports_the_rest() {
    let mock = MockBmc::builder()
        .personality(Personality::Dell)
        .nodes(3)
        .spawn()
        .await
        .expect("mock");
    let dead = format!("http://127.0.0.1:{}", dead_port());
    let addresses = vec![
        mock.node(0).url(),
        dead.clone(),
        mock.node(1).url(),
        mock.node(2).url(),
    ];

    let found = discover(&addresses, &credentials(DEFAULT_PASSWORD), &options())
        .await
        .expect("valid input");

    assert_eq!(found.len(), 4);
    let order: Vec<&str> = found.iter().map(|d| d.address.as_str()).collect();
    assert_eq!(
        order,
        addresses.iter().map(String::as_str).collect::<Vec<_>>(),
        "input order"
    );
    let failure = found[1]
        .outcome
        .as_ref()
        .expect_err("nothing listens there");
    assert_eq!(
        failure.kind,
        FailureKind::Unreachable,
        "{}",
        failure.message
    );

    let rules = RuleSet::from_json(SEED_RULE).expect("rules");
    for (discovered, index) in [(&found[0], 0), (&found[2], 1), (&found[3], 2)] {
        let bmc = mock.node(index);
        let nodes = discovered.outcome.as_ref().expect("enrolled");
        assert_eq!(nodes.len(), 1, "one system per mock BMC");
        let enrolled = &nodes[0];
        assert_eq!(enrolled.system, "/redfish/v1/Systems/System.Embedded.1");
        assert_eq!(enrolled.data["auto_discovered"], true);
        assert_eq!(enrolled.node["driver"], "redfish");
        assert_eq!(
            enrolled.node["driver_info"]["redfish_address"],
            bmc.url().as_str()
        );
        assert!(
            enrolled.node["driver_info"]
                .get("redfish_password")
                .is_none(),
            "credentials are never invented"
        );
        assert_eq!(
            enrolled.inventory.system.manufacturer.as_deref(),
            Some("Dell Inc.")
        );

        // The seed's rule fires on what discovery found.
        let mut node = enrolled.node.clone();
        rules.apply(&enrolled.data, &mut node).expect("applies");
        assert_eq!(node["driver"], "idrac");
        assert_eq!(
            node["driver_info"]["drac_address"],
            format!("127.0.0.1:{}", bmc.addr().port()).as_str()
        );

        // One login and its logout per BMC: no session left holding a slot.
        assert_eq!(bmc.count("POST", "/redfish/v1/SessionService/Sessions"), 1);
        let closed = bmc
            .requests()
            .iter()
            .filter(|r| {
                r.method == "DELETE" && r.path.starts_with("/redfish/v1/SessionService/Sessions/")
            })
            .count();
        assert_eq!(closed, 1);
    }
}

#[tokio::test]
async fn wrong_credentials_are_reported_not_fatal() {
    let mock = MockBmc::builder().spawn().await.expect("mock");
    let found = discover(&[mock.node(0).url()], &credentials("wrong"), &options())
        .await
        .expect("valid input");
    let failure = found[0].outcome.as_ref().expect_err("refused");
    assert_eq!(
        failure.kind,
        FailureKind::Unauthorized,
        "{}",
        failure.message
    );
    assert!(!failure.message.contains("wrong"), "{}", failure.message);
}

#[tokio::test]
async fn invalid_input_sends_nothing() {
    let mock = MockBmc::builder().spawn().await.expect("mock");
    let bmc = mock.node(0);
    for bad in ["10.0.0.0/33", "ftp://127.0.0.1", "10.0.0.0/8"] {
        let err = discover(
            &[bmc.url(), bad.to_owned()],
            &credentials(DEFAULT_PASSWORD),
            &options(),
        )
        .await
        .expect_err(bad);
        assert!(err.is_invalid_input(), "{bad}: {err}");
    }
    assert_eq!(bmc.request_count(), 0);
}

/// Discovery opens each address as a `Bmc`: Metal3 schemes with `+http` and a system path,
/// beside plain URLs; the scheme's vendor names the driver; a system path enrolls that system
/// alone.
#[tokio::test]
async fn metal3_addresses_are_discovered_through_bmc() {
    let mock = MockBmc::builder()
        .personality(Personality::Dell)
        .systems_per_node(2)
        .spawn()
        .await
        .expect("mock");
    let host = format!("127.0.0.1:{}", mock.node(0).addr().port());
    let one = format!("idrac-virtualmedia+http://{host}/redfish/v1/Systems/System.Embedded.2");
    let all = format!("redfish+http://{host}");
    let found = discover(
        &[one.clone(), all.clone()],
        &credentials(DEFAULT_PASSWORD),
        &options(),
    )
    .await
    .expect("valid input");
    assert_eq!(found[0].bmc_address, one);
    assert_eq!(found[0].endpoint, format!("http://{host}"));
    let named = found[0].outcome.as_ref().expect("enrolled");
    assert_eq!(named.len(), 1, "the system the address names, alone");
    assert_eq!(named[0].system, "/redfish/v1/Systems/System.Embedded.2");
    assert_eq!(named[0].node["driver"], "idrac", "the scheme's vendor");
    assert_eq!(
        named[0].node["driver_info"]["redfish_system_id"],
        "/redfish/v1/Systems/System.Embedded.2"
    );
    let every = found[1].outcome.as_ref().expect("enrolled");
    assert_eq!(every.len(), 2, "both systems");
    assert_eq!(every[1].node["driver"], "redfish");
    assert_eq!(found[1].bmc_address, all);
    // The two probes run at once against one BMC and account, so they share one session
    // (quirk `session_cap`: clients of one BMC share); a probe that ran alone would log in
    // again. Either way every session opened was deleted.
    let node = mock.node(0);
    let logins = node.count("POST", "/redfish/v1/SessionService/Sessions");
    assert!((1..=2).contains(&logins), "{logins} logins");
    let logouts = node
        .requests()
        .iter()
        .filter(|r| {
            r.method == "DELETE" && r.path.starts_with("/redfish/v1/SessionService/Sessions/")
        })
        .count();
    assert_eq!(logouts, logins, "every session deleted");
}
