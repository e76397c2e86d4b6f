//! The outbox: events appended in the transaction of the change they announce, and read in
//! position order with whether the reader is linked to each event's client now (who may
//! receive an event is decided at delivery, not when it was written).

use super::audit_writer::NewEvent;
use super::{Conn, Db, StoreError};
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
    /// The role of that link (`competent` or `involved`), when linked.
    pub link_role: Option<String>,
    /// When the reader's party's last link to the client ended, if one did.
    pub link_ended_at: Option<i64>,
}

/// The events with, for party `$1`, whether it is linked to each one's client now. The link is
/// looked up per event by (client, party) rather than joined: a join lets a planner with
/// stale statistics scan every link of the party for every event.
const SELECT: &str = "SELECT e.position, e.event_id, e.event_type, e.client_id, e.categories, e.significant, \
    e.recorded_at, e.subject_id, e.audience, \
    (SELECT l.role FROM client_links l WHERE l.client_id = e.client_id AND l.party_id = $1 AND l.ended_at IS NULL) \
    AS linked_role, \
    (SELECT MAX(l.ended_at) FROM client_links l WHERE l.client_id = e.client_id AND l.party_id = $1) \
    AS link_ended_at \
    FROM events e";

/// An event as `SELECT` reads it.
#[derive(sqlx::FromRow)]
struct Row {
    position: i64,
    event_id: String,
    event_type: String,
    client_id: String,
    categories: String,
    /// SQLite has no boolean: 1 or 0 on both backends.
    significant: i32,
    recorded_at: i64,
    subject_id: Option<String>,
    audience: Option<String>,
    /// The role of the reader's party's link if it is linked to the client now.
    linked_role: Option<String>,
    link_ended_at: Option<i64>,
}

impl From<Row> for StoredEvent {
    fn from(row: Row) -> Self {
        Self {
            position: row.position,
            event_id: row.event_id,
            event_type: row.event_type,
            client_id: row.client_id,
            categories: row.categories,
            significant: row.significant != 0,
            recorded_at: row.recorded_at,
            subject_id: row.subject_id,
            audience: row.audience,
            linked: row.linked_role.is_some(),
            link_role: row.linked_role,
            link_ended_at: row.link_ended_at,
        }
    }
}

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
    let scanned = rows.last().map_or(after, |row| row.position);
    Ok((rows.into_iter().map(StoredEvent::from).collect(), scanned))
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
    Ok(row.map(StoredEvent::from))
}

/// Appends `event` to the outbox, about `client_id` (the event's own, or the client its change
/// resolved), in the transaction of the change it announces.
pub(super) async fn append(
    conn: &mut Conn<'_>,
    event: &NewEvent,
    client_id: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    with_conn!(conn, |c| {
        sqlx::query(
            "INSERT INTO events (event_id, event_type, client_id, categories, significant, recorded_at, \
             subject_id, audience) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&event.event_id)
        .bind(event.event_type)
        .bind(client_id)
        .bind(&event.categories)
        .bind(i32::from(event.significant))
        .bind(now)
        .bind(&event.subject_id)
        .bind(&event.audience)
        .execute(&mut *c)
        .await?;
    });
    Ok(())
}
