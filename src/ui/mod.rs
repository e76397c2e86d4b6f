//! The privacy officer's web pages under `/ui`: server-rendered HTML in Dutch, usable without
//! JavaScript (there is none), under a Content-Security-Policy that allows only the one
//! stylesheet; the officer logs in with a personal client certificate. Every page that shows
//! the log goes through the same gate as the API, so every look is on record, and the one
//! state change (verifying the log) is a POST with a form token.

pub mod access_report;
mod activity;
mod anomalies;
pub mod chart;
pub mod csrf;
mod dates;
mod integrity;
pub mod labels;
mod layout;
pub mod officer;
mod period;
mod register;
mod report;
mod search;

use crate::app::AppState;
use crate::gate::GateError;
use axum::Router;
use axum::extract::Extension;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::html;
use officer::Officer;
use std::sync::Arc;

pub use integrity::Verification;

/// What the pages keep between requests.
pub struct Pages {
    pub forms: csrf::FormTokens,
    pub verification: Verification,
}

impl Pages {
    pub fn new(forms: csrf::FormTokens) -> Self {
        Self {
            forms,
            verification: Verification::default(),
        }
    }
}

const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

/// The pages, with what they keep between requests.
pub fn router(state: AppState, pages: Pages) -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/audit", get(search::page))
        .route("/access-report", get(report::page))
        .route("/access-report/print", get(report::printable))
        .route("/anomalies", get(anomalies::page))
        .route("/activity", get(activity::page))
        .route("/integrity", get(integrity::page))
        .route("/integrity/verify", post(integrity::verify))
        .route("/register", get(register::page))
        .route("/style.css", get(style))
        .route("/favicon.svg", get(favicon))
        .route_layer(middleware::from_fn_with_state(state, officer::authenticate))
        .layer(Extension(Arc::new(pages)))
        .fallback(not_found)
        .layer(middleware::from_fn(same_site_only))
        .layer(middleware::map_response(security_headers))
}

/// Another site may link to a page, but not make the officer's browser load one in an image,
/// a frame or a script, or post to it: the browser presents the certificate to whoever asks,
/// and each load would be a look on record in the officer's name. A link followed from another
/// site opens a page that asks to continue, so that only the officer's own click looks
/// anything up (the overview itself looks nothing up). Browsers say where a request comes
/// from in `Sec-Fetch-*`; a client that sends none (curl) is no other site.
async fn same_site_only(request: Request, next: Next) -> Response {
    match arrival(request.method(), request.headers()) {
        Arrival::Own => next.run(request).await,
        Arrival::FollowedLink if request.uri().path() == "/" => next.run(request).await,
        Arrival::FollowedLink => ask_to_continue(request.uri()),
        Arrival::Elsewhere => layout::problem(
            StatusCode::FORBIDDEN,
            None,
            "Geen toegang",
            "Deze pagina's openen niet binnen een andere website.",
        ),
    }
}

/// Where a request for a page comes from.
enum Arrival {
    /// This site, or the officer typing the address or opening a bookmark.
    Own,
    /// A link on another site, followed to open the page itself.
    FollowedLink,
    /// An image, frame, script or form of another site.
    Elsewhere,
}

fn arrival(method: &Method, headers: &HeaderMap) -> Arrival {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    if matches!(header("sec-fetch-site"), "" | "same-origin" | "none") {
        return Arrival::Own;
    }
    let followed_link = method == Method::GET
        && header("sec-fetch-mode") == "navigate"
        && header("sec-fetch-dest") == "document";
    if followed_link {
        Arrival::FollowedLink
    } else {
        Arrival::Elsewhere
    }
}

/// The page a link from another site opens: what it would open, and a link to open it.
/// `target` is the address under `/ui`, where the pages are nested.
fn ask_to_continue(target: &axum::http::Uri) -> Response {
    let within = target
        .path_and_query()
        .map_or_else(|| target.path().to_owned(), |pq| pq.as_str().to_owned());
    let href = format!("/ui{within}");
    let content = html! {
        h1 { "Doorgaan?" }
        p {
            "U volgde een link vanop een andere website. Deze pagina zoekt gegevens op, en dat "
            "komt op uw naam in het logboek. Open ze alleen als u dat zelf wilt."
        }
        p { code { (href) } }
        p { a href=(href) { "Doorgaan" } " · " a href="/ui" { "Naar het overzicht" } }
    };
    (StatusCode::OK, layout::page("Doorgaan?", "", None, content)).into_response()
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::CACHE_CONTROL, "no-store"),
        // Not `no-referrer`: with it a browser sends `Origin: null` on the form's POST, and
        // the origin check needs the real one. Nothing leaves for another site either way.
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers.insert(
        header::HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    response
}

async fn home(Extension(officer): Extension<Officer>) -> Response {
    let content = html! {
        h1 { "Controle van het logboek" }
        p {
            "Elke toegang tot de gegevens van gezamenlijke cliënten staat in een logboek dat "
            "niemand ongemerkt kan wijzigen. Hier beantwoordt u wat de AVG en de "
            "samenwerkingsovereenkomst van u vragen."
        }
        ul class="tasks" {
            li { a href="/ui/audit" { "Zoeken in het logboek" } ": wie deed wat, wanneer, voor welk doel." }
            li { a href="/ui/access-report" { "Inzageverslag" } ": alles wat met de gegevens van één cliënt gebeurde (AVG art. 15)." }
            li { a href="/ui/anomalies" { "Afwijkingen" } ": gebruikers die veel meer lezen dan hun werk vraagt, geweigerde reeksen, toegang buiten de uren of na het einde van een koppeling." }
            li { a href="/ui/activity" { "Activiteit" } ": toegang per dag, per partij en per doel." }
            li { a href="/ui/integrity" { "Integriteit" } ": het laatste ondertekende controlepunt, en het hele logboek nu nagaan." }
            li { a href="/ui/register" { "Register van de verwerkingen" } " (AVG art. 30), afgeleid uit het beleid dat de gateway afdwingt." }
        }
        p {
            "Wat u hier raadpleegt, komt zelf ook in het logboek, met uw naam."
        }
    };
    layout::page("Overzicht", "/ui", Some(&officer), content).into_response()
}

async fn style() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("style.css"),
    )
        .into_response()
}

/// The pages declare this icon, so that a browser does not ask for `/favicon.ico` (which is
/// not a page) and log an error on every page.
async fn favicon() -> Response {
    (
        [(header::CONTENT_TYPE, "image/svg+xml")],
        include_str!("favicon.svg"),
    )
        .into_response()
}

async fn not_found() -> Response {
    layout::problem(
        StatusCode::NOT_FOUND,
        None,
        "Pagina niet gevonden",
        "Deze pagina bestaat niet. Begin opnieuw bij /ui.",
    )
}

/// Puts a malformed request on record as refused, then shows `content` (the form with what
/// is wrong) with 400; when the refusal cannot be recorded, nothing but that.
async fn invalid_input(
    state: &AppState,
    officer: &Officer,
    action: &'static str,
    (title, here): (&str, &str),
    content: maud::Markup,
) -> Response {
    match state
        .gate
        .audit_review(&officer.caller, action, Some("invalidInput"))
        .await
    {
        Ok(()) => (
            StatusCode::BAD_REQUEST,
            layout::page(title, here, Some(officer), content),
        )
            .into_response(),
        Err(_) => officer::unavailable(Some(officer)),
    }
}

/// The page for a failure of the gate.
fn gate_error(officer: &Officer, error: GateError) -> Response {
    match error {
        GateError::NotFound => layout::problem(
            StatusCode::NOT_FOUND,
            Some(officer),
            "Niet gevonden",
            "Deze cliënt is onbekend, of niet gekoppeld aan uw organisatie.",
        ),
        GateError::AuditUnavailable(_) => officer::unavailable(Some(officer)),
        other => {
            tracing::error!(error = %other, "a review page failed");
            layout::problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                Some(officer),
                "Er ging iets mis",
                "De pagina kon niet worden opgebouwd. Probeer het later opnieuw.",
            )
        }
    }
}
