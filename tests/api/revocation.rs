//! Certificate revocation: `gateway dev-pki revoke <name>` puts a certificate on the
//! development CA's revocation list, and the running gateway refuses it at the handshake
//! within seconds, without a restart: a party's system and a privacy officer's personal
//! certificate alike, while every other certificate still works. An expired list fails
//! closed and readiness says so.

use crate::harness::{Caller, Deployment, Endpoint, development_ca};
use reqwest::Method;
use std::time::{Duration, Instant};

const OFFICER: &str = "ocmw-gent-privacy-officer";

/// Whether `caller` gets through the handshake (any HTTP answer) on a fresh connection.
async fn handshakes(gateway: &impl Endpoint, caller: &Caller, path: &str) -> bool {
    gateway
        .session(caller)
        .try_send(Method::GET, path, None)
        .await
        .is_ok()
}

/// Waits (bounded) until `caller` no longer gets through.
async fn refused_soon(gateway: &impl Endpoint, caller: &Caller, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while handshakes(gateway, caller, path).await {
        assert!(
            Instant::now() < deadline,
            "{path}: still accepted after revocation"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_revoked_party_or_officer_certificate_is_refused_without_a_restart() {
    let deployment = Deployment::new();
    let gateway = deployment.start().await;
    let gent = Caller::case_worker(("ocmw-gent", "sw-revoked"));
    let amal = Caller::case_worker(("amal", "tb-kept"));
    let officer = Caller::certificate_only(OFFICER);
    assert_eq!(gateway.session(&gent).get("/v1/whoami").await.status(), 200);
    assert_eq!(gateway.session(&officer).get("/ui").await.status(), 200);

    let revoked = deployment.cli(&["dev-pki", "revoke", "ocmw-gent"]);
    assert!(revoked.status.success(), "{revoked}");
    refused_soon(&gateway, &gent, "/v1/whoami").await;
    // Everyone else still gets in.
    assert_eq!(gateway.session(&amal).get("/v1/whoami").await.status(), 200);
    assert_eq!(gateway.session(&officer).get("/ui").await.status(), 200);

    let revoked = deployment.cli(&["dev-pki", "revoke", OFFICER]);
    assert!(revoked.status.success(), "{revoked}");
    refused_soon(&gateway, &officer, "/ui").await;
    assert!(
        !handshakes(&gateway, &gent, "/v1/whoami").await,
        "the first revocation holds"
    );
    assert_eq!(gateway.session(&amal).get("/v1/whoami").await.status(), 200);

    // A name that is no certificate is refused, and changes nothing.
    let unknown = deployment.cli(&["dev-pki", "revoke", "no-such-party"]);
    assert!(!unknown.status.success(), "{unknown}");
    let ready = reqwest::get(format!(
        "http://{}/readyz",
        gateway.config().server.ops_listen
    ))
    .await
    .unwrap();
    assert_eq!(ready.status(), 200);
    gateway.stop().await;
}

#[tokio::test]
async fn a_revocation_list_that_no_longer_loads_fails_closed_and_readiness_says_so() {
    let deployment = Deployment::new();
    let gateway = deployment.start().await;
    let amal = Caller::case_worker(("amal", "tb-closed"));
    assert_eq!(gateway.session(&amal).get("/v1/whoami").await.status(), 200);
    let crl = deployment.config.server.client_crls[0].clone();
    std::fs::write(
        &crl,
        "-----BEGIN X509 CRL-----\nbm90IGEgbGlzdA==\n-----END X509 CRL-----\n",
    )
    .unwrap();
    refused_soon(&gateway, &amal, "/v1/whoami").await;
    let ready = reqwest::get(format!(
        "http://{}/readyz",
        gateway.config().server.ops_listen
    ))
    .await
    .unwrap();
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["checks"]["revocationLists"], false, "{body}");
    gateway.stop().await;
}

#[tokio::test]
async fn a_revocation_list_past_its_next_update_fails_closed_and_readiness_says_so() {
    let deployment = Deployment::new();
    let gateway = deployment.start().await;
    let amal = Caller::case_worker(("amal", "tb-expired"));
    assert_eq!(gateway.session(&amal).get("/v1/whoami").await.status(), 200);
    // A list the CA really signed, revoking nobody, whose nextUpdate has passed: whoever
    // stopped renewing it must not leave revocation unchecked.
    let ca = development_ca(&gateway.pki());
    let now = time::OffsetDateTime::now_utc();
    let params = rcgen::CertificateRevocationListParams {
        this_update: now - time::Duration::days(2),
        next_update: now - time::Duration::days(1),
        crl_number: rcgen::SerialNumber::from(vec![0x7f, 0x01]),
        issuing_distribution_point: None,
        revoked_certs: Vec::new(),
        key_identifier_method: rcgen::KeyIdMethod::Sha256,
    };
    let crl = params.signed_by(&ca).unwrap().pem().unwrap();
    let path = deployment.config.server.client_crls[0].clone();
    let staged = path.with_extension("new");
    std::fs::write(&staged, crl).unwrap();
    std::fs::rename(&staged, &path).unwrap();

    refused_soon(&gateway, &amal, "/v1/whoami").await;
    let ready = reqwest::get(format!(
        "http://{}/readyz",
        gateway.config().server.ops_listen
    ))
    .await
    .unwrap();
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["checks"]["revocationLists"], false, "{body}");
    let finished = gateway.stop().await;
    assert!(
        finished.all_output().contains("past its nextUpdate"),
        "a clear log line: {finished}"
    );
}
