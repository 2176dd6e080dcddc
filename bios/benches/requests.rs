//! Requests a BIOS read and a one-attribute stage cost, against the mock BMC on loopback, per
//! personality, printed beside the goals (read with registry on a warm client ≤ 4, sushy 12;
//! stage one attribute ≤ 3, sushy 5). Counts are deterministic; nothing leaves 127.0.0.1.
//!
//! A stage that costs more because of a named vendor quirk prints those requests apart, read
//! from the mock's request log, and the goal is checked on the rest: on Dell the Manager read
//! before a write (its quirks depend on the firmware, `idrac10_version_restart`) and the
//! Lifecycle Controller's readiness (`lc_busy_refuses_config`); on AMI the settings object's
//! refusal of its own `ETag` before `If-Match: *` (`bios_settings_if_match_star`). sushy's 5
//! checks none of them.
//!
//! `cargo bench -p ferrofish-bios --bench requests`

use std::time::Duration;

use ferrofish_bios::{Bios, Profile};
use ferrofish_mock_bmc::{DEFAULT_PASSWORD, DEFAULT_USER, LogEntry, MockBmc, Personality};
use ferrofish_redfish_core::{RedfishClient, SecretString};

const READ_GOAL: u64 = 4;
const STAGE_GOAL: u64 = 3;

/// The stage's requests that a named vendor quirk costs, from the mock's log of it.
fn quirk_costs(log: &[LogEntry]) -> [(&'static str, u64); 3] {
    let count = |keep: &dyn Fn(&LogEntry) -> bool| log.iter().filter(|e| keep(e)).count() as u64;
    [
        (
            "idrac10_version_restart",
            count(&|e| e.method == "GET" && e.path.contains("/Managers/")),
        ),
        (
            "lc_busy_refuses_config",
            count(&|e| e.method == "POST" && e.path.contains("DellLCService")),
        ),
        (
            "bios_settings_if_match_star",
            count(&|e| e.method == "PATCH" && e.status == 412),
        ),
    ]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    println!(
        "{:<11} {:>14} {:>14} {:>14}   goals: warm read <= {READ_GOAL} (sushy 12), stage <= {STAGE_GOAL} (sushy 5)",
        "personality", "cold read", "warm read", "stage one"
    );
    let mut within = true;
    for personality in Personality::ALL {
        let mock = MockBmc::builder()
            .personality(personality)
            .spawn()
            .await
            .expect("mock");
        let client = RedfishClient::builder(mock.node(0).url())
            .credentials(DEFAULT_USER, SecretString::from(DEFAULT_PASSWORD))
            .request_timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        let system = client.systems().await.expect("systems").remove(0);
        let bios = Bios::new(&system);
        client.reset_request_counts();
        bios.read().await.expect("cold read");
        let cold = client.request_counts().total;
        client.reset_request_counts();
        bios.read().await.expect("warm read");
        let warm = client.request_counts().total;
        client.reset_request_counts();
        mock.node(0).clear_requests();
        let staged = bios
            .stage(&Profile::new().set("BootSeqRetryCount", 7))
            .await
            .expect("stage");
        assert!(staged.sent);
        let stage = client.request_counts().total;
        let quirk_costs = quirk_costs(&mock.node(0).requests());
        let for_quirks: u64 = quirk_costs.iter().map(|(_, n)| n).sum();
        within &= warm <= READ_GOAL && stage - for_quirks <= STAGE_GOAL;
        let named: Vec<String> = quirk_costs
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(quirk, n)| format!("{n} for {quirk}"))
            .collect();
        println!(
            "{:<11} {cold:>5} requests {warm:>5} requests {stage:>5} requests{}",
            format!("{personality:?}"),
            if named.is_empty() {
                String::new()
            } else {
                format!(" ({})", named.join(", "))
            }
        );
        client.close().await.ok();
    }
    println!(
        "{}",
        if within {
            "every personality within the goals (beside the requests named quirks cost)"
        } else {
            "ABOVE A GOAL"
        }
    );
}
