//! The audit log as a service of the gate: the tree and its checkpoints kept up to date,
//! proofs, export and verification, each reading what the store holds and checking it with
//! the pure encodings, tree and notes of `audit`.

pub mod anchor;
pub mod export;
pub mod proofs;
pub mod reduction;
pub mod signing;
pub mod tree;
pub mod verify;
pub mod witness;

use super::Gate;
use crate::audit::merkle::Hash;
use proofs::ProofError;
use verify::{Anchored, Verified, VerifyError};

/// The audit log's services as the edge asks for them.
impl Gate {
    /// Whether the database answers at all.
    pub async fn database_answers(&self) -> bool {
        self.db.ping().await.is_ok()
    }

    /// The C2SP signed note for the current end of the log.
    pub async fn checkpoint(&self) -> Result<String, tree::TreeError> {
        self.tree.checkpoint().await
    }

    /// The note verifier key of the checkpoint signer.
    pub fn verifier_key(&self) -> String {
        self.tree.verifier_key()
    }

    /// The log's keys, the current first, with the tree sizes each signed.
    pub async fn signing_keys(&self) -> Result<Vec<signing::ListedKey>, crate::store::StoreError> {
        signing::listing(&self.db, &self.tree.keys()).await
    }

    /// Record `index` (its canonical bytes) and its inclusion proof in the tree of `size`.
    pub async fn inclusion_proof(
        &self,
        index: u64,
        size: u64,
    ) -> Result<(Vec<u8>, Vec<Hash>), ProofError> {
        proofs::inclusion(&self.db, index, size).await
    }

    /// The consistency proof between tree sizes `from` and `to`.
    pub async fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<Hash>, ProofError> {
        proofs::consistency(&self.db, from, to).await
    }

    /// Verifies the whole log as `gateway audit verify` does, against this gateway's key and
    /// the checkpoint in its state file. (A state file that does not load stopped the start or
    /// the signing already, with what was wrong.)
    pub async fn verify_log(&self, origin: &str) -> Result<Verified, VerifyError> {
        let verifiers = self.tree.verifiers();
        let state = anchor::Anchor::new(self.tree.state_file().into(), verifiers.clone(), origin);
        let mut anchors: Vec<Anchored> = (state.load().ok().flatten())
            .map(|checkpoint| Anchored {
                label: "the state file".into(),
                checkpoint,
            })
            .into_iter()
            .collect();
        verify::verify_anchored(&self.db, &verifiers, origin, &mut anchors).await
    }
}
