//! A person known by a personal client certificate (a privacy officer at a browser), as the
//! configuration maps it: their party, who they are in the audit log, the role they act in.

use super::parties::Party;
use crate::domain::role::Role;
use std::sync::Arc;

#[derive(Debug)]
pub struct Person {
    pub party: Arc<Party>,
    pub user: Arc<str>,
    pub role: Role,
}
