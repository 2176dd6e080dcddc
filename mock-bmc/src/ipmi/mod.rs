//! The IPMI side of the mock BMC: an RMCP+ (IPMI v2.0 "lanplus") server on UDP.
//!
//! One [`IpmiServer`] answers for one node on its own UDP port; many can run in one process
//! (each is a single tokio task with a few hundred bytes of state per open session). The
//! server speaks the real protocol — ASF presence ping, pre-session Get Channel Authentication
//! Capabilities and Get Channel Cipher Suites, Open Session, RAKP 1–4 with cipher suites 3 and
//! 17 and an optional BMC key (Kg), HMAC integrity and AES-CBC-128 confidentiality — so
//! `ipmitool -I lanplus` and `FreeIPMI` work against it unchanged.
//!
//! The node's state (power, boot override) lives outside this module, behind [`IpmiNode`], so
//! the Redfish side of the same mock node sees every IPMI change: a fleet started with
//! [`crate::MockBmcBuilder::ipmi`] serves every node this way (see the crate documentation for
//! the IPMI ↔ Redfish mapping). Errors are the crate's [`crate::MockBmcError`]. Boot options are also kept
//! byte for byte here, so what a tool writes it reads back.
//!
//! This codec is written independently of the `ferrofish-ipmi` client on purpose: a
//! misunderstanding shared by client and mock could otherwise pass silently.
//!
//! ```no_run
//! use std::sync::Arc;
//! use ferrofish_mock_bmc::ipmi::{IpmiConfig, IpmiServer, IpmiUser, Privilege, SimpleIpmiNode};
//!
//! # async fn demo() -> Result<(), ferrofish_mock_bmc::MockBmcError> {
//! let node = Arc::new(SimpleIpmiNode::default());
//! let config = IpmiConfig::new(vec![IpmiUser::new("admin", "password", Privilege::Administrator)?]);
//! let server = IpmiServer::bind("127.0.0.1:0".parse().unwrap(), node.clone(), config).await?;
//! println!("ipmitool -I lanplus -H 127.0.0.1 -p {} -U admin -P password chassis status",
//!     server.local_addr().port());
//! # Ok(()) }
//! ```

mod codec;
mod commands;
mod compare;
mod config;
mod crypto;
#[doc(hidden)]
pub(crate) mod fuzz;
mod node;
mod responder;
mod server;
mod session;

pub use config::{CipherSuite, IpmiConfig, IpmiFaults, IpmiKey, IpmiQuirks, IpmiUser, Privilege};
pub use node::{
    BootDevice, BootFlags, ChassisControl, DeviceIdentity, HandledCommand, IpmiNode, SimpleIpmiNode,
};
pub use server::{IpmiServer, IpmiServerHandle};

/// The former error type of this module, now the crate's single error enum: IPMI failures are
/// [`MockBmcError::KeyTooLong`], [`MockBmcError::InvalidUserName`],
/// [`MockBmcError::NoCipherSuite`] and [`MockBmcError::IpmiBind`].
///
/// [`MockBmcError::KeyTooLong`]: crate::MockBmcError::KeyTooLong
/// [`MockBmcError::InvalidUserName`]: crate::MockBmcError::InvalidUserName
/// [`MockBmcError::NoCipherSuite`]: crate::MockBmcError::NoCipherSuite
/// [`MockBmcError::IpmiBind`]: crate::MockBmcError::IpmiBind
#[deprecated(note = "use ferrofish_mock_bmc::MockBmcError, the crate's one error enum")]
pub type IpmiServerError = crate::error::MockBmcError;
