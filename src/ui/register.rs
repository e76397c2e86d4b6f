//! The register of processing activities (GDPR art. 30) as a page: derived from the policy
//! the gateway enforces, like `GET /v1/policy/register`, so it is never out of date.

use super::officer::Officer;
use super::{labels, layout};
use crate::app::AppState;
use crate::domain::competence::LinkRole;
use crate::policy::Recipient;
use axum::extract::{Extension, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

const TITLE: &str = "Register van de verwerkingsactiviteiten";

pub async fn page(
    State(state): State<AppState>,
    Extension(officer): Extension<Officer>,
) -> Response {
    let register = state
        .gate
        .policy
        .register()
        .with_storage_limits(state.config.retention.storage_limits());
    let content = html! {
        h1 { (TITLE) }
        p {
            "AVG artikel 30, afgeleid uit het beleid dat de gateway nu afdwingt (versie "
            code { (register.policy_version) } "). Wie het beleid wijzigt, wijzigt dit register mee."
        }
        p { "Betrokkenen: " (register.data_subjects) "." }
        p {
            "Bevoegdheid: per cliënt en per soort partij is één partij bevoegd (het OCMW dat het \
             leefloon toekent, het agentschap dat het traject begeleidt, KBI); andere gekoppelde \
             partijen van die soort zijn betrokken. Alleen de bevoegde partij schrijft de velden \
             van haar soort, leest ze zonder toekenning, legt de toestemming vast om ze te delen \
             en beslist over de inbreuken die naar haar soort gaan (SWO art. 3, 5, 12). Een \
             betrokken partij is een ontvanger als elke andere."
        }
        @for activity in &register.activities {
            @let heading = format!("doel-{}", activity.purpose.as_str());
            section aria-labelledby=(heading) {
                h2 id=(heading) { (labels::purpose(activity.purpose.as_str())) }
                dl {
                    dt { "Doel" } dd { (activity.description) }
                    dt { "Rechtsgrond" } dd { (activity.legal_reference) }
                    dt { "Bewaartermijn" } dd { (activity.retention) }
                }
                @if activity.recipients.is_empty() {
                    p { "Geen ontvangers: elke partij ziet voor dit doel alleen wat ze zelf vastlegt." }
                } @else {
                    (recipients(&heading, &activity.recipients))
                }
            }
        }
        section aria-labelledby="bewaartermijnen" {
            h2 id="bewaartermijnen" { "Bewaartermijnen van deze installatie" }
            table aria-labelledby="bewaartermijnen" {
                thead { tr { th scope="col" { "Gegevens" } th scope="col" { "Dagen" } th scope="col" { "Grond" } } }
                tbody {
                    @for limit in &register.storage_limits {
                        tr { td { (limit.data) } td { (limit.days) } td { (limit.ground) } }
                    }
                }
            }
        }
    };
    layout::page(TITLE, "/ui/register", Some(&officer), content).into_response()
}

fn recipients(heading: &str, recipients: &[Recipient]) -> Markup {
    html! {
        table aria-labelledby=(heading) {
            thead {
                tr {
                    th scope="col" { "Ontvanger" }
                    th scope="col" { "In de rol van" }
                    th scope="col" { "Ontvangt" }
                }
            }
            tbody {
                @for recipient in recipients {
                    tr {
                        td {
                            (labels::party_kind(recipient.party_kind))
                            @match recipient.link_role {
                                LinkRole::Competent => " (bevoegd)",
                                LinkRole::Involved => " (betrokken)",
                            }
                        }
                        td {
                            (recipient.roles.iter().map(|r| labels::role(*r)).collect::<Vec<_>>().join(", "))
                        }
                        td {
                            ul {
                                @for received in &recipient.categories {
                                    li {
                                        strong { (labels::category(received.category)) } ": "
                                        (received.fields.iter()
                                            .map(|f| format!("{} ({})", f.field, labels::basis(f.basis)))
                                            .collect::<Vec<_>>().join(", "))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
