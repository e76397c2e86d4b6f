//! Query parameters read by name into typed values, every parameter that is not as it must be
//! named with what it must be — all of them, not only the first, so a caller fixes a request
//! in one go. The API's query strings and the review pages' forms are read with it.

use crate::audit::record::micros;
use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A parameter that is not as it must be, and what it must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterIssue {
    pub name: String,
    pub detail: String,
    /// The value as sent, where echoing it helps and it cannot be personal data.
    pub value: Option<String>,
}

impl ParameterIssue {
    pub fn new(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            detail: detail.into(),
            value: None,
        }
    }
}

/// The parameters of one request, and the issues found so far, in the order they were read.
pub struct Parameters<'q> {
    query: &'q BTreeMap<String, String>,
    issues: Vec<ParameterIssue>,
}

impl<'q> Parameters<'q> {
    pub fn new(query: &'q BTreeMap<String, String>) -> Self {
        Self {
            query,
            issues: Vec::new(),
        }
    }

    /// Names every parameter that is not one of `known`.
    pub fn refuse_unknown(&mut self, known: &[&str]) {
        for name in self.query.keys().filter(|k| !known.contains(&k.as_str())) {
            self.issues
                .push(ParameterIssue::new(name.clone(), "unknown parameter"));
        }
    }

    pub fn issue(&mut self, name: &str, detail: impl Into<String>) {
        self.issues.push(ParameterIssue::new(name, detail));
    }

    /// The parameter as sent, if it was.
    pub fn text(&self, name: &str) -> Option<&'q str> {
        self.query.get(name).map(String::as_str)
    }

    /// The parameter parsed, `None` when absent; one that does not parse is an issue.
    pub fn optional<T>(
        &mut self,
        name: &str,
        expected: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Option<T> {
        let text = self.text(name)?;
        let parsed = parse(text);
        if parsed.is_none() {
            self.issue(name, expected);
        }
        parsed
    }

    /// The parameter parsed; absent or not parsing, it is an issue with the same detail.
    pub fn required<T>(
        &mut self,
        name: &str,
        expected: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Option<T> {
        if self.text(name).is_none() {
            self.issue(name, expected);
        }
        self.optional(name, expected, parse)
    }

    /// An integer in `range`, `default` when absent.
    pub fn integer(&mut self, name: &str, range: RangeInclusive<i64>, default: i64) -> i64 {
        let expected = format!("an integer from {} to {}", range.start(), range.end());
        self.optional(name, &expected, |text| {
            text.parse::<i64>().ok().filter(|n| range.contains(n))
        })
        .unwrap_or(default)
    }

    /// An RFC 3339 time in microseconds since the epoch, `default` when absent.
    pub fn time(&mut self, name: &str, default: i64) -> i64 {
        self.optional(name, "an RFC 3339 date-time", |text| {
            OffsetDateTime::parse(text, &Rfc3339).ok().map(micros)
        })
        .unwrap_or(default)
    }

    /// A non-negative integer that must be there; a malformed one is echoed back (it is a
    /// number, never personal data).
    pub fn count(&mut self, name: &str) -> u64 {
        match self.text(name).map(|text| (text, text.parse::<u64>())) {
            Some((_, Ok(value))) => value,
            Some((text, Err(_))) => {
                let mut issue = ParameterIssue::new(name, "a non-negative integer");
                issue.value = Some(text.to_owned());
                self.issues.push(issue);
                0
            }
            None => {
                self.issue(name, "required");
                0
            }
        }
    }

    /// `value` if every parameter was as it must be, otherwise every issue.
    pub fn finish<T>(self, value: T) -> Result<T, Vec<ParameterIssue>> {
        if self.issues.is_empty() {
            Ok(value)
        } else {
            Err(self.issues)
        }
    }
}

/// Where a page of a newest-first listing ends: the time (microseconds) and id of its last
/// item. The next page starts strictly after it, so an item is neither skipped nor repeated
/// while others are added. Written as `<micros>.<id>` in `next`, read back from `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub at: i64,
    pub id: String,
}

impl Cursor {
    pub fn parse(text: &str) -> Option<Self> {
        let (at, id) = text.split_once('.')?;
        let at: i64 = at.parse().ok().filter(|at| *at >= 0)?;
        let id = uuid::Uuid::parse_str(id).ok()?;
        Some(Self {
            at,
            id: id.to_string(),
        })
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.at, self.id)
    }
}

/// A page of a listing and the cursor of the next, if there is more.
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// A page from at most `size + 1` items read: the extra one only says there is more.
    pub fn of(mut items: Vec<T>, size: i64, cursor: impl Fn(&T) -> Cursor) -> Self {
        let more = items.len() as i64 > size;
        items.truncate(usize::try_from(size).unwrap_or(0));
        let next = if more { items.last().map(cursor) } else { None };
        Self { items, next }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_cursor_reads_back_what_it_wrote_and_nothing_else() {
        let id = "0193a1b2-0000-7000-8000-000000000001";
        let cursor = Cursor::parse(&format!("1700000000000000.{id}")).unwrap();
        assert_eq!(cursor.to_string(), format!("1700000000000000.{id}"));
        for bad in [
            "",
            "1.2",
            "x.0193a1b2-0000-7000-8000-000000000001",
            &format!("-1.{id}"),
        ] {
            assert_eq!(Cursor::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_page_says_there_is_more_only_when_an_extra_item_was_read() {
        let cursor = |n: &i64| Cursor {
            at: *n,
            id: String::new(),
        };
        let full = Page::of(vec![3, 2, 1], 2, cursor);
        assert_eq!((full.items, full.next.map(|c| c.at)), (vec![3, 2], Some(2)));
        let last = Page::of(vec![1], 2, cursor);
        assert_eq!((last.items, last.next), (vec![1], None));
    }

    #[test]
    fn every_parameter_that_is_wrong_is_named_in_the_order_read() {
        let query = query(&[("pageSize", "0"), ("from", "yesterday"), ("x", "1")]);
        let mut parameters = Parameters::new(&query);
        parameters.refuse_unknown(&["pageSize", "from", "to"]);
        assert_eq!(parameters.integer("pageSize", 1..=500, 100), 100);
        assert_eq!(parameters.time("from", 7), 7);
        assert_eq!(parameters.time("to", 9), 9);
        let issues = parameters.finish(()).unwrap_err();
        let named: Vec<(&str, &str)> = issues
            .iter()
            .map(|i| (i.name.as_str(), i.detail.as_str()))
            .collect();
        assert_eq!(
            named,
            [
                ("x", "unknown parameter"),
                ("pageSize", "an integer from 1 to 500"),
                ("from", "an RFC 3339 date-time"),
            ]
        );
    }

    #[test]
    fn a_required_parameter_that_is_absent_is_named_like_a_wrong_one() {
        let query = query(&[("b", "two")]);
        let mut parameters = Parameters::new(&query);
        assert_eq!(parameters.count("a"), 0);
        assert_eq!(parameters.count("b"), 0);
        assert!(
            parameters
                .required("c", "yes or no", |t| (t == "yes").then_some(()))
                .is_none()
        );
        let issues = parameters.finish(()).unwrap_err();
        assert_eq!(issues[0].detail, "required");
        assert_eq!(issues[1].value.as_deref(), Some("two"));
        assert_eq!(issues[2].detail, "yes or no");
    }

    #[test]
    fn well_formed_parameters_are_read_as_their_values() {
        let query = query(&[("n", "42"), ("at", "2026-01-02T03:04:05Z")]);
        let mut parameters = Parameters::new(&query);
        parameters.refuse_unknown(&["n", "at"]);
        let n = parameters.integer("n", 0..=100, 1);
        let at = parameters.time("at", 0);
        assert_eq!(parameters.finish((n, at)), Ok((42, 1_767_323_045_000_000)));
    }
}
