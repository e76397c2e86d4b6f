//! Every field of the joint-client record with its owner and its data category — the single
//! source from which PATCH ownership checks, policy validation, the OpenAPI schema and the
//! register of processing activities are derived (product brief §3).

use crate::domain::party::PartyKind;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A data category: the unit in which policy grants reading and consent is given.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum Category {
    /// Obligated/entitled status, first contract, national-register date (SWO art. 3).
    IntegrationStatus,
    /// Work or study, career orientation, VDAB registration (SWO art. 10).
    Activation,
    /// MO, NT2 and participation-trajectory progress (SWO art. 8, 9, 11).
    TrajectoryProgress,
    /// The NT2/MO fee and the increased allowance (SWO art. 7).
    Financial,
    /// The integration attest (SWO art. 13).
    Attest,
    /// The (equivalent) living wage and the GPMI condition (SWO art. 3, 4).
    Income,
    /// Who directs the trajectory and who may sanction (SWO art. 3, 12, 13), as the gateway
    /// derives them.
    Coordination,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Category::IntegrationStatus,
        Category::Activation,
        Category::TrajectoryProgress,
        Category::Financial,
        Category::Attest,
        Category::Income,
        Category::Coordination,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::IntegrationStatus => "integrationStatus",
            Self::Activation => "activation",
            Self::TrajectoryProgress => "trajectoryProgress",
            Self::Financial => "financial",
            Self::Attest => "attest",
            Self::Income => "income",
            Self::Coordination => "coordination",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Position in `ALL`, for bit sets of categories.
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who writes a field: one party kind, or nobody (derived by the gateway).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Owner {
    Party(PartyKind),
    Derived,
}

macro_rules! fields {
    ($( $variant:ident => $name:literal, $owner:expr, $category:ident; )*) => {
        /// A field of the joint-client record, as named in the API.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Field { $( $variant, )* }

        impl Field {
            pub const ALL: &'static [Field] = &[ $( Field::$variant, )* ];

            /// The JSON member name.
            pub const fn as_str(self) -> &'static str {
                match self { $( Field::$variant => $name, )* }
            }

            pub const fn owner(self) -> Owner {
                match self { $( Field::$variant => $owner, )* }
            }

            pub const fn category(self) -> Category {
                match self { $( Field::$variant => Category::$category, )* }
            }
        }
    };
}

const AGENCY: Owner = Owner::Party(PartyKind::IntegrationAgency);
const OCMW: Owner = Owner::Party(PartyKind::Ocmw);
const KBI: Owner = Owner::Party(PartyKind::Kbi);
const DERIVED: Owner = Owner::Derived;

fields! {
    IntegrationStatus => "integrationStatus", AGENCY, IntegrationStatus;
    IntegrationContractSignedOn => "integrationContractSignedOn", AGENCY, IntegrationStatus;
    NationalRegisterSince => "nationalRegisterSince", AGENCY, IntegrationStatus;
    WorksOrStudies => "worksOrStudies", AGENCY, Activation;
    MoStatus => "moStatus", AGENCY, TrajectoryProgress;
    Nt2Status => "nt2Status", AGENCY, TrajectoryProgress;
    Nt2Level => "nt2Level", AGENCY, TrajectoryProgress;
    PloEloStatus => "ploEloStatus", AGENCY, Activation;
    VdabRegisteredOn => "vdabRegisteredOn", AGENCY, Activation;
    VdabExemption => "vdabExemption", AGENCY, Activation;
    ParticipationHours => "participationHours", AGENCY, TrajectoryProgress;
    ParticipationStatus => "participationStatus", AGENCY, TrajectoryProgress;
    RetributionStatus => "retributionStatus", AGENCY, Financial;
    Attest => "attest", KBI, Attest;
    ReceivesLivingWage => "receivesLivingWage", OCMW, Income;
    LivingWageSince => "livingWageSince", OCMW, Income;
    LivingWageEndedOn => "livingWageEndedOn", OCMW, Income;
    IntegrationInGpmi => "integrationInGpmi", OCMW, Income;
    IncreasedAllowance => "increasedAllowance", OCMW, Financial;
    Direction => "direction", DERIVED, Coordination;
    SanctionAuthority => "sanctionAuthority", DERIVED, Coordination;
    ReferralToAgencyRequired => "referralToAgencyRequired", DERIVED, Coordination;
    ParticipationRequired => "participationRequired", DERIVED, TrajectoryProgress;
    VdabRegistrationDueBy => "vdabRegistrationDueBy", DERIVED, Activation;
    RetributionApplies => "retributionApplies", DERIVED, Financial;
    Nt2ContinuationRequired => "nt2ContinuationRequired", DERIVED, TrajectoryProgress;
}

impl Field {
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|f| f.as_str() == name)
    }

    pub const fn is_derived(self) -> bool {
        matches!(self.owner(), Owner::Derived)
    }

    /// Whether a party of `kind` writes this field.
    pub fn is_owned_by(self, kind: PartyKind) -> bool {
        self.owner() == Owner::Party(kind)
    }

    pub fn in_category(category: Category) -> impl Iterator<Item = Field> {
        Self::ALL
            .iter()
            .copied()
            .filter(move |f| f.category() == category)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_round_trips_through_its_name_and_names_are_unique() {
        for field in Field::ALL {
            assert_eq!(Field::parse(field.as_str()), Some(*field));
        }
        let mut names: Vec<_> = Field::ALL.iter().map(|f| f.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Field::ALL.len());
    }

    #[test]
    fn each_field_has_exactly_one_owner_as_the_brief_lists_them() {
        assert!(Field::Nt2Level.is_owned_by(PartyKind::IntegrationAgency));
        assert!(!Field::Nt2Level.is_owned_by(PartyKind::Ocmw));
        assert!(Field::ReceivesLivingWage.is_owned_by(PartyKind::Ocmw));
        assert!(Field::Attest.is_owned_by(PartyKind::Kbi));
        assert!(Field::Direction.is_derived());
        assert!(!Field::Direction.is_owned_by(PartyKind::Ocmw));
    }

    #[test]
    fn every_category_holds_at_least_one_field() {
        for category in Category::ALL {
            assert!(Field::in_category(category).next().is_some(), "{category}");
            assert_eq!(Category::parse(category.as_str()), Some(category));
        }
    }
}
