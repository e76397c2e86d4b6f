//! Cryptographic building blocks, all on ring.

pub mod jwt_ring;
pub mod keys;
