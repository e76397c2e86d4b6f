//! The test harness: a real gateway per test and clients that present real certificates.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gateway::config::Config;
use gateway::server::{self, Listeners};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const PARTIES: [&str; 4] = ["ocmw-gent", "ocmw-eeklo", "amal", "kbi"];

pub struct TestGateway {
    pub api: SocketAddr,
    pub ops: SocketAddr,
    pub config: Config,
    pub dir: TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

fn install_providers() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    gateway::crypto::jwt_ring::install();
}

/// The shipped development configuration, pointed at a fresh PKI in `dir` and a fresh
/// database.
pub fn test_config(dir: &Path) -> Config {
    let mut config = Config::load(&repo_path("config/dev.toml")).expect("dev configuration");
    let pki = dir.join("pki");
    gateway::dev_pki::use_pki(&mut config, &pki);
    config.policy_file = repo_path("config/policy.toml");
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => {
            config.database.url = url;
            config.database.schema = Some(format!("t_{}", uuid::Uuid::new_v4().simple()));
            config.database.max_connections = 4;
        }
        _ => config.database.url = format!("sqlite://{}", dir.join("gateway.db").display()),
    }
    config
}

pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

impl TestGateway {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(customize: impl FnOnce(&mut Config)) -> Self {
        install_providers();
        let dir = tempfile::tempdir().expect("temp dir");
        gateway::dev_pki::ensure(&dir.path().join("pki"), &PARTIES).expect("development PKI");
        let mut config = test_config(dir.path());
        customize(&mut config);
        let api = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ops = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (api_addr, ops_addr) = (api.local_addr().unwrap(), ops.local_addr().unwrap());
        let prepared = server::prepare(config.clone())
            .await
            .expect("gateway prepares");
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(server::run(prepared, Listeners { api, ops }, async {
            let _ = rx.await;
        }));
        let mut gateway = Self {
            api: api_addr,
            ops: ops_addr,
            config,
            dir,
            shutdown: Some(tx),
            task: Some(task),
        };
        gateway.wait_ready().await;
        gateway
    }

    async fn wait_ready(&mut self) {
        let client = reqwest::Client::new();
        for _ in 0..200 {
            let response = client.get(self.ops_url("/readyz")).send().await;
            if response.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            if self.task.as_ref().is_some_and(|task| task.is_finished()) {
                let ended = self.task.take().unwrap().await;
                panic!("the gateway stopped before it was ready: {ended:?}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("the gateway did not become ready");
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .expect("server task")
                .expect("server ends cleanly");
        }
    }

    pub fn pki(&self) -> PathBuf {
        self.dir.path().join("pki")
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.api.port())
    }

    pub fn ops_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.ops)
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.pki().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    /// A client presenting `party`'s development certificate.
    pub fn client(&self, party: &str) -> reqwest::Client {
        let mut pem = self.read(&format!("{party}.crt"));
        pem.extend(self.read(&format!("{party}.key")));
        self.client_with(Some(reqwest::Identity::from_pem(&pem).unwrap()))
    }

    /// A client presenting the given identity, or none.
    pub fn client_with(&self, identity: Option<reqwest::Identity>) -> reqwest::Client {
        let ca = reqwest::Certificate::from_pem(&self.read("ca.crt")).unwrap();
        let mut builder = reqwest::Client::builder().tls_certs_only([ca]).http1_only();
        if let Some(identity) = identity {
            builder = builder.identity(identity);
        }
        builder.build().unwrap()
    }

    /// The claims a party's identity provider would issue, valid now.
    pub fn claims(&self, party: &str, roles: &[&str], user: &str) -> Value {
        let issuer = &self
            .config
            .parties
            .iter()
            .find(|p| p.id.as_str() == party)
            .unwrap()
            .jwt_issuer;
        let now = jsonwebtoken::get_current_timestamp();
        json!({
            "iss": issuer,
            "aud": self.config.auth.audience,
            "sub": user,
            "roles": roles,
            "iat": now,
            "exp": now + 600,
        })
    }

    /// Signs `claims` with `party`'s development token key.
    pub fn sign(&self, party: &str, claims: &Value) -> String {
        let key = EncodingKey::from_ed_pem(&self.read(&format!("{party}-jwt.key"))).unwrap();
        let mut header = Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = Some(format!("{party}-dev-1"));
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }

    pub fn token(&self, party: &str, roles: &[&str], user: &str) -> String {
        self.sign(party, &self.claims(party, roles, user))
    }

    /// `GET path` as `party` with a valid case-worker token and the given purpose.
    pub async fn get_as(&self, party: &str, path: &str, purpose: &str) -> reqwest::Response {
        let token = self.token(party, &["caseWorker"], "tester");
        self.client(party)
            .get(self.url(path))
            .bearer_auth(token)
            .header("Processing-Purpose", purpose)
            .send()
            .await
            .unwrap()
    }
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The body of a problem response, after checking its status and media type.
pub async fn problem(response: reqwest::Response, status: u16, problem_type: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "status");
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], problem_type, "{body}");
    assert_eq!(body["status"], status);
    body
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

// ---------------------------------------------------------------------------------------------
// The client directory and the audit log: calls as a party, and direct reads of the test's
// database (links.rs, audit_proofs.rs, fail_closed.rs).

/// The purpose the client-directory tests declare: every OCMW and integration-agency case
/// worker may use it.
pub const CASE_WORK: &str = "trajectoryGuidance";

/// The gateway's `BelGov-Trace-Id` for this response (what its audit record must name).
pub fn trace_id(response: &reqwest::Response) -> String {
    response.headers()["belgov-trace-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

/// The lines of a file under `tests/data/`.
pub fn data_lines(name: &str) -> Vec<String> {
    std::fs::read_to_string(repo_path(&format!("tests/data/{name}")))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A valid national register number (born 30 July 1985, sequence `n`), so that tests can make
/// as many distinct clients as they need.
pub fn generated_ssin(n: u32) -> String {
    assert!((1..=998).contains(&n), "sequence {n}");
    let base = 850_730_000 + u64::from(n);
    let ssin = format!("{base:09}{:02}", 97 - base % 97);
    assert!(gateway::domain::ssin::Ssin::parse(&ssin).is_ok(), "{ssin}");
    ssin
}

impl TestGateway {
    /// `method path` as `party`'s `user` acting in `roles` for `purpose`, with a JSON body.
    pub async fn call_as(
        &self,
        method: reqwest::Method,
        path: &str,
        (party, roles, user): (&str, &[&str], &str),
        purpose: &str,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let mut request = self
            .client(party)
            .request(method, self.url(path))
            .bearer_auth(self.token(party, roles, user))
            .header("Processing-Purpose", purpose);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.unwrap()
    }

    /// `POST /v1/clients` as a case worker of `party`, with a valid legal basis and dossier.
    pub async fn register(&self, party: &str, user: &str, ssin: &str) -> reqwest::Response {
        let body = json!({
            "ssin": ssin,
            "legalBasis": "publicTask",
            "dossierReference": "GPMI-2025/0042",
        });
        let who = (party, &["caseWorker"][..], user);
        self.call_as(
            reqwest::Method::POST,
            "/v1/clients",
            who,
            CASE_WORK,
            Some(&body),
        )
        .await
    }

    /// `POST /v1/clients/lookup` as a case worker of `party`.
    pub async fn lookup(&self, party: &str, user: &str, ssin: &str) -> reqwest::Response {
        let who = (party, &["caseWorker"][..], user);
        let body = json!({ "ssin": ssin });
        self.call_as(
            reqwest::Method::POST,
            "/v1/clients/lookup",
            who,
            CASE_WORK,
            Some(&body),
        )
        .await
    }

    /// `DELETE /v1/clients/{id}/link` as a case worker of `party`.
    pub async fn unlink(&self, party: &str, user: &str, client_id: &str) -> reqwest::Response {
        let who = (party, &["caseWorker"][..], user);
        let path = format!("/v1/clients/{client_id}/link");
        self.call_as(reqwest::Method::DELETE, &path, who, CASE_WORK, None)
            .await
    }

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
}

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
    pub record: gateway::audit::record::AuditRecord,
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

/// The test's own connection to the gateway's database (one connection, so that statements
/// run in order on it).
pub enum TestDb {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl TestDb {
    pub async fn open(config: &gateway::config::DatabaseConfig) -> Self {
        use std::str::FromStr;
        if config.url.starts_with("sqlite:") {
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(&config.url)
                .unwrap()
                .busy_timeout(std::time::Duration::from_secs(10));
            let pool = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await
                .expect("the test database (SQLite) opens");
            Self::Sqlite(pool)
        } else {
            let mut options = sqlx::postgres::PgConnectOptions::from_str(&config.url).unwrap();
            if let Some(schema) = &config.schema {
                options = options.options([("search_path", schema.as_str())]);
            }
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await
                .expect("the test database (PostgreSQL) opens");
            Self::Postgres(pool)
        }
    }

    pub const fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    /// Runs SQL (possibly several statements) directly, returning the database's answer.
    pub async fn execute(&self, sql: &'static str) -> Result<(), sqlx::Error> {
        match self {
            Self::Sqlite(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop),
            Self::Postgres(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop),
        }
    }

    /// A single `COUNT(*)`-like number.
    pub async fn count(&self, sql: &'static str) -> i64 {
        match self {
            Self::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
            Self::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
        }
    }

    pub async fn audit_rows(&self) -> Vec<AuditRow> {
        const SQL: &str = "SELECT seq, recorded_at, party_id, user_id, client_id, action, outcome, \
                           request_id, record FROM audit_log ORDER BY seq";
        let rows: Vec<AuditTuple> = match self {
            Self::Sqlite(pool) => sqlx::query_as(SQL).fetch_all(pool).await.unwrap(),
            Self::Postgres(pool) => sqlx::query_as(SQL).fetch_all(pool).await.unwrap(),
        };
        rows.into_iter()
            .map(|row| {
                let record = gateway::audit::record::AuditRecord::decode(&row.8)
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
        match self {
            Self::Sqlite(pool) => pool.close().await,
            Self::Postgres(pool) => pool.close().await,
        }
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
        response: &reqwest::Response,
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

    /// A refused case-work request by a case worker.
    pub fn denied(
        response: &reqwest::Response,
        who: (&str, &str),
        action: &'static str,
        client: Option<&str>,
        reason: &'static str,
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
        assert_eq!(
            (&row.party_id, &record.party),
            (&want.party, &want.party),
            "{at}"
        );
        assert_eq!(
            (&row.user_id, &record.user),
            (&want.user, &want.user),
            "{at}"
        );
        assert_eq!(record.roles, want.roles, "{at}");
        assert_eq!(record.purpose, want.purpose, "{at}");
        assert_eq!(
            (row.action.as_str(), record.action.as_str()),
            (want.action, want.action),
            "{at}"
        );
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
    gateway::policy::Policy::load(&repo_path("config/policy.toml"))
        .expect("the shipped policy loads")
        .version()
        .to_owned()
}

/// Reads a client's record as a case worker of `who`, then patches it against the version
/// read; the write must succeed.
pub async fn write_record(gw: &TestGateway, who: (&str, &str), client: &str, patch: Value) {
    let path = format!("/v1/clients/{client}");
    let read = gw
        .client(who.0)
        .get(gw.url(&path))
        .bearer_auth(gw.token(who.0, &["caseWorker"], who.1))
        .header("Processing-Purpose", CASE_WORK)
        .send()
        .await
        .unwrap();
    let etag = read.headers()["etag"].to_str().unwrap().to_owned();
    let written = gw
        .client(who.0)
        .patch(gw.url(&path))
        .bearer_auth(gw.token(who.0, &["caseWorker"], who.1))
        .header("Processing-Purpose", CASE_WORK)
        .header("If-Match", etag)
        .header("Content-Type", "application/merge-patch+json")
        .body(patch.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(written.status(), 200);
}

/// KBI notifies an attest (`POST /v1/kbi/attests` as its system); the status and the body.
pub async fn notify_attest(gw: &TestGateway, body: &Value) -> (u16, Value) {
    let response = gw
        .call_as(
            reqwest::Method::POST,
            "/v1/kbi/attests",
            ("kbi", &["system"][..], "kbi-feed"),
            "attestRegistration",
            Some(body),
        )
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Every event on `party`'s feed from the start, as its case worker `user` acting for `purpose`.
pub async fn feed_of(gw: &TestGateway, (party, user): (&str, &str), purpose: &str) -> Vec<Value> {
    let response = gw
        .call_as(
            reqwest::Method::GET,
            "/v1/events?after=0",
            (party, &["caseWorker"][..], user),
            purpose,
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.unwrap();
    page["events"].as_array().unwrap().clone()
}
