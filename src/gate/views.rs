//! What the gate answers: views it defines over what it stored, in the shape the parties
//! receive them (API bodies and webhook deliveries alike), so no caller sees a store row.

use crate::audit::record::{format_time, from_micros};
use crate::domain::infraction::InfractionKind;
use crate::domain::record::field::Category;
use crate::store::events::StoredEvent;
use crate::store::infractions::StoredInfraction;
use crate::store::referrals::{StoredMessage, StoredReferral};
use serde::Serialize;

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    kind: String,
    party: String,
    user: String,
    message: String,
    at: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReferralSummary {
    referral_id: String,
    client_id: String,
    from_party: String,
    to_party: String,
    direction: String,
    status: String,
    reason: String,
    evidence_reference: Option<String>,
    created_by: String,
    created_at: String,
    updated_at: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReferralDetail {
    #[serde(flatten)]
    referral: ReferralSummary,
    messages: Vec<MessageView>,
}

impl ReferralDetail {
    /// The referral's id, for its `Location`.
    pub fn id(&self) -> &str {
        &self.referral.referral_id
    }
}

fn time_text(micros: i64) -> String {
    format_time(from_micros(micros))
}

pub(super) fn summary(r: StoredReferral) -> ReferralSummary {
    ReferralSummary {
        referral_id: r.referral_id,
        client_id: r.client_id,
        from_party: r.from_party,
        to_party: r.to_party,
        direction: r.direction,
        status: r.status,
        reason: r.reason,
        evidence_reference: r.evidence_reference,
        created_by: r.created_by,
        created_at: time_text(r.created_at),
        updated_at: time_text(r.updated_at),
    }
}

impl ReferralDetail {
    pub fn client_id(&self) -> &str {
        &self.referral.client_id
    }
}

pub(super) fn detail(referral: StoredReferral, messages: Vec<StoredMessage>) -> ReferralDetail {
    let messages = messages
        .into_iter()
        .map(|m| MessageView {
            kind: m.kind,
            party: m.party,
            user: m.user,
            message: m.message,
            at: time_text(m.created_at),
        })
        .collect();
    ReferralDetail {
        referral: summary(referral),
        messages,
    }
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecisionView {
    decision: String,
    decided_on: String,
    note: String,
    decided_by: String,
    decided_at: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InfractionView {
    pub infraction_id: String,
    pub client_id: String,
    kind: String,
    /// The article of the agreement the kind refers to.
    article: &'static str,
    occurred_on: String,
    description: String,
    /// Who held the sanction authority when it was recorded (`ocmw` or `integrationAgency`).
    routed_to: String,
    /// The competent party of that kind then: it decides, and no other party of its kind.
    routed_party: Option<String>,
    recorded_by: String,
    recorded_at: String,
    decision: Option<DecisionView>,
}

pub(super) fn infraction(i: StoredInfraction) -> InfractionView {
    let article = InfractionKind::parse(&i.kind).map_or("SWO art. 12", InfractionKind::article);
    InfractionView {
        infraction_id: i.infraction_id,
        client_id: i.client_id,
        kind: i.kind,
        article,
        occurred_on: i.occurred_on,
        description: i.description,
        routed_to: i.routed_to,
        routed_party: i.routed_party,
        recorded_by: i.recorded_by_party,
        recorded_at: format_time(from_micros(i.recorded_at)),
        decision: i.decision.map(|d| DecisionView {
            decision: d.decision,
            decided_on: d.decided_on,
            note: d.note,
            decided_by: d.party,
            decided_at: format_time(from_micros(d.decided_at)),
        }),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventView {
    /// Stable across deliveries: a receiver deduplicates on it.
    event_id: String,
    position: i64,
    #[serde(rename = "type")]
    event_type: String,
    client_id: String,
    /// The referral or infraction the event is about (`referralChanged`, `infraction…`).
    #[serde(skip_serializing_if = "Option::is_none")]
    subject_id: Option<String>,
    /// The changed categories the caller may see; never values.
    categories: Vec<Category>,
    /// The change moved direction or sanction authority (SWO art. 6).
    significant_change: bool,
    recorded_at: String,
}

impl EventView {
    /// The id a receiver deduplicates on.
    pub fn event_id(&self) -> &str {
        &self.event_id
    }

    /// An event as one recipient receives it: on the feed, or as a webhook delivery's body.
    fn new(event: StoredEvent, categories: Vec<Category>) -> Self {
        Self {
            event_id: event.event_id,
            position: event.position,
            event_type: event.event_type,
            client_id: event.client_id,
            subject_id: event.subject_id,
            categories,
            significant_change: event.significant,
            recorded_at: format_time(from_micros(event.recorded_at)),
        }
    }
}

impl From<(StoredEvent, Vec<Category>)> for EventView {
    fn from((event, categories): (StoredEvent, Vec<Category>)) -> Self {
        Self::new(event, categories)
    }
}
