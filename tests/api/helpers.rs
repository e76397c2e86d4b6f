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
    config.server.tls_certificate = pki.join("server.crt");
    config.server.tls_key = pki.join("server.key");
    config.keys.pseudonym_key = pki.join("pseudonym.key");
    config.keys.encryption_key = pki.join("encryption.key");
    config.audit.signing_key = pki.join("audit-signing.key");
    config.dev.generate_pki = false;
    config.dev.pki_dir = Some(pki.clone());
    for party in &mut config.parties {
        party.trusted_ca = pki.join("ca.crt");
        for key in &mut party.jwt_keys {
            key.public_key = pki.join(format!("{}-jwt.pub", party.id));
        }
    }
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
        let gateway = Self {
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

    async fn wait_ready(&self) {
        let client = reqwest::Client::new();
        for _ in 0..200 {
            let response = client.get(self.ops_url("/readyz")).send().await;
            if response.is_ok_and(|r| r.status().is_success()) {
                return;
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
