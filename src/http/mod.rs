//! The HTTP edge: routes, layers, the TLS server, and the mapping of errors to problems.

pub mod audit;
pub mod audit_review;
pub mod auth;
pub mod case_work;
pub mod clients;
pub mod competence;
pub mod consents;
pub mod context;
pub mod events;
pub mod gate_error;
pub mod idempotency;
pub mod infractions;
pub mod json;
pub mod kbi;
pub mod openapi;
pub mod ops;
pub mod policy;
pub mod problem;
pub mod records;
pub mod referrals;
pub mod refusals;
pub mod reports;
pub mod tls;
pub mod whoami;
pub mod witness;

use crate::app::AppState;
use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// The API router with every layer, and the OpenAPI document describing it. The review
/// pages come in as a router of their own, mounted under `/ui` behind the same outer layers
/// (trace ids, time-out, body limit) as the API.
pub fn router(state: AppState, pages: Router<AppState>) -> (Router, utoipa::openapi::OpenApi) {
    let limits = &state.config.limits;
    let v1 = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(whoami::router())
        .merge(clients::router())
        .merge(competence::router())
        .merge(consents::router())
        .merge(records::router())
        .merge(policy::router())
        .merge(events::router())
        .merge(kbi::router())
        .merge(referrals::router())
        .merge(infractions::router())
        .merge(reports::router())
        .merge(audit::router())
        .merge(audit_review::router())
        .merge(witness::router())
        // Inside the refusals' layer: a key refused or found in use is on record as well.
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            idempotency::idempotent,
        ))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            refusals::record_refusals,
        ))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ));
    let (v1, mut api) = v1.split_for_parts();
    openapi::add_shared_responses(&mut api);
    openapi::add_idempotency_keys(&mut api, &idempotency::COVERED);
    let document: Arc<str> = serde_json::to_string(&api).unwrap_or_default().into();
    let router = Router::new()
        .merge(v1)
        .route(
            "/openapi.json",
            get(move || {
                let document = document.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        document.to_string(),
                    )
                }
            }),
        )
        .nest("/ui", pages)
        // `/ui/` is the same page as `/ui`, as people type it.
        .route(
            "/ui/",
            get(|| async { axum::response::Redirect::permanent("/ui") }),
        )
        .route_layer(middleware::from_fn(record_metrics))
        .fallback(|| async {
            problem::Problem::resource_not_found().detail(problem::NO_SUCH_ROUTE)
        })
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_millis(limits.request_timeout_ms),
        ))
        .layer(middleware::map_response(response_headers))
        .layer(middleware::from_fn(context::request_context))
        .with_state(state);
    (router, api)
}

/// Headers every answer carries. `Cache-Control: no-store` unless a handler said otherwise:
/// almost every answer holds personal or audit data (records, explanations, proofs, the
/// monitoring), and one a handler forgot must not end up in a cache.
async fn response_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(header::HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::STRICT_TRANSPORT_SECURITY,
        header::HeaderValue::from_static("max-age=31536000"),
    );
    response
}

/// Request counts and latencies per route template (never per concrete path, which would
/// carry identifiers into the metrics and explode their cardinality).
async fn record_metrics(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_default();
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("gateway_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("gateway_http_request_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response.into_response()
}
