//! The period the anomaly and activity pages look at: their from–to form, and the range it
//! asks for, or the form back with what is wrong (on record as refused).

use super::dates::{self, DayRange};
use super::invalid_input;
use super::officer::Officer;
use crate::app::AppState;
use axum::response::Response;
use maud::{Markup, html};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// At most this many days at once: a quarter.
const MAX_DAYS: i64 = 92;

/// A page's place and what it does: its title, its path, its action in the audit log, and
/// the days it looks at when none are chosen.
pub struct Place {
    pub title: &'static str,
    pub here: &'static str,
    pub action: &'static str,
    pub default_days: i64,
}

impl Place {
    /// A page titled `title` at `here`, whose looks are recorded as `action`, showing the
    /// last `default_days` days unless asked otherwise.
    pub const fn new(
        title: &'static str,
        here: &'static str,
        action: &'static str,
        default_days: i64,
    ) -> Self {
        Self {
            title,
            here,
            action,
            default_days,
        }
    }
}

/// The range the form asks for; a malformed one is refused on record and answered with the
/// form and the reason.
pub async fn requested(
    state: &AppState,
    officer: &Officer,
    query: &BTreeMap<String, String>,
    place: &Place,
) -> Result<DayRange, Response> {
    let today = OffsetDateTime::now_utc().date();
    match DayRange::from_form(query, place.default_days, MAX_DAYS, today) {
        Ok(range) => Ok(range),
        Err(message) => {
            let content = html! {
                h1 { (place.title) }
                div class="error" role="alert" { p { (message) } }
                (form(place.here, query, None))
            };
            let at = (place.title, place.here);
            Err(invalid_input(state, officer, place.action, at, content).await)
        }
    }
}

/// The from–to form the anomaly and activity pages share; `range` fills in the dates used.
pub fn form(action: &str, query: &BTreeMap<String, String>, range: Option<&DayRange>) -> Markup {
    let from = range.map_or_else(
        || query.get("from").cloned().unwrap_or_default(),
        |r| dates::format(r.from),
    );
    let to = range.map_or_else(
        || query.get("to").cloned().unwrap_or_default(),
        |r| dates::format(r.to),
    );
    html! {
        form method="get" action=(action) class="filters" {
            div class="field" {
                label for="from" { "Van (datum)" }
                input type="date" id="from" name="from" value=(from);
            }
            div class="field" {
                label for="to" { "Tot en met (datum)" }
                input type="date" id="to" name="to" value=(to);
            }
            div class="actions" { button type="submit" { "Tonen" } }
        }
    }
}
