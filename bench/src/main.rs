//! `gateway-bench`: how fast the gateway is on this machine, measured against the ceiling of
//! its own stack in the same run. A closed-loop mutual-TLS load generator drives, in turn, a
//! bare rustls server with the gateway's TLS settings and a fixed answer (the baseline), then
//! the gateway on SQLite and on PostgreSQL, each as a child process pinned to its own core.
//! Every scenario is reported as req/s, latency percentiles, the server's CPU time per request
//! and its peak memory, and as a ratio to the baseline in the same mode.
//!
//! `cargo run --release -p gateway-bench -- --all --duration 10` writes the table to
//! stdout and the JSON to `target/bench/results.json`; `-- --scale` measures the gateway at
//! a million clients and ten million audit records instead (see `scale.rs`).

mod baseline;
mod child;
mod loadgen;
mod nginx;
mod procstat;
mod report;
mod scale;
mod scenarios;
mod seed;
mod setup;

use anyhow::{Context, Result};
use child::{Server, ServerChild};
use clap::Parser;
use loadgen::{LoadConfig, LoadResult, Mode, Scenario};
use report::{Report, ScenarioResult};
use rustls_pki_types::ServerName;
use scenarios::{Caller, Feed, Read, Register, Whoami, Write};
use setup::Deployment;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const GENERATOR_CORE: usize = 0;
const SERVER_CORE: usize = 1;
/// Writers beside the feed's readers in the `feed` scenario.
const FEED_WRITERS: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Name {
    Baseline,
    Whoami,
    Read,
    Write,
    Register,
    Feed,
    Handshake,
}

#[derive(Parser)]
#[command(about = "Load benchmarks of the gateway against a bare rustls baseline")]
struct Args {
    /// Every scenario, on SQLite and (if it answers) PostgreSQL.
    #[arg(long)]
    all: bool,
    /// Only these scenarios (repeat the flag); the baseline always runs.
    #[arg(long = "scenario", value_enum)]
    scenarios: Vec<Name>,
    /// Measured seconds per scenario.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Warm-up seconds before each measurement.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Kept-alive connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Workers opening a new connection per request (`handshake`).
    #[arg(long, default_value_t = 8)]
    handshake_connections: usize,
    /// Clients registered before `read` (and `write`) run.
    #[arg(long, default_value_t = 100_000)]
    clients: u64,
    /// The PostgreSQL server; each run gets a schema of its own there. The default is the
    /// local server's Unix socket: over TCP, sqlx 0.9.0 leaves Nagle's algorithm on and
    /// pipelined statements wait ~40 ms for a delayed ACK (transact-rs/sqlx#4335).
    #[arg(
        long,
        default_value = "postgres://postgres@localhost/postgres?host=/var/run/postgresql"
    )]
    postgres: String,
    /// Skip PostgreSQL.
    #[arg(long)]
    sqlite_only: bool,
    #[arg(long, default_value = "target/bench/results.json")]
    out: PathBuf,
    /// Exit with an error if a database could not be measured or any request failed (CI).
    #[arg(long)]
    strict: bool,
    /// Load a million clients and ten million audit records (kept for later runs) and
    /// measure the read, a client's access report and `gateway audit verify` at that size.
    #[arg(long)]
    scale: bool,
    /// Clients in the scale data set.
    #[arg(long, default_value_t = 1_000_000)]
    scale_clients: u64,
    /// Audit records in the scale data set, the clients' registrations included.
    #[arg(long, default_value_t = 10_000_000)]
    scale_records: u64,
    /// Access reports requested one after the other.
    #[arg(long, default_value_t = 50)]
    scale_reports: u64,
    /// Clients the scale read picks from, sampled uniformly from all of them.
    #[arg(long, default_value_t = 100_000)]
    scale_sample: usize,
    /// Load the scale data set again even if one of that size is kept.
    #[arg(long)]
    scale_fresh: bool,
    /// Where scale data sets are kept, one directory per database and size.
    #[arg(long, default_value = "target/bench/scale")]
    scale_dir: PathBuf,
    #[arg(long, default_value = "target/bench/scale.json")]
    scale_out: PathBuf,
    /// Run as the server under test (internal).
    #[arg(long, value_enum, hide = true)]
    serve: Option<Server>,
    #[arg(long, hide = true)]
    pin_core: Option<usize>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    if let Some(server) = args.serve {
        return child::serve(server, args.pin_core);
    }
    if args.scale {
        return scale::run(&args);
    }
    let wanted: Vec<Name> = if args.all || args.scenarios.is_empty() {
        vec![
            Name::Baseline,
            Name::Whoami,
            Name::Read,
            Name::Write,
            Name::Register,
            Name::Feed,
            Name::Handshake,
        ]
    } else {
        args.scenarios.clone()
    };
    let pin = std::thread::available_parallelism().map_or(1, usize::from) >= 2;
    // Pinned before the runtime exists, so that its worker count follows the one core.
    if pin && !procstat::pin_to_core(std::process::id(), GENERATOR_CORE) {
        eprintln!("warning: could not pin the load generator to core {GENERATOR_CORE}");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let bench = Bench {
        duration: Duration::try_from_secs_f64(args.duration).context("--duration")?,
        warmup: Duration::try_from_secs_f64(args.warmup).context("--warmup")?,
        core: pin.then_some(SERVER_CORE),
    };
    let mut report = Report::new();
    let modes = [
        (Mode::KeepAlive, args.connections),
        (Mode::Handshake, args.handshake_connections),
    ];
    runtime.block_on(bench.baseline(&modes, &mut report))?;
    if wanted.contains(&Name::Handshake) {
        runtime.block_on(bench.nginx(&modes, &mut report))?;
    }
    let mut databases = vec![None];
    if !args.sqlite_only {
        databases.push(Some(args.postgres.as_str()));
    }
    for postgres in databases {
        let label = if postgres.is_some() {
            "postgres"
        } else {
            "sqlite"
        };
        match runtime.block_on(bench.gateway(&args, &wanted, postgres, &mut report)) {
            Ok(()) => {}
            Err(error) => {
                eprintln!("{label}: skipped: {error:#}");
                report
                    .notes
                    .push(format!("{label}: not measured: {error:#}"));
            }
        }
    }
    report.compare_to_baseline(|r| r.name == "baseline");
    compare_handshakes_to_nginx(&mut report);
    println!("{}", report::render_table(&report));
    report::write_json(&report, &args.out)?;
    println!("wrote {}", args.out.display());
    let failed: Vec<_> = report
        .results
        .iter()
        .filter(|r| !r.errors.is_empty())
        .map(|r| format!("{} ({})", r.name, r.database.as_deref().unwrap_or("-")))
        .collect();
    if args.strict && (!failed.is_empty() || !report.notes.is_empty()) {
        anyhow::bail!("errors in {failed:?}; {:?}", report.notes);
    }
    Ok(())
}

/// The handshake target is a multiple of nginx's rate: each gateway handshake row
/// says its ratio to nginx's handshake in the same run.
fn compare_handshakes_to_nginx(report: &mut Report) {
    let nginx = report
        .results
        .iter()
        .find(|r| r.name == "nginx" && r.mode == Mode::Handshake)
        .map(|r| r.rps)
        .filter(|rps| *rps > 0.0);
    let Some(nginx) = nginx else {
        return;
    };
    for result in report.results.iter_mut().filter(|r| r.name == "handshake") {
        let note = format!(
            "a new mutual-TLS connection per request; {:.2}× nginx's {nginx:.0}/s",
            result.rps / nginx
        );
        result.note = Some(note);
    }
}

struct Bench {
    duration: Duration,
    warmup: Duration,
    core: Option<usize>,
}

impl Bench {
    fn load(
        &self,
        addr: std::net::SocketAddr,
        tls: &Arc<rustls::ClientConfig>,
        mode: Mode,
        connections: usize,
    ) -> Result<LoadConfig> {
        let mut config = LoadConfig::new(
            addr,
            ServerName::try_from(setup::SERVER_NAME)?,
            tls.clone(),
            mode,
            connections,
        );
        config.warmup = self.warmup;
        config.duration = self.duration;
        Ok(config)
    }

    /// Runs one load while sampling the server over the same measured window.
    async fn measure<S: Scenario>(
        &self,
        name: &str,
        config: &LoadConfig,
        server_pid: u32,
        scenario: Arc<S>,
    ) -> Result<ScenarioResult> {
        let start = Instant::now() + config.warmup;
        let sampler = tokio::spawn(procstat::sample_window(
            server_pid,
            start,
            start + config.duration,
        ));
        let load: LoadResult = loadgen::run(config, scenario).await?;
        let usage = sampler.await.context("the sampler")??;
        eprintln!("{name}: {load}");
        Ok(ScenarioResult::from_load(name, &load).with_server_usage(&usage))
    }

    /// The ceiling: the gateway's TLS settings and certificates, a fixed ~300-byte answer;
    /// once per mode and connection count.
    async fn baseline(&self, modes: &[(Mode, usize)], report: &mut Report) -> Result<()> {
        let deployment = Deployment::new(None)?;
        let server = ServerChild::spawn(Server::Baseline, &deployment.config, self.core)?;
        let (addr, pid) = (server.addr, server.pid);
        self.fixed_answer("baseline", &deployment, (addr, pid), modes, report)
            .await?;
        server.stop()
    }

    /// A server with a fixed answer (the baseline, nginx), once per mode and connection
    /// count; it checks no token, so none is sent.
    async fn fixed_answer(
        &self,
        name: &str,
        deployment: &Deployment,
        (addr, pid): (std::net::SocketAddr, u32),
        modes: &[(Mode, usize)],
        report: &mut Report,
    ) -> Result<()> {
        let tls = deployment.client_tls(setup::PARTY)?;
        let caller = Caller::new("not-checked");
        for &(mode, connections) in modes {
            let config = self.load(addr, &tls, mode, connections)?;
            let scenario = Arc::new(Whoami(caller.clone()));
            let result = self.measure(name, &config, pid, scenario).await?;
            report.results.push(result);
        }
        Ok(())
    }

    /// nginx with the same certificates and answer, if installed; a note if not.
    async fn nginx(&self, modes: &[(Mode, usize)], report: &mut Report) -> Result<()> {
        let Some(binary) = nginx::find() else {
            report.notes.push(
                "nginx is not installed: the handshake is compared with the baseline only".into(),
            );
            return Ok(());
        };
        let deployment = Deployment::new(None)?;
        let server = nginx::Nginx::spawn(&binary, deployment.pki(), self.core)?;
        let (addr, pid) = (server.addr, server.pid);
        self.fixed_answer("nginx", &deployment, (addr, pid), modes, report)
            .await?;
        Ok(())
    }

    /// Every wanted scenario against the gateway on one database.
    async fn gateway(
        &self,
        args: &Args,
        wanted: &[Name],
        postgres: Option<&str>,
        report: &mut Report,
    ) -> Result<()> {
        let label = if postgres.is_some() {
            "postgres"
        } else {
            "sqlite"
        };
        let deployment = Deployment::new(postgres)?;
        let server = ServerChild::spawn(Server::Gateway, &deployment.config, self.core)?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let idle = procstat::snapshot(server.pid)?;
        let tls = deployment.client_tls(setup::PARTY)?;
        let caller = Caller::new(&deployment.token()?);
        let needs_clients = wanted
            .iter()
            .any(|n| matches!(n, Name::Read | Name::Write | Name::Feed));
        let clients = if needs_clients {
            let count = args.clients.max(args.connections as u64);
            let started = Instant::now();
            let seeded = seed::register(server.addr, &tls, &caller, count).await?;
            eprintln!(
                "{label}: registered {} clients in {:.1} s",
                seeded.len(),
                started.elapsed().as_secs_f64()
            );
            Arc::new(seeded)
        } else {
            Arc::new(Vec::new())
        };
        let idle_note = format!("idle RSS {:.1} MB", idle.rss_bytes as f64 / 1_048_576.0);
        let keep_alive = self.load(server.addr, &tls, Mode::KeepAlive, args.connections)?;
        for name in wanted {
            let result = match name {
                Name::Baseline => continue,
                Name::Whoami => self
                    .measure(
                        "whoami",
                        &keep_alive,
                        server.pid,
                        Arc::new(Whoami(caller.clone())),
                    )
                    .await?
                    .with_note(idle_note.clone()),
                Name::Read => {
                    let read = Read {
                        caller: caller.clone(),
                        clients: clients.clone(),
                    };
                    self.measure("read", &keep_alive, server.pid, Arc::new(read))
                        .await?
                        .with_note(format!("{} clients", clients.len()))
                }
                Name::Write => {
                    let write = Write {
                        caller: caller.clone(),
                        clients: clients.clone(),
                    };
                    self.measure("write", &keep_alive, server.pid, Arc::new(write))
                        .await?
                        .with_note("each write's audit record durable before the answer")
                }
                Name::Register => {
                    let register = Register {
                        caller: caller.clone(),
                        first: args.clients + 1_000_000,
                    };
                    self.measure("register", &keep_alive, server.pid, Arc::new(register))
                        .await?
                }
                Name::Feed => self.feed(&server, &tls, &caller, &clients).await?,
                Name::Handshake => {
                    let config = self.load(
                        server.addr,
                        &tls,
                        Mode::Handshake,
                        args.handshake_connections,
                    )?;
                    self.measure(
                        "handshake",
                        &config,
                        server.pid,
                        Arc::new(Whoami(caller.clone())),
                    )
                    .await?
                    .with_note("a new mutual-TLS connection per request")
                }
            };
            report.results.push(result.with_database(label));
        }
        server.stop()?;
        deployment.drop_schema().await
    }

    /// Readers following the change feed while writers change records beside them.
    async fn feed(
        &self,
        server: &ServerChild,
        tls: &Arc<rustls::ClientConfig>,
        caller: &Caller,
        clients: &Arc<Vec<String>>,
    ) -> Result<ScenarioResult> {
        let writers = self.load(server.addr, tls, Mode::KeepAlive, FEED_WRITERS)?;
        let write = Write {
            caller: caller.clone(),
            clients: clients.clone(),
        };
        let background = tokio::spawn(async move { loadgen::run(&writers, Arc::new(write)).await });
        let readers = self.load(server.addr, tls, Mode::KeepAlive, FEED_WRITERS)?;
        let feed = Arc::new(Feed {
            caller: caller.clone(),
            delivered: AtomicU64::new(0),
        });
        let result = self
            .measure("feed", &readers, server.pid, feed.clone())
            .await?;
        let writes = background.await.context("the writers")??;
        // Counted over warm-up and measurement alike, as the writes beside them are.
        let seconds = (self.warmup + self.duration).as_secs_f64();
        Ok(result.with_note(format!(
            "{FEED_WRITERS} readers beside {FEED_WRITERS} writers ({:.0} writes/s); {:.0} events/s delivered",
            writes.requests_per_second(),
            feed.delivered.load(Ordering::Relaxed) as f64 / seconds
        )))
    }
}
