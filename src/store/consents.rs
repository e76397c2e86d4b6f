//! Stored consent records.

use super::mutations::{Applied, ChangeError, ConsentRow};
use super::sealing::CONSENT_EVIDENCE;
use super::{Conn, Db, StoreError};
use crate::audit::record::from_micros;
use crate::domain::consent::{Consent, Withdrawal};
use crate::domain::party::PartyId;
use crate::domain::purpose::Purpose;
use crate::domain::record::field::Category;
use crate::domain::record::values::{format_date, parse_date};
use crate::with_pool;
use time::Date;

/// A consent is active on a day: not withdrawn (a withdrawal takes effect at once, GDPR art.
/// 7(3)) and the day within its period of validity (SWO art. 5). The day, an ISO 8601 date, is
/// bound as `$4` by every query that uses this; the table is named `consents`, unaliased.
pub(super) const CONSENT_ACTIVE: &str = "consents.withdrawn_at IS NULL AND consents.valid_from <= $4 \
    AND (consents.valid_until IS NULL OR consents.valid_until >= $4)";

/// A consent as stored, in the portable column types.
#[derive(sqlx::FromRow)]
struct Row {
    consent_id: String,
    client_id: String,
    recipient_party: String,
    purpose: String,
    categories: String,
    legal_text_version: String,
    language: String,
    evidence_reference: String,
    recorded_by_party: String,
    recorded_by_user: String,
    recorded_at: i64,
    valid_from: String,
    valid_until: Option<String>,
    withdrawn_at: Option<i64>,
    withdrawn_by_party: Option<String>,
    withdrawn_by_user: Option<String>,
}

const COLUMNS: &str = "consent_id, client_id, recipient_party, purpose, categories, legal_text_version, language, \
    evidence_reference, recorded_by_party, recorded_by_user, recorded_at, valid_from, valid_until, withdrawn_at, \
    withdrawn_by_party, withdrawn_by_user";

impl Row {
    /// The consent, if every stored value still parses; a sealed value that does not open is
    /// an error.
    fn into_consent(self, db: &Db) -> Result<Option<Consent>, StoreError> {
        let evidence_reference = db.open(
            CONSENT_EVIDENCE,
            &[&self.consent_id, &self.client_id],
            &self.evidence_reference,
        )?;
        Ok(self.parse(evidence_reference))
    }

    fn parse(self, evidence_reference: String) -> Option<Consent> {
        Some(Consent {
            consent_id: self.consent_id,
            client_id: self.client_id,
            recipient: PartyId::parse(&self.recipient_party).ok()?,
            purpose: self.purpose.parse().ok()?,
            categories: self
                .categories
                .split(',')
                .map(Category::parse)
                .collect::<Option<Vec<_>>>()?,
            legal_text_version: self.legal_text_version,
            language: self.language,
            evidence_reference,
            recorded_by_party: self.recorded_by_party,
            recorded_by_user: self.recorded_by_user,
            recorded_at: from_micros(self.recorded_at),
            valid_from: parse_date(&self.valid_from)?,
            valid_until: match self.valid_until {
                Some(text) => Some(parse_date(&text)?),
                None => None,
            },
            withdrawn: match (
                self.withdrawn_at,
                self.withdrawn_by_party,
                self.withdrawn_by_user,
            ) {
                (Some(at), Some(by_party), Some(by_user)) => Some(Withdrawal {
                    at: from_micros(at),
                    by_party,
                    by_user,
                }),
                _ => None,
            },
        })
    }
}

pub async fn for_client(db: &Db, client_id: &str) -> Result<Vec<Consent>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM consents WHERE client_id = $1 ORDER BY recorded_at, consent_id"
    );
    let rows: Vec<Row> = with_pool!(db, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(client_id)
            .fetch_all(pool)
            .await?
    });
    let mut consents = Vec::with_capacity(rows.len());
    for row in rows {
        consents.extend(row.into_consent(db)?);
    }
    Ok(consents)
}

pub async fn find(
    db: &Db,
    client_id: &str,
    consent_id: &str,
) -> Result<Option<Consent>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM consents WHERE client_id = $1 AND consent_id = $2");
    let row: Option<Row> = with_pool!(db, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(client_id)
            .bind(consent_id)
            .fetch_optional(pool)
            .await?
    });
    Ok(match row {
        Some(row) => row.into_consent(db)?,
        None => None,
    })
}

/// The categories `recipient` may read about `client_id` for `purpose` by consent on `today`,
/// each with the party that recorded the consent.
pub async fn active_categories(
    db: &Db,
    client_id: &str,
    recipient: &str,
    purpose: Purpose,
    today: Date,
) -> Result<Vec<(Category, String)>, StoreError> {
    let today = format_date(today);
    let sql = format!(
        "SELECT categories, recorded_by_party FROM consents WHERE client_id = $1 AND recipient_party = $2 \
         AND purpose = $3 AND {CONSENT_ACTIVE}"
    );
    let rows: Vec<(String, String)> = with_pool!(db, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(client_id)
            .bind(recipient)
            .bind(purpose.as_str())
            .bind(&today)
            .fetch_all(pool)
            .await?
    });
    Ok(rows
        .iter()
        .flat_map(|(list, recorder)| by_recorder(list, recorder))
        .collect())
}

/// The categories of a stored list, each with the consent's recorder.
pub(super) fn by_recorder<'a>(
    list: &'a str,
    recorder: &'a str,
) -> impl Iterator<Item = (Category, String)> + 'a {
    list.split(',')
        .filter_map(Category::parse)
        .map(move |c| (c, recorder.to_owned()))
}

/// Records a consent.
pub(super) async fn record(
    conn: &mut Conn<'_>,
    consent: &ConsentRow,
    now: i64,
) -> Result<Applied, ChangeError> {
    let evidence = conn.seal(
        CONSENT_EVIDENCE,
        &[&consent.consent_id, &consent.client_id],
        &consent.evidence_reference,
    )?;
    conn
        .execute(
            "INSERT INTO consents (consent_id, client_id, recipient_party, purpose, categories, legal_text_version, \
             language, evidence_reference, recorded_by_party, recorded_by_user, recorded_at, valid_from, valid_until) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            &[
                (&consent.consent_id).into(),
                (&consent.client_id).into(),
                (&consent.recipient_party).into(),
                (&consent.purpose).into(),
                (&consent.categories).into(),
                (&consent.legal_text_version).into(),
                (&consent.language).into(),
                (&evidence).into(),
                (&consent.recorded_by_party).into(),
                (&consent.recorded_by_user).into(),
                now.into(),
                (&consent.valid_from).into(),
                (&consent.valid_until).into(),
            ],
        )
        .await?;
    Ok(Applied::ConsentRecorded)
}

/// Withdraws a consent of the client that is not withdrawn yet, effective at once.
pub(super) async fn withdraw(
    conn: &mut Conn<'_>,
    client_id: &str,
    consent_id: &str,
    party: &str,
    user: &str,
    now: i64,
) -> Result<Applied, sqlx::Error> {
    let withdrawn = conn
        .execute(
            "UPDATE consents SET withdrawn_at = $1, withdrawn_by_party = $2, withdrawn_by_user = $3 \
             WHERE client_id = $4 AND consent_id = $5 AND withdrawn_at IS NULL",
            &[now.into(), party.into(), user.into(), client_id.into(), consent_id.into()],
        )
        .await?;
    Ok(if withdrawn == 1 {
        Applied::ConsentWithdrawn
    } else {
        Applied::ConsentNotWithdrawable
    })
}

/// Whether any consent lets `recipient` receive data about `client_id` on `today`.
pub async fn any_active(
    db: &Db,
    client_id: &str,
    recipient: &str,
    today: Date,
) -> Result<bool, StoreError> {
    let today = format_date(today);
    // `$3` is unused but keeps the day at `$4`, where CONSENT_ACTIVE expects it.
    let sql = format!(
        "SELECT 1 FROM consents WHERE client_id = $1 AND recipient_party = $2 AND $3 = $3 \
         AND {CONSENT_ACTIVE} LIMIT 1"
    );
    let found: Option<i32> = with_pool!(db, |pool| {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(client_id)
            .bind(recipient)
            .bind(1_i64)
            .bind(&today)
            .fetch_optional(pool)
            .await?
    });
    Ok(found.is_some())
}
