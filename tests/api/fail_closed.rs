//! Fail closed: while the audit log cannot be written, no client data is served and nothing
//! changes, readiness says so, and both recover once the log is writable again.

use crate::harness::library::{LOOKUP_CLIENT, REGISTER_CLIENT};
use crate::harness::{Endpoint, ExpectedLog, TestDb, TestGateway, generated_ssin, problem};
use serde_json::Value;
use std::time::Duration;

const AUDIT_UNAVAILABLE: &str = "urn:problem-type:gateway:auditUnavailable";
const GENT: (&str, &str) = ("ocmw-gent", "sw-gent-1");

/// Makes every append to the audit log fail, as a full disk or a revoked grant would.
async fn break_audit_log(db: &TestDb) {
    let sql = if db.is_postgres() {
        "CREATE FUNCTION audit_fail() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN RAISE EXCEPTION 'unwritable'; END; $$; \
         CREATE TRIGGER audit_fail BEFORE INSERT ON audit_log \
         FOR EACH ROW EXECUTE FUNCTION audit_fail();"
    } else {
        "CREATE TRIGGER audit_fail BEFORE INSERT ON audit_log \
         BEGIN SELECT RAISE(ABORT, 'unwritable'); END;"
    };
    db.execute(sql)
        .await
        .expect("the failing trigger is created");
}

async fn repair_audit_log(db: &TestDb) {
    let sql = if db.is_postgres() {
        "DROP TRIGGER audit_fail ON audit_log; DROP FUNCTION audit_fail();"
    } else {
        "DROP TRIGGER audit_fail;"
    };
    db.execute(sql)
        .await
        .expect("the failing trigger is dropped");
}

async fn client_id_of(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status().as_u16(), status);
    let body: Value = response.json().await.unwrap();
    body["clientId"].as_str().unwrap().to_owned()
}

/// A 503 that says the audit log is the cause and carries no client data.
async fn unavailable(response: reqwest::Response, client_id: &str) {
    assert!(response.headers().get("location").is_none());
    let body = problem(response, 503, AUDIT_UNAVAILABLE).await;
    assert!(body.get("clientId").is_none(), "{body}");
    assert!(!body.to_string().contains(client_id), "{body}");
}

#[tokio::test]
async fn while_the_audit_log_is_unwritable_nothing_is_served_or_changed() {
    let gw = TestGateway::start().await;
    let gent = gw.case_worker(GENT);
    let (known, new) = (generated_ssin(20), generated_ssin(21));
    let mut log = ExpectedLog::default();
    let response = gent.register(&known).await;
    log.allowed(&response, GENT, REGISTER_CLIENT, None);
    let client_id = client_id_of(response, 201).await;
    log.about(&client_id);

    let db = gw.db().await;
    break_audit_log(&db).await;

    // A look-up that would succeed is refused: the access could not be put on record.
    unavailable(gent.lookup(&known).await, &client_id).await;
    // A registration is refused and its link rolled back with the record that failed.
    unavailable(gent.register(&new).await, &client_id).await;
    unavailable(gent.register(&known).await, &client_id).await;
    // Ending the link is refused and the link stays.
    unavailable(gent.unlink(&client_id).await, &client_id).await;
    // Even a refusal must be recorded before it is given, so bad input gets 503 too.
    unavailable(gent.lookup("12345").await, &client_id).await;

    assert_eq!(db.count("SELECT COUNT(*) FROM clients").await, 1);
    assert_eq!(db.count("SELECT COUNT(*) FROM client_links").await, 1);
    repair_audit_log(&db).await;
    db.close().await;

    // Service resumes: the old link is intact, the refused registration left nothing behind.
    let response = gent.lookup(&known).await;
    log.allowed(&response, GENT, LOOKUP_CLIENT, Some(&client_id));
    assert_eq!(client_id_of(response, 200).await, client_id);
    let response = gent.lookup(&new).await;
    log.denied(&response, GENT, LOOKUP_CLIENT, "notFound", None);
    problem(response, 404, "urn:problem-type:belgif:resourceNotFound").await;

    // The refused requests left no record, and no gap in the sequence either.
    log.assert_on(&gw).await;
    gw.stop().await;
}

async fn readiness(gw: &TestGateway) -> (u16, Value) {
    let response = gw.ops_get("/readyz").await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// Readiness as soon as it equals `status` (it may trail the last commit a little), or the
/// last answer after a few seconds.
async fn readiness_becomes(gw: &TestGateway, status: u16) -> (u16, Value) {
    let mut answer = readiness(gw).await;
    for _ in 0..100 {
        if answer.0 == status {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        answer = readiness(gw).await;
    }
    answer
}

#[tokio::test]
async fn readiness_reports_an_unwritable_audit_log_and_recovers_with_it() {
    let gw = TestGateway::start().await;
    let gent = gw.case_worker(GENT);
    let ssin = generated_ssin(22);
    let client_id = client_id_of(gent.register(&ssin).await, 201).await;
    let (status, body) = readiness(&gw).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["checks"]["auditLog"], true, "{body}");

    let db = gw.db().await;
    break_audit_log(&db).await;
    unavailable(gent.lookup(&ssin).await, &client_id).await;
    // A gateway that cannot record accesses must be taken out of service.
    let (status, body) = readiness_becomes(&gw, 503).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "notReady", "{body}");
    assert_eq!(body["checks"]["auditLog"], false, "{body}");
    assert_eq!(body["checks"]["database"], true, "{body}");

    repair_audit_log(&db).await;
    db.close().await;
    assert_eq!(client_id_of(gent.lookup(&ssin).await, 200).await, client_id);
    let (status, body) = readiness_becomes(&gw, 200).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ready", "{body}");
    assert_eq!(body["checks"]["auditLog"], true, "{body}");
    gw.stop().await;
}
