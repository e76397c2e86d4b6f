//! The operations listener: liveness, readiness, metrics.

use crate::helpers::TestGateway;
use serde_json::Value;

#[tokio::test]
async fn liveness_readiness_and_metrics_answer_on_the_operations_listener() {
    let gw = TestGateway::start().await;
    let http = reqwest::Client::new();
    let health = http.get(gw.ops_url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready: Value = http
        .get(gw.ops_url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["checks"]["database"], true);

    let _ = gw
        .get_as("ocmw-gent", "/v1/whoami", "trajectoryGuidance")
        .await;
    let metrics = http
        .get(gw.ops_url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("gateway_http_requests_total"), "{metrics}");
    assert!(metrics.contains("route=\"/v1/whoami\""));
}
