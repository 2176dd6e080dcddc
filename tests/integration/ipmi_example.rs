//! Runs the real `ipmi` example binary against the mock BMC's RMCP+ server on 127.0.0.1 and
//! checks the node's state, what it prints, and its exit code.

use std::fmt::Write as _;
use std::sync::Arc;

use ferrofish_mock_bmc::ipmi::{
    BootDevice, BootFlags, ChassisControl, DeviceIdentity, IpmiConfig, IpmiKey, IpmiNode,
    IpmiServer, IpmiServerHandle, IpmiUser, Privilege, SimpleIpmiNode,
};

use crate::support::run_example;

const PASSWORD: &str = "example-Passw0rd";

fn config() -> IpmiConfig {
    IpmiConfig::new(vec![
        IpmiUser::new("admin", PASSWORD, Privilege::Administrator).unwrap(),
    ])
}

async fn start_with(config: IpmiConfig) -> (Arc<SimpleIpmiNode>, IpmiServerHandle, String) {
    let node = Arc::new(SimpleIpmiNode::new(false));
    let server = IpmiServer::bind("127.0.0.1:0".parse().unwrap(), node.clone(), config)
        .await
        .unwrap();
    let address = server.local_addr().to_string();
    (node, server, address)
}

async fn start() -> (Arc<SimpleIpmiNode>, IpmiServerHandle, String) {
    start_with(config()).await
}

#[track_caller]
fn assert_ok(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "exit {}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A node with a chosen Get Device ID identity.
struct IdentifiedNode {
    inner: SimpleIpmiNode,
    identity: DeviceIdentity,
}

impl IpmiNode for IdentifiedNode {
    fn power_is_on(&self) -> bool {
        self.inner.power_is_on()
    }

    fn chassis_control(&self, control: ChassisControl) {
        self.inner.chassis_control(control);
    }

    fn boot_flags(&self) -> BootFlags {
        self.inner.boot_flags()
    }

    fn set_boot_flags(&self, flags: BootFlags) {
        self.inner.set_boot_flags(flags);
    }

    fn device_identity(&self) -> DeviceIdentity {
        self.identity
    }
}

#[tokio::test]
async fn mc_info_prints_the_mocks_device_identity_as_text_and_json() {
    let identity = DeviceIdentity {
        device_id: 0x42,
        device_revision: 0x03,
        firmware_major: 7,
        firmware_minor_bcd: 0x25,
        manufacturer_id: 0xA_2B3C,
        product_id: 0xBEEF,
        aux_firmware: [1, 2, 3, 4],
    };
    let node = Arc::new(IdentifiedNode {
        inner: SimpleIpmiNode::new(false),
        identity,
    });
    let server = IpmiServer::bind("127.0.0.1:0".parse().unwrap(), node, config())
        .await
        .unwrap();
    let bmc = server.local_addr().to_string();

    let text = assert_ok(
        &run_example(
            "ipmi",
            &["--bmc", &bmc, "--user", "admin", "mc", "info"],
            PASSWORD,
        )
        .await,
    );
    let field = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_once(':'))
            .map_or_else(
                || panic!("no {name} line in:\n{text}"),
                |(_, value)| value.trim().to_owned(),
            )
    };
    assert_eq!(field("Device ID"), "66");
    assert_eq!(field("Device Revision"), "3");
    assert_eq!(field("Firmware Revision"), "7.25");
    assert_eq!(field("IPMI Version"), "2.0");
    assert_eq!(field("Manufacturer ID"), "666428");
    assert_eq!(field("Product ID"), "48879 (0xbeef)");
    assert_eq!(field("Device Available"), "yes");

    let json = assert_ok(
        &run_example(
            "ipmi",
            &["--bmc", &bmc, "--user", "admin", "--json", "mc", "info"],
            PASSWORD,
        )
        .await,
    );
    let printed: serde_json::Value = serde_json::from_str(&json).expect("JSON on stdout");
    assert_eq!(printed["device_id"], 0x42);
    assert_eq!(printed["device_revision"], 3);
    assert_eq!(printed["firmware_revision"], "7.25");
    assert_eq!(printed["ipmi_version"], "2.0");
    assert_eq!(printed["manufacturer_id"], 0xA_2B3C);
    assert_eq!(printed["product_id"], 0xBEEF);
    assert_eq!(printed["device_available"], true);
}

#[tokio::test]
async fn power_cycle_reset_and_soft_reach_the_node_in_order() {
    let (node, _server, bmc) = start().await;
    node.set_power(true);
    for (action, json) in [("cycle", false), ("reset", true), ("soft", false)] {
        let mut args = vec!["--bmc", &bmc, "--user", "admin"];
        if json {
            args.push("--json");
        }
        args.extend(["power", action]);
        let out = assert_ok(&run_example("ipmi", &args, PASSWORD).await);
        if json {
            let printed: serde_json::Value = serde_json::from_str(&out).expect("JSON on stdout");
            assert_eq!(printed["result"], "ok", "{out}");
        } else {
            assert!(out.contains("done"), "{out}");
        }
    }
    assert_eq!(
        node.control_log(),
        vec![
            ChassisControl::PowerCycle,
            ChassisControl::HardReset,
            ChassisControl::SoftShutdown,
        ]
    );
    assert!(!node.power_is_on(), "soft off ends powered off");
}

async fn power_on_with_kg(bmc: &str, kg_hex: &str) -> std::process::Output {
    let args = [
        "--bmc", bmc, "--user", "admin", "--kg-hex", kg_hex, "power", "on",
    ];
    run_example("ipmi", &args, PASSWORD).await
}

#[tokio::test]
async fn kg_hex_right_wrong_and_malformed() {
    const KG: &[u8] = b"example-kg-0123";
    let mut config = config();
    config.bmc_key = Some(IpmiKey::from_bytes(KG).unwrap());
    let (node, _server, bmc) = start_with(config).await;
    let right: String = KG.iter().fold(String::new(), |mut hex, b| {
        write!(hex, "{b:02x}").unwrap();
        hex
    });

    assert_ok(&power_on_with_kg(&bmc, &right).await);
    assert_eq!(node.control_log(), vec![ChassisControl::PowerUp]);

    // Another key: the BMC's RAKP 4 does not verify; nothing runs, no key is printed.
    let wrong = "00112233445566778899aabbccddeeff";
    let output = power_on_with_kg(&bmc, wrong).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    assert!(stderr.contains("rakp 4"), "{stderr}");
    assert!(!stderr.contains(wrong), "the key leaked: {stderr}");
    assert!(!stderr.contains(&right), "the key leaked: {stderr}");

    // Not hex: refused before anything is sent.
    let output = power_on_with_kg(&bmc, "0g").await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("--kg-hex"), "{stderr}");
    assert_eq!(node.control_log(), vec![ChassisControl::PowerUp]);
}

#[tokio::test]
async fn power_on_then_status_as_json_reports_what_the_node_did() {
    let (node, _server, bmc) = start().await;

    let on = run_example(
        "ipmi",
        &["--bmc", &bmc, "--user", "admin", "power", "on"],
        PASSWORD,
    )
    .await;
    assert!(
        on.status.success(),
        "{}",
        String::from_utf8_lossy(&on.stderr)
    );
    assert!(node.power_is_on());
    assert_eq!(node.control_log(), vec![ChassisControl::PowerUp]);

    let status = run_example(
        "ipmi",
        &[
            "--bmc", &bmc, "--user", "admin", "--json", "power", "status",
        ],
        PASSWORD,
    )
    .await;
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let printed: serde_json::Value =
        serde_json::from_slice(&status.stdout).expect("JSON on stdout");
    assert_eq!(printed["power"], "on");
}

#[tokio::test]
async fn bootdev_pxe_efi_persistent_reaches_the_node() {
    let (node, _server, bmc) = start().await;

    let args = [
        "--bmc",
        &bmc,
        "--user",
        "admin",
        "--cipher-suite",
        "3",
        "bootdev",
        "pxe",
        "--efi",
        "--persistent",
    ];
    let output = run_example("ipmi", &args, PASSWORD).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let flags = node.boot_flags();
    assert!(flags.valid && flags.persistent && flags.efi, "{flags:?}");
    assert_eq!(flags.device, BootDevice::Pxe);
}

#[tokio::test]
async fn a_wrong_password_exits_non_zero_without_echoing_it_or_touching_the_node() {
    let (node, server, bmc) = start().await;
    let wrong = "wrong-Passw0rd-91c2";

    let output = run_example(
        "ipmi",
        &["--bmc", &bmc, "--user", "admin", "power", "off"],
        wrong,
    )
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    assert!(!stderr.is_empty(), "the failure is explained on stderr");
    assert!(!stderr.contains(wrong), "the password leaked: {stderr}");
    assert!(node.control_log().is_empty());
    // The example told the BMC it rejected RAKP 2 (a RAKP 3 with status 0Fh) just before
    // exiting; the mock handles that datagram on its own task, so poll for its effect.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while server.session_count() != 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the rejected half-open session was never dropped"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
