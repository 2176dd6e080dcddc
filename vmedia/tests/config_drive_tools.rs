//! The config drive checked by readers nobody here wrote: `isoinfo` (genisoimage), `xorriso`,
//! `blkid`, and the mock BMC's own ISO reader; plus a property test over random file trees.
//! A tool that is not installed is skipped with a message (`.ci/run` installs xorriso and
//! genisoimage).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use ferrofish_mock_bmc::iso9660::{IsoImage, config_drive_network};
use ferrofish_vmedia::{ConfigDrive, MetaData, NetworkData, write_iso};
use proptest::prelude::*;

const NETWORK_DATA: &str = r#"{
  "links": [
    {"id": "eno1", "type": "phy", "ethernet_mac_address": "52:54:00:aa:00:01"},
    {"id": "eno2", "type": "phy", "ethernet_mac_address": "52:54:00:aa:00:02"},
    {"id": "bond0", "type": "bond", "bond_links": ["eno1", "eno2"], "bond_mode": "active-backup"},
    {"id": "vlan42", "type": "vlan", "vlan_link": "bond0", "vlan_id": 42}
  ],
  "networks": [
    {"id": "n4", "type": "ipv4", "link": "vlan42", "ip_address": "192.0.2.77",
     "netmask": "255.255.255.0",
     "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "192.0.2.1"}]},
    {"id": "n6", "type": "ipv6", "link": "vlan42", "ip_address": "2001:db8::77",
     "netmask": "ffff:ffff:ffff:ffff::", "routes": []}
  ],
  "services": [{"type": "dns", "address": "192.0.2.53"}]
}"#;

fn drive() -> ConfigDrive {
    ConfigDrive {
        meta_data: MetaData {
            uuid: "0b6a3f0e-1a58-4e44-9d1c-2b1f6f3c9e10".into(),
            hostname: Some("node-7".into()),
            ..MetaData::default()
        },
        network_data: Some(NetworkData::from_json(NETWORK_DATA).unwrap()),
        user_data: Some(b"#cloud-config\nruncmd: [touch /ok]\n".to_vec()),
    }
}

/// Runs a tool with no stdin; `None` (and a message) when it is not installed.
fn run(tool: &str, args: &[&str]) -> Option<Output> {
    match Command::new(tool).args(args).stdin(Stdio::null()).output() {
        Ok(out) => Some(out),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!(
                "skipping the {tool} check: {tool} is not installed (apt-get install xorriso genisoimage)"
            );
            None
        }
        Err(e) => panic!("{tool} could not start: {e}"),
    }
}

fn stdout(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn write_image(dir: &Path, image: &[u8]) -> String {
    let path = dir.join("drive.iso");
    std::fs::write(&path, image).unwrap();
    path.to_str().unwrap().to_owned()
}

/// Extracts the whole image with xorriso and compares every file byte for byte; also checks
/// nothing else is on it.
fn xorriso_extracts_exactly(
    image_path: &str,
    files: &BTreeMap<String, Vec<u8>>,
    dir: &Path,
) -> Option<()> {
    let out_dir = dir.join("extracted");
    let out = run(
        "xorriso",
        &[
            "-abort_on",
            "FAILURE",
            "-indev",
            image_path,
            "-osirrox",
            "on",
            "-extract",
            "/",
            out_dir.to_str().unwrap(),
        ],
    )?;
    stdout(&out, "xorriso -extract");
    let mut found = BTreeMap::new();
    let mut stack = vec![out_dir.clone()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                stack.push(entry.path());
            } else {
                let rel = entry
                    .path()
                    .strip_prefix(&out_dir)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_owned();
                found.insert(rel, std::fs::read(entry.path()).unwrap());
            }
        }
    }
    assert_eq!(
        &found, files,
        "xorriso extracted something else than was written"
    );
    // Extracted files are read-only on an ISO; make them removable for the temp dir cleanup.
    let _ = Command::new("chmod")
        .args(["-R", "u+w", out_dir.to_str().unwrap()])
        .status();
    Some(())
}

#[test]
fn isoinfo_sees_label_joliet_rock_ridge_and_the_openstack_tree() {
    let image = drive().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write_image(dir.path(), &image);
    let Some(out) = run("isoinfo", &["-d", "-i", &path]) else {
        return;
    };
    let info = stdout(&out, "isoinfo -d");
    assert!(info.contains("Volume id: config-2"), "{info}");
    assert!(info.contains("Joliet with UCS level 3"), "{info}");
    assert!(info.contains("Rock Ridge signatures version 1"), "{info}");
    let want = [
        "/openstack/latest/meta_data.json",
        "/openstack/latest/network_data.json",
        "/openstack/latest/user_data",
    ];
    for flag in ["-J", "-R"] {
        let out = run("isoinfo", &[flag, "-f", "-i", &path]).unwrap();
        let listing = stdout(&out, "isoinfo -f");
        for file in want {
            assert!(
                listing.lines().any(|l| l == file),
                "{flag}: {file} missing in\n{listing}"
            );
        }
    }
    // The file as isoinfo reads it through Joliet names is what was written.
    let out = run(
        "isoinfo",
        &[
            "-J",
            "-x",
            "/openstack/latest/network_data.json",
            "-i",
            &path,
        ],
    )
    .unwrap();
    assert!(out.status.success());
    assert_eq!(
        out.stdout,
        drive().files().unwrap()["openstack/latest/network_data.json"]
    );
}

#[test]
fn xorriso_lists_and_extracts_byte_equal() {
    let drive = drive();
    let image = drive.build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write_image(dir.path(), &image);
    let Some(out) = run("xorriso", &["-indev", &path, "-find", "/", "-type", "f"]) else {
        return;
    };
    let listing = stdout(&out, "xorriso -find");
    for file in ["meta_data.json", "network_data.json", "user_data"] {
        assert!(
            listing.contains(&format!("'/openstack/latest/{file}'")),
            "{file} missing in\n{listing}"
        );
    }
    xorriso_extracts_exactly(&path, &drive.files().unwrap(), dir.path()).unwrap();
    let out = run("xorriso", &["-indev", &path, "-pvd_info"]).unwrap();
    let pvd = stdout(&out, "xorriso -pvd_info");
    assert!(pvd.contains("Volume Id    : config-2"), "{pvd}");
}

#[test]
fn blkid_reports_an_iso9660_labelled_config_2() {
    let image = drive().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write_image(dir.path(), &image);
    let Some(out) = run("blkid", &["-p", "-o", "export", &path]) else {
        return;
    };
    let text = stdout(&out, "blkid");
    assert!(text.lines().any(|l| l == "LABEL=config-2"), "{text}");
    assert!(text.lines().any(|l| l == "TYPE=iso9660"), "{text}");
}

#[test]
fn the_mock_bmc_reader_finds_the_static_address() {
    let image = drive().build().unwrap();
    let iso = IsoImage::parse(&image).unwrap();
    assert_eq!(iso.volume_label(), "config-2");
    assert_eq!(
        iso.read_file("openstack/latest/user_data").unwrap(),
        Some(&b"#cloud-config\nruncmd: [touch /ok]\n"[..])
    );
    let net = config_drive_network(&iso).unwrap().expect("a config drive");
    assert_eq!(net.address.to_string(), "192.0.2.77");
    assert_eq!(net.netmask.as_deref(), Some("255.255.255.0"));
    assert_eq!(
        net.gateway.map(|g| g.to_string()).as_deref(),
        Some("192.0.2.1")
    );
}

/// Names from a set that exercises lowercase, dots, dashes and 8.3 mangling (long names that
/// share a prefix).
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9_-]{0,11}",
        "[a-z]{1,8}\\.[a-z]{1,3}",
        "longname[0-9]{1,2}_with_a_shared_prefix",
        "[A-Za-z][A-Za-z0-9 .]{0,20}[a-z]",
    ]
}

/// Up to 12 files, up to 3 directories deep, 0 to 5000 bytes (several sectors).
fn tree() -> impl Strategy<Value = BTreeMap<String, Vec<u8>>> {
    proptest::collection::vec(
        (
            proptest::collection::vec(name(), 1..=3),
            proptest::collection::vec(any::<u8>(), 0..5000),
        ),
        0..12,
    )
    .prop_map(|entries| {
        // Keep only trees the format can hold: no file that is also a directory, no names equal
        // but for case in one directory (those are typed errors, tested in the unit tests).
        // `seen`: every prefix, lowercased → (as written, whether it is a file).
        let mut seen: BTreeMap<String, (String, bool)> = BTreeMap::new();
        let mut files = BTreeMap::new();
        'entry: for (parts, contents) in entries {
            for k in 1..=parts.len() {
                let prefix = parts[..k].join("/");
                let is_file = k == parts.len();
                if let Some((original, was_file)) = seen.get(&prefix.to_lowercase())
                    && (*original != prefix || *was_file || is_file)
                {
                    continue 'entry;
                }
            }
            for k in 1..=parts.len() {
                let prefix = parts[..k].join("/");
                seen.insert(prefix.to_lowercase(), (prefix, k == parts.len()));
            }
            files.insert(parts.join("/"), contents);
        }
        files
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    /// Every random tree is read back byte for byte by the mock's reader (always) and by
    /// xorriso (when installed), with nothing missing and nothing extra.
    #[test]
    fn random_trees_read_back_byte_equal(files in tree()) {
        let image = write_iso("PROPTEST", &files).unwrap();
        let iso = IsoImage::parse(&image).unwrap();
        prop_assert_eq!(iso.volume_label(), "PROPTEST");
        for (path, contents) in &files {
            prop_assert_eq!(iso.read_file(path).unwrap(), Some(&contents[..]), "{}", path);
        }
        let dir = tempfile::tempdir().unwrap();
        let path = write_image(dir.path(), &image);
        let _ = xorriso_extracts_exactly(&path, &files, dir.path());
    }
}

/// Long names sharing a prefix mangle to distinct 8.3 names in the primary tree, so a reader
/// without Joliet or Rock Ridge still sees every file.
#[test]
fn plain_iso9660_names_stay_unique_for_shared_long_prefixes() {
    let files: BTreeMap<String, Vec<u8>> = (0..12)
        .map(|i| (format!("dir/network_data_backup_{i}.json"), vec![b'x'; i]))
        .collect();
    let image = write_iso("NAMES", &files).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write_image(dir.path(), &image);
    let Some(out) = run("isoinfo", &["-f", "-i", &path]) else {
        return;
    };
    let listing = stdout(&out, "isoinfo -f");
    let names: std::collections::BTreeSet<&str> =
        listing.lines().filter(|l| l.starts_with("/DIR/")).collect();
    assert_eq!(names.len(), 12, "8.3 names collide:\n{listing}");
}
