//! The stored joint-client records: one JSON document of the owned fields and its version.

use super::consents::CONSENT_ACTIVE;
use super::mutations::{Applied, ChangeError};
use super::referrals::AGENCY_REFERRAL_STANDS;
use super::sealing::RECORD;
use super::{Conn, Db, StoreError};
use crate::domain::purpose::Purpose;
use crate::domain::record::field::Category;
use crate::domain::record::values::format_date;
use crate::with_pool;
use time::Date;

/// A record as stored (opened); a client nobody has written about yet has the empty record,
/// version 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub json: String,
    pub version: i64,
}

/// A record's row: the record sealed (see `sealing`).
#[derive(sqlx::FromRow)]
struct SealedRecord {
    record: String,
    version: i64,
}

impl StoredRecord {
    fn empty() -> Self {
        Self {
            json: "{}".to_owned(),
            version: 0,
        }
    }
}

const LOAD: &str = "SELECT record, version FROM client_records WHERE client_id = $1";

pub async fn load(db: &Db, client_id: &str) -> Result<StoredRecord, StoreError> {
    let row: Option<SealedRecord> = with_pool!(db, |pool| {
        sqlx::query_as(LOAD)
            .bind(client_id)
            .fetch_optional(pool)
            .await?
    });
    Ok(match row {
        Some(row) => StoredRecord {
            json: db.open(RECORD, &[client_id], &row.record)?,
            version: row.version,
        },
        None => StoredRecord::empty(),
    })
}

/// Everything a read of one record needs, fetched in one statement: a read is the gateway's
/// most frequent request, and every extra round trip to the database is paid on each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    /// The legal basis of the reader's party's active link.
    pub legal_basis: String,
    /// The role of that link (`competent` or `involved`).
    pub role: String,
    pub record: StoredRecord,
    /// Whether a referral to the agency stands (SWO art. 4).
    pub referred_to_agency: bool,
    /// The categories with an active consent for the reader's party and purpose today, each
    /// with the party that recorded the consent.
    pub consented: Vec<(Category, String)>,
}

/// One row of a reading: the link, the record (if any), the referral flag, and one active
/// consent's categories (none: no consent); a row per active consent.
#[derive(sqlx::FromRow)]
struct ReadingRow {
    legal_basis: String,
    role: String,
    record: Option<String>,
    version: Option<i64>,
    /// SQLite has no boolean: 1 or 0 on both backends.
    referred_to_agency: i32,
    categories: Option<String>,
    recorded_by_party: Option<String>,
}

/// The reading of `client_id` for `party` acting for `purpose`, only if the party is linked.
pub async fn reading(
    db: &Db,
    client_id: &str,
    party: &str,
    purpose: Purpose,
    today: Date,
) -> Result<Option<Reading>, StoreError> {
    let today = format_date(today);
    let sql = format!(
        "SELECT l.legal_basis, l.role, r.record, r.version, \
           CASE WHEN EXISTS (SELECT 1 FROM referrals WHERE referrals.client_id = l.client_id \
             AND {AGENCY_REFERRAL_STANDS}) \
           THEN 1 ELSE 0 END AS referred_to_agency, \
           consents.categories, consents.recorded_by_party \
         FROM client_links l \
         LEFT JOIN client_records r ON r.client_id = l.client_id \
         LEFT JOIN consents ON consents.client_id = l.client_id AND consents.recipient_party = l.party_id \
           AND consents.purpose = $3 AND {CONSENT_ACTIVE} \
         WHERE l.client_id = $1 AND l.party_id = $2 AND l.ended_at IS NULL"
    );
    let rows: Vec<ReadingRow> = with_pool!(db, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
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
    let record = match (&first.record, first.version) {
        (Some(sealed), Some(version)) => StoredRecord {
            json: db.open(RECORD, &[client_id], sealed)?,
            version,
        },
        _ => StoredRecord::empty(),
    };
    Ok(Some(Reading {
        legal_basis: first.legal_basis.clone(),
        role: first.role.clone(),
        record,
        referred_to_agency: first.referred_to_agency != 0,
        consented: rows
            .iter()
            .filter_map(|row| {
                Some((
                    row.categories.as_deref()?,
                    row.recorded_by_party.as_deref()?,
                ))
            })
            .flat_map(|(list, recorder)| super::consents::by_recorder(list, recorder))
            .collect(),
    }))
}

/// Replaces the record, only if it is still at `expected_version` (optimistic concurrency).
pub(super) async fn update(
    conn: &mut Conn<'_>,
    client_id: &str,
    expected_version: i64,
    record_json: &str,
    now: i64,
) -> Result<Applied, ChangeError> {
    Ok(
        if write(conn, client_id, expected_version, record_json, now).await? {
            Applied::RecordUpdated {
                version: expected_version + 1,
            }
        } else {
            Applied::Stale
        },
    )
}

/// Sets the attest on the stored record and keeps the rest of it. A stored record that does
/// not parse fails the change: it is never replaced.
pub(super) async fn set_attest(
    conn: &mut Conn<'_>,
    client_id: &str,
    attest: &serde_json::Value,
    now: i64,
) -> Result<(), ChangeError> {
    let stored: Option<SealedRecord> = with_conn!(conn, |c| {
        sqlx::query_as(LOAD)
            .bind(client_id)
            .fetch_optional(&mut *c)
            .await?
    });
    let stored = match stored {
        Some(row) => StoredRecord {
            json: super::sealing::open(conn.sealing, RECORD, &[client_id], &row.record)?,
            version: row.version,
        },
        None => StoredRecord::empty(),
    };
    let mut record: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&stored.json)
        .map_err(|source| ChangeError::UnreadableRecord {
            client_id: client_id.to_owned(),
            source,
        })?;
    record.insert("attest".to_owned(), attest.clone());
    let record = serde_json::Value::Object(record).to_string();
    if !write(conn, client_id, stored.version, &record, now).await? {
        return Err(ChangeError::RecordMoved(client_id.to_owned()));
    }
    Ok(())
}

/// Writes the record if it is still at `expected_version` (0: none is stored yet). Whether it
/// was written.
async fn write(
    conn: &mut Conn<'_>,
    client_id: &str,
    expected_version: i64,
    record_json: &str,
    now: i64,
) -> Result<bool, ChangeError> {
    let sealed = conn.seal(RECORD, &[client_id], record_json)?;
    let record: &str = &sealed;
    let written = if expected_version == 0 {
        let insert = "INSERT INTO client_records (client_id, record, version, updated_at) \
             VALUES ($1, $2, 1, $3) ON CONFLICT (client_id) DO NOTHING";
        let args = [client_id.into(), record.into(), now.into()];
        conn.execute(insert, &args).await?
    } else {
        let update = "UPDATE client_records SET record = $1, version = version + 1, updated_at = $2 \
             WHERE client_id = $3 AND version = $4";
        let args = [
            record.into(),
            now.into(),
            client_id.into(),
            expected_version.into(),
        ];
        conn.execute(update, &args).await?
    };
    Ok(written == 1)
}
