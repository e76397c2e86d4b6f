//! Limits: body size, slow clients, request rates.

use crate::harness::library::{certificates, private_key};
use crate::harness::{Endpoint, JSON, TestGateway, per_user_rate, problem};
use rustls::pki_types::ServerName;

const GENT: (&str, &str) = ("ocmw-gent", "sw-1");
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn an_oversized_body_is_refused_with_payload_too_large() {
    let gw = TestGateway::start().await;
    let body = vec![b'x'; gw.config.limits.max_body_bytes + 1];
    let response = gw
        .case_worker(GENT)
        .post_raw("/v1/whoami", JSON, body)
        .await;
    let body = problem(response, 413, "urn:problem-type:belgif:payloadTooLarge").await;
    assert!(body.get("issues").is_none());
}

#[tokio::test]
async fn a_client_that_sends_its_headers_too_slowly_is_cut_off() {
    let gw = TestGateway::start_with(|c| c.limits.header_read_timeout_ms = 300).await;
    let pki = gw.pki();
    let mut roots = rustls::RootCertStore::empty();
    for cert in certificates(&pki.join("ca.crt")).unwrap() {
        roots.add(cert).unwrap();
    }
    let chain = certificates(&pki.join("ocmw-gent.crt")).unwrap();
    let key = private_key(&pki.join("ocmw-gent.key")).unwrap();
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .unwrap();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(gw.api).await.unwrap();
    let mut tls = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    tls.write_all(b"GET /v1/whoami HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .unwrap();
    tls.flush().await.unwrap();
    let started = Instant::now();
    let mut received = Vec::new();
    // The rest of the headers never comes; the server must close within its time-out.
    let read = tokio::time::timeout(Duration::from_secs(10), tls.read_to_end(&mut received)).await;
    assert!(read.is_ok(), "the connection was still open after 10 s");
    assert!(started.elapsed() < Duration::from_secs(5));
    let text = String::from_utf8_lossy(&received);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
}

#[tokio::test]
async fn a_party_over_its_quota_gets_too_many_requests_with_retry_after() {
    let gw = TestGateway::start_with(|config| {
        for party in &mut config.parties {
            party.rate_per_second = 1;
            party.rate_burst = 3;
        }
    })
    .await;
    let mut statuses = Vec::new();
    let mut last = None;
    let gent = gw.case_worker(("ocmw-gent", "tester"));
    for _ in 0..6 {
        let response = gent.get("/v1/whoami").await;
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            last = Some(response);
        }
    }
    assert_eq!(&statuses[..3], &[200, 200, 200], "{statuses:?}");
    let response = last.expect("a request beyond the burst was refused");
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after));
    let body = problem(response, 429, "urn:problem-type:belgif:tooManyRequests").await;
    assert_eq!(body["limit"], 1);
    assert_eq!(body["retryAfter"], retry_after);
    // Another party's quota is its own.
    let other = gw.case_worker(("amal", "tester")).get("/v1/whoami").await;
    assert_eq!(other.status(), 200);
}

#[tokio::test]
async fn a_user_over_the_per_user_quota_is_limited_while_colleagues_are_not() {
    let gw = TestGateway::start_with(per_user_rate(1, 2)).await;
    let busy = gw.case_worker(("ocmw-gent", "busy-user"));
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(busy.get("/v1/whoami").await.status().as_u16());
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    let colleague = gw.case_worker(("ocmw-gent", "colleague"));
    assert_eq!(colleague.get("/v1/whoami").await.status(), 200);
}

#[tokio::test]
async fn too_many_or_too_large_header_fields_are_refused_before_any_handler() {
    let gw = TestGateway::start().await;
    let session = gw.case_worker(GENT);
    let send = |count: usize, size: usize| {
        let mut request = session.request(reqwest::Method::GET, "/v1/whoami");
        for i in 0..count {
            request = request.header(format!("x-filler-{i}"), "x".repeat(size));
        }
        request.send()
    };
    assert_eq!(send(10, 10).await.unwrap().status(), 200);
    // More fields than the server parses (HTTP/1.1: gateway::http::tls::MAX_HEADERS).
    let many = send(150, 1).await.unwrap();
    assert_eq!(many.status(), 431);
    // Fields larger together than limits.max_header_bytes.
    let large = send(4, gw.config.limits.max_header_bytes / 2)
        .await
        .unwrap();
    assert_eq!(large.status(), 431);
}
