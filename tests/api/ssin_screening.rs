//! No national register number where it does not belong: every free text and reference a
//! caller sends, and the trace id it asks the gateway to keep, is screened for national
//! register and BIS numbers (bare or printed with separators, with a valid check digit). A
//! hit is refused naming the member, without echoing the value, and nothing is stored.

use crate::harness::{
    AMAL, Caller, Endpoint, GENT, Session, TestGateway, generated_ssin, joint_client,
};
use reqwest::Method;
use serde_json::{Value, json};

/// A client's number as the tests write it into text: bare, printed, and a BIS number.
fn hidden_numbers() -> Vec<String> {
    let ssin = generated_ssin(901);
    let printed = format!(
        "{}.{}.{}-{}.{}",
        &ssin[0..2],
        &ssin[2..4],
        &ssin[4..6],
        &ssin[6..9],
        &ssin[9..11]
    );
    // A BIS number (month + 40) with its own valid check digits.
    let body: u64 = format!("{}{}{}", &ssin[0..2], "47", &ssin[4..9])
        .parse()
        .unwrap();
    let bis = format!("{body:09}{:02}", 97 - body % 97);
    vec![ssin, printed, bis]
}

/// Sends `body` (with `number` written into one member) and checks the refusal: a 4xx
/// problem naming `member`, and not the number.
async fn refused(
    session: &Session,
    method: Method,
    path: &str,
    body: &Value,
    member: &str,
    number: &str,
) {
    let (status, problem) = session.call(method, path, Some(body)).await;
    assert!(
        status == 400 || status == 422,
        "{path} {member}: {status} {problem}"
    );
    let text = problem.to_string();
    assert!(
        text.contains(member),
        "{path}: the problem does not name {member}: {text}"
    );
    assert!(
        !text.contains(number),
        "{path}: the problem echoes the number: {text}"
    );
}

#[tokio::test]
async fn a_national_register_number_in_any_free_text_or_reference_is_refused_unechoed() {
    let gw = TestGateway::start().await;
    let client = joint_client(&gw, 902).await;
    let gent_referrals = gw.session(&Caller::case_worker(GENT).for_purpose("referral"));
    let amal_referrals = gw.session(&Caller::case_worker(AMAL).for_purpose("referral"));
    let amal_sanctions = gw.session(&Caller::case_worker(AMAL).for_purpose("sanctioning"));
    // A referral to give feedback on and to decide.
    let (status, referral) = gent_referrals
        .call(
            Method::POST,
            "/v1/referrals",
            Some(&json!({"clientId": client, "toParty": "amal", "reason": "Inburgering."})),
        )
        .await;
    assert_eq!(status, 201, "{referral}");
    let referral_path = format!("/v1/referrals/{}", referral["referralId"].as_str().unwrap());
    let (status, _) = amal_referrals
        .call(
            Method::POST,
            &format!("{referral_path}/decision"),
            Some(&json!({"decision": "accept"})),
        )
        .await;
    assert_eq!(status, 200);
    let infractions = format!("/v1/clients/{client}/infractions");

    for number in hidden_numbers() {
        let text = format!("Zie rijksregister {number} voor details.");
        let reference = format!("ref:{number}");
        refused(
            &gw.case_worker(GENT),
            Method::POST,
            "/v1/clients",
            &json!({"ssin": generated_ssin(903), "legalBasis": "publicTask", "dossierReference": reference}),
            "/dossierReference",
            &number,
        )
        .await;
        refused(
            &gent_referrals,
            Method::POST,
            "/v1/referrals",
            &json!({"clientId": client, "toParty": "amal", "reason": text}),
            "/reason",
            &number,
        )
        .await;
        refused(
            &amal_referrals,
            Method::POST,
            &format!("{referral_path}/feedback"),
            &json!({"message": text}),
            "/message",
            &number,
        )
        .await;
        refused(
            &amal_sanctions,
            Method::POST,
            &infractions,
            &json!({"kind": "missedCourse", "occurredOn": "2026-01-05", "description": text}),
            "/description",
            &number,
        )
        .await;
        let mut consent = crate::harness::consent_for_gent();
        consent["evidenceReference"] = json!(reference);
        refused(
            &gw.case_worker(AMAL),
            Method::POST,
            &format!("/v1/clients/{client}/consents"),
            &consent,
            "/evidenceReference",
            &number,
        )
        .await;
        let attest = json!({"ssin": generated_ssin(904), "kind": "integrationAttest",
            "issuedOn": "2026-01-05", "reference": reference});
        let kbi = gw.session(&Caller::new(
            "kbi",
            &["system"],
            "kbi-feed",
            "attestRegistration",
        ));
        refused(
            &kbi,
            Method::POST,
            "/v1/kbi/attests",
            &attest,
            "/reference",
            &number,
        )
        .await;

        // The caller's trace id is kept in the audit log for ever.
        let response = gw
            .case_worker(GENT)
            .request(Method::GET, "/v1/whoami")
            .header("BelGov-Trace-Id", format!("trace-{number}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        let body = response.text().await.unwrap();
        assert!(
            body.contains("BelGov-Trace-Id") && !body.contains(&number),
            "{body}"
        );
    }

    // None of it reached the database: not the log, not a table.
    let mut stored: Vec<String> = gw
        .audit_rows()
        .await
        .iter()
        .map(|row| String::from_utf8_lossy(&row.bytes).into_owned())
        .collect();
    let db = gw.db().await;
    stored.extend(db.strings("SELECT reason FROM referrals").await);
    stored.extend(
        db.strings("SELECT dossier_reference FROM client_links")
            .await,
    );
    for number in hidden_numbers() {
        assert!(
            stored.iter().all(|v| !v.contains(&number)),
            "{number} was stored"
        );
    }
    gw.stop().await;
}
