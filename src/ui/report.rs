//! A client's access report (GDPR art. 15) for the officer: the same report as the API's, on
//! a page with a form to ask for another client, and as a printable page for the client.

use super::officer::Officer;
use super::{access_report, gate_error, invalid_input, layout};
use crate::app::AppState;
use crate::audit::access_report::AccessReport;
use crate::audit::record::format_time;
use crate::domain::client_id::ClientId;
use crate::gate::action;
use axum::extract::{Extension, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use std::collections::BTreeMap;
use time::OffsetDateTime;

const TITLE: &str = "Inzageverslag";
const HERE: &str = "/ui/access-report";

pub async fn page(
    State(state): State<AppState>,
    Extension(officer): Extension<Officer>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let client = query.get("client").map(|c| c.trim()).unwrap_or_default();
    if client.is_empty() {
        let content = html! {
            h1 { (TITLE) }
            p { "Alles wat met de gegevens van één cliënt gebeurde, per partij en doel (AVG art. 15)." }
            (form(client))
        };
        return layout::page(TITLE, HERE, Some(&officer), content).into_response();
    }
    match report(&state, &officer, client).await {
        Ok((report, generated)) => {
            let print = format!("{HERE}/print?client={}", report.client_id);
            let content = html! {
                (access_report::report(&report, &generated, &|party| state.parties.name_of(party)))
                p { a href=(print) { "Afdrukbare versie voor de cliënt" } }
                section aria-labelledby="andere" {
                    h2 id="andere" { "Een andere cliënt" }
                    (form(""))
                }
            };
            layout::page(TITLE, HERE, Some(&officer), content).into_response()
        }
        Err(response) => response,
    }
}

/// The report alone, to print or save as PDF for the client: no menu, no style, no script.
pub async fn printable(
    State(state): State<AppState>,
    Extension(officer): Extension<Officer>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let client = query.get("client").map(|c| c.trim()).unwrap_or_default();
    match report(&state, &officer, client).await {
        Ok((report, generated)) => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            access_report::printable(&report, &generated, &|party| state.parties.name_of(party)),
        )
            .into_response(),
        Err(response) => response,
    }
}

/// The report, or the page that says why not (each refusal on record, like the API's).
async fn report(
    state: &AppState,
    officer: &Officer,
    client: &str,
) -> Result<(AccessReport, String), Response> {
    let Some(client) = ClientId::parse(client) else {
        let content = html! {
            h1 { (TITLE) }
            div class="error" role="alert" {
                p { "Dat is geen dossier-id. Een dossier-id ziet eruit als 0193a4f2-6c1e-7d3a-9b2e-4f5a6b7c8d9e." }
            }
            (form(client))
        };
        let place = (TITLE, HERE);
        return Err(invalid_input(state, officer, action::ACCESS_REPORT, place, content).await);
    };
    match state.gate.access_report(&officer.caller, &client).await {
        Ok(report) => Ok((report, format_time(OffsetDateTime::now_utc()))),
        Err(error) => Err(gate_error(officer, error)),
    }
}

fn form(client: &str) -> Markup {
    html! {
        form method="get" action=(HERE) class="filters" {
            div class="field wide" {
                label for="client" { "Dossier-id van de cliënt" }
                input type="text" id="client" name="client" value=(client) required
                    autocomplete="off" spellcheck="false";
            }
            div class="actions" { button type="submit" { "Verslag opmaken" } }
        }
    }
}
