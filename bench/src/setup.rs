//! A deployment for one run: its own development PKI, the shipped development configuration
//! pointed at it, limits opened up so that the generator measures the gateway and not its
//! rate limits, and a fresh database (a SQLite file, or a new PostgreSQL schema). The scale
//! run keeps its deployment in a directory of its own instead, so that a loaded database and
//! the keys it was written with outlive the run.

use anyhow::{Context, Result};
use gateway::config::Config;
use gateway::crypto::keys;
use gateway::dev_token::{TokenRequest, mint};
use rustls::ClientConfig;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The party and user every scenario acts as.
pub const PARTY: &str = "ocmw-gent";
pub const USER: &str = "bench-1";
pub const PURPOSE: &str = "trajectoryGuidance";
/// The name the server certificate is issued for.
pub const SERVER_NAME: &str = "localhost";

/// A directory removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct Deployment {
    /// Removed when the run ends; `None` for a kept deployment.
    _scratch: Option<Scratch>,
    pki: PathBuf,
    pub config: Config,
}

/// `relative` in the repository: the workspace root, one level above this crate's `bench/`,
/// where the gateway's configuration, policy and manifest are.
pub fn repo(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the benchmark crate lies inside the repository")
        .join(relative)
}

impl Deployment {
    /// `postgres`: a server URL; the deployment gets a schema of its own there. Otherwise a
    /// SQLite file in the deployment's directory.
    pub fn new(postgres: Option<&str>) -> Result<Self> {
        let dir = Scratch(
            std::env::temp_dir().join(format!("gateway-bench-{}", uuid::Uuid::new_v4().simple())),
        );
        let schema = format!("bench_{}", uuid::Uuid::new_v4().simple());
        let mut deployment = Self::at(&dir.0, postgres.map(|url| (url, schema.as_str())))?;
        deployment._scratch = Some(dir);
        Ok(deployment)
    }

    /// A deployment kept in `dir` (its PKI, and its SQLite file unless `postgres` names a
    /// server URL and a schema): opening it again finds the same keys and the same data.
    pub fn at(dir: &Path, postgres: Option<(&str, &str)>) -> Result<Self> {
        let pki = dir.join("pki");
        let mut config = Config::load(&repo(gateway::config::DEV_CONFIG))?;
        // Every configured party gets its keys, as the development profile names them.
        let parties: Vec<&str> = config.parties.iter().map(|p| p.id.as_str()).collect();
        gateway::dev_pki::ensure(&pki, &parties)?;
        gateway::dev_pki::use_pki(&mut config, &pki);
        config.policy_file = repo("config/policy.toml");
        // Open the limits: the generator measures the gateway, not its rate limiting.
        config.limits.per_user_per_second = 1_000_000;
        config.limits.per_user_burst = 1_000_000;
        config.limits.max_connections = 100_000;
        for party in &mut config.parties {
            party.rate_per_second = 1_000_000;
            party.rate_burst = 1_000_000;
        }
        match postgres {
            Some((url, schema)) => {
                config.database.url = url.to_owned();
                config.database.schema = Some(schema.to_owned());
            }
            None => config.database.url = format!("sqlite://{}", dir.join("gateway.db").display()),
        }
        Ok(Self {
            _scratch: None,
            pki,
            config,
        })
    }

    /// A client presenting `party`'s certificate and trusting the deployment's CA. Session
    /// resumption is off, so that every new connection pays the full mutual-TLS handshake.
    /// The deployment's development PKI (certificates and keys).
    pub fn pki(&self) -> &Path {
        &self.pki
    }

    pub fn client_tls(&self, party: &str) -> Result<Arc<ClientConfig>> {
        let mut roots = rustls::RootCertStore::empty();
        for ca in keys::certificates(&self.pki.join("ca.crt"))? {
            roots.add(ca)?;
        }
        let chain = keys::certificates(&self.pki.join(format!("{party}.crt")))?;
        let key = keys::private_key(&self.pki.join(format!("{party}.key")))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .context("the party's client certificate")?;
        config.resumption = rustls::client::Resumption::disabled();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// Drops the run's PostgreSQL schema, if it has one: a benchmark leaves nothing behind.
    pub async fn drop_schema(&self) -> Result<()> {
        use sqlx::Connection;
        let Some(schema) = &self.config.database.schema else {
            return Ok(());
        };
        let mut connection = sqlx::PgConnection::connect(&self.config.database.url).await?;
        // The name is ours, `bench_` and hex digits.
        let drop = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
        sqlx::query(sqlx::AssertSqlSafe(drop))
            .execute(&mut connection)
            .await?;
        connection.close().await?;
        Ok(())
    }

    /// A case worker's token, valid for an hour (longer than any run).
    pub fn token(&self) -> Result<String> {
        self.token_as(PARTY, "caseWorker", USER)
    }

    /// A token of `user` of `party` acting in `role`, valid for an hour.
    pub fn token_as(&self, party: &str, role: &str, user: &str) -> Result<String> {
        let roles = [role.to_owned()];
        mint(
            &self.config,
            &self.pki,
            &TokenRequest {
                party,
                roles: &roles,
                user,
                ttl_seconds: 3600,
                bind_certificate: None,
            },
        )
    }
}

/// The `n`th of a run's distinct, valid national register numbers (births 1950–1999, the
/// check digits as for the 20th century).
pub fn ssin(n: u64) -> String {
    let serial = n % 997 + 1;
    let days = n / 997;
    let day = days % 28 + 1;
    let month = (days / 28) % 12 + 1;
    let year = 50 + (days / 336) % 50;
    let base = year * 10_000_000 + month * 100_000 + day * 1000 + serial;
    format!("{base:09}{:02}", 97 - base % 97)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_numbers_are_valid_and_distinct() {
        let mut seen = std::collections::HashSet::new();
        for n in (0..200_000).step_by(7) {
            let ssin = ssin(n);
            assert!(gateway::domain::ssin::Ssin::parse(&ssin).is_ok(), "{ssin}");
            assert!(seen.insert(ssin));
        }
    }
}
