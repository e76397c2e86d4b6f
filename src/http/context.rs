//! The outermost layer of every API request: trace ids (Belgif `BelGov-Trace-Id`), the
//! request span, the access log line, and the guarantee that every error is problem+json.

use super::problem::{Cause, InputIssue, PROBLEM_JSON, Problem};
use crate::gate::Trace;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Instant;
use tracing::Instrument;
use uuid::Uuid;

pub static TRACE_ID: HeaderName = HeaderName::from_static("belgov-trace-id");
pub static RELATED_TRACE_ID: HeaderName = HeaderName::from_static("belgov-related-trace-id");

pub async fn request_context(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    // Time-ordered (v7): the audit log indexes request ids, and ordered keys append to the
    // index instead of dirtying a random page per record.
    let trace_id = Uuid::now_v7();
    let span = tracing::info_span!(
        "request",
        trace_id = %trace_id,
        method = %request.method(),
        path = %loggable_path(request.uri().path()),
        party = tracing::field::Empty,
        user = tracing::field::Empty,
        purpose = tracing::field::Empty,
    );
    let related = request.headers().get(&TRACE_ID).map(related_trace_id);
    let mut response = match related {
        Some(Err(issue)) => Problem::bad_request(vec![issue]).into_response(),
        related => {
            let related_trace_id = related.and_then(Result::ok);
            request.extensions_mut().insert(Trace {
                id: trace_id,
                related: related_trace_id.clone(),
            });
            let mut response = next.run(request).instrument(span.clone()).await;
            if let Some(value) = related_trace_id.and_then(|v| HeaderValue::from_str(&v).ok()) {
                response
                    .headers_mut()
                    .insert(RELATED_TRACE_ID.clone(), value);
            }
            response
        }
    };
    response = ensure_problem(response);
    if let Ok(value) = HeaderValue::from_str(&trace_id.to_string()) {
        response.headers_mut().insert(TRACE_ID.clone(), value);
    }
    let status = response.status().as_u16();
    let cause = response.extensions_mut().remove::<Cause>();
    span.in_scope(|| {
        if let Some(Cause(cause)) = &cause {
            tracing::error!(status, %cause, "the request failed");
        }
        tracing::info!(
            status,
            elapsed_us = started.elapsed().as_micros() as u64,
            "request"
        );
    });
    response
}

/// The path for the log, with any segment that could hold a national register number masked
/// (six or more digits, however punctuated): no route of ours puts one in a URL, but a caller
/// may, and the log must not keep it. Client ids (UUIDs) have letters and stay readable.
fn loggable_path(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            let digits = segment.bytes().filter(u8::is_ascii_digit).count();
            let numeric = segment
                .bytes()
                .all(|b| b.is_ascii_digit() || b".-_ %+".contains(&b));
            let long_run = segment
                .split(|c: char| !c.is_ascii_digit())
                .any(|run| run.len() >= 6);
            if (numeric && digits >= 6) || long_run {
                "******"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A caller's trace id is echoed back and kept in the audit record, so it is restricted to a
/// short token of visible ASCII.
fn related_trace_id(value: &HeaderValue) -> Result<String, InputIssue> {
    let text = value.to_str().unwrap_or_default();
    let ok = (1..=128).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_graphic());
    let issue = |detail| Err(InputIssue::new("header", "BelGov-Trace-Id", detail));
    if !ok {
        issue("must be 1 to 128 visible ASCII characters")
    } else if crate::domain::ssin::mentions_ssin(text) {
        // Kept in the append-only log for ever: no national register number in it.
        issue("must not contain a national register or BIS number")
    } else {
        Ok(text.to_owned())
    }
}

/// Layers below (routing, body limit, time-out) answer some errors with a bare status;
/// callers are promised RFC 9457 problem details for every error. The review pages answer
/// theirs with a page, which stays.
fn ensure_problem(response: Response) -> Response {
    let status = response.status();
    let explained = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|ct| {
            ct.as_bytes() == PROBLEM_JSON.as_bytes() || ct.as_bytes().starts_with(b"text/html")
        });
    if status.as_u16() < 400 || explained {
        return response;
    }
    let mut replaced = Problem::for_status(status).into_response();
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(value) = response.headers().get(&name) {
            replaced.headers_mut().insert(name, value.clone());
        }
    }
    replaced
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_runs_that_could_be_a_national_register_number_are_masked_in_logged_paths() {
        assert_eq!(
            loggable_path("/v1/clients/85073003328/link"),
            "/v1/clients/******/link"
        );
        assert_eq!(
            loggable_path("/v1/x85.07.30-033.28"),
            "/v1/x85.07.30-033.28"
        );
        assert_eq!(loggable_path("/v1/whoami"), "/v1/whoami");
        assert_eq!(loggable_path("/v1/a/12345"), "/v1/a/12345");
    }
}
