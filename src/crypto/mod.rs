//! Cryptographic building blocks, all on ring.

pub mod cipher;
pub mod jwt_ring;
pub mod keyring;
pub mod keys;
pub mod pseudonym;
pub mod secrets;
