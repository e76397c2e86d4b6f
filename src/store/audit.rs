//! Reading the audit log and persisting its Merkle tree and checkpoints.

use super::batch::{CHUNK_ROWS, insert_sql};
use super::{Db, StoreError};
use crate::audit::merkle::Hash;
use crate::audit::selection::Selection;
use crate::with_pool;
use sqlx::AssertSqlSafe;
use std::collections::HashMap;

/// The number of records appended (the next sequence number).
pub async fn log_size(db: &Db) -> Result<u64, StoreError> {
    let next: i64 = with_pool!(db, |pool| {
        sqlx::query_scalar("SELECT next_seq FROM audit_head WHERE id = 1")
            .fetch_one(pool)
            .await?
    });
    Ok(next as u64)
}

/// Appends a record and rolls it back: whether the audit log takes appends (constraints and
/// triggers included) without leaving anything behind.
pub async fn probe_append(db: &Db) -> Result<(), StoreError> {
    with_pool!(db, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO audit_log (seq, recorded_at, party_id, user_id, client_id, action, outcome, request_id, record) \
             VALUES (-1, 0, 'probe', 'probe', NULL, 'probe', 'allowed', 'probe', $1)",
        )
        .bind(b"probe".to_vec())
        .execute(&mut *tx)
        .await?;
        tx.rollback().await?;
    });
    Ok(())
}

/// Records `[from, from + limit)` in order, as `(seq, canonical bytes)`.
pub async fn records(db: &Db, from: u64, limit: u64) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
    Ok(with_pool!(db, |pool| {
        sqlx::query_as("SELECT seq, record FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2")
            .bind(from as i64)
            .bind(limit as i64)
            .fetch_all(pool)
            .await?
    }))
}

pub async fn record(db: &Db, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(with_pool!(db, |pool| {
        sqlx::query_scalar("SELECT record FROM audit_log WHERE seq = $1")
            .bind(seq as i64)
            .fetch_optional(pool)
            .await?
    }))
}

/// How many leaves the stored tree covers (level-0 nodes are written in order).
pub async fn tree_size(db: &Db) -> Result<u64, StoreError> {
    let size: i64 = with_pool!(db, |pool| {
        sqlx::query_scalar("SELECT COALESCE(MAX(idx) + 1, 0) FROM audit_nodes WHERE level = 0")
            .fetch_one(pool)
            .await?
    });
    Ok(size as u64)
}

/// Stores perfect-subtree hashes. Every instance computes the same hashes, so a node that
/// another instance stored first is simply kept.
pub async fn put_nodes(db: &Db, nodes: &[(u32, u64, Hash)]) -> Result<(), StoreError> {
    with_pool!(db, |pool| {
        let mut tx = pool.begin().await?;
        for chunk in nodes.chunks(CHUNK_ROWS) {
            let sql = insert_sql(
                "audit_nodes",
                &["level", "idx", "hash"],
                chunk.len(),
                "ON CONFLICT (level, idx) DO NOTHING",
            );
            let mut query = sqlx::query(sql);
            for (level, index, hash) in chunk {
                query = query
                    .bind(*level as i32)
                    .bind(*index as i64)
                    .bind(hash.to_vec());
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// A stored perfect-subtree hash.
#[derive(sqlx::FromRow)]
struct NodeRow {
    level: i32,
    idx: i64,
    hash: Vec<u8>,
}

/// The requested perfect-subtree hashes, in one round trip.
pub async fn nodes(
    db: &Db,
    wanted: &[(u32, u64)],
) -> Result<HashMap<(u32, u64), Hash>, StoreError> {
    if wanted.is_empty() {
        return Ok(HashMap::new());
    }
    // Only generated placeholders go into the text; the values are bound.
    let clauses: Vec<String> = (0..wanted.len())
        .map(|i| format!("(level = ${} AND idx = ${})", 2 * i + 1, 2 * i + 2))
        .collect();
    let sql = format!(
        "SELECT level, idx, hash FROM audit_nodes WHERE {}",
        clauses.join(" OR ")
    );
    let rows: Vec<NodeRow> = with_pool!(db, |pool| {
        let mut query = sqlx::query_as(AssertSqlSafe(sql));
        for (level, index) in wanted {
            query = query.bind(*level as i32).bind(*index as i64);
        }
        query.fetch_all(pool).await?
    });
    Ok(rows
        .into_iter()
        .filter_map(|node| {
            let hash: Hash = node.hash.try_into().ok()?;
            Some(((node.level as u32, node.idx as u64), hash))
        })
        .collect())
}

#[derive(sqlx::FromRow)]
pub struct StoredCheckpoint {
    #[sqlx(try_from = "i64")]
    pub tree_size: u64,
    #[sqlx(rename = "root_hash")]
    pub root: Vec<u8>,
    pub note: String,
}

/// Keeps a signed checkpoint, and counts it to the key that signed it (`signer`, its key
/// hash), in one transaction. Several instances sign the same checkpoint: only the first
/// stored counts.
pub async fn put_checkpoint(
    db: &Db,
    size: u64,
    root: &Hash,
    note: &str,
    signer: [u8; 4],
    at_micros: i64,
) -> Result<(), StoreError> {
    with_pool!(db, |pool| {
        let mut tx = pool.begin().await?;
        let stored = sqlx::query(
            "INSERT INTO audit_checkpoints (tree_size, root_hash, note, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tree_size) DO NOTHING",
        )
        .bind(size as i64)
        .bind(root.as_slice())
        .bind(note)
        .bind(at_micros)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if stored == 1 {
            sqlx::query(COUNT_SIGNED)
                .bind(signer.as_slice())
                .bind(size as i64)
                .bind(size as i64)
                .bind(1_i64)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// Adds checkpoints signed by a key between two tree sizes to its row.
const COUNT_SIGNED: &str = "INSERT INTO audit_signers (key_hash, first_tree_size, last_tree_size, checkpoints) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (key_hash) DO UPDATE SET \
     first_tree_size = CASE WHEN excluded.first_tree_size < audit_signers.first_tree_size \
         THEN excluded.first_tree_size ELSE audit_signers.first_tree_size END, \
     last_tree_size = CASE WHEN excluded.last_tree_size > audit_signers.last_tree_size \
         THEN excluded.last_tree_size ELSE audit_signers.last_tree_size END, \
     checkpoints = audit_signers.checkpoints + excluded.checkpoints";

/// A key that signed checkpoints: its key hash, the first and last tree size it signed and
/// how many checkpoints.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Signer {
    pub key_hash: Vec<u8>,
    pub first_tree_size: i64,
    pub last_tree_size: i64,
    pub checkpoints: i64,
}

/// Every key that signed checkpoints, in the order they started signing.
pub async fn signers(db: &Db) -> Result<Vec<Signer>, StoreError> {
    Ok(with_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT key_hash, first_tree_size, last_tree_size, checkpoints FROM audit_signers \
             ORDER BY first_tree_size",
        )
        .fetch_all(pool)
        .await?
    }))
}

/// Fills the signers from the checkpoints (a deployment from before they were kept), once:
/// only while nothing is counted yet.
pub async fn fill_signers(db: &Db, signers: &[Signer]) -> Result<(), StoreError> {
    with_pool!(db, |pool| {
        let mut tx = pool.begin().await?;
        let counted: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_signers")
            .fetch_one(&mut *tx)
            .await?;
        if counted == 0 {
            for signer in signers {
                sqlx::query(COUNT_SIGNED)
                    .bind(signer.key_hash.as_slice())
                    .bind(signer.first_tree_size)
                    .bind(signer.last_tree_size)
                    .bind(signer.checkpoints)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
    });
    Ok(())
}

pub async fn latest_checkpoint(db: &Db) -> Result<Option<StoredCheckpoint>, StoreError> {
    Ok(checkpoints_query(
        db,
        "SELECT tree_size, root_hash, note FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1",
    )
    .await?
    .pop())
}

/// The checkpoint signed at `tree_size`, if any.
pub async fn checkpoint_at(
    db: &Db,
    tree_size: u64,
) -> Result<Option<StoredCheckpoint>, StoreError> {
    Ok(with_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT tree_size, root_hash, note FROM audit_checkpoints WHERE tree_size = $1",
        )
        .bind(tree_size as i64)
        .fetch_optional(pool)
        .await?
    }))
}

pub async fn checkpoints(db: &Db) -> Result<Vec<StoredCheckpoint>, StoreError> {
    checkpoints_query(
        db,
        "SELECT tree_size, root_hash, note FROM audit_checkpoints ORDER BY tree_size",
    )
    .await
}

async fn checkpoints_query(
    db: &Db,
    sql: &'static str,
) -> Result<Vec<StoredCheckpoint>, StoreError> {
    Ok(with_pool!(db, |pool| {
        sqlx::query_as(sql).fetch_all(pool).await?
    }))
}

/// Records after sequence number `after` that match `selection`, in sequence order, at most
/// `limit`, as `(seq, canonical bytes)`. Appends only ever add higher sequence numbers, so a
/// cursor on `seq` neither skips nor repeats a record while the log grows.
pub async fn select(
    db: &Db,
    selection: &Selection,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
    Ok(with_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT seq, record FROM audit_log WHERE seq > $1 \
             AND ($2 = '' OR party_id = $2) AND ($3 = '' OR user_id = $3) \
             AND ($4 = '' OR client_id = $4 \
                  OR seq IN (SELECT seq FROM audit_record_clients WHERE client_id = $4)) \
             AND ($5 = '' OR action = $5) \
             AND ($6 = '' OR outcome = $6) AND recorded_at >= $7 AND recorded_at < $8 \
             ORDER BY seq LIMIT $9",
        )
        .bind(after)
        .bind(&selection.party)
        .bind(&selection.user)
        .bind(&selection.client)
        .bind(&selection.action)
        .bind(&selection.outcome)
        .bind(selection.from_micros)
        .bind(selection.to_micros)
        .bind(limit)
        .fetch_all(pool)
        .await?
    }))
}

/// Every record about `client_id`, alone or among other clients, in sequence order, as
/// canonical bytes (the client indexes).
pub async fn about_client(db: &Db, client_id: &str) -> Result<Vec<Vec<u8>>, StoreError> {
    let rows: Vec<(i64, Vec<u8>)> = with_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT seq, record FROM audit_log WHERE client_id = $1 \
             UNION ALL \
             SELECT l.seq, l.record FROM audit_record_clients c \
             JOIN audit_log l ON l.seq = c.seq WHERE c.client_id = $1 \
             ORDER BY seq",
        )
        .bind(client_id)
        .fetch_all(pool)
        .await?
    });
    Ok(rows.into_iter().map(|(_, record)| record).collect())
}

/// The clients the index lists for the records `[from, to)`, as `(seq, client)` in order:
/// verification compares them with the records' own `clients`.
pub async fn indexed_clients(
    db: &Db,
    from: i64,
    to: i64,
) -> Result<Vec<(i64, String)>, StoreError> {
    Ok(with_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT seq, client_id FROM audit_record_clients WHERE seq >= $1 AND seq < $2 \
             ORDER BY seq, client_id",
        )
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await?
    }))
}

/// One stored record as verification compares it: the indexed columns, the canonical bytes
/// and the stored leaf hash.
#[derive(Debug, sqlx::FromRow)]
pub struct VerifyRow {
    pub seq: i64,
    pub recorded_at: i64,
    #[sqlx(rename = "party_id")]
    pub party: String,
    #[sqlx(rename = "user_id")]
    pub user: String,
    #[sqlx(rename = "client_id")]
    pub client: Option<String>,
    pub action: String,
    pub outcome: String,
    pub request_id: String,
    /// The canonical bytes.
    pub record: Vec<u8>,
    /// The leaf hash stored when the record was appended, once the tree covers it.
    #[sqlx(rename = "hash")]
    pub leaf: Option<Vec<u8>>,
}

/// Verification reads the log in pages this long.
pub const VERIFY_PAGE: i64 = 20_000;

/// The page of records from `from` on, with their leaf hashes, for verification.
pub async fn verify_page(db: Db, from: i64) -> Result<Vec<VerifyRow>, StoreError> {
    let db = &db;
    Ok(with_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT l.seq, l.recorded_at, l.party_id, l.user_id, l.client_id, l.action, l.outcome, l.request_id, l.record, n.hash \
             FROM audit_log l LEFT JOIN audit_nodes n ON n.level = 0 AND n.idx = l.seq \
             WHERE l.seq >= $1 ORDER BY l.seq LIMIT $2",
        )
        .bind(from)
        .bind(VERIFY_PAGE)
        .fetch_all(pool)
        .await?
    }))
}
