//! How the gate's refusals and failures reach the caller.

use super::problem::Problem;
use crate::gate::GateError;
use axum::http::StatusCode;

impl From<GateError> for Problem {
    fn from(error: GateError) -> Self {
        match error {
            GateError::NotFound => Problem::resource_not_found(),
            GateError::AuditUnavailable(_) => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "urn:problem-type:gateway:auditUnavailable",
                "Audit Unavailable",
            )
            .detail("The access cannot be recorded in the audit log, so no data is served"),
            GateError::AlreadyWithdrawn => Problem::new(
                StatusCode::CONFLICT,
                "urn:problem-type:gateway:consentAlreadyWithdrawn",
                "Consent Already Withdrawn",
            )
            .detail("The consent was withdrawn before"),
            other => {
                tracing::error!(error = %other, "the gate failed");
                Problem::internal()
            }
        }
    }
}
