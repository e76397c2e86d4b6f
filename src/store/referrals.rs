//! Stored referrals and their messages.

use super::mutations::{Applied, ChangeError, MessageRow, ReferralRow};
use super::sealing::{REFERRAL_EVIDENCE, REFERRAL_MESSAGE, REFERRAL_REASON};
use super::{Conn, Db, StoreError, clients};
use crate::domain::competence::LinkRole;
use crate::domain::link::LegalBasis;
use crate::with_pool;

/// A referral of the client to the integration agency stands: made, and neither refused nor
/// withdrawn (SWO art. 4: then no further referral is required). The table is named
/// `referrals`, unaliased, in every query that uses this.
pub(super) const AGENCY_REFERRAL_STANDS: &str = "referrals.direction = 'ocmwToAgency' \
    AND referrals.status IN ('proposed', 'accepted', 'completed')";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReferral {
    pub referral_id: String,
    pub client_id: String,
    pub from_party: String,
    pub to_party: String,
    pub direction: String,
    pub status: String,
    pub reason: String,
    pub evidence_reference: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A referral's row, its free text sealed.
#[derive(sqlx::FromRow)]
struct Row {
    referral_id: String,
    client_id: String,
    from_party: String,
    to_party: String,
    direction: String,
    status: String,
    reason: String,
    evidence_reference: Option<String>,
    created_by: String,
    created_at: i64,
    updated_at: i64,
}

impl Row {
    fn open(self, db: &Db) -> Result<StoredReferral, StoreError> {
        let bound = [self.referral_id.as_str(), self.client_id.as_str()];
        Ok(StoredReferral {
            reason: db.open(REFERRAL_REASON, &bound, &self.reason)?,
            evidence_reference: db.open_maybe(
                REFERRAL_EVIDENCE,
                &bound,
                self.evidence_reference.as_deref(),
            )?,
            referral_id: self.referral_id,
            client_id: self.client_id,
            from_party: self.from_party,
            to_party: self.to_party,
            direction: self.direction,
            status: self.status,
            created_by: self.created_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub kind: String,
    pub party: String,
    pub user: String,
    pub message: String,
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
struct MessageRowStored {
    message_id: String,
    kind: String,
    party: String,
    user_id: String,
    message: String,
    created_at: i64,
}

const COLUMNS: &str = "referral_id, client_id, from_party, to_party, direction, status, reason, evidence_reference, \
    created_by, created_at, updated_at";

/// The referral is still `party`'s (bound at `param`): it has not ended its link to the
/// client since the referral was made without being linked again. After unlinking, a party no
/// longer sees the client's referrals (product brief §2).
fn not_left(param: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM client_links l WHERE l.client_id = referrals.client_id \
           AND l.party_id = {param} AND l.ended_at >= referrals.created_at) \
         OR EXISTS (SELECT 1 FROM client_links a WHERE a.client_id = referrals.client_id \
           AND a.party_id = {param} AND a.ended_at IS NULL)"
    )
}

/// A referral, only if `party` sent or received it.
pub async fn find(
    db: &Db,
    referral_id: &str,
    party: &str,
) -> Result<Option<StoredReferral>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM referrals WHERE referral_id = $1 AND (from_party = $2 OR to_party = $2) \
         AND ({})",
        not_left("$2")
    );
    let row: Option<Row> = with_pool!(db, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(referral_id)
            .bind(party)
            .fetch_optional(pool)
            .await?
    });
    row.map(|r| r.open(db)).transpose()
}

/// The referrals `party` sent (`outgoing`) or received, newest first, optionally of one status,
/// at most `limit`, those strictly after `after` (time in microseconds, referral id) when given.
pub async fn list(
    db: &Db,
    party: &str,
    (outgoing, status): (bool, Option<&str>),
    after: Option<(i64, &str)>,
    limit: i64,
) -> Result<Vec<StoredReferral>, StoreError> {
    let side = if outgoing { "from_party" } else { "to_party" };
    let sql = format!(
        "SELECT {COLUMNS} FROM referrals WHERE {side} = $1 AND ($2 = '' OR status = $2) AND ({}) \
           AND (created_at < $4 OR (created_at = $4 AND referral_id < $5)) \
         ORDER BY created_at DESC, referral_id DESC LIMIT $3",
        not_left("$1")
    );
    // Without a cursor: everything is before the end of time.
    let (at, id) = after.unwrap_or((i64::MAX, ""));
    let rows: Vec<Row> = with_pool!(db, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(party)
            .bind(status.unwrap_or(""))
            .bind(limit)
            .bind(at)
            .bind(id)
            .fetch_all(pool)
            .await?
    });
    rows.into_iter().map(|r| r.open(db)).collect()
}

pub async fn messages(db: &Db, referral_id: &str) -> Result<Vec<StoredMessage>, StoreError> {
    let rows: Vec<MessageRowStored> = with_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT message_id, kind, party, user_id, message, created_at FROM referral_messages \
             WHERE referral_id = $1 ORDER BY created_at, message_id",
        )
        .bind(referral_id)
        .fetch_all(pool)
        .await?
    });
    rows.into_iter()
        .map(|m| {
            Ok(StoredMessage {
                message: db.open(REFERRAL_MESSAGE, &[&m.message_id, referral_id], &m.message)?,
                kind: m.kind,
                party: m.party,
                user: m.user_id,
                created_at: m.created_at,
            })
        })
        .collect()
}

/// Whether a referral of this client to an integration agency stands (SWO art. 4).
pub async fn agency_referral_made(db: &Db, client_id: &str) -> Result<bool, StoreError> {
    let sql =
        format!("SELECT COUNT(*) FROM referrals WHERE client_id = $1 AND {AGENCY_REFERRAL_STANDS}");
    let count: i64 = with_pool!(db, |pool| {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(client_id)
            .fetch_one(pool)
            .await?
    });
    Ok(count > 0)
}

/// Proposes a referral.
pub(super) async fn create(
    conn: &mut Conn<'_>,
    r: &ReferralRow,
    now: i64,
) -> Result<Applied, ChangeError> {
    let bound = [r.referral_id.as_str(), r.client_id.as_str()];
    let reason = conn.seal(REFERRAL_REASON, &bound, &r.reason)?;
    let evidence = conn.seal_maybe(REFERRAL_EVIDENCE, &bound, r.evidence_reference.as_deref())?;
    conn
        .execute(
            "INSERT INTO referrals (referral_id, client_id, from_party, to_party, direction, status, reason, \
             evidence_reference, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 'proposed', $6, $7, $8, $9, $9)",
            &[
                (&r.referral_id).into(),
                (&r.client_id).into(),
                (&r.from_party).into(),
                (&r.to_party).into(),
                (&r.direction).into(),
                (&reason).into(),
                (&evidence).into(),
                (&r.created_by).into(),
                now.into(),
            ],
        )
        .await?;
    Ok(Applied::ReferralCreated)
}

/// Moves a referral on, only from the status it was read in. On acceptance the receiver is
/// linked to the client (for its public task, the referral as its dossier); a message may go
/// with the move.
pub(super) async fn transition(
    conn: &mut Conn<'_>,
    referral_id: &str,
    from_status: &str,
    to_status: &str,
    link_receiver: Option<&(String, String, String)>,
    message: Option<&MessageRow>,
    now: i64,
) -> Result<Applied, ChangeError> {
    let moved = conn
        .execute(
            "UPDATE referrals SET status = $1, updated_at = $2 WHERE referral_id = $3 AND status = $4",
            &[to_status.into(), now.into(), referral_id.into(), from_status.into()],
        )
        .await?;
    if moved == 0 {
        return Ok(Applied::ReferralStale);
    }
    if let Some((client_id, party, party_kind)) = link_receiver {
        let dossier = format!("referral:{referral_id}");
        let link = clients::NewLink {
            client_id,
            party,
            party_kind,
            role: LinkRole::Competent,
            legal_basis: LegalBasis::PublicTask.as_str(),
            dossier_reference: &dossier,
        };
        clients::link(conn, link, now).await?;
    }
    if let Some(message) = message {
        add_message(conn, message, now).await?;
    }
    Ok(Applied::ReferralMoved)
}

/// A message on a referral (feedback, SWO art. 4 "terugkoppeling").
pub(super) async fn add_message(
    conn: &mut Conn<'_>,
    m: &MessageRow,
    now: i64,
) -> Result<Applied, ChangeError> {
    let message_id = uuid::Uuid::now_v7().to_string();
    let sealed = conn.seal(REFERRAL_MESSAGE, &[&message_id, &m.referral_id], &m.message)?;
    conn.execute(
        "INSERT INTO referral_messages (message_id, referral_id, kind, party, user_id, message, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            (&message_id).into(),
            (&m.referral_id).into(),
            (&m.kind).into(),
            (&m.party).into(),
            (&m.user).into(),
            (&sealed).into(),
            now.into(),
        ],
    )
    .await?;
    Ok(Applied::MessageAdded)
}
