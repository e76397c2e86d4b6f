//! The `Idempotency-Key` of a request (IETF draft-ietf-httpapi-idempotency-key-header): a
//! structured-field String (RFC 8941 §3.3.3) that a caller sends so that retrying a POST
//! cannot make a second referral, consent or infraction. Built only by parsing; kept, and
//! compared, only as digests: the key is the caller's free text and may hold anything, so it
//! is never stored, logged or echoed.

use ring::digest::{Context, SHA256};

/// Characters between the quotes, at most. Generous for a UUID or a ULID with a prefix, small
/// enough that a key cannot carry a payload.
pub const MAX_KEY_CHARS: usize = 255;

/// A well-formed key: the string's value, its escapes undone.
#[derive(Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

/// Why a header is not a key; says nothing of the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("must be a structured-field string: printable ASCII between double quotes")]
    NotAString,
    #[error("must not be empty")]
    Empty,
    #[error("must be at most 255 characters")]
    TooLong,
}

impl std::fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdempotencyKey(..)")
    }
}

impl IdempotencyKey {
    /// Parses the header's bytes as RFC 8941 parses a bare String item: optional spaces
    /// around, `"` … `"`, only `%x20-7E` inside, `\` escaping only `"` and `\`. Parameters
    /// (`;a=1`) are not part of this header's value and are refused with the rest.
    pub fn parse(header: &[u8]) -> Result<Self, KeyError> {
        let inner = header
            .trim_ascii()
            .strip_prefix(b"\"")
            .and_then(|rest| rest.strip_suffix(b"\""))
            .ok_or(KeyError::NotAString)?;
        let mut value = String::with_capacity(inner.len());
        let mut bytes = inner.iter();
        while let Some(&byte) = bytes.next() {
            match byte {
                b'\\' => match bytes.next() {
                    Some(&escaped @ (b'"' | b'\\')) => value.push(escaped as char),
                    _ => return Err(KeyError::NotAString),
                },
                b'"' => return Err(KeyError::NotAString),
                0x20..=0x7e => value.push(byte as char),
                _ => return Err(KeyError::NotAString),
            }
        }
        if value.is_empty() {
            Err(KeyError::Empty)
        } else if value.len() > MAX_KEY_CHARS {
            Err(KeyError::TooLong)
        } else {
            Ok(Self(value))
        }
    }

    /// Where the key is kept: a digest of the key under its owner, the party and the user.
    /// One caller's key never finds another's answer, and the stored name reveals no key.
    pub fn scoped_digest(&self, party: &str, user: &str) -> String {
        digest_of(&[
            b"idempotency-key",
            party.as_bytes(),
            user.as_bytes(),
            self.0.as_bytes(),
        ])
    }
}

/// What makes two requests the same request: method, path and query, processing purpose and
/// body. The same key with another fingerprint is a caller's mistake (422), not a retry.
pub fn fingerprint(method: &str, path_and_query: &str, purpose: &str, body: &[u8]) -> String {
    digest_of(&[
        b"request",
        method.as_bytes(),
        path_and_query.as_bytes(),
        purpose.as_bytes(),
        body,
    ])
}

/// SHA-256 of the parts, each preceded by its length so that no two splits collide, in hex.
fn digest_of(parts: &[&[u8]]) -> String {
    let mut context = Context::new(&SHA256);
    for part in parts {
        context.update(&(part.len() as u64).to_be_bytes());
        context.update(part);
    }
    context
        .finish()
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quoted_uuid_is_a_key() {
        let key = IdempotencyKey::parse(b"\"8e03978e-40d5-43e8-bc93-6894a57f9324\"").unwrap();
        assert_eq!(key.0, "8e03978e-40d5-43e8-bc93-6894a57f9324");
        assert_eq!(IdempotencyKey::parse(b"  \"a b\"  ").unwrap().0, "a b");
    }

    #[test]
    fn escapes_are_undone_and_only_quote_and_backslash_escape() {
        assert_eq!(IdempotencyKey::parse(br#""a\"b\\c""#).unwrap().0, "a\"b\\c");
        assert_eq!(
            IdempotencyKey::parse(br#""a\nb""#),
            Err(KeyError::NotAString)
        );
        assert_eq!(IdempotencyKey::parse(br#""a\""#), Err(KeyError::NotAString));
        assert_eq!(
            IdempotencyKey::parse(br#""a"b""#),
            Err(KeyError::NotAString)
        );
    }

    #[test]
    fn a_key_that_is_not_a_printable_ascii_string_is_refused() {
        for header in [
            &b"unquoted"[..],
            b"\"open",
            b"\"tab\there\"",
            "\"\u{e9}\"".as_bytes(),
            b"\"a\";p=1",
            b"\"\x7f\"",
        ] {
            assert_eq!(IdempotencyKey::parse(header), Err(KeyError::NotAString));
        }
        assert_eq!(IdempotencyKey::parse(b"\"\""), Err(KeyError::Empty));
        let long = format!("\"{}\"", "k".repeat(MAX_KEY_CHARS + 1));
        assert_eq!(
            IdempotencyKey::parse(long.as_bytes()),
            Err(KeyError::TooLong)
        );
        let longest = format!("\"{}\"", "k".repeat(MAX_KEY_CHARS));
        assert!(IdempotencyKey::parse(longest.as_bytes()).is_ok());
    }

    #[test]
    fn a_key_belongs_to_its_party_and_user() {
        let key = IdempotencyKey::parse(b"\"k\"").unwrap();
        let own = key.scoped_digest("ocmw-gent", "sw-1");
        assert_eq!(own, key.scoped_digest("ocmw-gent", "sw-1"));
        assert_ne!(own, key.scoped_digest("ocmw-gent", "sw-2"));
        assert_ne!(own, key.scoped_digest("amal", "sw-1"));
        assert_eq!(own.len(), 64);
        assert_eq!(format!("{key:?}"), "IdempotencyKey(..)");
    }

    #[test]
    fn requests_differing_in_any_part_have_other_fingerprints() {
        let base = fingerprint("POST", "/v1/referrals", "referral", b"{}");
        assert_ne!(
            base,
            fingerprint("POST", "/v1/referral", "sreferral", b"{}")
        );
        assert_ne!(
            base,
            fingerprint("POST", "/v1/referrals", "referral", b"{ }")
        );
        assert_ne!(
            base,
            fingerprint("POST", "/v1/referrals", "monitoring", b"{}")
        );
        assert_eq!(
            base,
            fingerprint("POST", "/v1/referrals", "referral", b"{}")
        );
    }
}
