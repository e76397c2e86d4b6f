//! Offline verification of the whole audit log: every record in sequence without a gap, in
//! canonical form, agreeing with its search columns and with the leaf hash stored when it was
//! appended; the tree recomputed from the records; every checkpoint's signature and root.
//! The first record that does not match is named.

use crate::audit::checkpoint::{self, Checkpoint, NoteVerifier};
use crate::audit::merkle::{Frontier, empty_root, leaf_hash};
use crate::audit::record::AuditRecord;
use crate::store::audit::{self, VerifyRow as Row};
use crate::store::audit_reduction;
use crate::store::{Db, StoreError};

#[derive(Debug, PartialEq, Eq)]
pub struct Verified {
    pub records: u64,
    pub checkpoints: u64,
    /// Records `[0, reduced)` are kept as leaf hashes only (the log's own retention)…
    pub reduced: u64,
    /// …and were appended before this time (microseconds).
    pub reduced_before: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("record {seq}: {problem}")]
    Record { seq: u64, problem: String },
    #[error("checkpoint at tree size {size}: {problem}")]
    Checkpoint { size: u64, problem: String },
    #[error("the log head says {head} records but {found} are stored")]
    Head { head: u64, found: u64 },
    #[error("{label}, of {size} records: {problem}")]
    Anchor {
        label: String,
        size: u64,
        problem: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("reading the log was interrupted")]
    Interrupted,
}

/// A checkpoint held outside the database (a state file, a party's copy), named for the
/// report: the log must contain it and extend it.
pub struct Anchored {
    pub label: String,
    pub checkpoint: Checkpoint,
}

impl Anchored {
    /// Checks the anchor against the tree of the records before it.
    fn check(&self, frontier: &Frontier) -> Result<(), VerifyError> {
        if frontier.root() == self.checkpoint.root {
            return Ok(());
        }
        Err(VerifyError::Anchor {
            label: self.label.clone(),
            size: self.checkpoint.size,
            problem: "the log's first records do not hash to its root: they were rewritten after it was signed".into(),
        })
    }
}

pub async fn verify(
    db: &Db,
    verifiers: &[NoteVerifier],
    origin: &str,
) -> Result<Verified, VerifyError> {
    verify_anchored(db, verifiers, origin, &mut []).await
}

/// Verifies the log, and that it contains and extends each of `anchors`.
pub async fn verify_anchored(
    db: &Db,
    verifiers: &[NoteVerifier],
    origin: &str,
    anchors: &mut [Anchored],
) -> Result<Verified, VerifyError> {
    let checkpoints = audit::checkpoints(db).await?;
    anchors.sort_by_key(|a| a.checkpoint.size);
    let mut anchors = anchors.iter().peekable();
    while let Some(anchor) = anchors.next_if(|a| a.checkpoint.size == 0) {
        if anchor.checkpoint.root != empty_root() {
            return Err(VerifyError::Anchor {
                label: anchor.label.clone(),
                size: 0,
                problem: "not the root of the empty tree".into(),
            });
        }
    }
    let mut walk = Walk {
        frontier: Frontier::new(),
        pending: checkpoints.iter().peekable(),
        anchors,
        checked: 0,
        verifiers,
        origin,
    };
    let reduced = walk_reduced(db, &mut walk).await?;
    // The next page is read while this one is checked: the database and the hashing overlap.
    let mut next = tokio::spawn(audit::verify_page(db.clone(), reduced.below));
    loop {
        let rows = next.await.map_err(|_| VerifyError::Interrupted)??;
        if rows.is_empty() {
            break;
        }
        let base = walk.frontier.size();
        check_index(db, base, &rows).await?;
        next = tokio::spawn(audit::verify_page(
            db.clone(),
            (base + rows.len() as u64) as i64,
        ));
        // Hashing a page takes every core for a while: off the runtime's threads, so that a
        // verification started from the review pages does not stall the requests served.
        let hashes = tokio::task::spawn_blocking(move || check_page(base, &rows))
            .await
            .map_err(|_| VerifyError::Interrupted)??;
        for hash in hashes {
            walk.push(hash)?;
        }
    }
    let Walk {
        frontier,
        mut pending,
        mut anchors,
        checked,
        ..
    } = walk;
    if let Some(anchor) = anchors.next() {
        return Err(VerifyError::Anchor {
            label: anchor.label.clone(),
            size: anchor.checkpoint.size,
            problem: format!(
                "the log holds only {} records: records were removed or an older copy of the database was restored",
                frontier.size()
            ),
        });
    }
    if let Some(stored) = pending.next() {
        return Err(VerifyError::Checkpoint {
            size: stored.tree_size,
            problem: format!(
                "signed for more records than the {} stored",
                frontier.size()
            ),
        });
    }
    let head = audit::log_size(db).await?;
    if head != frontier.size() {
        return Err(VerifyError::Head {
            head,
            found: frontier.size(),
        });
    }
    Ok(Verified {
        records: frontier.size(),
        checkpoints: checked,
        reduced: reduced.below as u64,
        reduced_before: reduced.cutoff,
    })
}

/// The tree as the walk through the log builds it, with the checkpoints and anchors still
/// to meet.
struct Walk<'a, C: Iterator<Item = &'a audit::StoredCheckpoint>, A: Iterator<Item = &'a Anchored>> {
    frontier: Frontier,
    pending: std::iter::Peekable<C>,
    anchors: std::iter::Peekable<A>,
    checked: u64,
    verifiers: &'a [NoteVerifier],
    origin: &'a str,
}

impl<'a, C, A> Walk<'a, C, A>
where
    C: Iterator<Item = &'a audit::StoredCheckpoint>,
    A: Iterator<Item = &'a Anchored>,
{
    /// Adds the next leaf, and checks each checkpoint and anchor at the size it makes.
    fn push(&mut self, hash: [u8; 32]) -> Result<(), VerifyError> {
        self.frontier.push(hash);
        let size = self.frontier.size();
        while let Some(stored) = self.pending.next_if(|c| c.tree_size == size) {
            check_checkpoint(stored, &self.frontier, self.verifiers, self.origin)?;
            self.checked += 1;
        }
        while let Some(anchor) = self.anchors.next_if(|a| a.checkpoint.size == size) {
            anchor.check(&self.frontier)?;
        }
        Ok(())
    }
}

/// Leaves read per query in the reduced prefix.
const LEAF_PAGE: i64 = 65_536;

/// Walks the reduced prefix of the log (the log's own retention) on the leaf hashes the tree
/// keeps: it must end at a checkpoint signed before its cutoff, and every leaf be there.
async fn walk_reduced<'a, C, A>(
    db: &Db,
    walk: &mut Walk<'a, C, A>,
) -> Result<audit_reduction::Reduced, VerifyError>
where
    C: Iterator<Item = &'a audit::StoredCheckpoint>,
    A: Iterator<Item = &'a Anchored>,
{
    let reduced = audit_reduction::reduced(db).await?;
    if reduced.below == 0 {
        return Ok(reduced);
    }
    let signed = audit_reduction::signed_at(db, reduced.below).await?;
    if signed.is_none_or(|at| at >= reduced.cutoff) {
        return Err(VerifyError::Record {
            seq: reduced.below as u64 - 1,
            problem: "reduced to its leaf hash, but the reduced records do not end at a checkpoint signed before the reduction's cutoff".into(),
        });
    }
    while (walk.frontier.size() as i64) < reduced.below {
        let from = walk.frontier.size() as i64;
        let to = (from + LEAF_PAGE).min(reduced.below);
        for (index, hash) in audit_reduction::leaves(db, from, to).await? {
            let expected = walk.frontier.size();
            let hash: Option<[u8; 32]> = hash.try_into().ok();
            let Some(hash) = hash.filter(|_| index as u64 == expected) else {
                return Err(VerifyError::Record {
                    seq: expected,
                    problem: "reduced, and its leaf hash is missing from the tree".into(),
                });
            };
            walk.push(hash)?;
        }
        if (walk.frontier.size() as i64) < to {
            return Err(VerifyError::Record {
                seq: walk.frontier.size(),
                problem: "reduced, and its leaf hash is missing from the tree".into(),
            });
        }
    }
    Ok(reduced)
}

/// Checks that the client index lists, for the page's records, exactly the clients the
/// records themselves name in `clients` (version 2): a row added or missing there would add
/// or hide an access in someone's access report.
async fn check_index(db: &Db, base: u64, rows: &[Row]) -> Result<(), VerifyError> {
    let mut expected: Vec<(i64, String)> = rows
        .iter()
        .filter(|row| row.record.starts_with(br#"{"v":2,"#))
        .filter_map(|row| AuditRecord::decode(&row.record).ok())
        .flat_map(|record| {
            let seq = record.seq as i64;
            record.clients.into_iter().map(move |client| (seq, client))
        })
        .collect();
    expected.sort();
    let end = (base + rows.len() as u64) as i64;
    let indexed = audit::indexed_clients(db, base as i64, end).await?;
    if indexed == expected {
        return Ok(());
    }
    let first = indexed
        .iter()
        .zip(expected.iter())
        .find(|(a, b)| a != b)
        .map(|(a, b)| a.0.min(b.0))
        .or_else(|| {
            indexed
                .get(expected.len())
                .or(expected.get(indexed.len()))
                .map(|r| r.0)
        })
        .unwrap_or(base as i64);
    Err(VerifyError::Record {
        seq: first as u64,
        problem: "the client index does not agree with the clients the record names".into(),
    })
}

/// Checks the rows of a page starting at sequence number `base`, spread over the cores, and
/// returns their leaf hashes in order; of several bad records, the first is named.
fn check_page(base: u64, rows: &[Row]) -> Result<Vec<[u8; 32]>, VerifyError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let chunk = rows.len().div_ceil(threads).max(1);
    let checked: Vec<Result<Vec<[u8; 32]>, VerifyError>> = std::thread::scope(|scope| {
        let workers: Vec<_> = rows
            .chunks(chunk)
            .enumerate()
            .map(|(i, part)| {
                scope.spawn(move || {
                    let first = base + (i * chunk) as u64;
                    part.iter()
                        .enumerate()
                        .map(|(j, row)| check_row(first + j as u64, row))
                        .collect()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or(Err(VerifyError::Interrupted)))
            .collect()
    });
    let mut hashes = Vec::with_capacity(rows.len());
    for part in checked {
        hashes.extend(part?);
    }
    Ok(hashes)
}

/// Checks one record against its sequence number, its columns and its stored leaf hash, and
/// returns its leaf hash.
fn check_row(seq: u64, row: &Row) -> Result<[u8; 32], VerifyError> {
    let fail = |problem: &str| VerifyError::Record {
        seq,
        problem: problem.to_owned(),
    };
    let Row {
        seq: stored_seq,
        recorded_at,
        party,
        user,
        client,
        action,
        outcome,
        request_id,
        record: bytes,
        leaf,
    } = row;
    if *stored_seq as u64 != seq {
        return Err(VerifyError::Record {
            seq,
            problem: format!("missing (the next stored record is {stored_seq})"),
        });
    }
    let hash = leaf_hash(bytes);
    if leaf.as_ref().is_some_and(|leaf| leaf.as_slice() != hash) {
        return Err(fail(
            "its bytes differ from the leaf hash stored when it was appended",
        ));
    }
    let record =
        AuditRecord::decode(bytes).map_err(|e| fail(&format!("not a valid record ({e})")))?;
    let columns_agree = record.seq == seq
        && record.time_micros() == Some(*recorded_at)
        && &record.party == party
        && &record.user == user
        && &record.client == client
        && &record.action == action
        && record.outcome.as_str() == outcome
        && &record.request_id == request_id;
    if !columns_agree {
        return Err(fail("its search columns do not agree with the record"));
    }
    Ok(hash)
}

fn check_checkpoint(
    stored: &audit::StoredCheckpoint,
    frontier: &Frontier,
    verifiers: &[NoteVerifier],
    origin: &str,
) -> Result<(), VerifyError> {
    let fail = |problem: String| VerifyError::Checkpoint {
        size: stored.tree_size,
        problem,
    };
    let opened = checkpoint::open(&stored.note, verifiers).map_err(|e| fail(e.to_string()))?;
    if opened.origin != origin {
        return Err(fail(format!("signed for the log {:?}", opened.origin)));
    }
    if opened.size != stored.tree_size || stored.root != opened.root {
        return Err(fail("its columns do not agree with its signed note".into()));
    }
    if opened.root != frontier.root() {
        return Err(fail(
            "the records before it do not hash to its signed root (a record and its stored leaf hash were altered)".into(),
        ));
    }
    Ok(())
}
