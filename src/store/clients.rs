//! The reference directory: clients (by pseudonym) and the parties' links to them.

use super::mutations::{Applied, ChangeError, Registration};
use super::sealing::DOSSIER;
use super::{Conn, Db, StoreError};
use crate::domain::competence::{self, ClaimEffect, LinkRole};
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

/// A party's active link with a client: its legal basis and role.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ActiveLink {
    pub legal_basis: String,
    pub role: String,
}

impl ActiveLink {
    /// The role as the domain names it (a role the migration does not allow reads as involved).
    pub fn link_role(&self) -> LinkRole {
        LinkRole::parse(&self.role).unwrap_or(LinkRole::Involved)
    }
}

/// A client with `party`'s active link, if it has one.
#[derive(sqlx::FromRow)]
struct PresenceRow {
    client_id: String,
    legal_basis: Option<String>,
}

/// `$first, $first+1, …` for `count` values (at least one), for `IN (…)`.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count.max(1))
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The client of a person, by the pseudonym of their number under each key of the ring (the
/// current first): until a rotation's migration is done a client may still carry an older one.
pub async fn find_by_pseudonym(
    db: &Db,
    pseudonyms: &[[u8; 32]],
    party: &str,
) -> Result<Presence, StoreError> {
    let sql = format!(
        "SELECT c.client_id, l.legal_basis FROM clients c \
         LEFT JOIN client_links l ON l.client_id = c.client_id AND l.party_id = $1 AND l.ended_at IS NULL \
         WHERE c.ssin_pseudonym IN ({})",
        placeholders(2, pseudonyms.len())
    );
    let row: Option<PresenceRow> = with_pool!(db, |pool| {
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(party);
        for pseudonym in pseudonyms {
            query = query.bind(pseudonym.as_slice());
        }
        query.fetch_optional(pool).await?
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

/// `party`'s active link with `client_id`, if there is one.
pub async fn active_link(
    db: &Db,
    client_id: &str,
    party: &str,
) -> Result<Option<ActiveLink>, StoreError> {
    Ok(with_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT legal_basis, role FROM client_links WHERE client_id = $1 AND party_id = $2 AND ended_at IS NULL",
        )
        .bind(client_id)
        .bind(party)
        .fetch_optional(pool)
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

/// A link as one competence listing shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CompetenceRow {
    pub party_id: String,
    pub party_kind: Option<String>,
    pub role: String,
    pub claimed_at: Option<i64>,
}

/// The active links of `client_id` with their kinds, roles and pending claims.
pub async fn competence(db: &Db, client_id: &str) -> Result<Vec<CompetenceRow>, StoreError> {
    Ok(with_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT party_id, party_kind, role, claimed_at FROM client_links \
             WHERE client_id = $1 AND ended_at IS NULL ORDER BY party_kind, role, claimed_at, party_id",
        )
        .bind(client_id)
        .fetch_all(pool)
        .await?
    }))
}

/// Whether `party` is, or once was, the competent party of its kind for `client_id`.
pub async fn ever_competent(db: &Db, client_id: &str, party: &str) -> Result<bool, StoreError> {
    let found: Option<i32> = with_pool!(db, |pool| {
        sqlx::query_scalar(
            "SELECT 1 FROM client_links WHERE client_id = $1 AND party_id = $2 AND role = 'competent' LIMIT 1",
        )
        .bind(client_id)
        .bind(party)
        .fetch_optional(pool)
        .await?
    });
    Ok(found.is_some())
}

/// Fills in the kind of links made before competence was recorded (migration 0009), one party
/// at a time in configuration order: a link of a kind that already has a competent party for
/// the client becomes involved, so that at most one party per kind is competent.
pub async fn fill_in_kinds(db: &Db, parties: &[(String, String)]) -> Result<(), StoreError> {
    for (party, kind) in parties {
        with_pool!(db, |pool| {
            sqlx::query(
                "UPDATE client_links SET party_kind = $2, role = CASE WHEN ended_at IS NULL AND EXISTS \
                   (SELECT 1 FROM client_links o WHERE o.client_id = client_links.client_id \
                    AND o.party_kind = $2 AND o.role = 'competent' AND o.ended_at IS NULL) \
                 THEN 'involved' ELSE role END \
                 WHERE party_id = $1 AND party_kind IS NULL",
            )
            .bind(party)
            .bind(kind)
            .execute(pool)
            .await?
            .rows_affected()
        });
    }
    Ok(())
}

/// Whether a party other than `party` is competent for `client_id` in `kind`.
async fn competent_other(
    conn: &mut Conn<'_>,
    client_id: &str,
    kind: &str,
    party: &str,
) -> Result<bool, sqlx::Error> {
    let found: Option<i32> = with_conn!(conn, |c| {
        sqlx::query_scalar(
            "SELECT 1 FROM client_links WHERE client_id = $1 AND party_kind = $2 AND party_id <> $3 \
             AND role = 'competent' AND ended_at IS NULL",
        )
        .bind(client_id)
        .bind(kind)
        .bind(party)
        .fetch_optional(&mut *c)
        .await?
    });
    Ok(found.is_some())
}

/// The role of `party`'s active link with `client_id`, read inside a change's transaction.
pub(super) async fn role_in(
    conn: &mut Conn<'_>,
    client_id: &str,
    party: &str,
) -> Result<Option<LinkRole>, sqlx::Error> {
    let role: Option<String> = with_conn!(conn, |c| {
        sqlx::query_scalar(
            "SELECT role FROM client_links WHERE client_id = $1 AND party_id = $2 AND ended_at IS NULL",
        )
        .bind(client_id)
        .bind(party)
        .fetch_optional(&mut *c)
        .await?
    });
    Ok(role.map(|r| LinkRole::parse(&r).unwrap_or(LinkRole::Involved)))
}

/// Links the registering party to the client of its pseudonym, creating the client if it is
/// new (its ciphertext is bound to the new id). A party's active link is kept as it is; a new
/// one asking for competence another party of its kind holds is refused.
pub(super) async fn register(
    conn: &mut Conn<'_>,
    r: &Registration,
    now: i64,
) -> Result<Applied, ChangeError> {
    if let Some(client_id) = client_of(conn, &r.pseudonyms).await? {
        return link_registered(conn, r, client_id, now).await;
    }
    let pseudonym = r.pseudonyms.first().map_or(&[][..], |p| p.as_slice());
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
    link_registered(conn, r, client_id, now).await
}

/// The client with any of `pseudonyms`, inside the change's transaction.
async fn client_of(
    conn: &mut Conn<'_>,
    pseudonyms: &[[u8; 32]],
) -> Result<Option<String>, sqlx::Error> {
    let sql = format!(
        "SELECT client_id FROM clients WHERE ssin_pseudonym IN ({})",
        placeholders(1, pseudonyms.len())
    );
    Ok(with_conn!(conn, |c| {
        let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
        for pseudonym in pseudonyms {
            query = query.bind(pseudonym.as_slice());
        }
        query.fetch_optional(&mut *c).await?
    }))
}

/// Links the registering party to the client found or made for the registration.
async fn link_registered(
    conn: &mut Conn<'_>,
    r: &Registration,
    client_id: String,
    now: i64,
) -> Result<Applied, ChangeError> {
    if let Some(role) = role_in(conn, &client_id, &r.party).await? {
        return Ok(Applied::Registered {
            client_id,
            new_link: false,
            role,
        });
    }
    let taken = competent_other(conn, &client_id, &r.party_kind, &r.party).await?;
    let role = match r.role {
        None => competence::automatic_role(taken),
        Some(asked) if asked == LinkRole::Competent && taken => {
            return Ok(Applied::CompetenceTaken { client_id });
        }
        Some(asked) => asked,
    };
    let link = NewLink {
        client_id: &client_id,
        party: &r.party,
        party_kind: &r.party_kind,
        role,
        legal_basis: &r.legal_basis,
        dossier_reference: &r.dossier_reference,
    };
    let new_link = insert_link(conn, &link, now).await?;
    Ok(Applied::Registered {
        client_id,
        new_link,
        role,
    })
}

/// A link to make.
pub(super) struct NewLink<'a> {
    pub client_id: &'a str,
    pub party: &'a str,
    pub party_kind: &'a str,
    pub role: LinkRole,
    pub legal_basis: &'a str,
    pub dossier_reference: &'a str,
}

/// Links `party` to `client_id` unless it has an active link (at most one per party and
/// client), competent when no party of its kind is, involved otherwise. Whether a link was
/// made.
pub(super) async fn link(
    conn: &mut Conn<'_>,
    mut link: NewLink<'_>,
    now: i64,
) -> Result<bool, ChangeError> {
    let taken = competent_other(conn, link.client_id, link.party_kind, link.party).await?;
    link.role = competence::automatic_role(taken);
    insert_link(conn, &link, now).await
}

async fn insert_link(conn: &mut Conn<'_>, l: &NewLink<'_>, now: i64) -> Result<bool, ChangeError> {
    let dossier = conn.seal(DOSSIER, &[l.client_id, l.party], l.dossier_reference)?;
    let inserted = conn
        .execute(
            "INSERT INTO client_links (client_id, party_id, party_kind, role, legal_basis, dossier_reference, linked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (client_id, party_id) WHERE ended_at IS NULL DO NOTHING",
            &[
                l.client_id.into(),
                l.party.into(),
                l.party_kind.into(),
                l.role.as_str().into(),
                l.legal_basis.into(),
                (&dossier).into(),
                now.into(),
            ],
        )
        .await?;
    Ok(inserted == 1)
}

/// An involved party claims competence for its kind: at once when no party of the kind is
/// competent, otherwise pending (`claimed_at`) until the competent party's link ends or it
/// hands over.
pub(super) async fn claim(
    conn: &mut Conn<'_>,
    client_id: &str,
    party: &str,
    kind: &str,
    now: i64,
) -> Result<Applied, sqlx::Error> {
    let Some(role) = role_in(conn, client_id, party).await? else {
        return Ok(Applied::NotLinked);
    };
    let taken = competent_other(conn, client_id, kind, party).await?;
    let effect = competence::claim(role, taken);
    match effect {
        ClaimEffect::AlreadyCompetent => {}
        ClaimEffect::Effective => {
            conn.execute(
                "UPDATE client_links SET role = 'competent', claimed_at = NULL \
                 WHERE client_id = $1 AND party_id = $2 AND ended_at IS NULL",
                &[client_id.into(), party.into()],
            )
            .await?;
        }
        ClaimEffect::Pending => {
            conn.execute(
                "UPDATE client_links SET claimed_at = $1 \
                 WHERE client_id = $2 AND party_id = $3 AND ended_at IS NULL AND claimed_at IS NULL",
                &[now.into(), client_id.into(), party.into()],
            )
            .await?;
        }
    }
    Ok(Applied::CompetenceClaimed(effect))
}

/// The competent party `from` hands competence for its kind to `to`, which must have claimed
/// it: `from` stays linked as involved.
pub(super) async fn hand_over(
    conn: &mut Conn<'_>,
    client_id: &str,
    (from, to): (&str, &str),
    kind: &str,
) -> Result<Applied, sqlx::Error> {
    if role_in(conn, client_id, from).await? != Some(LinkRole::Competent) {
        return Ok(Applied::NotCompetent);
    }
    if claimant(conn, client_id, kind, Some(to)).await?.is_none() {
        return Ok(Applied::NoClaim);
    }
    conn.execute(
        "UPDATE client_links SET role = 'involved', claimed_at = NULL \
         WHERE client_id = $1 AND party_id = $2 AND ended_at IS NULL",
        &[client_id.into(), from.into()],
    )
    .await?;
    promote_claim(conn, client_id, kind, Some(to)).await?;
    Ok(Applied::CompetenceHandedOver)
}

/// The party with a pending claim of `kind` (`to`, or the earliest claim).
async fn claimant(
    conn: &mut Conn<'_>,
    client_id: &str,
    kind: &str,
    to: Option<&str>,
) -> Result<Option<String>, sqlx::Error> {
    Ok(with_conn!(conn, |c| {
        sqlx::query_scalar(
            "SELECT party_id FROM client_links WHERE client_id = $1 AND party_kind = $2 \
             AND ended_at IS NULL AND claimed_at IS NOT NULL AND ($3 IS NULL OR party_id = $3) \
             ORDER BY claimed_at, party_id LIMIT 1",
        )
        .bind(client_id)
        .bind(kind)
        .bind(to)
        .fetch_optional(&mut *c)
        .await?
    }))
}

/// Makes the claimant (`to`, or the earliest claim) of `kind` competent. Whether one was.
async fn promote_claim(
    conn: &mut Conn<'_>,
    client_id: &str,
    kind: &str,
    to: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let claimant = claimant(conn, client_id, kind, to).await?;
    let Some(claimant) = claimant else {
        return Ok(false);
    };
    conn.execute(
        "UPDATE client_links SET role = 'competent', claimed_at = NULL \
         WHERE client_id = $1 AND party_id = $2 AND ended_at IS NULL",
        &[client_id.into(), (&claimant).into()],
    )
    .await?;
    Ok(true)
}

/// Ends `party`'s active link with `client_id`.
pub(super) async fn end_link(
    conn: &mut Conn<'_>,
    client_id: &str,
    party: &str,
    now: i64,
) -> Result<Applied, sqlx::Error> {
    let ended: Option<(String, Option<String>)> = with_conn!(conn, |c| {
        sqlx::query_as(
            "SELECT role, party_kind FROM client_links WHERE client_id = $1 AND party_id = $2 AND ended_at IS NULL",
        )
        .bind(client_id)
        .bind(party)
        .fetch_optional(&mut *c)
        .await?
    });
    let Some((role, kind)) = ended else {
        return Ok(Applied::NotLinked);
    };
    conn.execute(
        "UPDATE client_links SET ended_at = $1 WHERE client_id = $2 AND party_id = $3 AND ended_at IS NULL",
        &[now.into(), client_id.into(), party.into()],
    )
    .await?;
    // The competent party leaving makes the earliest pending claim of its kind effective.
    if let (Some(LinkRole::Competent), Some(kind)) = (LinkRole::parse(&role), kind) {
        promote_claim(conn, client_id, &kind, None).await?;
    }
    Ok(Applied::LinkEnded)
}

/// A client whose pseudonym an older key made, with its sealed number.
#[derive(Debug, sqlx::FromRow)]
pub struct StalePseudonym {
    pub client_id: String,
    pub pseudonym_key_id: String,
    pub ssin_ciphertext: Vec<u8>,
}

/// At most `limit` clients after `after` (by id) whose pseudonym is not under `current`.
pub async fn stale_pseudonyms(
    db: &Db,
    current: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<StalePseudonym>, StoreError> {
    Ok(with_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT client_id, pseudonym_key_id, ssin_ciphertext FROM clients \
             WHERE pseudonym_key_id <> $1 AND client_id > $2 ORDER BY client_id LIMIT $3",
        )
        .bind(current)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?
    }))
}

/// Replaces a client's pseudonym with the one under key `key_id`, only if it is still under
/// `old_key_id` (a concurrent migration did it already otherwise). Whether it was replaced.
pub async fn replace_pseudonym(
    db: &Db,
    client_id: &str,
    old_key_id: &str,
    (pseudonym, key_id): (&[u8; 32], &str),
) -> Result<bool, StoreError> {
    let changed = with_pool!(db, |pool| {
        sqlx::query(
            "UPDATE clients SET ssin_pseudonym = $1, pseudonym_key_id = $2 \
             WHERE client_id = $3 AND pseudonym_key_id = $4",
        )
        .bind(pseudonym.as_slice())
        .bind(key_id)
        .bind(client_id)
        .bind(old_key_id)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(changed == 1)
}

/// How many clients' pseudonyms each key made.
pub async fn pseudonym_census(db: &Db) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(with_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT pseudonym_key_id, COUNT(*) FROM clients GROUP BY pseudonym_key_id \
             ORDER BY pseudonym_key_id",
        )
        .fetch_all(pool)
        .await?
    }))
}
