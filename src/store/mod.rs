//! Persistence: one typed pool per backend behind `Db`, the same SQL run on either.
//!
//! sqlx's `Any` driver fails at run time on SQLite booleans and dates and on PostgreSQL
//! `TIMESTAMPTZ`/`UUID`, so each backend keeps its native pool and types.

pub mod audit;
pub mod audit_writer;
pub mod batch;
pub mod clients;
pub mod connect;
pub mod consents;
pub mod events;
pub mod infractions;
pub mod instances;
pub mod monitoring;
pub mod mutations;
pub mod records;
pub mod referrals;
pub mod webhooks;

use sqlx::{PgPool, SqlitePool};

/// Runs the same body on whichever pool `db` holds. The schemas keep to types that both
/// backends encode alike (TEXT ids, BIGINT microsecond times, BLOB/BYTEA), so one statement
/// with one set of bindings serves both.
#[macro_export]
macro_rules! with_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite($pool) => $body,
            $crate::store::Db::Postgres($pool) => $body,
        }
    };
}

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

impl Db {
    pub const fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Applies the embedded migrations of this backend.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(pool) => sqlx::migrate!("migrations/sqlite").run(pool).await?,
            Db::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// A round trip to the database, for readiness.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(pool) => {
                sqlx::query("SELECT 1").execute(pool).await?;
            }
            Db::Postgres(pool) => {
                sqlx::query("SELECT 1").execute(pool).await?;
            }
        }
        Ok(())
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(pool) => pool.close().await,
            Db::Postgres(pool) => pool.close().await,
        }
    }
}
