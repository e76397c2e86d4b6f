//! Why one field was or was not visible (product brief §5): for a privacy officer answering a
//! client or checking the policy. Built on `decide`, so it cannot disagree with what a read
//! returned; it only adds which grants applied and their reasons.

use super::compiled::{Policy, ReadBasis, Reader};
use super::model::Basis;
use super::sets::CategorySet;
use crate::domain::competence::LinkRole;
use crate::domain::party::PartyKind;
use crate::domain::purpose::Purpose;
use crate::domain::record::field::{Category, Field};
use crate::domain::role::{Role, RoleSet};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// Visible: the reader owns (writes) the field.
    OwnedByReader,
    /// Visible: a grant on a legal basis, or on consent with an active consent.
    Granted,
    /// Not visible: only consent-based grants cover it and no active consent does.
    ConsentMissing,
    /// Not visible: no grant covers it (deny by default).
    NoGrant,
    /// Not visible: none of the roles may use the purpose, or the purpose reads no record.
    PurposeNotPermitted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum MatchedBy {
    Category,
    Field,
}

/// A grant that covers the field for this reader, purpose and roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantReference {
    /// Position in the policy file's `grants` list.
    pub index: usize,
    pub basis: Basis,
    pub reason: String,
    pub matched_by: MatchedBy,
    /// Whether this grant is the one the field was read on (a consent grant beaten by a
    /// legal one, or lacking its consent, did not apply).
    pub applied: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    pub policy_version: String,
    pub purpose: Purpose,
    pub party_kind: PartyKind,
    /// The role of the reader's link to the client: only a competent party reads its own.
    pub link_role: LinkRole,
    /// The roles that may act for the purpose; others given were ignored.
    pub acting_roles: Vec<Role>,
    pub field: &'static str,
    pub category: Category,
    pub consent_active: bool,
    pub visible: bool,
    pub basis: Option<ReadBasis>,
    pub outcome: Outcome,
    pub grants: Vec<GrantReference>,
    /// One sentence for a person.
    pub summary: String,
}

impl Policy {
    pub fn explain(
        &self,
        purpose: Purpose,
        kind: PartyKind,
        acting_roles: RoleSet,
        field: Field,
        consented: CategorySet,
    ) -> Explanation {
        let reader = Reader::competent(purpose, kind, acting_roles);
        self.explain_for(reader, field, consented)
    }

    /// Why `field` is or is not visible to `reader` (its link role included).
    pub fn explain_for(&self, reader: Reader, field: Field, consented: CategorySet) -> Explanation {
        let (purpose, kind, acting_roles) = (reader.purpose, reader.kind, reader.acting_roles);
        let link = reader.link;
        let decision = self.decide_for(reader, consented);
        let basis = decision.basis(field);
        let acting: Vec<Role> = acting_roles
            .iter()
            .filter(|r| purpose.permits(kind, *r))
            .collect();
        let consent_active = consented.contains(field.category());
        let grants: Vec<GrantReference> = self
            .grants()
            .iter()
            .enumerate()
            .filter(|(_, g)| g.purpose == purpose && g.party_kind == kind)
            .filter(|(_, g)| g.link_roles.contains(&link))
            .filter(|(_, g)| acting.iter().any(|r| g.roles.contains(*r)))
            .filter(|(_, g)| g.field_set().contains(field))
            .map(|(index, g)| GrantReference {
                index,
                basis: g.basis,
                reason: g.reason.clone(),
                matched_by: if g.covers_by_category(field) {
                    MatchedBy::Category
                } else {
                    MatchedBy::Field
                },
                applied: basis == Some(ReadBasis::from(g.basis)),
            })
            .collect();
        let outcome = match basis {
            Some(ReadBasis::Own) => Outcome::OwnedByReader,
            Some(_) => Outcome::Granted,
            None if acting.is_empty() || !purpose.is_case_work() => Outcome::PurposeNotPermitted,
            None if grants.is_empty() => Outcome::NoGrant,
            None => Outcome::ConsentMissing,
        };
        let summary = summary(purpose, kind, field, outcome, &grants);
        Explanation {
            policy_version: self.version().to_owned(),
            purpose,
            party_kind: kind,
            link_role: link,
            acting_roles: acting,
            field: field.as_str(),
            category: field.category(),
            consent_active,
            visible: basis.is_some(),
            basis,
            outcome,
            grants,
            summary,
        }
    }
}

fn summary(
    purpose: Purpose,
    kind: PartyKind,
    field: Field,
    outcome: Outcome,
    grants: &[GrantReference],
) -> String {
    let category = field.category();
    match outcome {
        Outcome::OwnedByReader => format!(
            "{field} is owned by {kind}, which always reads the fields it writes for a purpose it may use"
        ),
        Outcome::Granted => {
            let applied = grants.iter().find(|g| g.applied);
            match applied {
                Some(g) => format!(
                    "{field} is visible on {} by grants[{}]: {}",
                    g.basis.as_str(),
                    g.index,
                    g.reason
                ),
                None => format!("{field} is visible"),
            }
        }
        Outcome::ConsentMissing => format!(
            "{field} needs the client's consent for category {category} (grants[{}]) and no active consent covers it",
            grants.first().map_or(0, |g| g.index)
        ),
        Outcome::NoGrant => format!(
            "no grant lets {kind} read {field} for {purpose} in these roles; the policy denies by default"
        ),
        Outcome::PurposeNotPermitted if purpose.is_case_work() => {
            format!("{kind} may not use purpose {purpose} in any of these roles")
        }
        Outcome::PurposeNotPermitted => format!("purpose {purpose} reads no record fields"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{for_random_decisions, roles, shipped};
    use super::*;
    use PartyKind::*;
    use Purpose::*;

    #[test]
    fn explain_gives_the_reason_of_the_grant_that_applied() {
        let policy = shipped();
        let e = policy.explain(
            TrajectoryGuidance,
            Ocmw,
            roles(&["caseWorker"]),
            Field::Direction,
            CategorySet::EMPTY,
        );
        assert!(e.visible);
        assert_eq!(e.outcome, Outcome::Granted);
        let applied = e.grants.iter().find(|g| g.applied).unwrap();
        assert_eq!(applied.reason, policy.grants()[applied.index].reason);
        assert!(e.summary.contains(&applied.reason));
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["partyKind"], "ocmw");
        assert_eq!(json["grants"][0]["matchedBy"], "category");
    }

    #[test]
    fn explain_says_why_not_consent_missing_no_grant_or_owned() {
        let policy = shipped();
        let cw = roles(&["caseWorker"]);
        // An OCMW reader, explained.
        let ocmw = |purpose, roles, field, consented| {
            policy.explain(purpose, Ocmw, roles, field, consented)
        };
        let e = ocmw(TrajectoryGuidance, cw, Field::Nt2Level, CategorySet::EMPTY);
        assert_eq!((e.visible, e.outcome), (false, Outcome::ConsentMissing));
        assert!(
            e.grants
                .iter()
                .all(|g| g.basis == Basis::Consent && !g.applied)
        );
        assert!(e.summary.contains("consent"), "{}", e.summary);

        let e = ocmw(Sanctioning, cw, Field::Nt2Level, CategorySet::ALL);
        assert_eq!((e.visible, e.outcome), (false, Outcome::NoGrant));

        let e = ocmw(
            TrajectoryGuidance,
            cw,
            Field::ReceivesLivingWage,
            CategorySet::EMPTY,
        );
        assert_eq!(
            (e.basis, e.outcome),
            (Some(ReadBasis::Own), Outcome::OwnedByReader)
        );

        let e = ocmw(
            TrajectoryGuidance,
            roles(&["coordinator"]),
            Field::ReceivesLivingWage,
            CategorySet::ALL,
        );
        assert_eq!(
            (e.visible, e.outcome),
            (false, Outcome::PurposeNotPermitted)
        );
        assert!(e.acting_roles.is_empty());
    }

    #[test]
    fn explain_agrees_with_decide_on_random_policies() {
        for_random_decisions(7, (50, 20), 2, |policy, (reader, consented), d| {
            for &field in Field::ALL {
                let e = policy.explain_for(reader, field, consented);
                assert_eq!(e.basis, d.basis(field));
                assert_eq!(
                    e.grants.iter().any(|g| g.applied),
                    matches!(e.outcome, Outcome::Granted)
                );
            }
        });
    }
}
