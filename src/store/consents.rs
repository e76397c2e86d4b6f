//! Stored consent records.

use super::{Db, StoreError};
use crate::audit::record::from_micros;
use crate::domain::consent::{Consent, Withdrawal};
use crate::domain::party::PartyId;
use crate::domain::purpose::Purpose;
use crate::domain::record::field::Category;
use crate::domain::record::values::{format_date, parse_date};
use crate::with_pool;
use time::Date;

type Row = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
);

const COLUMNS: &str = "consent_id, client_id, recipient_party, purpose, categories, legal_text_version, language, \
    evidence_reference, recorded_by_party, recorded_by_user, recorded_at, valid_from, valid_until, withdrawn_at, \
    withdrawn_by_party, withdrawn_by_user";

fn from_row(row: Row) -> Option<Consent> {
    let (
        id,
        client,
        recipient,
        purpose,
        categories,
        text,
        language,
        evidence,
        by_party,
        by_user,
        at,
        from,
        until,
        w_at,
        w_party,
        w_user,
    ) = row;
    Some(Consent {
        consent_id: id,
        client_id: client,
        recipient: PartyId::parse(&recipient).ok()?,
        purpose: purpose.parse().ok()?,
        categories: categories
            .split(',')
            .map(Category::parse)
            .collect::<Option<Vec<_>>>()?,
        legal_text_version: text,
        language,
        evidence_reference: evidence,
        recorded_by_party: by_party,
        recorded_by_user: by_user,
        recorded_at: from_micros(at),
        valid_from: parse_date(&from)?,
        valid_until: match until {
            Some(text) => Some(parse_date(&text)?),
            None => None,
        },
        withdrawn: match (w_at, w_party, w_user) {
            (Some(at), Some(by_party), Some(by_user)) => Some(Withdrawal {
                at: from_micros(at),
                by_party,
                by_user,
            }),
            _ => None,
        },
    })
}

pub async fn for_client(db: &Db, client_id: &str) -> Result<Vec<Consent>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM consents WHERE client_id = $1 ORDER BY recorded_at, consent_id"
    );
    let rows: Vec<Row> = with_pool!(db, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(client_id)
            .fetch_all(pool)
            .await?
    });
    Ok(rows.into_iter().filter_map(from_row).collect())
}

pub async fn find(
    db: &Db,
    client_id: &str,
    consent_id: &str,
) -> Result<Option<Consent>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM consents WHERE client_id = $1 AND consent_id = $2");
    let row: Option<Row> = with_pool!(db, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(client_id)
            .bind(consent_id)
            .fetch_optional(pool)
            .await?
    });
    Ok(row.and_then(from_row))
}

/// The categories `recipient` may read about `client_id` for `purpose` by consent on `today`.
pub async fn active_categories(
    db: &Db,
    client_id: &str,
    recipient: &str,
    purpose: Purpose,
    today: Date,
) -> Result<Vec<Category>, StoreError> {
    let today = format_date(today);
    let rows: Vec<String> = with_pool!(db, |pool| {
        sqlx::query_scalar(
            "SELECT categories FROM consents WHERE client_id = $1 AND recipient_party = $2 AND purpose = $3 \
             AND withdrawn_at IS NULL AND valid_from <= $4 AND (valid_until IS NULL OR valid_until >= $4)",
        )
        .bind(client_id)
        .bind(recipient)
        .bind(purpose.as_str())
        .bind(&today)
        .fetch_all(pool)
        .await?
    });
    Ok(rows
        .iter()
        .flat_map(|list| list.split(',').filter_map(Category::parse))
        .collect())
}
