//! Access patterns to look at, among the records the officer may review in a range of days:
//! the API's anomaly detection behind a form, each flag with links to the records behind it.

use super::dates;
use super::officer::Officer;
use super::period::{self, Place};
use super::{gate_error, labels, layout};
use crate::app::AppState;
use crate::audit::anomalies::{Anomaly, Bounds};
use crate::gate::action;
use axum::extract::{Extension, Query, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use std::collections::BTreeMap;

const PLACE: Place = Place::new("Afwijkingen", "/ui/anomalies", action::AUDIT_ANOMALIES, 7);
const TITLE: &str = PLACE.title;
const HERE: &str = PLACE.here;

pub async fn page(
    State(state): State<AppState>,
    Extension(officer): Extension<Officer>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<Response, Response> {
    let range = period::requested(&state, &officer, &query, &PLACE).await?;
    let (from, to) = range.micros();
    let review = &state.config.review;
    let bounds = Bounds::from(review);
    let (anomalies, complete) = state
        .gate
        .audit_anomalies(&officer.caller, from, to, &bounds, review.max_records)
        .await
        .map_err(|error| gate_error(&officer, error))?;
    let content = html! {
        h1 { (TITLE) }
        (period::form(HERE, &query, Some(&range)))
        @if !complete {
            p class="warning" role="status" {
                "Deze periode bevat meer records dan één controle leest; alleen het begin ervan "
                "werd nagegaan. Kies een kortere periode."
            }
        }
        @if anomalies.is_empty() {
            p { "Geen afwijkingen gevonden van " (dates::format(range.from)) " tot en met " (dates::format(range.to)) "." }
        } @else {
            p { (anomalies.len()) " afwijkingen gevonden. Elke afwijking noemt de records waarop ze steunt." }
            @for (n, anomaly) in anomalies.iter().enumerate() {
                (flag(&state, n, anomaly))
            }
        }
    };
    Ok(layout::page(TITLE, HERE, Some(&officer), content).into_response())
}

fn flag(state: &AppState, n: usize, anomaly: &Anomaly) -> Markup {
    let heading = format!("afwijking-{n}");
    let search = {
        let mut pairs = form_urlencoded::Serializer::new(String::new());
        pairs.append_pair("user", &anomaly.user);
        pairs.append_pair("party", &anomaly.party);
        if let Some(day) = anomaly.first.get(..10) {
            pairs.append_pair("from", day);
        }
        if let Some(day) = anomaly.last.get(..10) {
            pairs.append_pair("to", day);
        }
        format!("/ui/audit?{}", pairs.finish())
    };
    html! {
        section class="anomaly" aria-labelledby=(heading) {
            h2 id=(heading) { (labels::anomaly(anomaly.kind)) }
            dl {
                dt { "Gebruiker" } dd { (anomaly.user) " (" (state.parties.name_of(&anomaly.party)) ")" }
                dt { "Geteld" } dd { (anomaly.count) " (grens " (anomaly.bound) ")" }
                dt { "Van – tot" } dd { (anomaly.first) " – " (anomaly.last) }
                dt { "Records" } dd { (records(&anomaly.records)) }
            }
            p { a href=(search) { "Deze records opzoeken in het logboek" } }
        }
    }
}

/// The sequence numbers behind a flag; a long list is shortened, the search shows them all.
fn records(seqs: &[u64]) -> String {
    const SHOWN: usize = 20;
    let mut text = seqs
        .iter()
        .take(SHOWN)
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if seqs.len() > SHOWN {
        text.push_str(&format!(" en {} meer", seqs.len() - SHOWN));
    }
    text
}
