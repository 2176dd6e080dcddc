//! Dell iDRAC virtual-media rules against the mock's `dell` personality with the Manager's
//! model and firmware set (`MockBmcBuilder::manager_identity`): quirk
//! `idrac_vmedia_boot_before_6` (a boot refused before anything is sent on an iDRAC9 below
//! 6.00, unless allowed) and quirk `idrac10_vmedia_slot_one` (the System's slot `1` for a CD).

use std::time::Duration;

use ferrofish_mock_bmc::{DEFAULT_PASSWORD, DEFAULT_USER, MockBmc, MockBmcHandle, Personality};
use ferrofish_redfish_core::{RedfishClient, SecretString, System};
use ferrofish_vmedia::{BootOptions, Error, ImageServer, ImageServerOptions, VirtualMedia};

struct Rig {
    mock: MockBmcHandle,
    server: ImageServer,
    system: System,
}

async fn dell(firmware: &str, model: &str) -> Rig {
    let mock = MockBmc::builder()
        .personality(Personality::Dell)
        .manager_identity(firmware, model)
        .spawn()
        .await
        .unwrap();
    let client = RedfishClient::builder(mock.node(0).url())
        .credentials(DEFAULT_USER, SecretString::from(DEFAULT_PASSWORD))
        .build()
        .unwrap();
    let system = client.systems().await.unwrap().remove(0);
    let server = ImageServer::start(ImageServerOptions::http("127.0.0.1:0".parse().unwrap()))
        .await
        .unwrap();
    Rig {
        mock,
        server,
        system,
    }
}

/// A bootable image (the mock boots an OS only from an El Torito image).
fn bootable_iso() -> Vec<u8> {
    ferrofish_mock_bmc::iso9660::build_bootable_iso("boot", &[("hello.txt", b"hi".as_slice())])
}

fn fast() -> BootOptions {
    BootOptions {
        timeout: Duration::from_secs(30),
        poll_interval: Duration::from_millis(50),
        eject_after: false,
    }
}

/// The requests that change something (sessions aside), as `METHOD path`.
fn writes(mock: &MockBmcHandle) -> Vec<String> {
    mock.node(0)
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET" && !r.path.contains("/Sessions"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

async fn boot(rig: &Rig, media: VirtualMedia) -> Result<ferrofish_vmedia::BootReport, Error> {
    let url = rig
        .server
        .serve_bytes("boot.iso", bootable_iso())
        .await
        .unwrap();
    media.boot_from_iso(url.as_str(), &fast()).await
}

/// Quirk `idrac_vmedia_boot_before_6`: an iDRAC9 on 5.10 is refused with a typed error
/// naming the firmware and the way out, and nothing is sent (the request log holds no write).
#[tokio::test]
async fn idrac_vmedia_boot_before_6_is_refused_and_nothing_is_sent() {
    let rig = dell("5.10.50.00", "14G Monolithic").await;
    rig.mock.node(0).clear_requests();
    let err = boot(&rig, VirtualMedia::new(&rig.system))
        .await
        .unwrap_err();
    match &err {
        Error::IdracFirmwareTooOld { firmware, model } => {
            assert_eq!(firmware.as_deref(), Some("5.10.50.00"));
            assert_eq!(model.as_deref(), Some("14G Monolithic"));
        }
        other => panic!("expected IdracFirmwareTooOld, got {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("5.10.50.00") && text.contains("6.00"),
        "{text}"
    );
    assert!(text.contains("OEM"), "{text}");
    assert_eq!(writes(&rig.mock), Vec::<String>::new());
    assert!(rig.mock.node(0).view().inserted_media.is_empty());
}

/// The same iDRAC with the check switched off by the user: the boot proceeds (insert,
/// override, reset) and fails as on the real iDRAC, whose `Cd` target boots the physical drive
/// (quirk `idrac_cd_is_the_physical_drive`, reproduced by the mock): the image never boots.
#[tokio::test]
async fn idrac_vmedia_boot_before_6_allowed_by_the_user_proceeds() {
    let rig = dell("5.10.50.00", "14G Monolithic").await;
    let media = VirtualMedia::new(&rig.system).allow_idrac_vmedia_boot_before_6(true);
    let url = rig
        .server
        .serve_bytes("boot.iso", bootable_iso())
        .await
        .unwrap();
    let options = BootOptions {
        timeout: Duration::from_secs(4),
        ..fast()
    };
    let err = media
        .boot_from_iso(url.as_str(), &options)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::BootNeverStarted { .. }), "{err:?}");
    let sent = writes(&rig.mock);
    assert!(sent.iter().any(|w| w.contains("InsertMedia")), "{sent:?}");
    assert!(sent.iter().any(|w| w.contains("Reset")), "{sent:?}");
    let booted = rig.mock.node(0).view().booted.expect("a boot happened");
    assert_eq!(booted.image, None, "not from the virtual CD");
}

/// iDRAC9 6.10 and an iDRAC10 1.x (restarted versions, quirk `idrac10_version_restart`) boot.
#[tokio::test]
async fn idrac_vmedia_boot_on_6_10_and_on_idrac10_is_accepted() {
    for (firmware, model) in [
        ("6.10.30.00", "16G Monolithic"),
        ("1.20.25.00", "17G Monolithic"),
    ] {
        let rig = dell(firmware, model).await;
        let report = boot(&rig, VirtualMedia::new(&rig.system)).await;
        assert!(report.is_ok(), "{firmware} {model}: {report:?}");
    }
}

/// Quirk `idrac10_vmedia_slot_one` on an iDRAC10 (`17G`, 1.x) whose slot `1` holds a stale
/// image while slot `2` is free: the stale image is ejected and the CD goes into slot `1`,
/// with no refused request and nothing sent to slot `2`. (The mock lists `1` before `2`, so
/// the generic ranking agrees once slot `1` is free; the rule itself, for a BMC that lists
/// `2` first, is `idrac10_vmedia_slot_one_goes_first_for_a_cd`.)
#[tokio::test]
async fn idrac10_vmedia_slot_one_takes_the_cd() {
    let rig = dell("1.20.25.00", "17G Monolithic").await;
    let url = rig
        .server
        .serve_bytes("boot.iso", bootable_iso())
        .await
        .unwrap();
    let stale = rig
        .server
        .serve_bytes("stale.iso", bootable_iso())
        .await
        .unwrap();
    let media = VirtualMedia::new(&rig.system);
    let slots = media.slots().await.unwrap();
    let one = slots.iter().find(|s| s.id == "1").unwrap();
    let answer = reqwest::Client::new()
        .post(format!(
            "{}{}",
            rig.mock.node(0).url(),
            one.insert_target.as_deref().unwrap()
        ))
        .basic_auth(DEFAULT_USER, Some(DEFAULT_PASSWORD))
        .json(&serde_json::json!({"Image": stale.as_str()}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 204);
    rig.mock.node(0).clear_requests();
    let slot = media
        .insert(url.as_str(), ferrofish_vmedia::MediaKind::Cd)
        .await
        .unwrap();
    assert_eq!(
        (slot.level, slot.id.as_str()),
        (ferrofish_vmedia::SlotLevel::System, "1")
    );
    let log = rig.mock.node(0).requests();
    assert!(
        log.iter().all(|r| r.status < 400),
        "a refused request: {log:?}"
    );
    assert!(
        !log.iter()
            .any(|r| r.method != "GET" && r.path.contains("VirtualMedia/2")),
        "nothing sent to slot 2"
    );
}
