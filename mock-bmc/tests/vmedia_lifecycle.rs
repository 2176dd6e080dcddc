//! Virtual media over the slot's life: an asynchronous insert cancelled through its task
//! monitor, the stored `Image` without user-info, and `BootProgress` through a virtual CD boot.

mod common;

use std::time::Duration;

use common::{Bmc, config_drive, image_server, spawn, spawn_async_insert, wait_task};
use ferrofish_mock_bmc::Personality;
use serde_json::json;

/// DELETE on a task monitor cancels the task (DSP0266): the download stops, the slot stays
/// empty, the task reads `Cancelled` and the slot takes a new insert. A task already over is
/// left as it ended.
#[tokio::test]
async fn delete_on_the_task_monitor_cancels_an_insert() {
    const INSERT: &str = "/redfish/v1/Managers/1/VirtualMedia/CD1/Actions/VirtualMedia.InsertMedia";
    const SLOT: &str = "/redfish/v1/Managers/1/VirtualMedia/CD1";
    // An image server that never answers; it reports when the mock hangs up.
    let stall = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let stall_addr = stall.local_addr().unwrap();
    let (hung_up_tx, hung_up) = tokio::sync::oneshot::channel();
    let held = tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        let (mut conn, _) = stall.accept().await.unwrap();
        let mut buffer = [0u8; 4096];
        while conn.read(&mut buffer).await.is_ok_and(|n| n > 0) {}
        let _ = hung_up_tx.send(());
    });
    let mock = spawn_async_insert().await;
    let bmc = Bmc::new(mock.node(0));
    let r = bmc
        .post(
            INSERT,
            json!({"Image": format!("http://{stall_addr}/slow.iso")}),
        )
        .await;
    assert_eq!(r.status(), 202);
    let monitor = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(bmc.get(&monitor).await.status(), 202, "still running");

    let r = bmc
        .http
        .delete(bmc.url(&monitor))
        .basic_auth(common::USER, Some(common::PASS))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    tokio::time::timeout(Duration::from_secs(10), hung_up)
        .await
        .expect("the download is stopped")
        .expect("hang-up reported");
    let r = bmc.get(&monitor).await;
    assert_eq!(r.status(), 200, "a cancelled task is over");
    let task: serde_json::Value = r.json().await.unwrap();
    assert_eq!(task["TaskState"], "Cancelled");
    assert_eq!(bmc.get_json(SLOT).await["Inserted"], false);
    held.abort();

    // The slot is free again: a new insert runs to completion.
    let img = image_server(vec![("/cd.iso", config_drive())]).await;
    let r = bmc
        .post(INSERT, json!({"Image": format!("http://{img}/cd.iso")}))
        .await;
    assert_eq!(r.status(), 202);
    let monitor = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(wait_task(&bmc, &monitor).await["TaskState"], "Completed");
    let r = bmc
        .http
        .delete(bmc.url(&monitor))
        .basic_auth(common::USER, Some(common::PASS))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(wait_task(&bmc, &monitor).await["TaskState"], "Completed");
    assert_eq!(bmc.get_json(SLOT).await["Inserted"], true);
}

/// The image is downloaded with the user-info of its URL, but the slot stores (and every
/// client reads) the URL without it.
#[tokio::test]
async fn stored_image_drops_user_info() {
    use std::sync::{Arc, Mutex};
    let seen = Arc::new(Mutex::new(None::<String>));
    let seen_by_server = seen.clone();
    let app = axum::Router::new().route(
        "/cd.iso",
        axum::routing::get(move |headers: axum::http::HeaderMap| {
            let seen = seen_by_server.clone();
            async move {
                *seen.lock().unwrap() = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                config_drive()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let img = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mock = spawn(Personality::Generic).await;
    let bmc = Bmc::new(mock.node(0));
    let slot = "/redfish/v1/Systems/1/VirtualMedia/CD";
    let r = bmc
        .post(
            &format!("{slot}/Actions/VirtualMedia.InsertMedia"),
            json!({"Image": format!("http://imguser:s3cret@{img}/cd.iso")}),
        )
        .await;
    assert_eq!(r.status(), 204);
    // user:password in base64, as the image server received it.
    assert_eq!(
        seen.lock().unwrap().as_deref(),
        Some("Basic aW1ndXNlcjpzM2NyZXQ=")
    );
    let body = bmc.get_json(slot).await;
    assert_eq!(body["Image"], format!("http://{img}/cd.iso"));
    assert_eq!(body["ImageName"], "cd.iso");
    assert!(!body.to_string().contains("s3cret"), "{body}");
    assert!(!body.to_string().contains("imguser"), "{body}");
    assert_eq!(
        bmc.node.view().inserted_media,
        vec![("CD".to_owned(), format!("http://{img}/cd.iso"))]
    );
}

/// `BootProgress.LastState` follows the boot over Redfish: POST, then `OSBootStarted` and
/// `OSRunning` from a bootable (El Torito) CD; a config drive carries no OS, so the node stays
/// at `SystemHardwareInitializationComplete`.
#[tokio::test]
async fn boot_progress_follows_a_virtual_cd_boot() {
    const ORDER: [&str; 5] = [
        "None",
        "MemoryInitializationStarted",
        "SystemHardwareInitializationComplete",
        "OSBootStarted",
        "OSRunning",
    ];
    let bootable =
        ferrofish_mock_bmc::iso9660::build_bootable_iso("OS_INSTALL", &[("readme.txt", b"os")]);
    let img = image_server(vec![("/os.iso", bootable), ("/cd.iso", config_drive())]).await;
    let on = Duration::from_millis(400);
    let mock = ferrofish_mock_bmc::MockBmc::builder()
        .power_delays(ferrofish_mock_bmc::PowerDelays {
            on,
            force_off: Duration::from_millis(10),
            graceful_shutdown: Duration::from_millis(40),
        })
        .spawn()
        .await
        .unwrap();
    let bmc = Bmc::new(mock.node(0));
    let sys = "/redfish/v1/Systems/1";
    let slot = "/redfish/v1/Systems/1/VirtualMedia/CD";
    assert_eq!(bmc.get_json(sys).await["BootProgress"]["LastState"], "None");
    for (image, last) in [
        ("os.iso", "OSRunning"),
        ("cd.iso", "SystemHardwareInitializationComplete"),
    ] {
        let r = bmc
            .post(
                &format!("{slot}/Actions/VirtualMedia.InsertMedia"),
                json!({"Image": format!("http://{img}/{image}")}),
            )
            .await;
        assert_eq!(r.status(), 204, "{image}");
        let r = bmc
            .patch(sys, json!({"Boot": {"BootSourceOverrideTarget": "Cd", "BootSourceOverrideEnabled": "Once"}}))
            .await;
        assert_eq!(r.status(), 200);
        let boots = bmc.node.view().boot_count;
        let reset = if boots == 0 { "On" } else { "ForceRestart" };
        assert_eq!(bmc.reset(sys, reset).await.status(), 204);
        // Poll until well past POST and the OS boot; record every state seen, in order.
        let deadline = std::time::Instant::now() + on * 3;
        let mut seen: Vec<String> = Vec::new();
        while std::time::Instant::now() < deadline || bmc.node.view().boot_count == boots {
            let state = bmc.get_json(sys).await["BootProgress"]["LastState"]
                .as_str()
                .unwrap()
                .to_owned();
            if seen.last() != Some(&state) {
                seen.push(state);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(
            seen.last().map(String::as_str),
            Some(last),
            "{image}: {seen:?}"
        );
        // Whatever a loaded machine let us observe, it came in boot order.
        let ranks: Vec<usize> = seen
            .iter()
            .map(|s| ORDER.iter().position(|o| o == s).expect("a known state"))
            .collect();
        let after_restart = ranks.iter().position(|&r| r <= 1).unwrap_or(0);
        assert!(
            ranks[after_restart..].windows(2).all(|w| w[0] < w[1]),
            "{image}: {seen:?}"
        );
        assert_eq!(bmc.node.view().booted.unwrap().source, "Cd");
        let r = bmc
            .post(
                &format!("{slot}/Actions/VirtualMedia.EjectMedia"),
                json!({}),
            )
            .await;
        assert_eq!(r.status(), 204);
    }
}
