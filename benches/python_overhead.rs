//! The Rust half of `python/bench/overhead.py`: the same calls the Python bindings make,
//! against the same running mock BMC, so the script can print the bindings' overhead.
//!
//! `cargo bench --bench python_overhead -- --urls-file FILE --calls N` (the password in
//! `FERROFISH_PASSWORD`, the user in `--user`, default `admin`) reads one BMC URL per line and
//! prints one JSON line:
//! - `serial_seconds`: N sequential `power_state` reads of the first BMC's first system, on one
//!   client through one kept system handle, as `RedfishClient.power_state()` reads (after one
//!   warm-up read that logs in and opens the connection), on a multi-thread runtime as the
//!   bindings use;
//! - `serial_cpu_seconds`: the CPU time the whole process (every thread) spent on them;
//! - `fleet_seconds`: one `power_state` read of every BMC at once, each on its own client
//!   (HTTP Basic, as the Python side), from one task.
//!
//! Nothing is asserted; everything stays on the loopback addresses the file names.

use std::process::ExitCode;
use std::time::Instant;

use ferrofish::redfish::{AuthMode, RedfishClient};
use futures::future::join_all;
use secrecy::SecretString;

struct Args {
    urls: Vec<String>,
    calls: u32,
    user: String,
}

fn parse_args() -> Result<Args, String> {
    let mut urls_file = None;
    let mut calls = 1000;
    let mut user = "admin".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // cargo bench passes it to every bench binary.
            "--bench" => {}
            "--urls-file" => urls_file = args.next(),
            "--calls" => {
                calls = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or("--calls needs a number")?;
            }
            "--user" => user = args.next().ok_or("--user needs a name")?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let urls_file = urls_file.ok_or("--urls-file FILE is required")?;
    let text = std::fs::read_to_string(&urls_file)
        .map_err(|err| format!("cannot read {urls_file}: {err}"))?;
    let urls: Vec<String> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if urls.is_empty() {
        return Err(format!("{urls_file} lists no URL"));
    }
    Ok(Args { urls, calls, user })
}

fn client(url: &str, user: &str, password: &str, auth: AuthMode) -> Result<RedfishClient, String> {
    RedfishClient::builder(url)
        .credentials(user.to_owned(), SecretString::from(password.to_owned()))
        .auth(auth)
        .build()
        .map_err(|err| err.to_string())
}

/// CPU time of the whole process (every thread: the runtime's workers too), in seconds.
fn process_cpu_seconds() -> f64 {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    #[allow(clippy::cast_precision_loss)] // seconds since the process started: far below 2^52
    let seconds = now.tv_sec as f64 + now.tv_nsec as f64 / 1e9;
    seconds
}

/// What one run measured, in seconds.
struct Figures {
    serial: f64,
    serial_cpu: f64,
    fleet: f64,
}

async fn measure(args: &Args, password: &str) -> Result<Figures, String> {
    let first = client(&args.urls[0], &args.user, password, AuthMode::Auto)?;
    let system = first
        .system_ids()
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .next()
        .ok_or("the BMC lists no system")?;
    // What `RedfishClient.power_state()` does in Python: the handle on the only system is
    // opened once and kept, and each call reads through it.
    let handle = first.system(&system).await.map_err(|e| e.to_string())?;
    handle.power_state().await.map_err(|e| e.to_string())?;
    let started = Instant::now();
    let cpu_before = process_cpu_seconds();
    for _ in 0..args.calls {
        handle.power_state().await.map_err(|e| e.to_string())?;
    }
    let serial = started.elapsed().as_secs_f64();
    let serial_cpu = process_cpu_seconds() - cpu_before;
    first.close().await.map_err(|e| e.to_string())?;

    let clients = args
        .urls
        .iter()
        .map(|url| client(url, &args.user, password, AuthMode::Basic))
        .collect::<Result<Vec<_>, _>>()?;
    let started = Instant::now();
    let polls = join_all(clients.iter().map(|client| async move {
        let ids = client.system_ids().await?;
        let id = ids.first().cloned().unwrap_or_default();
        client.system(&id).await?.power_state().await
    }))
    .await;
    let fleet = started.elapsed().as_secs_f64();
    if let Some(Err(err)) = polls.into_iter().find(Result::is_err) {
        return Err(err.to_string());
    }
    Ok(Figures {
        serial,
        serial_cpu,
        fleet,
    })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("python_overhead: {message}");
            return ExitCode::from(2);
        }
    };
    let Ok(password) = std::env::var("FERROFISH_PASSWORD") else {
        eprintln!("python_overhead: set FERROFISH_PASSWORD");
        return ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("python_overhead: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(measure(&args, &password)) {
        Ok(figures) => {
            println!(
                "{}",
                serde_json::json!({
                    "calls": args.calls,
                    "serial_seconds": figures.serial,
                    "serial_cpu_seconds": figures.serial_cpu,
                    "bmcs": args.urls.len(),
                    "fleet_seconds": figures.fleet,
                })
            );
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("python_overhead: {message}");
            ExitCode::FAILURE
        }
    }
}
