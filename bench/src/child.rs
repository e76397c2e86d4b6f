//! The server under test runs in a child process (this binary with `--serve`), so that its
//! CPU time and memory are read from `/proc` apart from the load generator's, and so that it
//! can be pinned to a core of its own. The parent writes the configuration as one JSON line
//! on the child's stdin; the child answers `listening <address>` on stdout and serves until
//! its stdin closes — also when the parent dies, so no server is left behind.

use crate::baseline;
use crate::procstat;
use anyhow::{Context, Result, bail};
use gateway::auth::parties::Parties;
use gateway::config::Config;
use gateway::server::{self, Listeners};
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::watch;

const LISTENING: &str = "listening ";

/// What the child serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Server {
    /// The gateway itself.
    Gateway,
    /// rustls with the gateway's own TLS settings and a fixed JSON answer: the ceiling.
    Baseline,
}

pub struct ServerChild {
    child: Child,
    stdin: Option<ChildStdin>,
    pub addr: SocketAddr,
    pub pid: u32,
}

impl ServerChild {
    pub fn spawn(server: Server, config: &Config, core: Option<usize>) -> Result<Self> {
        let kind = match server {
            Server::Gateway => "gateway",
            Server::Baseline => "baseline",
        };
        let mut command = Command::new(std::env::current_exe()?);
        command.args(["--serve", kind]);
        if let Some(core) = core {
            command.args(["--pin-core", &core.to_string()]);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting the server under test")?;
        let pid = child.id();
        let mut stdin = child.stdin.take().context("child stdin")?;
        let stdout = child.stdout.take().context("child stdout")?;
        let started = (|| -> Result<SocketAddr> {
            writeln!(stdin, "{}", serde_json::to_string(config)?)?;
            stdin.flush()?;
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line)?;
            match line.trim().strip_prefix(LISTENING) {
                Some(addr) => Ok(addr.parse()?),
                None => bail!("the {kind} server did not start"),
            }
        })();
        match started {
            Ok(addr) => Ok(Self {
                child,
                stdin: Some(stdin),
                addr,
                pid,
            }),
            Err(error) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(error)
            }
        }
    }

    pub fn stop(mut self) -> Result<()> {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                anyhow::ensure!(status.success(), "the server exited with {status}");
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        bail!("the server did not stop within 15 s")
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The child's side.
pub fn serve(server: Server, core: Option<usize>) -> Result<()> {
    if let Some(core) = core
        && !procstat::pin_to_core(std::process::id(), core)
    {
        eprintln!("warning: could not pin the server to core {core}");
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let config: Config = serde_json::from_str(&line).context("the configuration on stdin")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let (stop, stopped) = watch::channel(false);
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
            let _ = stop.send(true);
        });
        let api = TcpListener::bind("127.0.0.1:0").await?;
        let addr = api.local_addr()?;
        match server {
            Server::Baseline => {
                let provider = Arc::new(rustls::crypto::ring::default_provider());
                let parties = Parties::load(&config, &provider)?;
                let (mut tls, _) =
                    gateway::http::tls::server_config(&config.server, &parties, provider)?;
                Arc::make_mut(&mut tls).alpn_protocols = vec![b"http/1.1".to_vec()];
                announce(addr);
                baseline::serve(api, tls, stopped).await;
            }
            Server::Gateway => {
                let ops = TcpListener::bind("127.0.0.1:0").await?;
                let prepared = server::prepare(config).await?;
                announce(addr);
                let mut stopped = stopped;
                server::run(prepared, Listeners { api, ops }, async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                })
                .await?;
            }
        }
        Ok(())
    })
}

fn announce(addr: SocketAddr) {
    println!("{LISTENING}{addr}");
}
