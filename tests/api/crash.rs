//! A gateway killed with SIGKILL in the middle of a load loses nothing it acknowledged: every
//! registration answered with a 2xx is there after a restart, with its audit record, and the
//! audit log still verifies.

use crate::harness::{
    Deployment, Endpoint, assert_gapless, client_id, registration, ssin, trace_id, verify_ok,
};
use reqwest::Method;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TASKS: u32 = 16;
/// Each task's bound, far above what it can send before the kill.
const PER_TASK: u32 = 5_000;
/// The parties that may register clients with the purpose `trajectoryGuidance`; spreading the
/// load over them keeps it under each party's rate limit.
const PARTIES: [&str; 3] = ["ocmw-gent", "ocmw-eeklo", "amal"];

/// A registration the gateway acknowledged before it died.
struct Acknowledged {
    party: &'static str,
    ssin: String,
    client_id: String,
    trace_id: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_acknowledged_before_a_kill_survive_the_restart_with_their_audit_records() {
    let deployment = Arc::new(Deployment::new());
    let gateway = deployment.start().await;

    let acknowledged = Arc::new(Mutex::new(Vec::<Acknowledged>::new()));
    let answered = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let party = PARTIES[task as usize % PARTIES.len()];
        // One user per task: the per-user rate limit is not what is under test.
        let caller = gateway.case_worker((party, &format!("load-{task}")));
        let (acknowledged, answered, failed, killed) = (
            acknowledged.clone(),
            answered.clone(),
            failed.clone(),
            killed.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for i in 0..PER_TASK {
                if killed.load(Ordering::Relaxed) {
                    break;
                }
                let person = ssin(task * PER_TASK + i);
                let body = registration(&person);
                match caller
                    .try_send(Method::POST, "/v1/clients", Some(&body))
                    .await
                {
                    Ok(response) if response.status().is_success() => {
                        let trace = trace_id(&response);
                        let status = response.status();
                        // A body cut off by the kill is not an acknowledgement.
                        let Ok(body) = response.json::<Value>().await else {
                            continue;
                        };
                        assert_eq!(status, 201, "a fresh SSIN is a new client: {body}");
                        acknowledged.lock().unwrap().push(Acknowledged {
                            party,
                            ssin: person,
                            client_id: body["clientId"].as_str().unwrap().to_owned(),
                            trace_id: trace,
                        });
                        answered.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(response) => {
                        // Being throttled is the gateway doing its job, not a failure.
                        assert!(
                            response.status() == 429 || killed.load(Ordering::Relaxed),
                            "unexpected refusal {}",
                            response.status()
                        );
                        answered.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) if killed.load(Ordering::Relaxed) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(error) => panic!("a request failed before the kill: {error}"),
                }
            }
        }));
    }

    // Kill once the load is well under way (bounded), not after a fixed sleep: on a slow
    // machine a fixed sleep might kill before the first answer.
    let deadline = Instant::now() + Duration::from_secs(30);
    while answered.load(Ordering::Relaxed) < 300 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    killed.store(true, Ordering::Relaxed);
    let crashed = gateway.kill();
    assert!(!crashed.status.success(), "{crashed}");
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .expect("the load stops after the kill")
            .expect("a load task panicked");
    }
    let acknowledged = std::mem::take(&mut *acknowledged.lock().unwrap());
    eprintln!(
        "killed with {} registrations acknowledged and {} requests cut off",
        acknowledged.len(),
        failed.load(Ordering::Relaxed)
    );
    assert!(
        acknowledged.len() >= 100,
        "too little load before the kill: {} acknowledged",
        acknowledged.len()
    );
    assert!(
        failed.load(Ordering::Relaxed) > 0,
        "no request was cut off, so the kill did not land during the load"
    );

    // The same directory, configuration and database.
    let gateway = deployment.start().await;
    let acknowledged = Arc::new(acknowledged);
    let mut checks = Vec::new();
    for task in 0..TASKS as usize {
        let acknowledged = acknowledged.clone();
        let callers: HashMap<&str, _> = PARTIES
            .iter()
            .map(|&party| {
                (
                    party,
                    gateway.case_worker((party, &format!("check-{task}"))),
                )
            })
            .collect();
        checks.push(tokio::spawn(async move {
            for ack in acknowledged.iter().skip(task).step_by(TASKS as usize) {
                let response = callers[ack.party].lookup(&ack.ssin).await;
                assert_eq!(
                    response.status(),
                    200,
                    "acknowledged registration {} is gone after the restart",
                    ack.trace_id
                );
                assert_eq!(client_id(response).await, ack.client_id);
            }
        }));
    }
    for check in checks {
        tokio::time::timeout(Duration::from_secs(300), check)
            .await
            .expect("the look-ups finish")
            .expect("a look-up check failed");
    }
    gateway.stop().await;

    let db = deployment.database().await;
    let rows = db.audit_rows().await;
    assert_gapless(&rows);
    let by_request: HashMap<&str, _> = rows.iter().map(|r| (r.request_id.as_str(), r)).collect();
    for ack in acknowledged.iter() {
        let row = by_request
            .get(ack.trace_id.as_str())
            .unwrap_or_else(|| panic!("no audit record for acknowledged {}", ack.trace_id));
        assert_eq!(row.action, "registerClient");
        assert_eq!(row.outcome, "allowed");
        assert_eq!(row.client_id.as_deref(), Some(ack.client_id.as_str()));
        let record: Value = serde_json::from_slice(&row.bytes).unwrap();
        assert_eq!(record["requestId"], ack.trace_id.as_str());
        assert_eq!(record["party"], ack.party);
        assert_eq!(record["client"], ack.client_id.as_str());
    }
    // A change and its record commit together: no client exists that the log does not show
    // being registered, acknowledged or not.
    let clients = db.strings("SELECT client_id FROM clients").await;
    for client in &clients {
        assert!(
            rows.iter().any(|r| r.action == "registerClient"
                && r.outcome == "allowed"
                && r.client_id.as_ref() == Some(client)),
            "client {client} has no registration on record"
        );
    }
    db.close().await;

    let (records, _checkpoints) = verify_ok(&deployment);
    assert_eq!(records, rows.len() as u64);

    // The export carries every acknowledged request.
    let export = deployment.cli(&["audit", "export", "--format", "jsonl"]);
    assert!(export.status.success(), "audit export failed\n{export}");
    let exported: HashMap<String, Value> = export
        .stdout
        .lines()
        .map(|line| {
            let record: Value = serde_json::from_str(line).expect("one JSON record per line");
            (record["requestId"].as_str().unwrap().to_owned(), record)
        })
        .collect();
    assert_eq!(exported.len(), rows.len());
    for ack in acknowledged.iter() {
        assert_eq!(exported[&ack.trace_id]["client"], ack.client_id.as_str());
    }
}
