//! The gateway's rotatable keys as a service: the store seals personal text with the field
//! encryption ring; a rotation adds a key, the census says how many stored values each key
//! still holds, the migration seals them again under the current key (resumable: it picks up
//! whatever is not under the current key yet), and a key is retired only when it holds nothing.

use crate::audit::record::AuditDraft;
use crate::crypto::cipher::CipherError;
use crate::crypto::keyring::{CipherRing, PseudonymRing, Ring, RingError};
use crate::crypto::pseudonym::Pseudonymizer;
use crate::domain::ssin::Ssin;
use crate::store::sealing::{self, Census, SEALED_COLUMNS, SealError, Sealing};
use crate::store::{Db, StoreError, clients};
use zeroize::Zeroizing;

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
    #[error("key {id} still made {values} clients' pseudonyms: run `gateway keys migrate` first")]
    PseudonymsInUse { id: String, values: i64 },
    #[error("client {0}: its sealed national number cannot be read ({1})")]
    Number(String, String),
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

/// Takes pseudonym key `id` out of the ring, only when no client's pseudonym is under it.
pub async fn retire_pseudonym(db: &Db, ring: &Ring, id: &str) -> Result<(), KeysError> {
    let values: i64 = clients::pseudonym_census(db)
        .await?
        .iter()
        .filter(|(key, _)| key == id)
        .map(|(_, n)| n)
        .sum();
    if values > 0 {
        return Err(KeysError::PseudonymsInUse {
            id: id.to_owned(),
            values,
        });
    }
    ring.retire(id)?;
    Ok(())
}

/// Takes encryption key `id` out of the ring, only when no stored value uses it any more.
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
    /// Reads both key rings again (a rotation by the command line or another instance). When
    /// the encryption key changed, or when `always`, seals again under it whatever is not yet.
    /// When the pseudonym key changed, `pseudonyms_pending` is set, and the clients' pseudonyms
    /// are made again once the rotation is [`PSEUDONYM_GRACE`] old.
    pub async fn keep_keys_current(
        &self,
        always: bool,
        pseudonyms_pending: &mut bool,
    ) -> Result<KeyTick, KeysError> {
        let mut tick = KeyTick::default();
        if self.cipher.reload()? || always {
            tick.sealed_again = Some(migrate(&self.db, MIGRATION_PAGE).await?);
        }
        *pseudonyms_pending |= self.pseudonyms.reload()? || always;
        if *pseudonyms_pending && rotation_settled(&self.pseudonyms) {
            let moved = migrate_pseudonyms(
                &self.db,
                &self.cipher,
                &self.pseudonyms.get(),
                MIGRATION_PAGE,
            )
            .await?;
            tick.pseudonyms_made_again = Some(moved);
            *pseudonyms_pending = false;
        }
        Ok(tick)
    }
}

/// What one look at the key rings did.
#[derive(Debug, Default)]
pub struct KeyTick {
    /// Values sealed again under the current encryption key, when the migration ran.
    pub sealed_again: Option<u64>,
    /// Pseudonyms made again under the current pseudonym key, when that migration ran.
    pub pseudonyms_made_again: Option<u64>,
}

/// Values sealed again (or pseudonyms made again) per statement of a migration.
pub const MIGRATION_PAGE: i64 = 500;

/// How long after a pseudonym rotation the migration of pseudonyms waits. Every serving
/// instance reads the ring again within 10 s; one that had not would look a person up under
/// the old key only, miss a client whose pseudonym already moved, and split the person in two.
pub const PSEUDONYM_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// Whether the ring's current key has been current for [`PSEUDONYM_GRACE`] (or since an unknown
/// time, which is taken as long enough).
pub fn rotation_settled(ring: &PseudonymRing) -> bool {
    ring.made_current_at()
        .and_then(|at| at.elapsed().ok())
        .is_none_or(|age| age >= PSEUDONYM_GRACE)
}

/// Makes again, under the current key, the pseudonym of every client whose pseudonym an older
/// key made, from its sealed number; how many were made again. Each replacement is guarded by
/// the key it read, so instances doing it at once do no harm.
pub async fn migrate_pseudonyms(
    db: &Db,
    cipher: &CipherRing,
    pseudonyms: &Pseudonymizer,
    page: i64,
) -> Result<u64, KeysError> {
    let current = pseudonyms.key_id();
    let mut after = String::new();
    let mut moved = 0;
    loop {
        let stale = clients::stale_pseudonyms(db, current, &after, page).await?;
        let Some(last) = stale.last() else {
            return Ok(moved);
        };
        after = last.client_id.clone();
        for client in stale {
            let number = Zeroizing::new(
                cipher
                    .open(&client.ssin_ciphertext, client.client_id.as_bytes())
                    .map_err(|e| KeysError::Number(client.client_id.clone(), e.to_string()))?,
            );
            let ssin = std::str::from_utf8(&number)
                .ok()
                .and_then(|text| Ssin::parse(text).ok())
                .ok_or_else(|| {
                    KeysError::Number(client.client_id.clone(), "not a national number".into())
                })?;
            let pseudonym = pseudonyms.pseudonym(&ssin);
            let replaced = clients::replace_pseudonym(
                db,
                &client.client_id,
                &client.pseudonym_key_id,
                (&pseudonym, current),
            )
            .await?;
            moved += u64::from(replaced);
        }
    }
}

/// The action of the record a key rotation appends.
pub const ROTATE_KEY: &str = "rotateKey";

impl super::Gate {
    /// Puts a key rotation on record, by the gateway: which kind, the new key's id and, for
    /// the checkpoint key, its verifier key. Appended under checkpoints the earlier key signs,
    /// the record has the earlier key vouch for the new one.
    pub async fn record_key_rotation(
        &self,
        kind: &str,
        id: &str,
        verifier_key: Option<&str>,
    ) -> Result<(), super::GateError> {
        let mut draft =
            AuditDraft::by_the_gateway("keys", "security", ROTATE_KEY, self.policy.version());
        draft.reason = Some(match verifier_key {
            Some(verifier_key) => format!("{kind} key {id} made current: {verifier_key}"),
            None => format!("{kind} key {id} made current"),
        });
        self.writer.submit(None, draft).await?;
        Ok(())
    }
}
