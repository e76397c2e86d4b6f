//! The pure core: values and rules of the joint-client exchange. No I/O, no HTTP, no SQL.

pub mod client_id;
pub mod competence;
pub mod consent;
pub mod event;
pub mod idempotency;
pub mod infraction;
pub mod link;
pub mod monitoring;
pub mod party;
pub mod purpose;
pub mod record;
pub mod referral;
pub mod role;
pub mod rules;
pub mod ssin;
