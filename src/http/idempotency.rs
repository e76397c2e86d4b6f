//! `Idempotency-Key` (IETF draft-ietf-httpapi-idempotency-key-header) on every POST that
//! creates or changes something, so that a back office retrying after a time-out or a lost
//! connection never makes a second referral, consent or infraction.
//!
//! A request with the header is served once per key, caller (party and user) and period: a
//! retry of the same request (method, path and query, purpose, body) gets the first answer
//! again — status, `Location`, body — from the database, on any instance; the same key on
//! another request is 422; a retry while the first is being served is 409. Server errors are
//! not kept (the caller retries them); a request whose change committed is never made again
//! under its key, even if its answer was lost on the way (then 409, see `Begun::Unanswered`).
//! Without the header a POST is served as before.

use super::problem::{InputIssue, Problem};
use crate::app::AppState;
use crate::domain::idempotency::{IdempotencyKey, fingerprint};
use crate::gate::Caller;
use crate::gate::action;
use crate::gate::idempotency::{Begun, KeptAnswer, KeyTerms};
use axum::body::{Body, to_bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Duration;

pub static IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// The operations that take a key: every POST that creates or changes something, each with
/// the action its replays are recorded under. The look-up and the explanation are reads a
/// retry repeats harmlessly; a witness's cosignature is about no client and is the same
/// signature however often it is sent.
pub const COVERED: [(&str, &str); 13] = [
    ("/v1/clients", action::REGISTER_CLIENT),
    (
        "/v1/clients/{clientId}/competence",
        action::CLAIM_COMPETENCE,
    ),
    (
        "/v1/clients/{clientId}/competence/handover",
        action::HAND_OVER_COMPETENCE,
    ),
    ("/v1/clients/{clientId}/consents", action::RECORD_CONSENT),
    (
        "/v1/clients/{clientId}/consents/{consentId}/withdrawal",
        action::WITHDRAW_CONSENT,
    ),
    (
        "/v1/clients/{clientId}/infractions",
        action::RECORD_INFRACTION,
    ),
    (
        "/v1/clients/{clientId}/infractions/{infractionId}/decision",
        action::DECIDE_INFRACTION,
    ),
    ("/v1/kbi/attests", action::REGISTER_ATTEST),
    ("/v1/referrals", action::CREATE_REFERRAL),
    (
        "/v1/referrals/{referralId}/decision",
        action::DECIDE_REFERRAL,
    ),
    (
        "/v1/referrals/{referralId}/completion",
        action::COMPLETE_REFERRAL,
    ),
    (
        "/v1/referrals/{referralId}/withdrawal",
        action::WITHDRAW_REFERRAL,
    ),
    (
        "/v1/referrals/{referralId}/feedback",
        action::REFERRAL_FEEDBACK,
    ),
];

/// The action of a covered operation, by its route template.
fn covered(method: &Method, route: &str) -> Option<&'static str> {
    let found = COVERED.iter().find(|(path, _)| *path == route);
    found
        .filter(|_| method == Method::POST)
        .map(|(_, act)| *act)
}

pub async fn idempotent(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>();
    let action = route.and_then(|route| covered(request.method(), route.as_str()));
    let who = request.extensions().get::<Caller>().cloned();
    let (Some(act), Some(who)) = (action, who) else {
        return next.run(request).await;
    };
    let key = match key_of(&request) {
        Ok(Some(key)) => key,
        Ok(None) => return next.run(request).await,
        Err(issue) => {
            let problem = Problem::bad_request(vec![issue]).on_record(act, "invalidInput");
            return problem.into_response();
        }
    };
    let (parts, body) = request.into_parts();
    let Ok(body) = to_bytes(body, state.config.limits.max_body_bytes).await else {
        return Problem::for_status(StatusCode::PAYLOAD_TOO_LARGE).into_response();
    };
    let target = parts.uri.path_and_query().map_or("", |p| p.as_str());
    let request_print = fingerprint(parts.method.as_str(), target, who.purpose.as_str(), &body);
    let terms = terms(&state);
    let gate = &state.gate;
    let claim = match gate
        .begin_idempotent(&who, act, &key, &request_print, terms)
        .await
    {
        Ok(Begun::Fresh(claim)) => claim,
        Ok(Begun::Replay(answer)) => return replay(answer),
        Ok(Begun::OtherRequest) => return reused(act),
        Ok(Begun::InFlight) => return in_use(act, IN_FLIGHT),
        Ok(Begun::Unanswered) => return in_use(act, UNANSWERED),
        Err(error) => return Problem::from(error).into_response(),
    };
    let request = Request::from_parts(parts, Body::from(body));
    let response = gate.under_claim(&claim, next.run(request)).await;
    let (parts, body) = response.into_parts();
    let body = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let kept = keepable(parts.status)
        .then(|| kept_answer(&parts, &body))
        .flatten();
    let outcome = match &kept {
        Some(answer) => gate.keep_answer(&claim, answer).await,
        None => gate.release_claim(&claim).await,
    };
    if let Err(error) = outcome {
        // The answer still goes out; the key's lease ends by itself, and a retry after it is
        // told the request was carried out (or, if it changed nothing, served again).
        tracing::error!(%error, "an idempotency key could not be answered or released");
    }
    Response::from_parts(parts, Body::from(body))
}

/// The key of a request: none, one well-formed key, or an issue that does not echo it.
fn key_of(request: &Request) -> Result<Option<IdempotencyKey>, InputIssue> {
    let mut values = request.headers().get_all(&IDEMPOTENCY_KEY).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let issue = |detail: String| InputIssue::new("header", "Idempotency-Key", detail);
    if values.next().is_some() {
        return Err(issue("must be sent once".to_owned()));
    }
    IdempotencyKey::parse(value.as_bytes())
        .map(Some)
        .map_err(|error| issue(error.to_string()))
}

fn terms(state: &AppState) -> KeyTerms {
    let hours = u64::from(state.config.retention.idempotency_key_hours);
    // The time-out drops a request after `request_timeout_ms`, so no attempt is served longer;
    // twice that leaves room for the commit it may have handed to the audit writer.
    let lease = Duration::from_millis(state.config.limits.request_timeout_ms.saturating_mul(2));
    KeyTerms {
        period: Duration::from_secs(hours * 3600),
        lease,
    }
}

/// Server errors, a time-out and a rate limit say nothing about the request: the caller may
/// retry them, so they are not kept. Every other answer is the request's answer.
fn keepable(status: StatusCode) -> bool {
    !status.is_server_error()
        && status != StatusCode::REQUEST_TIMEOUT
        && status != StatusCode::TOO_MANY_REQUESTS
}

fn kept_answer(parts: &axum::http::response::Parts, body: &[u8]) -> Option<KeptAnswer> {
    let text = |name: &HeaderName| {
        let value = parts.headers.get(name)?;
        value.to_str().ok().map(str::to_owned)
    };
    Some(KeptAnswer {
        status: parts.status.as_u16(),
        location: text(&header::LOCATION),
        content_type: text(&header::CONTENT_TYPE),
        etag: text(&header::ETAG),
        // Every answer of these operations is JSON; one that is not UTF-8 is not kept.
        body: String::from_utf8(body.to_vec()).ok()?,
    })
}

/// The first answer again, as it was sent.
fn replay(answer: KeptAnswer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = (status, answer.body).into_response();
    let headers = response.headers_mut();
    headers.remove(header::CONTENT_TYPE);
    let kept = [
        (header::LOCATION, answer.location),
        (header::CONTENT_TYPE, answer.content_type),
        (header::ETAG, answer.etag),
    ];
    for (name, value) in kept {
        if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            headers.insert(name, value);
        }
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

const IN_FLIGHT: &str =
    "A request with this Idempotency-Key is being served; retry when it is answered";
const UNANSWERED: &str = "The request with this Idempotency-Key was carried out but its answer was \
    lost; it will not be carried out again. Read the resource to see its result";

fn in_use(act: &'static str, detail: &'static str) -> Response {
    let problem = Problem::new(
        StatusCode::CONFLICT,
        "urn:problem-type:gateway:idempotencyKeyInUse",
        "Idempotency key in use",
    );
    let problem = problem.detail(detail).on_record(act, "idempotencyKeyInUse");
    problem.into_response()
}

fn reused(act: &'static str) -> Response {
    let problem = Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "urn:problem-type:gateway:idempotencyKeyReused",
        "Idempotency key reused",
    );
    let detail = "This Idempotency-Key was used for another request (method, path, purpose or \
        body differ); use a new key for a new request";
    problem
        .detail(detail)
        .on_record(act, "idempotencyKeyReused")
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_posts_of_the_covered_routes_take_a_key() {
        assert_eq!(
            covered(&Method::POST, "/v1/referrals"),
            Some(action::CREATE_REFERRAL)
        );
        assert_eq!(covered(&Method::GET, "/v1/referrals"), None);
        assert_eq!(covered(&Method::POST, "/v1/clients/lookup"), None);
        assert_eq!(covered(&Method::POST, "/v1/policy/explain"), None);
    }

    #[test]
    fn server_errors_time_outs_and_rate_limits_are_not_kept() {
        assert!(keepable(StatusCode::CREATED));
        assert!(keepable(StatusCode::UNPROCESSABLE_ENTITY));
        assert!(!keepable(StatusCode::INTERNAL_SERVER_ERROR));
        assert!(!keepable(StatusCode::SERVICE_UNAVAILABLE));
        assert!(!keepable(StatusCode::REQUEST_TIMEOUT));
        assert!(!keepable(StatusCode::TOO_MANY_REQUESTS));
    }
}
