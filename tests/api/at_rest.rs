//! Nothing readable at rest: what the API writes is sealed in the database (its bytes hold
//! none of it, on SQLite with its WAL and in a PostgreSQL dump); the SQLite database and its
//! WAL are created owner-only; the gateway refuses to start on a secret key file that group or
//! others may read, naming the file.

use crate::harness::{Deployment, Endpoint, GENT, generated_ssin, joint_client};
use reqwest::Method;
use serde_json::json;
use std::os::unix::fs::PermissionsExt;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn the_database_files_are_owner_only_and_an_exposed_key_stops_the_start() {
    let mut deployment = Deployment::new();
    if !deployment.config.database.url.starts_with("sqlite:") {
        return; // PostgreSQL keeps its own files.
    }
    let database = deployment.path().join("data").join("gateway.db");
    let url = format!("sqlite://{}", database.display());
    deployment.change(|config| config.database.url = url);
    let config = deployment.config.clone();
    let gateway = deployment.start().await;
    let worker = gateway.case_worker(("ocmw-gent", "sw-at-rest"));
    assert_eq!(worker.register(&generated_ssin(31)).await.status(), 201);
    assert_eq!(mode(database.parent().unwrap()), 0o700);
    assert_eq!(mode(&database), 0o600);
    let wal = database.with_extension("db-wal");
    assert_eq!(
        mode(&wal),
        0o600,
        "SQLite gives the WAL the database file's mode"
    );
    gateway.stop().await;

    for key in [
        config.keys.encryption_key.clone(),
        config.keys.pseudonym_key.clone(),
        config.audit.signing_key.clone(),
        config.server.tls_key.clone(),
    ] {
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
        let refused = deployment.cli(&["serve"]);
        assert!(!refused.status.success(), "{refused}");
        assert!(
            refused.stderr.contains(&key.display().to_string())
                && refused.stderr.contains("readable by group or others"),
            "{refused}"
        );
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

/// Values no other part of a deployment contains: a living-wage date, a referral's reason.
const RARE_DATE: &str = "2011-07-13";
const RARE_REASON: &str = "Zeldzame reden Q7731";

/// Every occurrence of `needle` in the database's bytes: the SQLite file and its WAL, or a
/// dump of the deployment's PostgreSQL schema.
pub(crate) fn found_at_rest(config: &gateway::config::Config, needle: &str) -> Vec<String> {
    let url = &config.database.url;
    let mut found = Vec::new();
    if let Some(file) = url.strip_prefix("sqlite://") {
        for path in [file.to_owned(), format!("{file}-wal")] {
            let bytes = std::fs::read(&path).unwrap_or_default();
            if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                found.push(path);
            }
        }
    } else {
        let schema = config
            .database
            .schema
            .as_deref()
            .expect("a schema per test");
        let dump = std::process::Command::new("pg_dump")
            .args(["--data-only", "--schema", schema, "--dbname", url])
            .output()
            .expect("pg_dump runs");
        assert!(
            dump.status.success(),
            "{}",
            String::from_utf8_lossy(&dump.stderr)
        );
        assert!(!dump.stdout.is_empty());
        if String::from_utf8_lossy(&dump.stdout).contains(needle) {
            found.push(format!("pg_dump of {schema}"));
        }
    }
    found
}

#[tokio::test]
async fn what_the_api_writes_is_not_in_the_bytes_of_the_database() {
    let deployment = Deployment::new();
    let config = deployment.config.clone();
    let gateway = deployment.start().await;
    let client = joint_client(&gateway, 41).await;
    let gent = gateway.case_worker(GENT);
    let record = json!({"receivesLivingWage": true, "livingWageSince": RARE_DATE});
    gent.write_record(&client, record).await;
    let referrer = gateway
        .session(&crate::harness::Caller::case_worker((GENT.0, "cw-1")).for_purpose("referral"));
    let body = json!({"clientId": client, "toParty": "amal", "reason": RARE_REASON});
    let (status, referral) = referrer
        .call(Method::POST, "/v1/referrals", Some(&body))
        .await;
    assert_eq!(status, 201, "{referral}");
    // Read back through the API, both are there.
    let read = gent.read_record(&client).await;
    assert_eq!(
        read.body["fields"]["livingWageSince"], RARE_DATE,
        "{}",
        read.body
    );
    gateway.stop().await;

    for needle in [RARE_DATE, RARE_REASON] {
        let found = found_at_rest(&config, needle);
        assert!(
            found.is_empty(),
            "{needle:?} is readable at rest in {found:?}"
        );
    }
}
