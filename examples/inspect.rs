//! Out-of-band inspection of one BMC: prints each system's inventory as a table, or as JSON.
//!
//! ```text
//! cargo run --example inspect -- --bmc https://10.0.0.5 --user root [--json]
//! cargo run --example inspect -- --bmc https://10.0.0.5/redfish/v1/Systems/System.Embedded.1 --user root
//! cargo run --example inspect            # no --bmc: inspects an embedded mock BMC
//! ```
//!
//! The password comes from `FERROFISH_PASSWORD` or a prompt, never from the command line.
//! Without `--bmc` the example starts ferrofish's mock BMC on 127.0.0.1 and inspects it, so a
//! newcomer sees it work with nothing else installed.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ferrofish::redfish::{BmcIdentity, Inventory, RedfishClient, TlsVerification, Vendor};
use ferrofish_mock_bmc::MockBmc;
use secrecy::SecretString;

mod support;

use support::{password_from_env_or_prompt, split_bmc_url};

/// Command-line arguments.
#[derive(Debug, Parser)]
#[command(about = "Print the inventory of the systems behind one BMC")]
struct Args {
    /// The BMC: `http(s)://host[:port]`, optionally followed by a system path such as
    /// `/redfish/v1/Systems/1`. Without it, an embedded mock BMC is started and inspected.
    #[arg(long, requires = "user")]
    bmc: Option<String>,
    /// User name on the BMC (required with `--bmc`).
    #[arg(long, requires = "bmc")]
    user: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Trust this CA bundle (PEM file) instead of the system roots: the usual way to accept a
    /// BMC's self-signed certificate.
    #[arg(long, value_name = "PEM")]
    ca_file: Option<std::path::PathBuf>,
    /// Accept any certificate. Dangerous: anyone on the path can read the BMC password.
    #[arg(long)]
    danger_accept_invalid_certs: bool,
    /// Trust only the BMC's own certificate: a PEM file, or its SHA-256 fingerprint
    /// (`sha256:AB:CD:…` or 64 hex digits).
    #[arg(long, value_name = "PEM_OR_FINGERPRINT", conflicts_with_all = ["ca_file", "danger_accept_invalid_certs"])]
    pin_cert: Option<String>,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
}

/// Where the BMC is and which systems to inspect.
struct Target {
    endpoint: String,
    system: Option<String>,
    user: String,
    password: SecretString,
}

async fn inspect(
    args: &Args,
    target: Target,
) -> Result<(Option<BmcIdentity>, Vec<Inventory>), String> {
    let mut builder = RedfishClient::builder(&target.endpoint)
        .credentials(target.user, target.password)
        .request_timeout(Duration::from_secs(args.timeout));
    if args.danger_accept_invalid_certs {
        builder = builder.tls(TlsVerification::DangerAcceptInvalidCerts);
    } else if let Some(pin) = &args.pin_cert {
        builder = builder.tls(support::pinned_tls(pin)?);
    } else if let Some(path) = &args.ca_file {
        let pem = std::fs::read_to_string(path)
            .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
        builder = builder.tls(TlsVerification::CaBundlePem(pem));
    }
    let client = builder.build().map_err(|err| err.to_string())?;

    let inventories = async {
        // Handles: listed with one expanded request where the BMC allows, and each System
        // read there is not read again for its inventory.
        let systems = match &target.system {
            Some(system) => vec![client.system(system).await?],
            None => client.systems().await?,
        };
        let mut inventories = Vec::with_capacity(systems.len());
        for system in &systems {
            inventories.push(system.inventory().await?);
        }
        Ok::<_, ferrofish::redfish::Error>(inventories)
    };
    // Who the BMC is, read beside the inventory (it is off the critical path).
    let (identity, result) = futures::join!(client.identity(), inventories);
    // Close the session whatever happened: BMCs cap sessions and leaked ones lock users out.
    let closed = client.close().await;
    let inventories = result.map_err(|err| err.to_string())?;
    closed.map_err(|err| format!("closing the session: {err}"))?;
    let identity = identity
        .map_err(|err| eprintln!("inspect: cannot tell who the BMC is: {err}"))
        .ok();
    Ok((identity, inventories))
}

/// `BMC  Dell  model 14G Monolithic  firmware 6.10.00.00` and the quirks in force.
fn render_identity(identity: &BmcIdentity) -> String {
    let mut out = String::new();
    let vendor = match &identity.vendor {
        Vendor::Other(name) => name.clone(),
        Vendor::Generic => "unknown (DMTF behaviour)".to_owned(),
        known => format!("{known:?}"),
    };
    let _ = writeln!(
        out,
        "BMC  {vendor}  model {}  firmware {}",
        text_or_dash(identity.model.as_deref()),
        text_or_dash(identity.firmware.as_deref())
    );
    let quirks: Vec<String> = identity
        .quirks
        .iter()
        .map(|(field, value)| format!("{field}={value}"))
        .collect();
    let quirks = if quirks.is_empty() {
        "none".to_owned()
    } else {
        quirks.join(", ")
    };
    let _ = writeln!(out, "  quirks in force: {quirks}");
    out
}

/// The identity as the `bmc` object of `--json`: vendor, model, firmware, quirks.
fn identity_json(identity: &BmcIdentity) -> serde_json::Value {
    let vendor = match &identity.vendor {
        Vendor::Other(name) => name.clone(),
        known => format!("{known:?}"),
    };
    serde_json::json!({
        "vendor": vendor,
        "model": identity.model,
        "firmware": identity.firmware,
        "quirks": identity.quirks,
    })
}

fn text_or_dash(value: Option<&str>) -> &str {
    value.filter(|v| !v.is_empty()).unwrap_or("-")
}

fn render_table(inventory: &Inventory) -> String {
    let mut out = String::new();
    let system = &inventory.system;
    let title = system
        .odata_id
        .as_deref()
        .or(system.id.as_deref())
        .unwrap_or("system");
    let _ = writeln!(out, "{title}");
    for (key, value) in summary_rows(inventory) {
        let _ = writeln!(out, "  {key:<12} {value}");
    }
    render_devices(&mut out, inventory);
    // What the BMC links but would not serve: the rest above is still right, and CPU and
    // memory totals then come from the System's summaries.
    if !inventory.warnings.is_empty() {
        let _ = writeln!(out, "  not read ({})", inventory.warnings.len());
        for warning in &inventory.warnings {
            let _ = writeln!(out, "    {:<15} {}", warning.reason, warning.url);
        }
    }
    out
}

fn summary_rows(inventory: &Inventory) -> [(&'static str, String); 10] {
    let system = &inventory.system;
    let cpu = &inventory.cpu;
    let count_or_dash = |n: Option<u64>| n.map_or("-".to_owned(), |n| n.to_string());
    [
        (
            "manufacturer",
            text_or_dash(system.manufacturer.as_deref()).to_owned(),
        ),
        ("model", text_or_dash(system.model.as_deref()).to_owned()),
        (
            "serial",
            text_or_dash(system.serial_number.as_deref()).to_owned(),
        ),
        ("uuid", text_or_dash(system.uuid.as_deref()).to_owned()),
        (
            "bios",
            text_or_dash(system.bios_version.as_deref()).to_owned(),
        ),
        (
            "power",
            system
                .power_state
                .as_ref()
                .map_or("-".to_owned(), ToString::to_string),
        ),
        (
            "boot mode",
            inventory
                .boot_mode
                .as_ref()
                .map_or("-".to_owned(), ToString::to_string),
        ),
        (
            "secure boot",
            match inventory.secure_boot.as_ref().and_then(|s| s.enabled) {
                Some(true) => "enabled".to_owned(),
                Some(false) => "disabled".to_owned(),
                None => "-".to_owned(),
            },
        ),
        (
            "cpus",
            format!(
                "{} x {} ({} cores, {} threads, {})",
                cpu.count,
                text_or_dash(cpu.model.as_deref()),
                count_or_dash(cpu.cores),
                count_or_dash(cpu.threads),
                text_or_dash(cpu.architecture.as_deref()),
            ),
        ),
        (
            "memory",
            format!(
                "{} MiB in {} DIMMs",
                inventory.memory.total_mib,
                inventory.memory.dimms.len()
            ),
        ),
    ]
}

/// Decimal gigabytes with one decimal, as disk vendors label them, without float rounding.
fn gigabytes(bytes: u64) -> String {
    let tenths = bytes / 100_000_000;
    format!("{}.{} GB", tenths / 10, tenths % 10)
}

fn render_devices(out: &mut String, inventory: &Inventory) {
    let _ = writeln!(out, "  disks ({})", inventory.disks.len());
    for disk in &inventory.disks {
        let _ = writeln!(
            out,
            "    {:<24} {:>10}  {:<4} {}",
            text_or_dash(disk.name.as_deref().or(disk.id.as_deref())),
            disk.capacity_bytes.map_or("-".to_owned(), gigabytes),
            text_or_dash(disk.media_type.as_deref()),
            text_or_dash(disk.serial_number.as_deref()),
        );
    }
    let _ = writeln!(out, "  nics ({})", inventory.nics.len());
    for nic in &inventory.nics {
        let _ = writeln!(
            out,
            "    {:<24} {:<17} {:>11}  {}",
            text_or_dash(nic.id.as_deref()),
            text_or_dash(Some(nic.mac_address.as_str())),
            nic.speed_mbps
                .map_or("-".to_owned(), |s| format!("{s} Mb/s")),
            text_or_dash(nic.link_status.as_deref()),
        );
    }
    let _ = writeln!(out, "  pcie devices ({})", inventory.pcie_devices.len());
    for device in &inventory.pcie_devices {
        let _ = writeln!(
            out,
            "    {:<24} {}",
            text_or_dash(device.name.as_deref().or(device.id.as_deref())),
            text_or_dash(device.manufacturer.as_deref()),
        );
    }
}

async fn run(args: Args) -> Result<String, String> {
    // The embedded mock, when there is one, lives until inspection is over.
    let (target, _embedded) = if let Some(bmc) = &args.bmc {
        let (endpoint, system) = split_bmc_url(bmc)?;
        let user = args.user.clone().ok_or("--bmc needs --user")?;
        let password = password_from_env_or_prompt(&user)?;
        (
            Target {
                endpoint,
                system,
                user,
                password,
            },
            None,
        )
    } else {
        let mock = MockBmc::builder()
            .spawn()
            .await
            .map_err(|err| format!("cannot start the embedded mock BMC: {err}"))?;
        eprintln!(
            "no --bmc given: inspecting an embedded mock BMC at {}",
            mock.node(0).url()
        );
        let target = Target {
            endpoint: mock.node(0).url(),
            system: None,
            user: ferrofish_mock_bmc::DEFAULT_USER.to_owned(),
            password: SecretString::from(ferrofish_mock_bmc::DEFAULT_PASSWORD),
        };
        (target, Some(mock))
    };
    let (identity, inventories) = inspect(&args, target).await?;
    if args.json {
        let bmc = identity.as_ref().map(identity_json);
        // Each system's object carries who its BMC is under `bmc`.
        let with_bmc = |inventory: &Inventory| {
            serde_json::to_value(inventory).map(|mut value| {
                if let (Some(bmc), Some(object)) = (&bmc, value.as_object_mut()) {
                    object.insert("bmc".to_owned(), bmc.clone());
                }
                value
            })
        };
        // One system prints as one object; several as a list.
        let value = if let [one] = inventories.as_slice() {
            with_bmc(one)
        } else {
            inventories
                .iter()
                .map(with_bmc)
                .collect::<Result<Vec<_>, _>>()
                .map(serde_json::Value::Array)
        };
        value
            .and_then(|v| serde_json::to_string_pretty(&v))
            .map_err(|err| format!("cannot encode the inventory as JSON: {err}"))
    } else {
        let header = identity.as_ref().map(render_identity).unwrap_or_default();
        Ok(header
            + &inventories
                .iter()
                .map(render_table)
                .collect::<Vec<_>>()
                .join("\n"))
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
        Err(message) => {
            eprintln!("inspect: {message}");
            ExitCode::FAILURE
        }
    }
}
