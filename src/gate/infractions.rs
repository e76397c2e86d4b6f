//! Infractions through the gate (SWO art. 12): recorded by the integration agency, routed to
//! the sanction authority of that moment, decided once by the party it was routed to. Each
//! step is on record and announced to the parties concerned only.

use super::parameters::{Cursor, Page};
use super::views::{self, InfractionView};
use super::{Caller, Gate, GateError, LinkedClient, action};
use crate::auth::principal::Principal;
use crate::domain::competence::LinkRole;
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
        let reader = super::records::reader(who, client.role());
        let decision = self.policy.decide_for(reader, CategorySet::EMPTY);
        if decision.is_visible(Field::SanctionAuthority) {
            Ok((client.id().to_string(), draft))
        } else {
            self.deny(draft, "notPermitted", GateError::NotPermitted)
                .await
        }
    }

    /// The competent party of the kind `routed_to` names for the client now, if one is linked.
    async fn competent_for(
        &self,
        client_id: &str,
        routed_to: Responsible,
    ) -> Result<Option<String>, GateError> {
        let kind = infraction::party_kind(routed_to).as_str();
        let rows = clients::competence(&self.db, client_id).await?;
        Ok(rows
            .into_iter()
            .find(|r| r.party_kind.as_deref() == Some(kind) && r.role == "competent")
            .map(|r| r.party_id))
    }

    /// Who is told about an infraction: the party that recorded it and the party it was
    /// routed to.
    fn infraction_audience(recorder: &str, routed_party: Option<&str>) -> Vec<String> {
        let mut audience = vec![recorder.to_owned()];
        audience.extend(routed_party.filter(|p| *p != recorder).map(str::to_owned));
        audience
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
        if client.role() != LinkRole::Competent {
            return self
                .deny(draft, "notCompetent", GateError::NotCompetent)
                .await;
        }
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
        let routed_party = self.competent_for(&client_id, recorded.routed_to).await?;
        let audience = Self::infraction_audience(party, routed_party.as_deref());
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
            routed_party,
            party: party.to_owned(),
            user: who.user.to_string(),
        };
        let mutation = client.guard(party, true, Mutation::RecordInfraction(row));
        match self
            .writer
            .submit_with_events(Some(mutation), vec![event], draft)
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
        (after, size): (Option<&Cursor>, i64),
    ) -> Result<Page<InfractionView>, GateError> {
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
            let party = who.party.id.as_str();
            let after = after.map(|c| (c.at, c.id.as_str()));
            stored::list(&self.db, &client_id, (&routed, party), after, size + 1).await?
        };
        let page = Page::of(found, size, |i| Cursor {
            at: i.recorded_at,
            id: i.infraction_id.clone(),
        });
        self.writer.submit(None, draft).await?;
        Ok(page.map(views::infraction))
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
        let party = who.party.id.as_str();
        let visible = found.filter(|i| {
            Responsible::parse(&i.routed_to)
                .is_some_and(|routed| infraction::may_see(routed, who.party.kind))
                && infraction::seen_by(&i.recorded_by_party, i.routed_party.as_deref(), party)
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
        let party = who.party.id.as_str();
        let checked = domain
            .check_decision(who.party.kind, &decision, today)
            .and_then(|()| {
                if infraction::decided_by(current.routed_party.as_deref(), party) {
                    Ok(())
                } else {
                    Err(infraction::InfractionError::NotRoutedToYou {
                        routed_to: domain.routed_to,
                    })
                }
            });
        if let Err(error) = checked {
            return self
                .deny(draft, "infractionRule", GateError::Infraction(error))
                .await;
        }
        let audience =
            Self::infraction_audience(&current.recorded_by_party, current.routed_party.as_deref());
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
            client_id: current.client_id.clone(),
            decision: decision.decision.as_str().to_owned(),
            decided_on: format_date(decision.decided_on),
            note: decision.note,
            party: who.party.id.to_string(),
            user: who.user.to_string(),
        });
        let mutation = client.guard(party, true, mutation);
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
