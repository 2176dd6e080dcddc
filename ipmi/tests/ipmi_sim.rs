//! Interop: ferrofish's client against `OpenIPMI`'s `ipmi_sim` (a BMC simulator nobody here
//! wrote), bound to 127.0.0.1 on a free port, configured by files written into a temp dir.
//! Skips with a message when `ipmi_sim` is not installed; the simulator is always killed.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ferrofish_ipmi::{
    BootDevice, BootOptions, ChassisControl, CipherSuite, Error, IpmiClient, Privilege,
    RmcpPlusStatus,
};
use secrecy::{SecretSlice, SecretString};
use tokio::net::UdpSocket;

const KG: &str = "kgsecret";

/// Makes temp dir names unique within the test process.
static NEXT: AtomicU64 = AtomicU64::new(0);

fn find_ipmi_sim() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("ipmi_sim"))
        .find(|p| p.is_file())
}

/// A running `ipmi_sim` and its temp dir; killed and removed on drop.
struct Sim {
    child: Child,
    dir: PathBuf,
    port: u16,
    binary: PathBuf,
}

fn spawn_sim(binary: &Path, dir: &Path) -> Child {
    Command::new(binary)
        .arg("-n")
        .arg("-c")
        .arg(dir.join("lan.conf"))
        .arg("-f")
        .arg(dir.join("emu.cmds"))
        .arg("-s")
        .arg(dir.join("persist"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ipmi_sim")
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Sim {
    /// Poll until the simulator answers a pre-session request.
    async fn wait_until_up(&self) {
        let probe = IpmiClient::builder(self.address())
            .timeout(Duration::from_millis(200))
            .retries(0)
            .build()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while probe.channel_auth_capabilities().await.is_err() {
            assert!(
                Instant::now() < deadline,
                "ipmi_sim did not come up on {}",
                self.address()
            );
        }
    }

    /// Kill and start again on the same port: every session it knew is gone.
    async fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = spawn_sim(&self.binary, &self.dir);
        self.wait_until_up().await;
    }

    fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// What the `chassis_control` helper stored for a property (`power`, `boot`).
    fn stored(&self, property: &str) -> String {
        std::fs::read_to_string(self.dir.join("state").join(property))
            .unwrap_or_default()
            .trim()
            .to_string()
    }
}

fn free_udp_port() -> u16 {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket.local_addr().expect("local addr").port()
}

/// Start `ipmi_sim` with users admin/password (admin) and oper/operpass (operator); with
/// `with_kg` the BMC key is set too. `None` when `ipmi_sim` is not installed.
async fn start_sim(with_kg: bool) -> Option<Sim> {
    let Some(binary) = find_ipmi_sim() else {
        eprintln!("SKIP: ipmi_sim (Debian package openipmi) is not installed");
        return None;
    };
    let dir = std::env::temp_dir().join(format!(
        "ferrofish-ipmi-sim-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(dir.join("state")).unwrap();
    std::fs::create_dir_all(dir.join("persist")).unwrap();
    let script = dir.join("chassis_control.sh");
    // ipmi_sim runs `PROGRAM 0x20 get power boot` and `PROGRAM 0x20 set power 1 boot pxe`.
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nstate='{}'\nshift\nop=$1\nshift\n\
             if [ \"$op\" = get ]; then\n  for p in \"$@\"; do\n    v=$(cat \"$state/$p\" 2>/dev/null)\n\
             \x20   case $p in power) echo \"power:${{v:-0}}\";; boot) echo \"boot:${{v:-none}}\";; esac\n  done\n\
             else\n  while [ $# -ge 2 ]; do echo \"$2\" > \"$state/$1\"; shift 2; done\nfi\n",
            dir.join("state").display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let port = free_udp_port();
    let kg_line = if with_kg {
        format!("    bmc_key \"{KG}\"\n")
    } else {
        String::new()
    };
    std::fs::write(
        dir.join("lan.conf"),
        format!(
            "name \"ferrofish\"\nset_working_mc 0x20\n  startlan 1\n    addr 127.0.0.1 {port}\n\
             \x20   priv_limit admin\n\
             \x20   allowed_auths_callback none md2 md5 straight\n\
             \x20   allowed_auths_user none md2 md5 straight\n\
             \x20   allowed_auths_operator none md2 md5 straight\n\
             \x20   allowed_auths_admin none md2 md5 straight\n\
             {kg_line}\
             \x20   guid a123456789abcdefa123456789abcdef\n  endlan\n\
             \x20 chassis_control \"{} 0x20\"\n\
             user 2 true \"admin\" \"password\" admin 10 none md2 md5 straight\n\
             user 3 true \"oper\" \"operpass\" operator 10 none md2 md5 straight\n\
             user 4 true \"leak\" \"Pw-Secret-42\" admin 10 none md2 md5 straight\n",
            script.display()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("emu.cmds"),
        "mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nmc_enable 0x20\n",
    )
    .unwrap();
    let child = spawn_sim(&binary, &dir);
    let sim = Sim {
        child,
        dir,
        port,
        binary,
    };
    sim.wait_until_up().await;
    Some(sim)
}

fn client(address: &str, user: &str, password: &str) -> ferrofish_ipmi::IpmiClientBuilder {
    IpmiClient::builder(address)
        .credentials(user, SecretString::from(password))
        .timeout(Duration::from_secs(2))
}

#[tokio::test]
async fn suite3_works_in_the_minimum_round_trips() {
    let Some(sim) = start_sim(false).await else {
        return;
    };
    let bmc = client(&sim.address(), "admin", "password")
        .cipher_suite(CipherSuite::Suite3)
        .build()
        .unwrap();
    let chassis = bmc.chassis_status().await.unwrap();
    assert!(!chassis.power_on);
    // Auth caps, Open Session, RAKP 1/2, RAKP 3/4, Set Session Privilege = 5; + the command.
    let stats = bmc.stats();
    assert_eq!(stats.round_trips, 6, "{stats:?}");
    assert_eq!(stats.sessions_opened, 1);
    assert_eq!(
        bmc.session_info().await,
        Some((CipherSuite::Suite3, Privilege::Administrator))
    );
    // The session is reused: one more command is one more round trip.
    let id = bmc.device_id().await.unwrap();
    assert_eq!(
        (id.manufacturer_id, id.product_id, id.ipmi_version),
        (0x1291, 0x0F02, (2, 0))
    );
    assert_eq!((id.firmware_major, id.firmware_minor), (9, 8));
    assert_eq!(bmc.stats().round_trips, 7);
    bmc.close().await.unwrap();
    assert_eq!(
        bmc.stats().round_trips,
        8,
        "close session is one round trip"
    );
    assert!(matches!(
        bmc.chassis_status().await,
        Err(Error::Closed { .. })
    ));
}

#[tokio::test]
async fn suite17_is_refused_cleanly_and_the_client_falls_back_to_3() {
    let Some(sim) = start_sim(false).await else {
        return;
    };
    let pinned = client(&sim.address(), "admin", "password")
        .cipher_suite(CipherSuite::Suite17)
        .build()
        .unwrap();
    match pinned.chassis_status().await {
        Err(Error::OpenSessionRejected {
            suite: CipherSuite::Suite17,
            status,
            ..
        }) => {
            assert_eq!(
                status,
                RmcpPlusStatus(0x04),
                "invalid authentication algorithm"
            );
        }
        other => panic!("expected open session rejected, got {other:?}"),
    }
    let auto = client(&sim.address(), "admin", "password").build().unwrap();
    auto.chassis_status().await.unwrap();
    assert_eq!(
        auto.session_info().await.map(|s| s.0),
        Some(CipherSuite::Suite3)
    );
    // One extra round trip for the refused suite-17 Open Session.
    assert_eq!(auto.stats().round_trips, 7);
    auto.close().await.unwrap();
}

#[tokio::test]
async fn power_and_boot_device_round_trip() {
    let Some(sim) = start_sim(false).await else {
        return;
    };
    let bmc = client(&sim.address(), "admin", "password").build().unwrap();
    bmc.chassis_control(ChassisControl::PowerOn).await.unwrap();
    assert!(bmc.chassis_status().await.unwrap().power_on);
    assert_eq!(sim.stored("power"), "1");
    bmc.chassis_control(ChassisControl::PowerOff).await.unwrap();
    assert!(!bmc.chassis_status().await.unwrap().power_on);
    assert_eq!(sim.stored("power"), "0");

    // ipmi_sim keeps only the device selector (persistent/EFI read back cleared).
    for (device, stored) in [
        (BootDevice::Pxe, "pxe"),
        (BootDevice::Disk, "default"),
        (BootDevice::Cdrom, "cdrom"),
        (BootDevice::BiosSetup, "bios"),
    ] {
        let read = bmc
            .set_boot_device(
                device,
                BootOptions {
                    persistent: true,
                    efi: true,
                },
            )
            .await
            .unwrap();
        assert_eq!(read.device, device);
        assert_eq!(sim.stored("boot"), stored);
        assert_eq!(bmc.boot_device().await.unwrap().device, device);
    }
    bmc.close().await.unwrap();
}

#[tokio::test]
async fn wrong_password_and_unknown_user_are_typed_errors() {
    let Some(sim) = start_sim(false).await else {
        return;
    };
    let wrong = client(&sim.address(), "admin", "not-it")
        .cipher_suite(CipherSuite::Suite3)
        .build()
        .unwrap();
    match wrong.chassis_status().await {
        Err(Error::Rakp2CheckFailed { user, .. }) => assert_eq!(user, "admin"),
        other => panic!("expected rakp 2 check failed, got {other:?}"),
    }
    let unknown = client(&sim.address(), "nobody", "password")
        .cipher_suite(CipherSuite::Suite3)
        .build()
        .unwrap();
    match unknown.chassis_status().await {
        Err(Error::UnknownUser { user, .. }) => assert_eq!(user, "nobody"),
        other => panic!("expected unknown user, got {other:?}"),
    }
    // The right credentials still work afterwards.
    let right = client(&sim.address(), "admin", "password").build().unwrap();
    right.chassis_status().await.unwrap();
    right.close().await.unwrap();
}

#[tokio::test]
async fn operator_privilege_is_enough_for_power_control() {
    // ipmi_sim 2.0.33 grants administrator to an operator-limited user, so the step-down path
    // (unit-tested in the client) cannot be exercised here; asking for operator can.
    let Some(sim) = start_sim(false).await else {
        return;
    };
    let bmc = client(&sim.address(), "oper", "operpass")
        .privilege(Privilege::Operator)
        .build()
        .unwrap();
    bmc.chassis_control(ChassisControl::PowerOn).await.unwrap();
    assert_eq!(sim.stored("power"), "1");
    assert_eq!(
        bmc.session_info().await,
        Some((CipherSuite::Suite3, Privilege::Operator))
    );
    bmc.close().await.unwrap();
}

#[tokio::test]
async fn bmc_key_kg_is_used_and_a_wrong_one_fails_at_rakp4() {
    let Some(sim) = start_sim(true).await else {
        return;
    };
    let with_kg = client(&sim.address(), "admin", "password")
        .kg(SecretSlice::from(KG.as_bytes().to_vec()))
        .build()
        .unwrap();
    with_kg.chassis_status().await.unwrap();
    with_kg.close().await.unwrap();
    let wrong = client(&sim.address(), "admin", "password")
        .kg(SecretSlice::from(b"other".to_vec()))
        .build()
        .unwrap();
    assert!(matches!(
        wrong.chassis_status().await,
        Err(Error::Rakp4CheckFailed { kg_given: true, .. })
    ));
    let missing = client(&sim.address(), "admin", "password").build().unwrap();
    assert!(matches!(
        missing.chassis_status().await,
        Err(Error::Rakp4CheckFailed {
            kg_given: false,
            ..
        })
    ));
}

/// A loopback UDP relay in front of the simulator that drops every `nth` datagram in each
/// direction.
async fn lossy_relay(
    target: String,
    nth: u64,
) -> (String, tokio::task::JoinHandle<()>, Arc<AtomicU64>) {
    let front = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let back = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    back.connect(&target).await.unwrap();
    let address = front.local_addr().unwrap().to_string();
    let dropped = Arc::new(AtomicU64::new(0));
    let dropped_in_task = dropped.clone();
    let task = tokio::spawn(async move {
        let (mut up, mut down) = (0u64, 0u64);
        let mut peer = None;
        let mut a = [0u8; 2048];
        let mut b = [0u8; 2048];
        loop {
            tokio::select! {
                Ok((n, from)) = front.recv_from(&mut a) => {
                    peer = Some(from);
                    up += 1;
                    if up % nth == 0 { dropped_in_task.fetch_add(1, Ordering::Relaxed); continue; }
                    let _ = back.send(&a[..n]).await;
                }
                Ok(n) = back.recv(&mut b) => {
                    down += 1;
                    if down % nth == 0 { dropped_in_task.fetch_add(1, Ordering::Relaxed); continue; }
                    if let Some(p) = peer { let _ = front.send_to(&b[..n], p).await; }
                }
            }
        }
    });
    (address, task, dropped)
}

#[tokio::test]
async fn commands_survive_packet_loss_through_retransmission() {
    let Some(sim) = start_sim(false).await else {
        return;
    };
    let (relay, task, dropped) = lossy_relay(sim.address(), 4).await;
    let bmc = IpmiClient::builder(relay)
        .credentials("admin", SecretString::from("password"))
        .cipher_suite(CipherSuite::Suite3)
        .timeout(Duration::from_millis(300))
        .retries(6)
        .build()
        .unwrap();
    for _ in 0..4 {
        bmc.chassis_control(ChassisControl::PowerOn).await.unwrap();
        assert!(bmc.chassis_status().await.unwrap().power_on);
        bmc.chassis_control(ChassisControl::PowerOff).await.unwrap();
        assert!(!bmc.chassis_status().await.unwrap().power_on);
    }
    let stats = bmc.stats();
    assert!(dropped.load(Ordering::Relaxed) > 0);
    assert!(stats.retransmissions > 0, "{stats:?}");
    // Round trips count completed exchanges, so loss does not change them: 5 + 16 commands.
    assert_eq!(stats.round_trips, 21, "{stats:?}");
    assert_eq!(stats.sessions_opened, 1, "{stats:?}");
    bmc.close().await.unwrap();
    task.abort();
}

/// Log sink for the secrets test.
#[derive(Clone, Default)]
struct LogBuffer(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;
    fn make_writer(&'a self) -> LogBuffer {
        self.clone()
    }
}

#[tokio::test]
async fn no_password_or_kg_reaches_the_logs() {
    let Some(sim) = start_sim(true).await else {
        return;
    };
    let logs = LogBuffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
        .with_ansi(false)
        .with_writer(logs.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let good = client(&sim.address(), "leak", "Pw-Secret-42")
        .kg(SecretSlice::from(KG.as_bytes().to_vec()))
        .build()
        .unwrap();
    good.chassis_status().await.unwrap();
    good.close().await.unwrap();
    let bad_password = client(&sim.address(), "leak", "wrong-Secret")
        .kg(SecretSlice::from(KG.as_bytes().to_vec()))
        .build()
        .unwrap();
    let err = bad_password.chassis_status().await.unwrap_err();
    let text =
        String::from_utf8(logs.0.lock().unwrap().clone()).unwrap() + &format!("{err} {err:?}");
    assert!(
        text.contains("session established"),
        "logs were captured: {text}"
    );
    for secret in ["Pw-Secret-42", "wrong-Secret", KG, "6b67736563726574"] {
        assert!(!text.contains(secret), "{secret:?} leaked: {text}");
    }
}

#[tokio::test]
async fn a_session_the_bmc_forgot_is_reestablished_transparently() {
    let Some(mut sim) = start_sim(false).await else {
        return;
    };
    let bmc = client(&sim.address(), "admin", "password")
        .cipher_suite(CipherSuite::Suite3)
        .timeout(Duration::from_millis(300))
        .retries(1)
        .build()
        .unwrap();
    bmc.chassis_control(ChassisControl::PowerOn).await.unwrap();
    sim.restart().await;
    // The old session is unknown to the new process: silence, then a new session.
    assert!(bmc.chassis_status().await.unwrap().power_on);
    let stats = bmc.stats();
    assert_eq!(stats.sessions_opened, 2, "{stats:?}");
    assert_eq!(stats.round_trips, 12, "(5 + 1) per session: {stats:?}");
    bmc.close().await.unwrap();
}

#[tokio::test]
async fn an_idle_session_is_replaced_before_use() {
    let Some(sim) = start_sim(false).await else {
        return;
    };
    let bmc = client(&sim.address(), "admin", "password")
        .cipher_suite(CipherSuite::Suite3)
        .idle_timeout(Duration::ZERO)
        .build()
        .unwrap();
    bmc.chassis_status().await.unwrap();
    bmc.chassis_status().await.unwrap();
    let stats = bmc.stats();
    assert_eq!(stats.sessions_opened, 2, "{stats:?}");
    assert_eq!(stats.retransmissions, 0, "no timeout was needed: {stats:?}");
    bmc.close().await.unwrap();
}

#[tokio::test]
async fn channel_cipher_suites_list_3_but_not_17() {
    let Some(sim) = start_sim(false).await else {
        return;
    };
    let bmc = client(&sim.address(), "admin", "password").build().unwrap();
    let suites = bmc.channel_cipher_suites().await.unwrap();
    let ids: Vec<u8> = suites.iter().map(|s| s.id).collect();
    assert!(ids.contains(&3), "{suites:?}");
    assert!(!ids.contains(&17), "{suites:?}");
    let three = suites.iter().find(|s| s.id == 3).unwrap();
    assert_eq!(
        (three.auth, three.integrity, three.confidentiality),
        (Some(1), Some(1), Some(1))
    );
    bmc.close().await.unwrap();
}

#[tokio::test]
async fn suite_zero_only_when_named_and_then_any_password_works_on_ipmi_sim() {
    let Some(sim) = start_sim(false).await else {
        return;
    };
    // Named explicitly: ipmi_sim accepts it with a wrong password (CVE-2013-4782), which is
    // exactly why the client never picks it by itself.
    let insecure = client(&sim.address(), "admin", "not-the-password")
        .cipher_suite(CipherSuite::Suite0Insecure)
        .build()
        .unwrap();
    insecure.chassis_status().await.unwrap();
    insecure.close().await.unwrap();
    // The automatic policy with the same wrong password fails instead.
    let auto = client(&sim.address(), "admin", "not-the-password")
        .build()
        .unwrap();
    assert!(matches!(
        auto.chassis_status().await,
        Err(Error::Rakp2CheckFailed { .. })
    ));
}
