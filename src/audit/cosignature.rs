//! Witness cosignatures of checkpoints: C2SP tlog-cosignature, Ed25519 `cosignature/v1`.
//!
//! A party's witness checks that a checkpoint is consistent with the last one it saw and
//! signs `cosignature/v1\ntime <t>\n<checkpoint body>`; the signature line carries the
//! witness's name and `key ID || timestamp || signature`. With the cosignatures of parties
//! that each hold their own history, the operator cannot rewrite the log for one party
//! without the others' cosignatures exposing it.

use super::note::{KEY_ID_LEN, NoteError, check_key_name, signature_lines};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::digest;
use ring::signature::{ED25519, UnparsedPublicKey};

/// tlog-cosignature §"Format": the signature type byte of Ed25519 cosignatures in the key ID.
const ALG_COSIGNATURE_V1: u8 = 0x04;
const TIMESTAMP_LEN: usize = 8;
const SIGNATURE_LEN: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CosignatureError {
    #[error(transparent)]
    Note(#[from] NoteError),
    #[error("no cosignature from witness {0}")]
    Missing(String),
    #[error("the cosignature of witness {0} does not verify")]
    Invalid(String),
    #[error("the cosignature of witness {0} is malformed: {1}")]
    Malformed(String, &'static str),
}

/// A witness's Ed25519 cosigning key under its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Witness {
    name: String,
    public_key: [u8; 32],
    key_id: [u8; KEY_ID_LEN],
}

/// One verified cosignature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosignature {
    /// When the witness signed (POSIX seconds), as it signed it.
    pub timestamp: u64,
    pub signature: [u8; SIGNATURE_LEN],
}

impl Witness {
    pub fn new(name: &str, public_key: [u8; 32]) -> Result<Self, NoteError> {
        check_key_name(name)?;
        // tlog-cosignature: SHA-256(name || "\n" || 0x04 || public key)[:4].
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(name.as_bytes());
        ctx.update(b"\n");
        ctx.update(&[ALG_COSIGNATURE_V1]);
        ctx.update(&public_key);
        let mut key_id = [0u8; KEY_ID_LEN];
        key_id.copy_from_slice(&ctx.finish().as_ref()[..KEY_ID_LEN]);
        Ok(Self {
            name: name.to_owned(),
            public_key,
            key_id,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> [u8; KEY_ID_LEN] {
        self.key_id
    }

    /// Whether `cosignature` is this witness's over the checkpoint `body`.
    pub fn verifies(&self, body: &str, cosignature: &Cosignature) -> bool {
        cosignature.timestamp <= i64::MAX as u64
            && UnparsedPublicKey::new(&ED25519, &self.public_key)
                .verify(
                    signed_message(body, cosignature.timestamp).as_bytes(),
                    &cosignature.signature,
                )
                .is_ok()
    }

    /// The note signature line of `cosignature`, to append to the checkpoint.
    pub fn line(&self, cosignature: &Cosignature) -> String {
        let mut blob = Vec::with_capacity(KEY_ID_LEN + TIMESTAMP_LEN + SIGNATURE_LEN);
        blob.extend_from_slice(&self.key_id);
        blob.extend_from_slice(&cosignature.timestamp.to_be_bytes());
        blob.extend_from_slice(&cosignature.signature);
        format!("\u{2014} {} {}\n", self.name, STANDARD.encode(blob))
    }

    /// The cosignatures of this witness on `note` (whose text is the checkpoint body). As
    /// signed-note asks, lines of other keys are ignored, every line of this one must verify,
    /// and at least one must be there.
    pub fn cosignatures(&self, note: &str) -> Result<Vec<Cosignature>, CosignatureError> {
        let (body, lines) = signature_lines(note)?;
        let mut found = Vec::new();
        for line in lines {
            if line.name != self.name || line.key_id != self.key_id {
                continue;
            }
            let malformed = |what| CosignatureError::Malformed(self.name.clone(), what);
            if line.payload.len() != TIMESTAMP_LEN + SIGNATURE_LEN {
                return Err(malformed("not a timestamp and an Ed25519 signature"));
            }
            let (time, signature) = line.payload.split_at(TIMESTAMP_LEN);
            let cosignature = Cosignature {
                timestamp: u64::from_be_bytes(time.try_into().map_err(|_| malformed("time"))?),
                signature: signature.try_into().map_err(|_| malformed("signature"))?,
            };
            if !self.verifies(body, &cosignature) {
                return Err(CosignatureError::Invalid(self.name.clone()));
            }
            found.push(cosignature);
        }
        if found.is_empty() {
            return Err(CosignatureError::Missing(self.name.clone()));
        }
        Ok(found)
    }
}

/// tlog-cosignature §"Ed25519 signed message": the header line, the time line, the body.
fn signed_message(body: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{body}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{Ed25519KeyPair, KeyPair};

    const BODY: &str = "example.com/log\n7\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    fn witness(seed: u8, name: &str) -> (Ed25519KeyPair, Witness) {
        let pair = Ed25519KeyPair::from_seed_unchecked(&[seed; 32]).unwrap();
        let public: [u8; 32] = pair.public_key().as_ref().try_into().unwrap();
        (pair, Witness::new(name, public).unwrap())
    }

    fn cosign(pair: &Ed25519KeyPair, timestamp: u64) -> Cosignature {
        let signature = pair.sign(signed_message(BODY, timestamp).as_bytes());
        Cosignature {
            timestamp,
            signature: signature.as_ref().try_into().unwrap(),
        }
    }

    /// A checkpoint note as the log signs it (the log's own line need not verify here).
    fn note(lines: &[String]) -> String {
        format!(
            "{BODY}\n\u{2014} example.com/log AAAAAAAA\n{}",
            lines.concat()
        )
    }

    #[test]
    fn a_cosignature_line_round_trips_and_binds_time_and_body() {
        let (pair, w) = witness(1, "w.example/witness");
        let cos = cosign(&pair, 1_679_315_147);
        assert_eq!(
            w.cosignatures(&note(&[w.line(&cos)])).unwrap(),
            vec![cos.clone()]
        );
        let later = Cosignature {
            timestamp: cos.timestamp + 1,
            ..cos.clone()
        };
        assert!(!w.verifies(BODY, &later));
        assert!(!w.verifies(&BODY.replace('7', "8"), &cos));
    }

    #[test]
    fn another_key_under_the_same_name_is_not_this_witness() {
        let (_, w) = witness(1, "w.example/witness");
        let (other_pair, other) = witness(2, "w.example/witness");
        let line = other.line(&cosign(&other_pair, 5));
        assert_eq!(
            w.cosignatures(&note(&[line])),
            Err(CosignatureError::Missing("w.example/witness".into()))
        );
    }

    #[test]
    fn a_wrong_signature_under_the_witness_key_is_refused() {
        let (_, w) = witness(1, "w.example/witness");
        let (other_pair, _) = witness(2, "w.example/witness");
        let forged = w.line(&cosign(&other_pair, 5));
        assert_eq!(
            w.cosignatures(&note(&[forged])),
            Err(CosignatureError::Invalid("w.example/witness".into()))
        );
    }

    #[test]
    fn the_key_id_commits_to_the_cosignature_type() {
        // The same key as a plain note signer (type 0x01) has another ID.
        let (pair, w) = witness(1, "w.example/witness");
        let signer = super::super::note::NoteSigner::new("w.example/witness", pair).unwrap();
        assert_ne!(signer.key_hash(), w.key_id());
    }
}
