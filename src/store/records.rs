//! The stored joint-client records: one JSON document of the owned fields and its version.

use super::{Db, StoreError};
use crate::domain::purpose::Purpose;
use crate::domain::record::field::Category;
use crate::domain::record::values::format_date;
use crate::with_pool;
use time::Date;

/// A record as stored; a client nobody has written about yet has the empty record, version 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub json: String,
    pub version: i64,
}

pub async fn load(db: &Db, client_id: &str) -> Result<StoredRecord, StoreError> {
    let row: Option<(String, i64)> = with_pool!(db, |pool| {
        sqlx::query_as("SELECT record, version FROM client_records WHERE client_id = $1")
            .bind(client_id)
            .fetch_optional(pool)
            .await?
    });
    Ok(row.map_or_else(
        || StoredRecord {
            json: "{}".to_owned(),
            version: 0,
        },
        |(json, version)| StoredRecord { json, version },
    ))
}

/// Everything a read of one record needs, fetched in one statement: a read is the gateway's
/// most frequent request, and every extra round trip to the database is paid on each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    /// The legal basis of the reader's party's active link.
    pub legal_basis: String,
    pub record: StoredRecord,
    /// Whether a referral to the agency stands (SWO art. 4).
    pub referred_to_agency: bool,
    /// The categories with an active consent for the reader's party and purpose today.
    pub consented: Vec<Category>,
}

/// The reading of `client_id` for `party` acting for `purpose`, only if the party is linked.
pub async fn reading(
    db: &Db,
    client_id: &str,
    party: &str,
    purpose: Purpose,
    today: Date,
) -> Result<Option<Reading>, StoreError> {
    type Row = (String, Option<String>, Option<i64>, i32, Option<String>);
    let today = format_date(today);
    let rows: Vec<Row> = with_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT l.legal_basis, r.record, r.version, \
               CASE WHEN EXISTS (SELECT 1 FROM referrals f WHERE f.client_id = l.client_id \
                 AND f.direction = 'ocmwToAgency' AND f.status IN ('proposed', 'accepted', 'completed')) \
               THEN 1 ELSE 0 END, \
               c.categories \
             FROM client_links l \
             LEFT JOIN client_records r ON r.client_id = l.client_id \
             LEFT JOIN consents c ON c.client_id = l.client_id AND c.recipient_party = l.party_id \
               AND c.purpose = $3 AND c.withdrawn_at IS NULL AND c.valid_from <= $4 \
               AND (c.valid_until IS NULL OR c.valid_until >= $4) \
             WHERE l.client_id = $1 AND l.party_id = $2 AND l.ended_at IS NULL",
        )
        .bind(client_id)
        .bind(party)
        .bind(purpose.as_str())
        .bind(&today)
        .fetch_all(pool)
        .await?
    });
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let record = match (&first.1, first.2) {
        (Some(json), Some(version)) => StoredRecord {
            json: json.clone(),
            version,
        },
        _ => StoredRecord {
            json: "{}".to_owned(),
            version: 0,
        },
    };
    Ok(Some(Reading {
        legal_basis: first.0.clone(),
        record,
        referred_to_agency: first.3 != 0,
        consented: rows
            .iter()
            .filter_map(|row| row.4.as_deref())
            .flat_map(|list| list.split(',').filter_map(Category::parse))
            .collect(),
    }))
}
