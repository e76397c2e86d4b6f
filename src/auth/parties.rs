//! The configured parties as the running gateway uses them: keys parsed, limiters built.

use super::person::Person;
use crate::config::{Config, PartyConfig};
use crate::crypto::keys::{self, KeyError};
use crate::domain::party::{PartyId, PartyKind};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::ClientCertVerifier;
use rustls_pki_types::CertificateDer;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;

pub struct Party {
    /// Position in `Parties::all`; a compact key for per-user state.
    pub index: u16,
    pub id: PartyId,
    pub kind: PartyKind,
    pub name: String,
    pub issuer: String,
    pub keys: Vec<PartyKey>,
    pub limiter: DefaultDirectRateLimiter,
    pub rate_per_second: u32,
    /// Set when this party's CAs are only some of the gateway's trusted CAs: the handshake
    /// proved the certificate chains to *a* trusted CA, this proves it chains to the party's.
    pub own_ca_verifier: Option<Arc<dyn ClientCertVerifier>>,
    /// What the certificate must carry besides the common name, when configured.
    pub pins: CertificatePins,
}

/// Optional pins of a party's certificate: one of the SAN DNS names, one of the SAN URIs,
/// one of the keys (SHA-256 of the SubjectPublicKeyInfo, lowercase hex). Empty: not pinned.
#[derive(Debug, Clone, Default)]
pub struct CertificatePins {
    pub dns_names: Vec<String>,
    pub uris: Vec<String>,
    pub key_sha256: Vec<String>,
}

pub struct PartyKey {
    pub kid: String,
    pub algorithm: Algorithm,
    pub key: DecodingKey,
    /// Built once: algorithm allow-list of exactly this key's algorithm, audience, issuer.
    pub validation: Validation,
}

impl std::fmt::Debug for Party {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Party")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .finish()
    }
}

pub struct Parties {
    pub all: Vec<Arc<Party>>,
    by_common_name: HashMap<String, Arc<Party>>,
    people: HashMap<String, Arc<Person>>,
    /// Every CA that issues some party's certificates: the TLS handshake's trust anchors.
    pub roots: Arc<RootCertStore>,
}

#[derive(Debug, thiserror::Error)]
pub enum PartiesError {
    #[error("configuration key `parties[{index}].{key}`: {source}")]
    Key {
        index: usize,
        key: String,
        source: KeyError,
    },
    #[error("configuration key `parties[{index}].trusted_ca`: {message}")]
    Ca { index: usize, message: String },
}

impl Parties {
    pub fn load(config: &Config, provider: &Arc<CryptoProvider>) -> Result<Self, PartiesError> {
        let mut roots = RootCertStore::empty();
        let mut cas_per_party = Vec::new();
        for (index, party) in config.parties.iter().enumerate() {
            let certs =
                keys::certificates(&party.trusted_ca).map_err(|source| PartiesError::Key {
                    index,
                    key: "trusted_ca".into(),
                    source,
                })?;
            for cert in &certs {
                roots.add(cert.clone()).map_err(|e| PartiesError::Ca {
                    index,
                    message: format!("not a usable CA certificate: {e}"),
                })?;
            }
            cas_per_party.push(certs);
        }
        let all_cas: Vec<&CertificateDer> = dedup(cas_per_party.iter().flatten());
        let mut all = Vec::new();
        for (index, party) in config.parties.iter().enumerate() {
            let own_cas = dedup(cas_per_party[index].iter());
            let own_ca_verifier = if own_cas.len() == all_cas.len() {
                None
            } else {
                Some(own_verifier(&cas_per_party[index], provider, index)?)
            };
            all.push(Arc::new(build_party(
                config,
                party,
                index,
                own_ca_verifier,
            )?));
        }
        let by_common_name = config
            .parties
            .iter()
            .zip(&all)
            .map(|(cfg, party)| (cfg.certificate_common_name.clone(), party.clone()))
            .collect();
        let people = config
            .parties
            .iter()
            .zip(&all)
            .flat_map(|(cfg, party)| {
                cfg.people.iter().map(|person| {
                    let known = Person {
                        party: party.clone(),
                        user: format!("{}{}", super::token::PERSON_PREFIX, person.user).into(),
                        role: person.role,
                    };
                    (person.certificate_common_name.clone(), Arc::new(known))
                })
            })
            .collect();
        Ok(Self {
            all,
            by_common_name,
            people,
            roots: Arc::new(roots),
        })
    }

    pub fn by_common_name(&self, common_name: &str) -> Option<&Arc<Party>> {
        self.by_common_name.get(common_name)
    }

    pub fn person(&self, common_name: &str) -> Option<&Arc<Person>> {
        self.people.get(common_name)
    }

    pub fn by_id(&self, id: &str) -> Option<&Arc<Party>> {
        self.all.iter().find(|party| party.id.as_str() == id)
    }

    /// The configured name of a party, or its id for a party no longer configured.
    pub fn name_of(&self, id: &str) -> String {
        self.by_id(id)
            .map_or_else(|| id.to_owned(), |party| party.name.clone())
    }
}

fn dedup<'a>(
    certs: impl Iterator<Item = &'a CertificateDer<'static>>,
) -> Vec<&'a CertificateDer<'static>> {
    let mut unique: Vec<&CertificateDer> = Vec::new();
    for cert in certs {
        if !unique.iter().any(|seen| seen.as_ref() == cert.as_ref()) {
            unique.push(cert);
        }
    }
    unique
}

fn own_verifier(
    cas: &[CertificateDer<'static>],
    provider: &Arc<CryptoProvider>,
    index: usize,
) -> Result<Arc<dyn ClientCertVerifier>, PartiesError> {
    let mut roots = RootCertStore::empty();
    for cert in cas {
        roots.add(cert.clone()).map_err(|e| PartiesError::Ca {
            index,
            message: e.to_string(),
        })?;
    }
    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| PartiesError::Ca {
            index,
            message: e.to_string(),
        })
}

fn build_party(
    config: &Config,
    party: &PartyConfig,
    index: usize,
    own_ca_verifier: Option<Arc<dyn ClientCertVerifier>>,
) -> Result<Party, PartiesError> {
    let mut keys = Vec::new();
    for (k, key) in party.jwt_keys.iter().enumerate() {
        let algorithm = key.algorithm.to_jsonwebtoken();
        let decoding = keys::jwt_public_key(&key.public_key, key.algorithm).map_err(|source| {
            PartiesError::Key {
                index,
                key: format!("jwt_keys[{k}].public_key"),
                source,
            }
        })?;
        keys.push(PartyKey {
            kid: key.kid.clone(),
            algorithm,
            key: decoding,
            validation: validation(config, party, algorithm),
        });
    }
    let per_second = NonZeroU32::new(party.rate_per_second).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(party.rate_burst).unwrap_or(NonZeroU32::MIN);
    Ok(Party {
        index: index as u16,
        id: party.id.clone(),
        kind: party.kind,
        name: party.name.clone(),
        issuer: party.jwt_issuer.clone(),
        keys,
        limiter: RateLimiter::direct(Quota::per_second(per_second).allow_burst(burst)),
        rate_per_second: party.rate_per_second,
        own_ca_verifier,
        pins: CertificatePins {
            dns_names: party.certificate_dns_names.clone(),
            uris: party.certificate_uris.clone(),
            key_sha256: party.certificate_key_sha256.clone(),
        },
    })
}

/// What a token of `party` signed with `algorithm` must satisfy: exactly that algorithm, the
/// gateway's audience, the party's issuer, the leeway. Public so that the token fuzz target
/// verifies under the same rules as the server.
pub fn validation(config: &Config, party: &PartyConfig, algorithm: Algorithm) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.algorithms = vec![algorithm];
    validation.leeway = config.auth.leeway_seconds;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.validate_aud = true;
    validation.set_audience(&[&config.auth.audience]);
    validation.set_issuer(&[&party.jwt_issuer]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation
}
