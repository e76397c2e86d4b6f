//! The change feed: thin events about linked clients only, filtered by policy and consent at
//! the moment of delivery, long-polled, each delivery on record.

use crate::harness::{
    AMAL, Caller, EEKLO, Endpoint, GENT, TestGateway, give_consent, problem, with_joint_client,
};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

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
    let (gw, client, gent, amal) = with_joint_client(1).await;
    let progress = json!({"integrationStatus": "obligated", "nt2Level": "A2"});
    amal.write_record(&client, progress).await;

    let page = gent.feed("after=0").await;
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
    let own = amal.feed("after=0").await;
    assert_eq!(
        categories(&own["events"][0]),
        ["integrationStatus", "trajectoryProgress"]
    );
    let outsider = gw.case_worker(EEKLO).feed("after=0").await;
    assert_eq!(outsider["events"], json!([]));

    // The cursor moves on: nothing is delivered twice.
    let again = gent.feed(&format!("after={}", page["next"])).await;
    assert_eq!(again["events"], json!([]));

    // Each delivery is on record, about that client.
    let deliveries = gw.audit_of_action("deliverEvent").await;
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
    let (gw, client, gent, _) = with_joint_client(2).await;
    let consent = give_consent(&gw, &client).await;
    let progress = json!({"nt2Level": "B1"});
    gw.case_worker(AMAL).write_record(&client, progress).await;
    let withdrawn = gent.withdraw_consent(&client, &consent).await;
    assert_eq!(withdrawn.status(), 200);
    // The event was written while the consent held; at delivery it no longer does.
    let page = gent.feed("after=0").await;
    assert_eq!(page["events"], json!([]), "{page}");
    assert!(
        page["next"].as_i64().unwrap() > 0,
        "the cursor still moves past it"
    );
    gw.stop().await;
}

#[tokio::test]
async fn a_significant_change_reaches_both_parties_flagged_swo_art_6() {
    let (gw, client, gent, amal) = with_joint_client(3).await;
    let entitled = json!({"integrationStatus": "entitled", "nationalRegisterSince": "2019-01-01"});
    amal.write_record(&client, entitled).await;
    let start = gent.feed("after=0").await["next"].as_i64().unwrap();
    let living_wage = json!({"receivesLivingWage": true});
    gent.write_record(&client, living_wage).await;
    for (who, session) in [(GENT, &gent), (AMAL, &amal)] {
        let page = session.feed(&format!("after={start}")).await;
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
    let (gw, client, gent, _) = with_joint_client(4).await;
    let start = gent.feed("after=0").await["next"].as_i64().unwrap();
    let started = Instant::now();
    let query = format!("after={start}&waitSeconds=8");
    let waiting = gent.feed(&query);
    let writing = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let obligated = json!({"integrationStatus": "obligated"});
        gw.case_worker(AMAL).write_record(&client, obligated).await;
    };
    let (page, ()) = tokio::join!(waiting, writing);
    assert_eq!(page["events"].as_array().unwrap().len(), 1, "{page}");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "woke on the write, not at the deadline"
    );
    // With nothing to deliver, the wait ends at its bound with an empty page.
    let idle = gw.case_worker(EEKLO).feed("after=0&waitSeconds=1").await;
    assert_eq!(idle["events"], json!([]));
    gw.stop().await;
}

#[tokio::test]
async fn feed_parameters_are_checked() {
    let gw = TestGateway::start().await;
    let gent = gw.case_worker(GENT);
    for query in [
        "after=-1",
        "after=x",
        "limit=0&limit=5000",
        "waitSeconds=999",
        "cursor=1",
        "pageSize=0",
        "pageSize=1001",
        "pageSize=2&limit=3",
    ] {
        let path = format!("/v1/events?{query}");
        let (status, body) = gent.call(Method::GET, &path, None).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["type"], "urn:problem-type:belgif:badRequest");
    }
    let response = gw
        .case_worker(("ocmw-gent", "tester"))
        .get("/v1/events")
        .await;
    assert_eq!(response.status(), 200);
    let coordinator = Caller::new("ocmw-gent", &["coordinator"], "c", "monitoring");
    let refused = gw.session(&coordinator).get("/v1/events").await;
    problem(refused, 403, "urn:problem-type:belgif:missingScope").await;
    gw.stop().await;
}

#[tokio::test]
async fn the_feed_pages_with_page_size_as_every_listing_and_still_takes_limit() {
    let (_gw, client, gent, _amal) = with_joint_client(57).await;
    for n in 0..3 {
        let patch = json!({"increasedAllowance": n % 2 == 0});
        gent.write_record(&client, patch).await;
    }
    for query in ["pageSize=2", "limit=2", "pageSize=2&limit=2"] {
        let page = gent.feed(&format!("after=0&{query}")).await;
        assert_eq!(
            page["events"].as_array().unwrap().len(),
            2,
            "{query}: {page}"
        );
    }
}
