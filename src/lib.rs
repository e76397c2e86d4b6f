//! The joint-client exchange gateway: OCMWs, integration agencies and KBI exchange data about
//! joint clients under mutual TLS, signed tokens, purpose-bound policy and a tamper-evident
//! audit log.

pub mod app;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod dev_pki;
pub mod dev_token;
pub mod domain;
pub mod gate;
pub mod http;
pub mod notify;
pub mod policy;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod ui;
