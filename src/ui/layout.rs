//! The frame of every page: language, title, the officer's name, the menu, one stylesheet;
//! and the page shown when something is refused or goes wrong.

use super::officer::Officer;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

const PRODUCT: &str = "Gegevensuitwisseling gezamenlijke cliënten";

/// The menu: path and label.
const MENU: [(&str, &str); 7] = [
    ("/ui", "Overzicht"),
    ("/ui/audit", "Zoeken in het logboek"),
    ("/ui/access-report", "Inzageverslag"),
    ("/ui/anomalies", "Afwijkingen"),
    ("/ui/activity", "Activiteit"),
    ("/ui/integrity", "Integriteit"),
    ("/ui/register", "Register"),
];

pub fn page(title: &str, current: &str, officer: Option<&Officer>, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="nl" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — " (PRODUCT) }
                link rel="stylesheet" href="/ui/style.css";
                link rel="icon" href="/ui/favicon.svg" type="image/svg+xml";
            }
            body {
                a class="skip" href="#inhoud" { "Naar de inhoud" }
                header {
                    p class="product" { (PRODUCT) " — controle door de functionaris voor gegevensbescherming" }
                    @if let Some(officer) = officer {
                        p class="who" {
                            "Aangemeld als " strong { (officer.caller.user.strip_prefix(crate::auth::token::PERSON_PREFIX).unwrap_or(&officer.caller.user)) }
                            " (" (officer.caller.party.name) ")"
                        }
                        nav aria-label="Hoofdmenu" {
                            ul {
                                @for (path, label) in MENU {
                                    li {
                                        a href=(path) aria-current=[(path == current).then_some("page")] { (label) }
                                    }
                                }
                            }
                        }
                    }
                }
                main id="inhoud" { (content) }
            }
        }
    }
}

/// A page that says what went wrong, with its status.
pub fn problem(
    status: StatusCode,
    officer: Option<&Officer>,
    title: &str,
    detail: &str,
) -> Response {
    let content = html! {
        h1 { (title) }
        p { (detail) }
    };
    (status, page(title, "", officer, content)).into_response()
}
