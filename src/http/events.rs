//! The change feed (product brief §7): `GET /v1/events?after=&pageSize=&waitSeconds=`, long-poll,
//! only events about clients the caller is linked to, in position order, each with only the
//! categories the caller may see when it is delivered. The cursor is a position in the
//! outbox, so it survives restarts.

use super::case_work::{bad_query, invalid, personal, require_case_work};
use super::problem::Problem;
use crate::app::AppState;
use crate::gate::Caller;
use crate::gate::action;
use crate::gate::parameters::Parameters;
use crate::gate::views::EventView;
use axum::Json;
use axum::extract::{Extension, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_events))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventPage {
    events: Vec<EventView>,
    /// The cursor for the next call (`after`).
    next: i64,
}

struct FeedQuery {
    after: i64,
    limit: i64,
    wait: Duration,
}

fn parse(query: &BTreeMap<String, String>, max_wait: u64) -> Result<FeedQuery, Problem> {
    let mut parameters = Parameters::new(query);
    let after = parameters.integer("after", 0..=i64::MAX, 0);
    // `pageSize`, as every listing names it; `limit`, as the feed first did, is kept for the
    // clients written against it. Both given: they must agree.
    let size = parameters.integer("pageSize", 1..=MAX_LIMIT, DEFAULT_LIMIT);
    let limit = parameters
        .integer("limit", 0..=MAX_LIMIT, DEFAULT_LIMIT)
        .max(1);
    let limit = match (parameters.text("pageSize"), parameters.text("limit")) {
        (Some(_), Some(_)) if size != limit => {
            parameters.issue("limit", "the same as pageSize (limit is its older name)");
            size
        }
        (Some(_), _) => size,
        _ => limit,
    };
    let wait = parameters.integer("waitSeconds", 0..=max_wait as i64, 0);
    parameters.refuse_unknown(&["after", "pageSize", "limit", "waitSeconds"]);
    let wait = Duration::from_secs(wait as u64);
    let query = FeedQuery { after, limit, wait };
    parameters.finish(query).map_err(bad_query)
}

/// Events about the caller's linked clients after a position, waiting up to `waitSeconds`
/// for one to arrive.
#[utoipa::path(get, path = "/v1/events", operation_id = "listEvents", tag = "events",
    params(("after" = Option<i64>, Query, description = "The position of the last event seen (0 from the start)"),
           ("pageSize" = Option<i64>, Query, description = "At most this many events (1 to 1000, default 100)"),
           ("limit" = Option<i64>, Query, description = "The older name of pageSize, still accepted"),
           ("waitSeconds" = Option<i64>, Query, description = "Wait up to this long for an event (long-poll)")),
    responses((status = 200, description = "The events and the next cursor", body = EventPage)))]
pub async fn list_events(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<Response, Problem> {
    let act = action::DELIVER_EVENT;
    require_case_work(&who, act)?;
    // A long poll must end before the request time-out does.
    let max_wait = (state.config.limits.request_timeout_ms / 1000)
        .saturating_sub(1)
        .min(30);
    let query = parse(&query, max_wait).map_err(|problem| invalid(act, problem))?;
    let (events, next) = state
        .gate
        .feed(&who, query.after, query.limit, query.wait)
        .await?;
    Ok(personal(StatusCode::OK, Json(EventPage { events, next })))
}
