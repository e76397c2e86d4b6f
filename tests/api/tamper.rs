//! `gateway audit verify` notices a single altered byte in a stored audit record and names the
//! record, even when the alteration leaves a well-formed record whose searchable columns still
//! agree with it: only the Merkle tree and the signed checkpoints can tell.

use crate::harness::library::AuditRecord;
use crate::harness::{Caller, Deployment, Endpoint, client_id, ssin, verify_ok};

#[tokio::test]
async fn audit_verify_names_the_record_in_which_one_byte_was_altered() {
    let deployment = Deployment::new();
    let gateway = deployment.start().await;
    let worker = gateway.case_worker(("ocmw-gent", "sw-tamper"));
    for n in 0..20 {
        let person = ssin(n);
        let registered = worker.register(&person).await;
        assert_eq!(registered.status(), 201);
        let id = client_id(registered).await;
        let found = worker.lookup(&person).await;
        assert_eq!(client_id(found).await, id);
    }
    // Asking for a checkpoint makes the tree catch up with every record answered so far and
    // signs it, so the records below are covered by a signed root.
    let officer = gateway.session(&Caller::privacy_officer(("ocmw-gent", "po-1")));
    let response = officer.get("/v1/audit/checkpoint").await;
    assert_eq!(response.status(), 200);
    let note = response.text().await.unwrap();
    let tree_size: u64 = note
        .lines()
        .nth(1)
        .and_then(|line| line.parse().ok())
        .unwrap_or_else(|| panic!("not a checkpoint: {note}"));
    assert!(tree_size >= 40, "the checkpoint covers {tree_size} records");
    gateway.stop().await;

    let db = deployment.database().await;
    let rows = db.audit_rows().await;
    let (records, checkpoints) = verify_ok(&deployment);
    assert_eq!(records, rows.len() as u64);
    assert!(checkpoints >= 1);

    // One byte in the middle of the signed part: a letter of the purpose, whose case is
    // flipped. The record stays canonical JSON and no column repeats the purpose.
    let seq = tree_size / 2;
    let original = rows[seq as usize].bytes.clone();
    let mut altered = original.clone();
    let marker = br#""purpose":""#;
    let at = original
        .windows(marker.len())
        .position(|window| window == marker)
        .expect("a purpose member")
        + marker.len();
    altered[at] ^= 0x20;
    assert!(
        AuditRecord::decode(&altered).is_ok(),
        "the alteration should leave a well-formed record"
    );

    // The append-only trigger would refuse the change; a tamperer with database access
    // simply removes it first.
    let untrigger = if db.is_postgres() {
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update"
    } else {
        "DROP TRIGGER audit_log_no_update"
    };
    db.execute(untrigger).await.unwrap();
    assert_eq!(db.overwrite_record(seq as i64, &altered).await, 1);
    let stored = &db.audit_rows().await[seq as usize].bytes;
    let differing = stored.iter().zip(&original).filter(|(a, b)| a != b).count();
    assert_eq!((stored.len(), differing), (original.len(), 1));
    db.close().await;

    let verified = deployment.cli(&["audit", "verify"]);
    assert_eq!(verified.status.code(), Some(1), "{verified}");
    let named = format!("record {seq}");
    let names_it = verified.stderr.lines().any(|line| {
        line.match_indices(&named)
            .any(|(i, _)| !line[i + named.len()..].starts_with(|c: char| c.is_ascii_digit()))
    });
    assert!(names_it, "stderr does not name {named}\n{verified}");
}

/// A row added to the client index would put an access into the report of a client the
/// record never showed (or, removed, hide one): `audit verify` compares the index with the
/// records and names the record.
#[tokio::test]
async fn audit_verify_names_the_record_whose_client_index_was_extended() {
    let deployment = Deployment::new();
    let gateway = deployment.start().await;
    let gent = gateway.case_worker(("ocmw-gent", "sw-index"));
    let amal = gateway.case_worker(("amal", "tb-index"));
    for n in 0..3 {
        let person = ssin(100 + n);
        assert_eq!(gent.register(&person).await.status(), 201);
        let client = client_id(amal.register(&person).await).await;
        amal.write_record(
            &client,
            serde_json::json!({"integrationStatus": "obligated"}),
        )
        .await;
    }
    let page = gent.feed("after=0&limit=100").await;
    assert_eq!(page["events"].as_array().unwrap().len(), 3, "{page}");
    gateway.stop().await;

    let db = deployment.database().await;
    let rows = db.audit_rows().await;
    let page_record = rows
        .iter()
        .find(|row| row.action == "deliverEvent")
        .expect("the feed page's record");
    assert_eq!(page_record.record.clients.len(), 3);
    verify_ok(&deployment);

    let sql = format!(
        "INSERT INTO audit_record_clients (client_id, seq) VALUES ('{}', {})",
        uuid::Uuid::new_v4(),
        page_record.seq
    );
    db.execute(Box::leak(sql.into_boxed_str())).await.unwrap();
    db.close().await;

    let verified = deployment.cli(&["audit", "verify"]);
    assert_eq!(verified.status.code(), Some(1), "{verified}");
    let named = format!("record {}: the client index", page_record.seq);
    assert!(verified.stderr.contains(&named), "{verified}");
}
