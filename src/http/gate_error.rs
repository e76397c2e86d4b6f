//! How the gate's refusals and failures reach the caller.

use super::problem::{InputIssue, Problem};
use crate::domain::infraction::InfractionError;
use crate::domain::record::patch::{PatchIssueKind, PatchRejection, StatusClass};
use crate::domain::referral::ReferralError;
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
            GateError::PreconditionRequired => Problem::new(
                StatusCode::PRECONDITION_REQUIRED,
                "urn:problem-type:gateway:preconditionRequired",
                "Precondition Required",
            )
            .detail("Send If-Match with the ETag of the record as read"),
            GateError::PreconditionFailed => Problem::new(
                StatusCode::PRECONDITION_FAILED,
                "urn:problem-type:gateway:preconditionFailed",
                "Precondition Failed",
            )
            .detail("The record changed since it was read; read it again"),
            GateError::Patch(rejection) => patch_problem(&rejection),
            GateError::Referral(error) => referral_problem(error),
            GateError::ReferralConflict => Problem::new(
                StatusCode::CONFLICT,
                "urn:problem-type:gateway:illegalTransition",
                "Illegal Transition",
            )
            .detail("The referral changed since it was read; read it again"),
            GateError::Infraction(error) => infraction_problem(error),
            GateError::NotPermitted => Problem::new(
                StatusCode::FORBIDDEN,
                "urn:problem-type:gateway:notPermitted",
                "Not Permitted",
            )
            .detail("The policy does not let the caller see what this operation concerns"),
            GateError::ReferenceConflict => Problem::new(
                StatusCode::CONFLICT,
                "urn:problem-type:gateway:referenceConflict",
                "Reference Conflict",
            )
            .detail("This reference was notified before with other content"),
            GateError::CompetenceTaken(kind) => Problem::new(
                StatusCode::CONFLICT,
                "urn:problem-type:gateway:competenceTaken",
                "Competence Taken",
            )
            .detail(format!(
                "Another {kind} party is competent for this client: register as involved, or \
                 claim competence"
            )),
            GateError::NotCompetent => Problem::new(
                StatusCode::FORBIDDEN,
                "urn:problem-type:gateway:notCompetent",
                "Not Competent",
            )
            .detail("Only the competent party of its kind for this client may do this"),
            GateError::NoClaim => Problem::new(
                StatusCode::CONFLICT,
                "urn:problem-type:gateway:noPendingClaim",
                "No Pending Claim",
            )
            .detail("That party has not claimed competence for this client"),
            GateError::CategoryNotOwned(categories) => {
                let names: Vec<&str> = categories.iter().map(|c| c.as_str()).collect();
                let mut problem = Problem::new(
                    StatusCode::FORBIDDEN,
                    "urn:problem-type:gateway:categoryNotOwned",
                    "Category Not Owned",
                )
                .detail(format!(
                    "A consent is recorded by the competent owner of what it names; not yours: {}",
                    names.join(", ")
                ));
                problem.issues = names
                    .iter()
                    .map(|c| InputIssue::new("body", "/categories", format!("{c} is not yours")))
                    .collect();
                problem
            }
            GateError::ConsentRule(issues) => {
                let mut problem = Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "urn:problem-type:gateway:consentRule",
                    "Refused By The Consent Rules",
                )
                .detail("The consent cannot be recorded as submitted");
                problem.issues = issues
                    .into_iter()
                    .map(|(member, detail)| InputIssue::new("body", member, detail))
                    .collect();
                problem
            }
            GateError::ConsentRequired => Problem::new(
                StatusCode::FORBIDDEN,
                "urn:problem-type:gateway:consentRequired",
                "Consent Required",
            )
            .detail("A link on the legal basis of consent needs an active consent for your party"),
            other => Problem::internal().caused_by(other.to_string()),
        }
    }
}

/// Every issue of a refused patch, each with its own type, under the status of the gravest.
fn patch_problem(rejection: &PatchRejection) -> Problem {
    let mut problem = match rejection.status_class() {
        StatusClass::Forbidden => Problem::new(
            StatusCode::FORBIDDEN,
            "urn:problem-type:gateway:fieldNotOwned",
            "Field Not Owned",
        )
        .detail("Only a field's owner writes it, and derived fields are written by nobody"),
        StatusClass::BadRequest => Problem::bad_request(Vec::new()),
        StatusClass::Unprocessable => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "urn:problem-type:gateway:invalidFieldValue",
            "Invalid Field Value",
        )
        .detail("A value is not valid for its field"),
    };
    problem.issues = rejection
        .issues
        .iter()
        .map(|issue| {
            let mut input = InputIssue::new(
                "body",
                format!("/{}", issue.member.replace('.', "/")),
                issue.kind.detail(),
            );
            input.issue_type = match issue.kind {
                PatchIssueKind::NotOwned => "urn:problem-type:gateway:fieldNotOwned",
                PatchIssueKind::DerivedField => "urn:problem-type:gateway:derivedField",
                PatchIssueKind::UnknownField => {
                    "urn:problem-type:belgif:input-validation:unknownInput"
                }
                PatchIssueKind::NotAnObject => {
                    "urn:problem-type:belgif:input-validation:schemaViolation"
                }
                PatchIssueKind::InvalidValue(_) => "urn:problem-type:gateway:invalidFieldValue",
            };
            input
        })
        .collect();
    problem
}

/// The agreement's referral rules: a move the status does not allow is a conflict, a move by
/// the wrong side is forbidden, anything else is an input problem naming its member.
fn referral_problem(error: ReferralError) -> Problem {
    use ReferralError::*;
    let detail = error.to_string();
    match error {
        IllegalTransition { .. } | FeedbackClosed { .. } => Problem::new(
            StatusCode::CONFLICT,
            "urn:problem-type:gateway:illegalTransition",
            "Illegal Transition",
        )
        .detail(detail),
        NotYourTurn { .. } | KbiCannotRefer => Problem::new(
            StatusCode::FORBIDDEN,
            "urn:problem-type:gateway:notYourTurn",
            "Not Your Turn",
        )
        .detail(detail),
        KbiCannotReceive | SelfReferral | AgencyToAgency => {
            Problem::bad_request(vec![InputIssue::new("body", "/toParty", detail)])
        }
        RefusalWithoutReason => {
            Problem::bad_request(vec![InputIssue::new("body", "/reason", detail)])
        }
        EvidenceRequired | EvidenceMalformed | EvidenceLooksLikeSsin => {
            Problem::bad_request(vec![InputIssue::new("body", "/evidenceReference", detail)])
        }
        InvalidText { field, .. } => {
            Problem::bad_request(vec![InputIssue::new("body", field, detail)])
        }
    }
}

/// The agreement's infraction rules (SWO art. 12): who is acting is a 403, a second decision a
/// conflict, and content the rules refuse a 422 naming its member.
fn infraction_problem(error: InfractionError) -> Problem {
    use InfractionError::*;
    let detail = error.to_string();
    let member = match error {
        NotTheAgency | NotRoutedToYou { .. } => {
            return Problem::new(
                StatusCode::FORBIDDEN,
                "urn:problem-type:gateway:notSanctionAuthority",
                "Not The Sanction Authority",
            )
            .detail(detail);
        }
        AlreadyDecided => {
            return Problem::new(
                StatusCode::CONFLICT,
                "urn:problem-type:gateway:alreadyDecided",
                "Already Decided",
            )
            .detail(detail);
        }
        OccursInFuture => "/occurredOn",
        DescriptionRequired => "/description",
        InvalidText { field, .. } => field,
        DecidedInFuture | DecidedBeforeInfraction => "/decidedOn",
        NoteRequired => "/note",
        SuspensionIsTheOcmws => "/decision",
    };
    let mut problem = Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "urn:problem-type:gateway:infractionRule",
        "Refused By The Agreement",
    )
    .detail(detail.clone());
    problem.issues = vec![InputIssue::new("body", member, detail)];
    problem
}
