//! `gateway audit verify` notices a single altered byte in a stored audit record and names the
//! record, even when the alteration leaves a well-formed record whose searchable columns still
//! agree with it: only the Merkle tree and the signed checkpoints can tell.

use crate::process::{Deployment, audit_rows, client_id, ssin, verify_ok};
use gateway::audit::record::AuditRecord;
use gateway::store::Db;

#[tokio::test]
async fn audit_verify_names_the_record_in_which_one_byte_was_altered() {
    let deployment = Deployment::new();
    let gateway = deployment.start().await;
    let worker = deployment.case_worker(&gateway, "ocmw-gent", "sw-tamper");
    for n in 0..20 {
        let person = ssin(n);
        let registered = worker.register(&person).await.unwrap();
        assert_eq!(registered.status(), 201);
        let id = client_id(registered).await;
        let found = worker.lookup(&person).await.unwrap();
        assert_eq!(client_id(found).await, id);
    }
    // Asking for a checkpoint makes the tree catch up with every record answered so far and
    // signs it, so the records below are covered by a signed root.
    let officer = deployment.caller(
        &gateway,
        "ocmw-gent",
        &["privacyOfficer"],
        "po-1",
        "auditReview",
    );
    let response = officer
        .request(reqwest::Method::GET, "/v1/audit/checkpoint")
        .send()
        .await
        .unwrap();
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
    let rows = audit_rows(&db).await;
    let (records, checkpoints) = verify_ok(&deployment);
    assert_eq!(records, rows.len() as u64);
    assert!(checkpoints >= 1);

    // One byte in the middle of the signed part: a letter of the purpose, whose case is
    // flipped. The record stays canonical JSON and no column repeats the purpose.
    let seq = tree_size / 2;
    let original = rows[seq as usize].record.clone();
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
    match &db {
        Db::Sqlite(pool) => {
            sqlx::query("DROP TRIGGER audit_log_no_update")
                .execute(pool)
                .await
                .unwrap();
        }
        Db::Postgres(pool) => {
            sqlx::query("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update")
                .execute(pool)
                .await
                .unwrap();
        }
    }
    gateway::with_pool!(&db, |pool| {
        let updated = sqlx::query("UPDATE audit_log SET record = $1 WHERE seq = $2")
            .bind(&altered)
            .bind(seq as i64)
            .execute(pool)
            .await
            .unwrap();
        assert_eq!(updated.rows_affected(), 1);
    });
    let stored = &audit_rows(&db).await[seq as usize].record;
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
