//! A pure-Rust IPMI v2.0 RMCP+ client.
//!
//! Three layers:
//! - [`wire`]: the pure codec (RMCP, ASF, IPMI 1.5 and RMCP+ framing, IPMI messages, Open
//!   Session, RAKP 1–4, integrity and confidentiality padding);
//! - [`crypto`] and [`session`]: cipher suites 17 and 3 (suite 0 only by name), RAKP key
//!   exchange, session keys, the handshake and the established session with sequence windows,
//!   all pure and taking `now`;
//! - [`IpmiClient`]: a tokio UDP transport with per-request timeouts and bounded retries, one
//!   session per BMC reused across commands, typed [`commands`].
//!
//! Passwords, the BMC key and session keys live in [`secrecy`] types and appear in no `Debug`,
//! `Display` or log output.
//!
//! Every failure is one [`Error`]; its predicates sort it the way a caller acts on it, like the
//! Redfish client's: [`Error::is_timeout`], [`Error::is_outcome_unknown`] (a command that may
//! have run: read the state back), [`Error::is_auth`], [`Error::is_connection`],
//! [`Error::is_retryable`], [`Error::is_invalid_input`], and [`Error::completion_code`] /
//! [`Error::rmcp_plus_status`] for the BMC's own codes.
//!
//! ```no_run
//! # async fn demo() -> Result<(), ferrofish_ipmi::Error> {
//! use ferrofish_ipmi::{BootDevice, BootOptions, IpmiClient};
//! use secrecy::SecretString;
//!
//! let bmc = IpmiClient::builder("10.0.0.5:623")
//!     .credentials("admin", SecretString::from("password"))
//!     .build()?;
//! let flags = bmc
//!     .set_boot_device(BootDevice::Pxe, BootOptions { persistent: false, efi: true })
//!     .await?;
//! println!("next boot: {}", flags.device);
//! bmc.close().await?;
//! # Ok(()) }
//! ```

mod client;
pub mod commands;
pub mod crypto;
mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod session;
mod suite;
mod transport;
pub mod wire;

pub use client::{ClientStats, DEFAULT_PORT, IpmiClient, IpmiClientBuilder, SuitePolicy};
pub use commands::{
    BootDevice, BootFlags, BootOptions, ChannelAuthCapabilities, ChassisControl, ChassisStatus,
    CipherSuiteRecord, CompletionCode, DeviceId, PowerRestorePolicy,
};
pub use crypto::CipherSuite;
pub use error::{Error, Stage};
pub use session::{Privilege, RmcpPlusStatus};
pub use transport::RetryPolicy;
pub use wire::DecodeError;
