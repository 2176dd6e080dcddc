//! The warning for plain HTTP with credentials. In a test binary of its own: tracing caches
//! whether a call site is enabled per process, so a log assertion shares it with no other test
//! thread.

use std::sync::{Arc, Mutex};

use ferrofish_redfish_core::{RedfishClient, SecretString};

const USER: &str = "admin";
const PASSWORD: &str = "Pw-plain-http-SECRET";

#[test]
fn plain_http_with_credentials_logs_a_warning() {
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
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    RedfishClient::builder("http://127.0.0.1:9")
        .credentials(USER, SecretString::from(PASSWORD))
        .build()
        .unwrap();
    let without = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        without.contains("WARN") && without.contains("unencrypted"),
        "{without}"
    );
    assert!(!without.contains(PASSWORD));
    logs.0.lock().unwrap().clear();
    RedfishClient::builder("https://127.0.0.1:9")
        .credentials(USER, SecretString::from(PASSWORD))
        .build()
        .unwrap();
    assert!(logs.0.lock().unwrap().is_empty(), "https needs no warning");
}
