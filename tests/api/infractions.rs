//! Infractions (SWO art. 12): recorded by the agency, routed to the sanction authority of the
//! moment, decided once by the party it was routed to, seen by the agency and that party only,
//! announced on the feed under the purpose sanctioning, every step on record.

use crate::harness::{
    AMAL, CASE_WORK, Caller, EEKLO, Endpoint, GENT, JSON, Session, TestGateway, announced,
    joint_client, problem, summary,
};
use reqwest::Method;
use serde_json::{Value, json};

const SANCTIONING: &str = "sanctioning";
const NOT_SANCTION_AUTHORITY: &str = "urn:problem-type:gateway:notSanctionAuthority";

/// `who` working on sanctions.
fn sanctioner(gw: &TestGateway, who: (&str, &str)) -> Session {
    gw.session(&Caller::case_worker(who).for_purpose(SANCTIONING))
}

/// A joint client of Gent and Amal (person `n`); on a living wage when `living_wage` (Gent
/// writes it).
async fn client_on(gw: &TestGateway, n: u32, living_wage: bool) -> String {
    let client = joint_client(gw, n).await;
    let patch = json!({"receivesLivingWage": living_wage});
    gw.case_worker(GENT).write_record(&client, patch).await;
    client
}

fn missed_course() -> Value {
    json!({"kind": "missedCourse", "occurredOn": "2026-01-05", "description": "Drie lessen NT2 gemist."})
}

/// Amal records an infraction about `client`.
async fn record(gw: &TestGateway, client: &str, body: &Value) -> (u16, Value) {
    let path = format!("/v1/clients/{client}/infractions");
    sanctioner(gw, AMAL)
        .call(Method::POST, &path, Some(body))
        .await
}

fn infraction_path(client: &str, infraction: &Value) -> String {
    format!(
        "/v1/clients/{client}/infractions/{}",
        infraction["infractionId"].as_str().unwrap()
    )
}

#[tokio::test]
async fn on_a_living_wage_the_infraction_goes_to_the_ocmw_which_records_its_bcsd_decision_once() {
    let gw = TestGateway::start().await;
    let (gent, amal) = (sanctioner(&gw, GENT), sanctioner(&gw, AMAL));
    let client = client_on(&gw, 1, true).await;
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
    let refused = amal.post(&decision_path, &warning).await;
    problem(refused, 403, NOT_SANCTION_AUTHORITY).await;

    let infractions = format!("/v1/clients/{client}/infractions");
    let (status, list) = gent.call(Method::GET, &infractions, None).await;
    assert_eq!(status, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    // An OCMW not linked to the client learns nothing, not even that the client exists.
    let (status, _) = sanctioner(&gw, EEKLO).call(Method::GET, &path, None).await;
    assert_eq!(status, 404);

    let suspension =
        json!({"decision": "suspension", "decidedOn": "2026-01-10", "note": "BCSD 2026-01-10"});
    let (status, decided) = gent
        .call(Method::POST, &decision_path, Some(&suspension))
        .await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["decision"]["decision"], "suspension");
    assert_eq!(decided["decision"]["decidedBy"], "ocmw-gent");
    assert_eq!(decided["decision"]["note"], "BCSD 2026-01-10");
    // Replayed: a decision is recorded once.
    let again = gent.post(&decision_path, &suspension).await;
    problem(again, 409, "urn:problem-type:gateway:alreadyDecided").await;
    let (_, read) = amal.call(Method::GET, &path, None).await;
    assert_eq!(read["decision"]["decision"], "suspension");

    assert_eq!(
        gw.audit_since(before).await,
        [
            summary("recordInfraction", "allowed", None),
            summary("decideInfraction", "denied", Some("infractionRule")),
            summary("listInfractions", "allowed", None),
            summary("readInfraction", "denied", Some("notFound")),
            summary("decideInfraction", "allowed", None),
            summary("decideInfraction", "denied", Some("infractionRule")),
            summary("readInfraction", "allowed", None),
        ]
    );

    // Both sides are told under the purpose sanctioning, with the infraction's id and no
    // content; under another purpose, and to an unlinked OCMW, nothing is told.
    for who in [GENT, AMAL] {
        let recorded_events = announced(&gw, who, SANCTIONING, "infractionRecorded").await;
        let decided_events = announced(&gw, who, SANCTIONING, "infractionDecided").await;
        assert_eq!(recorded_events.len(), 1, "{recorded_events:?}");
        assert_eq!(decided_events.len(), 1, "{decided_events:?}");
        assert_eq!(recorded_events[0]["subjectId"], recorded["infractionId"]);
        assert_eq!(recorded_events[0]["categories"], json!(["coordination"]));
        assert!(!recorded_events[0].to_string().contains("missedCourse"));
        assert!(
            announced(&gw, who, CASE_WORK, "infractionRecorded")
                .await
                .is_empty()
        );
    }
    let eeklo = gw.session(&Caller::case_worker(EEKLO).for_purpose(SANCTIONING));
    assert!(eeklo.events().await.is_empty());
}

#[tokio::test]
async fn without_a_living_wage_the_agency_sanctions_and_the_ocmw_sees_none_of_it() {
    let gw = TestGateway::start().await;
    let (gent, amal) = (sanctioner(&gw, GENT), sanctioner(&gw, AMAL));
    let client = client_on(&gw, 2, false).await;
    let (status, recorded) = record(&gw, &client, &missed_course()).await;
    assert_eq!(status, 201, "{recorded}");
    assert_eq!(recorded["routedTo"], "integrationAgency");
    let path = infraction_path(&client, &recorded);

    let infractions = format!("/v1/clients/{client}/infractions");
    let (status, list) = gent.call(Method::GET, &infractions, None).await;
    assert_eq!((status, list["items"].clone()), (200, json!([])));
    let (status, _) = gent.call(Method::GET, &path, None).await;
    assert_eq!(status, 404);
    let warning = json!({"decision": "warning", "decidedOn": "2026-01-06"});
    let decision_path = format!("{path}/decision");
    let (status, _) = gent
        .call(Method::POST, &decision_path, Some(&warning))
        .await;
    assert_eq!(status, 404);

    // Only the OCMW suspends a living wage; the agency records its own decision.
    let suspension = json!({"decision": "suspension", "decidedOn": "2026-01-06"});
    let refused = amal.post(&decision_path, &suspension).await;
    let body = problem(refused, 422, "urn:problem-type:gateway:infractionRule").await;
    assert_eq!(body["issues"][0]["in"], "body", "{body}");
    let (status, decided) = amal
        .call(Method::POST, &decision_path, Some(&warning))
        .await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["decision"]["decision"], "warning");

    assert!(
        announced(&gw, GENT, SANCTIONING, "infractionRecorded")
            .await
            .is_empty()
    );
    let decided = announced(&gw, AMAL, SANCTIONING, "infractionDecided").await;
    assert_eq!(decided.len(), 1);
}

#[tokio::test]
async fn bad_infractions_are_refused_on_record_and_change_nothing() {
    let gw = TestGateway::start().await;
    let amal = sanctioner(&gw, AMAL);
    let client = client_on(&gw, 3, true).await;
    let path = format!("/v1/clients/{client}/infractions");
    let before = gw.audit_rows().await.len();

    // Only the agency records; an OCMW is refused.
    let by_ocmw = sanctioner(&gw, GENT).post(&path, &missed_course()).await;
    problem(by_ocmw, 403, NOT_SANCTION_AUTHORITY).await;
    // Not under another purpose.
    let wrong_purpose = gw.case_worker(AMAL).post(&path, &missed_course()).await;
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
    let not_json = amal.post_raw(&path, JSON, "{\"kind\":").await;
    assert_eq!(not_json.status(), 400);
    let long = format!(
        "{{\"kind\":\"other\",\"occurredOn\":\"2026-01-05\",\"description\":\"{}\"}}",
        "x".repeat(70_000)
    );
    let oversized = amal.post_raw(&path, JSON, long).await;
    assert_eq!(oversized.status(), 413);
    let anonymous = Caller::case_worker(AMAL)
        .for_purpose(SANCTIONING)
        .without_token();
    let unauthenticated = gw.session(&anonymous).post(&path, &missed_course()).await;
    assert_eq!(unauthenticated.status(), 401);
    let not_an_id = "/v1/clients/not-an-id/infractions";
    let (status, _) = amal
        .call(Method::POST, not_an_id, Some(&missed_course()))
        .await;
    assert_eq!(status, 400);

    // Nothing was recorded, and every refusal that reached the gateway's handlers is on record.
    let (_, list) = amal.call(Method::GET, &path, None).await;
    assert_eq!(list["items"], json!([]));
    let after = gw.audit_since(before).await;
    let refusals = after.iter().filter(|(_, o, _)| o == "denied").count();
    // Ten refused by the handlers, one (no token) at the door.
    assert_eq!(refusals, 11, "{after:?}");
    assert!(
        after
            .iter()
            .all(|(action, _, _)| action == "recordInfraction"
                || action == "listInfractions"
                || action == "authenticate")
    );
}
