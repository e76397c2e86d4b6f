//! What the serving role may do to the audit log's tables (PostgreSQL). Triggers keep the log
//! append-only against every role but one that owns the tables (it may disable them) or that
//! is granted UPDATE, DELETE, TRUNCATE or TRIGGER; `gateway serve` with
//! `database.require_least_privilege` refuses to start as such a role, naming what it holds.

use super::{Db, StoreError};

/// The tables of the audit log, its tree, its checkpoints, their witnesses, its head and its
/// reduced prefix.
pub const LOG_TABLES: [&str; 7] = [
    "audit_log",
    "audit_record_clients",
    "audit_nodes",
    "audit_checkpoints",
    "audit_cosignatures",
    "audit_head",
    "audit_reduced",
];

/// The table privileges that would let the serving role change or remove what the log holds.
/// The head alone is updated by every append (a trigger lets it only move forward).
fn forbidden(table: &str) -> &'static [&'static str] {
    if table == "audit_head" {
        &["DELETE", "TRUNCATE", "TRIGGER"]
    } else {
        &["UPDATE", "DELETE", "TRUNCATE", "TRIGGER"]
    }
}

/// Everything the connected role holds that it must not, in words; empty when it holds
/// nothing of the kind. SQLite has no roles: nothing to report.
pub async fn excess_privileges(db: &Db) -> Result<Vec<String>, StoreError> {
    let super::Pool::Postgres(pool) = db.pool() else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    let (role, superuser): (String, bool) = sqlx::query_as(
        "SELECT current_user::text, rolsuper FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(pool)
    .await?;
    if superuser {
        found.push(format!("the role {role} is a superuser"));
    }
    for table in LOG_TABLES {
        let owner: Option<(String, bool)> = sqlx::query_as(
            "SELECT pg_get_userbyid(relowner)::text, pg_has_role(current_user, relowner, 'MEMBER') \
             FROM pg_class WHERE oid = to_regclass($1)",
        )
        .bind(table)
        .fetch_optional(pool)
        .await?;
        let Some((owner, owns)) = owner else {
            found.push(format!(
                "{table} does not exist (run `gateway migrate` as the owner role)"
            ));
            continue;
        };
        if owns {
            found.push(format!("it owns {table} (owner {owner})"));
            continue;
        }
        for privilege in forbidden(table) {
            let held: bool = sqlx::query_scalar("SELECT has_table_privilege(to_regclass($1), $2)")
                .bind(table)
                .bind(*privilege)
                .fetch_one(pool)
                .await?;
            if held {
                found.push(format!("it holds {privilege} on {table}"));
            }
        }
    }
    Ok(found)
}
