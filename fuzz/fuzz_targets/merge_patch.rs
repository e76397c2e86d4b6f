//! JSON merge patches of a client record (RFC 7396, `PATCH /v1/clients/{id}`), and stored
//! records read back. The first byte picks the writer (each party kind, competent or
//! involved); the rest is the patch, applied to an empty record and to one with every field
//! set. A patch that is accepted changes only fields it names and the writer writes, applying
//! it twice changes nothing more, and the record it leaves reads back from its stored form.

#![no_main]

use gateway::domain::competence::{LinkRole, Standing};
use gateway::domain::party::PartyKind;
use gateway::domain::record::patch::{apply, merge};
use gateway::domain::record::values::ClientRecord;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use std::sync::OnceLock;

const KINDS: [PartyKind; 3] = [
    PartyKind::Ocmw,
    PartyKind::IntegrationAgency,
    PartyKind::Kbi,
];

/// A record with every owned field set, as stored.
const FULL: &str = r#"{
    "integrationStatus": "obligated",
    "integrationContractSignedOn": "2024-03-01",
    "nationalRegisterSince": "2023-11-15",
    "worksOrStudies": false,
    "moStatus": "inProgress",
    "nt2Status": "inProgress",
    "nt2Level": "A2",
    "ploEloStatus": "notStarted",
    "vdabRegisteredOn": "2024-02-01",
    "vdabExemption": "worksOrStudies",
    "participationHours": 12,
    "participationStatus": "inProgress",
    "retributionStatus": "paid",
    "attest": {"kind": "integrationAttest", "issuedOn": "2025-01-10"},
    "receivesLivingWage": true,
    "livingWageSince": "2023-12-01",
    "livingWageEndedOn": "2025-06-30",
    "integrationInGpmi": true,
    "increasedAllowance": false
}"#;

fn records() -> &'static [ClientRecord; 2] {
    static RECORDS: OnceLock<[ClientRecord; 2]> = OnceLock::new();
    RECORDS.get_or_init(|| {
        let full = ClientRecord::from_json_text(FULL).expect("the full record is a record");
        [ClientRecord::default(), full]
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let kind = KINDS[usize::from(selector) % KINDS.len()];
    let role = LinkRole::ALL[usize::from(selector / 3) % LinkRole::ALL.len()];
    let writer = Standing::new(kind, role);

    // Stored records are read with the same refusals whichever reader is used.
    if let Ok(text) = std::str::from_utf8(body) {
        let streamed = ClientRecord::from_json_text(text);
        if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) {
            assert_eq!(streamed.is_ok(), ClientRecord::from_json(&map).is_ok());
        }
    }

    let Ok(patch) = serde_json::from_slice::<Value>(body) else {
        return;
    };

    for record in records() {
        // RFC 7396 merge patch is idempotent.
        let target = Value::Object(record.to_json());
        let merged = merge(target, &patch);
        assert_eq!(merge(merged.clone(), &patch), merged);

        match apply(record, &patch, writer) {
            Ok((next, changed)) => {
                let members = patch.as_object().expect("only an object is accepted");
                for field in &changed {
                    assert!(members.contains_key(field.as_str()), "{field:?} not named");
                    assert!(writer.writes(*field), "{field:?} not the writer's");
                }
                let (again, changed_again) =
                    apply(&next, &patch, writer).expect("an accepted patch is accepted again");
                assert_eq!(again, next);
                assert!(changed_again.is_empty(), "{changed_again:?} changed again");
                let stored = serde_json::to_string(&next.to_json()).expect("a record serialises");
                assert_eq!(ClientRecord::from_json_text(&stored).as_ref(), Ok(&next));
            }
            Err(rejection) => {
                assert!(!rejection.issues.is_empty());
                let _ = rejection.status_class();
                for issue in &rejection.issues {
                    assert!(!issue.kind.detail().is_empty());
                }
            }
        }
    }
});
