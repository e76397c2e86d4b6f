//! Stored infractions (SWO art. 12) and the decisions on them.

use super::mutations::{Applied, ChangeError, DecisionRow, InfractionRow};
use super::sealing::{DECISION_NOTE, INFRACTION_DESCRIPTION};
use super::{Conn, Db, StoreError};
use crate::with_pool;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredInfraction {
    pub infraction_id: String,
    pub client_id: String,
    pub kind: String,
    pub occurred_on: String,
    pub description: String,
    pub routed_to: String,
    /// The competent party of the routed kind when it was recorded: the one that decides.
    pub routed_party: Option<String>,
    pub recorded_by_party: String,
    pub recorded_by_user: String,
    pub recorded_at: i64,
    pub decision: Option<StoredDecision>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDecision {
    pub decision: String,
    pub decided_on: String,
    pub note: String,
    pub party: String,
    pub user: String,
    pub decided_at: i64,
}

const COLUMNS: &str = "infraction_id, client_id, kind, occurred_on, description, routed_to, routed_party, \
    recorded_by_party, recorded_by_user, recorded_at, \
    decision, decided_on, decision_note, decided_by_party, decided_by_user, decided_at";

/// An infraction as stored: the decision's columns are empty until it is decided.
#[derive(sqlx::FromRow)]
struct Row {
    infraction_id: String,
    client_id: String,
    kind: String,
    occurred_on: String,
    description: String,
    routed_to: String,
    routed_party: Option<String>,
    recorded_by_party: String,
    recorded_by_user: String,
    recorded_at: i64,
    decision: Option<String>,
    decided_on: Option<String>,
    decision_note: Option<String>,
    decided_by_party: Option<String>,
    decided_by_user: Option<String>,
    decided_at: Option<i64>,
}

impl Row {
    fn open(self, db: &Db) -> Result<StoredInfraction, StoreError> {
        let r = self;
        let bound = [r.infraction_id.as_str(), r.client_id.as_str()];
        let description = db.open(INFRACTION_DESCRIPTION, &bound, &r.description)?;
        let note = db.open_maybe(DECISION_NOTE, &bound, r.decision_note.as_deref())?;
        let decision = match (
            r.decision,
            r.decided_on,
            note,
            r.decided_by_party,
            r.decided_by_user,
            r.decided_at,
        ) {
            (Some(decision), Some(decided_on), note, Some(party), Some(user), Some(decided_at)) => {
                Some(StoredDecision {
                    decision,
                    decided_on,
                    note: note.unwrap_or_default(),
                    party,
                    user,
                    decided_at,
                })
            }
            _ => None,
        };
        Ok(StoredInfraction {
            infraction_id: r.infraction_id,
            client_id: r.client_id,
            kind: r.kind,
            occurred_on: r.occurred_on,
            description,
            routed_to: r.routed_to,
            routed_party: r.routed_party,
            recorded_by_party: r.recorded_by_party,
            recorded_by_user: r.recorded_by_user,
            recorded_at: r.recorded_at,
            decision,
        })
    }
}

/// One infraction of one client.
pub async fn find(
    db: &Db,
    client_id: &str,
    infraction_id: &str,
) -> Result<Option<StoredInfraction>, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM infractions WHERE client_id = $1 AND infraction_id = $2");
    let row: Option<Row> = with_pool!(db, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(client_id)
            .bind(infraction_id)
            .fetch_optional(pool)
            .await?
    });
    row.map(|r| r.open(db)).transpose()
}

/// A client's infractions routed to one of `routed_to` that `party` recorded or was routed
/// to, newest first, at most `limit`, those strictly after `after` (time in microseconds,
/// infraction id) when given.
pub async fn list(
    db: &Db,
    client_id: &str,
    (routed_to, party): (&[&str], &str),
    after: Option<(i64, &str)>,
    limit: i64,
) -> Result<Vec<StoredInfraction>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM infractions WHERE client_id = $1 AND (routed_to = $2 OR routed_to = $3) \
         AND (recorded_by_party = $5 OR routed_party = $5) \
         AND (recorded_at < $6 OR (recorded_at = $6 AND infraction_id < $7)) \
         ORDER BY recorded_at DESC, infraction_id DESC LIMIT $4"
    );
    // Without a cursor: everything is before the end of time.
    let (at, id) = after.unwrap_or((i64::MAX, ""));
    let first = routed_to.first().copied().unwrap_or("");
    let second = routed_to.get(1).copied().unwrap_or(first);
    let rows: Vec<Row> = with_pool!(db, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(client_id)
            .bind(first)
            .bind(second)
            .bind(limit)
            .bind(party)
            .bind(at)
            .bind(id)
            .fetch_all(pool)
            .await?
    });
    rows.into_iter().map(|r| r.open(db)).collect()
}

/// Records an infraction, routed as the domain decided.
pub(super) async fn record(
    conn: &mut Conn<'_>,
    i: &InfractionRow,
    now: i64,
) -> Result<Applied, ChangeError> {
    let bound = [i.infraction_id.as_str(), i.client_id.as_str()];
    let description = conn.seal(INFRACTION_DESCRIPTION, &bound, &i.description)?;
    conn
        .execute(
            "INSERT INTO infractions (infraction_id, client_id, kind, occurred_on, description, routed_to, \
             recorded_by_party, recorded_by_user, recorded_at, routed_party) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                (&i.infraction_id).into(),
                (&i.client_id).into(),
                (&i.kind).into(),
                (&i.occurred_on).into(),
                (&description).into(),
                (&i.routed_to).into(),
                (&i.party).into(),
                (&i.user).into(),
                now.into(),
                (&i.routed_party).into(),
            ],
        )
        .await?;
    Ok(Applied::InfractionRecorded)
}

/// Records the decision on an infraction, only if none is recorded yet: it is decided once.
pub(super) async fn decide(
    conn: &mut Conn<'_>,
    d: &DecisionRow,
    now: i64,
) -> Result<Applied, ChangeError> {
    let note = conn.seal(DECISION_NOTE, &[&d.infraction_id, &d.client_id], &d.note)?;
    // The client is in the guard as well: a note sealed for another client's row is never
    // written to this one.
    let decided = conn
        .execute(
            "UPDATE infractions SET decision = $1, decided_on = $2, decision_note = $3, decided_by_party = $4, \
             decided_by_user = $5, decided_at = $6 WHERE infraction_id = $7 AND client_id = $8 AND decision IS NULL",
            &[
                (&d.decision).into(),
                (&d.decided_on).into(),
                (&note).into(),
                (&d.party).into(),
                (&d.user).into(),
                now.into(),
                (&d.infraction_id).into(),
                (&d.client_id).into(),
            ],
        )
        .await?;
    Ok(if decided == 1 {
        Applied::InfractionDecided
    } else {
        Applied::InfractionAlreadyDecided
    })
}
