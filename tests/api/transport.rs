//! Mutual TLS: only a certificate from a trusted CA, valid now, naming a configured party,
//! gets an answer.

use crate::harness::{
    Caller, Endpoint, Issued, TestGateway, another_ca, development_ca, issue, problem,
};
use reqwest::{Method, Response};
use time::{Duration, OffsetDateTime};

const UNKNOWN_CERTIFICATE: &str = "urn:problem-type:gateway:unknownClientCertificate";

/// `GET /v1/whoami` as `caller`, or the transport's error.
async fn whoami(gw: &TestGateway, caller: Caller) -> reqwest::Result<Response> {
    gw.session(&caller)
        .try_send(Method::GET, "/v1/whoami", None)
        .await
}

/// Whether the handshake with `cert` (certificate and key) fails.
async fn refused_at_handshake(gw: &TestGateway, cert: &Issued) -> bool {
    whoami(gw, gent().with_identity(&cert.identity()))
        .await
        .is_err()
}

/// A case worker of Gent, whose certificate the tests change.
fn gent() -> Caller {
    Caller::case_worker(("ocmw-gent", "sw-1"))
}

#[tokio::test]
async fn a_client_without_a_certificate_is_refused_at_the_handshake() {
    let gw = TestGateway::start().await;
    // With TLS 1.3 the refusal surfaces on the first request; its wording varies.
    assert!(whoami(&gw, gent().without_certificate()).await.is_err());
}

#[tokio::test]
async fn a_certificate_from_an_unknown_ca_is_refused() {
    let gw = TestGateway::start().await;
    let (_, rogue_ca) = another_ca("Rogue CA");
    let cert = issue(&rogue_ca, "ocmw-gent", |_| {});
    assert!(refused_at_handshake(&gw, &cert).await);
}

#[tokio::test]
async fn an_expired_certificate_is_refused() {
    let gw = TestGateway::start().await;
    let cert = issue(&development_ca(&gw.pki()), "ocmw-gent", |params| {
        params.not_before = OffsetDateTime::now_utc() - Duration::days(30);
        params.not_after = OffsetDateTime::now_utc() - Duration::days(1);
    });
    assert!(refused_at_handshake(&gw, &cert).await);
}

#[tokio::test]
async fn a_trusted_certificate_naming_no_party_gets_a_problem_not_data() {
    let gw = TestGateway::start().await;
    let cert = issue(&development_ca(&gw.pki()), "ocmw-nowhere", |_| {});
    let caller = gent().with_identity(&cert.identity());
    let response = whoami(&gw, caller).await.unwrap();
    problem(response, 403, UNKNOWN_CERTIFICATE).await;
}

#[tokio::test]
async fn a_certificate_is_only_accepted_from_its_own_partys_ca() {
    // Amal gets a CA of its own; OCMW Gent's CA must not be able to speak for Amal.
    let (amal_ca_pem, amal_ca) = another_ca("Amal CA");
    let dir = tempfile::tempdir().unwrap();
    let amal_ca_file = dir.path().join("amal-ca.crt");
    std::fs::write(&amal_ca_file, &amal_ca_pem).unwrap();
    let gw = TestGateway::start_with(|config| {
        let amal = config
            .parties
            .iter_mut()
            .find(|p| p.id.as_str() == "amal")
            .unwrap();
        amal.trusted_ca = amal_ca_file.clone();
    })
    .await;
    let amal = Caller::case_worker(("amal", "tb-1"));
    // The development CA (trusted for the OCMWs and KBI) issued an "amal" certificate.
    let forged = whoami(&gw, amal.clone()).await.unwrap();
    problem(forged, 403, UNKNOWN_CERTIFICATE).await;
    // Amal's own CA: accepted.
    let cert = issue(&amal_ca, "amal", |_| {});
    let genuine = whoami(&gw, amal.with_identity(&cert.identity())).await;
    assert_eq!(genuine.unwrap().status(), 200);
}
