//! `ferrofish::Bmc` against the mock BMC on 127.0.0.1, one node answering Redfish and IPMI on
//! the same state: the protocol each operation goes over, the fallback to IPMI and when it is
//! not taken, and what the node saw.

use std::time::Duration;

use ferrofish::redfish::{PowerState, RetryPolicy};
use ferrofish::{
    Bmc, BmcOptions, BootDevice, Capability, Credentials, Error, IpmiOptions, PowerAction,
    Protocol, SecretString,
};
use ferrofish_mock_bmc::{
    DEFAULT_PASSWORD, DEFAULT_USER, MockBmc, MockBmcHandle, OverrideEnabled,
    PowerState as MockPowerState,
};

async fn combined() -> MockBmcHandle {
    MockBmc::builder().ipmi(true).spawn().await.unwrap()
}

fn credentials() -> Credentials {
    Credentials::new(DEFAULT_USER, SecretString::from(DEFAULT_PASSWORD))
}

/// Redfish at the node's URL and IPMI on its port; Redfish failures are not retried, so a
/// broken side is seen at once.
fn connect_combined(mock: &MockBmcHandle, system: &str) -> Bmc {
    let node = mock.node(0);
    let mut options = BmcOptions::default();
    options.redfish_retry = RetryPolicy::none();
    options.request_timeout = Duration::from_millis(500);
    options.ipmi = Some(IpmiOptions::on_port(node.ipmi_addr().unwrap().port()));
    Bmc::connect(format!("{}{system}", node.url()), credentials(), options).unwrap()
}

fn ipmi_commands(mock: &MockBmcHandle, path: &str) -> usize {
    mock.node(0)
        .requests()
        .iter()
        .filter(|e| e.method == "IPMI" && e.path == path)
        .count()
}

#[tokio::test]
async fn redfish_first_when_it_works() {
    let mock = combined().await;
    let bmc = connect_combined(&mock, "/redfish/v1/Systems/1");
    let done = bmc.power(PowerAction::On).await.unwrap();
    assert_eq!((done.via, done.fallback_reason), (Protocol::Redfish, None));
    let waited = bmc
        .wait_for_power_state(PowerState::On, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(waited.via, Protocol::Redfish);
    assert!(mock.node(0).power_is_on());
    assert_eq!(mock.node(0).count("IPMI", "/ipmi/chassis/control"), 0);
    assert_eq!(bmc.system().await.unwrap().path(), "/redfish/v1/Systems/1");
    assert!(bmc.inventory().await.unwrap().memory.total_mib > 0);
    bmc.close().await.unwrap();
}

#[tokio::test]
async fn power_and_boot_device_fall_back_to_ipmi_when_redfish_answers_5xx() {
    let mock = combined().await;
    let bmc = connect_combined(&mock, "");
    mock.node(0).faults().fail_next(10_000, 503, None);

    let state = bmc.power_state().await.unwrap();
    assert_eq!(state.value, PowerState::Off);
    assert_eq!(state.via, Protocol::Ipmi);
    assert!(
        state
            .fallback_reason
            .as_deref()
            .is_some_and(|r| r.contains("HTTP 503")),
        "{state:?}"
    );

    let done = bmc.power(PowerAction::On).await.unwrap();
    assert_eq!(done.via, Protocol::Ipmi);
    assert_eq!(ipmi_commands(&mock, "/ipmi/chassis/control"), 1);

    let mut reads = Vec::new();
    let waited = bmc
        .wait_for_power_state_with(PowerState::On, Duration::from_secs(10), |read, _| {
            reads.push(read.via);
        })
        .await
        .unwrap();
    assert_eq!(waited.via, Protocol::Ipmi);
    assert!(!reads.is_empty() && reads.iter().all(|via| *via == Protocol::Ipmi));
    // IPMI's "on" is the rail: the node may still be in POST (`PoweringOn`), never off.
    assert_ne!(mock.node(0).view().power, MockPowerState::Off);

    let set = bmc
        .set_boot_device(BootDevice::Pxe, false, None)
        .await
        .unwrap();
    assert_eq!(set.via, Protocol::Ipmi);
    assert!(!set.value.must_clear_after_boot);
    // IPMI's write is what Redfish shows: the node's one boot override.
    let (target, enabled, _mode) = mock.node(0).boot_override();
    assert_eq!((target.as_str(), enabled), ("Pxe", OverrideEnabled::Once));
}

#[tokio::test]
async fn an_unreachable_redfish_side_falls_back_for_a_reboot() {
    let mock = combined().await;
    mock.node(0).set_power(true);
    let node = mock.node(0);
    let mut options = BmcOptions::default();
    options.redfish_retry = RetryPolicy::none();
    options.ipmi = Some(IpmiOptions::on_port(node.ipmi_addr().unwrap().port()));
    // Nothing listens on the Redfish side: port 1 on loopback refuses the connection.
    let bmc = Bmc::connect("redfish+http://127.0.0.1:1", credentials(), options).unwrap();
    let done = bmc.power(PowerAction::Reboot).await.unwrap();
    assert_eq!(done.via, Protocol::Ipmi);
    assert!(
        done.fallback_reason
            .as_deref()
            .is_some_and(|r| r.contains("cannot connect")),
        "{done:?}"
    );
    let controls: Vec<String> = mock
        .node(0)
        .requests()
        .into_iter()
        .filter(|e| e.path == "/ipmi/chassis/control")
        .map(|e| e.body)
        .collect();
    assert_eq!(controls, ["03"], "one hard reset");
}

#[tokio::test]
async fn no_fallback_when_the_failure_is_not_redfish_being_broken() {
    // Two systems and no system in the address: the caller must choose; IPMI would not know.
    let mock = MockBmc::builder()
        .ipmi(true)
        .systems_per_node(2)
        .spawn()
        .await
        .unwrap();
    let bmc = connect_combined(&mock, "");
    let err = bmc.power(PowerAction::On).await.unwrap_err();
    assert!(
        matches!(&err, Error::NoSingleSystem { found } if found.len() == 2),
        "{err:?}"
    );
    // A 4xx answer is a refusal IPMI would repeat.
    let bmc = connect_combined(&mock, "/redfish/v1/Systems/1");
    // Logged in first, so the fault hits the read and not the login.
    assert_eq!(bmc.power_state().await.unwrap().via, Protocol::Redfish);
    mock.node(0).faults().fail_next(1, 400, None);
    let err = bmc.power_state().await.unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    assert_eq!(mock.node(0).count("IPMI", "/ipmi/chassis/get-status"), 0);
    assert_eq!(mock.node(0).count("IPMI", "/ipmi/chassis/control"), 0);
}

#[tokio::test]
async fn both_sides_failing_reports_both() {
    let mut options = BmcOptions::default();
    options.redfish_retry = RetryPolicy::none();
    let mut ipmi = IpmiOptions::on_port(9);
    ipmi.timeout = Duration::from_millis(50);
    ipmi.retries = 0;
    options.ipmi = Some(ipmi);
    let bmc = Bmc::connect("redfish+http://127.0.0.1:1", credentials(), options).unwrap();
    let err = bmc.power_state().await.unwrap_err();
    assert!(matches!(err, Error::FallbackFailed { .. }), "{err:?}");
    assert_eq!(err.protocol(), Some(Protocol::Ipmi));
    assert!(
        err.redfish()
            .is_some_and(ferrofish::redfish::Error::is_connection)
    );
    let text = err.to_string();
    assert!(
        text.starts_with("over Redfish: ") && text.contains("then over IPMI: "),
        "{text}"
    );
}

#[tokio::test]
async fn over_ipmi_alone_power_works_and_bios_is_unsupported() {
    let mock = combined().await;
    let address = format!("ipmi://{}", mock.node(0).ipmi_addr().unwrap());
    let bmc = Bmc::connect(address.as_str(), credentials(), BmcOptions::default()).unwrap();
    let caps = bmc.capabilities();
    assert_eq!(caps.protocols(), &[Protocol::Ipmi]);
    assert!(!caps.supports(Capability::Bios));
    bmc.power(PowerAction::On).await.unwrap();
    let state = bmc
        .wait_for_power_state(PowerState::On, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!((state.via, state.fallback_reason), (Protocol::Ipmi, None));
    let err = bmc.bios().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Unsupported {
                capability: Capability::Bios,
                protocol: Protocol::Ipmi
            }
        ),
        "{err:?}"
    );
    assert!(err.is_unsupported());
    assert_eq!(
        mock.node(0)
            .requests()
            .iter()
            .filter(|e| e.method != "IPMI")
            .count(),
        0,
        "nothing went over Redfish"
    );
    bmc.close().await.unwrap();
    assert!(bmc.power_state().await.unwrap_err().is_closed());
}

#[tokio::test]
async fn a_wait_that_never_ends_is_a_typed_timeout() {
    let mock = combined().await;
    let bmc = connect_combined(&mock, "/redfish/v1/Systems/1");
    let err = bmc
        .wait_for_power_state(PowerState::On, Duration::from_millis(400))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::PowerWaitTimeout { wanted, last: Some(last), .. } if wanted == "On" && last == "Off"),
        "{err:?}"
    );
    assert!(err.is_timeout());
}

#[tokio::test]
async fn bios_and_virtual_media_come_from_the_redfish_side() {
    let mock = combined().await;
    let bmc = connect_combined(&mock, "");
    let bios = bmc.bios().await.unwrap();
    assert_eq!(bios.system().path(), "/redfish/v1/Systems/1");
    assert!(!bios.read().await.unwrap().current.is_empty());
    let media = bmc.virtual_media().await.unwrap();
    assert!(!media.slots().await.unwrap().is_empty());
}

/// Fujitsu iRMC lists no `On`, `PowerCycle` nor `GracefulShutdown` among its reset types:
/// power-on stays on Redfish (a button press, quirk `irmc_power_on_is_a_button_press`), while
/// a cycle and a graceful off, refused before anything is sent, go over IPMI with the reason.
#[tokio::test]
async fn irmc_powers_on_over_redfish_and_cycles_over_ipmi() {
    let mock = MockBmc::builder()
        .personality(ferrofish_mock_bmc::Personality::Irmc)
        .ipmi(true)
        .spawn()
        .await
        .unwrap();
    let bmc = connect_combined(&mock, "/redfish/v1/Systems/0");
    let on = bmc.power(PowerAction::On).await.unwrap();
    assert_eq!((on.via, on.fallback_reason), (Protocol::Redfish, None));
    bmc.wait_for_power_state(PowerState::On, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(ipmi_commands(&mock, "/ipmi/chassis/control"), 0);

    let cycle = bmc.power(PowerAction::Cycle).await.unwrap();
    assert_eq!(cycle.via, Protocol::Ipmi);
    assert!(
        cycle
            .fallback_reason
            .as_deref()
            .is_some_and(|r| r.contains("PowerCycle") && r.contains("nothing was sent")),
        "{cycle:?}"
    );
    assert_eq!(ipmi_commands(&mock, "/ipmi/chassis/control"), 1);
    let redfish_posts = mock
        .node(0)
        .requests()
        .iter()
        .filter(|e| e.method == "POST" && e.path.ends_with("ComputerSystem.Reset"))
        .count();
    assert_eq!(redfish_posts, 1, "only the power-on's button press");
    bmc.close().await.unwrap();
}
