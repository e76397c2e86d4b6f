//! Referrals (SWO art. 4; between OCMWs after the partner agreement): proposed by a party
//! linked to the client, answered by the receiver (a refusal with a written reason), completed
//! or withdrawn, with feedback ("terugkoppeling") from either side. Seen by its two parties only.

use super::case_work::{path_id, personal, refuse, require_purpose};
use super::json::JsonBody;
use super::problem::{InputIssue, Problem};
use crate::app::AppState;
use crate::domain::purpose::Purpose;
use crate::domain::referral::{ReferralEvent, ReferralStatus};
use crate::gate::Caller;
use crate::gate::action;
use crate::gate::views::{ReferralDetail, ReferralSummary};
use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_referral, list_referrals))
        .routes(routes!(read_referral))
        .routes(routes!(decide_referral))
        .routes(routes!(add_referral_feedback))
        .routes(routes!(complete_referral))
        .routes(routes!(withdraw_referral))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReferralRequest {
    client_id: String,
    to_party: String,
    reason: String,
    /// Between OCMWs: the reference of the national register extract proving eligibility.
    #[serde(default)]
    evidence_reference: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// `accept` or `refuse`.
    decision: String,
    /// Required for a refusal.
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequest {
    message: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReferralList {
    items: Vec<ReferralSummary>,
}

fn detail(view: ReferralDetail, status: StatusCode) -> Response {
    personal(status, Json(view))
}

async fn require_referral_purpose(
    state: &AppState,
    who: &Caller,
    act: &'static str,
) -> Result<(), Response> {
    let permitted = who.purpose == Purpose::Referral;
    require_purpose(
        state,
        who,
        act,
        permitted,
        "referrals are exchanged with the purpose referral",
    )
    .await
}

/// Proposes a referral of a client the caller's party is linked to.
#[utoipa::path(post, path = "/v1/referrals", operation_id = "createReferral", tag = "referrals",
    request_body = ReferralRequest,
    params(("Processing-Purpose" = String, Header, description = "referral")),
    responses((status = 201, description = "Proposed", body = ReferralDetail),
              (status = 400, description = "Invalid input or a referral the agreement does not provide for", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "Unknown client, or not linked to the caller", body = Problem, content_type = "application/problem+json")),
    security(("mutualTLS" = [], "bearer" = [])))]
pub async fn create_referral(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    body: Result<JsonBody<ReferralRequest>, Problem>,
) -> Response {
    let act = action::CREATE_REFERRAL;
    if let Err(refusal) = require_referral_purpose(&state, &who, act).await {
        return refusal;
    }
    let body = match body {
        Ok(JsonBody(body)) => body,
        Err(problem) => return refuse(&state, &who, act, "invalidInput", problem).await,
    };
    let client = uuid::Uuid::parse_str(&body.client_id).ok();
    let to = state.parties.by_id(&body.to_party);
    let (Some(client), Some(to)) = (client, to) else {
        let mut issues = Vec::new();
        if client.is_none() {
            issues.push(InputIssue::new("body", "/clientId", "not a client id"));
        }
        if to.is_none() {
            issues.push(InputIssue::new(
                "body",
                "/toParty",
                "not a configured party",
            ));
        }
        return refuse(
            &state,
            &who,
            act,
            "invalidInput",
            Problem::bad_request(issues),
        )
        .await;
    };
    let to = (&to.id, to.kind);
    match state
        .gate
        .create_referral(&who, &client, to, body.reason, body.evidence_reference)
        .await
    {
        Ok(view) => detail(view, StatusCode::CREATED),
        Err(error) => Problem::from(error).into_response(),
    }
}

/// The referrals the caller's party received (`incoming`) or sent (`outgoing`), newest first.
#[utoipa::path(get, path = "/v1/referrals", operation_id = "listReferrals", tag = "referrals",
    params(("direction" = String, Query, description = "incoming or outgoing"),
           ("status" = Option<String>, Query, description = "Only referrals in this status"),
           ("pageSize" = Option<i64>, Query, description = "At most this many (1 to 500, default 100)"),
           ("Processing-Purpose" = String, Header, description = "referral")),
    responses((status = 200, description = "The referrals", body = ReferralList),
              (status = 400, description = "Invalid parameters", body = Problem, content_type = "application/problem+json")),
    security(("mutualTLS" = [], "bearer" = [])))]
pub async fn list_referrals(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let act = action::LIST_REFERRALS;
    if let Err(refusal) = require_referral_purpose(&state, &who, act).await {
        return refusal;
    }
    let mut issues = Vec::new();
    let outgoing = match query.get("direction").map(String::as_str) {
        Some("outgoing") => true,
        Some("incoming") => false,
        _ => {
            issues.push(InputIssue::new(
                "query",
                "direction",
                "incoming or outgoing",
            ));
            false
        }
    };
    let status = query.get("status").map(|s| ReferralStatus::parse(s));
    if let Some(None) = status {
        issues.push(InputIssue::new(
            "query",
            "status",
            "proposed, accepted, refused, completed or withdrawn",
        ));
    }
    let page_size = query
        .get("pageSize")
        .map(|s| s.parse::<i64>().ok().filter(|n| (1..=500).contains(n)));
    if let Some(None) = page_size {
        issues.push(InputIssue::new(
            "query",
            "pageSize",
            "an integer from 1 to 500",
        ));
    }
    for name in query
        .keys()
        .filter(|k| !["direction", "status", "pageSize"].contains(&k.as_str()))
    {
        issues.push(InputIssue::new("query", name.clone(), "unknown parameter"));
    }
    if !issues.is_empty() {
        return refuse(
            &state,
            &who,
            act,
            "invalidInput",
            Problem::bad_request(issues),
        )
        .await;
    }
    let limit = page_size.flatten().unwrap_or(100);
    match state
        .gate
        .list_referrals(&who, outgoing, status.flatten(), limit)
        .await
    {
        Ok(found) => personal(StatusCode::OK, Json(ReferralList { items: found })),
        Err(error) => Problem::from(error).into_response(),
    }
}

/// One referral with its messages (its sender and receiver only).
#[utoipa::path(get, path = "/v1/referrals/{referralId}", operation_id = "readReferral", tag = "referrals",
    params(("referralId" = String, Path, description = "The referral id"),
           ("Processing-Purpose" = String, Header, description = "referral")),
    responses((status = 200, description = "The referral", body = ReferralDetail),
              (status = 404, description = "Unknown, or not the caller's", body = Problem, content_type = "application/problem+json")),
    security(("mutualTLS" = [], "bearer" = [])))]
pub async fn read_referral(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Path(referral_id): Path<String>,
) -> Response {
    let act = action::READ_REFERRAL;
    let id = match checked_id(&state, &who, act, &referral_id).await {
        Ok(id) => id,
        Err(refusal) => return refusal,
    };
    match state.gate.read_referral(&who, &id).await {
        Ok(view) => detail(view, StatusCode::OK),
        Err(error) => Problem::from(error).into_response(),
    }
}

async fn checked_id(
    state: &AppState,
    who: &Caller,
    act: &'static str,
    raw: &str,
) -> Result<uuid::Uuid, Response> {
    require_referral_purpose(state, who, act).await?;
    path_id(state, who, act, "referralId", raw).await
}

async fn act_on(
    state: &AppState,
    who: &Caller,
    act: &'static str,
    raw: &str,
    event: Result<(ReferralEvent, Option<String>), Problem>,
) -> Response {
    let id = match checked_id(state, who, act, raw).await {
        Ok(id) => id,
        Err(refusal) => return refusal,
    };
    let (event, reason) = match event {
        Ok(event) => event,
        Err(problem) => return refuse(state, who, act, "invalidInput", problem).await,
    };
    match state.gate.act_on_referral(who, &id, event, reason).await {
        Ok(view) => detail(view, StatusCode::OK),
        Err(error) => Problem::from(error).into_response(),
    }
}

/// The receiver accepts (the receiver is then linked to the client) or refuses, with a written
/// reason for a refusal.
#[utoipa::path(post, path = "/v1/referrals/{referralId}/decision", operation_id = "decideReferral", tag = "referrals",
    request_body = DecisionRequest,
    params(("referralId" = String, Path, description = "The referral id"),
           ("Processing-Purpose" = String, Header, description = "referral")),
    responses((status = 200, description = "Decided", body = ReferralDetail),
              (status = 400, description = "Invalid input, or a refusal without a reason", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Only the receiver decides", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Not possible in the referral's status", body = Problem, content_type = "application/problem+json")),
    security(("mutualTLS" = [], "bearer" = [])))]
pub async fn decide_referral(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Path(referral_id): Path<String>,
    body: Result<JsonBody<DecisionRequest>, Problem>,
) -> Response {
    let event = body.and_then(|JsonBody(body)| match body.decision.as_str() {
        "accept" => Ok((ReferralEvent::Accept, body.reason)),
        "refuse" => Ok((ReferralEvent::Refuse, body.reason)),
        _ => Err(Problem::bad_request(vec![InputIssue::new(
            "body",
            "/decision",
            "accept or refuse",
        )])),
    });
    act_on(&state, &who, action::DECIDE_REFERRAL, &referral_id, event).await
}

/// The receiver completes an accepted referral.
#[utoipa::path(post, path = "/v1/referrals/{referralId}/completion", operation_id = "completeReferral", tag = "referrals",
    params(("referralId" = String, Path, description = "The referral id"),
           ("Processing-Purpose" = String, Header, description = "referral")),
    responses((status = 200, description = "Completed", body = ReferralDetail),
              (status = 409, description = "Not possible in the referral's status", body = Problem, content_type = "application/problem+json")),
    security(("mutualTLS" = [], "bearer" = [])))]
pub async fn complete_referral(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Path(referral_id): Path<String>,
) -> Response {
    act_on(
        &state,
        &who,
        action::COMPLETE_REFERRAL,
        &referral_id,
        Ok((ReferralEvent::Complete, None)),
    )
    .await
}

/// The sender withdraws a proposed or accepted referral.
#[utoipa::path(post, path = "/v1/referrals/{referralId}/withdrawal", operation_id = "withdrawReferral", tag = "referrals",
    params(("referralId" = String, Path, description = "The referral id"),
           ("Processing-Purpose" = String, Header, description = "referral")),
    responses((status = 200, description = "Withdrawn", body = ReferralDetail),
              (status = 403, description = "Only the sender withdraws", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Not possible in the referral's status", body = Problem, content_type = "application/problem+json")),
    security(("mutualTLS" = [], "bearer" = [])))]
pub async fn withdraw_referral(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Path(referral_id): Path<String>,
) -> Response {
    act_on(
        &state,
        &who,
        action::WITHDRAW_REFERRAL,
        &referral_id,
        Ok((ReferralEvent::Withdraw, None)),
    )
    .await
}

/// Feedback on a referral from either party (SWO art. 4, "terugkoppeling").
#[utoipa::path(post, path = "/v1/referrals/{referralId}/feedback", operation_id = "addReferralFeedback", tag = "referrals",
    request_body = FeedbackRequest,
    params(("referralId" = String, Path, description = "The referral id"),
           ("Processing-Purpose" = String, Header, description = "referral")),
    responses((status = 200, description = "Added", body = ReferralDetail),
              (status = 409, description = "No feedback in the referral's status", body = Problem, content_type = "application/problem+json")),
    security(("mutualTLS" = [], "bearer" = [])))]
pub async fn add_referral_feedback(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Path(referral_id): Path<String>,
    body: Result<JsonBody<FeedbackRequest>, Problem>,
) -> Response {
    let act = action::REFERRAL_FEEDBACK;
    let id = match checked_id(&state, &who, act, &referral_id).await {
        Ok(id) => id,
        Err(refusal) => return refusal,
    };
    let message = match body {
        Ok(JsonBody(body)) => body.message,
        Err(problem) => return refuse(&state, &who, act, "invalidInput", problem).await,
    };
    match state.gate.add_referral_feedback(&who, &id, message).await {
        Ok(view) => detail(view, StatusCode::OK),
        Err(error) => Problem::from(error).into_response(),
    }
}
