//! The reference directory through the gate: a party links itself to a person (creating the
//! client if new), looks a person up, ends its link; and the link check every per-client
//! operation starts with, which reads like an unknown client when it fails.

use super::{Caller, Gate, GateError, action};
use crate::audit::record::AuditDraft;
use crate::domain::client_id::ClientId;
use crate::domain::competence::{LinkRole, Standing};
use crate::domain::link::{DossierReference, LegalBasis};
use crate::domain::party::PartyKind;
use crate::domain::ssin::Ssin;
use crate::store::clients::{self, ActiveLink, Presence};
use crate::store::consents;
use crate::store::mutations::{Applied, LinkGuard, Mutation, Registration};
use time::OffsetDateTime;
use uuid::Uuid;

/// A client whose link to the caller's party the gate has just checked, with the legal basis
/// and the role of that link. Only the gate makes one.
#[derive(Debug, Clone)]
pub struct LinkedClient {
    id: ClientId,
    legal_basis: String,
    role: LinkRole,
    kind: PartyKind,
}

impl LinkedClient {
    pub fn id(&self) -> &ClientId {
        &self.id
    }

    /// The role of the caller's party's link: competent or involved.
    pub fn role(&self) -> LinkRole {
        self.role
    }

    /// The caller's party's standing towards this client (its kind and link role).
    pub fn standing(&self) -> Standing {
        Standing::new(self.kind, self.role)
    }

    /// The guard a write by the caller is committed under: the link (competent, when
    /// `competent`) must still hold inside the write's own transaction.
    pub(super) fn guard(&self, party: &str, competent: bool, change: Mutation) -> Mutation {
        Mutation::Guarded {
            guard: LinkGuard {
                client_id: self.id.to_string(),
                party: party.to_owned(),
                competent,
            },
            change: Box::new(change),
        }
    }
}

pub struct Registered {
    pub client_id: String,
    /// False when the caller's party was already linked (an idempotent repeat).
    pub new_link: bool,
    /// The role of the caller's party's link (the existing one on a repeat).
    pub role: LinkRole,
}

impl Gate {
    /// Links the caller's party to the person with `ssin` in `role`, creating the client if
    /// needed. Competent while another party of the same kind is: refused. On the legal basis
    /// of consent: only with an active consent for the caller's party.
    pub async fn register_client(
        &self,
        who: &Caller,
        ssin: &Ssin,
        (legal_basis, role): (LegalBasis, LinkRole),
        dossier: &DossierReference,
    ) -> Result<Registered, GateError> {
        let mut draft = self.draft(who, action::REGISTER_CLIENT);
        draft.legal_basis = Some(legal_basis.as_str().to_owned());
        if legal_basis == LegalBasis::Consent {
            self.consent_for_link(who, ssin, &draft).await?;
        }
        let new_client_id = Uuid::new_v4().to_string();
        let (ciphertext, encryption_key_id) = self.seal_ssin(ssin, &new_client_id)?;
        let (pseudonyms, pseudonym_key_id) = self.pseudonyms_of(ssin);
        let mutation = Mutation::RegisterClient(Registration {
            pseudonyms,
            pseudonym_key_id,
            new_client_id,
            ciphertext,
            encryption_key_id,
            party: who.party.id.to_string(),
            party_kind: who.party.kind.as_str().to_owned(),
            role: Some(role),
            legal_basis: legal_basis.as_str().to_owned(),
            dossier_reference: dossier.as_str().to_owned(),
        });
        match self.writer.submit(Some(mutation), draft).await? {
            Applied::Registered {
                client_id,
                new_link,
                role,
            } => Ok(Registered {
                client_id,
                new_link,
                role,
            }),
            Applied::CompetenceTaken { .. } => Err(GateError::CompetenceTaken(who.party.kind)),
            _ => Err(GateError::Internal(
                "the store answered with another outcome",
            )),
        }
    }

    /// A link on the legal basis of consent needs a consent, active today, by which the client
    /// lets the caller's party receive data: without one the registration is refused on record
    /// (the person unknown or the consent missing alike).
    async fn consent_for_link(
        &self,
        who: &Caller,
        ssin: &Ssin,
        draft: &AuditDraft,
    ) -> Result<(), GateError> {
        let (pseudonyms, _) = self.pseudonyms_of(ssin);
        let party = who.party.id.as_str();
        let today = OffsetDateTime::now_utc().date();
        let client_id = match clients::find_by_pseudonym(&self.db, &pseudonyms, party).await? {
            Presence::Unknown => None,
            Presence::NotLinked { client_id } | Presence::Linked { client_id, .. } => {
                Some(client_id)
            }
        };
        let consented = match &client_id {
            Some(client_id) => consents::any_active(&self.db, client_id, party, today).await?,
            None => false,
        };
        if consented {
            return Ok(());
        }
        let mut draft = draft.clone();
        draft.client = client_id;
        self.deny(draft, "consentRequired", GateError::ConsentRequired)
            .await
    }

    /// The client id of the person with `ssin`, only if the caller's party is linked.
    pub async fn lookup_client(&self, who: &Caller, ssin: &Ssin) -> Result<String, GateError> {
        let (pseudonyms, _) = self.pseudonyms_of(ssin);
        let presence =
            clients::find_by_pseudonym(&self.db, &pseudonyms, who.party.id.as_str()).await?;
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
        let link = self.link_basis(who, &draft, client.as_str()).await?;
        Ok(LinkedClient {
            id: client.clone(),
            role: link.link_role(),
            legal_basis: link.legal_basis,
            kind: who.party.kind,
        })
    }

    /// The caller's party's link to `client_id` (legal basis and role), or the refusal
    /// `draft` on record and an answer that reads like an unknown client.
    pub(super) async fn link_basis(
        &self,
        who: &Caller,
        draft: &AuditDraft,
        client_id: &str,
    ) -> Result<ActiveLink, GateError> {
        match clients::active_link(&self.db, client_id, who.party.id.as_str()).await? {
            Some(link) => Ok(link),
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
