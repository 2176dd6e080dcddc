//! No password, BMC key or session key in any `Debug` or `Display` output.

use std::time::Duration;

use ferrofish_ipmi::crypto::{HashAlgorithm, RakpTranscript};
use ferrofish_ipmi::session::Credentials;
use ferrofish_ipmi::{Error, IpmiClient};
use secrecy::{SecretSlice, SecretString};

const PASSWORD: &str = "hunter2-Secret!";
const KG: &[u8] = b"kg-Secret-Value";

fn assert_clean(text: &str) {
    assert!(!text.contains(PASSWORD), "password leaked: {text}");
    assert!(!text.contains("kg-Secret-Value"), "kg leaked: {text}");
    let kg_hex = "6b672d5365637265742d56616c7565"; // hex of KG
    assert!(!text.contains(kg_hex), "kg (hex) leaked: {text}");
    // Byte-list renderings of the secrets ("[104, 117, ...]").
    let kg_bytes = format!("{KG:?}");
    assert!(
        !text.contains(&kg_bytes[1..kg_bytes.len() - 1]),
        "kg bytes leaked: {text}"
    );
}

#[test]
fn builder_client_and_credentials_debug_hide_secrets() {
    let builder = IpmiClient::builder("127.0.0.1:1")
        .credentials("admin", SecretString::from(PASSWORD))
        .kg(SecretSlice::from(KG.to_vec()));
    assert_clean(&format!("{builder:?}"));
    let client = builder.build().unwrap();
    let shown = format!("{client:?}");
    assert_clean(&shown);
    assert!(
        shown.contains("admin"),
        "the user name is not secret and helps: {shown}"
    );

    let creds = Credentials {
        username: "admin".into(),
        password: SecretString::from(PASSWORD),
        kg: Some(SecretSlice::from(KG.to_vec())),
    };
    assert_clean(&format!("{creds:?}"));
}

#[test]
fn session_keys_debug_is_redacted() {
    let t = RakpTranscript {
        console_session_id: 1,
        bmc_session_id: 2,
        console_random: [3; 16],
        bmc_random: [4; 16],
        bmc_guid: [5; 16],
        role: 0x14,
        username: b"admin".to_vec(),
    };
    let keys = t.session_keys(HashAlgorithm::Sha256, KG);
    let shown = format!("{keys:?}");
    assert_eq!(shown, "SessionKeys([REDACTED])");
}

#[tokio::test]
async fn errors_carry_no_secrets() {
    // Nothing listens on a fresh, closed port: the request times out.
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = IpmiClient::builder(format!("127.0.0.1:{port}"))
        .credentials("admin", SecretString::from(PASSWORD))
        .kg(SecretSlice::from(KG.to_vec()))
        .timeout(Duration::from_millis(50))
        .retries(1)
        .build()
        .unwrap();
    let err = client.chassis_status().await.unwrap_err();
    assert!(matches!(err, Error::Timeout { attempts: 2, .. }), "{err:?}");
    assert_clean(&format!("{err} {err:?}"));

    let too_long = IpmiClient::builder("bmc")
        .credentials("admin", SecretString::from("x".repeat(21)))
        .build()
        .unwrap_err();
    assert!(matches!(
        too_long,
        Error::InvalidArgument {
            name: "password",
            ..
        }
    ));
    assert!(!format!("{too_long} {too_long:?}").contains(&"x".repeat(21)));
}
