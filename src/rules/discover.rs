//! Auto-discovery, the seed's "just power on the nodes": probe a list of BMC addresses (hosts,
//! URLs in the Metal3 schemes, CIDRs), enroll every one that answers Redfish with its
//! inventory and inspection data marked `auto_discovered`, and report the others. Each
//! address is opened as a [`Bmc`], so `redfish://`, `redfish-virtualmedia://`,
//! `idrac-virtualmedia://`, `ilo5-redfish://`, `+http`/`+https` and a system path mean what
//! they mean everywhere else; plain `http(s)://` URLs and bare hosts keep working. The
//! expansion and validation of the input are pure and happen before anything is sent.
//!
//! Credentials are never invented: the discovered node names its driver and address only, as
//! Ironic's auto-discovery does; rules (like the seed's Dell rule) set the rest, and the
//! credentials used to probe stay with the caller.

use std::net::IpAddr;
use std::time::Duration;

use ferrofish_redfish_core::{
    Error as RedfishError, Inventory, RedfishClient, RetryPolicy, TlsVerification,
};
use futures::stream::{self, StreamExt};
use secrecy::SecretString;
use serde_json::{Map, Value, json};

use super::data::{bmc_host, inspection_data};
use super::error::RuleError;
use crate::address::{BmcAddress, Protocol, VendorHint};
use crate::bmc::{Bmc, BmcOptions, Credentials};

/// The default cap on how many addresses one call may probe.
pub const DEFAULT_MAX_ADDRESSES: usize = 4096;

/// The login used to probe every address.
#[derive(Clone, Debug)]
pub struct DiscoveryCredentials {
    /// User name.
    pub username: String,
    /// Password (`Debug` shows it redacted).
    pub password: SecretString,
}

impl DiscoveryCredentials {
    /// A login.
    pub fn new(username: impl Into<String>, password: SecretString) -> DiscoveryCredentials {
        DiscoveryCredentials {
            username: username.into(),
            password,
        }
    }
}

/// How discovery probes.
#[derive(Clone, Debug)]
pub struct DiscoverOptions {
    /// How many BMCs are probed at once (at least 1).
    pub concurrency: usize,
    /// The most addresses one call may probe, CIDRs expanded; more is an error before
    /// anything is sent.
    pub max_addresses: usize,
    /// For bare hosts and CIDR members: `https` (default) or plain `http`.
    pub plain_http: bool,
    /// For bare hosts and CIDR members: the port, when not the scheme's default.
    pub port: Option<u16>,
    /// How BMC certificates are checked.
    pub tls: TlsVerification,
    /// How long a connection may take: short, since most addresses of a CIDR do not answer.
    pub connect_timeout: Duration,
    /// How long one request may take.
    pub request_timeout: Duration,
    /// Retries per request. None by default: an address that does not answer is reported,
    /// and probing a range should not wait on each dead host.
    pub retry: RetryPolicy,
    /// The node's `driver` before rules run (Ironic's `[auto_discovery]driver`), for
    /// addresses whose scheme names no vendor (`idrac-*` gives `idrac`, `ilo5-*` `ilo5`).
    pub driver: String,
}

impl Default for DiscoverOptions {
    fn default() -> DiscoverOptions {
        DiscoverOptions {
            concurrency: 16,
            max_addresses: DEFAULT_MAX_ADDRESSES,
            plain_http: false,
            port: None,
            tls: TlsVerification::default(),
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::none(),
            driver: "redfish".to_owned(),
        }
    }
}

/// What probing one address found.
#[derive(Clone, Debug)]
pub struct Discovered {
    /// The address as given, or the member of a CIDR.
    pub address: String,
    /// The Redfish service URL probed (`https://10.0.0.5`, whatever the address's scheme).
    pub endpoint: String,
    /// The BMC address to enroll the node with: the address as given when it has a scheme
    /// (`idrac-virtualmedia://10.0.0.5`), else the endpoint.
    pub bmc_address: String,
    /// One node per system the BMC manages, or why none.
    pub outcome: Result<Vec<DiscoveredNode>, DiscoveryFailure>,
}

/// One system found behind a BMC.
#[derive(Clone, Debug)]
pub struct DiscoveredNode {
    /// The system's path (`/redfish/v1/Systems/System.Embedded.1`).
    pub system: String,
    /// Its out-of-band inventory.
    pub inventory: Inventory,
    /// Inspection data built from it, with `auto_discovered: true`: what rules run on.
    pub data: Value,
    /// The node document to enroll: `driver`, `driver_info` (`redfish_address`,
    /// `redfish_system_id`, no credentials), empty `properties`, `traits` and `extra`.
    pub node: Map<String, Value>,
}

/// Why an address was not enrolled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscoveryFailure {
    /// The kind of failure.
    pub kind: FailureKind,
    /// The error, in words (secrets already scrubbed by the client).
    pub message: String,
}

/// Why an address was not enrolled, by kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureKind {
    /// Nothing answered (connection refused or timed out, TLS refused).
    Unreachable,
    /// A Redfish service answered but refused the credentials.
    Unauthorized,
    /// Something answered, but not a usable Redfish service.
    NotRedfish,
    /// The service answered but another step failed.
    Failed,
}

/// Expands the input into the addresses to probe, in order, without duplicates: each entry
/// is a host (`10.0.0.5`, `bmc.example`, `10.0.0.5:8443`), a URL (`https://10.0.0.5`), or an
/// IPv4/IPv6 CIDR (`10.0.0.0/24`: its hosts, without the network and broadcast addresses for
/// IPv4 prefixes up to /30). More than `max` addresses is an error, found without expanding.
pub fn expand_addresses<S: AsRef<str>>(inputs: &[S], max: usize) -> Result<Vec<String>, RuleError> {
    let mut total: u128 = 0;
    let mut plan = Vec::with_capacity(inputs.len());
    for input in inputs {
        let text = input.as_ref().trim();
        if text.is_empty() {
            return Err(RuleError::BadAddress {
                input: text.to_owned(),
                message: "it is empty".to_owned(),
            });
        }
        let entry = if !text.contains("://") && text.contains('/') {
            let (first, count) = cidr(text)?;
            Entry::Range(first, count)
        } else {
            Entry::One(text.to_owned())
        };
        total = total.saturating_add(match entry {
            Entry::Range(_, count) => count,
            Entry::One(_) => 1,
        });
        if total > max as u128 {
            return Err(RuleError::TooManyAddresses {
                count: total_of(inputs),
                cap: max,
            });
        }
        plan.push(entry);
    }
    let mut out: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for entry in plan {
        match entry {
            Entry::One(text) => {
                if seen.insert(text.clone()) {
                    out.push(text);
                }
            }
            Entry::Range(first, count) => {
                for offset in 0..count {
                    let text = nth(first, offset).to_string();
                    if seen.insert(text.clone()) {
                        out.push(text);
                    }
                }
            }
        }
    }
    Ok(out)
}

enum Entry {
    One(String),
    /// First address and how many.
    Range(IpAddr, u128),
}

/// The count over every input, saturating, for the error message (invalid entries count 1).
fn total_of<S: AsRef<str>>(inputs: &[S]) -> u128 {
    inputs
        .iter()
        .map(|i| {
            let text = i.as_ref().trim();
            if !text.contains("://") && text.contains('/') {
                cidr(text).map_or(1, |(_, count)| count)
            } else {
                1
            }
        })
        .fold(0_u128, u128::saturating_add)
}

/// The first host and the number of hosts of a CIDR.
fn cidr(text: &str) -> Result<(IpAddr, u128), RuleError> {
    let bad = |message: String| RuleError::BadAddress {
        input: text.to_owned(),
        message,
    };
    let (address, prefix) = text
        .split_once('/')
        .ok_or_else(|| bad("expected ADDRESS/PREFIX".to_owned()))?;
    let address: IpAddr = address.parse().map_err(|_| {
        bad("a CIDR is an IPv4 or IPv6 address, '/', and a prefix length (10.0.0.0/24)".to_owned())
    })?;
    let bits: u32 = if address.is_ipv4() { 32 } else { 128 };
    let prefix: u32 = prefix.parse().ok().filter(|p| *p <= bits).ok_or_else(|| {
        bad(format!(
            "the prefix length must be a number from 0 to {bits}"
        ))
    })?;
    let host_bits = bits - prefix;
    let size: u128 = if host_bits == 128 {
        u128::MAX
    } else {
        1_u128 << host_bits
    };
    let network = match address {
        IpAddr::V4(v4) => {
            let mask = u32::MAX.checked_shl(host_bits).unwrap_or(0);
            IpAddr::V4((u32::from(v4) & mask).into())
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX.checked_shl(host_bits).unwrap_or(0);
            IpAddr::V6((u128::from(v6) & mask).into())
        }
    };
    // IPv4 networks up to /30 lose their network and broadcast addresses.
    if address.is_ipv4() && host_bits >= 2 {
        Ok((nth(network, 1), size - 2))
    } else {
        Ok((network, size))
    }
}

fn nth(first: IpAddr, offset: u128) -> IpAddr {
    match first {
        IpAddr::V4(v4) => IpAddr::V4(
            u32::from(v4)
                .wrapping_add(u32::try_from(offset).unwrap_or(u32::MAX))
                .into(),
        ),
        IpAddr::V6(v6) => IpAddr::V6(u128::from(v6).wrapping_add(offset).into()),
    }
}

/// The address to open for an input: an address with a scheme as it is (a Metal3 scheme or
/// `http(s)://`); a bare host as an `http(s)://` URL with the options' scheme and port (a
/// bare host probes Redfish here, not IPMI as [`BmcAddress`] reads it).
fn address_for(address: &str, options: &DiscoverOptions) -> String {
    if address.contains("://") {
        return address.to_owned();
    }
    let scheme = if options.plain_http { "http" } else { "https" };
    let host = match address.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => format!("[{v6}]"),
        _ => address.to_owned(),
    };
    let has_port = host.rsplit_once(':').is_some_and(|(h, p)| {
        !h.is_empty() && (h.ends_with(']') || !h.contains(':')) && p.parse::<u16>().is_ok()
    });
    match options.port {
        Some(port) if !has_port => format!("{scheme}://{host}:{port}"),
        _ => format!("{scheme}://{host}"),
    }
}

/// Parses the address to open; one that does not speak Redfish (`ipmi://`) cannot be
/// inventoried out of band and is refused before anything is sent. Pure.
fn parse_target(input: &str, options: &DiscoverOptions) -> Result<BmcAddress, RuleError> {
    let bad = |message: String| RuleError::BadAddress {
        input: input.to_owned(),
        message,
    };
    let parsed = BmcAddress::parse(&address_for(input, options)).map_err(|e| bad(e.to_string()))?;
    if parsed.protocol() != Protocol::Redfish {
        return Err(bad(
            "discovery reads the inventory over Redfish; an IPMI address cannot be probed"
                .to_owned(),
        ));
    }
    Ok(parsed)
}

/// The driver a discovered node starts with: the vendor's when the scheme names one.
fn driver_for(address: &BmcAddress, options: &DiscoverOptions) -> String {
    match address.vendor_hint() {
        Some(VendorHint::Idrac) => "idrac".to_owned(),
        Some(VendorHint::Ilo5) => "ilo5".to_owned(),
        None => options.driver.clone(),
    }
}

/// Probes every address (CIDRs expanded, at most `options.concurrency` at once) and enrolls
/// each BMC that answers Redfish. Results come in input order. Invalid input (a malformed
/// address or CIDR, an `ipmi://` address, too many addresses) is an error before anything is
/// sent; an address that does not answer is an entry with a [`DiscoveryFailure`], not an
/// error.
pub async fn discover<S: AsRef<str>>(
    addresses: &[S],
    credentials: &DiscoveryCredentials,
    options: &DiscoverOptions,
) -> Result<Vec<Discovered>, RuleError> {
    let expanded = expand_addresses(addresses, options.max_addresses)?;
    let targets: Vec<(String, BmcAddress)> = expanded
        .into_iter()
        .map(|address| {
            let parsed = parse_target(&address, options)?;
            Ok((address, parsed))
        })
        .collect::<Result<_, RuleError>>()?;
    let results = stream::iter(targets)
        .map(|(address, parsed)| async move {
            let endpoint = parsed.redfish_endpoint().unwrap_or_default();
            let bmc_address = if address.contains("://") {
                address.clone()
            } else {
                endpoint.clone()
            };
            let outcome = probe(parsed, credentials, options).await;
            Discovered {
                address,
                endpoint,
                bmc_address,
                outcome,
            }
        })
        .buffered(options.concurrency.max(1))
        .collect()
        .await;
    Ok(results)
}

async fn probe(
    address: BmcAddress,
    credentials: &DiscoveryCredentials,
    options: &DiscoverOptions,
) -> Result<Vec<DiscoveredNode>, DiscoveryFailure> {
    let driver = driver_for(&address, options);
    let bmc = Bmc::connect(
        address,
        Credentials::new(credentials.username.clone(), credentials.password.clone()),
        BmcOptions {
            tls: options.tls.clone(),
            connect_timeout: options.connect_timeout,
            request_timeout: options.request_timeout,
            redfish_retry: options.retry.clone(),
            ..BmcOptions::default()
        },
    )
    .map_err(|err| DiscoveryFailure {
        kind: FailureKind::Failed,
        message: err.to_string(),
    })?;
    let outcome = match bmc.redfish_client() {
        Some(client) => enroll(&bmc, client, &driver).await,
        None => Err(DiscoveryFailure {
            kind: FailureKind::NotRedfish,
            message: "the address does not speak Redfish".to_owned(),
        }),
    };
    // A session left open would hold one of the BMC's few session slots; a failed close
    // changes nothing about what was found.
    let _ = bmc.close().await;
    outcome
}

async fn enroll(
    bmc: &Bmc,
    client: &RedfishClient,
    driver: &str,
) -> Result<Vec<DiscoveredNode>, DiscoveryFailure> {
    let endpoint = bmc.address().redfish_endpoint().unwrap_or_default();
    let endpoint = endpoint.as_str();
    // A system path in the address names the one system to enroll.
    let systems = match bmc.address().system_path() {
        Some(path) => vec![path.to_owned()],
        None => client.system_ids().await.map_err(|e| failure(&e))?,
    };
    if systems.is_empty() {
        return Err(DiscoveryFailure {
            kind: FailureKind::NotRedfish,
            message: "the Redfish service lists no system".to_owned(),
        });
    }
    let bmc = bmc_host(endpoint);
    let mut nodes = Vec::with_capacity(systems.len());
    for system in systems {
        let inventory = client.inventory(&system).await.map_err(|e| failure(&e))?;
        let data = inspection_data(&inventory, Some(&bmc), true);
        let node = enrolled_node(driver, endpoint, &system);
        nodes.push(DiscoveredNode {
            system,
            inventory,
            data,
            node,
        });
    }
    Ok(nodes)
}

fn enrolled_node(driver: &str, endpoint: &str, system: &str) -> Map<String, Value> {
    let node = json!({
        "driver": driver,
        "driver_info": {
            "redfish_address": endpoint,
            "redfish_system_id": system,
        },
        "properties": {},
        "traits": [],
        "extra": {},
    });
    match node {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn failure(err: &RedfishError) -> DiscoveryFailure {
    let kind = if err.is_unauthorized() {
        FailureKind::Unauthorized
    } else if err.is_connection() || err.is_timeout() {
        FailureKind::Unreachable
    } else if err.is_decode()
        || err.is_not_found()
        || matches!(err, RedfishError::WrongResourceType { .. })
    {
        FailureKind::NotRedfish
    } else {
        FailureKind::Failed
    };
    DiscoveryFailure {
        kind,
        message: err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_urls_and_cidrs_expand_in_order_without_duplicates() {
        let out = expand_addresses(
            &[
                "10.0.0.5",
                "https://bmc.example",
                "10.0.1.0/30",
                "10.0.1.1",
                "10.0.2.7/32",
            ],
            100,
        )
        .unwrap();
        assert_eq!(
            out,
            vec![
                "10.0.0.5",
                "https://bmc.example",
                "10.0.1.1",
                "10.0.1.2",
                "10.0.2.7"
            ]
        );
        let net = expand_addresses(&["192.168.7.130/24"], 1000).unwrap();
        assert_eq!(net.len(), 254);
        assert_eq!(net.first().unwrap(), "192.168.7.1");
        assert_eq!(net.last().unwrap(), "192.168.7.254");
        assert_eq!(
            expand_addresses(&["10.9.9.0/31"], 10).unwrap(),
            vec!["10.9.9.0", "10.9.9.1"]
        );
        assert_eq!(
            expand_addresses(&["fd00::/126"], 10).unwrap(),
            vec!["fd00::", "fd00::1", "fd00::2", "fd00::3"]
        );
    }

    #[test]
    fn the_cap_is_checked_without_expanding() {
        let err = expand_addresses(&["10.0.0.0/8"], DEFAULT_MAX_ADDRESSES).unwrap_err();
        assert!(
            matches!(err, RuleError::TooManyAddresses { count, cap } if count == (1 << 24) - 2 && cap == 4096),
            "{err}"
        );
        assert!(err.is_invalid_input());
        let err = expand_addresses(&["::/0", "::/0"], 10).unwrap_err();
        assert!(
            matches!(
                err,
                RuleError::TooManyAddresses {
                    count: u128::MAX,
                    ..
                }
            ),
            "{err}"
        );
        assert!(expand_addresses(&["10.0.0.0/30", "10.0.0.9"], 3).is_ok());
        assert!(expand_addresses(&["10.0.0.0/30", "10.0.0.9", "10.0.0.10"], 3).is_err());
    }

    #[test]
    fn malformed_input_is_refused() {
        for bad in [
            "",
            "10.0.0.0/33",
            "10.0.0/8",
            "bmc.example/24",
            "fd00::/129",
            "10.0.0.0/x",
        ] {
            let err = expand_addresses(&[bad], 100).unwrap_err();
            assert!(matches!(err, RuleError::BadAddress { .. }), "{bad}: {err}");
        }
    }

    fn endpoint_for(address: &str, options: &DiscoverOptions) -> String {
        parse_target(address, options)
            .unwrap()
            .redfish_endpoint()
            .unwrap()
    }

    #[test]
    fn endpoints_follow_the_options() {
        let https = DiscoverOptions::default();
        assert_eq!(endpoint_for("10.0.0.5", &https), "https://10.0.0.5");
        assert_eq!(endpoint_for("fd00::1", &https), "https://[fd00::1]");
        assert_eq!(
            endpoint_for("http://127.0.0.1:9", &https),
            "http://127.0.0.1:9"
        );
        let http = DiscoverOptions {
            plain_http: true,
            port: Some(8000),
            ..DiscoverOptions::default()
        };
        assert_eq!(endpoint_for("10.0.0.5", &http), "http://10.0.0.5:8000");
        assert_eq!(endpoint_for("10.0.0.5:9000", &http), "http://10.0.0.5:9000");
        assert_eq!(endpoint_for("fd00::1", &http), "http://[fd00::1]:8000");
    }

    #[test]
    fn metal3_schemes_are_opened_as_bmc_addresses() {
        let options = DiscoverOptions::default();
        assert_eq!(
            endpoint_for("idrac-virtualmedia://10.0.0.5", &options),
            "https://10.0.0.5"
        );
        assert_eq!(
            endpoint_for("redfish+http://127.0.0.1:8000", &options),
            "http://127.0.0.1:8000"
        );
        let with_path = parse_target(
            "redfish-virtualmedia://10.0.0.6/redfish/v1/Systems/1",
            &options,
        )
        .unwrap();
        assert_eq!(with_path.system_path(), Some("/redfish/v1/Systems/1"));
        let idrac = parse_target("idrac-redfish://10.0.0.7", &options).unwrap();
        assert_eq!(driver_for(&idrac, &options), "idrac");
        let ilo = parse_target("ilo5-virtualmedia://10.0.0.8", &options).unwrap();
        assert_eq!(driver_for(&ilo, &options), "ilo5");
        assert_eq!(driver_for(&with_path, &options), "redfish");
    }

    #[tokio::test]
    async fn an_ipmi_address_is_refused_before_probing() {
        let creds = DiscoveryCredentials::new("root", SecretString::from("calvin"));
        let err = discover(&["ipmi://10.0.0.1"], &creds, &DiscoverOptions::default())
            .await
            .unwrap_err();
        assert!(err.is_invalid_input(), "{err}");
        assert!(err.to_string().contains("IPMI"), "{err}");
    }

    #[tokio::test]
    async fn a_bad_scheme_is_refused_before_probing() {
        let creds = DiscoveryCredentials::new("root", SecretString::from("calvin"));
        let err = discover(&["ftp://10.0.0.1"], &creds, &DiscoverOptions::default())
            .await
            .unwrap_err();
        assert!(err.is_invalid_input(), "{err}");
        assert!(!format!("{creds:?}").contains("calvin"));
    }
}
