//! Roles a token may carry (product brief §2).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The role in which a person or system acts. A token names its roles; the gateway knows
/// no others, so an unknown role is a malformed token rather than an ignorable extra.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Role {
    /// A social worker or trajectory counsellor acting for one client at a time.
    CaseWorker,
    /// A back-office system synchronising records.
    System,
    /// A privacy officer (functionaris voor gegevensbescherming) reviewing the audit log.
    PrivacyOfficer,
    /// A coordinator producing the yearly monitoring (SWO art. 16).
    Coordinator,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::CaseWorker,
        Role::System,
        Role::PrivacyOfficer,
        Role::Coordinator,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CaseWorker => "caseWorker",
            Self::System => "system",
            Self::PrivacyOfficer => "privacyOfficer",
            Self::Coordinator => "coordinator",
        }
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown role")]
pub struct UnknownRole;

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or(UnknownRole)
    }
}

/// A set of roles held in one byte, so that a principal is cheap to copy and compare.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RoleSet(u8);

impl RoleSet {
    pub const EMPTY: RoleSet = RoleSet(0);

    pub fn insert(&mut self, role: Role) {
        self.0 |= role.bit();
    }

    pub const fn contains(self, role: Role) -> bool {
        self.0 & role.bit() != 0
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Role> {
        Role::ALL
            .into_iter()
            .filter(move |role| self.contains(*role))
    }

    /// Parses a token's `roles` claim; any unknown name rejects the whole set.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, UnknownRole> {
        let mut set = RoleSet::EMPTY;
        for name in names {
            set.insert(name.parse()?);
        }
        Ok(set)
    }
}

impl FromIterator<Role> for RoleSet {
    fn from_iter<I: IntoIterator<Item = Role>>(iter: I) -> Self {
        let mut set = RoleSet::EMPTY;
        for role in iter {
            set.insert(role);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_through_its_name() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
    }

    #[test]
    fn a_role_set_with_one_unknown_name_is_rejected_whole() {
        assert_eq!(RoleSet::parse(["caseWorker", "admin"]), Err(UnknownRole));
        assert_eq!(RoleSet::parse(["CaseWorker"]), Err(UnknownRole));
    }

    #[test]
    fn a_role_set_holds_exactly_the_roles_inserted() {
        let set = RoleSet::parse(["system", "coordinator"]).unwrap();
        assert!(set.contains(Role::System) && set.contains(Role::Coordinator));
        assert!(!set.contains(Role::CaseWorker) && !set.contains(Role::PrivacyOfficer));
        assert_eq!(set.iter().count(), 2);
    }
}
