//! Virtual media through Redfish, so a node boots without DHCP: a config-drive ISO 9660 builder
//! ([`ConfigDrive`], typed OpenStack [`NetworkData`]) and an embedded image server that hands
//! the BMC a URL.
//!
//! Layers, as in the rest of the workspace: pure parts (network data validation, the ISO
//! tree) without I/O, then the I/O (the image server) on top.

pub mod boot;
mod config_drive;
mod error;
pub mod iso;
mod media;
pub mod network_data;
mod server;
pub mod slots;

pub use boot::{BootOptions, BootReport};
pub use config_drive::{CONFIG_DRIVE_LABEL, ConfigDrive, MetaData, OPENSTACK_LATEST};
pub use error::Error;
pub use iso::write_iso;
pub use media::{VirtualMedia, redact_url};
pub use network_data::{
    Link, LinkKind, MacAddress, Network, NetworkConfig, NetworkData, Route, Service,
};
pub use server::{Fetch, ImageServer, ImageServerOptions, TlsIdentity};
pub use slots::{MediaKind, Slot, SlotLevel};
