//! The reference directory: clients (by pseudonym) and the parties' links to them.

use super::mutations::{Applied, Registration};
use super::{Conn, Db, StoreError};
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

/// A client with `party`'s active link, if it has one.
#[derive(sqlx::FromRow)]
struct PresenceRow {
    client_id: String,
    legal_basis: Option<String>,
}

pub async fn find_by_pseudonym(
    db: &Db,
    pseudonym: &[u8; 32],
    party: &str,
) -> Result<Presence, StoreError> {
    let row: Option<PresenceRow> = with_pool!(db, |pool| {
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
        Some(PresenceRow {
            client_id,
            legal_basis: None,
        }) => Presence::NotLinked { client_id },
        Some(PresenceRow {
            client_id,
            legal_basis: Some(legal_basis),
        }) => Presence::Linked {
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

/// Links the registering party to the client of its pseudonym, creating the client if it is
/// new (its ciphertext is bound to the new id). The client's id, and whether the link is new:
/// a party's active link is kept as it is.
pub(super) async fn register(
    conn: &mut Conn<'_>,
    r: &Registration,
    now: i64,
) -> Result<(String, bool), sqlx::Error> {
    let pseudonym = r.pseudonym.as_slice();
    conn.execute(
        "INSERT INTO clients (client_id, ssin_pseudonym, pseudonym_key_id, ssin_ciphertext, encryption_key_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (ssin_pseudonym) DO NOTHING",
        &[
            (&r.new_client_id).into(),
            pseudonym.into(),
            (&r.pseudonym_key_id).into(),
            (&r.ciphertext).into(),
            (&r.encryption_key_id).into(),
            now.into(),
        ],
    )
    .await?;
    let client_id: String = with_conn!(conn, |c| {
        sqlx::query_scalar("SELECT client_id FROM clients WHERE ssin_pseudonym = $1")
            .bind(pseudonym)
            .fetch_one(&mut *c)
            .await?
    });
    let new_link = link(
        conn,
        &client_id,
        &r.party,
        &r.legal_basis,
        &r.dossier_reference,
        now,
    )
    .await?;
    Ok((client_id, new_link))
}

/// Links `party` to `client_id` unless it has an active link (at most one per party and
/// client). Whether a link was made.
pub(super) async fn link(
    conn: &mut Conn<'_>,
    client_id: &str,
    party: &str,
    legal_basis: &str,
    dossier_reference: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let inserted = conn
        .execute(
            "INSERT INTO client_links (client_id, party_id, legal_basis, dossier_reference, linked_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (client_id, party_id) WHERE ended_at IS NULL DO NOTHING",
            &[
                client_id.into(),
                party.into(),
                legal_basis.into(),
                dossier_reference.into(),
                now.into(),
            ],
        )
        .await?;
    Ok(inserted == 1)
}

/// Ends `party`'s active link with `client_id`.
pub(super) async fn end_link(
    conn: &mut Conn<'_>,
    client_id: &str,
    party: &str,
    now: i64,
) -> Result<Applied, sqlx::Error> {
    let ended = conn
        .execute(
            "UPDATE client_links SET ended_at = $1 WHERE client_id = $2 AND party_id = $3 AND ended_at IS NULL",
            &[now.into(), client_id.into(), party.into()],
        )
        .await?;
    Ok(if ended == 0 {
        Applied::NotLinked
    } else {
        Applied::LinkEnded
    })
}
