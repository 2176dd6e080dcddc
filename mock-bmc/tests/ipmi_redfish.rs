//! Across protocols: real IPMI tools (`ipmitool -I lanplus`, `FreeIPMI`'s `ipmi-chassis`)
//! change a fleet node, and plain Redfish GETs over HTTP (reqwest, not ferrofish's client) see
//! the change; a Redfish PATCH is what `ipmitool chassis bootparam get 5` then reads. Every
//! test skips with a message when its tool is not installed.
//!
//! Over 600 lines: each tool needs its own invocation beside the Redfish check it is paired with;
//! the tests are independent and short.

use std::fmt::Write as _;
use std::process::Output;
use std::time::{Duration, Instant};

use ferrofish_mock_bmc::ipmi::{CipherSuite, IpmiFaults, IpmiKey};
use ferrofish_mock_bmc::{
    MockBmc, MockBmcError, MockBmcHandle, NodeHandle, Personality, PowerDelays,
};
use serde_json::{Value, json};
use tokio::process::Command;

/// The fleet's BMC key in the Kg test (20 bytes, as `ipmitool -y` takes it in hex).
const KG: &[u8; 20] = b"ferrofish-fleet-kg20";

/// Generous: ipmitool retries slowly and the machine may be loaded.
const TOOL_TIMEOUT: Duration = Duration::from_secs(180);
/// How long a power transition may take to show on a loaded machine (the delays are ms).
const SETTLE: Duration = Duration::from_secs(30);

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

fn delays() -> PowerDelays {
    PowerDelays {
        on: Duration::from_millis(30),
        force_off: Duration::from_millis(10),
        graceful_shutdown: Duration::from_millis(40),
    }
}

async fn fleet(personality: Personality) -> MockBmcHandle {
    MockBmc::builder()
        .personality(personality)
        .power_delays(delays())
        .ipmi(true)
        .spawn()
        .await
        .expect("fleet starts")
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

fn system_path(personality: Personality) -> &'static str {
    match personality {
        Personality::Dell => "/redfish/v1/Systems/System.Embedded.1",
        _ => "/redfish/v1/Systems/1",
    }
}

/// The System resource, over plain HTTP.
async fn system(node: &NodeHandle) -> Value {
    let url = format!("{}{}", node.url(), system_path(node.personality()));
    let response = http()
        .get(url)
        .basic_auth("admin", Some("password"))
        .send()
        .await
        .expect("GET System");
    assert_eq!(response.status(), 200);
    response.json().await.expect("JSON System")
}

/// Polls the System until `check` holds (power transitions take a few ms of mock time).
async fn wait_for(node: &NodeHandle, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + SETTLE;
    loop {
        let sys = system(node).await;
        if check(&sys) {
            return sys;
        }
        assert!(
            Instant::now() < deadline,
            "{what} not seen over Redfish: {sys:#}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn power_is(state: &'static str) -> impl Fn(&Value) -> bool {
    move |sys| sys["PowerState"] == state
}

fn boot(sys: &Value) -> (String, String, String) {
    let field = |name: &str| sys["Boot"][name].as_str().unwrap_or_default().to_owned();
    (
        field("BootSourceOverrideTarget"),
        field("BootSourceOverrideEnabled"),
        field("BootSourceOverrideMode"),
    )
}

fn triple(target: &str, enabled: &str, mode: &str) -> (String, String, String) {
    (target.to_owned(), enabled.to_owned(), mode.to_owned())
}

async fn run(mut cmd: Command) -> Output {
    tokio::time::timeout(TOOL_TIMEOUT, cmd.kill_on_drop(true).output())
        .await
        .expect("the tool did not finish in time")
        .expect("the tool could not be started")
}

async fn ipmitool(node: &NodeHandle, options: &[&str], command: &[&str]) -> Output {
    let addr = node.ipmi_addr().expect("the fleet serves ipmi");
    let port = addr.port().to_string();
    let host = addr.ip().to_string();
    let mut cmd = Command::new("ipmitool");
    cmd.args([
        "-I", "lanplus", "-H", &host, "-p", &port, "-N", "1", "-R", "4",
    ])
    .args(["-U", "admin", "-P", "password"])
    .args(options)
    .args(command);
    run(cmd).await
}

async fn ipmi_chassis(node: &NodeHandle, suite: &str, arguments: &[&str]) -> Output {
    let host = node.ipmi_addr().expect("ipmi").to_string();
    let mut cmd = Command::new("ipmi-chassis");
    cmd.args(["-h", &host, "--driver-type=LAN_2_0"])
        .args(["-u", "admin", "-p", "password", "-I", suite])
        .args(arguments);
    run(cmd).await
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

/// The bodies (request data in hex) of the node's logged IPMI requests at `path`.
fn ipmi_bodies(node: &NodeHandle, path: &str) -> Vec<String> {
    node.requests()
        .into_iter()
        .filter(|e| e.method == "IPMI" && e.path == path)
        .map(|e| e.body)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipmitool_power_and_bootdev_show_over_redfish() {
    require!("ipmitool");
    let mock = fleet(Personality::Generic).await;
    let node = mock.node(0);
    let suite17 = ["-C", "17"];
    let suite3 = ["-C", "3"];
    assert_eq!(system(&node).await["PowerState"], "Off");

    assert_success(&ipmitool(&node, &suite17, &["chassis", "power", "on"]).await);
    wait_for(&node, "power on", power_is("On")).await;
    assert_eq!(node.view().boot_count, 1);

    assert_success(
        &ipmitool(
            &node,
            &suite17,
            &["chassis", "bootdev", "pxe", "options=efiboot"],
        )
        .await,
    );
    let sys = system(&node).await;
    assert_eq!(boot(&sys), triple("Pxe", "Once", "UEFI"));

    // A power cycle boots the node, which consumes the one-time override, as a Redfish
    // PowerCycle does.
    assert_success(&ipmitool(&node, &suite3, &["chassis", "power", "cycle"]).await);
    let sys = wait_for(&node, "the cycle's boot", |sys| {
        sys["PowerState"] == "On" && sys["Boot"]["BootSourceOverrideEnabled"] == "Disabled"
    })
    .await;
    assert_eq!(boot(&sys), triple("Pxe", "Disabled", "UEFI"));
    let view = node.view();
    assert_eq!(view.boot_count, 2);
    assert_eq!(view.booted.map(|b| b.source).as_deref(), Some("Pxe"));

    // ipmitool reads the consumed override back as no longer valid.
    let output = ipmitool(&node, &suite3, &["chassis", "bootparam", "get", "5"]).await;
    assert_success(&output);
    assert!(
        stdout(&output).contains("Boot Flag Invalid"),
        "{}",
        stdout(&output)
    );

    assert_success(&ipmitool(&node, &suite3, &["chassis", "power", "off"]).await);
    wait_for(&node, "power off", power_is("Off")).await;
    let output = ipmitool(&node, &suite17, &["chassis", "power", "status"]).await;
    assert_success(&output);
    assert!(
        stdout(&output).contains("Chassis Power is off"),
        "{}",
        stdout(&output)
    );

    // Each Chassis Control reached the node once, in order, in the shared request log.
    assert_eq!(
        ipmi_bodies(&node, "/ipmi/chassis/control"),
        ["01", "02", "00"]
    );
    assert!(
        ipmi_bodies(&node, "/ipmi/chassis/set-boot-options")
            .iter()
            .any(|b| b == "05 a0 04 00 00 00"),
        "{:?}",
        node.requests()
    );
    let failed: Vec<_> = node
        .requests()
        .into_iter()
        .filter(|e| e.method == "IPMI" && e.status != 0)
        .collect();
    // ipmitool probes group-extension commands (netfn 2Ch: PICMG, DCMI) that this BMC does not
    // implement; they answer C1h (invalid command) like on a server without them.
    assert!(
        failed
            .iter()
            .all(|e| e.path.starts_with("/ipmi/raw/2c/") && e.status == 0xC1),
        "{failed:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipmitool_soft_off_is_a_graceful_shutdown_and_reset_a_force_restart() {
    require!("ipmitool");
    let mock = MockBmc::builder()
        .power_delays(PowerDelays {
            on: Duration::from_millis(30),
            force_off: Duration::from_millis(10),
            // Long enough to observe PoweringOff over Redfish after ipmitool returns.
            graceful_shutdown: Duration::from_secs(60),
        })
        .ipmi(true)
        .spawn()
        .await
        .unwrap();
    let node = mock.node(0);
    let suite = ["-C", "17"];
    assert_success(&ipmitool(&node, &suite, &["chassis", "power", "on"]).await);
    wait_for(&node, "power on", power_is("On")).await;
    assert_success(&ipmitool(&node, &suite, &["chassis", "power", "reset"]).await);
    let deadline = Instant::now() + SETTLE;
    while node.view().boot_count < 2 {
        assert!(Instant::now() < deadline, "hard reset never booted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    wait_for(&node, "on after reset", power_is("On")).await;
    assert_success(&ipmitool(&node, &suite, &["chassis", "power", "soft"]).await);
    assert_eq!(system(&node).await["PowerState"], "PoweringOff");
    // While the OS shuts down the rail is still on, as IPMI reports it.
    let output = ipmitool(&node, &suite, &["chassis", "power", "status"]).await;
    assert!(
        stdout(&output).contains("Chassis Power is on"),
        "{}",
        stdout(&output)
    );
    // A hard power down interrupts the graceful shutdown.
    assert_success(&ipmitool(&node, &suite, &["chassis", "power", "off"]).await);
    wait_for(&node, "forced off", power_is("Off")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redfish_boot_override_reads_back_over_ipmi() {
    require!("ipmitool");
    for personality in [Personality::Generic, Personality::Supermicro] {
        let mock = fleet(personality).await;
        let node = mock.node(0);
        let cd = if personality == Personality::Supermicro {
            "UsbCd"
        } else {
            "Cd"
        };
        let url = format!("{}{}", node.url(), system_path(personality));
        let response = http()
            .patch(&url)
            .basic_auth("admin", Some("password"))
            .json(&json!({"Boot": {
                "BootSourceOverrideTarget": cd,
                "BootSourceOverrideEnabled": "Continuous",
                "BootSourceOverrideMode": "Legacy",
            }}))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());

        let output = ipmitool(&node, &["-C", "3"], &["chassis", "bootparam", "get", "5"]).await;
        assert_success(&output);
        let text = stdout(&output);
        assert!(text.contains("Boot Flag Valid"), "{personality}: {text}");
        assert!(
            text.contains("Options apply to all future boots"),
            "{personality}: {text}"
        );
        assert!(
            text.contains("BIOS PC Compatible (legacy) boot"),
            "{personality}: {text}"
        );
        assert!(
            text.contains("Force Boot from CD/DVD"),
            "{personality}: {text}"
        );

        // And the other way on the same node: ipmitool's cdrom is the personality's CD target.
        assert_success(
            &ipmitool(
                &node,
                &["-C", "17"],
                &["chassis", "bootdev", "disk", "options=efiboot"],
            )
            .await,
        );
        assert_eq!(boot(&system(&node).await), triple("Hdd", "Once", "UEFI"));
        assert_success(&ipmitool(&node, &["-C", "17"], &["chassis", "bootdev", "cdrom"]).await);
        assert_eq!(boot(&system(&node).await), triple(cd, "Once", "Legacy"));

        // A Redfish power-on is what IPMI's chassis status reports.
        let reset = format!("{url}/Actions/ComputerSystem.Reset");
        let response = http()
            .post(&reset)
            .basic_auth("admin", Some("password"))
            .json(&json!({"ResetType": "On"}))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        wait_for(&node, "power on", power_is("On")).await;
        let output = ipmitool(&node, &["-C", "17"], &["chassis", "power", "status"]).await;
        assert!(
            stdout(&output).contains("Chassis Power is on"),
            "{}",
            stdout(&output)
        );
        // The CD boot consumed the one-time override.
        assert_eq!(node.view().booted.map(|b| b.source).as_deref(), Some(cd));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freeipmi_chassis_control_shows_over_redfish() {
    require!("ipmi-chassis");
    let mock = fleet(Personality::Dell).await;
    let node = mock.node(0);
    for suite in ["17", "3"] {
        assert_success(&ipmi_chassis(&node, suite, &["--chassis-control=power-up"]).await);
        wait_for(&node, "power up", power_is("On")).await;
        let output = ipmi_chassis(&node, suite, &["--get-chassis-status"]).await;
        assert_success(&output);
        assert!(
            stdout(&output)
                .lines()
                .any(|l| l.starts_with("System Power") && l.ends_with(": on")),
            "{}",
            stdout(&output)
        );
        let boots = node.view().boot_count;
        assert_success(&ipmi_chassis(&node, suite, &["--chassis-control=power-cycle"]).await);
        let deadline = Instant::now() + SETTLE;
        while node.view().boot_count == boots {
            assert!(Instant::now() < deadline, "power cycle never booted");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        wait_for(&node, "on after the cycle", power_is("On")).await;
        assert_success(&ipmi_chassis(&node, suite, &["--chassis-control=soft-shutdown"]).await);
        wait_for(&node, "soft shutdown", power_is("Off")).await;
    }
    assert_eq!(
        ipmi_bodies(&node, "/ipmi/chassis/control"),
        ["01", "02", "05", "01", "02", "05"]
    );
}

/// `ipmi-chassis-config --commit` (`FreeIPMI`'s boot flag tool: `ipmi-chassis --set-boot-flags`
/// is hidden and fails client-side in 1.6.10) with `-e` key pairs.
async fn ipmi_chassis_config(node: &NodeHandle, suite: &str, pairs: &[&str]) -> Output {
    let host = node.ipmi_addr().expect("ipmi").to_string();
    let mut cmd = Command::new("ipmi-chassis-config");
    cmd.args(["-h", &host, "--driver-type=LAN_2_0"])
        .args(["-u", "admin", "-p", "password", "-I", suite, "--commit"]);
    for pair in pairs {
        cmd.args(["-e", pair]);
    }
    run(cmd).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freeipmi_boot_flags_show_over_redfish() {
    require!("ipmi-chassis-config");
    let mock = fleet(Personality::Generic).await;
    let node = mock.node(0);
    assert_success(
        &ipmi_chassis_config(
            &node,
            "17",
            &[
                "Chassis_Boot_Flags:Boot_Device=PXE",
                "Chassis_Boot_Flags:BIOS_Boot_Type=EFI",
                "Chassis_Boot_Flags:Boot_Flags_Persistent=No",
            ],
        )
        .await,
    );
    assert_eq!(boot(&system(&node).await), triple("Pxe", "Once", "UEFI"));
    assert_success(
        &ipmi_chassis_config(
            &node,
            "3",
            &[
                "Chassis_Boot_Flags:Boot_Device=CD-DVD",
                "Chassis_Boot_Flags:BIOS_Boot_Type=PC-COMPATIBLE",
                "Chassis_Boot_Flags:Boot_Flags_Persistent=Yes",
            ],
        )
        .await,
    );
    assert_eq!(
        boot(&system(&node).await),
        triple("Cd", "Continuous", "Legacy")
    );
    // The writes reached the node as parameter 5 bytes: valid|EFI + PXE, then
    // valid|persistent + CD/DVD.
    let writes = ipmi_bodies(&node, "/ipmi/chassis/set-boot-options");
    assert!(
        writes.iter().any(|b| b == "05 a0 04 00 00 00"),
        "{writes:?}"
    );
    assert!(
        writes.iter().any(|b| b == "05 c0 14 00 00 00"),
        "{writes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipmitool_mc_info_names_the_personalitys_vendor() {
    require!("ipmitool");
    let mock = fleet(Personality::Dell).await;
    let output = ipmitool(&mock.node(0), &["-C", "17"], &["mc", "info"]).await;
    assert_success(&output);
    let text = stdout(&output);
    let manufacturer = text
        .lines()
        .find(|l| l.starts_with("Manufacturer ID"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned());
    assert_eq!(manufacturer.as_deref(), Some("674"), "{text}");
    assert!(
        mock.node(0)
            .requests()
            .iter()
            .any(|e| e.path == "/ipmi/app/get-device-id" && e.status == 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_kg_is_required_and_admin_api_arms_ipmi_faults() {
    require!("ipmitool");
    let mock = MockBmc::builder()
        .nodes(2)
        .power_delays(delays())
        .ipmi_kg(IpmiKey::from_bytes(KG).unwrap())
        .admin_api("127.0.0.1:0".parse().unwrap())
        .ipmi(true)
        .spawn()
        .await
        .unwrap();
    let hex = KG.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    });
    let node = mock.node(1);
    assert_ne!(mock.node(0).ipmi_addr(), node.ipmi_addr());
    let without_key = ipmitool(&node, &["-C", "17"], &["chassis", "power", "on"]).await;
    let stderr = String::from_utf8_lossy(&without_key.stderr);
    assert!(stderr.contains("Unable to establish"), "{stderr}");
    assert_eq!(system(&node).await["PowerState"], "Off");

    // Refuse suite 17 on node 1 through the admin API: 17 fails, 3 works.
    let admin = format!("http://{}", mock.admin_addr().unwrap());
    let response = http()
        .post(format!("{admin}/nodes/1/ipmi/faults"))
        .body(r#"{"refused_suites":[17]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(
        node.ipmi().unwrap().faults(),
        IpmiFaults {
            refused_suites: vec![CipherSuite::Suite17],
            ..IpmiFaults::default()
        }
    );
    let refused = ipmitool(
        &node,
        &["-C", "17", "-y", &hex],
        &["chassis", "power", "on"],
    )
    .await;
    // ipmitool's `chassis power` exits 0 even when no session opened; its message and the
    // node's state tell.
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("no matching cipher suite"), "{stderr}");
    assert_eq!(system(&node).await["PowerState"], "Off");
    assert_success(&ipmitool(&node, &["-C", "3", "-y", &hex], &["chassis", "power", "on"]).await);
    wait_for(&node, "power on", power_is("On")).await;
    assert_eq!(
        system(&mock.node(0)).await["PowerState"],
        "Off",
        "node 0 untouched"
    );

    let bad = http()
        .post(format!("{admin}/nodes/1/ipmi/faults"))
        .body(r#"{"refused_suites":[0]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let cleared = http()
        .delete(format!("{admin}/nodes/1/ipmi/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), 204);
    assert_eq!(node.ipmi().unwrap().faults(), IpmiFaults::default());
    let listed: Value = http()
        .get(format!("{admin}/nodes"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed[1]["ipmi"],
        node.ipmi_addr().unwrap().to_string(),
        "{listed}"
    );
}

#[tokio::test]
async fn ipmi_credentials_are_checked_and_the_key_never_shows() {
    let too_long = MockBmc::builder()
        .credentials("admin", "a-password-of-27-characters")
        .ipmi(true)
        .spawn()
        .await;
    assert!(
        matches!(
            too_long,
            Err(MockBmcError::KeyTooLong {
                what: "password",
                length: 27
            })
        ),
        "{too_long:?}"
    );
    // Without IPMI the same password is fine for Redfish.
    assert!(
        MockBmc::builder()
            .credentials("admin", "a-password-of-27-characters")
            .spawn()
            .await
            .is_ok()
    );
    let builder = MockBmc::builder()
        .ipmi(true)
        .ipmi_kg(IpmiKey::from_text("kg-top-secret").unwrap());
    let shown = format!("{builder:?}");
    assert!(
        !shown.contains("kg-top-secret") && !shown.contains("password\""),
        "{shown}"
    );
    let mock = builder.spawn().await.unwrap();
    let shown = format!("{:?} {:?}", mock, mock.node(0));
    assert!(!shown.contains("kg-top-secret"), "{shown}");
    // Without .ipmi(true) a node has no IPMI address.
    let plain = MockBmc::builder().spawn().await.unwrap();
    assert_eq!(plain.node(0).ipmi_addr(), None);
    assert!(plain.node(0).ipmi().is_none());
}
