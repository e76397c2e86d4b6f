//! `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header) on the POSTs that create or
//! change something: a retry with the same key and request gets the first answer again and
//! creates nothing more — also after a restart and through another instance — and the replay
//! is on the log; the same key with another request is 422, one still in flight 409; keys
//! expire and the retention run removes them; a malformed key is 400 without its value; a key
//! is the caller's own (party and user); the kept answer is sealed at rest.

use crate::at_rest::found_at_rest;
use crate::harness::{
    AMAL, Caller, Deployment, Endpoint, GENT, Session, TestGateway, generated_ssin, joint_client,
    problem, registration,
};
use reqwest::{Method, Response};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;

const HEADER: &str = "Idempotency-Key";
const REUSED: &str = "urn:problem-type:gateway:idempotencyKeyReused";
const IN_USE: &str = "urn:problem-type:gateway:idempotencyKeyInUse";
const REPLAY: &str = "idempotentReplay";

/// OCMW Gent's case worker `user`, working on referrals.
fn referrer(gw: &impl Endpoint, user: &str) -> Session {
    gw.session(&Caller::case_worker((GENT.0, user)).for_purpose("referral"))
}

fn proposal(client: &str, reason: &str) -> Value {
    json!({"clientId": client, "toParty": "amal", "reason": reason})
}

/// `POST path` with `body` and the header `Idempotency-Key: key` (as it is written).
async fn keyed(session: &Session, path: &str, key: &str, body: &Value) -> Response {
    let request = session.request(Method::POST, path).header(HEADER, key);
    request.json(body).send().await.unwrap()
}

/// An answer as a retry compares it: status, `Location`, JSON body.
#[derive(Debug, PartialEq)]
struct Seen {
    status: u16,
    location: Option<String>,
    body: Value,
}

async fn seen(response: Response) -> Seen {
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.json().await.unwrap_or(Value::Null);
    Seen {
        status,
        location,
        body,
    }
}

/// Ids of the referrals the caller's party sent.
async fn outgoing(session: &Session) -> Vec<String> {
    let (status, page) = session
        .call(Method::GET, "/v1/referrals?direction=outgoing", None)
        .await;
    assert_eq!(status, 200, "{page}");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["referralId"].as_str().unwrap().to_owned())
        .collect()
}

/// A fresh key, written as a structured-field string.
fn fresh_key() -> String {
    format!("\"{}\"", uuid::Uuid::new_v4())
}

#[tokio::test]
async fn a_retried_referral_is_created_once_answered_alike_and_the_replay_is_on_record() {
    let gw = TestGateway::start().await;
    let client = joint_client(&gw, 701).await;
    let gent = referrer(&gw, "cw-1");
    let key = fresh_key();
    let body = proposal(&client, "Inburgering opgelegd in het GPMI.");

    let first = seen(keyed(&gent, "/v1/referrals", &key, &body).await).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    let id = first.body["referralId"].as_str().unwrap().to_owned();
    assert_eq!(
        first.location.as_deref(),
        Some(format!("/v1/referrals/{id}").as_str())
    );
    for _ in 0..2 {
        let again = seen(keyed(&gent, "/v1/referrals", &key, &body).await).await;
        assert_eq!(again, first, "a retry answers the first answer again");
    }
    assert_eq!(outgoing(&gent).await, std::slice::from_ref(&id));
    let db = gw.db().await;
    assert_eq!(db.count("SELECT COUNT(*) FROM referrals").await, 1);
    db.close().await;

    let created = gw.audit_of_action("createReferral").await;
    let reasons: Vec<Option<&str>> = created
        .iter()
        .map(|row| row.record.reason.as_deref())
        .collect();
    assert_eq!(reasons, [None, Some(REPLAY), Some(REPLAY)]);
    for row in &created {
        assert_eq!(row.outcome, "allowed");
        assert_eq!(row.client_id.as_deref(), Some(client.as_str()));
        assert_eq!(row.user_id, "cw-1");
    }
    gw.stop().await;
}

#[tokio::test]
async fn consents_feedback_and_registrations_replay_as_well() {
    let gw = TestGateway::start().await;
    let client = joint_client(&gw, 702).await;
    let amal = gw.case_worker(AMAL);
    let path = format!("/v1/clients/{client}/consents");
    let key = fresh_key();
    let consent = crate::harness::consent_for_gent();
    let first = seen(keyed(&amal, &path, &key, &consent).await).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert_eq!(seen(keyed(&amal, &path, &key, &consent).await).await, first);
    let (_, consents) = amal.call(Method::GET, &path, None).await;
    assert_eq!(consents["items"].as_array().unwrap().len(), 1, "{consents}");

    let gent = referrer(&gw, "cw-1");
    let (status, referral) = gent
        .call(
            Method::POST,
            "/v1/referrals",
            Some(&proposal(&client, "Naar Amal.")),
        )
        .await;
    assert_eq!(status, 201, "{referral}");
    let feedback = format!(
        "/v1/referrals/{}/feedback",
        referral["referralId"].as_str().unwrap()
    );
    let message = json!({"message": "Intake gepland."});
    let key = fresh_key();
    let first = seen(keyed(&gent, &feedback, &key, &message).await).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(
        seen(keyed(&gent, &feedback, &key, &message).await).await,
        first
    );
    assert_eq!(first.body["messages"].as_array().unwrap().len(), 1);

    let eeklo = gw.case_worker(crate::harness::EEKLO);
    let key = fresh_key();
    let person = registration(&generated_ssin(703));
    let first = seen(keyed(&eeklo, "/v1/clients", &key, &person).await).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    let again = seen(keyed(&eeklo, "/v1/clients", &key, &person).await).await;
    assert_eq!(
        again, first,
        "the replay is the first answer (201), not the 200 of a repeated registration"
    );
    gw.stop().await;
}

#[tokio::test]
async fn the_same_key_with_another_request_is_refused_and_creates_nothing() {
    let gw = TestGateway::start().await;
    let client = joint_client(&gw, 704).await;
    let gent = referrer(&gw, "cw-1");
    let key = fresh_key();
    let first = keyed(&gent, "/v1/referrals", &key, &proposal(&client, "Eerste.")).await;
    assert_eq!(first.status(), 201);
    let other = keyed(&gent, "/v1/referrals", &key, &proposal(&client, "Andere.")).await;
    let refused = problem(other, 422, REUSED).await;
    assert!(!refused.to_string().contains(&key[1..key.len() - 1]));
    // Another path with the same key is another request too.
    let path = format!("/v1/clients/{client}/consents");
    let elsewhere = keyed(&gent, &path, &key, &crate::harness::consent_for_gent()).await;
    problem(elsewhere, 422, REUSED).await;
    assert_eq!(outgoing(&gent).await.len(), 1);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_sent_while_the_first_is_in_flight_is_409_and_one_referral_is_made() {
    const AT_ONCE: usize = 8;
    let gw = TestGateway::start().await;
    let client = joint_client(&gw, 705).await;
    // One connection each, opened beforehand: the requests leave together, none waits for
    // a handshake, and all but one arrive while the first is being made.
    let mut sessions = Vec::new();
    for _ in 0..AT_ONCE {
        let session = referrer(&gw, "cw-1");
        assert_eq!(session.get("/v1/whoami").await.status(), 200);
        sessions.push(session);
    }
    let key = Arc::new(fresh_key());
    let body = Arc::new(proposal(&client, "Tegelijk."));
    let start = Arc::new(tokio::sync::Barrier::new(AT_ONCE));
    let sent: Vec<_> = sessions
        .into_iter()
        .map(|session| {
            let (key, body, start) = (key.clone(), body.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                let response = keyed(&session, "/v1/referrals", &key, &body).await;
                seen(response).await
            })
        })
        .collect();
    let mut answers = Vec::new();
    for answer in sent {
        answers.push(answer.await.unwrap());
    }
    let created: Vec<&Seen> = answers.iter().filter(|a| a.status == 201).collect();
    let in_use = answers.iter().filter(|a| a.status == 409).count();
    assert_eq!(created.len() + in_use, AT_ONCE, "{answers:?}");
    assert!(in_use >= 1, "{answers:?}");
    let ids: HashSet<&Value> = created.iter().map(|a| &a.body["referralId"]).collect();
    assert_eq!(ids.len(), 1, "every 201 is the one creation: {answers:?}");
    for answer in answers.iter().filter(|a| a.status == 409) {
        assert_eq!(answer.body["type"], IN_USE);
    }
    let gent = referrer(&gw, "cw-1");
    assert_eq!(outgoing(&gent).await.len(), 1);
    // Once the first has its answer, a retry gets it.
    let retry = seen(keyed(&gent, "/v1/referrals", &key, &body).await).await;
    assert_eq!(retry.status, 201);
    assert_eq!(Some(&retry.body["referralId"]), ids.into_iter().next());
    gw.stop().await;
}

#[tokio::test]
async fn a_key_is_the_callers_own() {
    let gw = TestGateway::start().await;
    let client = joint_client(&gw, 706).await;
    let key = fresh_key();
    let body = proposal(&client, "Van cw-1.");
    let first = seen(keyed(&referrer(&gw, "cw-1"), "/v1/referrals", &key, &body).await).await;
    assert_eq!(first.status, 201);
    // Another user of the same party with the same key and body makes a referral of its own.
    let colleague = seen(keyed(&referrer(&gw, "cw-2"), "/v1/referrals", &key, &body).await).await;
    assert_eq!(colleague.status, 201, "{:?}", colleague.body);
    assert_ne!(colleague.body["referralId"], first.body["referralId"]);
    // Another party with the same key and user name is not answered with Gent's referral.
    let amal = gw.session(&Caller::case_worker((AMAL.0, "cw-1")));
    let other = seen(
        keyed(
            &amal,
            "/v1/clients",
            &key,
            &registration(&generated_ssin(707)),
        )
        .await,
    )
    .await;
    assert_eq!(other.status, 201, "{:?}", other.body);
    assert!(other.body.get("referralId").is_none());
    assert_eq!(outgoing(&referrer(&gw, "cw-1")).await.len(), 2);
    gw.stop().await;
}

#[tokio::test]
async fn a_malformed_key_is_refused_without_its_value() {
    let gw = TestGateway::start().await;
    let client = joint_client(&gw, 708).await;
    let gent = referrer(&gw, "cw-1");
    let body = proposal(&client, "Sleutel.");
    let long = format!("\"{}\"", "k".repeat(300));
    let malformed: [&[u8]; 6] = [
        b"unquoted-85073003328",
        b"\"\"",
        b"\"open-85073003328",
        long.as_bytes(),
        "\"sleutel-\u{e9}-85073003328\"".as_bytes(),
        b"\"tab\there-85073003328\"",
    ];
    for key in malformed {
        let request = gent.request(Method::POST, "/v1/referrals");
        let value = reqwest::header::HeaderValue::from_bytes(key).unwrap();
        let response = request.header(HEADER, value).json(&body).send().await;
        let refused = problem(response.unwrap(), 400, "urn:problem-type:belgif:badRequest").await;
        assert_eq!(refused["issues"][0]["in"], "header", "{refused}");
        assert_eq!(refused["issues"][0]["name"], HEADER, "{refused}");
        let text = refused.to_string();
        assert!(
            !text.contains("85073003328") && !text.contains("kkkk"),
            "{text}"
        );
    }
    // Two keys on one request are as malformed as one bad one.
    let request = gent.request(Method::POST, "/v1/referrals");
    let twice = request.header(HEADER, "\"a\"").header(HEADER, "\"b\"");
    let response = twice.json(&body).send().await.unwrap();
    problem(response, 400, "urn:problem-type:belgif:badRequest").await;
    // A structured-field string may escape a quote or a backslash.
    let escaped = keyed(&gent, "/v1/referrals", r#""a\"b\\c""#, &body).await;
    assert_eq!(escaped.status(), 201);
    assert_eq!(outgoing(&gent).await.len(), 1);
    gw.stop().await;
}

#[tokio::test]
async fn the_openapi_documents_the_key_and_its_answers() {
    let gw = TestGateway::start().await;
    let (status, document) = referrer(&gw, "cw-1")
        .call(Method::GET, "/openapi.json", None)
        .await;
    assert_eq!(status, 200);
    for path in [
        "/v1/referrals",
        "/v1/clients/{clientId}/consents",
        "/v1/clients/{clientId}/infractions",
        "/v1/referrals/{referralId}/feedback",
        "/v1/kbi/attests",
        "/v1/clients",
    ] {
        let post = &document["paths"][path]["post"];
        let parameters = post["parameters"].as_array().cloned().unwrap_or_default();
        assert!(
            parameters
                .iter()
                .any(|p| p["name"] == HEADER && p["in"] == "header"),
            "{path}: {parameters:?}"
        );
        for status in ["409", "422"] {
            assert!(post["responses"][status].is_object(), "{path} {status}");
        }
    }
    gw.stop().await;
}

#[tokio::test]
async fn a_key_outlives_a_restart_and_is_sealed_at_rest() {
    const RARE_REASON: &str = "Herhaalde reden Z4471";
    let deployment = Deployment::new();
    let config = deployment.config.clone();
    let gateway = deployment.start().await;
    let client = joint_client(&gateway, 709).await;
    let key = fresh_key();
    let body = proposal(&client, RARE_REASON);
    let first = seen(keyed(&referrer(&gateway, "cw-1"), "/v1/referrals", &key, &body).await).await;
    assert_eq!(first.status, 201);
    gateway.stop().await;

    let gateway = deployment.start().await;
    let after = seen(keyed(&referrer(&gateway, "cw-1"), "/v1/referrals", &key, &body).await).await;
    assert_eq!(after, first, "the answer is kept in the database");
    assert_eq!(after.body["reason"], RARE_REASON);
    gateway.stop().await;

    let db = deployment.database().await;
    assert_eq!(db.count("SELECT COUNT(*) FROM referrals").await, 1);
    let kept = db
        .count("SELECT COUNT(*) FROM idempotency_keys WHERE response IS NOT NULL")
        .await;
    assert_eq!(kept, 1);
    db.close().await;
    let found = found_at_rest(&config, RARE_REASON);
    assert!(found.is_empty(), "the kept answer is readable in {found:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_instance_answers_a_retry_with_the_first_answer() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        eprintln!("skipped: several instances need PostgreSQL (set TEST_DATABASE_URL)");
        return;
    }
    let deployment = Deployment::new();
    let first_instance = deployment.start().await;
    let second_instance = deployment
        .start_from(&deployment.another_instance("second"), "info")
        .await;
    let client = joint_client(&first_instance, 710).await;
    let key = fresh_key();
    let body = proposal(&client, "Via twee instanties.");
    let through_first = referrer(&first_instance, "cw-1");
    let first = seen(keyed(&through_first, "/v1/referrals", &key, &body).await).await;
    assert_eq!(first.status, 201);
    let through_second = referrer(&second_instance, "cw-1");
    let again = seen(keyed(&through_second, "/v1/referrals", &key, &body).await).await;
    assert_eq!(again, first);
    assert_eq!(outgoing(&through_second).await.len(), 1);
    first_instance.stop().await;
    second_instance.stop().await;
}

#[tokio::test]
async fn an_expired_key_is_new_and_the_retention_run_removes_it() {
    let mut deployment = Deployment::new();
    deployment.change(|config| config.retention.run_every_hours = 0);
    let gateway = deployment.start().await;
    let client = joint_client(&gateway, 711).await;
    let key = fresh_key();
    let body = proposal(&client, "Verloopt.");
    let first = seen(keyed(&referrer(&gateway, "cw-1"), "/v1/referrals", &key, &body).await).await;
    assert_eq!(first.status, 201);
    gateway.stop().await;

    // The clock moves past the key's period (24 hours by default).
    let db = deployment.database().await;
    db.execute("UPDATE idempotency_keys SET created_at = created_at - 86400000001")
        .await
        .unwrap();
    let dry = deployment.cli(&["retention", "run", "--dry-run"]);
    assert!(dry.status.success(), "{dry}");
    assert!(dry.stdout.contains("1 idempotency key(s)"), "{dry}");
    assert_eq!(db.count("SELECT COUNT(*) FROM idempotency_keys").await, 1);
    let run = deployment.cli(&["retention", "run"]);
    assert!(run.status.success(), "{run}");
    assert!(run.stdout.contains("1 idempotency key(s)"), "{run}");
    assert_eq!(db.count("SELECT COUNT(*) FROM idempotency_keys").await, 0);

    let gateway = deployment.start().await;
    let gent = referrer(&gateway, "cw-1");
    let second = seen(keyed(&gent, "/v1/referrals", &key, &body).await).await;
    assert_eq!(second.status, 201);
    assert_ne!(second.body["referralId"], first.body["referralId"]);
    // Expired but not yet removed: new as well.
    db.execute("UPDATE idempotency_keys SET created_at = 0")
        .await
        .unwrap();
    let third = seen(keyed(&gent, "/v1/referrals", &key, &body).await).await;
    assert_eq!(third.status, 201);
    assert_ne!(third.body["referralId"], second.body["referralId"]);
    assert_eq!(outgoing(&gent).await.len(), 3);
    gateway.stop().await;
    db.close().await;
}

#[tokio::test]
async fn a_request_whose_answer_was_lost_after_its_change_is_not_carried_out_again() {
    let gw = TestGateway::start().await;
    let client = joint_client(&gw, 712).await;
    let gent = referrer(&gw, "cw-1");
    let key = fresh_key();
    let body = proposal(&client, "Antwoord verloren.");
    assert_eq!(
        keyed(&gent, "/v1/referrals", &key, &body).await.status(),
        201
    );
    // As a crash after the commit leaves it: the change marked, no answer kept, the lease over.
    let db = gw.db().await;
    db.execute("UPDATE idempotency_keys SET status = NULL, response = NULL, lease_until = 0")
        .await
        .unwrap();
    let retry = keyed(&gent, "/v1/referrals", &key, &body).await;
    let refused = problem(retry, 409, IN_USE).await;
    assert!(
        refused["detail"].as_str().unwrap().contains("carried out"),
        "{refused}"
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM referrals").await, 1);
    // A crashed attempt that changed nothing frees its key once its lease is over.
    let other = fresh_key();
    db.execute("DELETE FROM idempotency_keys").await.unwrap();
    assert_eq!(
        keyed(&gent, "/v1/referrals", &other, &body).await.status(),
        201
    );
    db.execute("UPDATE idempotency_keys SET status = NULL, response = NULL, applied_at = NULL, lease_until = 0")
        .await
        .unwrap();
    assert_eq!(
        keyed(&gent, "/v1/referrals", &other, &body).await.status(),
        201
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM referrals").await, 3);
    db.close().await;
    gw.stop().await;
}
