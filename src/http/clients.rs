//! The reference directory: registering a client as one of the caller's own, looking one up,
//! and ending the link (product brief §2). National register numbers travel only in bodies.

use super::case_work::{client_in_path, invalid, located, personal, require_case_work};
use super::json::JsonBody;
use super::problem::{InputIssue, Problem};
use crate::app::AppState;
use crate::domain::competence::LinkRole;
use crate::domain::link::{DossierReference, LegalBasis};
use crate::domain::ssin::Ssin;
use crate::gate::Caller;
use crate::gate::action;
use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_client))
        .routes(routes!(lookup_client))
        .routes(routes!(end_client_link))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RegisterClientRequest {
    /// The national register number (INSZ/SSIN), 11 digits.
    ssin: String,
    /// `legalObligation`, `publicTask` or `consent`.
    legal_basis: String,
    /// The caller's own dossier reference.
    dossier_reference: String,
    /// `competent` (the default: the party of its kind that holds the dossier) or `involved`.
    #[serde(default)]
    role: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupClientRequest {
    /// The national register number (INSZ/SSIN), 11 digits.
    ssin: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientReference {
    /// The gateway's opaque identifier of the client.
    client_id: String,
    /// The role of the caller's party's link (on registration).
    #[serde(skip_serializing_if = "Option::is_none")]
    link_role: Option<LinkRole>,
}

/// What a registration states.
pub struct Registration {
    ssin: Ssin,
    basis: LegalBasis,
    role: LinkRole,
    dossier: DossierReference,
}

/// The registration's members, or every one that is wrong.
pub fn parse_registration(body: &RegisterClientRequest) -> Result<Registration, Vec<InputIssue>> {
    let ssin = ssin_issue(&body.ssin);
    let basis =
        serde_json::from_value::<LegalBasis>(body.legal_basis.clone().into()).map_err(|_| {
            let expected = "one of legalObligation, publicTask, consent";
            InputIssue::new("body", "/legalBasis", expected).with_value(body.legal_basis.clone())
        });
    let dossier = DossierReference::parse(&body.dossier_reference)
        .map_err(|error| InputIssue::new("body", "/dossierReference", error.to_string()));
    let role = match body.role.as_deref() {
        None => Ok(LinkRole::Competent),
        Some(name) => LinkRole::parse(name).ok_or_else(|| {
            InputIssue::new("body", "/role", "one of competent, involved").with_value(name)
        }),
    };
    match (ssin, basis, dossier, role) {
        (Ok(ssin), Ok(basis), Ok(dossier), Ok(role)) => Ok(Registration {
            ssin,
            basis,
            role,
            dossier,
        }),
        (ssin, basis, dossier, role) => Err([ssin.err(), basis.err(), dossier.err(), role.err()]
            .into_iter()
            .flatten()
            .collect()),
    }
}

fn ssin_issue(ssin: &str) -> Result<Ssin, InputIssue> {
    // The value is never echoed: it is, or nearly is, a national register number.
    Ssin::parse(ssin).map_err(|error| InputIssue::new("body", "/ssin", error.reason()))
}

/// Registers the caller's party as linked to a person, creating the client if it is new.
#[utoipa::path(
    post,
    path = "/v1/clients",
    operation_id = action::REGISTER_CLIENT,
    tag = "clients",
    request_body = RegisterClientRequest,
    responses(
        (status = 201, description = "Linked now", body = ClientReference),
        (status = 200, description = "Already linked (idempotent repeat)", body = ClientReference),
        (status = 409, description = "Competent asked while another party of the caller's kind is competent (`urn:problem-type:gateway:competenceTaken`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn register_client(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    body: Result<JsonBody<RegisterClientRequest>, Problem>,
) -> Result<Response, Problem> {
    let act = action::REGISTER_CLIENT;
    require_case_work(&who, act)?;
    let JsonBody(body) = body.map_err(|problem| invalid(act, problem))?;
    let r =
        parse_registration(&body).map_err(|issues| invalid(act, Problem::bad_request(issues)))?;
    let registered = state
        .gate
        .register_client(&who, &r.ssin, (r.basis, r.role), &r.dossier)
        .await?;
    let status = if registered.new_link {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let location = format!("/v1/clients/{}", registered.client_id);
    let body = Json(ClientReference {
        client_id: registered.client_id,
        link_role: Some(registered.role),
    });
    Ok(located(status, &location, body))
}

/// Finds the client id of a person by national register number; only a linked party gets it.
#[utoipa::path(
    post,
    path = "/v1/clients/lookup",
    operation_id = action::LOOKUP_CLIENT,
    tag = "clients",
    request_body = LookupClientRequest,
    responses(
        (status = 200, description = "The caller's party is linked to this client", body = ClientReference),
        (status = 404, description = "Unknown, or not linked to the caller (indistinguishable)", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn lookup_client(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    body: Result<JsonBody<LookupClientRequest>, Problem>,
) -> Result<Response, Problem> {
    let act = action::LOOKUP_CLIENT;
    require_case_work(&who, act)?;
    let JsonBody(body) = body.map_err(|problem| invalid(act, problem))?;
    let ssin =
        ssin_issue(&body.ssin).map_err(|issue| invalid(act, Problem::bad_request(vec![issue])))?;
    let client_id = state.gate.lookup_client(&who, &ssin).await?;
    Ok(personal(
        StatusCode::OK,
        Json(ClientReference {
            client_id,
            link_role: None,
        }),
    ))
}

/// Ends the caller's party's link with a client; the client is then invisible to it.
#[utoipa::path(
    delete,
    path = "/v1/clients/{clientId}/link",
    operation_id = action::END_LINK,
    tag = "clients",
    responses(
        (status = 204, description = "The link has ended"),
        (status = 400, description = "Malformed client id", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn end_client_link(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Path(client_id): Path<String>,
) -> Result<StatusCode, Problem> {
    let act = action::END_LINK;
    let client_id = client_in_path(&who, act, &client_id)?;
    state.gate.end_link(&who, &client_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
