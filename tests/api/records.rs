//! The joint-client record, played through the agreement's stories (SWO art. 3, 4, 5, 6, 12,
//! 13): each party writes what it owns, reads what its purpose and the client's consent allow,
//! and the gateway derives who directs and who sanctions.

use crate::helpers::{AuditRow, CASE_WORK, TestGateway, generated_ssin, problem};
use reqwest::Method;
use serde_json::{Value, json};

const GENT: (&str, &str) = ("ocmw-gent", "sw-1");
const AMAL: (&str, &str) = ("amal", "tb-1");
const EEKLO: (&str, &str) = ("ocmw-eeklo", "sw-9");

struct Answer {
    status: u16,
    etag: Option<String>,
    trace: String,
    body: Value,
}

async fn send(
    gw: &TestGateway,
    who: (&str, &str),
    method: Method,
    path: &str,
    if_match: Option<&str>,
    body: Option<&Value>,
) -> Answer {
    let mut request = gw
        .client(who.0)
        .request(method, gw.url(path))
        .bearer_auth(gw.token(who.0, &["caseWorker"], who.1))
        .header("Processing-Purpose", CASE_WORK);
    if let Some(tag) = if_match {
        request = request.header("If-Match", tag);
    }
    if let Some(body) = body {
        request = request
            .header("Content-Type", "application/merge-patch+json")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let etag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned());
    let trace = crate::helpers::trace_id(&response);
    let body = response.json().await.unwrap_or(Value::Null);
    Answer {
        status,
        etag,
        trace,
        body,
    }
}

/// A client of both OCMW Gent and Amal.
async fn joint_client(gw: &TestGateway, n: u32) -> String {
    let ssin = generated_ssin(n);
    let mut id = String::new();
    for who in [GENT, AMAL] {
        let response = gw.register(who.0, who.1, &ssin).await;
        assert!(response.status().is_success());
        id = response.json::<Value>().await.unwrap()["clientId"]
            .as_str()
            .unwrap()
            .to_owned();
    }
    id
}

async fn read(gw: &TestGateway, who: (&str, &str), client: &str) -> Answer {
    send(
        gw,
        who,
        Method::GET,
        &format!("/v1/clients/{client}"),
        None,
        None,
    )
    .await
}

/// Reads, then patches against the version read.
async fn write(gw: &TestGateway, who: (&str, &str), client: &str, patch: Value) -> Answer {
    let current = read(gw, who, client).await;
    assert_eq!(current.status, 200, "{}", current.body);
    let path = format!("/v1/clients/{client}");
    send(
        gw,
        who,
        Method::PATCH,
        &path,
        current.etag.as_deref(),
        Some(&patch),
    )
    .await
}

/// The audit record of the request that got `answer`: its action, outcome, reason and fields.
async fn audited(
    gw: &TestGateway,
    answer: &Answer,
) -> (String, String, Option<String>, Vec<String>) {
    let rows: Vec<AuditRow> = gw.audit_rows().await;
    let row = rows
        .iter()
        .find(|r| r.request_id == answer.trace)
        .unwrap_or_else(|| panic!("no audit record for {}", answer.trace));
    assert_eq!(
        rows.iter().filter(|r| r.request_id == answer.trace).count(),
        1
    );
    (
        row.action.clone(),
        row.outcome.clone(),
        row.record.reason.clone(),
        row.record.fields.clone(),
    )
}

fn derived(answer: &Answer, field: &str) -> Value {
    answer.body["derived"][field]["value"].clone()
}

fn withheld(answer: &Answer) -> Vec<(String, String)> {
    answer.body["withheld"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["category"].as_str().unwrap().to_owned(),
                w["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn integration_imposed_in_the_gpmi_requires_a_referral_to_the_agency_swo_art_4() {
    let gw = TestGateway::start().await;
    let client = joint_client(&gw, 1).await;
    let written = write(&gw, GENT, &client, json!({"integrationInGpmi": true})).await;
    assert_eq!(written.status, 200, "{}", written.body);
    assert_eq!(written.body["changedFields"], json!(["integrationInGpmi"]));
    assert_eq!(derived(&written, "referralToAgencyRequired"), json!(true));
    assert_eq!(
        written.body["derived"]["referralToAgencyRequired"]["article"],
        "SWO art. 4"
    );
    let agency = read(&gw, AMAL, &client).await;
    assert_eq!(derived(&agency, "referralToAgencyRequired"), json!(true));
    assert_eq!(agency.body["fields"]["integrationInGpmi"], json!(true));
    let (action, outcome, _, fields) = audited(&gw, &written).await;
    assert_eq!(
        (action.as_str(), outcome.as_str()),
        ("updateClient", "allowed")
    );
    assert_eq!(fields, ["integrationInGpmi"]);
    let (action, _, _, fields) = audited(&gw, &agency).await;
    assert_eq!(action, "readClient");
    assert!(
        fields.contains(&"referralToAgencyRequired".to_owned())
            && fields.contains(&"integrationInGpmi".to_owned())
    );
    gw.stop().await;
}

#[tokio::test]
async fn an_entitled_oldcomer_on_living_wage_is_directed_and_sanctioned_by_the_ocmw_until_it_stops()
{
    let gw = TestGateway::start().await;
    let client = joint_client(&gw, 2).await;
    let status = json!({"integrationStatus": "entitled", "nationalRegisterSince": "2019-03-01",
                        "integrationContractSignedOn": "2024-05-02"});
    assert_eq!(write(&gw, AMAL, &client, status).await.status, 200);
    // SWO art. 3: entitled + more than 12 months registered + living wage → OCMW directs;
    // art. 12: the OCMW sanctions joint clients on living wage.
    let granted = write(
        &gw,
        GENT,
        &client,
        json!({"receivesLivingWage": true, "livingWageSince": "2024-01-15"}),
    )
    .await;
    assert_eq!(granted.status, 200, "{}", granted.body);
    assert_eq!(granted.body["significantChange"], json!(true));
    for who in [GENT, AMAL] {
        let answer = read(&gw, who, &client).await;
        assert_eq!(derived(&answer, "direction"), json!("ocmw"), "{who:?}");
        assert_eq!(
            derived(&answer, "sanctionAuthority"),
            json!("ocmw"),
            "{who:?}"
        );
    }
    // SWO art. 13: when the living wage stops, both return to the agency — a significant change.
    let stopped = write(
        &gw,
        GENT,
        &client,
        json!({"receivesLivingWage": false, "livingWageEndedOn": "2026-10-31"}),
    )
    .await;
    assert_eq!(stopped.status, 200, "{}", stopped.body);
    assert_eq!(stopped.body["significantChange"], json!(true));
    assert_eq!(derived(&stopped, "direction"), json!("integrationAgency"));
    assert_eq!(
        derived(&stopped, "sanctionAuthority"),
        json!("integrationAgency")
    );
    // An unrelated change is not significant.
    let unrelated = write(&gw, GENT, &client, json!({"increasedAllowance": true})).await;
    assert_eq!(unrelated.body["significantChange"], json!(false));
    gw.stop().await;
}

#[tokio::test]
async fn trajectory_progress_reaches_the_ocmw_only_while_the_client_consents_swo_art_5() {
    let gw = TestGateway::start().await;
    let client = joint_client(&gw, 3).await;
    let progress =
        json!({"integrationStatus": "obligated", "nt2Level": "A2", "nt2Status": "inProgress"});
    assert_eq!(write(&gw, AMAL, &client, progress).await.status, 200);

    // Without consent: withheld as consentMissing, no value anywhere in the answer.
    let before = read(&gw, GENT, &client).await;
    assert!(
        withheld(&before).contains(&("trajectoryProgress".into(), "consentMissing".into())),
        "{}",
        before.body
    );
    assert!(before.body["fields"].get("nt2Level").is_none());
    assert!(!before.body.to_string().contains("A2"));
    assert_eq!(before.body["fields"]["integrationStatus"], "obligated");
    // The agency owns it and sees it.
    let owner = read(&gw, AMAL, &client).await;
    assert_eq!(owner.body["fields"]["nt2Level"], "A2");

    let consents = format!("/v1/clients/{client}/consents");
    let consent = json!({"recipientParty": "ocmw-gent", "purpose": CASE_WORK, "categories": ["trajectoryProgress"],
        "legalTextVersion": "amal-2026-01", "language": "nl", "evidenceReference": "form-7", "validFrom": "2020-01-01"});
    let given = gw
        .call_as(
            Method::POST,
            &consents,
            (AMAL.0, &["caseWorker"], AMAL.1),
            CASE_WORK,
            Some(&consent),
        )
        .await;
    assert_eq!(given.status(), 201);
    let consent_id = given.json::<Value>().await.unwrap()["consentId"]
        .as_str()
        .unwrap()
        .to_owned();
    let with = read(&gw, GENT, &client).await;
    assert_eq!(with.body["fields"]["nt2Level"], "A2", "{}", with.body);
    assert!(
        !withheld(&with)
            .iter()
            .any(|(c, _)| c == "trajectoryProgress")
    );

    // Withdrawn: hidden again on the very next read (GDPR art. 7(3)).
    let withdrawal = format!("{consents}/{consent_id}/withdrawal");
    let withdrawn = gw
        .call_as(
            Method::POST,
            &withdrawal,
            (GENT.0, &["caseWorker"], GENT.1),
            CASE_WORK,
            None,
        )
        .await;
    assert_eq!(withdrawn.status(), 200);
    let after = read(&gw, GENT, &client).await;
    assert!(after.body["fields"].get("nt2Level").is_none());
    assert!(withheld(&after).contains(&("trajectoryProgress".into(), "consentMissing".into())));

    // The reads are on record with the field names read, never values.
    let rows = gw.audit_rows().await;
    let reads: Vec<_> = rows
        .iter()
        .filter(|r| r.action == "readClient" && r.party_id == "ocmw-gent")
        .collect();
    let by_trace = |trace: &str| {
        reads
            .iter()
            .find(|r| r.request_id == trace)
            .unwrap()
            .record
            .fields
            .clone()
    };
    assert!(!by_trace(&before.trace).contains(&"nt2Level".to_owned()));
    assert!(by_trace(&with.trace).contains(&"nt2Level".to_owned()));
    assert!(!by_trace(&after.trace).contains(&"nt2Level".to_owned()));
    gw.stop().await;
}

#[tokio::test]
async fn the_ocmw_cannot_write_the_agencys_fields_derived_fields_or_unknown_ones_and_nothing_changes()
 {
    let gw = TestGateway::start().await;
    let client = joint_client(&gw, 4).await;
    let before = read(&gw, GENT, &client).await;
    let path = format!("/v1/clients/{client}");
    let patch = json!({"nt2Level": "B1", "direction": "ocmw", "favouriteColour": "blue", "receivesLivingWage": true});
    let refused = send(
        &gw,
        GENT,
        Method::PATCH,
        &path,
        before.etag.as_deref(),
        Some(&patch),
    )
    .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(
        refused.body["type"],
        "urn:problem-type:gateway:fieldNotOwned"
    );
    let mut named: Vec<&str> = refused.body["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    named.sort_unstable();
    assert_eq!(named, ["/direction", "/favouriteColour", "/nt2Level"]);
    let (action, outcome, reason, fields) = audited(&gw, &refused).await;
    assert_eq!(
        (action.as_str(), outcome.as_str()),
        ("updateClient", "denied")
    );
    assert_eq!(reason.as_deref(), Some("fieldNotOwned"));
    assert!(fields.is_empty(), "nothing was written");
    let after = read(&gw, GENT, &client).await;
    assert_eq!(after.etag, before.etag, "nothing changed");
    assert_eq!(after.body["fields"]["receivesLivingWage"], Value::Null);

    let invalid = json!({"receivesLivingWage": "yes", "livingWageSince": "2024-02-30", "increasedAllowance": true});
    let refused = send(
        &gw,
        GENT,
        Method::PATCH,
        &path,
        before.etag.as_deref(),
        Some(&invalid),
    )
    .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    let mut named: Vec<&str> = refused.body["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    named.sort_unstable();
    assert_eq!(named, ["/livingWageSince", "/receivesLivingWage"]);
    assert!(!refused.body.to_string().contains("2024-02-30"));
    let (_, outcome, reason, _) = audited(&gw, &refused).await;
    assert_eq!(
        (outcome.as_str(), reason.as_deref()),
        ("denied", Some("invalidValue"))
    );
    assert_eq!(read(&gw, GENT, &client).await.etag, before.etag);
    gw.stop().await;
}

#[tokio::test]
async fn writes_need_the_current_etag_and_of_two_concurrent_writes_one_wins() {
    let gw = TestGateway::start().await;
    let client = joint_client(&gw, 5).await;
    let path = format!("/v1/clients/{client}");
    let patch = json!({"worksOrStudies": true});
    let missing = send(&gw, AMAL, Method::PATCH, &path, None, Some(&patch)).await;
    assert_eq!(missing.status, 428);
    assert_eq!(
        missing.body["type"],
        "urn:problem-type:gateway:preconditionRequired"
    );

    let current = read(&gw, AMAL, &client).await;
    let tag = current.etag.clone().unwrap();
    let (yes, no) = (
        json!({"worksOrStudies": true}),
        json!({"worksOrStudies": false}),
    );
    let (a, b) = tokio::join!(
        send(&gw, AMAL, Method::PATCH, &path, Some(&tag), Some(&yes)),
        send(&gw, AMAL, Method::PATCH, &path, Some(&tag), Some(&no)),
    );
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412], "{} {}", a.body, b.body);
    let loser = if a.status == 412 { &a } else { &b };
    assert_eq!(
        loser.body["type"],
        "urn:problem-type:gateway:preconditionFailed"
    );
    let stale = send(&gw, AMAL, Method::PATCH, &path, Some(&tag), Some(&patch)).await;
    assert_eq!(stale.status, 412);
    let outcomes: Vec<_> = gw
        .audit_rows()
        .await
        .into_iter()
        .filter(|r| r.action == "updateClient")
        .map(|r| r.outcome)
        .collect();
    assert_eq!(
        outcomes.iter().filter(|o| *o == "denied").count(),
        3,
        "{outcomes:?}"
    );
    gw.stop().await;
}

#[tokio::test]
async fn a_party_that_is_not_linked_gets_the_same_answer_as_for_an_unknown_client() {
    let gw = TestGateway::start().await;
    let client = joint_client(&gw, 6).await;
    let unknown = uuid::Uuid::new_v4().to_string();
    let not_linked = read(&gw, EEKLO, &client).await;
    let nobody = read(&gw, EEKLO, &unknown).await;
    assert_eq!((not_linked.status, nobody.status), (404, 404));
    assert_eq!(not_linked.body, nobody.body);
    for answer in [&not_linked, &nobody] {
        let (action, outcome, reason, fields) = audited(&gw, answer).await;
        assert_eq!(
            (action.as_str(), outcome.as_str()),
            ("readClient", "denied")
        );
        assert_eq!(reason.as_deref(), Some("notFound"));
        assert!(fields.is_empty());
    }
    let patch = json!({"receivesLivingWage": true});
    let not_linked = send(
        &gw,
        EEKLO,
        Method::PATCH,
        &format!("/v1/clients/{client}"),
        Some("\"0\""),
        Some(&patch),
    )
    .await;
    let nobody = send(
        &gw,
        EEKLO,
        Method::PATCH,
        &format!("/v1/clients/{unknown}"),
        Some("\"0\""),
        Some(&patch),
    )
    .await;
    assert_eq!((not_linked.status, nobody.status), (404, 404));
    assert_eq!(not_linked.body, nobody.body);
    let body = problem(
        gw.get_as("ocmw-eeklo", &format!("/v1/clients/{client}"), CASE_WORK)
            .await,
        404,
        "urn:problem-type:belgif:resourceNotFound",
    )
    .await;
    assert!(!body.to_string().contains(&client));
    gw.stop().await;
}
