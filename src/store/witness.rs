//! The witnesses' cosignatures of the audit log's checkpoints, kept as they were verified:
//! append-only like the log (migration 0011), so that a checkpoint's witnesses stay on record.

use super::{Db, StoreError};
use crate::with_pool;

/// One stored cosignature of the checkpoint at `tree_size`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CosignatureRow {
    #[sqlx(try_from = "i64")]
    pub tree_size: u64,
    pub witness_name: String,
    pub key_id: Vec<u8>,
    pub timestamp: i64,
    pub signature: Vec<u8>,
}

/// Stores a verified cosignature; the same one again is kept once.
pub async fn put_cosignature(
    db: &Db,
    row: &CosignatureRow,
    received_at: i64,
) -> Result<(), StoreError> {
    with_pool!(db, |pool| {
        sqlx::query(
            "INSERT INTO audit_cosignatures (tree_size, witness_name, key_id, timestamp, signature, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(row.tree_size as i64)
        .bind(&row.witness_name)
        .bind(&row.key_id)
        .bind(row.timestamp)
        .bind(&row.signature)
        .bind(received_at)
        .execute(pool)
        .await?;
    });
    Ok(())
}

const COLUMNS: &str =
    "SELECT tree_size, witness_name, key_id, timestamp, signature FROM audit_cosignatures";

/// The cosignatures of the checkpoint at `tree_size`, oldest first.
pub async fn cosignatures_of(db: &Db, tree_size: u64) -> Result<Vec<CosignatureRow>, StoreError> {
    Ok(with_pool!(db, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{COLUMNS} WHERE tree_size = $1 ORDER BY received_at, witness_name, timestamp"
        )))
        .bind(tree_size as i64)
        .fetch_all(pool)
        .await?
    }))
}

/// Every stored cosignature, by checkpoint (for `gateway audit verify --witnesses`).
pub async fn all_cosignatures(db: &Db) -> Result<Vec<CosignatureRow>, StoreError> {
    Ok(with_pool!(db, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{COLUMNS} ORDER BY tree_size")))
            .fetch_all(pool)
            .await?
    }))
}
