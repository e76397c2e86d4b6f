//! Competence through the gate (issue 13): who is competent for a client per party kind, an
//! involved party's claim, and the competent party's hand-over; every step on record.
//!
//! A claim by an involved party is effective at once when no party of its kind is competent;
//! otherwise it is pending until the competent party's link ends (the earliest claim then takes
//! over) or the competent party hands over to it. Only linked parties see any of it.

use super::{Caller, Gate, GateError, LinkedClient, action};
use crate::domain::competence::{ClaimEffect, LinkRole};
use crate::domain::party::{PartyId, PartyKind};
use crate::store::clients;
use crate::store::mutations::{Applied, Mutation};

/// The competence of one party kind for a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindCompetence {
    pub kind: PartyKind,
    pub competent: Option<String>,
    /// Involved parties of the kind, with whether each claims competence.
    pub involved: Vec<(String, bool)>,
}

/// The competence of every kind linked to a client, and the caller's own link role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompetenceView {
    pub client_id: String,
    pub link_role: LinkRole,
    pub kinds: Vec<KindCompetence>,
}

impl Gate {
    /// Who is competent for a linked client, per kind, with the pending claims.
    pub async fn competence(
        &self,
        who: &Caller,
        client: &LinkedClient,
    ) -> Result<CompetenceView, GateError> {
        let draft = self.draft_about(who, action::GET_COMPETENCE, client);
        let client_id = client.id().to_string();
        let rows = clients::competence(&self.db, &client_id).await?;
        let mut kinds: Vec<KindCompetence> = Vec::new();
        for row in rows {
            let Some(kind) = row
                .party_kind
                .as_deref()
                .and_then(|k| self.parties.kinds.values().find(|v| v.as_str() == k))
                .copied()
            else {
                continue;
            };
            let at = match kinds.iter().position(|k| k.kind == kind) {
                Some(at) => at,
                None => {
                    kinds.push(KindCompetence {
                        kind,
                        competent: None,
                        involved: Vec::new(),
                    });
                    kinds.len() - 1
                }
            };
            match LinkRole::parse(&row.role) {
                Some(LinkRole::Competent) => kinds[at].competent = Some(row.party_id),
                _ => kinds[at]
                    .involved
                    .push((row.party_id, row.claimed_at.is_some())),
            }
        }
        self.writer.submit(None, draft).await?;
        Ok(CompetenceView {
            client_id,
            link_role: client.role(),
            kinds,
        })
    }

    /// The caller's party, involved, claims competence for its kind.
    pub async fn claim_competence(
        &self,
        who: &Caller,
        client: &LinkedClient,
    ) -> Result<ClaimEffect, GateError> {
        let draft = self.draft_about(who, action::CLAIM_COMPETENCE, client);
        let mutation = Mutation::ClaimCompetence {
            client_id: client.id().to_string(),
            party: who.party.id.to_string(),
            kind: who.party.kind.as_str().to_owned(),
        };
        match self.writer.submit(Some(mutation), draft).await? {
            Applied::CompetenceClaimed(effect) => Ok(effect),
            Applied::NotLinked => Err(GateError::NotFound),
            _ => Err(GateError::Internal(
                "the store answered with another outcome",
            )),
        }
    }

    /// The caller's party, competent, hands competence for its kind to `to`, which claimed it.
    pub async fn hand_over_competence(
        &self,
        who: &Caller,
        client: &LinkedClient,
        to: &PartyId,
    ) -> Result<(), GateError> {
        let draft = self.draft_about(who, action::HAND_OVER_COMPETENCE, client);
        if client.role() != LinkRole::Competent {
            return self
                .deny(draft, "notCompetent", GateError::NotCompetent)
                .await;
        }
        let mutation = Mutation::HandOverCompetence {
            client_id: client.id().to_string(),
            from: who.party.id.to_string(),
            to: to.to_string(),
            kind: who.party.kind.as_str().to_owned(),
        };
        match self.writer.submit(Some(mutation), draft).await? {
            Applied::CompetenceHandedOver => Ok(()),
            Applied::NotCompetent => Err(GateError::NotCompetent),
            Applied::NoClaim => Err(GateError::NoClaim),
            _ => Err(GateError::Internal(
                "the store answered with another outcome",
            )),
        }
    }
}
