//! Virtual media through Redfish, so a node boots without DHCP.
//!
//! - [`ConfigDrive`] builds an OpenStack config drive (ISO 9660 with Joliet and Rock Ridge,
//!   label `config-2`) from typed [`NetworkData`] (links with MACs, bonds, VLANs, static IPv4
//!   and IPv6 networks, routes, DNS), [`MetaData`] and optional `user_data`.
//! - [`ImageServer`] serves images and config drives over HTTP or HTTPS behind an unguessable
//!   URL token, with Range requests, and logs every fetch.
//! - [`VirtualMedia`] (built from a `ferrofish_redfish_core::System`) finds the slots at
//!   System and Manager level, inserts (action or PATCH, the smallest body the BMC accepts, a
//!   202 task followed, verified by a read-back) and ejects; [`VirtualMedia::boot_from_iso`]
//!   boots the system once from a CD image and confirms it started.
//!
//! Layers, as in the rest of the workspace: pure decisions ([`slots`], [`boot`]'s verdicts,
//! [`network_data`] validation, the [`iso`] tree) without I/O, then the I/O on the public
//! resource layer of `ferrofish-redfish-core` only.

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
pub use media::VirtualMedia;
pub use network_data::{
    Link, LinkKind, MacAddress, Network, NetworkConfig, NetworkData, Route, Service,
};
pub use server::{Fetch, ImageServer, ImageServerOptions, TlsIdentity};
pub use slots::{MediaKind, Slot, SlotLevel, redact_url};
