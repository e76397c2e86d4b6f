//! Every disclosure named: an answer that carries a client's fields is recorded with them, a
//! write that answers with the record included; an answer that shows many clients is one
//! record naming them all, which each client's access report lists.

use crate::harness::{
    AMAL, Caller, Endpoint, GENT, TestGateway, joint_client, per_user_rate, with_joint_client,
};
use reqwest::Method;
use serde_json::{Value, json};

const OFFICER: (&str, &str) = ("ocmw-gent", "po-disclosures");

/// The actions the client's access report lists for `party`, as Gent's privacy officer
/// sees it.
async fn reported_actions(gw: &TestGateway, client: &str, party: &str) -> Vec<Value> {
    let officer = gw.session(&Caller::privacy_officer(OFFICER));
    let path = format!("/v1/audit/clients/{client}/access-report");
    let (status, report) = officer.call(Method::GET, &path, None).await;
    assert_eq!(status, 200, "{report}");
    report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|group| group["party"] == party)
        .flat_map(|group| group["entries"].as_array().unwrap().clone())
        .collect()
}

#[tokio::test]
async fn an_empty_patch_that_answers_with_the_record_is_recorded_with_every_field_it_shows() {
    let (gw, client, gent, amal) = with_joint_client(81).await;
    amal.write_record(&client, json!({"nt2Level": "A2"})).await;
    gent.write_record(&client, json!({"receivesLivingWage": true}))
        .await;

    let answer = gent.patch_record(&client, Some("*"), &json!({})).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let shown: Vec<String> = ["fields", "derived"]
        .iter()
        .flat_map(|part| {
            answer.body[part]
                .as_object()
                .expect("the answer carries the record")
                .keys()
        })
        .cloned()
        .collect();
    assert!(
        shown.contains(&"receivesLivingWage".to_owned()),
        "{shown:?}"
    );

    let row = gw.audit_of_request(&answer.trace).await;
    assert_eq!(row.action, "updateClient");
    assert_eq!(row.outcome, "allowed");
    let mut recorded = row.record.fields.clone();
    recorded.sort();
    let mut expected = shown.clone();
    expected.sort();
    assert_eq!(
        recorded, expected,
        "the record names what the answer showed"
    );

    // The client's access report shows the disclosure, with the fields it carried.
    let entries = reported_actions(&gw, &client, GENT.0).await;
    let entry = entries
        .iter()
        .find(|e| e["seq"] == row.seq)
        .unwrap_or_else(|| panic!("the empty patch is not in the report: {entries:#?}"));
    assert_eq!(entry["action"], "updateClient");
    assert!(
        entry["categories"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c == "income")),
        "{entry}"
    );
    gw.stop().await;
}

#[tokio::test]
async fn a_feed_page_of_a_hundred_clients_is_one_record_that_each_access_report_lists() {
    const CLIENTS: u32 = 100;
    let gw = TestGateway::start_with(per_user_rate(10_000, 10_000)).await;
    let gent = gw.case_worker(GENT);
    let start = gent.feed("after=0").await["next"].as_i64().unwrap();
    let mut clients = Vec::new();
    for n in 0..CLIENTS {
        let client = joint_client(&gw, 600 + n).await;
        gw.case_worker(AMAL)
            .write_record(&client, json!({"integrationStatus": "obligated"}))
            .await;
        clients.push(client);
    }
    let before = gw.audit_rows().await.len();
    let page = gent
        .get(&format!("/v1/events?after={start}&limit=1000"))
        .await;
    let trace = crate::harness::trace_id(&page);
    let page: Value = page.json().await.unwrap();
    let shown: std::collections::BTreeSet<&str> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["clientId"].as_str().unwrap())
        .collect();
    assert_eq!(shown.len(), CLIENTS as usize, "{page}");

    // One request, one record, naming each client shown once.
    let after = gw.audit_rows().await;
    assert_eq!(after.len() - before, 1, "{:#?}", &after[before..]);
    let row = gw.audit_of_request(&trace).await;
    assert_eq!(row.action, "deliverEvent");
    assert_eq!(row.client_id, None);
    assert_eq!(row.record.v, 2);
    let named: std::collections::BTreeSet<&str> =
        row.record.clients.iter().map(String::as_str).collect();
    assert_eq!(named, shown);

    // Each client's access report lists the page.
    for client in &clients {
        let entries = reported_actions(&gw, client, GENT.0).await;
        assert!(
            entries
                .iter()
                .any(|e| e["action"] == "deliverEvent" && e["seq"] == row.seq),
            "{client}: {entries:#?}"
        );
    }
    gw.stop().await;
}
