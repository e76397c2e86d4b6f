//! The yearly monitoring of joint-client trajectories (SWO art. 16), for coordinators (role
//! `coordinator`, purpose `monitoring`): counts only, small cells suppressed.

use super::case_work::{bad_query, invalid, require_purpose};
use super::problem::Problem;
use crate::app::AppState;
use crate::domain::monitoring::MonitoringReport;
use crate::domain::purpose::Purpose;
use crate::gate::Caller;
use crate::gate::action;
use crate::gate::parameters::Parameters;
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
    let mut parameters = Parameters::new(&query);
    parameters.refuse_unknown(&["year"]);
    let years = FIRST_YEAR..=this_year;
    let expected = format!("a year from {FIRST_YEAR} to {this_year}");
    let year = parameters.required("year", &expected, |text| {
        text.parse::<i32>().ok().filter(|year| years.contains(year))
    });
    let year = parameters
        .finish(year.unwrap_or_default())
        .map_err(|issues| invalid(act, bad_query(issues)))?;
    Ok(Json(state.gate.monitoring(&who, year).await?))
}
