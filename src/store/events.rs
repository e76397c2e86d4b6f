//! Reading the outbox in position order, with whether the reader is linked to each event's
//! client now (who may receive an event is decided at delivery, not when it was written).

use super::{Db, StoreError};
use crate::with_pool;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub position: i64,
    pub event_id: String,
    pub event_type: String,
    pub client_id: String,
    pub categories: String,
    pub significant: bool,
    pub recorded_at: i64,
    pub subject_id: Option<String>,
    pub audience: Option<String>,
    /// Whether the reader's party is linked to the client at the moment of reading.
    pub linked: bool,
}

/// The events with, for party `$1`, whether it is linked to each one's client now. The link is
/// looked up per event by (client, party) rather than joined: a join lets a planner with
/// stale statistics scan every link of the party for every event.
const SELECT: &str = "SELECT e.position, e.event_id, e.event_type, e.client_id, e.categories, e.significant, \
    e.recorded_at, e.subject_id, e.audience, \
    (SELECT l.party_id FROM client_links l WHERE l.client_id = e.client_id AND l.party_id = $1 AND l.ended_at IS NULL) \
    FROM events e";

type Row = (
    i64,
    String,
    String,
    String,
    String,
    i32,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Events after `after` that could concern `party`: about a client it is linked to now, or
/// naming it in their audience. At most `limit`, with the last position scanned, which a
/// reader may skip to even when nothing in between was for it.
pub async fn after(
    db: &Db,
    party: &str,
    after: i64,
    limit: i64,
) -> Result<(Vec<StoredEvent>, i64), StoreError> {
    let rows: Vec<Row> = with_pool!(db, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE e.position > $2 ORDER BY e.position LIMIT $3"
        )))
        .bind(party)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?
    });
    let scanned = rows.last().map_or(after, |row| row.0);
    Ok((rows.into_iter().map(from_row).collect(), scanned))
}

/// One event by position, as `party` would read it; for delivering to a party's webhook.
pub async fn at(db: &Db, party: &str, position: i64) -> Result<Option<StoredEvent>, StoreError> {
    let row: Option<Row> = with_pool!(db, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE e.position = $2"
        )))
        .bind(party)
        .bind(position)
        .fetch_optional(pool)
        .await?
    });
    Ok(row.map(from_row))
}

fn from_row(row: Row) -> StoredEvent {
    StoredEvent {
        position: row.0,
        event_id: row.1,
        event_type: row.2,
        client_id: row.3,
        categories: row.4,
        significant: row.5 != 0,
        recorded_at: row.6,
        subject_id: row.7,
        audience: row.8,
        linked: row.9.is_some(),
    }
}
