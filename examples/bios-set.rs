//! Validates, stages and optionally applies BIOS settings on one system.
//!
//! ```text
//! cargo run --example bios-set -- --bmc https://10.0.0.5 --user root --set ProcVirtualization=Enabled --dry-run
//! cargo run --example bios-set -- --bmc https://10.0.0.5 --user root --file settings.json --apply
//! cargo run --example bios-set -- --set hyper-threading=off --apply     # no --bmc: an embedded mock BMC
//! cargo install --path . --example bios-set
//! ```
//!
//! Settings come from `--set NAME=VALUE` (repeatable) and/or `--file`, which reads Ironic's
//! settings list (`[{"name": ..., "value": ...}]`, also as `{"settings": [...]}` or a whole
//! `apply_configuration` clean step), a plain JSON object, or `NAME=VALUE` lines. Names are
//! vendor attribute names or portable names (`hyper-threading`, `virtualization`, ...).
//!
//! The profile is validated against the attribute registry before anything is sent; a refused
//! profile prints every problem, with the closest valid names for an unknown one. `--dry-run`
//! prints the validated diff and sends nothing. Without `--apply` the changes are staged and
//! apply at the next reset; with it, the system is reset, the wait shows progress on stderr
//! (an indicatif progress bar on a terminal, plain lines otherwise), and the per-attribute
//! report is printed (`--no-reset`: wait for a reboot done some other way). The password comes from `FERROFISH_PASSWORD` or a prompt.
//!
//! Exit codes:
//!
//! | code | meaning |
//! |---|---|
//! | 0 | applied (`--apply`), staged, nothing to change, or a clean `--dry-run` |
//! | 1 | error (the BMC, the network, TLS, an unexpected answer) |
//! | 2 | invalid input: bad arguments, an unreadable file, a profile the registry refuses; nothing was sent |
//! | 3 | accepted but not applied: when the wait ends, some attribute is still pending, rejected or not applied (the report says which) |

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ferrofish::bios::{
    ApplyEvent, ApplyOptions, ApplyReport, AttributeStatus, Bios, BiosError, Diff, Profile,
    Validated,
};
use ferrofish::redfish::TaskWait;
use serde_json::{Value, json};

mod support;

/// Exit code: invalid input, nothing sent.
const INVALID_INPUT: u8 = 2;
/// Exit code: the BMC accepted the changes but did not apply them all.
const NOT_APPLIED: u8 = 3;

/// Command-line arguments.
#[derive(Debug, Parser)]
#[allow(clippy::struct_excessive_bools)] // command-line flags, each its own switch
#[command(about = "Validate, stage and apply BIOS settings")]
#[command(group = clap::ArgGroup::new("settings").required(true).multiple(true).args(["set", "file"]))]
struct Args {
    #[command(flatten)]
    bmc: support::BmcArgs,
    /// A setting, `NAME=VALUE` (repeatable). The value is converted to the attribute's type.
    #[arg(long, value_name = "NAME=VALUE")]
    set: Vec<String>,
    /// A settings file: Ironic's list, a JSON object, or `NAME=VALUE` lines.
    #[arg(long, value_name = "FILE")]
    file: Option<std::path::PathBuf>,
    /// Reset the system to apply the staged changes, wait, and verify each attribute.
    #[arg(long, conflicts_with = "dry_run")]
    apply: bool,
    /// Validate and print the diff; send nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// With `--apply`: do not reset; wait for a reboot done some other way.
    #[arg(long, requires = "apply")]
    no_reset: bool,
    /// How long `--apply` waits for the BMC, in seconds.
    #[arg(long, default_value_t = 1800)]
    wait_timeout: u64,
}

/// What went wrong, and the exit code it maps to.
struct Failure {
    code: u8,
    message: String,
    /// JSON for stdout under `--json` (the problems, the report).
    json: Option<Value>,
}

impl Failure {
    fn error(message: impl Into<String>) -> Failure {
        Failure {
            code: 1,
            message: message.into(),
            json: None,
        }
    }

    fn invalid(message: impl Into<String>) -> Failure {
        Failure {
            code: INVALID_INPUT,
            message: message.into(),
            json: None,
        }
    }
}

/// Maps a BIOS error to the exit code and the text: every problem on its own line. Pure.
fn failure_of(err: BiosError) -> Failure {
    match err {
        BiosError::Invalid { problems } => {
            let mut message = format!(
                "the profile was refused ({} problem(s)); nothing was sent:",
                problems.len()
            );
            for problem in &problems {
                message.push_str("\n  ");
                message.push_str(&problem.to_string());
            }
            Failure {
                code: INVALID_INPUT,
                message,
                json: Some(json!({ "problems": problems })),
            }
        }
        BiosError::ProfileFormat { .. } => Failure::invalid(err.to_string()),
        BiosError::NotApplied { report } => Failure {
            code: NOT_APPLIED,
            message: format!(
                "the BMC accepted the changes but did not apply them all:\n{}",
                report_lines(&report)
            ),
            json: Some(json!({ "applied": false, "report": report })),
        },
        other => Failure::error(other.to_string()),
    }
}

/// The profile from `--file` then `--set`, in that order.
fn profile_of(args: &Args) -> Result<Profile, Failure> {
    let mut profile = match &args.file {
        Some(path) => Profile::read_file(path).map_err(failure_of)?,
        None => Profile::new(),
    };
    let pairs =
        Profile::from_pairs(args.set.iter().map(String::as_str)).map_err(|err| match err {
            BiosError::ProfileFormat { reason } => {
                Failure::invalid(format!("--set: {reason} (write --set NAME=VALUE)"))
            }
            other => failure_of(other),
        })?;
    profile.entries.extend(pairs.entries);
    Ok(profile)
}

/// One line per attribute of the report.
fn report_lines(report: &ApplyReport) -> String {
    report
        .attributes
        .iter()
        .map(|a| {
            let status = match &a.status {
                AttributeStatus::Applied => "applied".to_owned(),
                AttributeStatus::StillPending => "still pending".to_owned(),
                AttributeStatus::Rejected {
                    message_id,
                    message,
                } => format!(
                    "rejected ({}: {})",
                    message_id.as_deref().unwrap_or("no MessageId"),
                    message.as_deref().unwrap_or("no message")
                ),
                AttributeStatus::NotApplied => "not applied".to_owned(),
                AttributeStatus::Unverifiable => "set (a password: cannot be read back)".to_owned(),
                other => format!("{other:?}"),
            };
            format!("  {}: {status}", a.name)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The diff as text, with what validation noted.
fn diff_text(diff: &Diff, validated: &Validated) -> String {
    let mut out = diff.to_string();
    if !diff.is_empty() && !diff.already_pending.is_empty() {
        let _ = write!(
            out,
            "\nalready pending: {}",
            diff.already_pending.join(", ")
        );
    }
    if validated.registry_missing {
        out.push_str("\nnote: the BMC offers no attribute registry; values were not checked");
    }
    for note in &validated.notes {
        out.push_str("\nnote: ");
        out.push_str(note);
    }
    out
}

fn progress_step(event: &ApplyEvent) -> support::progress::Step {
    let (message, percent) = match event {
        ApplyEvent::Resetting(reset) => (format!("resetting the system ({reset})"), None),
        ApplyEvent::Job { state, percent } => (format!("BIOS job: {state}"), *percent),
        ApplyEvent::Waiting { outstanding } => (
            format!("waiting for the BMC: {outstanding} change(s) not current yet"),
            None,
        ),
        other => (format!("{other:?}"), None),
    };
    support::progress::Step { message, percent }
}

async fn set(args: &Args, bios: &Bios, profile: &Profile) -> Result<(String, Value), Failure> {
    if args.dry_run {
        let (_snapshot, plan) = bios.plan(profile).await.map_err(failure_of)?;
        let text = format!(
            "{}\ndry run: nothing sent",
            diff_text(&plan.diff, &plan.validated)
        );
        let value = json!({ "dry_run": true, "diff": plan.diff, "notes": plan.validated.notes });
        return Ok((text, value));
    }
    let staged = bios.stage(profile).await.map_err(failure_of)?;
    let mut text = diff_text(&staged.plan.diff, &staged.plan.validated);
    if staged.sent {
        let _ = write!(text, "\nstaged at {}", staged.settings_url);
        if let Some(job) = &staged.job {
            let _ = write!(text, " (job {job})");
        }
    }
    let mut value = json!({
        "dry_run": false,
        "staged": staged.sent,
        "settings": staged.settings_url.as_str(),
        "job": staged.job,
        "diff": staged.plan.diff,
    });
    if !args.apply {
        if staged.sent {
            text.push_str("\napplies at the next reset (or run again with --apply)");
        }
        return Ok((text, value));
    }
    let options = ApplyOptions {
        wait: TaskWait {
            timeout: Duration::from_secs(args.wait_timeout),
            ..TaskWait::default()
        },
        reset: !args.no_reset,
    };
    let mut progress = support::progress::WaitProgress::new();
    let applied = bios
        .apply(&staged, &options, &mut |event| {
            progress.show(progress_step(event));
        })
        .await;
    progress.finish();
    let report = applied.map_err(failure_of)?;
    text.push_str("\napplied:\n");
    text.push_str(&report_lines(&report));
    value["applied"] = json!(true);
    value["report"] = json!(report);
    Ok((text, value))
}

async fn run(args: Args) -> Result<String, Failure> {
    // Everything that can be checked here is, before the BMC is contacted.
    support::check(&args.bmc).map_err(Failure::invalid)?;
    let profile = profile_of(&args)?;
    if profile.entries.is_empty() {
        return Err(Failure::invalid("the profile sets nothing"));
    }
    let connected = support::connect(&args.bmc, "bios-set")
        .await
        .map_err(Failure::error)?;
    let bios = Bios::new(&connected.system);
    let outcome = set(&args, &bios, &profile).await;
    connected.close().await;
    let (text, value) = outcome?;
    if args.json {
        serde_json::to_string_pretty(&value)
            .map_err(|err| Failure::error(format!("cannot encode JSON: {err}")))
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
    let args = Args::parse();
    let json = args.json;
    match run(args).await {
        Ok(output) => {
            println!("{output}");
            ExitCode::SUCCESS
        }
        Err(failure) => {
            if json && let Some(value) = &failure.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(value).unwrap_or_default()
                );
            }
            eprintln!("bios-set: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
