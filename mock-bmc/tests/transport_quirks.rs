//! The transport and boot switches of `SystemOptions` on the wire: `gzip_weakens_etag`,
//! `identity_encoding_refused`, `stale_keep_alive_connection` and `ilo_busy_during_post`, each
//! off by default and behaving as the BMC it imitates once switched on.

mod common;

use common::{PASS, USER, client, spawn};
use ferrofish_mock_bmc::{MockBmc, Personality, SystemOptionsChange};
use serde_json::{Value, json};

const DELL_SYSTEM: &str = "/redfish/v1/Systems/System.Embedded.1";

fn etag(response: &reqwest::Response) -> String {
    response.headers()["etag"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn gzip_weakens_etag_suffixes_tags_unless_identity_is_asked_and_refuses_them_in_if_match() {
    let mock = spawn(Personality::Dell).await;
    let node = mock.node(0);
    let http = client();
    let url = format!("{}{DELL_SYSTEM}", node.url());
    let get = |identity: bool| {
        let mut request = http.get(&url).basic_auth(USER, Some(PASS));
        if identity {
            request = request.header("accept-encoding", "identity");
        }
        request.send()
    };
    let plain = etag(&get(false).await.unwrap());
    assert!(!plain.contains("gzip"), "off by default: {plain}");

    node.set_system_options(&SystemOptionsChange {
        gzip_weakens_etag: Some(true),
        ..SystemOptionsChange::default()
    });
    let strong = etag(&get(true).await.unwrap());
    assert_eq!(strong, plain, "identity keeps the tag strong");
    let weak = etag(&get(false).await.unwrap());
    assert_eq!(weak, format!("W/\"{}-gzip\"", plain.trim_matches('"')));

    let patch = |if_match: String| {
        http.patch(&url)
            .basic_auth(USER, Some(PASS))
            .header("if-match", if_match)
            .json(&json!({"AssetTag": "r7"}))
            .send()
    };
    assert_eq!(patch(weak.clone()).await.unwrap().status(), 412);
    assert_eq!(
        patch(weak.replace("-gzip", "")).await.unwrap().status(),
        200,
        "the tag without the suffix matches"
    );
}

#[tokio::test]
async fn identity_encoding_refused_answers_406_to_identity_only() {
    let mock = MockBmc::builder()
        .personality(Personality::Hpe)
        .identity_encoding_refused(true)
        .spawn()
        .await
        .unwrap();
    let url = format!("{}/redfish/v1/Systems/1", mock.node(0).url());
    let http = client();
    let refused = http
        .get(&url)
        .basic_auth(USER, Some(PASS))
        .header("accept-encoding", "gzip, identity;q=0.5")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 406);
    let body: Value = refused.json().await.unwrap();
    assert!(body["error"]["@Message.ExtendedInfo"].is_array(), "{body}");
    let served = http
        .get(&url)
        .basic_auth(USER, Some(PASS))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    assert!(mock.node(0).system_options().identity_encoding_refused);
}

#[tokio::test]
async fn stale_keep_alive_connection_resets_a_reused_connection_not_a_closed_one() {
    let mock = MockBmc::builder()
        .personality(Personality::Hpe)
        .stale_keep_alive_connection(true)
        .spawn()
        .await
        .unwrap();
    let url = format!("{}/redfish/v1/Systems/1", mock.node(0).url());
    let pooled = client();
    let get = |http: &reqwest::Client, close: bool| {
        let mut request = http.get(&url).basic_auth(USER, Some(PASS));
        if close {
            request = request.header("connection", "close");
        }
        request.send()
    };
    assert_eq!(get(&pooled, false).await.unwrap().status(), 200);
    assert!(
        get(&pooled, false).await.is_err(),
        "the kept-alive connection is reset under the second request"
    );
    let closing = client();
    for _ in 0..3 {
        assert_eq!(get(&closing, true).await.unwrap().status(), 200);
    }
    assert_eq!(
        mock.node(0).count("GET", "/redfish/v1/Systems/1"),
        4,
        "the reset request never reached the BMC"
    );
}

#[tokio::test]
async fn ilo_busy_during_post_refuses_the_next_boot_patches_only() {
    let mock = MockBmc::builder()
        .personality(Personality::Hpe)
        .ilo_busy_during_post(1)
        .spawn()
        .await
        .unwrap();
    let url = format!("{}/redfish/v1/Systems/1", mock.node(0).url());
    let http = client();
    let patch = |body: Value| {
        http.patch(&url)
            .basic_auth(USER, Some(PASS))
            .json(&body)
            .send()
    };
    assert_eq!(
        patch(json!({"AssetTag": "r7"})).await.unwrap().status(),
        200,
        "a PATCH without Boot is not refused"
    );
    let boot =
        json!({"Boot": {"BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Once"}});
    let refused = patch(boot.clone()).await.unwrap();
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(
        body["error"]["@Message.ExtendedInfo"][0]["MessageId"],
        "iLO.2.15.UnableToModifyDuringSystemPOST"
    );
    assert_eq!(mock.node(0).view().boot_target, "None");
    assert_eq!(patch(boot).await.unwrap().status(), 200);
    assert_eq!(mock.node(0).view().boot_target, "Pxe");
    assert_eq!(mock.node(0).system_options().ilo_busy_during_post, 0);
}
