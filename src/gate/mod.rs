//! THE path for personal data. Every read, write and refusal that concerns a client passes
//! here: the caller's link to the client is checked, and an audit record is appended durably
//! before an answer is given (product brief §2, §6). A handler that needs client data has no
//! other way to get it.

use crate::audit::record::{AuditDraft, AuditRecord, Outcome};
use crate::auth::principal::Principal;
use crate::crypto::keyring::{CipherRing, PseudonymRing};
use crate::domain::party::{PartyId, PartyKind};
use crate::domain::ssin::Ssin;
use crate::gate::log::tree::TreeHandle;
use crate::policy::Policy;
use crate::store::Db;
use crate::store::audit_writer::AuditWriter;
use std::collections::HashMap;
use std::sync::Arc;

pub struct Gate {
    db: Db,
    writer: AuditWriter,
    pseudonyms: Arc<PseudonymRing>,
    cipher: Arc<CipherRing>,
    pub policy: Arc<Policy>,
    parties: PartyDirectory,
    pub tree: TreeHandle,
    door: door::Door,
}

/// What the gate knows of the configured parties.
pub struct PartyDirectory {
    /// The parties whose privacy officers review the whole log.
    pub review_all: Vec<PartyId>,
    /// Each party's kind, to address notices to the parties of one kind.
    pub kinds: HashMap<String, PartyKind>,
    /// The parties' witnesses of the audit log.
    pub witnesses: log::witness::Witnesses,
    /// The parties of each configured cooperation agreement (the joint monitoring, SWO art. 16).
    pub agreements: Vec<Vec<PartyId>>,
}

pub mod action;
mod attests;
mod caller;
mod competence;
mod consents;
mod door;
mod error;
mod feed;
pub mod idempotency;
mod infractions;
pub mod keys;
mod links;
pub mod log;
mod monitoring;
pub mod parameters;
mod records;
mod referrals;
pub mod retention;
mod review;
pub mod search;
pub mod views;

pub use attests::AttestRecorded;
pub use caller::{Caller, Trace};
pub use competence::{CompetenceView, KindCompetence};
pub use error::GateError;
pub use links::{LinkedClient, Registered};
pub use records::{RecordView, VisibilityQuestion, etag};
pub use review::ReviewPage;

impl Gate {
    pub fn new(
        db: Db,
        writer: AuditWriter,
        pseudonyms: Arc<PseudonymRing>,
        cipher: Arc<CipherRing>,
        policy: Arc<Policy>,
        parties: PartyDirectory,
        tree: TreeHandle,
    ) -> Self {
        let door = door::Door::new(writer.clone(), policy.version().to_owned());
        Self {
            door,
            db,
            writer,
            pseudonyms,
            cipher,
            policy,
            parties,
            tree,
        }
    }

    /// The pseudonyms of `ssin` under every key of the ring (the current first) and the current
    /// key's id, from one reading of the ring.
    fn pseudonyms_of(&self, ssin: &Ssin) -> (Vec<[u8; 32]>, String) {
        let ring = self.pseudonyms.get();
        (ring.pseudonyms(ssin), ring.key_id().to_owned())
    }

    /// The national register number sealed for a new client (bound to its id), and the id of
    /// the key that sealed it.
    fn seal_ssin(&self, ssin: &Ssin, new_client_id: &str) -> Result<(Vec<u8>, String), GateError> {
        let cipher = self.cipher.get();
        let sealed = cipher
            .seal(ssin.as_str().as_bytes(), new_client_id.as_bytes())
            .map_err(|_| GateError::Internal("sealing the national register number failed"))?;
        Ok((sealed, cipher.key_id().to_owned()))
    }

    /// Ticks after every commit of the audit log (and so of the outbox): readers of the outbox
    /// wait on it instead of polling.
    pub fn commits(&self) -> tokio::sync::watch::Receiver<u64> {
        self.writer.commits()
    }

    /// Whether an audit record could be appended now. After a failed commit the writer is
    /// marked unhealthy; an instance taken out of rotation gets no traffic to prove otherwise,
    /// so a trial append (rolled back) decides.
    pub async fn audit_is_writable(&self) -> bool {
        if self.writer.sealed().is_some() {
            return false;
        }
        if self.writer.is_healthy() {
            return true;
        }
        let writable = crate::store::audit::probe_append(&self.db).await.is_ok();
        if writable {
            self.writer.mark_healthy();
        }
        writable
    }

    /// What was found if the database's log no longer extends the checkpoint the gateway
    /// signed last (then nothing personal is served).
    pub fn anchor_problem(&self) -> Option<&str> {
        self.writer.sealed()
    }

    pub(super) fn draft(&self, who: &Caller, action: &'static str) -> AuditDraft {
        AuditDraft {
            party: who.party.id.to_string(),
            user: who.user.to_string(),
            roles: who
                .acting_roles
                .iter()
                .map(|role| role.as_str().to_owned())
                .collect(),
            purpose: who.purpose.as_str().to_owned(),
            legal_basis: None,
            client: None,
            clients: Vec::new(),
            action,
            fields: Vec::new(),
            outcome: Outcome::Allowed,
            reason: None,
            count: None,
            request_id: who.trace.id.to_string(),
            related_trace_id: who.trace.related.clone(),
            policy_version: self.policy.version().to_owned(),
        }
    }

    /// Puts on the log a request of `party` (identified by its certificate) refused before it
    /// became a caller, coalesced per party and reason (see `door`).
    pub async fn refused_at_door(&self, party: &str, reason: &'static str, request_id: &str) {
        self.door.refused(party, reason, request_id).await;
    }

    /// Records a refused request that concerned a client (invalid input, a purpose that does
    /// not cover the operation, …) so that refusals are on record as much as accesses.
    pub async fn refuse(
        &self,
        who: &Caller,
        action: &'static str,
        reason: &str,
    ) -> Result<(), GateError> {
        let draft = self.draft(who, action).deny(reason);
        self.writer.submit(None, draft).await?;
        Ok(())
    }

    /// Records a privacy officer's use of the audit log itself, allowed or refused.
    pub async fn audit_review(
        &self,
        who: &Caller,
        action: &'static str,
        refusal: Option<&str>,
    ) -> Result<(), GateError> {
        let mut draft = self.draft(who, action);
        if let Some(reason) = refusal {
            draft = draft.deny(reason);
        }
        self.writer.submit(None, draft).await?;
        Ok(())
    }

    /// Whether `who` may see the whole of `record` in audit review (see `reviewable`): a
    /// record shown only without its client is not whole, so neither is its inclusion proof,
    /// whose leaf is the record itself.
    pub async fn may_review(
        &self,
        who: &Principal,
        record: &AuditRecord,
    ) -> Result<bool, GateError> {
        let review = self.reviewable(who, record, &mut HashMap::new()).await?;
        Ok(review == review::Review::Shown)
    }

    /// Puts a refusal on record, then fails with `error`: a refusal leaves no answer unrecorded.
    pub(super) async fn deny<T>(
        &self,
        draft: AuditDraft,
        reason: &str,
        error: GateError,
    ) -> Result<T, GateError> {
        self.writer.submit(None, draft.deny(reason)).await?;
        Err(error)
    }

    /// One audit record for an answer that showed several clients (a feed page, a listing),
    /// naming each of them once: the request costs the log one record whatever its page
    /// size, and the client index lets each client's access report find it.
    pub(super) async fn record_shown<'a>(
        &self,
        who: &Caller,
        action: &'static str,
        clients: impl Iterator<Item = &'a str>,
    ) -> Result<(), GateError> {
        let mut draft = self.draft(who, action);
        let mut seen = std::collections::HashSet::new();
        let mut named: Vec<String> = clients
            .filter(|client| seen.insert(*client))
            .map(str::to_owned)
            .collect();
        if named.len() == 1 {
            draft.client = named.pop();
        } else {
            draft.clients = named;
        }
        self.writer.submit(None, draft).await?;
        Ok(())
    }
}
