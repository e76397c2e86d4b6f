//! The tamper-evident audit log: records in a canonical encoding, an RFC 9162 Merkle tree over
//! them, checkpoints in the C2SP signed-note format, proofs, export and offline verification.

pub mod access_report;
pub mod activity;
pub mod anomalies;
pub mod checkpoint;
pub mod export;
pub mod merkle;
pub mod proofs;
pub mod record;
pub mod tree;
pub mod verify;
