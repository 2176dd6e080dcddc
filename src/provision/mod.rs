//! The provisioning state machine: Ironic's states and events over one BMC per node, as a
//! library (no service, no threads of its own).
//!
//! Three layers:
//!
//! - pure: [`decide()`] takes a node, what was read from its BMC ([`Observation`]) and the
//!   time, and returns a [`Decision`] (at most one mutating [`Action`] and what becomes of the
//!   node); [`needs`] says what to read; [`handle_event`] applies a caller's [`Event`] or
//!   refuses it naming the allowed ones;
//! - the observer ([`observe`]) reads the BMC through a [`BmcPort`]: the facade's
//!   [`crate::Bmc`] (any address scheme, Redfish with IPMI fallback for power and boot
//!   device; [`BmcConnector`] opens one per node), or [`RedfishPort`] on a Redfish `System`;
//! - the [`Driver`] ties them: [`Driver::advance`] reads, decides, makes at most one mutating
//!   request, and writes the node through a [`StateStore`] (compare-and-swap on `revision`,
//!   leases), returning [`Advance`]. [`Fleet`] drives many nodes with a concurrency bound.
//!
//! A node is one versioned JSON document ([`Node`], schema [`NODE_SCHEMA`]) with no secret in
//! it: credentials are a reference ([`BmcRef`]) the caller resolves. Every sub-phase declares
//! how it resumes after a crash ([`Phase::resume`]); a reboot is two persisted sub-phases, a
//! BIOS apply persists `reboot_requested` before the reset and never PATCHes again after it.
//!
//! Inspection runs Ironic's rules ([`InspectionRules`], [`Driver::with_rules`]) on the
//! inspection data built from the out-of-band inventory; the secrets rules set are kept in a
//! [`SecretMap`] held by the caller, the node holds references to them.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use ferrofish::provision::{
//!     Advance, BmcConnector, BmcRef, Connector, Driver, Event, Node, SqliteStore, StateStore,
//!     Timestamp,
//! };
//! let store = SqliteStore::connect("sqlite:fleet.db").await?;
//! let mut node = Node::new("r640-12", BmcRef {
//!     address: "idrac-virtualmedia://10.0.0.12".into(),
//!     username: Some("root".into()),
//!     password_env: Some("R640_PASSWORD".into()),
//!     credentials_ref: None,
//! });
//! store.enroll(&mut node).await?;
//! let driver = Driver::new(store, "worker-1");
//! let mut node = driver.claim("r640-12", Timestamp::now()).await?;
//! // Reads R640_PASSWORD now; the password is never stored.
//! let port = BmcConnector::default().connect(&node).await?;
//! driver.send(&mut node, Event::Manage, Timestamp::now()).await?;
//! loop {
//!     match driver.advance(&mut node, &port, Timestamp::now()).await? {
//!         Advance::Continue => {}
//!         Advance::Waiting { until } => {
//!             tokio::time::sleep(Timestamp::now().until(until)).await;
//!         }
//!         Advance::Done | Advance::Failed { .. } => break,
//!     }
//! }
//! println!("{} is {}", node.name, node.state);
//! # Ok(()) }
//! ```

// SQLite, PostgreSQL, PATCH, BootProgress, ... read as prose in these docs.
#![allow(clippy::doc_markdown)]

mod bmc_port;
mod decide;
mod driver;
mod error;
mod events;
mod fleet;
mod inspect;
mod node;
mod port;
mod redfish_port;
mod rules_hook;
mod state;
mod steps;
mod store;
mod store_pg;
mod store_sql;

use std::time::Duration;

pub use bmc_port::BmcConnector;
pub use decide::{
    Action, BootMemory, Decision, Needs, Observation, Outcome, Policy, after_failed_action, apply,
    decide, fail_node, needs, resume_after_takeover, target_of,
};
pub use driver::{Advance, Driver, InspectionHook, observe};
pub use error::ProvisionError;
pub use events::{handle_event, validate_deploy};
pub use fleet::{
    Connector, EventSink, Fleet, FleetEvent, FleetPlan, FleetSummary, NodeOutcome, next_event,
};
pub use inspect::properties_from_inventory;
pub use node::{
    BmcRef, HISTORY_CAP, HistoryEntry, Lease, NODE_SCHEMA, Node, Operation, OperationKind, Phase,
    REDACTED, RememberedBoot, Resume, Scratch, Timestamp, scrub_secrets,
};
pub use port::{
    BiosPlan, BiosStatus, BmcPort, BootDevice, MediaSlot, MediaStatus, PortError, PortErrorKind,
    Power, SystemReading,
};
pub use redfish_port::RedfishPort;
pub use rules_hook::{InspectionRules, SecretMap, auto_discovered};
pub use state::{BootModeChoice, DeploySpec, Event, EventKind, ProvisionState};
pub use steps::{BiosSetting, CleanStep, KNOWN_STEPS, StepKind};
pub use store::{Claimed, NodeRow, SqliteStore, StateStore};
pub use store_pg::{PostgresStore, Store};

/// Opens Redfish ports for nodes whose [`BmcRef`] names a user and the environment variable
/// holding the password (read at connect time, never stored). [`BmcConnector`] does the same
/// for every address scheme (IPMI and combined endpoints included) and is what the `provision`
/// example uses; this one stays for callers that want a [`RedfishPort`].
#[derive(Clone, Debug)]
pub struct EnvRedfishConnector {
    /// Per-request timeout.
    pub request_timeout: Duration,
    /// Pause before an insert is retried after a 5xx.
    pub media_retry_pause: Duration,
}

impl Default for EnvRedfishConnector {
    fn default() -> EnvRedfishConnector {
        EnvRedfishConnector {
            request_timeout: Duration::from_secs(30),
            media_retry_pause: Duration::from_secs(3),
        }
    }
}

impl Connector for EnvRedfishConnector {
    type Port = RedfishPort;

    async fn connect(&self, node: &Node) -> Result<RedfishPort, ProvisionError> {
        let failed = |reason: String| ProvisionError::Connect {
            node: node.name.clone(),
            reason,
        };
        let user = node
            .bmc
            .username
            .as_deref()
            .ok_or_else(|| failed("no username in its BMC reference".into()))?;
        let var = node
            .bmc
            .password_env
            .as_deref()
            .ok_or_else(|| failed("no password_env in its BMC reference".into()))?;
        let password = std::env::var(var)
            .map_err(|_| failed(format!("environment variable {var} is not set")))?;
        // The lease holder in the User-Agent: the BMC's log shows which process drove it.
        let port = RedfishPort::connect_as(
            &node.bmc.address,
            user,
            password.into(),
            self.request_timeout,
            node.lease.as_ref().map(|lease| lease.holder.as_str()),
        )
        .await
        .map_err(|err| failed(err.to_string()))?;
        Ok(port.with_media_retry_pause(self.media_retry_pause))
    }

    async fn disconnect(&self, port: RedfishPort) {
        port.close().await;
    }
}
