//! Referrals (SWO art. 4; between OCMWs after the partner agreement): proposed by a party
//! linked to the client, answered by the receiver (a refusal with a written reason), completed
//! or withdrawn, with feedback ("terugkoppeling") from either side. Seen by its two parties only.

use super::case_work::{bad_query, created, invalid, path_id, personal, require_purpose};
use super::json::JsonBody;
use super::problem::{InputIssue, Problem};
use crate::app::AppState;
use crate::domain::client_id::ClientId;
use crate::domain::purpose::Purpose;
use crate::domain::referral::{ReferralEvent, ReferralStatus};
use crate::gate::Caller;
use crate::gate::action;
use crate::gate::parameters::{Cursor, Parameters};
use crate::gate::views::{ReferralDetail, ReferralSummary};
use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

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
    /// Pass as `after` for the next page; `null` on the last page.
    next: Option<String>,
}

fn detail(view: ReferralDetail, status: StatusCode) -> Response {
    personal(status, Json(view))
}

fn require_referral_purpose(who: &Caller, act: &'static str) -> Result<(), Problem> {
    let permitted = who.purpose == Purpose::Referral;
    let detail = "referrals are exchanged with the purpose referral";
    require_purpose(act, permitted, detail)
}

/// Proposes a referral of a client the caller's party is linked to.
#[utoipa::path(post, path = "/v1/referrals", operation_id = action::CREATE_REFERRAL, tag = "referrals",
    request_body = ReferralRequest,
    responses((status = 201, description = "Proposed; `Location` is the referral", body = ReferralDetail),
              (status = 400, description = "Invalid input or a referral the agreement does not provide for", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "Unknown client, or not linked to the caller", body = Problem, content_type = "application/problem+json")))]
pub async fn create_referral(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    body: Result<JsonBody<ReferralRequest>, Problem>,
) -> Result<Response, Problem> {
    let act = action::CREATE_REFERRAL;
    require_referral_purpose(&who, act)?;
    let JsonBody(body) = body.map_err(|problem| invalid(act, problem))?;
    let client = ClientId::parse(&body.client_id);
    let to = state.parties.by_id(&body.to_party);
    let (Some(client), Some(to)) = (client.clone(), to) else {
        let mut issues = Vec::new();
        if client.is_none() {
            issues.push(InputIssue::new("body", "/clientId", "not a client id"));
        }
        if to.is_none() {
            let issue = InputIssue::new("body", "/toParty", "not a configured party");
            issues.push(issue);
        }
        return Err(invalid(act, Problem::bad_request(issues)));
    };
    let client = state.gate.linked(&who, act, &client).await?;
    let to = (&to.id, to.kind);
    let view = state
        .gate
        .create_referral(&who, &client, to, body.reason, body.evidence_reference)
        .await?;
    let location = format!("/v1/referrals/{}", view.id());
    Ok(created(&location, Json(view)))
}

/// The referrals the caller's party received (`incoming`) or sent (`outgoing`), newest first.
#[utoipa::path(get, path = "/v1/referrals", operation_id = action::LIST_REFERRALS, tag = "referrals",
    params(("direction" = String, Query, description = "incoming or outgoing"),
           ("status" = Option<String>, Query, description = "Only referrals in this status"),
           ("after" = Option<String>, Query, description = "The cursor: the `next` of the page before"),
           ("pageSize" = Option<i64>, Query, description = "At most this many (1 to 500, default 100)")),
    responses((status = 200, description = "A page of the referrals, newest first", body = ReferralList)))]
pub async fn list_referrals(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<Response, Problem> {
    let act = action::LIST_REFERRALS;
    require_referral_purpose(&who, act)?;
    let mut parameters = Parameters::new(&query);
    let outgoing = parameters.required("direction", "incoming or outgoing", |text| match text {
        "outgoing" => Some(true),
        "incoming" => Some(false),
        _ => None,
    });
    let statuses = "proposed, accepted, refused, completed or withdrawn";
    let status = parameters.optional("status", statuses, ReferralStatus::parse);
    let size = parameters.integer("pageSize", 1..=500, 100);
    let after = parameters.optional("after", "a cursor from a page's `next`", Cursor::parse);
    parameters.refuse_unknown(&["direction", "status", "pageSize", "after"]);
    let outgoing = parameters
        .finish(outgoing.unwrap_or_default())
        .map_err(|issues| invalid(act, bad_query(issues)))?;
    let page = state
        .gate
        .list_referrals(&who, outgoing, status, (after.as_ref(), size))
        .await?;
    let body = ReferralList {
        items: page.items,
        next: page.next.map(|c| c.to_string()),
    };
    Ok(personal(StatusCode::OK, Json(body)))
}

/// One referral with its messages (its sender and receiver only).
#[utoipa::path(get, path = "/v1/referrals/{referralId}", operation_id = action::READ_REFERRAL, tag = "referrals",
    responses((status = 200, description = "The referral", body = ReferralDetail)))]
pub async fn read_referral(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Path(referral_id): Path<String>,
) -> Result<Response, Problem> {
    let id = checked_id(&who, action::READ_REFERRAL, &referral_id)?;
    let view = state.gate.read_referral(&who, &id).await?;
    Ok(detail(view, StatusCode::OK))
}

fn checked_id(who: &Caller, act: &'static str, raw: &str) -> Result<Uuid, Problem> {
    require_referral_purpose(who, act)?;
    path_id(act, "referralId", raw)
}

async fn act_on(
    state: &AppState,
    who: &Caller,
    act: &'static str,
    raw: &str,
    event: Result<(ReferralEvent, Option<String>), Problem>,
) -> Result<Response, Problem> {
    let id = checked_id(who, act, raw)?;
    let (event, reason) = event.map_err(|problem| invalid(act, problem))?;
    let view = state.gate.act_on_referral(who, &id, event, reason).await?;
    Ok(detail(view, StatusCode::OK))
}

/// The receiver accepts (the receiver is then linked to the client) or refuses, with a written
/// reason for a refusal.
#[utoipa::path(post, path = "/v1/referrals/{referralId}/decision", operation_id = action::DECIDE_REFERRAL, tag = "referrals",
    request_body = DecisionRequest,
    responses((status = 200, description = "Decided", body = ReferralDetail),
              (status = 400, description = "Invalid input, or a refusal without a reason", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Only the receiver decides", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Not possible in the referral's status", body = Problem, content_type = "application/problem+json")))]
pub async fn decide_referral(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Path(referral_id): Path<String>,
    body: Result<JsonBody<DecisionRequest>, Problem>,
) -> Result<Response, Problem> {
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
#[utoipa::path(post, path = "/v1/referrals/{referralId}/completion", operation_id = action::COMPLETE_REFERRAL, tag = "referrals",
    responses((status = 200, description = "Completed", body = ReferralDetail),
              (status = 409, description = "Not possible in the referral's status", body = Problem, content_type = "application/problem+json")))]
pub async fn complete_referral(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Path(referral_id): Path<String>,
) -> Result<Response, Problem> {
    let event = ReferralEvent::Complete;
    let act = action::of_referral(event);
    act_on(&state, &who, act, &referral_id, Ok((event, None))).await
}

/// The sender withdraws a proposed or accepted referral.
#[utoipa::path(post, path = "/v1/referrals/{referralId}/withdrawal", operation_id = action::WITHDRAW_REFERRAL, tag = "referrals",
    responses((status = 200, description = "Withdrawn", body = ReferralDetail),
              (status = 403, description = "Only the sender withdraws", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Not possible in the referral's status", body = Problem, content_type = "application/problem+json")))]
pub async fn withdraw_referral(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Path(referral_id): Path<String>,
) -> Result<Response, Problem> {
    let event = ReferralEvent::Withdraw;
    let act = action::of_referral(event);
    act_on(&state, &who, act, &referral_id, Ok((event, None))).await
}

/// Feedback on a referral from either party (SWO art. 4, "terugkoppeling").
#[utoipa::path(post, path = "/v1/referrals/{referralId}/feedback", operation_id = action::REFERRAL_FEEDBACK, tag = "referrals",
    request_body = FeedbackRequest,
    responses((status = 200, description = "Added", body = ReferralDetail),
              (status = 409, description = "No feedback in the referral's status", body = Problem, content_type = "application/problem+json")))]
pub async fn add_referral_feedback(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Path(referral_id): Path<String>,
    body: Result<JsonBody<FeedbackRequest>, Problem>,
) -> Result<Response, Problem> {
    let act = action::REFERRAL_FEEDBACK;
    let id = checked_id(&who, act, &referral_id)?;
    let JsonBody(body) = body.map_err(|problem| invalid(act, problem))?;
    let view = state
        .gate
        .add_referral_feedback(&who, &id, body.message)
        .await?;
    Ok(detail(view, StatusCode::OK))
}
