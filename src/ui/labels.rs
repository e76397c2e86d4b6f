//! The Dutch words the pages use for the log's identifiers, so that a privacy officer (and a
//! client reading their access report) reads "gegevens ingezien", not `readClient`.

use crate::audit::anomalies::AnomalyKind;
use crate::audit::record::Outcome;
use crate::domain::party::PartyKind;
use crate::domain::record::field::Category;
use crate::domain::role::Role;
use crate::policy::Basis;

pub fn category(c: Category) -> &'static str {
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

/// The categories as one phrase; "geen" for none.
pub fn categories(list: &[Category]) -> String {
    if list.is_empty() {
        return "geen".to_owned();
    }
    list.iter()
        .map(|c| category(*c))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn purpose(name: &str) -> &str {
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

pub fn action(name: &str) -> &str {
    match name {
        "readClient" => "gegevens ingezien",
        "updateClient" => "gegevens gewijzigd",
        "registerClient" => "dossier gekoppeld",
        "lookupClient" => "opgezocht",
        "deliverEvent" => "melding van een wijziging ontvangen",
        "authenticate" => "geweigerd bij de toegang",
        other => other,
    }
}

pub fn outcome(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Allowed => "toegestaan",
        Outcome::Denied => "geweigerd",
    }
}

pub fn anomaly(kind: AnomalyKind) -> &'static str {
    match kind {
        AnomalyKind::ManyDistinctClients => "veel verschillende cliënten in één uur",
        AnomalyKind::AboveOwnNorm => "ver boven het eigen gewone gebruik",
        AnomalyKind::RefusalBurst => "reeks geweigerde pogingen",
        AnomalyKind::OutsideOfficeHours => "toegang buiten de kantooruren",
        AnomalyKind::AfterLinkEnded => "poging nadat de koppeling beëindigd was",
    }
}

pub fn party_kind(kind: PartyKind) -> &'static str {
    match kind {
        PartyKind::Ocmw => "OCMW",
        PartyKind::IntegrationAgency => "integratieagentschap",
        PartyKind::Kbi => "Kruispuntbank Inburgering",
    }
}

pub fn role(role: Role) -> &'static str {
    match role {
        Role::CaseWorker => "maatschappelijk werker of trajectbegeleider",
        Role::System => "systeem",
        Role::PrivacyOfficer => "functionaris voor gegevensbescherming",
        Role::Coordinator => "coördinator",
    }
}

pub fn basis(basis: Basis) -> &'static str {
    match basis {
        Basis::Consent => "met toestemming (AVG art. 6.1.a)",
        Basis::PublicTask => "taak van algemeen belang (AVG art. 6.1.e)",
        Basis::LegalObligation => "wettelijke verplichting (AVG art. 6.1.c)",
    }
}
