//! Inclusion and consistency proofs from the stored tree: the proof algorithms ask for
//! O(log n) perfect subtrees; a first pass learns which, one query fetches them, a second pass
//! computes the proof. The algorithms' path depends only on indices, never on hash values.

use crate::audit::merkle::{self, Hash, MerkleError, NodeSource};
use crate::store::{Db, StoreError, audit, audit_reduction};
use std::cell::RefCell;
use std::collections::HashMap;

#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    #[error("the tree has only {available} leaves")]
    BeyondTree { available: u64 },
    #[error("invalid range: {0}")]
    Range(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a stored tree node is missing")]
    MissingNode,
    /// The record is past the log's own retention: only its leaf hash is kept.
    #[error("the record was reduced to its leaf hash")]
    Reduced,
}

struct Recording(RefCell<Vec<(u32, u64)>>);

impl NodeSource for Recording {
    type Error = std::convert::Infallible;
    fn perfect(&self, level: u32, index: u64) -> Result<Hash, Self::Error> {
        self.0.borrow_mut().push((level, index));
        Ok([0; 32])
    }
}

struct Fetched(HashMap<(u32, u64), Hash>);

impl NodeSource for Fetched {
    type Error = ();
    fn perfect(&self, level: u32, index: u64) -> Result<Hash, Self::Error> {
        self.0.get(&(level, index)).copied().ok_or(())
    }
}

async fn compute<T>(
    db: &Db,
    run: impl Fn(&dyn NodeSourceDyn) -> Result<T, ProofError>,
) -> Result<T, ProofError> {
    let recording = Recording(RefCell::new(Vec::new()));
    run(&recording)?;
    let wanted = recording.0.into_inner();
    let fetched = Fetched(audit::nodes(db, &wanted).await?);
    run(&fetched)
}

/// Object-safe view of the two sources above, so one closure serves both passes.
trait NodeSourceDyn {
    fn inclusion(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError>;
    fn consistency(&self, from: u64, to: u64) -> Result<Vec<Hash>, ProofError>;
}

fn map<E>(error: MerkleError<E>) -> ProofError {
    match error {
        MerkleError::Source(_) => ProofError::MissingNode,
        other => ProofError::Range(match other {
            MerkleError::IndexOutOfRange { index, tree_size } => {
                format!("index {index} is not below tree size {tree_size}")
            }
            MerkleError::ShrinkingTree { from, to } => format!("from {from} is above to {to}"),
            MerkleError::Source(_) => unreachable!(),
        }),
    }
}

impl<S: NodeSource> NodeSourceDyn for S {
    fn inclusion(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
        merkle::inclusion_proof(self, index, size).map_err(map)
    }
    fn consistency(&self, from: u64, to: u64) -> Result<Vec<Hash>, ProofError> {
        merkle::consistency_proof(self, from, to).map_err(map)
    }
}

async fn require_stored(db: &Db, size: u64) -> Result<(), ProofError> {
    let available = audit::tree_size(db).await?;
    if size > available {
        return Err(ProofError::BeyondTree { available });
    }
    Ok(())
}

/// The canonical bytes of record `index` and its inclusion proof in the tree of `tree_size`.
pub async fn inclusion(
    db: &Db,
    index: u64,
    tree_size: u64,
) -> Result<(Vec<u8>, Vec<Hash>), ProofError> {
    if index >= tree_size {
        return Err(ProofError::Range(format!(
            "index {index} is not below tree size {tree_size}"
        )));
    }
    require_stored(db, tree_size).await?;
    let proof = compute(db, |src| src.inclusion(index, tree_size)).await?;
    let Some(leaf) = audit::record(db, index).await? else {
        let reduced = audit_reduction::reduced(db).await?;
        return Err(if (index as i64) < reduced.below {
            ProofError::Reduced
        } else {
            ProofError::MissingNode
        });
    };
    Ok((leaf, proof))
}

pub async fn consistency(db: &Db, from: u64, to: u64) -> Result<Vec<Hash>, ProofError> {
    if from > to {
        return Err(ProofError::Range(format!("from {from} is above to {to}")));
    }
    require_stored(db, to).await?;
    compute(db, |src| src.consistency(from, to)).await
}
