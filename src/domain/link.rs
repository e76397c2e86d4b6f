//! What a party states when it registers a client as one of its own (the reference
//! directory, product brief §2).

use serde::{Deserialize, Serialize};

/// The GDPR art. 6(1) ground on which the party processes this client's data. Public
/// authorities rest on legal obligation or public task (BVR art. 15 §2–3); consent is the
/// exception (GDPR recital 43, SWO art. 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum LegalBasis {
    LegalObligation,
    PublicTask,
    Consent,
}

impl LegalBasis {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::LegalObligation => "legalObligation",
            Self::PublicTask => "publicTask",
            Self::Consent => "consent",
        }
    }
}

/// The party's own reference for the client's dossier. It travels into the gateway's
/// database, so it is kept short and plain, and refused if it looks like it carries a
/// national register number (11 digits in a row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DossierReference(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvalidDossierReference {
    #[error("must be 1 to 64 characters of letters, digits and . _ - / :")]
    Shape,
    #[error("must not contain a national register number")]
    LooksLikeSsin,
}

impl DossierReference {
    pub fn parse(value: &str) -> Result<Self, InvalidDossierReference> {
        let shape_ok = (1..=64).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-/:".contains(&b));
        if !shape_ok {
            return Err(InvalidDossierReference::Shape);
        }
        let mut run = 0;
        for b in value.bytes() {
            run = if b.is_ascii_digit() { run + 1 } else { 0 };
            if run >= 11 {
                return Err(InvalidDossierReference::LooksLikeSsin);
            }
        }
        if crate::domain::ssin::mentions_ssin(value) {
            return Err(InvalidDossierReference::LooksLikeSsin);
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ordinary_dossier_reference_is_accepted() {
        for value in ["GPMI-2025/0042", "D.123_45", "amal:tb:7781"] {
            assert_eq!(DossierReference::parse(value).unwrap().as_str(), value);
        }
    }

    #[test]
    fn a_dossier_reference_with_spaces_or_too_long_is_refused() {
        assert_eq!(
            DossierReference::parse(""),
            Err(InvalidDossierReference::Shape)
        );
        assert_eq!(
            DossierReference::parse("a b"),
            Err(InvalidDossierReference::Shape)
        );
        assert_eq!(
            DossierReference::parse(&"x".repeat(65)),
            Err(InvalidDossierReference::Shape)
        );
    }

    #[test]
    fn a_dossier_reference_hiding_a_national_register_number_is_refused() {
        assert_eq!(
            DossierReference::parse("D-85073003328"),
            Err(InvalidDossierReference::LooksLikeSsin)
        );
        assert!(DossierReference::parse("D-8507300332").is_ok());
        // The printed form, separators and all (a valid number).
        assert_eq!(
            DossierReference::parse("D/85.07.30-033.28"),
            Err(InvalidDossierReference::LooksLikeSsin)
        );
    }
}
