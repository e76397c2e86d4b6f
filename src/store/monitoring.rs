//! What the yearly monitoring counts (SWO art. 16), read in bulk: the links, the records, the
//! referrals and the attests. Only counts leave the gate.

use super::{Db, StoreError};
use crate::with_pool;

/// Every link: client, party, linked at, ended at (microseconds).
pub async fn links(db: &Db) -> Result<Vec<(String, String, i64, Option<i64>)>, StoreError> {
    Ok(with_pool!(db, |pool| {
        sqlx::query_as("SELECT client_id, party_id, linked_at, ended_at FROM client_links")
            .fetch_all(pool)
            .await?
    }))
}

/// Every stored record: client and JSON.
pub async fn records(db: &Db) -> Result<Vec<(String, String)>, StoreError> {
    Ok(with_pool!(db, |pool| {
        sqlx::query_as("SELECT client_id, record FROM client_records")
            .fetch_all(pool)
            .await?
    }))
}

/// The referrals proposed in `[from, to)`: client, direction and status.
pub async fn referrals(
    db: &Db,
    from: i64,
    to: i64,
) -> Result<Vec<(String, String, String)>, StoreError> {
    Ok(with_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT client_id, direction, status FROM referrals WHERE created_at >= $1 AND created_at < $2",
        )
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await?
    }))
}

/// The attests issued between two dates (YYYY-MM-DD, inclusive): client and kind.
pub async fn attests(
    db: &Db,
    first: &str,
    last: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    Ok(with_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT client_id, kind FROM kbi_attests WHERE issued_on >= $1 AND issued_on <= $2",
        )
        .bind(first)
        .bind(last)
        .fetch_all(pool)
        .await?
    }))
}
