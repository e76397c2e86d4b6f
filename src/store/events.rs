//! Reading the outbox: the events about clients a party is linked to, in position order.

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
}

/// Events after `after` about clients `party` is linked to now (the link is checked at delivery,
/// not when the event was written), at most `limit`; and the last position scanned, which a
/// reader may skip to even when nothing in between was for it.
pub async fn after(
    db: &Db,
    party: &str,
    after: i64,
    limit: i64,
) -> Result<(Vec<StoredEvent>, i64), StoreError> {
    type Row = (
        i64,
        String,
        String,
        String,
        String,
        i32,
        i64,
        Option<String>,
    );
    let rows: Vec<Row> = with_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT e.position, e.event_id, e.event_type, e.client_id, e.categories, e.significant, e.recorded_at, l.party_id \
             FROM events e LEFT JOIN client_links l \
               ON l.client_id = e.client_id AND l.party_id = $1 AND l.ended_at IS NULL \
             WHERE e.position > $2 ORDER BY e.position LIMIT $3",
        )
        .bind(party)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?
    });
    let scanned = rows.last().map_or(after, |row| row.0);
    let events = rows
        .into_iter()
        .filter(|row| row.7.is_some())
        .map(
            |(
                position,
                event_id,
                event_type,
                client_id,
                categories,
                significant,
                recorded_at,
                _,
            )| StoredEvent {
                position,
                event_id,
                event_type,
                client_id,
                categories,
                significant: significant != 0,
                recorded_at,
            },
        )
        .collect();
    Ok((events, scanned))
}
