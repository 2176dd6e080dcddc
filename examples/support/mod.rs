//! What the BIOS and virtual-media examples share: where the BMC is (or an embedded mock BMC
//! when none is given), the password from `FERROFISH_PASSWORD` or a prompt, and progress lines.

// Each example includes this module and uses part of it.
#![allow(dead_code)]

pub mod progress;
use std::io::{IsTerminal as _, Write as _};
use std::time::Duration;

use ferrofish::redfish::{RedfishClient, System, TlsVerification};
use ferrofish_mock_bmc::{MockBmc, MockBmcHandle};
use secrecy::SecretString;

/// How to reach the BMC.
#[derive(Debug, clap::Args)]
pub struct BmcArgs {
    /// The BMC: `http(s)://host[:port]`, optionally followed by `/redfish/v1/Systems/<id>`.
    /// Without it, an embedded mock BMC is started on 127.0.0.1 and used.
    #[arg(long, requires = "user")]
    pub bmc: Option<String>,
    /// User name on the BMC (required with `--bmc`).
    #[arg(long, requires = "bmc")]
    pub user: Option<String>,
    /// Trust this CA bundle (PEM file) instead of the system roots.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<std::path::PathBuf>,
    /// Accept any certificate. Dangerous: anyone on the path can read the BMC password.
    #[arg(long)]
    pub danger_accept_invalid_certs: bool,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 30)]
    pub request_timeout: u64,
}

/// A connected system; the embedded mock, when there is one, lives as long as this.
pub struct Connected {
    pub client: RedfishClient,
    pub system: System,
    pub mock: Option<MockBmcHandle>,
}

impl Connected {
    /// Closes the session (BMCs cap sessions; a leaked one locks users out).
    pub async fn close(&self) {
        if let Err(err) = self.client.close().await {
            eprintln!("closing the session: {err}");
        }
    }
}

/// Splits `https://host:port/redfish/v1/Systems/1` into the endpoint and the system path.
///
/// No path, the service root or the Systems collection mean "every system"; any other path must
/// name one system under the Systems collection.
pub fn split_bmc_url(bmc: &str) -> Result<(String, Option<String>), String> {
    const ANY_SYSTEM: [&str; 4] = ["", "/redfish", "/redfish/v1", "/redfish/v1/Systems"];
    let after_scheme = bmc.find("://").map_or(0, |i| i + 3);
    let Some(slash) = bmc[after_scheme..].find('/') else {
        return Ok((bmc.to_owned(), None));
    };
    let (endpoint, path) = bmc.split_at(after_scheme + slash);
    let path = path.trim_end_matches('/');
    if ANY_SYSTEM.contains(&path) {
        return Ok((endpoint.to_owned(), None));
    }
    match path.strip_prefix("/redfish/v1/Systems/") {
        Some(id) if !id.is_empty() && !id.contains('/') => {
            Ok((endpoint.to_owned(), Some(path.to_owned())))
        }
        _ => Err(format!(
            "{path} is not a system: give the BMC as http(s)://host[:port], optionally followed \
             by /redfish/v1/Systems/<id>"
        )),
    }
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

/// Checks the arguments before anything is sent: the BMC URL's shape.
pub fn check(args: &BmcArgs) -> Result<(), String> {
    args.bmc
        .as_deref()
        .map_or(Ok(()), |bmc| split_bmc_url(bmc).map(|_| ()))
}

/// Connects to `--bmc`, or starts an embedded mock BMC and connects to it. The system is the
/// one named in the URL, else the first of the Systems collection.
pub async fn connect(args: &BmcArgs, example: &str) -> Result<Connected, String> {
    let (endpoint, system, user, password, mock) = if let Some(bmc) = &args.bmc {
        let (endpoint, system) = split_bmc_url(bmc)?;
        let user = args.user.clone().ok_or("--bmc needs --user")?;
        let password = password_from_env_or_prompt(&user)?;
        (endpoint, system, user, password, None)
    } else {
        let mock = MockBmc::builder()
            .spawn()
            .await
            .map_err(|err| format!("cannot start the embedded mock BMC: {err}"))?;
        let url = mock.node(0).url();
        eprintln!("{example}: no --bmc given: using an embedded mock BMC at {url}");
        (
            url,
            None,
            ferrofish_mock_bmc::DEFAULT_USER.to_owned(),
            SecretString::from(ferrofish_mock_bmc::DEFAULT_PASSWORD),
            Some(mock),
        )
    };
    let mut builder = RedfishClient::builder(&endpoint)
        .credentials(user, password)
        .request_timeout(Duration::from_secs(args.request_timeout));
    if args.danger_accept_invalid_certs {
        builder = builder.tls(TlsVerification::DangerAcceptInvalidCerts);
    } else if let Some(path) = &args.ca_file {
        let pem = std::fs::read_to_string(path)
            .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
        builder = builder.tls(TlsVerification::CaBundlePem(pem));
    }
    let client = builder.build().map_err(|err| err.to_string())?;
    let found = match &system {
        Some(path) => client.system(path).await.map(|s| vec![s]),
        None => client.systems().await,
    };
    let system = match found {
        Ok(mut systems) if !systems.is_empty() => systems.remove(0),
        Ok(_) => {
            client.close().await.ok();
            return Err("the BMC lists no system".into());
        }
        Err(err) => {
            client.close().await.ok();
            return Err(err.to_string());
        }
    };
    Ok(Connected {
        client,
        system,
        mock,
    })
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
