//! Storage limitation in SQL: which clients are due for erasure, what erasing one removes, and
//! the periods after which events, dead-lettered deliveries and consent history go. The audit
//! log is not touched: its records name client ids and field names only, and an erased id
//! ties to nobody once the client's pseudonym and ciphertext are gone.

use super::mutations::Applied;
use super::{Conn, Db, StoreError};
use crate::with_pool;

/// Clients whose last link ended before `cutoff` (microseconds) and that have no active link,
/// at most `limit`, in id order.
pub async fn due(db: &Db, cutoff: i64, limit: i64) -> Result<Vec<String>, StoreError> {
    Ok(with_pool!(db, |pool| {
        sqlx::query_scalar(
            "SELECT c.client_id FROM clients c WHERE NOT EXISTS ( \
                 SELECT 1 FROM client_links l WHERE l.client_id = c.client_id \
                 AND (l.ended_at IS NULL OR l.ended_at >= $1)) \
             ORDER BY c.client_id LIMIT $2",
        )
        .bind(cutoff)
        .bind(limit)
        .fetch_all(pool)
        .await?
    }))
}

/// What a run would remove, counted (never listed: a dry run reports no identities).
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub clients: i64,
    pub events: i64,
    pub dead_letters: i64,
    pub consents: i64,
    /// Idempotency keys past their period, with the answers kept for them.
    pub idempotency_keys: i64,
    /// Audit records reduced to their leaf hashes.
    pub audit_records: i64,
}

/// The events, dead letters and ended consents older than their periods.
pub async fn expired(
    db: &Db,
    events_before: i64,
    consents_before: i64,
    consents_before_date: &str,
) -> Result<Counts, StoreError> {
    let (events, dead_letters, consents): (i64, i64, i64) = with_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM events WHERE recorded_at < $1), \
                    (SELECT COUNT(*) FROM webhook_dead_letters WHERE dead_at < $1), \
                    (SELECT COUNT(*) FROM consents WHERE withdrawn_at < $2 \
                         OR (withdrawn_at IS NULL AND valid_until < $3))",
        )
        .bind(events_before)
        .bind(consents_before)
        .bind(consents_before_date)
        .fetch_one(pool)
        .await?
    });
    Ok(Counts {
        events,
        dead_letters,
        consents,
        ..Counts::default()
    })
}

/// Removes what [`expired`] counts; the numbers removed.
pub async fn remove_expired(
    db: &Db,
    events_before: i64,
    consents_before: i64,
    consents_before_date: &str,
) -> Result<Counts, StoreError> {
    let removed = with_pool!(db, |pool| {
        let mut tx = pool.begin().await?;
        let events = sqlx::query("DELETE FROM events WHERE recorded_at < $1")
            .bind(events_before)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let dead_letters = sqlx::query("DELETE FROM webhook_dead_letters WHERE dead_at < $1")
            .bind(events_before)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let consents = sqlx::query(
            "DELETE FROM consents WHERE withdrawn_at < $1 \
             OR (withdrawn_at IS NULL AND valid_until < $2)",
        )
        .bind(consents_before)
        .bind(consents_before_date)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        (events, dead_letters, consents)
    });
    Ok(Counts {
        events: removed.0 as i64,
        dead_letters: removed.1 as i64,
        consents: removed.2 as i64,
        ..Counts::default()
    })
}

/// Erases a client in the audit writer's transaction, only if it is still due (no link active
/// or ended since `cutoff`: a registration that came in meanwhile keeps it): its record,
/// consents, referrals and their messages, infractions, attests, events and dead letters, its
/// links, and last the client row with its pseudonym and ciphertext, so that the same person
/// registered later gets a new client id.
pub(super) async fn erase(
    conn: &mut Conn<'_>,
    client_id: &str,
    cutoff: i64,
) -> Result<Applied, sqlx::Error> {
    let still_due = conn
        .execute(
            "UPDATE clients SET created_at = created_at WHERE client_id = $1 AND NOT EXISTS ( \
                 SELECT 1 FROM client_links l WHERE l.client_id = $1 \
                 AND (l.ended_at IS NULL OR l.ended_at >= $2))",
            &[client_id.into(), cutoff.into()],
        )
        .await?;
    if still_due == 0 {
        return Ok(Applied::NotDue);
    }
    // Children before parents: the foreign keys hold at every statement. The answers kept for
    // idempotency keys go too: they hold the client's referrals, consents and infractions.
    const ERASE: [&str; 11] = [
        "DELETE FROM idempotency_keys WHERE client_id = $1",
        "DELETE FROM referral_messages WHERE referral_id IN \
             (SELECT referral_id FROM referrals WHERE client_id = $1)",
        "DELETE FROM referrals WHERE client_id = $1",
        "DELETE FROM infractions WHERE client_id = $1",
        "DELETE FROM consents WHERE client_id = $1",
        "DELETE FROM kbi_attests WHERE client_id = $1",
        "DELETE FROM events WHERE client_id = $1",
        "DELETE FROM webhook_dead_letters WHERE client_id = $1",
        "DELETE FROM client_records WHERE client_id = $1",
        "DELETE FROM client_links WHERE client_id = $1",
        "DELETE FROM clients WHERE client_id = $1",
    ];
    for statement in ERASE {
        conn.execute(statement, &[client_id.into()]).await?;
    }
    Ok(Applied::ClientErased)
}

/// Takes (or renews) the lease `name` for `holder` until `until` if nobody else holds an
/// unexpired one at `now` (microseconds); whether it is now `holder`'s.
pub async fn take_lease(
    db: &Db,
    name: &str,
    holder: &str,
    now: i64,
    until: i64,
) -> Result<bool, StoreError> {
    let taken = with_pool!(db, |pool| {
        sqlx::query(
            "INSERT INTO maintenance_leases (name, holder, until) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until \
             WHERE maintenance_leases.until < $4 OR maintenance_leases.holder = excluded.holder",
        )
        .bind(name)
        .bind(holder)
        .bind(until)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(taken == 1)
}
