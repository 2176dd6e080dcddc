//! Every log line of a DHCP-less boot and of a failed insert, at TRACE, mentions neither the
//! image server's URL token nor the BMC password. Alone in its test binary: a thread-local
//! subscriber in a binary running other tests in parallel can miss events (tracing caches
//! per-callsite interest process-wide).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferrofish_mock_bmc::{DEFAULT_USER, MockBmc, Personality};
use ferrofish_redfish_core::{RedfishClient, SecretString};
use ferrofish_vmedia::{
    BootOptions, ConfigDrive, ImageServer, ImageServerOptions, MediaKind, NetworkData, VirtualMedia,
};

/// Distinctive, so a leak is found by a plain search of the logs.
const PASSWORD: &str = "Pw-vmedia-7f3c9e";

/// A `std::io::Write` into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_log_line_carries_the_url_token_or_the_password() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // The test runtime is single-threaded: the mock's, the server's and the client's tasks
    // all log through this subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);

    let mock = MockBmc::builder()
        .personality(Personality::Dell)
        .credentials(DEFAULT_USER, PASSWORD)
        .spawn()
        .await
        .unwrap();
    let client = RedfishClient::builder(mock.node(0).url())
        .credentials(DEFAULT_USER, SecretString::from(PASSWORD))
        .build()
        .unwrap();
    let system = client.systems().await.unwrap().remove(0);
    let server = ImageServer::start(ImageServerOptions::http("127.0.0.1:0".parse().unwrap()))
        .await
        .unwrap();
    let network = NetworkData::from_json(
        r#"{"links":[{"id":"e","type":"phy"}],"networks":[{"id":"n","type":"ipv4","link":"e","ip_address":"192.0.2.9","netmask":"255.255.255.0"}]}"#,
    )
    .unwrap();
    // Bootable, so the mock boots an OS from it (a bare config drive is data, not an OS).
    let files = ConfigDrive::new("uuid", Some(network)).files().unwrap();
    let files: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(path, data)| (path.as_str(), data.as_slice()))
        .collect();
    let drive = ferrofish_mock_bmc::iso9660::build_bootable_iso("config-2", &files);
    let url = server.serve_bytes("config-2.iso", drive).await.unwrap();
    let media = VirtualMedia::new(&system);
    let options = BootOptions {
        timeout: Duration::from_secs(30),
        poll_interval: Duration::from_millis(100),
        eject_after: true,
    };
    media.boot_from_iso(url.as_str(), &options).await.unwrap();
    let missing = server.url("missing.iso").unwrap();
    media
        .insert(missing.as_str(), MediaKind::Cd)
        .await
        .unwrap_err();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("image fetch"),
        "the server's fetch log is captured"
    );
    assert!(
        logs.contains("ferrofish_redfish_core"),
        "the client's events are captured"
    );
    let token = url.path_segments().unwrap().next().unwrap();
    let leaks: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains(token) || l.contains(PASSWORD))
        .collect();
    assert!(leaks.is_empty(), "secrets reached log lines: {leaks:#?}");
}
