//! What every case-work route shares: refusals that are put on record before they are sent,
//! the purpose check, client ids from the path, and responses that must not be cached.

use super::problem::{InputIssue, Problem};
use crate::app::AppState;
use crate::gate::Caller;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

/// Refuses a request, after putting the refusal on record (fail closed if that fails).
pub async fn refuse(
    state: &AppState,
    who: &Caller,
    action: &'static str,
    reason: &str,
    problem: Problem,
) -> Response {
    match state.gate.refuse(who, action, reason).await {
        Ok(()) => problem.into_response(),
        Err(error) => Problem::from(error).into_response(),
    }
}

/// Refuses, on record, a request whose declared purpose does not cover the operation.
pub async fn require_purpose(
    state: &AppState,
    who: &Caller,
    action: &'static str,
    permitted: bool,
    detail: &str,
) -> Result<(), Response> {
    if permitted {
        return Ok(());
    }
    let problem = Problem::missing_scope(detail);
    Err(refuse(state, who, action, "purposeNotAllowed", problem).await)
}

/// Case work on individual clients needs a case-work purpose (not audit review or monitoring).
pub async fn require_case_work(
    state: &AppState,
    who: &Caller,
    action: &'static str,
) -> Result<(), Response> {
    let detail = format!(
        "the purpose {} does not cover work on individual clients",
        who.purpose
    );
    require_purpose(state, who, action, who.purpose.is_case_work(), &detail).await
}

/// An id from the path; a malformed one is refused on record.
pub async fn path_id(
    state: &AppState,
    who: &Caller,
    action: &'static str,
    name: &'static str,
    raw: &str,
) -> Result<Uuid, Response> {
    match Uuid::parse_str(raw) {
        Ok(id) => Ok(id),
        Err(_) => {
            let issue = InputIssue::new("path", name, "not a valid id");
            Err(refuse(
                state,
                who,
                action,
                "invalidInput",
                Problem::bad_request(vec![issue]),
            )
            .await)
        }
    }
}

/// The checks every route about one client starts with: a case-work purpose and a
/// well-formed client id in the path, each refusal on record.
pub async fn client_in_path(
    state: &AppState,
    who: &Caller,
    action: &'static str,
    raw: &str,
) -> Result<Uuid, Response> {
    require_case_work(state, who, action).await?;
    path_id(state, who, action, "clientId", raw).await
}

/// A response carrying personal data: never stored by a cache.
pub fn personal(status: StatusCode, body: impl IntoResponse) -> Response {
    (status, [(header::CACHE_CONTROL, "no-store")], body).into_response()
}
