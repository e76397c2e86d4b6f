//! The joint-client record, played through the agreement's stories (SWO art. 3, 4, 5, 6, 12,
//! 13): each party writes what it owns, reads what its purpose and the client's consent allow,
//! and the gateway derives who directs and who sanctions.

use crate::harness::{
    AMAL, Answer, EEKLO, Endpoint, GENT, TestGateway, give_consent, issue_names, problem,
    with_joint_client,
};
use serde_json::{Value, json};

/// The audit record of the request that got `answer`: its action, outcome, reason and fields.
async fn audited(
    gw: &TestGateway,
    answer: &Answer,
) -> (String, String, Option<String>, Vec<String>) {
    let row = gw.audit_of_request(&answer.trace).await;
    (
        row.action,
        row.outcome,
        row.record.reason,
        row.record.fields,
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
    let (gw, client, gent, amal) = with_joint_client(1).await;
    let written = gent
        .write_record(&client, json!({"integrationInGpmi": true}))
        .await;
    assert_eq!(written.status, 200, "{}", written.body);
    assert_eq!(written.body["changedFields"], json!(["integrationInGpmi"]));
    assert_eq!(derived(&written, "referralToAgencyRequired"), json!(true));
    assert_eq!(
        written.body["derived"]["referralToAgencyRequired"]["article"],
        "SWO art. 4"
    );
    let agency = amal.read_record(&client).await;
    assert_eq!(derived(&agency, "referralToAgencyRequired"), json!(true));
    assert_eq!(agency.body["fields"]["integrationInGpmi"], json!(true));
    let (action, outcome, _, fields) = audited(&gw, &written).await;
    assert_eq!(
        (action.as_str(), outcome.as_str()),
        ("updateClient", "allowed")
    );
    // The write is recorded with what it wrote and with what its answer disclosed.
    assert!(
        fields.contains(&"integrationInGpmi".to_owned()),
        "{fields:?}"
    );
    assert!(
        fields.contains(&"referralToAgencyRequired".to_owned()),
        "{fields:?}"
    );
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
    let (gw, client, gent, amal) = with_joint_client(2).await;
    let status = json!({"integrationStatus": "entitled", "nationalRegisterSince": "2019-03-01",
                        "integrationContractSignedOn": "2024-05-02"});
    assert_eq!(amal.write_record(&client, status).await.status, 200);
    // SWO art. 3: entitled + more than 12 months registered + living wage → OCMW directs;
    // art. 12: the OCMW sanctions joint clients on living wage.
    let living_wage = json!({"receivesLivingWage": true, "livingWageSince": "2024-01-15"});
    let granted = gent.write_record(&client, living_wage).await;
    assert_eq!(granted.status, 200, "{}", granted.body);
    assert_eq!(granted.body["significantChange"], json!(true));
    for (who, session) in [(GENT, &gent), (AMAL, &amal)] {
        let answer = session.read_record(&client).await;
        assert_eq!(derived(&answer, "direction"), json!("ocmw"), "{who:?}");
        assert_eq!(
            derived(&answer, "sanctionAuthority"),
            json!("ocmw"),
            "{who:?}"
        );
    }
    // SWO art. 13: when the living wage stops, both return to the agency — a significant change.
    let ended = json!({"receivesLivingWage": false, "livingWageEndedOn": "2026-10-31"});
    let stopped = gent.write_record(&client, ended).await;
    assert_eq!(stopped.status, 200, "{}", stopped.body);
    assert_eq!(stopped.body["significantChange"], json!(true));
    assert_eq!(derived(&stopped, "direction"), json!("integrationAgency"));
    assert_eq!(
        derived(&stopped, "sanctionAuthority"),
        json!("integrationAgency")
    );
    // An unrelated change is not significant.
    let unrelated = gent
        .write_record(&client, json!({"increasedAllowance": true}))
        .await;
    assert_eq!(unrelated.body["significantChange"], json!(false));
    gw.stop().await;
}

#[tokio::test]
async fn trajectory_progress_reaches_the_ocmw_only_while_the_client_consents_swo_art_5() {
    let (gw, client, gent, amal) = with_joint_client(3).await;
    let progress =
        json!({"integrationStatus": "obligated", "nt2Level": "A2", "nt2Status": "inProgress"});
    assert_eq!(amal.write_record(&client, progress).await.status, 200);

    // Without consent: withheld as consentMissing, no value anywhere in the answer.
    let before = gent.read_record(&client).await;
    assert!(
        withheld(&before).contains(&("trajectoryProgress".into(), "consentMissing".into())),
        "{}",
        before.body
    );
    assert!(before.body["fields"].get("nt2Level").is_none());
    assert!(!before.body.to_string().contains("A2"));
    assert_eq!(before.body["fields"]["integrationStatus"], "obligated");
    // The agency owns it and sees it.
    let owner = amal.read_record(&client).await;
    assert_eq!(owner.body["fields"]["nt2Level"], "A2");

    let consent_id = give_consent(&gw, &client).await;
    let with = gent.read_record(&client).await;
    assert_eq!(with.body["fields"]["nt2Level"], "A2", "{}", with.body);
    assert!(
        !withheld(&with)
            .iter()
            .any(|(c, _)| c == "trajectoryProgress")
    );

    // Withdrawn: hidden again on the very next read (GDPR art. 7(3)).
    let withdrawn = gent.withdraw_consent(&client, &consent_id).await;
    assert_eq!(withdrawn.status(), 200);
    let after = gent.read_record(&client).await;
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
    let (gw, client, gent, _) = with_joint_client(4).await;
    let before = gent.read_record(&client).await;
    let version = before.etag.as_deref();
    let patch = json!({"nt2Level": "B1", "direction": "ocmw", "favouriteColour": "blue", "receivesLivingWage": true});
    let refused = gent.patch_record(&client, version, &patch).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(
        refused.body["type"],
        "urn:problem-type:gateway:fieldNotOwned"
    );
    let mut named = issue_names(&refused.body);
    named.sort_unstable();
    assert_eq!(named, ["/direction", "/favouriteColour", "/nt2Level"]);
    let (action, outcome, reason, fields) = audited(&gw, &refused).await;
    assert_eq!(
        (action.as_str(), outcome.as_str()),
        ("updateClient", "denied")
    );
    assert_eq!(reason.as_deref(), Some("fieldNotOwned"));
    assert!(fields.is_empty(), "nothing was written");
    let after = gent.read_record(&client).await;
    assert_eq!(after.etag, before.etag, "nothing changed");
    assert_eq!(after.body["fields"]["receivesLivingWage"], Value::Null);

    let invalid = json!({"receivesLivingWage": "yes", "livingWageSince": "2024-02-30", "increasedAllowance": true});
    let refused = gent.patch_record(&client, version, &invalid).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    let mut named = issue_names(&refused.body);
    named.sort_unstable();
    assert_eq!(named, ["/livingWageSince", "/receivesLivingWage"]);
    assert!(!refused.body.to_string().contains("2024-02-30"));
    let (_, outcome, reason, _) = audited(&gw, &refused).await;
    assert_eq!(
        (outcome.as_str(), reason.as_deref()),
        ("denied", Some("invalidValue"))
    );
    assert_eq!(gent.read_record(&client).await.etag, before.etag);
    gw.stop().await;
}

#[tokio::test]
async fn writes_need_the_current_etag_and_of_two_concurrent_writes_one_wins() {
    let (gw, client, _, amal) = with_joint_client(5).await;
    let patch = json!({"worksOrStudies": true});
    let missing = amal.patch_record(&client, None, &patch).await;
    assert_eq!(missing.status, 428);
    assert_eq!(
        missing.body["type"],
        "urn:problem-type:gateway:preconditionRequired"
    );

    let current = amal.read_record(&client).await;
    let tag = current.etag.clone().unwrap();
    let (yes, no) = (
        json!({"worksOrStudies": true}),
        json!({"worksOrStudies": false}),
    );
    let (a, b) = tokio::join!(
        amal.patch_record(&client, Some(&tag), &yes),
        amal.patch_record(&client, Some(&tag), &no),
    );
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412], "{} {}", a.body, b.body);
    let loser = if a.status == 412 { &a } else { &b };
    assert_eq!(
        loser.body["type"],
        "urn:problem-type:gateway:preconditionFailed"
    );
    let stale = amal.patch_record(&client, Some(&tag), &patch).await;
    assert_eq!(stale.status, 412);
    let outcomes = gw.outcomes_of("updateClient").await;
    assert_eq!(
        outcomes.iter().filter(|o| *o == "denied").count(),
        3,
        "{outcomes:?}"
    );
    gw.stop().await;
}

#[tokio::test]
async fn a_party_that_is_not_linked_gets_the_same_answer_as_for_an_unknown_client() {
    let (gw, client, _, _) = with_joint_client(6).await;
    let eeklo = gw.case_worker(EEKLO);
    let unknown = uuid::Uuid::new_v4().to_string();
    let not_linked = eeklo.read_record(&client).await;
    let nobody = eeklo.read_record(&unknown).await;
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
    let not_linked = eeklo.patch_record(&client, Some("\"0\""), &patch).await;
    let nobody = eeklo.patch_record(&unknown, Some("\"0\""), &patch).await;
    assert_eq!((not_linked.status, nobody.status), (404, 404));
    assert_eq!(not_linked.body, nobody.body);
    let response = gw
        .case_worker(("ocmw-eeklo", "tester"))
        .get(&format!("/v1/clients/{client}"))
        .await;
    let body = problem(response, 404, "urn:problem-type:belgif:resourceNotFound").await;
    assert!(!body.to_string().contains(&client));
    gw.stop().await;
}
