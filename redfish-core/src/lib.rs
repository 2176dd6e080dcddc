//! The Redfish client core of ferrofish: transport, sessions, retries, ETags, link safety,
//! OData collections, typed models, vendor detection and quirks, and the inventory.
//!
//! One [`RedfishClient`] talks to one BMC. It is cheap to clone (an `Arc` inside), `Send`,
//! `Sync` and `'static`, so it can be shared between tasks and wrapped by Python.
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use ferrofish_redfish_core::{
//!     BootMode, BootOverride, BootOverrideEnabled, BootSource, PowerState, RedfishClient,
//!     ResetType, TlsVerification,
//! };
//! use secrecy::SecretString;
//!
//! # async fn run() -> Result<(), ferrofish_redfish_core::Error> {
//! let client = RedfishClient::builder("bmc.example.net")
//!     .credentials("root", SecretString::from("calvin"))
//!     .tls(TlsVerification::PinnedCertificatePem(std::fs::read_to_string("bmc.pem").unwrap()))
//!     .build()?;
//!
//! for system in client.systems().await? {
//!     let inventory = system.inventory().await?;
//!     println!("{}: {} CPUs, {} MiB", system.path(), inventory.cpu.count, inventory.memory.total_mib);
//! }
//!
//! // A handle carries the system's resolved URL; bios and vmedia build on it.
//! let system = client.system("1").await?;
//! client
//!     .set_boot_override(
//!         system.path(),
//!         BootOverride {
//!             target: BootSource::Pxe,
//!             enabled: BootOverrideEnabled::Once,
//!             mode: Some(BootMode::Uefi),
//!         },
//!     )
//!     .await?;
//! system.reset(ResetType::ForceRestart).await?;
//! system.wait_for_power_state(PowerState::On, Duration::from_secs(300)).await?;
//!
//! match client.get_json("/redfish/v1/Managers/1").await {
//!     Ok(manager) => println!("{}", manager.body()["FirmwareVersion"]),
//!     Err(err) if err.is_not_found() => println!("no manager 1"),
//!     Err(err) => return Err(err),
//! }
//! println!("{:?}", client.request_counts());
//! client.close().await?;
//! # Ok(())
//! # }
//! ```
//!
//! Safety properties:
//! - every link the BMC sends is resolved against the endpoint and refused when it points to
//!   another origin ([`Error::OffOriginLink`]); redirects are followed only within the origin;
//! - passwords and session tokens live in [`secrecy::SecretString`] and never reach a log
//!   line, `Debug`, or an error; a BMC message that echoes one is scrubbed;
//! - TLS is verified unless [`TlsVerification::DangerAcceptInvalidCerts`] is chosen, which
//!   is logged as a warning. [`TlsVerification::PinnedCertificatePem`] is a true leaf pin:
//!   the BMC must present exactly that certificate (a pinned CA vouches for nothing). A
//!   refused certificate is an [`Error::Connect`] with [`Error::is_tls_rejected`] set, and
//!   is not retried;
//! - boot override quirks (settings object, refused mode, Supermicro `UsbCd`, ...) are pure
//!   decisions with named tests, applied by [`RedfishClient::set_boot_override`].
//!
//! What only a vendor's own API does is typed in [`oem`]: HPE iLO's power button hold and
//! cold boot ([`oem::hpe`], [`RedfishClient::hpe_power_action`]).

// Redfish names (ETag, OData, PCIe, EthernetInterface, ...) read as prose in these docs.
#![allow(clippy::doc_markdown)]

mod boot;
mod client;
mod de;
mod decode;
mod endpoint;
mod error;
mod etag;
#[doc(hidden)]
pub mod fuzzing;
mod handle;
mod http;
mod inventory;
pub mod models;
mod odata;
pub mod oem;
mod quirks;
mod resource;
mod retry;
mod task;
mod tls;
mod transport;
mod vendor;

pub use boot::BootOverride;
pub use client::{BmcIdentity, ClientBuilder, RedfishClient, TlsVerification};
pub use endpoint::Endpoint;
pub use error::{DecodeDetail, Error, HttpMethod, TransportError};
pub use etag::ETag;
pub use handle::System;
pub use inventory::{
    CpuInfo, CpuInventory, DimmInfo, DiskInfo, Inventory, MemoryInventory, NicInfo, PcieDeviceInfo,
    SecureBootInfo, SystemIdentity, VolumeInfo,
};
pub use models::{
    BootMode, BootOverrideEnabled, BootSource, ComputerSystem, PowerState, RedfishMessage,
    ResetType, ServiceRoot,
};
pub use odata::{Collection, Link, ODataId};
pub use quirks::{Quirks, QuirksOverride, resolve_quirks};
pub use resource::{ApplyTime, Resource, Response, SettingsObject};
pub use retry::RetryPolicy;
pub use secrecy::SecretString;
pub use task::{TaskOutcome, TaskProgress, TaskStep, TaskWait, next_poll_delay, task_step};
pub use transport::{AuthMode, RequestCounts};
pub use vendor::{Vendor, detect_vendor, parse_firmware_version};
// Inventory warnings, the boot override outcome and the quirk list (issue 9), kept together.
pub use boot::BootOverrideOutcome;
pub use inventory::{InventoryWarning, WarningReason};
pub use quirks::{QUIRK_FIELDS, firmware_matters};
