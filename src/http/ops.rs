//! The operations listener: liveness, readiness and Prometheus metrics, on a separate local
//! address so that none of it is exposed with the API.

use crate::app::AppState;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/healthz",
            get(|| async { (StatusCode::OK, Json(json!({"status": "up"}))) }),
        )
        .route("/readyz", get(ready))
        .route("/metrics", get(render_metrics))
        .with_state(state)
}

/// Ready only while personal data could be served safely: the database answers, the audit
/// log takes appends and still extends the last checkpoint signed (its anchor outside the
/// database). Keys are loaded at start-up or the process does not start.
async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let database = state.gate.database_answers().await;
    let audit_log = state.gate.audit_is_writable().await;
    let revocation = state
        .revocation
        .as_ref()
        .is_none_or(|lists| lists.is_current());
    let anchor_problem = state.gate.anchor_problem();
    let ready = database && audit_log && revocation && anchor_problem.is_none();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut body = json!({
        "status": if ready { "ready" } else { "notReady" },
        "checks": {
            "database": database,
            "auditLog": audit_log,
            "auditAnchor": anchor_problem.is_none(),
            "keys": true,
            "revocationLists": revocation,
        },
    });
    if let Some(found) = anchor_problem {
        body["problem"] = json!(found);
    }
    (status, Json(body))
}

async fn render_metrics(State(state): State<AppState>) -> impl IntoResponse {
    let text = state
        .metrics
        .as_ref()
        .map(|handle| handle.render())
        .unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}
