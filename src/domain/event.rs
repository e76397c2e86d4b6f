//! Events (product brief §7): thin notices, as Flemish MAGDA's are — a type, the client and the
//! categories that changed, never a value. A receiver reads the values through the gate, so
//! every value it sees is filtered and audited.

use super::purpose::Purpose;
use super::record::field::{Category, Field};
use super::referral::wire_names;
use super::rules::Derived;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// Fields of the joint-client record changed (owned or derived).
    ClientRecordChanged,
    /// A referral was proposed, answered, completed or withdrawn, or feedback was added on it
    /// (SWO art. 4).
    ReferralChanged,
    /// The integration agency recorded an infraction (SWO art. 12).
    InfractionRecorded,
    /// The sanction authority recorded its decision on an infraction (SWO art. 12).
    InfractionDecided,
}

wire_names!(EventType {
    ClientRecordChanged => "clientRecordChanged",
    ReferralChanged => "referralChanged",
    InfractionRecorded => "infractionRecorded",
    InfractionDecided => "infractionDecided",
});

impl EventType {
    /// The purpose under which a reader may read what the event announces. A record event
    /// is filtered by category under the reader's own purpose instead. Reading a referral
    /// needs the purpose `referral` (SWO art. 4), and reading an infraction needs `sanctioning`
    /// (art. 12). A notice is delivered only where reading its subject would be allowed.
    pub const fn subject_purpose(self) -> Option<Purpose> {
        match self {
            Self::ClientRecordChanged => None,
            Self::ReferralChanged => Some(Purpose::Referral),
            Self::InfractionRecorded | Self::InfractionDecided => Some(Purpose::Sanctioning),
        }
    }
}

/// Whether an event may reach `party` reading under `purpose`, before its categories are
/// looked at. The party must be linked to the client at the moment of delivery, and where the
/// event has an audience (an infraction's recorder and the parties it was routed to, a
/// referral's two sides) be in it. The receiver of a referral is the one exception to the
/// link: it is told of the proposal before it is linked, because accepting is what links it
/// (SWO art. 4).
pub fn addressed_to(
    event_type: EventType,
    audience: Option<&str>,
    party: &str,
    linked_now: bool,
    purpose: Purpose,
) -> bool {
    let purpose_allows = event_type
        .subject_purpose()
        .is_none_or(|required| required == purpose);
    let in_audience = audience.is_none_or(|members| members.split(',').any(|m| m == party));
    let linked = linked_now || event_type == EventType::ReferralChanged;
    purpose_allows && in_audience && linked
}

/// Whether an event about a client is withheld from a party because the party ended its link
/// to the client after the event was written: after unlinking, a party receives nothing more
/// about the client (product brief §2), referrals included, until something new is addressed
/// to it (a referral proposed to it after the unlink). Times are microseconds since the epoch.
pub fn left_since(linked_now: bool, link_ended_at: Option<i64>, recorded_at: i64) -> bool {
    !linked_now && link_ended_at.is_some_and(|ended| ended >= recorded_at)
}

/// The categories a change touched: those of the fields written and of the derived values
/// whose value moved, in a stable order.
pub fn changed_categories(written: &[Field], before: &Derived, after: &Derived) -> Vec<Category> {
    let derived_moved = Field::ALL
        .iter()
        .copied()
        .filter(|f| f.is_derived() && before.value(*f) != after.value(*f));
    let categories: BTreeSet<Category> = written
        .iter()
        .copied()
        .chain(derived_moved)
        .map(Field::category)
        .collect();
    categories.into_iter().collect()
}

#[cfg(test)]
mod left_since_tests {
    use super::left_since;

    #[test]
    fn a_party_that_unlinked_after_the_event_no_longer_receives_it() {
        assert!(left_since(false, Some(20), 10));
        assert!(!left_since(false, Some(5), 10));
        assert!(!left_since(true, Some(20), 10));
        assert!(!left_since(false, None, 10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::record::values::ClientRecord;
    use crate::domain::rules::derive;
    use serde_json::json;
    use time::macros::date;

    #[test]
    fn ending_the_living_wage_touches_income_coordination_and_the_fee_swo_art_6_7() {
        let mut before = ClientRecord::default();
        for (field, value) in [
            (Field::IntegrationStatus, json!("entitled")),
            (Field::NationalRegisterSince, json!("2019-01-01")),
            (Field::ReceivesLivingWage, json!(true)),
        ] {
            before.set(field, &value).unwrap();
        }
        let mut after = before.clone();
        after.set(Field::ReceivesLivingWage, &json!(false)).unwrap();
        let today = date!(2026 - 11 - 24);
        let categories = changed_categories(
            &[Field::ReceivesLivingWage],
            &derive(&before, today, false),
            &derive(&after, today, false),
        );
        // Direction and sanction authority move (coordination), and so does the fee: on living
        // wage the client was exempt (SWO art. 7); without it, and with no contract date
        // known, whether the fee applies is unknown.
        assert_eq!(
            categories,
            [
                Category::Financial,
                Category::Income,
                Category::Coordination
            ]
        );
    }

    #[test]
    fn a_change_that_moves_no_derived_value_touches_only_its_own_category() {
        let record = ClientRecord::default();
        let today = date!(2026 - 11 - 24);
        let derived = derive(&record, today, false);
        assert_eq!(
            changed_categories(&[Field::IncreasedAllowance], &derived, &derived),
            [Category::Financial]
        );
    }

    #[test]
    fn record_events_reach_the_parties_linked_at_delivery_under_any_purpose() {
        let t = EventType::ClientRecordChanged;
        assert!(addressed_to(
            t,
            None,
            "amal",
            true,
            Purpose::TrajectoryGuidance
        ));
        assert!(!addressed_to(
            t,
            None,
            "amal",
            false,
            Purpose::TrajectoryGuidance
        ));
    }

    #[test]
    fn swo_art_4_referral_events_reach_its_two_sides_only_under_the_purpose_referral() {
        let t = EventType::ReferralChanged;
        let sides = Some("ocmw-gent,amal");
        // The receiver is told before it is linked: accepting is what links it.
        assert!(addressed_to(t, sides, "amal", false, Purpose::Referral));
        assert!(addressed_to(t, sides, "ocmw-gent", true, Purpose::Referral));
        assert!(!addressed_to(
            t,
            sides,
            "ocmw-eeklo",
            true,
            Purpose::Referral
        ));
        assert!(!addressed_to(
            t,
            sides,
            "amal",
            true,
            Purpose::TrajectoryGuidance
        ));
    }

    #[test]
    fn swo_art_12_infraction_events_reach_their_audience_only_under_the_purpose_sanctioning() {
        for t in [EventType::InfractionRecorded, EventType::InfractionDecided] {
            let audience = Some("amal,ocmw-gent");
            assert!(addressed_to(
                t,
                audience,
                "ocmw-gent",
                true,
                Purpose::Sanctioning
            ));
            assert!(!addressed_to(
                t,
                audience,
                "ocmw-gent",
                true,
                Purpose::SocialAssistance
            ));
            assert!(!addressed_to(
                t,
                audience,
                "ocmw-eeklo",
                true,
                Purpose::Sanctioning
            ));
            // A party id is matched whole, never as a prefix.
            assert!(!addressed_to(
                t,
                audience,
                "ocmw",
                true,
                Purpose::Sanctioning
            ));
            // A party whose link ended is told nothing more.
            assert!(!addressed_to(
                t,
                audience,
                "amal",
                false,
                Purpose::Sanctioning
            ));
        }
    }

    #[test]
    fn event_type_names_round_trip() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(*t));
        }
        assert_eq!(EventType::parse("ClientRecordChanged"), None);
    }
}
