//! `Idempotency-Key` through the gate: a caller's key is claimed for one request, its answer
//! kept (sealed: it holds personal data) for the key's period, and a retry is answered with
//! it — on record. The edge decides which requests carry keys; the gate decides what a key
//! found and puts every replay on the log, as it does every other disclosure.
//!
//! A replay is recorded under the operation's own action, by the caller, about the client the
//! first answer concerned, with the reason `idempotentReplay`: `allowed` when the kept answer
//! was a success, `denied` when it was a refusal. The client's access report thus shows that
//! its data was handed out again, and to whom.

use super::{Caller, Gate, GateError};
use crate::domain::idempotency::IdempotencyKey;
use crate::store::idempotency::{self as keys, Claimed};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::time::Duration;

pub use crate::store::idempotency::Claim;

/// The reason a replay's audit record gives.
pub const REPLAY: &str = "idempotentReplay";

/// An answer as kept for retries: what a retry must get again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeptAnswer {
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    pub body: String,
}

/// What a key found.
#[derive(Debug)]
pub enum Begun {
    /// Serve the request under this claim, then keep or release it.
    Fresh(Claim),
    /// The request was served before: answer this again (the replay is on record).
    Replay(KeptAnswer),
    /// The key was used for another request.
    OtherRequest,
    /// The request is being served.
    InFlight,
    /// The request was carried out but its answer was lost.
    Unanswered,
}

/// How long keys live and an attempt holds one.
#[derive(Debug, Clone, Copy)]
pub struct KeyTerms {
    /// A key is new again this long after the first request with it.
    pub period: Duration,
    /// An attempt holds its key this long at most (then a crash no longer blocks the key).
    pub lease: Duration,
}

fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

impl Gate {
    /// Claims `key` of `who` for the request with `fingerprint`, serving operation `action`.
    pub async fn begin_idempotent(
        &self,
        who: &Caller,
        action: &'static str,
        key: &IdempotencyKey,
        fingerprint: &str,
        terms: KeyTerms,
    ) -> Result<Begun, GateError> {
        let digest = key.scoped_digest(who.party.id.as_str(), &who.user);
        let now = crate::audit::record::micros(time::OffsetDateTime::now_utc());
        let times = (
            now,
            now.saturating_add(micros(terms.lease)),
            now.saturating_sub(micros(terms.period)),
        );
        Ok(
            match keys::claim(&self.db, &digest, fingerprint, times).await? {
                Claimed::Fresh(claim) => Begun::Fresh(claim),
                Claimed::OtherRequest => Begun::OtherRequest,
                Claimed::InFlight => Begun::InFlight,
                Claimed::Unanswered => Begun::Unanswered,
                Claimed::Answered {
                    response,
                    client_id,
                    ..
                } => {
                    let answer: KeptAnswer = serde_json::from_str(&response)
                        .map_err(|_| GateError::Internal("a kept answer does not parse"))?;
                    let mut draft = self.draft(who, action);
                    draft.client = client_id;
                    draft = if answer.status < 400 {
                        draft.reason = Some(REPLAY.to_owned());
                        draft
                    } else {
                        draft.deny(REPLAY)
                    };
                    self.writer.submit(None, draft).await?;
                    Begun::Replay(answer)
                }
            },
        )
    }

    /// Runs `serve` as the request that holds `claim`: a change it makes marks the key in the
    /// change's own transaction, so that it is never made twice under the key.
    pub fn under_claim<F: Future>(
        &self,
        claim: &Claim,
        serve: F,
    ) -> impl Future<Output = F::Output> {
        keys::CURRENT.scope(claim.clone(), serve)
    }

    /// Keeps `answer` for retries under `claim`.
    pub async fn keep_answer(&self, claim: &Claim, answer: &KeptAnswer) -> Result<(), GateError> {
        let text = serde_json::to_string(answer)
            .map_err(|_| GateError::Internal("an answer could not be kept"))?;
        keys::keep(&self.db, claim, answer.status, &text).await?;
        Ok(())
    }

    /// Lets go of `claim` after a failure the caller may retry.
    pub async fn release_claim(&self, claim: &Claim) -> Result<(), GateError> {
        let now = crate::audit::record::micros(time::OffsetDateTime::now_utc());
        keys::release(&self.db, claim, now).await?;
        Ok(())
    }
}
