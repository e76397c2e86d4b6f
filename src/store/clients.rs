//! The reference directory: clients (by pseudonym) and the parties' links to them.

use super::{Db, StoreError};
use crate::with_pool;

/// A client as a party may see it: only when linked, and then with the link's legal basis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    Unknown,
    NotLinked {
        client_id: String,
    },
    Linked {
        client_id: String,
        legal_basis: String,
    },
}

pub async fn find_by_pseudonym(
    db: &Db,
    pseudonym: &[u8; 32],
    party: &str,
) -> Result<Presence, StoreError> {
    let row: Option<(String, Option<String>)> = with_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT c.client_id, l.legal_basis FROM clients c \
             LEFT JOIN client_links l ON l.client_id = c.client_id AND l.party_id = $2 AND l.ended_at IS NULL \
             WHERE c.ssin_pseudonym = $1",
        )
        .bind(pseudonym.as_slice())
        .bind(party)
        .fetch_optional(pool)
        .await?
    });
    Ok(match row {
        None => Presence::Unknown,
        Some((client_id, None)) => Presence::NotLinked { client_id },
        Some((client_id, Some(legal_basis))) => Presence::Linked {
            client_id,
            legal_basis,
        },
    })
}

/// The legal basis of `party`'s active link with `client_id`, if there is one.
pub async fn active_link(
    db: &Db,
    client_id: &str,
    party: &str,
) -> Result<Option<String>, StoreError> {
    Ok(with_pool!(db, |pool| {
        sqlx::query_scalar(
            "SELECT legal_basis FROM client_links WHERE client_id = $1 AND party_id = $2 AND ended_at IS NULL",
        )
        .bind(client_id)
        .bind(party)
        .fetch_optional(pool)
        .await?
    }))
}

/// The parties linked to `client_id` now.
pub async fn linked_parties(db: &Db, client_id: &str) -> Result<Vec<String>, StoreError> {
    Ok(with_pool!(db, |pool| {
        sqlx::query_scalar(
            "SELECT party_id FROM client_links WHERE client_id = $1 AND ended_at IS NULL ORDER BY party_id",
        )
        .bind(client_id)
        .fetch_all(pool)
        .await?
    }))
}

/// When `party`'s link with `client_id` last ended, if it ended and no link is active now.
pub async fn ended_link(db: &Db, client_id: &str, party: &str) -> Result<Option<i64>, StoreError> {
    let ended: Option<Option<i64>> = with_pool!(db, |pool| {
        sqlx::query_scalar(
            "SELECT MAX(ended_at) FROM client_links WHERE client_id = $1 AND party_id = $2 \
             AND NOT EXISTS (SELECT 1 FROM client_links a WHERE a.client_id = $1 AND a.party_id = $2 AND a.ended_at IS NULL)",
        )
        .bind(client_id)
        .bind(party)
        .fetch_optional(pool)
        .await?
    });
    Ok(ended.flatten())
}
