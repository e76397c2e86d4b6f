//! Follows the audit log off the request path: hashes each new record into the Merkle tree,
//! stores the completed perfect subtrees (for proofs), and signs checkpoints at least every N
//! records or T milliseconds. Every instance runs one; they compute identical nodes and
//! checkpoints, so whichever stores first wins and the others agree.

use super::anchor::{Anchor, AnchorError};
use super::signing::{LogKeys, LogSigning, signed_by};
use crate::audit::checkpoint::{Checkpoint, NoteVerifier};
use crate::audit::merkle::{Frontier, Hash, empty_root, leaf_hash};
use crate::audit::record::micros;
use crate::config::AuditConfig;
use crate::store::audit_writer::AuditWriter;
use crate::store::{Db, StoreError, audit};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tokio::sync::{Notify, mpsc, oneshot};

const CHUNK: u64 = 4096;

#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the audit log has a gap or a reordering at sequence {0}")]
    Gap(u64),
    #[error("signing the checkpoint failed: {0}")]
    Sign(String),
    #[error("the tree follower has stopped")]
    Stopped,
    #[error("the stored tree cannot be resumed: {0}")]
    Resume(String),
    #[error(transparent)]
    Anchor(#[from] AnchorError),
}

type Reply = oneshot::Sender<Result<String, TreeError>>;

#[derive(Clone)]
pub struct TreeHandle {
    requests: mpsc::Sender<Reply>,
    signing: Arc<LogSigning>,
    state_file: PathBuf,
}

impl TreeHandle {
    /// A checkpoint signed for the current end of the log.
    pub async fn checkpoint(&self) -> Result<String, TreeError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(reply)
            .await
            .map_err(|_| TreeError::Stopped)?;
        answer.await.map_err(|_| TreeError::Stopped)?
    }

    /// The C2SP note verifier key of the checkpoint signer.
    pub fn verifier_key(&self) -> String {
        self.signing.current().signer().verifier_key()
    }

    /// The log's keys: the current one signs, every one verifies.
    pub fn keys(&self) -> Arc<LogKeys> {
        self.signing.current()
    }

    /// Where the last checkpoint signed is kept outside the database.
    pub fn state_file(&self) -> &Path {
        &self.state_file
    }

    /// The keys that verify this log's checkpoints, the current first.
    pub fn verifiers(&self) -> Vec<NoteVerifier> {
        self.signing.current().verifiers().to_vec()
    }
}

struct Follower {
    db: Db,
    signing: Arc<LogSigning>,
    origin: String,
    frontier: Frontier,
    checkpointed: u64,
    checkpointed_at: Instant,
    every_records: u64,
    every: Duration,
    /// The state file outside the database, and the checkpoint it holds.
    anchor: Anchor,
    anchored: Option<Checkpoint>,
    /// Sealed when the database no longer extends the anchor: nothing more is served.
    writer: AuditWriter,
}

/// Resumes the tree where the stored nodes end, after checking that the database still
/// extends the last checkpoint this gateway signed (the state file): a gateway that finds a
/// rewritten, truncated or restored log refuses to start rather than sign over it.
pub async fn start(
    db: Db,
    signing: Arc<LogSigning>,
    config: &AuditConfig,
    appended: Arc<Notify>,
    writer: AuditWriter,
) -> Result<TreeHandle, TreeError> {
    let keys = signing.current();
    let anchor = Anchor::new(
        config.state_file(),
        keys.verifiers().to_vec(),
        &config.log_name,
    );
    let anchored = anchor.load()?;
    match &anchored {
        Some(checkpoint) => anchor.check(&db, checkpoint).await?,
        None => tracing::warn!(
            state_file = %anchor.path().display(),
            "no checkpoint signed by this gateway is on record outside the database yet; the next one will be"
        ),
    }
    count_signers(&db, &config.log_name).await?;
    let frontier = stored_frontier(&db, audit::tree_size(&db).await?).await?;
    let checkpointed = audit::latest_checkpoint(&db)
        .await?
        .map_or(0, |c| c.tree_size);
    let (requests, receiver) = mpsc::channel(64);
    let follower = Follower {
        db,
        signing: signing.clone(),
        origin: config.log_name.clone(),
        frontier,
        checkpointed,
        checkpointed_at: Instant::now(),
        every_records: config.checkpoint_every_records,
        every: Duration::from_millis(config.checkpoint_every_ms),
        anchor,
        anchored,
        writer,
    };
    tokio::spawn(follower.run(appended, receiver));
    Ok(TreeHandle {
        requests,
        signing,
        state_file: config.state_file(),
    })
}

/// Counts the checkpoints of a deployment from before the signers were kept to the keys that
/// signed them, once.
async fn count_signers(db: &Db, origin: &str) -> Result<(), TreeError> {
    if !audit::signers(db).await?.is_empty() || audit::latest_checkpoint(db).await?.is_none() {
        return Ok(());
    }
    let mut signers: Vec<audit::Signer> = Vec::new();
    for stored in audit::checkpoints(db).await? {
        let Some(key_hash) = signed_by(&stored.note, origin) else {
            continue;
        };
        let size = stored.tree_size as i64;
        match signers.iter_mut().find(|s| s.key_hash == key_hash) {
            Some(signer) => {
                signer.last_tree_size = size;
                signer.checkpoints += 1;
            }
            None => signers.push(audit::Signer {
                key_hash: key_hash.to_vec(),
                first_tree_size: size,
                last_tree_size: size,
                checkpoints: 1,
            }),
        }
    }
    audit::fill_signers(db, &signers).await?;
    Ok(())
}

/// The tree of the first `size` leaves as the stored perfect subtrees give it: O(log n) rows.
pub async fn stored_frontier(db: &Db, size: u64) -> Result<Frontier, TreeError> {
    let root_parts = right_edge(size);
    let stored = audit::nodes(db, &root_parts).await?;
    let hashes: Vec<Hash> = root_parts
        .iter()
        .map(|key| {
            stored
                .get(key)
                .copied()
                .ok_or_else(|| TreeError::Resume(format!("node {key:?} is missing")))
        })
        .collect::<Result<_, _>>()?;
    Frontier::from_parts(size, &hashes).map_err(|e| TreeError::Resume(e.to_string()))
}

/// The perfect subtrees covering `[0, size)`, largest first (the frontier's order).
fn right_edge(size: u64) -> Vec<(u32, u64)> {
    let mut start = 0u64;
    (0..64u32)
        .rev()
        .filter(|level| (size >> level) & 1 == 1)
        .map(|level| {
            let node = (level, start >> level);
            start += 1 << level;
            node
        })
        .collect()
}

impl Follower {
    async fn run(mut self, appended: Arc<Notify>, mut requests: mpsc::Receiver<Reply>) {
        loop {
            let reply = tokio::select! {
                () = appended.notified() => None,
                request = requests.recv() => match request {
                    Some(reply) => Some(reply),
                    None => return,
                },
                () = tokio::time::sleep(self.every) => None,
            };
            let result = self.catch_up().await;
            let due = self.frontier.size() > self.checkpointed
                && (reply.is_some()
                    || self.frontier.size() - self.checkpointed >= self.every_records
                    || self.checkpointed_at.elapsed() >= self.every);
            let result = match result {
                Ok(()) if due || (reply.is_some() && self.checkpointed == 0) => self.sign().await,
                Ok(()) => Ok(()),
                Err(error) => Err(error),
            };
            if let Err(error) = &result {
                tracing::error!(%error, "the audit tree follower failed; retrying");
            }
            if let Some(reply) = reply {
                let answer = match result {
                    Ok(()) => self.latest_note().await,
                    Err(error) => Err(error),
                };
                let _ = reply.send(answer);
            }
        }
    }

    async fn catch_up(&mut self) -> Result<(), TreeError> {
        loop {
            let rows = audit::records(&self.db, self.frontier.size(), CHUNK).await?;
            if rows.is_empty() {
                return Ok(());
            }
            let mut nodes = Vec::with_capacity(rows.len() * 2);
            for (seq, record) in &rows {
                if *seq as u64 != self.frontier.size() {
                    return Err(TreeError::Gap(self.frontier.size()));
                }
                nodes.extend(self.frontier.push(leaf_hash(record)).iter());
            }
            audit::put_nodes(&self.db, &nodes).await?;
            metrics::gauge!("gateway_audit_tree_size").set(self.frontier.size() as f64);
        }
    }

    /// Signs the current end of the log, once the database is found to still extend the last
    /// checkpoint signed; then keeps the new one outside the database too.
    async fn sign(&mut self) -> Result<(), TreeError> {
        if let Some(anchored) = &self.anchored
            && let Err(error) = self.anchor.check(&self.db, anchored).await
        {
            if let AnchorError::Inconsistent { .. } = &error {
                self.writer.seal(error.to_string());
            }
            return Err(error.into());
        }
        let checkpoint = Checkpoint {
            origin: self.origin.clone(),
            size: self.frontier.size(),
            root: self.frontier.root(),
        };
        // The key current now (a rotation is taken here); the state file trusts every key.
        let keys = self.signing.current();
        self.anchor.trust(keys.verifiers().to_vec());
        let signer = keys.signer();
        let note = signer
            .sign_checkpoint(&checkpoint)
            .map_err(|e| TreeError::Sign(e.to_string()))?;
        let now = micros(OffsetDateTime::now_utc());
        let (size, root) = (checkpoint.size, &checkpoint.root);
        audit::put_checkpoint(&self.db, size, root, &note, signer.key_hash(), now).await?;
        self.checkpointed = checkpoint.size;
        self.checkpointed_at = Instant::now();
        self.anchor.save(&note, &checkpoint)?;
        self.anchored = Some(checkpoint);
        Ok(())
    }

    async fn latest_note(&mut self) -> Result<String, TreeError> {
        if let Some(stored) = audit::latest_checkpoint(&self.db).await? {
            return Ok(stored.note);
        }
        // An empty log still has a signed head: size 0, the empty-tree hash.
        let root = empty_root();
        let checkpoint = Checkpoint {
            origin: self.origin.clone(),
            size: 0,
            root,
        };
        self.signing
            .current()
            .signer()
            .sign_checkpoint(&checkpoint)
            .map_err(|e| TreeError::Sign(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_right_edge_of_a_tree_is_its_binary_decomposition_largest_first() {
        assert_eq!(right_edge(0), vec![]);
        assert_eq!(right_edge(1), vec![(0, 0)]);
        assert_eq!(right_edge(6), vec![(2, 0), (1, 2)]);
        assert_eq!(right_edge(7), vec![(2, 0), (1, 2), (0, 6)]);
    }
}
