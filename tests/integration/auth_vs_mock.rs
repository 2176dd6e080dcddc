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

/// Fills the BMC's session table as other processes would: raw session logins over HTTP/1.1
/// that this process's clients know nothing about.
async fn logins_from_elsewhere(url: &str, count: usize) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = url.trim_start_matches("http://");
    for _ in 0..count {
        let body = format!(r#"{{"UserName":"{DEFAULT_USER}","Password":"{DEFAULT_PASSWORD}"}}"#);
        let request = format!(
            "POST /redfish/v1/SessionService/Sessions HTTP/1.1\r\nHost: {addr}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.expect("read");
        assert!(
            answer.starts_with(b"HTTP/1.1 201"),
            "{}",
            String::from_utf8_lossy(&answer)
        );
    }
}

/// Quirk `session_cap`: a BMC whose session table is full (iDRAC: 8 sessions, 503 with
/// `RAC0218`) is named as such, with the vendor's cap, in session mode; the default login
/// then uses HTTP Basic, which takes no slot, and works. The table is filled by other
/// processes, so this process's count of its own sessions does not stop the login first.
#[tokio::test]
async fn a_full_session_table_is_named_and_the_default_login_falls_back_to_basic() {
    for (personality, cap) in [(Personality::Dell, 8_u32), (Personality::Lenovo, 16)] {
        let mock = MockBmc::builder()
            .personality(personality)
            .spawn()
            .await
            .expect("mock");
        let node = mock.node(0);
        logins_from_elsewhere(&node.url(), cap as usize).await;

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
        assert_eq!(
            session_deletes(&node),
            0,
            "{personality:?}: Basic has no session to delete"
        );
    }
}

/// DELETEs of session members the node received.
fn session_deletes(node: &ferrofish_mock_bmc::NodeHandle) -> usize {
    node.requests()
        .iter()
        .filter(|r| r.method == "DELETE" && r.path.contains("/Sessions/"))
        .count()
}

fn unshared_client(url: &str, mode: ferrofish::redfish::AuthMode) -> RedfishClient {
    RedfishClient::builder(url)
        .credentials(DEFAULT_USER, SecretString::from(DEFAULT_PASSWORD))
        .auth(mode)
        .share_session(false)
        .build()
        .expect("client")
}

/// Quirk `session_cap`: the process never opens more sessions on one BMC than the cap it
/// knows (iDRAC 8). Clients that do not share (built with `share_session(false)`, or of other
/// accounts) take a session each up to the cap; past it nothing is sent: a `Session` client
/// gets `SessionCapReached` naming the cap, an `Auto` client uses HTTP Basic. Closing one
/// gives its place back.
#[tokio::test]
async fn the_process_never_opens_more_sessions_than_the_known_cap() {
    use ferrofish::redfish::AuthMode;
    let mock = MockBmc::builder()
        .personality(Personality::Dell)
        .spawn()
        .await
        .expect("mock");
    let node = mock.node(0);
    let mut holders = Vec::new();
    for _ in 0..8 {
        let holder = unshared_client(&node.url(), AuthMode::Auto);
        holder
            .system_ids()
            .await
            .expect("a session while under the cap");
        holders.push(holder);
    }
    assert_eq!(node.view().sessions, 8);
    node.clear_requests();

    let strict = unshared_client(&node.url(), AuthMode::Session);
    let err = strict.system_ids().await.expect_err("the cap is reached");
    assert!(
        matches!(
            &err,
            Error::SessionCapReached {
                cap: 8,
                held: 8,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_session_limit());
    assert!(err.to_string().contains("(8)"), "{err}");
    assert!(!format!("{err} {err:?}").contains(DEFAULT_PASSWORD));
    let auto = unshared_client(&node.url(), AuthMode::Auto);
    auto.system_ids().await.expect("Basic past the cap");
    assert_eq!(
        node.count("POST", "/redfish/v1/SessionService/Sessions"),
        0,
        "no login is sent past the cap"
    );
    assert_eq!(node.view().sessions, 8);
    auto.close().await.expect("close");

    // One place freed: the next login is sent and succeeds.
    holders
        .pop()
        .expect("a holder")
        .close()
        .await
        .expect("close");
    let next = unshared_client(&node.url(), AuthMode::Session);
    next.system_ids().await.expect("a session again");
    assert_eq!(node.count("POST", "/redfish/v1/SessionService/Sessions"), 1);
    next.close().await.expect("close");
    for holder in holders {
        holder.close().await.expect("close");
    }
    assert_eq!(node.view().sessions, 0, "every session deleted");
}

/// Quirk `session_cap`: separate clients built for the same BMC and account share one
/// session: one login for both, a close that keeps it for the other, the last close deletes
/// it; a 401 re-logs in once for both.
#[tokio::test]
async fn clients_of_one_bmc_and_account_share_one_session() {
    let mock = MockBmc::builder()
        .personality(Personality::Dell)
        .spawn()
        .await
        .expect("mock");
    let node = mock.node(0);
    let first = client(&node.url(), DEFAULT_PASSWORD);
    let second = client(&node.url(), DEFAULT_PASSWORD);
    let (a, b) = tokio::join!(first.system_ids(), second.system_ids());
    assert_eq!(a.expect("first"), b.expect("second"));
    assert_eq!(
        node.count("POST", "/redfish/v1/SessionService/Sessions"),
        1,
        "one login for both clients"
    );
    assert_eq!(node.view().sessions, 1);

    // Another password (a wrong one here) is another account: never the shared session.
    let wrong = client(&node.url(), "not-the-password");
    let err = wrong.system_ids().await.expect_err("wrong password");
    assert!(matches!(err, Error::Authentication { .. }), "{err:?}");
    assert_eq!(node.count("POST", "/redfish/v1/SessionService/Sessions"), 2);

    // The session expires: the first 401 re-logs in for both.
    node.faults().expire_sessions();
    node.clear_requests();
    let (a, b) = tokio::join!(first.system_ids(), second.system_ids());
    a.expect("first after expiry");
    b.expect("second after expiry");
    assert_eq!(
        node.count("POST", "/redfish/v1/SessionService/Sessions"),
        1,
        "one re-login for both"
    );
    node.clear_requests();

    first.close().await.expect("close first");
    assert_eq!(session_deletes(&node), 0);
    second
        .system_ids()
        .await
        .expect("the second still has the session");
    assert_eq!(node.view().sessions, 1);
    assert!(matches!(
        first.system_ids().await.expect_err("closed"),
        Error::Closed
    ));
    second.close().await.expect("close second");
    assert_eq!(
        session_deletes(&node),
        1,
        "the last close deletes the session"
    );
    assert_eq!(node.view().sessions, 0);

    // A client built afterwards logs in afresh.
    let third = client(&node.url(), DEFAULT_PASSWORD);
    third.system_ids().await.expect("third");
    assert_eq!(node.view().sessions, 1);
    let shown = format!("{first:?} {second:?} {third:?}");
    assert!(!shown.contains(DEFAULT_PASSWORD), "{shown}");
    drop(third);
    // Dropped without close, as the last user: deleted in the background.
    for _ in 0..100 {
        if node.view().sessions == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(node.view().sessions, 0, "the dropped last user deleted it");
}
