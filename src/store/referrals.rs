//! Stored referrals and their messages.

use super::{Db, StoreError};
use crate::with_pool;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReferral {
    pub referral_id: String,
    pub client_id: String,
    pub from_party: String,
    pub to_party: String,
    pub direction: String,
    pub status: String,
    pub reason: String,
    pub evidence_reference: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub kind: String,
    pub party: String,
    pub user: String,
    pub message: String,
    pub created_at: i64,
}

type Row = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    i64,
    i64,
);

const COLUMNS: &str = "referral_id, client_id, from_party, to_party, direction, status, reason, evidence_reference, \
    created_by, created_at, updated_at";

fn from_row(r: Row) -> StoredReferral {
    StoredReferral {
        referral_id: r.0,
        client_id: r.1,
        from_party: r.2,
        to_party: r.3,
        direction: r.4,
        status: r.5,
        reason: r.6,
        evidence_reference: r.7,
        created_by: r.8,
        created_at: r.9,
        updated_at: r.10,
    }
}

/// A referral, only if `party` sent or received it.
pub async fn find(
    db: &Db,
    referral_id: &str,
    party: &str,
) -> Result<Option<StoredReferral>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM referrals WHERE referral_id = $1 AND (from_party = $2 OR to_party = $2)"
    );
    let row: Option<Row> = with_pool!(db, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(referral_id)
            .bind(party)
            .fetch_optional(pool)
            .await?
    });
    Ok(row.map(from_row))
}

/// The referrals `party` sent (`outgoing`) or received, newest first, optionally of one status.
pub async fn list(
    db: &Db,
    party: &str,
    outgoing: bool,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<StoredReferral>, StoreError> {
    let side = if outgoing { "from_party" } else { "to_party" };
    let sql = format!(
        "SELECT {COLUMNS} FROM referrals WHERE {side} = $1 AND ($2 = '' OR status = $2) \
         ORDER BY created_at DESC, referral_id DESC LIMIT $3"
    );
    let rows: Vec<Row> = with_pool!(db, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(party)
            .bind(status.unwrap_or(""))
            .bind(limit)
            .fetch_all(pool)
            .await?
    });
    Ok(rows.into_iter().map(from_row).collect())
}

pub async fn messages(db: &Db, referral_id: &str) -> Result<Vec<StoredMessage>, StoreError> {
    let rows: Vec<(String, String, String, String, i64)> = with_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT kind, party, user_id, message, created_at FROM referral_messages WHERE referral_id = $1 \
             ORDER BY created_at, message_id",
        )
        .bind(referral_id)
        .fetch_all(pool)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(|(kind, party, user, message, created_at)| StoredMessage {
            kind,
            party,
            user,
            message,
            created_at,
        })
        .collect())
}

/// Whether a referral of this client to an integration agency was made and not refused or
/// withdrawn (SWO art. 4: then no further referral is required).
pub async fn agency_referral_made(db: &Db, client_id: &str) -> Result<bool, StoreError> {
    let count: i64 = with_pool!(db, |pool| {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM referrals WHERE client_id = $1 AND direction = 'ocmwToAgency' \
             AND status IN ('proposed', 'accepted', 'completed')",
        )
        .bind(client_id)
        .fetch_one(pool)
        .await?
    });
    Ok(count > 0)
}
