//! Two gateway processes on one PostgreSQL schema write one audit log: one total order without
//! gaps or duplicates, a record for every request, and a log that verifies. (SQLite is
//! embedded and single-instance, so this runs only with TEST_DATABASE_URL.)

use crate::harness::{
    Deployment, Endpoint, GatewayProcess, Session, assert_gapless, client_id, ssin, trace_id,
    verify_ok,
};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

const PEOPLE: u32 = 300;
const TASKS_PER_INSTANCE: u32 = 8;

/// Registers `PEOPLE` people through `callers`, concurrently; returns each person's client id
/// and every trace id.
async fn register_all(callers: Vec<Session>) -> (HashMap<String, String>, Vec<String>) {
    let tasks = callers.len() as u32;
    let mut handles = Vec::new();
    for (task, caller) in callers.into_iter().enumerate() {
        handles.push(tokio::spawn(async move {
            let mut done = Vec::new();
            for n in (task as u32..PEOPLE).step_by(tasks as usize) {
                let person = ssin(n);
                let response = caller.register(&person).await;
                let trace = trace_id(&response);
                assert_eq!(response.status(), 201, "request {trace}");
                done.push((person, client_id(response).await, trace));
            }
            done
        }));
    }
    let mut clients = HashMap::new();
    let mut traces = Vec::new();
    for handle in handles {
        let done = tokio::time::timeout(Duration::from_secs(300), handle)
            .await
            .expect("the registrations finish")
            .expect("a registration task failed");
        for (person, client, trace) in done {
            clients.insert(person, client);
            traces.push(trace);
        }
    }
    (clients, traces)
}

fn postgres() -> bool {
    let configured = std::env::var("TEST_DATABASE_URL").is_ok_and(|url| !url.is_empty());
    if !configured {
        eprintln!("skipped: several instances need PostgreSQL (set TEST_DATABASE_URL)");
    }
    configured
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_started_at_once_on_a_fresh_database_all_come_up() {
    if !postgres() {
        return;
    }
    // A rollout starts its replicas together, and on a new database each of them tries to
    // create the schema and apply the migrations. The race is narrow, so it gets many chances.
    for _ in 0..20 {
        let deployment = Arc::new(Deployment::new());
        let starts: Vec<_> = ["a", "b", "c", "d"]
            .into_iter()
            .map(|name| {
                let deployment = deployment.clone();
                let file = deployment.another_instance(name);
                tokio::spawn(async move { deployment.start_from(&file, "info").await })
            })
            .collect();
        let mut failure = None;
        for start in starts {
            match start.await {
                Ok(gateway) => {
                    gateway.stop().await;
                }
                Err(error) => failure = Some(error),
            }
        }
        if let Some(error) = failure {
            std::panic::resume_unwind(error.into_panic());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_database_write_one_gapless_verifiable_audit_log() {
    if !postgres() {
        return;
    }
    let deployment = Arc::new(Deployment::new());
    // One after the other: starting at once on a fresh schema is the next test's subject.
    let first = deployment.start().await;
    let second = deployment
        .start_from(&deployment.another_instance("second"), "info")
        .await;

    // The same people through both instances at once, by different parties: the two
    // processes contend for the same client rows as well as for the log head.
    let callers = |gateway: &GatewayProcess, party| -> Vec<Session> {
        (0..TASKS_PER_INSTANCE)
            .map(|task| gateway.case_worker((party, &format!("{party}-{task}"))))
            .collect()
    };
    let (through_first, through_second) = tokio::join!(
        register_all(callers(&first, "ocmw-gent")),
        register_all(callers(&second, "amal")),
    );
    first.stop().await;
    second.stop().await;

    let (clients_first, traces_first) = through_first;
    let (clients_second, traces_second) = through_second;
    assert_eq!(clients_first.len(), PEOPLE as usize);
    assert_eq!(
        clients_first, clients_second,
        "one person must be one client, whichever instance registered it first"
    );

    let db = deployment.database().await;
    let instances = db.count("SELECT COUNT(*) FROM gateway_instances").await;
    assert_eq!(instances, 2);
    let rows = db.audit_rows().await;
    db.close().await;
    assert_gapless(&rows);
    let requests: HashSet<&String> = traces_first.iter().chain(&traces_second).collect();
    assert_eq!(requests.len(), 2 * PEOPLE as usize);
    assert_eq!(rows.len(), requests.len(), "one record per request");
    let recorded: HashSet<&String> = rows.iter().map(|row| &row.request_id).collect();
    assert_eq!(recorded, requests);

    let (records, _checkpoints) = verify_ok(&deployment);
    assert_eq!(records, rows.len() as u64);
}
