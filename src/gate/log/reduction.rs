//! The audit log's own retention (`retention.audit_log_days`): records older than it are
//! reduced to their leaf hashes, up to the last checkpoint signed before the period began.
//! The tree keeps every leaf hash, so every checkpoint, consistency proof and `audit verify`
//! still holds; the accesses themselves can no longer be read. Each reduction is on record.

use super::super::{Gate, GateError};
use crate::audit::record::{AuditDraft, micros};
use crate::store::audit_reduction;
use time::OffsetDateTime;

pub const REDUCE_AUDIT_LOG: &str = "reduceAuditLog";

const DAY_MICROS: i64 = 86_400_000_000;

impl Gate {
    /// Reduces the records appended more than `days` before `now` (only counts them when
    /// `dry_run`); how many. A role that may not remove records (the serving role on
    /// PostgreSQL) reduces nothing and says so in the log: the owner role's `gateway retention
    /// run` does it.
    pub async fn reduce_audit_log(
        &self,
        days: u32,
        now: OffsetDateTime,
        dry_run: bool,
    ) -> Result<i64, GateError> {
        let now = micros(now);
        let cutoff = now - i64::from(days) * DAY_MICROS;
        let reduced = audit_reduction::reduced(&self.db).await?;
        let below = audit_reduction::reducible_below(&self.db, cutoff).await?;
        if below <= reduced.below {
            return Ok(0);
        }
        if dry_run {
            return Ok(below - reduced.below);
        }
        let removed = match audit_reduction::reduce(&self.db, below, cutoff, now).await {
            Ok(removed) => removed as i64,
            Err(error) if audit_reduction::lacks_privilege(&error) => {
                tracing::warn!(
                    due = below - reduced.below,
                    "audit records are past retention.audit_log_days but this role may not \
                     reduce them: run `gateway retention run` as the database owner"
                );
                return Ok(0);
            }
            Err(error) => return Err(error.into()),
        };
        let mut draft = AuditDraft::by_the_gateway(
            "retention",
            "storageLimitation",
            REDUCE_AUDIT_LOG,
            self.policy.version(),
        );
        draft.legal_basis = Some("legalObligation".to_owned());
        draft.reason = Some(format!(
            "records {} to {} reduced to their leaf hashes",
            reduced.below,
            below - 1
        ));
        self.writer.submit(None, draft).await?;
        Ok(removed)
    }
}
