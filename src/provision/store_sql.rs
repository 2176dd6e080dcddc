//! The one SQL implementation behind every [`super::StateStore`]: generic over the sqlx
//! database, so SQLite and PostgreSQL run the same statements (`$n` parameters, `BIGINT` and
//! `TEXT`, `ON CONFLICT DO NOTHING` and `RETURNING`, which both speak). What differs between
//! the two is in [`Dialect`]: how concurrent migrations are serialized.
//!
//! A lease is taken in one statement: the `UPDATE` that writes the new holder and expiry also
//! copies the old ones into `previous_holder`/`previous_expires_ms` (the right-hand sides of an
//! `UPDATE` read the row as it was) and returns them, so the claimer learns whether it takes
//! a node over without a read that another process could race.

use std::time::Duration;

use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type};

use super::ProvisionError;
use super::node::{Lease, Node, Timestamp};
use super::store::{Claimed, NodeRow};

/// The schema, one statement per step; step `n` is applied once, in order, on connect. Never
/// edit a step that has shipped: append one.
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
    // The lease a claim replaced, returned by the claiming statement itself.
    "ALTER TABLE ferrofish_nodes ADD COLUMN previous_holder TEXT",
    "ALTER TABLE ferrofish_nodes ADD COLUMN previous_expires_ms BIGINT",
];

/// What differs between the databases the store runs on.
pub(crate) trait Dialect: Database {
    /// Run first in the migration transaction, so processes connecting at once migrate one
    /// after the other (`None` where the database locks the whole file on the first write).
    const MIGRATION_LOCK: Option<&'static str>;
}

impl Dialect for sqlx::Sqlite {
    const MIGRATION_LOCK: Option<&'static str> = None;
}

impl Dialect for sqlx::Postgres {
    // A transaction-scoped advisory lock; the key is arbitrary but fixed ("ferrofsh").
    const MIGRATION_LOCK: Option<&'static str> =
        Some("SELECT pg_advisory_xact_lock(7378384170743640168)");
}

pub(crate) fn db_error(operation: &'static str) -> impl Fn(sqlx::Error) -> ProvisionError {
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

/// The lease columns of a row.
fn lease_of(holder: Option<String>, expires: Option<i64>) -> Option<Lease> {
    Some(Lease {
        holder: holder?,
        expires_at: Timestamp(to_u64(expires.unwrap_or(0))),
    })
}

/// A pool of either database with the SQL over it.
#[derive(Debug)]
pub(crate) struct SqlStore<DB: Database> {
    pool: Pool<DB>,
}

impl<DB: Database> Clone for SqlStore<DB> {
    fn clone(&self) -> Self {
        SqlStore {
            pool: self.pool.clone(),
        }
    }
}

impl<DB> SqlStore<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    i64: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    String: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    Option<String>: Type<DB> + for<'q> Encode<'q, DB>,
    for<'a> &'a str: ColumnIndex<DB::Row>,
{
    /// Wraps `pool` and applies the migrations it lacks.
    pub(crate) async fn migrated(pool: Pool<DB>) -> Result<SqlStore<DB>, ProvisionError> {
        let store = SqlStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), ProvisionError> {
        let failed = db_error("migrate");
        let mut tx = self.pool.begin().await.map_err(&failed)?;
        if let Some(lock) = DB::MIGRATION_LOCK {
            sqlx::query(lock).execute(&mut *tx).await.map_err(&failed)?;
        }
        sqlx::query("CREATE TABLE IF NOT EXISTS ferrofish_schema (version BIGINT NOT NULL)")
            .execute(&mut *tx)
            .await
            .map_err(&failed)?;
        let current: Option<i64> = sqlx::query("SELECT MAX(version) AS v FROM ferrofish_schema")
            .fetch_one(&mut *tx)
            .await
            .map_err(&failed)?
            .try_get("v")
            .map_err(&failed)?;
        let current = usize::try_from(current.unwrap_or(0)).unwrap_or(0);
        for (index, statement) in MIGRATIONS.iter().enumerate().skip(current) {
            sqlx::query(statement)
                .execute(&mut *tx)
                .await
                .map_err(&failed)?;
            sqlx::query("INSERT INTO ferrofish_schema (version) VALUES ($1)")
                .bind(i64::try_from(index + 1).unwrap_or(i64::MAX))
                .execute(&mut *tx)
                .await
                .map_err(&failed)?;
        }
        tx.commit().await.map_err(&failed)
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }

    fn node_of(row: &DB::Row) -> Result<Node, ProvisionError> {
        let failed = db_error("read");
        let doc: String = row.try_get("doc").map_err(&failed)?;
        let mut node = Node::from_json(&doc)?;
        node.revision = to_u64(row.try_get("revision").map_err(&failed)?);
        node.lease = lease_of(
            row.try_get("lease_holder").map_err(&failed)?,
            row.try_get("lease_expires_ms").map_err(&failed)?,
        );
        Ok(node)
    }

    pub(crate) async fn enroll(&self, node: &mut Node) -> Result<(), ProvisionError> {
        node.revision = 1;
        node.lease = None;
        let doc = node.to_json()?;
        let inserted = sqlx::query(
            "INSERT INTO ferrofish_nodes (name, conductor_group, state, revision, doc)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (name) DO NOTHING
             RETURNING name",
        )
        .bind(node.name.clone())
        .bind(node.conductor_group.clone())
        .bind(node.state.as_str().to_owned())
        .bind(1_i64)
        .bind(doc)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error("enroll"))?;
        if inserted.is_empty() {
            return Err(ProvisionError::AlreadyEnrolled {
                node: node.name.clone(),
            });
        }
        Ok(())
    }

    pub(crate) async fn load(&self, name: &str) -> Result<Option<Node>, ProvisionError> {
        let row = sqlx::query(
            "SELECT doc, revision, lease_holder, lease_expires_ms FROM ferrofish_nodes WHERE name = $1",
        )
        .bind(name.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error("load"))?;
        row.as_ref().map(Self::node_of).transpose()
    }

    pub(crate) async fn list(&self) -> Result<Vec<NodeRow>, ProvisionError> {
        let failed = db_error("list");
        let rows = sqlx::query(
            "SELECT name, state, conductor_group, revision, lease_holder, lease_expires_ms
             FROM ferrofish_nodes ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(&failed)?;
        rows.iter()
            .map(|row| {
                Ok(NodeRow {
                    name: row.try_get("name").map_err(&failed)?,
                    state: row.try_get("state").map_err(&failed)?,
                    conductor_group: row.try_get("conductor_group").map_err(&failed)?,
                    revision: to_u64(row.try_get("revision").map_err(&failed)?),
                    lease: lease_of(
                        row.try_get("lease_holder").map_err(&failed)?,
                        row.try_get("lease_expires_ms").map_err(&failed)?,
                    ),
                })
            })
            .collect()
    }

    pub(crate) async fn claim(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        ttl: Duration,
    ) -> Result<Claimed, ProvisionError> {
        let failed = db_error("claim");
        let expires = now.plus(ttl);
        // Free, this holder's own, or lapsed: taken. Anything else: no row.
        let taken = sqlx::query(
            "UPDATE ferrofish_nodes
             SET previous_holder = lease_holder, previous_expires_ms = lease_expires_ms,
                 lease_holder = $1, lease_expires_ms = $2, revision = revision + 1
             WHERE name = $3
               AND (lease_holder IS NULL OR lease_holder = $1 OR lease_expires_ms <= $4)
             RETURNING doc, revision, lease_holder, lease_expires_ms,
                       previous_holder, previous_expires_ms",
        )
        .bind(holder.to_owned())
        .bind(to_i64(expires.as_millis()))
        .bind(name.to_owned())
        .bind(to_i64(now.as_millis()))
        .fetch_all(&self.pool)
        .await
        .map_err(&failed)?;
        if let Some(row) = taken.first() {
            let node = Self::node_of(row)?;
            let previous = lease_of(
                row.try_get("previous_holder").map_err(&failed)?,
                row.try_get("previous_expires_ms").map_err(&failed)?,
            );
            return Ok(Claimed { node, previous });
        }
        // Not taken: say why (a lease that lapsed since the update is reported with 0 ms left;
        // the caller retries later as for any held lease).
        let Some(node) = self.load(name).await? else {
            return Err(ProvisionError::NotFound {
                node: name.to_owned(),
            });
        };
        let lease = node.lease.unwrap_or(Lease {
            holder: "another holder (released since)".into(),
            expires_at: now,
        });
        Err(ProvisionError::LeaseHeld {
            node: name.to_owned(),
            remaining_ms: u64::try_from(now.until(lease.expires_at).as_millis())
                .unwrap_or(u64::MAX),
            holder: lease.holder,
        })
    }

    pub(crate) async fn save(
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
             WHERE name = $6 AND revision = $7 AND lease_holder = $4 AND lease_expires_ms >= $8
             RETURNING revision",
        )
        .bind(doc)
        .bind(node.state.as_str().to_owned())
        .bind(node.conductor_group.clone())
        .bind(holder.to_owned())
        .bind(to_i64(expires.as_millis()))
        .bind(node.name.clone())
        .bind(to_i64(node.revision))
        .bind(to_i64(now.as_millis()))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error("save"))?;
        if updated.is_empty() {
            return Err(ProvisionError::StaleRevision {
                node: node.name.clone(),
                revision: node.revision,
            });
        }
        node.revision += 1;
        node.lease = lease;
        Ok(())
    }

    pub(crate) async fn release(&self, name: &str, holder: &str) -> Result<(), ProvisionError> {
        sqlx::query(
            "UPDATE ferrofish_nodes SET lease_holder = NULL, lease_expires_ms = NULL, revision = revision + 1
             WHERE name = $1 AND lease_holder = $2",
        )
        .bind(name.to_owned())
        .bind(holder.to_owned())
        .execute(&self.pool)
        .await
        .map_err(db_error("release"))?;
        Ok(())
    }
}
