//! Belgif conventions: trace ids on every response, problem+json for every error, and an
//! OpenAPI document that describes the routes.

use crate::helpers::{TestGateway, problem};
use serde_json::Value;

#[tokio::test]
async fn every_response_carries_a_fresh_trace_id_and_echoes_the_callers() {
    let gw = TestGateway::start().await;
    let client = gw.client("ocmw-gent");
    let token = gw.token("ocmw-gent", &["caseWorker"], "sw-1");
    let mut seen = Vec::new();
    for _ in 0..2 {
        let response = client
            .get(gw.url("/v1/whoami"))
            .bearer_auth(&token)
            .header("Processing-Purpose", "trajectoryGuidance")
            .header("BelGov-Trace-Id", "caller-trace-123")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["belgov-related-trace-id"],
            "caller-trace-123"
        );
        let trace = response.headers()["belgov-trace-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(uuid::Uuid::parse_str(&trace).is_ok());
        seen.push(trace);
    }
    assert_ne!(seen[0], seen[1]);
    // Errors carry one too.
    let refused = client.get(gw.url("/v1/whoami")).send().await.unwrap();
    assert!(refused.headers().contains_key("belgov-trace-id"));
}

#[tokio::test]
async fn a_malformed_caller_trace_id_is_a_bad_request() {
    let gw = TestGateway::start().await;
    let response = gw
        .client("ocmw-gent")
        .get(gw.url("/v1/whoami"))
        .header("BelGov-Trace-Id", "x".repeat(200))
        .send()
        .await
        .unwrap();
    let body = problem(response, 400, "urn:problem-type:belgif:badRequest").await;
    assert_eq!(body["issues"][0]["name"], "BelGov-Trace-Id");
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_with_problems() {
    let gw = TestGateway::start().await;
    let client = gw.client("ocmw-gent");
    let missing = client.get(gw.url("/v1/nothing-here")).send().await.unwrap();
    problem(missing, 404, "urn:problem-type:belgif:resourceNotFound").await;
    // Authentication comes first: only an authenticated caller learns which methods exist.
    let wrong_method = client
        .delete(gw.url("/v1/whoami"))
        .bearer_auth(gw.token("ocmw-gent", &["caseWorker"], "sw-1"))
        .header("Processing-Purpose", "trajectoryGuidance")
        .send()
        .await
        .unwrap();
    assert!(wrong_method.headers().contains_key("allow"));
    problem(
        wrong_method,
        405,
        "urn:problem-type:gateway:methodNotAllowed",
    )
    .await;
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_it_serves() {
    let gw = TestGateway::start().await;
    let response = gw
        .client("ocmw-gent")
        .get(gw.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["mutualTLS"]["type"], "mutualTLS");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    let paths = doc["paths"].as_object().unwrap();
    // Every documented operation is routed: called as documented (with a placeholder id and an
    // empty body), it answers with anything but "no such route" or "method not allowed".
    let client = gw.client("ocmw-gent");
    let token = gw.token("ocmw-gent", &["caseWorker"], "sw-1");
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let url = gw.url(&path.replace("{clientId}", &uuid::Uuid::new_v4().to_string()));
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let response = client
                .request(method.clone(), url)
                .bearer_auth(&token)
                .header("Processing-Purpose", "trajectoryGuidance")
                .json(&serde_json::json!({}))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            assert_ne!(status, 405, "{method} {path}");
            assert_ne!(
                body["detail"],
                gateway::http::problem::NO_SUCH_ROUTE,
                "{method} {path}"
            );
        }
    }
    assert!(paths.contains_key("/v1/whoami"));
    let whoami = &paths["/v1/whoami"]["get"];
    assert_eq!(whoami["operationId"], "whoAmI");
    for status in ["200", "400", "401", "403", "429"] {
        assert!(whoami["responses"].get(status).is_some(), "{status}");
    }
}
