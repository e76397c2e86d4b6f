//! The log's integrity: the checkpoint the gateway signs now, and "verify now", which runs
//! the same full verification as `gateway audit verify` (every record, the tree, every
//! checkpoint) and shows its result. One verification runs at a time per instance.

use super::officer::{self, Officer};
use super::{Pages, gate_error, layout};
use crate::app::AppState;
use crate::audit::record::format_time;
use crate::gate::action;
use axum::Form;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

const TITLE: &str = "Integriteit van het logboek";
const HERE: &str = "/ui/integrity";
/// How long "verify now" waits for the result before showing the page while it goes on.
const WAIT: Duration = Duration::from_secs(5);

/// The verification running or last run, shared by the officers of this instance.
#[derive(Default)]
pub struct Verification {
    status: Mutex<Status>,
}

#[derive(Default, Clone)]
struct Status {
    running: Option<String>,
    last: Option<Finished>,
}

#[derive(Clone)]
struct Finished {
    by: String,
    at: String,
    seconds: f64,
    outcome: Result<(u64, u64), String>,
}

impl Verification {
    fn status(&self) -> Status {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

pub async fn page(
    State(state): State<AppState>,
    Extension(pages): Extension<Arc<Pages>>,
    Extension(officer): Extension<Officer>,
) -> Response {
    let who = &officer.caller;
    if let Err(error) = state
        .gate
        .audit_review(who, action::GET_CHECKPOINT, None)
        .await
    {
        return gate_error(&officer, error);
    }
    let checkpoint = state.gate.checkpoint().await;
    let keys = state.gate.signing_keys().await.unwrap_or_default();
    let status = pages.verification.status();
    let token = pages.forms.issue(
        &officer.certificate_sha256,
        OffsetDateTime::now_utc().unix_timestamp(),
    );
    let content = html! {
        h1 { (TITLE) }
        p {
            "Elk record van het logboek is een blad van een Merkle-boom (RFC 9162). De gateway "
            "ondertekent geregeld de wortel van die boom: een controlepunt. Wie een controlepunt "
            "bewaart, kan later bewijzen dat er sindsdien niets gewijzigd of weggelaten werd."
        }
        h2 { "Het controlepunt van dit moment" }
        @match &checkpoint {
            Ok(note) => pre class="note" { (note) },
            Err(_) => p class="error" role="alert" { "Er kon nu geen controlepunt worden ondertekend." },
        }
        p { "Sleutel om het na te gaan: " code class="key" { (state.gate.verifier_key()) } }
        @if keys.len() > 1 {
            p { "Eerdere sleutels ondertekenden eerdere controlepunten; ze blijven geldig om die na te gaan:" }
            ul {
                @for key in keys.iter().filter(|k| !k.current) {
                    li {
                        code class="key" { (key.verifier_key.as_deref().unwrap_or("(onbekende sleutel)")) }
                        @if let Some((first, last, _)) = key.signed {
                            " — boomgrootte " (first) " tot " (last)
                        }
                    }
                }
            }
        }
        h2 id="nagaan" { "Het hele logboek nagaan" }
        p {
            "Leest elk record opnieuw, rekent de boom opnieuw uit en controleert elke "
            "handtekening. Dat duurt ongeveer een seconde per honderdduizend records."
        }
        @if let Some(by) = &status.running {
            p class="status" role="status" {
                "Bezig (gestart door " (by) "). " a href=(HERE) { "Vernieuw deze pagina" } " voor het resultaat."
            }
        }
        @if let Some(last) = &status.last {
            div class=(if last.outcome.is_ok() { "result ok" } else { "result failed" }) role="status" {
                @match &last.outcome {
                    Ok((records, checkpoints)) => p {
                        strong { "In orde." } " " (records) " records en " (checkpoints)
                        " controlepunten nagegaan in " (format!("{:.1}", last.seconds)) " s."
                    },
                    Err(problem) => p {
                        strong { "Niet in orde: " } (problem)
                    },
                }
                p { "Nagegaan op " (last.at) " door " (last.by) "." }
            }
        }
        form method="post" action={(HERE) "/verify"} aria-labelledby="nagaan" {
            input type="hidden" name="token" value=(token);
            button type="submit" disabled[status.running.is_some()] { "Nu nagaan" }
        }
    };
    layout::page(TITLE, HERE, Some(&officer), content).into_response()
}

/// Starts a verification (unless one runs), waits a little for it, and sends the browser
/// back to the page. A request without this officer's form token, or from another site, is
/// refused and on record.
pub async fn verify(
    State(state): State<AppState>,
    Extension(pages): Extension<Arc<Pages>>,
    Extension(officer): Extension<Officer>,
    uri: Uri,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let who = &officer.caller;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let genuine = same_origin(&headers, &uri)
        && form
            .get("token")
            .is_some_and(|token| pages.forms.check(&officer.certificate_sha256, token, now));
    if !genuine {
        return match state
            .gate
            .audit_review(who, action::VERIFY_AUDIT_LOG, Some("formTokenInvalid"))
            .await
        {
            Ok(()) => layout::problem(
                StatusCode::FORBIDDEN,
                Some(&officer),
                "Verzoek geweigerd",
                "Dit verzoek kwam niet van het formulier op de pagina Integriteit, of dat \
                 formulier is verlopen. Open de pagina opnieuw en probeer het nog eens.",
            ),
            Err(_) => officer::unavailable(Some(&officer)),
        };
    }
    if let Err(error) = state
        .gate
        .audit_review(who, action::VERIFY_AUDIT_LOG, None)
        .await
    {
        return gate_error(&officer, error);
    }
    if let Some(run) = start(&state, &pages, &officer) {
        let _ = tokio::time::timeout(WAIT, run).await;
    }
    Redirect::to(HERE).into_response()
}

/// A browser tells where a form was submitted from; a request that says another site is
/// refused even before its token is looked at. The host is the `Host` header in HTTP/1.1 and
/// the request's authority in HTTP/2.
fn same_origin(headers: &HeaderMap, uri: &Uri) -> bool {
    let site_ok = headers
        .get("sec-fetch-site")
        .is_none_or(|site| site == "same-origin" || site == "none");
    let host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()));
    let origin_ok = match headers.get(header::ORIGIN) {
        None => true,
        Some(origin) => {
            host.is_some()
                && origin
                    .to_str()
                    .ok()
                    .and_then(|o| o.strip_prefix("https://"))
                    == host
        }
    };
    site_ok && origin_ok
}

/// Starts the verification in the background, unless one runs already.
fn start(
    state: &AppState,
    pages: &Arc<Pages>,
    officer: &Officer,
) -> Option<tokio::task::JoinHandle<()>> {
    let by = officer.caller.user.to_string();
    {
        let mut status = pages.verification.status.lock().ok()?;
        if status.running.is_some() {
            return None;
        }
        status.running = Some(by.clone());
    }
    let pages = Arc::clone(pages);
    let gate = Arc::clone(&state.gate);
    let origin = state.config.audit.log_name.clone();
    Some(tokio::spawn(async move {
        let started = Instant::now();
        let outcome = gate
            .verify_log(&origin)
            .await
            .map(|verified| (verified.records, verified.checkpoints))
            .map_err(|error| error.to_string());
        if let Err(problem) = &outcome {
            tracing::error!(%problem, "audit log verification failed");
        }
        if let Ok(mut status) = pages.verification.status.lock() {
            status.running = None;
            status.last = Some(Finished {
                by,
                at: format_time(OffsetDateTime::now_utc()),
                seconds: started.elapsed().as_secs_f64(),
                outcome,
            });
        }
    }))
}
