//! Rotatable secrets on disk. Each kind of key has a directory `<ring>/<kind>/` (owner-only)
//! with one file per key added by rotation (`<id>.key`, owner-only), a file `current` naming
//! the key new values are made with, and a file `retired` listing the ids taken out of use.
//! The key the configuration names (`keys.encryption_key`, `keys.pseudonym_key`) belongs to
//! the ring as well, so a deployment that never rotated has an empty directory and its one key.
//!
//! A rotation adds a key and makes it current; the older keys keep opening (or, for
//! pseudonyms, finding) what they made until the migration has moved everything to the new
//! one; a key is retired only when nothing uses it any more.

use super::cipher::{CipherError, FieldCipher};
use super::pseudonym::Pseudonymizer;
use super::secrets::{SecretError, encode_key32, read_key32};
use ring::rand::{SecureRandom, SystemRandom};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The kinds of secret the gateway rotates as a ring of symmetric keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RingKind {
    /// Field encryption at rest (AES-256-GCM).
    Encryption,
    /// The keyed pseudonym of the national register number (HMAC-SHA256).
    Pseudonym,
    /// The Ed25519 key that signs webhook deliveries (PKCS#8 PEM). Every key of the ring signs
    /// each delivery until it is retired (Standard Webhooks allows several `v1a` entries).
    WebhookSigning,
    /// The Ed25519 key that signs the audit log's checkpoints (PKCS#8 PEM). Only the current
    /// key signs; every earlier key stays in the ring (never retired) so that what it signed
    /// stays verifiable.
    AuditSigning,
}

impl RingKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Encryption => "encryption",
            Self::Pseudonym => "pseudonym",
            Self::WebhookSigning => "webhook-signing",
            Self::AuditSigning => "audit-signing",
        }
    }

    /// The first letter of the ids a rotation gives keys of this kind.
    const fn prefix(self) -> &'static str {
        match self {
            Self::Encryption => "e",
            Self::Pseudonym => "p",
            Self::WebhookSigning => "w",
            Self::AuditSigning => "a",
        }
    }

    /// A new key's file contents.
    fn new_key(self) -> Result<Zeroizing<Vec<u8>>, ()> {
        match self {
            Self::Encryption | Self::Pseudonym => {
                let mut key = Zeroizing::new([0u8; 32]);
                SystemRandom::new().fill(key.as_mut()).map_err(|_| ())?;
                Ok(Zeroizing::new(encode_key32(&key).into_bytes()))
            }
            // The same kind of key the development PKI makes (rcgen, on ring).
            Self::WebhookSigning | Self::AuditSigning => {
                let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).map_err(|_| ())?;
                Ok(Zeroizing::new(key.serialize_pem().into_bytes()))
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RingError {
    #[error("{0}")]
    Secret(#[from] SecretError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RingError + '_ {
    move |source| RingError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A key id: 1 to 32 of `[A-Za-z0-9_-]`, as the configuration's key ids.
pub fn valid_key_id(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The configured key of a ring: its id and file.
#[derive(Debug, Clone)]
pub struct Configured {
    pub id: String,
    pub file: PathBuf,
}

/// One kind's ring: where it lives and the key the configuration names.
#[derive(Debug, Clone)]
pub struct Ring {
    pub dir: PathBuf,
    pub kind: RingKind,
    pub configured: Configured,
}

/// The usable keys of a ring, the current one first.
pub struct Loaded {
    pub keys: Vec<(String, Zeroizing<[u8; 32]>)>,
}

impl Loaded {
    pub fn current_id(&self) -> &str {
        &self.keys[0].0
    }
}

impl Ring {
    pub fn kind_dir(&self) -> PathBuf {
        self.dir.join(self.kind.as_str())
    }

    fn read_list(&self, name: &str) -> Result<Vec<String>, RingError> {
        let path = self.kind_dir().join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(io(&path)(e)),
        }
    }

    /// The ids taken out of use.
    pub fn retired(&self) -> Result<BTreeSet<String>, RingError> {
        Ok(self.read_list("retired")?.into_iter().collect())
    }

    /// The id of every key in the ring that is not retired, with its file; the configured
    /// key first, then the rotated ones in the order they were made (their ids sort so).
    pub fn members(&self) -> Result<Vec<(String, PathBuf)>, RingError> {
        let retired = self.retired()?;
        let mut members = vec![(self.configured.id.clone(), self.configured.file.clone())];
        let dir = self.kind_dir();
        let mut rotated = Vec::new();
        match std::fs::read_dir(&dir) {
            Ok(entries) => {
                for entry in entries {
                    let path = entry.map_err(io(&dir))?.path();
                    let Some(id) = path
                        .file_name()
                        .and_then(|n| n.to_str())
                        .and_then(|n| n.strip_suffix(".key"))
                    else {
                        continue;
                    };
                    if valid_key_id(id) && id != self.configured.id {
                        rotated.push((id.to_owned(), path.clone()));
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&dir)(e)),
        }
        rotated.sort();
        members.extend(rotated);
        members.retain(|(id, _)| !retired.contains(id));
        Ok(members)
    }

    /// The id of the key new values are made with: the last rotation's, else the configured.
    pub fn current_id(&self) -> Result<String, RingError> {
        Ok(self
            .read_list("current")?
            .into_iter()
            .next()
            .unwrap_or_else(|| self.configured.id.clone()))
    }

    /// Every key of the ring that is not retired, the current one first, with its file.
    pub fn in_use(&self) -> Result<Vec<(String, PathBuf)>, RingError> {
        let current = self.current_id()?;
        let mut members = self.members()?;
        let Some(at) = members.iter().position(|(id, _)| *id == current) else {
            return Err(RingError::Invalid {
                path: self.kind_dir().join("current").display().to_string(),
                message: format!("names key {current}, which the ring does not hold (or retired)"),
            });
        };
        members[..=at].rotate_right(1);
        Ok(members)
    }

    /// When the ring last changed (a key added, made current or retired), if it is known.
    pub fn changed_at(&self) -> Option<std::time::SystemTime> {
        std::fs::metadata(self.kind_dir())
            .and_then(|m| m.modified())
            .ok()
    }

    /// Every usable key, read from its file (refused when group or others may read it), the
    /// current one first.
    pub fn load(&self) -> Result<Loaded, RingError> {
        let mut keys = Vec::new();
        for (id, file) in self.in_use()? {
            keys.push((id, read_key32(&file)?));
        }
        Ok(Loaded { keys })
    }

    /// Adds a new random key and makes it current; its id.
    pub fn rotate(&self, now: time::OffsetDateTime) -> Result<String, RingError> {
        let dir = self.kind_dir();
        owner_only_dir(&dir)?;
        let stamp = format!(
            "{:04}{:02}{:02}-{:02}{:02}{:02}",
            now.year(),
            u8::from(now.month()),
            now.day(),
            now.hour(),
            now.minute(),
            now.second()
        );
        let taken: BTreeSet<String> = self.members()?.into_iter().map(|(id, _)| id).collect();
        let retired = self.retired()?;
        let id = (0..100)
            .map(|n| match n {
                0 => format!("{}-{stamp}", self.kind.prefix()),
                n => format!("{}-{stamp}-{n}", self.kind.prefix()),
            })
            .find(|id| !taken.contains(id) && !retired.contains(id))
            .ok_or_else(|| RingError::Invalid {
                path: dir.display().to_string(),
                message: "too many rotations within one second".to_owned(),
            })?;
        let key = self.kind.new_key().map_err(|()| RingError::Invalid {
            path: dir.display().to_string(),
            message: "the random generator failed".to_owned(),
        })?;
        write_owner_only(&dir.join(format!("{id}.key")), &key)?;
        write_owner_only(&dir.join("current"), format!("{id}\n").as_bytes())?;
        Ok(id)
    }

    /// Takes a key out of use. The caller has checked that nothing uses it any more.
    pub fn retire(&self, id: &str) -> Result<(), RingError> {
        let dir = self.kind_dir();
        if self.current_id()? == id {
            return Err(RingError::Invalid {
                path: dir.join("current").display().to_string(),
                message: format!("key {id} is current: rotate before retiring it"),
            });
        }
        owner_only_dir(&dir)?;
        let mut retired = self.read_list("retired")?;
        if !retired.iter().any(|r| r == id) {
            retired.push(id.to_owned());
        }
        let mut text = retired.join("\n");
        text.push('\n');
        write_owner_only(&dir.join("retired"), text.as_bytes())
    }
}

fn owner_only_dir(dir: &Path) -> Result<(), RingError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(io(dir))
}

/// Writes a file owner-only, through a temporary file and a rename so that a reader never
/// sees half of it.
fn write_owner_only(path: &Path, bytes: &[u8]) -> Result<(), RingError> {
    let temporary = path.with_extension("partial");
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    let mut file = open.open(&temporary).map_err(io(&temporary))?;
    file.write_all(bytes).map_err(io(&temporary))?;
    file.sync_all().map_err(io(&temporary))?;
    std::fs::rename(&temporary, path).map_err(io(path))
}

/// How a ring's keys are made into what uses them.
type Make<T> = dyn Fn(&Ring) -> anyhow::Result<T> + Send + Sync;

/// What is made from a ring's keys (a signer of every key in use, say), made again when the
/// ring changed on disk: a rotation or retirement by the command line or another instance.
pub struct Following<T> {
    ring: Ring,
    make: Box<Make<T>>,
    held: std::sync::Mutex<(Option<std::time::SystemTime>, std::sync::Arc<T>)>,
}

impl<T> Following<T> {
    pub fn load(
        ring: Ring,
        make: impl Fn(&Ring) -> anyhow::Result<T> + Send + Sync + 'static,
    ) -> anyhow::Result<Self> {
        let changed = ring.changed_at();
        let made = make(&ring)?;
        Ok(Self {
            ring,
            make: Box::new(make),
            held: std::sync::Mutex::new((changed, std::sync::Arc::new(made))),
        })
    }

    /// What the ring's keys make now. A ring that changed but no longer loads keeps what it
    /// made before (and says so in the log): a half-written rotation must not stop signing.
    pub fn current(&self) -> std::sync::Arc<T> {
        let mut held = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let changed = self.ring.changed_at();
        if changed != held.0 {
            match (self.make)(&self.ring) {
                Ok(made) => *held = (changed, std::sync::Arc::new(made)),
                Err(error) => tracing::error!(
                    ring = self.ring.kind.as_str(),
                    error = format!("{error:#}"),
                    "the key ring does not load"
                ),
            }
        }
        held.1.clone()
    }

    pub fn ring(&self) -> &Ring {
        &self.ring
    }
}

/// What a ring's keys are turned into, once loaded.
pub trait FromKeys: Sized {
    fn from_keys(loaded: &Loaded) -> Self;
    /// The id of the key new values are made with.
    fn current(&self) -> &str;
}

/// The current key made into `T` with `new`, each older key added with `older`.
fn fold_keys<T>(
    loaded: &Loaded,
    new: fn(&str, &[u8; 32]) -> T,
    older: fn(T, &str, &[u8; 32]) -> T,
) -> T {
    let (current, key) = &loaded.keys[0];
    loaded
        .keys
        .iter()
        .skip(1)
        .fold(new(current, key), |held, (id, key)| older(held, id, key))
}

impl FromKeys for FieldCipher {
    fn from_keys(loaded: &Loaded) -> Self {
        fold_keys(loaded, FieldCipher::new, FieldCipher::with_older)
    }
    fn current(&self) -> &str {
        self.key_id()
    }
}

impl FromKeys for Pseudonymizer {
    fn from_keys(loaded: &Loaded) -> Self {
        fold_keys(loaded, Pseudonymizer::new, Pseudonymizer::with_older)
    }
    fn current(&self) -> &str {
        self.key_id()
    }
}

/// A ring's keys in use, read again when a rotation (by the command line or another
/// instance) changed the ring.
pub struct Reloading<T> {
    ring: Option<Ring>,
    held: std::sync::RwLock<std::sync::Arc<T>>,
}

/// The field cipher of the encryption ring.
pub type CipherRing = Reloading<FieldCipher>;
/// The pseudonymizer of the pseudonym ring.
pub type PseudonymRing = Reloading<Pseudonymizer>;

impl<T: FromKeys> Reloading<T> {
    pub fn load(ring: Ring) -> Result<Self, RingError> {
        let held = T::from_keys(&ring.load()?);
        Ok(Self {
            ring: Some(ring),
            held: std::sync::RwLock::new(std::sync::Arc::new(held)),
        })
    }

    /// Keys with no ring on disk behind them (tests and tools).
    pub fn fixed(held: T) -> Self {
        Self {
            ring: None,
            held: std::sync::RwLock::new(std::sync::Arc::new(held)),
        }
    }

    pub fn get(&self) -> std::sync::Arc<T> {
        self.held
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Reads the ring again; whether the current key changed.
    pub fn reload(&self) -> Result<bool, RingError> {
        let Some(ring) = &self.ring else {
            return Ok(false);
        };
        let fresh = T::from_keys(&ring.load()?);
        let mut held = self
            .held
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let changed = held.current() != fresh.current();
        *held = std::sync::Arc::new(fresh);
        Ok(changed)
    }

    /// When the current key was made current (the ring's `current` file changed), if it is
    /// known.
    pub fn made_current_at(&self) -> Option<std::time::SystemTime> {
        let ring = self.ring.as_ref()?;
        std::fs::metadata(ring.kind_dir().join("current"))
            .and_then(|m| m.modified())
            .ok()
    }
}

impl CipherRing {
    pub fn seal(&self, plaintext: &[u8], associated: &[u8]) -> Result<Vec<u8>, CipherError> {
        self.get().seal(plaintext, associated)
    }

    /// Opens with the key the value names; a key this instance has not loaded yet (another
    /// instance rotated) reloads the ring once.
    pub fn open(&self, sealed: &[u8], associated: &[u8]) -> Result<Vec<u8>, CipherError> {
        match self.get().open(sealed, associated) {
            Err(CipherError::UnknownKey(id)) => {
                if self.reload().is_err() {
                    return Err(CipherError::UnknownKey(id));
                }
                self.get().open(sealed, associated)
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(dir: &Path) -> Ring {
        let configured = dir.join("encryption.key");
        write_owner_only(&configured, encode_key32(&[1; 32]).as_bytes()).unwrap();
        Ring {
            dir: dir.join("keyring"),
            kind: RingKind::Encryption,
            configured: Configured {
                id: "dev-e1".to_owned(),
                file: configured,
            },
        }
    }

    fn now() -> time::OffsetDateTime {
        time::macros::datetime!(2026-12-03 17:30:00 UTC)
    }

    #[test]
    fn a_ring_never_rotated_is_the_configured_key() {
        let dir = tempfile::tempdir().unwrap();
        let loaded = ring(dir.path()).load().unwrap();
        assert_eq!(loaded.current_id(), "dev-e1");
        assert_eq!(loaded.keys.len(), 1);
    }

    #[test]
    fn a_rotation_adds_a_key_that_becomes_current_and_keeps_the_older_one() {
        let dir = tempfile::tempdir().unwrap();
        let ring = ring(dir.path());
        let id = ring.rotate(now()).unwrap();
        assert_eq!(id, "e-20261203-173000");
        let second = ring.rotate(now()).unwrap();
        assert_eq!(second, "e-20261203-173000-1");
        let loaded = ring.load().unwrap();
        let ids: Vec<&str> = loaded.keys.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids[0], second);
        assert!(ids.contains(&"dev-e1") && ids.contains(&id.as_str()));
        assert_ne!(*loaded.keys[0].1, [1; 32]);
    }

    #[test]
    fn a_retired_key_is_no_longer_loaded_and_the_current_one_cannot_be_retired() {
        let dir = tempfile::tempdir().unwrap();
        let ring = ring(dir.path());
        let id = ring.rotate(now()).unwrap();
        assert!(ring.retire(&id).is_err());
        ring.retire("dev-e1").unwrap();
        let loaded = ring.load().unwrap();
        assert_eq!(loaded.keys.len(), 1);
        assert_eq!(loaded.current_id(), id);
    }

    #[cfg(unix)]
    #[test]
    fn rotated_keys_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let ring = ring(dir.path());
        let id = ring.rotate(now()).unwrap();
        let mode = |p: PathBuf| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(ring.kind_dir().join(format!("{id}.key"))), 0o600);
        assert_eq!(mode(ring.kind_dir()), 0o700);
    }

    #[test]
    fn a_cipher_ring_opens_what_another_instance_sealed_after_rotating() {
        let dir = tempfile::tempdir().unwrap();
        let ring = ring(dir.path());
        let here = CipherRing::load(ring.clone()).unwrap();
        let elsewhere = CipherRing::load(ring.clone()).unwrap();
        ring.rotate(now()).unwrap();
        elsewhere.reload().unwrap();
        let sealed = elsewhere.seal(b"x", b"row").unwrap();
        assert_eq!(here.open(&sealed, b"row").unwrap(), b"x");
        assert_eq!(here.get().key_id(), elsewhere.get().key_id());
    }
}
