//! The IPMI server over real UDP on 127.0.0.1 with hand-built packets: presence ping, the
//! pre-session commands, and the injected faults (dropped replies, delay).

use std::sync::Arc;
use std::time::{Duration, Instant};

use ferrofish_mock_bmc::ipmi::{
    IpmiConfig, IpmiFaults, IpmiKey, IpmiServer, IpmiServerHandle, IpmiUser, Privilege,
    SimpleIpmiNode,
};
use tokio::net::UdpSocket;

/// Long enough that a loaded machine still answers; used only when a reply is expected.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait before concluding a reply was dropped.
const SILENCE: Duration = Duration::from_millis(500);

const ASF_PING: [u8; 12] = [
    0x06, 0x00, 0xff, 0x06, 0x00, 0x00, 0x11, 0xbe, 0x80, 0x00, 0x00, 0x00,
];

/// Get Channel Authentication Capabilities, IPMI 1.5 framing, v2 data requested, admin.
const AUTH_CAPS: [u8; 23] = [
    0x06, 0x00, 0xff, 0x07, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x09, 0x20, 0x18, 0xc8, 0x81, 0x00, 0x38,
    0x8e, 0x04, 0xb5,
];

async fn start(config: IpmiConfig) -> (IpmiServerHandle, UdpSocket) {
    let node = Arc::new(SimpleIpmiNode::default());
    let server = IpmiServer::bind("127.0.0.1:0".parse().unwrap(), node, config)
        .await
        .unwrap();
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    client.connect(server.local_addr()).await.unwrap();
    (server, client)
}

fn config() -> IpmiConfig {
    IpmiConfig::new(vec![
        IpmiUser::new("admin", "password", Privilege::Administrator).unwrap(),
    ])
}

async fn exchange(client: &UdpSocket, request: &[u8], wait: Duration) -> Option<Vec<u8>> {
    client.send(request).await.unwrap();
    let mut buffer = [0u8; 512];
    match tokio::time::timeout(wait, client.recv(&mut buffer)).await {
        Ok(received) => Some(buffer[..received.unwrap()].to_vec()),
        Err(_) => None,
    }
}

fn ping(tag: u8) -> [u8; 12] {
    let mut ping = ASF_PING;
    ping[9] = tag;
    ping
}

#[tokio::test]
async fn presence_ping_gets_a_pong() {
    let (_server, client) = start(config()).await;
    let pong = exchange(&client, &ping(0x42), REPLY_TIMEOUT).await.unwrap();
    assert_eq!(&pong[..4], &[0x06, 0x00, 0xff, 0x06]);
    assert_eq!(pong[8], 0x40, "presence pong");
    assert_eq!(pong[9], 0x42, "same message tag");
    assert_eq!(pong[20] & 0x80, 0x80, "ipmi supported");
}

#[tokio::test]
async fn auth_capabilities_answer_in_ipmi_15_framing_with_the_kg_bit() {
    let mut with_kg = config();
    with_kg.bmc_key = Some(IpmiKey::from_text("kg").unwrap());
    for (config, status) in [(config(), 0x04), (with_kg, 0x24)] {
        let (_server, client) = start(config).await;
        let reply = exchange(&client, &AUTH_CAPS, REPLY_TIMEOUT).await.unwrap();
        assert_eq!(reply[4], 0x00, "auth type none");
        assert_eq!(reply[13], 16, "message length");
        // cc, channel, auth types (v2 extended), status, extended capabilities (2.0).
        assert_eq!(&reply[20..25], &[0x00, 0x01, 0x80, status, 0x02]);
    }
}

#[tokio::test]
async fn garbage_gets_no_answer_and_the_server_keeps_serving() {
    let (_server, client) = start(config()).await;
    for garbage in [
        &[][..],
        &[0x06],
        &[0x06, 0x00, 0xff, 0x07, 0x06, 0x00, 0x01],
        &[0xff; 64],
    ] {
        assert_eq!(exchange(&client, garbage, SILENCE).await, None);
    }
    assert!(exchange(&client, &ping(1), REPLY_TIMEOUT).await.is_some());
}

#[tokio::test]
async fn every_nth_reply_is_dropped_and_faults_change_at_runtime() {
    let (server, client) = start(config()).await;
    server.set_faults(IpmiFaults {
        drop_every_nth_reply: Some(2),
        ..IpmiFaults::default()
    });
    assert!(exchange(&client, &ping(1), REPLY_TIMEOUT).await.is_some());
    assert_eq!(exchange(&client, &ping(2), SILENCE).await, None);
    assert!(exchange(&client, &ping(3), REPLY_TIMEOUT).await.is_some());
    assert_eq!(exchange(&client, &ping(4), SILENCE).await, None);
    server.set_faults(IpmiFaults::default());
    assert_eq!(server.faults(), IpmiFaults::default());
    assert!(exchange(&client, &ping(5), REPLY_TIMEOUT).await.is_some());
    assert!(exchange(&client, &ping(6), REPLY_TIMEOUT).await.is_some());
}

#[tokio::test]
async fn replies_are_delayed() {
    let (server, client) = start(config()).await;
    let delay = Duration::from_millis(300);
    server.set_faults(IpmiFaults {
        reply_delay: delay,
        ..IpmiFaults::default()
    });
    let sent = Instant::now();
    let pong = exchange(&client, &ping(9), REPLY_TIMEOUT).await.unwrap();
    // A lower bound only: the reply cannot come before the delay.
    assert!(sent.elapsed() >= delay);
    assert_eq!(pong[9], 9);
}

#[tokio::test]
async fn shutdown_stops_answering() {
    let (server, client) = start(config()).await;
    assert!(exchange(&client, &ping(1), REPLY_TIMEOUT).await.is_some());
    server.shutdown();
    // The task stops at its next await point; poll until pings go unanswered.
    let deadline = Instant::now() + REPLY_TIMEOUT;
    while exchange(&client, &ping(2), SILENCE).await.is_some() {
        assert!(
            Instant::now() < deadline,
            "server still answering after shutdown"
        );
    }
}

#[tokio::test]
async fn a_configuration_without_suites_is_refused() {
    let mut config = config();
    config.cipher_suites.clear();
    let node = Arc::new(SimpleIpmiNode::default());
    let result = IpmiServer::bind("127.0.0.1:0".parse().unwrap(), node, config).await;
    assert!(matches!(
        result,
        Err(ferrofish_mock_bmc::MockBmcError::NoCipherSuite)
    ));
}

/// An RMCP+ Open Session Request for cipher suite 17 at Administrator privilege: it leaves a
/// half-open session, which [`IpmiServerHandle::session_count`] counts.
fn open_session_request(console_session_id: u32) -> Vec<u8> {
    let mut payload = vec![0x01, 0x04, 0, 0];
    payload.extend_from_slice(&console_session_id.to_le_bytes());
    // Authentication HMAC-SHA256, integrity HMAC-SHA256-128, confidentiality AES-CBC-128.
    for (kind, algorithm) in [(0u8, 0x03u8), (1, 0x04), (2, 0x01)] {
        payload.extend_from_slice(&[kind, 0, 0, 0x08, algorithm, 0, 0, 0]);
    }
    let mut packet = vec![0x06, 0x00, 0xff, 0x07, 0x06, 0x10, 0, 0, 0, 0, 0, 0, 0, 0];
    packet.extend_from_slice(&u16::try_from(payload.len()).unwrap().to_le_bytes());
    packet.extend_from_slice(&payload);
    packet
}

/// A simulated BMC reboot (the Redfish fault) silences the fleet node's IPMI port while it
/// lasts, and the IPMI sessions are gone afterwards, as on a BMC that restarted.
#[tokio::test]
async fn bmc_reboot_silences_ipmi_and_drops_its_sessions() {
    let mock = ferrofish_mock_bmc::MockBmc::builder()
        .ipmi(true)
        .spawn()
        .await
        .unwrap();
    let node = mock.node(0);
    let server = node.ipmi().expect("ipmi served").clone();
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    client.connect(server.local_addr()).await.unwrap();
    let reply = exchange(&client, &open_session_request(0xA0A1_A2A3), REPLY_TIMEOUT)
        .await
        .expect("open session answered");
    assert_eq!(reply[5], 0x11, "Open Session Response");
    assert_eq!(server.session_count(), 1);
    let log_before = node.request_count();

    node.faults().reboot_bmc(Duration::from_millis(1500));
    let started = Instant::now();
    assert_eq!(exchange(&client, &ping(1), SILENCE).await, None, "ping");
    assert_eq!(
        exchange(&client, &AUTH_CAPS, SILENCE).await,
        None,
        "command"
    );
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "still in the window"
    );
    assert_eq!(
        node.request_count(),
        log_before,
        "nothing executed meanwhile"
    );
    assert_eq!(server.session_count(), 0, "sessions lost with the reboot");

    tokio::time::sleep(Duration::from_millis(1500).saturating_sub(started.elapsed())).await;
    let pong = exchange(&client, &ping(2), REPLY_TIMEOUT)
        .await
        .expect("answers again after the reboot");
    assert_eq!(pong[9], 2);
    assert!(exchange(&client, &AUTH_CAPS, REPLY_TIMEOUT).await.is_some());
    assert_eq!(server.session_count(), 0);

    // Clearing the faults ends a reboot at once and does not count as another restart.
    assert!(
        exchange(&client, &open_session_request(7), REPLY_TIMEOUT)
            .await
            .is_some()
    );
    node.faults().reboot_bmc(Duration::from_secs(60));
    assert_eq!(exchange(&client, &ping(3), SILENCE).await, None);
    node.faults().clear();
    assert!(exchange(&client, &ping(4), REPLY_TIMEOUT).await.is_some());
    assert!(
        exchange(&client, &open_session_request(8), REPLY_TIMEOUT)
            .await
            .is_some()
    );
    assert_eq!(server.session_count(), 1, "only the session opened after");
}
