//! The register of processing activities (GDPR art. 30), derived from the loaded policy so
//! that it always says what the gateway actually enforces; nobody writes it by hand.
//!
//! Recipients are the parties to whom another party's data is disclosed: a party reading the
//! fields it writes itself is no recipient of them and is left out.

use super::compiled::{Cell, Policy};
use super::model::{Basis, KINDS};
use super::sets::FieldSet;
use crate::domain::party::PartyKind;
use crate::domain::purpose::Purpose;
use crate::domain::record::field::{Category, Field};
use crate::domain::role::{Role, RoleSet};
use serde::Serialize;

/// Art. 30(1)(c): the one category of data subjects the gateway holds data on.
const DATA_SUBJECTS: &str = "joint clients of an OCMW and an integration agency (SWO art. 1)";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Register {
    pub policy_version: String,
    pub data_subjects: &'static str,
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
            activities,
            storage_limits: Vec::new(),
        }
    }

    fn recipients(&self, purpose: Purpose) -> Vec<Recipient> {
        let mut recipients = Vec::new();
        for kind in KINDS {
            // Roles with the same disclosed fields and bases share one entry.
            let mut groups: Vec<(Cell, RoleSet)> = Vec::new();
            for role in Role::ALL {
                let (cell, _) = self.cell(purpose, kind, RoleSet::from_iter([role]));
                let own = FieldSet::owned_by(kind);
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
                recipients.push(self.recipient(purpose, kind, cell, roles));
            }
        }
        recipients
    }

    fn recipient(
        &self,
        purpose: Purpose,
        kind: PartyKind,
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
            .map(|(grant, g)| Ground {
                grant,
                basis: g.basis,
                reason: g.reason.clone(),
            })
            .collect();
        Recipient {
            party_kind: kind,
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
            .find(|r| r.party_kind == PartyKind::IntegrationAgency)
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
        // Nobody is a recipient of their own data, KBI receives nothing, review roles nothing.
        for activity in &register.activities {
            for recipient in &activity.recipients {
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
