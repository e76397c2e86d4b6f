//! Notifications to parties: the signing of webhook deliveries (Standard Webhooks, Ed25519).

pub mod signature;
