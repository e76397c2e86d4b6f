//! The group-commit writer: the one place audit records are appended.
//!
//! Requests hand over their mutation (if any) and audit draft and wait. The writer takes
//! whatever has queued up, and in one transaction reserves a range of sequence numbers on the
//! log head, applies each mutation under its own savepoint, appends each audit record, and
//! commits once — one fsync for the whole batch instead of one per request. Only then are the
//! requests answered, so no response leaves before its record is durable.

use super::batch::{CHUNK_ROWS, insert_sql};
use super::idempotency::{self, Claim};
use super::mutations::{self, Applied, Mutation};
use super::sealing::Sealing;
use super::{Conn, Db, Link, Pool, events};
use crate::audit::record::{AuditDraft, AuditRecord, micros};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use time::OffsetDateTime;
use tokio::sync::{Notify, mpsc, oneshot, watch};

/// The audit log could not be written: nothing may be served (fail closed).
#[derive(Debug, Clone, Copy, thiserror::Error, PartialEq, Eq)]
#[error("the audit log cannot be written")]
pub struct AuditUnavailable;

const AUDIT_COLUMNS: [&str; 9] = [
    "seq",
    "recorded_at",
    "party_id",
    "user_id",
    "client_id",
    "action",
    "outcome",
    "request_id",
    "record",
];

/// An event for the outbox, written only if its change applies.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event_id: String,
    pub event_type: &'static str,
    /// `None`: the client the change itself resolved (a registration may find an existing one).
    pub client_id: Option<String>,
    /// Comma-separated category names.
    pub categories: String,
    pub significant: bool,
    /// The referral or infraction the event is about.
    pub subject_id: Option<String>,
    /// Comma-separated ids of the only parties the event is for; `None`: every linked party.
    pub audience: Option<String>,
}

impl NewEvent {
    /// A change of the record, for every linked party that may see one of `categories`.
    pub fn record_changed(
        client_id: Option<String>,
        categories: &[crate::domain::record::field::Category],
        significant: bool,
    ) -> Self {
        Self {
            event_id: uuid::Uuid::now_v7().to_string(),
            event_type: crate::domain::event::EventType::ClientRecordChanged.as_str(),
            client_id,
            categories: join_categories(categories),
            significant,
            subject_id: None,
            audience: None,
        }
    }

    /// A notice about a referral or an infraction, for `audience` only, and for it only as
    /// far as it may see one of `categories` (none: no category is needed).
    pub fn about(
        event_type: crate::domain::event::EventType,
        client_id: &str,
        subject_id: &str,
        audience: &[&str],
        categories: &[crate::domain::record::field::Category],
    ) -> Self {
        Self {
            event_id: uuid::Uuid::now_v7().to_string(),
            event_type: event_type.as_str(),
            client_id: Some(client_id.to_owned()),
            categories: join_categories(categories),
            significant: false,
            subject_id: Some(subject_id.to_owned()),
            audience: Some(audience.join(",")),
        }
    }
}

fn join_categories(categories: &[crate::domain::record::field::Category]) -> String {
    categories
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

struct Job {
    mutation: Option<Mutation>,
    events: Vec<NewEvent>,
    draft: AuditDraft,
    claim: Option<Claim>,
    reply: oneshot::Sender<Result<Applied, AuditUnavailable>>,
}

#[derive(Clone)]
pub struct AuditWriter {
    sender: mpsc::Sender<Job>,
    healthy: Arc<AtomicBool>,
    /// Counts commits, so that long-polling readers wake when something was written.
    commits: watch::Receiver<u64>,
    /// Set, for good, when the log in the database was found not to extend the checkpoint
    /// the gateway signed last: what was found. Nothing is appended, so nothing is served.
    sealed: Arc<OnceLock<String>>,
}

impl AuditWriter {
    /// Starts the writer task. `appended` is notified after every commit (the Merkle tree
    /// follows the log from there, off the request path).
    pub fn spawn(db: Db, max_batch: usize, appended: Arc<Notify>) -> Self {
        let (sender, receiver) = mpsc::channel(max_batch.saturating_mul(8).max(64));
        let healthy = Arc::new(AtomicBool::new(true));
        let (committed, commits) = watch::channel(0);
        tokio::spawn(run(
            db,
            receiver,
            max_batch,
            appended,
            healthy.clone(),
            committed,
        ));
        Self {
            sender,
            healthy,
            commits,
            sealed: Arc::new(OnceLock::new()),
        }
    }

    /// Refuses every append from now on (fail closed), for `reason`.
    pub fn seal(&self, reason: String) {
        if self.sealed.set(reason).is_ok() {
            tracing::error!(
                reason = self.sealed.get().map(String::as_str),
                "the audit log was rewritten under the gateway; serving nothing personal"
            );
        }
    }

    /// Why appends are refused for good, if they are.
    pub fn sealed(&self) -> Option<&str> {
        self.sealed.get().map(String::as_str)
    }

    /// Whether the last commit succeeded (readiness).
    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    pub fn mark_healthy(&self) {
        self.healthy.store(true, Ordering::Relaxed);
    }

    /// A receiver that changes after every commit.
    pub fn commits(&self) -> watch::Receiver<u64> {
        self.commits.clone()
    }

    /// Applies `mutation` and appends the audit record, durably, before returning.
    pub async fn submit(
        &self,
        mutation: Option<Mutation>,
        draft: AuditDraft,
    ) -> Result<Applied, AuditUnavailable> {
        self.submit_with_events(mutation, Vec::new(), draft).await
    }

    /// The same, writing `events` to the outbox in the same transaction if the change applies.
    pub async fn submit_with_events(
        &self,
        mutation: Option<Mutation>,
        events: Vec<NewEvent>,
        draft: AuditDraft,
    ) -> Result<Applied, AuditUnavailable> {
        if self.sealed.get().is_some() {
            return Err(AuditUnavailable);
        }
        let (reply, answer) = oneshot::channel();
        // A change made under an idempotency key marks the key in its own transaction.
        let claim = mutation
            .as_ref()
            .and_then(|_| idempotency::CURRENT.try_with(Claim::clone).ok());
        self.sender
            .send(Job {
                mutation,
                events,
                draft,
                claim,
                reply,
            })
            .await
            .map_err(|_| AuditUnavailable)?;
        answer.await.map_err(|_| AuditUnavailable)?
    }
}

async fn run(
    db: Db,
    mut receiver: mpsc::Receiver<Job>,
    max_batch: usize,
    appended: Arc<Notify>,
    healthy: Arc<AtomicBool>,
    committed: watch::Sender<u64>,
) {
    let mut batch = Vec::with_capacity(max_batch);
    while receiver.recv_many(&mut batch, max_batch).await > 0 {
        let jobs: Vec<Work> = batch
            .iter_mut()
            .map(|job| Work {
                mutation: job.mutation.take(),
                events: std::mem::take(&mut job.events),
                draft: job.draft.clone(),
                claim: job.claim.take(),
            })
            .collect();
        let started = std::time::Instant::now();
        let sealing = &*db.sealing;
        let outcome = match db.pool() {
            Pool::Sqlite(pool) => commit_sqlite(pool, sealing, &jobs).await,
            Pool::Postgres(pool) => commit_postgres(pool, sealing, &jobs).await,
        };
        metrics::histogram!("gateway_audit_commit_seconds").record(started.elapsed().as_secs_f64());
        metrics::histogram!("gateway_audit_batch_records").record(jobs.len() as f64);
        match outcome {
            Ok(applied) => {
                healthy.store(true, Ordering::Relaxed);
                appended.notify_one();
                committed.send_modify(|count| *count += 1);
                for (job, applied) in batch.drain(..).zip(applied) {
                    let _ = job.reply.send(Ok(applied));
                }
            }
            Err(error) => {
                healthy.store(false, Ordering::Relaxed);
                metrics::counter!("gateway_audit_commit_failures_total").increment(1);
                tracing::error!(%error, records = jobs.len(), "audit commit failed; refusing the batch");
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(AuditUnavailable));
                }
            }
        }
    }
}

/// One request's share of a batch.
struct Work {
    mutation: Option<Mutation>,
    events: Vec<NewEvent>,
    draft: AuditDraft,
    /// The idempotency key the change was made under, marked if the change applies.
    claim: Option<Claim>,
}

/// The audit draft as the mutation's result completes it.
fn complete(mut draft: AuditDraft, applied: &Applied) -> AuditDraft {
    match applied {
        Applied::Registered { client_id, .. }
        | Applied::AttestRecorded { client_id }
        | Applied::AttestKnown {
            client_id,
            same: true,
        } => draft.client = Some(client_id.clone()),
        Applied::AttestKnown {
            client_id,
            same: false,
        } => {
            draft.client = Some(client_id.clone());
            draft = draft.deny("referenceConflict");
        }
        Applied::CompetenceTaken { client_id } => {
            draft.client = Some(client_id.clone());
            draft = draft.deny("competenceTaken");
        }
        Applied::NotCompetent => draft = draft.deny("notCompetent"),
        Applied::NoClaim => draft = draft.deny("noPendingClaim"),
        Applied::NotLinked => draft = draft.deny("notFound"),
        Applied::Failed => draft = draft.deny("internalError"),
        Applied::Stale => draft = draft.deny("preconditionFailed"),
        Applied::ConsentNotWithdrawable => draft = draft.deny("notWithdrawable"),
        Applied::ReferralStale => draft = draft.deny("conflict"),
        Applied::InfractionAlreadyDecided => draft = draft.deny("alreadyDecided"),
        Applied::NotDue => draft = draft.deny("notDue"),
        Applied::Nothing
        | Applied::LinkEnded
        | Applied::CompetenceClaimed(_)
        | Applied::CompetenceHandedOver
        | Applied::RecordUpdated { .. }
        | Applied::ConsentRecorded
        | Applied::ConsentWithdrawn
        | Applied::ReferralCreated
        | Applied::ReferralMoved
        | Applied::MessageAdded
        | Applied::InfractionRecorded
        | Applied::InfractionDecided
        | Applied::ClientErased => {}
    }
    draft
}

/// Generates one commit per backend from the same body (the SQL is portable; the transaction
/// types differ). `$conn` is the `Conn` variant of the backend.
macro_rules! commit_fn {
    ($name:ident, $db:ty, $conn:ident) => {
        async fn $name(
            pool: &sqlx::Pool<$db>,
            sealing: &dyn Sealing,
            jobs: &[Work],
        ) -> Result<Vec<Applied>, sqlx::Error> {
            use sqlx::Acquire;
            let mut tx = pool.begin().await?;
            let count = jobs.len() as i64;
            // Taking the head row serialises appenders, across instances too: one order, no gap.
            let next: i64 = sqlx::query_scalar(
                "UPDATE audit_head SET next_seq = next_seq + $1 WHERE id = 1 RETURNING next_seq",
            )
            .bind(count)
            .fetch_one(&mut *tx)
            .await?;
            let first = next - count;
            let now = OffsetDateTime::now_utc();
            let now_micros = micros(now);
            let mut results = Vec::with_capacity(jobs.len());
            let mut records = Vec::with_capacity(jobs.len());
            for (offset, work) in jobs.iter().enumerate() {
                let applied = match &work.mutation {
                    None => Applied::Nothing,
                    Some(mutation) => {
                        let mut savepoint = tx.begin().await?;
                        let mut conn = Conn {
                            link: Link::$conn(&mut *savepoint),
                            sealing,
                        };
                        let applied = mutations::apply(&mut conn, mutation, now_micros).await;
                        match applied {
                            Ok(applied) => {
                                savepoint.commit().await?;
                                applied
                            }
                            Err(error) => {
                                // One bad change must not take the batch's other requests
                                // down with it; its refusal is recorded like any other.
                                savepoint.rollback().await?;
                                tracing::error!(%error, "a change failed and was rolled back");
                                Applied::Failed
                            }
                        }
                    }
                };
                let draft = complete(work.draft.clone(), &applied);
                if applied.is_success() {
                    let mut conn = Conn {
                        link: Link::$conn(&mut *tx),
                        sealing,
                    };
                    for event in &work.events {
                        let client_id = event.client_id.as_deref().or(applied.client_id());
                        events::append(&mut conn, event, client_id, now_micros).await?;
                    }
                    if let Some(claim) = &work.claim {
                        let client_id = draft.client.as_deref();
                        idempotency::mark_applied(&mut conn, claim, client_id, now_micros).await?;
                    }
                }
                records.push(AuditRecord::new(draft, (first + offset as i64) as u64, now));
                results.push(applied);
            }
            for chunk in records.chunks(CHUNK_ROWS) {
                let sql = insert_sql("audit_log", &AUDIT_COLUMNS, chunk.len(), "");
                let mut query = sqlx::query(sql);
                for record in chunk {
                    query = query
                        .bind(record.seq as i64)
                        .bind(now_micros)
                        .bind(record.party.clone())
                        .bind(record.user.clone())
                        .bind(record.client.clone())
                        .bind(record.action.clone())
                        .bind(record.outcome.as_str())
                        .bind(record.request_id.clone())
                        .bind(record.encode());
                }
                query.execute(&mut *tx).await?;
            }
            let index: Vec<(&str, i64)> = records
                .iter()
                .flat_map(|r| r.clients.iter().map(|c| (c.as_str(), r.seq as i64)))
                .collect();
            for chunk in index.chunks(CHUNK_ROWS) {
                let sql = insert_sql("audit_record_clients", &["client_id", "seq"], chunk.len(), "");
                let mut query = sqlx::query(sql);
                for (client, seq) in chunk {
                    query = query.bind(*client).bind(*seq);
                }
                query.execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(results)
        }
    };
}

commit_fn!(commit_sqlite, sqlx::Sqlite, Sqlite);
commit_fn!(commit_postgres, sqlx::Postgres, Postgres);
