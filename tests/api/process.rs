//! A harness that runs the real `gateway` binary as a child process, for what an in-process
//! server cannot show: a kill -9 in the middle of a load, the process's own log output, the
//! command line run against a stopped gateway's database, and several processes sharing one
//! database.
//!
//! A [`Deployment`] is one temporary directory with a development PKI, a database and a
//! configuration file; any number of [`GatewayProcess`]es can be started from it, one after
//! the other (a restart) or side by side (several instances, PostgreSQL only).

use crate::helpers::{PARTIES, test_config};
use gateway::config::Config;
use gateway::store::Db;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// A debug build applying migrations on a busy two-core machine can take a while to start.
const READY_WITHIN: Duration = Duration::from_secs(60);
/// A graceful stop only waits for in-flight requests, each bounded by the request time-out.
const STOP_WITHIN: Duration = Duration::from_secs(30);
/// `audit verify` over a few thousand records.
const COMMAND_WITHIN: Duration = Duration::from_secs(120);
/// Every request the tests send is bounded, so that a wedged gateway fails a test instead of
/// hanging it.
const REQUEST_WITHIN: Duration = Duration::from_secs(30);

pub struct Deployment {
    dir: TempDir,
    pub config: Config,
    config_file: PathBuf,
}

/// What a finished process wrote, and how it ended.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    /// Everything the process wrote, for searching its logs.
    pub fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl std::fmt::Display for Finished {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status,
            tail(&self.stdout),
            tail(&self.stderr)
        )
    }
}

/// The end of a long output, enough to diagnose a failure without flooding the report.
fn tail(text: &str) -> &str {
    const KEEP: usize = 8000;
    if text.len() <= KEEP {
        return text;
    }
    let mut start = text.len() - KEEP;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

impl Deployment {
    /// A fresh directory, PKI and database, with a configuration file on free ports.
    pub fn new() -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        gateway::crypto::jwt_ring::install();
        let dir = tempfile::tempdir().expect("temp dir");
        gateway::dev_pki::ensure(&dir.path().join("pki"), &PARTIES).expect("development PKI");
        let config = test_config(dir.path());
        let config_file = dir.path().join("gateway.toml");
        let deployment = Self {
            dir,
            config,
            config_file,
        };
        deployment.write_config(&deployment.config_file);
        deployment
    }

    pub fn pki(&self) -> PathBuf {
        self.dir.path().join("pki")
    }

    /// Writes this deployment's configuration on two fresh ports. `Config::load` would merge
    /// a `default.toml` lying next to the file; there is none in the temporary directory, so
    /// the file is written complete.
    fn write_config(&self, file: &Path) {
        let mut config = self.config.clone();
        config.server.listen = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        config.server.ops_listen = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        std::fs::write(file, to_toml(&config)).expect("configuration file");
    }

    /// Another configuration file for the same deployment (same keys, same database) on
    /// ports of its own: a second instance.
    pub fn another_instance(&self, name: &str) -> PathBuf {
        let file = self.dir.path().join(format!("{name}.toml"));
        self.write_config(&file);
        file
    }

    /// Starts `gateway serve` on the deployment's configuration file, and so on the same
    /// ports, database and keys every time (a restart).
    pub async fn start(&self) -> GatewayProcess {
        self.start_logging("info").await
    }

    /// [`Deployment::start`] with the given `RUST_LOG`.
    pub async fn start_logging(&self, log: &str) -> GatewayProcess {
        self.start_from(&self.config_file, log).await
    }

    /// Starts `gateway serve` with the given configuration file and `RUST_LOG`, once it
    /// answers on `/readyz`.
    pub async fn start_from(&self, config_file: &Path, log: &str) -> GatewayProcess {
        let config = Config::load(config_file).expect("the written configuration loads");
        let mut child = self
            .command(config_file)
            .arg("serve")
            .env("RUST_LOG", log)
            .spawn()
            .expect("the gateway binary starts");
        let stdout = capture(child.stdout.take());
        let stderr = capture(child.stderr.take());
        let mut gateway = GatewayProcess {
            child,
            api_port: config.server.listen.port(),
            ops_port: config.server.ops_listen.port(),
            stdout,
            stderr,
            finished: false,
        };
        gateway.wait_ready().await;
        gateway
    }

    /// `gateway --config FILE <args>`, run to completion (bounded) without a server.
    pub fn cli(&self, args: &[&str]) -> Finished {
        let mut child = self
            .command(&self.config_file)
            .args(args)
            .spawn()
            .expect("the gateway binary starts");
        let stdout = capture(child.stdout.take());
        let stderr = capture(child.stderr.take());
        let deadline = Instant::now() + COMMAND_WITHIN;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for the command") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("`gateway {}` did not finish in time", args.join(" "));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Finished {
            status,
            stdout: stdout.collect(),
            stderr: stderr.collect(),
        }
    }

    fn command(&self, config_file: &Path) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_gateway"));
        command
            .arg("--config")
            .arg(config_file)
            // Relative paths (none are expected) then land in the temporary directory, never
            // in the repository.
            .current_dir(self.dir.path())
            .env_remove("GATEWAY_CONFIG")
            .env_remove("GATEWAY_DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// The deployment's database, opened as the gateway opens it (schema included).
    pub async fn database(&self) -> Db {
        gateway::store::connect::connect(&self.config.database)
            .await
            .expect("the test database opens")
    }

    /// A client presenting `party`'s certificate and trusting only the development CA.
    pub fn client(&self, party: &str) -> reqwest::Client {
        let read = |name: String| {
            std::fs::read(self.pki().join(&name)).unwrap_or_else(|e| panic!("{name}: {e}"))
        };
        let mut pem = read(format!("{party}.crt"));
        pem.extend(read(format!("{party}.key")));
        let ca = reqwest::Certificate::from_pem(&read("ca.crt".into())).unwrap();
        reqwest::Client::builder()
            .tls_certs_only([ca])
            .identity(reqwest::Identity::from_pem(&pem).unwrap())
            .http1_only()
            .connect_timeout(Duration::from_secs(5))
            .timeout(REQUEST_WITHIN)
            .build()
            .unwrap()
    }

    /// A token from `party`'s identity provider, signed with its development key.
    pub fn token(&self, party: &str, roles: &[&str], user: &str) -> String {
        let issuer = &self
            .config
            .parties
            .iter()
            .find(|p| p.id.as_str() == party)
            .unwrap_or_else(|| panic!("no party {party}"))
            .jwt_issuer;
        let now = jsonwebtoken::get_current_timestamp();
        let claims = json!({
            "iss": issuer,
            "aud": self.config.auth.audience,
            "sub": user,
            "roles": roles,
            "iat": now,
            "exp": now + 1800,
        });
        let key = std::fs::read(self.pki().join(format!("{party}-jwt.key"))).unwrap();
        let key = EncodingKey::from_ed_pem(&key).unwrap();
        let mut header = Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = Some(format!("{party}-dev-1"));
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    }

    /// A case worker of `party` working with the purpose `trajectoryGuidance`.
    pub fn case_worker(&self, gateway: &GatewayProcess, party: &str, user: &str) -> Caller {
        self.caller(gateway, party, &["caseWorker"], user, "trajectoryGuidance")
    }

    pub fn caller(
        &self,
        gateway: &GatewayProcess,
        party: &str,
        roles: &[&str],
        user: &str,
        purpose: &str,
    ) -> Caller {
        Caller {
            client: self.client(party),
            token: self.token(party, roles, user),
            purpose: purpose.to_owned(),
            base: format!("https://localhost:{}", gateway.api_port),
        }
    }
}

/// One user of one party, with a connection of its own.
pub struct Caller {
    client: reqwest::Client,
    token: String,
    purpose: String,
    base: String,
}

impl Caller {
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("Processing-Purpose", &self.purpose)
    }

    /// Sends `body` as it is (not necessarily valid JSON) to `path`.
    pub async fn post_raw(&self, path: &str, body: &str) -> reqwest::Result<reqwest::Response> {
        self.request(reqwest::Method::POST, path)
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
    }

    pub async fn register(&self, ssin: &str) -> reqwest::Result<reqwest::Response> {
        let body = json!({"ssin": ssin, "legalBasis": "publicTask", "dossierReference": "D-1"});
        self.post_raw("/v1/clients", &body.to_string()).await
    }

    pub async fn lookup(&self, ssin: &str) -> reqwest::Result<reqwest::Response> {
        self.post_raw("/v1/clients/lookup", &json!({"ssin": ssin}).to_string())
            .await
    }

    pub async fn end_link(&self, client_id: &str) -> reqwest::Result<reqwest::Response> {
        self.request(
            reqwest::Method::DELETE,
            &format!("/v1/clients/{client_id}/link"),
        )
        .send()
        .await
    }
}

/// The gateway's trace id of a response (the audit record's `requestId`).
pub fn trace_id(response: &reqwest::Response) -> String {
    response.headers()["belgov-trace-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

/// The `clientId` of a successful registration or look-up.
pub async fn client_id(response: reqwest::Response) -> String {
    let body: Value = response.json().await.expect("a JSON body");
    body["clientId"]
        .as_str()
        .unwrap_or_else(|| panic!("no clientId in {body}"))
        .to_owned()
}

pub struct GatewayProcess {
    child: Child,
    pub api_port: u16,
    pub ops_port: u16,
    stdout: Captured,
    stderr: Captured,
    finished: bool,
}

impl GatewayProcess {
    async fn wait_ready(&mut self) {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        let url = format!("http://127.0.0.1:{}/readyz", self.ops_port);
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll the gateway") {
                self.finished = true;
                panic!(
                    "the gateway exited before it was ready: {status}\n{}",
                    self.stderr.snapshot()
                );
            }
            let response = http.get(&url).send().await;
            if response.is_ok_and(|r| r.status() == 200) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the gateway did not become ready\n{}",
                self.stderr.snapshot()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no shutdown code runs, as in a crash or an OOM kill.
    pub fn kill(mut self) -> Finished {
        self.child.kill().expect("SIGKILL the gateway");
        let status = self.child.wait().expect("reap the gateway");
        self.finish(status)
    }

    /// SIGTERM, then waits (bounded) for a clean exit.
    pub async fn stop(mut self) -> Finished {
        let sent = Command::new("kill")
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(sent.success(), "SIGTERM could not be sent");
        let deadline = Instant::now() + STOP_WITHIN;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for the gateway") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let status = self.child.wait().expect("reap the gateway");
                let finished = self.finish(status);
                panic!("the gateway did not stop on SIGTERM\n{finished}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let finished = self.finish(status);
        assert!(
            finished.status.success(),
            "the gateway did not stop cleanly\n{finished}"
        );
        finished
    }

    fn finish(&mut self, status: ExitStatus) -> Finished {
        self.finished = true;
        Finished {
            status,
            stdout: std::mem::take(&mut self.stdout).collect(),
            stderr: std::mem::take(&mut self.stderr).collect(),
        }
    }
}

impl Drop for GatewayProcess {
    // A failing test must not leave a gateway running behind it.
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A child's output stream, drained by a thread so that the child never blocks on a full pipe.
#[derive(Default)]
struct Captured {
    buffer: Arc<Mutex<Vec<u8>>>,
    reader: Option<JoinHandle<()>>,
}

fn capture(stream: Option<impl Read + Send + 'static>) -> Captured {
    let mut stream = stream.expect("a piped stream");
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let sink = buffer.clone();
    let reader = std::thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        while let Ok(n) = stream.read(&mut chunk) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&chunk[..n]);
        }
    });
    Captured {
        buffer,
        reader: Some(reader),
    }
}

impl Captured {
    /// Everything written so far.
    fn snapshot(&self) -> String {
        String::from_utf8_lossy(&self.buffer.lock().unwrap()).into_owned()
    }

    /// Everything written, once the process has exited and the pipe is closed.
    fn collect(mut self) -> String {
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        self.snapshot()
    }
}

/// A port that was free a moment ago (bound and released; the gateway binds it itself).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// The configuration as TOML. Every member is written as an inline value: JSON strings,
/// numbers and booleans are valid TOML as they are, objects become inline tables, arrays
/// stay arrays, and absent (`null`) members are left out.
fn to_toml(config: &Config) -> String {
    let Value::Object(sections) = serde_json::to_value(config).expect("config serialises") else {
        panic!("the configuration is not a table");
    };
    sections
        .iter()
        .filter(|(_, value)| !value.is_null())
        .map(|(key, value)| format!("{} = {}\n", Value::from(key.as_str()), inline(value)))
        .collect()
}

fn inline(value: &Value) -> String {
    match value {
        Value::Object(members) => {
            let members: Vec<String> = members
                .iter()
                .filter(|(_, value)| !value.is_null())
                .map(|(key, value)| format!("{} = {}", Value::from(key.as_str()), inline(value)))
                .collect();
            format!("{{ {} }}", members.join(", "))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(inline).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Null => panic!("TOML has no null inside an array"),
        scalar => scalar.to_string(),
    }
}

/// The `n`-th of many distinct valid SSINs (born 1950–1999, so the check is
/// 97 − (first nine digits mod 97)).
pub fn ssin(n: u32) -> String {
    let sequence = n % 998 + 1;
    let day = n / 998;
    let (dd, mm, yy) = (day % 28 + 1, (day / 28) % 12 + 1, 50 + (day / 336) % 50);
    let body = format!("{yy:02}{mm:02}{dd:02}{sequence:03}");
    let check = 97 - body.parse::<u64>().unwrap() % 97;
    let ssin = format!("{body}{check:02}");
    assert!(gateway::domain::ssin::Ssin::parse(&ssin).is_ok(), "{ssin}");
    ssin
}

/// One row of `audit_log`.
pub struct AuditRow {
    pub seq: i64,
    pub request_id: String,
    pub client_id: Option<String>,
    pub action: String,
    pub outcome: String,
    pub record: Vec<u8>,
}

/// The whole audit log, in sequence order.
pub async fn audit_rows(db: &Db) -> Vec<AuditRow> {
    type Row = (i64, String, Option<String>, String, String, Vec<u8>);
    let rows: Vec<Row> = gateway::with_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT seq, request_id, client_id, action, outcome, record FROM audit_log ORDER BY seq",
        )
        .fetch_all(pool)
        .await
        .expect("read audit_log")
    });
    rows.into_iter()
        .map(
            |(seq, request_id, client_id, action, outcome, record)| AuditRow {
                seq,
                request_id,
                client_id,
                action,
                outcome,
                record,
            },
        )
        .collect()
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
