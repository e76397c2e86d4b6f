//! The tamper-evident audit log, as pure functions over plain values: records in a canonical
//! encoding, an RFC 9162 Merkle tree over them, C2SP tlog checkpoints (`checkpoint`) signed as
//! C2SP signed notes (`note`), the access report, activity counts and anomalies. Reading and
//! writing the log is the store's; keeping, proving and verifying it is the gate's
//! (`gate::log`).

pub mod access_report;
pub mod activity;
pub mod anomalies;
pub mod checkpoint;
pub mod cosignature;
pub mod merkle;
pub mod note;
pub mod record;
pub mod selection;
