//! Signed tree heads for the audit log: C2SP tlog-checkpoint bodies, signed as
//! C2SP signed notes with Ed25519 (`note`).
//!
//! Using these formats unchanged means external auditors and witnesses can
//! check our checkpoints with off-the-shelf tooling (golang.org/x/mod/sumdb/note,
//! transparency-dev/formats) instead of trusting a bespoke verifier.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

pub use super::note::{NoteError, NoteSigner, NoteVerifier, open_note};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The signed-note envelope: keys, signatures, note syntax.
    #[error(transparent)]
    Note(#[from] NoteError),
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(&'static str),
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

impl NoteSigner {
    /// Returns the complete signed note for `checkpoint`.
    ///
    /// Fails only if the origin would make an unparseable body (empty, or
    /// containing a newline or other control character); refusing to sign
    /// beats publishing a tree head no verifier can open.
    pub fn sign_checkpoint(&self, checkpoint: &Checkpoint) -> Result<String, CheckpointError> {
        check_origin(&checkpoint.origin)?;
        Ok(self.sign_text(&checkpoint.body()))
    }
}

/// Verifies a signed checkpoint and parses its body strictly.
///
/// The signature is checked before the body is parsed: signed-note requires
/// the text to be ignored unless a trusted signature verifies.
pub fn open<T>(note: &str, trusted: &T) -> Result<Checkpoint, CheckpointError>
where
    T: AsRef<[NoteVerifier]> + ?Sized,
{
    Checkpoint::parse(open_note(note, trusted)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::Ed25519KeyPair;

    const ORIGIN: &str = "audit.gateway.example/log";

    fn test_signer() -> NoteSigner {
        let key_pair = Ed25519KeyPair::from_seed_unchecked(&[0x42; 32]).unwrap();
        NoteSigner::new(ORIGIN, key_pair).unwrap()
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

    #[test]
    fn round_trip() {
        let signer = test_signer();
        let cp = test_checkpoint();
        let note = signer.sign_checkpoint(&cp).unwrap();
        let verifier = NoteVerifier::parse(&signer.verifier_key()).unwrap();
        assert_eq!(open(&note, &verifier).unwrap(), cp);
        // The body is the note's text, signed as any note (the envelope's own tests).
        assert_eq!(note, signer.sign_text(&cp.body()));
        assert_eq!(open_note(&note, &verifier).unwrap(), cp.body());
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
                Err(CheckpointError::Note(NoteError::InvalidSignature { .. }))
            ));
        }
        // A note from another key is no checkpoint of this log.
        let other = NoteSigner::new(
            ORIGIN,
            Ed25519KeyPair::from_seed_unchecked(&[0x43; 32]).unwrap(),
        )
        .unwrap();
        assert!(matches!(
            open(&note, &other.verifier()),
            Err(CheckpointError::Note(NoteError::NoMatchingSignature { .. }))
        ));
    }

    #[test]
    fn a_signed_text_that_is_no_checkpoint_is_rejected() {
        let signer = test_signer();
        let note = signer.sign_text("If you think cryptography is the answer to your problem,\n");
        assert!(open_note(&note, &signer.verifier()).is_ok());
        assert!(matches!(
            open(&note, &signer.verifier()),
            Err(CheckpointError::MalformedCheckpoint(_))
        ));
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
    fn signing_refuses_an_origin_no_verifier_could_parse() {
        let signer = test_signer();
        for origin in ["", "a\nb", "a\rb"] {
            let cp = Checkpoint {
                origin: origin.into(),
                ..test_checkpoint()
            };
            assert!(signer.sign_checkpoint(&cp).is_err(), "signed {origin:?}");
        }
    }
}
