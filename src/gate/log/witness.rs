//! The parties as witnesses of the audit log (C2SP tlog-cosignature): each party's system
//! fetches a checkpoint, checks it is consistent with the last one it saw, and posts its
//! cosignature; the gateway keeps the cosignatures it verified, serves each checkpoint with
//! them, and `gateway audit verify --witnesses N` asks for a quorum of them. A party holding a
//! cosigned checkpoint can show that the operator rewrote the log after it.

use super::super::{Caller, Gate};
use crate::audit::checkpoint::Checkpoint;
use crate::audit::cosignature::{Cosignature, CosignatureError, Witness};
use crate::audit::note::signature_lines;
use crate::audit::record::micros;
use crate::config::Config;
use crate::crypto::keys;
use crate::store::witness::{self, CosignatureRow};
use crate::store::{Db, StoreError, audit};
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};
use time::OffsetDateTime;

/// A cosignature dated further ahead than this is refused (tlog-cosignature lets verifiers
/// reject future timestamps; a little clock skew is not the witness's fault).
const FUTURE_SECONDS: u64 = 600;

/// The configured witnesses, by party id.
#[derive(Debug, Default, Clone)]
pub struct Witnesses(HashMap<String, Witness>);

#[derive(Debug, thiserror::Error)]
pub enum CosignError {
    #[error("the party {0} has no witness key configured")]
    NotAWitness(String),
    #[error("{0}")]
    NotOurCheckpoint(String),
    #[error("the gateway signed no checkpoint at tree size {0} with that root")]
    NeverSigned(u64),
    #[error(transparent)]
    Cosignature(#[from] CosignatureError),
    #[error("the cosignature is dated {0} s ahead of the gateway's clock")]
    Future(u64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Witnesses {
    /// Each party's `witness_key` under its witness name; a key that does not load stops the
    /// start, naming the configuration key.
    pub fn load(config: &Config) -> Result<Self, String> {
        let mut witnesses = HashMap::new();
        for (i, party) in config.parties.iter().enumerate() {
            let (Some(path), Some(name)) = (&party.witness_key, config.witness_name(party)) else {
                continue;
            };
            let key = format!("parties[{i}].witness_key");
            let public = keys::ed25519_public_key(path).map_err(|e| format!("{key}: {e}"))?;
            let witness = Witness::new(&name, public).map_err(|e| format!("{key}: {e}"))?;
            witnesses.insert(party.id.to_string(), witness);
        }
        Ok(Self(witnesses))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn by_name(&self, name: &str, key_id: &[u8]) -> Option<(&str, &Witness)> {
        self.0
            .iter()
            .find(|(_, w)| w.name() == name && w.key_id() == key_id)
            .map(|(party, w)| (party.as_str(), w))
    }
}

impl Gate {
    /// Verifies and keeps the cosignature(s) of `who`'s witness on `note`, a checkpoint this
    /// gateway signed; the tree size cosigned.
    pub async fn add_cosignature(&self, who: &Caller, note: &str) -> Result<u64, CosignError> {
        let party = who.party.id.to_string();
        let witness = (self.parties.witnesses.0.get(&party))
            .ok_or_else(|| CosignError::NotAWitness(party.clone()))?;
        let keys = self.tree.keys();
        let origin = keys.signer().name();
        let checkpoint = super::anchor::open_checkpoint(note, keys.verifiers(), origin)
            .map_err(CosignError::NotOurCheckpoint)?;
        self.require_signed(&checkpoint).await?;
        let cosignatures = witness.cosignatures(note)?;
        let now = OffsetDateTime::now_utc();
        let seconds = now.unix_timestamp().max(0) as u64;
        for cosignature in &cosignatures {
            if cosignature.timestamp > seconds + FUTURE_SECONDS {
                return Err(CosignError::Future(cosignature.timestamp - seconds));
            }
        }
        for cosignature in cosignatures {
            let row = CosignatureRow {
                tree_size: checkpoint.size,
                witness_name: witness.name().to_owned(),
                key_id: witness.key_id().to_vec(),
                timestamp: cosignature.timestamp as i64,
                signature: cosignature.signature.to_vec(),
            };
            witness::put_cosignature(&self.db, &row, micros(now)).await?;
        }
        Ok(checkpoint.size)
    }

    async fn require_signed(&self, checkpoint: &Checkpoint) -> Result<(), CosignError> {
        match audit::checkpoint_at(&self.db, checkpoint.size).await? {
            Some(stored) if stored.root == checkpoint.root => Ok(()),
            _ => Err(CosignError::NeverSigned(checkpoint.size)),
        }
    }

    /// The checkpoint signed at `tree_size` with every cosignature received for it, as one
    /// note (the gateway's signature line, then the witnesses').
    pub async fn signed_checkpoint(&self, tree_size: u64) -> Result<Option<String>, StoreError> {
        let Some(stored) = audit::checkpoint_at(&self.db, tree_size).await? else {
            return Ok(None);
        };
        let mut note = stored.note;
        for row in witness::cosignatures_of(&self.db, tree_size).await? {
            if let Some((_, witness)) = self
                .parties
                .witnesses
                .by_name(&row.witness_name, &row.key_id)
                && let Some(cosignature) = as_cosignature(&row)
            {
                note.push_str(&witness.line(&cosignature));
            }
        }
        Ok(Some(note))
    }
}

fn as_cosignature(row: &CosignatureRow) -> Option<Cosignature> {
    Some(Cosignature {
        timestamp: u64::try_from(row.timestamp).ok()?,
        signature: row.signature.as_slice().try_into().ok()?,
    })
}

/// The best-witnessed checkpoint: its tree size and how many distinct configured witnesses
/// cosigned it (each cosignature verified again against the stored checkpoint's body).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Quorum {
    pub tree_size: u64,
    pub witnesses: usize,
}

/// The signed text of the checkpoint stored at `tree_size`: what its witnesses signed.
async fn checkpoint_body(db: &Db, tree_size: u64) -> Result<String, String> {
    let stored = audit::checkpoint_at(db, tree_size)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
            format!("a cosignature names tree size {tree_size}, which has no checkpoint")
        })?;
    let (text, _) = signature_lines(&stored.note).map_err(|e| e.to_string())?;
    Ok(text.to_owned())
}

/// Finds the checkpoint cosigned by the most configured witnesses. A stored cosignature of a
/// configured witness that does not verify is an error: someone wrote it past the gateway.
pub async fn quorum(db: &Db, witnesses: &Witnesses) -> Result<Quorum, String> {
    let rows = witness::all_cosignatures(db)
        .await
        .map_err(|e| e.to_string())?;
    let mut by_size: BTreeMap<u64, HashSet<&str>> = BTreeMap::new();
    let mut bodies: HashMap<u64, String> = HashMap::new();
    for row in &rows {
        let Some((party, witness)) = witnesses.by_name(&row.witness_name, &row.key_id) else {
            continue;
        };
        let body = match bodies.entry(row.tree_size) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(slot) => slot.insert(checkpoint_body(db, row.tree_size).await?),
        };
        let verified =
            as_cosignature(row).is_some_and(|cosignature| witness.verifies(body, &cosignature));
        if !verified {
            return Err(format!(
                "the stored cosignature of {} at tree size {} does not verify",
                row.witness_name, row.tree_size
            ));
        }
        by_size.entry(row.tree_size).or_default().insert(party);
    }
    Ok(by_size
        .into_iter()
        .map(|(tree_size, parties)| Quorum {
            tree_size,
            witnesses: parties.len(),
        })
        .max_by_key(|q| (q.witnesses, q.tree_size))
        .unwrap_or_default())
}
