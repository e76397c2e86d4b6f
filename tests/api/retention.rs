//! Storage limitation (GDPR art. 5(1)(e)): a client whose last link ended longer ago than the
//! retention period is erased with everything kept about it, the erasure is on the log, the
//! log still verifies, and the same person registered again is a new client. A dry run only
//! counts; a client still linked somewhere is kept.

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
