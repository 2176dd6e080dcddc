//! Requests a BIOS read and a one-attribute stage cost, against the mock BMC on loopback, per
//! personality, printed beside the goals (read with registry on a warm client ≤ 4, sushy 12;
//! stage one attribute ≤ 3, sushy 5). Counts are deterministic; nothing leaves 127.0.0.1.
//!
//! `cargo bench -p ferrofish-bios --bench requests`

use std::time::Duration;

use ferrofish_bios::{Bios, Profile};
use ferrofish_mock_bmc::{DEFAULT_PASSWORD, DEFAULT_USER, MockBmc, Personality};
use ferrofish_redfish_core::{RedfishClient, SecretString};

const READ_GOAL: u64 = 4;
const STAGE_GOAL: u64 = 3;

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
        let staged = bios
            .stage(&Profile::new().set("BootSeqRetryCount", 7))
            .await
            .expect("stage");
        assert!(staged.sent);
        let stage = client.request_counts().total;
        within &= warm <= READ_GOAL && stage <= STAGE_GOAL;
        println!(
            "{:<11} {cold:>5} requests {warm:>5} requests {stage:>5} requests",
            format!("{personality:?}")
        );
        client.close().await.ok();
    }
    println!(
        "{}",
        if within {
            "every personality within the goals"
        } else {
            "ABOVE A GOAL"
        }
    );
}
