//! The register of gateway instances serving this database.

use super::{Db, StoreError};
use time::OffsetDateTime;
use uuid::Uuid;

pub async fn register(db: &Db, instance_id: Uuid, version: &str) -> Result<(), StoreError> {
    let now = OffsetDateTime::now_utc();
    match db.pool() {
        super::Pool::Sqlite(pool) => {
            sqlx::query("INSERT INTO gateway_instances (instance_id, version, started_at) VALUES ($1, $2, $3)")
                .bind(instance_id.to_string())
                .bind(version)
                .bind(now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default())
                .execute(pool)
                .await?;
        }
        super::Pool::Postgres(pool) => {
            sqlx::query("INSERT INTO gateway_instances (instance_id, version, started_at) VALUES ($1, $2, $3)")
                .bind(instance_id)
                .bind(version)
                .bind(now)
                .execute(pool)
                .await?;
        }
    }
    Ok(())
}
