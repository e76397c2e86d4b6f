//! Signing and verification of webhook deliveries.
//!
//! Deliveries are signed with the asymmetric (Ed25519, signature version `v1a`) variant of the
//! [Standard Webhooks](https://www.standardwebhooks.com) specification 1.0.0. Receivers need only
//! the gateway's public key(s); no shared secret exists.
//!
//! # How a receiver verifies a delivery
//!
//! 1. **Trust list.** Obtain the gateway's public key(s) out of band and configure them. A public
//!    key is written `whpk_` followed by the standard (padded) base64 of the 32-byte raw Ed25519
//!    public key, e.g. `whpk_` + 44 base64 characters. Never use a key that arrives with the
//!    request itself.
//! 2. **Headers.** Every delivery is an HTTP `POST` carrying three headers, all required:
//!    - `webhook-id`: the event id. It is stable: every retry of the same event carries the same
//!      id, so use it as an idempotency key (remember ids you have processed for longer than the
//!      tolerance below). It is 1 to 256 bytes of visible ASCII and never contains `.`.
//!    - `webhook-timestamp`: the time of this delivery attempt, in integer Unix seconds
//!      (decimal digits only, no sign, no leading zeros). Each retry has a new timestamp and a
//!      new signature.
//!    - `webhook-signature`: one or more space-separated entries of the form
//!      `<version>,<signature>`.
//! 3. **Freshness.** Reject the delivery if the timestamp differs from your current clock by more
//!    than the tolerance in *either* direction (too old is a replay; too far in the future is a
//!    forgery or a broken clock). The recommended tolerance is 5 minutes (300 seconds); a
//!    difference of exactly the tolerance is still accepted. Check this before anything else
//!    that is expensive.
//! 4. **Signed content.** The signed bytes are the `webhook-id` value, a full stop (`.`), the
//!    `webhook-timestamp` value exactly as received, another full stop, and then the raw HTTP
//!    request body exactly as received, byte for byte:
//!    `{webhook-id}.{webhook-timestamp}.{body}`. Take the body before any JSON parsing: parsing
//!    and re-serialising it changes the bytes and the signature will not match.
//! 5. **Signatures.** Split `webhook-signature` on spaces. Skip every entry whose version is not
//!    `v1a` (for example `v1,...` entries are HMAC-SHA256 signatures of the symmetric variant; they
//!    are not errors, just not for you). For each `v1a` entry, base64-decode (standard alphabet,
//!    with padding) the part after the comma into a 64-byte Ed25519 signature and verify it
//!    (plain Ed25519 as in RFC 8032, not Ed25519ph) over the signed content with each trusted
//!    public key. The delivery is authentic if **any** `v1a` entry verifies with **any**
//!    trusted key; otherwise reject it. A header with no `v1a` entry at all is rejected.
//! 6. **Key rotation.** While the gateway rotates its signing key, it signs every delivery with
//!    the new key and with the old one and sends both signatures in `webhook-signature`, the
//!    current key's first. Add the new public key to your trust list as soon as it is announced,
//!    keep the old one until the rotation is declared finished, then remove it. Because any
//!    single match suffices, deliveries keep verifying throughout.
//!
//! Answer with a `2xx` status only after the delivery verified and was stored; any other status
//! makes the gateway retry later with the same `webhook-id`.
//!
//! # In this crate
//!
//! [`WebhookSigner`] produces the `webhook-signature` value; [`verify`] is the receiver procedure
//! above, taking `now` and the tolerance explicitly so it stays deterministic. The sender must
//! pass an id that satisfies [`validate_id`], and must sign each attempt afresh with the
//! attempt's own timestamp.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};

/// Header carrying the stable event id.
pub const HEADER_ID: &str = "webhook-id";
/// Header carrying the delivery attempt's Unix time in seconds.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// Header carrying the space-separated list of versioned signatures.
pub const HEADER_SIGNATURE: &str = "webhook-signature";
/// Signature identifier of the asymmetric (Ed25519) scheme.
pub const SIGNATURE_VERSION: &str = "v1a";
/// Prefix of a public key in text form.
pub const PUBLIC_KEY_PREFIX: &str = "whpk_";
/// Prefix of a secret (signing) key in text form; never accepted where a public key belongs.
pub const SECRET_KEY_PREFIX: &str = "whsk_";
/// Recommended tolerance between the delivery timestamp and the receiver's clock.
pub const DEFAULT_TOLERANCE_SECONDS: u64 = 5 * 60;
/// Longest accepted `webhook-id`, in bytes.
pub const MAX_ID_LEN: usize = 256;
/// Most entries accepted in one `webhook-signature` header (bounds the verification work).
pub const MAX_SIGNATURE_ENTRIES: usize = 16;

const PUBLIC_KEY_LEN: usize = 32;
const SIGNATURE_LEN: usize = 64;
/// `u64::MAX` has 20 decimal digits.
const MAX_TIMESTAMP_DIGITS: usize = 20;

/// Why a key could not be loaded or a delivery did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The `webhook-id` is empty, too long, or has a forbidden character.
    #[error("invalid webhook-id: {0}")]
    InvalidId(&'static str),
    /// The `webhook-timestamp` is not a plain decimal count of Unix seconds.
    #[error(
        "invalid webhook-timestamp: expected Unix seconds as decimal digits without sign or leading zeros"
    )]
    InvalidTimestamp,
    /// The delivery is older than the tolerance allows (possible replay).
    #[error(
        "webhook-timestamp {timestamp} is more than {tolerance} s before the current time {now} (possible replay)"
    )]
    TimestampTooOld {
        /// The delivery's timestamp.
        timestamp: u64,
        /// The receiver's clock.
        now: u64,
        /// The tolerance in seconds.
        tolerance: u64,
    },
    /// The delivery claims a time further in the future than the tolerance allows.
    #[error(
        "webhook-timestamp {timestamp} is more than {tolerance} s after the current time {now}"
    )]
    TimestampTooNew {
        /// The delivery's timestamp.
        timestamp: u64,
        /// The receiver's clock.
        now: u64,
        /// The tolerance in seconds.
        tolerance: u64,
    },
    /// The `webhook-signature` header does not follow `version,signature[ version,signature...]`.
    #[error("malformed webhook-signature header: {0}")]
    MalformedSignatureHeader(&'static str),
    /// The header is well formed but carries no `v1a` (Ed25519) signature.
    #[error("webhook-signature header carries no v1a (Ed25519) signature")]
    NoSupportedSignature,
    /// No `v1a` signature verified with any trusted public key.
    #[error("no v1a signature in webhook-signature verifies with a trusted public key")]
    NoMatchingSignature,
    /// The verifier was given an empty trust list.
    #[error("no trusted public keys are configured for webhook verification")]
    NoPublicKeys,
    /// A public key's text form could not be parsed.
    #[error("invalid webhook public key: {0}")]
    InvalidPublicKey(&'static str),
    /// A signing key was not a usable Ed25519 PKCS#8 document.
    #[error("invalid Ed25519 PKCS#8 signing key: {0}")]
    InvalidSigningKey(String),
    /// The same signing key was added to a signer twice.
    #[error("signing key {0} is already in use by this signer")]
    DuplicateSigningKey(String),
}

/// A trusted Ed25519 public key, written `whpk_<standard base64 of the 32 raw bytes>`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PublicKey([u8; PUBLIC_KEY_LEN]);

impl PublicKey {
    /// Parses the `whpk_...` text form. Surrounding whitespace is ignored; the prefix is
    /// required, and a `whsk_` secret key is refused with an explanatory error.
    ///
    /// # Errors
    ///
    /// [`SignatureError::InvalidPublicKey`] if the text is not `whpk_` followed by the standard
    /// padded base64 of exactly 32 bytes.
    pub fn parse(text: &str) -> Result<Self, SignatureError> {
        let text = text.trim();
        if text.starts_with(SECRET_KEY_PREFIX) {
            return Err(SignatureError::InvalidPublicKey(
                "this is a `whsk_` secret key; receivers need the `whpk_` public key",
            ));
        }
        let encoded = text
            .strip_prefix(PUBLIC_KEY_PREFIX)
            .ok_or(SignatureError::InvalidPublicKey("missing `whpk_` prefix"))?;
        let bytes = STANDARD.decode(encoded).map_err(|_| {
            SignatureError::InvalidPublicKey("not standard base64 with padding after `whpk_`")
        })?;
        let raw: [u8; PUBLIC_KEY_LEN] = bytes
            .try_into()
            .map_err(|_| SignatureError::InvalidPublicKey("an Ed25519 public key is 32 bytes"))?;
        Ok(Self(raw))
    }

    /// Wraps the 32 raw bytes of an Ed25519 public key.
    #[must_use]
    pub fn from_bytes(raw: [u8; PUBLIC_KEY_LEN]) -> Self {
        Self(raw)
    }

    /// The 32 raw bytes of the key.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; PUBLIC_KEY_LEN] {
        &self.0
    }

    fn verifies(&self, message: &[u8], signature: &[u8; SIGNATURE_LEN]) -> bool {
        UnparsedPublicKey::new(&ED25519, &self.0)
            .verify(message, signature)
            .is_ok()
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PUBLIC_KEY_PREFIX}{}", STANDARD.encode(self.0))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl FromStr for PublicKey {
    type Err = SignatureError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// Signs deliveries with the current Ed25519 key and, during a rotation, with previous keys too.
pub struct WebhookSigner {
    /// The current key first, then the additional (previous) keys in the order they were added.
    keys: Vec<Ed25519KeyPair>,
}

impl WebhookSigner {
    /// A signer whose current key is the given Ed25519 PKCS#8 document (v1 or v2, DER).
    ///
    /// # Errors
    ///
    /// [`SignatureError::InvalidSigningKey`] if ring rejects the document.
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, SignatureError> {
        Ok(Self {
            keys: vec![load_key(pkcs8)?],
        })
    }

    /// Also signs with another key (typically the previous one while receivers switch over).
    /// Its signature follows the current key's in the header. Adding a key that is already in
    /// use is refused.
    ///
    /// # Errors
    ///
    /// [`SignatureError::InvalidSigningKey`] if ring rejects the document, or
    /// [`SignatureError::DuplicateSigningKey`] if the signer already holds that key.
    pub fn with_additional(mut self, pkcs8: &[u8]) -> Result<Self, SignatureError> {
        let key = load_key(pkcs8)?;
        let public = key.public_key().as_ref();
        if self.keys.iter().any(|k| k.public_key().as_ref() == public) {
            return Err(SignatureError::DuplicateSigningKey(public_key_text(&key)));
        }
        self.keys.push(key);
        Ok(self)
    }

    /// The `webhook-signature` header value for one delivery attempt: one `v1a,<base64>` entry
    /// per key, space-separated, the current key's first.
    ///
    /// `id` must satisfy [`validate_id`] (receivers reject anything else) and `timestamp` is the
    /// attempt's own Unix time in seconds, sent verbatim as `webhook-timestamp`.
    #[must_use]
    pub fn sign(&self, id: &str, timestamp: u64, body: &[u8]) -> String {
        let message = signed_content(id, &timestamp.to_string(), body);
        self.keys
            .iter()
            .map(|key| {
                format!(
                    "{SIGNATURE_VERSION},{}",
                    STANDARD.encode(key.sign(&message).as_ref())
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The public keys in `whpk_` text form, current first, to publish to receivers.
    #[must_use]
    pub fn public_keys(&self) -> Vec<String> {
        self.keys.iter().map(public_key_text).collect()
    }
}

impl fmt::Debug for WebhookSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookSigner")
            .field("public_keys", &self.public_keys())
            .finish()
    }
}

fn load_key(pkcs8: &[u8]) -> Result<Ed25519KeyPair, SignatureError> {
    Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
        .map_err(|rejected| SignatureError::InvalidSigningKey(rejected.to_string()))
}

fn public_key_text(key: &Ed25519KeyPair) -> String {
    format!(
        "{PUBLIC_KEY_PREFIX}{}",
        STANDARD.encode(key.public_key().as_ref())
    )
}

/// `{id}.{timestamp}.{body}` as bytes; the body is taken verbatim.
fn signed_content(id: &str, timestamp: &str, body: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(id.len() + timestamp.len() + body.len() + 2);
    message.extend_from_slice(id.as_bytes());
    message.push(b'.');
    message.extend_from_slice(timestamp.as_bytes());
    message.push(b'.');
    message.extend_from_slice(body);
    message
}

/// Checks a `webhook-id`: 1 to [`MAX_ID_LEN`] bytes of visible ASCII (no spaces or control
/// characters) and no `.`, which the specification forbids so that the id cannot shift the
/// boundaries of the signed content.
///
/// # Errors
///
/// [`SignatureError::InvalidId`] naming the violated rule.
pub fn validate_id(id: &str) -> Result<(), SignatureError> {
    if id.is_empty() {
        return Err(SignatureError::InvalidId("empty"));
    }
    if id.len() > MAX_ID_LEN {
        return Err(SignatureError::InvalidId("longer than 256 bytes"));
    }
    if id.contains('.') {
        return Err(SignatureError::InvalidId("contains `.`"));
    }
    if !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(SignatureError::InvalidId(
            "contains a character other than visible ASCII",
        ));
    }
    Ok(())
}

/// Parses a canonical decimal timestamp, so that the header text and the number agree.
fn parse_timestamp(header: &str) -> Result<u64, SignatureError> {
    let canonical = !header.is_empty()
        && header.len() <= MAX_TIMESTAMP_DIGITS
        && header.bytes().all(|b| b.is_ascii_digit())
        && (header == "0" || !header.starts_with('0'));
    if !canonical {
        return Err(SignatureError::InvalidTimestamp);
    }
    header
        .parse::<u64>()
        .map_err(|_| SignatureError::InvalidTimestamp)
}

fn check_freshness(timestamp: u64, now: u64, tolerance: u64) -> Result<(), SignatureError> {
    if timestamp < now && now - timestamp > tolerance {
        return Err(SignatureError::TimestampTooOld {
            timestamp,
            now,
            tolerance,
        });
    }
    if timestamp > now && timestamp - now > tolerance {
        return Err(SignatureError::TimestampTooNew {
            timestamp,
            now,
            tolerance,
        });
    }
    Ok(())
}

/// Checks the whole header's shape and returns the decoded `v1a` signatures.
fn parse_signature_header(header: &str) -> Result<Vec<[u8; SIGNATURE_LEN]>, SignatureError> {
    let mut signatures = Vec::new();
    let mut entries = 0usize;
    for entry in header.split(' ').filter(|entry| !entry.is_empty()) {
        entries += 1;
        if entries > MAX_SIGNATURE_ENTRIES {
            return Err(SignatureError::MalformedSignatureHeader(
                "more than 16 signature entries",
            ));
        }
        let (version, value) =
            entry
                .split_once(',')
                .ok_or(SignatureError::MalformedSignatureHeader(
                    "an entry is not of the form `version,signature`",
                ))?;
        if version.is_empty() || !version.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(SignatureError::MalformedSignatureHeader(
                "an entry's version is empty or not alphanumeric",
            ));
        }
        if value.is_empty() || value.contains(',') || !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(SignatureError::MalformedSignatureHeader(
                "an entry's signature is empty or has an invalid character",
            ));
        }
        if version != SIGNATURE_VERSION {
            continue; // e.g. `v1` (HMAC-SHA256) or a future scheme: not ours to check
        }
        let signature: [u8; SIGNATURE_LEN] = STANDARD
            .decode(value)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(SignatureError::MalformedSignatureHeader(
                "a v1a signature is not 64 bytes in standard padded base64",
            ))?;
        signatures.push(signature);
    }
    if entries == 0 {
        return Err(SignatureError::MalformedSignatureHeader("empty"));
    }
    Ok(signatures)
}

/// Verifies one delivery as described in the module documentation.
///
/// `timestamp_header` and `signature_header` are the raw `webhook-timestamp` and
/// `webhook-signature` values, `id` the `webhook-id` value, `body` the raw request body, `now`
/// the receiver's clock in Unix seconds and `tolerance_seconds` the accepted clock difference in
/// either direction (see [`DEFAULT_TOLERANCE_SECONDS`]). Succeeds if any `v1a` entry verifies
/// with any of `public_keys`; entries of other versions are skipped.
///
/// # Errors
///
/// In the order checked: [`SignatureError::NoPublicKeys`], [`SignatureError::InvalidId`],
/// [`SignatureError::InvalidTimestamp`], [`SignatureError::TimestampTooOld`] /
/// [`SignatureError::TimestampTooNew`], [`SignatureError::MalformedSignatureHeader`] (the whole
/// header must be well formed, including entries of other versions),
/// [`SignatureError::NoSupportedSignature`] and finally [`SignatureError::NoMatchingSignature`].
pub fn verify(
    public_keys: &[PublicKey],
    id: &str,
    timestamp_header: &str,
    signature_header: &str,
    body: &[u8],
    now: u64,
    tolerance_seconds: u64,
) -> Result<(), SignatureError> {
    if public_keys.is_empty() {
        return Err(SignatureError::NoPublicKeys);
    }
    validate_id(id)?;
    let timestamp = parse_timestamp(timestamp_header)?;
    check_freshness(timestamp, now, tolerance_seconds)?;
    let signatures = parse_signature_header(signature_header)?;
    if signatures.is_empty() {
        return Err(SignatureError::NoSupportedSignature);
    }
    let message = signed_content(id, timestamp_header, body);
    let authentic = signatures.iter().any(|signature| {
        public_keys
            .iter()
            .any(|key| key.verifies(&message, signature))
    });
    if authentic {
        Ok(())
    } else {
        Err(SignatureError::NoMatchingSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    const NOW: u64 = 1_700_000_000;
    const TOLERANCE: u64 = DEFAULT_TOLERANCE_SECONDS;
    const ID: &str = "evt_01J9Z8Q4T3X5M2N7P6R1S0V8W4";
    const BODY: &[u8] = br#"{"type":"client.updated","data":{"id":"42"}}"#;

    /// Wraps a 32-byte seed in a PKCS#8 v1 document (RFC 8410), the form ring accepts.
    fn pkcs8_from_seed(seed: [u8; 32]) -> Vec<u8> {
        let mut der = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        der.extend_from_slice(&seed);
        der
    }

    fn current_pkcs8() -> Vec<u8> {
        pkcs8_from_seed([0x11; 32])
    }

    fn previous_pkcs8() -> Vec<u8> {
        pkcs8_from_seed([0x22; 32])
    }

    fn keys_of(signer: &WebhookSigner) -> Vec<PublicKey> {
        signer
            .public_keys()
            .iter()
            .map(|text| PublicKey::parse(text).unwrap())
            .collect()
    }

    fn signer() -> WebhookSigner {
        WebhookSigner::from_pkcs8(&current_pkcs8()).unwrap()
    }

    /// Verifies at `NOW`; `ts` is the timestamp header, a number or any text.
    fn check(
        keys: &[PublicKey],
        id: &str,
        ts: impl fmt::Display,
        sig: &str,
        body: &[u8],
    ) -> Result<(), SignatureError> {
        verify(keys, id, &ts.to_string(), sig, body, NOW, TOLERANCE)
    }

    #[test]
    fn a_signed_delivery_verifies_with_the_signers_published_public_key() {
        let signer = signer();
        let header = signer.sign(ID, NOW, BODY);
        assert!(header.starts_with("v1a,"));
        assert_eq!(header.split(' ').count(), 1);
        assert_eq!(check(&keys_of(&signer), ID, NOW, &header, BODY), Ok(()));
    }

    #[test]
    fn the_signed_content_is_id_dot_timestamp_dot_raw_body_bytes() {
        let signer = signer();
        let body: &[u8] = b"\xff\x00 not utf-8 \r\n";
        let header = signer.sign(ID, NOW, body);
        let signature = STANDARD
            .decode(header.strip_prefix("v1a,").unwrap())
            .unwrap();
        let mut expected = format!("{ID}.{NOW}.").into_bytes();
        expected.extend_from_slice(body);
        let key = &keys_of(&signer)[0];
        UnparsedPublicKey::new(&ED25519, key.as_bytes())
            .verify(&expected, &signature)
            .unwrap();
        assert_eq!(check(&keys_of(&signer), ID, NOW, &header, body), Ok(()));
    }

    #[test]
    fn a_tampered_body_fails_verification() {
        let signer = signer();
        let header = signer.sign(ID, NOW, BODY);
        let mut tampered = BODY.to_vec();
        tampered[10] ^= 0x01;
        let mut reserialised = BODY.to_vec();
        reserialised.push(b'\n');
        for body in [&tampered[..], &BODY[..BODY.len() - 1], b"", &reserialised] {
            assert_eq!(
                check(&keys_of(&signer), ID, NOW, &header, body),
                Err(SignatureError::NoMatchingSignature)
            );
        }
    }

    #[test]
    fn a_tampered_id_fails_verification() {
        let signer = signer();
        let header = signer.sign(ID, NOW, BODY);
        assert_eq!(
            check(&keys_of(&signer), "evt_other", NOW, &header, BODY),
            Err(SignatureError::NoMatchingSignature)
        );
    }

    #[test]
    fn a_tampered_timestamp_fails_verification_even_inside_the_tolerance() {
        let signer = signer();
        let header = signer.sign(ID, NOW, BODY);
        assert_eq!(
            check(&keys_of(&signer), ID, NOW + 1, &header, BODY),
            Err(SignatureError::NoMatchingSignature)
        );
    }

    #[test]
    fn a_timestamp_older_than_the_tolerance_is_rejected_as_a_replay() {
        let signer = signer();
        let keys = keys_of(&signer);
        let at_limit = NOW - TOLERANCE;
        let header = signer.sign(ID, at_limit, BODY);
        assert_eq!(check(&keys, ID, at_limit, &header, BODY), Ok(()));

        let too_old = NOW - TOLERANCE - 1;
        let header = signer.sign(ID, too_old, BODY);
        assert_eq!(
            check(&keys, ID, too_old, &header, BODY),
            Err(SignatureError::TimestampTooOld {
                timestamp: too_old,
                now: NOW,
                tolerance: TOLERANCE
            })
        );
        let header = signer.sign(ID, 0, BODY);
        assert!(matches!(
            check(&keys, ID, "0", &header, BODY),
            Err(SignatureError::TimestampTooOld { .. })
        ));
    }

    #[test]
    fn a_timestamp_too_far_in_the_future_is_rejected() {
        let signer = signer();
        let keys = keys_of(&signer);
        let at_limit = NOW + TOLERANCE;
        let header = signer.sign(ID, at_limit, BODY);
        assert_eq!(check(&keys, ID, at_limit, &header, BODY), Ok(()));

        let too_new = NOW + TOLERANCE + 1;
        let header = signer.sign(ID, too_new, BODY);
        assert_eq!(
            check(&keys, ID, too_new, &header, BODY),
            Err(SignatureError::TimestampTooNew {
                timestamp: too_new,
                now: NOW,
                tolerance: TOLERANCE
            })
        );
        let header = signer.sign(ID, u64::MAX, BODY);
        assert!(matches!(
            check(&keys, ID, u64::MAX, &header, BODY),
            Err(SignatureError::TimestampTooNew { .. })
        ));
    }

    #[test]
    fn during_rotation_the_header_lists_one_signature_per_key_with_the_current_key_first() {
        let rotating = signer().with_additional(&previous_pkcs8()).unwrap();
        let header = rotating.sign(ID, NOW, BODY);
        let entries: Vec<&str> = header.split(' ').collect();
        assert_eq!(entries.len(), 2);
        assert!(entries.iter().all(|e| e.starts_with("v1a,")));

        let current_only = signer().sign(ID, NOW, BODY);
        let previous_only = WebhookSigner::from_pkcs8(&previous_pkcs8())
            .unwrap()
            .sign(ID, NOW, BODY);
        assert_eq!(entries, [current_only.as_str(), previous_only.as_str()]);

        let published = rotating.public_keys();
        assert_eq!(published.len(), 2);
        assert_eq!(published[0], signer().public_keys()[0]);
    }

    #[test]
    fn during_rotation_either_public_key_alone_verifies() {
        let rotating = signer().with_additional(&previous_pkcs8()).unwrap();
        let header = rotating.sign(ID, NOW, BODY);
        let keys = keys_of(&rotating);
        for trusted in [&keys[..1], &keys[1..], &keys[..]] {
            assert_eq!(check(trusted, ID, NOW, &header, BODY), Ok(()));
        }
        // A receiver that already dropped the old key still verifies a current-key-only header,
        // and one that has not yet added the new key still verifies the rotation header.
        let after = signer().sign(ID, NOW, BODY);
        assert_eq!(check(&keys[..1], ID, NOW, &after, BODY), Ok(()));
    }

    #[test]
    fn a_signature_from_an_untrusted_key_does_not_verify() {
        let header = signer().sign(ID, NOW, BODY);
        let stranger = WebhookSigner::from_pkcs8(&pkcs8_from_seed([0x33; 32])).unwrap();
        assert_eq!(
            check(&keys_of(&stranger), ID, NOW, &header, BODY),
            Err(SignatureError::NoMatchingSignature)
        );
    }

    #[test]
    fn hmac_v1_and_unknown_version_entries_are_skipped_not_errors() {
        let signer = signer();
        let ours = signer.sign(ID, NOW, BODY);
        let header = format!(
            "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= v1,xyz v2,abc {ours} v9,whatever"
        );
        assert_eq!(check(&keys_of(&signer), ID, NOW, &header, BODY), Ok(()));
    }

    #[test]
    fn a_header_with_only_other_versions_has_no_supported_signature() {
        assert_eq!(
            check(&keys_of(&signer()), ID, NOW, "v1,xyz v1,abc=", BODY),
            Err(SignatureError::NoSupportedSignature)
        );
    }

    #[test]
    fn extra_spaces_between_entries_are_tolerated() {
        let signer = signer();
        let header = format!("  v1,xyz   {}  ", signer.sign(ID, NOW, BODY));
        assert_eq!(check(&keys_of(&signer), ID, NOW, &header, BODY), Ok(()));
    }

    #[test]
    fn malformed_signature_headers_are_rejected() {
        let signer = signer();
        let keys = keys_of(&signer);
        let good = signer.sign(ID, NOW, BODY);
        let wrong_length = format!("v1a,{}", STANDARD.encode([0u8; 32]));
        let unpadded = good.trim_end_matches('=').to_owned();
        let too_many = vec!["v1,xyz"; MAX_SIGNATURE_ENTRIES + 1].join(" ");
        let cases = [
            "",
            "   ",
            "v1a",
            &format!("{good} garbage"),
            ",abc",
            "v1a,",
            "v-1,abc",
            "v1a,a,b",
            "v1a\t,abc",
            "v1a,!!!not-base64!!!",
            &wrong_length,
            &unpadded,
            &format!("{good}\tv1,xyz"),
            &too_many,
        ];
        for header in cases {
            assert!(
                matches!(
                    check(&keys, ID, NOW, header, BODY),
                    Err(SignatureError::MalformedSignatureHeader(_))
                ),
                "accepted malformed header {header:?}"
            );
        }
    }

    #[test]
    fn malformed_ids_are_rejected() {
        let signer = signer();
        let keys = keys_of(&signer);
        let longest = "a".repeat(MAX_ID_LEN);
        let header = signer.sign(&longest, NOW, BODY);
        assert_eq!(check(&keys, &longest, NOW, &header, BODY), Ok(()));

        let too_long = "a".repeat(MAX_ID_LEN + 1);
        for id in ["", too_long.as_str(), "evt.1", "evt 1", "evt\n1", "évt"] {
            let header = signer.sign(id, NOW, BODY);
            assert!(
                matches!(
                    check(&keys, id, NOW, &header, BODY),
                    Err(SignatureError::InvalidId(_))
                ),
                "accepted malformed id {id:?}"
            );
        }
    }

    #[test]
    fn an_id_containing_a_dot_cannot_shift_the_signed_boundaries() {
        // "x" at NOW with body "<NOW>.{}" signs the same bytes as "x.<NOW>" at NOW with body "{}".
        let signer = signer();
        let shifted_body = format!("{NOW}.{{}}");
        let header = signer.sign("x", NOW, shifted_body.as_bytes());
        assert_eq!(
            check(&keys_of(&signer), &format!("x.{NOW}"), NOW, &header, b"{}"),
            Err(SignatureError::InvalidId("contains `.`"))
        );
    }

    #[test]
    fn malformed_timestamps_are_rejected() {
        let signer = signer();
        let keys = keys_of(&signer);
        let header = signer.sign(ID, NOW, BODY);
        let padded = format!("0{NOW}");
        let spaced = format!(" {NOW}");
        let signed = format!("+{NOW}");
        let fractional = format!("{NOW}.0");
        for ts in [
            "",
            "abc",
            "-1",
            signed.as_str(),
            padded.as_str(),
            spaced.as_str(),
            fractional.as_str(),
            "1.7e9",
            "18446744073709551616",
            "2023-11-14T22:13:20Z",
        ] {
            assert_eq!(
                check(&keys, ID, ts, &header, BODY),
                Err(SignatureError::InvalidTimestamp),
                "accepted malformed timestamp {ts:?}"
            );
        }
    }

    #[test]
    fn verification_without_trusted_keys_is_a_configuration_error() {
        let header = signer().sign(ID, NOW, BODY);
        assert_eq!(
            check(&[], ID, NOW, &header, BODY),
            Err(SignatureError::NoPublicKeys)
        );
    }

    #[test]
    fn public_keys_round_trip_through_the_whpk_text_form() {
        let text = &signer().public_keys()[0];
        assert!(text.starts_with("whpk_"));
        assert_eq!(text.len(), "whpk_".len() + 44);
        let key = PublicKey::parse(text).unwrap();
        assert_eq!(&key.to_string(), text);
        assert_eq!(format!("  {text}\n").parse::<PublicKey>(), Ok(key.clone()));
        assert_eq!(PublicKey::from_bytes(*key.as_bytes()), key);
        assert_eq!(format!("{key:?}"), format!("PublicKey({text})"));
    }

    #[test]
    fn malformed_public_keys_are_rejected() {
        let raw = STANDARD.encode([7u8; 32]);
        for text in [
            raw.clone(),
            format!("whsk_{raw}"),
            format!("whpk_{}", STANDARD.encode([7u8; 31])),
            format!("whpk_{}", STANDARD.encode([7u8; 64])),
            format!("whpk_{}", raw.trim_end_matches('=')),
            "whpk_not base64".to_owned(),
            String::new(),
        ] {
            assert!(
                matches!(
                    PublicKey::parse(&text),
                    Err(SignatureError::InvalidPublicKey(_))
                ),
                "accepted malformed public key {text:?}"
            );
        }
    }

    #[test]
    fn a_ring_generated_pkcs8_v2_key_signs_and_verifies() {
        let document = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        let signer = WebhookSigner::from_pkcs8(document.as_ref()).unwrap();
        let header = signer.sign(ID, NOW, BODY);
        assert_eq!(check(&keys_of(&signer), ID, NOW, &header, BODY), Ok(()));
    }

    #[test]
    fn invalid_or_duplicate_signing_keys_are_refused() {
        assert!(matches!(
            WebhookSigner::from_pkcs8(b"not a key"),
            Err(SignatureError::InvalidSigningKey(_))
        ));
        assert!(matches!(
            signer().with_additional(&[0u8; 48]),
            Err(SignatureError::InvalidSigningKey(_))
        ));
        assert_eq!(
            signer().with_additional(&current_pkcs8()).unwrap_err(),
            SignatureError::DuplicateSigningKey(signer().public_keys()[0].clone())
        );
    }

    #[test]
    fn the_signer_debug_output_shows_only_public_keys() {
        let shown = format!("{:?}", signer());
        assert!(shown.contains(&signer().public_keys()[0]));
        assert!(!shown.contains(&STANDARD.encode([0x11u8; 32])));
    }

    /// The Standard Webhooks specification text publishes no v1a test vector (its example
    /// header's `v1a` entry comes without a key). This vector is the asymmetric signing test of
    /// the specification repository's reference Go library (`libraries/go`), whose `whsk_` secret
    /// key is the standard base64 of a 32-byte Ed25519 seed.
    #[test]
    fn the_reference_library_v1a_test_vector_is_reproduced() {
        let secret_key = "whsk_VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk=";
        let seed: [u8; 32] = STANDARD
            .decode(secret_key.strip_prefix(SECRET_KEY_PREFIX).unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let timestamp = 1_614_265_330;
        let body = br#"{"test": 2432232314}"#;
        let expected = "v1a,tQ9V2XOqn7jL/DQenEFpqIugdBVtiMmER5mhSkXBNwM0mkATuDe6KYYUuxqtaiHeYGb7KaaBRdM5WqyeFiL8Ag==";

        let signer = WebhookSigner::from_pkcs8(&pkcs8_from_seed(seed)).unwrap();
        assert_eq!(signer.sign(id, timestamp, body), expected);
        assert_eq!(
            verify(
                &keys_of(&signer),
                id,
                "1614265330",
                expected,
                body,
                timestamp,
                TOLERANCE
            ),
            Ok(())
        );
    }
}
