//! The stored joint-client records: one JSON document of the owned fields and its version.

use super::{Db, StoreError};
use crate::with_pool;

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
