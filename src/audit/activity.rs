//! How much clients' data was used, per day, per party and per purpose: the shape of the
//! log a privacy officer looks at first, before searching for the records behind a peak.

use super::record::{AuditRecord, Outcome};
use std::collections::BTreeMap;

/// Per series name (a party or a purpose), the accesses per day (`YYYY-MM-DD`, UTC).
pub type Series = BTreeMap<String, BTreeMap<String, u64>>;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Activity {
    pub by_party: Series,
    pub by_purpose: Series,
    /// Every access counted, over all days.
    pub total: u64,
}

/// Counts the accesses among `records`: the allowed operations on one client's data. Refusals
/// disclosed nothing and the log's own review without a client concerns nobody's data.
pub fn per_day(records: &[AuditRecord]) -> Activity {
    let mut activity = Activity::default();
    for record in records {
        // A record that showed several clients (a feed page) is an access to each of them.
        let clients = record.all_clients().count() as u64;
        if clients == 0 || record.outcome != Outcome::Allowed {
            continue;
        }
        let Some(day) = record.time.get(..10) else {
            continue;
        };
        for (series, name) in [
            (&mut activity.by_party, &record.party),
            (&mut activity.by_purpose, &record.purpose),
        ] {
            *series
                .entry(name.clone())
                .or_default()
                .entry(day.to_owned())
                .or_default() += clients;
        }
        activity.total += clients;
    }
    activity
}

#[cfg(test)]
mod tests {
    use super::*;
    use Outcome::{Allowed, Denied};

    type Row<'a> = (&'a str, &'a str, &'a str, Option<&'a str>, Outcome);

    /// The record of one row: (time, party, purpose, client, outcome).
    fn record((time, party, purpose, client, outcome): Row) -> AuditRecord {
        AuditRecord {
            v: 1,
            seq: 0,
            time: time.into(),
            party: party.into(),
            user: "u".into(),
            roles: vec![],
            purpose: purpose.into(),
            legal_basis: None,
            client: client.map(Into::into),
            clients: Vec::new(),
            action: "readClient".into(),
            fields: vec![],
            outcome,
            reason: None,
            count: None,
            request_id: "r".into(),
            related_trace_id: None,
            policy_version: "p".into(),
        }
    }

    #[test]
    fn allowed_accesses_to_a_client_are_counted_per_day_party_and_purpose() {
        #[rustfmt::skip]
        let records = [
            ("2026-11-23T10:00:00.000000Z", "amal", "trajectoryGuidance", Some("c1"), Allowed),
            ("2026-11-23T11:00:00.000000Z", "amal", "trajectoryGuidance", Some("c2"), Allowed),
            ("2026-11-24T09:00:00.000000Z", "ocmw-gent", "socialAssistance", Some("c1"), Allowed),
            ("2026-11-24T09:30:00.000000Z", "amal", "sanctioning", Some("c1"), Allowed),
        ]
        .map(record);
        let activity = per_day(&records);
        assert_eq!(activity.total, 4);
        assert_eq!(activity.by_party["amal"]["2026-11-23"], 2);
        assert_eq!(activity.by_party["amal"]["2026-11-24"], 1);
        assert_eq!(activity.by_party["ocmw-gent"]["2026-11-24"], 1);
        assert_eq!(activity.by_purpose["trajectoryGuidance"]["2026-11-23"], 2);
        assert_eq!(activity.by_purpose["sanctioning"]["2026-11-24"], 1);
    }

    #[test]
    fn refusals_and_records_about_no_client_are_not_accesses() {
        #[rustfmt::skip]
        let records = [
            ("2026-11-23T10:00:00.000000Z", "amal", "trajectoryGuidance", Some("c1"), Denied),
            ("2026-11-23T10:00:00.000000Z", "amal", "auditReview", None, Allowed),
        ]
        .map(record);
        assert_eq!(per_day(&records), Activity::default());
    }
}
