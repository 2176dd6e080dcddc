//! Runs the real `ipmi` example binary against the mock BMC's RMCP+ server on 127.0.0.1 and
//! checks the node's state, what it prints, and its exit code.

use std::sync::Arc;

use ferrofish_mock_bmc::ipmi::{
    BootDevice, ChassisControl, IpmiConfig, IpmiNode, IpmiServer, IpmiServerHandle, IpmiUser,
    Privilege, SimpleIpmiNode,
};

use crate::support::run_example;

const PASSWORD: &str = "example-Passw0rd";

async fn start() -> (Arc<SimpleIpmiNode>, IpmiServerHandle, String) {
    let node = Arc::new(SimpleIpmiNode::new(false));
    let users = vec![IpmiUser::new("admin", PASSWORD, Privilege::Administrator).unwrap()];
    let server = IpmiServer::bind(
        "127.0.0.1:0".parse().unwrap(),
        node.clone(),
        IpmiConfig::new(users),
    )
    .await
    .unwrap();
    let address = server.local_addr().to_string();
    (node, server, address)
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
    assert_eq!(server.session_count(), 0);
}
