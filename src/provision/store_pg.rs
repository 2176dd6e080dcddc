//! The PostgreSQL [`StateStore`] (for several processes, on several hosts, sharing one fleet)
//! and [`Store`], which opens SQLite or PostgreSQL by URL. Both run the statements of
//! `store_sql.rs`; only opening the pool differs.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::ProvisionError;
use super::node::{Node, Timestamp};
use super::store::{Claimed, NodeRow, SqliteStore, StateStore, sql_state_store};
use super::store_sql::{SqlStore, db_error};

/// `url` with any password replaced by `<redacted>`, for messages.
pub(crate) fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let authority_start = scheme_end + 3;
    let authority_end = url[authority_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| authority_start + i);
    let authority = &url[authority_start..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let user_info = &authority[..at];
    let Some(colon) = user_info.find(':') else {
        return url.to_owned();
    };
    format!(
        "{}{}:{}{}",
        &url[..authority_start],
        &user_info[..colon],
        super::REDACTED,
        &url[authority_start + at..]
    )
}

/// The shared store: a PostgreSQL database (`postgres://USER@HOST[:PORT]/DB`; the password in
/// `PGPASSWORD` rather than the URL). Migrations are applied on connect, one process at a time
/// (an advisory lock), so processes may start together.
#[derive(Clone)]
pub struct PostgresStore {
    inner: SqlStore<sqlx::Postgres>,
    redacted_url: String,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("url", &self.redacted_url)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Opens `postgres://…` or `postgresql://…` and migrates the database.
    pub async fn connect(url: &str) -> Result<PostgresStore, ProvisionError> {
        let redacted_url = redact_url(url);
        if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
            return Err(ProvisionError::StoreUrl {
                url: redacted_url,
                reason: "not a postgres:// URL".into(),
            });
        }
        // sqlx's parse errors may quote the URL: keep only our redacted form.
        let options = PgConnectOptions::from_str(url).map_err(|_| ProvisionError::StoreUrl {
            url: redacted_url.clone(),
            reason: "not a valid PostgreSQL URL".into(),
        })?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(db_error("open"))?;
        Ok(PostgresStore {
            inner: SqlStore::migrated(pool).await?,
            redacted_url,
        })
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.inner.close().await;
    }
}

sql_state_store!(PostgresStore);

/// A store chosen by URL: `sqlite:PATH`, `sqlite::memory:`, or `postgres://…`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Store {
    /// One SQLite file.
    Sqlite(SqliteStore),
    /// A PostgreSQL database.
    Postgres(PostgresStore),
}

impl Store {
    /// Opens the store `url` names.
    pub async fn connect(url: &str) -> Result<Store, ProvisionError> {
        if url.starts_with("sqlite:") {
            SqliteStore::connect(url).await.map(Store::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            PostgresStore::connect(url).await.map(Store::Postgres)
        } else {
            Err(ProvisionError::StoreUrl {
                url: redact_url(url),
                reason: "unknown scheme".into(),
            })
        }
    }

    /// Closes the pool.
    pub async fn close(&self) {
        match self {
            Store::Sqlite(store) => store.close().await,
            Store::Postgres(store) => store.close().await,
        }
    }
}

impl StateStore for Store {
    async fn enroll(&self, node: &mut Node) -> Result<(), ProvisionError> {
        match self {
            Store::Sqlite(store) => store.enroll(node).await,
            Store::Postgres(store) => store.enroll(node).await,
        }
    }

    async fn load(&self, name: &str) -> Result<Option<Node>, ProvisionError> {
        match self {
            Store::Sqlite(store) => store.load(name).await,
            Store::Postgres(store) => store.load(name).await,
        }
    }

    async fn list(&self) -> Result<Vec<NodeRow>, ProvisionError> {
        match self {
            Store::Sqlite(store) => store.list().await,
            Store::Postgres(store) => store.list().await,
        }
    }

    async fn claim(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        ttl: Duration,
    ) -> Result<Claimed, ProvisionError> {
        match self {
            Store::Sqlite(store) => store.claim(name, holder, now, ttl).await,
            Store::Postgres(store) => store.claim(name, holder, now, ttl).await,
        }
    }

    async fn save(
        &self,
        node: &mut Node,
        holder: &str,
        now: Timestamp,
        ttl: Duration,
    ) -> Result<(), ProvisionError> {
        match self {
            Store::Sqlite(store) => store.save(node, holder, now, ttl).await,
            Store::Postgres(store) => store.save(node, holder, now, ttl).await,
        }
    }

    async fn release(&self, name: &str, holder: &str) -> Result<(), ProvisionError> {
        match self {
            Store::Sqlite(store) => store.release(name, holder).await,
            Store::Postgres(store) => store.release(name, holder).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_in_a_store_url_is_redacted() {
        assert_eq!(
            redact_url("postgres://fleet:s3cret@db.example:5432/ferrofish?sslmode=disable"),
            "postgres://fleet:<redacted>@db.example:5432/ferrofish?sslmode=disable"
        );
        assert_eq!(
            redact_url("postgres://fleet@127.0.0.1/db"),
            "postgres://fleet@127.0.0.1/db"
        );
        assert_eq!(redact_url("sqlite:/tmp/a.db"), "sqlite:/tmp/a.db");
    }

    #[tokio::test]
    async fn a_bad_store_url_is_refused_without_its_password() {
        for url in [
            "mysql://root:s3cret@db/x",
            "postgres://root:s3cret@db:notaport/x",
        ] {
            let err = Store::connect(url).await.unwrap_err();
            assert!(err.is_invalid_input(), "{err}");
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("s3cret"), "{shown}");
            assert!(shown.contains("<redacted>"), "{shown}");
        }
    }
}
