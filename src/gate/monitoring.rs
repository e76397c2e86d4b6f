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
use crate::gate::PartyKind;
use crate::gate::records::parse_record;
use crate::store::monitoring as stored;
use time::OffsetDateTime;
use time::{Date, Month, Time};

/// A count of zero per name, in the order of `names` (`unknown` last where it is one).
fn zeroes<'a>(names: &[&'a str]) -> Vec<(&'a str, u64)> {
    names.iter().map(|n| (*n, 0)).collect()
}

/// Counts one more `value`, if it is one of the tally's names.
fn add(counts: &mut [(&str, u64)], value: &str) {
    add_n(counts, value, 1);
}

fn add_n(counts: &mut [(&str, u64)], value: &str, n: u64) {
    if let Some(slot) = counts.iter_mut().find(|(name, _)| *name == value) {
        slot.1 += n;
    }
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
        // The (OCMW, agency) pairs in the coordinator's scope, from the configured parties.
        let me = who.party.id.as_str();
        let of_kind = |kind: PartyKind| {
            let mut parties: Vec<&String> = self
                .parties
                .kinds
                .iter()
                .filter(|(_, k)| **k == kind)
                .map(|(party, _)| party)
                .collect();
            parties.sort();
            parties
        };
        let mut pairs = Vec::new();
        for ocmw in of_kind(PartyKind::Ocmw) {
            for agency in of_kind(PartyKind::IntegrationAgency) {
                if self.in_scope(me, (ocmw, agency)) {
                    pairs.push((ocmw.clone(), agency.clone()));
                }
            }
        }
        let scope = stored::Scope {
            start,
            end,
            pairs: &pairs,
        };
        let on = OffsetDateTime::now_utc().date().min(last);

        let mut statuses: Vec<&str> = IntegrationStatus::ALL.iter().map(|s| s.as_str()).collect();
        statuses.push("unknown");
        let mut status = zeroes(&statuses);
        let roles: Vec<&str> = Responsible::ALL.iter().map(|r| r.as_str()).collect();
        let mut direction = zeroes(&roles);
        let mut sanction = zeroes(&roles);
        let mut stages: Vec<&str> = ParticipationStatus::ALL
            .iter()
            .map(|s| s.as_str())
            .collect();
        stages.push("unknown");
        let mut participation = zeroes(&stages);
        // The joint clients' records a page at a time: memory stays bounded by the page.
        let mut after = String::new();
        loop {
            let page = stored::joint_page(&self.db, &scope, &after, stored::PAGE).await?;
            for (_, json) in &page {
                let record = match json {
                    Some(json) => parse_record(json)?,
                    None => ClientRecord::default(),
                };
                let derived = rules::derive(&record, on, false);
                add(
                    &mut status,
                    record.integration_status.map_or("unknown", |s| s.as_str()),
                );
                add(&mut direction, derived.direction.as_str());
                add(&mut sanction, derived.sanction_authority.as_str());
                add(
                    &mut participation,
                    record
                        .participation_status
                        .map_or("unknown", |s| s.as_str()),
                );
            }
            match page.last() {
                Some((client, _)) if page.len() as i64 == stored::PAGE => after = client.clone(),
                _ => break,
            }
        }

        let proposed = stored::referrals(&self.db, &scope).await?;
        let outcomes: Vec<&str> = ReferralStatus::ALL.iter().map(|s| s.as_str()).collect();
        let referrals = ReferralDirection::ALL
            .iter()
            .map(|direction| {
                let mut counts = zeroes(&outcomes);
                for (_, status, n) in proposed.iter().filter(|(d, _, _)| d == direction.as_str()) {
                    add_n(&mut counts, status, *n as u64);
                }
                (direction.as_str().to_owned(), publish(&counts))
            })
            .collect();
        let kinds: Vec<&str> = AttestKind::ALL.iter().map(|k| k.as_str()).collect();
        let mut attests = zeroes(&kinds);
        let dates = (format_date(first), format_date(last));
        for (kind, n) in stored::attests(&self.db, &scope, (&dates.0, &dates.1)).await? {
            add_n(&mut attests, &kind, n as u64);
        }

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
