//! Audit-log throughput on this machine, measured in one run against its own baseline:
//!
//! - audited appends per second with group commit (many requests share one durable commit)
//!   against one commit — one fsync — per request (`max_batch = 1`), same concurrency;
//! - `audit verify` records per second over a log of `--records` records (default 1 000 000).
//!
//! `cargo bench --bench audit_log [-- --records N --seconds S --concurrency C]`
//! Uses SQLite in a temporary directory with `synchronous=FULL`, as the gateway does.

use gateway::audit::record::{AuditDraft, Outcome};
use gateway::config::{AuditConfig, DatabaseConfig};
use gateway::crypto::keyring::{Configured, Ring, RingKind};
use gateway::gate::log::{signing, tree, verify};
use gateway::store::audit_writer::AuditWriter;
use gateway::store::connect::connect;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

struct Args {
    records: u64,
    seconds: u64,
    concurrency: usize,
}

fn args() -> Args {
    let mut parsed = Args {
        records: 1_000_000,
        seconds: 5,
        concurrency: 64,
    };
    let raw: Vec<String> = std::env::args().collect();
    for pair in raw.windows(2) {
        match pair[0].as_str() {
            "--records" => parsed.records = pair[1].parse().expect("--records N"),
            "--seconds" => parsed.seconds = pair[1].parse().expect("--seconds S"),
            "--concurrency" => parsed.concurrency = pair[1].parse().expect("--concurrency C"),
            _ => {}
        }
    }
    parsed
}

fn draft(i: u64) -> AuditDraft {
    AuditDraft {
        party: "ocmw-gent".into(),
        user: format!("user-{}", i % 97),
        roles: vec!["caseWorker".into()],
        purpose: "trajectoryGuidance".into(),
        legal_basis: Some("publicTask".into()),
        client: Some(uuid::Uuid::new_v4().to_string()),
        clients: vec![],
        action: "lookupClient",
        fields: vec![],
        outcome: Outcome::Allowed,
        reason: None,
        count: None,
        request_id: uuid::Uuid::now_v7().to_string(),
        related_trace_id: None,
        policy_version: "bench".into(),
    }
}

fn database(dir: &std::path::Path, name: &str) -> DatabaseConfig {
    DatabaseConfig {
        url: format!("sqlite://{}", dir.join(name).display()),
        schema: None,
        max_connections: 4,
        migrate_url: None,
        require_least_privilege: false,
    }
}

/// Appends from `concurrency` tasks for `seconds`, each waiting for its record to be durable.
async fn appends_per_second(
    dir: &std::path::Path,
    name: &str,
    max_batch: usize,
    args: &Args,
) -> f64 {
    let db = connect(&database(dir, name)).await.expect("database");
    db.migrate().await.expect("migrations");
    let writer = AuditWriter::spawn(db.clone(), max_batch, Arc::new(Notify::new()));
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let tasks: Vec<_> = (0..args.concurrency)
        .map(|t| {
            let (writer, done) = (writer.clone(), done.clone());
            tokio::spawn(async move {
                let mut i = t as u64;
                while Instant::now() < deadline {
                    writer.submit(None, draft(i)).await.expect("append");
                    done.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
            })
        })
        .collect();
    let started = Instant::now();
    for task in tasks {
        task.await.expect("task");
    }
    let rate = done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    db.close().await;
    rate
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = args();
    let dir = tempfile::tempdir().expect("temp dir");
    println!(
        "audit log benchmark — SQLite (WAL, synchronous=FULL), {} concurrent requests",
        args.concurrency
    );

    let single = appends_per_second(dir.path(), "single.db", 1, &args).await;
    let grouped = appends_per_second(dir.path(), "grouped.db", 1024, &args).await;
    println!(
        "{:<44} {:>12.0} records/s",
        "one commit per request (baseline)", single
    );
    println!(
        "{:<44} {:>12.0} records/s  ({:.1}x)",
        "group commit",
        grouped,
        grouped / single
    );

    // A log of `records` records, hashed into its tree and checkpointed, then verified.
    let db = connect(&database(dir.path(), "verify.db"))
        .await
        .expect("database");
    db.migrate().await.expect("migrations");
    let appended = Arc::new(Notify::new());
    let writer = AuditWriter::spawn(db.clone(), 4096, appended.clone());
    let fill_started = Instant::now();
    let per_task = args.records / 64;
    let tasks: Vec<_> = (0..64)
        .map(|t| {
            let writer = writer.clone();
            tokio::spawn(async move {
                for i in 0..per_task {
                    writer
                        .submit(None, draft(t * per_task + i))
                        .await
                        .expect("append");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    let total = per_task * 64;
    println!(
        "{:<44} {:>12.0} records/s  ({} records)",
        "filling the log",
        total as f64 / fill_started.elapsed().as_secs_f64(),
        total
    );

    let key_file = dir.path().join("audit-signing.key");
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).expect("key");
    std::fs::write(&key_file, key.serialize_pem()).expect("key file");
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).expect("mode");
    let ring = Ring {
        dir: dir.path().join("keyring"),
        kind: RingKind::AuditSigning,
        configured: Configured {
            id: "audit-signing".into(),
            file: key_file.clone(),
        },
    };
    let signing = Arc::new(signing::follow(ring, "bench.invalid/audit").expect("signer"));
    let verifiers = signing.current().verifiers().to_vec();
    let config = AuditConfig {
        log_name: "bench.invalid/audit".into(),
        signing_key: key_file,
        checkpoint_every_records: 100_000,
        checkpoint_every_ms: 3_600_000,
        max_batch: 4096,
        review_all_parties: Vec::new(),
        state_file: Some(dir.path().join("audit-state.checkpoint")),
    };
    let hashing_started = Instant::now();
    let handle = tree::start(db.clone(), signing, &config, appended, writer.clone())
        .await
        .expect("tree");
    handle.checkpoint().await.expect("checkpoint");
    println!(
        "{:<44} {:>12.0} records/s",
        "tree follower (hash + store nodes)",
        total as f64 / hashing_started.elapsed().as_secs_f64()
    );

    let verify_started = Instant::now();
    let verified = verify::verify(&db, &verifiers, "bench.invalid/audit")
        .await
        .expect("the log verifies");
    let seconds = verify_started.elapsed().as_secs_f64();
    println!(
        "{:<44} {:>12.0} records/s  ({} records, {} checkpoints, {:.2} s)",
        "audit verify",
        verified.records as f64 / seconds,
        verified.records,
        verified.checkpoints,
        seconds
    );
}
