//! Nothing readable at rest by another account: the SQLite database and its WAL are created
//! owner-only, and the gateway refuses to start on a secret key file that group or others
//! may read, naming the file.

use crate::harness::{Deployment, Endpoint, generated_ssin};
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
