//! Tokens that prove a form was served by these pages to this officer, so that another site
//! cannot make the officer's browser (which presents its certificate to anyone who asks)
//! start anything here. A token is an expiry and an HMAC over the officer's certificate and
//! that expiry; the key is derived from the gateway's field-encryption key, so every
//! instance accepts the tokens of every other and none is stored.

use ring::hmac;

/// How long a served form may be submitted.
const LIFETIME_SECONDS: i64 = 8 * 3600;

pub struct FormTokens {
    key: hmac::Key,
}

impl FormTokens {
    /// A key of its own, derived so that the tokens never reveal the key it comes from.
    pub fn derive(secret: &[u8; 32]) -> Self {
        let derived = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, secret),
            b"ui form tokens v1",
        );
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
        }
    }

    /// A token for the officer with this certificate, at unix time `now`.
    pub fn issue(&self, certificate_sha256: &[u8; 32], now: i64) -> String {
        let expires = now + LIFETIME_SECONDS;
        format!(
            "{expires}.{}",
            hex(hmac::sign(&self.key, &message(certificate_sha256, expires)).as_ref())
        )
    }

    /// Whether `token` was issued to this certificate and has not expired at `now`.
    pub fn check(&self, certificate_sha256: &[u8; 32], token: &str, now: i64) -> bool {
        let Some((expires, mac)) = token.split_once('.') else {
            return false;
        };
        let Ok(expires) = expires.parse::<i64>() else {
            return false;
        };
        let Some(mac) = unhex(mac) else {
            return false;
        };
        expires > now
            && expires <= now + LIFETIME_SECONDS
            && hmac::verify(&self.key, &message(certificate_sha256, expires), &mac).is_ok()
    }
}

fn message(certificate_sha256: &[u8; 32], expires: i64) -> [u8; 40] {
    let mut message = [0u8; 40];
    message[..32].copy_from_slice(certificate_sha256);
    message[32..].copy_from_slice(&expires.to_be_bytes());
    message
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_790_000_000;

    #[test]
    fn a_token_holds_for_its_officer_until_it_expires() {
        let tokens = FormTokens::derive(&[7; 32]);
        let token = tokens.issue(&[1; 32], NOW);
        assert!(tokens.check(&[1; 32], &token, NOW + 60));
        assert!(!tokens.check(&[2; 32], &token, NOW + 60), "another officer");
        assert!(
            !tokens.check(&[1; 32], &token, NOW + LIFETIME_SECONDS),
            "expired"
        );
    }

    #[test]
    fn a_token_from_another_key_or_altered_is_refused() {
        let token = FormTokens::derive(&[7; 32]).issue(&[1; 32], NOW);
        assert!(!FormTokens::derive(&[8; 32]).check(&[1; 32], &token, NOW));
        let tokens = FormTokens::derive(&[7; 32]);
        let (expires, mac) = token.split_once('.').unwrap();
        let later = format!("{}.{mac}", expires.parse::<i64>().unwrap() + 60);
        assert!(!tokens.check(&[1; 32], &later, NOW));
        for bad in ["", ".", "x.y", &format!("{expires}.{}", &mac[..62])] {
            assert!(!tokens.check(&[1; 32], bad, NOW), "{bad}");
        }
    }
}
