//! OpenStack `network_data.json` as typed values: what a ramdisk (glean, cloud-init) reads from a
//! `config-2` drive to configure static addresses instead of asking DHCP.
//!
//! The layout is Nova's metadata format: `links` (physical NICs by MAC, bonds over them, VLANs
//! over either), `networks` (an address on a link: static IPv4/IPv6 with routes, or DHCP/SLAAC)
//! and `services` (DNS servers). [`NetworkData::validate`] checks what serde cannot: every
//! reference points at a link that exists, VLAN ids are in range, masks are contiguous and
//! gateways are of the network's family.
//!
//! Over 600 lines only because of its unit tests (a third of the file), kept beside the
//! validation they pin down.

use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;

/// The whole `network_data.json` document.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkData {
    /// Layer-2 interfaces: NICs, bonds, VLANs.
    #[serde(default)]
    pub links: Vec<Link>,
    /// Layer-3 configuration, each on one link.
    #[serde(default)]
    pub networks: Vec<Network>,
    /// Services for the whole node (DNS).
    #[serde(default)]
    pub services: Vec<Service>,
}

/// A MAC address, written `aa:bb:cc:dd:ee:ff` (lowercase) on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddress(pub [u8; 6]);

impl fmt::Display for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl FromStr for MacAddress {
    type Err = Error;

    /// Accepts `:` or `-` separated, either case.
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || Error::InvalidNetworkData {
            reason: format!("{s:?} is not a MAC address (want aa:bb:cc:dd:ee:ff)"),
        };
        let mut out = [0u8; 6];
        let mut parts = s.split([':', '-']);
        for byte in &mut out {
            let part = parts.next().ok_or_else(bad)?;
            // `from_str_radix` would take a leading `+`: insist on two hex digits.
            if part.len() != 2 || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad());
            }
            *byte = u8::from_str_radix(part, 16).map_err(|_| bad())?;
        }
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(MacAddress(out))
    }
}

impl Serialize for MacAddress {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MacAddress {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One layer-2 interface.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Name other entries refer to (`interface0`, `bond0`, `vlan101`).
    pub id: String,
    /// The MAC the interface has (for a physical NIC: how the ramdisk finds it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ethernet_mac_address: Option<MacAddress>,
    /// MTU in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// Neutron's port id, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vif_id: Option<String>,
    /// What kind of interface, with its own fields (`type` on the wire).
    #[serde(flatten)]
    pub kind: LinkKind,
}

/// The kind of a [`Link`], tagged by `type`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
#[non_exhaustive]
pub enum LinkKind {
    /// A physical NIC.
    Phy,
    /// Nova's name for a virtual NIC; treated as a physical one by ramdisks.
    Vif,
    /// A bond over other links.
    Bond {
        /// The links enslaved (their `id`s).
        bond_links: Vec<String>,
        /// `802.3ad`, `active-backup`, `balance-rr`, ...
        bond_mode: String,
        /// Link monitoring interval in milliseconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bond_miimon: Option<u32>,
        /// `layer2`, `layer3+4`, ...
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bond_xmit_hash_policy: Option<String>,
    },
    /// A VLAN on another link.
    Vlan {
        /// The parent link's `id`.
        vlan_link: String,
        /// 802.1Q id, 1..=4094.
        vlan_id: u16,
        /// MAC of the VLAN interface, when it differs from the parent's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        vlan_mac_address: Option<MacAddress>,
    },
}

/// One layer-3 configuration on a link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    /// This network's name (`network0`).
    pub id: String,
    /// The [`Link::id`] it lives on.
    pub link: String,
    /// Neutron's network id, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_id: Option<String>,
    /// How the address is obtained (`type` on the wire).
    #[serde(flatten)]
    pub config: NetworkConfig,
}

/// How a [`Network`] gets its address, tagged by `type`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum NetworkConfig {
    /// A static IPv4 address.
    Ipv4 {
        /// The address.
        ip_address: Ipv4Addr,
        /// Dotted mask, `255.255.255.0`.
        netmask: Ipv4Addr,
        /// Routes, the default one as `0.0.0.0/0.0.0.0`.
        #[serde(default)]
        routes: Vec<Route>,
        /// Per-network services (DNS).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        services: Vec<Service>,
    },
    /// A static IPv6 address.
    Ipv6 {
        /// The address.
        ip_address: Ipv6Addr,
        /// Mask in address form, `ffff:ffff:ffff:ffff::`.
        netmask: Ipv6Addr,
        /// Routes, the default one as `::/::`.
        #[serde(default)]
        routes: Vec<Route>,
        /// Per-network services (DNS).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        services: Vec<Service>,
    },
    /// IPv4 by DHCP (allowed, though the point of a config drive is not to need it).
    Ipv4Dhcp,
    /// IPv6 by DHCPv6.
    Ipv6Dhcp,
    /// IPv6 by router advertisements.
    Ipv6Slaac,
}

impl NetworkConfig {
    /// A static IPv4 network from an address and a prefix length, with a default route.
    pub fn ipv4(address: Ipv4Addr, prefix: u8, gateway: Option<Ipv4Addr>) -> NetworkConfig {
        let mask = if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(prefix.min(32)))
        };
        NetworkConfig::Ipv4 {
            ip_address: address,
            netmask: Ipv4Addr::from(mask),
            routes: gateway
                .map(|gw| Route {
                    network: Ipv4Addr::UNSPECIFIED.into(),
                    netmask: Ipv4Addr::UNSPECIFIED.into(),
                    gateway: gw.into(),
                })
                .into_iter()
                .collect(),
            services: Vec::new(),
        }
    }

    /// A static IPv6 network from an address and a prefix length, with a default route.
    pub fn ipv6(address: Ipv6Addr, prefix: u8, gateway: Option<Ipv6Addr>) -> NetworkConfig {
        let mask = if prefix == 0 {
            0
        } else {
            u128::MAX << (128 - u32::from(prefix.min(128)))
        };
        NetworkConfig::Ipv6 {
            ip_address: address,
            netmask: Ipv6Addr::from(mask),
            routes: gateway
                .map(|gw| Route {
                    network: Ipv6Addr::UNSPECIFIED.into(),
                    netmask: Ipv6Addr::UNSPECIFIED.into(),
                    gateway: gw.into(),
                })
                .into_iter()
                .collect(),
            services: Vec::new(),
        }
    }

    /// The static address, if this is a static network.
    pub fn static_address(&self) -> Option<IpAddr> {
        match self {
            NetworkConfig::Ipv4 { ip_address, .. } => Some(IpAddr::V4(*ip_address)),
            NetworkConfig::Ipv6 { ip_address, .. } => Some(IpAddr::V6(*ip_address)),
            _ => None,
        }
    }
}

/// A route on a static network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// Destination network (`0.0.0.0` or `::` for the default route).
    pub network: IpAddr,
    /// Destination mask in address form.
    pub netmask: IpAddr,
    /// Next hop.
    pub gateway: IpAddr,
}

/// A service the node should use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
#[non_exhaustive]
pub enum Service {
    /// A DNS resolver.
    Dns {
        /// Its address.
        address: IpAddr,
    },
}

impl NetworkData {
    /// Reads and validates a `network_data.json` document.
    pub fn from_json(text: &str) -> Result<NetworkData, Error> {
        let data: NetworkData = serde_json::from_str(text).map_err(|source| Error::Json {
            what: "network_data.json",
            source,
        })?;
        // serde also reads a struct from a JSON array; the format is an object.
        if !text.trim_start().starts_with('{') {
            return Err(Error::InvalidNetworkData {
                reason: "the document must be a JSON object".into(),
            });
        }
        data.validate()?;
        Ok(data)
    }

    /// The document as pretty JSON, after validation.
    pub fn to_json(&self) -> Result<String, Error> {
        self.validate()?;
        serde_json::to_string_pretty(self).map_err(|source| Error::Json {
            what: "network_data.json",
            source,
        })
    }

    /// The first static address (what a node configured from this document answers on).
    pub fn first_static_address(&self) -> Option<IpAddr> {
        self.networks.iter().find_map(|n| n.config.static_address())
    }

    /// Checks what the types alone cannot: unique ids, references to existing links, no bond
    /// or VLAN loops, VLAN ids, contiguous masks, families of routes and gateways.
    pub fn validate(&self) -> Result<(), Error> {
        let invalid = |reason: String| Err(Error::InvalidNetworkData { reason });
        let mut link_ids = BTreeSet::new();
        for link in &self.links {
            if link.id.is_empty() {
                return invalid("a link has an empty id".into());
            }
            if !link_ids.insert(link.id.as_str()) {
                return invalid(format!("link id {:?} appears twice", link.id));
            }
            if link.mtu.is_some_and(|mtu| !(68..=65535).contains(&mtu)) {
                return invalid(format!("link {:?}: MTU must be 68..=65535", link.id));
            }
        }
        for link in &self.links {
            match &link.kind {
                LinkKind::Bond { bond_links, .. } => {
                    if bond_links.is_empty() {
                        return invalid(format!("bond {:?} has no bond_links", link.id));
                    }
                    for member in bond_links {
                        if member == &link.id || !link_ids.contains(member.as_str()) {
                            return invalid(format!(
                                "bond {:?} enslaves {member:?}, which is not another link",
                                link.id
                            ));
                        }
                    }
                }
                LinkKind::Vlan {
                    vlan_link, vlan_id, ..
                } => {
                    if !(1..=4094).contains(vlan_id) {
                        return invalid(format!(
                            "VLAN {:?}: vlan_id {vlan_id} is outside 1..=4094",
                            link.id
                        ));
                    }
                    if vlan_link == &link.id || !link_ids.contains(vlan_link.as_str()) {
                        return invalid(format!(
                            "VLAN {:?} sits on {vlan_link:?}, which is not another link",
                            link.id
                        ));
                    }
                }
                LinkKind::Phy | LinkKind::Vif => {}
            }
        }
        self.check_link_graph()?;
        let mut network_ids = BTreeSet::new();
        for network in &self.networks {
            if !network_ids.insert(network.id.as_str()) {
                return invalid(format!("network id {:?} appears twice", network.id));
            }
            if !link_ids.contains(network.link.as_str()) {
                return invalid(format!(
                    "network {:?} is on link {:?}, which is not in links",
                    network.id, network.link
                ));
            }
            check_network(network)?;
        }
        Ok(())
    }

    /// Rejects a bond or VLAN that reaches itself through its parents.
    fn check_link_graph(&self) -> Result<(), Error> {
        let parents = |id: &str| -> Vec<&str> {
            self.links
                .iter()
                .find(|l| l.id == id)
                .map(|l| match &l.kind {
                    LinkKind::Bond { bond_links, .. } => {
                        bond_links.iter().map(String::as_str).collect()
                    }
                    LinkKind::Vlan { vlan_link, .. } => vec![vlan_link.as_str()],
                    _ => Vec::new(),
                })
                .unwrap_or_default()
        };
        for start in &self.links {
            let mut seen = BTreeSet::new();
            let mut stack = parents(&start.id);
            while let Some(id) = stack.pop() {
                if id == start.id {
                    return Err(Error::InvalidNetworkData {
                        reason: format!(
                            "link {:?} is its own parent through bonds or VLANs",
                            start.id
                        ),
                    });
                }
                if seen.insert(id) {
                    stack.extend(parents(id));
                }
            }
        }
        Ok(())
    }
}

fn check_network(network: &Network) -> Result<(), Error> {
    let invalid = |reason: String| Err(Error::InvalidNetworkData { reason });
    let (address, mask_contiguous, routes, services, v4) = match &network.config {
        NetworkConfig::Ipv4 {
            ip_address,
            netmask,
            routes,
            services,
        } => (
            IpAddr::V4(*ip_address),
            u32::from(*netmask).leading_ones() + u32::from(*netmask).trailing_zeros() == 32,
            routes,
            services,
            true,
        ),
        NetworkConfig::Ipv6 {
            ip_address,
            netmask,
            routes,
            services,
        } => (
            IpAddr::V6(*ip_address),
            u128::from(*netmask).leading_ones() + u128::from(*netmask).trailing_zeros() == 128,
            routes,
            services,
            false,
        ),
        _ => return Ok(()),
    };
    if address.is_unspecified() || address.is_multicast() {
        return invalid(format!(
            "network {:?}: {address} cannot be a host address",
            network.id
        ));
    }
    if !mask_contiguous {
        return invalid(format!(
            "network {:?}: the netmask is not contiguous",
            network.id
        ));
    }
    for route in routes {
        let same_family = |ip: &IpAddr| ip.is_ipv4() == v4;
        if !same_family(&route.network)
            || !same_family(&route.netmask)
            || !same_family(&route.gateway)
        {
            return invalid(format!(
                "network {:?}: route via {} mixes address families",
                network.id, route.gateway
            ));
        }
        if route.gateway.is_unspecified() {
            return invalid(format!(
                "network {:?}: a route's gateway cannot be {}",
                network.id, route.gateway
            ));
        }
    }
    for Service::Dns { address } in services {
        if address.is_unspecified() {
            return invalid(format!(
                "network {:?}: DNS server {address} is not an address",
                network.id
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bond of two NICs, a VLAN on the bond, static IPv4 and IPv6 on the VLAN, DNS: the shape
    /// Metal3's preprovisioning network data usually has.
    pub(crate) const BOND_VLAN: &str = r#"{
      "links": [
        {"id": "eno1", "type": "phy", "ethernet_mac_address": "52:54:00:AA:00:01", "mtu": 9000},
        {"id": "eno2", "type": "phy", "ethernet_mac_address": "52:54:00:aa:00:02", "mtu": 9000},
        {"id": "bond0", "type": "bond", "bond_links": ["eno1", "eno2"], "bond_mode": "802.3ad",
         "bond_miimon": 100, "bond_xmit_hash_policy": "layer3+4",
         "ethernet_mac_address": "52:54:00:aa:00:01"},
        {"id": "vlan101", "type": "vlan", "vlan_link": "bond0", "vlan_id": 101,
         "vlan_mac_address": "52:54:00:aa:00:01"}
      ],
      "networks": [
        {"id": "net4", "type": "ipv4", "link": "vlan101", "ip_address": "192.0.2.10",
         "netmask": "255.255.255.0",
         "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "192.0.2.1"},
                    {"network": "198.51.100.0", "netmask": "255.255.255.0", "gateway": "192.0.2.254"}]},
        {"id": "net6", "type": "ipv6", "link": "vlan101", "ip_address": "2001:db8::10",
         "netmask": "ffff:ffff:ffff:ffff::",
         "routes": [{"network": "::", "netmask": "::", "gateway": "2001:db8::1"}]}
      ],
      "services": [{"type": "dns", "address": "192.0.2.53"}, {"type": "dns", "address": "2001:db8::53"}]
    }"#;

    #[test]
    fn bond_vlan_document_reads_and_round_trips() {
        let data = NetworkData::from_json(BOND_VLAN).unwrap();
        assert_eq!(data.links.len(), 4);
        assert_eq!(
            data.links[0].ethernet_mac_address,
            Some(MacAddress([0x52, 0x54, 0, 0xaa, 0, 1]))
        );
        assert!(
            matches!(&data.links[2].kind, LinkKind::Bond { bond_links, .. } if bond_links.len() == 2)
        );
        assert!(matches!(
            data.links[3].kind,
            LinkKind::Vlan { vlan_id: 101, .. }
        ));
        assert_eq!(
            data.first_static_address(),
            Some("192.0.2.10".parse().unwrap())
        );
        let json = data.to_json().unwrap();
        // MACs are written lowercase whatever case they were read in.
        assert!(json.contains("\"52:54:00:aa:00:01\""));
        assert!(!json.contains("AA"));
        let back = NetworkData::from_json(&json).unwrap();
        assert_eq!(back, data);
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["links"][2]["type"], "bond");
        assert_eq!(value["networks"][1]["type"], "ipv6");
        assert_eq!(value["services"][0]["type"], "dns");
    }

    #[test]
    fn prefix_helpers_build_masks_and_default_routes() {
        let v4 = NetworkConfig::ipv4(
            "10.1.2.3".parse().unwrap(),
            22,
            Some("10.1.0.1".parse().unwrap()),
        );
        let NetworkConfig::Ipv4 {
            netmask, routes, ..
        } = &v4
        else {
            panic!("not ipv4")
        };
        assert_eq!(netmask.to_string(), "255.255.252.0");
        assert_eq!(routes[0].gateway.to_string(), "10.1.0.1");
        assert_eq!(routes[0].network.to_string(), "0.0.0.0");
        let v6 = NetworkConfig::ipv6("2001:db8::5".parse().unwrap(), 64, None);
        let NetworkConfig::Ipv6 {
            netmask, routes, ..
        } = &v6
        else {
            panic!("not ipv6")
        };
        assert_eq!(netmask.to_string(), "ffff:ffff:ffff:ffff::");
        assert!(routes.is_empty());
    }

    fn rejected(json: &str) -> String {
        match NetworkData::from_json(json) {
            Err(Error::InvalidNetworkData { reason }) => reason,
            other => panic!("expected InvalidNetworkData, got {other:?}"),
        }
    }

    #[test]
    fn dangling_references_and_bad_values_are_rejected_with_the_culprit_named() {
        let net = |link: &str| {
            format!(
                r#"{{"links":[{{"id":"eth0","type":"phy"}}],"networks":[{{"id":"n0","type":"ipv4","link":"{link}","ip_address":"10.0.0.2","netmask":"255.255.255.0"}}]}}"#
            )
        };
        assert!(rejected(&net("eth9")).contains("eth9"));
        assert!(rejected(
            r#"{"links":[{"id":"eth0","type":"phy"},{"id":"v","type":"vlan","vlan_link":"eth0","vlan_id":4095}]}"#
        )
        .contains("4095"));
        assert!(rejected(
            r#"{"links":[{"id":"b","type":"bond","bond_links":["x"],"bond_mode":"active-backup"}]}"#
        )
        .contains("\"x\""));
        assert!(
            rejected(r#"{"links":[{"id":"a","type":"phy"},{"id":"a","type":"phy"}]}"#)
                .contains("twice")
        );
        // A VLAN on a bond on that VLAN.
        assert!(rejected(
            r#"{"links":[{"id":"v","type":"vlan","vlan_link":"b","vlan_id":5},{"id":"b","type":"bond","bond_links":["v"],"bond_mode":"x"}]}"#
        )
        .contains("own parent"));
        assert!(rejected(r#"{"links":[{"id":"eth0","type":"phy"}],"networks":[{"id":"n0","type":"ipv4","link":"eth0","ip_address":"10.0.0.2","netmask":"255.0.255.0"}]}"#).contains("contiguous"));
        assert!(rejected(r#"{"links":[{"id":"eth0","type":"phy"}],"networks":[{"id":"n0","type":"ipv4","link":"eth0","ip_address":"10.0.0.2","netmask":"255.255.255.0","routes":[{"network":"::","netmask":"::","gateway":"fe80::1"}]}]}"#).contains("families"));
        assert!(rejected(r#"{"links":[{"id":"eth0","type":"phy"}],"networks":[{"id":"n0","type":"ipv4","link":"eth0","ip_address":"0.0.0.0","netmask":"255.255.255.0"}]}"#).contains("host address"));
    }

    #[test]
    fn schema_errors_are_typed_not_panics() {
        assert!(matches!(
            NetworkData::from_json("[]"),
            Err(Error::InvalidNetworkData { .. })
        ));
        for bad in [
            "",
            r#"{"links":[{"id":"e","type":"phy","ethernet_mac_address":"52:54:00:aa:00"}]}"#,
            r#"{"links":[{"id":"e","type":"phy","ethernet_mac_address":"52:54:00:aa:00:zz"}]}"#,
            r#"{"links":[{"id":"e","type":"teleport"}]}"#,
            r#"{"networks":[{"id":"n","type":"ipv4","link":"e","ip_address":"2001:db8::1","netmask":"255.0.0.0"}]}"#,
            r#"{"services":[{"type":"ntp","address":"10.0.0.1"}]}"#,
        ] {
            assert!(
                matches!(NetworkData::from_json(bad), Err(Error::Json { .. })),
                "{bad} should be a JSON schema error"
            );
        }
    }

    #[test]
    fn mac_parsing_accepts_dashes_and_rejects_garbage() {
        assert_eq!(
            "AA-bb-cc-00-11-22"
                .parse::<MacAddress>()
                .unwrap()
                .to_string(),
            "aa:bb:cc:00:11:22"
        );
        for bad in [
            "",
            "aa:bb:cc:dd:ee",
            "aa:bb:cc:dd:ee:ff:00",
            "aaa:bb:cc:dd:ee:f",
            "+a:bb:cc:dd:ee:ff",
        ] {
            assert!(bad.parse::<MacAddress>().is_err(), "{bad}");
        }
    }
}
