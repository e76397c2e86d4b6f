//! Personal text at rest: the record, free text and references are stored sealed (AES-256-GCM
//! with the key's id), each bound to its table, column and row, so that a copy of the database
//! reads nothing and a ciphertext moved to another row or column does not open. The store seals
//! on write and opens on read through `Sealing`, which the gateway implements with its key
//! ring; what must stay queryable (ids, dates, statuses) stays structured and in clear.
//!
//! A sealed text column holds `<key id>.<base64 of nonce, ciphertext and tag>`: the columns keep
//! their type on both backends, and the key a value needs is readable in SQL, for the census
//! and the migration to the current key. Values stored before encryption at rest have a `.` in
//! front (migration 0014; a key id is never empty): they read as before and `gateway keys
//! migrate` seals them. The national register number is a byte column, sealed as it always
//! was (the key id's length, the id, then nonce, ciphertext and tag).

use super::{Db, StoreError};
use crate::with_pool;
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;

/// The store's view of field encryption.
pub trait Sealing: Send + Sync + 'static {
    fn seal(&self, plaintext: &[u8], binding: &[u8]) -> Result<Vec<u8>, SealError>;
    fn open(&self, sealed: &[u8], binding: &[u8]) -> Result<Vec<u8>, SealError>;
    /// The id of the key values are sealed under now.
    fn current_key_id(&self) -> String;
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct SealError(pub String);

/// A store without keys: it can neither write nor read personal text (tools that touch only
/// the audit log or erase).
pub struct Unkeyed;

impl Sealing for Unkeyed {
    fn seal(&self, _: &[u8], _: &[u8]) -> Result<Vec<u8>, SealError> {
        Err(SealError("no field-encryption key is loaded".to_owned()))
    }
    fn open(&self, _: &[u8], _: &[u8]) -> Result<Vec<u8>, SealError> {
        Err(SealError("no field-encryption key is loaded".to_owned()))
    }
    fn current_key_id(&self) -> String {
        String::new()
    }
}

/// A sealed column: where it is, and what its values are bound to.
#[derive(Debug, Clone, Copy)]
pub struct SealedColumn {
    pub table: &'static str,
    pub column: &'static str,
    /// The row's key, for paging and for the guarded rewrite.
    pub key: &'static str,
    /// The columns, besides the table and column names, each value is bound to.
    pub bound_to: &'static [&'static str],
    /// Whether the column holds text (`<key id>.<base64>`) or bytes (the national register
    /// number).
    pub text: bool,
}

impl SealedColumn {
    /// The associated data of a value of this column in the row with `values` (in the order of
    /// `bound_to`).
    pub fn binding(&self, values: &[&str]) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(self.table.as_bytes());
        out.push(b'.');
        out.extend_from_slice(self.column.as_bytes());
        for value in values {
            out.push(0);
            out.extend_from_slice(value.as_bytes());
        }
        out
    }
}

pub const RECORD: SealedColumn =
    SealedColumn::text("client_records", "record", "client_id", &["client_id"]);
pub const REFERRAL_REASON: SealedColumn = SealedColumn::text(
    "referrals",
    "reason",
    "referral_id",
    &["referral_id", "client_id"],
);
pub const REFERRAL_EVIDENCE: SealedColumn = SealedColumn::text(
    "referrals",
    "evidence_reference",
    "referral_id",
    &["referral_id", "client_id"],
);
/// A message is bound to its referral, which is bound to the client.
pub const REFERRAL_MESSAGE: SealedColumn = SealedColumn::text(
    "referral_messages",
    "message",
    "message_id",
    &["message_id", "referral_id"],
);
pub const INFRACTION_DESCRIPTION: SealedColumn = SealedColumn::text(
    "infractions",
    "description",
    "infraction_id",
    &["infraction_id", "client_id"],
);
pub const DECISION_NOTE: SealedColumn = SealedColumn::text(
    "infractions",
    "decision_note",
    "infraction_id",
    &["infraction_id", "client_id"],
);
pub const CONSENT_EVIDENCE: SealedColumn = SealedColumn::text(
    "consents",
    "evidence_reference",
    "consent_id",
    &["consent_id", "client_id"],
);
/// A link's row id is made by the database; the dossier is bound to the client and the party,
/// of which a client has one active link at a time.
pub const DOSSIER: SealedColumn = SealedColumn::text(
    "client_links",
    "dossier_reference",
    "link_id",
    &["client_id", "party_id"],
);
/// The kept answer of a request with an `Idempotency-Key`, bound to its key's row: a kept
/// answer copied onto another key does not open.
pub const IDEMPOTENT_RESPONSE: SealedColumn = SealedColumn::text(
    "idempotency_keys",
    "response",
    "key_digest",
    &["key_digest"],
);
/// The national register number, bound to its client's id alone (as it was from the start).
pub const SSIN: SealedColumn =
    SealedColumn::bytes("clients", "ssin_ciphertext", "client_id", &["client_id"]);

/// Every sealed column, for the key census and the migration to the current key.
pub const SEALED_COLUMNS: [SealedColumn; 10] = [
    RECORD,
    REFERRAL_REASON,
    REFERRAL_EVIDENCE,
    REFERRAL_MESSAGE,
    INFRACTION_DESCRIPTION,
    DECISION_NOTE,
    CONSENT_EVIDENCE,
    DOSSIER,
    IDEMPOTENT_RESPONSE,
    SSIN,
];

impl SealedColumn {
    /// A text column: `<key id>.<base64>`, bound to table, column and `bound_to`.
    const fn text(
        table: &'static str,
        column: &'static str,
        key: &'static str,
        bound_to: &'static [&'static str],
    ) -> Self {
        Self {
            table,
            column,
            key,
            bound_to,
            text: true,
        }
    }

    /// The byte column of the national register number, bound to its row's first value alone.
    const fn bytes(
        table: &'static str,
        column: &'static str,
        key: &'static str,
        bound_to: &'static [&'static str],
    ) -> Self {
        Self {
            text: false,
            ..Self::text(table, column, key, bound_to)
        }
    }

    fn associated(&self, values: &[&str]) -> Vec<u8> {
        if !self.text {
            values.first().copied().unwrap_or("").as_bytes().to_vec()
        } else {
            self.binding(values)
        }
    }
}

/// Seals `text` for the text `column` in the row with `values`: `<key id>.<base64>`.
pub(crate) fn seal(
    sealing: &dyn Sealing,
    column: SealedColumn,
    values: &[&str],
    text: &str,
) -> Result<String, SealError> {
    let sealed = sealing.seal(text.as_bytes(), &column.associated(values))?;
    let malformed = || SealError("the cipher's output is malformed".to_owned());
    let (&len, rest) = sealed.split_first().ok_or_else(malformed)?;
    let (id, body) = rest.split_at_checked(len as usize).ok_or_else(malformed)?;
    let id = std::str::from_utf8(id).map_err(|_| malformed())?;
    Ok(format!("{id}.{}", STANDARD_NO_PAD.encode(body)))
}

/// Opens a value of the text `column` in the row with `values`: a sealed value under any key of
/// the ring, or a value stored in clear before encryption at rest.
pub(crate) fn open(
    sealing: &dyn Sealing,
    column: SealedColumn,
    values: &[&str],
    stored: &str,
) -> Result<String, SealError> {
    let malformed = || {
        SealError(format!(
            "{}.{}: a stored value is not sealed text",
            column.table, column.column
        ))
    };
    let (id, body) = stored.split_once('.').ok_or_else(malformed)?;
    if id.is_empty() {
        return Ok(body.to_owned());
    }
    let mut sealed = vec![u8::try_from(id.len()).map_err(|_| malformed())?];
    sealed.extend_from_slice(id.as_bytes());
    STANDARD_NO_PAD
        .decode_vec(body, &mut sealed)
        .map_err(|_| malformed())?;
    let bytes = sealing.open(&sealed, &column.associated(values))?;
    String::from_utf8(bytes).map_err(|_| malformed())
}

impl Db {
    pub(crate) fn open(
        &self,
        column: SealedColumn,
        values: &[&str],
        stored: &str,
    ) -> Result<String, StoreError> {
        open(&*self.sealing, column, values, stored).map_err(StoreError::from)
    }

    pub(crate) fn open_maybe(
        &self,
        column: SealedColumn,
        values: &[&str],
        stored: Option<&str>,
    ) -> Result<Option<String>, StoreError> {
        stored.map(|s| self.open(column, values, s)).transpose()
    }
}

/// How many values of each sealed column each key holds (`clear`: not sealed yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Census {
    pub table: &'static str,
    pub column: &'static str,
    pub key_id: String,
    pub values: i64,
}

/// What the census calls values stored in clear before encryption at rest.
pub const CLEAR_KEY: &str = "clear";

/// The first bytes of a value of `column` sealed under `key_id` (stored in clear, for
/// [`CLEAR_KEY`]).
fn prefix(column: SealedColumn, key_id: &str) -> Vec<u8> {
    match (column.text, key_id == CLEAR_KEY) {
        (true, true) => b".".to_vec(),
        (true, false) => format!("{key_id}.").into_bytes(),
        (false, _) => {
            let mut out = vec![key_id.len() as u8];
            out.extend_from_slice(key_id.as_bytes());
            out
        }
    }
}

/// Binds a prefix as the column's type: text to a text column, bytes to a byte column.
macro_rules! bind_prefix {
    ($query:expr, $column:expr, $prefix:expr) => {{
        let prefix: &[u8] = $prefix;
        if $column.text {
            $query.bind(String::from_utf8_lossy(prefix).into_owned())
        } else {
            $query.bind(prefix.to_vec())
        }
        .bind(prefix.len() as i64)
    }};
}

/// Counts the values of every sealed column per key of `key_ids` and in clear; values under
/// any other key are counted as `unknown key`. Keys are told apart by the prefix of the
/// value, in SQL, so that a census of a large table moves no ciphertext to the gateway.
pub async fn census(db: &Db, key_ids: &[String]) -> Result<Vec<Census>, StoreError> {
    let mut out = Vec::new();
    let mut key_ids = key_ids.to_vec();
    key_ids.push(CLEAR_KEY.to_owned());
    for column in SEALED_COLUMNS {
        let (table, name) = (column.table, column.column);
        let total_sql = format!("SELECT COUNT(*) FROM {table} WHERE {name} IS NOT NULL");
        let total: i64 = with_pool!(db, |pool| {
            sqlx::query_scalar(sqlx::AssertSqlSafe(total_sql))
                .fetch_one(pool)
                .await?
        });
        let mut counted = 0;
        for key_id in &key_ids {
            if !column.text && key_id == CLEAR_KEY {
                continue;
            }
            let sql = format!(
                "SELECT COUNT(*) FROM {table} WHERE substr({name}, 1, CAST($2 AS INTEGER)) = $1"
            );
            let values: i64 = with_pool!(db, |pool| {
                bind_prefix!(
                    sqlx::query_scalar(sqlx::AssertSqlSafe(sql)),
                    column,
                    &prefix(column, key_id)
                )
                .fetch_one(pool)
                .await?
            });
            counted += values;
            if values > 0 {
                out.push(Census {
                    table,
                    column: name,
                    key_id: key_id.clone(),
                    values,
                });
            }
        }
        if total > counted {
            out.push(Census {
                table,
                column: name,
                key_id: "unknown key".to_owned(),
                values: total - counted,
            });
        }
    }
    Ok(out)
}

/// A row whose value is not under the current key; `stored` is the value as text or bytes.
#[derive(sqlx::FromRow)]
struct Stale<T> {
    row_key: String,
    a: String,
    b: Option<String>,
    stored: T,
}

/// Seals again, under the current key, at most `limit` values of `column` that are under
/// another key or in clear, after row key `after`. Each rewrite is guarded by the value it
/// read, so a concurrent write wins. The last row key visited (for the next call), and how
/// many values were moved; `None` when the column is done.
pub async fn reseal_page(
    db: &Db,
    column: SealedColumn,
    after: &str,
    limit: i64,
) -> Result<Option<(String, u64)>, StoreError> {
    let current_id = db.sealing.current_key_id();
    let current = prefix(column, &current_id);
    let (table, name, key) = (column.table, column.column, column.key);
    let a = column.bound_to[0];
    let b = column.bound_to.get(1).copied().unwrap_or("NULL");
    let select = format!(
        "SELECT CAST({key} AS TEXT) AS row_key, {a} AS a, {b} AS b, {name} AS stored FROM {table} \
         WHERE {name} IS NOT NULL AND substr({name}, 1, CAST($2 AS INTEGER)) <> $1 \
           AND CAST({key} AS TEXT) > $3 \
         ORDER BY CAST({key} AS TEXT) LIMIT $4"
    );
    // The national register number's row also says which key sealed it.
    let also = if column.text {
        ""
    } else {
        ", encryption_key_id = $4"
    };
    let update = format!(
        "UPDATE {table} SET {name} = $1{also} WHERE CAST({key} AS TEXT) = $2 AND {name} = $3"
    );
    let mut moved = 0;
    let mut last = None;
    if column.text {
        let rows: Vec<Stale<String>> = with_pool!(db, |pool| {
            bind_prefix!(
                sqlx::query_as(sqlx::AssertSqlSafe(select)),
                column,
                &current
            )
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        for row in rows {
            let values = row.bound();
            let text = db.open(column, &values, &row.stored)?;
            let sealed = seal(&*db.sealing, column, &values, &text)?;
            moved += with_pool!(db, |pool| {
                sqlx::query(sqlx::AssertSqlSafe(update.clone()))
                    .bind(&sealed)
                    .bind(&row.row_key)
                    .bind(&row.stored)
                    .execute(pool)
                    .await?
                    .rows_affected()
            });
            last = Some(row.row_key);
        }
    } else {
        let rows: Vec<Stale<Vec<u8>>> = with_pool!(db, |pool| {
            bind_prefix!(
                sqlx::query_as(sqlx::AssertSqlSafe(select)),
                column,
                &current
            )
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        for row in rows {
            let binding = column.associated(&row.bound());
            let plain = zeroize::Zeroizing::new(db.sealing.open(&row.stored, &binding)?);
            let sealed = db.sealing.seal(&plain, &binding)?;
            moved += with_pool!(db, |pool| {
                sqlx::query(sqlx::AssertSqlSafe(update.clone()))
                    .bind(&sealed)
                    .bind(&row.row_key)
                    .bind(&row.stored)
                    .bind(&current_id)
                    .execute(pool)
                    .await?
                    .rows_affected()
            });
            last = Some(row.row_key);
        }
    }
    Ok(last.map(|last| (last, moved)))
}

impl<T> Stale<T> {
    fn bound(&self) -> Vec<&str> {
        let mut values = vec![self.a.as_str()];
        values.extend(self.b.as_deref());
        values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_binding_names_the_table_the_column_and_the_row() {
        assert_eq!(
            REFERRAL_REASON.binding(&["r1", "c1"]),
            b"referrals.reason\0r1\0c1".to_vec()
        );
        assert_ne!(
            REFERRAL_REASON.binding(&["r1", "c1"]),
            REFERRAL_EVIDENCE.binding(&["r1", "c1"])
        );
    }

    #[test]
    fn a_value_stored_in_clear_before_encryption_still_reads() {
        let stored = ".{\"a\":1}";
        assert_eq!(open(&Unkeyed, RECORD, &["c"], stored).unwrap(), "{\"a\":1}");
        assert_eq!(prefix(RECORD, CLEAR_KEY), b".");
        assert_eq!(prefix(RECORD, "e1"), b"e1.");
        assert_eq!(prefix(SSIN, "e1"), b"\x02e1");
    }

    #[test]
    fn without_keys_nothing_personal_is_written_or_read() {
        assert!(seal(&Unkeyed, RECORD, &["c"], "{}").is_err());
        assert!(
            open(
                &Unkeyed,
                RECORD,
                &["c"],
                "e1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
            )
            .is_err()
        );
        assert!(open(&Unkeyed, RECORD, &["c"], "no separator").is_err());
    }
}
