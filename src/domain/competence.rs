//! Competence: authority by party, not by kind (product brief §2, issue 13).
//!
//! For each client and each party kind at most one linked party is *competent*: the OCMW that
//! grants the (equivalent) living wage and drew up the GPMI, the agency that runs the
//! trajectory, KBI. Other linked parties of that kind are *involved* (a partner OCMW that
//! referred the client to Gent's modules, seed `000_…`). Writing a field, reading one's own
//! fields without a grant, deciding an infraction and recording a consent belong to the
//! competent party of the owning kind, never to every party of that kind.

use super::party::PartyKind;
use super::record::field::{Category, Field, Owner};
use serde::{Deserialize, Serialize};

/// The role of a party's link to a client.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum LinkRole {
    /// The one party of its kind that holds the client's dossier for that kind.
    #[default]
    Competent,
    /// Linked, but without the authority of its kind (it reads as the policy grants it).
    Involved,
}

impl LinkRole {
    pub const ALL: [LinkRole; 2] = [LinkRole::Competent, LinkRole::Involved];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Competent => "competent",
            Self::Involved => "involved",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl std::fmt::Display for LinkRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A party's standing towards one client: its kind and the role of its link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub kind: PartyKind,
    pub role: LinkRole,
}

impl Standing {
    pub const fn new(kind: PartyKind, role: LinkRole) -> Self {
        Self { kind, role }
    }

    pub const fn competent(kind: PartyKind) -> Self {
        Self::new(kind, LinkRole::Competent)
    }

    /// Whether this party writes `field`: only the competent party of the field's owning kind
    /// (SWO art. 3: the direction lies with one party; art. 5: the exchange is about joint
    /// clients, so a party that merely shares the owner's kind holds none of its data).
    /// Derived fields are written by nobody.
    pub fn writes(self, field: Field) -> bool {
        self.role == LinkRole::Competent && field.owner() == Owner::Party(self.kind)
    }

    /// Whether this party reads `field` as its own, whatever the policy says: the same
    /// competent owner (product brief §5, "a competent party always reads the fields it owns").
    pub fn owns(self, field: Field) -> bool {
        self.writes(field)
    }

    /// Whether this party holds data of `category`, so that it may record a client's consent
    /// to disclose it: it is the competent owner of a field of the category (SWO art. 5, the
    /// one who discloses asks the client).
    pub fn holds(self, category: Category) -> bool {
        Field::in_category(category).any(|f| self.owns(f))
    }
}

/// A bare kind stands for the competent party of that kind.
impl From<PartyKind> for Standing {
    fn from(kind: PartyKind) -> Self {
        Self::competent(kind)
    }
}

/// Why a registration cannot take the role it asks for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("another party of kind {kind} is competent for this client")]
pub struct CompetenceTaken {
    pub kind: PartyKind,
}

/// The role a new link gets: the one asked for, unless it asks for competence while another
/// party of the same kind is competent (`competent_other`), which is refused: one competent
/// party per client and kind (SWO art. 3 and 12 name one director and one sanction
/// authority). Becoming competent in its place is a claim, not a registration.
pub fn registration_role(
    kind: PartyKind,
    asked: LinkRole,
    competent_other: bool,
) -> Result<LinkRole, CompetenceTaken> {
    match (asked, competent_other) {
        (LinkRole::Competent, true) => Err(CompetenceTaken { kind }),
        (role, _) => Ok(role),
    }
}

/// The role a link made by the gateway itself gets (a referral accepted, a KBI attest):
/// competent when no party of its kind is, otherwise involved.
pub const fn automatic_role(competent_other: bool) -> LinkRole {
    if competent_other {
        LinkRole::Involved
    } else {
        LinkRole::Competent
    }
}

/// What a claim of competence by an involved party does (issue 13, a client moving to another
/// municipality): effective at once when no party of its kind is competent; otherwise pending
/// until the competent party's link ends or that party hands over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimEffect {
    /// The claimant is competent now.
    Effective,
    /// The claim waits for the competent party.
    Pending,
    /// The claimant is competent already: nothing to claim.
    AlreadyCompetent,
}

pub const fn claim(claimant: LinkRole, competent_other: bool) -> ClaimEffect {
    match (claimant, competent_other) {
        (LinkRole::Competent, _) => ClaimEffect::AlreadyCompetent,
        (LinkRole::Involved, true) => ClaimEffect::Pending,
        (LinkRole::Involved, false) => ClaimEffect::Effective,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PartyKind::*;

    const GENT: Standing = Standing::competent(Ocmw);
    const EEKLO: Standing = Standing::new(Ocmw, LinkRole::Involved);
    const AMAL: Standing = Standing::competent(IntegrationAgency);

    #[test]
    fn only_the_competent_party_of_the_owning_kind_writes_a_field_swo_art_3() {
        assert!(GENT.writes(Field::ReceivesLivingWage));
        assert!(!EEKLO.writes(Field::ReceivesLivingWage));
        assert!(!AMAL.writes(Field::ReceivesLivingWage));
        assert!(AMAL.writes(Field::Nt2Level));
        assert!(!GENT.writes(Field::Nt2Level));
        assert!(!GENT.writes(Field::Direction));
    }

    #[test]
    fn an_involved_party_owns_nothing_swo_art_5() {
        for field in Field::ALL {
            assert!(!EEKLO.owns(*field), "{field}");
        }
    }

    #[test]
    fn a_party_holds_the_categories_of_the_fields_it_owns() {
        assert!(GENT.holds(Category::Income));
        assert!(!EEKLO.holds(Category::Income));
        assert!(AMAL.holds(Category::TrajectoryProgress));
        assert!(!GENT.holds(Category::TrajectoryProgress));
        assert!(!AMAL.holds(Category::Coordination));
    }

    #[test]
    fn one_competent_party_per_kind_swo_art_3_and_12() {
        assert_eq!(
            registration_role(Ocmw, LinkRole::Competent, true),
            Err(CompetenceTaken { kind: Ocmw })
        );
        assert_eq!(
            registration_role(Ocmw, LinkRole::Competent, false),
            Ok(LinkRole::Competent)
        );
        assert_eq!(
            registration_role(Ocmw, LinkRole::Involved, true),
            Ok(LinkRole::Involved)
        );
        assert_eq!(automatic_role(true), LinkRole::Involved);
        assert_eq!(automatic_role(false), LinkRole::Competent);
    }

    #[test]
    fn a_claim_waits_for_the_competent_party_unless_there_is_none() {
        assert_eq!(claim(LinkRole::Involved, true), ClaimEffect::Pending);
        assert_eq!(claim(LinkRole::Involved, false), ClaimEffect::Effective);
        assert_eq!(
            claim(LinkRole::Competent, true),
            ClaimEffect::AlreadyCompetent
        );
    }

    #[test]
    fn link_roles_read_back_from_their_names() {
        for role in LinkRole::ALL {
            assert_eq!(LinkRole::parse(role.as_str()), Some(role));
        }
        assert_eq!(LinkRole::parse("owner"), None);
    }
}
