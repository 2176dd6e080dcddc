//! IPMI benchmark against the mock BMC's RMCP+ server on 127.0.0.1: round trips and wall time
//! to open a session (suites 17 and 3), chassis-status polls per second over one reused
//! session, and the same kind of polls through `ipmitool -I lanplus -C 17` (one process, so one
//! session, per poll) for comparison. Not a test: it prints figures and asserts nothing.
//! Loopback only, bounded in time.
//!
//! `cargo bench --bench ipmi`

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferrofish::ipmi::{CipherSuite, IpmiClient};
use ferrofish_mock_bmc::ipmi::{
    IpmiConfig, IpmiServer, IpmiServerHandle, IpmiUser, Privilege, SimpleIpmiNode,
};
use secrecy::SecretString;

const USER: &str = "admin";
const PASSWORD: &str = "bench-password";

/// Sessions opened per cipher suite for the open-session figures.
const OPENS: u32 = 50;
/// Chassis-status polls over one session: this many, or [`POLL_BUDGET`], whichever first.
const POLLS: u32 = 2_000;
const POLL_BUDGET: Duration = Duration::from_secs(10);
/// `ipmitool` invocations (each is a process and a whole session): this many, or
/// [`IPMITOOL_BUDGET`], whichever first.
const IPMITOOL_RUNS: u32 = 20;
const IPMITOOL_BUDGET: Duration = Duration::from_secs(30);

fn client(server: &IpmiServerHandle, suite: CipherSuite) -> IpmiClient {
    IpmiClient::builder(server.local_addr().to_string())
        .credentials(USER, SecretString::from(PASSWORD))
        .cipher_suite(suite)
        .build()
        .expect("client arguments are valid")
}

/// Median and mean of some durations, in milliseconds.
fn summary(samples: &mut [Duration]) -> (f64, f64) {
    samples.sort_unstable();
    let median = samples
        .get(samples.len() / 2)
        .map_or(0.0, |d| d.as_secs_f64() * 1e3);
    let count = u32::try_from(samples.len()).unwrap_or(u32::MAX).max(1);
    let mean = samples.iter().sum::<Duration>().as_secs_f64() * 1e3 / f64::from(count);
    (median, mean)
}

/// (a) Open `OPENS` sessions with `suite`, one client each; the first command opens the
/// session, so its time is the handshake plus one chassis status.
async fn open_sessions(server: &IpmiServerHandle, suite: CipherSuite) {
    let mut first_command = Vec::new();
    let mut steady = Vec::new();
    let mut open_round_trips = Vec::new();
    for _ in 0..OPENS {
        let bmc = client(server, suite);
        let started = Instant::now();
        if let Err(error) = bmc.chassis_status().await {
            println!("suite {suite}: session failed: {error}");
            return;
        }
        first_command.push(started.elapsed());
        // Every round trip but the command's own belongs to opening the session.
        open_round_trips.push(bmc.stats().round_trips - 1);
        let started = Instant::now();
        if bmc.chassis_status().await.is_ok() {
            steady.push(started.elapsed());
        }
        if let Err(error) = bmc.close().await {
            println!("suite {suite}: close failed: {error}");
        }
    }
    open_round_trips.sort_unstable();
    open_round_trips.dedup();
    let (first_median, first_mean) = summary(&mut first_command);
    let (steady_median, _) = summary(&mut steady);
    println!(
        "suite {:>2}: round trips to open a session (privilege set included): {open_round_trips:?}",
        suite.id()
    );
    println!(
        "          open + first chassis status: median {first_median:.3} ms, mean {first_mean:.3} ms over {OPENS} sessions"
    );
    println!(
        "          open alone (minus a steady-state poll of median {steady_median:.3} ms): ~{:.3} ms",
        first_median - steady_median
    );
}

/// (b) Chassis-status polls over one reused session.
async fn polls_over_one_session(server: &IpmiServerHandle) -> Option<u32> {
    let bmc = client(server, CipherSuite::Suite17);
    if let Err(error) = bmc.chassis_status().await {
        println!("polls: session failed: {error}");
        return None;
    }
    let before = bmc.stats();
    let started = Instant::now();
    let mut polls = 0u32;
    while polls < POLLS && started.elapsed() < POLL_BUDGET {
        if let Err(error) = bmc.chassis_status().await {
            println!("polls: chassis status failed after {polls} polls: {error}");
            return None;
        }
        polls += 1;
    }
    let elapsed = started.elapsed();
    let after = bmc.stats();
    let _ = bmc.close().await;
    println!(
        "ferrofish, one session (suite 17): {polls} chassis status polls in {:.3} s = {:.0} polls/s ({} round trips, {} retransmissions, {} session opened)",
        elapsed.as_secs_f64(),
        f64::from(polls) / elapsed.as_secs_f64(),
        after.round_trips - before.round_trips,
        after.retransmissions - before.retransmissions,
        after.sessions_opened,
    );
    Some(polls)
}

/// Like one `ipmitool` invocation, but in-process: open a session, poll once, close.
async fn polls_with_a_session_each(server: &IpmiServerHandle, runs: u32) {
    let started = Instant::now();
    let mut done = 0u32;
    while done < runs && started.elapsed() < IPMITOOL_BUDGET {
        let bmc = client(server, CipherSuite::Suite17);
        if let Err(error) = bmc.chassis_status().await {
            println!("session-per-poll: failed: {error}");
            return;
        }
        let _ = bmc.close().await;
        done += 1;
    }
    let elapsed = started.elapsed();
    println!(
        "ferrofish, a session per poll (suite 17): {done} polls in {:.3} s = {:.1} polls/s",
        elapsed.as_secs_f64(),
        f64::from(done) / elapsed.as_secs_f64(),
    );
}

fn find_ipmitool() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("ipmitool"))
        .find(|candidate| candidate.is_file())
}

/// (c) `ipmitool -I lanplus -C 17 ... chassis status`, one process per poll.
fn ipmitool_polls(ipmitool: &PathBuf, port: u16, runs: u32) {
    let started = Instant::now();
    let mut done = 0u32;
    while done < runs && started.elapsed() < IPMITOOL_BUDGET {
        let output = Command::new(ipmitool)
            .args(["-I", "lanplus", "-C", "17", "-H", "127.0.0.1", "-p"])
            .arg(port.to_string())
            .args(["-U", USER, "-E", "-N", "1", "-R", "3", "chassis", "status"])
            // `-E`: the password comes from the environment, not the command line.
            .env("IPMI_PASSWORD", PASSWORD)
            .stdin(Stdio::null())
            .output();
        match output {
            Ok(output) if output.status.success() => done += 1,
            Ok(output) => {
                println!(
                    "ipmitool failed ({}): {}",
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                );
                return;
            }
            Err(error) => {
                println!("ipmitool could not run: {error}");
                return;
            }
        }
    }
    let elapsed = started.elapsed();
    println!(
        "ipmitool -I lanplus -C 17, a process per poll: {done} polls in {:.3} s = {:.1} polls/s",
        elapsed.as_secs_f64(),
        f64::from(done) / elapsed.as_secs_f64(),
    );
}

#[tokio::main]
async fn main() {
    let users = match IpmiUser::new(USER, PASSWORD, Privilege::Administrator) {
        Ok(user) => vec![user],
        Err(error) => {
            println!("bad bench user: {error}");
            return;
        }
    };
    let node = Arc::new(SimpleIpmiNode::new(true));
    let server = match IpmiServer::bind(
        "127.0.0.1:0".parse().expect("literal address"),
        node,
        IpmiConfig::new(users),
    )
    .await
    {
        Ok(server) => server,
        Err(error) => {
            println!("cannot start the mock ipmi server: {error}");
            return;
        }
    };
    println!("mock ipmi server on {}", server.local_addr());

    println!("\n(a) opening a session");
    for suite in [CipherSuite::Suite17, CipherSuite::Suite3] {
        open_sessions(&server, suite).await;
    }

    println!("\n(b) chassis status over one reused session");
    if polls_over_one_session(&server).await.is_none() {
        return;
    }

    println!("\n(c) chassis status, one session per poll");
    polls_with_a_session_each(&server, IPMITOOL_RUNS).await;
    match find_ipmitool() {
        Some(ipmitool) => {
            let port = server.local_addr().port();
            // A blocking thread, so the mock keeps answering on the runtime's workers.
            let _ = tokio::task::spawn_blocking(move || {
                ipmitool_polls(&ipmitool, port, IPMITOOL_RUNS);
            })
            .await;
        }
        None => println!("ipmitool not found on PATH: skipping the ipmitool comparison"),
    }
}
