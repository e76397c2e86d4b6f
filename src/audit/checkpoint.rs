//! Signed tree heads for the audit log: C2SP tlog-checkpoint bodies wrapped in
//! C2SP signed-note envelopes with Ed25519 signatures.
//!
//! Using these formats unchanged means external auditors and witnesses can
//! check our checkpoints with off-the-shelf tooling (golang.org/x/mod/sumdb/note,
//! transparency-dev/formats) instead of trusting a bespoke verifier.

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
const KEY_ID_LEN: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
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
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(&'static str),
}

/// signed-note §"Format": key names MUST be non-empty and contain neither
/// Unicode spaces nor '+'. Control characters are refused too, since a note
/// containing them is malformed and could never be opened.
fn check_key_name(name: &str) -> Result<(), CheckpointError> {
    let bad = name.is_empty()
        || name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '+');
    if bad {
        return Err(CheckpointError::InvalidKeyName(name.to_owned()));
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

/// A tlog-checkpoint tree head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: [u8; 32],
}

impl Checkpoint {
    /// The note text of tlog-checkpoint §"Note text": origin, decimal size
    /// and padded standard base64 root, each newline-terminated, without
    /// extension lines.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        )
    }

    /// Strictly parses a checkpoint body.
    ///
    /// Extension lines are rejected: this type cannot carry them, and
    /// silently dropping signed content would let a reader believe it saw
    /// everything the log committed to.
    pub fn parse(body: &str) -> Result<Checkpoint, CheckpointError> {
        use CheckpointError::MalformedCheckpoint as Bad;
        let text = body
            .strip_suffix('\n')
            .ok_or(Bad("body must end with a newline"))?;
        let mut lines = text.split('\n');
        let origin = lines.next().unwrap_or_default();
        let size = lines.next().ok_or(Bad("missing tree size line"))?;
        let root = lines.next().ok_or(Bad("missing root hash line"))?;
        if lines.next().is_some() {
            return Err(Bad("unexpected extension lines"));
        }
        check_origin(origin)?;
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size: parse_tree_size(size)?,
            root: parse_root(root)?,
        })
    }
}

/// tlog-checkpoint: the origin MUST be non-empty; it must also fit on one
/// line and, as note text, contain no control characters (signed-note
/// §"Format").
fn check_origin(origin: &str) -> Result<(), CheckpointError> {
    if origin.is_empty() {
        return Err(CheckpointError::MalformedCheckpoint("empty origin"));
    }
    if origin.chars().any(char::is_control) {
        return Err(CheckpointError::MalformedCheckpoint(
            "origin contains control characters",
        ));
    }
    Ok(())
}

/// tlog-checkpoint: ASCII decimal with no leading zeroes unless the size is
/// 0. Checked by hand because `u64::from_str` also accepts a leading '+'.
fn parse_tree_size(s: &str) -> Result<u64, CheckpointError> {
    use CheckpointError::MalformedCheckpoint as Bad;
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Bad("tree size is not a decimal number"));
    }
    if s.len() > 1 && s.starts_with('0') {
        return Err(Bad("tree size has leading zeros"));
    }
    s.parse()
        .map_err(|_| Bad("tree size does not fit in 64 bits"))
}

/// Standard padded base64 of exactly 32 bytes; the base64 engine already
/// rejects non-canonical padding and trailing bits, so each root has a single
/// accepted spelling.
fn parse_root(s: &str) -> Result<[u8; 32], CheckpointError> {
    use CheckpointError::MalformedCheckpoint as Bad;
    let raw = STANDARD
        .decode(s)
        .map_err(|_| Bad("root hash is not valid base64"))?;
    raw.try_into().map_err(|_| Bad("root hash is not 32 bytes"))
}

/// Signs checkpoints as signed notes with an Ed25519 key.
pub struct NoteSigner {
    name: String,
    key_pair: Ed25519KeyPair,
    public_key: [u8; ED25519_PUBLIC_KEY_LEN],
    key_hash: [u8; KEY_ID_LEN],
}

impl NoteSigner {
    /// tlog-checkpoint recommends the key name equal the log origin.
    pub fn new(name: &str, key_pair: Ed25519KeyPair) -> Result<NoteSigner, CheckpointError> {
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
    pub fn from_pkcs8(name: &str, pkcs8: &[u8]) -> Result<NoteSigner, CheckpointError> {
        let key_pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
            .map_err(|e| CheckpointError::InvalidPrivateKey(e.to_string()))?;
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

    /// Returns the complete signed note for `checkpoint`.
    ///
    /// Fails only if the origin would make an unparseable body (empty, or
    /// containing a newline or other control character); refusing to sign
    /// beats publishing a tree head no verifier can open.
    pub fn sign_checkpoint(&self, checkpoint: &Checkpoint) -> Result<String, CheckpointError> {
        check_origin(&checkpoint.origin)?;
        Ok(self.sign_text(&checkpoint.body()))
    }

    /// signed-note §"Format": text, blank line, one signature line whose
    /// payload is key ID || Ed25519(text). `text` must end in a newline.
    fn sign_text(&self, text: &str) -> String {
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
    pub fn parse(vkey: &str) -> Result<NoteVerifier, CheckpointError> {
        use CheckpointError::MalformedVerifierKey as Bad;
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
            return Err(CheckpointError::KeyHashMismatch { claimed, actual });
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
}

impl FromStr for NoteVerifier {
    type Err = CheckpointError;
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

/// Verifies a signed note against `verifier` and returns its text.
///
/// Follows signed-note §"Signatures": lines from other keys (same name or
/// same ID, but not both) are ignored, so witnesses can cosign and keys can
/// rotate; every line whose name and key ID both match is verified and any
/// failure rejects the whole note; at least one must verify.
pub fn open_note<'a>(note: &'a str, verifier: &NoteVerifier) -> Result<&'a str, CheckpointError> {
    use CheckpointError::MalformedNote as Bad;
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

    let mut verified = false;
    for (n, line) in sigs.split('\n').enumerate() {
        if n >= MAX_SIGNATURES {
            return Err(CheckpointError::TooManySignatures);
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
        let (key_id, sig) = blob.split_at(KEY_ID_LEN);
        if name != verifier.name || key_id != verifier.key_hash {
            continue;
        }
        let ok = sig.len() == ED25519_SIGNATURE_LEN
            && UnparsedPublicKey::new(&signature::ED25519, &verifier.public_key)
                .verify(text.as_bytes(), sig)
                .is_ok();
        if !ok {
            return Err(CheckpointError::InvalidSignature {
                name: verifier.name.clone(),
                key_hash: verifier.key_hash_u32(),
            });
        }
        verified = true;
    }
    if !verified {
        return Err(CheckpointError::NoMatchingSignature {
            name: verifier.name.clone(),
            key_hash: verifier.key_hash_u32(),
        });
    }
    Ok(text)
}

/// Verifies a signed checkpoint and parses its body strictly.
///
/// The signature is checked before the body is parsed: signed-note requires
/// the text to be ignored unless a trusted signature verifies.
pub fn open(note: &str, verifier: &NoteVerifier) -> Result<Checkpoint, CheckpointError> {
    Checkpoint::parse(open_note(note, verifier)?)
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

    const ORIGIN: &str = "audit.gateway.example/log";

    fn signer_from_seed(name: &str, seed: &[u8]) -> NoteSigner {
        NoteSigner::new(name, Ed25519KeyPair::from_seed_unchecked(seed).unwrap()).unwrap()
    }

    fn test_signer() -> NoteSigner {
        signer_from_seed(ORIGIN, &[0x42; 32])
    }

    fn test_checkpoint() -> Checkpoint {
        let mut root = [0u8; 32];
        for (i, b) in root.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37).wrapping_add(11);
        }
        Checkpoint {
            origin: ORIGIN.to_owned(),
            size: 10_000_017,
            root,
        }
    }

    fn peter_signer() -> NoteSigner {
        let typed = STANDARD.decode(PETER_SKEY_B64).unwrap();
        assert_eq!(typed[0], ALG_ED25519);
        signer_from_seed("PeterNeumann", &typed[1..])
    }

    #[test]
    fn round_trip() {
        let signer = test_signer();
        let cp = test_checkpoint();
        let note = signer.sign_checkpoint(&cp).unwrap();
        let verifier = NoteVerifier::parse(&signer.verifier_key()).unwrap();
        assert_eq!(verifier, signer.verifier());
        assert_eq!(open(&note, &verifier).unwrap(), cp);

        let (body, sig_line) = note.split_once("\n\n").unwrap();
        assert_eq!(format!("{body}\n"), cp.body());
        let payload = sig_line
            .strip_prefix(&format!("\u{2014} {ORIGIN} "))
            .unwrap()
            .strip_suffix('\n')
            .unwrap();
        let blob = STANDARD.decode(payload).unwrap();
        assert_eq!(blob.len(), 68);
        assert_eq!(blob[..4], signer.key_hash());
    }

    #[test]
    fn body_format() {
        let cp = Checkpoint {
            origin: "example.com/behind-the-sofa".into(),
            size: 20852163,
            root: STANDARD
                .decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
                .unwrap()
                .try_into()
                .unwrap(),
        };
        let body =
            "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        assert_eq!(cp.body(), body);
        assert_eq!(Checkpoint::parse(body).unwrap(), cp);
        let empty = Checkpoint {
            origin: "o".into(),
            size: 0,
            root: [0; 32],
        };
        assert_eq!(Checkpoint::parse(&empty.body()).unwrap(), empty);
    }

    #[test]
    fn tampering_is_detected() {
        let signer = test_signer();
        let verifier = signer.verifier();
        let cp = test_checkpoint();
        let note = signer.sign_checkpoint(&cp).unwrap();

        let mut other_root = cp.clone();
        other_root.root[5] ^= 1;
        let mut other_size = cp.clone();
        other_size.size += 1;
        let mut other_origin = cp.clone();
        other_origin.origin.push('x');
        for forged in [other_root, other_size, other_origin] {
            let tampered = note.replacen(&cp.body(), &forged.body(), 1);
            assert_ne!(tampered, note);
            assert!(matches!(
                open(&tampered, &verifier),
                Err(CheckpointError::InvalidSignature { .. })
            ));
        }

        // Flip one bit of the Ed25519 signature, keeping the base64 valid.
        let (head, sig_line) = note.split_at(note.rfind(' ').unwrap() + 1);
        let mut blob = STANDARD.decode(sig_line.trim_end()).unwrap();
        for i in [4, 35, 67] {
            blob[i] ^= 0x20;
            let forged = format!("{head}{}\n", STANDARD.encode(&blob));
            assert!(matches!(
                open(&forged, &verifier),
                Err(CheckpointError::InvalidSignature { .. })
            ));
            blob[i] ^= 0x20;
        }
        // Truncated signature from the right key is an invalid signature,
        // not an ignorable one.
        let forged = format!("{head}{}\n", STANDARD.encode(&blob[..67]));
        assert!(matches!(
            open(&forged, &verifier),
            Err(CheckpointError::InvalidSignature { .. })
        ));
        // A changed key ID makes the line belong to an unknown key.
        blob[0] ^= 1;
        let forged = format!("{head}{}\n", STANDARD.encode(&blob));
        assert!(matches!(
            open(&forged, &verifier),
            Err(CheckpointError::NoMatchingSignature { .. })
        ));
    }

    #[test]
    fn wrong_key_fails() {
        let signer = test_signer();
        let note = signer.sign_checkpoint(&test_checkpoint()).unwrap();

        // Same name, different key: different key ID, so the line is ignored.
        let other = signer_from_seed(ORIGIN, &[0x43; 32]);
        assert!(matches!(
            open(&note, &other.verifier()),
            Err(CheckpointError::NoMatchingSignature { .. })
        ));
        // Same key, different name.
        let renamed = signer_from_seed("other.example/log", &[0x42; 32]);
        assert!(matches!(
            open(&note, &renamed.verifier()),
            Err(CheckpointError::NoMatchingSignature { .. })
        ));
        // Colliding name and key ID but a different public key must be
        // verified, and fail (signed-note §"Signatures").
        let impostor = NoteVerifier {
            public_key: other.verifier().public_key,
            ..signer.verifier()
        };
        assert!(matches!(
            open(&note, &impostor),
            Err(CheckpointError::InvalidSignature { .. })
        ));
    }

    #[test]
    fn verifier_key_format() {
        let signer = test_signer();
        let vkey = signer.verifier_key();
        let parts: Vec<&str> = vkey.splitn(3, '+').collect();
        assert_eq!(parts[0], ORIGIN);
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
        h.update(format!("{ORIGIN}\n").as_bytes());
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
                Err(CheckpointError::MalformedVerifierKey(_))
            ));
        }
        assert!(matches!(
            NoteVerifier::parse("a b+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
            Err(CheckpointError::InvalidKeyName(_))
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
            Err(CheckpointError::NoMatchingSignature { .. })
        ));
        // Valid signature, but the text is not a checkpoint.
        assert!(matches!(
            open(&peter_note, &peter),
            Err(CheckpointError::MalformedCheckpoint(_))
        ));

        let spec = NoteVerifier::parse(SPEC_VKEY).unwrap();
        assert_eq!(
            open_note(SPEC_NOTE, &spec).unwrap(),
            "This is an example message.\n"
        );
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
                matches!(
                    open_note(note, &peter),
                    Err(CheckpointError::MalformedNote(_))
                ),
                "accepted {note:?}: {:?}",
                open_note(note, &peter)
            );
        }

        let many = format!("{GO_TEXT}\n{}", ENOCH_SIG.repeat(MAX_SIGNATURES + 1));
        assert_eq!(
            open_note(&many, &peter),
            Err(CheckpointError::TooManySignatures)
        );
        let enough = format!("{GO_TEXT}\n{}{PETER_SIG}", ENOCH_SIG.repeat(16));
        assert_eq!(open_note(&enough, &peter).unwrap(), GO_TEXT);
    }

    #[test]
    fn strict_body_parsing() {
        let root = STANDARD.encode([7u8; 32]);
        let ok = format!("o\n42\n{root}\n");
        assert!(Checkpoint::parse(&ok).is_ok());
        let short = STANDARD.encode([7u8; 31]);
        let long = STANDARD.encode([7u8; 33]);
        let unpadded = root.trim_end_matches('=');
        let bad = [
            format!("\n42\n{root}\n"),
            format!("o\n042\n{root}\n"),
            format!("o\n00\n{root}\n"),
            format!("o\n+42\n{root}\n"),
            format!("o\n-1\n{root}\n"),
            format!("o\n 42\n{root}\n"),
            format!("o\n\n{root}\n"),
            format!("o\n18446744073709551616\n{root}\n"),
            format!("o\n42\n{short}\n"),
            format!("o\n42\n{long}\n"),
            format!("o\n42\n{unpadded}\n"),
            format!("o\n42\n-{}\n", &root[1..]),
            format!("o\n42\n{root}"),
            format!("o\n42\n{root}\next\n"),
            format!("o\n42\n{root}\n\n"),
            "o\n42\n".to_owned(),
            "o\n".to_owned(),
            String::new(),
            format!("o\t\u{1}\n42\n{root}\n"),
        ];
        for body in &bad {
            assert!(
                matches!(
                    Checkpoint::parse(body),
                    Err(CheckpointError::MalformedCheckpoint(_))
                ),
                "accepted {body:?}"
            );
        }
        assert_eq!(
            Checkpoint::parse(&format!("o\n18446744073709551615\n{root}\n"))
                .unwrap()
                .size,
            u64::MAX
        );
        assert_eq!(
            Checkpoint::parse(&format!("o\n0\n{root}\n")).unwrap().size,
            0
        );
    }

    #[test]
    fn signer_construction() {
        for bad in ["", "a b", "a+b", "a\tb", "a\nb", "a\u{a0}b", "a\u{2003}b"] {
            assert!(matches!(
                NoteSigner::new(bad, Ed25519KeyPair::from_seed_unchecked(&[1; 32]).unwrap()),
                Err(CheckpointError::InvalidKeyName(_))
            ));
        }
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        let signer = NoteSigner::from_pkcs8(ORIGIN, pkcs8.as_ref()).unwrap();
        let cp = test_checkpoint();
        let note = signer.sign_checkpoint(&cp).unwrap();
        assert_eq!(open(&note, &signer.verifier()).unwrap(), cp);
        assert!(matches!(
            NoteSigner::from_pkcs8(ORIGIN, b"not a key"),
            Err(CheckpointError::InvalidPrivateKey(_))
        ));
        assert!(!format!("{signer:?}").contains("private"));

        for origin in ["", "a\nb", "a\rb"] {
            let cp = Checkpoint {
                origin: origin.into(),
                ..test_checkpoint()
            };
            assert!(signer.sign_checkpoint(&cp).is_err(), "signed {origin:?}");
        }
    }
}
