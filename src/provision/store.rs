//! Where node documents live: the [`StateStore`] trait (compare-and-swap on `revision`,
//! leases with holder and expiry) and its embedded default, SQLite through sqlx.
//!
//! The SQL is plain and portable (`$n` parameters, `BIGINT`, `TEXT`, no upsert dialect), run
//! as runtime queries (no macros, no database at build time), so a PostgreSQL backend can take
//! the same statements. Migrations run on connect.

use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::ProvisionError;
use super::node::{Lease, Node, Timestamp};

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

/// The schema, one statement per step; step `n` is applied once, in order, on connect.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS ferrofish_nodes (
        name TEXT PRIMARY KEY,
        conductor_group TEXT,
        state TEXT NOT NULL,
        revision BIGINT NOT NULL,
        lease_holder TEXT,
        lease_expires_ms BIGINT,
        doc TEXT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS ferrofish_nodes_group ON ferrofish_nodes (conductor_group)",
];

fn db_error(operation: &'static str) -> impl Fn(sqlx::Error) -> ProvisionError {
    move |err| ProvisionError::Store {
        operation,
        reason: err.to_string(),
    }
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// The embedded store: one SQLite file (WAL, so several processes share it), or memory.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
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
        let store = SqliteStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), ProvisionError> {
        let mut tx = self.pool.begin().await.map_err(db_error("migrate"))?;
        sqlx::query("CREATE TABLE IF NOT EXISTS ferrofish_schema (version BIGINT NOT NULL)")
            .execute(&mut *tx)
            .await
            .map_err(db_error("migrate"))?;
        let current: Option<i64> = sqlx::query("SELECT MAX(version) AS v FROM ferrofish_schema")
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error("migrate"))?
            .try_get("v")
            .map_err(db_error("migrate"))?;
        let current = usize::try_from(current.unwrap_or(0)).unwrap_or(0);
        for (index, statement) in MIGRATIONS.iter().enumerate().skip(current) {
            sqlx::query(statement)
                .execute(&mut *tx)
                .await
                .map_err(db_error("migrate"))?;
            sqlx::query("INSERT INTO ferrofish_schema (version) VALUES ($1)")
                .bind(i64::try_from(index + 1).unwrap_or(i64::MAX))
                .execute(&mut *tx)
                .await
                .map_err(db_error("migrate"))?;
        }
        tx.commit().await.map_err(db_error("migrate"))
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The lease columns of a row.
fn lease_of(holder: Option<String>, expires: Option<i64>) -> Option<Lease> {
    Some(Lease {
        holder: holder?,
        expires_at: Timestamp(to_u64(expires.unwrap_or(0))),
    })
}

fn node_of(row: &sqlx::sqlite::SqliteRow) -> Result<Node, ProvisionError> {
    let doc: String = row.try_get("doc").map_err(db_error("read"))?;
    let mut node = Node::from_json(&doc)?;
    node.revision = to_u64(row.try_get("revision").map_err(db_error("read"))?);
    node.lease = lease_of(
        row.try_get("lease_holder").map_err(db_error("read"))?,
        row.try_get("lease_expires_ms").map_err(db_error("read"))?,
    );
    Ok(node)
}

impl StateStore for SqliteStore {
    async fn enroll(&self, node: &mut Node) -> Result<(), ProvisionError> {
        node.revision = 1;
        node.lease = None;
        let doc = node.to_json()?;
        let inserted = sqlx::query(
            "INSERT INTO ferrofish_nodes (name, conductor_group, state, revision, doc)
             SELECT $1, $2, $3, $4, $5
             WHERE NOT EXISTS (SELECT 1 FROM ferrofish_nodes WHERE name = $1)",
        )
        .bind(&node.name)
        .bind(&node.conductor_group)
        .bind(node.state.as_str())
        .bind(1_i64)
        .bind(doc)
        .execute(&self.pool)
        .await
        .map_err(db_error("enroll"))?;
        if inserted.rows_affected() == 0 {
            return Err(ProvisionError::AlreadyEnrolled {
                node: node.name.clone(),
            });
        }
        Ok(())
    }

    async fn load(&self, name: &str) -> Result<Option<Node>, ProvisionError> {
        let row = sqlx::query(
            "SELECT doc, revision, lease_holder, lease_expires_ms FROM ferrofish_nodes WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error("load"))?;
        row.as_ref().map(node_of).transpose()
    }

    async fn list(&self) -> Result<Vec<NodeRow>, ProvisionError> {
        let rows = sqlx::query(
            "SELECT name, state, conductor_group, revision, lease_holder, lease_expires_ms
             FROM ferrofish_nodes ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_error("list"))?;
        rows.iter()
            .map(|row| {
                Ok(NodeRow {
                    name: row.try_get("name").map_err(db_error("list"))?,
                    state: row.try_get("state").map_err(db_error("list"))?,
                    conductor_group: row.try_get("conductor_group").map_err(db_error("list"))?,
                    revision: to_u64(row.try_get("revision").map_err(db_error("list"))?),
                    lease: lease_of(
                        row.try_get("lease_holder").map_err(db_error("list"))?,
                        row.try_get("lease_expires_ms").map_err(db_error("list"))?,
                    ),
                })
            })
            .collect()
    }

    async fn claim(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        ttl: Duration,
    ) -> Result<Claimed, ProvisionError> {
        // Read, then take the lease with a compare-and-swap on the revision: two processes
        // racing for one node cannot both win.
        loop {
            let Some(node) = self.load(name).await? else {
                return Err(ProvisionError::NotFound {
                    node: name.to_owned(),
                });
            };
            if let Some(lease) = &node.lease
                && lease.holder != holder
                && lease.expires_at > now
            {
                return Err(ProvisionError::LeaseHeld {
                    node: name.to_owned(),
                    holder: lease.holder.clone(),
                    remaining_ms: now
                        .until(lease.expires_at)
                        .as_millis()
                        .try_into()
                        .unwrap_or(u64::MAX),
                });
            }
            let expires = now.plus(ttl);
            let updated = sqlx::query(
                "UPDATE ferrofish_nodes
                 SET lease_holder = $1, lease_expires_ms = $2, revision = revision + 1
                 WHERE name = $3 AND revision = $4",
            )
            .bind(holder)
            .bind(to_i64(expires.as_millis()))
            .bind(name)
            .bind(to_i64(node.revision))
            .execute(&self.pool)
            .await
            .map_err(db_error("claim"))?;
            if updated.rows_affected() == 1 {
                let previous = node.lease.clone();
                let mut node = node;
                node.revision += 1;
                node.lease = Some(Lease {
                    holder: holder.to_owned(),
                    expires_at: expires,
                });
                return Ok(Claimed { node, previous });
            }
            // Someone wrote between the read and the update: read again.
        }
    }

    async fn save(
        &self,
        node: &mut Node,
        holder: &str,
        now: Timestamp,
        ttl: Duration,
    ) -> Result<(), ProvisionError> {
        let expires = now.plus(ttl);
        let lease = Some(Lease {
            holder: holder.to_owned(),
            expires_at: expires,
        });
        let mut written = node.clone();
        written.lease.clone_from(&lease);
        let doc = written.to_json()?;
        let updated = sqlx::query(
            "UPDATE ferrofish_nodes
             SET doc = $1, state = $2, conductor_group = $3, revision = revision + 1,
                 lease_holder = $4, lease_expires_ms = $5
             WHERE name = $6 AND revision = $7 AND lease_holder = $4 AND lease_expires_ms >= $8",
        )
        .bind(doc)
        .bind(node.state.as_str())
        .bind(&node.conductor_group)
        .bind(holder)
        .bind(to_i64(expires.as_millis()))
        .bind(&node.name)
        .bind(to_i64(node.revision))
        .bind(to_i64(now.as_millis()))
        .execute(&self.pool)
        .await
        .map_err(db_error("save"))?;
        if updated.rows_affected() != 1 {
            return Err(ProvisionError::StaleRevision {
                node: node.name.clone(),
                revision: node.revision,
            });
        }
        node.revision += 1;
        node.lease = lease;
        Ok(())
    }

    async fn release(&self, name: &str, holder: &str) -> Result<(), ProvisionError> {
        sqlx::query(
            "UPDATE ferrofish_nodes SET lease_holder = NULL, lease_expires_ms = NULL, revision = revision + 1
             WHERE name = $1 AND lease_holder = $2",
        )
        .bind(name)
        .bind(holder)
        .execute(&self.pool)
        .await
        .map_err(db_error("release"))?;
        Ok(())
    }
}
