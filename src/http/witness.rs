//! The parties as witnesses of the audit log (C2SP tlog-cosignature): a party's system
//! (role `system`, purpose `auditReview`) posts its cosignature of a checkpoint it found
//! consistent with the last one it saw, and anyone reviewing the log fetches a checkpoint
//! with every cosignature received. Each use is on the log like any other operation.

use super::audit_review::{require_checkpoints, require_witness};
use super::case_work::invalid;
use super::problem::{InputIssue, Problem};
use crate::app::AppState;
use crate::gate::Caller;
use crate::gate::action;
use crate::gate::log::witness::CosignError;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A checkpoint note with its signature lines: a checkpoint is three short lines and
/// signed-note bounds the signatures, so a few kilobytes hold any honest body.
const MAX_NOTE_BYTES: usize = 16 * 1024;
const TEXT: &str = "text/plain; charset=utf-8";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_checkpoint_cosignature))
        .routes(routes!(get_signed_checkpoint))
}

/// The checkpoint note with the caller's witness's cosignature line appended (C2SP
/// tlog-cosignature, Ed25519 `cosignature/v1`), for a checkpoint this gateway signed.
#[utoipa::path(post, path = "/v1/audit/checkpoints/cosignatures", operation_id = action::ADD_COSIGNATURE, tag = "audit",
    request_body(content = String, content_type = "text/plain", description = "The signed checkpoint note with the witness's cosignature line"),
    responses((status = 201, description = "The cosignature verified and is kept"),
              (status = 422, description = "Not a checkpoint this gateway signed, or no valid cosignature of the caller's witness", body = Problem, content_type = "application/problem+json")))]
pub async fn add_checkpoint_cosignature(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let act = action::ADD_COSIGNATURE;
    require_witness(&who, act)?;
    let note = note_text(&headers, &body).map_err(|problem| invalid(act, problem))?;
    let size = state
        .gate
        .add_cosignature(&who, note)
        .await
        .map_err(|error| cosign_problem(error, act))?;
    state.gate.audit_review(&who, act, None).await?;
    let location = format!("/v1/audit/checkpoints/{size}");
    Ok((StatusCode::CREATED, [(header::LOCATION, location)]).into_response())
}

/// A `text/plain` body of bounded size in UTF-8.
fn note_text<'a>(headers: &HeaderMap, body: &'a Bytes) -> Result<&'a str, Problem> {
    let plain = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim_start().starts_with("text/plain"));
    if !plain {
        return Err(Problem::for_status(StatusCode::UNSUPPORTED_MEDIA_TYPE)
            .detail("The request body must be text/plain: a signed checkpoint note"));
    }
    let issue = |detail: &str| Problem::bad_request(vec![InputIssue::new("body", "", detail)]);
    if body.len() > MAX_NOTE_BYTES {
        return Err(issue("a checkpoint note is at most 16 KiB"));
    }
    std::str::from_utf8(body).map_err(|_| issue("not UTF-8 text"))
}

fn cosign_problem(error: CosignError, act: &'static str) -> Problem {
    let reason = match &error {
        CosignError::Store(_) => {
            return Problem::internal()
                .caused_by(format!("a cosignature could not be kept: {error}"))
                .on_record(act, "internalError");
        }
        CosignError::NotAWitness(_) => "notAWitness",
        CosignError::NotOurCheckpoint(_) | CosignError::NeverSigned(_) => "unknownCheckpoint",
        CosignError::Cosignature(_) | CosignError::Future(_) => "invalidCosignature",
    };
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "urn:problem-type:gateway:cosignatureRefused",
        "Cosignature Refused",
    )
    .detail(error.to_string())
    .on_record(act, reason)
}

/// The checkpoint signed at `treeSize`, as a C2SP signed note with every witness's
/// cosignature received for it.
#[utoipa::path(get, path = "/v1/audit/checkpoints/{treeSize}", operation_id = action::GET_SIGNED_CHECKPOINT, tag = "audit",
    params(("treeSize" = u64, Path, description = "The tree size of a signed checkpoint")),
    responses((status = 200, description = "The signed checkpoint with its cosignatures", body = String, content_type = "text/plain"),
              (status = 404, description = "No checkpoint was signed at that size", body = Problem, content_type = "application/problem+json")))]
pub async fn get_signed_checkpoint(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Path(tree_size): Path<String>,
) -> Result<Response, Problem> {
    let act = action::GET_SIGNED_CHECKPOINT;
    require_checkpoints(&who, act)?;
    let size = tree_size.parse::<u64>().map_err(|_| {
        let issue = InputIssue::new("path", "treeSize", "not a tree size");
        invalid(act, Problem::bad_request(vec![issue]))
    })?;
    let note = state.gate.signed_checkpoint(size).await.map_err(|error| {
        Problem::internal()
            .caused_by(format!("a checkpoint could not be read: {error}"))
            .on_record(act, "internalError")
    })?;
    let Some(note) = note else {
        return Err(Problem::resource_not_found().on_record(act, "notFound"));
    };
    state.gate.audit_review(&who, act, None).await?;
    let headers = [
        (header::CONTENT_TYPE, TEXT),
        (header::CACHE_CONTROL, "no-store"),
    ];
    Ok((headers, note).into_response())
}
