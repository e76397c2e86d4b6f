//! Notifications to parties: webhook deliveries (Standard Webhooks, Ed25519) and their
//! signatures.

pub mod signature;
pub mod webhooks;
