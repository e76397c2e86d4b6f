//! The real `gateway` binary as a child process, for what an in-process server cannot show:
//! a kill -9 in the middle of a load, the process's own log output, the command line run
//! against a gateway's database, and several processes sharing one database.
//!
//! A [`Deployment`] is one temporary directory with a development PKI, a database and a
//! configuration file; any number of [`GatewayProcess`]es can be started from it, one after
//! the other (a restart) or side by side (several instances, PostgreSQL only). Callers reach
//! a process as they reach an in-process gateway, through [`Endpoint`].

use super::callers::Endpoint;
use super::library::Config;
use super::server::{TestGateway, fresh_dir, test_config};
use serde_json::Value;
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
        let dir = fresh_dir();
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

    /// Changes the deployment's configuration (before it starts) and writes it again.
    pub fn change(&mut self, change: impl FnOnce(&mut Config)) {
        change(&mut self.config);
        self.write_config(&self.config_file);
    }

    /// The deployment's directory (PKI, database, configuration).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes this deployment's configuration on two fresh ports.
    fn write_config(&self, file: &Path) {
        let mut config = self.config.clone();
        config.server.listen = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        config.server.ops_listen = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        write_config_file(&config, file);
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
        let mut child = gateway_command(config_file, self.dir.path())
            .arg("serve")
            .env("RUST_LOG", log)
            .spawn()
            .expect("the gateway binary starts");
        let stdout = capture(child.stdout.take());
        let stderr = capture(child.stderr.take());
        let mut gateway = GatewayProcess {
            child,
            pki: self.dir.path().join("pki"),
            config,
            stdout,
            stderr,
            finished: false,
        };
        gateway.wait_ready().await;
        gateway
    }

    /// `gateway --config FILE <args>`, run to completion (bounded) without a server.
    pub fn cli(&self, args: &[&str]) -> Finished {
        self.cli_with(&self.config_file, args)
    }

    /// The same with another configuration file of this deployment.
    pub fn cli_with(&self, config_file: &Path, args: &[&str]) -> Finished {
        run_to_completion(gateway_command(config_file, self.dir.path()), args)
    }
}

impl TestGateway {
    /// `gateway <args>` against this gateway's configuration and database, run to completion
    /// (bounded) on a thread of its own: the gateway runs on the test's runtime, and must go
    /// on serving (and committing) while the command waits for the database.
    pub async fn cli(&self, args: &[&str]) -> Finished {
        let file = self.dir.path().join("gateway.toml");
        write_config_file(&self.config, &file);
        let command = gateway_command(&file, self.dir.path());
        let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run_to_completion(command, &args)
        })
        .await
        .expect("the command's thread")
    }
}

/// `gateway --config FILE`, in `dir`, its output piped.
fn gateway_command(config_file: &Path, dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gateway"));
    command
        .arg("--config")
        .arg(config_file)
        // Relative paths (none are expected) then land in the temporary directory, never in
        // the repository.
        .current_dir(dir)
        .env_remove("GATEWAY_CONFIG")
        .env_remove("GATEWAY_DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn run_to_completion(mut command: Command, args: &[&str]) -> Finished {
    let mut child = command
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

pub struct GatewayProcess {
    child: Child,
    pki: PathBuf,
    config: Config,
    stdout: Captured,
    stderr: Captured,
    finished: bool,
}

impl Endpoint for GatewayProcess {
    fn pki(&self) -> PathBuf {
        self.pki.clone()
    }

    fn config(&self) -> &Config {
        &self.config
    }

    fn url(&self, path: &str) -> String {
        format!(
            "https://localhost:{}{path}",
            self.config.server.listen.port()
        )
    }
}

impl GatewayProcess {
    async fn wait_ready(&mut self) {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        let url = format!("http://{}/readyz", self.config.server.ops_listen);
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

/// A port for a gateway process to bind itself, chosen below the kernel's ephemeral range
/// (`ip_local_port_range` starts at 32768 here). A port taken from the ephemeral range and
/// released can be handed out again at once, as a listener of an in-process test or as the
/// source port of any outgoing connection, before the child process binds it; below the
/// range only deliberate binds compete, and each test process walks its own sequence.
fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const LOW: u32 = 10_000;
    const SPAN: u32 = 22_000;
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let _ = NEXT.compare_exchange(
        u32::MAX,
        std::process::id().wrapping_mul(7_919) % SPAN,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    loop {
        let port = (LOW + NEXT.fetch_add(1, Ordering::SeqCst) % SPAN) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Writes `config` as a complete file. (`Config::load` would merge a `default.toml` lying
/// next to the file; there is none in the temporary directory, so the file says everything.)
fn write_config_file(config: &Config, file: &Path) {
    std::fs::write(file, to_toml(config)).expect("configuration file");
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
