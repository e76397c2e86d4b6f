//! Accesses to clients' data per day, per party and per purpose, as two charts and the tables
//! with the same numbers: where the officer sees a peak before searching for its records.

use super::chart::{self, Series};
use super::officer::Officer;
use super::period::{self, Place};
use super::{gate_error, labels, layout};
use crate::app::AppState;
use crate::audit::activity;
use crate::gate::action;
use axum::extract::{Extension, Query, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use std::collections::BTreeMap;

const PLACE: Place = Place::new("Activiteit", "/ui/activity", action::AUDIT_ACTIVITY, 14);
const TITLE: &str = PLACE.title;
const HERE: &str = PLACE.here;

pub async fn page(
    State(state): State<AppState>,
    Extension(officer): Extension<Officer>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<Response, Response> {
    let range = period::requested(&state, &officer, &query, &PLACE).await?;
    let (from, to) = range.micros();
    let max = state.config.review.max_records;
    let (counted, complete) = state
        .gate
        .audit_activity(&officer.caller, from, to, max)
        .await
        .map_err(|error| gate_error(&officer, error))?;
    let days = range.days();
    let by_party = series(&counted.by_party, &days, |party| {
        state.parties.name_of(party)
    });
    let by_purpose = series(&counted.by_purpose, &days, |purpose| {
        labels::purpose(purpose).to_owned()
    });
    let content = html! {
        h1 { (TITLE) }
        (period::form(HERE, &query, Some(&range)))
        @if !complete {
            p class="warning" role="status" {
                "Deze periode bevat meer records dan één telling leest; alleen het begin ervan "
                "is geteld. Kies een kortere periode."
            }
        }
        p { (counted.total) " keer werden gegevens van cliënten gezien of gewijzigd." }
        (figure("per-partij", "Toegang per dag, per partij", &days, &by_party))
        (figure("per-doel", "Toegang per dag, per doel", &days, &by_purpose))
    };
    Ok(layout::page(TITLE, HERE, Some(&officer), content).into_response())
}

fn series(
    counts: &activity::Series,
    days: &[String],
    name: impl Fn(&str) -> String,
) -> Vec<Series> {
    counts
        .iter()
        .map(|(key, per_day)| Series {
            label: name(key),
            values: days
                .iter()
                .map(|day| per_day.get(day).copied().unwrap_or(0))
                .collect(),
        })
        .collect()
}

/// A chart with its legend, and the same numbers as a table (for screen readers, and for
/// anyone who wants the exact count).
fn figure(id: &str, title: &str, days: &[String], series: &[Series]) -> Markup {
    let heading = format!("{id}-kop");
    html! {
        section class="figure" aria-labelledby=(heading) {
            h2 id=(heading) { (title) }
            (chart::stacked_bars(id, title, days, series))
            ul class="legend" {
                @for (n, one) in series.iter().enumerate() {
                    li {
                        svg class="swatch" viewBox="0 0 10 10" aria-hidden="true" {
                            rect width="10" height="10" fill=(chart::colour(n)) {}
                        }
                        (one.label)
                    }
                }
            }
            details {
                summary { "De cijfers als tabel" }
                table {
                    thead {
                        tr {
                            th scope="col" { "Dag" }
                            @for one in series { th scope="col" { (one.label) } }
                        }
                    }
                    tbody {
                        @for (d, day) in days.iter().enumerate() {
                            tr {
                                th scope="row" { (day) }
                                @for one in series { td { (one.values[d]) } }
                            }
                        }
                    }
                }
            }
        }
    }
}
