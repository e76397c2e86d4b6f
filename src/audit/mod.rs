//! The tamper-evident audit log: an RFC 9162 Merkle tree over the records, with checkpoints
//! in the C2SP signed-note format.

pub mod checkpoint;
pub mod merkle;
