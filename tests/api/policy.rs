//! The policy in force, the register derived from it, and a privacy officer's explanation of
//! why a field was or was not visible.

use crate::harness::{
    CASE_WORK, Caller, Endpoint, TestGateway, give_consent, issue_names, joint_client,
    policy_version, problem,
};
use reqwest::Response;
use serde_json::{Value, json};

async fn explain(gw: &TestGateway, officer_party: &str, question: &Value) -> Response {
    let officer = gw.session(&Caller::privacy_officer((officer_party, "dpo-1")));
    let response = officer.post("/v1/policy/explain", question).await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    response
}

/// The explanation of `question`, as `officer_party`'s privacy officer is given it.
async fn explained(gw: &TestGateway, officer_party: &str, question: &Value) -> Value {
    explain(gw, officer_party, question)
        .await
        .json()
        .await
        .unwrap()
}

/// A published document, as Amal's case worker reads it.
async fn published(gw: &TestGateway, path: &str) -> Value {
    gw.case_worker(("amal", "tester"))
        .get(path)
        .await
        .json()
        .await
        .unwrap()
}

/// The question whether a case worker of `party` may see `field` of `client` for case work.
fn visibility(client: &str, party: &str, field: &str) -> Value {
    json!({"clientId": client, "party": party, "roles": ["caseWorker"],
           "purpose": CASE_WORK, "field": field})
}

/// A gateway with person `n` as a joint client of Gent and Amal: the gateway, the client id
/// and the question whether Gent's case workers may see the client's NT2 level.
async fn asked(n: u32) -> (TestGateway, String, Value) {
    let gw = TestGateway::start().await;
    let client = joint_client(&gw, n).await;
    let question = visibility(&client, "ocmw-gent", "nt2Level");
    (gw, client, question)
}

#[tokio::test]
async fn the_effective_policy_and_the_register_of_processing_are_published() {
    let gw = TestGateway::start().await;
    let policy = published(&gw, "/v1/policy").await;
    assert_eq!(policy["version"], policy_version());
    let grants = policy["grants"].as_array().unwrap();
    assert!(!grants.is_empty());
    assert!(
        grants
            .iter()
            .all(|g| !g["reason"].as_str().unwrap().is_empty())
    );
    // The shipped grants apply to competent and involved readers alike.
    assert!(
        grants
            .iter()
            .all(|g| g["linkRoles"] == serde_json::json!(["competent", "involved"]))
    );
    let register = published(&gw, "/v1/policy/register").await;
    assert!(
        register.to_string().contains("trajectoryGuidance"),
        "{register}"
    );
    // The retention periods are the deployment's own, from its configuration.
    let limits = register["storageLimits"].as_array().unwrap();
    assert_eq!(limits.len(), 5, "{register}");
    assert_eq!(
        limits[0]["days"], gw.config.retention.after_last_link_days,
        "{register}"
    );
    // The answers kept for idempotency keys, in whole days of their period in hours.
    let hours = gw.config.retention.idempotency_key_hours;
    let kept = limits.iter().find(|l| {
        l["data"]
            .as_str()
            .is_some_and(|d| d.contains("Idempotency-Key"))
    });
    assert_eq!(kept.unwrap()["days"], hours.div_ceil(24), "{register}");
    // The audit log's own period.
    let log = limits
        .iter()
        .find(|l| l["data"].as_str().is_some_and(|d| d.contains("audit log")));
    assert_eq!(
        log.unwrap()["days"],
        gw.config.retention.audit_log_days,
        "{register}"
    );
    // The register states the rule of competence, and names each recipient's link role.
    assert!(
        register["authority"]
            .as_str()
            .unwrap()
            .contains("competent")
    );
    let recipient = &register["activities"][0]["recipients"][0];
    assert!(recipient["linkRole"].is_string(), "{recipient}");
    gw.stop().await;
}

#[tokio::test]
async fn a_privacy_officer_learns_why_a_field_was_withheld_and_when_consent_made_it_visible() {
    let (gw, client, question) = asked(1).await;
    let before = explained(&gw, "ocmw-gent", &question).await;
    assert_eq!(before["visible"], false, "{before}");
    assert_eq!(before["outcome"], "consentMissing");
    assert_eq!(before["consentActive"], false);

    give_consent(&gw, &client).await;
    let after = explained(&gw, "ocmw-gent", &question).await;
    assert_eq!(after["visible"], true, "{after}");
    assert_eq!(after["basis"], "consent");

    // The agency owns the field: always visible to it.
    let owned = explained(&gw, "amal", &visibility(&client, "amal", "nt2Level")).await;
    assert_eq!(owned["outcome"], "ownedByReader");

    assert_eq!(gw.outcomes_of("explainVisibility").await.len(), 3);
    gw.stop().await;
}

#[tokio::test]
async fn explanations_are_for_linked_privacy_officers_with_valid_questions_only() {
    let (gw, _, question) = asked(2).await;
    // A case worker may not ask.
    let case_worker = gw
        .case_worker(("ocmw-gent", "sw"))
        .post("/v1/policy/explain", &question)
        .await;
    problem(case_worker, 403, "urn:problem-type:belgif:missingScope").await;
    // An officer of a party not linked to the client: as if the client did not exist.
    let outsider = explain(&gw, "ocmw-eeklo", &question).await;
    problem(outsider, 404, "urn:problem-type:belgif:resourceNotFound").await;
    let bad = json!({"clientId": "x", "party": "nobody", "roles": ["admin"], "purpose": "fun", "field": "shoeSize"});
    let body = problem(
        explain(&gw, "ocmw-gent", &bad).await,
        400,
        "urn:problem-type:belgif:badRequest",
    )
    .await;
    assert_eq!(
        issue_names(&body),
        ["/clientId", "/party", "/roles", "/purpose", "/field"]
    );
    gw.stop().await;
}
