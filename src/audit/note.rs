//! C2SP signed notes with Ed25519 signatures: key names, key hashes, verifier
//! keys, signing a text and opening a note against a trusted key.
//!
//! The envelope is the one golang.org/x/mod/sumdb/note and transparency-dev
//! tooling read, so auditors and witnesses can check what we sign without a
//! bespoke verifier. What the text says is the caller's (`checkpoint`).

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::digest;
use ring::signature::{self, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};

/// signed-note §"Signature types": type byte for plain Ed25519.
const ALG_ED25519: u8 = 0x01;
/// signed-note §"Format": em dash (U+2014) then a space opens a signature.
const SIGNATURE_PREFIX: &str = "\u{2014} ";
/// signed-note asks verifiers to bound the number of signatures but to accept
/// at least 16; 100 matches the Go reference implementation.
const MAX_SIGNATURES: usize = 100;
const ED25519_PUBLIC_KEY_LEN: usize = 32;
const ED25519_SIGNATURE_LEN: usize = 64;
pub const KEY_ID_LEN: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error(
        "invalid key name {0:?}: must be non-empty without whitespace, control characters or '+'"
    )]
    InvalidKeyName(String),
    #[error("Ed25519 private key rejected: {0}")]
    InvalidPrivateKey(String),
    #[error("malformed verifier key: {0}")]
    MalformedVerifierKey(&'static str),
    #[error("verifier key claims key hash {claimed:08x} but its public key hashes to {actual:08x}")]
    KeyHashMismatch { claimed: u32, actual: u32 },
    #[error("malformed signed note: {0}")]
    MalformedNote(&'static str),
    #[error("signed note carries more than {} signatures", MAX_SIGNATURES)]
    TooManySignatures,
    #[error("signed note has no signature from key {name}+{key_hash:08x}")]
    NoMatchingSignature { name: String, key_hash: u32 },
    #[error("signature from key {name}+{key_hash:08x} does not verify")]
    InvalidSignature { name: String, key_hash: u32 },
}

/// signed-note §"Format": key names MUST be non-empty and contain neither
/// Unicode spaces nor '+'. Control characters are refused too, since a note
/// containing them is malformed and could never be opened.
pub(super) fn check_key_name(name: &str) -> Result<(), NoteError> {
    let bad = name.is_empty()
        || name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '+');
    if bad {
        return Err(NoteError::InvalidKeyName(name.to_owned()));
    }
    Ok(())
}

/// signed-note §"Ed25519 signatures":
/// key ID = SHA-256(key name || 0x0A || 0x01 || public key)[:4].
fn compute_key_hash(name: &str, public_key: &[u8; ED25519_PUBLIC_KEY_LEN]) -> [u8; KEY_ID_LEN] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(name.as_bytes());
    ctx.update(b"\n");
    ctx.update(&[ALG_ED25519]);
    ctx.update(public_key);
    let d = ctx.finish();
    let mut out = [0u8; KEY_ID_LEN];
    out.copy_from_slice(&d.as_ref()[..KEY_ID_LEN]);
    out
}

/// `<name>+<8 hex key hash>+<base64(0x01 || public key)>`, the verifier key
/// encoding used by golang.org/x/mod/sumdb/note and C2SP tooling.
fn format_verifier_key(
    name: &str,
    key_hash: [u8; KEY_ID_LEN],
    public_key: &[u8; ED25519_PUBLIC_KEY_LEN],
) -> String {
    let mut typed = [0u8; 1 + ED25519_PUBLIC_KEY_LEN];
    typed[0] = ALG_ED25519;
    typed[1..].copy_from_slice(public_key);
    format!(
        "{name}+{:08x}+{}",
        u32::from_be_bytes(key_hash),
        STANDARD.encode(typed)
    )
}

/// Signs texts as signed notes with an Ed25519 key.
pub struct NoteSigner {
    name: String,
    key_pair: Ed25519KeyPair,
    public_key: [u8; ED25519_PUBLIC_KEY_LEN],
    key_hash: [u8; KEY_ID_LEN],
}

impl NoteSigner {
    /// tlog-checkpoint recommends the key name equal the log origin.
    pub fn new(name: &str, key_pair: Ed25519KeyPair) -> Result<NoteSigner, NoteError> {
        check_key_name(name)?;
        let mut public_key = [0u8; ED25519_PUBLIC_KEY_LEN];
        public_key.copy_from_slice(key_pair.public_key().as_ref());
        Ok(NoteSigner {
            key_hash: compute_key_hash(name, &public_key),
            name: name.to_owned(),
            key_pair,
            public_key,
        })
    }

    /// Loads the key from PKCS#8 (v1 or v2) as produced by
    /// `Ed25519KeyPair::generate_pkcs8` or `openssl genpkey -algorithm ed25519`.
    pub fn from_pkcs8(name: &str, pkcs8: &[u8]) -> Result<NoteSigner, NoteError> {
        let key_pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
            .map_err(|e| NoteError::InvalidPrivateKey(e.to_string()))?;
        NoteSigner::new(name, key_pair)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_hash(&self) -> [u8; 4] {
        self.key_hash
    }

    /// The verifier key to hand to auditors and witnesses.
    pub fn verifier_key(&self) -> String {
        format_verifier_key(&self.name, self.key_hash, &self.public_key)
    }

    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            key_hash: self.key_hash,
            public_key: self.public_key,
        }
    }

    /// signed-note §"Format": text, blank line, one signature line whose
    /// payload is key ID || Ed25519(text). `text` must end in a newline and
    /// hold no other control character; the caller's format guarantees it
    /// (`NoteSigner::sign_checkpoint` checks the origin first).
    pub(super) fn sign_text(&self, text: &str) -> String {
        debug_assert!(text.ends_with('\n'));
        let sig = self.key_pair.sign(text.as_bytes());
        let mut blob = [0u8; KEY_ID_LEN + ED25519_SIGNATURE_LEN];
        blob[..KEY_ID_LEN].copy_from_slice(&self.key_hash);
        blob[KEY_ID_LEN..].copy_from_slice(sig.as_ref());
        format!(
            "{text}\n{SIGNATURE_PREFIX}{} {}\n",
            self.name,
            STANDARD.encode(blob)
        )
    }
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material beyond the public verifier key.
        f.debug_struct("NoteSigner")
            .field("verifier_key", &self.verifier_key())
            .finish_non_exhaustive()
    }
}

/// A trusted Ed25519 note verifier key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key_hash: [u8; KEY_ID_LEN],
    public_key: [u8; ED25519_PUBLIC_KEY_LEN],
}

impl NoteVerifier {
    /// Parses `<name>+<8 hex digits>+<base64(0x01 || public key)>`.
    ///
    /// The key hash is recomputed and must match: a mismatch means the key
    /// text was corrupted or spliced together from two keys.
    pub fn parse(vkey: &str) -> Result<NoteVerifier, NoteError> {
        use NoteError::MalformedVerifierKey as Bad;
        // Split on the first two '+' only: the base64 part may contain '+'.
        let (name, rest) = vkey
            .split_once('+')
            .ok_or(Bad("expected <name>+<hash>+<key>"))?;
        let (hash_hex, key_b64) = rest
            .split_once('+')
            .ok_or(Bad("expected <name>+<hash>+<key>"))?;
        check_key_name(name)?;
        if hash_hex.len() != 8 || !hash_hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Bad("key hash must be 8 hex digits"));
        }
        let claimed =
            u32::from_str_radix(hash_hex, 16).map_err(|_| Bad("key hash must be 8 hex digits"))?;
        let typed = STANDARD
            .decode(key_b64)
            .map_err(|_| Bad("public key is not valid base64"))?;
        let (&alg, key) = typed.split_first().ok_or(Bad("public key is empty"))?;
        if alg != ALG_ED25519 {
            return Err(Bad("unsupported signature algorithm (only Ed25519 0x01)"));
        }
        let public_key: [u8; ED25519_PUBLIC_KEY_LEN] = key
            .try_into()
            .map_err(|_| Bad("Ed25519 public key is not 32 bytes"))?;
        let key_hash = compute_key_hash(name, &public_key);
        let actual = u32::from_be_bytes(key_hash);
        if actual != claimed {
            return Err(NoteError::KeyHashMismatch { claimed, actual });
        }
        Ok(NoteVerifier {
            name: name.to_owned(),
            key_hash,
            public_key,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_hash(&self) -> [u8; 4] {
        self.key_hash
    }

    pub fn public_key(&self) -> &[u8; 32] {
        &self.public_key
    }

    fn key_hash_u32(&self) -> u32 {
        u32::from_be_bytes(self.key_hash)
    }

    fn no_matching_signature(&self) -> NoteError {
        NoteError::NoMatchingSignature {
            name: self.name.clone(),
            key_hash: self.key_hash_u32(),
        }
    }

    fn invalid_signature(&self) -> NoteError {
        NoteError::InvalidSignature {
            name: self.name.clone(),
            key_hash: self.key_hash_u32(),
        }
    }
}

impl FromStr for NoteVerifier {
    type Err = NoteError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NoteVerifier::parse(s)
    }
}

impl fmt::Display for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_verifier_key(
            &self.name,
            self.key_hash,
            &self.public_key,
        ))
    }
}

/// One signature line of a note: the key name, the key ID and what follows the ID.
pub struct SignatureLine<'a> {
    pub name: &'a str,
    pub key_id: [u8; KEY_ID_LEN],
    pub payload: Vec<u8>,
}

/// Splits a signed note into its text and its signature lines, checking the envelope
/// (signed-note §"Format") but no signature: which lines count is the verifier's business.
pub fn signature_lines(note: &str) -> Result<(&str, Vec<SignatureLine<'_>>), NoteError> {
    use NoteError::MalformedNote as Bad;
    // signed-note §"Format": no ASCII control characters except newline.
    if note.bytes().any(|b| b < 0x20 && b != b'\n') {
        return Err(Bad("contains control characters"));
    }
    // The text may itself contain blank lines; only the last one separates
    // it from the signatures.
    let split = note
        .rfind("\n\n")
        .ok_or(Bad("no blank line before the signatures"))?;
    let text = &note[..split + 1];
    let sigs = note[split + 2..].strip_suffix('\n').ok_or(Bad(
        "signature block must be non-empty and end with a newline",
    ))?;
    let mut lines = Vec::new();
    for (n, line) in sigs.split('\n').enumerate() {
        if n >= MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
        let rest = line
            .strip_prefix(SIGNATURE_PREFIX)
            .ok_or(Bad("signature line must start with an em dash and a space"))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or(Bad("signature line lacks a key name"))?;
        if check_key_name(name).is_err() {
            return Err(Bad("invalid key name in signature line"));
        }
        let blob = STANDARD
            .decode(b64)
            .map_err(|_| Bad("signature is not valid base64"))?;
        if blob.len() <= KEY_ID_LEN {
            return Err(Bad("signature too short"));
        }
        let mut key_id = [0u8; KEY_ID_LEN];
        key_id.copy_from_slice(&blob[..KEY_ID_LEN]);
        lines.push(SignatureLine {
            name,
            key_id,
            payload: blob[KEY_ID_LEN..].to_vec(),
        });
    }
    Ok((text, lines))
}

/// Verifies a signed note against the trusted keys and returns its text.
///
/// Follows signed-note §"Signatures": lines from other keys (same name or
/// same ID, but not both) are ignored, so witnesses can cosign and keys can
/// rotate; every line whose name and key ID both match a trusted key is
/// verified and any failure rejects the whole note; at least one must verify.
/// `trusted` is one key or several (a log's current and earlier keys).
pub fn open_note<'a, T>(note: &'a str, trusted: &T) -> Result<&'a str, NoteError>
where
    T: AsRef<[NoteVerifier]> + ?Sized,
{
    let trusted = trusted.as_ref();
    let (text, lines) = signature_lines(note)?;
    let mut verified = false;
    for line in lines {
        let Some(verifier) = trusted
            .iter()
            .find(|v| line.name == v.name && line.key_id == v.key_hash)
        else {
            continue;
        };
        let ok = line.payload.len() == ED25519_SIGNATURE_LEN
            && UnparsedPublicKey::new(&signature::ED25519, &verifier.public_key)
                .verify(text.as_bytes(), &line.payload)
                .is_ok();
        if !ok {
            return Err(verifier.invalid_signature());
        }
        verified = true;
    }
    if !verified {
        return Err(match trusted.first() {
            Some(verifier) => verifier.no_matching_signature(),
            None => NoteError::MalformedVerifierKey("no trusted key"),
        });
    }
    Ok(text)
}

/// One key is a set of trusted keys of one.
impl AsRef<[NoteVerifier]> for NoteVerifier {
    fn as_ref(&self) -> &[NoteVerifier] {
        std::slice::from_ref(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    // golang.org/x/mod/sumdb/note documentation and tests.
    const PETER_SKEY_B64: &str = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
    const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                           then you don't know what your problem is.\n";
    const PETER_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
    const ENOCH_SIG: &str = "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";
    // The example from the C2SP signed-note specification.
    const SPEC_VKEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
    const SPEC_NOTE: &str = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

    const NAME: &str = "audit.gateway.example/log";

    fn signer_from_seed(name: &str, seed: &[u8]) -> NoteSigner {
        NoteSigner::new(name, Ed25519KeyPair::from_seed_unchecked(seed).unwrap()).unwrap()
    }

    fn test_signer() -> NoteSigner {
        signer_from_seed(NAME, &[0x42; 32])
    }

    fn peter_signer() -> NoteSigner {
        let typed = STANDARD.decode(PETER_SKEY_B64).unwrap();
        assert_eq!(typed[0], ALG_ED25519);
        signer_from_seed("PeterNeumann", &typed[1..])
    }

    #[test]
    fn round_trip() {
        let signer = test_signer();
        let note = signer.sign_text(GO_TEXT);
        let verifier = NoteVerifier::parse(&signer.verifier_key()).unwrap();
        assert_eq!(verifier, signer.verifier());
        assert_eq!(open_note(&note, &verifier).unwrap(), GO_TEXT);

        let (text, sig_line) = note.rsplit_once("\n\n").unwrap();
        assert_eq!(format!("{text}\n"), GO_TEXT);
        let payload = sig_line
            .strip_prefix(&format!("\u{2014} {NAME} "))
            .unwrap()
            .strip_suffix('\n')
            .unwrap();
        let blob = STANDARD.decode(payload).unwrap();
        assert_eq!(blob.len(), 68);
        assert_eq!(blob[..4], signer.key_hash());
    }

    #[test]
    fn tampering_is_detected() {
        let signer = test_signer();
        let verifier = signer.verifier();
        let note = signer.sign_text(GO_TEXT);
        let invalid = Err(verifier.invalid_signature());
        let unknown_key = Err(verifier.no_matching_signature());

        let (head, sig_line) = note.split_at(note.rfind(' ').unwrap() + 1);
        let blob = STANDARD.decode(sig_line.trim_end()).unwrap();
        let with_blob = |blob: &[u8]| format!("{head}{}\n", STANDARD.encode(blob));
        let flipped = |i: usize, bit: u8| {
            let mut blob = blob.clone();
            blob[i] ^= bit;
            with_blob(&blob)
        };
        let cases = [
            // A changed text.
            (note.replacen("problem,", "problem;", 1), &invalid),
            // One bit of the Ed25519 signature flipped, keeping the base64 valid.
            (flipped(4, 0x20), &invalid),
            (flipped(35, 0x20), &invalid),
            (flipped(67, 0x20), &invalid),
            // A truncated signature from the right key is an invalid signature, not an
            // ignorable one.
            (with_blob(&blob[..67]), &invalid),
            // A changed key ID makes the line belong to an unknown key.
            (flipped(0, 1), &unknown_key),
        ];
        for (forged, expected) in &cases {
            assert_ne!(*forged, note);
            assert_eq!(&open_note(forged, &verifier), *expected, "{forged:?}");
        }
    }

    #[test]
    fn wrong_key_fails() {
        let signer = test_signer();
        let note = signer.sign_text(GO_TEXT);

        // Same name, different key: different key ID, so the line is ignored.
        let other = signer_from_seed(NAME, &[0x43; 32]).verifier();
        // Same key, different name.
        let renamed = signer_from_seed("other.example/log", &[0x42; 32]).verifier();
        // Colliding name and key ID but a different public key must be
        // verified, and fail (signed-note §"Signatures").
        let impostor = NoteVerifier {
            public_key: other.public_key,
            ..signer.verifier()
        };
        for (verifier, expected) in [
            (&other, other.no_matching_signature()),
            (&renamed, renamed.no_matching_signature()),
            (&impostor, impostor.invalid_signature()),
        ] {
            assert_eq!(open_note(&note, verifier), Err(expected));
        }
    }

    #[test]
    fn verifier_key_format() {
        let signer = test_signer();
        let vkey = signer.verifier_key();
        let parts: Vec<&str> = vkey.splitn(3, '+').collect();
        assert_eq!(parts[0], NAME);
        assert_eq!(
            parts[1],
            format!("{:08x}", u32::from_be_bytes(signer.key_hash()))
        );
        assert!(
            parts[1]
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        let typed = STANDARD.decode(parts[2]).unwrap();
        assert_eq!(typed.len(), 33);
        assert_eq!(typed[0], 0x01);
        let mut h = digest::Context::new(&digest::SHA256);
        h.update(format!("{NAME}\n").as_bytes());
        h.update(&typed);
        assert_eq!(h.finish().as_ref()[..4], signer.key_hash());
        assert_eq!(vkey.parse::<NoteVerifier>().unwrap().to_string(), vkey);

        // Known answers from golang.org/x/mod/sumdb/note.
        let peter = peter_signer();
        assert_eq!(peter.verifier_key(), PETER_VKEY);
        assert_eq!(peter.key_hash(), [0xc7, 0x4f, 0x20, 0xa3]);
        assert_eq!(
            signer_from_seed("EnochRoot", &[0; 32]).verifier_key(),
            ENOCH_VKEY
        );
    }

    #[test]
    fn verifier_key_manglings_rejected() {
        assert!(NoteVerifier::parse(PETER_VKEY).is_ok());
        let b = PETER_VKEY.as_bytes();
        for i in 0..=b.len() {
            for j in i + 1..=b.len() {
                if (i, j) != (0, b.len()) {
                    let s = std::str::from_utf8(&b[i..j]).unwrap();
                    assert!(NoteVerifier::parse(s).is_err(), "accepted {s:?}");
                }
            }
        }
        for i in 0..b.len() {
            let mut m = b.to_vec();
            m[i] += 1;
            let s = String::from_utf8(m).unwrap();
            assert!(NoteVerifier::parse(&s).is_err(), "accepted {s:?}");
        }
        // Wrong key length and unknown algorithm, each with a matching hash.
        for bad in [
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
            "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        ] {
            assert!(matches!(
                NoteVerifier::parse(bad),
                Err(NoteError::MalformedVerifierKey(_))
            ));
        }
        assert!(matches!(
            NoteVerifier::parse("a b+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
            Err(NoteError::InvalidKeyName(_))
        ));
    }

    #[test]
    fn go_sumdb_note_interop() {
        let peter = NoteVerifier::parse(PETER_VKEY).unwrap();
        let enoch = NoteVerifier::parse(ENOCH_VKEY).unwrap();
        let peter_note = format!("{GO_TEXT}\n{PETER_SIG}");
        assert_eq!(open_note(&peter_note, &peter).unwrap(), GO_TEXT);
        // Ed25519 is deterministic, so our signer must reproduce Go's bytes.
        assert_eq!(peter_signer().sign_text(GO_TEXT), peter_note);
        let enoch_signer = signer_from_seed("EnochRoot", &[0; 32]);
        assert_eq!(
            enoch_signer.sign_text(GO_TEXT),
            format!("{GO_TEXT}\n{ENOCH_SIG}")
        );

        // Cosigned note: each verifier skips the other's line.
        let both = format!("{GO_TEXT}\n{PETER_SIG}{ENOCH_SIG}");
        assert_eq!(open_note(&both, &peter).unwrap(), GO_TEXT);
        assert_eq!(open_note(&both, &enoch).unwrap(), GO_TEXT);
        assert!(matches!(
            open_note(&format!("{GO_TEXT}\n{PETER_SIG}"), &enoch),
            Err(NoteError::NoMatchingSignature { .. })
        ));

        let spec = NoteVerifier::parse(SPEC_VKEY).unwrap();
        assert_eq!(
            open_note(SPEC_NOTE, &spec).unwrap(),
            "This is an example message.\n"
        );
    }

    #[test]
    fn a_note_opens_against_any_of_a_logs_keys_and_a_bad_line_of_any_rejects_it() {
        // A log that rotated its key keeps its earlier key to verify what that key signed.
        let old = signer_from_seed(NAME, &[0x42; 32]);
        let new = signer_from_seed(NAME, &[0x43; 32]);
        let keys = [new.verifier(), old.verifier()];
        let by_old = old.sign_text(GO_TEXT);
        let by_new = new.sign_text(GO_TEXT);
        assert_eq!(open_note(&by_old, &keys).unwrap(), GO_TEXT);
        assert_eq!(open_note(&by_new, &keys[..]).unwrap(), GO_TEXT);
        assert!(matches!(
            open_note(&by_old, &new.verifier()),
            Err(NoteError::NoMatchingSignature { .. })
        ));
        // A forged line by a trusted key rejects the note though another trusted key signed.
        let forged = by_new.replace(
            by_new.rsplit(' ').next().unwrap(),
            &format!(
                "{}\n",
                STANDARD.encode([old.key_hash().as_slice(), &[0; 64]].concat())
            ),
        );
        let both = format!("{}{}", by_new, forged.rsplit_once("\n\n").unwrap().1);
        assert!(matches!(
            open_note(&both, &keys),
            Err(NoteError::InvalidSignature { .. })
        ));
        let none: [NoteVerifier; 0] = [];
        assert!(open_note(&by_old, &none).is_err());
    }

    #[test]
    fn malformed_notes_rejected() {
        let peter = NoteVerifier::parse(PETER_VKEY).unwrap();
        let sig = PETER_SIG.trim_end();
        let sig_payload = sig.rsplit(' ').next().unwrap();
        let cases = [
            format!("{GO_TEXT}{PETER_SIG}"),                      // no blank line
            format!("{GO_TEXT}\n{sig}"),                          // no final newline
            format!("{GO_TEXT}\n"),                               // no signatures
            format!("{GO_TEXT}\n{PETER_SIG}\n"),                  // trailing blank line
            format!("{GO_TEXT}\n- PeterNeumann {sig_payload}\n"), // hyphen, not em dash
            format!("{GO_TEXT}\n\u{2014}PeterNeumann {sig_payload}\n"),
            format!("{GO_TEXT}\n\u{2014} PeterNeumann\n"),
            format!("{GO_TEXT}\n\u{2014} PeterNeumann {sig_payload} \n"),
            format!("{GO_TEXT}\n\u{2014} PeterNeumann AAAA\n"), // too short
            format!("{GO_TEXT}\n\u{2014} a+b {sig_payload}\n"),
            format!("{GO_TEXT}\n{PETER_SIG}\u{2014} x !!!!\n"), // bad base64 elsewhere
            format!("bell\u{7}{GO_TEXT}\n{PETER_SIG}"),
            format!("{}\r\n\n{PETER_SIG}", GO_TEXT.trim_end()),
        ];
        for note in &cases {
            assert!(
                matches!(open_note(note, &peter), Err(NoteError::MalformedNote(_))),
                "accepted {note:?}: {:?}",
                open_note(note, &peter)
            );
        }

        let many = format!("{GO_TEXT}\n{}", ENOCH_SIG.repeat(MAX_SIGNATURES + 1));
        assert_eq!(open_note(&many, &peter), Err(NoteError::TooManySignatures));
        let enough = format!("{GO_TEXT}\n{}{PETER_SIG}", ENOCH_SIG.repeat(16));
        assert_eq!(open_note(&enough, &peter).unwrap(), GO_TEXT);
    }

    #[test]
    fn signer_construction() {
        for bad in ["", "a b", "a+b", "a\tb", "a\nb", "a\u{a0}b", "a\u{2003}b"] {
            assert!(matches!(
                NoteSigner::new(bad, Ed25519KeyPair::from_seed_unchecked(&[1; 32]).unwrap()),
                Err(NoteError::InvalidKeyName(_))
            ));
        }
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        let signer = NoteSigner::from_pkcs8(NAME, pkcs8.as_ref()).unwrap();
        let note = signer.sign_text(GO_TEXT);
        assert_eq!(open_note(&note, &signer.verifier()).unwrap(), GO_TEXT);
        assert!(matches!(
            NoteSigner::from_pkcs8(NAME, b"not a key"),
            Err(NoteError::InvalidPrivateKey(_))
        ));
        assert!(!format!("{signer:?}").contains("private"));
    }
}
