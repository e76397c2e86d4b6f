//! The reference directory through the gate: a party links itself to a person (creating the
//! client if new), looks a person up, ends its link; and the link check every per-client
//! operation starts with, which reads like an unknown client when it fails.

use super::{Caller, Gate, GateError, action};
use crate::audit::record::AuditDraft;
use crate::domain::client_id::ClientId;
use crate::domain::link::{DossierReference, LegalBasis};
use crate::domain::ssin::Ssin;
use crate::store::clients::{self, Presence};
use crate::store::mutations::{Applied, Mutation, Registration};
use uuid::Uuid;

/// A client whose link to the caller's party the gate has just checked, with the legal basis
/// of that link. Only the gate makes one.
#[derive(Debug, Clone)]
pub struct LinkedClient {
    id: ClientId,
    legal_basis: String,
}

impl LinkedClient {
    pub fn id(&self) -> &ClientId {
        &self.id
    }
}

pub struct Registered {
    pub client_id: String,
    /// False when the caller's party was already linked (an idempotent repeat).
    pub new_link: bool,
}

impl Gate {
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
            .map_err(|_| GateError::Internal("sealing the national register number failed"))?;
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
            _ => Err(GateError::Internal(
                "the store answered with another outcome",
            )),
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
    pub async fn end_link(&self, who: &Caller, client_id: &ClientId) -> Result<(), GateError> {
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
            _ => Err(GateError::Internal(
                "the store answered with another outcome",
            )),
        }
    }

    /// Checks that the caller's party is linked to `client` now. The handle it returns is what
    /// the per-client operations take, so none runs on an unchecked client. A refusal is on
    /// record under `action` and reads like an unknown client.
    pub async fn linked(
        &self,
        who: &Caller,
        action: &'static str,
        client: &ClientId,
    ) -> Result<LinkedClient, GateError> {
        let mut draft = self.draft(who, action);
        draft.client = Some(client.to_string());
        let legal_basis = self.link_basis(who, &draft, client.as_str()).await?;
        Ok(LinkedClient {
            id: client.clone(),
            legal_basis,
        })
    }

    /// The legal basis of the caller's party's link to `client_id`, or the refusal `draft`
    /// on record and an answer that reads like an unknown client.
    pub(super) async fn link_basis(
        &self,
        who: &Caller,
        draft: &AuditDraft,
        client_id: &str,
    ) -> Result<String, GateError> {
        match clients::active_link(&self.db, client_id, who.party.id.as_str()).await? {
            Some(legal_basis) => Ok(legal_basis),
            None => {
                self.deny(draft.clone(), "notFound", GateError::NotFound)
                    .await
            }
        }
    }

    /// An audit draft about a linked client, with the legal basis of the link.
    pub(super) fn draft_about(
        &self,
        who: &Caller,
        action: &'static str,
        client: &LinkedClient,
    ) -> AuditDraft {
        let mut draft = self.draft(who, action);
        draft.client = Some(client.id.to_string());
        draft.legal_basis = Some(client.legal_basis.clone());
        draft
    }
}
