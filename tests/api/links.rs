//! The reference directory: registering, looking up and unlinking clients, what each refusal
//! looks like, and the audit record every one of those requests leaves.

use crate::harness::library::{END_LINK, LOOKUP_CLIENT, REGISTER_CLIENT};
use crate::harness::{
    Caller, Endpoint, Expected, ExpectedLog, JSON, TestGateway, data_lines, generated_ssin,
    issue_names, per_user_rate, problem,
};
use reqwest::{Method, Response};
use serde_json::{Value, json};

const BAD_REQUEST: &str = "urn:problem-type:belgif:badRequest";
const NOT_FOUND: &str = "urn:problem-type:belgif:resourceNotFound";
const MISSING_SCOPE: &str = "urn:problem-type:belgif:missingScope";
const GENT: (&str, &str) = ("ocmw-gent", "sw-gent-1");
const EEKLO: (&str, &str) = ("ocmw-eeklo", "sw-eeklo-1");
const AMAL: (&str, &str) = ("amal", "tb-amal-1");

/// The client id of a successful registration, after checking its status and headers.
async fn registered(response: Response, status: u16) -> String {
    assert_eq!(response.status().as_u16(), status, "registration status");
    // Personal data must not be kept by caches along the way.
    assert_eq!(response.headers()["cache-control"], "no-store");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    // The client id and the role of the caller's link (competent by default).
    assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
    assert_eq!(body["linkRole"], "competent", "{body}");
    let client_id = body["clientId"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&client_id).is_ok(), "{client_id}");
    assert_eq!(location, format!("/v1/clients/{client_id}"));
    client_id
}

/// The client id of a successful look-up.
async fn found(response: Response) -> String {
    assert_eq!(response.status(), 200, "look-up status");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    body["clientId"].as_str().unwrap().to_owned()
}

/// `who` registers `ssin`, answered with `status`; the record it must leave is noted, and the
/// client id returned.
async fn register(
    gw: &TestGateway,
    log: &mut ExpectedLog,
    who: (&str, &str),
    ssin: &str,
    status: u16,
) -> String {
    let response = gw.case_worker(who).register(ssin).await;
    log.allowed(&response, who, REGISTER_CLIENT, None);
    let client_id = registered(response, status).await;
    log.about(&client_id);
    client_id
}

/// `who` looks `ssin` up and finds `client_id`; the record it must leave is noted.
async fn look_up(
    gw: &TestGateway,
    log: &mut ExpectedLog,
    who: (&str, &str),
    ssin: &str,
    client_id: &str,
) {
    let response = gw.case_worker(who).lookup(ssin).await;
    log.allowed(&response, who, LOOKUP_CLIENT, Some(client_id));
    assert_eq!(found(response).await, client_id);
}

/// `who` ends its link to `client_id`; the record it must leave is noted.
async fn unlink(gw: &TestGateway, log: &mut ExpectedLog, who: (&str, &str), client_id: &str) {
    let response = gw.case_worker(who).unlink(client_id).await;
    log.allowed(&response, who, END_LINK, Some(client_id));
    assert_eq!(response.status(), 204);
    assert!(response.bytes().await.unwrap().is_empty());
}

/// A 404 refusal of `who`'s `action`, about `client` if the gateway knows it, noted; the body.
async fn not_found(
    log: &mut ExpectedLog,
    response: Response,
    who: (&str, &str),
    action: &'static str,
    client: Option<&str>,
) -> Value {
    log.denied(&response, who, action, "notFound", client);
    problem(response, 404, NOT_FOUND).await
}

/// A gateway in which Gent registered person `n`, a new client: the gateway, the record the
/// registration must have left, the person's number and the client id.
async fn registered_by_gent(n: u32) -> (TestGateway, ExpectedLog, String, String) {
    let gw = TestGateway::start().await;
    let ssin = generated_ssin(n);
    let mut log = ExpectedLog::default();
    let client_id = register(&gw, &mut log, GENT, &ssin, 201).await;
    (gw, log, ssin, client_id)
}

#[tokio::test]
async fn a_client_is_linked_looked_up_unlinked_and_then_no_longer_found() {
    let (gw, mut log, ssin, client_id) = registered_by_gent(1).await;
    let gent = gw.case_worker(GENT);

    // A caller's own trace id is kept in the record next to the gateway's.
    let response = gent
        .request(Method::POST, "/v1/clients/lookup")
        .header("BelGov-Trace-Id", "caller-trace-42")
        .json(&json!({ "ssin": ssin }))
        .send()
        .await
        .unwrap();
    log.allowed(&response, GENT, LOOKUP_CLIENT, Some(&client_id));
    assert_eq!(found(response).await, client_id);

    unlink(&gw, &mut log, GENT, &client_id).await;
    let response = gent.lookup(&ssin).await;
    not_found(&mut log, response, GENT, LOOKUP_CLIENT, Some(&client_id)).await;
    // Ending a link that has ended already is a 404 like any other missing link.
    let response = gent.unlink(&client_id).await;
    not_found(&mut log, response, GENT, END_LINK, Some(&client_id)).await;

    // The client outlives the link: registering again links anew to the same client id.
    assert_eq!(register(&gw, &mut log, GENT, &ssin, 201).await, client_id);

    let rows = log.assert_on(&gw).await;
    assert_eq!(rows[0].record.legal_basis.as_deref(), Some("publicTask"));
    // A linked look-up records the legal basis of the link it relied on.
    assert_eq!(rows[1].record.legal_basis.as_deref(), Some("publicTask"));
    assert_eq!(
        rows[1].record.related_trace_id.as_deref(),
        Some("caller-trace-42")
    );
    assert!(rows.iter().all(|r| !contains(&r.bytes, &ssin)));
    gw.stop().await;
}

#[tokio::test]
async fn registering_the_same_client_again_answers_200_with_the_same_client_id() {
    let (gw, mut log, ssin, client_id) = registered_by_gent(2).await;
    for _ in 0..2 {
        assert_eq!(register(&gw, &mut log, GENT, &ssin, 200).await, client_id);
    }
    log.assert_on(&gw).await;
    let db = gw.db().await;
    assert_eq!(db.count("SELECT COUNT(*) FROM clients").await, 1);
    assert_eq!(db.count("SELECT COUNT(*) FROM client_links").await, 1);
    db.close().await;
    gw.stop().await;
}

#[tokio::test]
async fn two_parties_registering_the_same_person_share_one_client_id() {
    let (gw, mut log, ssin, client_id) = registered_by_gent(3).await;
    // Amal gets a link of its own (201), to the same client.
    assert_eq!(register(&gw, &mut log, AMAL, &ssin, 201).await, client_id);
    for who in [GENT, AMAL] {
        look_up(&gw, &mut log, who, &ssin, &client_id).await;
    }
    // One party ending its link leaves the other's alone.
    unlink(&gw, &mut log, GENT, &client_id).await;
    look_up(&gw, &mut log, AMAL, &ssin, &client_id).await;
    log.assert_on(&gw).await;
    gw.stop().await;
}

#[tokio::test]
async fn another_party_can_neither_find_nor_unlink_a_client_it_is_not_linked_to() {
    let (gw, mut log, known, client_id) = registered_by_gent(4).await;
    let eeklo = gw.case_worker(EEKLO);
    let unknown = generated_ssin(5);

    // Eeklo must not learn whether Gent knows the person: a known but unlinked person and a
    // person nobody registered get the very same answer. The record of the first keeps the
    // client id, so that the person's access report shows the attempt.
    let response = eeklo.lookup(&known).await;
    let not_linked = not_found(&mut log, response, EEKLO, LOOKUP_CLIENT, Some(&client_id)).await;
    let response = eeklo.lookup(&unknown).await;
    let never_registered = not_found(&mut log, response, EEKLO, LOOKUP_CLIENT, None).await;
    assert_eq!(not_linked, never_registered);

    // The same for ending a link: another party's client and a client id nobody issued.
    let response = eeklo.unlink(&client_id).await;
    let others = not_found(&mut log, response, EEKLO, END_LINK, Some(&client_id)).await;
    let random = uuid::Uuid::new_v4().to_string();
    let response = eeklo.unlink(&random).await;
    let nobodys = not_found(&mut log, response, EEKLO, END_LINK, Some(&random)).await;
    assert_eq!(others, nobodys);
    assert_eq!(others, not_linked);

    // A client id that is not one at all is a bad request, naming the path parameter.
    let response = eeklo.unlink("not-a-client-id").await;
    log.denied(&response, EEKLO, END_LINK, "invalidInput", None);
    let body = problem(response, 400, BAD_REQUEST).await;
    assert_eq!(body["issues"][0]["in"], "path");
    assert_eq!(body["issues"][0]["name"], "clientId");

    // Eeklo's attempt changed nothing for Gent.
    look_up(&gw, &mut log, GENT, &known, &client_id).await;
    log.assert_on(&gw).await;
    gw.stop().await;
}

/// Whether `text` occurs in `bytes`.
fn contains(bytes: &[u8], text: &str) -> bool {
    !text.is_empty() && bytes.windows(text.len()).any(|w| w == text.as_bytes())
}

/// A bad-SSIN refusal: one issue naming `/ssin`, with a reason and without the value.
fn assert_ssin_issue(body: &Value, ssin: &str) {
    let issues = body["issues"].as_array().unwrap();
    assert_eq!(issues.len(), 1, "{body}");
    let issue = issues[0].as_object().unwrap();
    assert_eq!(issue["in"], "body", "{body}");
    assert_eq!(issue["name"], "/ssin", "{body}");
    assert!(!issue["detail"].as_str().unwrap().is_empty(), "{body}");
    assert!(!issue.contains_key("value"), "the value is echoed: {body}");
    // Short inputs ("1") occur in any text; from 5 characters on, an occurrence is an echo.
    if ssin.chars().count() >= 5 {
        assert!(!body.to_string().contains(ssin), "{ssin:?} echoed: {body}");
    }
}

#[tokio::test]
async fn every_bad_ssin_in_the_test_data_is_refused_without_being_echoed() {
    // 50 numbers, each registered and looked up: 100 requests by one user.
    let gw = TestGateway::start_with(per_user_rate(1000, 1000)).await;
    let gent = gw.case_worker(GENT);
    let bad = data_lines("bad_ssins.txt");
    assert_eq!(bad.len(), 50);
    let mut log = ExpectedLog::default();
    for ssin in &bad {
        let response = gent.register(ssin).await;
        log.denied(&response, GENT, REGISTER_CLIENT, "invalidInput", None);
        assert_ssin_issue(&raw_problem(response).await, ssin);
        let response = gent.lookup(ssin).await;
        log.denied(&response, GENT, LOOKUP_CLIENT, "invalidInput", None);
        assert_ssin_issue(&raw_problem(response).await, ssin);
    }
    let rows = log.assert_on(&gw).await;
    for ssin in bad.iter().filter(|s| s.chars().count() >= 5) {
        assert!(rows.iter().all(|r| !contains(&r.bytes, ssin)), "{ssin:?}");
    }
    assert_no_clients(&gw).await;
    gw.stop().await;
}

/// The raw text of a bad-request problem (so that an echo in any form is caught).
async fn raw_problem_text(response: Response) -> String {
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let text = response.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["type"], BAD_REQUEST, "{body}");
    text
}

/// A bad-request problem read from its raw text.
async fn raw_problem(response: Response) -> Value {
    serde_json::from_str(&raw_problem_text(response).await).unwrap()
}

/// Nobody became a client.
async fn assert_no_clients(gw: &TestGateway) {
    let db = gw.db().await;
    assert_eq!(db.count("SELECT COUNT(*) FROM clients").await, 0);
    db.close().await;
}

#[tokio::test]
async fn every_good_ssin_in_the_test_data_is_accepted_as_a_distinct_client() {
    let gw = TestGateway::start().await;
    let good = data_lines("good_ssins.txt");
    assert_eq!(good.len(), 10);
    let mut log = ExpectedLog::default();
    let mut ids = Vec::new();
    for ssin in &good {
        let client_id = register(&gw, &mut log, AMAL, ssin, 201).await;
        look_up(&gw, &mut log, AMAL, ssin, &client_id).await;
        ids.push(client_id);
    }
    let distinct: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(distinct.len(), good.len());
    let rows = log.assert_on(&gw).await;
    for ssin in &good {
        assert!(rows.iter().all(|r| !contains(&r.bytes, ssin)), "{ssin}");
    }
    gw.stop().await;
}

#[tokio::test]
async fn malformed_requests_get_the_matching_problem_and_are_recorded_as_denied() {
    let gw = TestGateway::start().await;
    let gent = gw.case_worker(GENT);
    let ssin = generated_ssin(6);
    let mut log = ExpectedLog::default();
    let mut invalid = |response: &Response, action| {
        log.denied(response, GENT, action, "invalidInput", None);
    };

    // Not JSON at all.
    for path in ["/v1/clients", "/v1/clients/lookup"] {
        let response = gent.post_raw(path, JSON, r#"{"ssin":"#).await;
        invalid(&response, action_of(path));
        let body = problem(response, 400, BAD_REQUEST).await;
        assert_eq!(body["issues"][0]["in"], "body");
        assert_eq!(
            body["issues"][0]["detail"],
            "the body is not well-formed JSON"
        );
    }

    // An unknown member, named as a JSON pointer.
    let with_extra = json!({
        "ssin": ssin, "legalBasis": "publicTask", "dossierReference": "D-1", "extra": 1
    });
    let response = gent
        .post_raw("/v1/clients", JSON, with_extra.to_string())
        .await;
    invalid(&response, REGISTER_CLIENT);
    let body = problem(response, 400, BAD_REQUEST).await;
    assert_eq!(body["issues"][0]["name"], "/extra");
    assert_eq!(body["issues"][0]["detail"], "unknown member");
    let lookup_extra = json!({ "ssin": ssin, "party": "ocmw-eeklo" }).to_string();
    let response = gent
        .post_raw("/v1/clients/lookup", JSON, lookup_extra)
        .await;
    invalid(&response, LOOKUP_CLIENT);
    let body = problem(response, 400, BAD_REQUEST).await;
    assert_eq!(body["issues"][0]["name"], "/party");

    // A missing member.
    let missing = json!({ "ssin": ssin, "dossierReference": "D-1" }).to_string();
    let response = gent.post_raw("/v1/clients", JSON, missing).await;
    invalid(&response, REGISTER_CLIENT);
    let body = problem(response, 400, BAD_REQUEST).await;
    assert_eq!(body["issues"][0]["name"], "/legalBasis");
    assert_eq!(body["issues"][0]["detail"], "required member is missing");

    // An SSIN sent as a number is refused without echoing the digits.
    let number = r#"{"ssin": 85073003328}"#;
    let response = gent.post_raw("/v1/clients/lookup", JSON, number).await;
    invalid(&response, LOOKUP_CLIENT);
    let text = raw_problem_text(response).await;
    assert!(!text.contains("85073003328"), "{text}");

    // A legal basis outside the list, and a dossier reference hiding a register number; the
    // valid SSIN next to them is not echoed either.
    let wrong = json!({
        "ssin": ssin, "legalBasis": "curiosity", "dossierReference": "D-85073003328"
    });
    let response = gent.post_raw("/v1/clients", JSON, wrong.to_string()).await;
    invalid(&response, REGISTER_CLIENT);
    let text = raw_problem_text(response).await;
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        issue_names(&body),
        ["/legalBasis", "/dossierReference"],
        "{body}"
    );
    assert!(!text.contains(&ssin), "{text}");
    assert!(!text.contains("85073003328"), "{text}");

    // Not JSON by its media type, or no media type at all.
    let lookup_body = json!({ "ssin": ssin }).to_string();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        for path in ["/v1/clients", "/v1/clients/lookup"] {
            let response = gent.post_raw(path, content_type, lookup_body.clone()).await;
            invalid(&response, action_of(path));
            let unsupported = "urn:problem-type:gateway:unsupportedMediaType";
            problem(response, 415, unsupported).await;
        }
    }

    // An oversized body is turned away by its Content-Length before authentication, so there
    // is no principal to record and nothing is recorded.
    let oversized = vec![b' '; gw.config.limits.max_body_bytes + 1];
    let response = gent.post_raw("/v1/clients", JSON, oversized).await;
    problem(response, 413, "urn:problem-type:belgif:payloadTooLarge").await;

    log.assert_on(&gw).await;
    assert_no_clients(&gw).await;
    gw.stop().await;
}

fn action_of(path: &str) -> &'static str {
    if path.ends_with("/lookup") {
        LOOKUP_CLIENT
    } else {
        REGISTER_CLIENT
    }
}

#[tokio::test]
async fn a_privacy_officer_or_coordinator_may_not_use_the_client_directory() {
    let gw = TestGateway::start().await;
    let ssin = generated_ssin(8);
    let mut log = ExpectedLog::default();
    let register_body = json!({
        "ssin": ssin, "legalBasis": "publicTask", "dossierReference": "D-1"
    });
    let lookup_body = json!({ "ssin": ssin });
    let unlink_path = format!("/v1/clients/{}/link", uuid::Uuid::new_v4());
    let calls = [
        (
            Method::POST,
            "/v1/clients",
            Some(&register_body),
            REGISTER_CLIENT,
        ),
        (
            Method::POST,
            "/v1/clients/lookup",
            Some(&lookup_body),
            LOOKUP_CLIENT,
        ),
        (Method::DELETE, unlink_path.as_str(), None, END_LINK),
    ];
    // Both pass authentication with their own purpose, and both are refused by the client
    // directory, which only serves case work; the refusal is on record like any access.
    let callers = [
        ("privacyOfficer", "po-gent-1", "auditReview"),
        ("coordinator", "co-gent-1", "monitoring"),
    ];
    for (role, user, purpose) in callers {
        let session = gw.session(&Caller::new(GENT.0, &[role], user, purpose));
        for (method, path, body, action) in &calls {
            let response = session.send(method.clone(), path, *body).await;
            log.push(
                Expected::denied(&response, (GENT.0, user), action, "purposeNotAllowed", None)
                    .acting(&[role], purpose),
            );
            let body = problem(response, 403, MISSING_SCOPE).await;
            assert!(body.to_string().contains(purpose), "{body}");
        }
    }
    log.assert_on(&gw).await;
    assert_no_clients(&gw).await;
    gw.stop().await;
}

#[tokio::test]
async fn the_audit_table_refuses_updates_and_deletes_at_the_database() {
    let gw = TestGateway::start().await;
    let gent = gw.case_worker(GENT);
    for n in 10..13 {
        assert_eq!(gent.register(&generated_ssin(n)).await.status(), 201);
    }
    let before = gw.audit_rows().await;
    assert_eq!(before.len(), 3);
    let db = gw.db().await;
    // Even the database owner, past the gateway, cannot rewrite or remove history.
    let mut attempts = vec![
        "UPDATE audit_log SET outcome = 'denied' WHERE seq = 1",
        "UPDATE audit_log SET record = record",
        "DELETE FROM audit_log WHERE seq = 2",
        "DELETE FROM audit_log",
    ];
    if db.is_postgres() {
        attempts.push("TRUNCATE audit_log");
    }
    for sql in attempts {
        let error = db.execute(sql).await.expect_err(sql);
        assert!(error.to_string().contains("append-only"), "{sql}: {error}");
    }
    db.close().await;
    let after = gw.audit_rows().await;
    assert_eq!(after.len(), before.len());
    for (a, b) in before.iter().zip(&after) {
        assert_eq!((a.seq, &a.bytes, &a.outcome), (b.seq, &b.bytes, &b.outcome));
    }
    gw.stop().await;
}
