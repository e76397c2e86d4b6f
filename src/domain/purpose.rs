//! Processing purposes and who may declare them (product brief §2).
//!
//! GDPR art. 5(1)(b) purpose limitation: every call that touches personal data names its
//! purpose, and a party kind and role may only use the purposes its legal task covers.

use super::party::PartyKind;
use super::role::{Role, RoleSet};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Purpose {
    /// Guiding the civic-integration trajectory (SWO art. 3, 6, 8–11).
    TrajectoryGuidance,
    /// Granting and following up social assistance and the living wage (SWO art. 4, 7).
    SocialAssistance,
    /// Handling infractions and sanctions (SWO art. 12).
    Sanctioning,
    /// Referring a client between parties (SWO art. 4).
    Referral,
    /// Registering an integration attest (SWO art. 13).
    AttestRegistration,
    /// A privacy officer reviewing the audit log (GDPR art. 15, 30, 38–39).
    AuditReview,
    /// The yearly monitoring of joint-client trajectories (SWO art. 16).
    Monitoring,
}

impl Purpose {
    pub const ALL: [Purpose; 7] = [
        Purpose::TrajectoryGuidance,
        Purpose::SocialAssistance,
        Purpose::Sanctioning,
        Purpose::Referral,
        Purpose::AttestRegistration,
        Purpose::AuditReview,
        Purpose::Monitoring,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::TrajectoryGuidance => "trajectoryGuidance",
            Self::SocialAssistance => "socialAssistance",
            Self::Sanctioning => "sanctioning",
            Self::Referral => "referral",
            Self::AttestRegistration => "attestRegistration",
            Self::AuditReview => "auditReview",
            Self::Monitoring => "monitoring",
        }
    }

    /// Whether a party of `kind` acting in `role` may declare this purpose.
    ///
    /// Case work and synchronisation purposes follow each party's task: the OCMW grants social
    /// assistance (organic law of 8 July 1976) and sanctions living-wage clients (SWO art. 12);
    /// the integration agency directs trajectories (SWO art. 3) and sanctions the others; both
    /// refer (SWO art. 4). KBI only registers attests (SWO art. 13). Reviewing the audit log is
    /// the privacy officer's alone and monitoring the coordinator's alone (SWO art. 16), so that
    /// neither role doubles as a back door to case data. A party's system acts for audit
    /// review only as the party's witness of the log: checkpoints and their consistency,
    /// never a record (the edge lets it no further).
    pub const fn permits(self, kind: PartyKind, role: Role) -> bool {
        use PartyKind::*;
        use Purpose::*;
        use Role::*;
        match (self, role) {
            (AuditReview, PrivacyOfficer | System) => true,
            (Monitoring, Coordinator) => matches!(kind, Ocmw | IntegrationAgency),
            (AttestRegistration, System) => matches!(kind, Kbi),
            (TrajectoryGuidance | Sanctioning | Referral, CaseWorker | System) => {
                matches!(kind, Ocmw | IntegrationAgency)
            }
            (SocialAssistance, CaseWorker | System) => matches!(kind, Ocmw),
            _ => false,
        }
    }

    /// The roles among `roles` in which a party of `kind` may act for this purpose.
    pub fn acting_roles(self, kind: PartyKind, roles: RoleSet) -> RoleSet {
        roles
            .iter()
            .filter(|role| self.permits(kind, *role))
            .collect()
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether the purpose is case work on individual clients (registering, looking up and
/// exchanging client data), as opposed to reviewing the log, aggregate monitoring, or KBI
/// registering an attest: KBI posts attests and does nothing else (SWO art. 13).
impl Purpose {
    pub const fn is_case_work(self) -> bool {
        !matches!(
            self,
            Purpose::AuditReview | Purpose::Monitoring | Purpose::AttestRegistration
        )
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown processing purpose")]
pub struct UnknownPurpose;

impl FromStr for Purpose {
    type Err = UnknownPurpose;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Purpose::ALL
            .into_iter()
            .find(|purpose| purpose.as_str() == s)
            .ok_or(UnknownPurpose)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PartyKind::*;
    use Purpose::*;
    use Role::*;

    #[test]
    fn every_purpose_round_trips_through_its_name() {
        for purpose in Purpose::ALL {
            assert_eq!(purpose.as_str().parse::<Purpose>(), Ok(purpose));
        }
        assert_eq!("TrajectoryGuidance".parse::<Purpose>(), Err(UnknownPurpose));
    }

    #[test]
    fn only_kbi_systems_register_attests_swo_art_13() {
        assert!(AttestRegistration.permits(Kbi, System));
        assert!(!AttestRegistration.permits(Ocmw, System));
        assert!(!AttestRegistration.permits(Kbi, CaseWorker));
    }

    #[test]
    fn social_assistance_is_the_ocmws_purpose_alone() {
        assert!(SocialAssistance.permits(Ocmw, CaseWorker));
        assert!(!SocialAssistance.permits(IntegrationAgency, CaseWorker));
        assert!(!SocialAssistance.permits(Kbi, System));
    }

    #[test]
    fn both_parties_guide_refer_and_sanction_swo_art_3_4_12() {
        for purpose in [TrajectoryGuidance, Referral, Sanctioning] {
            for kind in [Ocmw, IntegrationAgency] {
                assert!(purpose.permits(kind, CaseWorker) && purpose.permits(kind, System));
            }
            assert!(!purpose.permits(Kbi, System));
        }
    }

    #[test]
    fn audit_review_and_monitoring_are_reserved_to_their_roles() {
        for role in [CaseWorker, Coordinator] {
            assert!(!AuditReview.permits(Ocmw, role));
        }
        assert!(AuditReview.permits(Kbi, PrivacyOfficer));
        // A party's system witnesses the log: checkpoints only (the edge keeps it there).
        assert!(AuditReview.permits(Kbi, System) && AuditReview.permits(Ocmw, System));
        assert!(Monitoring.permits(Ocmw, Coordinator));
        assert!(!Monitoring.permits(Kbi, Coordinator));
        assert!(!TrajectoryGuidance.permits(Ocmw, PrivacyOfficer));
        assert!(!TrajectoryGuidance.permits(Ocmw, Coordinator));
    }

    #[test]
    fn acting_roles_keep_only_the_roles_the_purpose_permits() {
        let roles = RoleSet::parse(["caseWorker", "privacyOfficer"]).unwrap();
        let acting = AuditReview.acting_roles(Ocmw, roles);
        assert_eq!(acting.iter().collect::<Vec<_>>(), vec![PrivacyOfficer]);
        assert!(AttestRegistration.acting_roles(Ocmw, roles).is_empty());
    }
}
