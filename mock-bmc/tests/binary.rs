//! The binary: starts with port 0, prints one JSON line with every address, serves, stops on
//! SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// Starts the binary with `args` and reads the JSON line it prints once it serves.
fn start(args: &[&str]) -> (Child, serde_json::Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferrofish-mock-bmc"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("one line");
    let v = serde_json::from_str(&line).expect("json line");
    (child, v)
}

#[test]
fn prints_one_json_line_and_serves() {
    let (mut child, v) = start(&[
        "--nodes",
        "3",
        "--listen",
        "127.0.0.1:0",
        "--personality",
        "hpe",
        "--tls",
        "--faults",
        r#"{"latency_ms":0}"#,
    ]);
    assert_eq!(v["personality"], "hpe");
    assert_eq!(v["tls"], true);
    let nodes = v["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 3);
    let ports: std::collections::HashSet<_> = nodes
        .iter()
        .map(|n| n["addr"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ports.len(), 3, "distinct ephemeral ports");
    assert!(
        nodes[0]["url"]
            .as_str()
            .unwrap()
            .starts_with("https://127.0.0.1:")
    );
    let pem_path = v["ca_pem_path"].as_str().expect("pem path");
    let pem = std::fs::read_to_string(pem_path).expect("pem written");
    assert!(pem.contains("BEGIN CERTIFICATE"));
    let admin = v["admin"].as_str().expect("admin url");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let cert = reqwest::Certificate::from_pem(pem.as_bytes()).unwrap();
        let http = reqwest::Client::builder()
            .tls_certs_only([cert])
            .no_proxy()
            .build()
            .unwrap();
        let r = http
            .get(format!(
                "{}/redfish/v1/Systems/1",
                nodes[2]["url"].as_str().unwrap()
            ))
            .basic_auth("admin", Some("password"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let plain = reqwest::Client::builder().no_proxy().build().unwrap();
        let log: serde_json::Value = plain
            .get(format!("{admin}/nodes/2/requests"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(log["count"], 1);
    });
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().expect("exits");
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
    // The binary chose the PEM path itself, so it removes the file on the way out.
    assert!(
        !std::path::Path::new(pem_path).exists(),
        "{pem_path} left behind"
    );
}

#[test]
fn bad_personality_is_a_clear_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_ferrofish-mock-bmc"))
        .args(["--personality", "ibm"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown personality"));
}

#[test]
fn ipmi_addresses_are_in_the_json_line_and_answer() {
    let (mut child, v) = start(&[
        "--nodes",
        "2",
        "--listen",
        "127.0.0.1:0",
        "--admin-listen",
        "127.0.0.1:0",
        "--ipmi",
        "127.0.0.1:0",
    ]);
    let ipmi: Vec<std::net::SocketAddr> = v["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["ipmi"].as_str().expect("ipmi address").parse().unwrap())
        .collect();
    assert_eq!(ipmi.len(), 2);
    assert_ne!(ipmi[0], ipmi[1]);
    if Command::new("ipmitool").arg("-V").output().is_ok() {
        let out = Command::new("ipmitool")
            .args(["-I", "lanplus", "-C", "17", "-H", "127.0.0.1", "-p"])
            .arg(ipmi[1].port().to_string())
            .args([
                "-U", "admin", "-P", "password", "chassis", "power", "status",
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Chassis Power is off"), "{text}");
        // The command is in node 1's request log, read through the admin API.
        let admin = v["admin"].as_str().expect("admin url");
        let rt = tokio::runtime::Runtime::new().unwrap();
        let log: serde_json::Value = rt.block_on(async {
            reqwest::Client::builder()
                .no_proxy()
                .build()
                .unwrap()
                .get(format!("{admin}/nodes/1/requests"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        });
        assert!(
            log["entries"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["method"] == "IPMI" && e["path"] == "/ipmi/chassis/get-status"),
            "{log}"
        );
    } else {
        eprintln!("skipping the ipmitool part: ipmitool is not installed");
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().expect("exits");
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
}

#[test]
fn bad_ipmi_key_is_a_clear_error_that_does_not_echo_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_ferrofish-mock-bmc"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--ipmi",
            "127.0.0.1:0",
            "--ipmi-kg-hex",
            "5ecre7zz",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--ipmi-kg-hex"), "{stderr}");
    assert!(!stderr.contains("5ecre7zz"), "{stderr}");
}

/// `--faults` with a `"node"` index arms that node only; an entry without one arms every node.
#[test]
fn per_node_faults_from_the_command_line() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferrofish-mock-bmc"))
        .args(["--nodes", "2", "--listen", "127.0.0.1:0", "--faults"])
        .arg(r#"[{"node": 1, "transient_next": 1}, {"malformed_next": 0}]"#)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("one line");
    let v: serde_json::Value = serde_json::from_str(&line).expect("json line");
    let url = |i: usize| v["nodes"][i]["url"].as_str().expect("url").to_owned();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let statuses = rt.block_on(async {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let mut out = Vec::new();
        for i in [0, 1, 1] {
            let r = http
                .get(format!("{}/redfish/v1/Systems/1", url(i)))
                .basic_auth("admin", Some("password"))
                .send()
                .await
                .expect("GET");
            out.push(r.status().as_u16());
        }
        out
    });
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(statuses, vec![200, 503, 200]);

    // An index beyond the fleet is refused at start.
    let out = Command::new(env!("CARGO_BIN_EXE_ferrofish-mock-bmc"))
        .args(["--nodes", "1", "--listen", "127.0.0.1:0", "--faults"])
        .arg(r#"{"node": 5, "transient_next": 1}"#)
        .output()
        .expect("binary runs");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("beyond the fleet"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `--basic-auth-only`: the JSON line says so, the root links no `SessionService`, session
/// login is refused and HTTP Basic is served.
#[test]
fn basic_auth_only_from_the_command_line() {
    let (mut child, v) = start(&["--listen", "127.0.0.1:0", "--basic-auth-only"]);
    assert_eq!(v["basic_auth_only"], true);
    let url = v["nodes"][0]["url"].as_str().expect("url").to_owned();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (root, login, system) = rt.block_on(async {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let root: serde_json::Value = http
            .get(format!("{url}/redfish/v1/"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let login = http
            .post(format!("{url}/redfish/v1/SessionService/Sessions"))
            .json(&serde_json::json!({"UserName": "admin", "Password": "password"}))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        let system = http
            .get(format!("{url}/redfish/v1/Systems/1"))
            .basic_auth("admin", Some("password"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        (root, login, system)
    });
    let _ = child.kill();
    let _ = child.wait();
    assert!(root.get("SessionService").is_none(), "{root}");
    assert_eq!((login, system), (404, 200));
}

/// The binary logs to stderr through `RUST_LOG` (default `info`); stdout stays the one JSON line.
#[test]
fn logs_go_to_stderr_filtered_by_rust_log() {
    let run = |rust_log: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ferrofish-mock-bmc"));
        command
            .args(["--listen", "127.0.0.1:0"])
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(filter) = rust_log {
            command.env("RUST_LOG", filter);
        }
        let mut child = command.spawn().expect("binary starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("one line");
        let v: serde_json::Value = serde_json::from_str(&line).expect("stdout is the json line");
        let url = v["nodes"][0]["url"].as_str().expect("url").to_owned();
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let http = reqwest::Client::builder().no_proxy().build().unwrap();
            let r = http
                .get(format!("{url}/redfish/v1/Chassis"))
                .basic_auth("admin", Some("password"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        });
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let out = child.wait_with_output().expect("exits");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let default = run(None);
    assert!(default.contains("INFO"), "{default}");
    assert!(default.contains("mock BMC fleet started"), "{default}");
    assert!(
        !default.contains("/redfish/v1/Chassis"),
        "no debug lines at info: {default}"
    );
    let debug = run(Some("ferrofish_mock_bmc=debug"));
    assert!(debug.contains("DEBUG"), "{debug}");
    assert!(debug.contains("/redfish/v1/Chassis"), "{debug}");
    assert!(!debug.contains("password"), "{debug}");
    let quiet = run(Some("error"));
    assert!(!quiet.contains("INFO"), "{quiet}");
}

#[test]
fn ami_and_irmc_personalities_from_the_command_line() {
    for (name, system) in [
        ("ami", "/redfish/v1/Systems/Self"),
        ("irmc", "/redfish/v1/Systems/0"),
    ] {
        let (mut child, v) = start(&["--listen", "127.0.0.1:0", "--personality", name]);
        assert_eq!(v["personality"], name);
        let url = format!("{}{system}", v["nodes"][0]["url"].as_str().unwrap());
        let status = tokio::runtime::Runtime::new().unwrap().block_on(async {
            reqwest::Client::builder()
                .no_proxy()
                .build()
                .unwrap()
                .get(url)
                .basic_auth("admin", Some("password"))
                .send()
                .await
                .unwrap()
                .status()
        });
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(status, 200, "{name}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_ferrofish-mock-bmc"))
        .args(["--personality", "fujitsu"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("ami or irmc"));
}

#[test]
fn serves_a_capture_folder_read_only_with_paths_matched_without_case() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("redfish/v1");
    std::fs::create_dir_all(root.join("Systems/1")).unwrap();
    std::fs::write(
        root.join("index.json"),
        r#"{"Systems": {"@odata.id": "/redfish/v1/Systems"}}"#,
    )
    .unwrap();
    std::fs::write(
        root.join("Systems/1/index.json"),
        r#"{"Id": "1", "PowerState": "On"}"#,
    )
    .unwrap();
    let (mut child, v) = start(&[
        "--capture",
        dir.path().to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    let url = v["url"].as_str().expect("url").to_owned();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (system, patch, missing) = rt.block_on(async {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let system: serde_json::Value = http
            .get(format!("{url}/redfish/v1/systems/1/"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let patch = http
            .patch(format!("{url}/redfish/v1/Systems/1"))
            .json(&serde_json::json!({"PowerState": "Off"}))
            .send()
            .await
            .unwrap()
            .status();
        let missing = http
            .get(format!("{url}/redfish/v1/Systems/2"))
            .send()
            .await
            .unwrap()
            .status();
        (system, patch, missing)
    });
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        system["PowerState"], "On",
        "the captured file, case ignored"
    );
    assert_eq!(patch.as_u16(), 204);
    assert_eq!(missing.as_u16(), 404);
    // Read-only: the PATCH changed nothing on disk.
    let on_disk = std::fs::read_to_string(root.join("Systems/1/index.json")).unwrap();
    assert!(on_disk.contains("\"On\""));
}
