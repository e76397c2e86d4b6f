//! Belgif conventions: trace ids on every response, problem+json for every error, and an
//! OpenAPI document that describes the routes.

use crate::harness::library::NO_SUCH_ROUTE;
use crate::harness::{Caller, Endpoint, TestGateway, problem, trace_id};
use reqwest::Method;
use serde_json::Value;

const GENT: (&str, &str) = ("ocmw-gent", "sw-1");

#[tokio::test]
async fn every_response_carries_a_fresh_trace_id_and_echoes_the_callers() {
    let gw = TestGateway::start().await;
    let gent = gw.case_worker(GENT);
    let mut seen = Vec::new();
    for _ in 0..2 {
        let response = gent
            .request(Method::GET, "/v1/whoami")
            .header("BelGov-Trace-Id", "caller-trace-123")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["belgov-related-trace-id"],
            "caller-trace-123"
        );
        let trace = trace_id(&response);
        assert!(uuid::Uuid::parse_str(&trace).is_ok());
        seen.push(trace);
    }
    assert_ne!(seen[0], seen[1]);
    // Errors carry one too.
    let refused = gw
        .session(&Caller::certificate_only("ocmw-gent"))
        .get("/v1/whoami")
        .await;
    assert!(refused.headers().contains_key("belgov-trace-id"));
}

#[tokio::test]
async fn a_malformed_caller_trace_id_is_a_bad_request() {
    let gw = TestGateway::start().await;
    let response = gw
        .session(&Caller::certificate_only("ocmw-gent"))
        .request(Method::GET, "/v1/whoami")
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
    let anonymous = gw.session(&Caller::certificate_only("ocmw-gent"));
    let missing = anonymous.get("/v1/nothing-here").await;
    problem(missing, 404, "urn:problem-type:belgif:resourceNotFound").await;
    // Authentication comes first: only an authenticated caller learns which methods exist.
    let wrong_method = gw.case_worker(GENT).delete("/v1/whoami").await;
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
        .session(&Caller::certificate_only("ocmw-gent"))
        .get("/openapi.json")
        .await;
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["mutualTLS"]["type"], "mutualTLS");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    let paths = doc["paths"].as_object().unwrap();
    // Every documented operation is routed: called as documented (with a placeholder id and an
    // empty body), it answers with anything but "no such route" or "method not allowed".
    let gent = gw.case_worker(GENT);
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let route = path.replace("{clientId}", &uuid::Uuid::new_v4().to_string());
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let empty = serde_json::json!({});
            let (status, body) = gent.call(method.clone(), &route, Some(&empty)).await;
            assert_ne!(status, 405, "{method} {path}");
            assert_ne!(body["detail"], NO_SUCH_ROUTE, "{method} {path}");
        }
    }
    assert!(paths.contains_key("/v1/whoami"));
    let whoami = &paths["/v1/whoami"]["get"];
    assert_eq!(whoami["operationId"], "whoAmI");
    for status in ["200", "400", "401", "403", "429"] {
        assert!(whoami["responses"].get(status).is_some(), "{status}");
    }
    // Every `/v1` operation documents its security, its purpose header and the refusals it
    // shares with the others, each as a problem, with Retry-After where one is sent.
    for (path, item) in paths.iter().filter(|(path, _)| path.starts_with("/v1/")) {
        for (method, operation) in item.as_object().unwrap() {
            let at = format!("{method} {path}");
            assert_eq!(
                operation["security"][0]["mutualTLS"],
                serde_json::json!([]),
                "{at}"
            );
            assert_eq!(
                operation["security"][0]["bearer"],
                serde_json::json!([]),
                "{at}"
            );
            let parameters = operation["parameters"].as_array().unwrap();
            let named = |name: &str| parameters.iter().find(|p| p["name"] == name);
            let purpose = named("Processing-Purpose").expect(&at);
            assert_eq!(purpose["in"], "header", "{at}");
            assert_eq!(purpose["required"], true, "{at}");
            let responses = &operation["responses"];
            let mut shared = vec!["400", "401", "403", "408", "429", "503"];
            if operation.get("requestBody").is_some() {
                shared.extend(["413", "415"]);
            }
            if path.contains("Id}") {
                shared.push("404");
            }
            if named("If-Match").is_some_and(|p| p["required"] == true) {
                shared.push("428");
            }
            for status in shared {
                let content = &responses[status]["content"]["application/problem+json"];
                assert!(content["schema"].is_object(), "{at} {status}");
            }
            for status in ["429", "503"] {
                assert!(
                    responses[status]["headers"]["Retry-After"].is_object(),
                    "{at}"
                );
            }
        }
    }
}
