//! Competence for a client (issue 13): who is competent per party kind, an involved party's
//! claim, and the competent party's hand-over. Only parties linked to the client see or change
//! it; every use is audited.

use super::case_work::{client_in_path, invalid, personal};
use super::json::JsonBody;
use super::problem::{InputIssue, Problem};
use crate::app::AppState;
use crate::domain::competence::{ClaimEffect, LinkRole};
use crate::domain::party::{PartyId, PartyKind};
use crate::gate::{Caller, CompetenceView, action};
use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_competence, claim_competence))
        .routes(routes!(hand_over_competence))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvolvedParty {
    party: String,
    /// Whether it claims competence (pending).
    claims_competence: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KindCompetenceView {
    party_kind: PartyKind,
    /// The competent party of this kind, if any.
    competent_party: Option<String>,
    involved: Vec<InvolvedParty>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompetenceResponse {
    client_id: String,
    /// The role of the caller's party's link.
    link_role: LinkRole,
    kinds: Vec<KindCompetenceView>,
}

impl From<CompetenceView> for CompetenceResponse {
    fn from(view: CompetenceView) -> Self {
        Self {
            client_id: view.client_id,
            link_role: view.link_role,
            kinds: view
                .kinds
                .into_iter()
                .map(|k| KindCompetenceView {
                    party_kind: k.kind,
                    competent_party: k.competent,
                    involved: k
                        .involved
                        .into_iter()
                        .map(|(party, claims_competence)| InvolvedParty {
                            party,
                            claims_competence,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClaimResponse {
    /// `effective` (the caller is competent now) or `pending` (until the competent party's
    /// link ends or it hands over).
    status: &'static str,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HandOverRequest {
    /// The party, of the caller's kind, that claimed competence.
    to_party: String,
}

/// Who is competent for a client per party kind, with the involved parties and their claims.
#[utoipa::path(get, path = "/v1/clients/{clientId}/competence", operation_id = action::GET_COMPETENCE, tag = "clients",
    responses((status = 200, description = "Competence per party kind", body = CompetenceResponse)))]
pub async fn get_competence(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Path(client_id): Path<String>,
) -> Result<Response, Problem> {
    let act = action::GET_COMPETENCE;
    let client_id = client_in_path(&who, act, &client_id)?;
    let client = state.gate.linked(&who, act, &client_id).await?;
    let view = state.gate.competence(&who, &client).await?;
    Ok(personal(
        StatusCode::OK,
        Json(CompetenceResponse::from(view)),
    ))
}

/// Claims competence for the caller's kind: effective at once when no party of the kind is
/// competent, otherwise pending until the competent party's link ends or it hands over.
#[utoipa::path(post, path = "/v1/clients/{clientId}/competence", operation_id = action::CLAIM_COMPETENCE, tag = "clients",
    responses((status = 200, description = "Competent now (or already)", body = ClaimResponse),
              (status = 202, description = "Pending: the competent party must end its link or hand over", body = ClaimResponse)))]
pub async fn claim_competence(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Path(client_id): Path<String>,
) -> Result<Response, Problem> {
    let act = action::CLAIM_COMPETENCE;
    let client_id = client_in_path(&who, act, &client_id)?;
    let client = state.gate.linked(&who, act, &client_id).await?;
    let (status, text) = match state.gate.claim_competence(&who, &client).await? {
        ClaimEffect::Effective | ClaimEffect::AlreadyCompetent => (StatusCode::OK, "effective"),
        ClaimEffect::Pending => (StatusCode::ACCEPTED, "pending"),
    };
    Ok(personal(status, Json(ClaimResponse { status: text })))
}

/// The competent party hands competence for its kind to a party that claimed it; it stays
/// linked as involved.
#[utoipa::path(post, path = "/v1/clients/{clientId}/competence/handover", operation_id = action::HAND_OVER_COMPETENCE, tag = "clients",
    request_body = HandOverRequest,
    responses((status = 204, description = "Handed over"),
              (status = 403, description = "The caller is not the competent party (`urn:problem-type:gateway:notCompetent`)", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "That party has not claimed competence (`urn:problem-type:gateway:noPendingClaim`)", body = Problem, content_type = "application/problem+json")))]
pub async fn hand_over_competence(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Path(client_id): Path<String>,
    body: Result<JsonBody<HandOverRequest>, Problem>,
) -> Result<StatusCode, Problem> {
    let act = action::HAND_OVER_COMPETENCE;
    let client_id = client_in_path(&who, act, &client_id)?;
    let JsonBody(body) = body.map_err(|problem| invalid(act, problem))?;
    let to = PartyId::parse(&body.to_party)
        .ok()
        .filter(|id| state.parties.by_id(id.as_str()).is_some())
        .ok_or_else(|| {
            let issue = InputIssue::new("body", "/toParty", "not a configured party");
            invalid(act, Problem::bad_request(vec![issue]))
        })?;
    let client = state.gate.linked(&who, act, &client_id).await?;
    state.gate.hand_over_competence(&who, &client, &to).await?;
    Ok(StatusCode::NO_CONTENT)
}
