//! Infractions (SWO art. 12): the integration agency records one on a client, the gateway
//! routes it to the party that holds the sanction authority at that moment, and that party
//! records its decision (for the OCMW, its BCSD's). Handled under the purpose `sanctioning`.

use super::case_work::{client_in_path, path_id, personal, refuse, require_purpose};
use super::json::JsonBody;
use super::problem::{InputIssue, Problem};
use crate::app::AppState;
use crate::audit::record::{format_time, from_micros};
use crate::auth::principal::Principal;
use crate::domain::infraction::{InfractionKind, NewInfraction, SanctionDecision, SanctionOutcome};
use crate::domain::purpose::Purpose;
use crate::domain::record::values::parse_date;
use crate::gate::action;
use crate::http::context::RequestContext;
use crate::store::infractions::StoredInfraction;
use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

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

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecisionView {
    decision: String,
    decided_on: String,
    note: String,
    decided_by: String,
    decided_at: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InfractionView {
    infraction_id: String,
    client_id: String,
    kind: String,
    /// The article of the agreement the kind refers to.
    article: &'static str,
    occurred_on: String,
    description: String,
    /// Who held the sanction authority when it was recorded (`ocmw` or `integrationAgency`):
    /// that party decides.
    routed_to: String,
    recorded_by: String,
    recorded_at: String,
    decision: Option<DecisionView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct InfractionList {
    items: Vec<InfractionView>,
}

fn view(i: StoredInfraction) -> InfractionView {
    let article = InfractionKind::parse(&i.kind).map_or("SWO art. 12", InfractionKind::article);
    InfractionView {
        infraction_id: i.infraction_id,
        client_id: i.client_id,
        kind: i.kind,
        article,
        occurred_on: i.occurred_on,
        description: i.description,
        routed_to: i.routed_to,
        recorded_by: i.recorded_by_party,
        recorded_at: format_time(from_micros(i.recorded_at)),
        decision: i.decision.map(|d| DecisionView {
            decision: d.decision,
            decided_on: d.decided_on,
            note: d.note,
            decided_by: d.party,
            decided_at: format_time(from_micros(d.decided_at)),
        }),
    }
}

/// A client id from the path, under the purpose `sanctioning`; refusals on record.
async fn sanctioning_client(
    state: &AppState,
    who: &Principal,
    ctx: &RequestContext,
    act: &'static str,
    raw: &str,
) -> Result<Uuid, Response> {
    let permitted = who.purpose == Purpose::Sanctioning;
    require_purpose(
        state,
        who,
        ctx,
        act,
        permitted,
        "infractions are handled with the purpose sanctioning",
    )
    .await?;
    client_in_path(state, who, ctx, act, raw).await
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

fn parse_new(body: InfractionRequest) -> Result<NewInfraction, Problem> {
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

fn parse_decision(body: SanctionDecisionRequest) -> Result<SanctionDecision, Problem> {
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
#[utoipa::path(post, path = "/v1/clients/{clientId}/infractions", operation_id = "recordInfraction", tag = "infractions",
    request_body = InfractionRequest,
    params(("clientId" = String, Path, description = "The client id"),
           ("Processing-Purpose" = String, Header, description = "sanctioning")),
    responses((status = 201, description = "Recorded and routed", body = InfractionView),
              (status = 400, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Only the integration agency records infractions", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "Unknown client, or not linked to the caller", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Refused by the agreement's rules", body = Problem, content_type = "application/problem+json")),
    security(("mutualTLS" = [], "bearer" = [])))]
pub async fn record_infraction(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Extension(ctx): Extension<RequestContext>,
    Path(client_id): Path<String>,
    body: Result<JsonBody<InfractionRequest>, Problem>,
) -> Response {
    let act = action::RECORD_INFRACTION;
    let client = match sanctioning_client(&state, &who, &ctx, act, &client_id).await {
        Ok(client) => client,
        Err(refusal) => return refusal,
    };
    let new = match body.and_then(|JsonBody(body)| parse_new(body)) {
        Ok(new) => new,
        Err(problem) => return refuse(&state, &who, &ctx, act, "invalidInput", problem).await,
    };
    match state.gate.record_infraction(&who, &ctx, &client, new).await {
        Ok(recorded) => {
            let location = format!(
                "/v1/clients/{}/infractions/{}",
                recorded.client_id, recorded.infraction_id
            );
            let mut response = personal(StatusCode::CREATED, Json(view(recorded)));
            if let Ok(value) = location.parse() {
                response.headers_mut().insert(header::LOCATION, value);
            }
            response
        }
        Err(error) => Problem::from(error).into_response(),
    }
}

/// The client's infractions the caller may see: the agency all of them, an OCMW those routed
/// to the OCMW. Newest first.
#[utoipa::path(get, path = "/v1/clients/{clientId}/infractions", operation_id = "listInfractions", tag = "infractions",
    params(("clientId" = String, Path, description = "The client id"),
           ("pageSize" = Option<i64>, Query, description = "At most this many (1 to 500, default 100)"),
           ("Processing-Purpose" = String, Header, description = "sanctioning")),
    responses((status = 200, description = "The infractions", body = InfractionList),
              (status = 400, description = "Invalid parameters", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "Unknown client, or not linked to the caller", body = Problem, content_type = "application/problem+json")),
    security(("mutualTLS" = [], "bearer" = [])))]
pub async fn list_infractions(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Extension(ctx): Extension<RequestContext>,
    Path(client_id): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let act = action::LIST_INFRACTIONS;
    let client = match sanctioning_client(&state, &who, &ctx, act, &client_id).await {
        Ok(client) => client,
        Err(refusal) => return refusal,
    };
    let mut issues: Vec<InputIssue> = query
        .keys()
        .filter(|k| k.as_str() != "pageSize")
        .map(|name| InputIssue::new("query", name.clone(), "unknown parameter"))
        .collect();
    let page_size = match query.get("pageSize") {
        None => 100,
        Some(text) => match text.parse::<i64>() {
            Ok(n) if (1..=500).contains(&n) => n,
            _ => {
                issues.push(InputIssue::new(
                    "query",
                    "pageSize",
                    "an integer from 1 to 500",
                ));
                100
            }
        },
    };
    if !issues.is_empty() {
        let problem = Problem::bad_request(issues);
        return refuse(&state, &who, &ctx, act, "invalidInput", problem).await;
    }
    match state
        .gate
        .list_infractions(&who, &ctx, &client, page_size)
        .await
    {
        Ok(found) => personal(
            StatusCode::OK,
            Json(InfractionList {
                items: found.into_iter().map(view).collect(),
            }),
        ),
        Err(error) => Problem::from(error).into_response(),
    }
}

/// One infraction of the client, if the caller may see it.
#[utoipa::path(get, path = "/v1/clients/{clientId}/infractions/{infractionId}", operation_id = "readInfraction", tag = "infractions",
    params(("clientId" = String, Path, description = "The client id"),
           ("infractionId" = String, Path, description = "The infraction id"),
           ("Processing-Purpose" = String, Header, description = "sanctioning")),
    responses((status = 200, description = "The infraction", body = InfractionView),
              (status = 404, description = "Unknown, or not the caller's to see", body = Problem, content_type = "application/problem+json")),
    security(("mutualTLS" = [], "bearer" = [])))]
pub async fn read_infraction(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Extension(ctx): Extension<RequestContext>,
    Path((client_id, infraction_id)): Path<(String, String)>,
) -> Response {
    let act = action::READ_INFRACTION;
    let client = match sanctioning_client(&state, &who, &ctx, act, &client_id).await {
        Ok(client) => client,
        Err(refusal) => return refusal,
    };
    let id = match path_id(&state, &who, &ctx, act, "infractionId", &infraction_id).await {
        Ok(id) => id,
        Err(refusal) => return refusal,
    };
    match state.gate.read_infraction(&who, &ctx, &client, &id).await {
        Ok(found) => personal(StatusCode::OK, Json(view(found))),
        Err(error) => Problem::from(error).into_response(),
    }
}

/// The party the infraction was routed to records its decision: the OCMW its BCSD's, the
/// agency its own. Once.
#[utoipa::path(post, path = "/v1/clients/{clientId}/infractions/{infractionId}/decision", operation_id = "decideInfraction", tag = "infractions",
    request_body = SanctionDecisionRequest,
    params(("clientId" = String, Path, description = "The client id"),
           ("infractionId" = String, Path, description = "The infraction id"),
           ("Processing-Purpose" = String, Header, description = "sanctioning")),
    responses((status = 200, description = "Decided", body = InfractionView),
              (status = 400, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not routed to the caller", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "Unknown, or not the caller's to see", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Already decided", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Refused by the agreement's rules", body = Problem, content_type = "application/problem+json")),
    security(("mutualTLS" = [], "bearer" = [])))]
pub async fn decide_infraction(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Extension(ctx): Extension<RequestContext>,
    Path((client_id, infraction_id)): Path<(String, String)>,
    body: Result<JsonBody<SanctionDecisionRequest>, Problem>,
) -> Response {
    let act = action::DECIDE_INFRACTION;
    let client = match sanctioning_client(&state, &who, &ctx, act, &client_id).await {
        Ok(client) => client,
        Err(refusal) => return refusal,
    };
    let id = match path_id(&state, &who, &ctx, act, "infractionId", &infraction_id).await {
        Ok(id) => id,
        Err(refusal) => return refusal,
    };
    let decision = match body.and_then(|JsonBody(body)| parse_decision(body)) {
        Ok(decision) => decision,
        Err(problem) => return refuse(&state, &who, &ctx, act, "invalidInput", problem).await,
    };
    match state
        .gate
        .decide_infraction(&who, &ctx, &client, &id, decision)
        .await
    {
        Ok(decided) => personal(StatusCode::OK, Json(view(decided))),
        Err(error) => Problem::from(error).into_response(),
    }
}
