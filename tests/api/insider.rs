//! An insider with the database's credentials, attacking the audit log: every attack is
//! either refused at the statement (append-only triggers) or detected (the gateway refuses to
//! start, saying what it found; `audit verify --checkpoint` fails, naming the first bad record
//! or the inconsistency), against the checkpoint the gateway keeps outside the database and
//! one a party keeps.

use crate::harness::process::Finished;
use crate::harness::{Caller, Deployment, Endpoint, TestDb, TestGateway, ssin, verify_ok};
use std::path::PathBuf;

/// A deployment with some history and a checkpoint over it, kept by a party in a file; the
/// gateway is stopped. The file and the checkpoint's tree size.
async fn history(deployment: &Deployment, clients: std::ops::Range<u32>) -> (PathBuf, u64) {
    let gateway = deployment.start().await;
    let worker = gateway.case_worker(("ocmw-gent", "sw-insider"));
    for n in clients {
        assert_eq!(worker.register(&ssin(n)).await.status(), 201);
    }
    let officer = gateway.session(&Caller::privacy_officer(("ocmw-gent", "po-1")));
    let response = officer.get("/v1/audit/checkpoint").await;
    assert_eq!(response.status(), 200);
    let note = response.text().await.unwrap();
    let size: u64 = note.lines().nth(1).unwrap().parse().unwrap();
    gateway.stop().await;
    // A party's copy, somewhere else than the database (the deployment's directory will do).
    let state = deployment.config.audit.state_file();
    let file = state.with_file_name(format!("party-checkpoint-{size}.txt"));
    std::fs::write(&file, note).unwrap();
    (file, size)
}

/// Runs the SQL of the database's backend; the database's answer.
async fn insider(db: &TestDb, sqlite: &'static str, postgres: &'static str) -> Result<(), String> {
    let sql = if db.is_postgres() { postgres } else { sqlite };
    db.execute(sql).await.map_err(|e| e.to_string())
}

/// The test database runs static SQL; a statement built here lives as long as the test.
fn leak(sql: String) -> &'static str {
    Box::leak(sql.into_boxed_str())
}

/// `gateway serve` must refuse to start, and say why.
fn assert_start_refused(deployment: &Deployment, saying: &str) -> Finished {
    let serve = deployment.cli(&["serve"]);
    assert!(!serve.status.success(), "the gateway started\n{serve}");
    let said = serve.all_output();
    assert!(said.contains("does not extend the checkpoint"), "{serve}");
    assert!(said.contains(saying), "not saying {saying:?}\n{serve}");
    serve
}

/// `gateway audit verify <args>` must fail, naming `naming`.
fn assert_verify_fails(deployment: &Deployment, args: &[&str], naming: &str) {
    let mut all = vec!["audit", "verify"];
    all.extend_from_slice(args);
    let verified = deployment.cli(&all);
    assert_eq!(verified.status.code(), Some(1), "{verified}");
    assert!(
        verified.stderr.contains(naming),
        "not naming {naming:?}\n{verified}"
    );
}

#[tokio::test]
async fn no_statement_form_rewrites_or_removes_a_row_of_the_log_its_tree_or_its_checkpoints() {
    let deployment = Deployment::new();
    let (_, size) = history(&deployment, 0..6).await;
    let db = deployment.database().await;
    let before = db.audit_rows().await;
    let attacks: [(&'static str, &'static str); 9] = [
        (
            "INSERT OR REPLACE INTO audit_log SELECT seq, recorded_at, party_id, user_id, client_id, action, outcome, request_id, X'00' FROM audit_log WHERE seq = 5",
            "INSERT INTO audit_log SELECT seq, recorded_at, party_id, user_id, client_id, action, outcome, request_id, '\\x00' FROM audit_log WHERE seq = 5 ON CONFLICT (seq) DO UPDATE SET record = excluded.record",
        ),
        (
            "REPLACE INTO audit_log SELECT seq, recorded_at, party_id, user_id, client_id, action, outcome, request_id, X'00' FROM audit_log WHERE seq = 5",
            "UPDATE audit_log SET record = '\\x00' WHERE seq = 5",
        ),
        (
            "INSERT INTO audit_log SELECT seq, recorded_at, party_id, user_id, client_id, action, outcome, request_id, X'00' FROM audit_log WHERE seq = 5 ON CONFLICT (seq) DO UPDATE SET record = excluded.record",
            "DELETE FROM audit_log WHERE seq = 5",
        ),
        (
            "INSERT OR REPLACE INTO audit_nodes SELECT level, idx, zeroblob(32) FROM audit_nodes WHERE level = 0 AND idx = 5",
            "INSERT INTO audit_nodes SELECT level, idx, '\\x00' FROM audit_nodes WHERE level = 0 AND idx = 5 ON CONFLICT (level, idx) DO UPDATE SET hash = excluded.hash",
        ),
        ("DELETE FROM audit_nodes", "TRUNCATE audit_nodes"),
        (
            "INSERT OR REPLACE INTO audit_checkpoints SELECT tree_size, zeroblob(32), note, created_at FROM audit_checkpoints",
            "UPDATE audit_checkpoints SET root_hash = '\\x00'",
        ),
        (
            "DELETE FROM audit_checkpoints",
            "TRUNCATE audit_checkpoints CASCADE",
        ),
        (
            "UPDATE audit_head SET next_seq = 3",
            "UPDATE audit_head SET next_seq = 3",
        ),
        (
            "INSERT OR REPLACE INTO audit_head (id, next_seq) VALUES (1, 3)",
            "DELETE FROM audit_head",
        ),
    ];
    for (sqlite, postgres) in attacks {
        let refused = insider(&db, sqlite, postgres).await;
        let error = refused.expect_err(if db.is_postgres() { postgres } else { sqlite });
        assert!(
            error.contains("append-only") || error.contains("only moves forward"),
            "{error}"
        );
    }
    assert_eq!(db.audit_rows().await.len(), before.len());
    db.close().await;
    let (records, checkpoints) = verify_ok(&deployment);
    assert!(records >= size && checkpoints >= 1);
}

#[tokio::test]
async fn deleting_the_tree_and_the_checkpoints_is_found_at_the_next_start() {
    let deployment = Deployment::new();
    let (file, size) = history(&deployment, 0..5).await;
    let db = deployment.database().await;
    // The insider removes what protects the rows, then the tree and the checkpoints, hoping
    // that the gateway rebuilds them and signs over whatever the records now say.
    insider(
        &db,
        "DROP TRIGGER audit_nodes_no_delete; DROP TRIGGER audit_checkpoints_no_delete; \
         DELETE FROM audit_nodes; DELETE FROM audit_checkpoints",
        "ALTER TABLE audit_nodes DISABLE TRIGGER USER; ALTER TABLE audit_checkpoints DISABLE TRIGGER USER; \
         DELETE FROM audit_nodes; DELETE FROM audit_checkpoints",
    )
    .await
    .unwrap();
    db.close().await;
    assert_start_refused(
        &deployment,
        &format!("checkpoint signed at {size} is missing"),
    );
    // The records themselves were not touched: a party's checkpoint still verifies.
    let verified = deployment.cli(&["audit", "verify", "--checkpoint", file.to_str().unwrap()]);
    assert!(verified.status.success(), "{verified}");
}

#[tokio::test]
async fn a_record_edited_past_a_dropped_trigger_is_named_against_a_partys_checkpoint() {
    let deployment = Deployment::new();
    let (file, size) = history(&deployment, 0..6).await;
    let db = deployment.database().await;
    let rows = db.audit_rows().await;
    let seq = size / 2;
    let mut altered = rows[seq as usize].bytes.clone();
    let at = altered.iter().position(|b| *b == b'"').unwrap() + 1;
    altered[at] ^= 0x20;
    insider(
        &db,
        "DROP TRIGGER audit_log_no_update",
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update",
    )
    .await
    .unwrap();
    assert_eq!(db.overwrite_record(seq as i64, &altered).await, 1);
    db.close().await;
    let checkpoint = file.to_str().unwrap();
    assert_verify_fails(
        &deployment,
        &["--checkpoint", checkpoint],
        &format!("record {seq}:"),
    );
}

#[tokio::test]
async fn a_restored_older_copy_of_the_database_is_found_at_start_and_by_verify() {
    let deployment = Deployment::new();
    let (_, early) = history(&deployment, 0..3).await;
    let copy = OlderCopy::take(&deployment, early).await;
    let (file, late) = history(&deployment, 3..6).await;
    assert!(late > early);
    copy.restore(&deployment).await;
    assert_start_refused(&deployment, "older copy of the database was restored");
    let checkpoint = file.to_str().unwrap();
    assert_verify_fails(
        &deployment,
        &["--checkpoint", checkpoint],
        "records were removed or an older copy of the database was restored",
    );
}

/// A copy of the database taken now, restored later. SQLite: the file itself (`VACUUM
/// INTO`). PostgreSQL: the log tables as the copy had them, the rows appended since removed
/// and the head set back, which is what a restore of the copy leaves of the log.
enum OlderCopy {
    File(PathBuf),
    LogOf(u64),
}

impl OlderCopy {
    async fn take(deployment: &Deployment, records: u64) -> Self {
        let db = deployment.database().await;
        let copy = if db.is_postgres() {
            Self::LogOf(records)
        } else {
            let file = deployment
                .config
                .audit
                .state_file()
                .with_file_name("older.db");
            let vacuum = format!("VACUUM INTO '{}'", file.display());
            db.execute(leak(vacuum)).await.unwrap();
            Self::File(file)
        };
        db.close().await;
        copy
    }

    async fn restore(self, deployment: &Deployment) {
        match self {
            Self::File(copy) => {
                let url = &deployment.config.database.url;
                let live = PathBuf::from(url.strip_prefix("sqlite://").unwrap());
                for suffix in ["-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", live.display()));
                }
                std::fs::copy(copy, live).unwrap();
            }
            Self::LogOf(early) => {
                let db = deployment.database().await;
                let restore = format!(
                    "ALTER TABLE audit_log DISABLE TRIGGER USER; ALTER TABLE audit_nodes DISABLE TRIGGER USER; \
                     ALTER TABLE audit_checkpoints DISABLE TRIGGER USER; ALTER TABLE audit_head DISABLE TRIGGER USER; \
                     DELETE FROM audit_log WHERE seq >= {early}; \
                     DELETE FROM audit_nodes WHERE (idx + 1) * (1 << level) > {early}; \
                     DELETE FROM audit_checkpoints WHERE tree_size > {early}; \
                     UPDATE audit_head SET next_seq = {early}"
                );
                db.execute(leak(restore)).await.unwrap();
                db.close().await;
            }
        }
    }
}

#[tokio::test]
async fn verification_without_an_anchor_says_so_and_fails_when_strict() {
    let deployment = Deployment::new();
    history(&deployment, 0..2).await;
    let anchored = deployment.cli(&["audit", "verify", "--strict"]);
    assert!(anchored.status.success(), "{anchored}");
    assert!(
        anchored.stdout.contains("extends the state file"),
        "{anchored}"
    );
    std::fs::remove_file(deployment.config.audit.state_file()).unwrap();
    let loose = deployment.cli(&["audit", "verify"]);
    assert!(loose.status.success(), "{loose}");
    assert!(
        loose
            .stderr
            .contains("warning: no anchor outside the database"),
        "{loose}"
    );
    assert_verify_fails(&deployment, &["--strict"], "nothing anchors the log");
}

#[tokio::test]
async fn a_history_rewritten_under_a_running_gateway_stops_it_before_it_signs_again() {
    let gw = TestGateway::start().await;
    let worker = gw.case_worker(("ocmw-gent", "sw-live"));
    for n in 1..4 {
        assert_eq!(worker.register(&ssin(n)).await.status(), 201);
    }
    let officer = gw.session(&Caller::privacy_officer(("ocmw-gent", "po-1")));
    assert_eq!(officer.get("/v1/audit/checkpoint").await.status(), 200);
    let db = gw.db().await;
    insider(
        &db,
        "DROP TRIGGER audit_checkpoints_no_delete; DELETE FROM audit_checkpoints",
        "ALTER TABLE audit_checkpoints DISABLE TRIGGER USER; DELETE FROM audit_checkpoints",
    )
    .await
    .unwrap();
    db.close().await;
    // Appends go on until the gateway next signs: it checks its anchor first, and stops.
    assert_eq!(worker.register(&ssin(4)).await.status(), 201);
    assert_eq!(officer.get("/v1/audit/checkpoint").await.status(), 503);
    assert_eq!(worker.register(&ssin(5)).await.status(), 503);
    let ready = gw.ops_get("/readyz").await;
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["checks"]["auditAnchor"], false, "{body}");
    let found = body["problem"].as_str().unwrap_or_default();
    assert!(found.contains("is missing from the database"), "{body}");
}
