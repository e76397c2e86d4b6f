//! Events (product brief §7): thin notices, as Flemish MAGDA's are — a type, the client and the
//! categories that changed, never a value. A receiver reads the values through the gate, so
//! every value it sees is filtered and audited.

use super::record::field::{Category, Field};
use super::rules::Derived;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// Fields of the joint-client record changed (owned or derived).
    ClientRecordChanged,
}

impl EventType {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ClientRecordChanged => "clientRecordChanged",
        }
    }
}

/// The categories a change touched: those of the fields written and of the derived values
/// whose value moved, in a stable order.
pub fn changed_categories(written: &[Field], before: &Derived, after: &Derived) -> Vec<Category> {
    let derived_moved = Field::ALL
        .iter()
        .copied()
        .filter(|f| f.is_derived() && before.value(*f) != after.value(*f));
    let categories: BTreeSet<Category> = written
        .iter()
        .copied()
        .chain(derived_moved)
        .map(Field::category)
        .collect();
    categories.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::record::values::ClientRecord;
    use crate::domain::rules::derive;
    use serde_json::json;
    use time::macros::date;

    #[test]
    fn ending_the_living_wage_touches_income_coordination_and_the_fee_swo_art_6_7() {
        let mut before = ClientRecord::default();
        for (field, value) in [
            (Field::IntegrationStatus, json!("entitled")),
            (Field::NationalRegisterSince, json!("2019-01-01")),
            (Field::ReceivesLivingWage, json!(true)),
        ] {
            before.set(field, &value).unwrap();
        }
        let mut after = before.clone();
        after.set(Field::ReceivesLivingWage, &json!(false)).unwrap();
        let today = date!(2026 - 11 - 24);
        let categories = changed_categories(
            &[Field::ReceivesLivingWage],
            &derive(&before, today, false),
            &derive(&after, today, false),
        );
        // Direction and sanction authority move (coordination), and so does the fee: on living
        // wage the client was exempt (SWO art. 7); without it, and with no contract date
        // known, whether the fee applies is unknown.
        assert_eq!(
            categories,
            [
                Category::Financial,
                Category::Income,
                Category::Coordination
            ]
        );
    }

    #[test]
    fn a_change_that_moves_no_derived_value_touches_only_its_own_category() {
        let record = ClientRecord::default();
        let today = date!(2026 - 11 - 24);
        let derived = derive(&record, today, false);
        assert_eq!(
            changed_categories(&[Field::IncreasedAllowance], &derived, &derived),
            [Category::Financial]
        );
    }
}
