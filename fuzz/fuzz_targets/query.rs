//! Query strings, decoded as axum's `Query<BTreeMap<String, String>>` decodes them, then read
//! as the handlers read them: the audit search (API and review page), and each typed reader
//! of `Parameters` with the ranges the handlers use. A value read is within its range, and a
//! query refused names at least one parameter.

#![no_main]

use gateway::domain::referral::ReferralStatus;
use gateway::gate::parameters::Parameters;
use gateway::gate::search;
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

const KNOWN: [&str; 9] = [
    "after",
    "limit",
    "waitSeconds",
    "direction",
    "status",
    "pageSize",
    "year",
    "from",
    "to",
];

fuzz_target!(|data: &[u8]| {
    let Ok(query) = serde_urlencoded::from_bytes::<BTreeMap<String, String>>(data) else {
        return;
    };

    if let Ok(found) = search::parse(&query, |party| party == "ocmw-gent" || party == "amal") {
        assert!((1..=500).contains(&found.page_size));
        assert!(found.after >= -1);
        assert!(found.selection.user.len() <= 256);
    }

    let mut parameters = Parameters::new(&query);
    parameters.refuse_unknown(&KNOWN);
    let after = parameters.integer("after", 0..=i64::MAX, 0);
    let limit = parameters.integer("limit", 0..=1000, 100);
    let wait = parameters.integer("waitSeconds", 0..=30, 0);
    let outgoing = parameters.required("direction", "incoming or outgoing", |text| match text {
        "outgoing" => Some(true),
        "incoming" => Some(false),
        _ => None,
    });
    let status = parameters.optional("status", "a status", ReferralStatus::parse);
    let page_size = parameters.integer("pageSize", 1..=500, 100);
    let year = parameters.optional("year", "a year", |text| {
        text.parse::<i32>()
            .ok()
            .filter(|year| (2024..=2100).contains(year))
    });
    let from = parameters.time("from", i64::MIN);
    let to = parameters.time("to", i64::MAX);
    let tree_size = parameters.count("treeSize");
    assert!(after >= 0);
    assert!((0..=1000).contains(&limit));
    assert!((0..=30).contains(&wait));
    assert!((1..=500).contains(&page_size));
    if let Some(status) = status {
        assert_eq!(ReferralStatus::parse(status.as_str()), Some(status));
    }
    let _ = (outgoing, year, from, to, tree_size);
    match parameters.finish(()) {
        Ok(()) => assert!(outgoing.is_some() && query.contains_key("treeSize")),
        Err(issues) => assert!(!issues.is_empty()),
    }
});
