//! The policy in force, the register derived from it, and a privacy officer's explanation of
//! why a field was or was not visible.

use crate::helpers::{CASE_WORK, TestGateway, generated_ssin, policy_version, problem};
use reqwest::Method;
use serde_json::{Value, json};

async fn joint_client(gw: &TestGateway, n: u32) -> String {
    let ssin = generated_ssin(n);
    let mut id = String::new();
    for party in ["ocmw-gent", "amal"] {
        let response = gw.register(party, "cw", &ssin).await;
        id = response.json::<Value>().await.unwrap()["clientId"]
            .as_str()
            .unwrap()
            .to_owned();
    }
    id
}

async fn explain(gw: &TestGateway, officer_party: &str, question: &Value) -> reqwest::Response {
    let who = (officer_party, &["privacyOfficer"][..], "dpo-1");
    gw.call_as(
        Method::POST,
        "/v1/policy/explain",
        who,
        "auditReview",
        Some(question),
    )
    .await
}

#[tokio::test]
async fn the_effective_policy_and_the_register_of_processing_are_published() {
    let gw = TestGateway::start().await;
    let policy: Value = gw
        .get_as("amal", "/v1/policy", CASE_WORK)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(policy["version"], policy_version());
    let grants = policy["grants"].as_array().unwrap();
    assert!(!grants.is_empty());
    assert!(
        grants
            .iter()
            .all(|g| !g["reason"].as_str().unwrap().is_empty())
    );
    let register: Value = gw
        .get_as("amal", "/v1/policy/register", CASE_WORK)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        register.to_string().contains("trajectoryGuidance"),
        "{register}"
    );
    gw.stop().await;
}

#[tokio::test]
async fn a_privacy_officer_learns_why_a_field_was_withheld_and_when_consent_made_it_visible() {
    let gw = TestGateway::start().await;
    let client = joint_client(&gw, 1).await;
    let question = json!({"clientId": client, "party": "ocmw-gent", "roles": ["caseWorker"],
                          "purpose": CASE_WORK, "field": "nt2Level"});
    let before: Value = explain(&gw, "ocmw-gent", &question)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(before["visible"], false, "{before}");
    assert_eq!(before["outcome"], "consentMissing");
    assert_eq!(before["consentActive"], false);

    let consent = json!({"recipientParty": "ocmw-gent", "purpose": CASE_WORK, "categories": ["trajectoryProgress"],
        "legalTextVersion": "amal-2026-01", "language": "nl", "evidenceReference": "form-7", "validFrom": "2020-01-01"});
    let path = format!("/v1/clients/{client}/consents");
    let given = gw
        .call_as(
            Method::POST,
            &path,
            ("amal", &["caseWorker"], "tb"),
            CASE_WORK,
            Some(&consent),
        )
        .await;
    assert_eq!(given.status(), 201);
    let after: Value = explain(&gw, "ocmw-gent", &question)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["visible"], true, "{after}");
    assert_eq!(after["basis"], "consent");

    // The agency owns the field: always visible to it.
    let owner = json!({"clientId": client, "party": "amal", "roles": ["caseWorker"], "purpose": CASE_WORK, "field": "nt2Level"});
    let owned: Value = explain(&gw, "amal", &owner).await.json().await.unwrap();
    assert_eq!(owned["outcome"], "ownedByReader");

    let explained = gw
        .audit_rows()
        .await
        .into_iter()
        .filter(|r| r.action == "explainVisibility")
        .count();
    assert_eq!(explained, 3);
    gw.stop().await;
}

#[tokio::test]
async fn explanations_are_for_linked_privacy_officers_with_valid_questions_only() {
    let gw = TestGateway::start().await;
    let client = joint_client(&gw, 2).await;
    let question = json!({"clientId": client, "party": "ocmw-gent", "roles": ["caseWorker"],
                          "purpose": CASE_WORK, "field": "nt2Level"});
    // An officer of a party not linked to the client: as if the client did not exist.
    let outsider = explain(&gw, "ocmw-eeklo", &question).await;
    problem(outsider, 404, "urn:problem-type:belgif:resourceNotFound").await;
    // A case worker may not ask.
    let case_worker = gw
        .call_as(
            Method::POST,
            "/v1/policy/explain",
            ("ocmw-gent", &["caseWorker"], "sw"),
            CASE_WORK,
            Some(&question),
        )
        .await;
    problem(case_worker, 403, "urn:problem-type:belgif:missingScope").await;
    let bad = json!({"clientId": "x", "party": "nobody", "roles": ["admin"], "purpose": "fun", "field": "shoeSize"});
    let body = problem(
        explain(&gw, "ocmw-gent", &bad).await,
        400,
        "urn:problem-type:belgif:badRequest",
    )
    .await;
    let named: Vec<&str> = body["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        named,
        ["/clientId", "/party", "/roles", "/purpose", "/field"]
    );
    gw.stop().await;
}
