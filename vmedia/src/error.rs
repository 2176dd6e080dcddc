//! The crate's single error type.

use std::net::SocketAddr;
use std::time::Duration;

use crate::slots::MediaKind;

/// Everything that can fail in virtual media: building a config drive, serving images, and
/// talking to the BMC. Each variant says what failed and what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `network_data.json` is not usable: a dangling link reference, a bad VLAN id, an
    /// address of the wrong family, ... Nothing was built or sent.
    #[error("invalid network_data.json: {reason}; fix the network data and build again")]
    InvalidNetworkData {
        /// What is wrong, naming the link or network.
        reason: String,
    },
    /// `meta_data.json` is not usable (no `uuid`). Nothing was built.
    #[error("invalid meta_data.json: {reason}")]
    InvalidMetaData {
        /// What is wrong.
        reason: &'static str,
    },
    /// A JSON document (network data or meta data) could not be read.
    #[error("{what} is not valid JSON for its schema: {source}")]
    Json {
        /// Which document.
        what: &'static str,
        /// The parser's message, with the line and column.
        #[source]
        source: serde_json::Error,
    },
    /// A file path or volume label cannot be written into an ISO 9660 image.
    #[error("cannot put {path:?} into the image: {reason}")]
    InvalidIsoPath {
        /// The offending path (or label).
        path: String,
        /// Why (empty component, too long, clashes with a directory, ...).
        reason: &'static str,
    },
    /// The ISO writer failed.
    #[error("writing the ISO 9660 image failed: {0}")]
    IsoWrite(String),
    /// The image server could not bind or serve.
    #[error("image server: cannot listen on {addr}: {source}")]
    Bind {
        /// Where the caller asked to listen.
        addr: SocketAddr,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The image server's certificate or key could not be loaded.
    #[error("image server: the TLS certificate or key is not usable: {0}")]
    Tls(String),
    /// A file to be served could not be read or is not a regular file.
    #[error("image server: cannot serve {path}: {reason}")]
    ImageSource {
        /// The path on disk.
        path: String,
        /// Why.
        reason: String,
    },
    /// An image name is not usable in a URL path (empty, contains `/`, or not URL-safe).
    #[error(
        "image name {0:?} must be 1-128 characters of A-Z a-z 0-9 . _ - and not start with a dot"
    )]
    InvalidImageName(String),
    /// The server listens on a wildcard address and no public host was given, so there is no
    /// URL the BMC could use.
    #[error(
        "image server listens on {listen}, which a BMC cannot connect to; set public_host to an address or name the BMC reaches"
    )]
    NoPublicHost {
        /// The wildcard address.
        listen: SocketAddr,
    },
    /// The public host does not make a valid URL.
    #[error("image server: {host:?} is not a host name or address usable in a URL")]
    InvalidPublicHost {
        /// What was given.
        host: String,
    },
    /// The BMC refused or failed a Redfish request (status, URL and its messages inside).
    #[error(transparent)]
    Redfish(#[from] ferrofish_redfish_core::Error),
    /// No slot takes this kind of image.
    #[error(
        "no virtual-media slot takes {kind:?} images ({found} slots found at System and Manager level); check the BMC's virtual-media licence and settings"
    )]
    NoSlot {
        /// The kind asked for.
        kind: MediaKind,
        /// How many slots there were in all.
        found: usize,
    },
    /// A slot holds another image and would not let it go.
    #[error(
        "slot {slot} holds someone else's image ({image}) and refused to eject it: {reason}; eject it on the BMC, then retry"
    )]
    SlotBusy {
        /// The slot's path.
        slot: String,
        /// The image it holds (tokens and credentials in the URL redacted).
        image: String,
        /// The BMC's answer.
        reason: String,
    },
    /// The BMC could not download the image.
    #[error(
        "the BMC could not fetch {image}: {bmc_message}; make sure the image server is reachable from the BMC's network (routes, firewall, TLS trust)"
    )]
    ImageUnreachable {
        /// The image URL (token redacted).
        image: String,
        /// What the BMC said.
        bmc_message: String,
    },
    /// The BMC fetched the image and refused it.
    #[error("the BMC refused {image}: {bmc_message}; a CD slot needs an ISO 9660 image")]
    ImageRejected {
        /// The image URL (token redacted).
        image: String,
        /// What the BMC said.
        bmc_message: String,
    },
    /// Every candidate slot refused the insert.
    #[error("virtual media insert failed on every slot; first error: {first}; last error: {last}")]
    InsertFailed {
        /// The first slot's error.
        first: String,
        /// The last slot's error.
        last: String,
    },
    /// The BMC accepted the insert, but the slot does not show the image.
    #[error(
        "slot {slot} accepted the insert but shows {found:?} instead of the image; the BMC may need the insert retried"
    )]
    NotInserted {
        /// The slot's path.
        slot: String,
        /// What `Image` reads now (redacted).
        found: Option<String>,
    },
    /// The slot still shows media after an eject.
    #[error("slot {slot} still shows media after the eject; retry, or eject it on the BMC")]
    NotEjected {
        /// The slot's path.
        slot: String,
    },
    /// The one-time boot override was still pending when the wait ended: the system did not
    /// boot (or ignored the override).
    #[error(
        "the one-time boot override to CD was not consumed within {after:?}; check the system booted (power, POST errors)"
    )]
    OverrideNotConsumed {
        /// How long we waited.
        after: Duration,
    },
    /// The override was consumed, but `BootProgress` never reached an OS state.
    #[error(
        "the system never reported an OS boot within {after:?} (BootProgress last {last_state:?}); check the image boots on this machine (UEFI vs legacy)"
    )]
    BootNeverStarted {
        /// The last `BootProgress.LastState` seen.
        last_state: Option<String>,
        /// How long we waited.
        after: Duration,
    },
    /// A Dell iDRAC8, or an iDRAC9 below firmware 6.00, cannot boot from standard virtual
    /// media (its `Cd` target is the physical drive; quirk `idrac_vmedia_boot_before_6`).
    /// Nothing was sent.
    #[error(
        "virtual-media boot refused before anything was sent: this Dell iDRAC (model {model:?}, firmware {firmware:?}) boots standard virtual media only from firmware 6.00; upgrade the iDRAC to 6.00 or later, or use Dell's OEM boot path (ImportSystemConfiguration, BootOnce to VCD-DVD), or allow it with VirtualMedia::allow_idrac_vmedia_boot_before_6"
    )]
    IdracFirmwareTooOld {
        /// The Manager's `FirmwareVersion`.
        firmware: Option<String>,
        /// The Manager's `Model`.
        model: Option<String>,
    },
}
