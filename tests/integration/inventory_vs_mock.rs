//! `inventory()` against the mock BMC's vendor personalities: exact request counts (a full
//! inventory on a warm client in at most 8 GETs), no Manager read when the service root names
//! the vendor, and the inventory the mock was built with.

use std::time::Duration;

use ferrofish::redfish::{RedfishClient, RequestCounts};
use ferrofish_mock_bmc::{DEFAULT_PASSWORD, DEFAULT_USER, InventorySize, MockBmc, Personality};
use secrecy::SecretString;

/// The goal of issue 9: a full inventory on a warm client.
const WARM_GET_GOAL: u64 = 8;

fn client(url: &str) -> RedfishClient {
    RedfishClient::builder(url)
        .credentials(DEFAULT_USER, SecretString::from(DEFAULT_PASSWORD))
        .request_timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

fn gets_only(counts: &RequestCounts) -> (u64, u64) {
    (counts.get, counts.total)
}

/// What `inspect` costs on a new client (systems, then the inventory), and the inventory
/// again on the now warm client.
async fn costs(personality: Personality, size: InventorySize) -> (RequestCounts, RequestCounts) {
    let mock = MockBmc::builder()
        .personality(personality)
        .inventory(size)
        .spawn()
        .await
        .expect("mock");
    let node = mock.node(0);
    let client = client(&node.url());
    let systems = client.system_ids().await.expect("systems");
    let system = systems.first().expect("one system").clone();
    let first = client.inventory(&system).await.expect("inventory");
    let cold = client.request_counts();
    client.reset_request_counts();
    let again = client.inventory(&system).await.expect("inventory");
    let warm = client.request_counts();
    assert_eq!(first, again, "{personality:?}");

    // What the mock was built with.
    assert!(again.warnings.is_empty(), "{:?}", again.warnings);
    assert_eq!(
        again.cpu.count,
        u64::from(size.processors),
        "{personality:?}"
    );
    assert_eq!(again.memory.dimms.len(), usize::from(size.dimms));
    let controllers = usize::from(size.storage_controllers);
    assert_eq!(again.disks.len(), controllers * usize::from(size.drives));
    assert_eq!(again.volumes.len(), controllers * usize::from(size.volumes));
    assert_eq!(again.nics.len(), usize::from(size.nics));
    assert_eq!(again.pcie_devices.len(), usize::from(size.pcie_devices));
    // The root names the vendor and no firmware rule is about to matter: no Manager read.
    let manager_reads = node
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/redfish/v1/Managers"))
        .count();
    assert_eq!(manager_reads, 0, "{personality:?}");
    client.close().await.expect("close");
    (cold, warm)
}

#[tokio::test]
async fn a_warm_inventory_costs_six_gets_on_dell_hpe_and_lenovo() {
    for personality in [Personality::Dell, Personality::Hpe, Personality::Lenovo] {
        let (cold, warm) = costs(personality, InventorySize::default()).await;
        // System 1; then at once: the chassis' PCIeDevices expanded at the schema's URI,
        // Storage expanded three levels (controllers, drives, volumes), Processors, Memory and
        // EthernetInterfaces expanded one level, 5. Total 6, whatever the number of devices.
        assert_eq!(gets_only(&warm), (6, 6), "{personality:?} warm");
        assert!(warm.get <= WARM_GET_GOAL);
        // New client: root and Systems 2 GETs, the login POST, then the same 6.
        assert_eq!(
            (cold.get, cold.post, cold.total),
            (8, 1, 9),
            "{personality:?} cold"
        );
    }
}

#[tokio::test]
async fn the_warm_count_does_not_grow_with_the_hardware() {
    let big = InventorySize {
        processors: 4,
        dimms: 32,
        drives: 12,
        nics: 8,
        pcie_devices: 9,
        storage_controllers: 3,
        volumes: 3,
    };
    let (_, warm) = costs(Personality::Dell, big).await;
    assert_eq!(gets_only(&warm), (6, 6));
}

#[tokio::test]
async fn listing_handles_and_their_inventory_reads_each_system_once() {
    for personality in [Personality::Dell, Personality::Hpe, Personality::Lenovo] {
        let mock = MockBmc::builder()
            .personality(personality)
            .spawn()
            .await
            .expect("mock");
        let node = mock.node(0);
        let client = client(&node.url());
        let systems = client.systems().await.expect("systems");
        let inventory = systems[0].inventory().await.expect("inventory");
        assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);
        // Root and the Systems collection expanded 2, the login POST, then the inventory
        // without its System GET: 5. One GET less than listing links and reading each System.
        let counts = client.request_counts();
        assert_eq!((counts.get, counts.post), (7, 1), "{personality:?}");
        let system_reads = node
            .requests()
            .iter()
            .filter(|r| r.method == "GET" && r.path == systems[0].path())
            .count();
        assert_eq!(
            system_reads, 0,
            "{personality:?}: the System came with the listing"
        );
        // A second inventory reads the System again: the listing is used once.
        systems[0].inventory().await.expect("inventory");
        assert_eq!(client.request_counts().get, 7 + 6, "{personality:?}");
        client.close().await.expect("close");
    }
}

#[tokio::test]
async fn a_root_that_names_no_vendor_costs_no_manager_read_for_an_inventory() {
    // The generic personality names no vendor in its root: the inventory goes by what the root
    // advertises, and `costs` checks that no Manager was read.
    let (cold, warm) = costs(Personality::Generic, InventorySize::default()).await;
    assert_eq!(gets_only(&warm), (6, 6));
    assert_eq!((cold.get, cold.post, cold.total), (8, 1, 9));
}
