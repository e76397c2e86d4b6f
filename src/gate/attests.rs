//! Attests notified by KBI (SWO art. 13) through the gate.

use super::{Caller, Gate, GateError, action};
use crate::domain::event::changed_categories;
use crate::domain::link::{DossierReference, LegalBasis};
use crate::domain::record::field::Field;
use crate::domain::record::values::{Attest, ClientRecord, format_date};
use crate::domain::rules;
use crate::domain::ssin::Ssin;
use crate::store::audit_writer::NewEvent;
use crate::store::clients::{self, Presence};
use crate::store::mutations::{Applied, Mutation, Registration};
use time::OffsetDateTime;
use uuid::Uuid;

/// What recording an attest did.
pub struct AttestRecorded {
    pub client_id: String,
    /// False for a repeated notification (same reference, same content): nothing changed.
    pub created: bool,
}

impl Gate {
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
        let (pseudonyms, pseudonym_key_id) = self.pseudonyms_of(ssin);
        let before =
            match clients::find_by_pseudonym(&self.db, &pseudonyms, who.party.id.as_str()).await? {
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
            .map_err(|_| GateError::Internal("an attest does not fit the record"))?;
        let today = OffsetDateTime::now_utc().date();
        let (derived_before, derived_after) = (
            rules::derive(&before, today, false),
            rules::derive(&after, today, false),
        );
        let categories = changed_categories(&[Field::Attest], &derived_before, &derived_after);
        let new_client_id = Uuid::new_v4().to_string();
        let (ciphertext, encryption_key_id) = self.seal_ssin(ssin, &new_client_id)?;
        let registration = Registration {
            pseudonym_key_id,
            pseudonyms,
            new_client_id,
            ciphertext,
            encryption_key_id,
            party: who.party.id.to_string(),
            party_kind: who.party.kind.as_str().to_owned(),
            role: None,
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
            _ => Err(GateError::Internal(
                "the store answered with another outcome",
            )),
        }
    }
}
