//! The change feed: thin events about linked clients only, filtered by policy and consent at
//! the moment of delivery, long-polled, each delivery on record.

use crate::helpers::{CASE_WORK, TestGateway, generated_ssin, problem, write_record as write};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const GENT: (&str, &str) = ("ocmw-gent", "sw-1");
const AMAL: (&str, &str) = ("amal", "tb-1");
const EEKLO: (&str, &str) = ("ocmw-eeklo", "sw-9");

async fn joint_client(gw: &TestGateway, n: u32) -> String {
    let ssin = generated_ssin(n);
    let mut id = String::new();
    for who in [GENT, AMAL] {
        let response = gw.register(who.0, who.1, &ssin).await;
        id = response.json::<Value>().await.unwrap()["clientId"]
            .as_str()
            .unwrap()
            .to_owned();
    }
    id
}

async fn call(
    gw: &TestGateway,
    who: (&str, &str),
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let response = gw
        .call_as(
            method,
            path,
            (who.0, &["caseWorker"][..], who.1),
            CASE_WORK,
            body,
        )
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn feed(gw: &TestGateway, who: (&str, &str), query: &str) -> Value {
    let (status, body) = call(gw, who, Method::GET, &format!("/v1/events?{query}"), None).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn categories(event: &Value) -> Vec<String> {
    event["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_linked_party_receives_the_change_with_only_the_categories_it_may_see_and_an_unlinked_one_nothing()
 {
    let gw = TestGateway::start().await;
    let client = joint_client(&gw, 1).await;
    write(
        &gw,
        AMAL,
        &client,
        json!({"integrationStatus": "obligated", "nt2Level": "A2"}),
    )
    .await;

    let page = feed(&gw, GENT, "after=0").await;
    let events = page["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{page}");
    let event = &events[0];
    assert_eq!(event["type"], "clientRecordChanged");
    assert_eq!(event["clientId"], client.as_str());
    // Trajectory progress is withheld from the OCMW without consent; the event never carries values.
    assert_eq!(categories(event), ["integrationStatus"]);
    assert!(!event.to_string().contains("A2") && !event.to_string().contains("obligated"));
    assert_eq!(page["next"], event["position"]);

    // The writer itself sees everything it wrote; an unlinked OCMW sees nothing.
    let own = feed(&gw, AMAL, "after=0").await;
    assert_eq!(
        categories(&own["events"][0]),
        ["integrationStatus", "trajectoryProgress"]
    );
    let outsider = feed(&gw, EEKLO, "after=0").await;
    assert_eq!(outsider["events"], json!([]));

    // The cursor moves on: nothing is delivered twice.
    let again = feed(&gw, GENT, &format!("after={}", page["next"])).await;
    assert_eq!(again["events"], json!([]));

    // Each delivery is on record, about that client.
    let rows = gw.audit_rows().await;
    let deliveries: Vec<_> = rows.iter().filter(|r| r.action == "deliverEvent").collect();
    assert_eq!(deliveries.len(), 2, "to OCMW Gent and to Amal");
    assert!(
        deliveries
            .iter()
            .all(|r| r.client_id.as_deref() == Some(client.as_str()))
    );
    gw.stop().await;
}

#[tokio::test]
async fn a_consent_withdrawn_between_the_write_and_the_delivery_withholds_the_event() {
    let gw = TestGateway::start().await;
    let client = joint_client(&gw, 2).await;
    let consent = json!({"recipientParty": "ocmw-gent", "purpose": CASE_WORK, "categories": ["trajectoryProgress"],
        "legalTextVersion": "amal-2026-01", "language": "nl", "evidenceReference": "form-7", "validFrom": "2020-01-01"});
    let (status, given) = call(
        &gw,
        AMAL,
        Method::POST,
        &format!("/v1/clients/{client}/consents"),
        Some(&consent),
    )
    .await;
    assert_eq!(status, 201);

    write(&gw, AMAL, &client, json!({"nt2Level": "B1"})).await;
    let path = format!(
        "/v1/clients/{client}/consents/{}/withdrawal",
        given["consentId"].as_str().unwrap()
    );
    assert_eq!(call(&gw, GENT, Method::POST, &path, None).await.0, 200);
    // The event was written while the consent held; at delivery it no longer does.
    let page = feed(&gw, GENT, "after=0").await;
    assert_eq!(page["events"], json!([]), "{page}");
    assert!(
        page["next"].as_i64().unwrap() > 0,
        "the cursor still moves past it"
    );
    gw.stop().await;
}

#[tokio::test]
async fn a_significant_change_reaches_both_parties_flagged_swo_art_6() {
    let gw = TestGateway::start().await;
    let client = joint_client(&gw, 3).await;
    write(
        &gw,
        AMAL,
        &client,
        json!({"integrationStatus": "entitled", "nationalRegisterSince": "2019-01-01"}),
    )
    .await;
    let start = feed(&gw, GENT, "after=0").await["next"].as_i64().unwrap();
    write(&gw, GENT, &client, json!({"receivesLivingWage": true})).await;
    for who in [GENT, AMAL] {
        let page = feed(&gw, who, &format!("after={start}")).await;
        let event = &page["events"][0];
        assert_eq!(event["significantChange"], true, "{who:?} {page}");
        assert!(
            categories(event).contains(&"coordination".to_owned()),
            "{who:?} {page}"
        );
        assert!(
            categories(event).contains(&"income".to_owned()),
            "{who:?} {page}"
        );
    }
    gw.stop().await;
}

#[tokio::test]
async fn a_long_poll_returns_as_soon_as_an_event_for_the_caller_arrives() {
    let gw = TestGateway::start().await;
    let client = joint_client(&gw, 4).await;
    let start = feed(&gw, GENT, "after=0").await["next"].as_i64().unwrap();
    let started = Instant::now();
    let query = format!("after={start}&waitSeconds=8");
    let waiting = feed(&gw, GENT, &query);
    let writing = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        write(
            &gw,
            AMAL,
            &client,
            json!({"integrationStatus": "obligated"}),
        )
        .await;
    };
    let (page, ()) = tokio::join!(waiting, writing);
    assert_eq!(page["events"].as_array().unwrap().len(), 1, "{page}");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "woke on the write, not at the deadline"
    );
    // With nothing to deliver, the wait ends at its bound with an empty page.
    let idle = feed(&gw, EEKLO, "after=0&waitSeconds=1").await;
    assert_eq!(idle["events"], json!([]));
    gw.stop().await;
}

#[tokio::test]
async fn feed_parameters_are_checked() {
    let gw = TestGateway::start().await;
    for query in [
        "after=-1",
        "after=x",
        "limit=0&limit=5000",
        "waitSeconds=999",
        "cursor=1",
    ] {
        let (status, body) =
            call(&gw, GENT, Method::GET, &format!("/v1/events?{query}"), None).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["type"], "urn:problem-type:belgif:badRequest");
    }
    let response = gw.get_as("ocmw-gent", "/v1/events", CASE_WORK).await;
    assert_eq!(response.status(), 200);
    let refused = gw
        .call_as(
            Method::GET,
            "/v1/events",
            ("ocmw-gent", &["coordinator"], "c"),
            "monitoring",
            None,
        )
        .await;
    problem(refused, 403, "urn:problem-type:belgif:missingScope").await;
    gw.stop().await;
}
