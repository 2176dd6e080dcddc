//! Where node documents live: the [`StateStore`] trait (compare-and-swap on `revision`,
//! leases with holder and expiry) and its embedded default, SQLite through sqlx.
//!
//! The SQL is in `store_sql.rs`, generic over the database and run as runtime queries (no
//! macros, no database at build time): SQLite here and PostgreSQL (`store_pg.rs`) take the
//! same statements. Migrations run on connect.

use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::ProvisionError;
use super::node::{Lease, Node, Timestamp};
use super::store_sql::{SqlStore, db_error};

/// A node claimed for driving.
#[derive(Clone, Debug)]
pub struct Claimed {
    /// The node, with the new lease and revision.
    pub node: Node,
    /// The lease it had before, when another holder's (now lapsed) lease was taken over, or
    /// this holder's own from an earlier process: the crash-resume rules then apply.
    pub previous: Option<Lease>,
}

/// One line of a store listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeRow {
    /// The node's name.
    pub name: String,
    /// Its state (`provision_state`).
    pub state: String,
    /// Its conductor group.
    pub conductor_group: Option<String>,
    /// Its revision.
    pub revision: u64,
    /// Its lease.
    pub lease: Option<Lease>,
}

/// Durable node documents shared by processes. Every write is a compare-and-swap on the node's
/// `revision`; a node is written only by the holder of an unexpired lease.
pub trait StateStore: Send + Sync {
    /// Adds a node (revision 1, no lease). A name already enrolled is refused.
    fn enroll(&self, node: &mut Node) -> impl Future<Output = Result<(), ProvisionError>> + Send;

    /// Reads one node (`None` when absent).
    fn load(&self, name: &str)
    -> impl Future<Output = Result<Option<Node>, ProvisionError>> + Send;

    /// Every node's name, state, group, revision and lease, by name.
    fn list(&self) -> impl Future<Output = Result<Vec<NodeRow>, ProvisionError>> + Send;

    /// Takes (or renews) the lease on `name` for `holder` until `now + ttl`, unless another
    /// holder's lease is still in force ([`ProvisionError::LeaseHeld`]).
    fn claim(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        ttl: Duration,
    ) -> impl Future<Output = Result<Claimed, ProvisionError>> + Send;

    /// Writes `node` if its revision is still the stored one and `holder` still holds the
    /// lease ([`ProvisionError::StaleRevision`] otherwise); renews the lease to `now + ttl`
    /// and bumps `node.revision`.
    fn save(
        &self,
        node: &mut Node,
        holder: &str,
        now: Timestamp,
        ttl: Duration,
    ) -> impl Future<Output = Result<(), ProvisionError>> + Send;

    /// Gives the lease up (nothing happens if `holder` does not hold it).
    fn release(
        &self,
        name: &str,
        holder: &str,
    ) -> impl Future<Output = Result<(), ProvisionError>> + Send;
}

/// The embedded store: one SQLite file (WAL, so several processes share it), or memory.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    inner: SqlStore<sqlx::Sqlite>,
}

impl SqliteStore {
    /// Opens `sqlite:PATH` (created when missing) or `sqlite::memory:`, and migrates it.
    pub async fn connect(url: &str) -> Result<SqliteStore, ProvisionError> {
        let bad = |reason: String| ProvisionError::StoreUrl {
            url: url.to_owned(),
            reason,
        };
        let Some(rest) = url.strip_prefix("sqlite:") else {
            return Err(bad("not a sqlite: URL".into()));
        };
        if rest.is_empty() {
            return Err(bad("no path".into()));
        }
        let memory = rest == ":memory:";
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|err| bad(err.to_string()))?
            .create_if_missing(true)
            .busy_timeout(Duration::from_secs(10));
        // WAL with `synchronous = NORMAL`: a killed process loses nothing committed (only a
        // power cut may lose the last commits), and a commit costs no fsync.
        let options = if memory {
            options
        } else {
            options
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
        };
        // A memory database lives in one connection.
        let pool = SqlitePoolOptions::new()
            .max_connections(if memory { 1 } else { 4 })
            .connect_with(options)
            .await
            .map_err(db_error("open"))?;
        Ok(SqliteStore {
            inner: SqlStore::migrated(pool).await?,
        })
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.inner.close().await;
    }
}

/// Implements [`StateStore`] for a type whose `inner` is a [`SqlStore`].
macro_rules! sql_state_store {
    ($store:ty) => {
        impl $crate::provision::store::StateStore for $store {
            async fn enroll(
                &self,
                node: &mut $crate::provision::Node,
            ) -> Result<(), $crate::provision::ProvisionError> {
                self.inner.enroll(node).await
            }

            async fn load(
                &self,
                name: &str,
            ) -> Result<Option<$crate::provision::Node>, $crate::provision::ProvisionError> {
                self.inner.load(name).await
            }

            async fn list(
                &self,
            ) -> Result<Vec<$crate::provision::NodeRow>, $crate::provision::ProvisionError> {
                self.inner.list().await
            }

            async fn claim(
                &self,
                name: &str,
                holder: &str,
                now: $crate::provision::Timestamp,
                ttl: std::time::Duration,
            ) -> Result<$crate::provision::Claimed, $crate::provision::ProvisionError> {
                self.inner.claim(name, holder, now, ttl).await
            }

            async fn save(
                &self,
                node: &mut $crate::provision::Node,
                holder: &str,
                now: $crate::provision::Timestamp,
                ttl: std::time::Duration,
            ) -> Result<(), $crate::provision::ProvisionError> {
                self.inner.save(node, holder, now, ttl).await
            }

            async fn release(
                &self,
                name: &str,
                holder: &str,
            ) -> Result<(), $crate::provision::ProvisionError> {
                self.inner.release(name, holder).await
            }
        }
    };
}
pub(crate) use sql_state_store;

sql_state_store!(SqliteStore);
