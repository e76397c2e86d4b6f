//! Consent records for a client (product brief §5): record, list, withdraw. Only a party
//! linked to the client sees or changes them; every use is audited.

use super::case_work::{client_in_path, created, invalid, path_id, personal};
use super::json::JsonBody;
use super::problem::{InputIssue, Problem};
use crate::app::AppState;
use crate::domain::consent::{self, Consent, NewConsent};
use crate::domain::party::PartyId;
use crate::domain::record::field::Category;
use crate::domain::record::values::{format_date, parse_date};
use crate::gate::Caller;
use crate::gate::action;
use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_consents, record_consent))
        .routes(routes!(withdraw_consent))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConsentRequest {
    /// The party that may receive the data.
    recipient_party: String,
    /// The purpose for which it may receive them.
    purpose: String,
    /// The data categories consented to.
    categories: Vec<String>,
    /// The version of the privacy notice the client was informed by.
    legal_text_version: String,
    /// The notice's language: nl, fr, de or en.
    language: String,
    /// Where the proof (a signed form) is kept; required.
    #[serde(default)]
    evidence_reference: String,
    /// First day of validity (ISO 8601 date).
    valid_from: String,
    /// Last day of validity, if any.
    #[serde(default)]
    valid_until: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    party: String,
    user: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    state: &'static str,
    at: String,
    by: Actor,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConsentView {
    consent_id: String,
    client_id: String,
    recipient_party: String,
    purpose: String,
    categories: Vec<Category>,
    legal_text_version: String,
    language: String,
    evidence_reference: String,
    recorded_by: Actor,
    recorded_at: String,
    valid_from: String,
    valid_until: Option<String>,
    withdrawn_at: Option<String>,
    /// pending, active, expired or withdrawn, today.
    state: &'static str,
    history: Vec<HistoryEntry>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ConsentList {
    items: Vec<ConsentView>,
}

fn view(c: Consent) -> ConsentView {
    let today = time::OffsetDateTime::now_utc().date();
    let time = crate::audit::record::format_time;
    let mut history = vec![HistoryEntry {
        state: "given",
        at: time(c.recorded_at),
        by: Actor {
            party: c.recorded_by_party.clone(),
            user: c.recorded_by_user.clone(),
        },
    }];
    if let Some(w) = &c.withdrawn {
        history.push(HistoryEntry {
            state: "withdrawn",
            at: time(w.at),
            by: Actor {
                party: w.by_party.clone(),
                user: w.by_user.clone(),
            },
        });
    }
    ConsentView {
        state: c.state(today).as_str(),
        consent_id: c.consent_id,
        client_id: c.client_id,
        recipient_party: c.recipient.to_string(),
        purpose: c.purpose.as_str().to_owned(),
        categories: c.categories,
        legal_text_version: c.legal_text_version,
        language: c.language,
        evidence_reference: c.evidence_reference,
        recorded_by: Actor {
            party: c.recorded_by_party,
            user: c.recorded_by_user,
        },
        recorded_at: time(c.recorded_at),
        valid_from: format_date(c.valid_from),
        valid_until: c.valid_until.map(format_date),
        withdrawn_at: c.withdrawn.as_ref().map(|w| time(w.at)),
        history,
    }
}

/// Checks a submitted consent, naming every member that is wrong.
fn parse(state: &AppState, body: ConsentRequest) -> Result<NewConsent, Vec<InputIssue>> {
    let mut issues = Vec::new();
    let recipient = PartyId::parse(&body.recipient_party)
        .ok()
        .filter(|id| state.parties.by_id(id.as_str()).is_some());
    if recipient.is_none() {
        issues.push(InputIssue::new(
            "body",
            "/recipientParty",
            "not a configured party",
        ));
    }
    let purpose = body.purpose.parse().ok();
    if purpose.is_none() {
        issues.push(InputIssue::new(
            "body",
            "/purpose",
            "unknown processing purpose",
        ));
    }
    let categories: Vec<Option<Category>> =
        body.categories.iter().map(|c| Category::parse(c)).collect();
    for (i, category) in categories.iter().enumerate() {
        if category.is_none() {
            issues.push(InputIssue::new(
                "body",
                format!("/categories/{i}"),
                "unknown category",
            ));
        }
    }
    let date = |text: &str, pointer: &'static str, issues: &mut Vec<InputIssue>| {
        let parsed = parse_date(text);
        if parsed.is_none() {
            issues.push(InputIssue::new(
                "body",
                pointer,
                "an ISO 8601 date (YYYY-MM-DD)",
            ));
        }
        parsed
    };
    let valid_from = date(&body.valid_from, "/validFrom", &mut issues);
    let valid_until = body
        .valid_until
        .as_deref()
        .map(|t| date(t, "/validUntil", &mut issues));
    let (Some(recipient), Some(purpose), Some(valid_from)) = (recipient, purpose, valid_from)
    else {
        return Err(issues);
    };
    if !issues.is_empty() {
        return Err(issues);
    }
    let consent = NewConsent {
        recipient,
        purpose,
        categories: categories.into_iter().flatten().collect(),
        legal_text_version: body.legal_text_version,
        language: body.language,
        evidence_reference: body.evidence_reference,
        valid_from,
        valid_until: valid_until.flatten(),
    };
    let issues: Vec<InputIssue> = consent::check(&consent)
        .into_iter()
        .map(|(pointer, detail)| InputIssue::new("body", pointer, detail))
        .collect();
    if issues.is_empty() {
        Ok(consent)
    } else {
        Err(issues)
    }
}

/// Records a client's consent to disclose the caller's party's data to another party: only the
/// competent owner of the categories named records it, from today on.
#[utoipa::path(post, path = "/v1/clients/{clientId}/consents", operation_id = action::RECORD_CONSENT, tag = "consents",
    request_body = ConsentRequest,
    responses((status = 201, description = "Recorded", body = ConsentView),
              (status = 403, description = "A category the caller is not the competent owner of (`urn:problem-type:gateway:categoryNotOwned`)", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "To the recorder itself, or backdated (`urn:problem-type:gateway:consentRule`, naming the member)", body = Problem, content_type = "application/problem+json")))]
pub async fn record_consent(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Path(client_id): Path<String>,
    body: Result<JsonBody<ConsentRequest>, Problem>,
) -> Result<Response, Problem> {
    let act = action::RECORD_CONSENT;
    let client_id = client_in_path(&who, act, &client_id)?;
    let JsonBody(body) = body.map_err(|problem| invalid(act, problem))?;
    let consent =
        parse(&state, body).map_err(|issues| invalid(act, Problem::bad_request(issues)))?;
    let client = state.gate.linked(&who, act, &client_id).await?;
    let recorded = state.gate.record_consent(&who, &client, &consent).await?;
    let location = format!("/v1/clients/{client_id}/consents/{}", recorded.consent_id);
    Ok(created(&location, Json(view(recorded))))
}

/// Lists the consents of a client that the caller's party recorded or receives.
#[utoipa::path(get, path = "/v1/clients/{clientId}/consents", operation_id = action::LIST_CONSENTS, tag = "consents",
    responses((status = 200, description = "The consents", body = ConsentList)))]
pub async fn list_consents(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Path(client_id): Path<String>,
) -> Result<Response, Problem> {
    let act = action::LIST_CONSENTS;
    let client_id = client_in_path(&who, act, &client_id)?;
    let client = state.gate.linked(&who, act, &client_id).await?;
    let consents = state.gate.list_consents(&who, &client).await?;
    let items = consents.into_iter().map(view).collect();
    Ok(personal(StatusCode::OK, Json(ConsentList { items })))
}

/// Withdraws a consent, with effect from the very next read (GDPR art. 7(3)).
#[utoipa::path(post, path = "/v1/clients/{clientId}/consents/{consentId}/withdrawal", operation_id = action::WITHDRAW_CONSENT, tag = "consents",
    responses((status = 200, description = "Withdrawn", body = ConsentView),
              (status = 404, description = "Unknown consent, or client unknown or not linked", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Withdrawn before", body = Problem, content_type = "application/problem+json")))]
pub async fn withdraw_consent(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Path((client_id, consent_id)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let act = action::WITHDRAW_CONSENT;
    let client_id = client_in_path(&who, act, &client_id)?;
    let consent_id = path_id(act, "consentId", &consent_id)?;
    let client = state.gate.linked(&who, act, &client_id).await?;
    let consent = state
        .gate
        .withdraw_consent(&who, &client, &consent_id)
        .await?;
    Ok(personal(StatusCode::OK, Json(view(consent))))
}
