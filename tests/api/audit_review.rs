//! Reviewing the audit log as a privacy officer: the search (every filter, the officer's
//! party's share of the log only, a cursor that neither skips nor repeats while records are
//! appended, bad parameters refused), a client's access report, the anomaly flags — each
//! review itself on record.

use crate::harness::{
    AMAL, Caller, EEKLO, Endpoint, TestGateway, client_id, generated_ssin, joint_client,
};
use reqwest::Method;
use serde_json::Value;
use std::collections::BTreeSet;

const OFFICER: (&str, &str) = ("ocmw-gent", "po-1");

/// `GET path` as Gent's privacy officer reviewing the log.
async fn review(gw: &TestGateway, path: &str) -> (u16, Value) {
    let officer = gw.session(&Caller::privacy_officer(OFFICER));
    officer.call(Method::GET, path, None).await
}

async fn search(gw: &TestGateway, query: &str) -> (u16, Value) {
    review(gw, &format!("/v1/audit/records?{query}")).await
}

async fn items(gw: &TestGateway, query: &str) -> Vec<Value> {
    let (status, page) = search(gw, query).await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().unwrap().clone()
}

fn seqs(records: &[Value]) -> Vec<u64> {
    records.iter().map(|r| r["seq"].as_u64().unwrap()).collect()
}

/// Person `n`, registered by `party`'s case worker sw-1; the client id.
async fn client(gw: &TestGateway, party: &str, n: u32) -> String {
    let response = gw
        .case_worker((party, "sw-1"))
        .register(&generated_ssin(n))
        .await;
    client_id(response).await
}

/// `GET /v1/clients/{client}` as `party`'s case worker `user`; the status.
async fn read(gw: &TestGateway, (party, user): (&str, &str), client: &str) -> u16 {
    let reader = gw.case_worker((party, user));
    let response = reader.get(&format!("/v1/clients/{client}")).await;
    response.status().as_u16()
}

/// `party`'s case worker `user` looks up person `n`, unknown to it.
async fn look_up_unknown(gw: &TestGateway, (party, user): (&str, &str), n: u32) {
    let response = gw
        .case_worker((party, user))
        .lookup(&generated_ssin(n))
        .await;
    assert_eq!(response.status(), 404);
}

/// Gent and Amal share a client, on whose record Gent sets the living wage and Amal reads it;
/// Gent has a client of its own, Eeklo one Gent has nothing to do with; Gent looks up an
/// unknown person (a refusal).
async fn history(gw: &TestGateway) -> (String, String, String) {
    let joint = joint_client(gw, 1).await;
    let wage = serde_json::json!({"receivesLivingWage": true});
    gw.case_worker(("ocmw-gent", "sw-1"))
        .write_record(&joint, wage)
        .await;
    assert_eq!(read(gw, AMAL, &joint).await, 200);
    let own = client(gw, "ocmw-gent", 2).await;
    let foreign = client(gw, "ocmw-eeklo", 3).await;
    look_up_unknown(gw, ("ocmw-gent", "sw-2"), 9).await;
    (joint, own, foreign)
}

#[tokio::test]
async fn an_officer_sees_its_partys_users_and_the_disclosures_of_its_fields_and_each_filter_narrows_it()
 {
    let gw = TestGateway::start().await;
    let (joint, own, foreign) = history(&gw).await;

    let all = items(&gw, "").await;
    let parties: BTreeSet<_> = all.iter().map(|r| r["party"].as_str().unwrap()).collect();
    assert_eq!(parties, BTreeSet::from(["amal", "ocmw-gent"]), "{all:#?}");
    assert!(all.iter().all(|r| r["client"] != foreign.as_str()));
    assert!(seqs(&all).windows(2).all(|w| w[0] < w[1]));

    // Of the agency's records only its read shows, which disclosed Gent's living-wage field to
    // it; its registration of the joint client is its own officer's to review.
    let amal = items(&gw, "party=amal").await;
    assert_eq!(amal.len(), 1, "{amal:#?}");
    assert_eq!(amal[0]["client"], joint.as_str());
    assert_eq!(amal[0]["action"], "readClient");

    let about_own = items(&gw, &format!("client={own}")).await;
    assert_eq!(about_own.len(), 1);
    assert_eq!(about_own[0]["user"], "sw-1");
    let about_joint = items(&gw, &format!("client={joint}")).await;
    assert_eq!(about_joint.len(), 4, "{about_joint:#?}");
    let by_user = items(&gw, "user=sw-2").await;
    assert_eq!(by_user.len(), 1);
    assert_eq!(by_user[0]["action"], "lookupClient");
    let denied = items(&gw, "outcome=denied&action=lookupClient").await;
    assert_eq!(seqs(&denied), seqs(&by_user));
    assert_eq!(denied[0]["reason"], "notFound");
    let registrations = items(&gw, "action=registerClient&purpose=trajectoryGuidance").await;
    assert_eq!(registrations.len(), 2, "{registrations:#?}");
    let reviews = items(&gw, "purpose=auditReview").await;
    assert!(
        reviews
            .iter()
            .all(|r| r["action"] == "searchAuditLog" && r["user"] == OFFICER.1)
    );
    assert!(items(&gw, "to=2000-01-01T00:00:00Z").await.is_empty());
    let first = all[0]["time"].as_str().unwrap();
    let from_first = items(&gw, &format!("from={first}")).await;
    assert_eq!(from_first[0]["seq"], all[0]["seq"]);

    // Every search, refused or not, is on record as the officer's.
    let rows = gw.audit_rows().await;
    let last = rows.last().unwrap();
    assert_eq!(
        (last.action.as_str(), last.user_id.as_str()),
        ("searchAuditLog", OFFICER.1)
    );
    assert_eq!(last.record.purpose, "auditReview");
}

#[tokio::test]
async fn the_cursor_neither_skips_nor_repeats_while_records_are_appended() {
    let gw = TestGateway::start().await;
    history(&gw).await;
    let mut seen = Vec::new();
    let mut after: Option<u64> = None;
    for round in 0..50 {
        let query = match after {
            Some(a) => format!("pageSize=2&after={a}"),
            None => "pageSize=2".to_owned(),
        };
        let (status, page) = search(&gw, &query).await;
        assert_eq!(status, 200);
        seen.extend(seqs(page["items"].as_array().unwrap()));
        // The log grows between pages: a registration and this search's own record.
        client(&gw, "ocmw-gent", 100 + round).await;
        match page["next"].as_u64() {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    let last = *seen.last().unwrap();
    let everything = items(&gw, "pageSize=500").await;
    let expected: Vec<u64> = seqs(&everything)
        .into_iter()
        .filter(|s| *s <= last)
        .collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn bad_searches_and_other_roles_are_refused_on_record() {
    let gw = TestGateway::start().await;
    history(&gw).await;
    for query in [
        "pageSize=0",
        "pageSize=501",
        "after=-3",
        "from=yesterday",
        "outcome=maybe",
        "purpose=curiosity",
        "party=ocmw-nowhere",
        "client=not-an-id",
        "action=drop%20table",
        "colour=blue",
    ] {
        let (status, problem) = search(&gw, query).await;
        assert_eq!(status, 400, "{query}: {problem}");
    }
    let before = gw.audit_rows().await.len();
    let case_worker = gw
        .case_worker(("ocmw-gent", "sw-1"))
        .get("/v1/audit/records")
        .await;
    assert_eq!(case_worker.status(), 403);
    let rows = gw.audit_rows().await;
    assert_eq!(rows.len(), before + 1);
    let refusal = rows.last().unwrap();
    assert_eq!(
        (refusal.action.as_str(), refusal.outcome.as_str()),
        ("searchAuditLog", "denied")
    );
    let anonymous = Caller::privacy_officer(OFFICER).without_token();
    let unauthenticated = gw.session(&anonymous).get("/v1/audit/records").await;
    assert_eq!(unauthenticated.status(), 401);
}

#[tokio::test]
async fn a_clients_access_report_groups_every_access_by_party_and_purpose_gdpr_art_15() {
    let gw = TestGateway::start().await;
    let ssin = generated_ssin(21);
    let joint = joint_client(&gw, 21).await;
    let wage = serde_json::json!({"receivesLivingWage": true});
    gw.case_worker(("ocmw-gent", "sw-1"))
        .write_record(&joint, wage)
        .await;
    let progress = serde_json::json!({"nt2Level": "A2"});
    gw.case_worker(AMAL).write_record(&joint, progress).await;
    // An OCMW not linked to the client tries to find it: refused, and on the client's report.
    assert_eq!(gw.case_worker(EEKLO).lookup(&ssin).await.status(), 404);

    let path = format!("/v1/audit/clients/{joint}/access-report");
    let (status, report) = review(&gw, &path).await;
    assert_eq!(status, 200);
    assert_eq!(report["clientId"], joint.as_str());
    let groups = report["groups"].as_array().unwrap();
    let keys: Vec<(String, String)> = groups
        .iter()
        .map(|g| {
            (
                g["party"].as_str().unwrap().to_owned(),
                g["purpose"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            ("ocmw-gent".to_owned(), "trajectoryGuidance".to_owned()),
            ("amal".to_owned(), "trajectoryGuidance".to_owned()),
            ("ocmw-eeklo".to_owned(), "trajectoryGuidance".to_owned()),
        ]
    );
    let amal = &groups[1];
    let actions: Vec<&str> = amal["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    // Gent's officer sees of Amal's accesses those that disclosed Gent's own field: the read
    // before Amal's write, and the write, whose answer showed the record again with
    // receivesLivingWage. Amal's registration is Amal's officer's to review.
    assert_eq!(actions, ["readClient", "updateClient"], "{actions:?}");
    assert!(
        amal["categories"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("trajectoryProgress")),
        "{amal}"
    );
    assert_eq!(groups[2]["entries"][0]["outcome"], "denied");
    assert_eq!(report["refusals"], 1);

    // The printable page for the client: Dutch, no scripts or styles, every value escaped.
    assert_eq!(read(&gw, ("ocmw-gent", "<i>sw-7</i>"), &joint).await, 200);
    let page = gw
        .session(&Caller::privacy_officer(OFFICER))
        .request(Method::GET, &path)
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<html lang=\"nl\">") && html.contains("OCMW Gent"),
        "{html}"
    );
    assert!(html.contains("&lt;i&gt;sw-7&lt;/i&gt;") && !html.contains("<i>sw-7"));
    assert!(html.contains("voortgang van het traject"));
    assert!(!html.contains("<script") && !html.contains("style"));

    // An officer of a party not linked to the client gets nothing; all requests are on record.
    let foreign_officer = Caller::privacy_officer(("ocmw-eeklo", "po-9"));
    let foreign = gw.session(&foreign_officer).get(&path).await;
    assert_eq!(foreign.status(), 404);
    let reports = gw.audit_of_action("getAccessReport").await;
    let reports: Vec<_> = reports
        .iter()
        .map(|r| (r.party_id.as_str(), r.outcome.as_str()))
        .collect();
    assert_eq!(
        reports,
        [
            ("ocmw-gent", "allowed"),
            ("ocmw-gent", "allowed"),
            ("ocmw-eeklo", "denied")
        ]
    );
}

#[tokio::test]
async fn anomalies_flag_heavy_readers_refusal_bursts_and_attempts_after_a_link_ended() {
    let gw = TestGateway::start_with(|config| {
        config.review.distinct_clients_per_hour = 3;
        config.review.refusals = 3;
    })
    .await;
    for n in 0..5 {
        let id = client(&gw, "ocmw-gent", 40 + n).await;
        assert_eq!(read(&gw, ("ocmw-gent", "sw-1"), &id).await, 200);
        let foreign = client(&gw, "ocmw-eeklo", 60 + n).await;
        assert_eq!(read(&gw, ("ocmw-eeklo", "sw-9"), &foreign).await, 200);
    }
    for n in 0..4 {
        look_up_unknown(&gw, ("ocmw-gent", "sw-2"), 80 + n).await;
    }
    let gone = client(&gw, "ocmw-gent", 90).await;
    let unlinked = gw.case_worker(("ocmw-gent", "sw-3")).unlink(&gone).await;
    assert_eq!(unlinked.status(), 204);
    assert_eq!(read(&gw, ("ocmw-gent", "sw-3"), &gone).await, 404);

    let (status, report) = review(&gw, "/v1/audit/anomalies").await;
    assert_eq!(status, 200);
    assert_eq!(report["complete"], true);
    let flags: Vec<(String, String)> = report["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] != "outsideOfficeHours")
        .map(|a| {
            (
                a["kind"].as_str().unwrap().to_owned(),
                a["user"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        flags.contains(&("manyDistinctClients".into(), "sw-1".into())),
        "{report:#}"
    );
    assert!(
        flags.contains(&("refusalBurst".into(), "sw-2".into())),
        "{report:#}"
    );
    assert!(
        flags.contains(&("afterLinkEnded".into(), "sw-3".into())),
        "{report:#}"
    );
    // Eeklo's reader is none of Gent's officer's business.
    assert!(flags.iter().all(|(_, user)| user != "sw-9"), "{report:#}");
    let heavy = report["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "manyDistinctClients")
        .unwrap();
    assert_eq!(heavy["count"], 5);
    assert_eq!(heavy["records"].as_array().unwrap().len(), 5);

    let (status, _) = review(&gw, "/v1/audit/anomalies?from=yesterday").await;
    assert_eq!(status, 400);
    let reviews = gw.outcomes_of("getAuditAnomalies").await;
    assert_eq!(reviews, ["allowed", "denied"]);
}
