//! Authentication of every `/v1` request: the client certificate's party, that party's
//! token, the rate limits, and the declared processing purpose. Yields a `Principal`.

use super::problem::{InputIssue, Problem};
use crate::app::AppState;
use crate::auth::peer::Peer;
use crate::auth::principal::Principal;
use crate::domain::purpose::Purpose;
use crate::gate::{Caller, Trace};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};

pub static PROCESSING_PURPOSE: HeaderName = HeaderName::from_static("processing-purpose");

pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    match principal(
        &state,
        request.headers(),
        request.extensions().get::<Peer>(),
    ) {
        Ok(principal) => {
            let span = tracing::Span::current();
            span.record("party", principal.party.id.as_str());
            span.record("user", &*principal.user);
            span.record("purpose", principal.purpose.as_str());
            let Some(trace) = request.extensions().get::<Trace>().cloned() else {
                return Problem::internal().into_response();
            };
            request.extensions_mut().insert(Caller { principal, trace });
            next.run(request).await
        }
        Err(problem) => {
            metrics::counter!("gateway_auth_refusals_total", "type" => problem.problem_type)
                .increment(1);
            let party = request
                .extensions()
                .get::<Peer>()
                .and_then(|p| p.party.as_ref());
            let trace = request.extensions().get::<Trace>();
            if let (Some(party), Some(trace)) = (party, trace) {
                let reason = door_reason(problem.problem_type);
                let request_id = trace.id.to_string();
                state
                    .gate
                    .refused_at_door(party.id.as_str(), reason, &request_id)
                    .await;
            }
            problem.into_response()
        }
    }
}

fn principal(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<&Peer>,
) -> Result<Principal, Problem> {
    let peer = peer.ok_or_else(Problem::unknown_certificate)?;
    let party = peer
        .party
        .as_ref()
        .ok_or_else(Problem::unknown_certificate)?;
    // The party quota is checked before the token so that a flood of bad tokens costs no
    // signature verifications.
    if let Err(not_until) = party.limiter.check() {
        return Err(too_many(
            party.rate_per_second,
            not_until.wait_time_from(DefaultClock::default().now()),
        ));
    }
    let token = bearer_token(headers)?;
    let verified = state
        .tokens
        .verify(party, token, &peer.certificate_sha256)
        .map_err(|error| Problem::invalid_access_token(error.to_string()))?;
    if let Err(not_until) = state
        .user_limiter
        .check_key(&(party.index, verified.user.clone()))
    {
        return Err(too_many(
            state.user_quota,
            not_until.wait_time_from(DefaultClock::default().now()),
        ));
    }
    let purpose = declared_purpose(headers)?;
    let acting_roles = purpose.acting_roles(party.kind, verified.roles);
    if acting_roles.is_empty() {
        return Err(Problem::missing_scope(format!(
            "none of the token's roles may use the purpose {purpose} for a party of kind {}",
            party.kind
        )));
    }
    Ok(Principal {
        party: party.clone(),
        user: verified.user.clone(),
        roles: verified.roles,
        acting_roles,
        purpose,
    })
}

/// The reason a refusal at the door is recorded with: the last segment of its problem type
/// (`noAccessToken`, `invalidAccessToken`, `missingScope`, `tooManyRequests`, `badRequest`).
fn door_reason(problem_type: &'static str) -> &'static str {
    problem_type.rsplit(':').next().unwrap_or(problem_type)
}

fn too_many(limit: u32, wait: std::time::Duration) -> Problem {
    Problem::too_many_requests(limit, wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
}

fn bearer_token(headers: &HeaderMap) -> Result<&str, Problem> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(Problem::no_access_token)?;
    let text = value
        .to_str()
        .map_err(|_| Problem::invalid_access_token("the Authorization header is not ASCII"))?;
    match text.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(Problem::no_access_token()),
    }
}

fn declared_purpose(headers: &HeaderMap) -> Result<Purpose, Problem> {
    let issue = |detail: &str| {
        Problem::bad_request(vec![InputIssue::new(
            "header",
            "Processing-Purpose",
            detail,
        )])
    };
    let value = headers
        .get(&PROCESSING_PURPOSE)
        .ok_or_else(|| issue("every call must declare its processing purpose"))?;
    let known = || Purpose::ALL.map(Purpose::as_str).join(", ");
    value
        .to_str()
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| issue(&format!("unknown processing purpose; one of: {}", known())))
}
