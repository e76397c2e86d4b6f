//! Stored infractions (SWO art. 12) and the decisions on them.

use super::{Db, StoreError};
use crate::with_pool;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredInfraction {
    pub infraction_id: String,
    pub client_id: String,
    pub kind: String,
    pub occurred_on: String,
    pub description: String,
    pub routed_to: String,
    pub recorded_by_party: String,
    pub recorded_by_user: String,
    pub recorded_at: i64,
    pub decision: Option<StoredDecision>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDecision {
    pub decision: String,
    pub decided_on: String,
    pub note: String,
    pub party: String,
    pub user: String,
    pub decided_at: i64,
}

const COLUMNS: &str = "infraction_id, client_id, kind, occurred_on, description, routed_to, \
    recorded_by_party, recorded_by_user, recorded_at, \
    decision, decided_on, decision_note, decided_by_party, decided_by_user, decided_at";

type Row = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
);

fn from_row(r: Row) -> StoredInfraction {
    let decision = match (r.9, r.10, r.11, r.12, r.13, r.14) {
        (Some(decision), Some(decided_on), note, Some(party), Some(user), Some(decided_at)) => {
            Some(StoredDecision {
                decision,
                decided_on,
                note: note.unwrap_or_default(),
                party,
                user,
                decided_at,
            })
        }
        _ => None,
    };
    StoredInfraction {
        infraction_id: r.0,
        client_id: r.1,
        kind: r.2,
        occurred_on: r.3,
        description: r.4,
        routed_to: r.5,
        recorded_by_party: r.6,
        recorded_by_user: r.7,
        recorded_at: r.8,
        decision,
    }
}

/// One infraction of one client.
pub async fn find(
    db: &Db,
    client_id: &str,
    infraction_id: &str,
) -> Result<Option<StoredInfraction>, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM infractions WHERE client_id = $1 AND infraction_id = $2");
    let row: Option<Row> = with_pool!(db, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(client_id)
            .bind(infraction_id)
            .fetch_optional(pool)
            .await?
    });
    Ok(row.map(from_row))
}

/// A client's infractions routed to one of `routed_to`, newest first, at most `limit`.
pub async fn list(
    db: &Db,
    client_id: &str,
    routed_to: &[&str],
    limit: i64,
) -> Result<Vec<StoredInfraction>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM infractions WHERE client_id = $1 AND (routed_to = $2 OR routed_to = $3) \
         ORDER BY recorded_at DESC, infraction_id DESC LIMIT $4"
    );
    let first = routed_to.first().copied().unwrap_or("");
    let second = routed_to.get(1).copied().unwrap_or(first);
    let rows: Vec<Row> = with_pool!(db, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(client_id)
            .bind(first)
            .bind(second)
            .bind(limit)
            .fetch_all(pool)
            .await?
    });
    Ok(rows.into_iter().map(from_row).collect())
}
