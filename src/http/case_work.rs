//! The checks routes about clients start with, each refusal marked to be put on record (see
//! `refusals`), and responses that must not be cached.

use super::problem::{InputIssue, Problem};
use crate::domain::client_id::ClientId;
use crate::gate::Caller;
use crate::gate::parameters::ParameterIssue;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

/// Refuses, on record, a request whose declared purpose does not cover the operation.
pub fn require_purpose(action: &'static str, permitted: bool, detail: &str) -> Result<(), Problem> {
    if permitted {
        Ok(())
    } else {
        Err(Problem::missing_scope(detail).on_record(action, "purposeNotAllowed"))
    }
}

/// Case work on individual clients needs a case-work purpose (not audit review or monitoring).
pub fn require_case_work(who: &Caller, action: &'static str) -> Result<(), Problem> {
    let detail = format!(
        "the purpose {} does not cover work on individual clients",
        who.purpose
    );
    require_purpose(action, who.purpose.is_case_work(), &detail)
}

/// A malformed input, refused on record.
pub fn invalid(action: &'static str, problem: Problem) -> Problem {
    problem.on_record(action, "invalidInput")
}

/// Problem details naming each query parameter that is not as it must be.
pub fn bad_query(issues: Vec<ParameterIssue>) -> Problem {
    let issues = issues.into_iter().map(|issue| {
        let named = InputIssue::new("query", issue.name, issue.detail);
        match issue.value {
            Some(value) => named.with_value(value),
            None => named,
        }
    });
    Problem::bad_request(issues.collect())
}

/// An id from the path; a malformed one is refused on record.
pub fn path_id(action: &'static str, name: &'static str, raw: &str) -> Result<Uuid, Problem> {
    Uuid::parse_str(raw).map_err(|_| {
        let issue = InputIssue::new("path", name, "not a valid id");
        invalid(action, Problem::bad_request(vec![issue]))
    })
}

/// The checks every route about one client starts with: a case-work purpose and a
/// well-formed client id in the path, each refusal on record.
pub fn client_in_path(who: &Caller, action: &'static str, raw: &str) -> Result<ClientId, Problem> {
    require_case_work(who, action)?;
    ClientId::parse(raw).ok_or_else(|| {
        let issue = InputIssue::new("path", "clientId", "not a valid id");
        invalid(action, Problem::bad_request(vec![issue]))
    })
}

/// A resource created at `location`, answered with its personal data.
pub fn created(location: &str, body: impl IntoResponse) -> Response {
    located(StatusCode::CREATED, location, body)
}

/// A resource at `location` (created, or found again by an idempotent repeat).
pub fn located(status: StatusCode, location: &str, body: impl IntoResponse) -> Response {
    let mut response = personal(status, body);
    if let Ok(value) = header::HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// A response carrying personal data: never stored by a cache.
pub fn personal(status: StatusCode, body: impl IntoResponse) -> Response {
    (status, [(header::CACHE_CONTROL, "no-store")], body).into_response()
}
