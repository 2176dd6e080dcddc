//! Boots a system once from an ISO through virtual media, with a config drive carrying static
//! network settings, so the node comes up without DHCP.
//!
//! ```text
//! cargo run --example vmedia-boot -- --bmc https://10.0.0.5 --user root --iso https://images.example/deploy.iso --network-data net.json
//! cargo run --example vmedia-boot -- --bmc https://10.0.0.5 --user root --iso ./deploy.iso --network-data net.json --json
//! cargo run --example vmedia-boot -- --network-data net.json --write-config-drive config-2.iso
//! cargo run --example vmedia-boot          # no --bmc: an embedded mock BMC boots a config drive
//! ```
//!
//! `--iso` is a URL the BMC can reach, or a local file this example serves itself over HTTP
//! (from the address that routes to the BMC, or `--serve-on`). `--network-data` is an OpenStack
//! `network_data.json`; the config drive built from it (label `config-2`) goes into a
//! removable-media slot beside the CD. The system boots once from the CD, the wait shows
//! progress on stderr, and what the node booted is printed; the media are ejected at the end.
//! `--write-config-drive FILE` only writes the config drive image and exits.
//!
//! Without `--bmc`, an embedded mock BMC is used: without `--iso`, the config drive's files go
//! on a bootable image (the mock boots an OS only from an El Torito CD), and the static address
//! the node took is read from the mock and printed. Without `--network-data` there, a sample
//! (`198.51.100.23/24`) is used. The password comes from `FERROFISH_PASSWORD` or a prompt.
//!
//! Exit codes: 0 booted (or the config drive written), 1 error, 2 invalid input.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ferrofish::vmedia::{
    BootOptions, BootPhase, BootReport, ConfigDrive, ImageServer, ImageServerOptions, MediaKind,
    MetaData, NetworkData, Slot, VirtualMedia, redact_url,
};
use serde_json::{Value, json};

mod support;

/// Network data for the embedded mock when none is given.
const SAMPLE_NETWORK_DATA: &str = r#"{
  "links": [{"id": "eno1", "type": "phy", "ethernet_mac_address": "52:54:00:12:34:56"}],
  "networks": [{"id": "n0", "type": "ipv4", "link": "eno1", "ip_address": "198.51.100.23",
                "netmask": "255.255.255.0",
                "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "198.51.100.1"}]}],
  "services": [{"type": "dns", "address": "198.51.100.53"}]
}"#;

/// Command-line arguments.
#[derive(Debug, Parser)]
#[command(about = "Boot a system once from an ISO through virtual media, with a config drive")]
struct Args {
    #[command(flatten)]
    bmc: support::BmcArgs,
    /// The ISO: an `http(s)://` URL the BMC can reach, or a local file to serve.
    #[arg(long, value_name = "URL|PATH")]
    iso: Option<String>,
    /// OpenStack `network_data.json` for the config drive.
    #[arg(long, value_name = "FILE")]
    network_data: Option<PathBuf>,
    /// The node's UUID in `meta_data.json` (default: the system's UUID).
    #[arg(long)]
    uuid: Option<String>,
    /// The host name in `meta_data.json`.
    #[arg(long)]
    hostname: Option<String>,
    /// Write the config drive image to FILE and exit; nothing is sent.
    #[arg(long, value_name = "FILE")]
    write_config_drive: Option<PathBuf>,
    /// The local address to serve images from (default: the one that routes to the BMC).
    #[arg(long, value_name = "IP")]
    serve_on: Option<IpAddr>,
    /// How long the boot may take, in seconds.
    #[arg(long, default_value_t = 600)]
    boot_timeout: u64,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Where the ISO comes from.
enum IsoSource {
    Url(String),
    File(PathBuf),
}

fn iso_source(iso: &str) -> Result<IsoSource, String> {
    if iso.starts_with("http://") || iso.starts_with("https://") {
        return Ok(IsoSource::Url(iso.to_owned()));
    }
    let path = PathBuf::from(iso);
    if path.is_file() {
        Ok(IsoSource::File(path))
    } else {
        Err(format!(
            "--iso {iso}: neither an http(s) URL nor a readable file"
        ))
    }
}

fn network_data(args: &Args) -> Result<Option<NetworkData>, String> {
    let Some(path) = &args.network_data else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    NetworkData::from_json(&text)
        .map(Some)
        .map_err(|err| format!("{}: {err}", path.display()))
}

/// A random-enough UUID for a config drive written without a system to take one from.
fn generated_uuid() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mixed = nanos ^ (u128::from(std::process::id()) << 64);
    let hex = format!("{mixed:032x}");
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// The local address the kernel would use to reach `endpoint` (a UDP "connect" sends nothing).
fn local_ip_toward(endpoint: &str) -> Result<IpAddr, String> {
    let after_scheme = endpoint.find("://").map_or(0, |i| i + 3);
    let https = endpoint.starts_with("https://");
    let authority = endpoint[after_scheme..]
        .split('/')
        .next()
        .unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, tail) = rest.split_once(']').unwrap_or((rest, ""));
        (host, tail.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = port
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or(if https { 443 } else { 80 });
    let target = (host, port);
    let bind: SocketAddr = if host.contains(':') {
        "[::]:0".parse().map_err(|_| "bad bind address")?
    } else {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(bind).map_err(|err| format!("cannot open a socket: {err}"))?;
    socket
        .connect(target)
        .and_then(|()| socket.local_addr())
        .map(|addr| addr.ip())
        .map_err(|err| format!("no route to {host} to serve images from (use --serve-on): {err}"))
}

/// A file name the image server accepts.
fn served_name(path: &Path) -> String {
    let name: String = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.trim_matches('.').is_empty() {
        "image.iso".to_owned()
    } else {
        name
    }
}

fn config_drive(args: &Args, uuid: String, network: Option<NetworkData>) -> ConfigDrive {
    ConfigDrive {
        meta_data: MetaData {
            uuid,
            hostname: args.hostname.clone(),
            ..MetaData::default()
        },
        network_data: network,
        user_data: None,
    }
}

fn write_config_drive(args: &Args, path: &Path) -> Result<String, (u8, String)> {
    let network = network_data(args).map_err(|m| (2, m))?;
    let uuid = args.uuid.clone().unwrap_or_else(generated_uuid);
    let image = config_drive(args, uuid.clone(), network)
        .build()
        .map_err(|err| (2, err.to_string()))?;
    std::fs::write(path, &image)
        .map_err(|err| (1, format!("cannot write {}: {err}", path.display())))?;
    if args.json {
        return serde_json::to_string_pretty(&json!({
            "config_drive": path.display().to_string(),
            "label": ferrofish::vmedia::CONFIG_DRIVE_LABEL,
            "bytes": image.len(),
            "uuid": uuid,
        }))
        .map_err(|err| (1, err.to_string()));
    }
    Ok(format!(
        "wrote the config drive (label {}, uuid {uuid}, {} bytes) to {}",
        ferrofish::vmedia::CONFIG_DRIVE_LABEL,
        image.len(),
        path.display()
    ))
}

/// What one boot did, for printing.
struct Booted {
    image: String,
    slot: String,
    config_drive_slot: Option<String>,
    reset: String,
    boot_progress: Option<String>,
    static_address: Option<Value>,
}

/// The node's UUID for `meta_data.json`: `--uuid`, else the system's, else a generated one.
async fn node_uuid(args: &Args, connected: &support::Connected) -> Result<String, String> {
    if let Some(uuid) = &args.uuid {
        return Ok(uuid.clone());
    }
    let system: ferrofish::redfish::Resource<Value> = connected
        .client
        .get(connected.system.path())
        .await
        .map_err(|e| e.to_string())?;
    Ok(system
        .value
        .get("UUID")
        .and_then(Value::as_str)
        .map_or_else(generated_uuid, str::to_owned))
}

/// The image server, on an address the BMC reaches (127.0.0.1 for the embedded mock).
async fn start_server(args: &Args, embedded: bool) -> Result<ImageServer, String> {
    let ip = match (embedded, args.serve_on) {
        (_, Some(ip)) => ip,
        (true, None) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        (false, None) => {
            // The Redfish endpoint (`https://host:port`), whatever scheme `--bmc` was given in.
            let bmc = args.bmc.bmc.as_deref().unwrap_or_default();
            let (endpoint, _) = support::split_bmc_url(bmc)?;
            local_ip_toward(&endpoint)?
        }
    };
    let server = ImageServer::start(ImageServerOptions::http(SocketAddr::new(ip, 0)))
        .await
        .map_err(|e| e.to_string())?;
    eprintln!("serving images from http://{}", server.local_addr());
    Ok(server)
}

/// Boots once from `image`, showing each phase `boot_from_iso` reports (ejecting, inserting,
/// the insert task, the override, the reset, each read while the node boots, the final
/// eject) on stderr.
async fn boot_with_progress(
    media: &VirtualMedia,
    image: &str,
    options: &BootOptions,
) -> Result<BootReport, ferrofish::vmedia::Error> {
    let shown = redact_url(image);
    // A bar on a terminal, plain lines otherwise.
    let mut progress = support::progress::WaitProgress::new();
    let started = std::time::Instant::now();
    let booted = media
        .boot_from_iso_with_progress(image, options, &mut |phase: &BootPhase| {
            progress.show(support::progress::Step {
                message: format!(
                    "booting from {shown}: {} ({} s)",
                    phase.describe(),
                    started.elapsed().as_secs()
                ),
                percent: None,
            });
        })
        .await;
    progress.finish();
    booted
}

/// Serves, inserts, boots. `inserted` collects the slots holding our media, for the eject.
async fn boot(
    args: &Args,
    connected: &support::Connected,
    media: &VirtualMedia,
    source: Option<IsoSource>,
    inserted: &mut Vec<Slot>,
    server: &mut Option<ImageServer>,
) -> Result<Booted, String> {
    let embedded = connected.mock.is_some();
    let mut network = network_data(args)?;
    if embedded && network.is_none() && source.is_none() {
        network = Some(NetworkData::from_json(SAMPLE_NETWORK_DATA).map_err(|e| e.to_string())?);
    }
    let uuid = node_uuid(args, connected).await?;
    let needs_server = !matches!(source, Some(IsoSource::Url(_))) || network.is_some();
    if needs_server {
        *server = Some(start_server(args, embedded).await?);
    }
    let drive = config_drive(args, uuid, network.clone());
    let image = match source {
        Some(IsoSource::Url(url)) => url,
        Some(IsoSource::File(path)) => server
            .as_ref()
            .ok_or("no image server")?
            .serve_file(&served_name(&path), &path)
            .await
            .map_err(|e| e.to_string())?
            .to_string(),
        None => {
            // Embedded mock only: the drive's files on a bootable image.
            let files = drive.files().map_err(|e| e.to_string())?;
            let files: Vec<(&str, &[u8])> = files
                .iter()
                .map(|(path, data)| (path.as_str(), data.as_slice()))
                .collect();
            let bootable = ferrofish_mock_bmc::iso9660::build_bootable_iso(
                ferrofish::vmedia::CONFIG_DRIVE_LABEL,
                &files,
            );
            network = None;
            server
                .as_ref()
                .ok_or("no image server")?
                .serve_bytes("config-2.iso", bootable)
                .await
                .map_err(|e| e.to_string())?
                .to_string()
        }
    };
    let mut config_drive_slot = None;
    if network.is_some() {
        let url = server
            .as_ref()
            .ok_or("no image server")?
            .serve_bytes("config-2.img", drive.build().map_err(|e| e.to_string())?)
            .await
            .map_err(|e| e.to_string())?;
        let slot = media
            .insert(url.as_str(), MediaKind::Removable)
            .await
            .map_err(|e| format!("inserting the config drive: {e}"))?;
        config_drive_slot = Some(slot.path.clone());
        inserted.push(slot);
    }

    let options = BootOptions {
        timeout: Duration::from_secs(args.boot_timeout),
        poll_interval: if embedded {
            Duration::from_millis(200)
        } else {
            Duration::from_secs(2)
        },
        eject_after: false,
    };
    let booted = boot_with_progress(media, &image, &options).await;
    let report = match booted {
        Ok(report) => report,
        Err(err) => {
            // Whatever slot took the image before the failure is ejected with the rest.
            if let Ok(slots) = media.slots().await {
                inserted.extend(slots.into_iter().filter(|s| s.holds(&image)));
            }
            return Err(err.to_string());
        }
    };
    inserted.push(report.slot.clone());
    let static_address = connected.mock.as_ref().and_then(|mock| {
        mock.node(0).view().static_network.map(|n| {
            json!({
                "address": n.address.to_string(),
                "netmask": n.netmask,
                "gateway": n.gateway.map(|g| g.to_string()),
            })
        })
    });
    Ok(Booted {
        image: redact_url(&image),
        slot: report.slot.path.clone(),
        config_drive_slot,
        reset: report.reset.to_string(),
        boot_progress: report.boot_progress,
        static_address,
    })
}

fn render(booted: &Booted, ejected: bool) -> String {
    let mut out = format!(
        "booted {} from {} (reset {}, BootProgress {})",
        booted.image,
        booted.slot,
        booted.reset,
        booted.boot_progress.as_deref().unwrap_or("not reported")
    );
    if let Some(slot) = &booted.config_drive_slot {
        let _ = write!(out, "\nconfig drive in {slot}");
    }
    if let Some(address) = &booted.static_address {
        let _ = write!(
            out,
            "\nstatic address: {} (netmask {}, gateway {})",
            address["address"].as_str().unwrap_or("-"),
            address["netmask"].as_str().unwrap_or("-"),
            address["gateway"].as_str().unwrap_or("-"),
        );
    }
    out.push_str(if ejected {
        "\nmedia ejected"
    } else {
        "\nmedia NOT ejected"
    });
    out
}

/// Ejects what this run inserted (best effort: an error is printed, not returned, so the boot's
/// own outcome is what the exit code says).
async fn eject(media: &VirtualMedia, inserted: &[Slot]) -> bool {
    let mut all = true;
    for slot in inserted {
        let ejected = match media.read_slot(slot).await {
            Ok(current) => media.eject(&current).await,
            Err(err) => Err(err),
        };
        if let Err(err) = ejected {
            eprintln!("vmedia-boot: ejecting {}: {err}", slot.path);
            all = false;
        }
    }
    all
}

async fn run(args: Args) -> Result<String, (u8, String)> {
    support::check(&args.bmc).map_err(|m| (2, m))?;
    if let Some(path) = &args.write_config_drive {
        return write_config_drive(&args, path);
    }
    let source = args
        .iso
        .as_deref()
        .map(iso_source)
        .transpose()
        .map_err(|m| (2, m))?;
    if source.is_none() && args.bmc.bmc.is_some() {
        return Err((2, "--iso is needed with --bmc".into()));
    }
    // Bad network data is bad input: found before the BMC is contacted.
    network_data(&args).map_err(|m| (2, m))?;
    let connected = support::connect(&args.bmc, "vmedia-boot")
        .await
        .map_err(|m| (1, m))?;
    let media = VirtualMedia::new(&connected.system);
    let mut inserted = Vec::new();
    let mut server = None;
    let booted = boot(
        &args,
        &connected,
        &media,
        source,
        &mut inserted,
        &mut server,
    )
    .await;
    let ejected = eject(&media, &inserted).await;
    connected.close().await;
    drop(server);
    let booted = booted.map_err(|m| (1, m))?;
    if args.json {
        serde_json::to_string_pretty(&json!({
            "image": booted.image,
            "slot": booted.slot,
            "config_drive_slot": booted.config_drive_slot,
            "reset": booted.reset,
            "boot_progress": booted.boot_progress,
            "static_address": booted.static_address,
            "ejected": ejected,
        }))
        .map_err(|err| (1, err.to_string()))
    } else {
        Ok(render(&booted, ejected))
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
            eprintln!("vmedia-boot: {message}");
            ExitCode::from(code)
        }
    }
}
