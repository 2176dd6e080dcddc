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
//!
//! # Virtual-media quirks handled
//!
//! None needs a vendor switch (the iDRAC rules read the Manager's model and firmware, [`idrac`]): each is handled by how every request is shaped, or by reading
//! the BMC's answer. Names as in the tests.
//!
//! | quirk | BMCs | handling |
//! |---|---|---|
//! | `vmedia_at_system_or_manager` | iDRAC9 6.x (both), iDRAC10 and sushy-tools (System), iLO, XCC, Supermicro (Manager) | inserts go to the System's collection when linked, else the Managers' (Ironic); [`VirtualMedia::slots`] and [`VirtualMedia::eject_all`] read both |
//! | `dvd_only_slots` | Cisco UCS | a `DVD` slot takes a CD image ([`MediaKind::Cd`]) |
//! | `no_media_types` | some XCC firmware | a slot without `MediaTypes` takes anything, ranked after typed slots |
//! | `applet_only_slots` | Cisco, OpenBMC | `ConnectedVia: Applet` ranks last; a 400/404/405 moves to the next slot |
//! | `image_and_inserted_disagree` | XCC | occupied when either `Inserted` or `Image` says so |
//! | `stale_insert_after_eject` | iDRAC | stale media is ejected first; a 409 `ResourceInUse` ejects once more and retries; a 5xx without a known reason is retried 3 times, 3 s apart |
//! | `insert_rejects_readonly_fields` | Supermicro X11/X12 | the action body is `Image` alone |
//! | `vmedia_patch_only` | XCC | no action: PATCH `Image` + `Inserted: true`; eject by PATCH |
//! | `eject_requires_body` | iLO | `EjectMedia` always carries `{}`; an error on an empty slot is ignored |
//! | `transfer_protocol_required` | Nokia, `GeneralError` BMCs | added from the URL scheme when the error asks |
//! | `transfer_method_required` | OCPBUGS-12703 | `TransferMethod: Stream` when the error asks |
//! | `credentials_required` | NVIDIA DGX | placeholder `UserName`/`Password` when the error asks |
//! | `hpe_boot_on_next_reset` | iLO | a slot with `Oem.Hpe.BootOnNextServerReset` is set instead of the System override |
//! | `idrac_vmedia_boot_before_6` | iDRAC8, iDRAC9 below 6.00 | [`VirtualMedia::boot_from_iso`] refuses before sending anything ([`Error::IdracFirmwareTooOld`]), by the Manager's model and firmware, unless [`VirtualMedia::allow_idrac_vmedia_boot_before_6`] |
//! | `idrac10_vmedia_slot_one` | iDRAC10 | for a CD the System's slot `1` goes first ([`slots::slot_one_first`], [`idrac::is_idrac10`]); the Manager is read only when that would change the order |
//! | `lc_busy_refuses_config` | iDRAC | not asked before an insert, by choice: a standard `InsertMedia` is not a Lifecycle Controller job, no field report ties a refused insert to a busy LC, and asking would cost a request on every insert (the insert budget stays at 7). A refusal surfaces as the BMC's error with its `MessageId`; `ferrofish_redfish_core::oem::dell::DellOem::wait_until_ready` is there for callers who want to wait first |

pub mod boot;
mod config_drive;
mod error;
pub mod idrac;
pub mod iso;
mod media;
pub mod network_data;
mod server;
pub mod slots;

pub use boot::{BootOptions, BootPhase, BootReport};
pub use config_drive::{CONFIG_DRIVE_LABEL, ConfigDrive, MetaData, OPENSTACK_LATEST};
pub use error::Error;
pub use iso::write_iso;
pub use media::VirtualMedia;
pub use network_data::{
    Link, LinkKind, MacAddress, Network, NetworkConfig, NetworkData, Route, Service,
};
pub use server::{Fetch, ImageServer, ImageServerOptions, TlsIdentity};
pub use slots::{MediaKind, Slot, SlotLevel, redact_url};
