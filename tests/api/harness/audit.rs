//! The test's own view of the database, past the gateway: the audit log as stored, the
//! records one request after another must have left, and `gateway audit verify`.

use super::callers::{CASE_WORK, trace_id};
use super::library::{AuditRecord, DatabaseConfig, Policy};
use super::process::Deployment;
use super::server::{TestGateway, repo_path};
use reqwest::Response;

/// One row of `audit_log`, with its canonical record decoded.
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub seq: i64,
    pub recorded_at: i64,
    pub party_id: String,
    pub user_id: String,
    pub client_id: Option<String>,
    pub action: String,
    pub outcome: String,
    pub request_id: String,
    /// The stored canonical bytes (the Merkle leaf), as they are.
    pub bytes: Vec<u8>,
    pub record: AuditRecord,
}

impl AuditRow {
    /// (action, outcome, reason): what most assertions about a record compare.
    pub fn summary(&self) -> (String, String, Option<String>) {
        (
            self.action.clone(),
            self.outcome.clone(),
            self.record.reason.clone(),
        )
    }
}

/// (action, outcome, reason), as [`AuditRow::summary`] gives it.
pub fn summary(
    action: &str,
    outcome: &str,
    reason: Option<&str>,
) -> (String, String, Option<String>) {
    (
        action.to_owned(),
        outcome.to_owned(),
        reason.map(str::to_owned),
    )
}

type AuditTuple = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    Vec<u8>,
);

/// The test's own connection to a gateway's database (one connection, so that statements
/// run in order on it).
pub enum TestDb {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// A pool of one connection to the test database.
async fn one_connection<DB: sqlx::Database>(
    options: <DB::Connection as sqlx::Connection>::Options,
) -> sqlx::Pool<DB> {
    sqlx::pool::PoolOptions::<DB>::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap_or_else(|e| panic!("the test database ({}) opens: {e}", DB::NAME))
}

/// Runs the same statement on whichever pool the database has.
macro_rules! on_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            TestDb::Sqlite($pool) => $body,
            TestDb::Postgres($pool) => $body,
        }
    };
}

impl TestDb {
    pub async fn open(config: &DatabaseConfig) -> Self {
        use std::str::FromStr;
        if config.url.starts_with("sqlite:") {
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(&config.url)
                .unwrap()
                .busy_timeout(std::time::Duration::from_secs(10));
            Self::Sqlite(one_connection(options).await)
        } else {
            let mut options = sqlx::postgres::PgConnectOptions::from_str(&config.url).unwrap();
            if let Some(schema) = &config.schema {
                options = options.options([("search_path", schema.as_str())]);
            }
            Self::Postgres(one_connection(options).await)
        }
    }

    pub const fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    /// Runs SQL (possibly several statements) directly, returning the database's answer.
    pub async fn execute(&self, sql: &'static str) -> Result<(), sqlx::Error> {
        on_pool!(self, |pool| sqlx::raw_sql(sql)
            .execute(pool)
            .await
            .map(drop))
    }

    /// A single `COUNT(*)`-like number.
    pub async fn count(&self, sql: &'static str) -> i64 {
        on_pool!(self, |pool| sqlx::query_scalar(sql)
            .fetch_one(pool)
            .await
            .unwrap())
    }

    /// A column of text.
    pub async fn strings(&self, sql: &'static str) -> Vec<String> {
        on_pool!(self, |pool| sqlx::query_scalar(sql)
            .fetch_all(pool)
            .await
            .unwrap())
    }

    /// Overwrites the stored bytes of record `seq`, as a tamperer would (the append-only
    /// trigger must be gone); the number of rows changed.
    pub async fn overwrite_record(&self, seq: i64, bytes: &[u8]) -> u64 {
        const SQL: &str = "UPDATE audit_log SET record = $1 WHERE seq = $2";
        on_pool!(self, |pool| sqlx::query(SQL)
            .bind(bytes)
            .bind(seq)
            .execute(pool)
            .await
            .unwrap()
            .rows_affected())
    }

    /// Every audit record, in sequence order.
    pub async fn audit_rows(&self) -> Vec<AuditRow> {
        const SQL: &str = "SELECT seq, recorded_at, party_id, user_id, client_id, action, outcome, \
                           request_id, record FROM audit_log ORDER BY seq";
        let rows: Vec<AuditTuple> = on_pool!(self, |pool| sqlx::query_as(SQL)
            .fetch_all(pool)
            .await
            .unwrap());
        rows.into_iter()
            .map(|row| {
                let record = AuditRecord::decode(&row.8)
                    .unwrap_or_else(|e| panic!("record {} does not decode: {e}", row.0));
                AuditRow {
                    seq: row.0,
                    recorded_at: row.1,
                    party_id: row.2,
                    user_id: row.3,
                    client_id: row.4,
                    action: row.5,
                    outcome: row.6,
                    request_id: row.7,
                    bytes: row.8,
                    record,
                }
            })
            .collect()
    }

    pub async fn close(self) {
        on_pool!(self, |pool| pool.close().await)
    }
}

impl TestGateway {
    /// A direct connection to this gateway's database, past the gateway.
    pub async fn db(&self) -> TestDb {
        TestDb::open(&self.config.database).await
    }

    /// Every audit record, read straight from the database, in sequence order.
    pub async fn audit_rows(&self) -> Vec<AuditRow> {
        let db = self.db().await;
        let rows = db.audit_rows().await;
        db.close().await;
        rows
    }

    /// The summaries of the audit records after the first `skip`.
    pub async fn audit_since(&self, skip: usize) -> Vec<(String, String, Option<String>)> {
        let rows = self.audit_rows().await;
        rows.iter().skip(skip).map(AuditRow::summary).collect()
    }

    /// The summaries of `user`'s audit records.
    pub async fn audit_of_user(&self, user: &str) -> Vec<(String, String, Option<String>)> {
        let rows = self.audit_rows().await;
        let of_user = rows.iter().filter(|row| row.user_id == user);
        of_user.map(AuditRow::summary).collect()
    }

    /// The audit records of `action`, in order.
    pub async fn audit_of_action(&self, action: &str) -> Vec<AuditRow> {
        let rows = self.audit_rows().await;
        rows.into_iter()
            .filter(|row| row.action == action)
            .collect()
    }

    /// The outcomes of the audit records of `action`, in order.
    pub async fn outcomes_of(&self, action: &str) -> Vec<String> {
        let rows = self.audit_of_action(action).await;
        rows.into_iter().map(|row| row.outcome).collect()
    }

    /// The one audit record of the request that got the answer with trace id `trace`.
    pub async fn audit_of_request(&self, trace: &str) -> AuditRow {
        let rows = self.audit_rows().await;
        let mut matching = rows.into_iter().filter(|r| r.request_id == trace);
        let row = matching
            .next()
            .unwrap_or_else(|| panic!("no audit record for {trace}"));
        assert!(matching.next().is_none(), "two audit records for {trace}");
        row
    }
}

impl Deployment {
    /// The deployment's database, past the gateway.
    pub async fn database(&self) -> TestDb {
        TestDb::open(&self.config.database).await
    }
}

/// The audit record one request must have left.
#[derive(Debug, Clone)]
pub struct Expected {
    pub request_id: String,
    pub party: String,
    pub user: String,
    pub roles: Vec<String>,
    pub purpose: String,
    pub action: &'static str,
    pub outcome: &'static str,
    pub client: Option<String>,
    pub reason: Option<&'static str>,
}

impl Expected {
    /// An allowed case-work request by a case worker.
    pub fn allowed(
        response: &Response,
        (party, user): (&str, &str),
        action: &'static str,
        client: Option<&str>,
    ) -> Self {
        Self {
            request_id: trace_id(response),
            party: party.to_owned(),
            user: user.to_owned(),
            roles: vec!["caseWorker".to_owned()],
            purpose: CASE_WORK.to_owned(),
            action,
            outcome: "allowed",
            client: client.map(str::to_owned),
            reason: None,
        }
    }

    /// A case-work request by a case worker, refused for `reason`.
    pub fn denied(
        response: &Response,
        who: (&str, &str),
        action: &'static str,
        reason: &'static str,
        client: Option<&str>,
    ) -> Self {
        Self {
            outcome: "denied",
            reason: Some(reason),
            ..Self::allowed(response, who, action, client)
        }
    }

    /// The same, for a caller acting in other roles for another purpose.
    pub fn acting(mut self, roles: &[&str], purpose: &str) -> Self {
        self.roles = roles.iter().map(|r| (*r).to_owned()).collect();
        self.purpose = purpose.to_owned();
        self
    }
}

/// The records a test's requests must have left, in request order.
#[derive(Debug, Default)]
pub struct ExpectedLog(pub Vec<Expected>);

impl ExpectedLog {
    pub fn push(&mut self, expected: Expected) {
        self.0.push(expected);
    }

    /// An allowed case-work request by the case worker `who`.
    pub fn allowed(
        &mut self,
        response: &Response,
        who: (&str, &str),
        action: &'static str,
        client: Option<&str>,
    ) {
        self.push(Expected::allowed(response, who, action, client));
    }

    /// A case-work request by the case worker `who`, refused for `reason`.
    pub fn denied(
        &mut self,
        response: &Response,
        who: (&str, &str),
        action: &'static str,
        reason: &'static str,
        client: Option<&str>,
    ) {
        self.push(Expected::denied(response, who, action, reason, client));
    }

    /// The client the last request turned out to be about (a registration's new client).
    pub fn about(&mut self, client: &str) {
        self.0.last_mut().expect("a request").client = Some(client.to_owned());
    }

    /// Reads `gw`'s audit log, asserts that it holds exactly these records (see
    /// [`assert_audit_log`]) and returns it.
    pub async fn assert_on(&self, gw: &TestGateway) -> Vec<AuditRow> {
        let rows = gw.audit_rows().await;
        assert_audit_log(&rows, &self.0);
        rows
    }
}

/// The audit log holds exactly the expected records, one per request, in request order, with
/// the indexed columns agreeing with the canonical record.
pub fn assert_audit_log(rows: &[AuditRow], expected: &[Expected]) {
    let policy = policy_version();
    let summary: Vec<_> = rows
        .iter()
        .map(|r| format!("{} {} {} {}", r.seq, r.action, r.outcome, r.request_id))
        .collect();
    assert_eq!(
        rows.len(),
        expected.len(),
        "one record per request; the log holds {summary:#?}"
    );
    for (index, (row, want)) in rows.iter().zip(expected).enumerate() {
        let record = &row.record;
        let at = format!("record {index} ({want:?})");
        assert_eq!(row.seq, index as i64, "{at}: sequence without gaps");
        assert_eq!(record.seq, row.seq as u64, "{at}");
        assert_eq!(record.v, 1, "{at}");
        assert_eq!(record.time_micros(), Some(row.recorded_at), "{at}");
        assert_eq!(row.request_id, want.request_id, "{at}: requestId");
        assert_eq!(record.request_id, want.request_id, "{at}: requestId");
        let party = (&row.party_id, &record.party);
        assert_eq!(party, (&want.party, &want.party), "{at}");
        let user = (&row.user_id, &record.user);
        assert_eq!(user, (&want.user, &want.user), "{at}");
        assert_eq!(record.roles, want.roles, "{at}");
        assert_eq!(record.purpose, want.purpose, "{at}");
        let action = (row.action.as_str(), record.action.as_str());
        assert_eq!(action, (want.action, want.action), "{at}");
        assert_eq!(row.outcome, want.outcome, "{at}");
        assert_eq!(record.outcome.as_str(), want.outcome, "{at}");
        assert_eq!(row.client_id, want.client, "{at}: client column");
        assert_eq!(record.client, want.client, "{at}: client");
        assert_eq!(record.reason.as_deref(), want.reason, "{at}: reason");
        assert!(record.fields.is_empty(), "{at}");
        assert_eq!(record.policy_version, policy, "{at}: policy version");
    }
}

/// The version of the shipped policy, as every audit record must name it.
pub fn policy_version() -> String {
    Policy::load(&repo_path("config/policy.toml"))
        .expect("the shipped policy loads")
        .version()
        .to_owned()
}

/// Asserts that the sequence numbers are exactly 0..N-1: no gap, no duplicate, in order.
pub fn assert_gapless(rows: &[AuditRow]) {
    for (expected, row) in rows.iter().enumerate() {
        assert_eq!(
            row.seq, expected as i64,
            "audit_log has a gap or a duplicate at position {expected}"
        );
    }
}

/// Runs `audit verify`, asserts success, and returns the records and checkpoints it counted
/// (`audit log verified: <N> records, <M> checkpoints`).
pub fn verify_ok(deployment: &Deployment) -> (u64, u64) {
    let verified = deployment.cli(&["audit", "verify"]);
    assert!(verified.status.success(), "audit verify failed\n{verified}");
    let line = verified
        .stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix("audit log verified: "))
        .unwrap_or_else(|| panic!("no summary line\n{verified}"));
    let counts: Vec<u64> = line
        .split(',')
        .map(|part| {
            part.split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("unreadable summary {line:?}"))
        })
        .collect();
    assert_eq!(counts.len(), 2, "unreadable summary {line:?}");
    (counts[0], counts[1])
}
