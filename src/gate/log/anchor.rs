//! The anchor outside the database: the last checkpoint this gateway signed, kept in a file
//! (`audit.state_file`). Whoever can write to the database can rewrite rows, drop triggers or
//! restore an older copy, and have a gateway that trusted the database sign a checkpoint over
//! the result. The gateway trusts its own file instead: at start and before each signing, the
//! database must still hold that checkpoint and the tree's root at its size; otherwise it
//! refuses, saying what it found.

use super::tree::{TreeError, stored_frontier};
use crate::audit::checkpoint::{self, Checkpoint, NoteVerifier};
use crate::store::{Db, StoreError, audit};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    #[error("audit.state_file {path}: {problem}")]
    File { path: String, problem: String },
    #[error(
        "the audit log in the database does not extend the checkpoint of {size} records that this \
         gateway signed last (audit.state_file {path}): {found}. (Only if the database was emptied \
         on purpose, remove the state file.)"
    )]
    Inconsistent {
        size: u64,
        path: String,
        found: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The state file and the keys its checkpoints are signed with (the log's current and
/// earlier keys).
pub struct Anchor {
    path: PathBuf,
    verifiers: Vec<NoteVerifier>,
    origin: String,
}

impl Anchor {
    pub fn new(path: PathBuf, verifiers: Vec<NoteVerifier>, origin: &str) -> Self {
        Self {
            path,
            verifiers,
            origin: origin.to_owned(),
        }
    }

    /// Trusts these keys from now on (the signing ring changed).
    pub fn trust(&mut self, verifiers: Vec<NoteVerifier>) {
        self.verifiers = verifiers;
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn problem(&self, problem: impl Into<String>) -> AnchorError {
        AnchorError::File {
            path: self.path.display().to_string(),
            problem: problem.into(),
        }
    }

    /// The checkpoint in the file; `None` before the first signing.
    pub fn load(&self) -> Result<Option<Checkpoint>, AnchorError> {
        let note = match std::fs::read_to_string(&self.path) {
            Ok(note) => note,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(self.problem(error.to_string())),
        };
        open_checkpoint(&note, &self.verifiers, &self.origin)
            .map(Some)
            .map_err(|problem| self.problem(problem))
    }

    /// Replaces the file with `note` (for `checkpoint`) unless it already holds a larger one
    /// (another instance sharing the file got further): written to a temporary file, synced,
    /// renamed over the old one and the directory synced, so that a crash leaves the old
    /// checkpoint or the new one, never a torn file.
    pub fn save(&self, note: &str, checkpoint: &Checkpoint) -> Result<(), AnchorError> {
        if matches!(self.load(), Ok(Some(held)) if held.size >= checkpoint.size) {
            return Ok(());
        }
        let io = |error: std::io::Error| self.problem(error.to_string());
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let temporary = self.path.with_extension(format!(
            "tmp-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        let mut file = std::fs::File::create(&temporary).map_err(io)?;
        file.write_all(note.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        drop(file);
        std::fs::rename(&temporary, &self.path).map_err(io)?;
        std::fs::File::open(dir)
            .and_then(|dir| dir.sync_all())
            .map_err(io)?;
        Ok(())
    }

    /// Checks that the database's log still extends `checkpoint` (see [`consistent_with`]).
    pub async fn check(&self, db: &Db, checkpoint: &Checkpoint) -> Result<(), AnchorError> {
        match consistent_with(db, checkpoint).await? {
            None => Ok(()),
            Some(found) => Err(AnchorError::Inconsistent {
                size: checkpoint.size,
                path: self.path.display().to_string(),
                found,
            }),
        }
    }
}

/// A checkpoint note of this log, its signature checked: what a state file or a checkpoint
/// held by someone else must be.
pub fn open_checkpoint(
    note: &str,
    verifiers: &[NoteVerifier],
    origin: &str,
) -> Result<Checkpoint, String> {
    let checkpoint = checkpoint::open(note, verifiers)
        .map_err(|e| format!("not a checkpoint signed by this gateway's key: {e}"))?;
    if checkpoint.origin != origin {
        return Err(format!(
            "a checkpoint of another log ({:?})",
            checkpoint.origin
        ));
    }
    Ok(checkpoint)
}

/// What is wrong, if anything, with the database's log as an extension of `checkpoint`: the
/// log head, the stored checkpoint and the tree's root at its size, each of which a rewrite,
/// a deletion or a restored older copy changes. O(log n) rows: the records themselves are
/// checked by `gateway audit verify`.
pub async fn consistent_with(
    db: &Db,
    checkpoint: &Checkpoint,
) -> Result<Option<String>, StoreError> {
    let size = checkpoint.size;
    let head = audit::log_size(db).await?;
    if head < size {
        return Ok(Some(format!(
            "it holds {head} records, fewer than the {size} signed: records were removed or an \
             older copy of the database was restored"
        )));
    }
    if size == 0 {
        return Ok(None);
    }
    match audit::checkpoint_at(db, size).await? {
        None => {
            return Ok(Some(format!(
                "the checkpoint signed at {size} is missing from the database: checkpoints \
                 were removed or an older copy of the database was restored"
            )));
        }
        Some(stored) if stored.root != checkpoint.root => {
            return Ok(Some(format!(
                "the database's checkpoint at {size} has another root hash"
            )));
        }
        Some(_) => {}
    }
    let tree = audit::tree_size(db).await?;
    if tree < size {
        return Ok(Some(format!(
            "the stored tree covers {tree} of the {size} records signed: tree nodes were removed"
        )));
    }
    match stored_frontier(db, size).await {
        Ok(frontier) if frontier.root() == checkpoint.root => Ok(None),
        Ok(_) => Ok(Some(format!(
            "the stored tree's root at {size} is not the signed one: the history was rewritten"
        ))),
        Err(TreeError::Store(error)) => Err(error),
        Err(error) => Ok(Some(format!("the stored tree at {size}: {error}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::checkpoint::NoteSigner;
    use ring::signature::Ed25519KeyPair;

    const ORIGIN: &str = "gateway.test/audit";

    fn signer(seed: u8) -> NoteSigner {
        NoteSigner::new(
            ORIGIN,
            Ed25519KeyPair::from_seed_unchecked(&[seed; 32]).unwrap(),
        )
        .unwrap()
    }

    fn signed(signer: &NoteSigner, size: u64) -> (String, Checkpoint) {
        let checkpoint = Checkpoint {
            origin: ORIGIN.into(),
            size,
            root: [size as u8; 32],
        };
        (signer.sign_checkpoint(&checkpoint).unwrap(), checkpoint)
    }

    #[test]
    fn the_file_keeps_the_largest_checkpoint_signed_and_is_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let key = signer(1);
        let anchor = Anchor::new(dir.path().join("state"), vec![key.verifier()], ORIGIN);
        assert_eq!(anchor.load().unwrap(), None);
        let (note, seven) = signed(&key, 7);
        anchor.save(&note, &seven).unwrap();
        let (older, five) = signed(&key, 5);
        anchor.save(&older, &five).unwrap();
        assert_eq!(anchor.load().unwrap(), Some(seven));
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }

    #[test]
    fn a_file_not_signed_by_the_gateways_key_is_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state");
        let (note, _) = signed(&signer(2), 7);
        std::fs::write(&path, note).unwrap();
        let anchor = Anchor::new(path, vec![signer(1).verifier()], ORIGIN);
        let message = anchor.load().unwrap_err().to_string();
        assert!(
            message.contains("audit.state_file") && message.contains("not a checkpoint signed"),
            "{message}"
        );
    }
}
