//! Consent records: recorded and listed by linked parties only, withdrawn at once, every use
//! on record, every bad member named.

use crate::helpers::{CASE_WORK, Expected, TestGateway, assert_audit_log, generated_ssin, problem};
use reqwest::Method;
use serde_json::{Value, json};

const GENT: (&str, &str) = ("ocmw-gent", "sw-1");
const AMAL: (&str, &str) = ("amal", "tb-1");
const EEKLO: (&str, &str) = ("ocmw-eeklo", "sw-9");
const NOT_FOUND: &str = "urn:problem-type:belgif:resourceNotFound";
const BAD_REQUEST: &str = "urn:problem-type:belgif:badRequest";

fn consent_body() -> Value {
    json!({
        "recipientParty": "ocmw-gent",
        "purpose": "trajectoryGuidance",
        "categories": ["trajectoryProgress", "activation"],
        "legalTextVersion": "amal-privacy-2026-01",
        "language": "nl",
        "evidenceReference": "form-2026-0042",
        "validFrom": "2020-01-01",
        "validUntil": "2099-12-31",
    })
}

async fn call(
    gw: &TestGateway,
    who: (&str, &str),
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> reqwest::Response {
    gw.call_as(
        method,
        path,
        (who.0, &["caseWorker"][..], who.1),
        CASE_WORK,
        body,
    )
    .await
}

/// Registers person `n` as `who`'s client; the registration's expected audit record and the
/// client id.
async fn registered(gw: &TestGateway, who: (&str, &str), n: u32) -> (Expected, String) {
    let response = gw.register(who.0, who.1, &generated_ssin(n)).await;
    assert_eq!(response.status(), 201);
    let expected = Expected::allowed(&response, who, "registerClient", None);
    let body: Value = response.json().await.unwrap();
    let id = body["clientId"].as_str().unwrap().to_owned();
    (
        Expected {
            client: Some(id.clone()),
            ..expected
        },
        id,
    )
}

#[tokio::test]
async fn a_linked_party_records_lists_and_withdraws_a_consent_and_each_step_is_on_record() {
    let gw = TestGateway::start().await;
    let (registration, client) = registered(&gw, AMAL, 1).await;
    let mut log = vec![registration];
    let path = format!("/v1/clients/{client}/consents");

    let created = call(&gw, AMAL, Method::POST, &path, Some(&consent_body())).await;
    log.push(Expected::allowed(
        &created,
        AMAL,
        "recordConsent",
        Some(&client),
    ));
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["cache-control"], "no-store");
    let consent: Value = created.json().await.unwrap();
    let consent_id = consent["consentId"].as_str().unwrap().to_owned();
    assert_eq!(consent["state"], "active");
    assert_eq!(consent["recipientParty"], "ocmw-gent");
    assert_eq!(
        consent["categories"],
        json!(["trajectoryProgress", "activation"])
    );
    assert_eq!(
        consent["recordedBy"],
        json!({"party": "amal", "user": "tb-1"})
    );
    assert_eq!(consent["history"].as_array().unwrap().len(), 1);

    let listed = call(&gw, AMAL, Method::GET, &path, None).await;
    log.push(Expected::allowed(
        &listed,
        AMAL,
        "listConsents",
        Some(&client),
    ));
    let listed: Value = listed.json().await.unwrap();
    assert_eq!(listed["items"][0]["consentId"], consent_id.as_str());

    let withdrawal = format!("{path}/{consent_id}/withdrawal");
    let withdrawn = call(&gw, AMAL, Method::POST, &withdrawal, None).await;
    log.push(Expected::allowed(
        &withdrawn,
        AMAL,
        "withdrawConsent",
        Some(&client),
    ));
    assert_eq!(withdrawn.status(), 200);
    let withdrawn: Value = withdrawn.json().await.unwrap();
    assert_eq!(withdrawn["state"], "withdrawn");
    assert_eq!(withdrawn["history"][1]["state"], "withdrawn");
    assert_eq!(
        withdrawn["history"][1]["by"],
        json!({"party": "amal", "user": "tb-1"})
    );

    let again = call(&gw, AMAL, Method::POST, &withdrawal, None).await;
    log.push(Expected::denied(
        &again,
        AMAL,
        "withdrawConsent",
        Some(&client),
        "notWithdrawable",
    ));
    problem(
        again,
        409,
        "urn:problem-type:gateway:consentAlreadyWithdrawn",
    )
    .await;

    let unknown = format!("{path}/{}/withdrawal", uuid::Uuid::new_v4());
    let missing = call(&gw, AMAL, Method::POST, &unknown, None).await;
    log.push(Expected::denied(
        &missing,
        AMAL,
        "withdrawConsent",
        Some(&client),
        "notWithdrawable",
    ));
    problem(missing, 404, NOT_FOUND).await;

    assert_audit_log(&gw.audit_rows().await, &log);
    gw.stop().await;
}

#[tokio::test]
async fn an_unlinked_party_cannot_see_record_or_withdraw_consents_and_learns_nothing() {
    let gw = TestGateway::start().await;
    let (_, client) = registered(&gw, AMAL, 2).await;
    let path = format!("/v1/clients/{client}/consents");
    let created: Value = call(&gw, AMAL, Method::POST, &path, Some(&consent_body()))
        .await
        .json()
        .await
        .unwrap();
    let consent_id = created["consentId"].as_str().unwrap();
    let unknown_client = format!("/v1/clients/{}/consents", uuid::Uuid::new_v4());
    for (method, target, body) in [
        (Method::GET, path.clone(), None),
        (Method::POST, path.clone(), Some(consent_body())),
        (
            Method::POST,
            format!("{path}/{consent_id}/withdrawal"),
            None,
        ),
        (Method::GET, unknown_client.clone(), None),
    ] {
        let response = call(&gw, EEKLO, method.clone(), &target, body.as_ref()).await;
        let body = problem(response, 404, NOT_FOUND).await;
        assert_eq!(
            body["detail"], "The requested resource cannot be found",
            "{method} {target}"
        );
    }
    // Still active for its recipient: nothing the outsider did changed it.
    let listed: Value = call(&gw, AMAL, Method::GET, &path, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"][0]["state"], "active");
    let denied = gw
        .audit_rows()
        .await
        .iter()
        .filter(|r| r.outcome == "denied")
        .count();
    assert_eq!(denied, 4);
    gw.stop().await;
}

#[tokio::test]
async fn every_wrong_member_of_a_consent_is_named() {
    let gw = TestGateway::start().await;
    let (_, client) = registered(&gw, GENT, 3).await;
    let path = format!("/v1/clients/{client}/consents");
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({"recipientParty": "ocmw-nowhere"}),
            vec!["/recipientParty"],
        ),
        (json!({"purpose": "curiosity"}), vec!["/purpose"]),
        (json!({"purpose": "auditReview"}), vec!["/purpose"]),
        (json!({"categories": []}), vec!["/categories"]),
        (
            json!({"categories": ["income", "nonsense"]}),
            vec!["/categories/1"],
        ),
        (
            json!({"categories": ["income", "income"]}),
            vec!["/categories"],
        ),
        (json!({"validFrom": "2026-13-01"}), vec!["/validFrom"]),
        (json!({"validUntil": "2019-12-31"}), vec!["/validUntil"]),
        (
            json!({"language": "xx", "evidenceReference": "a b"}),
            vec!["/language", "/evidenceReference"],
        ),
    ];
    for (change, pointers) in cases {
        let mut body = consent_body();
        for (key, value) in change.as_object().unwrap() {
            body[key] = value.clone();
        }
        let response = call(&gw, GENT, Method::POST, &path, Some(&body)).await;
        let problem = problem(response, 400, BAD_REQUEST).await;
        let named: Vec<&str> = problem["issues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap())
            .collect();
        assert_eq!(named, pointers, "{change}");
    }
    let mut unknown_member = consent_body();
    unknown_member["note"] = json!("x");
    let response = call(&gw, GENT, Method::POST, &path, Some(&unknown_member)).await;
    let body = problem(response, 400, BAD_REQUEST).await;
    assert_eq!(body["issues"][0]["name"], "/note");
    let none = call(&gw, GENT, Method::GET, &path, None)
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(none["items"], json!([]), "nothing was recorded");
    gw.stop().await;
}
