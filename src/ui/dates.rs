//! The date fields of the forms (`<input type="date">`, `YYYY-MM-DD`, days in UTC) and the
//! ranges they select: both days inclusive, as a person reads "from the 1st to the 7th".

use crate::audit::record::micros;
use std::collections::BTreeMap;
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime, Time};

pub fn parse(text: &str) -> Option<Date> {
    Date::parse(text, format_description!("[year]-[month]-[day]")).ok()
}

pub fn format(date: Date) -> String {
    date.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

/// Midnight UTC at the start of `date`, as RFC 3339.
pub fn start_of(date: Date) -> String {
    format!("{}T00:00:00Z", format(date))
}

/// Days `from` to `to`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRange {
    pub from: Date,
    pub to: Date,
}

impl DayRange {
    /// The range the form's `from` and `to` ask for; without them the `default_days` up to
    /// today. Refused, with the reason in Dutch: a malformed date, an end before the start,
    /// or more than `max_days`.
    pub fn from_form(
        query: &BTreeMap<String, String>,
        default_days: i64,
        max_days: i64,
        today: Date,
    ) -> Result<Self, String> {
        let field = |name: &str| query.get(name).filter(|value| !value.is_empty());
        let to = match field("to") {
            None => today,
            Some(text) => parse(text).ok_or("De einddatum is geen datum.")?,
        };
        let from = match field("from") {
            None => to - Duration::days(default_days - 1),
            Some(text) => parse(text).ok_or("De begindatum is geen datum.")?,
        };
        if to < from {
            return Err("De einddatum ligt vóór de begindatum.".into());
        }
        if (to - from).whole_days() + 1 > max_days {
            return Err(format!("Kies hoogstens {max_days} dagen."));
        }
        Ok(Self { from, to })
    }

    /// `[start of from, end of to)` in microseconds since the epoch.
    pub fn micros(&self) -> (i64, i64) {
        let start = |date: Date| micros(OffsetDateTime::new_utc(date, Time::MIDNIGHT));
        (start(self.from), start(self.to + Duration::days(1)))
    }

    pub fn days(&self) -> Vec<String> {
        let mut days = Vec::new();
        let mut day = self.from;
        while day <= self.to {
            days.push(format(day));
            day += Duration::days(1);
        }
        days
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn form(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn without_dates_the_range_is_the_last_days_up_to_today() {
        let range =
            DayRange::from_form(&form(&[("from", "")]), 7, 92, date!(2026 - 11 - 25)).unwrap();
        assert_eq!(
            range,
            DayRange {
                from: date!(2026 - 11 - 19),
                to: date!(2026 - 11 - 25)
            }
        );
        assert_eq!(range.days().len(), 7);
        let (start, end) = range.micros();
        assert_eq!(end - start, 7 * 86_400_000_000);
    }

    #[test]
    fn both_days_are_included() {
        let range = DayRange::from_form(
            &form(&[("from", "2026-11-01"), ("to", "2026-11-01")]),
            7,
            92,
            date!(2026 - 11 - 25),
        )
        .unwrap();
        assert_eq!(range.days(), ["2026-11-01"]);
    }

    #[test]
    fn malformed_reversed_and_overlong_ranges_are_refused() {
        let today = date!(2026 - 11 - 25);
        for pairs in [
            &[("from", "25/11/2026")][..],
            &[("from", "2026-11-10"), ("to", "2026-11-01")],
            &[("from", "2025-01-01"), ("to", "2026-11-01")],
        ] {
            assert!(
                DayRange::from_form(&form(pairs), 7, 92, today).is_err(),
                "{pairs:?}"
            );
        }
    }
}
