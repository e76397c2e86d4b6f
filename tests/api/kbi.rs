//! KBI attests (SWO art. 13): recorded once per reference, announced to every linked party and
//! to nobody else.

use crate::harness::{
    Caller, Endpoint, TestGateway, attest, client_id, generated_ssin, issue_names,
    notify_attest as notify, problem,
};
use serde_json::{Value, json};

const GENT: (&str, &str) = ("ocmw-gent", "sw-1");

async fn feed(gw: &TestGateway, party: &str) -> Vec<Value> {
    gw.case_worker((party, "sw-1")).events().await
}

/// Gent's record of `client`, as its case worker reads it.
async fn record_of(gw: &TestGateway, client: &str) -> Value {
    gw.case_worker(GENT).read_record(client).await.body
}

#[tokio::test]
async fn an_attest_reaches_the_linked_ocmw_once_and_an_unlinked_ocmw_not_at_all() {
    let gw = TestGateway::start().await;
    let ssin = generated_ssin(1);
    let client = client_id(gw.case_worker(GENT).register(&ssin).await).await;

    let (status, receipt) = notify(&gw, &attest(&ssin, "KBI-2026-000123", "2026-10-01")).await;
    assert_eq!(status, 201, "{receipt}");
    assert_eq!(receipt["clientId"], client.as_str());
    assert!(!receipt.to_string().contains(&ssin));

    let events = feed(&gw, "ocmw-gent").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(
        events[0]["categories"]
            .as_array()
            .unwrap()
            .contains(&json!("attest"))
    );
    assert_eq!(feed(&gw, "ocmw-eeklo").await, Vec::<Value>::new());

    // The OCMW reads the attest itself through the gate (a legal-basis grant, SWO art. 13).
    let record = record_of(&gw, &client).await;
    assert_eq!(
        record["fields"]["attest"],
        json!({"kind": "integrationAttest", "issuedOn": "2026-10-01"})
    );

    // The same notification again changes nothing: same answer, no second event.
    let (status, again) = notify(&gw, &attest(&ssin, "KBI-2026-000123", "2026-10-01")).await;
    assert_eq!((status, &again), (200, &receipt));
    assert_eq!(feed(&gw, "ocmw-gent").await.len(), 1);
    // The same reference with other content is a conflict, not an overwrite.
    let (status, conflict) = notify(&gw, &attest(&ssin, "KBI-2026-000123", "2026-09-01")).await;
    assert_eq!(status, 409);
    assert_eq!(
        conflict["type"],
        "urn:problem-type:gateway:referenceConflict"
    );

    let attests = gw.audit_of_action("registerAttest").await;
    let outcomes: Vec<_> = attests.iter().map(|r| r.outcome.as_str()).collect();
    assert_eq!(outcomes, ["allowed", "allowed", "denied"]);
    assert!(
        attests
            .iter()
            .all(|r| r.client_id.as_deref() == Some(client.as_str()))
    );
    assert_eq!(attests[0].record.fields, ["attest"]);
    gw.stop().await;
}

#[tokio::test]
async fn an_attest_for_a_person_nobody_registered_yet_creates_the_client_for_kbi_alone() {
    let gw = TestGateway::start().await;
    let ssin = generated_ssin(2);
    let (status, receipt) = notify(&gw, &attest(&ssin, "KBI-1", "2026-01-15")).await;
    assert_eq!(status, 201);
    // When the OCMW registers the person later, it finds the same client, attest included.
    let client = client_id(gw.case_worker(GENT).register(&ssin).await).await;
    assert_eq!(client, receipt["clientId"].as_str().unwrap());
    let record = record_of(&gw, &client).await;
    assert_eq!(record["fields"]["attest"]["kind"], "integrationAttest");
    gw.stop().await;
}

#[tokio::test]
async fn only_kbi_registers_attests_and_every_bad_member_is_named() {
    let gw = TestGateway::start().await;
    let ssin = generated_ssin(3);
    let ocmw_system = Caller::new("ocmw-gent", &["system"], "s", "attestRegistration");
    let ocmw = gw
        .session(&ocmw_system)
        .post("/v1/kbi/attests", &attest(&ssin, "R-1", "2026-01-01"))
        .await;
    problem(ocmw, 403, "urn:problem-type:belgif:missingScope").await;
    let bad = json!({"ssin": "85073003327", "kind": "goldStar", "issuedOn": "2999-01-01", "reference": "has space"});
    let (status, body) = notify(&gw, &bad).await;
    assert_eq!(status, 400);
    assert_eq!(
        issue_names(&body),
        ["/ssin", "/kind", "/issuedOn", "/reference"]
    );
    assert!(!body.to_string().contains("85073003327"));
    gw.stop().await;
}
