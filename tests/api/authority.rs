//! Authority by party, not by kind (issue 13), on the development profile's three OCMWs: Gent
//! competent for the client, Eeklo involved, Geraardsbergen unrelated, Amal competent for the
//! trajectory. Each attack of the issue is tried as an attacker would and must be refused, in
//! the answer and in the refusal's audit record.

use crate::harness::{
    AMAL, Answer, AuditRow, CASE_WORK, Caller, EEKLO, Endpoint, GENT, Session, TestGateway,
    generated_ssin, issue_names, registration, summary,
};
use reqwest::Method;
use serde_json::{Value, json};

pub const GERAARDSBERGEN: (&str, &str) = ("ocmw-geraardsbergen", "sw-3");
const FIELD_NOT_OWNED: &str = "urn:problem-type:gateway:fieldNotOwned";

/// A gateway and person `n`, a client of Gent (competent, on a living wage) and Amal
/// (competent for the trajectory), with Eeklo linked as involved; Geraardsbergen has nothing
/// to do with the client. The gateway, the client id and the person's number.
pub async fn three_ocmws(n: u32) -> (TestGateway, String, String) {
    let gw = TestGateway::start().await;
    let ssin = generated_ssin(n);
    let client = gw.case_worker(GENT).new_client(&ssin).await;
    gw.case_worker(AMAL).new_client(&ssin).await;
    let wage = json!({"receivesLivingWage": true});
    gw.case_worker(GENT).write_record(&client, wage).await;
    let involved = register_as(&gw, EEKLO, &ssin, "involved").await;
    assert_eq!(involved.status, 201, "{}", involved.body);
    assert_eq!(involved.body["clientId"], client.as_str());
    assert_eq!(involved.body["linkRole"], "involved");
    (gw, client, ssin)
}

/// `who` registers `ssin` in `role` (on the legal basis of its public task).
pub async fn register_as(gw: &TestGateway, who: (&str, &str), ssin: &str, role: &str) -> Answer {
    let mut body = registration(ssin);
    body["role"] = json!(role);
    Answer::of(gw.case_worker(who).post("/v1/clients", &body).await).await
}

/// The audit record of the request answered with `answer`, which must be a refusal of `action`
/// for `reason` by `party`.
pub async fn refused(
    gw: &TestGateway,
    answer: &Answer,
    (party, action, reason): (&str, &str, &str),
) -> AuditRow {
    let row = gw.audit_of_request(&answer.trace).await;
    assert_eq!(row.summary(), summary(action, "denied", Some(reason)));
    assert_eq!(row.party_id, party);
    row
}

/// A refusal: `answer` has `status` and the gateway's problem type named as the `reason` its
/// audit record gives for refusing `action` by `party`.
pub async fn refusal(
    gw: &TestGateway,
    answer: &Answer,
    status: u16,
    record: (&str, &str, &str),
) -> AuditRow {
    let problem = format!("urn:problem-type:gateway:{}", record.2);
    assert_eq!(problem_type(answer, status), problem);
    refused(gw, answer, record).await
}

/// The answer's problem type, after checking the status.
fn problem_type(answer: &Answer, status: u16) -> &str {
    assert_eq!(answer.status, status, "{}", answer.body);
    answer.body["type"].as_str().unwrap()
}

/// `who`'s answer to `method path` with `body`, under `purpose`.
pub async fn call(
    gw: &TestGateway,
    who: (&str, &str),
    purpose: &str,
    (method, path, body): (Method, &str, Option<&Value>),
) -> Answer {
    let session: Session = gw.session(&Caller::case_worker(who).for_purpose(purpose));
    let mut request = session.request(method, path);
    if let Some(body) = body {
        request = request.json(body);
    }
    Answer::of(request.send().await.unwrap()).await
}

/// `who`'s answer to `POST path` with `body`, under `purpose`.
pub async fn post(
    gw: &TestGateway,
    (who, purpose): ((&str, &str), &str),
    path: &str,
    body: &Value,
) -> Answer {
    call(gw, who, purpose, (Method::POST, path, Some(body))).await
}

#[tokio::test]
async fn a_second_ocmw_neither_takes_competence_nor_reads_or_writes_the_competent_ocmws_fields() {
    let gw = TestGateway::start().await;
    let ssin = generated_ssin(1);
    let client = gw.case_worker(GENT).new_client(&ssin).await;
    let wage = json!({"receivesLivingWage": true});
    gw.case_worker(GENT).write_record(&client, wage).await;

    // Eeklo registers Gent's client as its own: refused, no link made, on record.
    let taken = register_as(&gw, EEKLO, &ssin, "competent").await;
    let row = refusal(
        &gw,
        &taken,
        409,
        ("ocmw-eeklo", "registerClient", "competenceTaken"),
    )
    .await;
    assert_eq!(row.client_id.as_deref(), Some(client.as_str()));
    let default_role = gw.case_worker(EEKLO).register(&ssin).await;
    assert_eq!(default_role.status(), 409);

    // Involved, it is linked, but reads none of Gent's income fields…
    let involved = register_as(&gw, EEKLO, &ssin, "involved").await;
    assert_eq!(involved.status, 201);
    let eeklo = gw.case_worker(EEKLO);
    let read = eeklo.read_record(&client).await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body["linkRole"], "involved");
    assert!(read.body["fields"].get("receivesLivingWage").is_none());
    let withheld = read.body["withheld"].as_array().unwrap();
    assert!(
        withheld.contains(&json!({"category": "income", "reason": "notPermitted"})),
        "{withheld:?}"
    );
    let row = gw.audit_of_request(&read.trace).await;
    assert!(!row.record.fields.contains(&"receivesLivingWage".to_owned()));

    // …and cannot overwrite them, not even without a version.
    let patch = json!({"receivesLivingWage": false});
    let written = eeklo.patch_record(&client, Some("*"), &patch).await;
    let record = ("ocmw-eeklo", "updateClient", "fieldNotOwned");
    refusal(&gw, &written, 403, record).await;
    assert_eq!(issue_names(&written.body), ["/receivesLivingWage"]);

    // Gent's record is as Gent wrote it; Gent reads it as the competent party.
    let gent = gw.case_worker(GENT).read_record(&client).await;
    assert_eq!(gent.body["linkRole"], "competent");
    assert_eq!(gent.body["fields"]["receivesLivingWage"], true);
}

#[tokio::test]
async fn an_infraction_is_routed_to_the_competent_ocmw_and_decided_by_it_alone_swo_art_12() {
    let (gw, client, _) = three_ocmws(2).await;
    let infractions = format!("/v1/clients/{client}/infractions");
    let missed = json!({"kind": "missedCourse", "occurredOn": "2026-01-05", "description": "Drie lessen NT2 gemist."});
    let recorded = post(&gw, (AMAL, "sanctioning"), &infractions, &missed).await;
    assert_eq!(recorded.status, 201, "{}", recorded.body);
    assert_eq!(recorded.body["routedTo"], "ocmw");
    assert_eq!(recorded.body["routedParty"], "ocmw-gent");
    let path = format!(
        "{infractions}/{}",
        recorded.body["infractionId"].as_str().unwrap()
    );

    // Eeklo, involved, neither sees nor decides it.
    let listed = call(&gw, EEKLO, "sanctioning", (Method::GET, &infractions, None)).await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.body["items"], json!([]));
    let warning = json!({"decision": "warning", "decidedOn": "2026-01-10"});
    let decision = format!("{path}/decision");
    let by_eeklo = post(&gw, (EEKLO, "sanctioning"), &decision, &warning).await;
    assert_eq!(by_eeklo.status, 404, "{}", by_eeklo.body);
    let record = ("ocmw-eeklo", "decideInfraction", "notFound");
    refused(&gw, &by_eeklo, record).await;

    // Gent, competent, decides it once.
    let by_gent = post(&gw, (GENT, "sanctioning"), &decision, &warning).await;
    assert_eq!(by_gent.status, 200, "{}", by_gent.body);
    assert_eq!(by_gent.body["decision"]["decision"], "warning");
}

/// A consent of the client about `client`, as a request body.
fn consent(recipient: &str, categories: &[&str], valid_from: &str) -> Value {
    json!({
        "recipientParty": recipient,
        "purpose": "trajectoryGuidance",
        "categories": categories,
        "legalTextVersion": "privacy-2026-01",
        "language": "nl",
        "evidenceReference": "form-2026-0042",
        "validFrom": valid_from,
    })
}

#[tokio::test]
async fn a_consent_comes_from_the_competent_owner_for_another_party_and_is_never_backdated() {
    let (gw, client, _) = three_ocmws(3).await;
    let consents = format!("/v1/clients/{client}/consents");
    let record = |who, body: Value| {
        let (gw, consents) = (&gw, consents.clone());
        async move { post(gw, (who, "trajectoryGuidance"), &consents, &body).await }
    };

    // Gent opens Amal's trajectory fields to itself, from 2000: not its data to give.
    let attack = record(
        GENT,
        consent("ocmw-gent", &["trajectoryProgress"], "2000-01-01"),
    )
    .await;
    refusal(
        &gw,
        &attack,
        403,
        ("ocmw-gent", "recordConsent", "categoryNotOwned"),
    )
    .await;
    // Its own income category, to itself, backdated: every rule named.
    let own = record(GENT, consent("ocmw-gent", &["income"], "2000-01-01")).await;
    let rule = 422;
    refusal(
        &gw,
        &own,
        rule,
        ("ocmw-gent", "recordConsent", "consentRule"),
    )
    .await;
    assert_eq!(issue_names(&own.body), ["/recipientParty", "/validFrom"]);
    // Eeklo, involved, holds no income data of this client.
    let involved = record(EEKLO, consent("amal", &["income"], &today())).await;
    refusal(
        &gw,
        &involved,
        403,
        ("ocmw-eeklo", "recordConsent", "categoryNotOwned"),
    )
    .await;

    // Nothing was opened: Gent still lacks the client's consent for the trajectory.
    let read = gw.case_worker(GENT).read_record(&client).await;
    let withheld = read.body["withheld"].as_array().unwrap();
    assert!(
        withheld.contains(&json!({"category": "trajectoryProgress", "reason": "consentMissing"}))
    );

    // Amal, the competent owner, without the reference of the client's signed form: refused.
    let mut unproven = consent("ocmw-gent", &["trajectoryProgress"], &today());
    unproven["evidenceReference"] = json!("");
    let unproven = record(AMAL, unproven).await;
    refusal(
        &gw,
        &unproven,
        422,
        ("amal", "recordConsent", "consentRule"),
    )
    .await;
    assert_eq!(issue_names(&unproven.body), ["/evidenceReference"]);

    // Amal, the competent owner, records it for Gent from today.
    let given = record(
        AMAL,
        consent("ocmw-gent", &["trajectoryProgress"], &today()),
    )
    .await;
    assert_eq!(given.status, 201, "{}", given.body);
    // A listing shows only consents the caller recorded or receives.
    let list = |who| {
        let (gw, consents) = (&gw, consents.clone());
        async move { call(gw, who, CASE_WORK, (Method::GET, &consents, None)).await }
    };
    assert_eq!(list(GENT).await.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(list(AMAL).await.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(list(EEKLO).await.body["items"], json!([]));

    // Amal's consent to the shared `financial` category for Eeklo opens Amal's fee status, not
    // Gent's increased allowance: only its owner could ask the client for that.
    let allowance = json!({"increasedAllowance": true});
    gw.case_worker(GENT).write_record(&client, allowance).await;
    let financial = record(AMAL, consent("ocmw-eeklo", &["financial"], &today())).await;
    assert_eq!(financial.status, 201, "{}", financial.body);
    let read = gw.case_worker(EEKLO).read_record(&client).await;
    let fields = read.body["fields"].as_object().unwrap();
    assert!(fields.contains_key("retributionStatus"), "{fields:?}");
    assert!(!fields.contains_key("increasedAllowance"), "{fields:?}");
}

/// Today as `YYYY-MM-DD`.
fn today() -> String {
    crate::harness::scenarios::today()
}

#[tokio::test]
async fn a_self_asserted_link_opens_no_other_partys_history_and_consent_needs_a_consent() {
    let (gw, client, ssin) = three_ocmws(4).await;
    // Geraardsbergen links itself on "consent" that nobody recorded: refused.
    let mut body = registration(&ssin);
    body["legalBasis"] = json!("consent");
    body["role"] = json!("involved");
    let on_consent = Answer::of(
        gw.case_worker(GERAARDSBERGEN)
            .post("/v1/clients", &body)
            .await,
    )
    .await;
    refusal(
        &gw,
        &on_consent,
        403,
        ("ocmw-geraardsbergen", "registerClient", "consentRequired"),
    )
    .await;

    // Linked on its public task, its officer still sees only its own party's records.
    let linked = register_as(&gw, GERAARDSBERGEN, &ssin, "involved").await;
    assert_eq!(linked.status, 201);
    let officer = gw.session(&Caller::privacy_officer(("ocmw-geraardsbergen", "po-3")));
    let path = format!("/v1/audit/clients/{client}/access-report");
    let (status, report) = officer.call(Method::GET, &path, None).await;
    assert_eq!(status, 200, "{report}");
    let parties: Vec<&str> = report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["party"].as_str().unwrap())
        .collect();
    assert_eq!(parties, ["ocmw-geraardsbergen"], "{report}");
    let (status, page) = officer.call(Method::GET, "/v1/audit/records", None).await;
    assert_eq!(status, 200);
    let items = page["items"].as_array().unwrap();
    assert!(
        items.iter().all(|r| r["party"] == "ocmw-geraardsbergen"),
        "{page}"
    );
}

#[tokio::test]
async fn an_unlinked_client_looks_like_an_unknown_one_also_in_the_audit_review() {
    let (gw, client, ssin) = three_ocmws(5).await;
    let stranger = gw.case_worker(GERAARDSBERGEN);
    let known = Answer::of(stranger.lookup(&ssin).await).await;
    let unknown = Answer::of(stranger.lookup(&generated_ssin(99)).await).await;
    assert_eq!((known.status, unknown.status), (404, 404));
    let without_instance = |body: &Value| {
        let mut body = body.clone();
        body.as_object_mut().unwrap().remove("instance");
        body
    };
    assert_eq!(
        without_instance(&known.body),
        without_instance(&unknown.body)
    );
    let kept = refused(
        &gw,
        &known,
        ("ocmw-geraardsbergen", "lookupClient", "notFound"),
    )
    .await;
    // The record keeps the client, for the person's access report…
    assert_eq!(kept.client_id.as_deref(), Some(client.as_str()));

    // …but Geraardsbergen's officer sees both look-ups alike, without a client.
    let officer = gw.session(&Caller::privacy_officer(("ocmw-geraardsbergen", "po-3")));
    let query = "/v1/audit/records?party=ocmw-geraardsbergen&action=lookupClient";
    let (status, page) = officer.call(Method::GET, query, None).await;
    assert_eq!(status, 200, "{page}");
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{page}");
    assert!(items.iter().all(|r| r["client"].is_null()), "{page}");
    // Nor does a search by the client find it.
    let by_client = format!("/v1/audit/records?client={client}");
    let (status, page) = officer.call(Method::GET, &by_client, None).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"], json!([]), "{page}");
    // Nor through the record's inclusion proof, whose leaf is the record itself.
    let size = tree_size_beyond(&officer, kept.seq as u64).await;
    let proof = format!(
        "/v1/audit/proofs/inclusion?index={}&treeSize={size}",
        kept.seq
    );
    let (status, _) = officer.call(Method::GET, &proof, None).await;
    assert_eq!(status, 404);

    // Gent's officer, responsible for the client, finds the attempt in its access report.
    let gent_officer = gw.session(&Caller::privacy_officer(("ocmw-gent", "po-1")));
    let path = format!("/v1/audit/clients/{client}/access-report");
    let (status, report) = gent_officer.call(Method::GET, &path, None).await;
    assert_eq!(status, 200);
    let attempt = report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["party"] == "ocmw-geraardsbergen")
        .unwrap_or_else(|| panic!("no attempt in {report}"));
    assert_eq!(attempt["entries"][0]["action"], "lookupClient");
    assert_eq!(attempt["entries"][0]["outcome"], "denied");
}

/// The size of a signed checkpoint that holds record `seq`, waiting for the tree to get there.
async fn tree_size_beyond(officer: &Session, seq: u64) -> u64 {
    for _ in 0..100 {
        let response = officer.get("/v1/audit/checkpoint").await;
        let text = response.text().await.unwrap();
        let size: u64 = text.lines().nth(1).unwrap().parse().unwrap();
        if size > seq {
            return size;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no checkpoint holds record {seq}");
}

#[tokio::test]
async fn competence_moves_by_claim_and_hand_over_or_when_the_competent_link_ends() {
    let (gw, client, _) = three_ocmws(6).await;
    let competence = format!("/v1/clients/{client}/competence");
    let handover = format!("{competence}/handover");
    let post = |who, path: String, body: Option<Value>| {
        let gw = &gw;
        async move {
            call(
                gw,
                who,
                "socialAssistance",
                (Method::POST, &path, body.as_ref()),
            )
            .await
        }
    };

    let claim = post(EEKLO, competence.clone(), None).await;
    assert_eq!(claim.status, 202, "{}", claim.body);
    assert_eq!(claim.body["status"], "pending");
    let shown = call(
        &gw,
        EEKLO,
        "socialAssistance",
        (Method::GET, &competence, None),
    )
    .await;
    assert_eq!(shown.body["linkRole"], "involved");
    let ocmw = shown.body["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["partyKind"] == "ocmw")
        .unwrap()
        .clone();
    assert_eq!(ocmw["competentParty"], "ocmw-gent");
    assert_eq!(
        ocmw["involved"],
        json!([{"party": "ocmw-eeklo", "claimsCompetence": true}])
    );

    // Only the competent party hands over, and only to a party that claimed.
    let to_eeklo = Some(json!({"toParty": "ocmw-eeklo"}));
    let by_eeklo = post(EEKLO, handover.clone(), to_eeklo.clone()).await;
    refusal(
        &gw,
        &by_eeklo,
        403,
        ("ocmw-eeklo", "handOverCompetence", "notCompetent"),
    )
    .await;
    let unclaimed = Some(json!({"toParty": "ocmw-geraardsbergen"}));
    let no_claim = post(GENT, handover.clone(), unclaimed).await;
    refusal(
        &gw,
        &no_claim,
        409,
        ("ocmw-gent", "handOverCompetence", "noPendingClaim"),
    )
    .await;
    let stranger = post(GERAARDSBERGEN, competence.clone(), None).await;
    assert_eq!(stranger.status, 404);

    let handed = post(GENT, handover.clone(), to_eeklo).await;
    assert_eq!(handed.status, 204, "{}", handed.body);
    let row = gw.audit_of_request(&handed.trace).await;
    assert_eq!(
        row.summary(),
        summary("handOverCompetence", "allowed", None)
    );

    // Eeklo writes the living wage now; Gent, involved, no longer does.
    let stopped = json!({"receivesLivingWage": false});
    let eeklo = gw.case_worker(EEKLO).write_record(&client, stopped).await;
    assert_eq!(eeklo.body["linkRole"], "competent");
    let gent = gw.case_worker(GENT);
    let refused_write = gent
        .patch_record(&client, Some("*"), &json!({"receivesLivingWage": true}))
        .await;
    assert_eq!(problem_type(&refused_write, 403), FIELD_NOT_OWNED);

    // Gent claims it back; Eeklo ends its link, and the claim takes effect.
    let back = post(GENT, competence.clone(), None).await;
    assert_eq!(back.status, 202);
    assert_eq!(gw.case_worker(EEKLO).unlink(&client).await.status(), 204);
    assert_eq!(
        gent.read_record(&client).await.body["linkRole"],
        "competent"
    );
}
