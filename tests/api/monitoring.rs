//! The yearly monitoring (SWO art. 16): counts of a scripted year, small cells shown as `<5`,
//! no total that gives a suppressed cell away, no person in the answer, coordinators only.

use crate::harness::{
    AMAL, Caller, Endpoint, GENT, TestGateway, attest, client_id, generated_ssin, joint_client,
    notify_attest,
};
use serde_json::Value;

async fn monitoring(gw: &TestGateway, roles: &[&str], query: &str) -> (u16, Value) {
    let coordinator = gw.session(&Caller::new("amal", roles, "coord-1", "monitoring"));
    let path = format!("/v1/reports/monitoring?{query}");
    let response = coordinator.get(&path).await;
    assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
    crate::harness::callers::status_and_body(response).await
}

fn cell(breakdown: &Value, name: &str) -> Value {
    breakdown["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c[0] == name)
        .map(|c| c[1].clone())
        .unwrap()
}

/// Every breakdown in the report, the referrals' included.
fn breakdowns(report: &Value) -> Vec<Value> {
    let mut all: Vec<Value> = [
        "jointClientsByStatus",
        "jointClientsByDirection",
        "jointClientsBySanctionAuthority",
        "attests",
        "participation",
    ]
    .iter()
    .map(|k| report[*k].clone())
    .collect();
    for pair in report["referrals"].as_array().unwrap() {
        all.push(pair[1].clone());
    }
    all
}

#[tokio::test]
async fn a_year_of_joint_clients_is_counted_with_small_cells_suppressed_swo_art_16() {
    let gw = TestGateway::start().await;
    let amal = gw.case_worker(AMAL);
    let mut ids = Vec::new();
    for (n, status) in (1..=6)
        .map(|n| (n, "obligated"))
        .chain((7..=11).map(|n| (n, "entitled")))
        .chain([(12, "none")])
    {
        let client = joint_client(&gw, n).await;
        let patch = serde_json::json!({"integrationStatus": status});
        amal.write_record(&client, patch).await;
        ids.push(client);
    }
    // Clients of one party only are not joint clients.
    let gent = gw.case_worker(GENT);
    for n in 20..23 {
        ids.push(client_id(gent.register(&generated_ssin(n)).await).await);
    }
    let year = time::OffsetDateTime::now_utc().year();
    let issued_on = format!("{year}-01-02");
    let attest = attest(&generated_ssin(1), "KBI-M-1", &issued_on);
    let (status, _) = notify_attest(&gw, &attest).await;
    assert!((200..300).contains(&status));

    let (status, report) = monitoring(&gw, &["coordinator"], &format!("year={year}")).await;
    assert_eq!(status, 200, "{report}");
    let by_status = &report["jointClientsByStatus"];
    assert_eq!(by_status["total"], 12);
    assert_eq!(cell(by_status, "obligated"), 6);
    assert_eq!(cell(by_status, "none"), "<5");
    // 12 − 6 − 0 would give the single small cell away: the next smallest is hidden too.
    assert_eq!(cell(by_status, "entitled"), "suppressed");
    assert_eq!(cell(by_status, "unknown"), 0);
    let direction = &report["jointClientsByDirection"];
    assert_eq!(cell(direction, "integrationAgency"), 12);
    assert_eq!(cell(direction, "ocmw"), 0);
    assert_eq!(report["attests"]["total"], "<5");
    assert_eq!(cell(&report["attests"], "integrationAttest"), "<5");

    // No breakdown shows its total with exactly one hidden cell, and no person is named.
    for breakdown in breakdowns(&report) {
        let hidden = breakdown["cells"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c[1].is_string())
            .count();
        assert!(
            !(hidden == 1 && breakdown["total"].is_number()),
            "{breakdown}"
        );
    }
    let text = report.to_string();
    assert!(ids.iter().all(|id| !text.contains(id.as_str())));

    // Coordinators only; a bad year is refused; both are on record.
    let (status, _) = monitoring(&gw, &["caseWorker"], &format!("year={year}")).await;
    assert_eq!(status, 403);
    let (status, _) = monitoring(&gw, &["coordinator"], "year=1999").await;
    assert_eq!(status, 400);
    let reports = gw.audit_of_action("getMonitoringReport").await;
    let reports: Vec<_> = reports
        .iter()
        .map(|r| (r.outcome.as_str(), r.client_id.is_none()))
        .collect();
    assert_eq!(reports, [("allowed", true), ("denied", true)]);
}
