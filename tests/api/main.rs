//! Integration tests: each starts the real gateway on free ports with a fresh PKI and a fresh
//! database (SQLite, or a PostgreSQL schema when TEST_DATABASE_URL is set), and talks to it
//! over real mutual TLS.

mod harness;

mod at_rest;
mod audit_proofs;
mod audit_review;
mod authentication;
mod authority;
mod authority_holes;
mod consents;
mod conventions;
mod crash;
mod disclosures;
mod door;
mod events;
mod fail_closed;
mod idempotency;
mod infractions;
mod insider;
mod instances;
mod kbi;
mod key_rotation;
mod limits;
mod links;
mod logs;
mod monitoring;
mod operations;
mod policy;
mod privileges;
mod records;
mod referrals;
mod retention;
mod revocation;
mod ssin_screening;
mod tamper;
mod transport;
mod ui;
mod webhooks;
mod witnesses;
