//! The data-access policy as data (product brief §5): for each purpose × reader party kind ×
//! role, which categories and fields of another party's data may be read and on which basis.
//! Deny by default; a party always reads the fields it owns for a purpose it may use.
//!
//! - `model`: the TOML file, validated at start-up (any error stops the gateway, naming the key);
//! - `sets`: the field and category bit sets the table and decisions are made of;
//! - `compiled`: the dense lookup table and `Policy::decide`, allocation-free on every request;
//! - `explain`: why one field was or was not visible, for a privacy officer;
//! - `register`: the GDPR art. 30 register of processing activities derived from the policy.

mod compiled;
mod explain;
mod filter;
mod model;
mod register;
mod sets;
#[cfg(test)]
mod testing;

pub use compiled::{Consented, Decision, Policy, ReadBasis, Reader, WithheldReason};
pub use explain::{Explanation, GrantReference, MatchedBy, Outcome};
pub use filter::{Filtered, Withheld, filter};
pub use model::{Basis, Grant, PolicyError, PurposeEntry};
pub use register::{
    Activity, Ground, ReceivedCategory, ReceivedField, Recipient, Register, StorageLimit,
};
pub use sets::{CategorySet, FieldSet};

/// The shipped default policy, relative to the working directory.
pub const DEFAULT_POLICY: &str = "config/policy.toml";
