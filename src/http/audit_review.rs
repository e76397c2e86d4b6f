//! Reviewing the audit log (role `privacyOfficer`, purpose `auditReview`): a client's access
//! report (GDPR art. 15), and searching by time range,
//! party, user, client, action, outcome and purpose, in sequence order, a page at a time with
//! a cursor that neither skips nor repeats a record while the log grows. An officer sees the
//! records of its own party's users and those about clients its party is linked to (or all,
//! for the parties configured to review the whole log). Each search is itself on record.

use super::problem::{InputIssue, Problem};
use crate::app::AppState;
use crate::audit::access_report::AccessReport;
use crate::audit::anomalies::{Anomaly, Bounds};
use crate::audit::record::{AuditRecord, micros};
use crate::domain::client_id::ClientId;
use crate::domain::purpose::Purpose;
use crate::domain::role::Role;
use crate::gate::Caller;
use crate::gate::action;
use crate::gate::parameters::Parameters;
use crate::gate::search;
use crate::http::case_work::{bad_query, invalid, personal, require_purpose};
use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::Serialize;
use std::collections::BTreeMap;
use time::OffsetDateTime;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_audit_log))
        .routes(routes!(get_access_report))
        .routes(routes!(get_audit_anomalies))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    /// The records, in sequence order, as they are stored (the Merkle leaves' content).
    #[schema(value_type = Vec<Object>)]
    items: Vec<AuditRecord>,
    /// Pass as `after` for the next page; `null` when the end of the log was reached.
    next: Option<i64>,
}

/// The audit records the officer may review that match every given filter.
#[utoipa::path(get, path = "/v1/audit/records", operation_id = action::SEARCH_AUDIT, tag = "audit",
    params(("from" = Option<String>, Query, description = "From this time on (RFC 3339)"),
           ("to" = Option<String>, Query, description = "Before this time (RFC 3339)"),
           ("party" = Option<String>, Query, description = "The acting party"),
           ("user" = Option<String>, Query, description = "The acting user (`sub`)"),
           ("client" = Option<String>, Query, description = "The client concerned"),
           ("action" = Option<String>, Query, description = "The operation, e.g. readClient"),
           ("outcome" = Option<String>, Query, description = "allowed or denied"),
           ("purpose" = Option<String>, Query, description = "The declared purpose"),
           ("after" = Option<i64>, Query, description = "The cursor: records after this sequence number"),
           ("pageSize" = Option<i64>, Query, description = "At most this many (1 to 500, default 100)")),
    responses((status = 200, description = "A page of records", body = AuditPage)))]
pub async fn search_audit_log(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<Response, Problem> {
    let act = action::SEARCH_AUDIT;
    require_review(&who, act)?;
    let search = search::parse(&query, |party| state.parties.by_id(party).is_some())
        .map_err(|issues| invalid(act, bad_query(issues)))?;
    let page = state.gate.search_audit(&who, &search).await?;
    let body = AuditPage {
        items: page.records,
        next: page.next,
    };
    Ok(personal(StatusCode::OK, Json(body)))
}

/// Every access to a client's data, grouped by party and purpose, with the categories and the
/// times (GDPR art. 15): what the client is entitled to be told.
#[utoipa::path(get, path = "/v1/audit/clients/{clientId}/access-report", operation_id = action::ACCESS_REPORT, tag = "audit",
    responses((status = 200, description = "The access report: JSON, or with `Accept: text/html` a printable page in Dutch to hand to the client",
               content((AccessReport = "application/json"), (String = "text/html"))),
              (status = 400, description = "Not a client id", body = Problem, content_type = "application/problem+json")))]
pub async fn get_access_report(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let act = action::ACCESS_REPORT;
    require_review(&who, act)?;
    let client = ClientId::parse(&client_id).ok_or_else(|| {
        let issue = InputIssue::new("path", "clientId", "not a valid id");
        invalid(act, Problem::bad_request(vec![issue]))
    })?;
    let report = state.gate.access_report(&who, &client).await?;
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if !wants_html {
        return Ok(personal(StatusCode::OK, Json(report)));
    }
    let generated = crate::audit::record::format_time(OffsetDateTime::now_utc());
    let page = crate::ui::access_report::printable(&report, &generated, &|party| {
        state.parties.name_of(party)
    });
    let csp = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
    let headers = [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CONTENT_SECURITY_POLICY, csp),
    ];
    Ok(personal(StatusCode::OK, (headers, page)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AnomalyReport {
    anomalies: Vec<Anomaly>,
    /// False when the range held more records than one scan reads: narrow it.
    complete: bool,
}

/// Access patterns to look at in `[from, to)` (default: the last 24 hours), among the records
/// the officer may review: many distinct clients an hour, far above the user's own norm,
/// refusal bursts, access outside office hours, attempts after a link ended.
#[utoipa::path(get, path = "/v1/audit/anomalies", operation_id = action::AUDIT_ANOMALIES, tag = "audit",
    params(("from" = Option<String>, Query, description = "From this time on (RFC 3339)"),
           ("to" = Option<String>, Query, description = "Before this time (RFC 3339)")),
    responses((status = 200, description = "The flags, each with the records behind it", body = AnomalyReport)))]
pub async fn get_audit_anomalies(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<Response, Problem> {
    let act = action::AUDIT_ANOMALIES;
    require_review(&who, act)?;
    let now = OffsetDateTime::now_utc();
    let mut parameters = Parameters::new(&query);
    parameters.refuse_unknown(&["from", "to"]);
    let from = parameters.time("from", micros(now - time::Duration::days(1)));
    let to = parameters.time("to", micros(now + time::Duration::seconds(1)));
    let (from, to) = parameters
        .finish((from, to))
        .map_err(|issues| invalid(act, bad_query(issues)))?;
    let review = &state.config.review;
    let bounds = Bounds::from(review);
    let (anomalies, complete) = state
        .gate
        .audit_anomalies(&who, from, to, &bounds, review.max_records)
        .await?;
    let body = AnomalyReport {
        anomalies,
        complete,
    };
    Ok(personal(StatusCode::OK, Json(body)))
}

/// The audit log's records are reviewed by a privacy officer with the purpose `auditReview`
/// only; anyone else is refused on record.
pub fn require_review(who: &Caller, act: &'static str) -> Result<(), Problem> {
    require_log_access(who, act, &[Role::PrivacyOfficer])
}

/// The log's checkpoints and consistency proofs: for privacy officers and for the parties'
/// systems witnessing the log, with the purpose `auditReview`.
pub fn require_checkpoints(who: &Caller, act: &'static str) -> Result<(), Problem> {
    require_log_access(who, act, &[Role::PrivacyOfficer, Role::System])
}

/// Cosigning checkpoints: a party's system, as its witness, with the purpose `auditReview`.
pub fn require_witness(who: &Caller, act: &'static str) -> Result<(), Problem> {
    require_log_access(who, act, &[Role::System])
}

fn require_log_access(who: &Caller, act: &'static str, roles: &[Role]) -> Result<(), Problem> {
    require_purpose(
        act,
        who.purpose == Purpose::AuditReview,
        "the audit log is reviewed with the purpose auditReview",
    )?;
    let acting = roles.iter().any(|role| who.acting_roles.contains(*role));
    let names: Vec<&str> = roles.iter().map(|role| role.as_str()).collect();
    require_purpose(
        act,
        acting,
        &format!(
            "this part of the audit log is for the role {}",
            names.join(" or ")
        ),
    )
}
