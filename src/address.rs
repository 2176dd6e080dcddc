//! BMC addresses as operators already write them for Metal3 (`redfish-virtualmedia://10.0.0.5`,
//! `idrac-redfish+http://bmc:8000/redfish/v1/Systems/System.Embedded.1`, `ipmi://10.0.0.6:6230`,
//! or a bare `10.0.0.6`), parsed without I/O into what a client needs: the protocol, the Redfish
//! endpoint (https unless `+http`), the system path, the boot method the scheme implies and the
//! vendor it names.
//!
//! The rules follow Metal3's `pkg/hardwareutils/bmc/access.go` (see
//! `shared/reference/ironic-flows.md` §4): a scheme is accepted with `+http`/`+https` for every
//! Redfish flavour and never for IPMI; an address without a scheme (`host`, `host:port`,
//! `[v6]:port`) is IPMI; the opaque form `redfish:host` means `redfish://host`. Where ferrofish
//! differs, on purpose:
//! - `http://` and `https://` are accepted as plain Redfish (`redfish+http`, `redfish+https`),
//!   since that is how the examples and the Redfish client have always taken an endpoint;
//! - `name:623` (a host name and a port) is IPMI, where Metal3 reads `name` as an unknown scheme;
//! - a path must be a system (`/redfish/v1/Systems/<id>`) or the service root, so a typo is an
//!   error here rather than a wrong system id later;
//! - a user name or password in the address (`redfish://root:calvin@host`) is refused, never
//!   stripped: the address is shown in logs and errors, and credentials belong in
//!   [`crate::Credentials`]. The error does not repeat the address, so it cannot leak them.
//!
//! Long (about 1,100 lines) because half is the exhaustive table of accepted and refused
//! addresses and the property tests; the parser itself is one function per part.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// The IPMI-over-LAN port an IPMI address without a port uses.
pub const DEFAULT_IPMI_PORT: u16 = 623;

/// What [`AddressError`] lists as accepted, in one place.
pub const ACCEPTED_SCHEMES: &str = "redfish://, redfish-virtualmedia://, redfish-uefihttp://, \
     idrac-redfish://, idrac-virtualmedia://, ilo5-redfish://, ilo5-virtualmedia:// (each also \
     as NAME+http:// or NAME+https://), http://, https://, ipmi://, or a bare host[:port] for IPMI";

/// A protocol a BMC is spoken to with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// DMTF Redfish over HTTP(S).
    Redfish,
    /// IPMI v2.0 RMCP+ over UDP.
    Ipmi,
}

impl Protocol {
    /// `"redfish"` or `"ipmi"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Redfish => "redfish",
            Protocol::Ipmi => "ipmi",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Redfish => "Redfish",
            Protocol::Ipmi => "IPMI",
        })
    }
}

/// The scheme of an address: which Metal3 driver the operator asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `redfish://`: Redfish, network (iPXE) boot.
    Redfish,
    /// `redfish-virtualmedia://`: Redfish, boot from virtual media.
    RedfishVirtualMedia,
    /// `redfish-uefihttp://`: Redfish, UEFI HTTP boot of the ISO.
    RedfishUefiHttp,
    /// `idrac-redfish://`: Dell iDRAC over Redfish, network boot.
    IdracRedfish,
    /// `idrac-virtualmedia://`: Dell iDRAC over Redfish, boot from virtual media.
    IdracVirtualMedia,
    /// `ilo5-redfish://`: HPE iLO 5 over Redfish (Metal3's deprecated alias of `redfish`).
    Ilo5Redfish,
    /// `ilo5-virtualmedia://`: HPE iLO 5, virtual media (deprecated alias of
    /// `redfish-virtualmedia`).
    Ilo5VirtualMedia,
    /// `ipmi://`, or an address without a scheme.
    Ipmi,
}

impl Scheme {
    /// Every scheme, in the order the documentation lists them.
    pub const ALL: [Scheme; 8] = [
        Scheme::Redfish,
        Scheme::RedfishVirtualMedia,
        Scheme::RedfishUefiHttp,
        Scheme::IdracRedfish,
        Scheme::IdracVirtualMedia,
        Scheme::Ilo5Redfish,
        Scheme::Ilo5VirtualMedia,
        Scheme::Ipmi,
    ];

    /// The scheme's name as written before `://` (without a carrier).
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Redfish => "redfish",
            Scheme::RedfishVirtualMedia => "redfish-virtualmedia",
            Scheme::RedfishUefiHttp => "redfish-uefihttp",
            Scheme::IdracRedfish => "idrac-redfish",
            Scheme::IdracVirtualMedia => "idrac-virtualmedia",
            Scheme::Ilo5Redfish => "ilo5-redfish",
            Scheme::Ilo5VirtualMedia => "ilo5-virtualmedia",
            Scheme::Ipmi => "ipmi",
        }
    }

    fn from_name(name: &str) -> Option<Scheme> {
        Scheme::ALL.into_iter().find(|scheme| scheme.name() == name)
    }

    /// The protocol the scheme speaks.
    pub fn protocol(self) -> Protocol {
        match self {
            Scheme::Ipmi => Protocol::Ipmi,
            _ => Protocol::Redfish,
        }
    }

    /// How the scheme boots a deploy image.
    pub fn boot_method(self) -> BootMethod {
        match self {
            Scheme::RedfishVirtualMedia | Scheme::IdracVirtualMedia | Scheme::Ilo5VirtualMedia => {
                BootMethod::VirtualMedia
            }
            Scheme::RedfishUefiHttp => BootMethod::UefiHttp,
            Scheme::Redfish | Scheme::IdracRedfish | Scheme::Ilo5Redfish | Scheme::Ipmi => {
                BootMethod::Network
            }
        }
    }

    /// The vendor the scheme names, if any.
    pub fn vendor_hint(self) -> Option<VendorHint> {
        match self {
            Scheme::IdracRedfish | Scheme::IdracVirtualMedia => Some(VendorHint::Idrac),
            Scheme::Ilo5Redfish | Scheme::Ilo5VirtualMedia => Some(VendorHint::Ilo5),
            _ => None,
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a scheme boots the deploy image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BootMethod {
    /// Nothing BMC-driven: the machine network-boots (PXE/iPXE) from the provisioning network.
    Network,
    /// An ISO inserted as virtual media, booted once from the virtual CD.
    VirtualMedia,
    /// UEFI HTTP boot of the ISO (`HttpBootUri`).
    UefiHttp,
}

/// The vendor a scheme names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VendorHint {
    /// Dell iDRAC (`idrac-*`).
    Idrac,
    /// HPE iLO 5 (`ilo5-*`).
    Ilo5,
}

/// How Redfish is carried: the `+http`/`+https` suffix (https by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Carrier {
    /// Plain HTTP: credentials and session tokens cross the network unencrypted.
    Http,
    /// HTTPS (the default).
    Https,
}

impl Carrier {
    /// `"http"` or `"https"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Carrier::Http => "http",
            Carrier::Https => "https",
        }
    }
}

/// The IPMI session privilege an `ipmi://` address asks for (`?privilegelevel=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IpmiPrivilegeLevel {
    /// `ADMINISTRATOR` (Ironic's default).
    Administrator,
    /// `OPERATOR`: enough for power and boot device.
    Operator,
    /// `USER`: reads only.
    User,
}

impl IpmiPrivilegeLevel {
    /// The name as Ironic writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            IpmiPrivilegeLevel::Administrator => "ADMINISTRATOR",
            IpmiPrivilegeLevel::Operator => "OPERATOR",
            IpmiPrivilegeLevel::User => "USER",
        }
    }
}

/// Why an address was refused. The address itself is repeated only when it carries no
/// user-info, so no password can reach a log line through this error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddressError {
    /// Nothing was given.
    #[error("the BMC address is empty; accepted: {ACCEPTED_SCHEMES}")]
    Empty,
    /// The text is not an address at all (spaces, a fragment, a scheme with odd characters).
    #[error("{input:?} is not a BMC address: {reason}; accepted: {ACCEPTED_SCHEMES}")]
    Malformed {
        /// The address as given.
        input: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The scheme is none that ferrofish knows.
    #[error("unknown BMC address scheme {scheme:?}; accepted: {ACCEPTED_SCHEMES}")]
    UnknownScheme {
        /// The scheme as given (lower case).
        scheme: String,
    },
    /// A scheme Metal3 once accepted and has removed.
    #[error(
        "the {scheme}:// scheme is no longer supported: {advice}; accepted: {ACCEPTED_SCHEMES}"
    )]
    RemovedScheme {
        /// The scheme as given.
        scheme: String,
        /// What to use instead.
        advice: &'static str,
    },
    /// `+something` after a scheme that does not take it (IPMI) or an unknown carrier.
    #[error("{scheme}+{carrier} is not accepted: {reason}; accepted: {ACCEPTED_SCHEMES}")]
    Carrier {
        /// The scheme.
        scheme: String,
        /// The suffix after `+`.
        carrier: String,
        /// Why.
        reason: &'static str,
    },
    /// The address carries a user name or password (`user:password@host`). Refused, not
    /// stripped: give them as credentials. The address is deliberately not repeated here.
    #[error(
        "the BMC address carries a user name or password before '@'; remove it and give the \
         credentials separately (the address is shown in logs and errors)"
    )]
    CredentialsInAddress,
    /// The host is neither an IP address nor a DNS name.
    #[error("{host:?} is not a BMC host: {reason}")]
    InvalidHost {
        /// The host as given.
        host: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The port is not a number from 1 to 65535.
    #[error("{port:?} is not a port: give a number from 1 to 65535")]
    InvalidPort {
        /// The port as given.
        port: String,
    },
    /// A Redfish path that names no system.
    #[error(
        "{path} is not a system: a Redfish address takes no path, /redfish/v1, or \
         /redfish/v1/Systems/<id>"
    )]
    NotASystemPath {
        /// The path as given.
        path: String,
    },
    /// An IPMI address with a path.
    #[error("an IPMI address takes no path, got {path}; give ipmi://host[:port]")]
    PathNotAllowed {
        /// The path as given.
        path: String,
    },
    /// A query the scheme does not take.
    #[error(
        "unsupported query {query:?}: only ipmi:// takes one, ?privilegelevel=ADMINISTRATOR, \
         OPERATOR or USER"
    )]
    UnsupportedQuery {
        /// The query as given (after `?`).
        query: String,
    },
}

/// A parsed BMC address. [`Display`](fmt::Display) writes the canonical form
/// (`redfish-virtualmedia://10.0.0.5/redfish/v1/Systems/1`, `ipmi://10.0.0.6:623`), which parses
/// back to the same address.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BmcAddress {
    scheme: Scheme,
    carrier: Carrier,
    host: String,
    port: Option<u16>,
    system_path: Option<String>,
    ipmi_privilege: Option<IpmiPrivilegeLevel>,
}

impl BmcAddress {
    /// Parses an address. Pure: nothing is resolved or sent.
    pub fn parse(input: &str) -> Result<BmcAddress, AddressError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(AddressError::Empty);
        }
        let malformed = |reason| AddressError::Malformed {
            input: redact_user_info(input),
            reason,
        };
        if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(malformed("it contains a space or a control character"));
        }
        if input.contains('#') {
            return Err(malformed("a BMC address has no #fragment"));
        }
        let (scheme_text, rest) = split_scheme(input);
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, after) = rest.split_at(authority_end);
        // First, so no later error can quote a password (`root:calvin@host` reads as a scheme).
        if authority.contains('@') {
            return Err(AddressError::CredentialsInAddress);
        }
        let (scheme, carrier) = match scheme_text {
            None => (Scheme::Ipmi, Carrier::Https),
            Some(text) => resolve_scheme(text, &malformed)?,
        };
        let (path, query) = after.split_once('?').unwrap_or((after, ""));
        let (host, port) = parse_authority(authority)?;
        let (system_path, ipmi_privilege) = match scheme.protocol() {
            Protocol::Redfish => {
                if !query.is_empty() {
                    return Err(AddressError::UnsupportedQuery {
                        query: query.to_owned(),
                    });
                }
                (system_path(path)?, None)
            }
            Protocol::Ipmi => {
                if !path.is_empty() && path != "/" {
                    return Err(AddressError::PathNotAllowed {
                        path: path.to_owned(),
                    });
                }
                (None, ipmi_query(query)?)
            }
        };
        Ok(BmcAddress {
            scheme,
            carrier,
            host,
            port,
            system_path,
            ipmi_privilege,
        })
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The protocol the address speaks (a combined Redfish + IPMI endpoint is configured in
    /// [`crate::BmcOptions::ipmi`]).
    pub fn protocol(&self) -> Protocol {
        self.scheme.protocol()
    }

    /// How Redfish is carried (https unless `+http` or `http://`); meaningless for IPMI.
    pub fn carrier(&self) -> Carrier {
        self.carrier
    }

    /// The host: a DNS name, an IPv4 address, or an IPv6 address without brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, when the address names one.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The Redfish endpoint, `https://host[:port]` (IPv6 in brackets); `None` for IPMI.
    pub fn redfish_endpoint(&self) -> Option<String> {
        (self.protocol() == Protocol::Redfish).then(|| {
            let endpoint = format!("{}://{}", self.carrier.as_str(), self.url_host());
            match self.port {
                Some(port) => format!("{endpoint}:{port}"),
                None => endpoint,
            }
        })
    }

    /// `host:port` for IPMI (port 623 unless the address names one); `None` for Redfish.
    pub fn ipmi_address(&self) -> Option<String> {
        (self.protocol() == Protocol::Ipmi)
            .then(|| self.host_port(self.port.unwrap_or(DEFAULT_IPMI_PORT)))
    }

    /// `host:port` on this address's host, IPv6 in brackets: where a combined endpoint's
    /// IPMI side listens.
    pub fn host_port(&self, port: u16) -> String {
        format!("{}:{port}", self.url_host())
    }

    /// The system path (`/redfish/v1/Systems/1`) when the address names one.
    pub fn system_path(&self) -> Option<&str> {
        self.system_path.as_deref()
    }

    /// How the scheme boots a deploy image.
    pub fn boot_method(&self) -> BootMethod {
        self.scheme.boot_method()
    }

    /// The vendor the scheme names (`idrac-*`, `ilo5-*`).
    pub fn vendor_hint(&self) -> Option<VendorHint> {
        self.scheme.vendor_hint()
    }

    /// The IPMI privilege an `ipmi://…?privilegelevel=` address asks for.
    pub fn ipmi_privilege(&self) -> Option<IpmiPrivilegeLevel> {
        self.ipmi_privilege
    }

    fn url_host(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        }
    }
}

impl fmt::Display for BmcAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.scheme.name())?;
        if self.protocol() == Protocol::Redfish && self.carrier == Carrier::Http {
            f.write_str("+http")?;
        }
        write!(f, "://{}", self.url_host())?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        if let Some(path) = &self.system_path {
            f.write_str(path)?;
        }
        if let Some(level) = self.ipmi_privilege {
            write!(f, "?privilegelevel={}", level.as_str())?;
        }
        Ok(())
    }
}

impl FromStr for BmcAddress {
    type Err = AddressError;

    fn from_str(input: &str) -> Result<BmcAddress, AddressError> {
        BmcAddress::parse(input)
    }
}

/// Anything [`crate::Bmc::connect`] takes as an address: a parsed [`BmcAddress`] or text.
pub trait IntoBmcAddress {
    /// Parses (or passes on) the address.
    fn into_bmc_address(self) -> Result<BmcAddress, AddressError>;
}

impl IntoBmcAddress for BmcAddress {
    fn into_bmc_address(self) -> Result<BmcAddress, AddressError> {
        Ok(self)
    }
}

impl IntoBmcAddress for &BmcAddress {
    fn into_bmc_address(self) -> Result<BmcAddress, AddressError> {
        Ok(self.clone())
    }
}

impl IntoBmcAddress for &str {
    fn into_bmc_address(self) -> Result<BmcAddress, AddressError> {
        BmcAddress::parse(self)
    }
}

impl IntoBmcAddress for String {
    fn into_bmc_address(self) -> Result<BmcAddress, AddressError> {
        BmcAddress::parse(&self)
    }
}

impl IntoBmcAddress for &String {
    fn into_bmc_address(self) -> Result<BmcAddress, AddressError> {
        BmcAddress::parse(self)
    }
}

/// Replaces `user:password@` in an address with `<redacted>@`, for error messages.
fn redact_user_info(input: &str) -> String {
    let start = input.find("://").map_or(0, |i| i + 3);
    let end = input[start..]
        .find(['/', '?'])
        .map_or(input.len(), |i| start + i);
    match input[start..end].rfind('@') {
        Some(at) => format!("{}<redacted>{}", &input[..start], &input[start + at..]),
        None => input.to_owned(),
    }
}

/// Splits `scheme://rest`, the opaque `scheme:rest`, or a bare host (`None`).
fn split_scheme(input: &str) -> (Option<&str>, &str) {
    if let Some((scheme, rest)) = input.split_once("://") {
        return (Some(scheme), rest);
    }
    if let Some((head, tail)) = input.split_once(':') {
        let looks_like_scheme = head.starts_with(|c: char| c.is_ascii_alphabetic())
            && head
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-'));
        // `name:623` and `name:` are a host and a (possibly bad) port, not a scheme.
        // `fd00::6` is an IPv6 address written without its brackets, refused as a host later.
        let port_like = tail.chars().all(|c| c.is_ascii_digit()) || tail.starts_with(':');
        if looks_like_scheme && !port_like {
            return (Some(head), tail);
        }
    }
    (None, input)
}

/// The scheme and carrier of `name[+carrier]`.
fn resolve_scheme(
    text: &str,
    malformed: &dyn Fn(&'static str) -> AddressError,
) -> Result<(Scheme, Carrier), AddressError> {
    let valid = text.starts_with(|c: char| c.is_ascii_alphabetic())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !valid {
        return Err(malformed("the scheme must be letters, digits, '+' and '-'"));
    }
    let text = text.to_ascii_lowercase();
    match text.as_str() {
        "http" => return Ok((Scheme::Redfish, Carrier::Http)),
        "https" => return Ok((Scheme::Redfish, Carrier::Https)),
        _ => {}
    }
    let (name, carrier) = match text.split_once('+') {
        Some((name, carrier)) => (name, Some(carrier)),
        None => (text.as_str(), None),
    };
    if let Some(advice) = removed_scheme_advice(name) {
        return Err(AddressError::RemovedScheme {
            scheme: name.to_owned(),
            advice,
        });
    }
    let Some(scheme) = Scheme::from_name(name) else {
        return Err(AddressError::UnknownScheme { scheme: text });
    };
    let carrier_error = |carrier: &str, reason| AddressError::Carrier {
        scheme: name.to_owned(),
        carrier: carrier.to_owned(),
        reason,
    };
    let carrier = match (scheme, carrier) {
        (Scheme::Ipmi, Some(carrier)) => {
            return Err(carrier_error(carrier, "IPMI has no +http/+https carrier"));
        }
        (_, None | Some("https")) => Carrier::Https,
        (_, Some("http")) => Carrier::Http,
        (_, Some(carrier)) => {
            return Err(carrier_error(carrier, "the carrier is +http or +https"));
        }
    };
    Ok((scheme, carrier))
}

/// Metal3's removed schemes and what replaces each.
fn removed_scheme_advice(name: &str) -> Option<&'static str> {
    Some(match name {
        "idrac" => {
            "Dell's WS-Man driver was removed; use idrac-redfish:// or idrac-virtualmedia://"
        }
        "ibmc" => "the Huawei iBMC driver was removed; use redfish://",
        "ilo4" | "ilo4-virtualmedia" => "iLO 4 has no supported Redfish driver; use ipmi://",
        "ilo5" => "use ilo5-redfish:// or redfish://",
        "irmc" => "the Fujitsu iRMC driver was removed; use redfish://",
        "libvirt" => "a VirtualBMC is an IPMI BMC; use ipmi://",
        _ => return None,
    })
}

/// `host`, `host:port`, `[v6]`, `[v6]:port`.
fn parse_authority(authority: &str) -> Result<(String, Option<u16>), AddressError> {
    if let Some(bracketed) = authority.strip_prefix('[') {
        let Some((v6, after)) = bracketed.split_once(']') else {
            return Err(AddressError::InvalidHost {
                host: authority.to_owned(),
                reason: "an IPv6 address opened with '[' must be closed with ']'",
            });
        };
        if v6.parse::<Ipv6Addr>().is_err() {
            return Err(AddressError::InvalidHost {
                host: v6.to_owned(),
                reason: "not an IPv6 address",
            });
        }
        let port = match after {
            "" => None,
            _ => match after.strip_prefix(':') {
                Some(port) => Some(parse_port(port)?),
                None => {
                    return Err(AddressError::InvalidHost {
                        host: authority.to_owned(),
                        reason: "only :port may follow an IPv6 address in brackets",
                    });
                }
            },
        };
        return Ok((v6.to_owned(), port));
    }
    let (host, port) = match authority.split_once(':') {
        Some((_, after)) if after.contains(':') => {
            return Err(AddressError::InvalidHost {
                host: authority.to_owned(),
                reason: "an IPv6 address must be written in brackets, [fd00::5]:623",
            });
        }
        Some((host, port)) => (host, Some(parse_port(port)?)),
        None => (authority, None),
    };
    check_host(host)?;
    Ok((host.to_owned(), port))
}

fn parse_port(port: &str) -> Result<u16, AddressError> {
    let invalid = || AddressError::InvalidPort {
        port: port.to_owned(),
    };
    if port.is_empty() || port.len() > 5 || !port.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid());
    }
    match port.parse::<u16>() {
        Ok(0) | Err(_) => Err(invalid()),
        Ok(port) => Ok(port),
    }
}

/// An IPv4 address or a DNS name (labels of letters, digits and inner hyphens).
fn check_host(host: &str) -> Result<(), AddressError> {
    let invalid = |reason| AddressError::InvalidHost {
        host: host.to_owned(),
        reason,
    };
    if host.is_empty() {
        return Err(invalid("the host is missing"));
    }
    if host.len() > 253 {
        return Err(invalid("a DNS name has at most 253 characters"));
    }
    let labels: Vec<&str> = host.strip_suffix('.').unwrap_or(host).split('.').collect();
    if labels.iter().all(|l| l.chars().all(|c| c.is_ascii_digit())) {
        return match host.parse::<Ipv4Addr>() {
            Ok(_) => Ok(()),
            Err(_) => Err(invalid("not an IPv4 address")),
        };
    }
    for label in labels {
        if label.is_empty() || label.len() > 63 {
            return Err(invalid("each part of a DNS name has 1 to 63 characters"));
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            || label.starts_with('-')
            || label.ends_with('-')
        {
            return Err(invalid(
                "a DNS name is letters, digits and hyphens (not at either end of a part)",
            ));
        }
    }
    Ok(())
}

/// `None` for no path, the service root or the Systems collection; the system's path for
/// `/redfish/v1/Systems/<id>`; an error otherwise.
fn system_path(path: &str) -> Result<Option<String>, AddressError> {
    const ANY_SYSTEM: [&str; 4] = ["", "/redfish", "/redfish/v1", "/redfish/v1/Systems"];
    let trimmed = path.trim_end_matches('/');
    if ANY_SYSTEM.contains(&trimmed) {
        return Ok(None);
    }
    let id_is_valid = |id: &str| {
        !id.is_empty()
            && id != "."
            && id != ".."
            && id.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '%' | ':' | '@')
            })
    };
    match trimmed.strip_prefix("/redfish/v1/Systems/") {
        Some(id) if id_is_valid(id) => Ok(Some(trimmed.to_owned())),
        _ => Err(AddressError::NotASystemPath {
            path: path.to_owned(),
        }),
    }
}

/// `privilegelevel=X` (Metal3's one IPMI query parameter), or nothing.
fn ipmi_query(query: &str) -> Result<Option<IpmiPrivilegeLevel>, AddressError> {
    if query.is_empty() {
        return Ok(None);
    }
    let unsupported = || AddressError::UnsupportedQuery {
        query: query.to_owned(),
    };
    let (key, value) = query.split_once('=').ok_or_else(unsupported)?;
    if key != "privilegelevel" {
        return Err(unsupported());
    }
    match value.to_ascii_uppercase().as_str() {
        "ADMINISTRATOR" => Ok(Some(IpmiPrivilegeLevel::Administrator)),
        "OPERATOR" => Ok(Some(IpmiPrivilegeLevel::Operator)),
        "USER" => Ok(Some(IpmiPrivilegeLevel::User)),
        _ => Err(unsupported()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &str) -> BmcAddress {
        BmcAddress::parse(input).unwrap_or_else(|err| panic!("{input}: {err}"))
    }

    #[test]
    fn every_redfish_scheme_with_every_carrier() {
        let cases = [
            ("redfish", BootMethod::Network, None),
            ("redfish-virtualmedia", BootMethod::VirtualMedia, None),
            ("redfish-uefihttp", BootMethod::UefiHttp, None),
            (
                "idrac-redfish",
                BootMethod::Network,
                Some(VendorHint::Idrac),
            ),
            (
                "idrac-virtualmedia",
                BootMethod::VirtualMedia,
                Some(VendorHint::Idrac),
            ),
            ("ilo5-redfish", BootMethod::Network, Some(VendorHint::Ilo5)),
            (
                "ilo5-virtualmedia",
                BootMethod::VirtualMedia,
                Some(VendorHint::Ilo5),
            ),
        ];
        for (name, boot, vendor) in cases {
            for (suffix, endpoint) in [
                ("", "https://10.0.0.5"),
                ("+https", "https://10.0.0.5"),
                ("+http", "http://10.0.0.5"),
            ] {
                let address = parse(&format!("{name}{suffix}://10.0.0.5"));
                assert_eq!(address.scheme().name(), name);
                assert_eq!(address.protocol(), Protocol::Redfish);
                assert_eq!(
                    address.redfish_endpoint().as_deref(),
                    Some(endpoint),
                    "{name}{suffix}"
                );
                assert_eq!(address.ipmi_address(), None);
                assert_eq!(address.boot_method(), boot, "{name}");
                assert_eq!(address.vendor_hint(), vendor, "{name}");
                assert_eq!(address.system_path(), None);
            }
        }
    }

    #[test]
    fn schemes_are_case_insensitive_like_urls() {
        let address = parse("Redfish-VirtualMedia+HTTP://Bmc.Example.net:8000");
        assert_eq!(address.scheme(), Scheme::RedfishVirtualMedia);
        assert_eq!(address.carrier(), Carrier::Http);
        assert_eq!(
            address.redfish_endpoint().as_deref(),
            Some("http://Bmc.Example.net:8000")
        );
    }

    #[test]
    fn ipmi_with_and_without_scheme_defaults_to_port_623() {
        for (input, host, port) in [
            ("ipmi://10.0.0.6", "10.0.0.6", 623),
            ("ipmi://10.0.0.6:6230", "10.0.0.6", 6230),
            ("10.0.0.6", "10.0.0.6", 623),
            ("10.0.0.6:6230", "10.0.0.6", 6230),
            ("bmc-7.rack2.example.net", "bmc-7.rack2.example.net", 623),
            ("bmc7:6231", "bmc7", 6231),
            ("ipmi:10.0.0.6", "10.0.0.6", 623),
            ("[fd00::6]", "fd00::6", 623),
            ("[fd00::6]:6230", "fd00::6", 6230),
            ("ipmi://[::1]:6230/", "::1", 6230),
        ] {
            let address = parse(input);
            assert_eq!(address.scheme(), Scheme::Ipmi, "{input}");
            assert_eq!(address.protocol(), Protocol::Ipmi, "{input}");
            assert_eq!(address.host(), host, "{input}");
            assert_eq!(address.redfish_endpoint(), None, "{input}");
            let expected = if host.contains(':') {
                format!("[{host}]:{port}")
            } else {
                format!("{host}:{port}")
            };
            assert_eq!(address.ipmi_address(), Some(expected), "{input}");
            assert_eq!(address.boot_method(), BootMethod::Network);
        }
    }

    #[test]
    fn ipmi_privilege_level_query() {
        let address = parse("ipmi://10.0.0.6?privilegelevel=operator");
        assert_eq!(address.ipmi_privilege(), Some(IpmiPrivilegeLevel::Operator));
        assert_eq!(
            address.to_string(),
            "ipmi://10.0.0.6?privilegelevel=OPERATOR"
        );
        for bad in [
            "ipmi://10.0.0.6?privilegelevel=root",
            "ipmi://10.0.0.6?priv=OPERATOR",
            "ipmi://10.0.0.6?privilegelevel",
            "redfish://10.0.0.6?privilegelevel=OPERATOR",
        ] {
            assert!(
                matches!(
                    BmcAddress::parse(bad),
                    Err(AddressError::UnsupportedQuery { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn system_paths_and_the_paths_that_mean_any_system() {
        for path in [
            "",
            "/",
            "/redfish",
            "/redfish/v1",
            "/redfish/v1/",
            "/redfish/v1/Systems/",
        ] {
            assert_eq!(
                parse(&format!("redfish://bmc{path}")).system_path(),
                None,
                "{path:?}"
            );
        }
        for (path, expected) in [
            ("/redfish/v1/Systems/1", "/redfish/v1/Systems/1"),
            (
                "/redfish/v1/Systems/System.Embedded.1/",
                "/redfish/v1/Systems/System.Embedded.1",
            ),
            (
                "/redfish/v1/Systems/8a1e4a8e-3f2a-4b55-9a4e-1e0c6f1d2b3c",
                "/redfish/v1/Systems/8a1e4a8e-3f2a-4b55-9a4e-1e0c6f1d2b3c",
            ),
            ("/redfish/v1/Systems/sys%201", "/redfish/v1/Systems/sys%201"),
        ] {
            let address = parse(&format!("redfish-uefihttp://bmc:8443{path}"));
            assert_eq!(address.system_path(), Some(expected));
            assert_eq!(
                address.redfish_endpoint().as_deref(),
                Some("https://bmc:8443")
            );
        }
        for path in [
            "/redfish/v1/Managers/1",
            "/redfish/v1/Systems/1/Bios",
            "/redfish/v1/Systems/..",
            "/1",
            "/redfish/v2/Systems/1",
        ] {
            assert_eq!(
                BmcAddress::parse(&format!("redfish://bmc{path}")),
                Err(AddressError::NotASystemPath {
                    path: path.to_owned()
                }),
                "{path}"
            );
        }
    }

    #[test]
    fn plain_http_and_https_urls_are_redfish() {
        let address = parse("http://127.0.0.1:8000/redfish/v1/Systems/1");
        assert_eq!(address.scheme(), Scheme::Redfish);
        assert_eq!(address.carrier(), Carrier::Http);
        assert_eq!(
            address.redfish_endpoint().as_deref(),
            Some("http://127.0.0.1:8000")
        );
        assert_eq!(
            address.to_string(),
            "redfish+http://127.0.0.1:8000/redfish/v1/Systems/1"
        );
        assert_eq!(parse("https://bmc").to_string(), "redfish://bmc");
    }

    #[test]
    fn ipv6_literals_keep_their_brackets_in_urls() {
        let address = parse("idrac-virtualmedia+https://[fd00:1::5]:8443/redfish/v1/Systems/1");
        assert_eq!(address.host(), "fd00:1::5");
        assert_eq!(address.port(), Some(8443));
        assert_eq!(
            address.redfish_endpoint().as_deref(),
            Some("https://[fd00:1::5]:8443")
        );
        assert_eq!(address.host_port(6230), "[fd00:1::5]:6230");
        assert_eq!(
            address.to_string(),
            "idrac-virtualmedia://[fd00:1::5]:8443/redfish/v1/Systems/1"
        );
    }

    #[test]
    fn the_opaque_form_is_rewritten_like_metal3() {
        let address = parse("redfish:10.0.0.5");
        assert_eq!(address.scheme(), Scheme::Redfish);
        assert_eq!(
            address.redfish_endpoint().as_deref(),
            Some("https://10.0.0.5")
        );
    }

    #[test]
    fn unknown_and_removed_schemes_list_what_is_accepted() {
        let err = BmcAddress::parse("redfsh://10.0.0.5").unwrap_err();
        assert_eq!(
            err,
            AddressError::UnknownScheme {
                scheme: "redfsh".into()
            }
        );
        let text = err.to_string();
        for scheme in Scheme::ALL {
            assert!(text.contains(&format!("{}://", scheme.name())), "{text}");
        }
        assert!(text.contains("+http"), "{text}");
        assert!(text.contains("bare host"), "{text}");

        for removed in [
            "idrac",
            "ibmc",
            "ilo4",
            "ilo4-virtualmedia",
            "ilo5",
            "irmc",
            "libvirt",
        ] {
            let err = BmcAddress::parse(&format!("{removed}://10.0.0.5")).unwrap_err();
            assert!(
                matches!(&err, AddressError::RemovedScheme { scheme, .. } if scheme == removed),
                "{removed}: {err:?}"
            );
            assert!(err.to_string().contains("accepted: redfish://"), "{err}");
        }
        assert!(matches!(
            BmcAddress::parse("ftp:bmc"),
            Err(AddressError::UnknownScheme { .. })
        ));
    }

    #[test]
    fn carriers_only_on_redfish_and_only_http_or_https() {
        assert!(matches!(
            BmcAddress::parse("ipmi+https://10.0.0.6"),
            Err(AddressError::Carrier { scheme, carrier, .. }) if scheme == "ipmi" && carrier == "https"
        ));
        assert!(matches!(
            BmcAddress::parse("redfish+ftp://10.0.0.6"),
            Err(AddressError::Carrier { carrier, .. }) if carrier == "ftp"
        ));
        assert!(matches!(
            BmcAddress::parse("redfish+http+https://10.0.0.6"),
            Err(AddressError::Carrier { .. })
        ));
        assert!(matches!(
            BmcAddress::parse("http+https://10.0.0.6"),
            Err(AddressError::UnknownScheme { .. })
        ));
    }

    #[test]
    fn credentials_in_the_address_are_refused_without_repeating_them() {
        for input in [
            "redfish://root:calvin@10.0.0.5",
            "https://root:calvin@10.0.0.5/redfish/v1/Systems/1",
            "ipmi://admin:calvin@10.0.0.6:623",
            "admin:calvin@10.0.0.6",
        ] {
            let err = BmcAddress::parse(input).unwrap_err();
            assert_eq!(err, AddressError::CredentialsInAddress, "{input}");
            assert!(!err.to_string().contains("calvin"));
            assert!(!format!("{err:?}").contains("calvin"));
        }
        // A malformed address with user-info is repeated only without it.
        let err = BmcAddress::parse("redfish://root:calvin@bmc#x").unwrap_err();
        assert!(!err.to_string().contains("calvin"), "{err}");
        assert!(err.to_string().contains("<redacted>@bmc"), "{err}");
    }

    #[test]
    fn malformed_hosts_ports_and_paths() {
        let host = |input: &str| match BmcAddress::parse(input) {
            Err(AddressError::InvalidHost { .. }) => {}
            other => panic!("{input}: {other:?}"),
        };
        host("redfish://");
        host("redfish:///redfish/v1");
        host("fd00::6");
        host("redfish://fd00::6:8000");
        host("redfish://[fd00::zz]");
        host("redfish://[fd00::6");
        host("redfish://[fd00::6]8000");
        host("ipmi://999.1.1.1");
        host("ipmi://10.0.0");
        host("redfish://bmc_1.example");
        host("redfish://-bmc.example");
        host("redfish://bmc..example");
        host(&format!("redfish://{}.example", "a".repeat(64)));
        let port = |input: &str| match BmcAddress::parse(input) {
            Err(AddressError::InvalidPort { .. }) => {}
            other => panic!("{input}: {other:?}"),
        };
        port("10.0.0.6:");
        port("10.0.0.6:0");
        port("10.0.0.6:65536");
        port("redfish://bmc:http");
        port("redfish://bmc:-1");
        port("redfish://[::1]:");
        assert!(matches!(
            BmcAddress::parse("ipmi://10.0.0.6/redfish/v1"),
            Err(AddressError::PathNotAllowed { .. })
        ));
        for malformed in [
            "redfish://bmc /x",
            "redfish://bmc#frag",
            "re!fish://bmc",
            "1redfish://bmc",
        ] {
            assert!(
                matches!(
                    BmcAddress::parse(malformed),
                    Err(AddressError::Malformed { .. })
                ),
                "{malformed}"
            );
        }
        assert_eq!(BmcAddress::parse("   "), Err(AddressError::Empty));
    }

    #[test]
    fn display_is_canonical_and_parses_back() {
        for input in [
            "redfish-virtualmedia+https://10.0.0.5:443/redfish/v1/Systems/1",
            "ilo5-virtualmedia+http://ilo.example:8080",
            "10.0.0.6",
            "ipmi://[fd00::6]:6230?privilegelevel=USER",
            "https://bmc/redfish/v1",
        ] {
            let address = parse(input);
            assert_eq!(parse(&address.to_string()), address, "{input} -> {address}");
        }
        assert_eq!(parse("10.0.0.6").to_string(), "ipmi://10.0.0.6");
        assert_eq!(
            parse("redfish+https://bmc/redfish/v1/").to_string(),
            "redfish://bmc"
        );
    }

    #[test]
    fn into_bmc_address_for_text_and_addresses() {
        let address = parse("redfish://bmc");
        assert_eq!("redfish://bmc".into_bmc_address(), Ok(address.clone()));
        assert_eq!(
            String::from("redfish://bmc").into_bmc_address(),
            Ok(address.clone())
        );
        assert_eq!((&address).into_bmc_address(), Ok(address.clone()));
        assert!("nope://x".into_bmc_address().is_err());
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        fn scheme_text() -> impl Strategy<Value = String> {
            prop_oneof![
                proptest::sample::select(Scheme::ALL.to_vec()).prop_map(|s| s.name().to_owned()),
                Just("http".to_owned()),
                Just("https".to_owned()),
                Just("ipmi+http".to_owned()),
                "[a-z+-]{0,12}",
            ]
        }

        proptest! {
            #[test]
            fn parse_never_panics_on_any_text(input in "\\PC{0,80}") {
                let _ = BmcAddress::parse(&input);
            }

            #[test]
            fn parse_never_panics_on_address_shaped_text(
                scheme in scheme_text(),
                carrier in prop_oneof![Just(""), Just("+http"), Just("+https"), Just("+x")],
                host in prop_oneof![
                    "[a-z0-9.-]{0,20}",
                    "\\[[0-9a-f:]{0,20}\\]",
                    "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,4}",
                    "[a-z:@]{0,10}@[a-z]{1,5}",
                ],
                port in prop_oneof![Just(String::new()), ":[0-9]{0,6}"],
                path in prop_oneof![Just(String::new()), "/redfish/v1/Systems/[A-Za-z0-9./%]{0,12}", "/[a-z/]{0,10}"],
                query in prop_oneof![Just(String::new()), "\\?[a-z=A-Z]{0,20}"],
            ) {
                let input = format!("{scheme}{carrier}://{host}{port}{path}{query}");
                if let Ok(address) = BmcAddress::parse(&input) {
                    // Whatever parses prints as something that parses back to itself.
                    prop_assert_eq!(BmcAddress::parse(&address.to_string()), Ok(address.clone()));
                    prop_assert!(!address.to_string().contains('@'));
                }
            }
        }
    }
}
