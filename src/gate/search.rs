//! The audit search's parameters, as the API's query string and the review page's form both
//! give them: which filters exist, how each is checked, and the page bounds.

use crate::audit::record::micros;
use crate::audit::selection::Selection;
use crate::domain::purpose::Purpose;
use std::collections::BTreeMap;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A parameter that is not as it must be, and what it must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterIssue {
    pub name: String,
    pub detail: String,
}

impl ParameterIssue {
    pub fn new(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            detail: detail.into(),
        }
    }
}

const DEFAULT_PAGE: usize = 100;
const MAX_PAGE: usize = 500;
const PARAMETERS: [&str; 10] = [
    "from", "to", "party", "user", "client", "action", "outcome", "purpose", "after", "pageSize",
];

pub struct AuditSearch {
    pub selection: Selection,
    pub purpose: Option<String>,
    pub after: i64,
    pub page_size: usize,
}

/// An RFC 3339 query parameter in microseconds since the epoch, `default` when absent; a
/// malformed one is added to `issues`.
pub fn time_parameter(
    query: &BTreeMap<String, String>,
    name: &str,
    default: i64,
    issues: &mut Vec<ParameterIssue>,
) -> i64 {
    match query
        .get(name)
        .map(|text| OffsetDateTime::parse(text, &Rfc3339))
    {
        None => default,
        Some(Ok(at)) => micros(at),
        Some(Err(_)) => {
            issues.push(ParameterIssue::new(name, "an RFC 3339 date-time"));
            default
        }
    }
}

/// The search a query asks for; the web page's search form uses the same parameters.
pub fn parse(
    query: &BTreeMap<String, String>,
    known_party: impl Fn(&str) -> bool,
) -> Result<AuditSearch, Vec<ParameterIssue>> {
    let mut issues: Vec<ParameterIssue> = query
        .keys()
        .filter(|k| !PARAMETERS.contains(&k.as_str()))
        .map(|name| ParameterIssue::new(name.clone(), "unknown parameter"))
        .collect();
    let from_micros = time_parameter(query, "from", i64::MIN, &mut issues);
    let to_micros = time_parameter(query, "to", i64::MAX, &mut issues);
    let text = |name: &str| query.get(name).cloned().unwrap_or_default();
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
        issues.push(ParameterIssue::new("party", "a configured party"));
    }
    if selection.user.len() > 256 {
        issues.push(ParameterIssue::new("user", "at most 256 characters"));
    }
    if !selection.client.is_empty() && uuid::Uuid::parse_str(&selection.client).is_err() {
        issues.push(ParameterIssue::new("client", "a client id"));
    }
    let action_ok =
        selection.action.len() <= 64 && selection.action.chars().all(|c| c.is_ascii_alphabetic());
    if !action_ok {
        issues.push(ParameterIssue::new("action", "an operation id"));
    }
    if !["", "allowed", "denied"].contains(&selection.outcome.as_str()) {
        issues.push(ParameterIssue::new("outcome", "allowed or denied"));
    }
    let purpose = query.get("purpose").cloned();
    if purpose
        .as_deref()
        .is_some_and(|p| p.parse::<Purpose>().is_err())
    {
        issues.push(ParameterIssue::new("purpose", "a processing purpose"));
    }
    let after = match query.get("after").map(|t| t.parse::<i64>()) {
        None => -1,
        Some(Ok(n)) if n >= 0 => n,
        Some(_) => {
            issues.push(ParameterIssue::new("after", "a sequence number"));
            -1
        }
    };
    let page_size = match query.get("pageSize").map(|t| t.parse::<usize>()) {
        None => DEFAULT_PAGE,
        Some(Ok(n)) if (1..=MAX_PAGE).contains(&n) => n,
        Some(_) => {
            issues.push(ParameterIssue::new("pageSize", "an integer from 1 to 500"));
            DEFAULT_PAGE
        }
    };
    if issues.is_empty() {
        Ok(AuditSearch {
            selection,
            purpose,
            after,
            page_size,
        })
    } else {
        Err(issues)
    }
}
