//! Tokens: every way a bearer token can be wrong is refused with the right problem type.

use crate::harness::library::certificates;
use crate::harness::{Caller, Endpoint, TestGateway, b64, problem};
use reqwest::Response;
use serde_json::{Value, json};

const INVALID: &str = "urn:problem-type:belgif:invalidAccessToken";
const BAD_REQUEST: &str = "urn:problem-type:belgif:badRequest";
const MISSING_SCOPE: &str = "urn:problem-type:belgif:missingScope";

/// `GET /v1/whoami` as a case worker of Gent doing case work, as `caller` varies it.
async fn whoami(gw: &TestGateway, caller: impl FnOnce(Caller) -> Caller) -> Response {
    let case_worker = Caller::case_worker(("ocmw-gent", "sw-1"));
    gw.session(&caller(case_worker)).get("/v1/whoami").await
}

/// `GET /v1/whoami` over Gent's certificate with `token`.
async fn whoami_with(gw: &TestGateway, token: &str) -> Response {
    whoami(gw, |caller| caller.with_token(token)).await
}

async fn refused(gw: &TestGateway, token: &str) -> Value {
    problem(whoami_with(gw, token).await, 401, INVALID).await
}

/// A detail of a refusal names `what`.
fn assert_detail(body: &Value, what: &str) {
    assert!(body["detail"].as_str().unwrap().contains(what), "{body}");
}

/// `party`'s claims for sw-1 as a case worker, changed by `change`, signed by `party`.
fn signed(gw: &TestGateway, party: &str, change: impl FnOnce(&mut Value)) -> String {
    let mut claims = gw.claims(party, &["caseWorker"], "sw-1");
    change(&mut claims);
    gw.sign(party, &claims)
}

#[tokio::test]
async fn a_valid_certificate_and_token_identify_party_user_roles_and_purpose() {
    let gw = TestGateway::start().await;
    let token = gw.token("ocmw-gent", &["caseWorker", "privacyOfficer"], "sw-042");
    let response = whoami_with(&gw, &token).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({
            "party": "ocmw-gent",
            "partyKind": "ocmw",
            "user": "sw-042",
            "roles": ["caseWorker", "privacyOfficer"],
            "actingRoles": ["caseWorker"],
            "purpose": "trajectoryGuidance",
        })
    );
    // The second use of the same token is served from the verified-token cache.
    let again = whoami_with(&gw, &token).await;
    assert_eq!(again.status(), 200);
    gw.stop().await;
}

#[tokio::test]
async fn no_token_is_refused_with_no_access_token() {
    let gw = TestGateway::start().await;
    let response = whoami(&gw, Caller::without_token).await;
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    problem(response, 401, "urn:problem-type:belgif:noAccessToken").await;
}

#[tokio::test]
async fn a_malformed_token_is_refused() {
    let gw = TestGateway::start().await;
    for token in ["garbage", "a.b.c", "x.y", "...."] {
        assert_detail(&refused(&gw, token).await, "well-formed");
    }
}

#[tokio::test]
async fn an_unsigned_alg_none_token_is_refused() {
    let gw = TestGateway::start().await;
    let claims = gw.claims("ocmw-gent", &["caseWorker"], "mallory");
    let token = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(claims.to_string().as_bytes())
    );
    refused(&gw, &token).await;
}

#[tokio::test]
async fn an_hs256_token_keyed_with_the_partys_public_key_is_refused() {
    let gw = TestGateway::start().await;
    let claims = gw.claims("ocmw-gent", &["caseWorker"], "mallory");
    let public_key = std::fs::read(gw.pki().join("ocmw-gent-jwt.pub")).unwrap();
    let signing_input = format!(
        "{}.{}",
        b64(br#"{"alg":"HS256","typ":"JWT","kid":"ocmw-gent-dev-1"}"#),
        b64(claims.to_string().as_bytes())
    );
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &public_key);
    let tag = ring::hmac::sign(&key, signing_input.as_bytes());
    let token = format!("{signing_input}.{}", b64(tag.as_ref()));
    assert_detail(&refused(&gw, &token).await, "algorithm");
}

#[tokio::test]
async fn a_token_with_a_tampered_payload_is_refused() {
    let gw = TestGateway::start().await;
    let token = gw.token("ocmw-gent", &["caseWorker"], "sw-1");
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut claims = gw.claims("ocmw-gent", &["caseWorker", "privacyOfficer"], "sw-1");
    claims["iat"] = json!(jsonwebtoken::get_current_timestamp());
    parts[1] = b64(claims.to_string().as_bytes());
    assert_detail(&refused(&gw, &parts.join(".")).await, "signature");
}

#[tokio::test]
async fn expired_and_not_yet_valid_tokens_are_refused() {
    let gw = TestGateway::start().await;
    let now = jsonwebtoken::get_current_timestamp();
    let expired = signed(&gw, "ocmw-gent", |claims| {
        claims["iat"] = json!(now - 1200);
        claims["exp"] = json!(now - 600);
    });
    assert_detail(&refused(&gw, &expired).await, "expired");
    let early = signed(&gw, "ocmw-gent", |claims| {
        claims["nbf"] = json!(now + 600);
        claims["exp"] = json!(now + 900);
    });
    assert_detail(&refused(&gw, &early).await, "not valid yet");
    let issued_later = signed(&gw, "ocmw-gent", |claims| {
        claims["iat"] = json!(now + 600);
        claims["exp"] = json!(now + 900);
    });
    refused(&gw, &issued_later).await;
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    let gw = TestGateway::start().await;
    let token = signed(&gw, "ocmw-gent", |claims| {
        claims["aud"] = json!("some-other-service");
    });
    assert_detail(&refused(&gw, &token).await, "audience");
}

#[tokio::test]
async fn another_partys_token_over_this_partys_certificate_is_refused() {
    let gw = TestGateway::start().await;
    // Amal's genuine token, presented with OCMW Gent's certificate.
    let amal = gw.token("amal", &["caseWorker"], "tb-7");
    refused(&gw, &amal).await;
    // OCMW Gent's key, but claiming Amal as issuer.
    let amal_issuer = gw.claims("amal", &[], "x")["iss"].clone();
    let token = signed(&gw, "ocmw-gent", |claims| claims["iss"] = amal_issuer);
    assert_detail(&refused(&gw, &token).await, "issuer");
}

#[tokio::test]
async fn a_token_living_longer_than_the_cap_is_refused() {
    let gw = TestGateway::start().await;
    let now = jsonwebtoken::get_current_timestamp();
    let token = signed(&gw, "ocmw-gent", |claims| {
        claims["iat"] = json!(now);
        claims["exp"] = json!(now + 3601);
    });
    assert_detail(&refused(&gw, &token).await, "lifetime");
}

#[tokio::test]
async fn a_token_with_an_unknown_role_or_missing_claims_is_refused() {
    let gw = TestGateway::start().await;
    let token = gw.token("ocmw-gent", &["caseWorker", "superuser"], "sw-1");
    assert_detail(&refused(&gw, &token).await, "role");
    for missing in ["sub", "iat", "roles", "exp", "aud"] {
        let token = signed(&gw, "ocmw-gent", |claims| {
            claims.as_object_mut().unwrap().remove(missing);
        });
        refused(&gw, &token).await;
    }
}

#[tokio::test]
async fn a_missing_or_unknown_purpose_is_a_bad_request_naming_the_header() {
    let gw = TestGateway::start().await;
    let missing = whoami(&gw, Caller::without_purpose).await;
    let body = problem(missing, 400, BAD_REQUEST).await;
    assert_eq!(body["issues"][0]["in"], "header");
    assert_eq!(body["issues"][0]["name"], "Processing-Purpose");
    let unknown = whoami(&gw, |caller| caller.for_purpose("curiosity")).await;
    problem(unknown, 400, BAD_REQUEST).await;
}

#[tokio::test]
async fn a_purpose_the_role_may_not_use_is_refused_with_missing_scope() {
    let gw = TestGateway::start().await;
    // A case worker may not review the audit log; KBI may not use social assistance.
    let reviewing = Caller::case_worker(("ocmw-gent", "tester")).for_purpose("auditReview");
    let response = gw.session(&reviewing).get("/v1/whoami").await;
    problem(response, 403, MISSING_SCOPE).await;
    let assisting = Caller::case_worker(("kbi", "tester")).for_purpose("socialAssistance");
    let response = gw.session(&assisting).get("/v1/whoami").await;
    problem(response, 403, MISSING_SCOPE).await;
}

#[tokio::test]
async fn strict_mode_requires_tokens_bound_to_the_presented_certificate() {
    let gw = TestGateway::start_with(|c| c.auth.require_certificate_binding = true).await;
    let unbound = gw.token("ocmw-gent", &["caseWorker"], "sw-1");
    assert_detail(&refused(&gw, &unbound).await, "bound");

    let thumbprint = |party: &str| {
        let pem = std::fs::read(gw.pki().join(format!("{party}.crt"))).unwrap();
        let der = certificates(&gw.pki().join(format!("{party}.crt")))
            .unwrap()
            .remove(0);
        assert!(!pem.is_empty());
        b64(ring::digest::digest(&ring::digest::SHA256, der.as_ref()).as_ref())
    };
    let bound = signed(&gw, "ocmw-gent", |claims| {
        claims["cnf"] = json!({ "x5t#S256": thumbprint("ocmw-gent") });
    });
    assert_eq!(whoami_with(&gw, &bound).await.status(), 200);

    // Bound to another certificate (as if stolen from another system of the same party).
    let elsewhere = signed(&gw, "ocmw-gent", |claims| {
        claims["cnf"] = json!({ "x5t#S256": thumbprint("amal") });
    });
    refused(&gw, &elsewhere).await;
}
