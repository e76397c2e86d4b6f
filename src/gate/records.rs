//! The joint-client record through the gate: read as the policy and the consents let the
//! caller see it, written by merge patch against the version read, explained to a privacy
//! officer; every access on record.

use super::{Caller, Gate, GateError, LinkedClient, action};
use crate::auth::principal::Principal;
use crate::domain::client_id::ClientId;
use crate::domain::competence::LinkRole;
use crate::domain::event::changed_categories;
use crate::domain::party::{PartyId, PartyKind};
use crate::domain::purpose::Purpose;
use crate::domain::record::field::{Category, Field};
use crate::domain::record::patch::{self, StatusClass};
use crate::domain::record::values::ClientRecord;
use crate::domain::role::RoleSet;
use crate::domain::rules;
use crate::policy::{CategorySet, Explanation, Filtered, Reader, filter};
use crate::store::audit_writer::NewEvent;
use crate::store::clients;
use crate::store::consents;
use crate::store::mutations::{Applied, Mutation};
use crate::store::records;
use crate::store::referrals as stored_referrals;
use time::OffsetDateTime;

/// A client's record as one caller may see it, with its version (the ETag).
pub struct RecordView {
    pub client_id: String,
    pub version: i64,
    pub filtered: Filtered,
    pub changed: Vec<Field>,
    /// The change moved direction or sanction authority (SWO art. 6); told only to a reader
    /// who may see those values (the `coordination` category).
    pub significant_change: bool,
    /// The role of the reader's party's link to the client.
    pub link_role: LinkRole,
}

/// The reader of a record: the caller, with the role of its party's link to the client.
pub(super) fn reader(who: &Principal, link: LinkRole) -> Reader {
    Reader {
        purpose: who.purpose,
        kind: who.party.kind,
        acting_roles: who.acting_roles,
        link,
    }
}

/// Whether a significant change may be told to a reader with `filtered`: only when it sees
/// what moved (direction and sanction authority are in the `coordination` category).
fn tell_significant(significant: bool, filtered: &Filtered) -> bool {
    significant
        && filtered
            .read
            .iter()
            .any(|f| f.category() == Category::Coordination)
}

/// What a privacy officer asks `explain`.
#[derive(Clone, Copy)]
pub struct VisibilityQuestion<'a> {
    pub client_id: &'a ClientId,
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

impl Gate {
    /// The derived values of a record as they stand today.
    pub(super) async fn derived(
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
    pub(super) async fn view(
        &self,
        who: &Principal,
        (client_id, link): (&str, LinkRole),
        record: &ClientRecord,
        derived: &rules::Derived,
    ) -> Result<Filtered, GateError> {
        let consented = self.consented(who, client_id).await?;
        let decision = self
            .policy
            .decide_for(reader(who, link), consented.categories)
            .within(&consented);
        Ok(filter(record, derived, &decision))
    }

    pub(super) async fn stored_record(
        &self,
        client_id: &str,
    ) -> Result<(ClientRecord, i64), GateError> {
        let stored = records::load(&self.db, client_id).await?;
        Ok((parse_record(&stored.json)?, stored.version))
    }

    /// The record of a linked client, filtered by policy and consent, its reading on record.
    /// The link, the record, the referral flag and the consents come in one statement.
    pub async fn read_record(
        &self,
        who: &Caller,
        client_id: &ClientId,
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
        let link_role = LinkRole::parse(&reading.role).unwrap_or(LinkRole::Involved);
        let record = parse_record(&reading.record.json)?;
        let derived = rules::derive(&record, today, reading.referred_to_agency);
        let consented = self.consent_scope(reading.consented);
        let decision = self
            .policy
            .decide_for(reader(who, link_role), consented.categories)
            .within(&consented);
        let filtered = filter(&record, &derived, &decision);
        draft.fields = disclosed(&[], &filtered.read);
        self.writer.submit(None, draft).await?;
        Ok(RecordView {
            client_id,
            version: reading.record.version,
            filtered,
            changed: Vec::new(),
            significant_change: false,
            link_role,
        })
    }

    /// Applies a JSON merge patch (RFC 7396) to a linked client's record, only against the
    /// current version (`If-Match`), only to fields the caller's party owns as the competent
    /// party of their kind; all or nothing. The link is checked again inside the write's
    /// transaction, so no write commits after an unlink that precedes it.
    pub async fn patch_record(
        &self,
        who: &Caller,
        client: &LinkedClient,
        if_match: Option<&str>,
        patch: &serde_json::Value,
    ) -> Result<RecordView, GateError> {
        let client_id = client.id().to_string();
        let mut draft = self.draft_about(who, action::UPDATE_CLIENT, client);
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
        let (updated, changed) = match patch::apply(&record, patch, client.standing()) {
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
        let today = OffsetDateTime::now_utc().date();
        let referred = stored_referrals::agency_referral_made(&self.db, &client_id).await?;
        let derived_before = rules::derive(&record, today, referred);
        let derived_after = rules::derive(&updated, today, referred);
        let significant_change = rules::significant_change(&derived_before, &derived_after);
        // The answer carries the record as the caller may see it after the write: the record
        // names what was written and what the answer discloses, even when nothing changed.
        let link_role = client.role();
        let filtered = self
            .view(who, (&client_id, link_role), &updated, &derived_after)
            .await?;
        draft.fields = disclosed(&changed, &filtered.read);
        let new_version = if changed.is_empty() {
            self.writer.submit(None, draft).await?;
            version
        } else {
            let categories = changed_categories(&changed, &derived_before, &derived_after);
            let event =
                NewEvent::record_changed(Some(client_id.clone()), &categories, significant_change);
            let update = Mutation::UpdateRecord {
                client_id: client_id.clone(),
                expected_version: version,
                record_json: serde_json::Value::Object(updated.to_json()).to_string(),
            };
            let mutation = client.guard(who.party.id.as_str(), true, update);
            match self
                .writer
                .submit_with_events(Some(mutation), vec![event], draft)
                .await?
            {
                Applied::RecordUpdated { version } => version,
                Applied::Stale => return Err(GateError::PreconditionFailed),
                Applied::NotLinked => return Err(GateError::NotFound),
                _ => {
                    return Err(GateError::Internal(
                        "the store answered with another outcome",
                    ));
                }
            }
        };
        Ok(RecordView {
            client_id,
            version: new_version,
            significant_change: tell_significant(significant_change, &filtered),
            filtered,
            changed,
            link_role,
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
            draft.legal_basis = Some(self.link_basis(who, &draft, &client_id).await?.legal_basis);
        }
        // The party explained about reads as its link to the client is now (as competent
        // when it has none: what its kind would read).
        let link = clients::active_link(&self.db, &client_id, subject.0.as_str())
            .await?
            .map_or(LinkRole::Competent, |l| l.link_role());
        let today = OffsetDateTime::now_utc().date();
        let scope = self.consent_scope(
            consents::active_categories(&self.db, &client_id, subject.0.as_str(), purpose, today)
                .await?,
        );
        // A consent to the field's category opens the field only if its owner recorded it.
        let consented: CategorySet = Category::ALL
            .into_iter()
            .filter(|c| scope.categories.contains(*c))
            .filter(|c| *c != field.category() || scope.fields.contains(field))
            .collect();
        let reader = Reader {
            purpose,
            kind: subject.1,
            acting_roles: roles,
            link,
        };
        let explanation = self.policy.explain_for(reader, field, consented);
        self.writer.submit(None, draft).await?;
        Ok(explanation)
    }
}

/// A stored record as the domain type; a stored record that does not parse is a failure of
/// the gateway, not of the caller.
pub(super) fn parse_record(json: &str) -> Result<ClientRecord, GateError> {
    ClientRecord::from_json_text(json)
        .map_err(|_| GateError::Internal("a stored record does not parse"))
}

/// The field names an audit record names: those written and those the answer disclosed, each
/// once, in the record's field order.
fn disclosed(written: &[Field], read: &[Field]) -> Vec<String> {
    let mut fields: Vec<Field> = written.iter().chain(read).copied().collect();
    fields.sort_unstable();
    fields.dedup();
    fields.iter().map(|f| f.as_str().to_owned()).collect()
}
