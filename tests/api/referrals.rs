//! Referrals (SWO art. 4 and the OCMW partner agreement): every transition legal and illegal,
//! a refusal only with a reason, OCMW-to-OCMW only with evidence, the receiver linked on
//! acceptance, seen by its two parties only, every step on record.

use crate::harness::{
    Caller, Endpoint, Session, TestGateway, announced, client_id, generated_ssin, per_user_rate,
    ssin,
};
use reqwest::Method;
use serde_json::{Value, json};

const GENT: &str = "ocmw-gent";
const AMAL: &str = "amal";
const EEKLO: &str = "ocmw-eeklo";

/// `party`'s case worker cw-1, working on referrals.
fn referrer(gw: &TestGateway, party: &str) -> Session {
    gw.session(&Caller::case_worker((party, "cw-1")).for_purpose("referral"))
}

/// Person `n`, registered by `party`'s case worker cw-1: (client id, SSIN).
async fn client_of(gw: &TestGateway, party: &str, n: u32) -> (String, String) {
    let ssin = generated_ssin(n);
    let registered = gw.case_worker((party, "cw-1")).register(&ssin).await;
    (client_id(registered).await, ssin)
}

async fn propose(from: &Session, client: &str, to: &str, evidence: Option<&str>) -> (u16, Value) {
    let mut body =
        json!({"clientId": client, "toParty": to, "reason": "Integration imposed in the GPMI."});
    if let Some(evidence) = evidence {
        body["evidenceReference"] = json!(evidence);
    }
    from.call(Method::POST, "/v1/referrals", Some(&body)).await
}

/// A move on the referral at `path`: its `decision`, `feedback`, `withdrawal` or `completion`.
async fn step(by: &Session, path: &str, step: &str, body: Option<Value>) -> (u16, Value) {
    by.call(Method::POST, &format!("{path}/{step}"), body.as_ref())
        .await
}

fn id(referral: &Value) -> String {
    referral["referralId"].as_str().unwrap().to_owned()
}

fn accept() -> Value {
    json!({"decision": "accept"})
}

/// A gateway in which Gent registered person `n` and proposed to refer them to Amal (201):
/// the gateway, Gent's and Amal's referrers, the client id, the referral and its path.
async fn proposed(n: u32) -> (TestGateway, Session, Session, String, Value, String) {
    let gw = TestGateway::start().await;
    let (gent, amal) = (referrer(&gw, GENT), referrer(&gw, AMAL));
    let (client, _) = client_of(&gw, GENT, n).await;
    let (status, referral) = propose(&gent, &client, AMAL, None).await;
    assert_eq!(status, 201, "{referral}");
    let path = format!("/v1/referrals/{}", id(&referral));
    (gw, gent, amal, client, referral, path)
}

#[tokio::test]
async fn an_ocmw_refers_to_the_agency_which_accepts_is_linked_gives_feedback_and_completes() {
    let (gw, gent, amal, client, referral, path) = proposed(1).await;
    let ssin = generated_ssin(1);
    assert_eq!(referral["direction"], "ocmwToAgency");
    assert_eq!(referral["status"], "proposed");

    // Before accepting, the agency is not linked: it cannot find the client.
    let agency_worker = gw.case_worker((AMAL, "cw-1"));
    assert_eq!(agency_worker.lookup(&ssin).await.status(), 404);
    let incoming = "/v1/referrals?direction=incoming";
    let (status, incoming) = amal.call(Method::GET, incoming, None).await;
    assert_eq!(status, 200);
    assert_eq!(incoming["items"][0]["referralId"], id(&referral).as_str());

    let (status, accepted) = step(&amal, &path, "decision", Some(accept())).await;
    assert_eq!(
        (status, accepted["status"].as_str()),
        (200, Some("accepted")),
        "{accepted}"
    );
    assert_eq!(
        agency_worker.lookup(&ssin).await.status(),
        200,
        "accepting linked the agency"
    );

    let feedback = json!({"message": "Intake planned; MO starts in March."});
    let (status, with_feedback) = step(&amal, &path, "feedback", Some(feedback)).await;
    assert_eq!(status, 200);
    assert_eq!(with_feedback["messages"][0]["kind"], "feedback");
    let (status, completed) = step(&amal, &path, "completion", None).await;
    assert_eq!(
        (status, completed["status"].as_str()),
        (200, Some("completed"))
    );

    // Final: no withdrawal, no second decision.
    let (status, body) = step(&gent, &path, "withdrawal", None).await;
    assert_eq!(status, 409);
    assert_eq!(body["type"], "urn:problem-type:gateway:illegalTransition");

    // Referral made: the OCMW no longer needs to refer (SWO art. 4).
    let gpmi = json!({"integrationInGpmi": true});
    let written = gw
        .case_worker((GENT, "cw-1"))
        .write_record(&client, gpmi)
        .await;
    assert_eq!(
        written.body["derived"]["referralToAgencyRequired"]["value"], false,
        "{}",
        written.body
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
    let (gw, gent, amal, client, _, path) = proposed(2).await;
    // The sender cannot decide, the receiver cannot withdraw, nobody completes a proposal.
    let (status, body) = step(&gent, &path, "decision", Some(accept())).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (403, Some("urn:problem-type:gateway:notYourTurn"))
    );
    assert_eq!(step(&amal, &path, "withdrawal", None).await.0, 403);
    assert_eq!(step(&amal, &path, "completion", None).await.0, 409);
    // A refusal needs a written reason.
    let unexplained = json!({"decision": "refuse"});
    let (status, body) = step(&amal, &path, "decision", Some(unexplained)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["issues"][0]["name"], "/reason");
    let blank = json!({"decision": "refuse", "reason": "   "});
    assert_eq!(step(&amal, &path, "decision", Some(blank)).await.0, 400);
    let refusal =
        json!({"decision": "refuse", "reason": "Already in a trajectory with another agency."});
    let (status, refused) = step(&amal, &path, "decision", Some(refusal)).await;
    assert_eq!((status, refused["status"].as_str()), (200, Some("refused")));
    assert_eq!(
        refused["messages"][0]["message"],
        "Already in a trajectory with another agency."
    );
    // Refused is final.
    assert_eq!(step(&amal, &path, "decision", Some(accept())).await.0, 409);
    let feedback = json!({"message": "ok"});
    assert_eq!(step(&gent, &path, "feedback", Some(feedback)).await.0, 409);

    // A proposal withdrawn by its sender is final too.
    let (_, second) = propose(&gent, &client, AMAL, None).await;
    let second = format!("/v1/referrals/{}", id(&second));
    let (status, withdrawn) = step(&gent, &second, "withdrawal", None).await;
    assert_eq!(
        (status, withdrawn["status"].as_str()),
        (200, Some("withdrawn"))
    );
    assert_eq!(
        step(&amal, &second, "decision", Some(accept())).await.0,
        409
    );
    gw.stop().await;
}

#[tokio::test]
async fn a_referral_between_ocmws_needs_the_national_register_extract_as_evidence() {
    let gw = TestGateway::start().await;
    let eeklo = referrer(&gw, EEKLO);
    let (client, _) = client_of(&gw, EEKLO, 3).await;
    let (status, body) = propose(&eeklo, &client, GENT, None).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["issues"][0]["name"], "/evidenceReference");
    let (status, body) = propose(&eeklo, &client, GENT, Some("RR-extract/2026-0042")).await;
    assert_eq!(
        (status, body["direction"].as_str()),
        (201, Some("ocmwToOcmw")),
        "{body}"
    );
    // No self-referral, no referral to KBI.
    assert_eq!(propose(&eeklo, &client, EEKLO, Some("RR-1")).await.0, 400);
    assert_eq!(propose(&eeklo, &client, "kbi", None).await.0, 400);
    gw.stop().await;
}

#[tokio::test]
async fn only_a_linked_party_refers_and_only_the_two_parties_see_the_referral() {
    let gw = TestGateway::start().await;
    let (gent, eeklo) = (referrer(&gw, GENT), referrer(&gw, EEKLO));
    let (client, _) = client_of(&gw, GENT, 4).await;
    // Eeklo is not linked to the client: as if it did not exist.
    let (status, _) = propose(&eeklo, &client, AMAL, Some("RR-1")).await;
    assert_eq!(status, 404);
    let (_, referral) = propose(&gent, &client, AMAL, None).await;
    let path = format!("/v1/referrals/{}", id(&referral));
    let (status, outsider) = eeklo.call(Method::GET, &path, None).await;
    let nobodys = format!("/v1/referrals/{}", uuid::Uuid::new_v4());
    let (_, unknown) = eeklo.call(Method::GET, &nobodys, None).await;
    assert_eq!(status, 404);
    assert_eq!(outsider, unknown);
    let incoming = "/v1/referrals?direction=incoming";
    let (_, listed) = eeklo.call(Method::GET, incoming, None).await;
    assert_eq!(listed["items"], json!([]));
    // The purpose is referral; the listing's parameters are checked.
    let wrong = gw.case_worker((GENT, "cw")).get(&path).await;
    assert_eq!(wrong.status(), 403);
    let sideways = "/v1/referrals?direction=sideways";
    assert_eq!(gent.call(Method::GET, sideways, None).await.0, 400);
    gw.stop().await;
}

#[tokio::test]
async fn each_step_of_a_referral_is_announced_to_its_two_sides_only_under_the_purpose_referral() {
    let (gw, _, amal, client, referral, path) = proposed(7).await;
    assert_eq!(step(&amal, &path, "decision", Some(accept())).await.0, 200);

    let announced = |party, purpose| announced(&gw, (party, "cw-1"), purpose, "referralChanged");
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

/// Reads `path` page after page through `next`; every item's referral id, in order.
async fn all_pages(by: &Session, path: &str, size: usize) -> (Vec<String>, usize) {
    let (mut ids, mut pages, mut after) = (Vec::new(), 0, None::<String>);
    loop {
        let url = match &after {
            Some(cursor) => format!("{path}&pageSize={size}&after={cursor}"),
            None => format!("{path}&pageSize={size}"),
        };
        let (status, page) = by.call(Method::GET, &url, None).await;
        assert_eq!(status, 200, "{page}");
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= size);
        ids.extend(items.iter().map(id));
        pages += 1;
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => return (ids, pages),
        }
    }
}

#[tokio::test]
async fn twelve_hundred_referrals_read_page_by_page_with_next_none_skipped_or_repeated() {
    let gw = TestGateway::start_with(per_user_rate(100_000, 100_000)).await;
    let gent = referrer(&gw, GENT);
    let mut sent = Vec::new();
    for n in 0..1200 {
        let client = gw.case_worker((GENT, "cw-1")).new_client(&ssin(n)).await;
        let (status, referral) = propose(&gent, &client, AMAL, None).await;
        assert_eq!(status, 201, "{referral}");
        sent.push(id(&referral));
    }
    let amal = referrer(&gw, AMAL);
    for (by, path) in [
        (&gent, "/v1/referrals?direction=outgoing"),
        (&amal, "/v1/referrals?direction=incoming"),
    ] {
        let (read, pages) = all_pages(by, path, 500).await;
        assert_eq!(pages, 3, "{path}");
        // Newest first, each exactly once.
        let mut expected = sent.clone();
        expected.reverse();
        assert_eq!(read, expected, "{path}");
    }
    // A cursor that is not one is named, not guessed at.
    let (status, problem) = gent
        .call(
            Method::GET,
            "/v1/referrals?direction=outgoing&after=yesterday",
            None,
        )
        .await;
    assert_eq!(status, 400, "{problem}");
    assert!(problem.to_string().contains("after"), "{problem}");
}
