//! Who is at the pages: a person whose own client certificate the configuration maps to the
//! role `privacyOfficer` (see `parties[].people`). A party's certificate, a certificate of
//! nobody configured or a person in another role is refused; the refusal of a known person is
//! on record like any other.

use super::layout;
use crate::app::AppState;
use crate::auth::peer::Peer;
use crate::auth::principal::Principal;
use crate::domain::purpose::Purpose;
use crate::domain::role::{Role, RoleSet};
use crate::gate::{Caller, Trace, action};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

/// The officer of one request, as the pages act for them.
#[derive(Clone, Debug)]
pub struct Officer {
    /// Acting as `privacyOfficer` for the purpose `auditReview`, like an API caller.
    pub caller: Caller,
    /// SHA-256 of the officer's certificate: what the forms' tokens are bound to.
    pub certificate_sha256: [u8; 32],
}

pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request.extensions().get::<Peer>().cloned();
    let Some((person, certificate_sha256)) =
        peer.and_then(|peer| Some((peer.person?, peer.certificate_sha256)))
    else {
        return layout::problem(
            StatusCode::FORBIDDEN,
            None,
            "Geen toegang",
            "Deze pagina's openen alleen met het persoonlijke certificaat van een functionaris \
             voor gegevensbescherming. Het certificaat dat uw browser toonde, is dat niet.",
        );
    };
    let limited = person.party.limiter.check().is_err()
        || state
            .user_limiter
            .check_key(&(person.party.index, person.user.clone()))
            .is_err();
    if limited {
        return layout::problem(
            StatusCode::TOO_MANY_REQUESTS,
            None,
            "Te veel verzoeken",
            "Wacht even en probeer het dan opnieuw.",
        );
    }
    let mut roles = RoleSet::EMPTY;
    roles.insert(person.role);
    let principal = Principal {
        party: person.party.clone(),
        user: person.user.clone(),
        roles,
        acting_roles: roles,
        purpose: Purpose::AuditReview,
    };
    let Some(trace) = request.extensions().get::<Trace>().cloned() else {
        return layout::problem(StatusCode::INTERNAL_SERVER_ERROR, None, "Fout", "");
    };
    let caller = Caller { principal, trace };
    if person.role != Role::PrivacyOfficer {
        let recorded = state
            .gate
            .audit_review(&caller, action::OPEN_REVIEW_PAGES, Some("roleNotAllowed"))
            .await;
        return match recorded {
            Ok(()) => layout::problem(
                StatusCode::FORBIDDEN,
                None,
                "Geen toegang",
                "Uw certificaat is bekend, maar niet als dat van een functionaris voor \
                 gegevensbescherming.",
            ),
            Err(_) => unavailable(None),
        };
    }
    request.extensions_mut().insert(Officer {
        caller,
        certificate_sha256,
    });
    next.run(request).await
}

/// The answer when the log cannot take the record of a review: nothing is shown unrecorded.
pub fn unavailable(officer: Option<&Officer>) -> Response {
    layout::problem(
        StatusCode::SERVICE_UNAVAILABLE,
        officer,
        "Tijdelijk niet beschikbaar",
        "Het logboek kan deze raadpleging nu niet vastleggen; daarom wordt niets getoond. \
         Probeer het later opnieuw.",
    )
}
