//! Applying a decision to a record: the caller gets exactly the visible fields and derived
//! values, and for withheld categories only the category and the reason — never a value.

use super::compiled::Decision;
use crate::domain::record::field::{Category, Field};
use crate::domain::record::values::ClientRecord;
use crate::domain::rules::{self, Derived};
use serde::Serialize;
use serde_json::{Map, Value, json};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Withheld {
    pub category: Category,
    pub reason: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Filtered {
    /// Visible owned fields; a visible field that is not set is `null`.
    pub fields: Map<String, Value>,
    /// Visible derived values, each `{value, article}`.
    pub derived: Map<String, Value>,
    pub withheld: Vec<Withheld>,
    /// Every field the caller read, for the audit record (names only).
    pub read: Vec<Field>,
}

pub fn filter(record: &ClientRecord, derived: &Derived, decision: &Decision) -> Filtered {
    let mut fields = Map::new();
    let mut derived_values = Map::new();
    let mut read = Vec::new();
    for field in Field::ALL
        .iter()
        .copied()
        .filter(|f| decision.is_visible(*f))
    {
        read.push(field);
        if field.is_derived() {
            let article = rules::article(field).unwrap_or_default();
            derived_values.insert(
                field.as_str().to_owned(),
                json!({ "value": derived.value(field), "article": article }),
            );
        } else {
            fields.insert(field.as_str().to_owned(), record.value(field));
        }
    }
    let withheld = decision
        .withheld()
        .map(|(category, reason)| Withheld {
            category,
            reason: reason.as_str(),
        })
        .collect();
    Filtered {
        fields,
        derived: derived_values,
        withheld,
        read,
    }
}
