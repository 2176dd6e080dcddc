//! Request counts of a virtual-media boot against the mock BMC, and the image server's
//! throughput with concurrent Range readers. Everything stays on 127.0.0.1.
//!
//! `cargo bench -p ferrofish-vmedia --bench vmedia` prints, per personality, the requests of
//! one `boot_from_iso` (insert + boot override + reset + eject, the boot polls apart) on a
//! client that has listed its systems and knows its vendor (deterministic; the goal is 7,
//! sushy needs 11; `a_whole_boot_costs_seven_requests_besides_the_boot_polls` asserts it on
//! the generic personality), then MiB/s for 4 readers each fetching a
//! quarter of one image by Range. `FERROFISH_BENCH_IMAGE_MIB` sets the image size (default
//! 1024 MiB; the file is written to a temporary directory and removed).

use std::time::{Duration, Instant};

use ferrofish_mock_bmc::{DEFAULT_PASSWORD, DEFAULT_USER, MockBmc, Personality};
use ferrofish_redfish_core::{RedfishClient, RequestCounts, SecretString};
use ferrofish_vmedia::{
    BootOptions, BootPhase, ConfigDrive, ImageServer, ImageServerOptions, NetworkData, VirtualMedia,
};

const GOAL: u64 = 7;
const SUSHY: u64 = 11;
const READERS: u64 = 4;

/// Requests between two phase marks, by method.
fn line(what: &str, from: &RequestCounts, to: &RequestCounts) -> String {
    format!(
        "{what:<8} {:>2} ({} GET, {} POST, {} PATCH)",
        to.total - from.total,
        to.get - from.get,
        to.post - from.post,
        to.patch - from.patch
    )
}

/// One `boot_from_iso` (eject at the end) against the mock, on a client that has listed the
/// systems and knows its vendor; the progress callback marks where each phase starts, so the
/// requests of each phase are read from the client's counters. The polls while the node
/// boots are printed apart: they depend on how long the boot takes, not on the client.
async fn boot_requests(personality: Personality) {
    let mock = MockBmc::builder()
        .personality(personality)
        .spawn()
        .await
        .expect("mock");
    let client = RedfishClient::builder(mock.node(0).url())
        .credentials(DEFAULT_USER, SecretString::from(DEFAULT_PASSWORD))
        .build()
        .expect("client");
    let system = client.systems().await.expect("systems").remove(0);
    client.vendor().await.expect("vendor");
    let server = ImageServer::start(ImageServerOptions::http(
        "127.0.0.1:0".parse().expect("address"),
    ))
    .await
    .expect("image server");
    let drive = ConfigDrive::new(
        "bench",
        Some(
            NetworkData::from_json(
                r#"{"links":[{"id":"e","type":"phy"}],"networks":[{"id":"n","type":"ipv4","link":"e","ip_address":"192.0.2.9","netmask":"255.255.255.0"}]}"#,
            )
            .expect("network data"),
        ),
    );
    let files = drive.files().expect("config drive");
    let files: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(path, data)| (path.as_str(), data.as_slice()))
        .collect();
    // Bootable, so the mock boots an OS from it.
    let image = ferrofish_mock_bmc::iso9660::build_bootable_iso("config-2", &files);
    let url = server
        .serve_bytes("config-2.iso", image)
        .await
        .expect("serve");
    let media = VirtualMedia::new(&system);
    let options = BootOptions {
        timeout: Duration::from_secs(60),
        poll_interval: Duration::from_millis(50),
        eject_after: true,
    };
    client.reset_request_counts();
    let mut marks: Vec<(&'static str, RequestCounts)> = Vec::new();
    media
        .boot_from_iso_with_progress(url.as_str(), &options, &mut |phase: &BootPhase| {
            marks.push((phase.name(), client.request_counts()));
        })
        .await
        .expect("boot");
    let end = client.request_counts();
    let zero = RequestCounts::default();
    let mark = |name: &str| {
        marks
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(zero, |(_, c)| *c)
    };
    let polls = marks
        .iter()
        .filter(|(n, _)| *n == "waiting_for_boot")
        .count() as u64;
    let (override_at, reset_at, eject_at) = (
        mark("setting_override"),
        mark("resetting"),
        mark("ejecting_at_end"),
    );
    let mut after_reset = mark("waiting_for_boot");
    // The first poll is the GET just before the first waiting mark.
    after_reset.total -= 1;
    after_reset.get -= 1;
    let parts = [
        line("insert", &zero, &override_at),
        line("override", &override_at, &reset_at),
        line("reset", &reset_at, &after_reset),
        line("eject", &eject_at, &end),
    ];
    println!(
        "{:<11} total {:>2} requests (goal <= {GOAL}, sushy: {SUSHY}) | {} | + {polls} boot polls",
        format!("{personality:?}"),
        end.total - polls,
        parts.join(" | ")
    );
    let _ = client.close().await;
}

async fn throughput() {
    let mib: u64 = std::env::var("FERROFISH_BENCH_IMAGE_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let size = mib * 1024 * 1024;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("big.iso");
    {
        use std::io::Write;
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        let block: Vec<u8> = (0..1024 * 1024u32).map(|i| (i % 251) as u8).collect();
        for _ in 0..mib {
            file.write_all(&block).expect("write");
        }
        file.flush().expect("flush");
    }
    let server = ImageServer::start(ImageServerOptions::http(
        "127.0.0.1:0".parse().expect("address"),
    ))
    .await
    .expect("image server");
    let url = server.serve_file("big.iso", &path).await.expect("serve");
    let http = reqwest::Client::new();
    let started = Instant::now();
    let quarter = size / READERS;
    let readers: Vec<_> = (0..READERS)
        .map(|i| {
            let http = http.clone();
            let url = url.clone();
            tokio::spawn(async move {
                let (from, to) = (i * quarter, (i + 1) * quarter - 1);
                let mut response = http
                    .get(url)
                    .header("Range", format!("bytes={from}-{to}"))
                    .send()
                    .await
                    .expect("request");
                assert_eq!(response.status(), 206);
                let mut got = 0u64;
                while let Some(chunk) = response.chunk().await.expect("chunk") {
                    got += chunk.len() as u64;
                }
                got
            })
        })
        .collect();
    let mut bytes = 0;
    for reader in readers {
        bytes += reader.await.expect("reader");
    }
    let elapsed = started.elapsed().max(Duration::from_micros(1));
    assert_eq!(bytes, size);
    println!(
        "image server: {mib} MiB by {READERS} concurrent Range readers in {:.2} s = {:.0} MiB/s ({} fetches logged)",
        elapsed.as_secs_f64(),
        f64::from(u32::try_from(mib).unwrap_or(u32::MAX)) / elapsed.as_secs_f64(),
        server.fetches().len()
    );
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        for personality in [
            Personality::Generic,
            Personality::Dell,
            Personality::Hpe,
            Personality::Lenovo,
            Personality::Supermicro,
        ] {
            boot_requests(personality).await;
        }
        throughput().await;
    });
}
