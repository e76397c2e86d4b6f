//! Typed configuration: TOML files under `config/`, then `GATEWAY_` environment overrides
//! (`GATEWAY_SERVER__LISTEN=…`, `__` separating levels). Every value is validated at start-up
//! and a bad one stops the process with a message naming its key.

use crate::crypto::keyring::{Configured, Ring, RingKind};
use crate::crypto::keys::JwtAlgorithm;
use crate::domain::party::{PartyId, PartyKind};
use crate::domain::purpose::Purpose;
use crate::domain::role::Role;
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The development profile `cargo run` starts with.
pub const DEV_CONFIG: &str = "config/dev.toml";

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub auth: AuthConfig,
    pub limits: LimitsConfig,
    pub keys: KeysConfig,
    pub audit: AuditConfig,
    pub webhooks: WebhooksConfig,
    pub review: ReviewConfig,
    /// How long what is kept is kept (GDPR art. 5(1)(e)).
    pub retention: RetentionConfig,
    /// The data-access policy (product brief §5); an invalid one stops the start.
    #[serde(default = "default_policy_file")]
    pub policy_file: PathBuf,
    #[serde(default)]
    pub dev: DevConfig,
    pub parties: Vec<PartyConfig>,
    /// Cooperation agreements between parties (such as the SWO of OCMW Gent and Amal): the
    /// yearly monitoring of a party in one reports the joint clients of the pairs of parties
    /// it names (SWO art. 16).
    #[serde(default)]
    pub agreements: Vec<AgreementConfig>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AgreementConfig {
    pub name: String,
    /// At least two configured parties.
    pub parties: Vec<PartyId>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// The API listener (mutual TLS).
    pub listen: SocketAddr,
    /// The operations listener (health, readiness, metrics): plain HTTP, keep it local.
    pub ops_listen: SocketAddr,
    pub tls_certificate: PathBuf,
    pub tls_key: PathBuf,
    /// Certificate revocation lists (PEM or DER), one or more per client CA: a revoked client
    /// certificate is refused at the handshake. Reloaded when a file changes or on SIGHUP.
    #[serde(default)]
    pub client_crls: Vec<PathBuf>,
}

#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://path` (embedded) or `postgres://…` (production).
    pub url: String,
    /// PostgreSQL schema to use (created if absent); lets several deployments share a server.
    #[serde(default)]
    pub schema: Option<String>,
    #[serde(default = "default_pool_size")]
    pub max_connections: u32,
    /// The owner role's URL, for `gateway migrate` only (falls back to `url`): the serving
    /// role need not, and in production must not, own the tables.
    #[serde(default)]
    pub migrate_url: Option<String>,
    /// PostgreSQL: refuse to serve unless the serving role is unable to rewrite the audit
    /// log (neither owns its tables nor holds UPDATE, DELETE, TRUNCATE or TRIGGER on them);
    /// the schema is then migrated by `gateway migrate`, never by `serve`.
    #[serde(default)]
    pub require_least_privilege: bool,
}

fn default_policy_file() -> PathBuf {
    PathBuf::from(crate::policy::DEFAULT_POLICY)
}

fn default_pool_size() -> u32 {
    8
}

impl fmt::Debug for DatabaseConfig {
    // A PostgreSQL URL may carry a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = self.url.split(':').next().unwrap_or("");
        f.debug_struct("DatabaseConfig")
            .field("url", &format_args!("{scheme}:…"))
            .field("schema", &self.schema)
            .field("max_connections", &self.max_connections)
            .field("migrate_url", &self.migrate_url.as_ref().map(|_| "…"))
            .field("require_least_privilege", &self.require_least_privilege)
            .finish()
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// The `aud` every token must carry.
    pub audience: String,
    /// Clock skew tolerated on `exp`, `nbf` and `iat` (at most 60 s).
    pub leeway_seconds: u64,
    /// The longest lifetime (`exp - iat`) accepted (at most 1 hour).
    pub max_token_lifetime_seconds: u64,
    /// Strict mode: every token must be bound to the client certificate (RFC 8705).
    pub require_certificate_binding: bool,
    /// Verified tokens kept so that a token is verified once, not on every request.
    pub token_cache_entries: usize,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    pub max_body_bytes: usize,
    pub max_header_bytes: usize,
    pub request_timeout_ms: u64,
    pub header_read_timeout_ms: u64,
    pub handshake_timeout_ms: u64,
    pub max_connections: usize,
    pub per_user_per_second: u32,
    pub per_user_burst: u32,
}

/// The gateway's own secrets, each a file of 32 random bytes (base64), with an id so that a
/// stored value says which key made it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KeysConfig {
    pub pseudonym_key_id: String,
    pub pseudonym_key: PathBuf,
    pub encryption_key_id: String,
    pub encryption_key: PathBuf,
    /// Where `gateway keys rotate` keeps the keys it adds (`<ring_dir>/<kind>/<id>.key`, the
    /// current id in `<ring_dir>/<kind>/current`); default `keyring` next to the encryption key.
    /// Every instance must see the same directory.
    #[serde(default)]
    pub ring_dir: Option<PathBuf>,
}

impl KeysConfig {
    /// The ring of the field-encryption key: the configured key and the keys rotation added.
    pub fn encryption_ring(&self) -> Ring {
        let configured = Configured {
            id: self.encryption_key_id.clone(),
            file: self.encryption_key.clone(),
        };
        self.ring_of(RingKind::Encryption, configured)
    }

    /// The ring of the pseudonym key: the configured key and the keys rotation added.
    pub fn pseudonym_ring(&self) -> Ring {
        let configured = Configured {
            id: self.pseudonym_key_id.clone(),
            file: self.pseudonym_key.clone(),
        };
        self.ring_of(RingKind::Pseudonym, configured)
    }

    /// The ring of a key configured by its file only: its id is the file's name without
    /// extension (or the kind's name when that is no key id).
    fn ring_of_file(&self, kind: RingKind, file: PathBuf) -> Ring {
        let id = file
            .file_stem()
            .and_then(|stem| stem.to_str())
            .filter(|stem| crate::crypto::keyring::valid_key_id(stem))
            .unwrap_or(kind.as_str())
            .to_owned();
        self.ring_of(kind, Configured { id, file })
    }

    fn ring_of(&self, kind: RingKind, configured: Configured) -> Ring {
        let dir = self
            .ring_dir
            .clone()
            .unwrap_or_else(|| self.encryption_key.with_file_name("keyring"));
        Ring {
            dir,
            kind,
            configured,
        }
    }
}

impl Config {
    /// The ring of the webhook signing key, when one is configured: `webhooks.signing_key`
    /// and the keys rotation added.
    pub fn webhook_signing_ring(&self) -> Option<Ring> {
        let file = self.webhooks.signing_key.clone()?;
        Some(self.keys.ring_of_file(RingKind::WebhookSigning, file))
    }

    /// The ring of the checkpoint signing key: `audit.signing_key` and the keys rotation added.
    pub fn audit_signing_ring(&self) -> Ring {
        self.keys
            .ring_of_file(RingKind::AuditSigning, self.audit.signing_key.clone())
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// The checkpoint origin and signing key name (C2SP signed-note), e.g. `gateway.example/audit`.
    pub log_name: String,
    /// The Ed25519 key (PKCS#8 PEM) that signs checkpoints.
    pub signing_key: PathBuf,
    /// A checkpoint is signed at least every this many records…
    pub checkpoint_every_records: u64,
    /// …and at least every this many milliseconds while records arrive.
    pub checkpoint_every_ms: u64,
    /// The most records one group commit carries.
    pub max_batch: usize,
    /// Parties whose privacy officers review the whole log (the gateway's own officer); every
    /// other party's officers see their own users' records and those about clients their party
    /// is linked to.
    #[serde(default)]
    pub review_all_parties: Vec<PartyId>,
    /// Where the gateway keeps the last checkpoint it signed, outside the database (default:
    /// `audit-state.checkpoint` next to the signing key). At start and before each signing
    /// the database's log must extend it, or nothing personal is served.
    #[serde(default)]
    pub state_file: Option<PathBuf>,
}

impl AuditConfig {
    pub fn state_file(&self) -> PathBuf {
        self.state_file
            .clone()
            .unwrap_or_else(|| self.signing_key.with_file_name("audit-state.checkpoint"))
    }
}

/// The bounds above which audit review flags an access pattern (`GET /v1/audit/anomalies`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewConfig {
    /// Distinct clients one user may read in one clock hour.
    pub distinct_clients_per_hour: usize,
    /// An hour above this many times the user's own median hour is flagged…
    pub norm_factor: usize,
    /// …when it also exceeds this many distinct clients.
    pub norm_minimum: usize,
    /// This many refusals of one user within the window is a burst.
    pub refusals: usize,
    pub refusal_window_minutes: i64,
    /// Office hours in UTC, `[start, end)`.
    pub office_hours_utc: [u8; 2],
    /// Records one anomaly scan reads at most.
    pub max_records: usize,
}

/// How long the gateway keeps what it keeps (GDPR art. 5(1)(e), storage limitation). The
/// legal ground of each period is written beside it in `config/default.toml`; the register of
/// processing quotes these figures.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    /// A client is erased this many days after its last link ended (0: at the next run).
    pub after_last_link_days: u32,
    /// Events (the change feed and the webhooks' outbox) and dead-lettered deliveries are
    /// removed this many days after they were written.
    pub events_days: u32,
    /// Withdrawn or expired consents are removed this many days after they stopped.
    pub consent_history_days: u32,
    /// An `Idempotency-Key` and the answer kept for it last this many hours after the first
    /// request with it; a later request with the key is new, and the retention run removes it.
    #[serde(default = "default_idempotency_key_hours")]
    pub idempotency_key_hours: u32,
    /// Audit records are reduced to their leaf hashes this many days after they were
    /// appended (up to the last checkpoint signed before then; 0: every record a checkpoint
    /// covers, at the next run).
    #[serde(default = "default_audit_log_days")]
    pub audit_log_days: u32,
    /// The erasure job in `gateway serve` runs this often (hours; 0: never in serve).
    pub run_every_hours: u32,
    /// Clients one run erases at most; the rest wait for the next run.
    pub max_clients_per_run: u32,
}

const fn default_idempotency_key_hours() -> u32 {
    24
}

/// Ten years, as MAGDA keeps its logs.
const fn default_audit_log_days() -> u32 {
    3653
}

impl RetentionConfig {
    /// The periods as the register of processing states them (GDPR art. 30(1)(f)).
    pub fn storage_limits(&self) -> Vec<crate::policy::StorageLimit> {
        use crate::policy::StorageLimit;
        vec![
            StorageLimit {
                data: "the client's record, consents, referrals, infractions, attests and events, the national register number's pseudonym and ciphertext",
                days: self.after_last_link_days,
                ground: "after the last party's link with the client ended: the cooperation of SWO art. 2-5 needs no more (GDPR art. 5(1)(e))",
            },
            StorageLimit {
                data: "events and undelivered webhook notifications",
                days: self.events_days,
                ground: "after they were written: notifications, not a record",
            },
            StorageLimit {
                data: "answers kept for requests sent with an Idempotency-Key",
                days: self.idempotency_key_hours.div_ceil(24),
                ground: "after the first request with the key: a retry must not make a second referral, consent or infraction, and needs the answer no longer than a caller retries",
            },
            StorageLimit {
                data: "the audit log's records (reduced to their leaf hashes afterwards, so that every checkpoint and proof stays valid)",
                days: self.audit_log_days,
                ground: "after they were appended: the accountability of every access (GDPR art. 5(2)) for as long as a claim about an access can be brought",
            },
            StorageLimit {
                data: "withdrawn or expired consents",
                days: self.consent_history_days,
                ground: "after they stopped: proof of what was lawful while they ran (GDPR art. 7(1))",
            },
        ]
    }
}

/// Delivery of events to the parties' webhooks (product brief §7). The endpoints themselves
/// are configured per party, never through the API.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebhooksConfig {
    /// The Ed25519 key (PKCS#8 PEM) that signs deliveries (Standard Webhooks `v1a`). Required
    /// once a party has a webhook.
    #[serde(default)]
    pub signing_key: Option<PathBuf>,
    /// CA certificates (PEM) that the receivers' server certificates must chain to. Required
    /// once a party has a webhook.
    #[serde(default)]
    pub trusted_ca: Option<PathBuf>,
    /// Attempts per event before it goes to the dead letters.
    pub max_attempts: u32,
    /// The wait after the first failed attempt; it doubles after each next one…
    pub initial_backoff_ms: u64,
    /// …up to this, each wait drawn between half and all of it (jitter).
    pub max_backoff_ms: u64,
    /// The time-out of one attempt, connection included.
    pub timeout_ms: u64,
}

/// One party's webhook: where its events go, and the purpose under which the gateway decides,
/// at delivery, which events and categories the party may receive.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// An `https` URL.
    pub url: String,
    pub purpose: Purpose,
}

impl WebhookConfig {
    /// The delivery stream's name: one cursor and one set of dead letters per party and purpose.
    pub fn subscription(&self, party: &PartyId) -> String {
        format!("{party}/{}", self.purpose.as_str())
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DevConfig {
    /// Generate the development PKI into `pki_dir` when it is absent. Never in production.
    #[serde(default)]
    pub generate_pki: bool,
    #[serde(default)]
    pub pki_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PartyConfig {
    pub id: PartyId,
    pub kind: PartyKind,
    pub name: String,
    /// CA certificates (PEM) that issue this party's client certificates.
    pub trusted_ca: PathBuf,
    /// The subject common name of this party's client certificates.
    pub certificate_common_name: String,
    /// When set, the certificate must also carry one of these DNS names in its subject
    /// alternative names.
    #[serde(default)]
    pub certificate_dns_names: Vec<String>,
    /// When set, the certificate must also carry one of these URIs in its subject
    /// alternative names.
    #[serde(default)]
    pub certificate_uris: Vec<String>,
    /// When set, the certificate's key must be one of these: SHA-256 of the
    /// SubjectPublicKeyInfo, lowercase hex (the pin of RFC 7469).
    #[serde(default)]
    pub certificate_key_sha256: Vec<String>,
    /// The `iss` of tokens from this party's identity provider.
    pub jwt_issuer: String,
    pub jwt_keys: Vec<JwtKeyConfig>,
    pub rate_per_second: u32,
    pub rate_burst: u32,
    #[serde(default)]
    pub webhooks: Vec<WebhookConfig>,
    /// People of this party who use the web pages, each known by a personal client
    /// certificate issued by the party's CA.
    #[serde(default)]
    pub people: Vec<PersonConfig>,
    /// The party's witness: its Ed25519 public key (SPKI PEM), with which it cosigns the audit
    /// log's checkpoints (C2SP tlog-cosignature).
    #[serde(default)]
    pub witness_key: Option<PathBuf>,
    /// The witness's key name; in the development profile `<id>.dev.invalid/witness`.
    #[serde(default)]
    pub witness_name: Option<String>,
}

/// A person's client certificate mapped to who they are and the one role they act in on the
/// web pages (`/ui`). A personal certificate opens no `/v1` route: the API takes the
/// party's certificate and a token.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PersonConfig {
    /// The subject common name of the person's certificate.
    pub certificate_common_name: String,
    /// Who the person is in the audit log.
    pub user: String,
    pub role: Role,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JwtKeyConfig {
    pub kid: String,
    pub algorithm: JwtAlgorithm,
    pub public_key: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(String),
    #[error("configuration key `{key}`: {message}")]
    Invalid { key: String, message: String },
}

fn invalid(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        message: message.into(),
    }
}

/// Each `(key, value, min, max)` must have `min <= value <= max`; the first that does not is
/// the error.
fn within_ranges(checks: &[(&str, u64, u64, u64)]) -> Result<(), ConfigError> {
    for &(key, value, min, max) in checks {
        if !(min..=max).contains(&value) {
            return Err(invalid(key, format!("between {min} and {max}")));
        }
    }
    Ok(())
}

impl Config {
    /// The key name of `party`'s witness, if it has a witness key.
    pub fn witness_name(&self, party: &PartyConfig) -> Option<String> {
        party.witness_key.as_ref()?;
        match &party.witness_name {
            Some(name) => Some(name.clone()),
            None if self.is_development() => Some(format!("{}.dev.invalid/witness", party.id)),
            None => None,
        }
    }

    /// The development profile: its PKI is generated (or was, for a test deployment).
    pub fn is_development(&self) -> bool {
        self.dev.generate_pki || self.dev.pki_dir.is_some()
    }

    /// Loads `config/default.toml`, then `file`, then `GATEWAY_…` variables.
    pub fn load(file: &Path) -> Result<Self, ConfigError> {
        let defaults = file.with_file_name("default.toml");
        let mut figment = Figment::new();
        if defaults.exists() && defaults != file {
            figment = figment.merge(Toml::file_exact(&defaults));
        }
        let config: Config = figment
            .merge(Toml::file_exact(file))
            .merge(Env::prefixed("GATEWAY_").split("__"))
            .extract()
            .map_err(|error| ConfigError::Load(error.to_string()))?;
        Ok(config)
    }

    /// Checks every value that a type alone cannot (ranges, uniqueness, file presence is
    /// checked when the files are loaded).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let auth = &self.auth;
        if auth.audience.trim().is_empty() {
            return Err(invalid("auth.audience", "must not be empty"));
        }
        if auth.leeway_seconds > 60 {
            return Err(invalid("auth.leeway_seconds", "at most 60"));
        }
        if !(1..=3600).contains(&auth.max_token_lifetime_seconds) {
            return Err(invalid(
                "auth.max_token_lifetime_seconds",
                "between 1 and 3600",
            ));
        }
        if auth.token_cache_entries > 10_000_000 {
            return Err(invalid("auth.token_cache_entries", "at most 10000000"));
        }
        self.validate_limits()?;
        // At least an hour: under that, a retry a caller makes after a time-out finds its key
        // gone and makes the referral again.
        let hours = u64::from(self.retention.idempotency_key_hours);
        within_ranges(&[("retention.idempotency_key_hours", hours, 1, 8760)])?;
        self.validate_keys_and_audit()?;
        // The development profile's keys and tokens are public knowledge (anyone can mint a
        // token with them): it must not be reachable from another machine.
        if self.is_development() {
            let listeners = [
                ("server.listen", self.server.listen),
                ("server.ops_listen", self.server.ops_listen),
            ];
            for (key, address) in listeners {
                if !address.ip().is_loopback() {
                    return Err(invalid(
                        key,
                        "the development profile (dev.generate_pki or dev.pki_dir) listens on a loopback address only",
                    ));
                }
            }
        }
        let db = &self.database;
        if !(db.url.starts_with("sqlite:")
            || db.url.starts_with("postgres:")
            || db.url.starts_with("postgresql:"))
        {
            return Err(invalid(
                "database.url",
                "must start with sqlite: or postgres:",
            ));
        }
        if let Some(schema) = &db.schema {
            let ok = !schema.is_empty()
                && schema.len() <= 63
                && schema.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
                && schema
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !ok {
                return Err(invalid(
                    "database.schema",
                    "lowercase letters, digits and _",
                ));
            }
        }
        if db.require_least_privilege && db.url.starts_with("sqlite:") {
            return Err(invalid(
                "database.require_least_privilege",
                "PostgreSQL only: SQLite has no roles",
            ));
        }
        if !(1..=1000).contains(&db.max_connections) {
            return Err(invalid("database.max_connections", "between 1 and 1000"));
        }
        self.validate_parties()?;
        self.validate_review()?;
        self.validate_webhooks()
    }

    fn validate_review(&self) -> Result<(), ConfigError> {
        let r = &self.review;
        let checks: [(&str, u64, u64, u64); 6] = [
            (
                "review.distinct_clients_per_hour",
                r.distinct_clients_per_hour as u64,
                1,
                1_000_000,
            ),
            ("review.norm_factor", r.norm_factor as u64, 1, 1000),
            ("review.norm_minimum", r.norm_minimum as u64, 1, 1_000_000),
            ("review.refusals", r.refusals as u64, 2, 1_000_000),
            (
                "review.refusal_window_minutes",
                r.refusal_window_minutes.max(0) as u64,
                1,
                1440,
            ),
            (
                "review.max_records",
                r.max_records as u64,
                1000,
                100_000_000,
            ),
        ];
        within_ranges(&checks)?;
        let [open, close] = r.office_hours_utc;
        if open >= close || close > 24 {
            return Err(invalid(
                "review.office_hours_utc",
                "[start, end] hours with start < end <= 24",
            ));
        }
        Ok(())
    }

    fn validate_webhooks(&self) -> Result<(), ConfigError> {
        let w = &self.webhooks;
        within_ranges(&[
            ("webhooks.max_attempts", w.max_attempts.into(), 1, 100),
            (
                "webhooks.initial_backoff_ms",
                w.initial_backoff_ms,
                1,
                3_600_000,
            ),
        ])?;
        if !(w.initial_backoff_ms..=86_400_000).contains(&w.max_backoff_ms) {
            return Err(invalid(
                "webhooks.max_backoff_ms",
                "at least initial_backoff_ms and at most 86400000",
            ));
        }
        within_ranges(&[("webhooks.timeout_ms", w.timeout_ms, 10, 600_000)])?;
        let mut any = false;
        for (i, party) in self.parties.iter().enumerate() {
            let mut purposes = HashSet::new();
            for (h, hook) in party.webhooks.iter().enumerate() {
                any = true;
                let key = |field: &str| format!("parties[{i}].webhooks[{h}].{field}");
                let host = hook.url.strip_prefix("https://").unwrap_or_default();
                if host.is_empty() || hook.url.chars().any(|c| c.is_whitespace()) {
                    return Err(invalid(key("url"), "an https:// URL"));
                }
                if !hook.purpose.is_case_work() {
                    return Err(invalid(key("purpose"), "a case-work purpose"));
                }
                if !purposes.insert(hook.purpose) {
                    return Err(invalid(key("purpose"), "one webhook per purpose"));
                }
            }
        }
        let required = [
            ("webhooks.signing_key", w.signing_key.is_some()),
            ("webhooks.trusted_ca", w.trusted_ca.is_some()),
        ];
        for (key, present) in required {
            if any && !present {
                return Err(invalid(key, "required when a party has a webhook"));
            }
        }
        Ok(())
    }

    fn validate_limits(&self) -> Result<(), ConfigError> {
        let l = &self.limits;
        let checks: [(&str, u64, u64, u64); 8] = [
            (
                "limits.max_body_bytes",
                l.max_body_bytes as u64,
                1,
                64 << 20,
            ),
            (
                "limits.max_header_bytes",
                l.max_header_bytes as u64,
                1024,
                1 << 20,
            ),
            (
                "limits.request_timeout_ms",
                l.request_timeout_ms,
                10,
                600_000,
            ),
            (
                "limits.header_read_timeout_ms",
                l.header_read_timeout_ms,
                10,
                600_000,
            ),
            (
                "limits.handshake_timeout_ms",
                l.handshake_timeout_ms,
                10,
                600_000,
            ),
            (
                "limits.max_connections",
                l.max_connections as u64,
                1,
                1_000_000,
            ),
            (
                "limits.per_user_per_second",
                l.per_user_per_second.into(),
                1,
                1_000_000,
            ),
            (
                "limits.per_user_burst",
                l.per_user_burst.into(),
                1,
                1_000_000,
            ),
        ];
        within_ranges(&checks)
    }

    fn validate_keys_and_audit(&self) -> Result<(), ConfigError> {
        let key_id_ok = |id: &str| {
            (1..=32).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if !key_id_ok(&self.keys.pseudonym_key_id) {
            return Err(invalid("keys.pseudonym_key_id", "1 to 32 of [A-Za-z0-9_-]"));
        }
        if !key_id_ok(&self.keys.encryption_key_id) {
            return Err(invalid(
                "keys.encryption_key_id",
                "1 to 32 of [A-Za-z0-9_-]",
            ));
        }
        let audit = &self.audit;
        let name_ok = !audit.log_name.is_empty()
            && audit.log_name.len() <= 128
            && audit
                .log_name
                .chars()
                .all(|c| c.is_ascii_graphic() && c != '+');
        if !name_ok {
            return Err(invalid(
                "audit.log_name",
                "1 to 128 visible ASCII characters, no '+'",
            ));
        }
        if !(1..=10_000_000).contains(&audit.checkpoint_every_records) {
            return Err(invalid(
                "audit.checkpoint_every_records",
                "between 1 and 10000000",
            ));
        }
        if !(10..=3_600_000).contains(&audit.checkpoint_every_ms) {
            return Err(invalid(
                "audit.checkpoint_every_ms",
                "between 10 and 3600000",
            ));
        }
        if !(1..=100_000).contains(&audit.max_batch) {
            return Err(invalid("audit.max_batch", "between 1 and 100000"));
        }
        Ok(())
    }

    fn validate_parties(&self) -> Result<(), ConfigError> {
        if self.parties.is_empty() {
            return Err(invalid("parties", "at least one party must be configured"));
        }
        let mut ids = HashSet::new();
        let mut names = HashSet::new();
        let mut issuers = HashSet::new();
        for (i, party) in self.parties.iter().enumerate() {
            let key = |field: &str| format!("parties[{i}].{field}");
            if !ids.insert(&party.id) {
                return Err(invalid(
                    key("id"),
                    format!("duplicate party id {}", party.id),
                ));
            }
            if party.certificate_common_name.is_empty()
                || !names.insert(&party.certificate_common_name)
            {
                return Err(invalid(
                    key("certificate_common_name"),
                    "empty or not unique",
                ));
            }
            if party.jwt_issuer.is_empty() || !issuers.insert(&party.jwt_issuer) {
                return Err(invalid(key("jwt_issuer"), "empty or not unique"));
            }
            if party.jwt_keys.is_empty() {
                return Err(invalid(key("jwt_keys"), "at least one key"));
            }
            let mut kids = HashSet::new();
            for (k, jwt_key) in party.jwt_keys.iter().enumerate() {
                if jwt_key.kid.is_empty() || !kids.insert(&jwt_key.kid) {
                    return Err(invalid(
                        key(&format!("jwt_keys[{k}].kid")),
                        "empty or not unique",
                    ));
                }
            }
            for (n, person) in party.people.iter().enumerate() {
                let key = |field: &str| format!("parties[{i}].people[{n}].{field}");
                if person.certificate_common_name.is_empty()
                    || !names.insert(&person.certificate_common_name)
                {
                    return Err(invalid(
                        key("certificate_common_name"),
                        "empty or not unique among parties and people",
                    ));
                }
                if person.user.is_empty() || person.user.len() > 256 {
                    return Err(invalid(key("user"), "from 1 to 256 characters"));
                }
            }
            if party.witness_key.is_some() {
                let name = self.witness_name(party).unwrap_or_default();
                let ok = !name.is_empty()
                    && name.len() <= 128
                    && name.chars().all(|c| c.is_ascii_graphic() && c != '+');
                if !ok {
                    return Err(invalid(
                        key("witness_name"),
                        "1 to 128 visible ASCII characters, no '+' (required with witness_key)",
                    ));
                }
            }
            if party.rate_per_second == 0 || party.rate_burst == 0 {
                return Err(invalid(
                    key("rate_per_second"),
                    "rate and burst must be positive",
                ));
            }
            for (n, pin) in party.certificate_key_sha256.iter().enumerate() {
                let hex = pin.len() == 64
                    && pin
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
                if !hex {
                    return Err(invalid(
                        key(&format!("certificate_key_sha256[{n}]")),
                        "64 lowercase hex digits (SHA-256 of the SubjectPublicKeyInfo)",
                    ));
                }
            }
        }
        for (a, agreement) in self.agreements.iter().enumerate() {
            let known = agreement
                .parties
                .iter()
                .all(|p| self.parties.iter().any(|c| &c.id == p));
            if agreement.parties.len() < 2 || !known {
                return Err(invalid(
                    format!("agreements[{a}].parties"),
                    "at least two configured parties",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev() -> Config {
        let mut figment = Figment::new();
        for file in ["config/default.toml", DEV_CONFIG] {
            figment = figment.merge(Toml::file_exact(file));
        }
        figment.extract().unwrap()
    }

    #[test]
    fn the_shipped_development_configuration_is_valid() {
        dev().validate().unwrap();
    }

    #[test]
    fn the_development_profile_listens_on_loopback_only() {
        let mut config = dev();
        config.server.listen = "0.0.0.0:8443".parse().unwrap();
        let message = config.validate().unwrap_err().to_string();
        assert!(
            message.contains("server.listen") && message.contains("loopback"),
            "{message}"
        );
        config.server.listen = "[::1]:8443".parse().unwrap();
        config.server.ops_listen = "192.0.2.1:9090".parse().unwrap();
        let message = config.validate().unwrap_err().to_string();
        assert!(message.contains("server.ops_listen"), "{message}");
        // A deployment that is not the development profile chooses its own addresses.
        config.dev = DevConfig::default();
        let message = config
            .validate()
            .map_err(|e| e.to_string())
            .err()
            .unwrap_or_default();
        assert!(!message.contains("loopback"), "{message}");
    }

    #[test]
    fn a_leeway_above_a_minute_is_refused_naming_the_key() {
        let mut config = dev();
        config.auth.leeway_seconds = 61;
        let message = config.validate().unwrap_err().to_string();
        assert!(message.contains("auth.leeway_seconds"), "{message}");
    }

    #[test]
    fn a_duplicate_party_is_refused_naming_its_position() {
        let mut config = dev();
        let first = config.parties[0].clone();
        config.parties.push(first);
        let message = config.validate().unwrap_err().to_string();
        assert!(message.contains(&format!("parties[{}].id", config.parties.len() - 1)));
    }

    #[test]
    fn a_witness_is_named_after_its_party_in_development_and_must_be_named_elsewhere() {
        let mut config = dev();
        let name = config.witness_name(&config.parties[0]);
        assert_eq!(name.as_deref(), Some("ocmw-gent.dev.invalid/witness"));
        config.dev = DevConfig::default();
        let message = config.validate().unwrap_err().to_string();
        assert!(message.contains("parties[0].witness_name"), "{message}");
        config.parties[0].witness_name = Some("gent.example/witness".into());
        let message = config.validate().unwrap_err().to_string();
        assert!(message.contains("parties[1].witness_name"), "{message}");
    }

    #[test]
    fn least_privilege_is_refused_for_sqlite_which_has_no_roles() {
        let mut config = dev();
        config.database.require_least_privilege = true;
        let message = config.validate().unwrap_err().to_string();
        assert!(
            message.contains("database.require_least_privilege"),
            "{message}"
        );
    }

    #[test]
    fn the_database_url_is_not_shown_in_debug_output() {
        let mut config = dev();
        config.database.url = "postgres://user:secret@db/gateway".into();
        config.database.migrate_url = Some("postgres://owner:secret2@db/gateway".into());
        assert!(!format!("{config:?}").contains("secret"));
    }
}
