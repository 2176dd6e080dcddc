//! The default login against the mock BMC's basic-auth-only switch (a service with no
//! `SessionService`, like sushy-tools and many small BMCs): the same fallback the sushy-tools
//! tests prove, fast and on every personality.

use std::time::Duration;

use ferrofish::redfish::{Error, RedfishClient};
use ferrofish_mock_bmc::{DEFAULT_PASSWORD, DEFAULT_USER, MockBmc, Personality};
use secrecy::SecretString;

fn client(url: &str, password: &str) -> RedfishClient {
    RedfishClient::builder(url)
        .credentials(DEFAULT_USER, SecretString::from(password.to_owned()))
        .request_timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

#[tokio::test]
async fn the_default_login_falls_back_to_basic_once_and_remembers_it() {
    for personality in [Personality::Generic, Personality::Dell, Personality::Hpe] {
        let mock = MockBmc::builder()
            .personality(personality)
            .basic_auth_only(true)
            .spawn()
            .await
            .expect("mock");
        let node = mock.node(0);
        let redfish = client(&node.url(), DEFAULT_PASSWORD);
        let system = redfish.systems().await.expect("systems").remove(0);
        let inventory = system.inventory().await.expect("inventory");
        assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);
        system.power_state().await.expect("power state");
        redfish.close().await.expect("close");

        let log = node.requests();
        let session_posts: Vec<_> = log
            .iter()
            .filter(|r| r.method == "POST" && r.path.contains("Sessions"))
            .collect();
        assert_eq!(
            session_posts.len(),
            1,
            "{personality:?}: one refused login, then Basic"
        );
        assert_ne!(session_posts[0].status / 100, 2, "{personality:?}");
        assert!(
            log.iter().all(|r| r.method != "DELETE"),
            "{personality:?}: no session to delete"
        );
        // Every request after the refused login carried credentials and was answered.
        let after_login = log
            .iter()
            .skip_while(|r| r.method != "POST")
            .skip(1)
            .filter(|r| r.status == 401)
            .count();
        assert_eq!(after_login, 0, "{personality:?}");
    }
}

#[tokio::test]
async fn a_wrong_password_on_a_basic_only_bmc_is_an_authentication_error() {
    let mock = MockBmc::builder()
        .basic_auth_only(true)
        .spawn()
        .await
        .expect("mock");
    let node = mock.node(0);
    let redfish = client(&node.url(), "not-the-password");
    let err = redfish.system_ids().await.unwrap_err();
    assert!(matches!(err, Error::Authentication { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("not-the-password"));
}

/// Quirk `session_cap`: a BMC whose session table is full (iDRAC: 8 sessions, 503 with
/// `RAC0218`) is named as such, with the vendor's cap, in session mode; the default login
/// then uses HTTP Basic, which takes no slot, and works.
#[tokio::test]
async fn a_full_session_table_is_named_and_the_default_login_falls_back_to_basic() {
    for (personality, cap) in [(Personality::Dell, 8_u32), (Personality::Lenovo, 16)] {
        let mock = MockBmc::builder()
            .personality(personality)
            .spawn()
            .await
            .expect("mock");
        let node = mock.node(0);
        let mut holders = Vec::new();
        for _ in 0..cap {
            let holder = client(&node.url(), DEFAULT_PASSWORD);
            holder
                .system_ids()
                .await
                .expect("a session while slots are free");
            holders.push(holder);
        }

        let strict = RedfishClient::builder(node.url())
            .credentials(DEFAULT_USER, SecretString::from(DEFAULT_PASSWORD))
            .auth(ferrofish::redfish::AuthMode::Session)
            .build()
            .expect("client");
        let err = strict.system_ids().await.expect_err("no slot left");
        assert!(err.is_session_limit(), "{personality:?}: {err:?}");
        assert!(
            matches!(&err, Error::SessionLimit { cap: Some(c), .. } if *c == cap),
            "{personality:?}: the vendor's cap is named: {err:?}"
        );
        assert!(err.to_string().contains(&format!("({cap})")), "{err}");
        assert!(
            !err.to_string().contains(DEFAULT_PASSWORD),
            "no password in {err}"
        );

        node.clear_requests();
        let default = client(&node.url(), DEFAULT_PASSWORD);
        let ids = default
            .system_ids()
            .await
            .expect("Basic works on a full BMC");
        assert!(!ids.is_empty());
        let logins = node.count("POST", "/redfish/v1/SessionService/Sessions");
        assert_eq!(logins, 1, "{personality:?}: one refused login, then Basic");
        default.close().await.expect("close");

        for holder in holders {
            holder.close().await.expect("close");
        }
        let deletes = node
            .requests()
            .iter()
            .filter(|r| r.method == "DELETE" && r.path.contains("/Sessions/"))
            .count();
        assert_eq!(
            deletes, cap as usize,
            "{personality:?}: only the holders had sessions to delete"
        );
    }
}
