//! Consent records: recorded and listed by linked parties only, withdrawn at once, every use
//! on record, every bad member named.

use crate::harness::{
    AMAL, EEKLO, Endpoint, Expected, ExpectedLog, GENT, Session, TestGateway, consent_for_gent,
    generated_ssin, issue_names, problem,
};
use reqwest::{Method, Response};
use serde_json::{Value, json};

const NOT_FOUND: &str = "urn:problem-type:belgif:resourceNotFound";
const BAD_REQUEST: &str = "urn:problem-type:belgif:badRequest";
const WITHDRAW: &str = "withdrawConsent";

/// Registers person `n` as `who`'s client; the registration's expected audit record and the
/// client id.
async fn registered(gw: &TestGateway, who: (&str, &str), n: u32) -> (Expected, String) {
    let response = gw.case_worker(who).register(&generated_ssin(n)).await;
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

/// The JSON body of an answer.
async fn json_of(response: Response) -> Value {
    response.json().await.unwrap()
}

/// `GET path` as `session`, as JSON.
async fn listing(session: &Session, path: &str) -> Value {
    json_of(session.get(path).await).await
}

#[tokio::test]
async fn a_linked_party_records_lists_and_withdraws_a_consent_and_each_step_is_on_record() {
    let gw = TestGateway::start().await;
    let amal = gw.case_worker(AMAL);
    let (registration, client) = registered(&gw, AMAL, 1).await;
    let mut log = ExpectedLog(vec![registration]);
    let path = format!("/v1/clients/{client}/consents");

    let created = amal.post(&path, &consent_for_gent()).await;
    log.allowed(&created, AMAL, "recordConsent", Some(&client));
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

    let listed = amal.get(&path).await;
    log.allowed(&listed, AMAL, "listConsents", Some(&client));
    let listed = json_of(listed).await;
    assert_eq!(listed["items"][0]["consentId"], consent_id.as_str());

    let withdrawn = amal.withdraw_consent(&client, &consent_id).await;
    log.allowed(&withdrawn, AMAL, WITHDRAW, Some(&client));
    assert_eq!(withdrawn.status(), 200);
    let withdrawn = json_of(withdrawn).await;
    assert_eq!(withdrawn["state"], "withdrawn");
    assert_eq!(withdrawn["history"][1]["state"], "withdrawn");
    assert_eq!(
        withdrawn["history"][1]["by"],
        json!({"party": "amal", "user": "tb-1"})
    );

    let again = amal.withdraw_consent(&client, &consent_id).await;
    log.denied(&again, AMAL, WITHDRAW, "notWithdrawable", Some(&client));
    let already = "urn:problem-type:gateway:consentAlreadyWithdrawn";
    problem(again, 409, already).await;

    let unknown = uuid::Uuid::new_v4().to_string();
    let missing = amal.withdraw_consent(&client, &unknown).await;
    log.denied(&missing, AMAL, WITHDRAW, "notWithdrawable", Some(&client));
    problem(missing, 404, NOT_FOUND).await;

    log.assert_on(&gw).await;
    gw.stop().await;
}

#[tokio::test]
async fn an_unlinked_party_cannot_see_record_or_withdraw_consents_and_learns_nothing() {
    let gw = TestGateway::start().await;
    let (amal, eeklo) = (gw.case_worker(AMAL), gw.case_worker(EEKLO));
    let (_, client) = registered(&gw, AMAL, 2).await;
    let path = format!("/v1/clients/{client}/consents");
    let created = json_of(amal.post(&path, &consent_for_gent()).await).await;
    let consent_id = created["consentId"].as_str().unwrap();
    let unknown_client = format!("/v1/clients/{}/consents", uuid::Uuid::new_v4());
    for (method, target, body) in [
        (Method::GET, path.clone(), None),
        (Method::POST, path.clone(), Some(consent_for_gent())),
        (
            Method::POST,
            format!("{path}/{consent_id}/withdrawal"),
            None,
        ),
        (Method::GET, unknown_client.clone(), None),
    ] {
        let response = eeklo.send(method.clone(), &target, body.as_ref()).await;
        let body = problem(response, 404, NOT_FOUND).await;
        assert_eq!(
            body["detail"], "The requested resource cannot be found",
            "{method} {target}"
        );
    }
    // Still active for its recipient: nothing the outsider did changed it.
    let listed = listing(&amal, &path).await;
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
    let gent = gw.case_worker(GENT);
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
        let mut body = consent_for_gent();
        for (key, value) in change.as_object().unwrap() {
            body[key] = value.clone();
        }
        let response = gent.post(&path, &body).await;
        let problem = problem(response, 400, BAD_REQUEST).await;
        assert_eq!(issue_names(&problem), pointers, "{change}");
    }
    let mut unknown_member = consent_for_gent();
    unknown_member["note"] = json!("x");
    let response = gent.post(&path, &unknown_member).await;
    let body = problem(response, 400, BAD_REQUEST).await;
    assert_eq!(body["issues"][0]["name"], "/note");
    let none = listing(&gent, &path).await;
    assert_eq!(none["items"], json!([]), "nothing was recorded");
    gw.stop().await;
}
