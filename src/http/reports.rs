//! The yearly monitoring of joint-client trajectories (SWO art. 16), for coordinators (role
//! `coordinator`, purpose `monitoring`): counts only, small cells suppressed.

use super::case_work::{invalid, require_purpose};
use super::problem::{InputIssue, Problem};
use crate::app::AppState;
use crate::domain::monitoring::MonitoringReport;
use crate::domain::purpose::Purpose;
use crate::gate::Caller;
use crate::gate::action;
use axum::Json;
use axum::extract::{Extension, Query, State};
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The first year the agreement's monitoring can cover.
const FIRST_YEAR: i32 = 2020;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_monitoring_report))
}

/// Joint clients by integration status, direction and sanction authority; referrals by
/// direction and outcome; attests by kind; participation trajectories — for one year. A
/// count from 1 to 4 reads `<5`, and a cell that would give one away through the total reads
/// `suppressed`.
#[utoipa::path(get, path = "/v1/reports/monitoring", operation_id = action::MONITORING, tag = "reports",
    params(("year" = i32, Query, description = "The calendar year")),
    responses((status = 200, description = "The report", body = MonitoringReport),
              (status = 403, description = "Not a coordinator monitoring", body = Problem, content_type = "application/problem+json")))]
pub async fn get_monitoring_report(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<Json<MonitoringReport>, Problem> {
    let act = action::MONITORING;
    let permitted = who.purpose == Purpose::Monitoring;
    let detail = "the monitoring report is read with the purpose monitoring";
    require_purpose(act, permitted, detail)?;
    let this_year = time::OffsetDateTime::now_utc().year();
    let mut issues: Vec<InputIssue> = query
        .keys()
        .filter(|k| k.as_str() != "year")
        .map(|name| InputIssue::new("query", name.clone(), "unknown parameter"))
        .collect();
    let year = query.get("year").and_then(|y| y.parse::<i32>().ok());
    let year = match year {
        Some(year) if (FIRST_YEAR..=this_year).contains(&year) => year,
        _ => {
            let detail = format!("a year from {FIRST_YEAR} to {this_year}");
            issues.push(InputIssue::new("query", "year", detail));
            0
        }
    };
    if !issues.is_empty() {
        return Err(invalid(act, Problem::bad_request(issues)));
    }
    Ok(Json(state.gate.monitoring(&who, year).await?))
}
