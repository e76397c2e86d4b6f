//! The access report of one client (GDPR art. 15(1)(c)): who — which party, for which
//! purpose — saw which categories of the client's data, and when, from the client's audit
//! records. Pure: the records go in, the report comes out.

use super::record::{AuditRecord, Outcome};
use crate::domain::record::field::{Category, Field};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessReport {
    pub client_id: String,
    /// Accesses that went through, in all groups.
    pub accesses: usize,
    /// Refused attempts, in all groups: they disclosed nothing, and are listed all the same.
    pub refusals: usize,
    pub groups: Vec<AccessGroup>,
}

/// The accesses of one party for one purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessGroup {
    pub party: String,
    pub purpose: String,
    /// The categories of data the party saw or wrote for this purpose, over all its accesses.
    pub categories: Vec<Category>,
    pub first: String,
    pub last: String,
    pub entries: Vec<AccessEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessEntry {
    pub seq: u64,
    pub time: String,
    pub user: String,
    pub action: String,
    pub outcome: Outcome,
    pub categories: Vec<Category>,
}

/// The categories of the fields a record names (read or written); names that are no field
/// (an old policy's, say) are left out rather than guessed.
fn categories(fields: &[String]) -> Vec<Category> {
    let set: BTreeSet<Category> = fields
        .iter()
        .filter_map(|name| Field::parse(name))
        .map(Field::category)
        .collect();
    set.into_iter().collect()
}

/// The report of `client_id` from its records, grouped by party and purpose in the order of
/// each group's first access.
pub fn build(client_id: &str, records: &[AuditRecord]) -> AccessReport {
    let mut order: Vec<(String, String)> = Vec::new();
    let mut groups: BTreeMap<(String, String), Vec<&AuditRecord>> = BTreeMap::new();
    for record in records.iter().filter(|r| r.names(client_id)) {
        let key = (record.party.clone(), record.purpose.clone());
        if !groups.contains_key(&key) {
            order.push(key.clone());
        }
        groups.entry(key).or_default().push(record);
    }
    let mut report = AccessReport {
        client_id: client_id.to_owned(),
        accesses: 0,
        refusals: 0,
        groups: Vec::new(),
    };
    for key in order {
        let records = &groups[&key];
        let entries: Vec<AccessEntry> = records
            .iter()
            .map(|r| AccessEntry {
                seq: r.seq,
                time: r.time.clone(),
                user: r.user.clone(),
                action: r.action.clone(),
                outcome: r.outcome,
                categories: categories(&r.fields),
            })
            .collect();
        let refused = entries
            .iter()
            .filter(|e| e.outcome == Outcome::Denied)
            .count();
        report.refusals += refused;
        report.accesses += entries.len() - refused;
        let seen: BTreeSet<Category> = entries
            .iter()
            .filter(|e| e.outcome == Outcome::Allowed)
            .flat_map(|e| e.categories.iter().copied())
            .collect();
        report.groups.push(AccessGroup {
            party: key.0,
            purpose: key.1,
            categories: seen.into_iter().collect(),
            first: entries.first().map(|e| e.time.clone()).unwrap_or_default(),
            last: entries.last().map(|e| e.time.clone()).unwrap_or_default(),
            entries,
        });
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(
        seq: u64,
        party: &str,
        purpose: &str,
        fields: &[&str],
        outcome: Outcome,
    ) -> AuditRecord {
        AuditRecord {
            v: 1,
            seq,
            time: format!("2026-11-25T10:00:{seq:02}.000000Z"),
            party: party.into(),
            user: "sw-1".into(),
            roles: vec!["caseWorker".into()],
            purpose: purpose.into(),
            legal_basis: Some("publicTask".into()),
            client: Some("c-1".into()),
            clients: Vec::new(),
            action: "readClient".into(),
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
            outcome,
            reason: None,
            count: None,
            request_id: format!("r-{seq}"),
            related_trace_id: None,
            policy_version: "p".into(),
        }
    }

    #[test]
    fn gdpr_art_15_accesses_are_grouped_by_party_and_purpose_with_the_categories_seen() {
        let records = [
            record(
                1,
                "amal",
                "trajectoryGuidance",
                &["nt2Level"],
                Outcome::Allowed,
            ),
            record(
                2,
                "ocmw-gent",
                "socialAssistance",
                &["receivesLivingWage"],
                Outcome::Allowed,
            ),
            record(
                3,
                "amal",
                "trajectoryGuidance",
                &["receivesLivingWage", "attest"],
                Outcome::Allowed,
            ),
            record(
                4,
                "ocmw-gent",
                "socialAssistance",
                &["nt2Level"],
                Outcome::Denied,
            ),
        ];
        let report = build("c-1", &records);
        assert_eq!((report.accesses, report.refusals), (3, 1));
        assert_eq!(report.groups.len(), 2);
        let amal = &report.groups[0];
        assert_eq!(
            (amal.party.as_str(), amal.purpose.as_str()),
            ("amal", "trajectoryGuidance")
        );
        assert_eq!(
            amal.categories,
            [
                Category::TrajectoryProgress,
                Category::Attest,
                Category::Income
            ]
        );
        assert_eq!(amal.first, records[0].time);
        assert_eq!(amal.last, records[2].time);
        // A refused read disclosed nothing: listed, but its categories are not counted as seen.
        let gent = &report.groups[1];
        assert_eq!(gent.categories, [Category::Income]);
        assert_eq!(gent.entries[1].outcome, Outcome::Denied);
        assert_eq!(gent.entries[1].categories, [Category::TrajectoryProgress]);
    }

    #[test]
    fn records_about_other_clients_and_unknown_field_names_are_left_out() {
        let mut other = record(1, "amal", "referral", &[], Outcome::Allowed);
        other.client = Some("c-2".into());
        let old = record(2, "amal", "referral", &["shoeSize"], Outcome::Allowed);
        let report = build("c-1", &[other, old]);
        assert_eq!(report.accesses, 1);
        assert!(report.groups[0].categories.is_empty());
    }
}
