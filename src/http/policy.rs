//! The policy in force, the register of processing activities derived from it (GDPR art. 30),
//! and, for privacy officers, why a field was or was not visible.

use super::json::JsonBody;
use super::problem::{InputIssue, Problem};
use crate::app::AppState;
use crate::domain::client_id::ClientId;
use crate::domain::party::{PartyId, PartyKind};
use crate::domain::purpose::Purpose;
use crate::domain::record::field::{Category, Field};
use crate::domain::role::RoleSet;
use crate::gate::Caller;
use crate::gate::{VisibilityQuestion, action};
use crate::http::case_work::invalid;
use crate::policy::{Explanation, Register};
use axum::Json;
use axum::extract::{Extension, State};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_policy))
        .routes(routes!(get_processing_register))
        .routes(routes!(explain_visibility))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GrantView {
    purpose: Purpose,
    #[schema(value_type = String)]
    party_kind: crate::domain::party::PartyKind,
    roles: Vec<String>,
    /// The roles of the reader's link to the client the grant applies to.
    link_roles: Vec<crate::domain::competence::LinkRole>,
    categories: Vec<Category>,
    fields: Vec<String>,
    basis: String,
    reason: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyView {
    /// Written in every audit record.
    version: String,
    /// Besides these grants, the competent party of a client always reads the fields its kind
    /// owns, for any purpose it may use; an involved party reads only what grants give it.
    grants: Vec<GrantView>,
}

/// The data-access policy in force: every grant, with its basis and reason. Deny by default.
#[utoipa::path(get, path = "/v1/policy", operation_id = "getPolicy", tag = "policy",
    responses((status = 200, description = "The effective policy", body = PolicyView)))]
pub async fn get_policy(State(state): State<AppState>) -> Json<PolicyView> {
    let policy = &state.gate.policy;
    let grants = policy
        .grants()
        .iter()
        .map(|g| GrantView {
            purpose: g.purpose,
            party_kind: g.party_kind,
            roles: g.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            link_roles: g.link_roles.clone(),
            categories: g.categories.clone(),
            fields: g.fields.iter().map(|f| f.as_str().to_owned()).collect(),
            basis: g.basis.as_str().to_owned(),
            reason: g.reason.clone(),
        })
        .collect();
    Json(PolicyView {
        version: policy.version().to_owned(),
        grants,
    })
}

/// The register of processing activities (GDPR art. 30), derived from the policy in force.
#[utoipa::path(get, path = "/v1/policy/register", operation_id = "getProcessingRegister", tag = "policy",
    responses((status = 200, description = "The register", body = Object)))]
pub async fn get_processing_register(State(state): State<AppState>) -> Json<Register> {
    Json(
        state
            .gate
            .policy
            .register()
            .with_storage_limits(state.config.retention.storage_limits()),
    )
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExplainRequest {
    client_id: String,
    /// The party whose view is explained.
    party: String,
    roles: Vec<String>,
    purpose: String,
    field: String,
}

/// Why a field of a client was or was not visible to a party, role and purpose, with the
/// client's consents as they stand (privacy officers, purpose `auditReview`).
#[utoipa::path(post, path = "/v1/policy/explain", operation_id = action::EXPLAIN, tag = "policy",
    request_body = ExplainRequest,
    responses((status = 200, description = "The explanation", body = Object),
              (status = 403, description = "Not a privacy officer reviewing", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "Unknown client, or not linked to the officer's party", body = Problem, content_type = "application/problem+json")))]
pub async fn explain_visibility(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    body: Result<JsonBody<ExplainRequest>, Problem>,
) -> Result<Json<Explanation>, Problem> {
    let act = action::EXPLAIN;
    super::audit_review::require_review(&who, act)?;
    let JsonBody(body) = body.map_err(|problem| invalid(act, problem))?;
    let (client, party, roles, purpose, field) = parse_question(&state, &body)
        .map_err(|issues| invalid(act, Problem::bad_request(issues)))?;
    let question = VisibilityQuestion {
        client_id: &client,
        party: (&party.0, party.1),
        roles,
        purpose,
        field,
    };
    Ok(Json(state.gate.explain(&who, &question).await?))
}

/// What an explanation is asked about: the client, the party whose view (and its kind), the
/// roles, the purpose and the field.
type Asked = (ClientId, (PartyId, PartyKind), RoleSet, Purpose, Field);

/// What an explanation is asked about, or every member that is wrong.
fn parse_question(state: &AppState, body: &ExplainRequest) -> Result<Asked, Vec<InputIssue>> {
    let mut issues = Vec::new();
    let client = ClientId::parse(&body.client_id);
    let party = state.parties.by_id(&body.party);
    let roles = RoleSet::parse(body.roles.iter().map(String::as_str))
        .ok()
        .filter(|r| !r.is_empty());
    let purpose = body.purpose.parse::<Purpose>().ok();
    let field = Field::parse(&body.field);
    let roles_expected = "one or more of caseWorker, system, privacyOfficer, coordinator";
    for (ok, name, detail) in [
        (client.is_some(), "/clientId", "not a client id"),
        (party.is_some(), "/party", "not a configured party"),
        (roles.is_some(), "/roles", roles_expected),
        (purpose.is_some(), "/purpose", "unknown processing purpose"),
        (field.is_some(), "/field", "not a field of the record"),
    ] {
        if !ok {
            issues.push(InputIssue::new("body", name, detail));
        }
    }
    match (client, party, roles, purpose, field) {
        (Some(client), Some(party), Some(roles), Some(purpose), Some(field)) => Ok((
            client,
            (party.id.clone(), party.kind),
            roles,
            purpose,
            field,
        )),
        _ => Err(issues),
    }
}
