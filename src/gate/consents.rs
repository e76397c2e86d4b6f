//! Consents through the gate (SWO art. 5, GDPR art. 7): recorded for a linked client,
//! listed, withdrawn as easily as given, and the categories they open to a reader today.

use super::{Caller, Gate, GateError, LinkedClient, action};
use crate::auth::principal::Principal;
use crate::domain::consent::{self, Consent, NewConsent};
use crate::domain::record::field::Category;
use crate::domain::record::values::format_date;
use crate::policy::Consented;
use crate::store::consents;
use crate::store::mutations::{Applied, ConsentRow, Mutation};
use time::OffsetDateTime;
use uuid::Uuid;

impl Gate {
    /// Records a client's consent to disclose data of the caller's party (which must be
    /// linked) to another party: only the competent owner of every category named records
    /// it, never backdated, with its proof referenced (SWO art. 5). A refusal is on record.
    pub async fn record_consent(
        &self,
        who: &Caller,
        client: &LinkedClient,
        consent: &NewConsent,
    ) -> Result<Consent, GateError> {
        let client_id = client.id().to_string();
        let draft = self.draft_about(who, action::RECORD_CONSENT, client);
        let not_held = consent::not_held(&consent.categories, client.standing());
        if !not_held.is_empty() {
            let error = GateError::CategoryNotOwned(not_held);
            return self.deny(draft, "categoryNotOwned", error).await;
        }
        let issues = consent::admissible(consent, &who.party.id, OffsetDateTime::now_utc());
        if !issues.is_empty() {
            return self
                .deny(draft, "consentRule", GateError::ConsentRule(issues))
                .await;
        }
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
        let mutation = client.guard(who.party.id.as_str(), true, Mutation::RecordConsent(row));
        match self.writer.submit(Some(mutation), draft).await? {
            Applied::ConsentRecorded => consents::find(&self.db, &client_id, &consent_id)
                .await?
                .ok_or(GateError::Internal(
                    "a row just written cannot be read back",
                )),
            Applied::NotLinked => Err(GateError::NotFound),
            _ => Err(GateError::Internal(
                "the store answered with another outcome",
            )),
        }
    }

    /// The consents of a client the caller's party is linked to that it recorded or receives:
    /// another party's consents are not its business.
    pub async fn list_consents(
        &self,
        who: &Caller,
        client: &LinkedClient,
    ) -> Result<Vec<Consent>, GateError> {
        let client_id = client.id().to_string();
        let draft = self.draft_about(who, action::LIST_CONSENTS, client);
        let party = who.party.id.as_str();
        let consents: Vec<Consent> = consents::for_client(&self.db, &client_id)
            .await?
            .into_iter()
            .filter(|c| c.recorded_by_party == party || c.recipient.as_str() == party)
            .collect();
        self.writer.submit(None, draft).await?;
        Ok(consents)
    }

    /// Withdraws a consent. Any linked party may record it: withdrawing is as easy as giving
    /// (GDPR art. 7(3)), whichever party the client tells. It holds from the next read on.
    pub async fn withdraw_consent(
        &self,
        who: &Caller,
        client: &LinkedClient,
        consent_id: &Uuid,
    ) -> Result<Consent, GateError> {
        let (client_id, consent_id) = (client.id().to_string(), consent_id.to_string());
        let draft = self.draft_about(who, action::WITHDRAW_CONSENT, client);
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
            _ => Err(GateError::Internal(
                "the store answered with another outcome",
            )),
        }
    }

    /// What the client's consents, active today, open to the caller of `client_id`.
    pub(super) async fn consented(
        &self,
        who: &Principal,
        client_id: &str,
    ) -> Result<Consented, GateError> {
        let today = OffsetDateTime::now_utc().date();
        let party = who.party.id.as_str();
        let categories =
            consents::active_categories(&self.db, client_id, party, who.purpose, today).await?;
        Ok(self.consent_scope(categories))
    }

    /// Consented categories with their recorders, as what they open: of each category, the
    /// fields the recorder's kind owns (and the derived values).
    pub(super) fn consent_scope(&self, categories: Vec<(Category, String)>) -> Consented {
        categories
            .into_iter()
            .filter_map(|(category, recorder)| {
                let kind = self.parties.kinds.get(&recorder)?;
                Some((category, *kind))
            })
            .collect()
    }
}
