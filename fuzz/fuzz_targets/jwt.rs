//! Bearer tokens as a party presents them, verified by the server's `TokenVerifier` for a
//! party of the development configuration whose key this target holds. The first byte picks
//! what the rest is:
//!
//! - 0: a token as sent, any text;
//! - 1: a header and claims of any bytes (split at the first 0xFF), correctly signed, so that
//!   their decoding is reached behind the signature;
//! - 2: lines giving `sub`, the roles (comma-separated), the `cnf` thumbprint, the `typ` and
//!   the lifetime of a token signed now, so that the claim checks are reached.
//!
//! A token that verifies names a user within the rules: not empty, at most 256 bytes, no
//! control character, never in the namespace of personal certificates.

#![no_main]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use figment::Figment;
use figment::providers::{Format, Toml};
use gateway::auth::parties::{CertificatePins, Party, PartyKey, validation};
use gateway::auth::token::{PERSON_PREFIX, TokenVerifier};
use gateway::config::Config;
use governor::{Quota, RateLimiter};
use jsonwebtoken::{Algorithm, DecodingKey};
use libfuzzer_sys::fuzz_target;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::json;
use std::num::NonZeroU32;
use std::sync::OnceLock;

/// The certificate hash of the connection the tokens arrive on.
const CERTIFICATE: [u8; 32] = [0x5a; 32];

struct Fixture {
    verifier: TokenVerifier,
    party: Party,
    signer: Ed25519KeyPair,
    audience: String,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        gateway::crypto::jwt_ring::install();
        let mut config: Config = Figment::new()
            .merge(Toml::string(include_str!("../../config/default.toml")))
            .merge(Toml::string(include_str!("../../config/dev.toml")))
            .extract()
            .expect("the development configuration");
        // Few entries, so that the cache's eviction is exercised too.
        config.auth.token_cache_entries = 64;
        let party_config = &config.parties[0];
        let signer = Ed25519KeyPair::from_seed_unchecked(&[7; 32]).expect("an Ed25519 seed");
        let key = PartyKey {
            kid: party_config.jwt_keys[0].kid.clone(),
            algorithm: Algorithm::EdDSA,
            key: DecodingKey::from_ed_der(signer.public_key().as_ref()),
            validation: validation(&config, party_config, Algorithm::EdDSA),
        };
        let party = Party {
            index: 0,
            id: party_config.id.clone(),
            kind: party_config.kind,
            name: party_config.name.clone(),
            issuer: party_config.jwt_issuer.clone(),
            keys: vec![key],
            limiter: RateLimiter::direct(Quota::per_second(NonZeroU32::MIN)),
            rate_per_second: 1,
            own_ca_verifier: None,
            pins: CertificatePins::default(),
        };
        Fixture {
            verifier: TokenVerifier::new(&config.auth),
            party,
            signer,
            audience: config.auth.audience.clone(),
        }
    })
}

fn sign(fixture: &Fixture, header: &[u8], claims: &[u8]) -> String {
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let signature = fixture.signer.sign(signed.as_bytes());
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
}

/// Verifies `token` and checks what a verified token says.
fn verify(fixture: &Fixture, token: &str) -> bool {
    let Ok(verified) = fixture.verifier.verify(&fixture.party, token, &CERTIFICATE) else {
        return false;
    };
    let user = &*verified.user;
    assert!(
        !user.is_empty() && user.len() <= 256,
        "user of {} bytes",
        user.len()
    );
    assert!(
        !user.starts_with(PERSON_PREFIX),
        "a token entered the personal namespace"
    );
    assert!(
        !user.chars().any(char::is_control),
        "a control character in the user"
    );
    assert_eq!(verified.party_index, fixture.party.index);
    assert!(matches!(
        verified.bound_certificate,
        None | Some(CERTIFICATE)
    ));
    // The second time comes from the cache, with the same answer.
    let again = fixture.verifier.verify(&fixture.party, token, &CERTIFICATE);
    assert!(again.is_ok_and(|a| a.user == verified.user && a.roles == verified.roles));
    true
}

fn structured(fixture: &Fixture, rest: &[u8]) {
    let text = String::from_utf8_lossy(rest);
    let mut lines = text.split('\n');
    let sub = lines.next().unwrap_or_default();
    let roles: Vec<&str> = lines
        .next()
        .unwrap_or("caseWorker")
        .split(',')
        .filter(|r| !r.is_empty())
        .collect();
    let thumbprint = lines.next().filter(|t| !t.is_empty());
    let typ = lines.next().filter(|t| !t.is_empty());
    let lifetime = lines
        .next()
        .and_then(|l| l.parse::<u64>().ok())
        .unwrap_or(300);
    let now = jsonwebtoken::get_current_timestamp();
    let mut header = json!({"alg": "EdDSA", "kid": fixture.party.keys[0].kid});
    if let Some(typ) = typ {
        header["typ"] = typ.into();
    }
    let mut claims = json!({
        "sub": sub,
        "iss": fixture.party.issuer,
        "aud": fixture.audience,
        "iat": now,
        "exp": now.saturating_add(lifetime),
        "roles": roles,
    });
    if let Some(thumbprint) = thumbprint {
        claims["cnf"] = json!({"x5t#S256": thumbprint});
    }
    let token = sign(
        fixture,
        header.to_string().as_bytes(),
        claims.to_string().as_bytes(),
    );
    if verify(fixture, &token) {
        assert_eq!(
            fixture
                .verifier
                .verify(&fixture.party, &token, &CERTIFICATE)
                .map(|v| v.user.to_string())
                .ok()
                .as_deref(),
            Some(sub)
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let fixture = fixture();
    match mode % 3 {
        0 => {
            if let Ok(token) = std::str::from_utf8(rest) {
                verify(fixture, token);
            }
        }
        1 => {
            let (header, claims) = match rest.iter().position(|b| *b == 0xff) {
                Some(at) => (&rest[..at], &rest[at + 1..]),
                None => (&b"{\"alg\":\"EdDSA\",\"typ\":\"JWT\"}"[..], rest),
            };
            verify(fixture, &sign(fixture, header, claims));
        }
        _ => structured(fixture, rest),
    }
});
