//! The access report as a printable page a privacy officer can hand to the client (GDPR
//! art. 15), in Dutch, without scripts or styles, every value escaped.

use crate::audit::access_report::AccessReport;
use crate::audit::record::Outcome;
use crate::domain::record::field::Category;
use std::fmt::Write;

/// Escapes text for HTML element content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn category(c: Category) -> &'static str {
    match c {
        Category::IntegrationStatus => "inburgeringsstatus",
        Category::Activation => "activering (werk, studie, VDAB)",
        Category::TrajectoryProgress => "voortgang van het traject (NT2, MO, participatie)",
        Category::Financial => "financieel (retributie, verhoogde tegemoetkoming)",
        Category::Attest => "attest",
        Category::Income => "inkomen (leefloon, GPMI)",
        Category::Coordination => "regie en sanctiebevoegdheid",
    }
}

fn purpose(name: &str) -> &str {
    match name {
        "trajectoryGuidance" => "trajectbegeleiding",
        "socialAssistance" => "maatschappelijke dienstverlening",
        "sanctioning" => "sanctionering",
        "referral" => "doorverwijzing",
        "attestRegistration" => "registratie van een attest",
        "auditReview" => "controle van het logboek",
        "monitoring" => "monitoring",
        other => other,
    }
}

fn action(name: &str) -> &str {
    match name {
        "readClient" => "gegevens ingezien",
        "updateClient" => "gegevens gewijzigd",
        "registerClient" => "dossier gekoppeld",
        "lookupClient" => "opgezocht",
        "deliverEvent" => "melding van een wijziging ontvangen",
        other => other,
    }
}

fn categories(list: &[Category]) -> String {
    if list.is_empty() {
        return "geen".to_owned();
    }
    list.iter()
        .map(|c| category(*c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The page; `party_name` turns a party id into the name the client knows.
pub fn render(
    report: &AccessReport,
    generated_at: &str,
    party_name: impl Fn(&str) -> String,
) -> String {
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"nl\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>Wie heeft uw gegevens gezien?</title>\n</head>\n<body>\n<main>\n\
         <h1>Wie heeft uw gegevens gezien?</h1>\n\
         <p>Overzicht van elke toegang tot uw gegevens in de gegevensuitwisseling tussen OCMW, \
         het Agentschap Integratie en Inburgering en de Kruispuntbank Inburgering \
         (AVG artikel 15). Dossier <code>{}</code>, opgemaakt op {}.</p>\n\
         <p>{} keer werden gegevens gezien of gewijzigd; {} pogingen werden geweigerd en \
         toonden niets.</p>\n",
        escape(&report.client_id),
        escape(generated_at),
        report.accesses,
        report.refusals,
    );
    for group in &report.groups {
        let _ = write!(
            page,
            "<section>\n<h2>{} — {}</h2>\n<p>Gegevens: {}. Van {} tot {}.</p>\n\
             <table>\n<thead><tr><th scope=\"col\">Tijdstip (UTC)</th><th scope=\"col\">Medewerker</th>\
             <th scope=\"col\">Wat</th><th scope=\"col\">Gegevens</th><th scope=\"col\">Resultaat</th></tr></thead>\n<tbody>\n",
            escape(&party_name(&group.party)),
            escape(purpose(&group.purpose)),
            escape(&categories(&group.categories)),
            escape(&group.first),
            escape(&group.last),
        );
        for entry in &group.entries {
            let outcome = match entry.outcome {
                Outcome::Allowed => "toegestaan",
                Outcome::Denied => "geweigerd",
            };
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&entry.time),
                escape(&entry.user),
                escape(action(&entry.action)),
                escape(&categories(&entry.categories)),
                outcome,
            );
        }
        page.push_str("</tbody>\n</table>\n</section>\n");
    }
    page.push_str("</main>\n</body>\n</html>\n");
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_is_escaped() {
        assert_eq!(
            escape("<b a=\"x\">'&'</b>"),
            "&lt;b a=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/b&gt;"
        );
    }
}
