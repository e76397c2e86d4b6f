//! `gateway retention run [--dry-run]`: one retention run now, as the daily job in `gateway
//! serve` does it; the dry run reports what would go, in counts, never identities.

use super::runtime;
use crate::config::Config;
use anyhow::Result;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Erase the clients past the retention period and what else is past its period.
    Run {
        /// Count what a run would remove, and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

pub fn run(config: Config, command: Command) -> Result<()> {
    let Command::Run { dry_run } = command;
    runtime()?.block_on(async {
        let rules = config.retention.clone();
        let prepared = crate::server::prepare(config).await?;
        let report = prepared
            .state
            .gate
            .retention_run(&rules, time::OffsetDateTime::now_utc(), dry_run)
            .await;
        prepared.close().await;
        let report = report?;
        let verb = if dry_run { "would erase" } else { "erased" };
        println!(
            "retention: {verb} {} client(s), {} event(s), {} dead letter(s), {} ended consent(s), \
             {} idempotency key(s); {} {} audit record(s) to their leaf hashes",
            report.clients,
            report.events,
            report.dead_letters,
            report.consents,
            report.idempotency_keys,
            if dry_run { "would reduce" } else { "reduced" },
            report.audit_records
        );
        Ok(())
    })
}
