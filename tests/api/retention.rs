//! Storage limitation (GDPR art. 5(1)(e)): a client whose last link ended longer ago than the
//! retention period is erased with everything kept about it, the erasure is on the log, the
//! log still verifies, and the same person registered again is a new client. A dry run only
//! counts; a client still linked somewhere is kept.

use crate::audit_proofs::parse_note;
use crate::harness::{
    AMAL, Caller, Deployment, Endpoint, GENT, client_id, consent_for_gent, generated_ssin,
    verify_ok,
};
use serde_json::json;

/// How many rows of `table` concern `client`.
async fn rows_of(db: &crate::harness::TestDb, table: &str, client: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE client_id = '{client}'");
    db.count(Box::leak(sql.into_boxed_str())).await
}

const TABLES: [&str; 6] = [
    "clients",
    "client_links",
    "client_records",
    "consents",
    "events",
    "referrals",
];

#[tokio::test]
async fn a_client_no_party_is_linked_to_is_erased_and_comes_back_as_a_new_client() {
    let mut deployment = Deployment::new();
    deployment.change(|config| {
        config.retention.after_last_link_days = 0;
        config.retention.run_every_hours = 0;
    });
    let gateway = deployment.start().await;
    let (gent, amal) = (gateway.case_worker(GENT), gateway.case_worker(AMAL));
    let (gone, kept) = (generated_ssin(951), generated_ssin(952));
    let client = client_id(gent.register(&gone).await).await;
    assert_eq!(client_id(amal.register(&gone).await).await, client);
    gent.write_record(&client, json!({"receivesLivingWage": true}))
        .await;
    amal.write_record(&client, json!({"nt2Level": "A2"})).await;
    assert_eq!(
        amal.record_consent(&client, &consent_for_gent())
            .await
            .status(),
        201
    );
    let referrals = gateway.session(&Caller::case_worker(GENT).for_purpose("referral"));
    let (status, _) = referrals
        .call(
            reqwest::Method::POST,
            "/v1/referrals",
            Some(&json!({"clientId": client, "toParty": "amal", "reason": "Inburgering."})),
        )
        .await;
    assert_eq!(status, 201);
    // Another person stays linked to Gent: kept.
    let staying = client_id(gent.register(&kept).await).await;
    assert_eq!(gent.unlink(&client).await.status(), 204);
    assert_eq!(amal.unlink(&client).await.status(), 204);
    gateway.stop().await;

    let db = deployment.database().await;
    for table in TABLES {
        assert!(rows_of(&db, table, &client).await > 0, "{table} before");
    }
    let log_before = db.audit_rows().await.len();

    let dry = deployment.cli(&["retention", "run", "--dry-run"]);
    assert!(dry.status.success(), "{dry}");
    assert!(dry.stdout.contains("would erase 1 client(s)"), "{dry}");
    assert!(
        !dry.stdout.contains(&client),
        "a dry run names no one: {dry}"
    );
    for table in TABLES {
        assert!(
            rows_of(&db, table, &client).await > 0,
            "{table} after the dry run"
        );
    }

    let run = deployment.cli(&["retention", "run"]);
    assert!(run.status.success(), "{run}");
    assert!(run.stdout.contains("erased 1 client(s)"), "{run}");
    for table in TABLES {
        assert_eq!(
            rows_of(&db, table, &client).await,
            0,
            "{table} after erasure"
        );
    }
    assert_eq!(
        rows_of(&db, "clients", &staying).await,
        1,
        "a linked client is kept"
    );

    // The log keeps its records, gains the erasure, and verifies.
    let rows = db.audit_rows().await;
    assert!(rows.len() > log_before);
    let erasure = rows
        .iter()
        .find(|row| row.action == "eraseClient")
        .expect("the erasure is on the log");
    assert_eq!(erasure.client_id.as_deref(), Some(client.as_str()));
    assert_eq!(
        (erasure.party_id.as_str(), erasure.outcome.as_str()),
        ("gateway", "allowed")
    );
    db.close().await;
    verify_ok(&deployment);

    // The person registered again is a client the old id does not lead to.
    let gateway = deployment.start().await;
    let again = client_id(gateway.case_worker(GENT).register(&gone).await).await;
    assert_ne!(again, client);
    gateway.stop().await;
}

#[tokio::test]
async fn audit_records_past_the_logs_own_retention_are_reduced_to_leaf_hashes_and_every_proof_holds()
 {
    let mut deployment = Deployment::new();
    deployment.change(|config| {
        config.retention.audit_log_days = 0;
        config.retention.run_every_hours = 0;
    });
    let gateway = deployment.start().await;
    let gent = gateway.case_worker(GENT);
    let officer = gateway.session(&Caller::privacy_officer((GENT.0, "po-gent-1")));
    let checkpoint = || async {
        let response = officer.get("/v1/audit/checkpoint").await;
        assert_eq!(response.status(), 200);
        parse_note(&response.text().await.unwrap())
    };
    let mut clients = Vec::new();
    for n in 961..965 {
        let client = client_id(gent.register(&generated_ssin(n)).await).await;
        gent.write_record(&client, json!({"receivesLivingWage": true}))
            .await;
        clients.push(client);
    }
    let first = checkpoint().await;
    let kept_client = client_id(gent.register(&generated_ssin(965)).await).await;
    gateway.stop().await;

    let db = deployment.database().await;
    let before = db.audit_rows().await;
    let dry = deployment.cli(&["retention", "run", "--dry-run"]);
    assert!(dry.status.success(), "{dry}");
    let would = first.size;
    assert!(
        dry.stdout
            .contains(&format!("would reduce {would} audit record(s)")),
        "{dry}"
    );
    assert_eq!(
        db.audit_rows().await.len(),
        before.len(),
        "a dry run changes nothing"
    );

    let run = deployment.cli(&["retention", "run"]);
    assert!(run.status.success(), "{run}");
    assert!(
        run.stdout
            .contains(&format!("reduced {would} audit record(s)")),
        "{run}"
    );
    // The records below the checkpoint are gone from the database; their index rows too.
    let after = db.audit_rows().await;
    assert!(after.iter().all(|row| row.seq as u64 >= first.size));
    assert_eq!(
        db.count("SELECT COUNT(*) FROM audit_record_clients WHERE seq < (SELECT below FROM audit_reduced)")
            .await,
        0
    );
    // The reduction is on record, by the gateway.
    let reduction = after
        .iter()
        .find(|row| row.action == "reduceAuditLog")
        .expect("the reduction is on the log");
    assert_eq!(reduction.party_id, "gateway");
    // A record above the reduced prefix cannot be removed, whatever the statement.
    assert!(
        db.execute("DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)")
            .await
            .is_err()
    );
    assert!(
        db.execute("UPDATE audit_reduced SET below = below - 1")
            .await
            .is_err()
    );
    db.close().await;

    // The log verifies over the whole tree and says what is reduced.
    let verified = deployment.cli(&["audit", "verify"]);
    assert!(verified.status.success(), "{verified}");
    assert!(
        verified
            .stdout
            .contains(&format!("records 0 to {} are reduced", first.size - 1)),
        "{verified}"
    );

    // Serving again: the consistency proof from the early checkpoint still holds, a kept
    // record still has its inclusion proof, a reduced one has none.
    let gateway = deployment.start().await;
    let officer = gateway.session(&Caller::privacy_officer((GENT.0, "po-gent-1")));
    let now = {
        let response = officer.get("/v1/audit/checkpoint").await;
        parse_note(&response.text().await.unwrap())
    };
    let consistency = officer
        .get(&format!(
            "/v1/audit/proofs/consistency?from={}&to={}",
            first.size, now.size
        ))
        .await;
    assert_eq!(consistency.status(), 200);
    let gents = after
        .iter()
        .find(|row| row.party_id == GENT.0 && (row.seq as u64) < now.size)
        .expect("a record of Gent's kept");
    let kept = officer
        .get(&format!(
            "/v1/audit/proofs/inclusion?index={}&treeSize={}",
            gents.seq, now.size
        ))
        .await;
    assert_eq!(kept.status(), 200);
    let reduced = officer
        .get(&format!(
            "/v1/audit/proofs/inclusion?index=0&treeSize={}",
            now.size
        ))
        .await;
    assert_eq!(reduced.status(), 404);
    // The data itself is untouched: a client whose early records were reduced still reads.
    assert_eq!(
        gateway
            .case_worker(GENT)
            .read_record(&clients[0])
            .await
            .status,
        200
    );
    assert_eq!(
        gateway
            .case_worker(GENT)
            .read_record(&kept_client)
            .await
            .status,
        200
    );
    gateway.stop().await;
}
