//! BIOS settings through Redfish: the attribute registry, validation of a desired profile
//! before anything is sent, a diff against current and pending values, and staging through the
//! `@Redfish.Settings` object, applying with the reset that really applies pending BIOS, and a
//! per-attribute verification report.
//!
//! Layers, as in `docs/architecture.md`: pure parts first ([`value`], [`registry`],
//! [`profile`], [`portable`], [`validate`](mod@validate), [`diff`], [`locate`]), then the I/O in [`bios`] and [`apply`],
//! built only on the public resource layer of `ferrofish-redfish-core` and its [`System`]
//! handle.
//!
//! ```no_run
//! use ferrofish_bios::{ApplyOptions, Bios, Profile};
//! use ferrofish_redfish_core::{RedfishClient, SecretString};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let client = RedfishClient::builder("https://bmc.example.net")
//!     .credentials("root", SecretString::from("calvin"))
//!     .build()?;
//! let system = client.system("System.Embedded.1").await?;
//! let bios = Bios::new(&system);
//!
//! // Ironic's settings list; portable names (`hyper-threading`) and vendor names both work.
//! let profile = Profile::parse(
//!     r#"[{"name": "hyper-threading", "value": "off"}, {"name": "SriovGlobalEnable", "value": "Enabled"}]"#,
//! )?;
//! // Validated against the registry (every problem at once), diffed against current and
//! // pending values, staged with one PATCH; an empty diff sends nothing.
//! let staged = match bios.stage(&profile).await {
//!     Ok(staged) => staged,
//!     Err(err) => {
//!         for problem in err.problems() {
//!             eprintln!("{problem}");
//!         }
//!         return Err(err.into());
//!     }
//! };
//! println!("{}", staged.plan.diff);
//! // Reset, wait (Dell job, task or polling), verify each attribute.
//! let report = bios
//!     .apply(&staged, &ApplyOptions::default(), &mut |event| println!("{event:?}"))
//!     .await?;
//! println!("{report}");
//! # Ok(()) }
//! ```
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
pub mod report;
pub mod validate;
pub mod value;

pub use apply::{
    ApplyEvent, ApplyOptions, ApplyReport, AttributeOutcome, AttributeStatus, FactoryResetReport,
};
pub use bios::{
    BIOS_QUIRK_FIELDS, Bios, BiosQuirks, BiosQuirksOverride, BiosSnapshot, DEFAULT_LC_WAIT, Plan,
    RegistryInfo, SettingsInfo, StageOutcome,
};
pub use diff::{Change, Diff};
pub use error::BiosError;
pub use portable::{PORTABLE_SETTINGS, PortableSetting, VendorRow};
pub use profile::{Profile, ProfileEntry};
pub use registry::{AttributeDef, AttributeKind, AttributeRegistry, Dependency};
pub use validate::{Context, Problem, ProblemKind, Setting, Validated, validate};
pub use value::{AttributeValue, Attributes, ValueKind};
