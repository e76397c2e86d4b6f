//! RFC 9457 problem details, with the Belgif problem types where one fits (product brief §10)
//! and `urn:problem-type:gateway:<name>` for the rest. Every error the API returns is one of
//! these; a 5xx says nothing about its cause, which goes to the log instead.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// The detail of a 404 for a path no operation serves (as opposed to an unknown resource).
pub const NO_SUCH_ROUTE: &str = "No operation is served at this path";

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: &'static str,
    pub title: &'static str,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub issues: Vec<InputIssue>,
    /// For `tooManyRequests`: the quota, in requests per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// For `tooManyRequests`: seconds to wait, as in the `Retry-After` header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// What the edge does with the problem besides sending it; never sent. Boxed, as it is
    /// rare, to keep every `Result<_, Problem>` small.
    #[serde(skip)]
    pub handling: Option<Box<Handling>>,
}

/// A refusal to put on record before the answer leaves, and the cause of a failure to log.
#[derive(Debug, Clone, Default)]
pub struct Handling {
    pub on_record: Option<Refusal>,
    pub cause: Option<String>,
}

/// A refused request to put on record: the operation and the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub action: &'static str,
    pub reason: &'static str,
}

/// The cause of a failure, carried from the problem to the request's log line.
#[derive(Debug, Clone)]
pub struct Cause(pub String);

/// One input problem (Belgif `issues[]`). `value` is left out where it would be personal data.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InputIssue {
    #[serde(rename = "type")]
    pub issue_type: &'static str,
    /// `body`, `path`, `query` or `header`.
    #[serde(rename = "in")]
    pub location: &'static str,
    /// The member (as a JSON pointer for the body), parameter or header.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
    pub detail: String,
}

impl InputIssue {
    pub fn new(location: &'static str, name: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            issue_type: "urn:problem-type:belgif:input-validation:schemaViolation",
            location,
            name: name.into(),
            value: None,
            detail: detail.into(),
        }
    }

    pub fn with_value(mut self, value: impl Into<serde_json::Value>) -> Self {
        self.value = Some(value.into());
        self
    }
}

impl Problem {
    pub const fn new(status: StatusCode, problem_type: &'static str, title: &'static str) -> Self {
        Self {
            problem_type,
            title,
            status: status.as_u16(),
            detail: None,
            issues: Vec::new(),
            limit: None,
            retry_after: None,
            handling: None,
        }
    }

    /// This refusal goes on the audit log, under `action` with `reason`, before it is sent;
    /// if the log cannot take it, the caller gets `auditUnavailable` instead.
    pub fn on_record(mut self, action: &'static str, reason: &'static str) -> Self {
        self.handling.get_or_insert_default().on_record = Some(Refusal { action, reason });
        self
    }

    /// What failed, logged once with the request (no personal data in it).
    pub fn caused_by(mut self, cause: impl Into<String>) -> Self {
        self.handling.get_or_insert_default().cause = Some(cause.into());
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn bad_request(issues: Vec<InputIssue>) -> Self {
        let mut problem = Self::new(
            StatusCode::BAD_REQUEST,
            "urn:problem-type:belgif:badRequest",
            "Bad Request",
        )
        .detail("The input message is incorrect");
        problem.issues = issues;
        problem
    }

    pub fn no_access_token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "urn:problem-type:belgif:noAccessToken",
            "No Access Token",
        )
        .detail("No Bearer access token found in Authorization HTTP header")
    }

    pub fn invalid_access_token(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "urn:problem-type:belgif:invalidAccessToken",
            "Invalid Access Token",
        )
        .detail(detail)
    }

    pub fn missing_scope(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "urn:problem-type:belgif:missingScope",
            "Missing Scope",
        )
        .detail(detail)
    }

    pub fn unknown_certificate() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "urn:problem-type:gateway:unknownClientCertificate",
            "Unknown Client Certificate",
        )
        .detail("The client certificate does not identify a configured party")
    }

    pub fn resource_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "urn:problem-type:belgif:resourceNotFound",
            "Resource Not Found",
        )
        .detail("The requested resource cannot be found")
    }

    pub fn too_many_requests(limit: u32, retry_after: u64) -> Self {
        let mut problem = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "urn:problem-type:belgif:tooManyRequests",
            "Too Many Requests",
        )
        .detail("The request quota has been exceeded; retry later");
        problem.limit = Some(limit);
        problem.retry_after = Some(retry_after);
        problem
    }

    pub fn service_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "urn:problem-type:belgif:serviceUnavailable",
            "Service Unavailable",
        )
        .detail("The service is temporarily unavailable")
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "urn:problem-type:belgif:internalServerError",
            "Internal Server Error",
        )
    }

    /// The problem for a status that some layer produced without a body of ours
    /// (no route, wrong method, body too large, time-out).
    pub fn for_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => Self::resource_not_found(),
            StatusCode::METHOD_NOT_ALLOWED => Self::new(
                status,
                "urn:problem-type:gateway:methodNotAllowed",
                "Method Not Allowed",
            )
            .detail("The resource does not support this HTTP method"),
            StatusCode::PAYLOAD_TOO_LARGE => Self::new(
                status,
                "urn:problem-type:belgif:payloadTooLarge",
                "Payload Too Large",
            )
            .detail("The request body exceeds the size limit"),
            StatusCode::REQUEST_TIMEOUT => Self::new(
                status,
                "urn:problem-type:gateway:requestTimeout",
                "Request Timeout",
            )
            .detail("The request was not completed in time"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::new(
                status,
                "urn:problem-type:gateway:unsupportedMediaType",
                "Unsupported Media Type",
            )
            .detail("The request body must be application/json"),
            StatusCode::SERVICE_UNAVAILABLE => Self::service_unavailable(),
            status if status.is_server_error() => Self::internal(),
            status => Self::bad_request(Vec::new()).with_status(status),
        }
    }

    fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status.as_u16();
        self
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        let handling = self.handling.map(|handling| *handling).unwrap_or_default();
        if let Some(refusal) = handling.on_record {
            response.extensions_mut().insert(refusal);
        }
        if let Some(cause) = handling.cause {
            response.extensions_mut().insert(Cause(cause));
        }
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if status == StatusCode::UNAUTHORIZED {
            let challenge = if self.problem_type.ends_with("invalidAccessToken") {
                "Bearer error=\"invalid_token\""
            } else {
                "Bearer"
            };
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_serialises_with_the_rfc_9457_member_names() {
        let problem = Problem::too_many_requests(10, 2);
        let json = serde_json::to_value(&problem).unwrap();
        assert_eq!(json["type"], "urn:problem-type:belgif:tooManyRequests");
        assert_eq!(json["status"], 429);
        assert_eq!(json["retryAfter"], 2);
        assert_eq!(json["limit"], 10);
        assert!(json.get("issues").is_none());
    }

    #[test]
    fn a_server_error_for_any_cause_says_nothing_about_it() {
        let problem = Problem::for_status(StatusCode::BAD_GATEWAY);
        assert_eq!(
            problem.problem_type,
            "urn:problem-type:belgif:internalServerError"
        );
        assert!(problem.detail.is_none());
    }
}
