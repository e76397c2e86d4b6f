//! Infractions through the gate (SWO art. 12): recorded by the integration agency, routed to
//! the sanction authority of that moment, decided once by the party it was routed to. Each
//! step is on record and announced to the parties concerned only.

use super::views::{self, InfractionView};
use super::{Caller, Gate, GateError, LinkedClient, action};
use crate::auth::principal::Principal;
use crate::domain::event::EventType;
use crate::domain::infraction::{
    self, Infraction, InfractionKind, NewInfraction, SanctionDecision, SanctionOutcome,
};
use crate::domain::record::field::Category;
use crate::domain::record::field::Field;
use crate::domain::record::values::format_date;
use crate::domain::record::values::parse_date;
use crate::domain::rules::Responsible;
use crate::gate::AuditDraft;
use crate::policy::CategorySet;
use crate::store::audit_writer::NewEvent;
use crate::store::clients;
use crate::store::infractions::{self as stored, StoredInfraction};
use crate::store::mutations::{Applied, DecisionRow, InfractionRow, Mutation};
use time::OffsetDateTime;
use uuid::Uuid;

impl Gate {
    /// The client's id and the draft of the record about it, if the caller, linked to the
    /// client, may handle infractions of it: the policy shows it who holds the sanction
    /// authority for its purpose and roles. Infractions follow that value: a party the policy
    /// does not tell who sanctions is not told of infractions either. A refusal is on record.
    async fn sanctioning(
        &self,
        who: &Caller,
        action: &'static str,
        client: &LinkedClient,
    ) -> Result<(String, AuditDraft), GateError> {
        let draft = self.draft_about(who, action, client);
        let decision = self.policy.decide(
            who.purpose,
            who.party.kind,
            who.acting_roles,
            CategorySet::EMPTY,
        );
        if decision.is_visible(Field::SanctionAuthority) {
            Ok((client.id().to_string(), draft))
        } else {
            self.deny(draft, "notPermitted", GateError::NotPermitted)
                .await
        }
    }

    /// Who is told about an infraction: the party that recorded it and the parties of the
    /// kind it was routed to that are linked to the client now.
    async fn infraction_audience(
        &self,
        client_id: &str,
        recorder: &str,
        routed_to: Responsible,
    ) -> Result<Vec<String>, GateError> {
        let routed_kind = infraction::party_kind(routed_to);
        let mut audience = vec![recorder.to_owned()];
        for party in clients::linked_parties(&self.db, client_id).await? {
            if self.parties.kinds.get(&party) == Some(&routed_kind) && party != recorder {
                audience.push(party);
            }
        }
        Ok(audience)
    }

    /// Records an infraction on a linked client, routed to whoever holds the sanction
    /// authority now (SWO art. 12).
    pub async fn record_infraction(
        &self,
        who: &Caller,
        client: &LinkedClient,
        new: NewInfraction,
    ) -> Result<InfractionView, GateError> {
        let (client_id, draft) = self
            .sanctioning(who, action::RECORD_INFRACTION, client)
            .await?;
        let (record, _) = self.stored_record(&client_id).await?;
        let authority = self.derived(&client_id, &record).await?.sanction_authority;
        let today = OffsetDateTime::now_utc().date();
        let recorded = match infraction::record(who.party.kind, authority, new, today) {
            Ok(recorded) => recorded,
            Err(error) => {
                return self
                    .deny(draft, "infractionRule", GateError::Infraction(error))
                    .await;
            }
        };
        let infraction_id = Uuid::now_v7().to_string();
        let party = who.party.id.as_str();
        let audience = self
            .infraction_audience(&client_id, party, recorded.routed_to)
            .await?;
        let audience: Vec<&str> = audience.iter().map(String::as_str).collect();
        let event = NewEvent::about(
            EventType::InfractionRecorded,
            &client_id,
            &infraction_id,
            &audience,
            &[Category::Coordination],
        );
        let row = InfractionRow {
            infraction_id: infraction_id.clone(),
            client_id: client_id.clone(),
            kind: recorded.kind.as_str().to_owned(),
            occurred_on: format_date(recorded.occurred_on),
            description: recorded.description,
            routed_to: recorded.routed_to.as_str().to_owned(),
            party: party.to_owned(),
            user: who.user.to_string(),
        };
        match self
            .writer
            .submit_with_events(Some(Mutation::RecordInfraction(row)), vec![event], draft)
            .await?
        {
            Applied::InfractionRecorded => stored::find(&self.db, &client_id, &infraction_id)
                .await?
                .map(views::infraction)
                .ok_or(GateError::Internal(
                    "a row just written cannot be read back",
                )),
            _ => Err(GateError::Internal(
                "the store answered with another outcome",
            )),
        }
    }

    /// The infractions of a linked client the caller's party may see, newest first.
    pub async fn list_infractions(
        &self,
        who: &Caller,
        client: &LinkedClient,
        limit: i64,
    ) -> Result<Vec<InfractionView>, GateError> {
        let (client_id, draft) = self
            .sanctioning(who, action::LIST_INFRACTIONS, client)
            .await?;
        let routed: Vec<&str> = Responsible::ALL
            .iter()
            .filter(|r| infraction::may_see(**r, who.party.kind))
            .map(|r| r.as_str())
            .collect();
        let found = if routed.is_empty() {
            Vec::new()
        } else {
            stored::list(&self.db, &client_id, &routed, limit).await?
        };
        self.writer.submit(None, draft).await?;
        Ok(found.into_iter().map(views::infraction).collect())
    }

    /// One infraction, if the caller may see it; otherwise it reads as unknown.
    async fn visible_infraction(
        &self,
        who: &Principal,
        draft: &AuditDraft,
        client_id: &str,
        infraction_id: &Uuid,
    ) -> Result<StoredInfraction, GateError> {
        let found = stored::find(&self.db, client_id, &infraction_id.to_string()).await?;
        let visible = found.filter(|i| {
            Responsible::parse(&i.routed_to)
                .is_some_and(|routed| infraction::may_see(routed, who.party.kind))
        });
        match visible {
            Some(infraction) => Ok(infraction),
            None => {
                self.deny(draft.clone(), "notFound", GateError::NotFound)
                    .await
            }
        }
    }

    /// One infraction of a linked client.
    pub async fn read_infraction(
        &self,
        who: &Caller,
        client: &LinkedClient,
        infraction_id: &Uuid,
    ) -> Result<InfractionView, GateError> {
        let (client_id, draft) = self
            .sanctioning(who, action::READ_INFRACTION, client)
            .await?;
        let infraction = self
            .visible_infraction(who, &draft, &client_id, infraction_id)
            .await?;
        self.writer.submit(None, draft).await?;
        Ok(views::infraction(infraction))
    }

    /// Records the sanction authority's decision on an infraction routed to it: for the OCMW,
    /// its BCSD's decision (SWO art. 12). Once.
    pub async fn decide_infraction(
        &self,
        who: &Caller,
        client: &LinkedClient,
        infraction_id: &Uuid,
        decision: SanctionDecision,
    ) -> Result<InfractionView, GateError> {
        let (client_id, draft) = self
            .sanctioning(who, action::DECIDE_INFRACTION, client)
            .await?;
        let current = self
            .visible_infraction(who, &draft, &client_id, infraction_id)
            .await?;
        let domain =
            as_domain(&current).ok_or(GateError::Internal("a stored infraction does not parse"))?;
        let today = OffsetDateTime::now_utc().date();
        if let Err(error) = domain.check_decision(who.party.kind, &decision, today) {
            return self
                .deny(draft, "infractionRule", GateError::Infraction(error))
                .await;
        }
        let audience = self
            .infraction_audience(&client_id, &current.recorded_by_party, domain.routed_to)
            .await?;
        let audience: Vec<&str> = audience.iter().map(String::as_str).collect();
        let event = NewEvent::about(
            EventType::InfractionDecided,
            &client_id,
            &current.infraction_id,
            &audience,
            &[Category::Coordination],
        );
        let mutation = Mutation::DecideInfraction(DecisionRow {
            infraction_id: current.infraction_id.clone(),
            decision: decision.decision.as_str().to_owned(),
            decided_on: format_date(decision.decided_on),
            note: decision.note,
            party: who.party.id.to_string(),
            user: who.user.to_string(),
        });
        match self
            .writer
            .submit_with_events(Some(mutation), vec![event], draft)
            .await?
        {
            Applied::InfractionDecided => {
                stored::find(&self.db, &client_id, &current.infraction_id)
                    .await?
                    .map(views::infraction)
                    .ok_or(GateError::Internal(
                        "a row just written cannot be read back",
                    ))
            }
            Applied::InfractionAlreadyDecided => Err(GateError::Infraction(
                infraction::InfractionError::AlreadyDecided,
            )),
            _ => Err(GateError::Internal(
                "the store answered with another outcome",
            )),
        }
    }
}

/// The stored infraction as the domain type its rules are written against.
fn as_domain(stored: &StoredInfraction) -> Option<Infraction> {
    let decision = match &stored.decision {
        None => None,
        Some(d) => Some(SanctionDecision {
            decision: SanctionOutcome::parse(&d.decision)?,
            decided_on: parse_date(&d.decided_on)?,
            note: d.note.clone(),
        }),
    };
    Some(Infraction {
        kind: InfractionKind::parse(&stored.kind)?,
        occurred_on: parse_date(&stored.occurred_on)?,
        description: stored.description.clone(),
        routed_to: Responsible::parse(&stored.routed_to)?,
        decision,
    })
}
