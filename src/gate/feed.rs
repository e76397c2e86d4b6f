//! The change feed through the gate: events delivered as policy and consent allow at the
//! moment of delivery, each delivery on record.

use super::views::EventView;
use super::{Caller, Gate, GateError, action};
use crate::auth::principal::Principal;
use crate::domain::competence::LinkRole;
use crate::domain::event::EventType;
use crate::domain::event::{addressed_to, left_since};
use crate::domain::record::field::Category;
use crate::domain::record::field::Field;
use crate::gate::HashMap;
use crate::policy::Consented;
use crate::store::events;
use crate::store::events::StoredEvent;

impl Gate {
    /// The change feed: events after `after` that concern the caller's party (see
    /// `deliverable`), each reduced to the categories the caller may see now (policy and consent at delivery,
    /// so a consent withdrawn after the event was written withholds it). An event with nothing
    /// visible is not delivered. Waits up to `wait` for one to arrive. Every delivered event is
    /// on record.
    pub async fn feed(
        &self,
        who: &Caller,
        after: i64,
        limit: i64,
        wait: std::time::Duration,
    ) -> Result<(Vec<EventView>, i64), GateError> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut commits = self.writer.commits();
        let mut cursor = after;
        loop {
            commits.borrow_and_update();
            let (stored, scanned) =
                events::after(&self.db, who.party.id.as_str(), cursor, limit).await?;
            cursor = scanned;
            let delivered = self.deliverable(who, stored).await?;
            if !delivered.is_empty() {
                self.record_shown(
                    who,
                    action::DELIVER_EVENT,
                    delivered.iter().map(|(e, _)| e.client_id.as_str()),
                )
                .await?;
                let delivered = delivered.into_iter().map(EventView::from).collect();
                return Ok((delivered, cursor));
            }
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            if remaining.is_zero()
                || tokio::time::timeout(remaining, commits.changed())
                    .await
                    .is_err()
            {
                return Ok((Vec::new(), cursor));
            }
        }
    }

    /// The events of `stored` that may reach `who` now, each with the categories it may see:
    /// addressed to it (link, audience, purpose), and, where the event names categories,
    /// showing it at least one under the policy and the consents of this moment.
    pub(crate) async fn deliverable(
        &self,
        who: &Principal,
        stored: Vec<StoredEvent>,
    ) -> Result<Vec<(StoredEvent, Vec<Category>)>, GateError> {
        let party = who.party.id.as_str();
        let mut delivered = Vec::new();
        let mut consented: HashMap<String, Consented> = HashMap::new();
        for event in stored {
            let Some(event_type) = EventType::parse(&event.event_type) else {
                continue;
            };
            let audience = event.audience.as_deref();
            if !addressed_to(event_type, audience, party, event.linked, who.purpose)
                || left_since(event.linked, event.link_ended_at, event.recorded_at)
            {
                continue;
            }
            let consent = match consented.get(&event.client_id) {
                Some(consent) => *consent,
                None => {
                    let consent = self.consented(who, &event.client_id).await?;
                    consented.insert(event.client_id.clone(), consent);
                    consent
                }
            };
            let visible = self.visible_categories(who, &event, &consent);
            if visible.is_empty() && !event.categories.is_empty() {
                continue;
            }
            let mut event = event;
            // A significant change is told only to whom sees what moved (SWO art. 6).
            event.significant &= visible.contains(&Category::Coordination);
            delivered.push((event, visible));
        }
        Ok(delivered)
    }

    /// Whether one event may go to `who`'s webhook now, and with which categories; if so, the
    /// delivery is put on record before it is attempted (fail closed). `None`: withheld.
    pub async fn prepare_delivery(
        &self,
        who: &Caller,
        event: StoredEvent,
    ) -> Result<Option<EventView>, GateError> {
        let Some(delivered) = self.deliverable(who, vec![event]).await?.pop() else {
            return Ok(None);
        };
        let mut draft = self.draft(who, action::DELIVER_EVENT);
        draft.client = Some(delivered.0.client_id.clone());
        self.writer.submit(None, draft).await?;
        Ok(Some(EventView::from(delivered)))
    }

    fn visible_categories(
        &self,
        who: &Principal,
        event: &StoredEvent,
        consented: &Consented,
    ) -> Vec<Category> {
        // An event about a client the party is not linked to (a referral proposed to it) is
        // read as by an involved party: nothing of its kind's own.
        let link = event
            .link_role
            .as_deref()
            .and_then(LinkRole::parse)
            .unwrap_or(LinkRole::Involved);
        let decision = self
            .policy
            .decide_for(super::records::reader(who, link), consented.categories)
            .within(consented);
        event
            .categories
            .split(',')
            .filter_map(Category::parse)
            .filter(|category| Field::in_category(*category).any(|f| decision.is_visible(f)))
            .collect()
    }
}
