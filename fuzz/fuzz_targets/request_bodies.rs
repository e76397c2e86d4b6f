//! Every JSON request body of the API, read as the handlers read it (`http::json::parse`:
//! unknown members refused, the member in error named), then checked as the handler checks it,
//! with the handler's own function where it needs no running server and with the domain's
//! checks otherwise. An issue about a body never echoes a value, and one about the national
//! register number never carries the number.

#![no_main]

use gateway::domain::client_id::ClientId;
use gateway::domain::competence::{LinkRole, Standing};
use gateway::domain::consent::{self, NewConsent};
use gateway::domain::infraction::{self, Infraction, InfractionKind};
use gateway::domain::link::DossierReference;
use gateway::domain::party::{PartyId, PartyKind};
use gateway::domain::purpose::Purpose;
use gateway::domain::record::field::{Category, Field};
use gateway::domain::record::patch;
use gateway::domain::record::values::{ClientRecord, parse_date};
use gateway::domain::referral::{self, NewReferral, ReferralEvent, ReferralStatus};
use gateway::domain::role::RoleSet;
use gateway::domain::rules::Responsible;
use gateway::domain::ssin::Ssin;
use gateway::http::problem::InputIssue;
use gateway::http::{clients, competence, consents, infractions, json, kbi, policy, referrals};
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde_json::Value;
use time::OffsetDateTime;
use time::macros::date;

/// The parties of the development configuration, as `state.parties.by_id` finds them.
const PARTIES: [(&str, PartyKind); 5] = [
    ("ocmw-gent", PartyKind::Ocmw),
    ("ocmw-eeklo", PartyKind::Ocmw),
    ("ocmw-geraardsbergen", PartyKind::Ocmw),
    ("amal", PartyKind::IntegrationAgency),
    ("kbi", PartyKind::Kbi),
];
const KINDS: [PartyKind; 3] = [
    PartyKind::Ocmw,
    PartyKind::IntegrationAgency,
    PartyKind::Kbi,
];

fn configured(id: &str) -> Option<(PartyId, PartyKind)> {
    let (id, kind) = PARTIES.iter().find(|(known, _)| *known == id)?;
    Some((PartyId::parse(id).expect("a configured party id"), *kind))
}

/// The body as the handler's extractor reads it; a refusal is checked for what it may say.
fn read<T: DeserializeOwned>(data: &[u8]) -> Option<T> {
    match json::parse::<T>(data) {
        Ok(body) => Some(body),
        Err(issue) => {
            assert_eq!(issue.location, "body");
            assert!(issue.value.is_none(), "a refused body's value is echoed");
            assert!(issue.name.is_empty() || issue.name.starts_with('/'));
            None
        }
    }
}

/// Issues about the number name the member and never carry its value.
fn check_issues(issues: &[InputIssue]) {
    for issue in issues {
        assert!(issue.name.starts_with('/'), "{:?}", issue.name);
        if issue.name == "/ssin" {
            assert!(issue.value.is_none(), "an SSIN issue carries the value");
        }
    }
}

fn text<'a>(body: &'a Value, member: &str) -> &'a str {
    body.get(member).and_then(Value::as_str).unwrap_or_default()
}

fn optional_text(body: &Value, member: &str) -> Option<String> {
    body.get(member).and_then(Value::as_str).map(str::to_owned)
}

fn registration(data: &[u8], body: &Value) {
    if let Some(request) = read::<clients::RegisterClientRequest>(data) {
        match clients::parse_registration(&request) {
            Ok(_) => assert!(Ssin::parse(text(body, "ssin")).is_ok()),
            Err(issues) => {
                assert!(!issues.is_empty());
                check_issues(&issues);
            }
        }
    }
    if read::<clients::LookupClientRequest>(data).is_some() {
        let _ = Ssin::parse(text(body, "ssin"));
    }
}

fn attest(data: &[u8], body: &Value) {
    let Some(request) = read::<kbi::AttestRequest>(data) else {
        return;
    };
    match kbi::parse(&request) {
        Ok((_, attest, reference)) => {
            assert!(Ssin::parse(text(body, "ssin")).is_ok());
            assert!(attest.issued_on <= OffsetDateTime::now_utc().date());
            assert_eq!(DossierReference::parse(reference.as_str()), Ok(reference));
        }
        Err(issues) => {
            assert!(!issues.is_empty());
            check_issues(&issues);
        }
    }
}

fn hand_over(data: &[u8], body: &Value) {
    if read::<competence::HandOverRequest>(data).is_some() {
        let _ = PartyId::parse(text(body, "toParty"));
    }
}

/// `consents::parse` without the server: the recipient among the configured parties, then
/// the domain's checks.
fn consent(data: &[u8], body: &Value) {
    if read::<consents::ConsentRequest>(data).is_none() {
        return;
    }
    let recipient = configured(text(body, "recipientParty"));
    let purpose = text(body, "purpose").parse::<Purpose>().ok();
    let categories: Option<Vec<Category>> = body
        .get("categories")
        .and_then(Value::as_array)
        .and_then(|names| {
            names
                .iter()
                .map(|name| name.as_str().and_then(Category::parse))
                .collect()
        });
    let valid_from = parse_date(text(body, "validFrom"));
    let valid_until = match body.get("validUntil") {
        None | Some(Value::Null) => Some(None),
        Some(value) => value.as_str().and_then(parse_date).map(Some),
    };
    let (Some((recipient, _)), Some(purpose), Some(categories), Some(valid_from), Some(until)) =
        (recipient, purpose, categories, valid_from, valid_until)
    else {
        return;
    };
    let new = NewConsent {
        recipient,
        purpose,
        categories,
        legal_text_version: text(body, "legalTextVersion").to_owned(),
        language: text(body, "language").to_owned(),
        evidence_reference: text(body, "evidenceReference").to_owned(),
        valid_from,
        valid_until: until,
    };
    for (pointer, detail) in consent::check(&new) {
        assert!(pointer.starts_with('/') && !detail.is_empty());
    }
    let recorder = PartyId::parse("ocmw-gent").expect("a party id");
    let _ = consent::admissible(&new, &recorder, OffsetDateTime::now_utc());
    for kind in KINDS {
        for role in LinkRole::ALL {
            let _ = consent::not_held(&new.categories, Standing::new(kind, role));
        }
    }
}

fn infraction(data: &[u8]) {
    let today = OffsetDateTime::now_utc().date();
    if let Some(request) = read::<infractions::InfractionRequest>(data)
        && let Ok(new) = infractions::parse_new(request)
    {
        let _ = new.check(today);
        for recorder in KINDS {
            for authority in [Responsible::Ocmw, Responsible::IntegrationAgency] {
                let _ = infraction::record(recorder, authority, new.clone(), today);
            }
        }
    }
    if let Some(request) = read::<infractions::SanctionDecisionRequest>(data)
        && let Ok(decision) = infractions::parse_decision(request)
    {
        for routed_to in [Responsible::Ocmw, Responsible::IntegrationAgency] {
            let recorded = Infraction {
                kind: InfractionKind::Other,
                occurred_on: date!(2024 - 06 - 01),
                description: "missed the course".into(),
                routed_to,
                decision: None,
            };
            for decider in KINDS {
                let _ = recorded.check_decision(decider, &decision, today);
            }
        }
    }
}

fn explain(data: &[u8], body: &Value) {
    if read::<policy::ExplainRequest>(data).is_none() {
        return;
    }
    let _ = ClientId::parse(text(body, "clientId"));
    let _ = configured(text(body, "party"));
    if let Some(roles) = body.get("roles").and_then(Value::as_array) {
        let _ = RoleSet::parse(roles.iter().filter_map(Value::as_str));
    }
    let _ = text(body, "purpose").parse::<Purpose>();
    let _ = Field::parse(text(body, "field"));
}

fn referral(data: &[u8], body: &Value) {
    if read::<referrals::ReferralRequest>(data).is_some() {
        let _ = ClientId::parse(text(body, "clientId"));
        if let Some((to, to_kind)) = configured(text(body, "toParty")) {
            for (from, from_kind) in PARTIES {
                let new = NewReferral {
                    from: PartyId::parse(from).expect("a party id"),
                    from_kind,
                    to: to.clone(),
                    to_kind,
                    reason: text(body, "reason").to_owned(),
                    evidence_reference: optional_text(body, "evidenceReference"),
                };
                let _ = new.check();
            }
        }
    }
    if read::<referrals::DecisionRequest>(data).is_some() {
        let event = match text(body, "decision") {
            "accept" => ReferralEvent::Accept,
            "refuse" => ReferralEvent::Refuse,
            _ => return,
        };
        let reason = optional_text(body, "reason");
        for status in ReferralStatus::ALL {
            for by_sender in [true, false] {
                let _ = referral::act(*status, event, by_sender, reason.as_deref());
            }
        }
    }
    if read::<referrals::FeedbackRequest>(data).is_some() {
        for status in ReferralStatus::ALL {
            let _ = referral::check_feedback(*status, text(body, "message"));
        }
    }
}

/// `PATCH /v1/clients/{id}` reads any JSON value and leaves the rest to the merge patch.
fn record_patch(data: &[u8]) {
    let Some(value) = read::<Value>(data) else {
        return;
    };
    for kind in KINDS {
        let _ = patch::apply(&ClientRecord::default(), &value, kind);
    }
}

fuzz_target!(|data: &[u8]| {
    record_patch(data);
    // A body any typed reader accepts is well-formed JSON.
    let body = serde_json::from_slice::<Value>(data).unwrap_or(Value::Null);
    registration(data, &body);
    attest(data, &body);
    hand_over(data, &body);
    consent(data, &body);
    infraction(data);
    explain(data, &body);
    referral(data, &body);
});
