//! The measurements on a loaded data set: the read of a random client under load, a client's
//! access report request after request, and `gateway audit verify` as an operator runs it.

use super::Dataset;
use crate::child::{Server, ServerChild};
use crate::loadgen::{Mode, latency_histogram};
use crate::report::{LatencyUs, Report};
use crate::scenarios::{Caller, Read};
use crate::setup::{PARTY, SERVER_NAME, repo};
use crate::{Args, Bench, procstat};
use anyhow::{Context, Result, bail, ensure};
use serde::Serialize;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The product's aims at this size.
const VERIFY_RECORDS_PER_SECOND: f64 = 1_000_000.0;
const REPORT_P99_MS: f64 = 50.0;
const READ_RATIO: f64 = 0.5;
const READ_P99_MS: f64 = 10.0;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasetResult {
    pub database: String,
    pub clients: u64,
    /// Records in the log as loaded.
    pub loaded_records: u64,
    /// Whether this run loaded the data set (otherwise it was kept from an earlier run).
    pub loaded_now: bool,
    pub load_seconds: f64,
    pub load_phases: Vec<super::Phase>,
    pub loader_peak_rss_mb: f64,
    pub access_report: AccessReportResult,
    pub verify: VerifyResult,
    pub targets: Vec<Target>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessReportResult {
    pub client_id: String,
    pub requests: u64,
    /// Entries in the report (accesses and refusals), from the first answer.
    pub entries: u64,
    pub latency_us: LatencyUs,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyResult {
    pub records: u64,
    pub checkpoints: u64,
    /// Wall time of the whole command, start-up included.
    pub seconds: f64,
    pub records_per_second: f64,
    pub peak_rss_mb: f64,
    /// What the command printed.
    pub output: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    pub what: String,
    pub aim: String,
    pub measured: String,
    pub met: bool,
}

/// Measures one data set; the read goes into `report` beside the baseline.
pub async fn dataset(
    bench: &Bench,
    args: &Args,
    dataset: &Dataset,
    report: &mut Report,
) -> Result<DatasetResult> {
    let label = dataset.label;
    let deployment = &dataset.deployment;
    let manifest = &dataset.manifest;
    let server = ServerChild::spawn(Server::Gateway, &deployment.config, bench.core)?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let tls = deployment.client_tls(PARTY)?;
    let read = Read {
        caller: Caller::new(&deployment.token()?),
        clients: Arc::new(manifest.sample.clone()),
    };
    let keep_alive = bench.load(server.addr, &tls, Mode::KeepAlive, args.connections)?;
    let result = bench
        .measure("read", &keep_alive, server.pid, Arc::new(read))
        .await?
        .with_database(label)
        .with_note(format!(
            "a random sample of {} of {} clients, log of {}+ records",
            manifest.sample.len(),
            manifest.clients,
            manifest.log_size
        ));
    let (read_rps, read_p99_ms) = (result.rps, result.latency_us.p99 as f64 / 1000.0);
    report.results.push(result);
    let officer = Caller::for_purpose(
        &deployment.token_as(PARTY, "privacyOfficer", "po-1")?,
        "auditReview",
    );
    let access_report = access_report(
        server.addr,
        &tls,
        &officer,
        &manifest.report_client,
        args.scale_reports,
    )
    .await?;
    server.stop()?;
    let verify = tokio::task::spawn_blocking({
        let config = deployment.config.clone();
        move || verify(&config)
    })
    .await??;

    let baseline = report
        .results
        .iter()
        .find(|r| r.name == "baseline" && r.mode == Mode::KeepAlive)
        .map(|r| r.rps);
    let ratio = baseline.filter(|b| *b > 0.0).map(|b| read_rps / b);
    let report_p99 = access_report.latency_us.p99 as f64 / 1000.0;
    let targets = vec![
        Target {
            what: "read, × baseline".into(),
            aim: format!("≥ {READ_RATIO}"),
            measured: ratio.map_or_else(|| "–".into(), |r| format!("{r:.3}")),
            met: ratio.is_some_and(|r| r >= READ_RATIO),
        },
        Target {
            what: format!("read p99 at {} connections", args.connections),
            aim: format!("< {READ_P99_MS} ms"),
            measured: format!("{read_p99_ms:.1} ms"),
            met: read_p99_ms < READ_P99_MS,
        },
        Target {
            what: "access report p99".into(),
            aim: format!("< {REPORT_P99_MS} ms"),
            measured: format!("{report_p99:.1} ms"),
            met: report_p99 < REPORT_P99_MS,
        },
        Target {
            what: "audit verify".into(),
            aim: format!("≥ {VERIFY_RECORDS_PER_SECOND:.0} records/s"),
            measured: format!("{:.0} records/s", verify.records_per_second),
            met: verify.records_per_second >= VERIFY_RECORDS_PER_SECOND,
        },
    ];
    Ok(DatasetResult {
        database: label.to_owned(),
        clients: manifest.clients,
        loaded_records: manifest.log_size,
        loaded_now: dataset.loaded_now,
        load_seconds: manifest.load_seconds,
        load_phases: manifest
            .phases
            .iter()
            .map(|p| super::Phase {
                name: p.name.clone(),
                seconds: p.seconds,
            })
            .collect(),
        loader_peak_rss_mb: manifest.loader_peak_rss_mb,
        access_report,
        verify,
        targets,
    })
}

/// `count` access reports of `client`, one after the other on one kept-alive connection, as
/// an officer at a desk asks for them; a first request opens the connection unmeasured.
async fn access_report(
    addr: SocketAddr,
    tls: &Arc<rustls::ClientConfig>,
    officer: &Caller,
    client: &str,
    count: u64,
) -> Result<AccessReportResult> {
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured((**tls).clone())
        .resolve(SERVER_NAME, addr)
        .build()?;
    let url = format!(
        "https://{SERVER_NAME}:{}/v1/audit/clients/{client}/access-report",
        addr.port()
    );
    let mut histogram = latency_histogram();
    let mut entries = 0;
    for request in 0..=count {
        let started = Instant::now();
        let response = http
            .get(&url)
            .header("authorization", officer.authorization())
            .header("processing-purpose", officer.purpose())
            .send()
            .await?;
        let status = response.status();
        let body = response.bytes().await?;
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        ensure!(status.is_success(), "the access report answered {status}");
        if request == 0 {
            let report: serde_json::Value = serde_json::from_slice(&body)?;
            entries =
                report["accesses"].as_u64().unwrap_or(0) + report["refusals"].as_u64().unwrap_or(0);
            continue;
        }
        histogram.saturating_record(micros.max(1));
    }
    let latency_us = LatencyUs::from_histogram(&histogram);
    eprintln!(
        "access report: {entries} entries, {count} requests, ms p50 {:.1} p99 {:.1} max {:.1}",
        latency_us.p50 as f64 / 1000.0,
        latency_us.p99 as f64 / 1000.0,
        latency_us.max as f64 / 1000.0
    );
    Ok(AccessReportResult {
        client_id: client.to_owned(),
        requests: count,
        entries,
        latency_us,
    })
}

/// Runs `gateway audit verify` on the deployment's database with its signing key, on every
/// core, and reads its peak memory from `/proc` while it runs.
fn verify(config: &gateway::config::Config) -> Result<VerifyResult> {
    let gateway = gateway_binary()?;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut command = Command::new("taskset");
    // This process is pinned to one core, and a child inherits that.
    command
        .args(["--cpu-list", &format!("0-{}", cores.max(2) - 1)])
        .arg(&gateway)
        .arg("--config")
        .arg(repo(gateway::config::DEV_CONFIG))
        .arg("--database-url")
        .arg(&config.database.url)
        .args(["audit", "verify"])
        .env("GATEWAY_AUDIT__SIGNING_KEY", &config.audit.signing_key)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(schema) = &config.database.schema {
        command.env("GATEWAY_DATABASE__SCHEMA", schema);
    }
    let started = Instant::now();
    let mut child = command.spawn().context("starting gateway audit verify")?;
    let mut peak = 0;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if let Ok(sample) = procstat::snapshot(child.id()) {
            peak = peak.max(sample.peak_rss_bytes);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let seconds = started.elapsed().as_secs_f64();
    let mut output = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        std::io::Read::read_to_string(&mut stdout, &mut output)?;
    }
    let output = output.trim().to_owned();
    ensure!(status.success(), "gateway audit verify failed: {output}");
    let (records, checkpoints) = parse_verified(&output)
        .with_context(|| format!("unexpected output of gateway audit verify: {output}"))?;
    eprintln!("audit verify: {output} — {seconds:.1} s wall");
    Ok(VerifyResult {
        records,
        checkpoints,
        seconds,
        records_per_second: records as f64 / seconds.max(1e-9),
        peak_rss_mb: peak as f64 / 1_048_576.0,
        output,
    })
}

/// `audit log verified: N records, M checkpoints (…)`.
fn parse_verified(output: &str) -> Option<(u64, u64)> {
    let rest = output.strip_prefix("audit log verified: ")?;
    let (records, rest) = rest.split_once(" records, ")?;
    let (checkpoints, _) = rest.split_once(" checkpoints")?;
    Some((records.parse().ok()?, checkpoints.parse().ok()?))
}

/// The `gateway` binary of the same build as this one, brought up to date first, so that the
/// log is verified by the code that is measured.
fn gateway_binary() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let profile_dir = exe.parent().context("the benchmark's directory")?;
    let target_dir = profile_dir.parent().context("the target directory")?;
    let profile = profile_dir
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("release");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .args(["build", "--quiet", "--bin", "gateway"])
        .args(["--package", "joint-client-gateway", "--manifest-path"])
        .arg(repo("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir);
    if profile != "debug" {
        build.args(["--profile", profile]);
    }
    let built = build
        .status()
        .context("running cargo build --bin gateway")?;
    let gateway = profile_dir.join("gateway");
    if !built.success() {
        bail!("cargo build --bin gateway failed");
    }
    Ok(gateway)
}

/// The scale figures as a Markdown table, then the targets.
pub fn render(results: &[DatasetResult]) -> String {
    let mut out = String::from(
        "| db | clients | records loaded | load s | access report entries | report p50 ms | report p99 ms | report max ms | verify records | verify s | verify records/s | verify peak RSS MB |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in results {
        let ms = |us: u64| format!("{:.2}", us as f64 / 1000.0);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.0}{} | {} | {} | {} | {} | {} | {:.1} | {:.0} | {:.1} |",
            r.database,
            r.clients,
            r.loaded_records,
            r.load_seconds,
            if r.loaded_now { "" } else { " (kept)" },
            r.access_report.entries,
            ms(r.access_report.latency_us.p50),
            ms(r.access_report.latency_us.p99),
            ms(r.access_report.latency_us.max),
            r.verify.records,
            r.verify.seconds,
            r.verify.records_per_second,
            r.verify.peak_rss_mb,
        );
    }
    out.push_str("\n| db | target | aim | measured | met |\n|---|---|---|---|---|\n");
    for r in results {
        for t in &r.targets {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                r.database,
                t.what,
                t.aim,
                t.measured,
                if t.met { "yes" } else { "no" }
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verify_summary_is_read() {
        assert_eq!(
            parse_verified(
                "audit log verified: 10000000 records, 10001 checkpoints (99000 records/s)"
            ),
            Some((10_000_000, 10_001))
        );
        assert_eq!(parse_verified("audit log verification FAILED"), None);
    }
}
