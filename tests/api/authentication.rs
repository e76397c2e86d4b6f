//! Tokens: every way a bearer token can be wrong is refused with the right problem type.

use crate::helpers::{TestGateway, b64, problem};
use serde_json::{Value, json};

const INVALID: &str = "urn:problem-type:belgif:invalidAccessToken";

async fn whoami_with(gw: &TestGateway, party: &str, token: &str) -> reqwest::Response {
    gw.client(party)
        .get(gw.url("/v1/whoami"))
        .bearer_auth(token)
        .header("Processing-Purpose", "trajectoryGuidance")
        .send()
        .await
        .unwrap()
}

async fn refused(gw: &TestGateway, token: &str) -> Value {
    problem(whoami_with(gw, "ocmw-gent", token).await, 401, INVALID).await
}

#[tokio::test]
async fn a_valid_certificate_and_token_identify_party_user_roles_and_purpose() {
    let gw = TestGateway::start().await;
    let token = gw.token("ocmw-gent", &["caseWorker", "privacyOfficer"], "sw-042");
    let response = whoami_with(&gw, "ocmw-gent", &token).await;
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
    let again = whoami_with(&gw, "ocmw-gent", &token).await;
    assert_eq!(again.status(), 200);
    gw.stop().await;
}

#[tokio::test]
async fn no_token_is_refused_with_no_access_token() {
    let gw = TestGateway::start().await;
    let response = gw
        .client("ocmw-gent")
        .get(gw.url("/v1/whoami"))
        .header("Processing-Purpose", "trajectoryGuidance")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    problem(response, 401, "urn:problem-type:belgif:noAccessToken").await;
}

#[tokio::test]
async fn a_malformed_token_is_refused() {
    let gw = TestGateway::start().await;
    for token in ["garbage", "a.b.c", "x.y", "...."] {
        let body = refused(&gw, token).await;
        assert!(
            body["detail"].as_str().unwrap().contains("well-formed"),
            "{body}"
        );
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
    let body = refused(&gw, &token).await;
    assert!(
        body["detail"].as_str().unwrap().contains("algorithm"),
        "{body}"
    );
}

#[tokio::test]
async fn a_token_with_a_tampered_payload_is_refused() {
    let gw = TestGateway::start().await;
    let token = gw.token("ocmw-gent", &["caseWorker"], "sw-1");
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut claims = gw.claims("ocmw-gent", &["caseWorker", "privacyOfficer"], "sw-1");
    claims["iat"] = json!(jsonwebtoken::get_current_timestamp());
    parts[1] = b64(claims.to_string().as_bytes());
    let body = refused(&gw, &parts.join(".")).await;
    assert!(
        body["detail"].as_str().unwrap().contains("signature"),
        "{body}"
    );
}

#[tokio::test]
async fn expired_and_not_yet_valid_tokens_are_refused() {
    let gw = TestGateway::start().await;
    let now = jsonwebtoken::get_current_timestamp();
    let mut expired = gw.claims("ocmw-gent", &["caseWorker"], "sw-1");
    expired["iat"] = json!(now - 1200);
    expired["exp"] = json!(now - 600);
    let body = refused(&gw, &gw.sign("ocmw-gent", &expired)).await;
    assert!(
        body["detail"].as_str().unwrap().contains("expired"),
        "{body}"
    );

    let mut early = gw.claims("ocmw-gent", &["caseWorker"], "sw-1");
    early["nbf"] = json!(now + 600);
    early["exp"] = json!(now + 900);
    let body = refused(&gw, &gw.sign("ocmw-gent", &early)).await;
    assert!(
        body["detail"].as_str().unwrap().contains("not valid yet"),
        "{body}"
    );

    let mut issued_later = gw.claims("ocmw-gent", &["caseWorker"], "sw-1");
    issued_later["iat"] = json!(now + 600);
    issued_later["exp"] = json!(now + 900);
    refused(&gw, &gw.sign("ocmw-gent", &issued_later)).await;
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    let gw = TestGateway::start().await;
    let mut claims = gw.claims("ocmw-gent", &["caseWorker"], "sw-1");
    claims["aud"] = json!("some-other-service");
    let body = refused(&gw, &gw.sign("ocmw-gent", &claims)).await;
    assert!(
        body["detail"].as_str().unwrap().contains("audience"),
        "{body}"
    );
}

#[tokio::test]
async fn another_partys_token_over_this_partys_certificate_is_refused() {
    let gw = TestGateway::start().await;
    // Amal's genuine token, presented with OCMW Gent's certificate.
    let amal = gw.token("amal", &["caseWorker"], "tb-7");
    refused(&gw, &amal).await;
    // OCMW Gent's key, but claiming Amal as issuer.
    let mut claims = gw.claims("ocmw-gent", &["caseWorker"], "sw-1");
    claims["iss"] = gw.claims("amal", &[], "x")["iss"].clone();
    let body = refused(&gw, &gw.sign("ocmw-gent", &claims)).await;
    assert!(
        body["detail"].as_str().unwrap().contains("issuer"),
        "{body}"
    );
}

#[tokio::test]
async fn a_token_living_longer_than_the_cap_is_refused() {
    let gw = TestGateway::start().await;
    let now = jsonwebtoken::get_current_timestamp();
    let mut claims = gw.claims("ocmw-gent", &["caseWorker"], "sw-1");
    claims["iat"] = json!(now);
    claims["exp"] = json!(now + 3601);
    let body = refused(&gw, &gw.sign("ocmw-gent", &claims)).await;
    assert!(
        body["detail"].as_str().unwrap().contains("lifetime"),
        "{body}"
    );
}

#[tokio::test]
async fn a_token_with_an_unknown_role_or_missing_claims_is_refused() {
    let gw = TestGateway::start().await;
    let token = gw.token("ocmw-gent", &["caseWorker", "superuser"], "sw-1");
    let body = refused(&gw, &token).await;
    assert!(body["detail"].as_str().unwrap().contains("role"), "{body}");
    for missing in ["sub", "iat", "roles", "exp", "aud"] {
        let mut claims = gw.claims("ocmw-gent", &["caseWorker"], "sw-1");
        claims.as_object_mut().unwrap().remove(missing);
        refused(&gw, &gw.sign("ocmw-gent", &claims)).await;
    }
}

#[tokio::test]
async fn a_missing_or_unknown_purpose_is_a_bad_request_naming_the_header() {
    let gw = TestGateway::start().await;
    let token = gw.token("ocmw-gent", &["caseWorker"], "sw-1");
    let client = gw.client("ocmw-gent");
    let missing = client
        .get(gw.url("/v1/whoami"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let body = problem(missing, 400, "urn:problem-type:belgif:badRequest").await;
    assert_eq!(body["issues"][0]["in"], "header");
    assert_eq!(body["issues"][0]["name"], "Processing-Purpose");
    let unknown = client
        .get(gw.url("/v1/whoami"))
        .bearer_auth(&token)
        .header("Processing-Purpose", "curiosity")
        .send()
        .await
        .unwrap();
    problem(unknown, 400, "urn:problem-type:belgif:badRequest").await;
}

#[tokio::test]
async fn a_purpose_the_role_may_not_use_is_refused_with_missing_scope() {
    let gw = TestGateway::start().await;
    // A case worker may not review the audit log; KBI may not use social assistance.
    let response = gw.get_as("ocmw-gent", "/v1/whoami", "auditReview").await;
    problem(response, 403, "urn:problem-type:belgif:missingScope").await;
    let response = gw.get_as("kbi", "/v1/whoami", "socialAssistance").await;
    problem(response, 403, "urn:problem-type:belgif:missingScope").await;
}

#[tokio::test]
async fn strict_mode_requires_tokens_bound_to_the_presented_certificate() {
    let gw = TestGateway::start_with(|c| c.auth.require_certificate_binding = true).await;
    let unbound = gw.token("ocmw-gent", &["caseWorker"], "sw-1");
    let body = refused(&gw, &unbound).await;
    assert!(body["detail"].as_str().unwrap().contains("bound"), "{body}");

    let thumbprint = |party: &str| {
        let pem = std::fs::read(gw.pki().join(format!("{party}.crt"))).unwrap();
        let der = gateway::crypto::keys::certificates(&gw.pki().join(format!("{party}.crt")))
            .unwrap()
            .remove(0);
        assert!(!pem.is_empty());
        b64(ring::digest::digest(&ring::digest::SHA256, der.as_ref()).as_ref())
    };
    let mut bound = gw.claims("ocmw-gent", &["caseWorker"], "sw-1");
    bound["cnf"] = json!({ "x5t#S256": thumbprint("ocmw-gent") });
    let response = whoami_with(&gw, "ocmw-gent", &gw.sign("ocmw-gent", &bound)).await;
    assert_eq!(response.status(), 200);

    // Bound to another certificate (as if stolen from another system of the same party).
    let mut elsewhere = gw.claims("ocmw-gent", &["caseWorker"], "sw-1");
    elsewhere["cnf"] = json!({ "x5t#S256": thumbprint("amal") });
    refused(&gw, &gw.sign("ocmw-gent", &elsewhere)).await;
}
