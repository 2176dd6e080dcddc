//! What the examples share: where the BMC is (`--bmc` in the Metal3 address schemes, or an
//! embedded mock BMC when none is given), turned into a connected [`Bmc`] in one place; the
//! password from `FERROFISH_PASSWORD` or a prompt; and progress lines.

// Each example includes this module and uses part of it.
#![allow(dead_code)]

pub mod progress;
use std::io::{IsTerminal as _, Write as _};
use std::time::Duration;

use ferrofish::redfish::{RedfishClient, System, TlsVerification};
use ferrofish::{Bmc, BmcAddress, BmcOptions, Credentials, IpmiOptions, Protocol};
use ferrofish_mock_bmc::{MockBmc, MockBmcHandle};
use secrecy::SecretString;

/// How to reach the BMC.
#[derive(Debug, clap::Args)]
pub struct BmcArgs {
    /// The BMC address: `redfish://`, `redfish-virtualmedia://`, `redfish-uefihttp://`,
    /// `idrac-redfish://`, `idrac-virtualmedia://`, `ilo5-redfish://`, `ilo5-virtualmedia://`
    /// (each also `+http`/`+https`), `http(s)://`, `ipmi://` or a bare `host[:port]` (IPMI),
    /// optionally followed by `/redfish/v1/Systems/<id>`. Without it, an embedded mock BMC is
    /// started on 127.0.0.1 and used.
    #[arg(long, requires = "user")]
    pub bmc: Option<String>,
    /// User name on the BMC (required with `--bmc`).
    #[arg(long, requires = "bmc")]
    pub user: Option<String>,
    /// The same host also answers IPMI on this UDP port: power and boot device fall back to
    /// IPMI when Redfish fails (a combined endpoint).
    #[arg(long, value_name = "PORT")]
    pub ipmi_port: Option<u16>,
    /// Trust this CA bundle (PEM file) instead of the system roots.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<std::path::PathBuf>,
    /// Accept any certificate. Dangerous: anyone on the path can read the BMC password.
    #[arg(long)]
    pub danger_accept_invalid_certs: bool,
    /// Trust only the BMC's own certificate: a PEM file, or its SHA-256 fingerprint
    /// (`sha256:AB:CD:…` or 64 hex digits). The usual answer to a factory self-signed
    /// certificate; its name, issuer and dates are not checked.
    #[arg(long, value_name = "PEM_OR_FINGERPRINT", conflicts_with_all = ["ca_file", "danger_accept_invalid_certs"])]
    pub pin_cert: Option<String>,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 30)]
    pub request_timeout: u64,
}

/// The TLS check of `--pin-cert`: the PEM file it names, else the SHA-256 fingerprint it is
/// (checked when the client is built, before anything is sent).
pub fn pinned_tls(pin_cert: &str) -> Result<TlsVerification, String> {
    let path = std::path::Path::new(pin_cert);
    if path.is_file() {
        let pem = std::fs::read_to_string(path)
            .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
        return Ok(TlsVerification::PinnedCertificatePem(pem));
    }
    let hex: String = pin_cert
        .trim()
        .trim_start_matches("sha256:")
        .trim_start_matches("SHA256:")
        .chars()
        .filter(|c| *c != ':')
        .collect();
    if hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(TlsVerification::PinnedSha256(pin_cert.trim().to_owned()))
    } else {
        Err(format!(
            "--pin-cert {pin_cert}: neither a readable PEM file nor a SHA-256 fingerprint \
             (sha256:AB:CD:… or 64 hex digits)"
        ))
    }
}

/// A connected BMC; the embedded mock, when there is one, lives as long as this.
pub struct Session {
    pub bmc: Bmc,
    pub mock: Option<MockBmcHandle>,
}

impl Session {
    /// Closes the sessions (BMCs cap sessions; a leaked one locks users out).
    pub async fn close(&self) {
        if let Err(err) = self.bmc.close().await {
            eprintln!("closing the session: {err}");
        }
    }
}

/// A connected Redfish system; the embedded mock, when there is one, lives as long as this.
pub struct Connected {
    pub bmc: Bmc,
    pub client: RedfishClient,
    pub system: System,
    pub mock: Option<MockBmcHandle>,
}

impl Connected {
    /// Closes the session (BMCs cap sessions; a leaked one locks users out).
    pub async fn close(&self) {
        if let Err(err) = self.bmc.close().await {
            eprintln!("closing the session: {err}");
        }
    }
}

/// Parses `--bmc`: any error lists the accepted schemes.
pub fn parse_address(bmc: &str) -> Result<BmcAddress, String> {
    BmcAddress::parse(bmc).map_err(|err| err.to_string())
}

/// Splits a Redfish address into the endpoint (`https://host:port`) and the system path, for
/// the examples that talk to the Redfish client directly.
pub fn split_bmc_url(bmc: &str) -> Result<(String, Option<String>), String> {
    let address = parse_address(bmc)?;
    let endpoint = address.redfish_endpoint().ok_or_else(|| {
        format!("{address} is an IPMI address; this example needs Redfish (redfish://host, ...)")
    })?;
    Ok((endpoint, address.system_path().map(str::to_owned)))
}

/// The password from `FERROFISH_PASSWORD`, else a prompt on the terminal.
pub fn password_from_env_or_prompt(user: &str) -> Result<SecretString, String> {
    if let Ok(password) = std::env::var("FERROFISH_PASSWORD") {
        return Ok(SecretString::from(password));
    }
    rpassword::prompt_password(format!("password for {user}: "))
        .map(SecretString::from)
        .map_err(|err| format!("cannot read the password (set FERROFISH_PASSWORD): {err}"))
}

/// Checks the arguments before anything is sent: the address's shape.
pub fn check(args: &BmcArgs) -> Result<(), String> {
    args.bmc
        .as_deref()
        .map_or(Ok(()), |bmc| parse_address(bmc).map(|_| ()))
}

/// The options `args` ask for.
pub fn bmc_options(args: &BmcArgs) -> Result<BmcOptions, String> {
    let mut options = BmcOptions::default();
    options.request_timeout = Duration::from_secs(args.request_timeout);
    if args.danger_accept_invalid_certs {
        options.tls = TlsVerification::DangerAcceptInvalidCerts;
    } else if let Some(pin) = &args.pin_cert {
        options.tls = pinned_tls(pin)?;
    } else if let Some(path) = &args.ca_file {
        let pem = std::fs::read_to_string(path)
            .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
        options.tls = TlsVerification::CaBundlePem(pem);
    }
    options.ipmi = args.ipmi_port.map(IpmiOptions::on_port);
    Ok(options)
}

/// Whether the embedded mock also answers IPMI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MockIpmi {
    /// Redfish only.
    Off,
    /// Redfish and IPMI on the same node (a combined endpoint).
    On,
}

/// Starts the embedded mock BMC (one generic node).
pub async fn start_mock(example: &str, ipmi: MockIpmi) -> Result<MockBmcHandle, String> {
    let mock = MockBmc::builder()
        .ipmi(ipmi == MockIpmi::On)
        .spawn()
        .await
        .map_err(|err| format!("cannot start the embedded mock BMC: {err}"))?;
    let node = mock.node(0);
    match node.ipmi_addr() {
        Some(ipmi) => eprintln!(
            "{example}: no --bmc given: using an embedded mock BMC at {} (IPMI on {ipmi})",
            node.url()
        ),
        None => eprintln!(
            "{example}: no --bmc given: using an embedded mock BMC at {}",
            node.url()
        ),
    }
    Ok(mock)
}

/// Connects to `--bmc`, or starts an embedded mock BMC and connects to it.
pub async fn open(args: &BmcArgs, example: &str, mock_ipmi: MockIpmi) -> Result<Session, String> {
    let mut options = bmc_options(args)?;
    let (address, credentials, mock) = if let Some(bmc) = &args.bmc {
        let address = parse_address(bmc)?;
        let user = args.user.clone().ok_or("--bmc needs --user")?;
        let password = password_from_env_or_prompt(&user)?;
        (address, Credentials::new(user, password), None)
    } else {
        let mock = start_mock(example, mock_ipmi).await?;
        let node = mock.node(0);
        let address = parse_address(&node.url())?;
        if let Some(ipmi) = node.ipmi_addr() {
            options.ipmi = Some(IpmiOptions::on_port(ipmi.port()));
        }
        let credentials = Credentials::new(
            ferrofish_mock_bmc::DEFAULT_USER,
            SecretString::from(ferrofish_mock_bmc::DEFAULT_PASSWORD),
        );
        (address, credentials, Some(mock))
    };
    let bmc = Bmc::connect(address, credentials, options).map_err(|err| err.to_string())?;
    Ok(Session { bmc, mock })
}

/// Connects to `--bmc` (which must speak Redfish), or starts an embedded mock BMC and connects
/// to it. The system is the one named in the address, else the BMC's only one.
pub async fn connect(args: &BmcArgs, example: &str) -> Result<Connected, String> {
    let Session { bmc, mock } = open(args, example, MockIpmi::Off).await?;
    let Some(client) = bmc.redfish_client().cloned() else {
        return Err(format!(
            "{} speaks {}; {example} needs Redfish (redfish://, redfish-virtualmedia://, \
             idrac-…, ilo5-…)",
            bmc.address(),
            Protocol::Ipmi
        ));
    };
    match bmc.system().await {
        Ok(system) => Ok(Connected {
            bmc,
            client,
            system,
            mock,
        }),
        Err(err) => {
            bmc.close().await.ok();
            Err(err.to_string())
        }
    }
}

/// Progress on stderr: one line rewritten in place on a terminal, plain lines otherwise (logs,
/// pipes, CI), so stdout stays the result alone.
pub struct Progress {
    terminal: bool,
    last: String,
}

impl Progress {
    pub fn new() -> Progress {
        Progress {
            terminal: std::io::stderr().is_terminal(),
            last: String::new(),
        }
    }

    /// Shows `line` unless it repeats the last one.
    pub fn show(&mut self, line: &str) {
        if line == self.last {
            return;
        }
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(err, "\r\x1b[2K{line}");
            let _ = err.flush();
        } else {
            let _ = writeln!(err, "{line}");
        }
        line.clone_into(&mut self.last);
    }

    /// Ends an in-place line another `Progress` left (a progress task that was stopped).
    pub fn end_line(&self) {
        if self.terminal {
            eprintln!();
        }
    }

    /// Ends the in-place line.
    pub fn finish(&mut self) {
        if self.terminal && !self.last.is_empty() {
            eprintln!();
        }
        self.last.clear();
    }
}
