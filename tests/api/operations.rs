//! The operations listener: liveness, readiness, metrics.

use crate::harness::{Endpoint, TestGateway};
use serde_json::Value;

#[tokio::test]
async fn liveness_readiness_and_metrics_answer_on_the_operations_listener() {
    let gw = TestGateway::start().await;
    let health = gw.ops_get("/healthz").await;
    assert_eq!(health.status(), 200);
    let ready: Value = gw.ops_get("/readyz").await.json().await.unwrap();
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["checks"]["database"], true);

    let _ = gw
        .case_worker(("ocmw-gent", "tester"))
        .get("/v1/whoami")
        .await;
    let metrics = gw.ops_get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("gateway_http_requests_total"), "{metrics}");
    assert!(metrics.contains("route=\"/v1/whoami\""));
}
