//! Virtual media against sushy-tools' emulator (fake driver), code nobody here wrote: slot
//! discovery at System level, insert (the emulator downloads the image from our server), the
//! read-back, eject; and boot once from CD, where sushy-tools stores the one-time override as
//! `Continuous` (quirk `once_stored_as_continuous`), so the boot clears it afterwards. The
//! emulator is `FERROFISH_SUSHY_EMULATOR`, else the workspace's `.venv/bin/sushy-emulator`
//! (`scripts/test.sh` installs it), else `sushy-emulator` on `PATH`; the test skips with a
//! message when none is there, and fails instead when `FERROFISH_REQUIRE_SUSHY` is set (CI).

use std::io::ErrorKind;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ferrofish_redfish_core::{RedfishClient, SecretString};
use ferrofish_vmedia::{
    ConfigDrive, ImageServer, ImageServerOptions, MediaKind, SlotLevel, VirtualMedia,
};

/// The emulator process this test started; killed (by its own handle) when dropped.
struct Emulator {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

async fn start_emulator() -> Option<Emulator> {
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/sushy-emulator");
    let program = std::env::var("FERROFISH_SUSHY_EMULATOR").unwrap_or_else(|_| {
        if venv.is_file() {
            venv.to_string_lossy().into_owned()
        } else {
            "sushy-emulator".to_owned()
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("emulator.conf");
    // State in the temp dir, so runs do not see each other's systems.
    std::fs::write(
        &config,
        format!(
            "SUSHY_EMULATOR_STATE_DIR = {:?}\nSUSHY_EMULATOR_FAKE_DRIVER = True\n",
            dir.path().join("state").to_str().unwrap()
        ),
    )
    .unwrap();
    let port = free_port();
    let log = std::fs::File::create(dir.path().join("emulator.log")).unwrap();
    let child = match Command::new(&program)
        .args(["--config", config.to_str().unwrap(), "--fake"])
        .args(["-i", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
    {
        Ok(child) => child,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            assert!(
                std::env::var_os("FERROFISH_REQUIRE_SUSHY").is_none(),
                "FERROFISH_REQUIRE_SUSHY is set but {program} is not installed"
            );
            eprintln!(
                "skipping the sushy-tools test: {program} is not installed (pip install sushy-tools, or set FERROFISH_SUSHY_EMULATOR)"
            );
            return None;
        }
        Err(e) => panic!("{program} could not start: {e}"),
    };
    let emulator = Emulator {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    };
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if http
            .get(format!("{}/redfish/v1/", emulator.url))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Some(emulator);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!(
        "sushy-emulator did not answer on {} within 20 s",
        emulator.url
    );
}

#[tokio::test]
async fn insert_verify_and_eject_against_sushy_tools() {
    let Some(emulator) = start_emulator().await else {
        return;
    };
    let client = RedfishClient::builder(&emulator.url)
        .credentials("admin", SecretString::from("password"))
        .build()
        .unwrap();
    let system = client.systems().await.unwrap().remove(0);
    let media = VirtualMedia::new(&system);
    let slots = media.slots().await.unwrap();
    let cd = slots
        .iter()
        .find(|s| s.accepts(MediaKind::Cd))
        .expect("a CD slot");
    // sushy-tools >= 1.1 moved virtual media to the System.
    assert_eq!(cd.level, SlotLevel::System);

    let server = ImageServer::start(ImageServerOptions::http("127.0.0.1:0".parse().unwrap()))
        .await
        .unwrap();
    let drive = ConfigDrive::new("sushy", None).build().unwrap();
    let url = server
        .serve_bytes("config-2.iso", drive.clone())
        .await
        .unwrap();
    let slot = media.insert(url.as_str(), MediaKind::Cd).await.unwrap();
    assert!(slot.holds(url.as_str()), "{slot:?}");
    assert_eq!(slot.path, cd.path);
    // The emulator really fetched the image from us.
    assert!(
        server
            .fetches()
            .iter()
            .any(|f| f.status == 200 && f.image.as_deref() == Some("config-2.iso")),
        "{:?}",
        server.fetches()
    );

    media.eject(&slot).await.unwrap();
    let after = media.read_slot(&slot).await.unwrap();
    assert!(!after.is_occupied(), "{after:?}");
}

#[tokio::test]
async fn boot_once_from_cd_against_sushy_tools_reports_the_continuous_override() {
    let Some(emulator) = start_emulator().await else {
        return;
    };
    let client = RedfishClient::builder(&emulator.url)
        .credentials("admin", SecretString::from("password"))
        .build()
        .unwrap();
    let system = client.systems().await.unwrap().remove(0);
    let server = ImageServer::start(ImageServerOptions::http("127.0.0.1:0".parse().unwrap()))
        .await
        .unwrap();
    let drive = ConfigDrive::new("sushy", None).build().unwrap();
    let url = server.serve_bytes("boot.iso", drive).await.unwrap();
    let options = ferrofish_vmedia::BootOptions {
        timeout: Duration::from_secs(60),
        poll_interval: Duration::from_millis(200),
        eject_after: true,
    };
    let report = VirtualMedia::new(&system)
        .boot_from_iso(url.as_str(), &options)
        .await
        .unwrap();
    assert!(report.override_stored_as_continuous, "{report:?}");
    assert!(report.ejected);
    // sushy-tools keeps every override Continuous, a Disabled one included: the report says the
    // override could not be cleared, rather than claiming it was.
    let boot = system.read().await.unwrap().value.boot.unwrap();
    let still_set = boot
        .boot_source_override_enabled
        .as_ref()
        .map(|e| e.as_str().to_owned())
        == Some("Continuous".to_owned());
    assert_eq!(report.override_cleared, !still_set, "{report:?} {boot:?}");
    client.close().await.unwrap();
}
