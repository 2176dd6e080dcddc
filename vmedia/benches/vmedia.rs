//! Request counts of a virtual-media boot against the mock BMC, and the image server's
//! throughput with concurrent Range readers. Everything stays on 127.0.0.1.
//!
//! `cargo bench -p ferrofish-vmedia --bench vmedia` prints, per personality, the requests of
//! insert + boot override + reset + eject on a client that has already read the service root
//! (deterministic; the goal is 7, sushy needs 11), then MiB/s for 4 readers each fetching a
//! quarter of one image by Range. `FERROFISH_BENCH_IMAGE_MIB` sets the image size (default
//! 1024 MiB; the file is written to a temporary directory and removed).

use std::time::{Duration, Instant};

use ferrofish_mock_bmc::{DEFAULT_PASSWORD, DEFAULT_USER, MockBmc, Personality};
use ferrofish_redfish_core::models::{BootOverrideEnabled, BootSource, ResetType};
use ferrofish_redfish_core::{BootOverride, RedfishClient, RequestCounts, SecretString};
use ferrofish_vmedia::{
    ConfigDrive, ImageServer, ImageServerOptions, MediaKind, NetworkData, VirtualMedia,
};

const GOAL: u64 = 7;
const SUSHY: u64 = 11;
const READERS: u64 = 4;

fn line(what: &str, counts: &RequestCounts) -> String {
    format!(
        "{what:<9} {:>2} ({} GET, {} POST, {} PATCH)",
        counts.total, counts.get, counts.post, counts.patch
    )
}

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
    )
    .build()
    .expect("config drive");
    let url = server
        .serve_bytes("config-2.iso", drive)
        .await
        .expect("serve");
    let media = VirtualMedia::new(&system);
    let mut parts = Vec::new();
    let mut total = 0;

    client.reset_request_counts();
    let slot = media
        .insert(url.as_str(), MediaKind::Cd)
        .await
        .expect("insert");
    parts.push(line("insert", &client.request_counts()));
    total += client.request_counts().total;

    client.reset_request_counts();
    let _outcome = client
        .set_boot_override(
            system.path(),
            BootOverride {
                target: BootSource::Cd,
                enabled: BootOverrideEnabled::Once,
                mode: None,
            },
        )
        .await
        .expect("override");
    parts.push(line("override", &client.request_counts()));
    total += client.request_counts().total;

    client.reset_request_counts();
    // The mock starts powered off: power on (what `boot_from_iso` sends then).
    system.reset(ResetType::On).await.expect("reset");
    parts.push(line("reset", &client.request_counts()));
    total += client.request_counts().total;

    client.reset_request_counts();
    // `insert` returned the slot as read back after the insert: no read needed.
    media.eject(&slot).await.expect("eject");
    parts.push(line("eject", &client.request_counts()));
    total += client.request_counts().total;

    println!(
        "{:<11} total {total:>2} requests (goal <= {GOAL}, sushy: {SUSHY}) | {}",
        format!("{personality:?}"),
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
