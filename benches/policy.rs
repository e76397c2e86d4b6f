//! The per-request cost of the policy: one `decide` (purpose × party kind × roles × consents →
//! visible fields and withheld categories), and the whole read path's pure part (rules +
//! decide + filter into the response maps), with the shipped policy.
//!
//! `cargo bench --bench policy`

use gateway::domain::party::PartyKind;
use gateway::domain::purpose::Purpose;
use gateway::domain::record::field::{Category, Field};
use gateway::domain::record::values::ClientRecord;
use gateway::domain::role::{Role, RoleSet};
use gateway::domain::rules;
use gateway::policy::{CategorySet, Policy, filter};
use serde_json::json;
use std::hint::black_box;
use std::time::Instant;

fn per_call(label: &str, iterations: u64, mut run: impl FnMut(u64)) {
    for i in 0..iterations / 10 {
        run(i);
    }
    let started = Instant::now();
    for i in 0..iterations {
        run(i);
    }
    let nanos = started.elapsed().as_nanos() as f64 / iterations as f64;
    println!("{label:<52} {nanos:>10.1} ns/call");
}

fn main() {
    let policy =
        Policy::load(std::path::Path::new("config/policy.toml")).expect("the shipped policy");
    let kinds = [
        PartyKind::Ocmw,
        PartyKind::IntegrationAgency,
        PartyKind::Kbi,
    ];
    let purposes: Vec<Purpose> = Purpose::ALL
        .into_iter()
        .filter(|p| p.is_case_work())
        .collect();
    let roles: RoleSet = [Role::CaseWorker].into_iter().collect();
    println!("policy benchmark — shipped policy {}", policy.version());

    per_call("decide", 10_000_000, |i| {
        let purpose = purposes[(i % purposes.len() as u64) as usize];
        let kind = kinds[(i % 3) as usize];
        let consented = CategorySet::of(Category::ALL[(i % 7) as usize]);
        black_box(policy.decide(
            black_box(purpose),
            black_box(kind),
            black_box(roles),
            black_box(consented),
        ));
    });

    let mut record = ClientRecord::default();
    for (field, value) in [
        (Field::IntegrationStatus, json!("entitled")),
        (Field::NationalRegisterSince, json!("2019-03-01")),
        (Field::IntegrationContractSignedOn, json!("2024-05-02")),
        (Field::Nt2Level, json!("A2")),
        (Field::ReceivesLivingWage, json!(true)),
        (Field::IntegrationInGpmi, json!(true)),
    ] {
        record.set(field, &value).expect("a valid value");
    }
    let today = time::OffsetDateTime::now_utc().date();
    per_call(
        "derive + decide + filter (a whole read, pure part)",
        1_000_000,
        |i| {
            let derived = rules::derive(black_box(&record), today, false);
            let kind = kinds[(i % 2) as usize];
            let decision =
                policy.decide(Purpose::TrajectoryGuidance, kind, roles, CategorySet::EMPTY);
            black_box(filter(&record, &derived, &decision));
        },
    );
}
