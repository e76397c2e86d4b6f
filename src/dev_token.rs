//! Development tokens: what a party's identity provider would issue, signed with the key that
//! the development PKI generated for that party.

use crate::config::Config;
use crate::crypto::keys;
use anyhow::{Context, Result, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Header, encode};
use ring::digest::{SHA256, digest};
use serde_json::json;
use std::path::Path;

pub struct TokenRequest<'a> {
    pub party: &'a str,
    pub roles: &'a [String],
    pub user: &'a str,
    pub ttl_seconds: u64,
    /// A client certificate (PEM) to bind the token to (RFC 8705 `cnf.x5t#S256`).
    pub bind_certificate: Option<&'a Path>,
}

pub fn mint(config: &Config, pki_dir: &Path, request: &TokenRequest<'_>) -> Result<String> {
    crate::crypto::jwt_ring::install();
    let party = config
        .parties
        .iter()
        .find(|p| p.id.as_str() == request.party)
        .with_context(|| format!("no party {} in the configuration", request.party))?;
    let key_config = party.jwt_keys.first().context("the party has no JWT key")?;
    let key_file = pki_dir.join(format!("{}-jwt.key", request.party));
    let key = keys::jwt_signing_key(&key_file, key_config.algorithm)?;
    if request.ttl_seconds == 0 || request.ttl_seconds > config.auth.max_token_lifetime_seconds {
        bail!(
            "--ttl must be between 1 and {}",
            config.auth.max_token_lifetime_seconds
        );
    }
    let now = jsonwebtoken::get_current_timestamp();
    let mut claims = json!({
        "iss": party.jwt_issuer,
        "aud": config.auth.audience,
        "sub": request.user,
        "roles": request.roles,
        "iat": now,
        "nbf": now,
        "exp": now + request.ttl_seconds,
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    if let Some(path) = request.bind_certificate {
        let cert = keys::certificates(path)?.remove(0);
        let thumbprint = URL_SAFE_NO_PAD.encode(digest(&SHA256, cert.as_ref()));
        claims["cnf"] = json!({ "x5t#S256": thumbprint });
    }
    let mut header = Header::new(key_config.algorithm.to_jsonwebtoken());
    header.kid = Some(key_config.kid.clone());
    Ok(encode(&header, &claims, &key)?)
}
