//! `GET /v1/whoami`: what the gateway established about the caller.

use crate::app::AppState;
use crate::domain::party::PartyKind;
use crate::domain::purpose::Purpose;
use crate::domain::role::Role;
use crate::gate::Caller;
use crate::http::problem::Problem;
use axum::Json;
use axum::extract::Extension;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WhoAmI {
    /// The party named by the client certificate.
    party: String,
    party_kind: PartyKind,
    /// The person or system acting (`sub` of the token).
    user: String,
    roles: Vec<Role>,
    /// The roles in which the caller may act for the declared purpose.
    acting_roles: Vec<Role>,
    purpose: Purpose,
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(who_am_i))
}

/// Shows the party, user, roles and purpose the gateway established for this call.
#[utoipa::path(
    get,
    path = "/v1/whoami",
    operation_id = "whoAmI",
    tag = "identity",
    params(("Processing-Purpose" = Purpose, Header, description = "The processing purpose of the call")),
    responses(
        (status = 200, description = "The authenticated caller", body = WhoAmI),
        (status = 400, description = "Missing or unknown processing purpose", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Purpose not allowed for the roles, or unknown certificate", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn who_am_i(Extension(principal): Extension<Caller>) -> impl IntoResponse {
    let body = WhoAmI {
        party: principal.party.id.to_string(),
        party_kind: principal.party.kind,
        user: principal.user.to_string(),
        roles: principal.roles.iter().collect(),
        acting_roles: principal.acting_roles.iter().collect(),
        purpose: principal.purpose,
    };
    ([(header::CACHE_CONTROL, "no-store")], Json(body))
}
