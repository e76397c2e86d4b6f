//! Idempotency keys in SQL (migration 0016): the claim a request makes on its key, the answer
//! kept for retries (sealed), the mark its change leaves in its own transaction, and the
//! removal of keys past their period. The database, not the process, holds them, so that a
//! retry is answered alike after a restart and by another instance.

use super::sealing::{self, IDEMPOTENT_RESPONSE};
use super::{Arg, Conn, Db, StoreError};
use crate::with_pool;

/// One request's hold on a key: the key's row and the attempt that holds it. Only the holder
/// may answer or release it, so that an attempt that outlived its lease cannot overwrite the
/// attempt that took the key over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub digest: String,
    pub attempt: String,
}

tokio::task_local! {
    /// The claim of the request this task serves, while its handler runs. It follows the
    /// request to the audit writer, which marks the key in the transaction that commits the
    /// request's change — without every gate operation having to carry it.
    pub static CURRENT: Claim;
}

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claimed {
    /// The key is the caller's to use now: new, expired, or freed by a crashed attempt that
    /// changed nothing.
    Fresh(Claim),
    /// The key was used for this request, which was answered: the answer, opened.
    Answered {
        status: u16,
        response: String,
        client_id: Option<String>,
    },
    /// The key was used for another request (another fingerprint).
    OtherRequest,
    /// The request is still being served under its lease.
    InFlight,
    /// The request's change committed but its answer was never kept (the attempt crashed or
    /// failed after the commit): it must not be made again, and cannot be answered.
    Unanswered,
}

#[derive(sqlx::FromRow)]
struct Row {
    fingerprint: String,
    lease_until: Option<i64>,
    applied_at: Option<i64>,
    client_id: Option<String>,
    status: Option<i64>,
    response: Option<String>,
}

/// Claims `digest` for a request with `fingerprint` at `now`: a new row, or the row taken
/// over when its key was made at or before `expired_before` or when it holds an attempt whose
/// lease ended and whose change never committed. Any other row is reported as it stands.
pub async fn claim(
    db: &Db,
    digest: &str,
    fingerprint: &str,
    (now, lease_until, expired_before): (i64, i64, i64),
) -> Result<Claimed, StoreError> {
    // A row deleted between the two statements (released, or removed by retention) makes the
    // claim try again; twice is enough for any interleaving but a pathological one.
    for _ in 0..3 {
        let attempt = uuid::Uuid::new_v4().to_string();
        let taken = with_pool!(db, |pool| {
            sqlx::query(
                "INSERT INTO idempotency_keys (key_digest, fingerprint, attempt, lease_until, \
                     created_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (key_digest) DO UPDATE SET fingerprint = excluded.fingerprint, \
                     attempt = excluded.attempt, lease_until = excluded.lease_until, \
                     applied_at = NULL, client_id = NULL, status = NULL, response = NULL, \
                     created_at = excluded.created_at \
                 WHERE idempotency_keys.created_at <= $6 \
                    OR (idempotency_keys.status IS NULL AND idempotency_keys.applied_at IS NULL \
                        AND idempotency_keys.lease_until <= $5)",
            )
            .bind(digest)
            .bind(fingerprint)
            .bind(&attempt)
            .bind(lease_until)
            .bind(now)
            .bind(expired_before)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if taken == 1 {
            return Ok(Claimed::Fresh(Claim {
                digest: digest.to_owned(),
                attempt,
            }));
        }
        let row: Option<Row> = with_pool!(db, |pool| {
            sqlx::query_as(
                "SELECT fingerprint, lease_until, applied_at, client_id, status, response \
                 FROM idempotency_keys WHERE key_digest = $1",
            )
            .bind(digest)
            .fetch_optional(pool)
            .await?
        });
        let Some(row) = row else { continue };
        if row.fingerprint != fingerprint {
            return Ok(Claimed::OtherRequest);
        }
        return Ok(match (row.status, row.response) {
            (Some(status), Some(response)) => Claimed::Answered {
                status: u16::try_from(status).unwrap_or(500),
                response: db.open(IDEMPOTENT_RESPONSE, &[digest], &response)?,
                client_id: row.client_id,
            },
            _ if row.applied_at.is_some() && row.lease_until.is_none_or(|until| until <= now) => {
                Claimed::Unanswered
            }
            _ => Claimed::InFlight,
        });
    }
    Ok(Claimed::InFlight)
}

/// Keeps `response` (sealed, bound to the key's row) as the answer of `claim` with `status`,
/// and ends its lease; nothing if another attempt holds the key by now.
pub async fn keep(db: &Db, claim: &Claim, status: u16, response: &str) -> Result<bool, StoreError> {
    let sealed = sealing::seal(
        &*db.sealing,
        IDEMPOTENT_RESPONSE,
        &[claim.digest.as_str()],
        response,
    )?;
    let kept = with_pool!(db, |pool| {
        sqlx::query(
            "UPDATE idempotency_keys SET status = $1, response = $2, lease_until = NULL \
             WHERE key_digest = $3 AND attempt = $4",
        )
        .bind(i64::from(status))
        .bind(&sealed)
        .bind(&claim.digest)
        .bind(&claim.attempt)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(kept == 1)
}

/// Lets go of a key whose request failed (a server error, retryable): the key is free again if
/// the request changed nothing; if its change committed, the lease ends now, so that a retry
/// learns at once that the request was carried out.
pub async fn release(db: &Db, claim: &Claim, now: i64) -> Result<(), StoreError> {
    with_pool!(db, |pool| {
        let mut tx = pool.begin().await?;
        let freed = sqlx::query(
            "DELETE FROM idempotency_keys WHERE key_digest = $1 AND attempt = $2 \
             AND applied_at IS NULL AND status IS NULL",
        )
        .bind(&claim.digest)
        .bind(&claim.attempt)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if freed == 0 {
            sqlx::query(
                "UPDATE idempotency_keys SET lease_until = $1 \
                 WHERE key_digest = $2 AND attempt = $3 AND status IS NULL",
            )
            .bind(now)
            .bind(&claim.digest)
            .bind(&claim.attempt)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// Marks, in the transaction of the change itself, that `claim`'s request changed something,
/// and about which client: from this commit on the request is never made again under its key.
pub(super) async fn mark_applied(
    conn: &mut Conn<'_>,
    claim: &Claim,
    client_id: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    conn.execute(
        "UPDATE idempotency_keys SET applied_at = $1, client_id = COALESCE($2, client_id) \
         WHERE key_digest = $3 AND attempt = $4",
        &[
            Arg::Int(now),
            Arg::MaybeText(client_id),
            claim.digest.as_str().into(),
            claim.attempt.as_str().into(),
        ],
    )
    .await?;
    Ok(())
}

/// The keys made at or before `expired_before` (microseconds): counted, for a dry run.
pub async fn expired(db: &Db, expired_before: i64) -> Result<i64, StoreError> {
    Ok(with_pool!(db, |pool| {
        sqlx::query_scalar("SELECT COUNT(*) FROM idempotency_keys WHERE created_at <= $1")
            .bind(expired_before)
            .fetch_one(pool)
            .await?
    }))
}

/// Removes the keys [`expired`] counts; how many.
pub async fn remove_expired(db: &Db, expired_before: i64) -> Result<i64, StoreError> {
    let removed = with_pool!(db, |pool| {
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at <= $1")
            .bind(expired_before)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(removed as i64)
}
