//! A client's access report (GDPR art. 15) as HTML: the same content on the officer's page
//! and on the printable page the officer hands to the client, every value escaped.

use super::labels;
use crate::audit::access_report::AccessReport;
use maud::{DOCTYPE, Markup, html};

const HEADING: &str = "Wie heeft uw gegevens gezien?";

/// The report; `party_name` turns a party id into the name the client knows.
pub fn report(
    report: &AccessReport,
    generated_at: &str,
    party_name: &dyn Fn(&str) -> String,
) -> Markup {
    html! {
        h1 { (HEADING) }
        p {
            "Overzicht van elke toegang tot uw gegevens in de gegevensuitwisseling tussen OCMW, "
            "het Agentschap Integratie en Inburgering en de Kruispuntbank Inburgering "
            "(AVG artikel 15). Dossier " code { (report.client_id) } ", opgemaakt op "
            (generated_at) "."
        }
        p {
            (report.accesses) " keer werden gegevens gezien of gewijzigd; "
            (report.refusals) " pogingen werden geweigerd en toonden niets."
        }
        @for group in &report.groups {
            section {
                h2 { (party_name(&group.party)) " — " (labels::purpose(&group.purpose)) }
                p {
                    "Gegevens: " (labels::categories(&group.categories)) ". Van "
                    (group.first) " tot " (group.last) "."
                }
                table {
                    thead {
                        tr {
                            th scope="col" { "Tijdstip (UTC)" }
                            th scope="col" { "Medewerker" }
                            th scope="col" { "Wat" }
                            th scope="col" { "Gegevens" }
                            th scope="col" { "Resultaat" }
                        }
                    }
                    tbody {
                        @for entry in &group.entries {
                            tr {
                                td { (entry.time) }
                                td { (entry.user) }
                                td { (labels::action(&entry.action)) }
                                td { (labels::categories(&entry.categories)) }
                                td { (labels::outcome(entry.outcome)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The report as a page of its own, to print or save: no script, no style, no links.
pub fn printable(
    report_: &AccessReport,
    generated_at: &str,
    party_name: &dyn Fn(&str) -> String,
) -> String {
    html! {
        (DOCTYPE)
        html lang="nl" {
            head {
                meta charset="utf-8";
                title { (HEADING) }
            }
            body {
                main { (report(report_, generated_at, party_name)) }
            }
        }
    }
    .into_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::access_report::{AccessEntry, AccessGroup};
    use crate::audit::record::Outcome;

    #[test]
    fn markup_in_a_value_is_shown_as_text() {
        let report_ = AccessReport {
            client_id: "c-1".into(),
            accesses: 1,
            refusals: 0,
            groups: vec![AccessGroup {
                party: "ocmw-gent".into(),
                purpose: "socialAssistance".into(),
                categories: vec![],
                first: "t1".into(),
                last: "t1".into(),
                entries: vec![AccessEntry {
                    seq: 3,
                    time: "t1".into(),
                    user: "<script>alert('x')</script>".into(),
                    action: "readClient".into(),
                    outcome: Outcome::Allowed,
                    categories: vec![],
                }],
            }],
        };
        let page = printable(&report_, "now", &|party| party.to_owned());
        assert!(
            page.contains("&lt;script&gt;alert('x')&lt;/script&gt;"),
            "{page}"
        );
        assert!(!page.contains("<script"));
        assert!(page.contains("maatschappelijke dienstverlening"));
    }
}
