//! Infractions (SWO art. 12): recorded by the agency, routed to the sanction authority of the
//! moment, decided once by the party it was routed to, seen by the agency and that party only,
//! announced on the feed under the purpose sanctioning, every step on record.

use crate::helpers::{CASE_WORK, TestGateway, feed_of, generated_ssin, problem, write_record};
use reqwest::Method;
use serde_json::{Value, json};

const GENT: (&str, &str) = ("ocmw-gent", "sw-1");
const AMAL: (&str, &str) = ("amal", "tb-1");
const EEKLO: (&str, &str) = ("ocmw-eeklo", "sw-9");
const SANCTIONING: &str = "sanctioning";

async fn send(
    gw: &TestGateway,
    who: (&str, &str),
    purpose: &str,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> reqwest::Response {
    gw.call_as(
        method,
        path,
        (who.0, &["caseWorker"][..], who.1),
        purpose,
        body,
    )
    .await
}

async fn call(
    gw: &TestGateway,
    who: (&str, &str),
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let response = send(gw, who, SANCTIONING, method, path, body).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A client of Gent and Amal; on a living wage when `living_wage` (Gent writes it).
async fn joint_client(gw: &TestGateway, n: u32, living_wage: bool) -> String {
    let ssin = generated_ssin(n);
    let mut id = String::new();
    for who in [GENT, AMAL] {
        let response = gw.register(who.0, who.1, &ssin).await;
        id = response.json::<Value>().await.unwrap()["clientId"]
            .as_str()
            .unwrap()
            .to_owned();
    }
    write_record(gw, GENT, &id, json!({"receivesLivingWage": living_wage})).await;
    id
}

fn missed_course() -> Value {
    json!({"kind": "missedCourse", "occurredOn": "2026-01-05", "description": "Drie lessen NT2 gemist."})
}

async fn record(gw: &TestGateway, client: &str, body: &Value) -> (u16, Value) {
    let path = format!("/v1/clients/{client}/infractions");
    call(gw, AMAL, Method::POST, &path, Some(body)).await
}

fn infraction_path(client: &str, infraction: &Value) -> String {
    format!(
        "/v1/clients/{client}/infractions/{}",
        infraction["infractionId"].as_str().unwrap()
    )
}

fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

/// The (action, outcome, reason) of the audit records written after `skip`.
async fn audit_since(gw: &TestGateway, skip: usize) -> Vec<(String, String, Option<String>)> {
    gw.audit_rows()
        .await
        .into_iter()
        .skip(skip)
        .map(|r| (r.action, r.outcome, r.record.reason))
        .collect()
}

fn entry(action: &str, outcome: &str, reason: Option<&str>) -> (String, String, Option<String>) {
    (
        action.to_owned(),
        outcome.to_owned(),
        reason.map(str::to_owned),
    )
}

#[tokio::test]
async fn on_a_living_wage_the_infraction_goes_to_the_ocmw_which_records_its_bcsd_decision_once() {
    let gw = TestGateway::start().await;
    let client = joint_client(&gw, 1, true).await;
    let before = gw.audit_rows().await.len();

    let (status, recorded) = record(&gw, &client, &missed_course()).await;
    assert_eq!(status, 201, "{recorded}");
    assert_eq!(recorded["routedTo"], "ocmw");
    assert_eq!(recorded["kind"], "missedCourse");
    assert_eq!(recorded["article"], "SWO art. 8, 9");
    assert_eq!(recorded["recordedBy"], "amal");
    assert_eq!(recorded["decision"], Value::Null);
    let path = infraction_path(&client, &recorded);

    // The agency recorded it, but the OCMW holds the sanction authority: it alone decides.
    let warning = json!({"decision": "warning", "decidedOn": "2026-01-10"});
    let decision_path = format!("{path}/decision");
    let refused = send(
        &gw,
        AMAL,
        SANCTIONING,
        Method::POST,
        &decision_path,
        Some(&warning),
    )
    .await;
    problem(
        refused,
        403,
        "urn:problem-type:gateway:notSanctionAuthority",
    )
    .await;

    let (status, list) = call(
        &gw,
        GENT,
        Method::GET,
        &format!("/v1/clients/{client}/infractions"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    // An OCMW not linked to the client learns nothing, not even that the client exists.
    let (status, _) = call(&gw, EEKLO, Method::GET, &path, None).await;
    assert_eq!(status, 404);

    let suspension =
        json!({"decision": "suspension", "decidedOn": "2026-01-10", "note": "BCSD 2026-01-10"});
    let (status, decided) = call(&gw, GENT, Method::POST, &decision_path, Some(&suspension)).await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["decision"]["decision"], "suspension");
    assert_eq!(decided["decision"]["decidedBy"], "ocmw-gent");
    assert_eq!(decided["decision"]["note"], "BCSD 2026-01-10");
    // Replayed: a decision is recorded once.
    let again = send(
        &gw,
        GENT,
        SANCTIONING,
        Method::POST,
        &decision_path,
        Some(&suspension),
    )
    .await;
    problem(again, 409, "urn:problem-type:gateway:alreadyDecided").await;
    let (_, read) = call(&gw, AMAL, Method::GET, &path, None).await;
    assert_eq!(read["decision"]["decision"], "suspension");

    assert_eq!(
        audit_since(&gw, before).await,
        [
            entry("recordInfraction", "allowed", None),
            entry("decideInfraction", "denied", Some("infractionRule")),
            entry("listInfractions", "allowed", None),
            entry("readInfraction", "denied", Some("notFound")),
            entry("decideInfraction", "allowed", None),
            entry("decideInfraction", "denied", Some("infractionRule")),
            entry("readInfraction", "allowed", None),
        ]
    );

    // Both sides are told under the purpose sanctioning, with the infraction's id and no
    // content; under another purpose, and to an unlinked OCMW, nothing is told.
    for who in [GENT, AMAL] {
        let seen = feed_of(&gw, who, SANCTIONING).await;
        let recorded_events = of_type(&seen, "infractionRecorded");
        let decided_events = of_type(&seen, "infractionDecided");
        assert_eq!(recorded_events.len(), 1, "{seen:?}");
        assert_eq!(decided_events.len(), 1, "{seen:?}");
        assert_eq!(recorded_events[0]["subjectId"], recorded["infractionId"]);
        assert_eq!(recorded_events[0]["categories"], json!(["coordination"]));
        assert!(!recorded_events[0].to_string().contains("missedCourse"));
        assert!(of_type(&feed_of(&gw, who, CASE_WORK).await, "infractionRecorded").is_empty());
    }
    assert!(feed_of(&gw, EEKLO, SANCTIONING).await.is_empty());
}

#[tokio::test]
async fn without_a_living_wage_the_agency_sanctions_and_the_ocmw_sees_none_of_it() {
    let gw = TestGateway::start().await;
    let client = joint_client(&gw, 2, false).await;
    let (status, recorded) = record(&gw, &client, &missed_course()).await;
    assert_eq!(status, 201, "{recorded}");
    assert_eq!(recorded["routedTo"], "integrationAgency");
    let path = infraction_path(&client, &recorded);

    let (status, list) = call(
        &gw,
        GENT,
        Method::GET,
        &format!("/v1/clients/{client}/infractions"),
        None,
    )
    .await;
    assert_eq!((status, list["items"].clone()), (200, json!([])));
    let (status, _) = call(&gw, GENT, Method::GET, &path, None).await;
    assert_eq!(status, 404);
    let warning = json!({"decision": "warning", "decidedOn": "2026-01-06"});
    let decision_path = format!("{path}/decision");
    let (status, _) = call(&gw, GENT, Method::POST, &decision_path, Some(&warning)).await;
    assert_eq!(status, 404);

    // Only the OCMW suspends a living wage; the agency records its own decision.
    let suspension = json!({"decision": "suspension", "decidedOn": "2026-01-06"});
    let refused = send(
        &gw,
        AMAL,
        SANCTIONING,
        Method::POST,
        &decision_path,
        Some(&suspension),
    )
    .await;
    let body = problem(refused, 422, "urn:problem-type:gateway:infractionRule").await;
    assert_eq!(body["issues"][0]["in"], "body", "{body}");
    let (status, decided) = call(&gw, AMAL, Method::POST, &decision_path, Some(&warning)).await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["decision"]["decision"], "warning");

    assert!(of_type(&feed_of(&gw, GENT, SANCTIONING).await, "infractionRecorded").is_empty());
    assert_eq!(
        of_type(&feed_of(&gw, AMAL, SANCTIONING).await, "infractionDecided").len(),
        1
    );
}

#[tokio::test]
async fn bad_infractions_are_refused_on_record_and_change_nothing() {
    let gw = TestGateway::start().await;
    let client = joint_client(&gw, 3, true).await;
    let path = format!("/v1/clients/{client}/infractions");
    let before = gw.audit_rows().await.len();

    // Only the agency records; an OCMW is refused.
    let by_ocmw = send(
        &gw,
        GENT,
        SANCTIONING,
        Method::POST,
        &path,
        Some(&missed_course()),
    )
    .await;
    problem(
        by_ocmw,
        403,
        "urn:problem-type:gateway:notSanctionAuthority",
    )
    .await;
    // Not under another purpose.
    let wrong_purpose = send(
        &gw,
        AMAL,
        CASE_WORK,
        Method::POST,
        &path,
        Some(&missed_course()),
    )
    .await;
    assert_eq!(wrong_purpose.status(), 403);
    // Malformed and unknown values name their member.
    for (body, member) in [
        (
            json!({"kind": "speeding", "occurredOn": "2026-01-05"}),
            "/kind",
        ),
        (
            json!({"kind": "missedCourse", "occurredOn": "5 January"}),
            "/occurredOn",
        ),
    ] {
        let (status, problem_body) = record(&gw, &client, &body).await;
        assert_eq!(status, 400, "{problem_body}");
        assert_eq!(problem_body["issues"][0]["name"], member, "{problem_body}");
    }
    for (body, member) in [
        (
            json!({"kind": "missedCourse", "occurredOn": "2999-01-01"}),
            "/occurredOn",
        ),
        (
            json!({"kind": "other", "occurredOn": "2026-01-05"}),
            "/description",
        ),
        (
            json!({"kind": "missedCourse", "occurredOn": "2026-01-05", "description": "x".repeat(2001)}),
            "/description",
        ),
    ] {
        let (status, problem_body) = record(&gw, &client, &body).await;
        assert_eq!(status, 422, "{problem_body}");
        assert_eq!(problem_body["issues"][0]["name"], member, "{problem_body}");
    }
    let unknown_member = json!({"kind": "missedCourse", "occurredOn": "2026-01-05", "fine": 100});
    assert_eq!(record(&gw, &client, &unknown_member).await.0, 400);
    let not_json = gw
        .client(AMAL.0)
        .post(gw.url(&path))
        .bearer_auth(gw.token(AMAL.0, &["caseWorker"], AMAL.1))
        .header("Processing-Purpose", SANCTIONING)
        .header("Content-Type", "application/json")
        .body("{\"kind\":")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    let oversized = gw
        .client(AMAL.0)
        .post(gw.url(&path))
        .bearer_auth(gw.token(AMAL.0, &["caseWorker"], AMAL.1))
        .header("Processing-Purpose", SANCTIONING)
        .header("Content-Type", "application/json")
        .body(format!(
            "{{\"kind\":\"other\",\"occurredOn\":\"2026-01-05\",\"description\":\"{}\"}}",
            "x".repeat(70_000)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(oversized.status(), 413);
    let unauthenticated = gw
        .client(AMAL.0)
        .post(gw.url(&path))
        .header("Processing-Purpose", SANCTIONING)
        .json(&missed_course())
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
    let (status, _) = call(
        &gw,
        AMAL,
        Method::POST,
        "/v1/clients/not-an-id/infractions",
        Some(&missed_course()),
    )
    .await;
    assert_eq!(status, 400);

    // Nothing was recorded, and every refusal that reached the gateway's handlers is on record.
    let (_, list) = call(&gw, AMAL, Method::GET, &path, None).await;
    assert_eq!(list["items"], json!([]));
    let after = audit_since(&gw, before).await;
    let refusals = after.iter().filter(|(_, o, _)| o == "denied").count();
    assert_eq!(refusals, 10, "{after:?}");
    assert!(
        after
            .iter()
            .all(|(action, _, _)| action == "recordInfraction" || action == "listInfractions")
    );
}
