//! The joint-client record (product brief §3): read what the policy and the client's consents
//! let the caller see, and write the fields its party owns with a merge patch against the
//! version it read.

use super::case_work::{client_in_path, invalid, personal};
use super::json::JsonBody;
use super::problem::Problem;
use crate::app::AppState;
use crate::domain::competence::LinkRole;
use crate::gate::Caller;
use crate::gate::{RecordView, action, etag};
use crate::policy::Withheld;
use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(read_client, update_client))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientRecordView {
    client_id: String,
    /// The role of the caller's party's link: `competent` (it writes and reads the fields of
    /// its kind) or `involved` (it reads what the policy grants it).
    link_role: LinkRole,
    /// The visible fields (a visible field that is not set is null).
    #[schema(value_type = Object)]
    fields: Map<String, Value>,
    /// The visible derived values, each `{value, article}`.
    #[schema(value_type = Object)]
    derived: Map<String, Value>,
    /// Categories not shown, and why: `notPermitted` or `consentMissing`.
    #[schema(value_type = Vec<Object>)]
    withheld: Vec<Withheld>,
    /// On a write: the fields that changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    changed_fields: Option<Vec<String>>,
    /// On a write: whether it moved direction or sanction authority (SWO art. 6).
    #[serde(skip_serializing_if = "Option::is_none")]
    significant_change: Option<bool>,
}

fn respond(view: RecordView, written: bool) -> Response {
    let tag = etag(view.version);
    let body = ClientRecordView {
        client_id: view.client_id,
        link_role: view.link_role,
        fields: view.filtered.fields,
        derived: view.filtered.derived,
        withheld: view.filtered.withheld,
        changed_fields: written
            .then(|| view.changed.iter().map(|f| f.as_str().to_owned()).collect()),
        significant_change: written.then_some(view.significant_change),
    };
    let mut response = personal(StatusCode::OK, Json(body));
    if let Ok(value) = HeaderValue::from_str(&tag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// Reads a linked client's record: the visible fields, the derived values with their articles,
/// and the withheld categories with the reason.
#[utoipa::path(get, path = "/v1/clients/{clientId}", operation_id = action::READ_CLIENT, tag = "clients",
    responses((status = 200, description = "The record as the caller may see it; ETag header", body = ClientRecordView)))]
pub async fn read_client(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Path(client_id): Path<String>,
) -> Result<Response, Problem> {
    let client_id = client_in_path(&who, action::READ_CLIENT, &client_id)?;
    let view = state.gate.read_record(&who, &client_id).await?;
    Ok(respond(view, false))
}

/// Writes fields the caller's party owns (JSON merge patch, RFC 7396), only against the
/// version it read (`If-Match`, RFC 9110). All or nothing: a refused patch changes nothing.
#[utoipa::path(patch, path = "/v1/clients/{clientId}", operation_id = action::UPDATE_CLIENT, tag = "clients",
    request_body(content = Object, content_type = "application/merge-patch+json"),
    params(("If-Match" = String, Header, description = "The ETag of the record as read")),
    responses((status = 200, description = "Written; the record as the caller may see it", body = ClientRecordView),
              (status = 400, description = "Unknown member or not an object", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "A field the caller does not own as the competent party of its kind, or a derived field (all named)", body = Problem, content_type = "application/problem+json"),
              (status = 412, description = "The record changed since it was read", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Invalid values (all named)", body = Problem, content_type = "application/problem+json"),
              (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json")))]
pub async fn update_client(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    body: Result<JsonBody<Value>, Problem>,
) -> Result<Response, Problem> {
    let act = action::UPDATE_CLIENT;
    let client_id = client_in_path(&who, act, &client_id)?;
    let JsonBody(patch) = body.map_err(|problem| invalid(act, problem))?;
    let if_match = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok());
    let client = state.gate.linked(&who, act, &client_id).await?;
    let view = state
        .gate
        .patch_record(&who, &client, if_match, &patch)
        .await?;
    Ok(respond(view, true))
}
