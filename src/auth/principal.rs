//! The authenticated caller of one request.

use super::parties::Party;
use crate::domain::purpose::Purpose;
use crate::domain::role::RoleSet;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct Principal {
    pub party: Arc<Party>,
    /// The person or system acting (`sub`).
    pub user: Arc<str>,
    /// Every role the token carries.
    pub roles: RoleSet,
    /// The roles in which the caller may act for the declared purpose (never empty).
    pub acting_roles: RoleSet,
    pub purpose: Purpose,
}
