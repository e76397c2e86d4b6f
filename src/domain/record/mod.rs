//! The joint-client record (product brief §3): fields, their owners and categories, typed
//! values, and the rules that derive values from them.

pub mod field;
pub mod patch;
pub mod values;
