//! ferrofish's IPMI client against the mock BMC's RMCP+ server on 127.0.0.1 (an ephemeral
//! port per test). The two sides share no codec, so a wire misunderstanding of either one
//! shows up here. Effects are checked on the mock's node, not on the client's replies. Long:
//! one scenario per IPMI command and fault, each a few lines of set-up against the same mock.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ferrofish::ipmi::{
    BootDevice, BootOptions, ChassisControl, CipherSuite, ClientStats, Error, IpmiClient,
    IpmiClientBuilder, Privilege, RmcpPlusStatus,
};
use ferrofish_mock_bmc::ipmi::{
    self as mock, IpmiConfig, IpmiFaults, IpmiKey, IpmiNode, IpmiServer, IpmiServerHandle,
    IpmiUser, SimpleIpmiNode,
};
use secrecy::{SecretSlice, SecretString};

const PASSWORD: &str = "s3cret-Passw0rd";
const KG: &[u8] = b"kg-0123456789abcdef";

/// How long a poll of the mock's state may take before the test fails (generous: the test
/// machine is loaded).
const POLL_DEADLINE: Duration = Duration::from_secs(30);

fn admin_only() -> IpmiConfig {
    IpmiConfig::new(vec![
        IpmiUser::new("admin", PASSWORD, mock::Privilege::Administrator).unwrap(),
    ])
}

async fn serve(node: Arc<dyn IpmiNode>, config: IpmiConfig) -> IpmiServerHandle {
    IpmiServer::bind("127.0.0.1:0".parse().unwrap(), node, config)
        .await
        .unwrap()
}

/// A mock node that is powered off, and its server.
async fn start(config: IpmiConfig) -> (Arc<SimpleIpmiNode>, IpmiServerHandle) {
    let node = Arc::new(SimpleIpmiNode::new(false));
    let server = serve(node.clone(), config).await;
    (node, server)
}

fn builder(server: &IpmiServerHandle, user: &str, password: &str) -> IpmiClientBuilder {
    IpmiClient::builder(server.local_addr().to_string())
        .credentials(user, SecretString::from(password.to_owned()))
        .timeout(Duration::from_secs(1))
        .retries(3)
}

fn admin(server: &IpmiServerHandle) -> IpmiClient {
    builder(server, "admin", PASSWORD).build().unwrap()
}

/// Polls `condition` until it holds; fails the test after [`POLL_DEADLINE`].
async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + POLL_DEADLINE;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn expect_stats(bmc: &IpmiClient, round_trips: u64, sessions_opened: u64) -> ClientStats {
    let stats = bmc.stats();
    assert_eq!(stats.round_trips, round_trips, "{stats:?}");
    assert_eq!(stats.sessions_opened, sessions_opened, "{stats:?}");
    stats
}

#[tokio::test]
async fn suites_17_and_3_each_open_a_session_in_five_round_trips() {
    for suite in [CipherSuite::Suite17, CipherSuite::Suite3] {
        let (_node, server) = start(admin_only()).await;
        let bmc = builder(&server, "admin", PASSWORD)
            .cipher_suite(suite)
            .build()
            .unwrap();
        assert_eq!(server.session_count(), 0);
        bmc.chassis_status().await.unwrap();
        // Auth capabilities, Open Session, RAKP 1, RAKP 3, Set Session Privilege; then the
        // command itself.
        let stats = expect_stats(&bmc, 6, 1);
        assert_eq!(stats.datagrams_sent, 6, "{suite}: {stats:?}");
        assert_eq!(stats.retransmissions, 0, "{suite}: {stats:?}");
        assert_eq!(
            bmc.session_info().await,
            Some((suite, Privilege::Administrator))
        );
        assert_eq!(server.session_count(), 1);
        // The session is reused: one more round trip per command.
        bmc.device_id().await.unwrap();
        expect_stats(&bmc, 7, 1);
        assert_eq!(server.session_count(), 1);
        bmc.close().await.unwrap();
    }
}

#[tokio::test]
async fn without_a_pinned_suite_the_client_opens_suite_17_in_five_round_trips() {
    let (_node, server) = start(admin_only()).await;
    let bmc = admin(&server);
    bmc.chassis_status().await.unwrap();
    expect_stats(&bmc, 6, 1);
    assert_eq!(
        bmc.session_info().await,
        Some((CipherSuite::Suite17, Privilege::Administrator))
    );
    bmc.close().await.unwrap();
}

#[tokio::test]
async fn power_controls_change_the_node_state() {
    let (node, server) = start(admin_only()).await;
    let bmc = admin(&server);
    assert!(!node.power_is_on());

    bmc.chassis_control(ChassisControl::PowerOn).await.unwrap();
    assert!(node.power_is_on());
    bmc.chassis_control(ChassisControl::PowerOff).await.unwrap();
    assert!(!node.power_is_on());
    bmc.chassis_control(ChassisControl::PowerCycle)
        .await
        .unwrap();
    assert!(node.power_is_on());
    bmc.chassis_control(ChassisControl::SoftOff).await.unwrap();
    assert!(!node.power_is_on());

    // Off and soft off both end powered off; the log tells which request the node received.
    assert_eq!(
        node.control_log(),
        vec![
            mock::ChassisControl::PowerUp,
            mock::ChassisControl::PowerDown,
            mock::ChassisControl::PowerCycle,
            mock::ChassisControl::SoftShutdown,
        ]
    );
    // Chassis status reads the node: a change made behind the client's back shows up.
    node.set_power(true);
    assert!(bmc.chassis_status().await.unwrap().power_on);
    node.set_power(false);
    assert!(!bmc.chassis_status().await.unwrap().power_on);
    bmc.close().await.unwrap();
}

#[tokio::test]
async fn boot_devices_round_trip_byte_for_byte_through_the_node() {
    let (node, server) = start(admin_only()).await;
    let bmc = admin(&server);
    // (client device, mock device, selector bits 5:2 of byte 2, per IPMI v2.0 table 28-14)
    let devices = [
        (BootDevice::Pxe, mock::BootDevice::Pxe, 0x04),
        (BootDevice::Disk, mock::BootDevice::Disk, 0x08),
        (BootDevice::Cdrom, mock::BootDevice::Cdrom, 0x14),
        (BootDevice::BiosSetup, mock::BootDevice::BiosSetup, 0x18),
    ];
    for (device, mock_device, byte2) in devices {
        for (persistent, efi) in [(false, false), (true, false), (false, true), (true, true)] {
            let options = BootOptions { persistent, efi };
            let byte1 = 0x80 | if persistent { 0x40 } else { 0 } | if efi { 0x20 } else { 0 };
            let expected = [byte1, byte2, 0, 0, 0];
            let context = format!("{device} {options:?}");

            let read_back = bmc.set_boot_device(device, options).await.unwrap();
            let on_node = node.boot_flags();
            assert_eq!(
                on_node,
                mock::BootFlags {
                    valid: true,
                    persistent,
                    efi,
                    device: mock_device,
                },
                "{context}"
            );
            assert_eq!(on_node.to_parameter(), expected, "{context}");
            assert_eq!(read_back.raw, expected, "{context}");
            assert_eq!(
                (read_back.device, read_back.persistent, read_back.efi),
                (device, persistent, efi),
                "{context}"
            );
            assert_eq!(bmc.boot_device().await.unwrap().raw, expected, "{context}");
        }
    }

    // A change made on the node (as its Redfish side would) is what the client reads next.
    node.set_boot_flags(mock::BootFlags {
        valid: true,
        persistent: false,
        efi: true,
        device: mock::BootDevice::Cdrom,
    });
    let flags = bmc.boot_device().await.unwrap();
    assert_eq!(flags.raw, [0xA0, 0x14, 0, 0, 0]);
    assert_eq!(flags.device, BootDevice::Cdrom);
    bmc.close().await.unwrap();
}

/// A node with a configurable Get Device ID identity.
struct IdentifiedNode {
    inner: SimpleIpmiNode,
    identity: mock::DeviceIdentity,
}

impl IpmiNode for IdentifiedNode {
    fn power_is_on(&self) -> bool {
        self.inner.power_is_on()
    }

    fn chassis_control(&self, control: mock::ChassisControl) {
        self.inner.chassis_control(control);
    }

    fn boot_flags(&self) -> mock::BootFlags {
        self.inner.boot_flags()
    }

    fn set_boot_flags(&self, flags: mock::BootFlags) {
        self.inner.set_boot_flags(flags);
    }

    fn device_identity(&self) -> mock::DeviceIdentity {
        self.identity
    }
}

#[tokio::test]
async fn device_id_reports_the_identity_the_mock_was_configured_with() {
    let identity = mock::DeviceIdentity {
        device_id: 0x42,
        device_revision: 0x03,
        firmware_major: 7,
        firmware_minor_bcd: 0x25,
        manufacturer_id: 0xA_2B3C,
        product_id: 0xBEEF,
        aux_firmware: [0x01, 0x02, 0x03, 0x04],
    };
    let node = Arc::new(IdentifiedNode {
        inner: SimpleIpmiNode::new(true),
        identity,
    });
    let server = serve(node, admin_only()).await;
    let bmc = admin(&server);
    let id = bmc.device_id().await.unwrap();
    assert_eq!(id.device_id, 0x42);
    assert_eq!(id.device_revision, 3);
    assert_eq!(id.firmware_major, 7);
    assert_eq!(id.firmware_minor, 25, "bcd 0x25 is minor revision 25");
    assert_eq!(id.manufacturer_id, 0xA_2B3C);
    assert_eq!(id.product_id, 0xBEEF);
    assert_eq!(id.aux_firmware_revision, Some([0x01, 0x02, 0x03, 0x04]));
    assert_eq!(id.ipmi_version, (2, 0));
    assert!(id.device_available);
    bmc.close().await.unwrap();
}

fn assert_no_secret(error: &Error, secrets: &[&[u8]]) {
    let shown = format!("{error} {error:?}");
    for secret in secrets {
        let text = String::from_utf8_lossy(secret);
        assert!(!shown.contains(text.as_ref()), "secret leaked: {shown}");
    }
}

#[tokio::test]
async fn bmc_key_right_wrong_and_missing() {
    let mut config = admin_only();
    config.bmc_key = Some(IpmiKey::from_bytes(KG).unwrap());
    let (node, server) = start(config).await;

    let right = builder(&server, "admin", PASSWORD)
        .kg(SecretSlice::from(KG.to_vec()))
        .build()
        .unwrap();
    right
        .chassis_control(ChassisControl::PowerOn)
        .await
        .unwrap();
    assert!(node.power_is_on());
    assert!(right.channel_auth_capabilities().await.unwrap().kg_set);
    right.close().await.unwrap();

    let wrong_kg = b"kg-not-the-right-one".to_vec();
    let wrong = builder(&server, "admin", PASSWORD)
        .kg(SecretSlice::from(wrong_kg.clone()))
        .build()
        .unwrap();
    let error = wrong
        .chassis_control(ChassisControl::PowerOff)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::Rakp4CheckFailed {
                kg_given: true,
                bmc_reports_kg: true,
                ..
            }
        ),
        "{error:?}"
    );
    assert_no_secret(&error, &[KG, &wrong_kg, PASSWORD.as_bytes()]);

    let missing = admin(&server);
    let error = missing
        .chassis_control(ChassisControl::PowerOff)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::Rakp4CheckFailed {
                kg_given: false,
                bmc_reports_kg: true,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("none was given"), "{error}");
    assert_no_secret(&error, &[KG, PASSWORD.as_bytes()]);

    // Neither failed session got to send its power off.
    assert!(node.power_is_on());
    assert_eq!(node.control_log(), vec![mock::ChassisControl::PowerUp]);
}

#[tokio::test]
async fn wrong_password_and_unknown_user_give_distinct_errors_and_no_retry() {
    let (node, server) = start(admin_only()).await;

    let wrong_password = "not-the-password";
    let bmc = builder(&server, "admin", wrong_password).build().unwrap();
    let error = bmc
        .chassis_control(ChassisControl::PowerOn)
        .await
        .unwrap_err();
    match &error {
        Error::Rakp2CheckFailed { user, .. } => assert_eq!(user, "admin"),
        other => panic!("expected rakp 2 check failed, got {other:?}"),
    }
    assert_no_secret(&error, &[wrong_password.as_bytes(), PASSWORD.as_bytes()]);
    // Auth capabilities, Open Session, RAKP 1, and no second try with suite 3: a wrong
    // password retried counts twice towards a lockout.
    expect_stats(&bmc, 3, 0);
    // The client told the BMC it rejected RAKP 2, so no half-open session lingers.
    wait_until("the mock dropped the rejected session", || {
        server.session_count() == 0
    })
    .await;

    let stranger = builder(&server, "nobody", PASSWORD).build().unwrap();
    let error = stranger
        .chassis_control(ChassisControl::PowerOn)
        .await
        .unwrap_err();
    match &error {
        Error::UnknownUser { user, .. } => assert_eq!(user, "nobody"),
        other => panic!("expected unknown user, got {other:?}"),
    }
    assert_no_secret(&error, &[PASSWORD.as_bytes()]);
    expect_stats(&stranger, 3, 0);
    assert_eq!(server.session_count(), 0);

    assert!(!node.power_is_on());
    assert!(node.control_log().is_empty());
}

#[tokio::test]
async fn operator_limited_user_steps_down_and_can_still_control_power() {
    // With an administrator account configured too, Open Session grants administrator and
    // RAKP 1 refuses the role for this user; with operators only, Open Session refuses it.
    for with_admin_account in [true, false] {
        let mut users = vec![IpmiUser::new("oper", PASSWORD, mock::Privilege::Operator).unwrap()];
        if with_admin_account {
            users.push(IpmiUser::new("admin", PASSWORD, mock::Privilege::Administrator).unwrap());
        }
        let (node, server) = start(IpmiConfig::new(users)).await;
        let bmc = builder(&server, "oper", PASSWORD).build().unwrap();
        bmc.chassis_control(ChassisControl::PowerOn).await.unwrap();
        assert!(
            node.power_is_on(),
            "with_admin_account={with_admin_account}"
        );
        assert_eq!(
            bmc.session_info().await,
            Some((CipherSuite::Suite17, Privilege::Operator)),
            "with_admin_account={with_admin_account}"
        );
        // The refused attempt (Open Session, plus RAKP 1 when it got that far), then the
        // four handshake round trips at operator, then the command.
        let refused = if with_admin_account { 2 } else { 1 };
        expect_stats(&bmc, 1 + refused + 4 + 1, 1);
        assert_eq!(server.session_count(), 1);
        bmc.close().await.unwrap();
        assert_eq!(server.session_count(), 0);
    }
}

#[tokio::test]
async fn refused_suite_17_falls_back_to_suite_3() {
    let mut config = admin_only();
    config.faults = IpmiFaults {
        refused_suites: vec![mock::CipherSuite::Suite17],
        ..IpmiFaults::default()
    };
    let (node, server) = start(config).await;

    let bmc = admin(&server);
    bmc.chassis_control(ChassisControl::PowerOn).await.unwrap();
    assert!(node.power_is_on());
    assert_eq!(
        bmc.session_info().await,
        Some((CipherSuite::Suite3, Privilege::Administrator))
    );
    // One extra round trip: the refused Open Session for suite 17.
    expect_stats(&bmc, 7, 1);
    bmc.close().await.unwrap();

    // Pinned to 17, there is nothing to fall back to.
    let pinned = builder(&server, "admin", PASSWORD)
        .cipher_suite(CipherSuite::Suite17)
        .build()
        .unwrap();
    let error = pinned.chassis_status().await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::OpenSessionRejected {
                suite: CipherSuite::Suite17,
                status: RmcpPlusStatus(0x11),
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(server.session_count(), 0);
}

/// With every `nth` reply of the mock dropped, a session opens and commands succeed through
/// retransmission, and the retransmitted power cycle is performed once.
async fn survive_packet_loss(nth: u32) {
    let mut config = admin_only();
    config.faults = IpmiFaults {
        drop_every_nth_reply: Some(nth),
        ..IpmiFaults::default()
    };
    let (node, server) = start(config).await;
    let bmc = builder(&server, "admin", PASSWORD)
        .timeout(Duration::from_millis(500))
        .retries(5)
        .build()
        .unwrap();

    assert!(!bmc.chassis_status().await.unwrap().power_on);
    bmc.chassis_control(ChassisControl::PowerCycle)
        .await
        .unwrap();
    let flags = bmc
        .set_boot_device(
            BootDevice::Pxe,
            BootOptions {
                persistent: false,
                efi: true,
            },
        )
        .await
        .unwrap();
    assert_eq!(flags.raw, [0xA0, 0x04, 0, 0, 0]);
    assert!(bmc.chassis_status().await.unwrap().power_on);
    bmc.device_id().await.unwrap();

    assert_eq!(
        node.control_log(),
        vec![mock::ChassisControl::PowerCycle],
        "every {nth}th reply dropped"
    );
    assert!(node.power_is_on());
    assert_eq!(node.boot_flags().to_parameter(), [0xA0, 0x04, 0, 0, 0]);
    // Loss costs retransmissions, never round trips: 5 to open, 1 + 1 + 3 + 1 + 1 commands.
    let stats = expect_stats(&bmc, 5 + 7, 1);
    assert!(stats.retransmissions > 0, "every {nth}th: {stats:?}");
    assert_eq!(
        stats.datagrams_sent,
        stats.round_trips + stats.retransmissions,
        "{stats:?}"
    );
    bmc.close().await.unwrap();
    assert_eq!(server.session_count(), 0);
}

#[tokio::test]
async fn every_2nd_reply_lost_is_survived_by_retransmission() {
    survive_packet_loss(2).await;
}

#[tokio::test]
async fn every_3rd_reply_lost_is_survived_by_retransmission() {
    survive_packet_loss(3).await;
}

#[tokio::test]
async fn every_5th_reply_lost_is_survived_by_retransmission() {
    survive_packet_loss(5).await;
}

#[tokio::test]
async fn every_7th_reply_lost_is_survived_by_retransmission() {
    survive_packet_loss(7).await;
}

#[tokio::test]
async fn session_expired_on_the_bmc_is_reopened_transparently_for_reads_only() {
    let mut config = admin_only();
    config.idle_timeout = Duration::from_secs(2);
    let (node, server) = start(config).await;
    // The client would keep the session for a minute: only the BMC's silence tells it.
    let bmc = builder(&server, "admin", PASSWORD)
        .timeout(Duration::from_millis(500))
        .retries(1)
        .idle_timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    bmc.chassis_status().await.unwrap();
    expect_stats(&bmc, 6, 1);
    wait_until("the mock expired the idle session", || {
        server.session_count() == 0
    })
    .await;

    // A read is sent again in a new session by itself.
    node.set_power(true);
    assert!(bmc.chassis_status().await.unwrap().power_on);
    // The request in the dead session went unanswered (not a round trip); a new session
    // took 5 round trips and the command 1.
    let stats = expect_stats(&bmc, 6 + 5 + 1, 2);
    assert_eq!(stats.retransmissions, 1, "{stats:?}");
    node.set_power(false);
    wait_until("the mock expired the second session", || {
        server.session_count() == 0
    })
    .await;

    // Power on is not idempotent: the client cannot tell a dead session from lost replies,
    // so it re-opens the session but does not send the command again.
    let error = bmc
        .chassis_control(ChassisControl::PowerOn)
        .await
        .unwrap_err();
    match &error {
        Error::OutcomeUnknown {
            command, attempts, ..
        } => {
            assert_eq!(*command, "chassis control");
            assert_eq!(*attempts, 2);
        }
        other => panic!("expected an unknown outcome, got {other:?}"),
    }
    assert!(error.to_string().contains("read the state back"), "{error}");
    expect_stats(&bmc, 12 + 5, 3);
    assert_eq!(server.session_count(), 1, "the new session is already open");
    // Here the BMC had dropped the session, so nothing ran: the read-back says so, and the
    // caller sends the command again.
    assert!(node.control_log().is_empty());
    assert!(!bmc.chassis_status().await.unwrap().power_on);
    bmc.chassis_control(ChassisControl::PowerOn).await.unwrap();
    assert_eq!(node.control_log(), vec![mock::ChassisControl::PowerUp]);
    expect_stats(&bmc, 17 + 2, 3);
    bmc.close().await.unwrap();
    assert_eq!(server.session_count(), 0);
}

#[tokio::test]
async fn lost_replies_to_a_power_cycle_never_make_it_run_twice() {
    let (node, server) = start(admin_only()).await;
    let bmc = builder(&server, "admin", PASSWORD)
        .timeout(Duration::from_millis(400))
        .retries(2)
        .build()
        .unwrap();
    bmc.chassis_control(ChassisControl::PowerOn).await.unwrap();
    expect_stats(&bmc, 6, 1);

    // The BMC runs the power cycle but all three replies (first try and two retransmissions
    // with the same rqSeq, which it recognises as duplicates) are lost.
    server.drop_next_in_session_replies(3);
    let error = bmc
        .chassis_control(ChassisControl::PowerCycle)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::OutcomeUnknown {
                command: "chassis control",
                attempts: 3,
                ..
            }
        ),
        "{error:?}"
    );
    // Once, not once per session: a re-send in the new session would have cycled again.
    assert_eq!(
        node.control_log(),
        vec![
            mock::ChassisControl::PowerUp,
            mock::ChassisControl::PowerCycle
        ]
    );
    let stats = expect_stats(&bmc, 6 + 5, 2);
    assert_eq!(stats.retransmissions, 2, "{stats:?}");
    // The new session serves the read-back at once.
    assert!(bmc.chassis_status().await.unwrap().power_on);
    expect_stats(&bmc, 12, 2);

    // The same loss on a read is repaired without the caller noticing.
    server.drop_next_in_session_replies(3);
    assert!(bmc.chassis_status().await.unwrap().power_on);
    expect_stats(&bmc, 12 + 5 + 1, 3);

    // Boot options writes are not re-sent either.
    server.drop_next_in_session_replies(3);
    let error = bmc
        .set_boot_device(BootDevice::Pxe, BootOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::OutcomeUnknown {
                command: "set system boot options",
                ..
            }
        ),
        "{error:?}"
    );
    bmc.close().await.unwrap();
}

#[tokio::test]
async fn administrator_refused_by_set_session_privilege_steps_down_to_operator() {
    let mut config = admin_only();
    config.quirks.session_privilege_ceiling = Some(mock::Privilege::Operator);
    let (node, server) = start(config).await;
    let bmc = admin(&server);
    bmc.chassis_control(ChassisControl::PowerOn).await.unwrap();
    assert!(node.power_is_on());
    assert_eq!(
        bmc.session_info().await,
        Some((CipherSuite::Suite17, Privilege::Operator))
    );
    // RAKP granted administrator; 3Bh refused it (81h) and then granted operator: one more
    // round trip than a plain session.
    expect_stats(&bmc, 6 + 1, 1);
    bmc.close().await.unwrap();
}

#[tokio::test]
async fn privilege_refused_also_at_operator_is_a_typed_error_and_closes_the_session() {
    let mut config = admin_only();
    config.quirks.session_privilege_ceiling = Some(mock::Privilege::User);
    let (node, server) = start(config).await;
    let bmc = admin(&server);
    let error = bmc
        .chassis_control(ChassisControl::PowerOn)
        .await
        .unwrap_err();
    match &error {
        Error::PrivilegeRefused {
            requested, code, ..
        } => {
            assert_eq!(*requested, Privilege::Operator);
            assert_eq!(code.to_u8(), 0x81);
        }
        other => panic!("expected privilege refused, got {other:?}"),
    }
    assert_no_secret(&error, &[PASSWORD.as_bytes()]);
    assert!(node.control_log().is_empty());
    // Close Session always, also for a session the client cannot use.
    wait_until("the unusable session is closed", || {
        server.session_count() == 0
    })
    .await;
}

#[tokio::test]
async fn boot_device_is_set_on_a_bmc_without_boot_parameter_3() {
    let mut config = admin_only();
    config.quirks.boot_parameter_3_unsupported = true;
    let (node, server) = start(config).await;
    let bmc = admin(&server);
    // Quirk "boot-param-3-unsupported": 80h for parameter 3 is not a failure.
    let error = bmc
        .execute(&ferrofish::ipmi::commands::SetSystemBootOptions(
            ferrofish::ipmi::commands::BootParameter::ValidBitClearing(0x08),
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Command { code, .. } if code.to_u8() == 0x80),
        "the mock must refuse parameter 3: {error:?}"
    );
    let flags = bmc
        .set_boot_device(
            BootDevice::Pxe,
            BootOptions {
                persistent: false,
                efi: true,
            },
        )
        .await
        .unwrap();
    assert_eq!(flags.device, BootDevice::Pxe);
    assert_eq!(
        node.boot_flags(),
        mock::BootFlags {
            valid: true,
            persistent: false,
            efi: true,
            device: mock::BootDevice::Pxe,
        }
    );
    bmc.close().await.unwrap();
}

#[tokio::test]
async fn a_bmc_answering_only_the_ipmi_15_auth_capabilities_is_retried_with_0e() {
    let mut config = admin_only();
    config.quirks.ignore_extended_auth_capabilities = true;
    let (node, server) = start(config).await;
    let bmc = builder(&server, "admin", PASSWORD)
        .timeout(Duration::from_millis(300))
        .retries(1)
        .build()
        .unwrap();
    bmc.chassis_control(ChassisControl::PowerOn).await.unwrap();
    assert!(node.power_is_on());
    // 8Eh twice unanswered, then 0Eh answered, then the usual handshake and the command.
    let stats = expect_stats(&bmc, 1 + 4 + 1, 1);
    assert_eq!(stats.datagrams_sent, 2 + 1 + 4 + 1, "{stats:?}");
    assert!(!bmc.channel_auth_capabilities().await.unwrap().kg_set);
    bmc.close().await.unwrap();
}

#[tokio::test]
async fn client_idle_timeout_reopens_without_waiting_for_a_silent_bmc() {
    let mut config = admin_only();
    config.idle_timeout = Duration::from_secs(2);
    let (node, server) = start(config).await;
    let bmc = builder(&server, "admin", PASSWORD)
        .idle_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    bmc.chassis_status().await.unwrap();
    wait_until("the mock expired the idle session", || {
        server.session_count() == 0
    })
    .await;

    bmc.chassis_control(ChassisControl::PowerOn).await.unwrap();
    assert!(node.power_is_on());
    // The client knew the session was stale: no request went unanswered.
    let stats = expect_stats(&bmc, 12, 2);
    assert_eq!(stats.retransmissions, 0, "{stats:?}");
    assert_eq!(server.session_count(), 1);
    bmc.close().await.unwrap();
}

#[tokio::test]
async fn close_leaves_no_session_on_the_mock() {
    let (node, server) = start(admin_only()).await;
    let first = admin(&server);
    let second = admin(&server);
    first.chassis_status().await.unwrap();
    second.chassis_status().await.unwrap();
    assert_eq!(server.session_count(), 2);

    first.close().await.unwrap();
    assert_eq!(server.session_count(), 1);
    // A closed client refuses further commands and sends nothing.
    let sent = first.stats().datagrams_sent;
    let error = first
        .chassis_control(ChassisControl::PowerOn)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Closed { .. }), "{error:?}");
    assert_eq!(first.stats().datagrams_sent, sent);
    assert!(node.control_log().is_empty());

    second.close().await.unwrap();
    assert_eq!(server.session_count(), 0);
    // Closing twice is harmless.
    second.close().await.unwrap();
}

#[tokio::test]
async fn dropping_the_client_closes_its_session() {
    let (_node, server) = start(admin_only()).await;
    let bmc = admin(&server);
    let clone = bmc.clone();
    bmc.chassis_status().await.unwrap();
    assert_eq!(server.session_count(), 1);
    // Clones share the session: dropping one of them closes nothing.
    drop(bmc);
    clone.chassis_status().await.unwrap();
    assert_eq!(server.session_count(), 1);
    assert_eq!(clone.stats().sessions_opened, 1);
    // The mock keeps idle sessions for a minute, so only a Close Session empties it.
    drop(clone);
    wait_until("the dropped client's session is closed", || {
        server.session_count() == 0
    })
    .await;
}
