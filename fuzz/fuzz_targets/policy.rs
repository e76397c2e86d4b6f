//! The data-access policy file (`config/policy.toml`): any text through `Policy::from_bytes`
//! (TOML, validation, compilation). A policy that loads answers every question the server
//! asks of it: a decision for each purpose, party kind, set of roles and link role, an
//! explanation for each purpose, kind and link role, and the register of processing activities.

#![no_main]

use gateway::domain::competence::LinkRole;
use gateway::domain::party::PartyKind;
use gateway::domain::purpose::Purpose;
use gateway::domain::record::field::Field;
use gateway::domain::role::{Role, RoleSet};
use gateway::policy::{CategorySet, Policy, Reader};
use libfuzzer_sys::fuzz_target;

const KINDS: [PartyKind; 3] = [
    PartyKind::Ocmw,
    PartyKind::IntegrationAgency,
    PartyKind::Kbi,
];

fuzz_target!(|data: &[u8]| {
    let Ok(policy) = Policy::from_bytes(data) else {
        return;
    };
    assert!(policy.version().contains('+'));
    let _ = policy.register();
    let field = Field::ALL[data.len() % Field::ALL.len()];
    for purpose in Purpose::ALL {
        let _ = policy.purpose_entry(purpose);
        for kind in KINDS {
            for bits in 0..(1u8 << Role::ALL.len()) {
                let mut roles = RoleSet::EMPTY;
                for (i, role) in Role::ALL.iter().enumerate() {
                    if bits & (1 << i) != 0 {
                        roles.insert(*role);
                    }
                }
                for link in LinkRole::ALL {
                    let reader = Reader {
                        purpose,
                        kind,
                        acting_roles: roles,
                        link,
                    };
                    for consented in [CategorySet::EMPTY, CategorySet::ALL] {
                        let _ = policy.decide_for(reader, consented);
                        // Explanations allocate: one set of roles is enough for them.
                        if usize::from(bits) == data.len() % (1 << Role::ALL.len()) {
                            let _ = policy.explain_for(reader, field, consented);
                        }
                    }
                }
            }
        }
    }
});
