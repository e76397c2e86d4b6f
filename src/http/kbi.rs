//! Attests from the Kruispuntbank Inburgering (SWO art. 13): KBI notifies the attest a client
//! obtained; the gateway records it and every party linked to the client learns of it through
//! its events. Only a KBI system, for the purpose `attestRegistration`; idempotent on KBI's
//! reference.

use super::case_work::{invalid, personal, require_purpose};
use super::json::JsonBody;
use super::problem::{InputIssue, Problem};
use crate::app::AppState;
use crate::domain::link::DossierReference;
use crate::domain::purpose::Purpose;
use crate::domain::record::values::{Attest, AttestKind, parse_date};
use crate::domain::ssin::Ssin;
use crate::gate::Caller;
use crate::gate::action;
use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(register_attest))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AttestRequest {
    /// The national register number (INSZ/SSIN) of the client.
    ssin: String,
    /// `integrationAttest` or `effortAttest`.
    kind: String,
    /// The date the attest was issued (ISO 8601).
    issued_on: String,
    /// KBI's own reference of the notification: a repeat with the same reference changes nothing.
    reference: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttestReceipt {
    client_id: String,
    reference: String,
}

/// The attest's members, or every one that is wrong.
pub fn parse(body: &AttestRequest) -> Result<(Ssin, Attest, DossierReference), Vec<InputIssue>> {
    let ssin = Ssin::parse(&body.ssin).map_err(|e| InputIssue::new("body", "/ssin", e.reason()));
    let kind = AttestKind::parse(&body.kind).ok_or_else(|| {
        InputIssue::new("body", "/kind", "integrationAttest or effortAttest")
            .with_value(body.kind.clone())
    });
    let today = time::OffsetDateTime::now_utc().date();
    let issued_on = parse_date(&body.issued_on)
        .filter(|date| *date <= today)
        .ok_or_else(|| InputIssue::new("body", "/issuedOn", "an ISO 8601 date, not in the future"));
    let reference = DossierReference::parse(&body.reference)
        .map_err(|e| InputIssue::new("body", "/reference", e.to_string()));
    match (ssin, kind, issued_on, reference) {
        (Ok(ssin), Ok(kind), Ok(issued_on), Ok(reference)) => {
            Ok((ssin, Attest { kind, issued_on }, reference))
        }
        (ssin, kind, issued_on, reference) => {
            Err([ssin.err(), kind.err(), issued_on.err(), reference.err()]
                .into_iter()
                .flatten()
                .collect())
        }
    }
}

/// Registers an attest notified by KBI and announces it to the client's linked parties.
#[utoipa::path(post, path = "/v1/kbi/attests", operation_id = action::REGISTER_ATTEST, tag = "kbi",
    request_body = AttestRequest,
    responses((status = 201, description = "Recorded", body = AttestReceipt),
              (status = 200, description = "Notified before with this reference; nothing changed", body = AttestReceipt),
              (status = 403, description = "Not a KBI system registering attests", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The reference was notified before with other content", body = Problem, content_type = "application/problem+json")))]
pub async fn register_attest(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    body: Result<JsonBody<AttestRequest>, Problem>,
) -> Result<Response, Problem> {
    let act = action::REGISTER_ATTEST;
    let permitted = who.purpose == Purpose::AttestRegistration;
    let detail = "attests are registered with the purpose attestRegistration";
    require_purpose(act, permitted, detail)?;
    let JsonBody(body) = body.map_err(|problem| invalid(act, problem))?;
    let (ssin, attest, reference) =
        parse(&body).map_err(|issues| invalid(act, Problem::bad_request(issues)))?;
    let recorded = state
        .gate
        .record_attest(&who, &ssin, attest, &reference)
        .await?;
    let status = if recorded.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let receipt = AttestReceipt {
        client_id: recorded.client_id,
        reference: reference.as_str().to_owned(),
    };
    Ok(personal(status, Json(receipt)))
}
