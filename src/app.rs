//! The state every handler shares: one cheap-to-clone struct, built once at start-up.

use crate::auth::parties::Parties;
use crate::auth::revocation::RevocationLists;
use crate::auth::token::TokenVerifier;
use crate::config::Config;
use crate::gate::Gate;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use metrics_exporter_prometheus::PrometheusHandle;
use std::num::NonZeroU32;
use std::sync::Arc;

/// Requests per user are limited per (party index, `sub`).
pub type UserLimiter = DefaultKeyedRateLimiter<(u16, Arc<str>)>;

#[derive(Clone)]
pub struct AppState {
    /// The validated configuration this process serves with.
    pub config: Arc<Config>,
    /// Parties with their parsed keys and per-party limiters.
    pub parties: Arc<Parties>,
    /// Token verification and its cache of verified tokens.
    pub tokens: Arc<TokenVerifier>,
    /// The per-user rate limiter; pruned periodically by the server.
    pub user_limiter: Arc<UserLimiter>,
    pub user_quota: u32,
    /// The one path to personal data: link checks and the audit log.
    pub gate: Arc<Gate>,
    /// The Prometheus recorder's handle, rendered on the operations listener.
    pub metrics: Option<PrometheusHandle>,
    /// The certificate revocation lists the handshake checks; readiness follows them.
    pub revocation: Option<Arc<RevocationLists>>,
}

impl AppState {
    pub fn new(
        config: Arc<Config>,
        parties: Arc<Parties>,
        gate: Arc<Gate>,
        metrics: Option<PrometheusHandle>,
    ) -> Self {
        let limits = &config.limits;
        let quota = Quota::per_second(
            NonZeroU32::new(limits.per_user_per_second).unwrap_or(NonZeroU32::MIN),
        )
        .allow_burst(NonZeroU32::new(limits.per_user_burst).unwrap_or(NonZeroU32::MIN));
        Self {
            tokens: Arc::new(TokenVerifier::new(&config.auth)),
            user_limiter: Arc::new(RateLimiter::keyed(quota)),
            user_quota: limits.per_user_per_second,
            config,
            parties,
            gate,
            metrics,
            revocation: None,
        }
    }

    /// The state with the revocation lists the API listener checks.
    pub fn with_revocation(mut self, revocation: Arc<RevocationLists>) -> Self {
        self.revocation = Some(revocation);
        self
    }
}
