//! Searching the log: the API's search (`GET /v1/audit/records`) behind a form, with the same
//! filters, the same visibility, the same cursor, and the same record of every search.

use super::officer::Officer;
use super::{dates, gate_error, invalid_input, labels, layout};
use crate::app::AppState;
use crate::audit::record::AuditRecord;
use crate::domain::purpose::Purpose;
use crate::gate::action;
use crate::gate::search;
use axum::extract::{Extension, Query, RawQuery, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use std::collections::BTreeMap;

const PAGE_SIZE: &str = "50";
const FILTERS: [&str; 8] = [
    "from", "to", "party", "user", "client", "action", "outcome", "purpose",
];

pub async fn page(
    State(state): State<AppState>,
    Extension(officer): Extension<Officer>,
    RawQuery(raw): RawQuery,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let title = "Zoeken in het logboek";
    if raw.is_none() {
        let content = html! {
            h1 { (title) }
            (form(&state, &query))
            p { "Kies een of meer filters en klik op Zoeken. Zonder filters ziet u alles wat u mag zien, oudste eerst." }
        };
        return layout::page(title, "/ui/audit", Some(&officer), content).into_response();
    }
    let search = to_api(&query).and_then(|api| {
        search::parse(&api, |party| state.parties.by_id(party).is_some()).map_err(|issues| {
            issues
                .iter()
                .map(|issue| format!("{}: {}", issue.name, issue.detail))
                .collect()
        })
    });
    let search = match search {
        Ok(search) => search,
        Err(errors) => {
            let content = html! {
                h1 { (title) }
                div class="error" role="alert" {
                    p { "De zoekopdracht klopt niet:" }
                    ul { @for error in &errors { li { (error) } } }
                }
                (form(&state, &query))
            };
            let place = (title, "/ui/audit");
            return invalid_input(&state, &officer, action::SEARCH_AUDIT, place, content).await;
        }
    };
    let page = match state.gate.search_audit(&officer.caller, &search).await {
        Ok(page) => page,
        Err(error) => return gate_error(&officer, error),
    };
    let next = page.next.map(|after| {
        let mut pairs = form_urlencoded::Serializer::new(String::new());
        for name in FILTERS {
            if let Some(value) = query.get(name).filter(|v| !v.is_empty()) {
                pairs.append_pair(name, value);
            }
        }
        pairs.append_pair("after", &after.to_string());
        format!("/ui/audit?{}", pairs.finish())
    });
    let content = html! {
        h1 { (title) }
        (form(&state, &query))
        h2 id="resultaten" { "Resultaten" }
        @if page.records.is_empty() {
            p { "Geen records gevonden." }
        } @else {
            (results(&state, &page.records))
        }
        @if let Some(next) = next {
            p { a href=(next) rel="next" { "Volgende resultaten" } }
        }
    };
    layout::page(title, "/ui/audit", Some(&officer), content).into_response()
}

/// The form's values as the API's parameters: dates become the start of the day (and the
/// day after the last one), empty fields are no filter.
fn to_api(query: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>, Vec<String>> {
    let mut api = BTreeMap::new();
    let mut errors = Vec::new();
    for (name, value) in query.iter().filter(|(_, value)| !value.is_empty()) {
        match name.as_str() {
            "from" | "to" => match dates::parse(value) {
                Some(day) => {
                    let day = if name == "to" {
                        day.next_day().unwrap_or(day)
                    } else {
                        day
                    };
                    api.insert(name.clone(), dates::start_of(day));
                }
                None => errors.push(format!("{name}: geen datum (JJJJ-MM-DD)")),
            },
            _ => {
                api.insert(name.clone(), value.clone());
            }
        }
    }
    api.insert("pageSize".into(), PAGE_SIZE.into());
    if errors.is_empty() {
        Ok(api)
    } else {
        Err(errors)
    }
}

fn form(state: &AppState, query: &BTreeMap<String, String>) -> Markup {
    let value = |name: &str| query.get(name).cloned().unwrap_or_default();
    let text_field = |name: &str, label: &str, kind: &str, hint: &str| {
        html! {
            div class="field" {
                label for=(name) { (label) }
                input type=(kind) id=(name) name=(name) value=(value(name))
                    placeholder=[(!hint.is_empty()).then_some(hint)];
            }
        }
    };
    html! {
        form method="get" action="/ui/audit" class="filters" role="search" aria-label="Filters" {
            (text_field("from", "Van (datum)", "date", ""))
            (text_field("to", "Tot en met (datum)", "date", ""))
            div class="field" {
                label for="party" { "Partij" }
                select id="party" name="party" {
                    option value="" { "alle" }
                    @for party in &state.parties.all {
                        option value=(party.id) selected[value("party") == party.id.as_str()] { (party.name) }
                    }
                }
            }
            (text_field("user", "Gebruiker", "text", ""))
            (text_field("client", "Cliënt (dossier-id)", "text", ""))
            (text_field("action", "Handeling", "text", "bv. readClient"))
            div class="field" {
                label for="outcome" { "Uitkomst" }
                select id="outcome" name="outcome" {
                    option value="" { "alle" }
                    option value="allowed" selected[value("outcome") == "allowed"] { "toegestaan" }
                    option value="denied" selected[value("outcome") == "denied"] { "geweigerd" }
                }
            }
            div class="field" {
                label for="purpose" { "Doel" }
                select id="purpose" name="purpose" {
                    option value="" { "alle" }
                    @for purpose in Purpose::ALL {
                        option value=(purpose.as_str()) selected[value("purpose") == purpose.as_str()] {
                            (labels::purpose(purpose.as_str()))
                        }
                    }
                }
            }
            div class="actions" { button type="submit" { "Zoeken" } }
        }
    }
}

fn results(state: &AppState, records: &[AuditRecord]) -> Markup {
    html! {
        table class="records" aria-labelledby="resultaten" {
            thead {
                tr {
                    th scope="col" { "Nr." }
                    th scope="col" { "Tijdstip (UTC)" }
                    th scope="col" { "Partij" }
                    th scope="col" { "Gebruiker" }
                    th scope="col" { "Handeling" }
                    th scope="col" { "Doel" }
                    th scope="col" { "Cliënt" }
                    th scope="col" { "Uitkomst" }
                }
            }
            tbody {
                @for record in records {
                    tr class=[(record.outcome == crate::audit::record::Outcome::Denied).then_some("denied")] {
                        td { (record.seq) }
                        td { (record.time) }
                        td { (state.parties.name_of(&record.party)) }
                        td { (record.user) }
                        td { (labels::action(&record.action)) }
                        td { (labels::purpose(&record.purpose)) }
                        td {
                            @if let Some(client) = &record.client {
                                a href={"/ui/access-report?client=" (client)} { code { (client) } }
                            } @else if !record.clients.is_empty() {
                                (record.clients.len()) " cliënten"
                            }
                        }
                        td {
                            (labels::outcome(record.outcome))
                            @if let Some(reason) = &record.reason { " (" (reason) ")" }
                            @if let Some(count) = record.count { " × " (count) }
                        }
                    }
                }
            }
        }
    }
}
