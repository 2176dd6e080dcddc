//! Power status and actions over Redfish or IPMI, saying which protocol did it.
//!
//! ```text
//! cargo run --example power -- status                 # no --bmc: an embedded mock BMC
//! cargo run --example power -- --bmc redfish://10.0.0.5 --user root on --wait
//! cargo run --example power -- --bmc ipmi://10.0.0.6 --user admin reboot
//! cargo run --example power -- --bmc idrac-redfish://10.0.0.5 --ipmi-port 623 --user root off --wait --json
//! ```
//!
//! With `--ipmi-port` the BMC is a combined endpoint: when Redfish is unreachable or answers
//! 5xx, the action goes over IPMI and the output says so. The password comes from
//! `FERROFISH_PASSWORD` or a prompt, never from the command line. `--wait` waits for the
//! state the action ends in (on for `reboot` and `cycle`), with progress on stderr. Exit codes:
//! 0 done, 1 error, 2 invalid input, 3 the state was not reached in time.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use ferrofish::{Error, Outcome, PowerAction};
use serde_json::{Value, json};

mod support;

/// Command-line arguments.
#[derive(Debug, Parser)]
#[command(about = "Power status, on, off, cycle and reboot over Redfish or IPMI")]
struct Args {
    #[command(flatten)]
    bmc: support::BmcArgs,
    /// What to do.
    #[arg(value_enum)]
    action: Action,
    /// Through the operating system: `off` becomes a shutdown, `reboot` a restart
    /// (Redfish only).
    #[arg(long)]
    graceful: bool,
    /// Wait until the power state is reached, showing progress.
    #[arg(long)]
    wait: bool,
    /// How long `--wait` waits, in seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Action {
    Status,
    On,
    Off,
    Cycle,
    Reboot,
}

/// The facade's action for the command line's, or `None` for `status`. Pure.
fn power_action(action: Action, graceful: bool) -> Result<Option<PowerAction>, String> {
    Ok(Some(match (action, graceful) {
        (Action::Status, false) => return Ok(None),
        (Action::On, false) => PowerAction::On,
        (Action::Off, false) => PowerAction::Off,
        (Action::Off, true) => PowerAction::GracefulOff,
        (Action::Cycle, false) => PowerAction::Cycle,
        (Action::Reboot, false) => PowerAction::Reboot,
        (Action::Reboot, true) => PowerAction::GracefulReboot,
        (other, true) => {
            return Err(format!(
                "--graceful applies to off and reboot, not {}",
                other
                    .to_possible_value()
                    .map_or("?".into(), |v| v.get_name().to_owned())
            ));
        }
    }))
}

/// `over Redfish`, or `over IPMI (Redfish failed: ...)`.
fn via_text<T>(outcome: &Outcome<T>) -> String {
    match &outcome.fallback_reason {
        Some(reason) => format!("over {} ({reason})", outcome.via),
        None => format!("over {}", outcome.via),
    }
}

fn via_json<T>(outcome: &Outcome<T>) -> Value {
    json!({ "via": outcome.via.as_str(), "fallback_reason": outcome.fallback_reason })
}

/// What went wrong, with the exit code it means.
struct Failure {
    code: u8,
    message: String,
}

impl From<Error> for Failure {
    fn from(err: Error) -> Failure {
        let code = if err.is_invalid_input() {
            2
        } else if matches!(err, Error::PowerWaitTimeout { .. }) {
            3
        } else {
            1
        };
        Failure {
            code,
            message: err.to_string(),
        }
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure { code: 1, message }
    }
}

async fn act(
    session: &support::Session,
    action: Option<PowerAction>,
    args: &Args,
) -> Result<Value, Failure> {
    let bmc = &session.bmc;
    let mut report = serde_json::Map::new();
    if let Some(action) = action {
        let done = bmc.power(action).await?;
        report.insert("action".into(), json!(action.as_str()));
        report.insert("action_result".into(), via_json(&done));
        if !args.json {
            println!("power {}: sent {}", action.as_str(), via_text(&done));
        }
    }
    if args.wait
        && let Some(action) = action
    {
        let wanted = action.target();
        // A bar on a terminal, plain lines otherwise.
        let mut progress = support::progress::WaitProgress::new();
        let reached = bmc
            .wait_for_power_state_with(
                wanted.clone(),
                Duration::from_secs(args.timeout),
                |read, elapsed| {
                    progress.show(support::progress::Step {
                        message: format!(
                            "waiting for {wanted}: {} after {:.1} s ({})",
                            read.value,
                            elapsed.as_secs_f64(),
                            read.via
                        ),
                        percent: None,
                    });
                },
            )
            .await;
        progress.finish();
        let reached = reached?;
        report.insert("waited".into(), via_json(&reached));
    }
    let state = bmc.power_state().await?;
    if !args.json {
        println!("power is {} ({})", state.value, via_text(&state));
    }
    report.insert("power_state".into(), json!(state.value.as_str()));
    report.insert("read".into(), via_json(&state));
    Ok(Value::Object(report))
}

async fn run(args: Args) -> Result<(), Failure> {
    let invalid = |message: String| Failure { code: 2, message };
    support::check(&args.bmc).map_err(invalid)?;
    let action = power_action(args.action, args.graceful).map_err(invalid)?;
    let session = support::open(&args.bmc, "power", support::MockIpmi::On).await?;
    let result = act(&session, action, &args).await;
    session.close().await;
    let report = result?;
    if args.json {
        println!("{report}");
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure { code, message }) => {
            eprintln!("power: {message}");
            ExitCode::from(code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graceful_only_for_off_and_reboot() {
        assert_eq!(power_action(Action::Status, false), Ok(None));
        assert_eq!(
            power_action(Action::Off, true),
            Ok(Some(PowerAction::GracefulOff))
        );
        assert_eq!(
            power_action(Action::Reboot, true),
            Ok(Some(PowerAction::GracefulReboot))
        );
        assert!(power_action(Action::Cycle, true).is_err());
        assert!(power_action(Action::Status, true).is_err());
    }
}
