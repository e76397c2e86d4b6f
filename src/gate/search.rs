//! The audit search's parameters, as the API's query string and the review page's form both
//! give them: which filters exist, how each is checked, and the page bounds.

use super::parameters::{ParameterIssue, Parameters};
use crate::audit::selection::Selection;
use crate::domain::client_id::ClientId;
use crate::domain::purpose::Purpose;
use std::collections::BTreeMap;

const DEFAULT_PAGE: i64 = 100;
const MAX_PAGE: i64 = 500;
const PARAMETERS: [&str; 10] = [
    "from", "to", "party", "user", "client", "action", "outcome", "purpose", "after", "pageSize",
];

pub struct AuditSearch {
    pub selection: Selection,
    pub purpose: Option<String>,
    pub after: i64,
    pub page_size: usize,
}

/// The search a query asks for; the web page's search form uses the same parameters.
pub fn parse(
    query: &BTreeMap<String, String>,
    known_party: impl Fn(&str) -> bool,
) -> Result<AuditSearch, Vec<ParameterIssue>> {
    let mut parameters = Parameters::new(query);
    parameters.refuse_unknown(&PARAMETERS);
    let from_micros = parameters.time("from", i64::MIN);
    let to_micros = parameters.time("to", i64::MAX);
    let text = |name: &str| parameters.text(name).unwrap_or_default().to_owned();
    let selection = Selection {
        party: text("party"),
        user: text("user"),
        client: text("client"),
        action: text("action"),
        outcome: text("outcome"),
        from_micros,
        to_micros,
    };
    if !selection.party.is_empty() && !known_party(&selection.party) {
        parameters.issue("party", "a configured party");
    }
    if selection.user.len() > 256 {
        parameters.issue("user", "at most 256 characters");
    }
    if !selection.client.is_empty() && ClientId::parse(&selection.client).is_none() {
        parameters.issue("client", "a client id");
    }
    let action = &selection.action;
    if action.len() > 64 || !action.chars().all(|c| c.is_ascii_alphabetic()) {
        parameters.issue("action", "an operation id");
    }
    if !["", "allowed", "denied"].contains(&selection.outcome.as_str()) {
        parameters.issue("outcome", "allowed or denied");
    }
    let purpose = parameters.optional("purpose", "a processing purpose", |text| {
        text.parse::<Purpose>().ok().map(|_| text.to_owned())
    });
    let after = parameters
        .optional("after", "a sequence number", |text| {
            text.parse::<i64>().ok().filter(|n| *n >= 0)
        })
        .unwrap_or(-1);
    let page_size = parameters.integer("pageSize", 1..=MAX_PAGE, DEFAULT_PAGE);
    parameters.finish(AuditSearch {
        selection,
        purpose,
        after,
        page_size: page_size as usize,
    })
}
