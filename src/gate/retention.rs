//! Storage limitation through the gate (GDPR art. 5(1)(e)): clients whose last link ended
//! longer ago than the retention period are erased one by one, each erasure with its audit
//! record (action `eraseClient`, by the system) in the same transaction; events, dead letters
//! and consent history past their periods are removed, and so are idempotency keys (with the
//! answers kept for them) past theirs. A dry run only counts.

use super::{Gate, GateError};
use crate::audit::record::AuditDraft;
use crate::config::RetentionConfig;
use crate::store::idempotency;
use crate::store::mutations::{Applied, Mutation};
use crate::store::retention::{self, Counts};
use time::OffsetDateTime;

pub const ERASE_CLIENT: &str = "eraseClient";
/// Who the erasure records name: the gateway itself, under the retention rule.
const SYSTEM_USER: &str = "retention";
const SYSTEM_PURPOSE: &str = "storageLimitation";

/// What one run did (or, dry, would do).
pub type RetentionReport = Counts;

const DAY_MICROS: i64 = 86_400_000_000;
pub(super) const HOUR_MICROS: i64 = 3_600_000_000;

impl Gate {
    /// One retention run at `now`: erases the clients that are due (at most
    /// `max_clients_per_run`) and removes what else is past its period; with `dry_run`, only
    /// counts. Fails on the first erasure the audit log cannot take.
    pub async fn retention_run(
        &self,
        rules: &RetentionConfig,
        now: OffsetDateTime,
        dry_run: bool,
    ) -> Result<RetentionReport, GateError> {
        let now_micros = crate::audit::record::micros(now);
        let cutoff = now_micros - i64::from(rules.after_last_link_days) * DAY_MICROS;
        let events_before = now_micros - i64::from(rules.events_days) * DAY_MICROS;
        let consents_before = now_micros - i64::from(rules.consent_history_days) * DAY_MICROS;
        let consents_before_date = (now
            - time::Duration::days(i64::from(rules.consent_history_days)))
        .date()
        .to_string();
        let keys_before = now_micros - i64::from(rules.idempotency_key_hours) * HOUR_MICROS;
        let due = retention::due(&self.db, cutoff, i64::from(rules.max_clients_per_run)).await?;
        if dry_run {
            let mut counts = retention::expired(
                &self.db,
                events_before,
                consents_before,
                &consents_before_date,
            )
            .await?;
            counts.clients = due.len() as i64;
            counts.idempotency_keys = idempotency::expired(&self.db, keys_before).await?;
            counts.audit_records = self
                .reduce_audit_log(rules.audit_log_days, now, true)
                .await?;
            return Ok(counts);
        }
        let mut erased = 0;
        for client_id in due {
            let draft = system_draft(&client_id, self.policy.version());
            let mutation = Mutation::EraseClient { client_id, cutoff };
            if self.writer.submit(Some(mutation), draft).await? == Applied::ClientErased {
                erased += 1;
            }
        }
        let mut counts = retention::remove_expired(
            &self.db,
            events_before,
            consents_before,
            &consents_before_date,
        )
        .await?;
        counts.clients = erased;
        counts.idempotency_keys = idempotency::remove_expired(&self.db, keys_before).await?;
        counts.audit_records = self
            .reduce_audit_log(rules.audit_log_days, now, false)
            .await?;
        Ok(counts)
    }
}

fn system_draft(client_id: &str, policy_version: &str) -> AuditDraft {
    let mut draft =
        AuditDraft::by_the_gateway(SYSTEM_USER, SYSTEM_PURPOSE, ERASE_CLIENT, policy_version);
    draft.legal_basis = Some("legalObligation".to_owned());
    draft.client = Some(client_id.to_owned());
    draft
}
