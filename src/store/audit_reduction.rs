//! The audit log's own retention in SQL: the reduced prefix `[0, below)` of the log, whose
//! records are gone and whose leaf hashes the tree keeps (migration 0017 holds the rules the
//! database enforces: a prefix, ending at a checkpoint signed before the cutoff, moving forward
//! only).

use super::{Db, StoreError};
use crate::with_pool;

/// The reduced prefix: records `[0, below)` were appended before `cutoff` (microseconds) and
/// are kept as leaf hashes only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Reduced {
    pub below: i64,
    pub cutoff: i64,
    pub reduced_at: i64,
}

pub async fn reduced(db: &Db) -> Result<Reduced, StoreError> {
    Ok(with_pool!(db, |pool| {
        sqlx::query_as("SELECT below, cutoff, reduced_at FROM audit_reduced WHERE id = 1")
            .fetch_one(pool)
            .await?
    }))
}

/// When the checkpoint at `tree_size` was signed (microseconds), if there is one.
pub async fn signed_at(db: &Db, tree_size: i64) -> Result<Option<i64>, StoreError> {
    Ok(with_pool!(db, |pool| {
        sqlx::query_scalar("SELECT created_at FROM audit_checkpoints WHERE tree_size = $1")
            .bind(tree_size)
            .fetch_optional(pool)
            .await?
    }))
}

/// The largest tree size of a checkpoint signed before `cutoff`: every record below it was
/// appended before the cutoff, so the log may be reduced up to it.
pub async fn reducible_below(db: &Db, cutoff: i64) -> Result<i64, StoreError> {
    let size: Option<i64> = with_pool!(db, |pool| {
        sqlx::query_scalar("SELECT MAX(tree_size) FROM audit_checkpoints WHERE created_at < $1")
            .bind(cutoff)
            .fetch_one(pool)
            .await?
    });
    Ok(size.unwrap_or(0))
}

/// Reduces the log to leaf hashes below `below` (a checkpoint's tree size, signed before
/// `cutoff`): moves the mark, then removes the records and their client index rows under it,
/// in one transaction. The records removed.
pub async fn reduce(db: &Db, below: i64, cutoff: i64, now: i64) -> Result<u64, StoreError> {
    Ok(with_pool!(db, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "UPDATE audit_reduced SET below = $1, cutoff = $2, reduced_at = $3 WHERE id = 1",
        )
        .bind(below)
        .bind(cutoff)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM audit_record_clients WHERE seq < $1")
            .bind(below)
            .execute(&mut *tx)
            .await?;
        let removed = sqlx::query("DELETE FROM audit_log WHERE seq < $1")
            .bind(below)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        removed
    }))
}

/// The leaf hashes of records `[from, to)` as the tree keeps them, in order.
pub async fn leaves(db: &Db, from: i64, to: i64) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
    Ok(with_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT idx, hash FROM audit_nodes WHERE level = 0 AND idx >= $1 AND idx < $2 \
             ORDER BY idx",
        )
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await?
    }))
}

/// Whether `error` is the database refusing the connected role a privilege (PostgreSQL
/// SQLSTATE 42501): the serving role may not reduce the log, its owner may.
pub fn lacks_privilege(error: &StoreError) -> bool {
    matches!(error, StoreError::Database(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42501"))
}
