//! Every item of the gateway library that the tests use, each named here once: when the
//! library moves one, this file is the one line to change.

pub use gateway::audit::record::AuditRecord;
pub use gateway::config::{Config, DatabaseConfig, PersonConfig, WebhookConfig};
pub use gateway::crypto::jwt_ring::install as install_jwt_provider;
pub use gateway::crypto::keys::{certificates, private_key};
pub use gateway::dev_pki::{client_params, ensure as ensure_pki, load_ca, new_ca, use_pki};
pub use gateway::domain::purpose::Purpose;
pub use gateway::domain::role::Role;
pub use gateway::domain::ssin::Ssin;
pub use gateway::gate::action::{
    END_LINK, GET_CHECKPOINT, GET_CONSISTENCY_PROOF, GET_INCLUSION_PROOF, LOOKUP_CLIENT,
    REGISTER_CLIENT,
};
pub use gateway::http::problem::NO_SUCH_ROUTE;
pub use gateway::notify::signature::{PublicKey, verify as verify_signature};
pub use gateway::policy::Policy;
pub use gateway::server::{Listeners, prepare, run};
