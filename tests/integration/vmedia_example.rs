//! Runs the real `vmedia-boot` example binary: against its embedded mock BMC (boots a config
//! drive and prints the static address the node took), against a mock started here (serves a
//! local ISO itself, inserts the config drive beside it, ejects at the end), and to write a
//! config drive whose ISO 9660 volume label the mock's reader checks.

use ferrofish_mock_bmc::iso9660::{IsoImage, build_bootable_iso};
use ferrofish_mock_bmc::{DEFAULT_PASSWORD, MockBmc};

use crate::support::run_example;

const NETWORK_DATA: &str = r#"{
  "links": [{"id": "eno1", "type": "phy", "ethernet_mac_address": "52:54:00:ab:cd:ef"}],
  "networks": [{"id": "n0", "type": "ipv4", "link": "eno1", "ip_address": "192.0.2.77",
                "netmask": "255.255.255.0",
                "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "192.0.2.1"}]}]
}"#;

/// A file in the temporary directory, unique to this test process and `what`.
fn temp_file(what: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "ferrofish-vmedia-example-{}-{what}",
        std::process::id()
    ))
}

#[tokio::test]
async fn vmedia_boot_without_bmc_boots_the_embedded_mock_and_prints_the_static_address() {
    let net = temp_file("net.json");
    std::fs::write(&net, NETWORK_DATA).unwrap();
    let output = run_example(
        "vmedia-boot",
        &["--network-data", net.to_str().unwrap(), "--json"],
        "unused",
    )
    .await;
    std::fs::remove_file(&net).ok();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("using an embedded mock BMC at http://127.0.0.1:"),
        "{stderr}"
    );
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    // The address comes from the mock, which read it from the network_data.json given here.
    assert_eq!(value["static_address"]["address"], "192.0.2.77", "{value}");
    assert_eq!(value["static_address"]["gateway"], "192.0.2.1");
    assert_eq!(value["ejected"], true);
    assert!(
        value["image"].as_str().unwrap().ends_with("/config-2.iso"),
        "{value}"
    );

    // And as text, with the sample network data.
    let output = run_example("vmedia-boot", &[], "unused").await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("static address: 198.51.100.23"), "{stdout}");
    assert!(stdout.contains("media ejected"), "{stdout}");
}

#[tokio::test]
async fn vmedia_boot_serves_a_local_iso_with_the_config_drive_and_ejects_both() {
    let mock = MockBmc::builder().spawn().await.unwrap();
    let node = mock.node(0);
    let iso = temp_file("deploy.iso");
    std::fs::write(
        &iso,
        build_bootable_iso("DEPLOY", &[("README.TXT", b"deploy")]),
    )
    .unwrap();
    let net = temp_file("net2.json");
    std::fs::write(&net, NETWORK_DATA).unwrap();
    let url = node.url();
    let output = run_example(
        "vmedia-boot",
        &[
            "--bmc",
            &url,
            "--user",
            "admin",
            "--iso",
            iso.to_str().unwrap(),
            "--network-data",
            net.to_str().unwrap(),
            "--boot-timeout",
            "60",
        ],
        DEFAULT_PASSWORD,
    )
    .await;
    std::fs::remove_file(&iso).ok();
    std::fs::remove_file(&net).ok();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("booted http://127.0.0.1:"), "{stdout}");
    assert!(
        stdout.contains("/…/ferrofish-vmedia-example-") && stdout.contains("-deploy.iso from "),
        "the image URL is shown redacted: {stdout}"
    );
    assert!(stdout.contains("config drive in "), "{stdout}");
    let view = node.view();
    let booted = view.booted.expect("the node booted");
    assert!(
        booted
            .image
            .as_deref()
            .is_some_and(|i| i.ends_with("-deploy.iso")),
        "{booted:?}"
    );
    assert!(
        view.inserted_media.is_empty(),
        "both media ejected: {:?}",
        view.inserted_media
    );
    let inserts = node
        .requests()
        .iter()
        .filter(|e| e.method == "POST" && e.path.ends_with("VirtualMedia.InsertMedia"))
        .count();
    assert_eq!(inserts, 2, "the config drive and the ISO");
    assert_eq!(node.view().sessions, 0, "the session is closed");
}

#[tokio::test]
async fn vmedia_boot_writes_a_config_drive_labelled_config_2() {
    let net = temp_file("net3.json");
    let out = temp_file("config-2.iso");
    std::fs::write(&net, NETWORK_DATA).unwrap();
    let output = run_example(
        "vmedia-boot",
        &[
            "--network-data",
            net.to_str().unwrap(),
            "--uuid",
            "0b6f9e52-4c1d-4e0a-9a51-6c2d7e3f4a5b",
            "--write-config-drive",
            out.to_str().unwrap(),
        ],
        "unused",
    )
    .await;
    let image = std::fs::read(&out);
    std::fs::remove_file(&net).ok();
    std::fs::remove_file(&out).ok();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        !stderr.contains("embedded mock"),
        "nothing is started: {stderr}"
    );
    let image = image.expect("the file was written");
    let iso = IsoImage::parse(&image).expect("ISO 9660");
    assert_eq!(iso.volume_label(), "config-2");
    let network = iso
        .read_file("openstack/latest/network_data.json")
        .unwrap()
        .expect("network_data.json");
    assert!(String::from_utf8_lossy(network).contains("192.0.2.77"));
    let meta = iso
        .read_file("openstack/latest/meta_data.json")
        .unwrap()
        .expect("meta_data.json");
    assert!(String::from_utf8_lossy(meta).contains("0b6f9e52-4c1d-4e0a-9a51-6c2d7e3f4a5b"));

    // Invalid network data is invalid input: exit 2, no file.
    let bad = temp_file("bad.json");
    std::fs::write(&bad, r#"{"links": [], "networks": [{"id": "n", "type": "ipv4", "link": "nope", "ip_address": "192.0.2.5", "netmask": "255.255.255.0"}]}"#).unwrap();
    let output = run_example(
        "vmedia-boot",
        &[
            "--network-data",
            bad.to_str().unwrap(),
            "--write-config-drive",
            out.to_str().unwrap(),
        ],
        "unused",
    )
    .await;
    std::fs::remove_file(&bad).ok();
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!out.exists());
}
