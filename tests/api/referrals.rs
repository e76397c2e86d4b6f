//! Referrals (SWO art. 4 and the OCMW partner agreement): every transition legal and illegal,
//! a refusal only with a reason, OCMW-to-OCMW only with evidence, the receiver linked on
//! acceptance, seen by its two parties only, every step on record.

use crate::helpers::{TestGateway, feed_of, generated_ssin};
use reqwest::Method;
use serde_json::{Value, json};

const GENT: &str = "ocmw-gent";
const AMAL: &str = "amal";
const EEKLO: &str = "ocmw-eeklo";

async fn call(
    gw: &TestGateway,
    party: &str,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let response = gw
        .call_as(
            method,
            path,
            (party, &["caseWorker"][..], "cw-1"),
            "referral",
            body,
        )
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn client_of(gw: &TestGateway, party: &str, n: u32) -> (String, String) {
    let ssin = generated_ssin(n);
    let body: Value = gw
        .register(party, "cw-1", &ssin)
        .await
        .json()
        .await
        .unwrap();
    (body["clientId"].as_str().unwrap().to_owned(), ssin)
}

async fn propose(
    gw: &TestGateway,
    from: &str,
    client: &str,
    to: &str,
    evidence: Option<&str>,
) -> (u16, Value) {
    let mut body =
        json!({"clientId": client, "toParty": to, "reason": "Integration imposed in the GPMI."});
    if let Some(evidence) = evidence {
        body["evidenceReference"] = json!(evidence);
    }
    call(gw, from, Method::POST, "/v1/referrals", Some(&body)).await
}

fn id(referral: &Value) -> String {
    referral["referralId"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_ocmw_refers_to_the_agency_which_accepts_is_linked_gives_feedback_and_completes() {
    let gw = TestGateway::start().await;
    let (client, ssin) = client_of(&gw, GENT, 1).await;
    let (status, referral) = propose(&gw, GENT, &client, AMAL, None).await;
    assert_eq!(status, 201, "{referral}");
    assert_eq!(referral["direction"], "ocmwToAgency");
    assert_eq!(referral["status"], "proposed");
    let path = format!("/v1/referrals/{}", id(&referral));

    // Before accepting, the agency is not linked: it cannot find the client.
    assert_eq!(gw.lookup(AMAL, "cw-1", &ssin).await.status(), 404);
    let (status, incoming) = call(
        &gw,
        AMAL,
        Method::GET,
        "/v1/referrals?direction=incoming",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(incoming["items"][0]["referralId"], id(&referral).as_str());

    let (status, accepted) = call(
        &gw,
        AMAL,
        Method::POST,
        &format!("{path}/decision"),
        Some(&json!({"decision": "accept"})),
    )
    .await;
    assert_eq!(
        (status, accepted["status"].as_str()),
        (200, Some("accepted")),
        "{accepted}"
    );
    assert_eq!(
        gw.lookup(AMAL, "cw-1", &ssin).await.status(),
        200,
        "accepting linked the agency"
    );

    let feedback = json!({"message": "Intake planned; MO starts in March."});
    let (status, with_feedback) = call(
        &gw,
        AMAL,
        Method::POST,
        &format!("{path}/feedback"),
        Some(&feedback),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(with_feedback["messages"][0]["kind"], "feedback");
    let (status, completed) =
        call(&gw, AMAL, Method::POST, &format!("{path}/completion"), None).await;
    assert_eq!(
        (status, completed["status"].as_str()),
        (200, Some("completed"))
    );

    // Final: no withdrawal, no second decision.
    let (status, body) = call(&gw, GENT, Method::POST, &format!("{path}/withdrawal"), None).await;
    assert_eq!(status, 409);
    assert_eq!(body["type"], "urn:problem-type:gateway:illegalTransition");

    // Referral made: the OCMW no longer needs to refer (SWO art. 4).
    let patch_path = format!("/v1/clients/{client}");
    let read = gw.get_as(GENT, &patch_path, "trajectoryGuidance").await;
    let etag = read.headers()["etag"].to_str().unwrap().to_owned();
    let written = gw
        .client(GENT)
        .patch(gw.url(&patch_path))
        .bearer_auth(gw.token(GENT, &["caseWorker"], "cw-1"))
        .header("Processing-Purpose", "trajectoryGuidance")
        .header("If-Match", etag)
        .header("Content-Type", "application/merge-patch+json")
        .body(json!({"integrationInGpmi": true}).to_string())
        .send()
        .await
        .unwrap();
    let written: Value = written.json().await.unwrap();
    assert_eq!(
        written["derived"]["referralToAgencyRequired"]["value"], false,
        "{written}"
    );

    let actions: Vec<String> = gw
        .audit_rows()
        .await
        .into_iter()
        .filter(|r| r.client_id.as_deref() == Some(&client))
        .map(|r| r.action)
        .collect();
    for expected in [
        "listReferrals",
        "createReferral",
        "decideReferral",
        "addReferralFeedback",
        "completeReferral",
        "withdrawReferral",
    ] {
        assert!(
            actions.iter().any(|a| a == expected),
            "{expected} in {actions:?}"
        );
    }
    gw.stop().await;
}

#[tokio::test]
async fn every_move_is_checked_against_the_status_and_the_side_that_makes_it() {
    let gw = TestGateway::start().await;
    let (client, _) = client_of(&gw, GENT, 2).await;
    let (_, referral) = propose(&gw, GENT, &client, AMAL, None).await;
    let path = format!("/v1/referrals/{}", id(&referral));
    // The sender cannot decide, the receiver cannot withdraw, nobody completes a proposal.
    let (status, body) = call(
        &gw,
        GENT,
        Method::POST,
        &format!("{path}/decision"),
        Some(&json!({"decision": "accept"})),
    )
    .await;
    assert_eq!(
        (status, body["type"].as_str()),
        (403, Some("urn:problem-type:gateway:notYourTurn"))
    );
    let (status, _) = call(&gw, AMAL, Method::POST, &format!("{path}/withdrawal"), None).await;
    assert_eq!(status, 403);
    let (status, _) = call(&gw, AMAL, Method::POST, &format!("{path}/completion"), None).await;
    assert_eq!(status, 409);
    // A refusal needs a written reason.
    let (status, body) = call(
        &gw,
        AMAL,
        Method::POST,
        &format!("{path}/decision"),
        Some(&json!({"decision": "refuse"})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["issues"][0]["name"], "/reason");
    let (status, _) = call(
        &gw,
        AMAL,
        Method::POST,
        &format!("{path}/decision"),
        Some(&json!({"decision": "refuse", "reason": "   "})),
    )
    .await;
    assert_eq!(status, 400);
    let refusal =
        json!({"decision": "refuse", "reason": "Already in a trajectory with another agency."});
    let (status, refused) = call(
        &gw,
        AMAL,
        Method::POST,
        &format!("{path}/decision"),
        Some(&refusal),
    )
    .await;
    assert_eq!((status, refused["status"].as_str()), (200, Some("refused")));
    assert_eq!(
        refused["messages"][0]["message"],
        "Already in a trajectory with another agency."
    );
    // Refused is final.
    let (status, _) = call(
        &gw,
        AMAL,
        Method::POST,
        &format!("{path}/decision"),
        Some(&json!({"decision": "accept"})),
    )
    .await;
    assert_eq!(status, 409);
    let (status, _) = call(
        &gw,
        GENT,
        Method::POST,
        &format!("{path}/feedback"),
        Some(&json!({"message": "ok"})),
    )
    .await;
    assert_eq!(status, 409);

    // A proposal withdrawn by its sender is final too.
    let (_, second) = propose(&gw, GENT, &client, AMAL, None).await;
    let second = format!("/v1/referrals/{}", id(&second));
    let (status, withdrawn) = call(
        &gw,
        GENT,
        Method::POST,
        &format!("{second}/withdrawal"),
        None,
    )
    .await;
    assert_eq!(
        (status, withdrawn["status"].as_str()),
        (200, Some("withdrawn"))
    );
    let (status, _) = call(
        &gw,
        AMAL,
        Method::POST,
        &format!("{second}/decision"),
        Some(&json!({"decision": "accept"})),
    )
    .await;
    assert_eq!(status, 409);
    gw.stop().await;
}

#[tokio::test]
async fn a_referral_between_ocmws_needs_the_national_register_extract_as_evidence() {
    let gw = TestGateway::start().await;
    let (client, _) = client_of(&gw, EEKLO, 3).await;
    let (status, body) = propose(&gw, EEKLO, &client, GENT, None).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["issues"][0]["name"], "/evidenceReference");
    let (status, body) = propose(&gw, EEKLO, &client, GENT, Some("RR-extract/2026-0042")).await;
    assert_eq!(
        (status, body["direction"].as_str()),
        (201, Some("ocmwToOcmw")),
        "{body}"
    );
    // No self-referral, no referral to KBI.
    assert_eq!(
        propose(&gw, EEKLO, &client, EEKLO, Some("RR-1")).await.0,
        400
    );
    assert_eq!(propose(&gw, EEKLO, &client, "kbi", None).await.0, 400);
    gw.stop().await;
}

#[tokio::test]
async fn only_a_linked_party_refers_and_only_the_two_parties_see_the_referral() {
    let gw = TestGateway::start().await;
    let (client, _) = client_of(&gw, GENT, 4).await;
    // Eeklo is not linked to the client: as if it did not exist.
    let (status, _) = propose(&gw, EEKLO, &client, AMAL, Some("RR-1")).await;
    assert_eq!(status, 404);
    let (_, referral) = propose(&gw, GENT, &client, AMAL, None).await;
    let path = format!("/v1/referrals/{}", id(&referral));
    let (status, outsider) = call(&gw, EEKLO, Method::GET, &path, None).await;
    let (_, unknown) = call(
        &gw,
        EEKLO,
        Method::GET,
        &format!("/v1/referrals/{}", uuid::Uuid::new_v4()),
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(outsider, unknown);
    let (_, listed) = call(
        &gw,
        EEKLO,
        Method::GET,
        "/v1/referrals?direction=incoming",
        None,
    )
    .await;
    assert_eq!(listed["items"], json!([]));
    // The purpose is referral; the listing's parameters are checked.
    let wrong = gw
        .call_as(
            Method::GET,
            &path,
            (GENT, &["caseWorker"][..], "cw"),
            "trajectoryGuidance",
            None,
        )
        .await;
    assert_eq!(wrong.status(), 403);
    let (status, _) = call(
        &gw,
        GENT,
        Method::GET,
        "/v1/referrals?direction=sideways",
        None,
    )
    .await;
    assert_eq!(status, 400);
    gw.stop().await;
}

#[tokio::test]
async fn each_step_of_a_referral_is_announced_to_its_two_sides_only_under_the_purpose_referral() {
    let gw = TestGateway::start().await;
    let (client, _) = client_of(&gw, GENT, 7).await;
    let (status, referral) = propose(&gw, GENT, &client, AMAL, None).await;
    assert_eq!(status, 201);
    let path = format!("/v1/referrals/{}", id(&referral));
    let accept = json!({"decision": "accept"});
    let (status, _) = call(
        &gw,
        AMAL,
        Method::POST,
        &format!("{path}/decision"),
        Some(&accept),
    )
    .await;
    assert_eq!(status, 200);

    let announced = |party: &'static str, purpose: &'static str| {
        let gw = &gw;
        async move {
            feed_of(gw, (party, "cw-1"), purpose)
                .await
                .into_iter()
                .filter(|e| e["type"] == "referralChanged")
                .collect::<Vec<_>>()
        }
    };
    // The receiver hears of the proposal before it is linked, then of its own acceptance.
    for party in [GENT, AMAL] {
        let seen = announced(party, "referral").await;
        assert_eq!(seen.len(), 2, "{party}: {seen:?}");
        assert!(
            seen.iter()
                .all(|e| e["subjectId"] == referral["referralId"])
        );
        assert!(seen.iter().all(|e| e["clientId"] == client.as_str()));
        assert!(seen.iter().all(|e| e["categories"] == json!([])));
        assert!(
            !seen[0].to_string().contains("GPMI"),
            "no content, only the notice"
        );
        assert!(announced(party, "trajectoryGuidance").await.is_empty());
    }
    assert!(announced(EEKLO, "referral").await.is_empty());
}
