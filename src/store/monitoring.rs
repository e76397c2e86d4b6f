//! What the yearly monitoring counts (SWO art. 16), read a bounded amount at a time: the joint
//! clients of the year are selected in SQL (a link to an OCMW and a link to the integration
//! agency during the year, for a pair of parties in the coordinator's scope), their records
//! are read in pages, and the referrals and attests are counted by the database. Nothing
//! holds every client of the deployment in memory. Only counts leave the gate.

use super::{Db, StoreError};
use crate::with_pool;
use sqlx::AssertSqlSafe;

/// Records read per page.
pub const PAGE: i64 = 500;

/// The year (`[start, end)`, microseconds) and the (OCMW, agency) pairs a report covers.
pub struct Scope<'a> {
    pub start: i64,
    pub end: i64,
    pub pairs: &'a [(String, String)],
}

/// The joint clients of `scope` as a sub-select whose placeholders start at `$first`: the
/// year's bounds, then each pair's two parties.
fn joint_clients(scope: &Scope<'_>, first: usize) -> String {
    let pairs: Vec<String> = (0..scope.pairs.len())
        .map(|i| {
            let at = first + 2 + 2 * i;
            format!("(o.party_id = ${at} AND a.party_id = ${})", at + 1)
        })
        .collect();
    let during = |t: &str| {
        format!(
            "{t}.linked_at < ${} AND ({t}.ended_at IS NULL OR {t}.ended_at >= ${first})",
            first + 1
        )
    };
    format!(
        "SELECT DISTINCT o.client_id FROM client_links o \
         JOIN client_links a ON a.client_id = o.client_id \
         WHERE {} AND {} AND ({})",
        during("o"),
        during("a"),
        if pairs.is_empty() {
            "1 = 0".to_owned()
        } else {
            pairs.join(" OR ")
        }
    )
}

/// Binds the scope's values in the order [`joint_clients`] numbers them.
macro_rules! bind_scope {
    ($query:expr, $scope:expr) => {{
        let mut query = $query.bind($scope.start).bind($scope.end);
        for (ocmw, agency) in $scope.pairs {
            query = query.bind(ocmw.as_str()).bind(agency.as_str());
        }
        query
    }};
}

/// A page of at most `limit` joint clients after `after` (in id order), each with its stored
/// record (`None` when it has none yet).
pub async fn joint_page(
    db: &Db,
    scope: &Scope<'_>,
    after: &str,
    limit: i64,
) -> Result<Vec<(String, Option<String>)>, StoreError> {
    let n = 2 + 2 * scope.pairs.len();
    let sql = format!(
        "SELECT j.client_id, r.record FROM ({}) j \
         LEFT JOIN client_records r ON r.client_id = j.client_id \
         WHERE j.client_id > ${} ORDER BY j.client_id LIMIT ${}",
        joint_clients(scope, 1),
        n + 1,
        n + 2
    );
    let rows: Vec<(String, Option<String>)> = with_pool!(db, |pool| {
        bind_scope!(sqlx::query_as(AssertSqlSafe(sql)), scope)
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await?
    });
    rows.into_iter()
        .map(|(client_id, sealed)| {
            let record = db.open_maybe(super::sealing::RECORD, &[&client_id], sealed.as_deref())?;
            Ok((client_id, record))
        })
        .collect()
}

/// The joint clients' referrals proposed during the year, counted per direction and status.
pub async fn referrals(
    db: &Db,
    scope: &Scope<'_>,
) -> Result<Vec<(String, String, i64)>, StoreError> {
    let sql = format!(
        "SELECT direction, status, COUNT(*) FROM referrals \
         WHERE created_at >= $1 AND created_at < $2 AND client_id IN ({}) \
         GROUP BY direction, status",
        joint_clients(scope, 1)
    );
    Ok(with_pool!(db, |pool| {
        bind_scope!(sqlx::query_as(AssertSqlSafe(sql)), scope)
            .fetch_all(pool)
            .await?
    }))
}

/// The joint clients' attests issued between two dates (YYYY-MM-DD, inclusive), counted per
/// kind.
pub async fn attests(
    db: &Db,
    scope: &Scope<'_>,
    (first, last): (&str, &str),
) -> Result<Vec<(String, i64)>, StoreError> {
    let n = 2 + 2 * scope.pairs.len();
    let sql = format!(
        "SELECT kind, COUNT(*) FROM kbi_attests \
         WHERE client_id IN ({}) AND issued_on >= ${} AND issued_on <= ${} GROUP BY kind",
        joint_clients(scope, 1),
        n + 1,
        n + 2
    );
    Ok(with_pool!(db, |pool| {
        bind_scope!(sqlx::query_as(AssertSqlSafe(sql)), scope)
            .bind(first)
            .bind(last)
            .fetch_all(pool)
            .await?
    }))
}
