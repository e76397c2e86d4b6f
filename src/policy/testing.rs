//! What the policy's tests share: the shipped policy, role sets by name, a deterministic
//! generator of random valid policies and readers, and an oracle that answers from the
//! grants as written rather than from the compiled table.

use super::Policy;
use super::compiled::{self, Decision, ReadBasis};
use super::model::{Basis, KINDS};
use super::sets::CategorySet;
use crate::domain::competence::LinkRole;
use crate::domain::purpose::Purpose;
use crate::domain::record::field::{Category, Field};
use crate::domain::role::{Role, RoleSet};

pub fn shipped() -> Policy {
    Policy::from_bytes(include_bytes!("../../config/policy.toml")).unwrap()
}

pub fn roles(names: &[&str]) -> RoleSet {
    RoleSet::parse(names.iter().copied()).unwrap()
}

/// splitmix64: a small deterministic generator, so a failure replays exactly.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

/// A random valid policy: grants only for roles `Purpose::permits`, for competent or involved
/// readers or both, never of what a competent reader owns (validation refuses those).
pub fn random_policy(rng: &mut Rng) -> Policy {
    let case_work: Vec<Purpose> = Purpose::ALL
        .into_iter()
        .filter(|p| p.is_case_work())
        .collect();
    let mut source = String::from("version = \"p\"\n");
    for purpose in Purpose::ALL.into_iter().filter(|p| p.is_case_work()) {
        source.push_str(&format!(
            "[purposes.{purpose}]\ndescription = \"d\"\nlegal_reference = \"l\"\nretention = \"r\"\n"
        ));
    }
    for _ in 0..rng.below(12) {
        let purpose = case_work[rng.below(case_work.len())];
        let kind = KINDS[rng.below(3)];
        let permitted: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| purpose.permits(kind, *r))
            .collect();
        if permitted.is_empty() {
            continue;
        }
        let mut roles: Vec<&str> = permitted
            .iter()
            .filter(|_| rng.chance(2))
            .map(|r| r.as_str())
            .collect();
        if roles.is_empty() {
            roles.push(permitted[0].as_str());
        }
        let categories: Vec<&str> = Category::ALL
            .into_iter()
            .filter(|c| !Field::in_category(*c).all(|f| f.is_owned_by(kind)) && rng.chance(4))
            .map(Category::as_str)
            .collect();
        let mut fields: Vec<&str> = Field::ALL
            .iter()
            .filter(|f| !f.is_owned_by(kind) && rng.chance(6))
            .map(|f| f.as_str())
            .collect();
        if categories.is_empty() && fields.is_empty() {
            fields.push(Field::Direction.as_str());
        }
        let basis = Basis::ALL[rng.below(3)];
        let link_roles = match rng.below(3) {
            0 => "link_roles = [\"competent\"]\n",
            1 => "link_roles = [\"involved\"]\n",
            _ => "",
        };
        source.push_str(&format!(
            "[[grants]]\npurpose = \"{purpose}\"\nparty_kind = \"{kind}\"\nroles = {roles:?}\ncategories = {categories:?}\nfields = {fields:?}\nbasis = \"{}\"\nreason = \"r\"\n{link_roles}",
            basis.as_str()
        ));
    }
    Policy::from_bytes(source.as_bytes()).unwrap()
}

/// Runs `check` on `policies` random policies from `seed`, each with `readers` random readers
/// (purpose, party kind, acting roles each one in two, consented categories each one in
/// `consent_one_in`) and the decision for them.
pub fn for_random_decisions(
    seed: u64,
    (policies, readers): (usize, usize),
    consent_one_in: usize,
    mut check: impl FnMut(&Policy, Reader, &Decision),
) {
    let mut rng = Rng::new(seed);
    for _ in 0..policies {
        let policy = random_policy(&mut rng);
        for _ in 0..readers {
            let purpose = Purpose::ALL[rng.below(Purpose::ALL.len())];
            let kind = KINDS[rng.below(KINDS.len())];
            let acting: RoleSet = Role::ALL.into_iter().filter(|_| rng.chance(2)).collect();
            let consented: CategorySet = Category::ALL
                .into_iter()
                .filter(|_| rng.chance(consent_one_in))
                .collect();
            let link = LinkRole::ALL[rng.below(LinkRole::ALL.len())];
            let reader = compiled::Reader {
                purpose,
                kind,
                acting_roles: acting,
                link,
            };
            let decision = policy.decide_for(reader, consented);
            check(&policy, (reader, consented), &decision);
        }
    }
}

/// Who reads (purpose, party kind, acting roles, link role), and the consented categories.
pub type Reader = (compiled::Reader, CategorySet);

/// The best basis on which the written grants (not the compiled table) allow the field: only
/// a competent reader reads its kind's fields as its own; grants apply to their link roles.
pub fn oracle(policy: &Policy, (reader, consented): Reader, field: Field) -> Option<ReadBasis> {
    let compiled::Reader {
        purpose,
        kind,
        acting_roles: acting,
        link,
    } = reader;
    let acting: Vec<Role> = acting
        .iter()
        .filter(|r| purpose.permits(kind, *r))
        .collect();
    if acting.is_empty() || !purpose.is_case_work() {
        return None;
    }
    if link == LinkRole::Competent && field.is_owned_by(kind) {
        return Some(ReadBasis::Own);
    }
    policy
        .grants()
        .iter()
        .filter(|g| {
            g.purpose == purpose
                && g.party_kind == kind
                && g.link_roles.contains(&link)
                && acting.iter().any(|r| g.roles.contains(*r))
        })
        .filter(|g| g.field_set().contains(field))
        .filter(|g| !g.basis.needs_consent() || consented.contains(field.category()))
        .map(|g| g.basis)
        .max()
        .map(ReadBasis::from)
}
