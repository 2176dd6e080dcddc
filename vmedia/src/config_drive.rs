//! The OpenStack config drive: an ISO 9660 image labelled `config-2` with
//! `openstack/latest/meta_data.json`, `network_data.json` and an optional `user_data`, which
//! cloud-init and glean read at boot to configure static addresses without DHCP.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::iso::write_iso;
use crate::network_data::NetworkData;

/// The label cloud-init and glean look for.
pub const CONFIG_DRIVE_LABEL: &str = "config-2";
/// Where the documents live on the drive.
pub const OPENSTACK_LATEST: &str = "openstack/latest";

/// `meta_data.json`: who the node is. `uuid` is what cloud-init takes as the instance id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetaData {
    /// The instance (node) UUID.
    pub uuid: String,
    /// Host name to set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// SSH public keys by key name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub public_keys: BTreeMap<String, String>,
    /// Free-form metadata.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub meta: BTreeMap<String, String>,
}

/// What goes on a config drive. Build the image with [`ConfigDrive::build`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigDrive {
    /// `meta_data.json`.
    pub meta_data: MetaData,
    /// `network_data.json`; without it the node falls back to whatever its image does (DHCP).
    pub network_data: Option<NetworkData>,
    /// `user_data` (a cloud-config or a script), written as given.
    pub user_data: Option<Vec<u8>>,
}

impl ConfigDrive {
    /// A drive for the node `uuid` with the given network data.
    pub fn new(uuid: impl Into<String>, network_data: Option<NetworkData>) -> ConfigDrive {
        ConfigDrive {
            meta_data: MetaData {
                uuid: uuid.into(),
                ..MetaData::default()
            },
            network_data,
            user_data: None,
        }
    }

    /// The files of the drive (path → contents), after validating the network data.
    pub fn files(&self) -> Result<BTreeMap<String, Vec<u8>>, Error> {
        if self.meta_data.uuid.trim().is_empty() {
            return Err(Error::InvalidMetaData {
                reason: "it needs a uuid (cloud-init's instance id); set MetaData::uuid",
            });
        }
        let json = |what, value: Result<String, serde_json::Error>| {
            value
                .map(String::into_bytes)
                .map_err(|source| Error::Json { what, source })
        };
        let mut files = BTreeMap::new();
        files.insert(
            format!("{OPENSTACK_LATEST}/meta_data.json"),
            json(
                "meta_data.json",
                serde_json::to_string_pretty(&self.meta_data),
            )?,
        );
        if let Some(network_data) = &self.network_data {
            files.insert(
                format!("{OPENSTACK_LATEST}/network_data.json"),
                network_data.to_json()?.into_bytes(),
            );
        }
        if let Some(user_data) = &self.user_data {
            files.insert(format!("{OPENSTACK_LATEST}/user_data"), user_data.clone());
        }
        Ok(files)
    }

    /// The ISO 9660 image (Joliet and Rock Ridge), labelled `config-2`.
    pub fn build(&self) -> Result<Vec<u8>, Error> {
        write_iso(CONFIG_DRIVE_LABEL, &self.files()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network_data::{Link, LinkKind, Network, NetworkConfig};

    #[test]
    fn files_are_the_openstack_latest_tree_and_invalid_input_builds_nothing() {
        let network = NetworkData {
            links: vec![Link {
                id: "eth0".into(),
                ethernet_mac_address: Some("52:54:00:00:00:01".parse().unwrap()),
                mtu: None,
                vif_id: None,
                kind: LinkKind::Phy,
            }],
            networks: vec![Network {
                id: "n0".into(),
                link: "eth0".into(),
                network_id: None,
                config: NetworkConfig::ipv4("10.0.0.5".parse().unwrap(), 24, None),
            }],
            services: Vec::new(),
        };
        let mut drive = ConfigDrive::new("uuid-1", Some(network.clone()));
        drive.user_data = Some(b"#!/bin/sh\n".to_vec());
        let files = drive.files().unwrap();
        let names: Vec<&str> = files.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "openstack/latest/meta_data.json",
                "openstack/latest/network_data.json",
                "openstack/latest/user_data"
            ]
        );
        let meta: serde_json::Value =
            serde_json::from_slice(&files["openstack/latest/meta_data.json"]).unwrap();
        assert_eq!(meta, serde_json::json!({"uuid": "uuid-1"}));

        assert!(matches!(
            ConfigDrive::new(" ", None).build(),
            Err(Error::InvalidMetaData { .. })
        ));
        let mut dangling = network;
        dangling.networks[0].link = "eth9".into();
        assert!(matches!(
            ConfigDrive::new("u", Some(dangling)).build(),
            Err(Error::InvalidNetworkData { .. })
        ));
    }
}
