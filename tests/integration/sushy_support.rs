//! Starting `OpenStack`'s sushy-tools Redfish emulator (what Ironic's own CI tests against) as a
//! real peer: its fake driver (no libvirt), bound to 127.0.0.1 on a free port, HTTP basic auth
//! from a bcrypt htpasswd file, and its state in a temp dir of its own (by default sushy keeps
//! state in a shared `/tmp/sushy-emulator`, which parallel runs would trample).
//!
//! `scripts/test.sh` installs sushy-tools into the workspace's `.venv`; the emulator is looked
//! for there, then on `PATH`. Without it the tests skip with a message, unless
//! `FERROFISH_REQUIRE_SUSHY` is set (CI sets it).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The account in the htpasswd file.
pub const SUSHY_USERNAME: &str = "admin";
/// Its password (not sushy's usual one, so a passing test proves the credentials travel).
pub const SUSHY_PASSWORD: &str = "sushy-Pa55word-for-tests";
/// The fake system's UUID, which sushy also uses as its `Id`.
pub const SYSTEM_UUID: &str = "27946b59-9e44-4fa7-8e91-f3527a1ef094";
/// The fake system's name (an alias of the UUID through a redirect).
pub const SYSTEM_NAME: &str = "ferrofish-fake";
/// The MAC of its one NIC.
pub const NIC_MAC: &str = "52:54:00:4f:e3:01";
/// The capacity of its one drive.
pub const DRIVE_CAPACITY_BYTES: u64 = 899_527_000_000;

/// When set (CI sets it), a missing emulator fails the tests instead of skipping them.
const REQUIRE_ENV: &str = "FERROFISH_REQUIRE_SUSHY";

/// How long the emulator may take to answer its service root after starting.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// Makes temp dir names unique within the test process.
static NEXT: AtomicU64 = AtomicU64::new(0);

/// A running `sushy-emulator` and its temp dir; killed and removed on drop, panics included.
pub struct Sushy {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Drop for Sushy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Sushy {
    /// Starts an emulator with one fake system (powered off, one NIC, one drive, no memory).
    /// `None`, after printing why, when sushy-tools is not installed.
    pub fn start() -> Option<Sushy> {
        let Some(emulator) = find_emulator() else {
            let why = "sushy-emulator is not installed (not in .venv/bin nor on PATH); \
                       scripts/test.sh installs it (pip install sushy-tools)";
            // CI sets it, so a broken install fails instead of skipping quietly.
            assert!(
                std::env::var_os(REQUIRE_ENV).is_none(),
                "{REQUIRE_ENV} is set but {why}"
            );
            eprintln!("SKIP: {why}");
            return None;
        };
        let hash = bcrypt_hash(&python_of(&emulator), SUSHY_PASSWORD);
        // The port is free when picked, but another process may take it before sushy binds
        // it; a few attempts make that race harmless.
        let mut last_log = String::new();
        for _ in 0..3 {
            match Sushy::try_start(&emulator, &hash) {
                Ok(sushy) => return Some(sushy),
                Err(log) => last_log = log,
            }
        }
        panic!("sushy-emulator did not start; its log:\n{last_log}");
    }

    /// One attempt on a fresh port and temp dir; the emulator's log when it did not come up.
    fn try_start(emulator: &Path, hash: &str) -> Result<Sushy, String> {
        let dir = std::env::temp_dir().join(format!(
            "ferrofish-sushy-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("create the emulator's temp dir");
        let htpasswd = dir.join("htpasswd");
        std::fs::write(&htpasswd, format!("{SUSHY_USERNAME}:{hash}\n")).expect("write htpasswd");
        std::fs::write(
            dir.join("emulator.conf"),
            config(&htpasswd, &dir.join("state")),
        )
        .expect("write the emulator config");
        let port = free_tcp_port();
        let log = std::fs::File::create(dir.join("emulator.log")).expect("create the log");
        let spawned = Command::new(emulator)
            .arg("--config")
            .arg(dir.join("emulator.conf"))
            .args(["--interface", "127.0.0.1", "--port", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                panic!("spawn {}: {e}", emulator.display());
            }
        };
        // From here the guard kills the process and removes the dir, whatever happens.
        let mut sushy = Sushy { child, dir, port };
        if sushy.wait_until_up() {
            Ok(sushy)
        } else {
            Err(sushy.log())
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What the emulator printed (one line per request), for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("emulator.log")).unwrap_or_default()
    }

    /// Polls the service root (the one path that needs no credentials) until it answers 200.
    /// `false` when the process ended first (a port taken meanwhile) or the deadline passed.
    fn wait_until_up(&mut self) -> bool {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        while Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return false;
            }
            if service_root_answers(self.port) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }
}

/// `.venv/bin/sushy-emulator` at the workspace root, else the first on `PATH`.
fn find_emulator() -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/sushy-emulator");
    if venv.is_file() {
        return Some(venv);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("sushy-emulator"))
        .find(|candidate| candidate.is_file())
}

/// The Python that runs the emulator, which has sushy's dependency `bcrypt`: the script's
/// `#!` line, else `python3` beside it, else `python3` on `PATH`.
fn python_of(emulator: &Path) -> PathBuf {
    let script = std::fs::read_to_string(emulator).unwrap_or_default();
    if let Some(interpreter) = script
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("#!"))
        .map(str::trim)
        .filter(|interpreter| interpreter.contains("python") && !interpreter.contains(' '))
    {
        return PathBuf::from(interpreter);
    }
    let beside = emulator.with_file_name("python3");
    if beside.is_file() {
        beside
    } else {
        PathBuf::from("python3")
    }
}

/// A bcrypt hash of `password` for the htpasswd file, made by Python's `bcrypt` (so the tests
/// need no apache2-utils). Cost 4, the lowest: sushy checks it on every request. The password
/// goes through stdin, never a command line.
fn bcrypt_hash(python: &Path, password: &str) -> String {
    let mut child = Command::new(python)
        .args([
            "-c",
            "import bcrypt, sys; \
             print(bcrypt.hashpw(sys.stdin.buffer.read(), bcrypt.gensalt(rounds=4)).decode())",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {}: {e}", python.display()));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(password.as_bytes())
        .expect("send the password");
    let output = child.wait_with_output().expect("bcrypt hash");
    assert!(
        output.status.success(),
        "hashing with {} failed: {}",
        python.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("utf-8 hash")
        .trim()
        .to_owned()
}

/// The emulator's configuration, a Python file Flask reads. Storage, drive and (empty)
/// volume collections are configured, since sushy answers 500 for them otherwise; memory is
/// left out on purpose: its linked `Memory` collection answers 404, as on some real BMCs.
fn config(htpasswd: &Path, state_dir: &Path) -> String {
    let htpasswd = python_string(htpasswd);
    let state_dir = python_string(state_dir);
    format!(
        r#"SUSHY_EMULATOR_FAKE_DRIVER = True
SUSHY_EMULATOR_AUTH_FILE = {htpasswd}
SUSHY_EMULATOR_STATE_DIR = {state_dir}
SUSHY_EMULATOR_FAKE_SYSTEMS = [{{
    "uuid": "{SYSTEM_UUID}",
    "name": "{SYSTEM_NAME}",
    "power_state": "Off",
    "external_notifier": False,
    "nics": [{{"mac": "{NIC_MAC}", "ip": "192.0.2.10"}}],
}}]
SUSHY_EMULATOR_STORAGE = {{
    "{SYSTEM_UUID}": [{{
        "Id": "1",
        "Name": "Local Storage Controller",
        "StorageControllers": [{{"MemberId": "0", "Name": "RAID", "SpeedGbps": 12}}],
        "Drives": ["disk0"],
    }}],
}}
SUSHY_EMULATOR_DRIVES = {{
    ("{SYSTEM_UUID}", "1"): [{{
        "Id": "disk0",
        "Name": "Drive 0",
        "CapacityBytes": {DRIVE_CAPACITY_BYTES},
        "Protocol": "SAS",
    }}],
}}
SUSHY_EMULATOR_VOLUMES = {{("{SYSTEM_UUID}", "1"): []}}
"#
    )
}

/// A path as a Python string literal. Rust's escaping of a `str` (quotes, backslashes, `\n`)
/// reads back the same in Python for printable characters, which is all a temp dir path holds.
fn python_string(path: &Path) -> String {
    format!("{:?}", path.to_string_lossy())
}

fn free_tcp_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    listener.local_addr().expect("local addr").port()
}

/// One plain HTTP/1.0 GET of the service root, without any client library of ours.
fn service_root_answers(port: u16) -> bool {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    if stream
        .write_all(b"GET /redfish/v1/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0_u8; 12];
    stream.read_exact(&mut head).is_ok() && head.ends_with(b" 200")
}
