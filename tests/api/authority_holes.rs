//! The smaller holes of the same family as issue 13's attacks (authority by party, not by
//! kind), each tried and refused: KBI doing case work, a party that unlinked still following
//! the client, a significant change told to a reader who may not see what moved, monitoring
//! across the deployment, a certificate that only names the party, a token of another type,
//! a token posing as a person.

use crate::authority::{GERAARDSBERGEN, call, refused, register_as, three_ocmws};
use crate::harness::{
    AMAL, Answer, Caller, EEKLO, Endpoint, GENT, TestGateway, development_ca, generated_ssin,
    issue, joint_client, repo_path,
};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn kbi_posts_attests_and_does_no_case_work() {
    let (gw, client, ssin) = three_ocmws(11).await;
    let kbi = gw.session(&Caller::new(
        "kbi",
        &["system"],
        "kbi-feed",
        "attestRegistration",
    ));
    let lookup = Answer::of(kbi.lookup(&ssin).await).await;
    assert_eq!(lookup.status, 403, "{}", lookup.body);
    assert_eq!(lookup.body["type"], "urn:problem-type:belgif:missingScope");
    refused(&gw, &lookup, ("kbi", "lookupClient", "purposeNotAllowed")).await;
    let read = kbi.read_record(&client).await;
    assert_eq!(read.status, 403);
    refused(&gw, &read, ("kbi", "readClient", "purposeNotAllowed")).await;
}

#[tokio::test]
async fn after_unlinking_a_party_sees_neither_the_referrals_nor_the_events_of_the_client() {
    let (gw, client, _) = three_ocmws(12).await;
    let referral = json!({
        "clientId": client,
        "toParty": "ocmw-gent",
        "reason": "Modules NT2 in Gent.",
        "evidenceReference": "rr-extract/2026/0012",
    });
    let proposed = call(
        &gw,
        EEKLO,
        "referral",
        (Method::POST, "/v1/referrals", Some(&referral)),
    )
    .await;
    assert_eq!(proposed.status, 201, "{}", proposed.body);
    let path = format!(
        "/v1/referrals/{}",
        proposed.body["referralId"].as_str().unwrap()
    );
    let outgoing = "/v1/referrals?direction=outgoing";
    let listed = call(&gw, EEKLO, "referral", (Method::GET, outgoing, None)).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    let feed = gw.session(&Caller::case_worker(EEKLO).for_purpose("referral"));
    assert!(!feed.events().await.is_empty());

    assert_eq!(gw.case_worker(EEKLO).unlink(&client).await.status(), 204);
    let listed = call(&gw, EEKLO, "referral", (Method::GET, outgoing, None)).await;
    assert_eq!(listed.body["items"], json!([]));
    let read = call(&gw, EEKLO, "referral", (Method::GET, &path, None)).await;
    assert_eq!(read.status, 404);
    refused(&gw, &read, ("ocmw-eeklo", "readReferral", "notFound")).await;
    assert_eq!(feed.events().await, Vec::<Value>::new());
    let case_feed = gw.case_worker(EEKLO).events().await;
    assert_eq!(case_feed, Vec::<Value>::new());
}

/// The shipped policy, with an OCMW's right to see who directs and sanctions (`coordination`)
/// for trajectory guidance given to the competent OCMW only.
fn coordination_for_the_competent_only(dir: &std::path::Path) -> std::path::PathBuf {
    let shipped = std::fs::read_to_string(repo_path("config/policy.toml")).unwrap();
    let first = "categories = [\"integrationStatus\", \"attest\", \"coordination\"]";
    let narrowed = shipped.replacen(first, "categories = [\"integrationStatus\", \"attest\"]", 1);
    assert_ne!(narrowed, shipped);
    let grant = "\n[[grants]]\npurpose = \"trajectoryGuidance\"\nparty_kind = \"ocmw\"\n\
        roles = [\"caseWorker\", \"system\"]\ncategories = [\"coordination\"]\n\
        basis = \"publicTask\"\nlink_roles = [\"competent\"]\nreason = \"test\"\n";
    let path = dir.join("policy.toml");
    std::fs::write(&path, format!("{narrowed}{grant}")).unwrap();
    path
}

#[tokio::test]
async fn a_significant_change_is_told_only_to_readers_who_may_see_what_moved() {
    let policy_dir = tempfile::tempdir().unwrap();
    let policy = coordination_for_the_competent_only(policy_dir.path());
    let gw = TestGateway::start_with(move |config| config.policy_file = policy).await;
    let ssin = generated_ssin(13);
    let client = gw.case_worker(GENT).new_client(&ssin).await;
    gw.case_worker(AMAL).new_client(&ssin).await;
    assert_eq!(register_as(&gw, EEKLO, &ssin, "involved").await.status, 201);
    // On a living wage, the client turns out an entitled oldcomer: the direction moves to the
    // OCMW (SWO art. 3).
    let wage = json!({"receivesLivingWage": true});
    gw.case_worker(GENT).write_record(&client, wage).await;
    let status = json!({"integrationStatus": "entitled", "nationalRegisterSince": "2020-01-01"});
    let written = gw.case_worker(AMAL).write_record(&client, status).await;
    assert_eq!(written.body["significantChange"], true);

    let change = |events: Vec<Value>| {
        events
            .into_iter()
            .filter(|e| e["type"] == "clientRecordChanged")
            .find(|e| {
                e["categories"]
                    .as_array()
                    .unwrap()
                    .contains(&json!("integrationStatus"))
            })
            .unwrap_or_else(|| panic!("no change of the integration status"))
    };
    let gent = change(gw.case_worker(GENT).events().await);
    assert_eq!(gent["significantChange"], true, "{gent}");
    let eeklo = change(gw.case_worker(EEKLO).events().await);
    assert!(
        !eeklo["categories"]
            .as_array()
            .unwrap()
            .contains(&json!("coordination"))
    );
    assert_eq!(eeklo["significantChange"], false, "{eeklo}");
}

/// `party`'s coordinator's yearly report.
async fn monitoring(gw: &TestGateway, party: &str) -> Value {
    let coordinator = gw.session(&Caller::new(party, &["coordinator"], "coord", "monitoring"));
    let year = time::OffsetDateTime::now_utc().year();
    let path = format!("/v1/reports/monitoring?year={year}");
    let (status, report) = coordinator.call(Method::GET, &path, None).await;
    assert_eq!(status, 200, "{report}");
    report
}

#[tokio::test]
async fn the_yearly_monitoring_covers_the_coordinators_own_clients_and_its_agreements_pairs() {
    let gw = TestGateway::start().await;
    for n in 1..=5 {
        joint_client(&gw, n).await;
    }
    for n in 6..=10 {
        let ssin = generated_ssin(n);
        gw.case_worker(EEKLO).new_client(&ssin).await;
        gw.case_worker(AMAL).new_client(&ssin).await;
    }
    let total = |report: &Value| report["jointClientsByStatus"]["total"].clone();
    // Gent and Amal have an agreement (config/dev.toml): their joint report is of their pair.
    assert_eq!(total(&monitoring(&gw, "ocmw-gent").await), 5);
    assert_eq!(total(&monitoring(&gw, "amal").await), 5);
    // Eeklo has none: its own joint clients.
    assert_eq!(total(&monitoring(&gw, "ocmw-eeklo").await), 5);
    assert_eq!(total(&monitoring(&gw, GERAARDSBERGEN.0).await), 0);
}

#[tokio::test]
async fn a_party_pinned_to_a_san_is_not_taken_by_a_certificate_naming_it_only() {
    let gw = TestGateway::start_with(|config| {
        let gent = config
            .parties
            .iter_mut()
            .find(|p| p.id.as_str() == "ocmw-gent");
        gent.unwrap().certificate_dns_names = vec!["gateway-client.ocmw-gent.example".into()];
    })
    .await;
    // The development certificate names ocmw-gent but carries no such SAN.
    let plain = gw
        .session(&Caller::case_worker(GENT))
        .get("/v1/whoami")
        .await;
    assert_eq!(plain.status(), 403);
    let body = plain.text().await.unwrap();
    assert!(body.contains("unknownClientCertificate"), "{body}");
    let ca = development_ca(&gw.pki());
    let pinned = issue(&ca, "ocmw-gent", |params| {
        params.subject_alt_names = vec![rcgen::SanType::DnsName(
            "gateway-client.ocmw-gent.example".try_into().unwrap(),
        )];
    });
    let caller = Caller::case_worker(GENT).with_identity(&pinned.identity());
    assert_eq!(gw.session(&caller).get("/v1/whoami").await.status(), 200);
}

#[tokio::test]
async fn a_token_of_another_type_or_posing_as_a_person_is_refused() {
    let gw = TestGateway::start().await;
    let claims = gw.claims("ocmw-gent", &["caseWorker"], "sw-1");
    let key = jsonwebtoken::EncodingKey::from_ed_pem(&gw.pki_file("ocmw-gent-jwt.key")).unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some("ocmw-gent-dev-1".into());
    header.typ = Some("logout+jwt".into());
    let logout = jsonwebtoken::encode(&header, &claims, &key).unwrap();
    let as_logout = Caller::case_worker(GENT).with_token(&logout);
    assert_eq!(gw.session(&as_logout).get("/v1/whoami").await.status(), 401);
    header.typ = Some("at+jwt".into());
    let access = jsonwebtoken::encode(&header, &claims, &key).unwrap();
    let as_access = Caller::case_worker(GENT).with_token(&access);
    assert_eq!(gw.session(&as_access).get("/v1/whoami").await.status(), 200);

    // `person:` names the people of the review pages; no token's subject may take it.
    let person = gw.token("ocmw-gent", &["privacyOfficer"], "person:privacy-officer");
    let posing = Caller::privacy_officer(("ocmw-gent", "x")).with_token(&person);
    assert_eq!(gw.session(&posing).get("/v1/whoami").await.status(), 401);
}
