//! ferrofish manages bare-metal servers through their BMCs: typed Redfish and IPMI clients for
//! power, boot devices and out-of-band inspection, BIOS settings and virtual media, with a
//! provisioning state machine growing on top.
//!
//! This facade re-exports the member crates as modules, so one dependency brings them all:
//!
//! | module | crate | feature | what |
//! |---|---|---|---|
//! | [`redfish`] | `ferrofish-redfish-core` | always | Redfish transport, sessions, models, inventory |
//! | `ipmi` | `ferrofish-ipmi` | `ipmi` | IPMI v2.0 RMCP+ client |
//! | `bios` | `ferrofish-bios` | `bios` | BIOS attributes: registry, validation, diff, stage, apply and verify |
//! | `vmedia` | `ferrofish-vmedia` | `vmedia` | virtual media: slots, insert/eject, boot once from CD, config drive, image server |
//! | `provision` | (this crate) | `provision` | the provisioning state machine: Ironic's states, `advance`, the `SQLite` store, the fleet runner |
//! | [`rules`] | (this crate) | always | inspection rules (Ironic's language), inspection data from an inventory, auto-discovery |
//!
//! # One BMC, whatever it speaks
//!
//! [`Bmc::connect`] takes the addresses operators already write for Metal3 ([`BmcAddress`]:
//! `redfish-virtualmedia://10.0.0.5`, `idrac-redfish+http://…/redfish/v1/Systems/1`,
//! `ipmi://10.0.0.6`, a bare host), [`Credentials`] and [`BmcOptions`]. Power and boot
//! device go over Redfish and fall back to IPMI on a combined endpoint
//! ([`BmcOptions::ipmi`]); each [`Outcome`] says which protocol did it. Every failure is one
//! [`Error`] with the member crates' predicates ([`Error::is_transient`],
//! [`Error::is_auth`], [`Error::is_outcome_unknown`], ...); the provisioning and rules errors
//! are variants of it too, with their predicates ([`Error::is_stale_revision`],
//! [`Error::is_failed_by_rule`], ...).
//!
//! # Features
//!
//! Every feature is on by default. With `default-features = false`, name the parts you use:
//!
//! - `rustls` (default): TLS through rustls, no OpenSSL needed; certificate pinning works.
//! - `native-tls`: TLS through the platform's library (OpenSSL on Linux); preferred when both
//!   are on. Alone it cannot pin a certificate:
//!   [`TlsVerification::PinnedCertificatePem`](redfish::TlsVerification::PinnedCertificatePem)
//!   is then an [`Error::TlsConfig`](redfish::Error::TlsConfig). With neither, only `http://`
//!   endpoints work and an `https://` one is a `TlsConfig` error when the client is built.
//! - `ipmi`, `bios`, `vmedia`: the modules above.
//! - `provision`: the provisioning state machine (turns on `bios` and `vmedia`; its store is
//!   `SQLite` through `sqlx`).
//!
//! # Secrets
//!
//! Passwords are [`SecretString`]s, re-exported from [`secrecy`] so a user needs no
//! dependency of their own: `ferrofish::SecretString::from(password)`.

pub use ferrofish_redfish_core as redfish;

mod address;
mod bmc;
mod error;

pub use address::{
    ACCEPTED_SCHEMES, AddressError, BmcAddress, BootMethod, Carrier, DEFAULT_IPMI_PORT,
    IntoBmcAddress, IpmiPrivilegeLevel, Protocol, Scheme, VendorHint,
};
pub use bmc::{
    Bmc, BmcOptions, BootDevice, BootDeviceSet, Capabilities, Credentials, Effect, IpmiOptions,
    Outcome, PowerAction, fallback_reason, protocol_capabilities,
};
pub use error::{Capability, Error};

#[cfg(feature = "bios")]
pub use ferrofish_bios as bios;
#[cfg(feature = "ipmi")]
pub use ferrofish_ipmi as ipmi;
#[cfg(feature = "provision")]
pub mod provision;
#[cfg(feature = "vmedia")]
pub use ferrofish_vmedia as vmedia;

pub mod rules;

/// The `secrecy` crate the clients take their secrets from, re-exported so a user's version
/// always matches ferrofish's.
pub use secrecy;
#[doc(no_inline)]
pub use secrecy::{ExposeSecret, SecretSlice, SecretString};

// Compiles and runs the README's Rust examples as doc tests, so the quickstart cannot rot.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
