//! BIOS settings through Redfish: the attribute registry, validation of a desired profile
//! before anything is sent, a diff against current and pending values, and staging through the
//! `@Redfish.Settings` object, applying with the reset that really applies pending BIOS, and a
//! per-attribute verification report.
//!
//! Layers, as in `docs/architecture.md`: pure parts first ([`value`], [`registry`],
//! [`profile`], [`portable`], [`validate`], [`diff`], [`locate`]), then the I/O in [`bios`] and [`apply`],
//! built only on the public resource layer of `ferrofish-redfish-core` and its [`System`]
//! handle.
//!
//! [`System`]: ferrofish_redfish_core::System

// Redfish names (ETag, AttributeRegistry, ...) read as prose in these docs.
#![allow(clippy::doc_markdown)]

pub mod apply;
pub mod bios;
pub mod diff;
mod error;
pub mod locate;
pub mod portable;
mod problem;
pub mod profile;
pub mod registry;
pub mod validate;
pub mod value;

pub use apply::{
    ApplyEvent, ApplyOptions, ApplyReport, AttributeOutcome, AttributeStatus, FactoryResetReport,
};
pub use bios::{Bios, BiosQuirks, BiosSnapshot, Plan, RegistryInfo, SettingsInfo, StageOutcome};
pub use diff::{Change, Diff};
pub use error::BiosError;
pub use portable::{PORTABLE_SETTINGS, PortableSetting, VendorRow};
pub use profile::{Profile, ProfileEntry};
pub use registry::{AttributeDef, AttributeKind, AttributeRegistry, Dependency};
pub use validate::{Context, Problem, ProblemKind, Setting, Validated, validate};
pub use value::{AttributeValue, Attributes, ValueKind};
