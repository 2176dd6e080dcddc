//! The `ferrofish-mock-bmc` binary: serves N mock BMCs and prints one JSON line with every bound
//! address (see the crate documentation for its shape).

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use ferrofish_mock_bmc::ipmi::IpmiKey;
use ferrofish_mock_bmc::{
    MockBmc, MockBmcBuilder, MockBmcError, Personality, PowerDelays, parse_node_fault_specs,
};

/// A realistic, fast Redfish BMC emulator.
#[derive(Debug, Parser)]
#[command(name = "ferrofish-mock-bmc", version)]
struct Args {
    /// Number of BMCs to serve.
    #[arg(long, default_value_t = 1)]
    nodes: usize,
    /// Address of node 0; node i gets port + i (port 0: an ephemeral port each).
    #[arg(long, default_value = "127.0.0.1:8000")]
    listen: SocketAddr,
    /// Serve HTTPS with a self-signed certificate written to a PEM file.
    #[arg(long)]
    tls: bool,
    /// Where to write the certificate with --tls (default: a file in the temp directory).
    #[arg(long)]
    tls_pem_path: Option<std::path::PathBuf>,
    /// Vendor personality.
    #[arg(long, default_value = "generic")]
    personality: Personality,
    /// User name.
    #[arg(long, default_value = ferrofish_mock_bmc::DEFAULT_USER)]
    user: String,
    /// Password.
    #[arg(long, default_value = ferrofish_mock_bmc::DEFAULT_PASSWORD, env = "FERROFISH_MOCK_BMC_PASSWORD", hide_env_values = true)]
    password: String,
    /// Admin API address (loopback).
    #[arg(long, default_value = "127.0.0.1:0")]
    admin_listen: SocketAddr,
    /// Faults armed at start, as the admin API's JSON fault description (every node), or an
    /// array of them where an entry with `"node": i` applies to node i only.
    #[arg(long)]
    faults: Option<String>,
    /// Off → On delay in milliseconds.
    #[arg(long)]
    power_on_ms: Option<u64>,
    /// Forced power-off delay in milliseconds.
    #[arg(long)]
    force_off_ms: Option<u64>,
    /// Graceful shutdown delay in milliseconds (slower than a forced power-off).
    #[arg(long)]
    graceful_shutdown_ms: Option<u64>,
    /// Also serve IPMI (RMCP+, UDP): node i on this address's port + i (port 0: an ephemeral
    /// port each), same user and password at Administrator privilege.
    #[arg(long, value_name = "ADDR")]
    ipmi: Option<SocketAddr>,
    /// `InsertMedia` answers 202 with a task and downloads the image in the background (an
    /// option, not tied to a personality).
    #[arg(long)]
    insert_returns_task: bool,
    /// Switch a virtual-media quirk on (repeatable): `transfer_protocol_required`,
    /// `transfer_method_required`, `credentials_required`, `hpe_boot_on_next_reset`.
    #[arg(long, value_name = "NAME")]
    vmedia_quirk: Vec<ferrofish_mock_bmc::VmediaQuirk>,
    /// Serve without a session service: HTTP Basic authentication only (no session login), as
    /// sushy-tools and many small BMCs do.
    #[arg(long)]
    basic_auth_only: bool,
    /// BIOS quirk switches of every node, as JSON (`{"suffixed_names": false,
    /// "rejected_at_apply": ["ProcTurboMode"], "rejected_at_patch": ["BootMode"], "never_applies": true,
    /// "settings_if_match_star": true, "reset_bios_needs_body": true}`, every field optional;
    /// the personality gives the rest).
    #[arg(long, value_name = "JSON")]
    bios_options: Option<String>,
    /// Serve a real BMC's capture instead (a folder in the DMTF mockup layout holding
    /// `redfish/v1/index.json`), read-only, on `--listen`; the other options do not apply.
    #[arg(long, value_name = "DIR")]
    capture: Option<std::path::PathBuf>,
    /// Systems each node serves (1 to 16); BIOS, virtual media and IPMI act on the first.
    #[arg(long, default_value_t = 1)]
    systems_per_node: u8,
    /// IPMI BMC key (Kg) in hexadecimal, up to 20 bytes (as `ipmitool -y` takes it).
    #[arg(
        long,
        value_name = "HEX",
        env = "FERROFISH_MOCK_BMC_IPMI_KG_HEX",
        hide_env_values = true
    )]
    ipmi_kg_hex: Option<String>,
}

/// Decodes `--ipmi-kg-hex` (an even number of hex digits).
fn parse_hex_key(text: &str) -> Result<IpmiKey, MockBmcError> {
    const NOT_HEX: MockBmcError =
        MockBmcError::InvalidConfig("--ipmi-kg-hex needs an even number of hexadecimal digits");
    let text = text.trim();
    if !text.len().is_multiple_of(2) {
        return Err(NOT_HEX);
    }
    let bytes = (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or(NOT_HEX)?;
    IpmiKey::from_bytes(&bytes)
}

/// Logs to stderr (stdout carries the one JSON line), filtered by `RUST_LOG`, `info` when it is
/// unset or unparsable.
fn install_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    install_tracing();
    match run(Args::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ferrofish-mock-bmc: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Applies `--bios-options`: the BIOS quirk switches it names, the personality's defaults for
/// the rest.
fn with_bios_options(
    mut builder: MockBmcBuilder,
    json: &str,
) -> Result<MockBmcBuilder, MockBmcError> {
    let change: ferrofish_mock_bmc::BiosOptionsChange = serde_json::from_str(json)
        .map_err(|_| MockBmcError::InvalidConfig("--bios-options is not a BIOS options object"))?;
    if let Some(names) = change.rejected_at_apply {
        builder = builder.bios_rejected_at_apply(names);
    }
    if let Some(names) = change.rejected_at_patch {
        builder = builder.bios_rejected_at_patch(names);
    }
    if let Some(on) = change.never_applies {
        builder = builder.bios_never_applies(on);
    }
    if let Some(on) = change.suffixed_names {
        builder = builder.bios_suffixed_names(on);
    }
    if let Some(on) = change.settings_if_match_star {
        builder = builder.bios_settings_if_match_star(on);
    }
    if let Some(on) = change.reset_bios_needs_body {
        builder = builder.reset_bios_needs_body(on);
    }
    Ok(builder)
}

async fn run(args: Args) -> Result<(), MockBmcError> {
    if let Some(dir) = &args.capture {
        return serve_capture(dir, args.listen).await;
    }
    let defaults = PowerDelays::default();
    let delays = PowerDelays {
        on: args.power_on_ms.map_or(defaults.on, Duration::from_millis),
        force_off: args
            .force_off_ms
            .map_or(defaults.force_off, Duration::from_millis),
        graceful_shutdown: args
            .graceful_shutdown_ms
            .map_or(defaults.graceful_shutdown, Duration::from_millis),
    };
    let mut builder = MockBmc::builder()
        .nodes(args.nodes)
        .listen(args.listen)
        .tls(args.tls)
        .personality(args.personality)
        .credentials(args.user, args.password)
        .admin_api(args.admin_listen)
        .power_delays(delays)
        .insert_returns_task(args.insert_returns_task)
        .basic_auth_only(args.basic_auth_only)
        .systems_per_node(args.systems_per_node);
    for quirk in &args.vmedia_quirk {
        builder = builder.vmedia_quirk(*quirk);
    }
    if let Some(json) = &args.bios_options {
        builder = with_bios_options(builder, json)?;
    }
    if let Some(f) = &args.faults {
        let mut fleet_wide_set = false;
        for (node, spec) in parse_node_fault_specs(f)? {
            builder = match node {
                Some(index) => builder.node_faults(index, spec),
                None if !fleet_wide_set => {
                    fleet_wide_set = true;
                    builder.faults(spec)
                }
                // A further fleet-wide entry: armed on each node after the first.
                None => (0..args.nodes).fold(builder, |b, i| b.node_faults(i, spec.clone())),
            };
        }
    }
    if let Some(addr) = args.ipmi {
        builder = builder.ipmi_listen(addr);
    }
    if let Some(hex) = &args.ipmi_kg_hex {
        builder = builder.ipmi_kg(parse_hex_key(hex)?);
    }
    let mock = builder.spawn().await?;
    // A PEM file this process named itself is removed again at shutdown; one at a path the
    // caller chose is theirs to keep.
    let mut own_pem_file = None;
    let ca_pem_path = match mock.ca_pem() {
        Some(pem) => {
            let path = if let Some(path) = args.tls_pem_path {
                path
            } else {
                let path = std::env::temp_dir()
                    .join(format!("ferrofish-mock-bmc-{}.pem", std::process::id()));
                own_pem_file = Some(path.clone());
                path
            };
            std::fs::write(&path, pem)?;
            Some(path.display().to_string())
        }
        None => None,
    };
    let line = serde_json::json!({
        "personality": mock.personality().name(),
        "tls": mock.ca_pem().is_some(),
        "user": mock.user(),
        "admin": mock.admin_addr().map(|a| format!("http://{a}")),
        "ca_pem_path": ca_pem_path,
        "basic_auth_only": args.basic_auth_only,
        "nodes": mock.nodes().iter().map(|n| serde_json::json!({
            "index": n.index(),
            "addr": n.addr().to_string(),
            "url": n.url(),
            "ipmi": n.ipmi_addr().map(|a| a.to_string()),
        })).collect::<Vec<_>>(),
    });
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    drop(out);
    tracing::info!(
        nodes = mock.len(),
        personality = mock.personality().name(),
        admin = ?mock.admin_addr(),
        "serving until SIGINT or SIGTERM"
    );
    wait_for_signal().await;
    tracing::info!("shutting down");
    mock.shutdown();
    if let Some(path) = own_pem_file {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

/// `--capture DIR`: a real BMC's capture, read-only, until SIGINT or SIGTERM.
async fn serve_capture(dir: &std::path::Path, listen: SocketAddr) -> Result<(), MockBmcError> {
    let capture = ferrofish_mock_bmc::CaptureBmc::serve_on(dir, listen).await?;
    let line = serde_json::json!({"capture": dir.display().to_string(), "url": capture.url()});
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    drop(out);
    wait_for_signal().await;
    Ok(())
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = ctrl_c.await;
}

#[cfg(test)]
mod tests {
    use super::parse_hex_key;

    #[test]
    fn kg_hex_is_decoded_and_checked() {
        assert!(parse_hex_key("6b67").is_ok());
        assert!(parse_hex_key(&"ab".repeat(20)).is_ok());
        assert!(parse_hex_key(&"ab".repeat(21)).is_err());
        assert!(parse_hex_key("abc").is_err());
        assert!(parse_hex_key("zz").is_err());
        // The message names the option, never the key.
        let message = parse_hex_key("0g").unwrap_err().to_string();
        assert!(
            message.contains("--ipmi-kg-hex") && !message.contains("0g"),
            "{message}"
        );
    }
}
