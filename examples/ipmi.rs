//! What operators use ipmitool for, with ferrofish's IPMI client.
//!
//! ```text
//! FERROFISH_PASSWORD=secret cargo run --example ipmi -- --bmc 10.0.0.5 --user admin power status
//! cargo run --example ipmi -- --bmc 10.0.0.5:623 --user admin --cipher-suite 3 power on
//! cargo run --example ipmi -- --bmc 10.0.0.5 --user admin bootdev pxe --efi --json
//! cargo run --example ipmi -- --bmc ipmi://10.0.0.5:6230 --user admin mc info
//! cargo run --example ipmi -- power status     # no --bmc: an embedded mock BMC's IPMI
//! ```
//!
//! `--bmc` is an IPMI address as Metal3 takes it (`ipmi://host[:port]` or a bare
//! `host[:port]`, port 623 by default). The password comes from `FERROFISH_PASSWORD` or an
//! interactive prompt, never the command line. Errors go to stderr with a non-zero exit code.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use ferrofish::ipmi::{BootDevice, BootOptions, ChassisControl, CipherSuite, Error, IpmiClient};
use secrecy::{SecretSlice, SecretString};
use serde_json::json;

mod support;

#[derive(Parser)]
#[command(about = "IPMI v2.0 power, boot device and controller info")]
struct Cli {
    /// BMC address: `ipmi://HOST[:PORT]`, HOST or HOST:PORT (port 623 by default). Without
    /// it, an embedded mock BMC is started on 127.0.0.1 and its IPMI port used.
    #[arg(long, requires = "user")]
    bmc: Option<String>,
    /// User name (required with `--bmc`).
    #[arg(long, requires = "bmc")]
    user: Option<String>,
    /// Pin a cipher suite (default: try 17, then 3).
    #[arg(long, value_parser = ["17", "3"])]
    cipher_suite: Option<String>,
    /// BMC key (Kg) in hex, when the BMC has one.
    #[arg(long)]
    kg_hex: Option<String>,
    /// Per-attempt timeout in seconds.
    #[arg(long, default_value_t = 1.0)]
    timeout: f64,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Chassis power.
    Power {
        #[arg(value_enum)]
        action: PowerAction,
    },
    /// Boot device override for the next (or every) boot.
    Bootdev {
        #[arg(value_enum)]
        device: Device,
        /// Keep the override for all future boots.
        #[arg(long)]
        persistent: bool,
        /// Boot in UEFI mode.
        #[arg(long)]
        efi: bool,
    },
    /// Management controller.
    Mc {
        #[arg(value_enum)]
        what: McWhat,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum PowerAction {
    Status,
    On,
    Off,
    Cycle,
    Reset,
    Soft,
}

#[derive(Clone, Copy, ValueEnum)]
enum Device {
    Pxe,
    Disk,
    Cdrom,
    Bios,
}

#[derive(Clone, Copy, ValueEnum)]
enum McWhat {
    Info,
}

fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let s = s.strip_prefix("0x").unwrap_or(s);
    if !s.len().is_multiple_of(2) {
        return Err("--kg-hex needs an even number of hex digits".into());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| "--kg-hex is not valid hex".to_string())
        })
        .collect()
}

/// `host:port` of an IPMI address (a Redfish one is refused: this example speaks IPMI only).
fn ipmi_target(bmc: &str) -> Result<String, String> {
    let address = support::parse_address(bmc)?;
    address.ipmi_address().ok_or_else(|| {
        format!("{address} is a Redfish address; the ipmi example needs ipmi://host[:port]")
    })
}

async fn run(cli: Cli) -> Result<(), String> {
    let target = cli.bmc.as_deref().map(ipmi_target).transpose()?;
    // Without --bmc: an embedded mock BMC with IPMI, kept alive until the end.
    let (target, user, password, _mock) = if let (Some(target), Some(user)) = (target, &cli.user) {
        let password = support::password_from_env_or_prompt(user)?;
        (target, user.clone(), password, None)
    } else {
        let mock = support::start_mock("ipmi", support::MockIpmi::On).await?;
        let target = mock
            .node(0)
            .ipmi_addr()
            .ok_or("the embedded mock BMC has no IPMI")?
            .to_string();
        let password = SecretString::from(ferrofish_mock_bmc::DEFAULT_PASSWORD);
        let user = ferrofish_mock_bmc::DEFAULT_USER.to_owned();
        (target, user, password, Some(mock))
    };
    let mut builder = IpmiClient::builder(target)
        .credentials(user, password)
        .timeout(Duration::from_secs_f64(cli.timeout.max(0.01)));
    if let Some(suite) = &cli.cipher_suite {
        let id: u8 = suite
            .parse()
            .map_err(|_| "bad --cipher-suite".to_string())?;
        builder = builder.cipher_suite(CipherSuite::from_id(id).map_err(|e| e.to_string())?);
    }
    if let Some(hex) = &cli.kg_hex {
        builder = builder.kg(SecretSlice::from(parse_hex(hex)?));
    }
    let bmc = builder.build().map_err(|e| e.to_string())?;
    let result = command(&bmc, &cli).await;
    // Close the session whatever happened; report the first error.
    let closed = bmc.close().await;
    result?;
    closed.map_err(|e| e.to_string())
}

async fn command(bmc: &IpmiClient, cli: &Cli) -> Result<(), String> {
    let result = match cli.command {
        Cmd::Power { action } => power(bmc, action, cli.json).await,
        Cmd::Bootdev {
            device,
            persistent,
            efi,
        } => bootdev(bmc, device, BootOptions { persistent, efi }, cli.json).await,
        Cmd::Mc { what: McWhat::Info } => mc_info(bmc, cli.json).await,
    };
    result.map_err(|e| e.to_string())
}

async fn power(bmc: &IpmiClient, action: PowerAction, json: bool) -> Result<(), Error> {
    let control = match action {
        PowerAction::Status => {
            let status = bmc.chassis_status().await?;
            let state = if status.power_on { "on" } else { "off" };
            if json {
                println!(
                    "{}",
                    json!({
                        "power": state,
                        "power_fault": status.power_fault,
                        "power_overload": status.power_overload,
                        "interlock": status.interlock,
                        "restore_policy": format!("{:?}", status.restore_policy),
                    })
                );
            } else {
                println!("Chassis power is {state}");
            }
            return Ok(());
        }
        PowerAction::On => ChassisControl::PowerOn,
        PowerAction::Off => ChassisControl::PowerOff,
        PowerAction::Cycle => ChassisControl::PowerCycle,
        PowerAction::Reset => ChassisControl::HardReset,
        PowerAction::Soft => ChassisControl::SoftOff,
    };
    bmc.chassis_control(control).await?;
    if json {
        println!(
            "{}",
            json!({ "action": format!("{control:?}"), "result": "ok" })
        );
    } else {
        println!("Chassis control {control:?}: done");
    }
    Ok(())
}

async fn bootdev(
    bmc: &IpmiClient,
    device: Device,
    options: BootOptions,
    json: bool,
) -> Result<(), Error> {
    let device = match device {
        Device::Pxe => BootDevice::Pxe,
        Device::Disk => BootDevice::Disk,
        Device::Cdrom => BootDevice::Cdrom,
        Device::Bios => BootDevice::BiosSetup,
    };
    let read = bmc.set_boot_device(device, options).await?;
    if json {
        println!(
            "{}",
            json!({
                "device": read.device.to_string(),
                "persistent": read.persistent,
                "efi": read.efi,
                "valid": read.valid,
            })
        );
    } else {
        println!(
            "Boot device set to {} (read back: {}, {}, {})",
            device,
            read.device,
            if read.persistent {
                "persistent"
            } else {
                "next boot only"
            },
            if read.efi { "uefi" } else { "legacy" },
        );
    }
    Ok(())
}

async fn mc_info(bmc: &IpmiClient, json: bool) -> Result<(), Error> {
    let id = bmc.device_id().await?;
    let firmware = format!("{}.{:02}", id.firmware_major, id.firmware_minor);
    let ipmi = format!("{}.{}", id.ipmi_version.0, id.ipmi_version.1);
    if json {
        println!(
            "{}",
            json!({
                "device_id": id.device_id,
                "device_revision": id.device_revision,
                "firmware_revision": firmware,
                "ipmi_version": ipmi,
                "manufacturer_id": id.manufacturer_id,
                "product_id": id.product_id,
                "device_available": id.device_available,
                "additional_device_support": id.additional_device_support,
            })
        );
    } else {
        println!("Device ID                 : {}", id.device_id);
        println!("Device Revision           : {}", id.device_revision);
        println!("Firmware Revision         : {firmware}");
        println!("IPMI Version              : {ipmi}");
        println!("Manufacturer ID           : {}", id.manufacturer_id);
        println!(
            "Product ID                : {} ({:#06x})",
            id.product_id, id.product_id
        );
        let available = if id.device_available { "yes" } else { "no" };
        println!("Device Available          : {available}");
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
