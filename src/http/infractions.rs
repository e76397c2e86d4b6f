//! Infractions (SWO art. 12): the integration agency records one on a client, the gateway
//! routes it to the party that holds the sanction authority at that moment, and that party
//! records its decision (for the OCMW, its BCSD's). Handled under the purpose `sanctioning`.

use super::case_work::{
    bad_query, client_in_path, created, invalid, path_id, personal, require_purpose,
};
use super::json::JsonBody;
use super::problem::{InputIssue, Problem};
use crate::app::AppState;
use crate::domain::client_id::ClientId;
use crate::domain::infraction::{InfractionKind, NewInfraction, SanctionDecision, SanctionOutcome};
use crate::domain::purpose::Purpose;
use crate::domain::record::values::parse_date;
use crate::gate::Caller;
use crate::gate::action;
use crate::gate::parameters::{Cursor, Parameters};
use crate::gate::views::InfractionView;
use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Serialize, utoipa::ToSchema)]
pub struct InfractionList {
    items: Vec<InfractionView>,
    /// Pass as `after` for the next page; `null` on the last page.
    next: Option<String>,
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(record_infraction, list_infractions))
        .routes(routes!(read_infraction))
        .routes(routes!(decide_infraction))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InfractionRequest {
    /// missedCourse, noVdabRegistration, noParticipation, noIntegrationContract or other.
    kind: String,
    /// The day it happened (YYYY-MM-DD), today at the latest.
    occurred_on: String,
    /// Up to 2000 characters; required for `other`.
    #[serde(default)]
    description: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SanctionDecisionRequest {
    /// noSanction, warning, suspension (the OCMW only) or other.
    decision: String,
    /// The day of the decision (YYYY-MM-DD): not before the infraction, not after today.
    decided_on: String,
    /// Up to 2000 characters; required for `other`.
    #[serde(default)]
    note: String,
}

/// A client id from the path, under the purpose `sanctioning`; refusals on record.
fn sanctioning_client(who: &Caller, act: &'static str, raw: &str) -> Result<ClientId, Problem> {
    let permitted = who.purpose == Purpose::Sanctioning;
    let detail = "infractions are handled with the purpose sanctioning";
    require_purpose(act, permitted, detail)?;
    client_in_path(who, act, raw)
}

/// Two required members, each parsed or named in the refusal, so that a request with both
/// wrong hears of both. Each comes as (value, JSON pointer, what is expected).
fn both<A, B>(
    a: (Option<A>, &'static str, &'static str),
    b: (Option<B>, &'static str, &'static str),
) -> Result<(A, B), Problem> {
    match (a.0, b.0) {
        (Some(a), Some(b)) => Ok((a, b)),
        (first, second) => {
            let mut issues = Vec::new();
            if first.is_none() {
                issues.push(InputIssue::new("body", a.1, a.2));
            }
            if second.is_none() {
                issues.push(InputIssue::new("body", b.1, b.2));
            }
            Err(Problem::bad_request(issues))
        }
    }
}

/// The infraction's members, or both that are wrong.
pub fn parse_new(body: InfractionRequest) -> Result<NewInfraction, Problem> {
    let (kind, occurred_on) = both(
        (
            InfractionKind::parse(&body.kind),
            "/kind",
            "missedCourse, noVdabRegistration, noParticipation, noIntegrationContract or other",
        ),
        (
            parse_date(&body.occurred_on),
            "/occurredOn",
            "a date (YYYY-MM-DD)",
        ),
    )?;
    Ok(NewInfraction {
        kind,
        occurred_on,
        description: body.description,
    })
}

/// The decision's members, or both that are wrong.
pub fn parse_decision(body: SanctionDecisionRequest) -> Result<SanctionDecision, Problem> {
    let (decision, decided_on) = both(
        (
            SanctionOutcome::parse(&body.decision),
            "/decision",
            "noSanction, warning, suspension or other",
        ),
        (
            parse_date(&body.decided_on),
            "/decidedOn",
            "a date (YYYY-MM-DD)",
        ),
    )?;
    Ok(SanctionDecision {
        decision,
        decided_on,
        note: body.note,
    })
}

/// The integration agency records an infraction; it is routed to the sanction authority of
/// this moment.
#[utoipa::path(post, path = "/v1/clients/{clientId}/infractions", operation_id = action::RECORD_INFRACTION, tag = "infractions",
    request_body = InfractionRequest,
    responses((status = 201, description = "Recorded and routed", body = InfractionView),
              (status = 403, description = "Only the integration agency records infractions", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Refused by the agreement's rules", body = Problem, content_type = "application/problem+json")))]
pub async fn record_infraction(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Path(client_id): Path<String>,
    body: Result<JsonBody<InfractionRequest>, Problem>,
) -> Result<Response, Problem> {
    let act = action::RECORD_INFRACTION;
    let client_id = sanctioning_client(&who, act, &client_id)?;
    let new = body
        .and_then(|JsonBody(body)| parse_new(body))
        .map_err(|problem| invalid(act, problem))?;
    let client = state.gate.linked(&who, act, &client_id).await?;
    let recorded = state.gate.record_infraction(&who, &client, new).await?;
    let location = format!(
        "/v1/clients/{}/infractions/{}",
        recorded.client_id, recorded.infraction_id
    );
    Ok(created(&location, Json(recorded)))
}

/// The client's infractions the caller may see: the agency all of them, an OCMW those routed
/// to the OCMW. Newest first.
#[utoipa::path(get, path = "/v1/clients/{clientId}/infractions", operation_id = action::LIST_INFRACTIONS, tag = "infractions",
    params(("after" = Option<String>, Query, description = "The cursor: the `next` of the page before"),
           ("pageSize" = Option<i64>, Query, description = "At most this many (1 to 500, default 100)")),
    responses((status = 200, description = "A page of the infractions, newest first", body = InfractionList)))]
pub async fn list_infractions(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Path(client_id): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<Response, Problem> {
    let act = action::LIST_INFRACTIONS;
    let client_id = sanctioning_client(&who, act, &client_id)?;
    let mut parameters = Parameters::new(&query);
    let size = parameters.integer("pageSize", 1..=500, 100);
    let after = parameters.optional("after", "a cursor from a page's `next`", Cursor::parse);
    parameters.refuse_unknown(&["pageSize", "after"]);
    parameters
        .finish(())
        .map_err(|issues| invalid(act, bad_query(issues)))?;
    let client = state.gate.linked(&who, act, &client_id).await?;
    let page = state
        .gate
        .list_infractions(&who, &client, (after.as_ref(), size))
        .await?;
    let body = InfractionList {
        items: page.items,
        next: page.next.map(|c| c.to_string()),
    };
    Ok(personal(StatusCode::OK, Json(body)))
}

/// One infraction of the client, if the caller may see it.
#[utoipa::path(get, path = "/v1/clients/{clientId}/infractions/{infractionId}", operation_id = action::READ_INFRACTION, tag = "infractions",
    responses((status = 200, description = "The infraction", body = InfractionView)))]
pub async fn read_infraction(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Path((client_id, infraction_id)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let act = action::READ_INFRACTION;
    let client_id = sanctioning_client(&who, act, &client_id)?;
    let id = path_id(act, "infractionId", &infraction_id)?;
    let client = state.gate.linked(&who, act, &client_id).await?;
    let found = state.gate.read_infraction(&who, &client, &id).await?;
    Ok(personal(StatusCode::OK, Json(found)))
}

/// The party the infraction was routed to records its decision: the OCMW its BCSD's, the
/// agency its own. Once.
#[utoipa::path(post, path = "/v1/clients/{clientId}/infractions/{infractionId}/decision", operation_id = action::DECIDE_INFRACTION, tag = "infractions",
    request_body = SanctionDecisionRequest,
    responses((status = 200, description = "Decided", body = InfractionView),
              (status = 403, description = "Not routed to the caller", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Already decided", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Refused by the agreement's rules", body = Problem, content_type = "application/problem+json")))]
pub async fn decide_infraction(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Path((client_id, infraction_id)): Path<(String, String)>,
    body: Result<JsonBody<SanctionDecisionRequest>, Problem>,
) -> Result<Response, Problem> {
    let act = action::DECIDE_INFRACTION;
    let client_id = sanctioning_client(&who, act, &client_id)?;
    let id = path_id(act, "infractionId", &infraction_id)?;
    let decision = body
        .and_then(|JsonBody(body)| parse_decision(body))
        .map_err(|problem| invalid(act, problem))?;
    let client = state.gate.linked(&who, act, &client_id).await?;
    let decided = state
        .gate
        .decide_infraction(&who, &client, &id, decision)
        .await?;
    Ok(personal(StatusCode::OK, Json(decided)))
}
