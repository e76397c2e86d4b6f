//! PostgreSQL: the serving role cannot rewrite the audit log. The tables and their triggers
//! belong to the owner role that ran the migrations; a role granted what the README's
//! production section grants (INSERT and SELECT on the log, the head's update) fails to
//! update, delete, truncate or disable a trigger, and serves; a role that owns the tables is
//! refused at start when `database.require_least_privilege` is set. (SQLite has no roles.)

use crate::harness::{Caller, Deployment, Endpoint, TestDb, ssin};
use sqlx::ConnectOptions;
use std::str::FromStr;

const ROLE: &str = "gateway_test_serve";

/// The README's grants, for this deployment's schema (the connection's search path).
const GRANTS: &str = r#"
DO $$ BEGIN CREATE ROLE gateway_test_serve LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$
DECLARE t text;
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO gateway_test_serve', current_schema());
    FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema()
             AND tablename NOT IN ('audit_log', 'audit_record_clients', 'audit_nodes',
                                   'audit_checkpoints', 'audit_cosignatures', 'audit_head',
                                   'audit_reduced', '_sqlx_migrations') LOOP
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO gateway_test_serve', t);
    END LOOP;
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO gateway_test_serve', current_schema());
END $$;
GRANT SELECT, INSERT ON audit_log, audit_record_clients, audit_nodes, audit_checkpoints, audit_cosignatures TO gateway_test_serve;
GRANT SELECT, UPDATE ON audit_head TO gateway_test_serve;
GRANT SELECT ON _sqlx_migrations, audit_reduced TO gateway_test_serve;
"#;

/// The database URL with the serving role as the user.
fn as_serving_role(url: &str) -> String {
    let options = sqlx::postgres::PgConnectOptions::from_str(url)
        .unwrap()
        .username(ROLE);
    options.to_url_lossy().to_string()
}

#[tokio::test]
async fn the_serving_role_cannot_rewrite_the_log_and_an_owner_is_refused_at_start() {
    let mut deployment = Deployment::new();
    if !deployment.config.database.url.starts_with("postgres") {
        return;
    }
    let gateway = deployment.start().await;
    let worker = gateway.case_worker(("ocmw-gent", "sw-roles"));
    assert_eq!(worker.register(&ssin(1)).await.status(), 201);
    let officer = gateway.session(&Caller::privacy_officer(("ocmw-gent", "po-1")));
    assert_eq!(officer.get("/v1/audit/checkpoint").await.status(), 200);
    gateway.stop().await;
    let owner_config = deployment.config.database.clone();
    let owner = TestDb::open(&owner_config).await;
    owner.execute(GRANTS).await.unwrap();
    owner.close().await;

    // The serving role, past the gateway.
    let mut serving = deployment.config.database.clone();
    serving.url = as_serving_role(&serving.url);
    let db = TestDb::open(&serving).await;
    for sql in [
        "UPDATE audit_log SET record = '\\x00' WHERE seq = 0",
        "DELETE FROM audit_nodes",
        "TRUNCATE audit_checkpoints",
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update",
        "ALTER TABLE audit_nodes DISABLE TRIGGER USER",
        "DROP TRIGGER audit_log_no_update ON audit_log",
        "UPDATE audit_head SET next_seq = 0",
    ] {
        let error = db.execute(sql).await.expect_err(sql).to_string();
        let refused = ["permission denied", "must be owner", "only moves forward"];
        assert!(refused.iter().any(|r| error.contains(r)), "{sql}: {error}");
    }
    db.close().await;

    // The owner (here a superuser too) may not serve with least privilege required.
    deployment.config.database.require_least_privilege = true;
    let strict_owner = deployment.another_instance("strict-owner");
    let refused = deployment.cli_with(&strict_owner, &["serve"]);
    assert!(!refused.status.success(), "{refused}");
    let said = refused.all_output();
    for named in [
        "database.require_least_privilege",
        "is a superuser",
        "it owns audit_log",
    ] {
        assert!(said.contains(named), "not saying {named:?}\n{refused}");
    }

    // The serving role serves, appends and signs.
    deployment.config.database.url = serving.url.clone();
    let least = deployment.another_instance("least");
    let gateway = deployment.start_from(&least, "info").await;
    let worker = gateway.case_worker(("ocmw-gent", "sw-roles"));
    assert_eq!(worker.register(&ssin(2)).await.status(), 201);
    let officer = gateway.session(&Caller::privacy_officer(("ocmw-gent", "po-1")));
    assert_eq!(officer.get("/v1/audit/checkpoint").await.status(), 200);
    gateway.stop().await;

    // One grant too many, and the serving role is refused too, naming it.
    let owner = TestDb::open(&owner_config).await;
    owner
        .execute("GRANT TRUNCATE ON audit_nodes TO gateway_test_serve")
        .await
        .unwrap();
    owner.close().await;
    let refused = deployment.cli_with(&least, &["serve"]);
    assert!(!refused.status.success(), "{refused}");
    let said = refused.all_output();
    assert!(
        said.contains("it holds TRUNCATE on audit_nodes"),
        "{refused}"
    );
}
