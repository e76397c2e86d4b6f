//! Access patterns a privacy officer should look at (product brief §6): a user reading many
//! more distinct clients in an hour than a set bound or than their own norm, a burst of
//! refusals, access outside office hours, and attempts on a client after the party's link
//! with it ended. Pure: the records and the ended links go in, the flags come out, each with
//! the records behind it. A flag is a reason to look, not a finding.

use super::record::{AuditRecord, Outcome, micros};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The bounds, from `[review]` in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Distinct clients one user may read in one clock hour before it is flagged.
    pub distinct_clients_per_hour: usize,
    /// An hour is also flagged when it exceeds this many times the user's median of their
    /// other active hours (and at least `norm_minimum` clients).
    pub norm_factor: usize,
    pub norm_minimum: usize,
    /// This many refusals of one user within `refusal_window_minutes` is a burst.
    pub refusals: usize,
    pub refusal_window_minutes: i64,
    /// Office hours, UTC, `[start, end)`; access outside them, or at the weekend, is flagged.
    pub office_hours: (u8, u8),
}

impl From<&crate::config::ReviewConfig> for Bounds {
    fn from(review: &crate::config::ReviewConfig) -> Self {
        Self {
            distinct_clients_per_hour: review.distinct_clients_per_hour,
            norm_factor: review.norm_factor,
            norm_minimum: review.norm_minimum,
            refusals: review.refusals,
            refusal_window_minutes: review.refusal_window_minutes,
            office_hours: (review.office_hours_utc[0], review.office_hours_utc[1]),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum AnomalyKind {
    ManyDistinctClients,
    AboveOwnNorm,
    RefusalBurst,
    OutsideOfficeHours,
    AfterLinkEnded,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Anomaly {
    pub kind: AnomalyKind,
    pub party: String,
    pub user: String,
    /// What was counted (distinct clients, refusals, accesses) and the bound it passed.
    pub count: usize,
    pub bound: usize,
    pub first: String,
    pub last: String,
    /// The sequence numbers of the records behind the flag.
    pub records: Vec<u64>,
}

/// A link that ended: `(client, party)` → when, in microseconds since the epoch.
pub type EndedLinks = HashMap<(String, String), i64>;

fn time(record: &AuditRecord) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(&record.time, &Rfc3339).ok()
}

fn flag(kind: AnomalyKind, records: &[&AuditRecord], count: usize, bound: usize) -> Anomaly {
    Anomaly {
        kind,
        party: records[0].party.clone(),
        user: records[0].user.clone(),
        count,
        bound,
        first: records[0].time.clone(),
        last: records[records.len() - 1].time.clone(),
        records: records.iter().map(|r| r.seq).collect(),
    }
}

/// Every flag raised by `records` (in sequence order), the most serious kinds first.
pub fn detect(records: &[AuditRecord], ended: &EndedLinks, bounds: &Bounds) -> Vec<Anomaly> {
    let mut users: BTreeMap<(&str, &str), Vec<&AuditRecord>> = BTreeMap::new();
    for record in records {
        users
            .entry((record.party.as_str(), record.user.as_str()))
            .or_default()
            .push(record);
    }
    let mut flags = Vec::new();
    for own in users.values() {
        flags.extend(reading_volume(own, bounds));
        flags.extend(refusal_bursts(own, bounds));
        flags.extend(outside_hours(own, bounds));
        flags.extend(after_link_ended(own, ended));
    }
    flags.sort_by(|a, b| a.kind.cmp(&b.kind).then(a.records.cmp(&b.records)));
    flags
}

/// Reads that went through, per clock hour.
fn reading_volume(own: &[&AuditRecord], bounds: &Bounds) -> Vec<Anomaly> {
    let mut hours: BTreeMap<i64, Vec<&AuditRecord>> = BTreeMap::new();
    for record in own.iter().filter(|r| r.discloses_data()) {
        if let Some(at) = time(record) {
            hours
                .entry(at.unix_timestamp() / 3600)
                .or_default()
                .push(record);
        }
    }
    let distinct = |records: &[&AuditRecord]| {
        records
            .iter()
            .flat_map(|r| r.all_clients())
            .collect::<BTreeSet<_>>()
            .len()
    };
    let counts: BTreeMap<i64, usize> = hours.iter().map(|(h, r)| (*h, distinct(r))).collect();
    let mut flags = Vec::new();
    for (hour, records) in &hours {
        let count = counts[hour];
        if count > bounds.distinct_clients_per_hour {
            flags.push(flag(
                AnomalyKind::ManyDistinctClients,
                records,
                count,
                bounds.distinct_clients_per_hour,
            ));
            continue;
        }
        let mut others: Vec<usize> = counts
            .iter()
            .filter(|(h, _)| *h != hour)
            .map(|(_, c)| *c)
            .collect();
        if others.is_empty() {
            continue;
        }
        others.sort_unstable();
        let norm = others[others.len() / 2].max(1);
        let bound = (norm * bounds.norm_factor).max(bounds.norm_minimum);
        if count > bound {
            flags.push(flag(AnomalyKind::AboveOwnNorm, records, count, bound));
        }
    }
    flags
}

/// `refusals` or more refusals within the window, each burst flagged once.
fn refusal_bursts(own: &[&AuditRecord], bounds: &Bounds) -> Vec<Anomaly> {
    let refused: Vec<(&AuditRecord, i64)> = own
        .iter()
        .filter(|r| r.outcome == Outcome::Denied)
        .filter_map(|r| Some((*r, micros(time(r)?))))
        .collect();
    let window = bounds.refusal_window_minutes * 60_000_000;
    let mut flags = Vec::new();
    let mut start = 0;
    while start < refused.len() {
        let end = refused[start..]
            .iter()
            .take_while(|(_, at)| at - refused[start].1 <= window)
            .count()
            + start;
        if end - start >= bounds.refusals {
            let burst: Vec<&AuditRecord> = refused[start..end].iter().map(|(r, _)| *r).collect();
            flags.push(flag(
                AnomalyKind::RefusalBurst,
                &burst,
                burst.len(),
                bounds.refusals,
            ));
            start = end;
        } else {
            start += 1;
        }
    }
    flags
}

/// Accesses about clients outside office hours or at the weekend, one flag per user.
fn outside_hours(own: &[&AuditRecord], bounds: &Bounds) -> Vec<Anomaly> {
    let (open, close) = bounds.office_hours;
    let outside: Vec<&AuditRecord> = own
        .iter()
        .copied()
        .filter(|r| r.client.is_some())
        .filter(|r| {
            time(r).is_some_and(|at| {
                let weekend = matches!(
                    at.weekday(),
                    time::Weekday::Saturday | time::Weekday::Sunday
                );
                weekend || at.hour() < open || at.hour() >= close
            })
        })
        .collect();
    if outside.is_empty() {
        return Vec::new();
    }
    vec![flag(
        AnomalyKind::OutsideOfficeHours,
        &outside,
        outside.len(),
        0,
    )]
}

/// Attempts on a client after the party's link with it ended (refused by the gate, but a
/// sign that someone still looks for a person they no longer have a reason to).
fn after_link_ended(own: &[&AuditRecord], ended: &EndedLinks) -> Vec<Anomaly> {
    let late: Vec<&AuditRecord> = own
        .iter()
        .copied()
        .filter(|r| {
            let Some(client) = &r.client else {
                return false;
            };
            let key = (client.clone(), r.party.clone());
            match (ended.get(&key), time(r)) {
                (Some(end), Some(at)) => micros(at) > *end,
                _ => false,
            }
        })
        .collect();
    if late.is_empty() {
        return Vec::new();
    }
    vec![flag(AnomalyKind::AfterLinkEnded, &late, late.len(), 0)]
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: Bounds = Bounds {
        distinct_clients_per_hour: 5,
        norm_factor: 3,
        norm_minimum: 3,
        refusals: 3,
        refusal_window_minutes: 10,
        office_hours: (7, 19),
    };

    /// A record of `user` at `time` (a Wednesday unless said otherwise).
    fn at(seq: u64, user: &str, time: &str, client: &str, outcome: Outcome) -> AuditRecord {
        AuditRecord {
            v: 1,
            seq,
            time: time.into(),
            party: "ocmw-gent".into(),
            user: user.into(),
            roles: vec!["caseWorker".into()],
            purpose: "trajectoryGuidance".into(),
            legal_basis: None,
            client: Some(client.into()),
            clients: Vec::new(),
            action: "readClient".into(),
            fields: vec!["receivesLivingWage".into()],
            outcome,
            reason: None,
            count: None,
            request_id: format!("r{seq}"),
            related_trace_id: None,
            policy_version: "p".into(),
        }
    }

    fn kinds(flags: &[Anomaly]) -> Vec<AnomalyKind> {
        flags.iter().map(|f| f.kind).collect()
    }

    #[test]
    fn a_user_reading_more_distinct_clients_in_an_hour_than_the_bound_is_flagged() {
        let records: Vec<_> = (0..6)
            .map(|i| {
                at(
                    i,
                    "sw-1",
                    &format!("2026-11-25T10:0{i}:00Z"),
                    &format!("c{i}"),
                    Outcome::Allowed,
                )
            })
            .collect();
        let flags = detect(&records, &EndedLinks::new(), &BOUNDS);
        assert_eq!(kinds(&flags), [AnomalyKind::ManyDistinctClients]);
        assert_eq!((flags[0].count, flags[0].bound), (6, 5));
        assert_eq!(flags[0].records, [0, 1, 2, 3, 4, 5]);
        // Five reads of one client are one client.
        let same: Vec<_> = (0..6)
            .map(|i| {
                at(
                    i,
                    "sw-1",
                    &format!("2026-11-25T10:0{i}:00Z"),
                    "c0",
                    Outcome::Allowed,
                )
            })
            .collect();
        assert!(detect(&same, &EndedLinks::new(), &BOUNDS).is_empty());
    }

    #[test]
    fn an_hour_far_above_the_users_own_norm_is_flagged() {
        let mut records = Vec::new();
        for hour in 8..11 {
            records.push(at(
                hour,
                "sw-1",
                &format!("2026-11-25T{hour:02}:10:00Z"),
                "c0",
                Outcome::Allowed,
            ));
        }
        for i in 0..4 {
            records.push(at(
                20 + i,
                "sw-1",
                &format!("2026-11-25T14:1{i}:00Z"),
                &format!("d{i}"),
                Outcome::Allowed,
            ));
        }
        let flags = detect(&records, &EndedLinks::new(), &BOUNDS);
        assert_eq!(kinds(&flags), [AnomalyKind::AboveOwnNorm]);
        assert_eq!((flags[0].count, flags[0].bound), (4, 3));
    }

    #[test]
    fn a_burst_of_refusals_is_flagged_once_and_spread_refusals_are_not() {
        let burst: Vec<_> = (0..4)
            .map(|i| {
                at(
                    i,
                    "sw-1",
                    &format!("2026-11-25T10:0{i}:00Z"),
                    "c0",
                    Outcome::Denied,
                )
            })
            .collect();
        let flags = detect(&burst, &EndedLinks::new(), &BOUNDS);
        assert_eq!(kinds(&flags), [AnomalyKind::RefusalBurst]);
        assert_eq!(flags[0].count, 4);
        let spread: Vec<_> = (0..4)
            .map(|i| {
                at(
                    i,
                    "sw-1",
                    &format!("2026-11-25T1{i}:00:00Z"),
                    "c0",
                    Outcome::Denied,
                )
            })
            .collect();
        assert!(detect(&spread, &EndedLinks::new(), &BOUNDS).is_empty());
    }

    #[test]
    fn access_at_night_or_at_the_weekend_is_flagged() {
        let records = [
            at(1, "sw-1", "2026-11-25T06:59:00Z", "c0", Outcome::Allowed),
            at(2, "sw-1", "2026-11-25T07:00:00Z", "c0", Outcome::Allowed),
            at(3, "sw-1", "2026-11-25T19:00:00Z", "c0", Outcome::Allowed),
            at(4, "sw-1", "2026-11-28T12:00:00Z", "c0", Outcome::Allowed),
        ];
        let flags = detect(&records, &EndedLinks::new(), &BOUNDS);
        assert_eq!(kinds(&flags), [AnomalyKind::OutsideOfficeHours]);
        assert_eq!(flags[0].records, [1, 3, 4]);
    }

    #[test]
    fn attempts_after_the_link_ended_are_flagged() {
        let mut ended = EndedLinks::new();
        let end = OffsetDateTime::parse("2026-11-25T10:00:00Z", &Rfc3339).unwrap();
        ended.insert(("c0".into(), "ocmw-gent".into()), micros(end));
        let records = [
            at(1, "sw-1", "2026-11-25T09:00:00Z", "c0", Outcome::Allowed),
            at(2, "sw-1", "2026-11-25T11:00:00Z", "c0", Outcome::Denied),
        ];
        let flags = detect(&records, &ended, &BOUNDS);
        assert_eq!(kinds(&flags), [AnomalyKind::AfterLinkEnded]);
        assert_eq!(flags[0].records, [2]);
    }
}
