//! Opening the configured database with the settings durability depends on.

use super::{Db, StoreError};
use crate::config::DatabaseConfig;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, ConnectOptions};
use std::str::FromStr;
use std::time::Duration;

pub async fn connect(config: &DatabaseConfig) -> Result<Db, StoreError> {
    if config.url.starts_with("sqlite:") {
        connect_sqlite(config).await
    } else {
        connect_postgres(config).await
    }
}

async fn connect_sqlite(config: &DatabaseConfig) -> Result<Db, StoreError> {
    let options = SqliteConnectOptions::from_str(&config.url)?;
    let file = options.get_filename();
    if let Some(parent) = file
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        owner_only_dir(parent).map_err(|e| StoreError::Database(e.into()))?;
    }
    if !config.url.contains(":memory:") {
        owner_only_file(file).map_err(|e| StoreError::Database(e.into()))?;
    }
    // WAL lets readers proceed during a commit; synchronous=FULL makes every acknowledged
    // commit survive a power cut, which the audit log's promise rests on.
    let options = options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5))
        .disable_statement_logging();
    let pool = SqlitePoolOptions::new()
        .max_connections(config.max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await?;
    Ok(Db::sqlite(pool))
}

/// Creates the database's directory, owner-only (0700), when it does not exist yet.
fn owner_only_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates the database file empty and owner-only (0600) when it does not exist yet; SQLite
/// gives its WAL and shared-memory files the mode of the database file.
fn owner_only_file(file: &std::path::Path) -> std::io::Result<()> {
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    match open.open(file) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error),
    }
}

async fn connect_postgres(config: &DatabaseConfig) -> Result<Db, StoreError> {
    let mut options = PgConnectOptions::from_str(&config.url)?
        .application_name("joint-client-gateway")
        .disable_statement_logging();
    if let Some(schema) = config
        .schema
        .as_ref()
        .filter(|_| !config.require_least_privilege)
    {
        // A least-privileged role may not create schemas: `gateway migrate` did, as the owner.
        // The schema name was validated to [a-z0-9_] at start-up, so quoting it is safe.
        let mut conn = PgConnectOptions::from_str(&config.url)?.connect().await?;
        let created = sqlx::query(AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS \"{schema}\""
        )))
        .execute(&mut conn)
        .await;
        // IF NOT EXISTS is not atomic: instances starting together race to create the schema,
        // and the losers see a duplicate. The schema exists either way.
        if let Err(error) = created {
            let duplicate = error
                .as_database_error()
                .and_then(|e| e.code())
                .is_some_and(|code| code == "23505" || code == "42P06");
            if !duplicate {
                return Err(error.into());
            }
        }
    }
    if let Some(schema) = &config.schema {
        options = options.options([("search_path", schema.as_str())]);
    }
    let pool = PgPoolOptions::new()
        .max_connections(config.max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await?;
    Ok(Db::postgres(pool))
}
