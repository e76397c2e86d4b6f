//! What the scale run's audit log records besides the registrations: a working day's mix of
//! reads, writes and look-ups by case workers of two parties over many clients, some of them
//! refused, a few privacy-officer searches, and a steady trickle of records about one client
//! (the report client) spread over the whole log, so that its access report gathers a few
//! hundred entries from everywhere in it.
//!
//! Each record is a function of its position alone, so that any worker can draft any record.

use gateway::audit::record::{AuditDraft, Outcome};
use gateway::gate::action;

/// One in this many clients is also linked to the integration agency (a joint client).
pub const AGENCY_EVERY: u64 = 4;
/// The report client's share of the log, in records.
pub const REPORT_RECORDS: u64 = 300;

pub const OCMW: &str = "ocmw-gent";
pub const OTHER_OCMW: &str = "ocmw-eeklo";
pub const AGENCY: &str = "amal";

/// What an OCMW case worker reads of a joint client: its own income fields and what the
/// policy grants it on a legal basis.
const OCMW_READ: [&str; 7] = [
    "integrationStatus",
    "attest",
    "receivesLivingWage",
    "livingWageSince",
    "integrationInGpmi",
    "direction",
    "sanctionAuthority",
];
/// What the agency's trajectory guide reads: its own fields and the living-wage condition.
const AGENCY_READ: [&str; 9] = [
    "integrationStatus",
    "nationalRegisterSince",
    "moStatus",
    "nt2Status",
    "attest",
    "receivesLivingWage",
    "integrationInGpmi",
    "direction",
    "sanctionAuthority",
];
const OCMW_WRITE: [&str; 2] = ["receivesLivingWage", "livingWageSince"];
const AGENCY_WRITE: [&str; 2] = ["nt2Status", "nt2Level"];

pub struct Mix<'a> {
    /// Every client's id, by registration number.
    pub clients: &'a [String],
    /// The report client's registration number.
    pub report: u64,
    /// Records in the mix (the registrations come before them).
    pub records: u64,
    pub policy_version: &'a str,
}

impl Mix<'_> {
    /// Every this many records, one is about the report client.
    fn report_every(&self) -> u64 {
        (self.records / REPORT_RECORDS).max(1)
    }

    /// The `i`th record of the mix.
    pub fn draft(&self, i: u64) -> AuditDraft {
        let every = self.report_every();
        if i % every == every / 2 {
            return self.about_report_client(i / every);
        }
        let mut random = SplitMix(i);
        let roll = random.below(100);
        let any = || self.clients[random_client(i, self.clients.len() as u64) as usize].clone();
        let joint = || {
            let joint = (self.clients.len() as u64).div_ceil(AGENCY_EVERY);
            self.clients[(random_client(i, joint) * AGENCY_EVERY) as usize].clone()
        };
        let worker = format!("sw-{}", random.below(400));
        let guide = format!("tb-{}", random.below(150));
        match roll {
            0..55 => {
                let purpose = if roll.is_multiple_of(2) {
                    "socialAssistance"
                } else {
                    "trajectoryGuidance"
                };
                self.allowed(
                    OCMW,
                    &worker,
                    purpose,
                    action::READ_CLIENT,
                    any(),
                    &OCMW_READ,
                )
            }
            55..75 => self.allowed(
                AGENCY,
                &guide,
                "trajectoryGuidance",
                action::READ_CLIENT,
                joint(),
                &AGENCY_READ,
            ),
            75..82 => self.allowed(
                OCMW,
                &worker,
                "socialAssistance",
                action::UPDATE_CLIENT,
                any(),
                &OCMW_WRITE,
            ),
            82..85 => self.allowed(
                AGENCY,
                &guide,
                "trajectoryGuidance",
                action::UPDATE_CLIENT,
                joint(),
                &AGENCY_WRITE,
            ),
            85..92 => self.allowed(
                OCMW,
                &worker,
                "socialAssistance",
                action::LOOKUP_CLIENT,
                any(),
                &[],
            ),
            92..96 => self.refused(OTHER_OCMW, &worker, action::READ_CLIENT, Some(any())),
            96..98 => self.refused(OTHER_OCMW, &worker, action::LOOKUP_CLIENT, None),
            98 => self
                .draft_for(
                    OCMW,
                    &worker,
                    "caseWorker",
                    "trajectoryGuidance",
                    action::READ_CLIENT,
                )
                .deny("invalidInput"),
            _ => self.draft_for(
                OCMW,
                &format!("po-{}", random.below(3)),
                "privacyOfficer",
                "auditReview",
                action::SEARCH_AUDIT,
            ),
        }
    }

    /// The `n`th record about the report client: reads and writes by both linked parties,
    /// a look-up, and another OCMW's refused attempt.
    fn about_report_client(&self, n: u64) -> AuditDraft {
        let client = self.clients[self.report as usize].clone();
        let worker = format!("sw-{}", n % 5);
        let guide = format!("tb-{}", n % 3);
        match n % 8 {
            0 | 7 => self.allowed(
                OCMW,
                &worker,
                "socialAssistance",
                action::READ_CLIENT,
                client,
                &OCMW_READ,
            ),
            1 => self.allowed(
                AGENCY,
                &guide,
                "trajectoryGuidance",
                action::READ_CLIENT,
                client,
                &AGENCY_READ,
            ),
            2 => self.allowed(
                OCMW,
                &worker,
                "socialAssistance",
                action::UPDATE_CLIENT,
                client,
                &OCMW_WRITE,
            ),
            3 => self.allowed(
                AGENCY,
                &guide,
                "trajectoryGuidance",
                action::UPDATE_CLIENT,
                client,
                &AGENCY_WRITE,
            ),
            4 => self.allowed(
                OCMW,
                &worker,
                "trajectoryGuidance",
                action::READ_CLIENT,
                client,
                &OCMW_READ,
            ),
            5 => self.refused(OTHER_OCMW, "sw-9", action::READ_CLIENT, Some(client)),
            _ => self.allowed(
                AGENCY,
                &guide,
                "trajectoryGuidance",
                action::LOOKUP_CLIENT,
                client,
                &[],
            ),
        }
    }

    fn allowed(
        &self,
        party: &str,
        user: &str,
        purpose: &str,
        action: &'static str,
        client: String,
        fields: &[&str],
    ) -> AuditDraft {
        let mut draft = self.draft_for(party, user, "caseWorker", purpose, action);
        draft.legal_basis = Some("publicTask".to_owned());
        draft.client = Some(client);
        draft.fields = fields.iter().map(|&f| f.to_owned()).collect();
        draft
    }

    /// An attempt on a client the party is not linked to (or a person it does not know):
    /// recorded, and answered like an unknown client.
    fn refused(
        &self,
        party: &str,
        user: &str,
        action: &'static str,
        client: Option<String>,
    ) -> AuditDraft {
        let mut draft = self.draft_for(party, user, "caseWorker", "socialAssistance", action);
        draft.client = client;
        draft.deny("notFound")
    }

    pub fn draft_for(
        &self,
        party: &str,
        user: &str,
        role: &str,
        purpose: &str,
        action: &'static str,
    ) -> AuditDraft {
        draft(party, user, role, purpose, action, self.policy_version)
    }
}

/// A draft as the gate starts one, before the operation fills in what it learnt.
pub fn draft(
    party: &str,
    user: &str,
    role: &str,
    purpose: &str,
    action: &'static str,
    policy_version: &str,
) -> AuditDraft {
    AuditDraft {
        party: party.to_owned(),
        user: user.to_owned(),
        roles: vec![role.to_owned()],
        purpose: purpose.to_owned(),
        legal_basis: None,
        client: None,
        clients: Vec::new(),
        action,
        fields: Vec::new(),
        outcome: Outcome::Allowed,
        reason: None,
        count: None,
        request_id: uuid::Uuid::now_v7().to_string(),
        related_trace_id: None,
        policy_version: policy_version.to_owned(),
    }
}

/// A client picked for record `i` among the first `n`.
fn random_client(i: u64, n: u64) -> u64 {
    SplitMix(i ^ 0x5CA1_AB1E).below(n)
}

/// A small, fast, well-mixed generator (SplitMix64): the mix must be reproducible from a
/// record's position, not cryptographically random.
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway::domain::record::field::Field;

    fn clients(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("client-{i}")).collect()
    }

    #[test]
    fn every_field_named_is_a_field_of_the_record() {
        for name in OCMW_READ
            .iter()
            .chain(&AGENCY_READ)
            .chain(&OCMW_WRITE)
            .chain(&AGENCY_WRITE)
        {
            assert!(Field::parse(name).is_some(), "{name}");
        }
    }

    #[test]
    fn the_report_client_gets_its_share_spread_over_the_log() {
        let clients = clients(100_000);
        let mix = Mix {
            clients: &clients,
            report: 500,
            records: 90_000,
            policy_version: "p",
        };
        let about: Vec<u64> = (0..mix.records)
            .filter(|&i| mix.draft(i).client.as_deref() == Some("client-500"))
            .collect();
        assert!((REPORT_RECORDS..REPORT_RECORDS + 20).contains(&(about.len() as u64)));
        assert!(
            about[0] < 1000 && about[about.len() - 1] > 89_000,
            "{about:?}"
        );
        let refused = (0..mix.records)
            .filter(|&i| mix.draft(i).outcome == Outcome::Denied)
            .count();
        assert!((5_000..9_000).contains(&refused), "{refused}");
    }

    #[test]
    fn the_agency_reads_only_joint_clients() {
        let clients = clients(1001);
        let mix = Mix {
            clients: &clients,
            report: 0,
            records: 10_000,
            policy_version: "p",
        };
        for i in 0..mix.records {
            let draft = mix.draft(i);
            if draft.party == AGENCY {
                let n: u64 = draft.client.unwrap()["client-".len()..].parse().unwrap();
                assert_eq!(n % AGENCY_EVERY, 0);
            }
        }
    }
}
