//! The basic-auth-only switch: a service with no `SessionService` that takes HTTP Basic only,
//! reached from the builder, the node handle and the admin API (the CLI flag is in
//! `binary.rs`).

mod common;

use common::{Bmc, PASS, USER, client, fast_delays};
use ferrofish_mock_bmc::{MockBmc, Personality};
use serde_json::{Value, json};

async fn session_login(bmc: &Bmc) -> reqwest::Response {
    bmc.http
        .post(bmc.url("/redfish/v1/SessionService/Sessions"))
        .json(&json!({"UserName": USER, "Password": PASS}))
        .send()
        .await
        .expect("POST")
}

/// What a client sees of a basic-auth-only service.
async fn assert_basic_auth_only(bmc: &Bmc) {
    let root: Value = client()
        .get(bmc.url("/redfish/v1/"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(root.get("SessionService").is_none(), "{root}");
    assert!(root["Links"].get("Sessions").is_none(), "{root}");
    assert!(root.get("Systems").is_some(), "the rest of the root stays");
    for path in [
        "/redfish/v1/SessionService",
        "/redfish/v1/SessionService/Sessions",
    ] {
        assert_eq!(bmc.get(path).await.status(), 404, "{path}");
    }
    // Session login is refused, and no token comes back.
    let r = session_login(bmc).await;
    assert_eq!(r.status(), 404);
    assert!(r.headers().get("x-auth-token").is_none());
    // The OData service document no longer lists the session service either.
    let odata: Value = bmc.get_json("/redfish/v1/odata").await;
    assert!(!odata.to_string().contains("SessionService"), "{odata}");
    // HTTP Basic works; without credentials the answer is 401.
    assert_eq!(bmc.get("/redfish/v1/Systems/1").await.status(), 200);
    let anonymous = client()
        .get(bmc.url("/redfish/v1/Systems/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn builder_switch_serves_no_session_service_and_takes_basic_auth() {
    let mock = MockBmc::builder()
        .personality(Personality::Generic)
        .power_delays(fast_delays())
        .basic_auth_only(true)
        .spawn()
        .await
        .unwrap();
    let bmc = Bmc::new(mock.node(0));
    assert!(bmc.node.basic_auth_only());
    assert_basic_auth_only(&bmc).await;
    assert_eq!(bmc.node.view().sessions, 0);
}

#[tokio::test]
async fn handle_switch_ends_sessions_and_turns_back() {
    let mock = common::spawn(Personality::Dell).await;
    let bmc = Bmc::new(mock.node(0));
    assert!(!bmc.node.basic_auth_only());
    let r = session_login(&bmc).await;
    assert_eq!(r.status(), 201);
    let token = r.headers()["x-auth-token"].to_str().unwrap().to_owned();
    let with_token = |path: &str| {
        bmc.http
            .get(bmc.url(path))
            .header("X-Auth-Token", token.clone())
            .send()
    };
    assert_eq!(
        with_token("/redfish/v1/Systems/System.Embedded.1")
            .await
            .unwrap()
            .status(),
        200
    );

    bmc.node.set_basic_auth_only(true);
    // The session is gone with its service: the token no longer opens anything.
    assert_eq!(
        with_token("/redfish/v1/Systems/System.Embedded.1")
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(bmc.node.view().sessions, 0);
    let r = bmc.get("/redfish/v1/Systems/System.Embedded.1").await;
    assert_eq!(r.status(), 200);
    assert_eq!(session_login(&bmc).await.status(), 404);

    bmc.node.set_basic_auth_only(false);
    let root = bmc.get_json("/redfish/v1/").await;
    assert_eq!(
        root["Links"]["Sessions"]["@odata.id"],
        "/redfish/v1/SessionService/Sessions"
    );
    assert_eq!(session_login(&bmc).await.status(), 201);
}

#[tokio::test]
async fn admin_api_reads_and_switches_the_option() {
    let mock = MockBmc::builder()
        .nodes(2)
        .power_delays(fast_delays())
        .admin_api("127.0.0.1:0".parse().unwrap())
        .spawn()
        .await
        .unwrap();
    let admin = format!("http://{}", mock.admin_addr().unwrap());
    let http = client();
    let options: Value = http
        .get(format!("{admin}/nodes/1/options"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(options["basic_auth_only"], json!(false));

    let r = http
        .post(format!("{admin}/nodes/1/options"))
        .json(&json!({"basic_auth_only": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["basic_auth_only"],
        json!(true)
    );
    assert!(mock.node(1).basic_auth_only());
    assert!(!mock.node(0).basic_auth_only(), "only node 1 switched");
    assert_basic_auth_only(&Bmc::new(mock.node(1))).await;
    let listed: Value = http
        .get(format!("{admin}/nodes"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["basic_auth_only"], false);
    assert_eq!(listed[1]["basic_auth_only"], true);

    // Every node at once; an unknown option is refused and changes nothing.
    let r = http
        .post(format!("{admin}/options"))
        .json(&json!({"basic_auth_only": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(mock.node(0).basic_auth_only());
    let r = http
        .post(format!("{admin}/nodes/0/options"))
        .json(&json!({"basic_auth_only": false, "sessions": "yes"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(mock.node(0).basic_auth_only());
}
