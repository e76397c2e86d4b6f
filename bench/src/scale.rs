//! `--scale`: the gateway at the size the product is meant for — a million clients and ten
//! million audit records — measured where size could hurt: the audited read of a random
//! client, a client's access report (found through the client index among all records), and
//! `gateway audit verify` over the whole log.
//!
//! The data set is loaded once per size and kept under `--scale-dir` (the SQLite file or the
//! name of the PostgreSQL schema, the keys it was written with, and a manifest written last);
//! later runs reuse it unless `--scale-fresh`. Every run appends to it (each read and each
//! report is on record), so a reused log grows by the requests of the runs before.

mod load;
mod measure;
mod mix;

use crate::loadgen::Mode;
use crate::report::{self, Report};
use crate::setup::Deployment;
use crate::{Args, Bench, GENERATOR_CORE, SERVER_CORE, procstat};
use anyhow::{Context, Result};
use load::Sizes;
use measure::DatasetResult;
use mix::SplitMix;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

/// What a loaded data set holds, written when the load is complete.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub clients: u64,
    pub records: u64,
    /// Records in the log when the load finished.
    pub log_size: u64,
    pub checkpoints: u64,
    pub report_client: String,
    pub loaded_at: String,
    pub load_seconds: f64,
    pub phases: Vec<Phase>,
    /// Peak resident memory of the benchmark process while it loaded.
    pub loader_peak_rss_mb: f64,
    /// The clients the read picks from: a uniform sample of all of them.
    pub sample: Vec<String>,
}

#[derive(Serialize, Deserialize)]
pub struct Phase {
    pub name: String,
    pub seconds: f64,
}

pub struct Dataset {
    pub label: &'static str,
    pub deployment: Deployment,
    pub manifest: Manifest,
    /// Whether this run loaded it (rather than finding it loaded).
    pub loaded_now: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ScaleReport {
    #[serde(flatten)]
    run: Report,
    datasets: Vec<DatasetResult>,
}

pub fn run(args: &Args) -> Result<()> {
    let sizes = Sizes {
        clients: args.scale_clients,
        records: args.scale_records,
    };
    let mut report = Report::new();
    let mut databases = vec![None];
    if !args.sqlite_only {
        databases.push(Some(args.postgres.as_str()));
    }
    // Loading uses every core; the measurements after it pin the generator and the server.
    let loading = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut datasets = Vec::new();
    for postgres in databases {
        match loading.block_on(prepare(args, &sizes, postgres)) {
            Ok(dataset) => datasets.push(dataset),
            Err(error) => {
                let label = if postgres.is_some() {
                    "postgres"
                } else {
                    "sqlite"
                };
                eprintln!("{label}: skipped: {error:#}");
                report
                    .notes
                    .push(format!("{label}: not measured: {error:#}"));
            }
        }
    }
    drop(loading);
    let pin = std::thread::available_parallelism().map_or(1, usize::from) >= 2;
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
    runtime.block_on(bench.baseline(&[(Mode::KeepAlive, args.connections)], &mut report))?;
    let mut results = Vec::new();
    for dataset in &datasets {
        match runtime.block_on(measure::dataset(&bench, args, dataset, &mut report)) {
            Ok(result) => results.push(result),
            Err(error) => {
                eprintln!("{}: not measured: {error:#}", dataset.label);
                report
                    .notes
                    .push(format!("{}: not measured: {error:#}", dataset.label));
            }
        }
    }
    report.compare_to_baseline(|r| r.name == "baseline");
    println!("{}", report::render_table(&report));
    println!();
    println!("{}", measure::render(&results));
    let out = ScaleReport {
        run: report,
        datasets: results,
    };
    write_json(&out, &args.scale_out)?;
    println!("wrote {}", args.scale_out.display());
    Ok(())
}

/// The data set of this size on this database: the one kept from an earlier run, or loaded
/// now.
async fn prepare(args: &Args, sizes: &Sizes, postgres: Option<&str>) -> Result<Dataset> {
    let label = if postgres.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let dir = args
        .scale_dir
        .join(format!("{label}-{}-{}", sizes.clients, sizes.records));
    let schema = format!("bench_scale_{}_{}", sizes.clients, sizes.records);
    let database = postgres.map(|url| (url, schema.as_str()));
    let manifest_file = dir.join("manifest.json");
    if !args.scale_fresh && manifest_file.exists() {
        let manifest: Manifest = serde_json::from_slice(&std::fs::read(&manifest_file)?)
            .with_context(|| format!("reading {}", manifest_file.display()))?;
        eprintln!(
            "{label}: reusing the data set in {} (loaded {} in {:.0} s)",
            dir.display(),
            manifest.loaded_at,
            manifest.load_seconds
        );
        return Ok(Dataset {
            label,
            deployment: Deployment::at(&dir, database)?,
            manifest,
            loaded_now: false,
        });
    }
    // Whatever is there is an interrupted or unwanted load.
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir)?;
    let deployment = Deployment::at(&dir, database)?;
    deployment.drop_schema().await?;
    eprintln!(
        "{label}: loading {} clients and {} audit records into {}",
        sizes.clients,
        sizes.records,
        dir.display()
    );
    let started = Instant::now();
    let loaded = load::load(&deployment.config, sizes).await?;
    let load_seconds = started.elapsed().as_secs_f64();
    let peak = procstat::snapshot(std::process::id())?.peak_rss_bytes;
    let mut random = SplitMix(0x5EED);
    let sample = (0..args.scale_sample.min(loaded.clients.len()))
        .map(|_| loaded.clients[random.below(loaded.clients.len() as u64) as usize].clone())
        .collect();
    let manifest = Manifest {
        clients: sizes.clients,
        records: sizes.records,
        log_size: loaded.log_size,
        checkpoints: loaded.checkpoints,
        report_client: loaded.clients[loaded.report as usize].clone(),
        loaded_at: report::rfc3339_utc(SystemTime::now()),
        load_seconds,
        phases: loaded
            .phases
            .iter()
            .map(|(name, seconds)| Phase {
                name: (*name).to_owned(),
                seconds: *seconds,
            })
            .collect(),
        loader_peak_rss_mb: peak as f64 / 1_048_576.0,
        sample,
    };
    eprintln!(
        "{label}: loaded {} records in {load_seconds:.1} s ({})",
        loaded.log_size,
        manifest
            .phases
            .iter()
            .map(|p| format!("{} {:.1} s", p.name, p.seconds))
            .collect::<Vec<_>>()
            .join(", ")
    );
    write_json(&manifest, &manifest_file)?;
    Ok(Dataset {
        label,
        deployment,
        manifest,
        loaded_now: true,
    })
}

fn write_json(value: &impl Serialize, path: &Path) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut json = serde_json::to_string_pretty(value)?;
    json.push('\n');
    std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))
}
