//! The keys of the audit log's checkpoints. The current key of the `audit-signing` ring signs;
//! it and every earlier key verify, so that a rotation (`gateway keys rotate audit-signing`)
//! leaves every checkpoint signed before it verifiable. Earlier keys are never retired: a
//! checkpoint outlives the key that signed it.

use crate::audit::checkpoint::{NoteSigner, NoteVerifier};
use crate::audit::note::signature_lines;
use crate::crypto::keyring::{Following, Ring};
use crate::crypto::keys;
use crate::store::{Db, StoreError, audit};
use anyhow::Context;

/// The log's keys as the ring holds them: the current one signs.
pub struct LogKeys {
    signer: NoteSigner,
    /// Every key with its ring id, the current first.
    keys: Vec<(String, NoteVerifier)>,
    verifiers: Vec<NoteVerifier>,
}

impl LogKeys {
    /// Every key of `ring`, named `origin` (the log's name, as tlog-checkpoint recommends).
    pub fn of_ring(ring: &Ring, origin: &str) -> anyhow::Result<Self> {
        let mut signer = None;
        let mut keys = Vec::new();
        for (id, file) in ring.in_use()? {
            let key =
                keys::private_key(&file).with_context(|| format!("audit signing key {id}"))?;
            let made = NoteSigner::from_pkcs8(origin, key.secret_der())
                .with_context(|| format!("audit signing key {id}: not an Ed25519 key"))?;
            keys.push((id, made.verifier()));
            signer.get_or_insert(made);
        }
        let signer = signer.context("the audit signing ring holds no key")?;
        let verifiers = keys.iter().map(|(_, v)| v.clone()).collect();
        Ok(Self {
            signer,
            keys,
            verifiers,
        })
    }

    /// The key that signs new checkpoints.
    pub fn signer(&self) -> &NoteSigner {
        &self.signer
    }

    /// Every key that verifies this log's checkpoints, the current first.
    pub fn verifiers(&self) -> &[NoteVerifier] {
        &self.verifiers
    }

    /// Every key with its ring id, the current first.
    pub fn keys(&self) -> &[(String, NoteVerifier)] {
        &self.keys
    }
}

/// The log's keys, following the ring: a rotation by the command line or by another instance
/// is taken at the next checkpoint.
pub type LogSigning = Following<LogKeys>;

/// Loads the ring of `audit.signing_key` for the log `origin`.
pub fn follow(ring: Ring, origin: &str) -> anyhow::Result<LogSigning> {
    let origin = origin.to_owned();
    Following::load(ring, move |ring| LogKeys::of_ring(ring, &origin))
}

/// A key of the log as the verifier-key listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedKey {
    /// The ring's id of the key; `None` for a key that signed checkpoints but that the ring
    /// does not hold (its verifier key unknown here).
    pub id: Option<String>,
    /// The C2SP note verifier key, when the ring holds the key.
    pub verifier_key: Option<String>,
    pub key_hash: [u8; 4],
    pub current: bool,
    /// The first and last tree size it signed and how many checkpoints, if it signed any.
    pub signed: Option<(u64, u64, u64)>,
}

/// The log's keys, the current first, then the earlier ones newest first, each with the tree
/// sizes it signed; then any key that signed but that the ring does not hold.
pub async fn listing(db: &Db, keys: &LogKeys) -> Result<Vec<ListedKey>, StoreError> {
    let signers = audit::signers(db).await?;
    let signed = |hash: [u8; 4]| {
        signers.iter().find(|s| s.key_hash == hash).map(|s| {
            let size = |n: i64| n.max(0) as u64;
            (
                size(s.first_tree_size),
                size(s.last_tree_size),
                size(s.checkpoints),
            )
        })
    };
    let mut listed: Vec<ListedKey> = keys
        .keys()
        .iter()
        .enumerate()
        .map(|(i, (id, verifier))| ListedKey {
            id: Some(id.clone()),
            verifier_key: Some(verifier.to_string()),
            key_hash: verifier.key_hash(),
            current: i == 0,
            signed: signed(verifier.key_hash()),
        })
        .collect();
    // The earlier keys by when they last signed, newest first (never-used ones last).
    listed[1..].sort_by_key(|k| std::cmp::Reverse(k.signed.map(|(_, last, _)| last)));
    for signer in &signers {
        let Ok(hash) = <[u8; 4]>::try_from(signer.key_hash.as_slice()) else {
            continue;
        };
        if !listed.iter().any(|k| k.key_hash == hash) {
            listed.push(ListedKey {
                id: None,
                verifier_key: None,
                key_hash: hash,
                current: false,
                signed: signed(hash),
            });
        }
    }
    Ok(listed)
}

/// The key hash of the log's own signature on a checkpoint note (the line named `origin`).
pub fn signed_by(note: &str, origin: &str) -> Option<[u8; 4]> {
    let (_, lines) = signature_lines(note).ok()?;
    lines
        .into_iter()
        .find(|line| line.name == origin)
        .map(|line| line.key_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::checkpoint::{self, Checkpoint};
    use crate::crypto::keyring::{Configured, RingKind};

    const ORIGIN: &str = "gateway.test/audit";

    fn ring(dir: &std::path::Path) -> Ring {
        let file = dir.join("audit-signing.key");
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        std::fs::write(&file, key.serialize_pem()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        Ring {
            dir: dir.join("keyring"),
            kind: RingKind::AuditSigning,
            configured: Configured {
                id: "audit-signing".into(),
                file,
            },
        }
    }

    fn checkpoint(size: u64) -> Checkpoint {
        Checkpoint {
            origin: ORIGIN.into(),
            size,
            root: [size as u8; 32],
        }
    }

    #[test]
    fn after_a_rotation_the_new_key_signs_and_what_the_older_key_signed_still_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let ring = ring(dir.path());
        let signing = follow(ring.clone(), ORIGIN).unwrap();
        let before = signing.current();
        let old_note = before.signer().sign_checkpoint(&checkpoint(5)).unwrap();

        let id = ring.rotate(time::OffsetDateTime::now_utc()).unwrap();
        let after = signing.current();
        assert_eq!(after.keys()[0].0, id, "the rotated key is current");
        assert_ne!(after.signer().key_hash(), before.signer().key_hash());
        let new_note = after.signer().sign_checkpoint(&checkpoint(9)).unwrap();
        for (note, size) in [(&old_note, 5), (&new_note, 9)] {
            assert_eq!(
                checkpoint::open(note, after.verifiers()).unwrap().size,
                size
            );
        }
        assert_eq!(
            signed_by(&old_note, ORIGIN),
            Some(before.signer().key_hash())
        );
        assert_eq!(
            signed_by(&new_note, ORIGIN),
            Some(after.signer().key_hash())
        );
        assert_eq!(signed_by(&new_note, "another/log"), None);
    }
}
