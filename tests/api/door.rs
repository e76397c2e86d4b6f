//! Refusals at the door: once mutual TLS has named the party, a request refused for its token,
//! its purpose or a rate limit is on the audit log (action `authenticate`, outcome `denied`,
//! the reason), without the claims the request made; and a flood of them adds a bounded
//! number of records, each standing for a counted number of refusals.

use crate::harness::{
    AuditRow, Caller, Endpoint, TestGateway, development_ca, generated_ssin, issue, problem,
    trace_id,
};
use serde_json::json;
use std::time::{Duration, Instant};

const GENT: (&str, &str) = ("ocmw-gent", "sw-door-1");
const AMAL: (&str, &str) = ("amal", "tb-door-1");
const AUTHENTICATE: &str = "authenticate";
/// The interval over which the gateway coalesces one party's refusals for one reason.
const INTERVAL: Duration = Duration::from_secs(10);

/// The `authenticate` records of the log, in order.
async fn door_records(gw: &TestGateway) -> Vec<AuditRow> {
    gw.audit_of_action(AUTHENTICATE).await
}

#[tokio::test]
async fn refusals_at_the_door_are_on_record_for_the_party_without_the_claims_made() {
    let gw = TestGateway::start().await;
    let body = json!({ "ssin": generated_ssin(71) });
    let lookup = |caller: Caller| {
        let (gw, body) = (&gw, &body);
        async move { gw.session(&caller).post("/v1/clients/lookup", body).await }
    };
    let mut expected = Vec::new();

    let response = lookup(Caller::case_worker(GENT).without_token()).await;
    expected.push(("noAccessToken", trace_id(&response)));
    problem(response, 401, "urn:problem-type:belgif:noAccessToken").await;

    // Amal's genuine token over Gent's certificate: the request is Gent's, and nothing of
    // Amal's user reaches the record.
    let amal_over_gent = Caller::case_worker(AMAL).over_certificate_of(GENT.0);
    let response = lookup(amal_over_gent.clone()).await;
    expected.push(("invalidAccessToken", trace_id(&response)));
    problem(response, 401, "urn:problem-type:belgif:invalidAccessToken").await;

    let reviewing = Caller::case_worker(GENT).for_purpose("auditReview");
    let response = gw.session(&reviewing).post("/v1/clients", &body).await;
    expected.push(("missingScope", trace_id(&response)));
    problem(response, 403, "urn:problem-type:belgif:missingScope").await;

    let response = lookup(Caller::case_worker(GENT).without_purpose()).await;
    expected.push(("badRequest", trace_id(&response)));
    problem(response, 400, "urn:problem-type:belgif:badRequest").await;

    // The same party and reason again within the interval: counted, not yet recorded.
    let response = lookup(amal_over_gent).await;
    problem(response, 401, "urn:problem-type:belgif:invalidAccessToken").await;

    // A certificate that names no party identifies nobody to put on record.
    let stranger = issue(&development_ca(&gw.pki()), "ocmw-nowhere", |_| {});
    let response = lookup(Caller::case_worker(GENT).with_identity(&stranger.identity())).await;
    problem(
        response,
        403,
        "urn:problem-type:gateway:unknownClientCertificate",
    )
    .await;

    let rows = door_records(&gw).await;
    let found: Vec<(&str, String)> = rows
        .iter()
        .map(|row| {
            assert_eq!(row.party_id, GENT.0);
            assert_eq!(row.outcome, "denied");
            assert_eq!(row.record.user, "", "an unverified user is not recorded");
            assert_eq!(
                row.record.purpose, "",
                "an unverified purpose is not recorded"
            );
            assert!(row.record.roles.is_empty());
            assert_eq!(
                row.record.count, None,
                "the first of an interval stands for itself"
            );
            let text = String::from_utf8(row.bytes.clone()).unwrap();
            for claim in [GENT.1, AMAL.1, AMAL.0] {
                assert!(!text.contains(claim), "{claim} in {text}");
            }
            (
                row.record.reason.as_deref().unwrap(),
                row.request_id.clone(),
            )
        })
        .collect();
    let expected: Vec<(&str, String)> = expected;
    assert_eq!(found, expected);

    // When the interval ends, the refusal counted in it is recorded with its count.
    let closed = wait_for(&gw, |rows| rows.len() == expected.len() + 1).await;
    let last = closed.last().unwrap();
    assert_eq!(last.record.reason.as_deref(), Some("invalidAccessToken"));
    assert_eq!(last.record.count, Some(1));
    assert_eq!(last.record.v, 2);
    gw.stop().await;
}

#[tokio::test]
async fn ten_thousand_bad_tokens_add_a_bounded_number_of_records_that_count_them_all() {
    const FLOOD: usize = 10_000;
    const CONCURRENCY: usize = 32;
    let gw = TestGateway::start().await;
    let session =
        std::sync::Arc::new(gw.session(&Caller::case_worker(GENT).with_token("not.a.token")));
    let before = gw.audit_rows().await.len();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..CONCURRENCY {
        let session = session.clone();
        tasks.spawn(async move {
            let mut statuses = Vec::new();
            for _ in (worker..FLOOD).step_by(CONCURRENCY) {
                let response = session.get("/v1/whoami").await;
                statuses.push(response.status().as_u16());
            }
            statuses
        });
    }
    let mut refused = 0;
    while let Some(statuses) = tasks.join_next().await {
        let statuses = statuses.unwrap();
        assert!(
            statuses.iter().all(|s| *s == 401 || *s == 429),
            "{statuses:?}"
        );
        refused += statuses.len();
    }
    assert_eq!(refused, FLOOD);
    let elapsed = started.elapsed();

    // Every refusal is accounted for once the last interval has closed.
    let counted =
        |rows: &[AuditRow]| -> u64 { rows.iter().map(|r| r.record.count.unwrap_or(1)).sum() };
    let rows = wait_for(&gw, |rows| counted(rows) == FLOOD as u64).await;
    // At most two records per party, reason and interval: the first and the count.
    let reasons: std::collections::BTreeSet<_> =
        rows.iter().map(|r| r.record.reason.clone()).collect();
    let intervals = elapsed.as_secs() / INTERVAL.as_secs() + 2;
    let bound = 2 * reasons.len() * intervals as usize;
    assert!(
        rows.len() <= bound,
        "{} records for {FLOOD} refusals in {elapsed:?} (bound {bound})",
        rows.len()
    );
    assert_eq!(gw.audit_rows().await.len() - before, rows.len());
    gw.stop().await;
}

/// The door records once `done` holds for them, waiting past the coalescing interval.
async fn wait_for(gw: &TestGateway, done: impl Fn(&[AuditRow]) -> bool) -> Vec<AuditRow> {
    let deadline = Instant::now() + INTERVAL + Duration::from_secs(10);
    loop {
        let rows = door_records(gw).await;
        if done(&rows) {
            return rows;
        }
        assert!(
            Instant::now() < deadline,
            "the door records never settled: {rows:#?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
