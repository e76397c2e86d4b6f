//! Resource usage of a process under test, read from `/proc` (Linux only).
//!
//! Sampling `/proc` from outside the process lets the benchmark attribute CPU and memory to
//! the server alone, without instrumenting it and without counting the load generator.

use std::io;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Clock ticks per second used by `/proc/<pid>/stat` CPU counters, when `getconf` is
/// unavailable. `USER_HZ` is fixed at 100 by the Linux ABI on all mainstream architectures.
const FALLBACK_CLOCK_TICKS: u64 = 100;

/// A point-in-time reading of one process.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProcSample {
    pub pid: u32,
    pub taken_at: Instant,
    /// User plus system CPU time consumed by all threads since the process started.
    pub cpu_ticks: u64,
    pub rss_bytes: u64,
    /// High-water mark of RSS since start, or since the last [`reset_peak_rss`].
    pub peak_rss_bytes: u64,
}

impl ProcSample {
    /// Usage between `start` and this (later) sample of the same process.
    pub fn usage_since(&self, start: &ProcSample) -> RunUsage {
        RunUsage {
            wall: self.taken_at.saturating_duration_since(start.taken_at),
            cpu_seconds: self.cpu_ticks.saturating_sub(start.cpu_ticks) as f64
                / clock_ticks_per_second() as f64,
            peak_rss_bytes: self.peak_rss_bytes.max(start.peak_rss_bytes),
        }
    }
}

/// Resources a process consumed over an interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunUsage {
    pub wall: Duration,
    pub cpu_seconds: f64,
    /// Peak RSS over the interval only if [`reset_peak_rss`] was called at its start;
    /// otherwise the lifetime peak.
    pub peak_rss_bytes: u64,
}

impl RunUsage {
    pub fn peak_rss_mib(&self) -> f64 {
        self.peak_rss_bytes as f64 / (1024.0 * 1024.0)
    }
}

/// Reads the current CPU and memory counters of `pid`.
pub fn snapshot(pid: u32) -> io::Result<ProcSample> {
    let taken_at = Instant::now();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let malformed =
        |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("{what} of pid {pid}"));
    Ok(ProcSample {
        pid,
        taken_at,
        cpu_ticks: parse_cpu_ticks(&stat).ok_or_else(|| malformed("unparsable /proc stat"))?,
        rss_bytes: parse_status_kib(&status, "VmRSS").ok_or_else(|| malformed("no VmRSS"))? * 1024,
        peak_rss_bytes: parse_status_kib(&status, "VmHWM").ok_or_else(|| malformed("no VmHWM"))?
            * 1024,
    })
}

/// Resets the RSS high-water mark (`VmHWM`) to the current RSS, so a later sample reports
/// the peak of the run rather than of start-up. Needs Linux 4.0+ and permission to write
/// the target's `clear_refs` (same user or root); returns whether it took effect.
pub fn reset_peak_rss(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// Samples `pid` exactly over a load generator's measured window (`start..end`, typically
/// the run start plus warm-up and plus duration), ignoring warm-up. Resets the RSS peak at
/// `start` so the reported peak belongs to the window.
pub async fn sample_window(pid: u32, start: Instant, end: Instant) -> io::Result<RunUsage> {
    tokio::time::sleep_until(start.into()).await;
    reset_peak_rss(pid);
    let first = snapshot(pid)?;
    tokio::time::sleep_until(end.into()).await;
    Ok(snapshot(pid)?.usage_since(&first))
}

/// `USER_HZ`, the unit of the CPU counters in `/proc/<pid>/stat`. Queried once through
/// `getconf` to avoid a libc dependency for a single constant.
pub fn clock_ticks_per_second() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .stderr(Stdio::null())
            .output()
            .ok()
            .filter(|out| out.status.success())
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .filter(|&ticks| ticks > 0)
            .unwrap_or(FALLBACK_CLOCK_TICKS)
    })
}

/// Restricts every thread of `pid` to one CPU core using `taskset`, so the server and the
/// load generator do not steal each other's cycles and results are repeatable. Threads
/// created later inherit the mask. Returns whether pinning succeeded; benchmarks still run
/// (less reproducibly) when it did not.
pub fn pin_to_core(pid: u32, core: usize) -> bool {
    Command::new("taskset")
        .args(["--all-tasks", "--cpu-list", "--pid"])
        .arg(core.to_string())
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// `utime + stime` from a `/proc/<pid>/stat` line.
///
/// The command name (field 2) is wrapped in parentheses but may itself contain spaces and
/// parentheses, so fields are counted from the *last* `)`.
pub fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    // Fields after the command name start at field 3 (state); utime and stime are 14 and 15.
    let mut fields = after_comm.split_whitespace().skip(14 - 3);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Value in KiB of a `Key:   123 kB` line of `/proc/<pid>/status`.
pub fn parse_status_kib(status: &str, key: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let value = line.strip_prefix(key)?.strip_prefix(':')?;
        value.split_whitespace().next()?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_survive_hostile_command_names() {
        let stat = "4242 (my (odd) srv) S 1 4242 4242 0 -1 4194560 1234 0 0 0 \
                    731 269 0 0 20 0 3 0 98765 123456789 2048 18446744073709551615";
        assert_eq!(parse_cpu_ticks(stat), Some(731 + 269));
    }

    #[test]
    fn cpu_ticks_reject_truncated_lines() {
        assert_eq!(parse_cpu_ticks("1 (init) S 0 1"), None);
        assert_eq!(parse_cpu_ticks("no parenthesis at all"), None);
    }

    #[test]
    fn status_fields_parse_in_kib() {
        let status = "Name:\tgateway\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\nVmRSSX:\t1 kB\n";
        assert_eq!(parse_status_kib(status, "VmRSS"), Some(10240));
        assert_eq!(parse_status_kib(status, "VmHWM"), Some(20480));
        assert_eq!(parse_status_kib(status, "VmSwap"), None);
    }

    #[test]
    fn snapshot_of_self_is_consistent() {
        let first = snapshot(std::process::id()).unwrap();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        let second = snapshot(std::process::id()).unwrap();
        let usage = second.usage_since(&first);
        assert!(first.rss_bytes > 0 && first.peak_rss_bytes >= first.rss_bytes);
        assert!(usage.cpu_seconds >= 0.0);
        assert!(usage.peak_rss_bytes >= first.rss_bytes);
    }
}
