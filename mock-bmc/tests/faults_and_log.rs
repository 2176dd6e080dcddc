//! Fault injection (library handle and admin API) and the request log.

mod common;

use std::time::Duration;

use common::{Bmc, PASS, USER, spawn};
use ferrofish_mock_bmc::{MockBmc, Personality};
use serde_json::json;

/// Injected latency delays every answer by at least that long (a lower bound only: a loaded
/// machine may add more).
#[tokio::test]
async fn latency_fault_delays_answers_by_at_least_the_latency() {
    let mock = spawn(Personality::Generic).await;
    let bmc = Bmc::new(mock.node(0));
    let latency = Duration::from_millis(300);
    mock.node(0).faults().latency(latency);
    for _ in 0..2 {
        let started = std::time::Instant::now();
        assert_eq!(bmc.get("/redfish/v1/Systems/1").await.status(), 200);
        let elapsed = started.elapsed();
        assert!(elapsed >= latency, "answered after {elapsed:?}");
    }
    mock.node(0).faults().clear();
    assert_eq!(mock.node(0).count("GET", "/redfish/v1/Systems/1"), 2);
}

#[tokio::test]
async fn fail_next_with_retry_after_then_recovers() {
    let mock = spawn(Personality::Generic).await;
    let bmc = Bmc::new(mock.node(0));
    mock.node(0).faults().fail_next(2, 503, Some(7));
    for _ in 0..2 {
        let r = bmc.get("/redfish/v1/Systems").await;
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()["retry-after"], "7");
    }
    assert_eq!(bmc.get("/redfish/v1/Systems").await.status(), 200);
}

#[tokio::test]
async fn connection_reset_and_bmc_reboot() {
    let mock = spawn(Personality::Generic).await;
    let bmc = Bmc::new(mock.node(0));
    mock.node(0).faults().reset_connection_next(1);
    let err = bmc.http.get(bmc.url("/redfish/v1/")).send().await;
    assert!(err.is_err(), "connection reset");
    assert_eq!(
        bmc.http
            .get(bmc.url("/redfish/v1/"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Reboot: sessions lost, unreachable for a while, then back.
    let r = bmc
        .http
        .post(bmc.url("/redfish/v1/SessionService/Sessions"))
        .json(&json!({"UserName": USER, "Password": PASS}))
        .send()
        .await
        .unwrap();
    let token = r.headers()["x-auth-token"].to_str().unwrap().to_owned();
    mock.node(0).faults().reboot_bmc(Duration::from_secs(3));
    let fresh = common::client();
    assert!(
        fresh.get(bmc.url("/redfish/v1/")).send().await.is_err(),
        "unreachable while rebooting"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(r) = fresh
            .get(bmc.url("/redfish/v1/Systems"))
            .header("X-Auth-Token", &token)
            .send()
            .await
        {
            assert_eq!(r.status(), 401, "sessions do not survive a BMC reboot");
            break;
        }
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn malformed_body_session_expiry_slow_power_and_image_failure() {
    let mock = spawn(Personality::Generic).await;
    let bmc = Bmc::new(mock.node(0));
    mock.node(0).faults().malformed_json_next(1);
    let text = bmc.get("/redfish/v1/Systems").await.text().await.unwrap();
    assert!(
        serde_json::from_str::<serde_json::Value>(&text).is_err(),
        "truncated: {text}"
    );
    assert!(
        bmc.get("/redfish/v1/Systems")
            .await
            .json::<serde_json::Value>()
            .await
            .is_ok()
    );

    let r = bmc
        .http
        .post(bmc.url("/redfish/v1/SessionService/Sessions"))
        .json(&json!({"UserName": USER, "Password": PASS}))
        .send()
        .await
        .unwrap();
    let token = r.headers()["x-auth-token"].to_str().unwrap().to_owned();
    mock.node(0).faults().expire_sessions();
    assert_eq!(
        bmc.http
            .get(bmc.url("/redfish/v1/Systems"))
            .header("X-Auth-Token", &token)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    // Base on-delay 30 ms × 100000: still powering on when we look.
    mock.node(0).faults().slow_power(100_000);
    bmc.reset("/redfish/v1/Systems/1", "On").await;
    assert_eq!(
        bmc.get_json("/redfish/v1/Systems/1").await["PowerState"],
        "PoweringOn"
    );
    mock.node(0).faults().clear();

    let img = common::image_server(vec![("/cd.iso", common::config_drive())]).await;
    mock.node(0).faults().image_download_fails_next(1);
    let insert = "/redfish/v1/Systems/1/VirtualMedia/CD/Actions/VirtualMedia.InsertMedia";
    assert_eq!(
        bmc.post(insert, json!({"Image": format!("http://{img}/cd.iso")}))
            .await
            .status(),
        500
    );
    assert_eq!(
        bmc.post(insert, json!({"Image": format!("http://{img}/cd.iso")}))
            .await
            .status(),
        204
    );
}

#[tokio::test]
async fn admin_api_faults_state_and_requests() {
    let mock = MockBmc::builder()
        .nodes(2)
        .admin_api("127.0.0.1:0".parse().unwrap())
        .spawn()
        .await
        .unwrap();
    let admin = format!("http://{}", mock.admin_addr().unwrap());
    let http = common::client();
    let nodes: serde_json::Value = http
        .get(format!("{admin}/nodes"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(nodes.as_array().unwrap().len(), 2);
    assert_eq!(nodes[1]["url"], mock.node(1).url());
    let r = http
        .post(format!("{admin}/nodes/1/faults"))
        .json(&json!({"fail_next": {"count": 1, "status": 500, "retry_after": null}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        http.post(format!("{admin}/nodes/1/faults"))
            .json(&json!({"nonsense": 1}))
            .send()
            .await
            .unwrap()
            .status(),
        400
    );
    let b1 = Bmc::new(mock.node(1));
    let b0 = Bmc::new(mock.node(0));
    assert_eq!(b1.get("/redfish/v1/Systems").await.status(), 500);
    assert_eq!(
        b0.get("/redfish/v1/Systems").await.status(),
        200,
        "faults are per node"
    );
    b1.patch("/redfish/v1/Systems/1", json!({"Boot": {"BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Continuous"}})).await;
    let view: serde_json::Value = http
        .get(format!("{admin}/nodes/1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(view["boot_target"], "Pxe");
    assert_eq!(view["boot_enabled"], "Continuous");
    assert_eq!(view["power"], "Off");
    let log: serde_json::Value = http
        .get(format!("{admin}/nodes/1/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(log["count"], 2);
    assert_eq!(log["entries"][0]["status"], 500);
    assert_eq!(log["entries"][1]["method"], "PATCH");
    assert_eq!(
        http.delete(format!("{admin}/nodes/1/requests"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(mock.node(1).request_count(), 0);
    assert_eq!(
        http.get(format!("{admin}/nodes/9"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let r = http
        .post(format!("{admin}/faults"))
        .json(&json!({"transient_next": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(b0.get("/redfish/v1/Systems").await.status(), 503);
    assert_eq!(b1.get("/redfish/v1/Systems").await.status(), 503);
}

#[tokio::test]
async fn request_log_order_bodies_and_no_secrets() {
    let mock = MockBmc::builder()
        .credentials("admin", "Hunter2-very-secret")
        .ipmi(true)
        .spawn()
        .await
        .unwrap();
    let bmc = Bmc::new(mock.node(0));
    let http = &bmc.http;
    let r = http
        .post(bmc.url("/redfish/v1/SessionService/Sessions"))
        .json(&json!({"UserName": "admin", "Password": "Hunter2-very-secret"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let token = r.headers()["x-auth-token"].to_str().unwrap().to_owned();
    http.get(bmc.url("/redfish/v1/Systems/1"))
        .header("X-Auth-Token", &token)
        .send()
        .await
        .unwrap();
    http.patch(bmc.url("/redfish/v1/Systems/1"))
        .header("X-Auth-Token", &token)
        .json(&json!({"AssetTag": "A1"}))
        .send()
        .await
        .unwrap();
    http.patch(bmc.url("/redfish/v1/Systems/1/Bios/Settings"))
        .header("X-Auth-Token", &token)
        .json(&json!({"Attributes": {"SetupPassword": "BiosPw-secret"}}))
        .send()
        .await
        .unwrap();
    http.get(bmc.url("/redfish/v1/Systems/1"))
        .basic_auth("admin", Some("Hunter2-very-secret"))
        .send()
        .await
        .unwrap();
    let node = mock.node(0);
    let log = node.requests();
    let seq: Vec<(String, String)> = log
        .iter()
        .map(|e| (e.method.clone(), e.path.clone()))
        .collect();
    assert_eq!(
        seq,
        vec![
            ("POST".into(), "/redfish/v1/SessionService/Sessions".into()),
            ("GET".into(), "/redfish/v1/Systems/1".into()),
            ("PATCH".into(), "/redfish/v1/Systems/1".into()),
            ("PATCH".into(), "/redfish/v1/Systems/1/Bios/Settings".into()),
            ("GET".into(), "/redfish/v1/Systems/1".into()),
        ]
    );
    assert_eq!(log[2].body, r#"{"AssetTag":"A1"}"#);
    assert_eq!(log[0].status, 201);
    assert_eq!(node.count("GET", "/redfish/v1/Systems/1"), 2);
    assert_eq!(node.request_count(), 5);

    // An image URL with credentials in it: the logged body keeps the URL, not the user-info.
    let r = http
        .post(bmc.url("/redfish/v1/Systems/1/VirtualMedia/CD/Actions/VirtualMedia.InsertMedia"))
        .basic_auth("admin", Some("Hunter2-very-secret"))
        .json(&json!({"Image": "http://imguser:ImagePw-secret@127.0.0.1:1/x.iso"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500, "nothing listens on port 1");
    let insert = node.requests().pop().unwrap();
    assert_eq!(
        insert.body,
        r#"{"Image":"http://<redacted>@127.0.0.1:1/x.iso"}"#
    );

    ipmi_set_user_password(&node).await;

    let log = node.requests();
    let everything = serde_json::to_string(&log).unwrap() + &format!("{:?}{:?}", node.view(), mock);
    for secret in [
        "Hunter2-very-secret",
        "BiosPw-secret",
        token.as_str(),
        "SHVudGVyMi",
        "ImagePw-secret",
        "imguser",
        // "IpmiPw" in the hex the IPMI log would use.
        "49 70 6d 69 50 77",
    ] {
        assert!(!everything.contains(secret), "log leaks {secret}");
    }
    assert!(
        log[1]
            .headers
            .iter()
            .any(|(k, v)| k == "x-auth-token" && v == "<redacted>")
    );
    assert!(
        log[4]
            .headers
            .iter()
            .any(|(k, v)| k == "authorization" && v == "<redacted>")
    );
}

fn ipmitool_installed() -> bool {
    std::process::Command::new("ipmitool")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// IPMI Set User Password (06h/47h) for user 3 with `IpmiPw-secret`: only its length is
/// logged (skipped without ipmitool).
async fn ipmi_set_user_password(node: &ferrofish_mock_bmc::NodeHandle) {
    let mut set_password = vec!["raw", "0x06", "0x47", "0x03", "0x02"];
    let password_hex: Vec<String> = format!("{:\0<16}", "IpmiPw-secret")
        .bytes()
        .map(|b| format!("0x{b:02x}"))
        .collect();
    set_password.extend(password_hex.iter().map(String::as_str));
    if ipmitool_installed() {
        let addr = node.ipmi_addr().unwrap();
        let output = tokio::process::Command::new("ipmitool")
            .args(["-I", "lanplus", "-H", &addr.ip().to_string()])
            .args(["-p", &addr.port().to_string(), "-N", "1", "-R", "4"])
            .args(["-U", "admin", "-P", "Hunter2-very-secret"])
            .args(&set_password)
            .kill_on_drop(true)
            .output();
        let _ = tokio::time::timeout(Duration::from_secs(60), output)
            .await
            .expect("ipmitool finishes");
        let logged: Vec<_> = node
            .requests()
            .into_iter()
            .filter(|e| e.method == "IPMI" && e.path == "/ipmi/raw/06/47")
            .collect();
        assert_eq!(logged.len(), 1, "{logged:?}");
        assert_eq!(logged[0].body, "<18 bytes not logged>");
    } else {
        eprintln!("skipped the IPMI half: ipmitool is not installed");
    }
}
