//! THE path for personal data. Every read, write and refusal that concerns a client passes
//! here: the caller's link to the client is checked, and an audit record is appended durably
//! before an answer is given (product brief §2, §6). A handler that needs client data has no
//! other way to get it.

use crate::audit::record::{AuditDraft, AuditRecord, Outcome};
use crate::auth::principal::Principal;
use crate::crypto::cipher::FieldCipher;
use crate::crypto::pseudonym::Pseudonymizer;
use crate::domain::consent::{Consent, NewConsent};
use crate::domain::event::{EventType, changed_categories};
use crate::domain::infraction::InfractionError;
use crate::domain::link::{DossierReference, LegalBasis};
use crate::domain::party::PartyId;
use crate::domain::party::PartyKind;
use crate::domain::purpose::Purpose;
use crate::domain::record::field::{Category, Field};
use crate::domain::record::patch::{self, PatchRejection, StatusClass};
use crate::domain::record::values::{Attest, ClientRecord, format_date};
use crate::domain::referral::{self, NewReferral, ReferralError, ReferralEvent, ReferralStatus};
use crate::domain::role::RoleSet;
use crate::domain::rules;
use crate::domain::ssin::Ssin;
use crate::gate::log::tree::TreeHandle;
use crate::policy::{CategorySet, Explanation, Filtered, Policy, filter};
use crate::store::audit_writer::{AuditUnavailable, AuditWriter, NewEvent};
use crate::store::clients::{self, Presence};
use crate::store::consents;
use crate::store::events::{self, StoredEvent};
use crate::store::mutations::{
    Applied, ConsentRow, MessageRow, Mutation, ReferralRow, Registration,
};
use crate::store::records;
use crate::store::referrals as stored_referrals;
use crate::store::{Db, StoreError};
use std::collections::HashMap;
use std::sync::Arc;
use time::OffsetDateTime;
use uuid::Uuid;

pub struct Gate {
    db: Db,
    writer: AuditWriter,
    pseudonyms: Pseudonymizer,
    cipher: FieldCipher,
    pub policy: Arc<Policy>,
    parties: PartyDirectory,
    pub tree: TreeHandle,
}

/// What the gate knows of the configured parties.
pub struct PartyDirectory {
    /// The parties whose privacy officers review the whole log.
    pub review_all: Vec<PartyId>,
    /// Each party's kind, to address notices to the parties of one kind.
    pub kinds: HashMap<String, PartyKind>,
}

#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// Unknown, or not linked to the caller: the two are indistinguishable by design.
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    AuditUnavailable(#[from] AuditUnavailable),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("the change failed")]
    Failed,
    #[error("encryption failed")]
    Crypto,
    /// The consent was withdrawn before.
    #[error("already withdrawn")]
    AlreadyWithdrawn,
    /// A write without `If-Match`.
    #[error("precondition required")]
    PreconditionRequired,
    /// A write against a version that is no longer current.
    #[error("precondition failed")]
    PreconditionFailed,
    /// The patch was refused; every issue is named.
    #[error("patch refused")]
    Patch(PatchRejection),
    /// A KBI reference seen before with other content.
    #[error("reference conflict")]
    ReferenceConflict,
    /// A referral refused by the agreement's rules.
    #[error("referral refused: {0}")]
    Referral(ReferralError),
    /// The referral changed since it was read.
    #[error("referral changed")]
    ReferralConflict,
    /// An infraction or a decision refused by the agreement's rules.
    #[error("infraction refused: {0}")]
    Infraction(InfractionError),
    /// The policy does not let the caller see what the operation concerns.
    #[error("not permitted by the policy")]
    NotPermitted,
}

/// What recording an attest did.
pub struct AttestRecorded {
    pub client_id: String,
    /// False for a repeated notification (same reference, same content): nothing changed.
    pub created: bool,
}

/// A client's record as one caller may see it, with its version (the ETag).
pub struct RecordView {
    pub client_id: String,
    pub version: i64,
    pub filtered: Filtered,
    pub changed: Vec<Field>,
    /// The change moved direction or sanction authority (SWO art. 6).
    pub significant_change: bool,
}

/// What a privacy officer asks `explain`.
#[derive(Clone, Copy)]
pub struct VisibilityQuestion<'a> {
    pub client_id: &'a Uuid,
    /// The party whose view is explained, and its kind.
    pub party: (&'a PartyId, PartyKind),
    pub roles: RoleSet,
    pub purpose: Purpose,
    pub field: Field,
}

/// The strong entity tag of a record version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The operations audited, named as the API's operation ids.
mod caller;
mod feed;
mod infractions;
pub mod log;
mod monitoring;
mod referrals;
mod review;
pub mod search;
pub mod views;

pub use caller::{Caller, Trace};
pub use review::ReviewPage;

pub mod action {
    pub const REGISTER_CLIENT: &str = "registerClient";
    pub const LOOKUP_CLIENT: &str = "lookupClient";
    pub const END_LINK: &str = "endClientLink";
    pub const GET_CHECKPOINT: &str = "getAuditCheckpoint";
    pub const GET_INCLUSION_PROOF: &str = "getAuditInclusionProof";
    pub const GET_CONSISTENCY_PROOF: &str = "getAuditConsistencyProof";
    pub const RECORD_CONSENT: &str = "recordConsent";
    pub const LIST_CONSENTS: &str = "listConsents";
    pub const WITHDRAW_CONSENT: &str = "withdrawConsent";
    pub const READ_CLIENT: &str = "readClient";
    pub const UPDATE_CLIENT: &str = "updateClient";
    pub const EXPLAIN: &str = "explainVisibility";
    pub const DELIVER_EVENT: &str = "deliverEvent";
    pub const REGISTER_ATTEST: &str = "registerAttest";
    pub const CREATE_REFERRAL: &str = "createReferral";
    pub const LIST_REFERRALS: &str = "listReferrals";
    pub const READ_REFERRAL: &str = "readReferral";
    pub const DECIDE_REFERRAL: &str = "decideReferral";
    pub const COMPLETE_REFERRAL: &str = "completeReferral";
    pub const WITHDRAW_REFERRAL: &str = "withdrawReferral";
    pub const REFERRAL_FEEDBACK: &str = "addReferralFeedback";
    pub const RECORD_INFRACTION: &str = "recordInfraction";
    pub const LIST_INFRACTIONS: &str = "listInfractions";
    pub const READ_INFRACTION: &str = "readInfraction";
    pub const DECIDE_INFRACTION: &str = "decideInfraction";
    pub const SEARCH_AUDIT: &str = "searchAuditLog";
    pub const ACCESS_REPORT: &str = "getAccessReport";
    pub const AUDIT_ANOMALIES: &str = "getAuditAnomalies";
    pub const MONITORING: &str = "getMonitoringReport";
    pub const AUDIT_ACTIVITY: &str = "getAuditActivity";
    pub const VERIFY_AUDIT_LOG: &str = "verifyAuditLog";
    /// A person's certificate at the review pages, in a role that may not use them.
    pub const OPEN_REVIEW_PAGES: &str = "openReviewPages";
}

pub struct Registered {
    pub client_id: String,
    /// False when the caller's party was already linked (an idempotent repeat).
    pub new_link: bool,
}

impl Gate {
    pub fn new(
        db: Db,
        writer: AuditWriter,
        pseudonyms: Pseudonymizer,
        cipher: FieldCipher,
        policy: Arc<Policy>,
        parties: PartyDirectory,
        tree: TreeHandle,
    ) -> Self {
        Self {
            db,
            writer,
            pseudonyms,
            cipher,
            policy,
            parties,
            tree,
        }
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
        if self.writer.is_healthy() {
            return true;
        }
        let writable = crate::store::audit::probe_append(&self.db).await.is_ok();
        if writable {
            self.writer.mark_healthy();
        }
        writable
    }

    fn draft(&self, who: &Caller, action: &'static str) -> AuditDraft {
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
            action,
            fields: Vec::new(),
            outcome: Outcome::Allowed,
            reason: None,
            request_id: who.trace.id.to_string(),
            related_trace_id: who.trace.related.clone(),
            policy_version: self.policy.version().to_owned(),
        }
    }

    /// Links the caller's party to the person with `ssin`, creating the client if needed.
    pub async fn register_client(
        &self,
        who: &Caller,
        ssin: &Ssin,
        legal_basis: LegalBasis,
        dossier: &DossierReference,
    ) -> Result<Registered, GateError> {
        let new_client_id = Uuid::new_v4().to_string();
        let ciphertext = self
            .cipher
            .seal(ssin.as_str().as_bytes(), new_client_id.as_bytes())
            .map_err(|_| GateError::Crypto)?;
        let mutation = Mutation::RegisterClient(Registration {
            pseudonym: self.pseudonyms.pseudonym(ssin),
            pseudonym_key_id: self.pseudonyms.key_id().to_owned(),
            new_client_id,
            ciphertext,
            encryption_key_id: self.cipher.key_id().to_owned(),
            party: who.party.id.to_string(),
            legal_basis: legal_basis.as_str().to_owned(),
            dossier_reference: dossier.as_str().to_owned(),
        });
        let mut draft = self.draft(who, action::REGISTER_CLIENT);
        draft.legal_basis = Some(legal_basis.as_str().to_owned());
        match self.writer.submit(Some(mutation), draft).await? {
            Applied::Registered {
                client_id,
                new_link,
            } => Ok(Registered {
                client_id,
                new_link,
            }),
            _ => Err(GateError::Failed),
        }
    }

    /// The client id of the person with `ssin`, only if the caller's party is linked.
    pub async fn lookup_client(&self, who: &Caller, ssin: &Ssin) -> Result<String, GateError> {
        let pseudonym = self.pseudonyms.pseudonym(ssin);
        let presence =
            clients::find_by_pseudonym(&self.db, &pseudonym, who.party.id.as_str()).await?;
        let mut draft = self.draft(who, action::LOOKUP_CLIENT);
        // The caller gets the same answer whether the person is unknown or only not linked.
        // The record keeps the client id of a known person, so that the person's access
        // report shows the attempt; audit review shows that id only to linked parties.
        let found = match presence {
            Presence::Unknown => {
                draft = draft.deny("notFound");
                None
            }
            Presence::NotLinked { client_id } => {
                draft.client = Some(client_id);
                draft = draft.deny("notFound");
                None
            }
            Presence::Linked {
                client_id,
                legal_basis,
            } => {
                draft.client = Some(client_id.clone());
                draft.legal_basis = Some(legal_basis);
                Some(client_id)
            }
        };
        self.writer.submit(None, draft).await?;
        found.ok_or(GateError::NotFound)
    }

    /// Ends the caller's party's link with `client_id`.
    pub async fn end_link(&self, who: &Caller, client_id: &Uuid) -> Result<(), GateError> {
        let client_id = client_id.to_string();
        let mut draft = self.draft(who, action::END_LINK);
        draft.client = Some(client_id.clone());
        let mutation = Mutation::EndLink {
            client_id,
            party: who.party.id.to_string(),
        };
        match self.writer.submit(Some(mutation), draft).await? {
            Applied::LinkEnded => Ok(()),
            Applied::NotLinked => Err(GateError::NotFound),
            _ => Err(GateError::Failed),
        }
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

    /// Whether `who` may see `record` in audit review: records of the officer's own party's
    /// users, records about clients the party is linked to, or all records for the parties
    /// configured to review the whole log.
    pub async fn may_review(
        &self,
        who: &Principal,
        record: &AuditRecord,
    ) -> Result<bool, GateError> {
        self.reviewable(who, record, &mut HashMap::new()).await
    }

    /// Puts a refusal on record, then fails with `error`: a refusal leaves no answer unrecorded.
    async fn deny<T>(
        &self,
        draft: AuditDraft,
        reason: &str,
        error: GateError,
    ) -> Result<T, GateError> {
        self.writer.submit(None, draft.deny(reason)).await?;
        Err(error)
    }

    /// The caller's party's legal basis for `client_id`, or a recorded refusal that reads like
    /// an unknown client.
    async fn linked(
        &self,
        who: &Principal,
        draft: &AuditDraft,
        client_id: &str,
    ) -> Result<String, GateError> {
        match clients::active_link(&self.db, client_id, who.party.id.as_str()).await? {
            Some(basis) => Ok(basis),
            None => {
                self.deny(draft.clone(), "notFound", GateError::NotFound)
                    .await
            }
        }
    }

    /// Records a client's consent, given to the caller's party (which must be linked).
    pub async fn record_consent(
        &self,
        who: &Caller,
        client_id: &Uuid,
        consent: &NewConsent,
    ) -> Result<Consent, GateError> {
        let client_id = client_id.to_string();
        let mut draft = self.draft(who, action::RECORD_CONSENT);
        draft.client = Some(client_id.clone());
        draft.legal_basis = Some(self.linked(who, &draft, &client_id).await?);
        let consent_id = Uuid::now_v7().to_string();
        let row = ConsentRow {
            consent_id: consent_id.clone(),
            client_id: client_id.clone(),
            recipient_party: consent.recipient.to_string(),
            purpose: consent.purpose.as_str().to_owned(),
            categories: consent
                .categories
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(","),
            legal_text_version: consent.legal_text_version.clone(),
            language: consent.language.clone(),
            evidence_reference: consent.evidence_reference.clone(),
            recorded_by_party: who.party.id.to_string(),
            recorded_by_user: who.user.to_string(),
            valid_from: format_date(consent.valid_from),
            valid_until: consent.valid_until.map(format_date),
        };
        match self
            .writer
            .submit(Some(Mutation::RecordConsent(row)), draft)
            .await?
        {
            Applied::ConsentRecorded => consents::find(&self.db, &client_id, &consent_id)
                .await?
                .ok_or(GateError::Failed),
            _ => Err(GateError::Failed),
        }
    }

    /// Every consent recorded for a client the caller's party is linked to.
    pub async fn list_consents(
        &self,
        who: &Caller,
        client_id: &Uuid,
    ) -> Result<Vec<Consent>, GateError> {
        let client_id = client_id.to_string();
        let mut draft = self.draft(who, action::LIST_CONSENTS);
        draft.client = Some(client_id.clone());
        draft.legal_basis = Some(self.linked(who, &draft, &client_id).await?);
        let consents = consents::for_client(&self.db, &client_id).await?;
        self.writer.submit(None, draft).await?;
        Ok(consents)
    }

    /// Withdraws a consent. Any linked party may record it: withdrawing is as easy as giving
    /// (GDPR art. 7(3)), whichever party the client tells. It holds from the next read on.
    pub async fn withdraw_consent(
        &self,
        who: &Caller,
        client_id: &Uuid,
        consent_id: &Uuid,
    ) -> Result<Consent, GateError> {
        let (client_id, consent_id) = (client_id.to_string(), consent_id.to_string());
        let mut draft = self.draft(who, action::WITHDRAW_CONSENT);
        draft.client = Some(client_id.clone());
        draft.legal_basis = Some(self.linked(who, &draft, &client_id).await?);
        let mutation = Mutation::WithdrawConsent {
            client_id: client_id.clone(),
            consent_id: consent_id.clone(),
            party: who.party.id.to_string(),
            user: who.user.to_string(),
        };
        let applied = self.writer.submit(Some(mutation), draft).await?;
        let current = consents::find(&self.db, &client_id, &consent_id).await?;
        match (applied, current) {
            (Applied::ConsentWithdrawn, Some(consent)) => Ok(consent),
            (Applied::ConsentNotWithdrawable, Some(_)) => Err(GateError::AlreadyWithdrawn),
            (Applied::ConsentNotWithdrawable, None) => Err(GateError::NotFound),
            _ => Err(GateError::Failed),
        }
    }

    /// The categories the caller may read of `client_id` by the client's consent, today.
    async fn consented(&self, who: &Principal, client_id: &str) -> Result<CategorySet, GateError> {
        let today = OffsetDateTime::now_utc().date();
        let party = who.party.id.as_str();
        let categories =
            consents::active_categories(&self.db, client_id, party, who.purpose, today).await?;
        Ok(categories.into_iter().collect())
    }

    /// The derived values of a record as they stand today.
    async fn derived(
        &self,
        client_id: &str,
        record: &ClientRecord,
    ) -> Result<rules::Derived, GateError> {
        let referred = stored_referrals::agency_referral_made(&self.db, client_id).await?;
        Ok(rules::derive(
            record,
            OffsetDateTime::now_utc().date(),
            referred,
        ))
    }

    /// What the policy lets the caller see of a record and its derived values.
    async fn view(
        &self,
        who: &Principal,
        client_id: &str,
        record: &ClientRecord,
        derived: &rules::Derived,
    ) -> Result<Filtered, GateError> {
        let consented = self.consented(who, client_id).await?;
        let decision = self
            .policy
            .decide(who.purpose, who.party.kind, who.acting_roles, consented);
        Ok(filter(record, derived, &decision))
    }

    async fn stored_record(&self, client_id: &str) -> Result<(ClientRecord, i64), GateError> {
        let stored = records::load(&self.db, client_id).await?;
        Ok((parse_record(&stored.json)?, stored.version))
    }

    /// The record of a linked client, filtered by policy and consent, its reading on record.
    /// The link, the record, the referral flag and the consents come in one statement.
    pub async fn read_record(
        &self,
        who: &Caller,
        client_id: &Uuid,
    ) -> Result<RecordView, GateError> {
        let client_id = client_id.to_string();
        let mut draft = self.draft(who, action::READ_CLIENT);
        draft.client = Some(client_id.clone());
        let today = OffsetDateTime::now_utc().date();
        let party = who.party.id.as_str();
        let Some(reading) =
            records::reading(&self.db, &client_id, party, who.purpose, today).await?
        else {
            return self.deny(draft, "notFound", GateError::NotFound).await;
        };
        draft.legal_basis = Some(reading.legal_basis);
        let record = parse_record(&reading.record.json)?;
        let derived = rules::derive(&record, today, reading.referred_to_agency);
        let consented: CategorySet = reading.consented.into_iter().collect();
        let decision = self
            .policy
            .decide(who.purpose, who.party.kind, who.acting_roles, consented);
        let filtered = filter(&record, &derived, &decision);
        draft.fields = filtered
            .read
            .iter()
            .map(|f| f.as_str().to_owned())
            .collect();
        self.writer.submit(None, draft).await?;
        Ok(RecordView {
            client_id,
            version: reading.record.version,
            filtered,
            changed: Vec::new(),
            significant_change: false,
        })
    }

    /// Applies a JSON merge patch (RFC 7396) to a linked client's record, only against the
    /// current version (`If-Match`), only to fields the caller's party owns; all or nothing.
    pub async fn patch_record(
        &self,
        who: &Caller,
        client_id: &Uuid,
        if_match: Option<&str>,
        patch: &serde_json::Value,
    ) -> Result<RecordView, GateError> {
        let client_id = client_id.to_string();
        let mut draft = self.draft(who, action::UPDATE_CLIENT);
        draft.client = Some(client_id.clone());
        draft.legal_basis = Some(self.linked(who, &draft, &client_id).await?);
        let (record, version) = self.stored_record(&client_id).await?;
        let Some(if_match) = if_match else {
            return self
                .deny(
                    draft,
                    "preconditionRequired",
                    GateError::PreconditionRequired,
                )
                .await;
        };
        if if_match.trim() != "*" && if_match.trim() != etag(version) {
            return self
                .deny(draft, "preconditionFailed", GateError::PreconditionFailed)
                .await;
        }
        let (updated, changed) = match patch::apply(&record, patch, who.party.kind) {
            Ok(applied) => applied,
            Err(rejection) => {
                let reason = match rejection.status_class() {
                    StatusClass::Forbidden => "fieldNotOwned",
                    StatusClass::BadRequest => "invalidInput",
                    StatusClass::Unprocessable => "invalidValue",
                };
                return self.deny(draft, reason, GateError::Patch(rejection)).await;
            }
        };
        draft.fields = changed.iter().map(|f| f.as_str().to_owned()).collect();
        let today = OffsetDateTime::now_utc().date();
        let referred = stored_referrals::agency_referral_made(&self.db, &client_id).await?;
        let derived_before = rules::derive(&record, today, referred);
        let derived_after = rules::derive(&updated, today, referred);
        let significant_change = rules::significant_change(&derived_before, &derived_after);
        let new_version = if changed.is_empty() {
            self.writer.submit(None, draft).await?;
            version
        } else {
            let categories = changed_categories(&changed, &derived_before, &derived_after);
            let event =
                NewEvent::record_changed(Some(client_id.clone()), &categories, significant_change);
            let mutation = Mutation::UpdateRecord {
                client_id: client_id.clone(),
                expected_version: version,
                record_json: serde_json::Value::Object(updated.to_json()).to_string(),
            };
            match self
                .writer
                .submit_with_events(Some(mutation), vec![event], draft)
                .await?
            {
                Applied::RecordUpdated { version } => version,
                Applied::Stale => return Err(GateError::PreconditionFailed),
                _ => return Err(GateError::Failed),
            }
        };
        let filtered = self.view(who, &client_id, &updated, &derived_after).await?;
        Ok(RecordView {
            client_id,
            version: new_version,
            filtered,
            changed,
            significant_change,
        })
    }

    /// Why a field of a client is or is not visible to a party acting in some roles for a
    /// purpose, with the client's consents as they stand today. For privacy officers of a party
    /// linked to the client (or reviewing the whole log); on record like any access.
    pub async fn explain(
        &self,
        who: &Caller,
        question: &VisibilityQuestion<'_>,
    ) -> Result<Explanation, GateError> {
        let VisibilityQuestion {
            client_id,
            party: subject,
            roles,
            purpose,
            field,
        } = *question;
        let client_id = client_id.to_string();
        let mut draft = self.draft(who, action::EXPLAIN);
        draft.client = Some(client_id.clone());
        draft.fields = vec![field.as_str().to_owned()];
        let party = who.party.id.as_str();
        let reviews_all = self.parties.review_all.iter().any(|p| p.as_str() == party);
        if !reviews_all {
            draft.legal_basis = Some(self.linked(who, &draft, &client_id).await?);
        }
        let today = OffsetDateTime::now_utc().date();
        let consented: CategorySet =
            consents::active_categories(&self.db, &client_id, subject.0.as_str(), purpose, today)
                .await?
                .into_iter()
                .collect();
        let explanation = self
            .policy
            .explain(purpose, subject.1, roles, field, consented);
        self.writer.submit(None, draft).await?;
        Ok(explanation)
    }

    /// Records an attest notified by KBI (SWO art. 13): the client is created if new, KBI is
    /// linked (its reference as dossier), the attest is set on the record, and the change is
    /// announced to every linked party — once per KBI reference.
    pub async fn record_attest(
        &self,
        who: &Caller,
        ssin: &Ssin,
        attest: Attest,
        reference: &DossierReference,
    ) -> Result<AttestRecorded, GateError> {
        let pseudonym = self.pseudonyms.pseudonym(ssin);
        let before =
            match clients::find_by_pseudonym(&self.db, &pseudonym, who.party.id.as_str()).await? {
                Presence::Unknown => ClientRecord::default(),
                Presence::NotLinked { client_id } | Presence::Linked { client_id, .. } => {
                    self.stored_record(&client_id).await?.0
                }
            };
        let mut after = before.clone();
        let attest_json = serde_json::json!({
            "kind": attest.kind.as_str(),
            "issuedOn": format_date(attest.issued_on),
        });
        after
            .set(Field::Attest, &attest_json)
            .map_err(|_| GateError::Failed)?;
        let today = OffsetDateTime::now_utc().date();
        let (derived_before, derived_after) = (
            rules::derive(&before, today, false),
            rules::derive(&after, today, false),
        );
        let categories = changed_categories(&[Field::Attest], &derived_before, &derived_after);
        let new_client_id = Uuid::new_v4().to_string();
        let ciphertext = self
            .cipher
            .seal(ssin.as_str().as_bytes(), new_client_id.as_bytes())
            .map_err(|_| GateError::Crypto)?;
        let registration = Registration {
            pseudonym,
            pseudonym_key_id: self.pseudonyms.key_id().to_owned(),
            new_client_id,
            ciphertext,
            encryption_key_id: self.cipher.key_id().to_owned(),
            party: who.party.id.to_string(),
            legal_basis: LegalBasis::LegalObligation.as_str().to_owned(),
            dossier_reference: reference.as_str().to_owned(),
        };
        let mutation = Mutation::RecordAttest {
            registration,
            reference: reference.as_str().to_owned(),
            attest: attest_json,
            kind: attest.kind.as_str().to_owned(),
            issued_on: format_date(attest.issued_on),
        };
        let event = NewEvent::record_changed(
            None,
            &categories,
            rules::significant_change(&derived_before, &derived_after),
        );
        let mut draft = self.draft(who, action::REGISTER_ATTEST);
        draft.legal_basis = Some(LegalBasis::LegalObligation.as_str().to_owned());
        draft.fields = vec![Field::Attest.as_str().to_owned()];
        match self
            .writer
            .submit_with_events(Some(mutation), vec![event], draft)
            .await?
        {
            Applied::AttestRecorded { client_id } => Ok(AttestRecorded {
                client_id,
                created: true,
            }),
            Applied::AttestKnown {
                client_id,
                same: true,
            } => Ok(AttestRecorded {
                client_id,
                created: false,
            }),
            Applied::AttestKnown { same: false, .. } => Err(GateError::ReferenceConflict),
            _ => Err(GateError::Failed),
        }
    }

    /// One audit record per client shown, so that each client's access report shows it.
    async fn record_each<'a>(
        &self,
        who: &Caller,
        action: &'static str,
        clients: impl Iterator<Item = &'a str>,
    ) -> Result<(), GateError> {
        let mut submissions = tokio::task::JoinSet::new();
        for client in clients {
            let mut draft = self.draft(who, action);
            draft.client = Some(client.to_owned());
            let writer = self.writer.clone();
            submissions.spawn(async move { writer.submit(None, draft).await });
        }
        while let Some(outcome) = submissions.join_next().await {
            outcome.map_err(|_| GateError::Failed)??;
        }
        Ok(())
    }
}

/// A stored record as the domain type; a stored record that does not parse is a failure of
/// the gateway, not of the caller.
fn parse_record(json: &str) -> Result<ClientRecord, GateError> {
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(json).map_err(|_| GateError::Failed)?;
    ClientRecord::from_json(&map).map_err(|_| GateError::Failed)
}
