//! Verifying a party's bearer token (product brief §2): signature by one of that party's
//! keys with the key's own algorithm, `iss` of that party, `aud` the gateway, `exp`/`nbf`/`iat`
//! within the leeway, a bounded lifetime, known roles, and optionally the RFC 8705 binding.

use super::parties::Party;
use super::token_cache::TokenCache;
use crate::config::AuthConfig;
use crate::domain::role::RoleSet;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use serde::Deserialize;
use std::sync::Arc;

/// What a verified token establishes, cached until it expires.
#[derive(Debug)]
pub struct VerifiedToken {
    pub party_index: u16,
    pub user: Arc<str>,
    pub roles: RoleSet,
    pub expires_at: u64,
    /// RFC 8705 `cnf.x5t#S256`: the SHA-256 of the certificate the token is bound to.
    pub bound_certificate: Option<[u8; 32]>,
}

/// Why a token was refused. The message is shown to the caller: it helps an integrator and
/// reveals nothing about keys or other parties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token's algorithm is not accepted for this party")]
    AlgorithmNotAccepted,
    #[error("the token names a key this party does not have")]
    UnknownKey,
    #[error("the token's signature does not verify with this party's keys")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token's audience is not this gateway")]
    WrongAudience,
    #[error("the token's issuer is not the identity provider of the client certificate's party")]
    WrongIssuer,
    #[error("a required claim (sub, iss, aud, exp, iat, roles) is missing or malformed")]
    MissingClaim,
    #[error("the token's lifetime exceeds the maximum")]
    LifetimeTooLong,
    #[error("the token names an unknown role")]
    UnknownRole,
    #[error("the token is not bound to the presented client certificate")]
    CertificateBinding,
    #[error("the token's typ header is not that of an access token (JWT or at+jwt)")]
    WrongType,
}

/// The prefix of the users known by a personal certificate, in the audit log and the rate
/// limits; no token's `sub` starts with it.
pub const PERSON_PREFIX: &str = "person:";

/// Whether a JWT's `typ` header names an access token: absent, `JWT`, or `at+jwt` (RFC 9068,
/// with or without `application/`), compared case-insensitively (RFC 8725 §3.11): a token
/// typed for something else (a logout or DPoP token of the same identity provider) is not
/// accepted in its place.
fn access_token_type(typ: Option<&str>) -> bool {
    typ.is_none_or(|t| {
        let t = t.to_ascii_lowercase();
        let t = t.strip_prefix("application/").unwrap_or(&t);
        t == "jwt" || t == "at+jwt"
    })
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    exp: u64,
    iat: u64,
    roles: Vec<String>,
    #[serde(default)]
    cnf: Option<Confirmation>,
}

#[derive(Deserialize)]
struct Confirmation {
    #[serde(rename = "x5t#S256")]
    x5t_s256: Option<String>,
}

pub struct TokenVerifier {
    leeway: u64,
    max_lifetime: u64,
    require_binding: bool,
    cache: TokenCache,
}

impl TokenVerifier {
    pub fn new(config: &AuthConfig) -> Self {
        Self {
            leeway: config.leeway_seconds,
            max_lifetime: config.max_token_lifetime_seconds,
            require_binding: config.require_certificate_binding,
            cache: TokenCache::new(config.token_cache_entries),
        }
    }

    /// Verifies `token` for `party` presented over a connection whose client certificate
    /// hashes to `certificate`. A token verified before is answered from the cache; its
    /// expiry and binding are still checked on every use.
    pub fn verify(
        &self,
        party: &Party,
        token: &str,
        certificate: &[u8; 32],
    ) -> Result<Arc<VerifiedToken>, TokenError> {
        let now = jsonwebtoken::get_current_timestamp();
        let verified = match self.cache.get(token, party.index) {
            Some(hit) => hit,
            None => {
                let verified = Arc::new(self.verify_uncached(party, token, now)?);
                self.cache.insert(token, verified.clone(), now);
                verified
            }
        };
        if verified.expires_at + self.leeway < now {
            return Err(TokenError::Expired);
        }
        match verified.bound_certificate {
            Some(bound) if &bound != certificate => return Err(TokenError::CertificateBinding),
            None if self.require_binding => return Err(TokenError::CertificateBinding),
            _ => {}
        }
        Ok(verified)
    }

    fn verify_uncached(
        &self,
        party: &Party,
        token: &str,
        now: u64,
    ) -> Result<VerifiedToken, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if !access_token_type(header.typ.as_deref()) {
            return Err(TokenError::WrongType);
        }
        let mut candidates = party
            .keys
            .iter()
            .filter(|key| header.kid.as_deref().is_none_or(|kid| kid == key.kid))
            .peekable();
        if candidates.peek().is_none() {
            return Err(TokenError::UnknownKey);
        }
        let mut outcome = Err(TokenError::AlgorithmNotAccepted);
        for key in candidates.filter(|key| key.algorithm == header.alg) {
            outcome = jsonwebtoken::decode::<Claims>(token, &key.key, &key.validation)
                .map(|data| data.claims)
                .map_err(|error| classify(error.kind()));
            if !matches!(outcome, Err(TokenError::BadSignature)) {
                break;
            }
        }
        let claims = outcome?;
        self.check_claims(party, claims, now)
    }

    fn check_claims(
        &self,
        party: &Party,
        claims: Claims,
        now: u64,
    ) -> Result<VerifiedToken, TokenError> {
        if claims.iat > now + self.leeway {
            return Err(TokenError::NotYetValid);
        }
        if claims.exp.saturating_sub(claims.iat) > self.max_lifetime {
            return Err(TokenError::LifetimeTooLong);
        }
        // `person:` is the namespace of personal certificates (the review pages): a token's
        // `sub` may not enter it, so that the two never share a name in the audit log or a
        // rate limit.
        let user_ok = !claims.sub.is_empty()
            && claims.sub.len() <= 256
            && !claims.sub.starts_with(PERSON_PREFIX)
            && !claims.sub.chars().any(char::is_control);
        if !user_ok {
            return Err(TokenError::MissingClaim);
        }
        let roles = RoleSet::parse(claims.roles.iter().map(String::as_str))
            .map_err(|_| TokenError::UnknownRole)?;
        let bound_certificate = match claims.cnf.and_then(|cnf| cnf.x5t_s256) {
            None => None,
            Some(thumbprint) => Some(
                URL_SAFE_NO_PAD
                    .decode(thumbprint)
                    .ok()
                    .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                    .ok_or(TokenError::CertificateBinding)?,
            ),
        };
        Ok(VerifiedToken {
            party_index: party.index,
            user: claims.sub.into(),
            roles,
            expires_at: claims.exp,
            bound_certificate,
        })
    }
}

fn classify(kind: &ErrorKind) -> TokenError {
    match kind {
        ErrorKind::InvalidSignature => TokenError::BadSignature,
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::ImmatureSignature => TokenError::NotYetValid,
        ErrorKind::InvalidAudience => TokenError::WrongAudience,
        ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
            TokenError::AlgorithmNotAccepted
        }
        ErrorKind::MissingRequiredClaim(_)
        | ErrorKind::InvalidClaimFormat(_)
        | ErrorKind::Json(_) => TokenError::MissingClaim,
        _ => TokenError::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use super::access_token_type;

    #[test]
    fn only_an_access_token_type_is_accepted_rfc_8725() {
        for typ in [
            None,
            Some("JWT"),
            Some("jwt"),
            Some("at+jwt"),
            Some("application/at+JWT"),
        ] {
            assert!(access_token_type(typ), "{typ:?}");
        }
        for typ in [Some("logout+jwt"), Some("dpop+jwt"), Some("JWE"), Some("")] {
            assert!(!access_token_type(typ), "{typ:?}");
        }
    }
}
