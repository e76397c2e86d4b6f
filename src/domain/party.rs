//! Parties to the exchange and their kinds (product brief §2).

use serde::{Deserialize, Serialize};
use std::fmt;

/// The kind of organisation a party is. Field ownership, purposes and policy are all
/// expressed per kind, so that a new OCMW joins by configuration alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum PartyKind {
    /// A public centre for social welfare (OCMW).
    Ocmw,
    /// An integration agency (Amal, or the Flemish agency elsewhere).
    IntegrationAgency,
    /// The Kruispuntbank Inburgering.
    Kbi,
}

impl PartyKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ocmw => "ocmw",
            Self::IntegrationAgency => "integrationAgency",
            Self::Kbi => "kbi",
        }
    }
}

impl fmt::Display for PartyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A configured party's identifier (`ocmw-gent`, `amal`, …). Restricted to a short,
/// URL- and log-safe alphabet because it appears in audit records, metrics labels and file names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct PartyId(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "a party id is 2 to 64 characters of lowercase letters, digits and '-', starting with a letter"
)]
pub struct InvalidPartyId;

impl PartyId {
    pub fn parse(value: &str) -> Result<Self, InvalidPartyId> {
        let bytes = value.as_bytes();
        let well_formed = (2..=64).contains(&bytes.len())
            && bytes[0].is_ascii_lowercase()
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
        if well_formed {
            Ok(Self(value.to_owned()))
        } else {
            Err(InvalidPartyId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PartyId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_development_party_ids_are_well_formed() {
        for id in [
            "ocmw-gent",
            "ocmw-eeklo",
            "ocmw-geraardsbergen",
            "amal",
            "kbi",
        ] {
            assert_eq!(PartyId::parse(id).unwrap().as_str(), id);
        }
    }

    #[test]
    fn a_party_id_with_capitals_spaces_or_a_leading_digit_is_rejected() {
        for id in [
            "",
            "a",
            "Ocmw",
            "ocmw gent",
            "1ocmw",
            "ocmw/gent",
            "ocmw_gent",
        ] {
            assert_eq!(PartyId::parse(id), Err(InvalidPartyId), "{id:?}");
        }
    }
}
