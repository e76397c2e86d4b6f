//! Mutual TLS: only a certificate from a trusted CA, valid now, naming a configured party,
//! gets an answer.

use crate::helpers::{TestGateway, problem};
use gateway::dev_pki;
use time::{Duration, OffsetDateTime};

fn identity(cert_pem: &str, key_pem: &str) -> reqwest::Identity {
    reqwest::Identity::from_pem(format!("{cert_pem}{key_pem}").as_bytes()).unwrap()
}

async fn whoami(gw: &TestGateway, client: reqwest::Client) -> reqwest::Result<reqwest::Response> {
    client
        .get(gw.url("/v1/whoami"))
        .bearer_auth(gw.token("ocmw-gent", &["caseWorker"], "sw-1"))
        .header("Processing-Purpose", "trajectoryGuidance")
        .send()
        .await
}

#[tokio::test]
async fn a_client_without_a_certificate_is_refused_at_the_handshake() {
    let gw = TestGateway::start().await;
    // With TLS 1.3 the refusal surfaces on the first request; its wording varies.
    assert!(whoami(&gw, gw.client_with(None)).await.is_err());
}

#[tokio::test]
async fn a_certificate_from_an_unknown_ca_is_refused() {
    let gw = TestGateway::start().await;
    let (_, rogue_ca) = dev_pki::new_ca("Rogue CA").unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = dev_pki::client_params("ocmw-gent")
        .unwrap()
        .signed_by(&key, &rogue_ca)
        .unwrap();
    let client = gw.client_with(Some(identity(&cert.pem(), &key.serialize_pem())));
    assert!(whoami(&gw, client).await.is_err());
}

#[tokio::test]
async fn an_expired_certificate_is_refused() {
    let gw = TestGateway::start().await;
    let ca = dev_pki::load_ca(&gw.pki()).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = dev_pki::client_params("ocmw-gent").unwrap();
    params.not_before = OffsetDateTime::now_utc() - Duration::days(30);
    params.not_after = OffsetDateTime::now_utc() - Duration::days(1);
    let cert = params.signed_by(&key, &ca).unwrap();
    let client = gw.client_with(Some(identity(&cert.pem(), &key.serialize_pem())));
    assert!(whoami(&gw, client).await.is_err());
}

#[tokio::test]
async fn a_trusted_certificate_naming_no_party_gets_a_problem_not_data() {
    let gw = TestGateway::start().await;
    let ca = dev_pki::load_ca(&gw.pki()).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = dev_pki::client_params("ocmw-nowhere")
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let client = gw.client_with(Some(identity(&cert.pem(), &key.serialize_pem())));
    let response = whoami(&gw, client).await.unwrap();
    problem(
        response,
        403,
        "urn:problem-type:gateway:unknownClientCertificate",
    )
    .await;
}

#[tokio::test]
async fn a_certificate_is_only_accepted_from_its_own_partys_ca() {
    // Amal gets a CA of its own; OCMW Gent's CA must not be able to speak for Amal.
    let (amal_ca_pem, amal_ca) = dev_pki::new_ca("Amal CA").unwrap();
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
    let token = gw.token("amal", &["caseWorker"], "tb-1");
    let call = |client: reqwest::Client| {
        client
            .get(gw.url("/v1/whoami"))
            .bearer_auth(token.clone())
            .header("Processing-Purpose", "trajectoryGuidance")
            .send()
    };
    // The development CA (trusted for the OCMWs and KBI) issued an "amal" certificate.
    let forged = call(gw.client("amal")).await.unwrap();
    problem(
        forged,
        403,
        "urn:problem-type:gateway:unknownClientCertificate",
    )
    .await;
    // Amal's own CA: accepted.
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = dev_pki::client_params("amal")
        .unwrap()
        .signed_by(&key, &amal_ca)
        .unwrap();
    let genuine = call(gw.client_with(Some(identity(&cert.pem(), &key.serialize_pem()))));
    assert_eq!(genuine.await.unwrap().status(), 200);
}
