//! The yearly monitoring (SWO art. 16) for coordinators: counts of joint clients, referrals,
//! attests and participation trajectories, suppressed before they leave, the request on
//! record. No person is in the answer.

use super::{Caller, Gate, GateError, action};
use crate::audit::record::micros;
use crate::domain::link::LegalBasis;
use crate::domain::monitoring::{MonitoringReport, publish};
use crate::domain::record::values::ClientRecord;
use crate::domain::record::values::format_date;
use crate::domain::record::values::{AttestKind, IntegrationStatus, ParticipationStatus};
use crate::domain::referral::{ReferralDirection, ReferralStatus};
use crate::domain::rules;
use crate::domain::rules::Responsible;
use crate::gate::HashMap;
use crate::gate::PartyKind;
use crate::gate::records::parse_record;
use crate::store::monitoring as stored;
use std::collections::HashSet;
use time::OffsetDateTime;
use time::{Date, Month, Time};

/// Counts per name, in the order of `names`, with `unknown` last when asked for.
fn tally<'a>(names: &[&'a str], values: impl Iterator<Item = &'a str>) -> Vec<(&'a str, u64)> {
    let mut counts: Vec<(&str, u64)> = names.iter().map(|n| (*n, 0)).collect();
    for value in values {
        if let Some(slot) = counts.iter_mut().find(|(n, _)| *n == value) {
            slot.1 += 1;
        }
    }
    counts
}

impl Gate {
    /// Whether a client linked to the OCMW `ocmw` and the agency `agency` in the year is in the
    /// monitoring of `party`: in the joint report of an agreement `party` is in, when the
    /// agreement names both (SWO art. 16); without such an agreement, when it is one of them
    /// (its own clients). Never the whole deployment.
    fn in_scope(&self, party: &str, (ocmw, agency): (&str, &str)) -> bool {
        let mut agreements = self
            .parties
            .agreements
            .iter()
            .filter(|a| a.iter().any(|p| p.as_str() == party))
            .peekable();
        if agreements.peek().is_none() {
            return ocmw == party || agency == party;
        }
        agreements
            .any(|a| a.iter().any(|p| p.as_str() == ocmw) && a.iter().any(|p| p.as_str() == agency))
    }

    pub async fn monitoring(&self, who: &Caller, year: i32) -> Result<MonitoringReport, GateError> {
        let first = Date::from_calendar_date(year, Month::January, 1)
            .map_err(|_| GateError::Internal("the year has no first of January"))?;
        let last = Date::from_calendar_date(year, Month::December, 31)
            .map_err(|_| GateError::Internal("the year has no last of December"))?;
        let start = micros(first.with_time(Time::MIDNIGHT).assume_utc());
        let end = micros(
            last.next_day()
                .unwrap_or(last)
                .with_time(Time::MIDNIGHT)
                .assume_utc(),
        );
        let kind_of = |party: &str| self.parties.kinds.get(party).copied();

        // Joint clients in scope: linked to an OCMW and to the integration agency during the
        // year, that pair of parties in the coordinator's scope.
        let mut sides: HashMap<String, (Vec<String>, Vec<String>)> = HashMap::new();
        for (client, party, linked_at, ended_at) in stored::links(&self.db).await? {
            if linked_at >= end || ended_at.is_some_and(|e| e < start) {
                continue;
            }
            let entry = sides.entry(client).or_default();
            match kind_of(&party) {
                Some(PartyKind::Ocmw) => entry.0.push(party),
                Some(PartyKind::IntegrationAgency) => entry.1.push(party),
                _ => {}
            };
        }
        let me = who.party.id.as_str();
        let joint: HashSet<&String> = sides
            .iter()
            .filter(|(_, (ocmws, agencies))| {
                ocmws
                    .iter()
                    .any(|o| agencies.iter().any(|a| self.in_scope(me, (o, a))))
            })
            .map(|(client, _)| client)
            .collect();
        let on = OffsetDateTime::now_utc().date().min(last);
        let mut records: HashMap<String, ClientRecord> = HashMap::new();
        for (client, json) in stored::records(&self.db).await? {
            if joint.contains(&client) {
                records.insert(client, parse_record(&json)?);
            }
        }
        let empty = ClientRecord::default();
        let of = |client: &String| records.get(client).unwrap_or(&empty);
        let derived: Vec<rules::Derived> = joint
            .iter()
            .map(|c| rules::derive(of(c), on, false))
            .collect();

        let mut statuses: Vec<&str> = IntegrationStatus::ALL.iter().map(|s| s.as_str()).collect();
        statuses.push("unknown");
        let status = tally(
            &statuses,
            joint
                .iter()
                .map(|c| of(c).integration_status.map_or("unknown", |s| s.as_str())),
        );
        let roles: Vec<&str> = Responsible::ALL.iter().map(|r| r.as_str()).collect();
        let direction = tally(&roles, derived.iter().map(|d| d.direction.as_str()));
        let sanction = tally(
            &roles,
            derived.iter().map(|d| d.sanction_authority.as_str()),
        );
        let mut stages: Vec<&str> = ParticipationStatus::ALL
            .iter()
            .map(|s| s.as_str())
            .collect();
        stages.push("unknown");
        let participation = tally(
            &stages,
            joint
                .iter()
                .map(|c| of(c).participation_status.map_or("unknown", |s| s.as_str())),
        );

        let proposed = stored::referrals(&self.db, start, end).await?;
        let outcomes: Vec<&str> = ReferralStatus::ALL.iter().map(|s| s.as_str()).collect();
        let referrals = ReferralDirection::ALL
            .iter()
            .map(|direction| {
                let of_direction = proposed
                    .iter()
                    .filter(|(c, d, _)| joint.contains(c) && d == direction.as_str())
                    .map(|(_, _, status)| status.as_str());
                (
                    direction.as_str().to_owned(),
                    publish(&tally(&outcomes, of_direction)),
                )
            })
            .collect();
        let kinds: Vec<&str> = AttestKind::ALL.iter().map(|k| k.as_str()).collect();
        let issued = stored::attests(&self.db, &format_date(first), &format_date(last)).await?;
        let attests = tally(
            &kinds,
            issued
                .iter()
                .filter(|(c, _)| joint.contains(c))
                .map(|(_, kind)| kind.as_str()),
        );

        let mut draft = self.draft(who, action::MONITORING);
        draft.legal_basis = Some(LegalBasis::PublicTask.as_str().to_owned());
        self.writer.submit(None, draft).await?;
        Ok(MonitoringReport {
            year,
            joint_clients_by_status: publish(&status),
            joint_clients_by_direction: publish(&direction),
            joint_clients_by_sanction_authority: publish(&sanction),
            referrals,
            attests: publish(&attests),
            participation: publish(&participation),
        })
    }
}
