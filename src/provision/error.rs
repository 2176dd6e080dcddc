//! The provisioning module's one error type.

use super::port::PortError;
use super::state::{EventKind, ProvisionState};

/// Everything that can go wrong driving nodes: a refused event, a bad step, the store, the BMC.
/// A failed *operation* is not an error: it moves the node to a failure state with
/// `last_error` set; these are the caller's mistakes and the infrastructure's failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProvisionError {
    /// The event is not allowed in the node's state (nothing changed).
    #[error("node {node}: {event} is not allowed in state {state} (allowed: {}){}", super::state::list_events(allowed), reason.as_ref().map(|r| format!("; {r}")).unwrap_or_default())]
    InvalidEvent {
        /// The node.
        node: String,
        /// Its state.
        state: ProvisionState,
        /// The event refused.
        event: EventKind,
        /// The events the state accepts (empty when it accepts none; the message then says
        /// `none`).
        allowed: Vec<EventKind>,
        /// More detail (an operation under way).
        reason: Option<String>,
    },
    /// A clean step is not one this library runs, or its arguments are wrong (nothing changed).
    #[error("clean step {}: {reason}", index + 1)]
    InvalidStep {
        /// Index of the step (0-based; the message counts from 1).
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// A deploy request is not usable (nothing changed).
    #[error("node {node}: invalid deploy request: {reason}")]
    InvalidDeploy {
        /// The node.
        node: String,
        /// What is wrong.
        reason: String,
    },
    /// A node document could not be written or read.
    #[error("node document {node:?}: {reason}")]
    Document {
        /// The node (empty when unreadable).
        node: String,
        /// Why.
        reason: String,
    },
    /// The store URL is not one this library opens.
    #[error(
        "store {url:?}: {reason} (expected sqlite:PATH, sqlite::memory: or postgres://USER@HOST[:PORT]/DB)"
    )]
    StoreUrl {
        /// The URL given.
        url: String,
        /// Why.
        reason: String,
    },
    /// The database failed.
    #[error("store: {operation}: {reason}")]
    Store {
        /// What was being done.
        operation: &'static str,
        /// The database's message.
        reason: String,
    },
    /// The node changed since it was read (another writer): re-read it and decide again.
    #[error("node {node}: stale revision {revision} (someone else wrote it); reload and retry")]
    StaleRevision {
        /// The node.
        node: String,
        /// The revision this writer had.
        revision: u64,
    },
    /// Another holder's lease on the node has not expired.
    #[error("node {node} is leased to {holder} for {remaining_ms} ms more")]
    LeaseHeld {
        /// The node.
        node: String,
        /// Who holds it.
        holder: String,
        /// How long until it lapses.
        remaining_ms: u64,
    },
    /// No such node in the store.
    #[error("no node named {node:?}")]
    NotFound {
        /// The name asked for.
        node: String,
    },
    /// A node of that name is enrolled already.
    #[error("node {node:?} is already enrolled")]
    AlreadyEnrolled {
        /// The name.
        node: String,
    },
    /// Connecting to the node's BMC failed (address, credentials reference).
    #[error("node {node}: cannot connect to its BMC: {reason}")]
    Connect {
        /// The node.
        node: String,
        /// Why.
        reason: String,
    },
    /// A BMC call outside an operation failed.
    #[error(transparent)]
    Bmc(#[from] PortError),
}

impl ProvisionError {
    /// The node was written by someone else since it was read.
    pub fn is_stale_revision(&self) -> bool {
        matches!(self, ProvisionError::StaleRevision { .. })
    }

    /// Another holder's lease is in force.
    pub fn is_lease_held(&self) -> bool {
        matches!(self, ProvisionError::LeaseHeld { .. })
    }

    /// The caller's request was refused before anything changed (event, step, deploy).
    pub fn is_invalid_input(&self) -> bool {
        matches!(
            self,
            ProvisionError::InvalidEvent { .. }
                | ProvisionError::InvalidStep { .. }
                | ProvisionError::InvalidDeploy { .. }
                | ProvisionError::StoreUrl { .. }
        )
    }
}
