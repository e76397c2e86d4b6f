//! The gateway's rotatable keys as a service: the store seals personal text with the field
//! encryption ring; a rotation adds a key, the census says how many stored values each key
//! still holds, the migration seals them again under the current key (resumable: it picks up
//! whatever is not under the current key yet), and a key is retired only when it holds nothing.

use crate::crypto::cipher::CipherError;
use crate::crypto::keyring::{CipherRing, Ring, RingError};
use crate::store::sealing::{self, Census, SEALED_COLUMNS, SealError, Sealing};
use crate::store::{Db, StoreError};

impl Sealing for CipherRing {
    fn seal(&self, plaintext: &[u8], binding: &[u8]) -> Result<Vec<u8>, SealError> {
        CipherRing::seal(self, plaintext, binding).map_err(sealing_error)
    }

    fn open(&self, sealed: &[u8], binding: &[u8]) -> Result<Vec<u8>, SealError> {
        CipherRing::open(self, sealed, binding).map_err(sealing_error)
    }

    fn current_key_id(&self) -> String {
        self.get().key_id().to_owned()
    }
}

fn sealing_error(error: CipherError) -> SealError {
    SealError(error.to_string())
}

#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error("{0}")]
    Ring(#[from] RingError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("key {id} still seals {values} stored values: run `gateway keys migrate` first")]
    InUse { id: String, values: i64 },
}

/// How many stored values each key of the ring (and `clear`) holds, per sealed column.
pub async fn census(db: &Db, ring: &CipherRing) -> Result<Vec<Census>, StoreError> {
    let ids: Vec<String> = ring.get().key_ids().map(str::to_owned).collect();
    sealing::census(db, &ids).await
}

/// Seals again under the current key every stored value that is under an older key or in
/// clear, a page at a time; how many values were moved.
pub async fn migrate(db: &Db, page: i64) -> Result<u64, StoreError> {
    let mut moved = 0;
    for column in SEALED_COLUMNS {
        let mut after = String::new();
        while let Some((last, count)) = sealing::reseal_page(db, column, &after, page).await? {
            moved += count;
            after = last;
        }
    }
    Ok(moved)
}

/// Takes `id` out of the ring, only when no stored value uses it any more.
pub async fn retire(db: &Db, ring: &Ring, cipher: &CipherRing, id: &str) -> Result<(), KeysError> {
    let values: i64 = census(db, cipher)
        .await?
        .iter()
        .filter(|c| c.key_id == id)
        .map(|c| c.values)
        .sum();
    if values > 0 {
        return Err(KeysError::InUse {
            id: id.to_owned(),
            values,
        });
    }
    ring.retire(id)?;
    Ok(())
}

impl super::Gate {
    /// Reads the key ring again (a rotation by the command line or another instance); when
    /// the current key changed, or when `always`, seals again under it whatever is not yet.
    /// How many values were moved, when a migration ran.
    pub async fn keep_keys_current(&self, always: bool) -> Result<Option<u64>, KeysError> {
        let changed = self.cipher.reload()?;
        if !(changed || always) {
            return Ok(None);
        }
        Ok(Some(migrate(&self.db, MIGRATION_PAGE).await?))
    }
}

/// Values sealed again per statement of the migration.
pub const MIGRATION_PAGE: i64 = 500;
