//! The gateway under test, in this process: a fresh development PKI and database for each
//! test, the shipped development configuration pointed at them, and the server on free ports.

use super::callers::Endpoint;
use super::library::{
    Config, Listeners, client_params, ensure_pki, install_jwt_provider, load_ca, new_ca, prepare,
    run, use_pki,
};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The parties of the development PKI.
pub const PARTIES: [&str; 5] = [
    "ocmw-gent",
    "ocmw-eeklo",
    "ocmw-geraardsbergen",
    "amal",
    "kbi",
];

/// A path inside the repository.
pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// A fresh temporary directory holding a development PKI under `pki/`, with the crypto
/// providers the gateway and the test clients share installed.
pub fn fresh_dir() -> TempDir {
    let _ = rustls::crypto::ring::default_provider().install_default();
    install_jwt_provider();
    let dir = tempfile::tempdir().expect("temp dir");
    ensure_pki(&dir.path().join("pki"), &PARTIES).expect("development PKI");
    dir
}

/// The shipped development configuration, pointed at the PKI in `dir` and a fresh database
/// (SQLite in `dir`, or a schema of its own on TEST_DATABASE_URL).
pub fn test_config(dir: &Path) -> Config {
    let mut config = Config::load(&repo_path("config/dev.toml")).expect("dev configuration");
    use_pki(&mut config, &dir.join("pki"));
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

/// Sets the per-user rate limit to `per_second`, with bursts of `burst` requests.
pub fn per_user_rate(per_second: u32, burst: u32) -> impl FnOnce(&mut Config) {
    move |config| {
        config.limits.per_user_per_second = per_second;
        config.limits.per_user_burst = burst;
    }
}

/// A certificate authority the tests issue certificates with.
pub type Ca = rcgen::Issuer<'static, rcgen::KeyPair>;

/// The development CA of the PKI in `pki`.
pub fn development_ca(pki: &Path) -> Ca {
    load_ca(pki).expect("the development CA loads")
}

/// A CA of its own, trusted by nobody yet: its certificate (PEM) and the CA.
pub fn another_ca(name: &str) -> (String, Ca) {
    new_ca(name).expect("a new CA")
}

/// A client certificate and its key, as PEM.
pub struct Issued {
    pub cert: String,
    pub key: String,
}

impl Issued {
    /// The certificate and key together, as a caller presents them.
    pub fn identity(&self) -> Vec<u8> {
        format!("{}{}", self.cert, self.key).into_bytes()
    }
}

/// A client certificate for `common_name` issued by `ca`, its parameters changed by `change`.
pub fn issue(
    ca: &Ca,
    common_name: &str,
    change: impl FnOnce(&mut rcgen::CertificateParams),
) -> Issued {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = client_params(common_name).unwrap();
    change(&mut params);
    let cert = params.signed_by(&key, ca).unwrap();
    Issued {
        cert: cert.pem(),
        key: key.serialize_pem(),
    }
}

/// One gateway served by this process, stopped when dropped.
pub struct TestGateway {
    pub api: SocketAddr,
    pub ops: SocketAddr,
    pub config: Config,
    pub dir: TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestGateway {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts a gateway on the test configuration as `customize` changes it, once it is ready.
    pub async fn start_with(customize: impl FnOnce(&mut Config)) -> Self {
        let dir = fresh_dir();
        let mut config = test_config(dir.path());
        customize(&mut config);
        let api = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ops = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (api_addr, ops_addr) = (api.local_addr().unwrap(), ops.local_addr().unwrap());
        let prepared = prepare(config.clone()).await.expect("gateway prepares");
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(run(prepared, Listeners { api, ops }, async {
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

    /// Shuts the gateway down and waits for it to end cleanly.
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

    /// A URL on the operations listener (plain HTTP).
    pub fn ops_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.ops)
    }

    /// `GET path` on the operations listener.
    pub async fn ops_get(&self, path: &str) -> reqwest::Response {
        let response = reqwest::Client::new().get(self.ops_url(path)).send().await;
        response.unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }
}

impl Endpoint for TestGateway {
    fn pki(&self) -> PathBuf {
        TestGateway::pki(self)
    }

    fn config(&self) -> &Config {
        &self.config
    }

    fn url(&self, path: &str) -> String {
        TestGateway::url(self, path)
    }
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
