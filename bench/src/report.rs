//! Benchmark results model: JSON for machines, a Markdown table for people.
//!
//! The JSON field names are camelCase and stable so results from different runs and
//! machines can be compared by scripts; the machine block records what the numbers are
//! only valid for.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use hdrhistogram::Histogram;
use serde::Serialize;

use crate::loadgen::{LoadResult, Mode};
use crate::procstat::RunUsage;

/// Latency percentiles in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LatencyUs {
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

impl LatencyUs {
    pub fn from_histogram(histogram: &Histogram<u64>) -> Self {
        Self {
            p50: histogram.value_at_quantile(0.50),
            p90: histogram.value_at_quantile(0.90),
            p99: histogram.value_at_quantile(0.99),
            p999: histogram.value_at_quantile(0.999),
            max: histogram.max(),
        }
    }
}

/// One measured scenario.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioResult {
    pub name: String,
    /// Database backend the gateway used, when relevant to the scenario.
    pub database: Option<String>,
    pub connections: usize,
    pub mode: Mode,
    pub duration_s: f64,
    pub requests: u64,
    pub rps: f64,
    /// Throughput relative to the baseline server under the same mode and concurrency.
    pub ratio_to_baseline: Option<f64>,
    pub latency_us: LatencyUs,
    /// Error label (see `ErrorCounts::labeled`) to count; empty when the run was clean.
    pub errors: BTreeMap<String, u64>,
    pub server_cpu_s: Option<f64>,
    /// Server CPU time per completed request: the efficiency figure that stays meaningful
    /// when the load generator, not the server, is the bottleneck.
    pub server_cpu_per_req_us: Option<f64>,
    /// Peak resident set size of the server in MiB (2^20 bytes).
    pub server_peak_rss_mb: Option<f64>,
    /// Connections opened in the window (one per request in handshake mode).
    pub connections_opened: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub note: Option<String>,
}

impl ScenarioResult {
    pub fn from_load(name: impl Into<String>, load: &LoadResult) -> Self {
        Self {
            name: name.into(),
            database: None,
            connections: load.connections,
            mode: load.mode,
            duration_s: load.measured.as_secs_f64(),
            requests: load.requests,
            rps: load.requests_per_second(),
            ratio_to_baseline: None,
            latency_us: LatencyUs::from_histogram(&load.latency_us),
            errors: load.errors.labeled(),
            server_cpu_s: None,
            server_cpu_per_req_us: None,
            server_peak_rss_mb: None,
            connections_opened: load.connections_opened,
            bytes_sent: load.bytes_sent,
            bytes_received: load.bytes_received,
            note: None,
        }
    }

    /// Attaches server resource usage sampled over the same measured window.
    pub fn with_server_usage(mut self, usage: &RunUsage) -> Self {
        self.server_cpu_s = Some(usage.cpu_seconds);
        self.server_cpu_per_req_us =
            (self.requests > 0).then(|| usage.cpu_seconds * 1e6 / self.requests as f64);
        self.server_peak_rss_mb = Some(usage.peak_rss_mib());
        self
    }

    pub fn with_database(mut self, database: impl Into<String>) -> Self {
        self.database = Some(database.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
}

/// Where the numbers were measured.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Machine {
    /// Online logical CPUs of the machine (not the affinity mask of this process).
    pub cpus: usize,
    pub cpu_model: String,
    pub kernel: String,
}

impl Machine {
    pub fn detect() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpus = cpuinfo
            .lines()
            .filter(|l| l.starts_with("processor"))
            .count();
        let cpus = if cpus > 0 {
            cpus
        } else {
            std::thread::available_parallelism().map_or(1, usize::from)
        };
        let cpu_model = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or_else(
                || "unknown".to_owned(),
                |(_, model)| model.trim().to_owned(),
            );
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or_else(|_| "unknown".to_owned(), |k| k.trim().to_owned());
        Self {
            cpus,
            cpu_model,
            kernel,
        }
    }
}

/// A full benchmark run.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub machine: Machine,
    /// When the report was created, UTC, RFC 3339.
    pub date: String,
    pub results: Vec<ScenarioResult>,
    /// What could not be measured in this run, and why; the table's notes follow it.
    pub notes: Vec<String>,
}

impl Report {
    /// An empty report for this machine, dated now.
    pub fn new() -> Self {
        Self {
            machine: Machine::detect(),
            date: rfc3339_utc(SystemTime::now()),
            results: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Fills `ratio_to_baseline` for every result from the baseline result (chosen by
    /// `is_baseline`) with the same mode and connection count, falling back to any baseline
    /// with the same mode. Comparing across modes would be meaningless: handshake-bound and
    /// keep-alive throughput differ by an order of magnitude.
    pub fn compare_to_baseline(&mut self, is_baseline: impl Fn(&ScenarioResult) -> bool) {
        let baselines: Vec<(Mode, usize, f64)> = self
            .results
            .iter()
            .filter(|r| is_baseline(r))
            .map(|r| (r.mode, r.connections, r.rps))
            .collect();
        for result in &mut self.results {
            let exact = baselines
                .iter()
                .find(|(m, c, _)| *m == result.mode && *c == result.connections);
            let same_mode = || baselines.iter().find(|(m, _, _)| *m == result.mode);
            result.ratio_to_baseline = exact
                .or_else(same_mode)
                .filter(|(_, _, rps)| *rps > 0.0)
                .map(|(_, _, rps)| result.rps / rps);
        }
    }
}

impl Default for Report {
    fn default() -> Self {
        Self::new()
    }
}

/// Renders the results as a Markdown table, one row per scenario.
pub fn render_table(report: &Report) -> String {
    const HEADER: [&str; 12] = [
        "scenario",
        "db",
        "conns",
        "req/s",
        "× baseline",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "max ms",
        "errors",
        "server CPU µs/req",
        "peak RSS MB",
    ];
    let mut out = String::new();
    push_row(&mut out, HEADER.iter().map(|h| h.to_string()));
    push_row(&mut out, HEADER.iter().map(|_| "---".to_owned()));
    for r in &report.results {
        push_row(
            &mut out,
            [
                r.name.clone(),
                r.database.clone().unwrap_or_else(|| NONE.to_owned()),
                r.connections.to_string(),
                format!("{:.0}", r.rps),
                optional(r.ratio_to_baseline, |x| format!("{x:.2}")),
                millis(r.latency_us.p50),
                millis(r.latency_us.p99),
                millis(r.latency_us.p999),
                millis(r.latency_us.max),
                errors_cell(&r.errors),
                optional(r.server_cpu_per_req_us, |x| format!("{x:.1}")),
                optional(r.server_peak_rss_mb, |x| format!("{x:.1}")),
            ]
            .into_iter(),
        );
    }
    let notes = report
        .results
        .iter()
        .filter_map(|r| {
            Some(format!(
                "{} ({}): {}",
                r.name,
                r.database.as_deref().unwrap_or(NONE),
                r.note.as_ref()?
            ))
        })
        .chain(report.notes.iter().cloned());
    for note in notes {
        out.push_str(&format!("\n- {note}"));
    }
    out
}

/// Writes the report as pretty-printed JSON, creating parent directories as needed.
pub fn write_json(report: &Report, path: &Path) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let mut json = serde_json::to_string_pretty(report).context("serialising report")?;
    json.push('\n');
    std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))
}

const NONE: &str = "–";

fn push_row(out: &mut String, cells: impl Iterator<Item = String>) {
    out.push('|');
    for cell in cells {
        // A pipe inside a cell would split it into two columns.
        let _ = write!(out, " {} |", cell.replace('|', "\\|"));
    }
    out.push('\n');
}

fn optional(value: Option<f64>, format: impl Fn(f64) -> String) -> String {
    value.map_or_else(|| NONE.to_owned(), format)
}

fn millis(micros: u64) -> String {
    format!("{:.2}", micros as f64 / 1000.0)
}

fn errors_cell(errors: &BTreeMap<String, u64>) -> String {
    let total: u64 = errors.values().sum();
    if total == 0 {
        return "0".to_owned();
    }
    let detail: Vec<String> = errors
        .iter()
        .map(|(label, n)| format!("{label}: {n}"))
        .collect();
    format!("{total} ({})", detail.join(", "))
}

/// Formats a time as `YYYY-MM-DDTHH:MM:SSZ`; avoids a date-time dependency for one timestamp.
pub fn rfc3339_utc(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::loadgen::latency_histogram;

    fn close(actual: u64, expected: u64) -> bool {
        actual.abs_diff(expected) * 1000 <= expected
    }

    #[test]
    fn merged_histograms_give_combined_percentiles() {
        let mut fast = latency_histogram();
        for us in 1..=1000 {
            fast.record(us).unwrap();
        }
        let mut slow = latency_histogram();
        slow.record_n(100_000, 10).unwrap();
        fast.add(&slow).unwrap();

        let latency = LatencyUs::from_histogram(&fast);
        assert_eq!(fast.len(), 1010);
        assert!(close(latency.p50, 505), "{latency:?}");
        assert!(close(latency.p90, 909), "{latency:?}");
        assert!(close(latency.p99, 1000), "{latency:?}");
        assert!(close(latency.p999, 100_000), "{latency:?}");
        assert!(close(latency.max, 100_000), "{latency:?}");
    }

    fn result(name: &str, mode: Mode, rps: f64) -> ScenarioResult {
        ScenarioResult {
            name: name.to_owned(),
            database: None,
            connections: 64,
            mode,
            duration_s: 5.0,
            requests: (rps * 5.0) as u64,
            rps,
            ratio_to_baseline: None,
            latency_us: LatencyUs {
                p50: 850,
                p90: 1200,
                p99: 2500,
                p999: 7000,
                max: 12_346,
            },
            errors: BTreeMap::new(),
            server_cpu_s: None,
            server_cpu_per_req_us: None,
            server_peak_rss_mb: None,
            connections_opened: 64,
            bytes_sent: 0,
            bytes_received: 0,
            note: None,
        }
    }

    fn report(results: Vec<ScenarioResult>) -> Report {
        Report {
            machine: Machine {
                cpus: 2,
                cpu_model: "Test CPU".into(),
                kernel: "6.1.0".into(),
            },
            date: "2025-01-01T00:00:00Z".into(),
            results,
            notes: Vec::new(),
        }
    }

    #[test]
    fn table_renders_one_row_per_scenario() {
        let mut gateway =
            result("list | orders", Mode::KeepAlive, 10_000.0).with_database("postgres");
        gateway.errors.insert("status_503".into(), 3);
        gateway.errors.insert("timeout".into(), 1);
        let gateway = gateway.with_server_usage(&RunUsage {
            wall: Duration::from_secs(5),
            cpu_seconds: 2.5,
            peak_rss_bytes: 64 * 1024 * 1024,
        });
        let mut report = report(vec![result("baseline", Mode::KeepAlive, 20_000.0), gateway]);
        report.compare_to_baseline(|r| r.name == "baseline");

        let table = render_table(&report);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("| scenario | db | conns | req/s | × baseline |"));
        assert_eq!(lines[1].matches("---").count(), 12);
        assert_eq!(
            lines[2],
            "| baseline | – | 64 | 20000 | 1.00 | 0.85 | 2.50 | 7.00 | 12.35 | 0 | – | – |"
        );
        assert_eq!(
            lines[3],
            "| list \\| orders | postgres | 64 | 10000 | 0.50 | 0.85 | 2.50 | 7.00 | 12.35 \
             | 4 (status_503: 3, timeout: 1) | 50.0 | 64.0 |"
        );
    }

    #[test]
    fn baseline_ratio_never_crosses_modes() {
        let mut report = report(vec![
            result("baseline", Mode::KeepAlive, 20_000.0),
            result("gateway", Mode::Handshake, 1_000.0),
        ]);
        report.compare_to_baseline(|r| r.name == "baseline");
        assert_eq!(report.results[0].ratio_to_baseline, Some(1.0));
        assert_eq!(report.results[1].ratio_to_baseline, None);
    }

    #[test]
    fn json_uses_camel_case() {
        let json = serde_json::to_value(report(vec![result("b", Mode::Handshake, 1.0)])).unwrap();
        let first = &json["results"][0];
        assert_eq!(first["mode"], "handshake");
        assert_eq!(first["latencyUs"]["p999"], 7000);
        assert!(first.get("ratioToBaseline").is_some());
        assert!(first.get("serverCpuPerReqUs").is_some());
        assert_eq!(json["machine"]["cpuModel"], "Test CPU");
    }

    #[test]
    fn dates_are_rfc3339_utc() {
        let at = |secs| rfc3339_utc(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(at(4_107_542_399), "2100-02-28T23:59:59Z");
    }
}
