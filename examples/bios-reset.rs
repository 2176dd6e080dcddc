//! Resets a system's BIOS to its factory defaults (`#Bios.ResetBios`).
//!
//! ```text
//! cargo run --example bios-reset -- --bmc https://10.0.0.5 --user root --dry-run
//! cargo run --example bios-reset -- --bmc https://10.0.0.5 --user root --apply
//! cargo run --example bios-reset -- --apply      # no --bmc: an embedded mock BMC
//! ```
//!
//! `--dry-run` lists the writable attributes that are not at their registry default and sends
//! nothing. Without a flag the reset is requested and happens at the next reboot. `--apply`
//! requests it, resets the system, waits until the BMC reports the apply (a progress bar on
//! a terminal, plain lines on stderr otherwise)
//! and checks every attribute with a registry default is back at it. The password comes from
//! `FERROFISH_PASSWORD` or a prompt.
//!
//! Exit codes: 0 reset (or requested, or a dry run), 1 error, 2 invalid input, 3 accepted but
//! not applied (attributes still off their defaults after `--apply`; they are listed).

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ferrofish::bios::{ApplyEvent, ApplyOptions, Bios, BiosError, BiosSnapshot};
use ferrofish::redfish::TaskWait;
use serde_json::json;

mod support;

/// Command-line arguments.
#[derive(Debug, Parser)]
#[command(about = "Reset BIOS attributes to their factory defaults")]
struct Args {
    #[command(flatten)]
    bmc: support::BmcArgs,
    /// Reset the system to apply it, wait, and verify the defaults.
    #[arg(long, conflicts_with = "dry_run")]
    apply: bool,
    /// List the attributes not at their default; send nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// How long `--apply` waits for the BMC, in seconds.
    #[arg(long, default_value_t = 1800)]
    wait_timeout: u64,
}

/// Writable attributes whose current value is not the registry's default. Pure.
fn off_default(snapshot: &BiosSnapshot) -> Vec<String> {
    let Some(registry) = snapshot.registry.registry.as_deref() else {
        return Vec::new();
    };
    registry
        .attributes
        .iter()
        .filter(|a| !a.read_only && !a.immutable)
        .filter_map(|a| {
            let default = a.default_value.as_ref()?;
            let current = snapshot.current.get(&a.name)?;
            (current.to_wire() != *default).then(|| a.name.clone())
        })
        .collect()
}

fn progress_step(event: &ApplyEvent) -> support::progress::Step {
    let (message, percent) = match event {
        ApplyEvent::Resetting(reset) => (format!("resetting the system ({reset})"), None),
        ApplyEvent::Job { state, percent } => (format!("BIOS job: {state}"), *percent),
        ApplyEvent::Waiting { .. } => {
            ("waiting for the BMC to apply the defaults".to_owned(), None)
        }
        other => (format!("{other:?}"), None),
    };
    support::progress::Step { message, percent }
}

async fn reset(args: &Args, bios: &Bios) -> Result<(String, serde_json::Value), (u8, String)> {
    let snapshot = bios.read().await.map_err(|e| (1, e.to_string()))?;
    let differ = off_default(&snapshot);
    if snapshot.registry.registry.is_none() {
        eprintln!("bios-reset: the BMC offers no attribute registry; defaults cannot be checked");
    }
    if args.dry_run {
        let text = format!(
            "{} attribute(s) not at their default{}{}\ndry run: nothing sent",
            differ.len(),
            if differ.is_empty() { "" } else { ": " },
            differ.join(", ")
        );
        return Ok((text, json!({ "dry_run": true, "not_default": differ })));
    }
    let options = ApplyOptions {
        wait: TaskWait {
            timeout: if args.apply {
                Duration::from_secs(args.wait_timeout)
            } else {
                // Without --apply nothing applies the reset: read once and stop.
                Duration::ZERO
            },
            ..TaskWait::default()
        },
        reset: args.apply,
    };
    let mut progress = support::progress::WaitProgress::new();
    let outcome = bios
        .factory_reset(&options, &mut |event| progress.show(progress_step(event)))
        .await;
    progress.finish();
    match outcome {
        Ok(report) if !args.apply => Ok((
            "BIOS reset requested: it applies at the next reboot (every attribute is at its \
             default already)"
                .to_owned(),
            json!({ "applied": false, "requested": true, "report": report }),
        )),
        Ok(report) => Ok((
            format!(
                "BIOS reset to defaults: {} attribute(s) checked, all at their default",
                report.checked
            ),
            json!({ "applied": true, "report": report }),
        )),
        Err(BiosError::FactoryResetNotApplied { report }) if !args.apply => Ok((
            format!(
                "BIOS reset requested: it applies at the next reboot ({} attribute(s) will \
                 return to their default: {})",
                report.not_default.len(),
                report.not_default.join(", ")
            ),
            json!({ "applied": false, "requested": true, "report": report }),
        )),
        Err(BiosError::FactoryResetNotApplied { report }) => Err((
            3,
            format!(
                "the BMC accepted the reset but {} attribute(s) are not at their default: {}",
                report.not_default.len(),
                report.not_default.join(", ")
            ),
        )),
        Err(err) => Err((1, err.to_string())),
    }
}

async fn run(args: Args) -> Result<String, (u8, String)> {
    support::check(&args.bmc).map_err(|m| (2, m))?;
    let connected = support::connect(&args.bmc, "bios-reset")
        .await
        .map_err(|m| (1, m))?;
    let outcome = reset(&args, &Bios::new(&connected.system)).await;
    connected.close().await;
    let (text, value) = outcome?;
    if args.json {
        serde_json::to_string_pretty(&value)
            .map_err(|err| (1, format!("cannot encode JSON: {err}")))
    } else {
        Ok(text)
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    match run(Args::parse()).await {
        Ok(output) => {
            println!("{output}");
            ExitCode::SUCCESS
        }
        Err((code, message)) => {
            eprintln!("bios-reset: {message}");
            ExitCode::from(code)
        }
    }
}
