//! The test harness, one file per concern:
//!
//! - [`server`]: the development PKI, the test configuration, the gateway in this process;
//! - [`process`]: the real `gateway` binary as a child process, and its command line;
//! - [`callers`]: who calls (party, user, roles, purpose, certificate, token), the requests
//!   they send and the answers they read;
//! - [`audit`]: the audit log as stored, the records requests must have left, and its
//!   verification;
//! - [`scenarios`]: the steps stories are made of (clients, joint clients, records,
//!   consents, attests, the feed);
//! - [`library`]: every item of the gateway library the tests use, named once.

pub mod audit;
pub mod callers;
pub mod library;
pub mod process;
pub mod scenarios;
pub mod server;

pub use audit::{
    AuditRow, Expected, ExpectedLog, TestDb, assert_gapless, policy_version, summary, verify_ok,
};
pub use callers::{
    Answer, CASE_WORK, Caller, Endpoint, JSON, Session, b64, client_id, issue_names, problem,
    trace_id,
};
pub use process::{Deployment, GatewayProcess};
pub use scenarios::{
    AMAL, EEKLO, GENT, announced, attest, consent_for_gent, data_lines, generated_ssin,
    give_consent, joint_client, notify_attest, registration, ssin, with_joint_client,
};
pub use server::{
    Issued, TestGateway, another_ca, development_ca, issue, per_user_rate, repo_path,
};
