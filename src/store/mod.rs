//! Persistence: one typed pool per backend behind `Db`, the same SQL run on either.
//!
//! sqlx's `Any` driver fails at run time on SQLite booleans and dates and on PostgreSQL
//! `TIMESTAMPTZ`/`UUID`, so each backend keeps its native pool and types.
//!
//! One module per aggregate holds its reads and its writes (clients and their links, records,
//! consents, referrals, infractions, attests, the outbox). Reads take a `Db`; writes take the
//! `Conn` of the audit writer's transaction and are reachable only through `mutations::apply`,
//! so that no change is ever made without its audit record.

/// Runs the same body on whichever connection `conn` (a `&mut Conn`) holds, as `with_pool!`
/// does for a pool: each write is written once and serves both backends. Inside the body the
/// name is a `&mut` connection; pass `&mut *name` to each statement.
macro_rules! with_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match &mut $conn.link {
            $crate::store::Link::Sqlite($c) => {
                let $c: &mut sqlx::SqliteConnection = &mut **$c;
                $body
            }
            $crate::store::Link::Postgres($c) => {
                let $c: &mut sqlx::PgConnection = &mut **$c;
                $body
            }
        }
    };
}

mod attests;
pub mod audit;
pub mod audit_reduction;
pub mod audit_writer;
pub mod batch;
pub mod clients;
pub mod connect;
pub mod consents;
pub mod events;
pub mod idempotency;
pub mod infractions;
pub mod instances;
pub mod monitoring;
pub mod mutations;
pub mod privileges;
pub mod records;
pub mod referrals;
pub mod retention;
pub mod sealing;
pub mod webhooks;
pub mod witness;

use sealing::{SealError, SealedColumn, Sealing, Unkeyed};
use sqlx::{PgConnection, PgPool, SqliteConnection, SqlitePool};
use std::sync::Arc;

/// Runs the same body on whichever pool `db` holds. The schemas keep to types that both
/// backends encode alike (TEXT ids, BIGINT microsecond times, BLOB/BYTEA), so one statement
/// with one set of bindings serves both.
#[macro_export]
macro_rules! with_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db.pool() {
            $crate::store::Pool::Sqlite($pool) => $body,
            $crate::store::Pool::Postgres($pool) => $body,
        }
    };
}

/// The database, and the keys its personal text is sealed with (`sealing`).
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    sealing: Arc<dyn Sealing>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("pool", &self.pool)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The connection of the transaction a change is applied in, on either backend, with the keys
/// the change seals its personal text with.
pub(crate) struct Conn<'c> {
    pub(crate) link: Link<'c>,
    pub(crate) sealing: &'c dyn Sealing,
}

pub(crate) enum Link<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

/// A value bound to a write, in the column types both backends encode alike.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
    Text(&'a str),
    MaybeText(Option<&'a str>),
    Int(i64),
    Bytes(&'a [u8]),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(text: &'a str) -> Self {
        Arg::Text(text)
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(text: &'a String) -> Self {
        Arg::Text(text)
    }
}

impl<'a> From<&'a Option<String>> for Arg<'a> {
    fn from(text: &'a Option<String>) -> Self {
        Arg::MaybeText(text.as_deref())
    }
}

impl From<i64> for Arg<'_> {
    fn from(number: i64) -> Self {
        Arg::Int(number)
    }
}

impl<'a> From<&'a [u8]> for Arg<'a> {
    fn from(bytes: &'a [u8]) -> Self {
        Arg::Bytes(bytes)
    }
}

impl<'a> From<&'a Vec<u8>> for Arg<'a> {
    fn from(bytes: &'a Vec<u8>) -> Self {
        Arg::Bytes(bytes)
    }
}

impl Conn<'_> {
    /// Seals `text` for `column` in the row with `values` (see `sealing`).
    pub(crate) fn seal(
        &self,
        column: SealedColumn,
        values: &[&str],
        text: &str,
    ) -> Result<String, SealError> {
        sealing::seal(self.sealing, column, values, text)
    }

    pub(crate) fn seal_maybe(
        &self,
        column: SealedColumn,
        values: &[&str],
        text: Option<&str>,
    ) -> Result<Option<String>, SealError> {
        text.map(|t| self.seal(column, values, t)).transpose()
    }

    /// Runs one write with `args` bound to `$1`, `$2`, … in order, on whichever backend this
    /// is; the number of rows it changed.
    pub(crate) async fn execute(
        &mut self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> Result<u64, sqlx::Error> {
        Ok(with_conn!(self, |c| {
            let mut query = sqlx::query(sql);
            for arg in args {
                query = match *arg {
                    Arg::Text(text) => query.bind(text),
                    Arg::MaybeText(text) => query.bind(text),
                    Arg::Int(number) => query.bind(number),
                    Arg::Bytes(bytes) => query.bind(bytes),
                };
            }
            query.execute(&mut *c).await?.rows_affected()
        }))
    }
}

fn newest(migrator: &sqlx::migrate::Migrator) -> i64 {
    migrator.iter().map(|m| m.version).max().unwrap_or(0)
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("sealed value: {0}")]
    Sealing(#[from] SealError),
}

impl Db {
    /// A database without keys: it reads and writes no personal text (see `with_sealing`).
    pub fn new(pool: Pool) -> Self {
        Self {
            pool,
            sealing: Arc::new(Unkeyed),
        }
    }

    pub fn sqlite(pool: SqlitePool) -> Self {
        Self::new(Pool::Sqlite(pool))
    }

    pub fn postgres(pool: PgPool) -> Self {
        Self::new(Pool::Postgres(pool))
    }

    /// The same database, sealing and opening personal text with `sealing`.
    #[must_use]
    pub fn with_sealing(mut self, sealing: Arc<dyn Sealing>) -> Self {
        self.sealing = sealing;
        self
    }

    pub const fn pool(&self) -> &Pool {
        &self.pool
    }

    pub const fn backend(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    /// Applies the embedded migrations of this backend.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(pool) => sqlx::migrate!("migrations/sqlite").run(pool).await?,
            Pool::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// The newest migration applied and the newest this build carries, when they differ: a
    /// gateway serving without migrating (least privilege) must find the schema it needs.
    pub async fn migration_lag(&self) -> Result<Option<(i64, i64)>, StoreError> {
        const APPLIED: &str =
            "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success";
        let (applied, needed): (i64, i64) = match &self.pool {
            Pool::Sqlite(pool) => (
                sqlx::query_scalar(APPLIED).fetch_one(pool).await?,
                newest(&sqlx::migrate!("migrations/sqlite")),
            ),
            Pool::Postgres(pool) => (
                sqlx::query_scalar(APPLIED).fetch_one(pool).await?,
                newest(&sqlx::migrate!("migrations/postgres")),
            ),
        };
        Ok((applied != needed).then_some((applied, needed)))
    }

    /// A round trip to the database, for readiness.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(pool) => {
                sqlx::query("SELECT 1").execute(pool).await?;
            }
            Pool::Postgres(pool) => {
                sqlx::query("SELECT 1").execute(pool).await?;
            }
        }
        Ok(())
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}
