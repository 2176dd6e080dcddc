//! Interoperability: real IPMI tools nobody here wrote (`ipmitool -I lanplus`, `FreeIPMI`'s
//! `ipmi-chassis` and `bmc-info`) against the mock's RMCP+ server on 127.0.0.1, port 0.
//! Every test asserts on the node's state, not only on exit codes, and skips with a message
//! when its tool is not installed.
//!
//! Over 600 lines: each tool needs its own invocation and output parsing beside the assertions;
//! the tests are independent and short.

use std::fmt::Write as _;
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use ferrofish_mock_bmc::ipmi::{
    BootDevice, BootFlags, ChassisControl, CipherSuite, IpmiConfig, IpmiFaults, IpmiKey, IpmiNode,
    IpmiServer, IpmiServerHandle, IpmiUser, Privilege, SimpleIpmiNode,
};
use tokio::process::Command;

/// Generous: ipmitool retries slowly and the machine may be loaded.
const TOOL_TIMEOUT: Duration = Duration::from_secs(180);

/// The BMC key used by the Kg tests (20 bytes, as `ipmitool -y` takes it in hex).
const KG: &[u8; 20] = b"ferrofish-bmc-key-20";

fn installed(tool: &str) -> bool {
    let flag = if tool == "ipmitool" {
        "-V"
    } else {
        "--version"
    };
    std::process::Command::new(tool)
        .arg(flag)
        .output()
        .is_ok_and(|output| output.status.success())
}

macro_rules! require {
    ($tool:expr) => {
        if !installed($tool) {
            eprintln!("skipping: {} is not installed", $tool);
            return;
        }
    };
}

struct Bmc {
    node: Arc<SimpleIpmiNode>,
    server: IpmiServerHandle,
}

fn config() -> IpmiConfig {
    IpmiConfig::new(vec![
        IpmiUser::new("admin", "password", Privilege::Administrator).unwrap(),
        IpmiUser::new("operator", "operpass", Privilege::Operator).unwrap(),
    ])
}

async fn start(config: IpmiConfig) -> Bmc {
    let node = Arc::new(SimpleIpmiNode::new(false));
    let server = IpmiServer::bind("127.0.0.1:0".parse().unwrap(), node.clone(), config)
        .await
        .unwrap();
    Bmc { node, server }
}

impl Bmc {
    fn port(&self) -> String {
        self.server.local_addr().port().to_string()
    }

    /// `ipmitool -I lanplus` with `credentials` (user, password, suite, key options) and
    /// `command`.
    async fn ipmitool(&self, credentials: &[&str], command: &[&str]) -> Output {
        let port = self.port();
        let mut cmd = Command::new("ipmitool");
        cmd.args([
            "-I",
            "lanplus",
            "-H",
            "127.0.0.1",
            "-p",
            &port,
            "-N",
            "1",
            "-R",
            "4",
        ])
        .args(credentials)
        .args(command)
        .kill_on_drop(true);
        run(cmd).await
    }

    /// A `FreeIPMI` tool over LAN 2.0 with `credentials` and `arguments`.
    async fn freeipmi(&self, tool: &str, credentials: &[&str], arguments: &[&str]) -> Output {
        let host = format!("127.0.0.1:{}", self.port());
        let mut cmd = Command::new(tool);
        cmd.args(["-h", &host, "--driver-type=LAN_2_0"])
            .args(credentials)
            .args(arguments)
            .kill_on_drop(true);
        run(cmd).await
    }
}

async fn run(mut cmd: Command) -> Output {
    tokio::time::timeout(TOOL_TIMEOUT, cmd.output())
        .await
        .expect("the tool did not finish in time")
        .expect("the tool could not be started")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[track_caller]
fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "tool failed ({}):\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[track_caller]
fn assert_failure(output: &Output) {
    assert!(
        !output.status.success(),
        "tool unexpectedly succeeded:\nstdout: {}",
        String::from_utf8_lossy(&output.stdout)
    );
}

const ADMIN: [&str; 4] = ["-U", "admin", "-P", "password"];

/// Power status, on, cycle, reset, soft and off through ipmitool, each checked on the node.
async fn ipmitool_power_scenario(suite: Option<&str>) {
    let bmc = start(config()).await;
    let mut credentials = ADMIN.to_vec();
    if let Some(suite) = suite {
        credentials.extend(["-C", suite]);
    }

    let output = bmc
        .ipmitool(&credentials, &["chassis", "power", "status"])
        .await;
    assert_success(&output);
    assert!(
        stdout(&output).contains("Chassis Power is off"),
        "{}",
        stdout(&output)
    );

    assert_success(
        &bmc.ipmitool(&credentials, &["chassis", "power", "on"])
            .await,
    );
    assert!(bmc.node.power_is_on());
    let output = bmc.ipmitool(&credentials, &["chassis", "status"]).await;
    assert_success(&output);
    assert!(
        stdout(&output)
            .lines()
            .any(|l| l.starts_with("System Power") && l.ends_with(": on")),
        "{}",
        stdout(&output)
    );

    assert_success(
        &bmc.ipmitool(&credentials, &["chassis", "power", "cycle"])
            .await,
    );
    assert_success(
        &bmc.ipmitool(&credentials, &["chassis", "power", "reset"])
            .await,
    );
    assert_success(
        &bmc.ipmitool(&credentials, &["chassis", "power", "soft"])
            .await,
    );
    assert!(!bmc.node.power_is_on());
    assert_success(
        &bmc.ipmitool(&credentials, &["chassis", "power", "off"])
            .await,
    );
    assert_eq!(
        bmc.node.control_log(),
        vec![
            ChassisControl::PowerUp,
            ChassisControl::PowerCycle,
            ChassisControl::HardReset,
            ChassisControl::SoftShutdown,
            ChassisControl::PowerDown,
        ]
    );
    // ipmitool closes every session it opens.
    assert_eq!(bmc.server.session_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipmitool_suite_17_controls_power() {
    require!("ipmitool");
    ipmitool_power_scenario(Some("17")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipmitool_suite_3_controls_power() {
    require!("ipmitool");
    ipmitool_power_scenario(Some("3")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipmitool_without_a_suite_controls_power() {
    require!("ipmitool");
    ipmitool_power_scenario(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipmitool_without_a_suite_picks_17_from_the_list() {
    require!("ipmitool");
    let bmc = start(config()).await;
    let output = bmc
        .ipmitool(
            &[&ADMIN[..], &["-v"]].concat(),
            &["chassis", "power", "status"],
        )
        .await;
    assert_success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("best available cipher suite 17"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipmitool_bootdev_pxe_efiboot_reaches_the_node_and_reads_back() {
    require!("ipmitool");
    let bmc = start(config()).await;
    let suite17 = [&ADMIN[..], &["-C", "17"]].concat();
    let output = bmc
        .ipmitool(&suite17, &["chassis", "bootdev", "pxe", "options=efiboot"])
        .await;
    assert_success(&output);
    assert_eq!(
        bmc.node.boot_flags(),
        BootFlags {
            valid: true,
            persistent: false,
            efi: true,
            device: BootDevice::Pxe
        }
    );
    let output = bmc
        .ipmitool(&suite17, &["chassis", "bootparam", "get", "5"])
        .await;
    assert_success(&output);
    let text = stdout(&output);
    assert!(text.contains("Boot Flag Valid"), "{text}");
    assert!(text.contains("Options apply to only next boot"), "{text}");
    assert!(text.contains("BIOS EFI boot"), "{text}");
    assert!(text.contains("Force PXE"), "{text}");

    let suite3 = [&ADMIN[..], &["-C", "3"]].concat();
    let output = bmc
        .ipmitool(
            &suite3,
            &["chassis", "bootdev", "disk", "options=persistent,efiboot"],
        )
        .await;
    assert_success(&output);
    assert_eq!(
        bmc.node.boot_flags(),
        BootFlags {
            valid: true,
            persistent: true,
            efi: true,
            device: BootDevice::Disk
        }
    );
    let output = bmc
        .ipmitool(&suite3, &["chassis", "bootparam", "get", "5"])
        .await;
    assert_success(&output);
    let text = stdout(&output);
    assert!(text.contains("Options apply to all future boots"), "{text}");
    assert!(
        text.contains("Force Boot from default Hard-Drive"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipmitool_mc_info_reports_the_device_identity() {
    require!("ipmitool");
    let bmc = start(config()).await;
    let output = bmc
        .ipmitool(&[&ADMIN[..], &["-C", "17"]].concat(), &["mc", "info"])
        .await;
    assert_success(&output);
    let text = stdout(&output);
    let field = |name: &str| {
        text.lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_once(':'))
            .map(|(_, value)| value.trim().to_owned())
    };
    assert_eq!(field("Manufacturer ID").as_deref(), Some("32473"), "{text}");
    assert_eq!(field("IPMI Version").as_deref(), Some("2.0"), "{text}");
    assert_eq!(field("Device ID").as_deref(), Some("32"), "{text}");
    assert_eq!(
        field("Product ID").as_deref(),
        Some("3861 (0x0f15)"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipmitool_wrong_password_or_unknown_user_fails_without_effect() {
    require!("ipmitool");
    let bmc = start(config()).await;
    for credentials in [
        ["-U", "admin", "-P", "wrong-password", "-C", "17"],
        ["-U", "admin", "-P", "wrong-password", "-C", "3"],
        ["-U", "nobody", "-P", "password", "-C", "17"],
    ] {
        let output = bmc
            .ipmitool(&credentials, &["chassis", "power", "on"])
            .await;
        assert_failure(&output);
    }
    assert!(!bmc.node.power_is_on());
    assert!(bmc.node.control_log().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipmitool_operator_can_control_power_but_not_become_administrator() {
    require!("ipmitool");
    let bmc = start(config()).await;
    let operator = [
        "-U", "operator", "-P", "operpass", "-C", "17", "-L", "OPERATOR",
    ];
    assert_success(&bmc.ipmitool(&operator, &["chassis", "power", "on"]).await);
    assert!(bmc.node.power_is_on());
    // Asking for administrator is refused in RAKP 2 (role above the user's limit).
    let output = bmc
        .ipmitool(
            &[
                "-U",
                "operator",
                "-P",
                "operpass",
                "-C",
                "17",
                "-L",
                "ADMINISTRATOR",
            ],
            &["chassis", "power", "off"],
        )
        .await;
    assert_failure(&output);
    assert!(bmc.node.power_is_on());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipmitool_with_the_bmc_key_works_and_a_wrong_key_fails() {
    require!("ipmitool");
    let mut config = config();
    config.bmc_key = Some(IpmiKey::from_bytes(KG).unwrap());
    let bmc = start(config).await;
    let hex: String = KG.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    });
    for suite in ["17", "3"] {
        let with_key = [&ADMIN[..], &["-C", suite, "-y", &hex]].concat();
        assert_success(&bmc.ipmitool(&with_key, &["chassis", "power", "on"]).await);
        assert!(bmc.node.power_is_on());
        assert_success(&bmc.ipmitool(&with_key, &["chassis", "power", "off"]).await);
        assert!(!bmc.node.power_is_on());
    }
    // The same key given as text (-k) is the same 20 bytes.
    let as_text = [&ADMIN[..], &["-C", "17", "-k", "ferrofish-bmc-key-20"]].concat();
    assert_success(&bmc.ipmitool(&as_text, &["chassis", "power", "on"]).await);
    assert!(bmc.node.power_is_on());

    let wrong = [&ADMIN[..], &["-C", "17", "-k", "not-the-key"]].concat();
    assert_failure(&bmc.ipmitool(&wrong, &["chassis", "power", "off"]).await);
    let missing = [&ADMIN[..], &["-C", "3"]].concat();
    assert_failure(&bmc.ipmitool(&missing, &["chassis", "power", "off"]).await);
    assert!(bmc.node.power_is_on());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipmitool_survives_dropped_replies_without_running_commands_twice() {
    require!("ipmitool");
    let bmc = start(config()).await;
    // Not every 3rd: on a lost RAKP reply ipmitool restarts the whole three-reply handshake,
    // so every 3rd reply would always be RAKP 4. With every 5th, the second command's Chassis
    // Control reply is among the dropped ones and must be answered again from the cache.
    bmc.server.set_faults(IpmiFaults {
        drop_every_nth_reply: Some(5),
        ..IpmiFaults::default()
    });
    let credentials = [&ADMIN[..], &["-C", "17"]].concat();
    assert_success(
        &bmc.ipmitool(&credentials, &["chassis", "power", "on"])
            .await,
    );
    assert_success(
        &bmc.ipmitool(&credentials, &["chassis", "power", "cycle"])
            .await,
    );
    assert_success(
        &bmc.ipmitool(&credentials, &["chassis", "power", "status"])
            .await,
    );
    // Retransmitted requests were answered from the reply cache, not executed again.
    assert_eq!(
        bmc.node.control_log(),
        vec![ChassisControl::PowerUp, ChassisControl::PowerCycle]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_suite_fails_while_the_other_still_works() {
    require!("ipmitool");
    let bmc = start(config()).await;
    bmc.server.set_faults(IpmiFaults {
        refused_suites: vec![CipherSuite::Suite17],
        ..IpmiFaults::default()
    });
    let suite17 = [&ADMIN[..], &["-C", "17"]].concat();
    assert_failure(&bmc.ipmitool(&suite17, &["chassis", "power", "on"]).await);
    assert!(!bmc.node.power_is_on());
    let suite3 = [&ADMIN[..], &["-C", "3"]].concat();
    assert_success(&bmc.ipmitool(&suite3, &["chassis", "power", "on"]).await);
    assert!(bmc.node.power_is_on());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipmitool_cannot_use_a_suite_that_is_not_configured() {
    require!("ipmitool");
    let mut config = config();
    config.cipher_suites = vec![CipherSuite::Suite3];
    let bmc = start(config).await;
    let suite17 = [&ADMIN[..], &["-C", "17"]].concat();
    assert_failure(&bmc.ipmitool(&suite17, &["chassis", "power", "on"]).await);
    let suite0 = [&ADMIN[..], &["-C", "0"]].concat();
    assert_failure(&bmc.ipmitool(&suite0, &["chassis", "power", "on"]).await);
    assert!(bmc.node.control_log().is_empty());
    // Without -C, ipmitool reads the list (suite 3 only) and uses it.
    assert_success(&bmc.ipmitool(&ADMIN, &["chassis", "power", "on"]).await);
    assert!(bmc.node.power_is_on());
}

async fn freeipmi_scenario(suite: &str) {
    let bmc = start(config()).await;
    let credentials = ["-u", "admin", "-p", "password", "-I", suite];

    let output = bmc
        .freeipmi(
            "ipmi-chassis",
            &credentials,
            &["--chassis-control=POWER-UP"],
        )
        .await;
    assert_success(&output);
    assert!(bmc.node.power_is_on());

    let output = bmc
        .freeipmi("ipmi-chassis", &credentials, &["--get-chassis-status"])
        .await;
    assert_success(&output);
    let text = stdout(&output);
    assert!(
        text.lines()
            .any(|l| l.starts_with("System Power") && l.ends_with(": on")),
        "{text}"
    );

    for control in ["POWER-CYCLE", "HARD-RESET", "POWER-DOWN"] {
        let argument = format!("--chassis-control={control}");
        assert_success(
            &bmc.freeipmi("ipmi-chassis", &credentials, &[&argument])
                .await,
        );
    }
    assert!(!bmc.node.power_is_on());
    assert_eq!(
        bmc.node.control_log(),
        vec![
            ChassisControl::PowerUp,
            ChassisControl::PowerCycle,
            ChassisControl::HardReset,
            ChassisControl::PowerDown,
        ]
    );

    let output = bmc
        .freeipmi("bmc-info", &credentials, &["--get-device-id"])
        .await;
    assert_success(&output);
    let text = stdout(&output);
    assert!(text.contains("32473"), "manufacturer id missing:\n{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("IPMI Version") && l.ends_with(": 2.0")),
        "{text}"
    );
    assert_eq!(
        bmc.server.session_count(),
        0,
        "FreeIPMI closes its sessions"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freeipmi_suite_17_controls_power_and_reads_device_id() {
    require!("ipmi-chassis");
    require!("bmc-info");
    freeipmi_scenario("17").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freeipmi_suite_3_controls_power_and_reads_device_id() {
    require!("ipmi-chassis");
    require!("bmc-info");
    freeipmi_scenario("3").await;
}

/// `FreeIPMI`'s way to set boot flags. `ipmi-chassis --set-boot-flags` exists in 1.6.10 only as
/// a hidden, undocumented option (absent from `--help`, commented out in the man page) that
/// fails on the client side with "invalid parameters" before sending anything; the supported
/// tool is `ipmi-chassis-config` (`ipmi-config --category=chassis`).
async fn freeipmi_boot_flags(bmc: &Bmc, suite: &str, pairs: &[&str]) -> Output {
    let credentials = ["-u", "admin", "-p", "password", "-I", suite];
    let mut arguments = vec!["--commit"];
    for pair in pairs {
        arguments.extend(["-e", pair]);
    }
    bmc.freeipmi("ipmi-chassis-config", &credentials, &arguments)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freeipmi_sets_boot_flags_pxe_efi_and_reads_them_back() {
    require!("ipmi-chassis-config");
    require!("ipmi-chassis");
    for suite in ["17", "3"] {
        let bmc = start(config()).await;
        let output = freeipmi_boot_flags(
            &bmc,
            suite,
            &[
                "Chassis_Boot_Flags:Boot_Device=PXE",
                "Chassis_Boot_Flags:BIOS_Boot_Type=EFI",
                "Chassis_Boot_Flags:Boot_Flags_Persistent=No",
            ],
        )
        .await;
        assert_success(&output);
        assert_eq!(
            bmc.node.boot_flags(),
            BootFlags {
                valid: true,
                persistent: false,
                efi: true,
                device: BootDevice::Pxe
            },
            "suite {suite}"
        );
        let credentials = ["-u", "admin", "-p", "password", "-I", suite];
        let output = bmc
            .freeipmi("ipmi-chassis", &credentials, &["--get-boot-flags"])
            .await;
        assert_success(&output);
        let text = stdout(&output);
        let field = |name: &str| {
            text.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split(':').nth(1))
                .map(str::trim)
                .map(str::to_owned)
        };
        assert_eq!(
            field("Boot device selector").as_deref(),
            Some("Force PXE"),
            "{text}"
        );
        assert_eq!(
            field("BIOS boot type").as_deref(),
            Some("Extensible firmware Interface boot"),
            "{text}"
        );

        // Persistent legacy disk, the other corner of the flags byte.
        let output = freeipmi_boot_flags(
            &bmc,
            suite,
            &[
                "Chassis_Boot_Flags:Boot_Device=HARD-DRIVE",
                "Chassis_Boot_Flags:BIOS_Boot_Type=PC-COMPATIBLE",
                "Chassis_Boot_Flags:Boot_Flags_Persistent=Yes",
            ],
        )
        .await;
        assert_success(&output);
        assert_eq!(
            bmc.node.boot_flags(),
            BootFlags {
                valid: true,
                persistent: true,
                efi: false,
                device: BootDevice::Disk
            },
            "suite {suite}"
        );
        assert_eq!(
            bmc.server.session_count(),
            0,
            "FreeIPMI closes its sessions"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freeipmi_bmc_info_full_report_succeeds() {
    require!("bmc-info");
    let bmc = start(config()).await;
    let credentials = ["-u", "admin", "-p", "password", "-I", "17"];
    let output = bmc.freeipmi("bmc-info", &credentials, &[]).await;
    assert_success(&output);
    assert!(stdout(&output).contains("32473"), "{}", stdout(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freeipmi_wrong_password_and_bmc_key() {
    require!("ipmi-chassis");
    let mut config = config();
    config.bmc_key = Some(IpmiKey::from_text("kg-for-freeipmi").unwrap());
    let bmc = start(config).await;
    let on = ["--chassis-control=POWER-UP"];
    let wrong_password = [
        "-u",
        "admin",
        "-p",
        "nope",
        "-I",
        "17",
        "-k",
        "kg-for-freeipmi",
    ];
    assert_failure(&bmc.freeipmi("ipmi-chassis", &wrong_password, &on).await);
    let wrong_key = [
        "-u",
        "admin",
        "-p",
        "password",
        "-I",
        "17",
        "-k",
        "wrong-key",
    ];
    assert_failure(&bmc.freeipmi("ipmi-chassis", &wrong_key, &on).await);
    assert!(!bmc.node.power_is_on());
    for suite in ["17", "3"] {
        let right = [
            "-u",
            "admin",
            "-p",
            "password",
            "-I",
            suite,
            "-k",
            "kg-for-freeipmi",
        ];
        assert_success(&bmc.freeipmi("ipmi-chassis", &right, &on).await);
    }
    assert!(bmc.node.power_is_on());
    assert_eq!(bmc.node.control_log().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_ipmitool_processes_share_one_node() {
    require!("ipmitool");
    let bmc = Arc::new(start(config()).await);
    // Every ipmitool process uses the same console session ID (A0A2A3A4h); the server must
    // keep their handshakes apart.
    let runs = (0..4).map(|i| {
        let bmc = Arc::clone(&bmc);
        let suite = if i % 2 == 0 { "17" } else { "3" };
        tokio::spawn(async move {
            let credentials = [&ADMIN[..], &["-C", suite]].concat();
            bmc.ipmitool(&credentials, &["chassis", "power", "on"])
                .await
        })
    });
    for run in runs.collect::<Vec<_>>() {
        assert_success(&run.await.unwrap());
    }
    assert_eq!(bmc.node.control_log(), vec![ChassisControl::PowerUp; 4]);
    assert_eq!(bmc.server.session_count(), 0);
}
