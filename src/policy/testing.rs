//! What the policy's tests share: the shipped policy, role sets by name, a deterministic
//! generator of random valid policies and readers, and an oracle that answers from the
//! grants as written rather than from the compiled table.

use super::Policy;
use super::compiled::{Decision, ReadBasis};
use super::model::{Basis, KINDS};
use super::sets::CategorySet;
use crate::domain::party::PartyKind;
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

/// A random valid policy: grants only for roles `Purpose::permits`, never of what the
/// reader owns (validation refuses those).
pub fn random_policy(rng: &mut Rng) -> Policy {
    let mut source = String::from("version = \"p\"\n");
    for purpose in Purpose::ALL.into_iter().filter(|p| p.is_case_work()) {
        source.push_str(&format!(
            "[purposes.{purpose}]\ndescription = \"d\"\nlegal_reference = \"l\"\nretention = \"r\"\n"
        ));
    }
    for _ in 0..rng.below(12) {
        let purpose = Purpose::ALL[rng.below(5)];
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
        source.push_str(&format!(
            "[[grants]]\npurpose = \"{purpose}\"\nparty_kind = \"{kind}\"\nroles = {roles:?}\ncategories = {categories:?}\nfields = {fields:?}\nbasis = \"{}\"\nreason = \"r\"\n",
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
            let decision = policy.decide(purpose, kind, acting, consented);
            check(&policy, (purpose, kind, acting, consented), &decision);
        }
    }
}

/// Who reads: purpose, party kind, acting roles, consented categories.
pub type Reader = (Purpose, PartyKind, RoleSet, CategorySet);

/// The best basis on which the written grants (not the compiled table) allow the field.
pub fn oracle(
    policy: &Policy,
    purpose: Purpose,
    kind: PartyKind,
    acting: RoleSet,
    consented: CategorySet,
    field: Field,
) -> Option<ReadBasis> {
    let acting: Vec<Role> = acting
        .iter()
        .filter(|r| purpose.permits(kind, *r))
        .collect();
    if acting.is_empty() || !purpose.is_case_work() {
        return None;
    }
    if field.is_owned_by(kind) {
        return Some(ReadBasis::Own);
    }
    policy
        .grants()
        .iter()
        .filter(|g| {
            g.purpose == purpose
                && g.party_kind == kind
                && acting.iter().any(|r| g.roles.contains(*r))
        })
        .filter(|g| g.field_set().contains(field))
        .filter(|g| !g.basis.needs_consent() || consented.contains(field.category()))
        .map(|g| g.basis)
        .max()
        .map(ReadBasis::from)
}
