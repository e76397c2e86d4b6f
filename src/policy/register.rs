//! The register of processing activities (GDPR art. 30), derived from the loaded policy so
//! that it always says what the gateway actually enforces; nobody writes it by hand.
//!
//! Recipients are the parties to whom another party's data is disclosed: the competent party
//! reading the fields it writes itself is no recipient of them and is left out; an involved
//! party of the same kind is a recipient like any other (issue 13).

use super::compiled::{Cell, Policy, Reader};
use super::model::{Basis, KINDS};
use super::sets::FieldSet;
use crate::domain::competence::LinkRole;
use crate::domain::party::PartyKind;
use crate::domain::purpose::Purpose;
use crate::domain::record::field::{Category, Field};
use crate::domain::role::{Role, RoleSet};
use serde::Serialize;

/// Art. 30(1)(c): the one category of data subjects the gateway holds data on.
const DATA_SUBJECTS: &str = "joint clients of an OCMW and an integration agency (SWO art. 1)";

/// Who controls which data: authority belongs to the competent party, never to a kind.
const AUTHORITY: &str = "For each client and party kind one party is competent (the OCMW that \
grants the living wage, the agency that runs the trajectory, KBI); other linked parties of \
that kind are involved. Only the competent party of a field's owning kind writes the field, \
reads it without a grant, records a client's consent to disclose it and decides the \
infractions routed to its kind (SWO art. 3, 5, 12). An involved party is a recipient like any \
other: it reads only what a grant naming its link role gives it.";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Register {
    pub policy_version: String,
    pub data_subjects: &'static str,
    /// The rule of competence the recipients below are read under.
    pub authority: &'static str,
    pub activities: Vec<Activity>,
    /// Art. 30(1)(f): how long each kind of data is kept, as the deployment configures it.
    pub storage_limits: Vec<StorageLimit>,
}

/// One retention period of the deployment, with its ground (GDPR art. 5(1)(e)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageLimit {
    pub data: &'static str,
    pub days: u32,
    pub ground: &'static str,
}

impl Register {
    /// The register with the deployment's retention periods.
    pub fn with_storage_limits(mut self, limits: Vec<StorageLimit>) -> Self {
        self.storage_limits = limits;
        self
    }
}

/// One purpose: art. 30(1)(b) purpose, (d) recipients, (f) retention, with its legal ground.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    pub purpose: Purpose,
    pub description: String,
    pub legal_reference: String,
    pub retention: String,
    pub recipients: Vec<Recipient>,
}

/// A reader kind and the roles that receive exactly the same data for the purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    pub party_kind: PartyKind,
    /// The role of the recipient's link to the client.
    pub link_role: LinkRole,
    pub roles: Vec<Role>,
    pub categories: Vec<ReceivedCategory>,
    /// The grants this is derived from, with the reasons they cite.
    pub grounds: Vec<Ground>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceivedCategory {
    pub category: Category,
    pub fields: Vec<ReceivedField>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceivedField {
    pub field: &'static str,
    /// The best basis granted; `consent` means only with an active consent record.
    pub basis: Basis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ground {
    pub grant: usize,
    pub basis: Basis,
    pub reason: String,
}

impl Policy {
    pub fn register(&self) -> Register {
        let activities = Purpose::ALL
            .into_iter()
            .filter_map(|purpose| {
                let entry = self.purpose_entry(purpose)?;
                Some(Activity {
                    purpose,
                    description: entry.description.clone(),
                    legal_reference: entry.legal_reference.clone(),
                    retention: entry.retention.clone(),
                    recipients: self.recipients(purpose),
                })
            })
            .collect();
        Register {
            policy_version: self.version().to_owned(),
            data_subjects: DATA_SUBJECTS,
            authority: AUTHORITY,
            activities,
            storage_limits: Vec::new(),
        }
    }

    fn recipients(&self, purpose: Purpose) -> Vec<Recipient> {
        let mut recipients = Vec::new();
        for (kind, link) in KINDS
            .into_iter()
            .flat_map(|k| LinkRole::ALL.map(|l| (k, l)))
        {
            // Roles with the same disclosed fields and bases share one entry.
            let mut groups: Vec<(Cell, RoleSet)> = Vec::new();
            for role in Role::ALL {
                let reader = Reader {
                    link,
                    ..Reader::competent(purpose, kind, RoleSet::from_iter([role]))
                };
                let (cell, _) = self.cell(reader);
                let own = match link {
                    LinkRole::Competent => FieldSet::owned_by(kind),
                    LinkRole::Involved => FieldSet::EMPTY,
                };
                let r = cell.resolved();
                let disclosed = Cell {
                    legal_obligation: r.legal_obligation.difference(own),
                    public_task: r.public_task.difference(own),
                    consent: r.consent.difference(own),
                };
                if disclosed == Cell::default() {
                    continue;
                }
                match groups.iter_mut().find(|(c, _)| *c == disclosed) {
                    Some((_, roles)) => roles.insert(role),
                    None => groups.push((disclosed, RoleSet::from_iter([role]))),
                }
            }
            for (cell, roles) in groups {
                recipients.push(self.recipient(purpose, (kind, link), cell, roles));
            }
        }
        recipients
    }

    fn recipient(
        &self,
        purpose: Purpose,
        (kind, link): (PartyKind, LinkRole),
        cell: Cell,
        roles: RoleSet,
    ) -> Recipient {
        let received = cell
            .legal_obligation
            .union(cell.public_task)
            .union(cell.consent);
        let categories = Category::ALL
            .into_iter()
            .filter_map(|category| {
                let fields: Vec<ReceivedField> = received
                    .intersection(FieldSet::of_category(category))
                    .iter()
                    .filter_map(|field: Field| {
                        let basis = cell.basis(field)?;
                        Some(ReceivedField {
                            field: field.as_str(),
                            basis,
                        })
                    })
                    .collect();
                (!fields.is_empty()).then_some(ReceivedCategory { category, fields })
            })
            .collect();
        let grounds = self
            .grants()
            .iter()
            .enumerate()
            .filter(|(_, g)| g.purpose == purpose && g.party_kind == kind)
            .filter(|(_, g)| roles.iter().any(|r| g.roles.contains(r)))
            .filter(|(_, g)| g.link_roles.contains(&link))
            .map(|(grant, g)| Ground {
                grant,
                basis: g.basis,
                reason: g.reason.clone(),
            })
            .collect();
        Recipient {
            party_kind: kind,
            link_role: link,
            roles: roles.iter().collect(),
            categories,
            grounds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::shipped;
    use super::*;

    fn activity(register: &Register, purpose: Purpose) -> &Activity {
        register
            .activities
            .iter()
            .find(|a| a.purpose == purpose)
            .unwrap()
    }

    #[test]
    fn the_register_lists_every_purpose_of_the_shipped_policy_with_its_recipients() {
        let policy = shipped();
        let register = policy.register();
        assert_eq!(register.activities.len(), Purpose::ALL.len());
        assert_eq!(register.policy_version, policy.version());
        let guidance = activity(&register, Purpose::TrajectoryGuidance);
        let agency = guidance
            .recipients
            .iter()
            .find(|r| {
                r.party_kind == PartyKind::IntegrationAgency && r.link_role == LinkRole::Competent
            })
            .unwrap();
        assert_eq!(agency.roles, vec![Role::CaseWorker, Role::System]);
        let income = agency
            .categories
            .iter()
            .find(|c| c.category == Category::Income)
            .unwrap();
        assert!(
            income
                .fields
                .iter()
                .any(|f| f.field == "receivesLivingWage" && f.basis == Basis::PublicTask)
        );
        assert!(!agency.grounds.is_empty());
        assert!(register.authority.contains("competent"));
        // No competent party is a recipient of its own data, KBI receives nothing, review roles
        // nothing.
        for activity in &register.activities {
            for recipient in activity
                .recipients
                .iter()
                .filter(|r| r.link_role == LinkRole::Competent)
            {
                assert_ne!(recipient.party_kind, PartyKind::Kbi);
                for category in &recipient.categories {
                    for field in &category.fields {
                        assert!(
                            !Field::parse(field.field)
                                .unwrap()
                                .is_owned_by(recipient.party_kind)
                        );
                    }
                }
            }
        }
        assert!(
            activity(&register, Purpose::AuditReview)
                .recipients
                .is_empty()
        );
        assert!(
            activity(&register, Purpose::Monitoring)
                .recipients
                .is_empty()
        );
    }

    #[test]
    fn the_register_serialises_in_camel_case() {
        let json = serde_json::to_value(shipped().register()).unwrap();
        let first = &json["activities"][0];
        assert_eq!(first["purpose"], "trajectoryGuidance");
        assert!(first["legalReference"].is_string());
        assert!(first["recipients"][0]["partyKind"].is_string());
    }
}
