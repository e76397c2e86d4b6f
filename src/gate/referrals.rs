//! Referrals through the gate (SWO art. 4): proposed, decided, followed up and completed by
//! their two parties, each step on record.

use super::parameters::{Cursor, Page};
use super::views::{self, ReferralDetail, ReferralSummary};
use super::{Caller, Gate, GateError, LinkedClient, action};
use crate::audit::record::AuditDraft;
use crate::domain::event::EventType;
use crate::domain::referral;
use crate::domain::referral::NewReferral;
use crate::domain::referral::ReferralEvent;
use crate::domain::referral::ReferralStatus;
use crate::gate::PartyId;
use crate::gate::PartyKind;
use crate::store::audit_writer::NewEvent;
use crate::store::mutations::Applied;
use crate::store::mutations::MessageRow;
use crate::store::mutations::Mutation;
use crate::store::mutations::ReferralRow;
use crate::store::referrals::{self as stored_referrals, StoredReferral};
use uuid::Uuid;

impl Gate {
    async fn referral_view(
        &self,
        referral_id: &str,
        party: &str,
    ) -> Result<ReferralDetail, GateError> {
        let referral = stored_referrals::find(&self.db, referral_id, party)
            .await?
            .ok_or(GateError::NotFound)?;
        let messages = stored_referrals::messages(&self.db, referral_id).await?;
        Ok(views::detail(referral, messages))
    }

    /// A referral the caller's party sent or received, its status, and the draft of the
    /// record about it; to any other party it reads as unknown, and that refusal is on record.
    async fn own_referral(
        &self,
        who: &Caller,
        action: &'static str,
        referral_id: &Uuid,
    ) -> Result<(StoredReferral, ReferralStatus, AuditDraft), GateError> {
        let mut draft = self.draft(who, action);
        let party = who.party.id.as_str();
        let Some(current) =
            stored_referrals::find(&self.db, &referral_id.to_string(), party).await?
        else {
            return self.deny(draft, "notFound", GateError::NotFound).await;
        };
        draft.client = Some(current.client_id.clone());
        let status = ReferralStatus::parse(&current.status).ok_or(GateError::Internal(
            "a stored referral status does not parse",
        ))?;
        Ok((current, status, draft))
    }

    /// Proposes a referral of a client the caller's party is linked to (SWO art. 4).
    pub async fn create_referral(
        &self,
        who: &Caller,
        client: &LinkedClient,
        to: (&PartyId, PartyKind),
        reason: String,
        evidence_reference: Option<String>,
    ) -> Result<ReferralDetail, GateError> {
        let client_id = client.id().to_string();
        let draft = self.draft_about(who, action::CREATE_REFERRAL, client);
        let proposal = NewReferral {
            from: who.party.id.clone(),
            from_kind: who.party.kind,
            to: to.0.clone(),
            to_kind: to.1,
            reason,
            evidence_reference: evidence_reference.filter(|e| !e.is_empty()),
        };
        let direction = match proposal.check() {
            Ok(direction) => direction,
            Err(error) => {
                return self
                    .deny(draft, "referralRule", GateError::Referral(error))
                    .await;
            }
        };
        let referral_id = Uuid::now_v7().to_string();
        let event = NewEvent::about(
            EventType::ReferralChanged,
            &client_id,
            &referral_id,
            &[proposal.from.as_str(), proposal.to.as_str()],
            &[],
        );
        let row = ReferralRow {
            referral_id: referral_id.clone(),
            client_id,
            from_party: proposal.from.to_string(),
            to_party: proposal.to.to_string(),
            direction: direction.as_str().to_owned(),
            reason: proposal.reason,
            evidence_reference: proposal.evidence_reference,
            created_by: who.user.to_string(),
        };
        match self
            .writer
            .submit_with_events(Some(Mutation::CreateReferral(row)), vec![event], draft)
            .await?
        {
            Applied::ReferralCreated => {
                self.referral_view(&referral_id, who.party.id.as_str())
                    .await
            }
            _ => Err(GateError::Internal(
                "the store answered with another outcome",
            )),
        }
    }

    /// The referrals the caller's party sent or received, newest first.
    pub async fn list_referrals(
        &self,
        who: &Caller,
        outgoing: bool,
        status: Option<ReferralStatus>,
        (after, size): (Option<&Cursor>, i64),
    ) -> Result<Page<ReferralSummary>, GateError> {
        let found = stored_referrals::list(
            &self.db,
            who.party.id.as_str(),
            (outgoing, status.map(|s| s.as_str())),
            after.map(|c| (c.at, c.id.as_str())),
            size + 1,
        )
        .await?;
        let page = Page::of(found, size, |r| Cursor {
            at: r.created_at,
            id: r.referral_id.clone(),
        });
        self.record_shown(
            who,
            action::LIST_REFERRALS,
            page.items.iter().map(|r| r.client_id.as_str()),
        )
        .await?;
        Ok(page.map(views::summary))
    }

    /// One referral, to its sender or receiver only.
    pub async fn read_referral(
        &self,
        who: &Caller,
        referral_id: &Uuid,
    ) -> Result<ReferralDetail, GateError> {
        let mut draft = self.draft(who, action::READ_REFERRAL);
        match self
            .referral_view(&referral_id.to_string(), who.party.id.as_str())
            .await
        {
            Ok(view) => {
                draft.client = Some(view.client_id().to_owned());
                self.writer.submit(None, draft).await?;
                Ok(view)
            }
            Err(GateError::NotFound) => self.deny(draft, "notFound", GateError::NotFound).await,
            Err(error) => Err(error),
        }
    }

    /// Moves a referral on (accept, refuse, complete, withdraw) as the agreement allows; an
    /// accepted referral links the receiver to the client.
    pub async fn act_on_referral(
        &self,
        who: &Caller,
        referral_id: &Uuid,
        event: ReferralEvent,
        reason: Option<String>,
    ) -> Result<ReferralDetail, GateError> {
        let action = action::of_referral(event);
        let party = who.party.id.as_str();
        let (current, status, draft) = self.own_referral(who, action, referral_id).await?;
        let next = match referral::act(
            status,
            event,
            current.from_party == party,
            reason.as_deref(),
        ) {
            Ok(next) => next,
            Err(error) => {
                return self
                    .deny(draft, "referralRule", GateError::Referral(error))
                    .await;
            }
        };
        let mutation = Mutation::TransitionReferral {
            referral_id: current.referral_id.clone(),
            from_status: status.as_str().to_owned(),
            to_status: next.as_str().to_owned(),
            link_receiver: (event == ReferralEvent::Accept).then(|| {
                let kind = self.parties.kinds.get(&current.to_party).copied();
                let kind = kind.map_or("", |k| k.as_str()).to_owned();
                (current.client_id.clone(), current.to_party.clone(), kind)
            }),
            message: reason
                .filter(|r| !r.trim().is_empty())
                .map(|message| MessageRow {
                    referral_id: current.referral_id.clone(),
                    kind: event.as_str().to_owned(),
                    party: party.to_owned(),
                    user: who.user.to_string(),
                    message,
                }),
        };
        let events = vec![referral_changed(&current)];
        match self
            .writer
            .submit_with_events(Some(mutation), events, draft)
            .await?
        {
            Applied::ReferralMoved => self.referral_view(&current.referral_id, party).await,
            Applied::ReferralStale => Err(GateError::ReferralConflict),
            _ => Err(GateError::Internal(
                "the store answered with another outcome",
            )),
        }
    }

    /// Feedback on a referral (SWO art. 4, "terugkoppeling"), by either party.
    pub async fn add_referral_feedback(
        &self,
        who: &Caller,
        referral_id: &Uuid,
        message: String,
    ) -> Result<ReferralDetail, GateError> {
        let party = who.party.id.as_str();
        let (current, status, draft) = self
            .own_referral(who, action::REFERRAL_FEEDBACK, referral_id)
            .await?;
        if let Err(error) = referral::check_feedback(status, &message) {
            return self
                .deny(draft, "referralRule", GateError::Referral(error))
                .await;
        }
        let row = MessageRow {
            referral_id: current.referral_id.clone(),
            kind: "feedback".to_owned(),
            party: party.to_owned(),
            user: who.user.to_string(),
            message,
        };
        match self
            .writer
            .submit_with_events(
                Some(Mutation::AddReferralMessage(row)),
                vec![referral_changed(&current)],
                draft,
            )
            .await?
        {
            Applied::MessageAdded => self.referral_view(&current.referral_id, party).await,
            _ => Err(GateError::Internal(
                "the store answered with another outcome",
            )),
        }
    }
}

/// The notice to a referral's two sides that it moved on.
fn referral_changed(referral: &StoredReferral) -> NewEvent {
    NewEvent::about(
        EventType::ReferralChanged,
        &referral.client_id,
        &referral.referral_id,
        &[&referral.from_party, &referral.to_party],
        &[],
    )
}
