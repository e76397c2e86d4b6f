//! Webhook delivery state: each subscription's cursor in the outbox and the lease on it, and
//! the dead letters.

use super::{Db, StoreError};
use crate::with_pool;
use std::collections::HashSet;

/// Creates a subscription's cursor at the end of the outbox if it has none: a new webhook
/// receives what happens from its configuration on, not the whole history (which the change
/// feed serves).
pub async fn ensure_cursor(db: &Db, subscription: &str) -> Result<(), StoreError> {
    with_pool!(db, |pool| {
        sqlx::query(
            "INSERT INTO webhook_cursors (subscription, position, lease_owner, lease_until) \
             SELECT $1, COALESCE(MAX(position), 0), NULL, 0 FROM events WHERE true \
             ON CONFLICT (subscription) DO NOTHING",
        )
        .bind(subscription)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// Takes or renews the lease on a subscription until `until` (microseconds); the position to
/// go on from if this instance holds it now.
pub async fn claim(
    db: &Db,
    subscription: &str,
    owner: &str,
    now: i64,
    until: i64,
) -> Result<Option<i64>, StoreError> {
    let claimed: Option<i64> = with_pool!(db, |pool| {
        sqlx::query_scalar(
            "UPDATE webhook_cursors SET lease_owner = $1, lease_until = $2 \
             WHERE subscription = $3 AND (lease_owner = $1 OR lease_owner IS NULL OR lease_until < $4) \
             RETURNING position",
        )
        .bind(owner)
        .bind(until)
        .bind(subscription)
        .bind(now)
        .fetch_optional(pool)
        .await?
    });
    Ok(claimed)
}

/// Moves the cursor on, only while `owner` holds the lease.
pub async fn advance(
    db: &Db,
    subscription: &str,
    owner: &str,
    position: i64,
) -> Result<bool, StoreError> {
    let moved = with_pool!(db, |pool| {
        sqlx::query(
            "UPDATE webhook_cursors SET position = $1 \
             WHERE subscription = $2 AND lease_owner = $3 AND position < $1",
        )
        .bind(position)
        .bind(subscription)
        .bind(owner)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(moved == 1)
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeadLetter {
    pub subscription: String,
    pub position: i64,
    pub event_id: String,
    pub client_id: String,
    pub attempts: i64,
    pub last_error: String,
    pub dead_at: i64,
    pub replay_requested_at: Option<i64>,
}

/// An event that could not be delivered, or was held back behind one of the same client's
/// (so that a client's events never arrive out of order).
pub struct NewDeadLetter<'a> {
    pub subscription: &'a str,
    pub position: i64,
    pub event_id: &'a str,
    pub client_id: &'a str,
    pub attempts: i64,
    pub last_error: &'a str,
}

pub async fn bury(db: &Db, letter: NewDeadLetter<'_>, now: i64) -> Result<(), StoreError> {
    with_pool!(db, |pool| {
        sqlx::query(
            "INSERT INTO webhook_dead_letters (subscription, position, event_id, client_id, attempts, last_error, dead_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (subscription, position) DO UPDATE SET attempts = webhook_dead_letters.attempts + $5, \
             last_error = $6, dead_at = $7, replay_requested_at = NULL",
        )
        .bind(letter.subscription)
        .bind(letter.position)
        .bind(letter.event_id)
        .bind(letter.client_id)
        .bind(letter.attempts)
        .bind(letter.last_error)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(())
}

const COLUMNS: &str = "subscription, position, event_id, client_id, attempts, last_error, dead_at, replay_requested_at";

/// The dead letters not yet replayed, of one subscription or all, in position order.
pub async fn unreplayed(
    db: &Db,
    subscription: Option<&str>,
) -> Result<Vec<DeadLetter>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM webhook_dead_letters WHERE replayed_at IS NULL AND ($1 = '' OR subscription = $1) \
         ORDER BY subscription, position"
    );
    Ok(with_pool!(db, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(subscription.unwrap_or(""))
            .fetch_all(pool)
            .await?
    }))
}

/// The clients with an event of this subscription still in the dead letters: their later
/// events wait behind it.
pub async fn held_clients(db: &Db, subscription: &str) -> Result<HashSet<String>, StoreError> {
    let rows: Vec<String> = with_pool!(db, |pool| {
        sqlx::query_scalar(
            "SELECT DISTINCT client_id FROM webhook_dead_letters WHERE subscription = $1 AND replayed_at IS NULL",
        )
        .bind(subscription)
        .fetch_all(pool)
        .await?
    });
    Ok(rows.into_iter().collect())
}

/// Asks for the dead letters of one subscription, or of all, to be delivered again; the
/// instance holding the subscription does so, in order. The number of letters asked for.
pub async fn request_replay(
    db: &Db,
    subscription: Option<&str>,
    now: i64,
) -> Result<u64, StoreError> {
    let asked = with_pool!(db, |pool| {
        sqlx::query(
            "UPDATE webhook_dead_letters SET replay_requested_at = $1 \
             WHERE replayed_at IS NULL AND ($2 = '' OR subscription = $2)",
        )
        .bind(now)
        .bind(subscription.unwrap_or(""))
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(asked)
}

pub async fn mark_replayed(
    db: &Db,
    subscription: &str,
    position: i64,
    now: i64,
) -> Result<(), StoreError> {
    with_pool!(db, |pool| {
        sqlx::query(
            "UPDATE webhook_dead_letters SET replayed_at = $1 WHERE subscription = $2 AND position = $3",
        )
        .bind(now)
        .bind(subscription)
        .bind(position)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(())
}
