//! Field encryption: AES-256-GCM with a random 96-bit nonce, the key id in front so keys can
//! rotate, and associated data binding a ciphertext to its row (a ciphertext copied onto
//! another client's row does not decrypt).
//!
//! Layout: `key id length (1) ‖ key id ‖ nonce (12) ‖ ciphertext ‖ tag (16)`.
//!
//! A cipher holds every key that is not retired: new values are sealed under the current one,
//! and a value is opened with whichever key its id names, so a key rotates without making
//! anything unreadable.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

pub struct FieldCipher {
    key_id: String,
    key: LessSafeKey,
    /// Earlier keys, still opening what they sealed until it is sealed again.
    older: Vec<(String, LessSafeKey)>,
    rng: SystemRandom,
}

fn aes_key(key: &[u8; 32]) -> LessSafeKey {
    LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, key).expect("a 32-byte key is valid for AES-256"),
    )
}

/// The id of the key a sealed value names, if it is well formed.
pub fn sealed_key_id(sealed: &[u8]) -> Option<&str> {
    let (&id_len, rest) = sealed.split_first()?;
    let id = rest.get(..id_len as usize)?;
    std::str::from_utf8(id).ok().filter(|id| !id.is_empty())
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CipherError {
    #[error("the ciphertext is malformed")]
    Malformed,
    #[error("the ciphertext was made with key {0}, which is not loaded")]
    UnknownKey(String),
    #[error("the ciphertext does not authenticate")]
    Forged,
    #[error("the random generator failed")]
    Random,
}

impl FieldCipher {
    /// A cipher sealing under `key`.
    pub fn new(key_id: &str, key: &[u8; 32]) -> Self {
        Self {
            key_id: key_id.to_owned(),
            key: aes_key(key),
            older: Vec::new(),
            rng: SystemRandom::new(),
        }
    }

    /// Also opens what an earlier key sealed.
    #[must_use]
    pub fn with_older(mut self, key_id: &str, key: &[u8; 32]) -> Self {
        if key_id != self.key_id {
            self.older.push((key_id.to_owned(), aes_key(key)));
        }
        self
    }

    /// The ids of every key this cipher opens with, the current first.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.key_id.as_str()).chain(self.older.iter().map(|(id, _)| id.as_str()))
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn seal(&self, plaintext: &[u8], associated: &[u8]) -> Result<Vec<u8>, CipherError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| CipherError::Random)?;
        let mut out = Vec::with_capacity(1 + self.key_id.len() + NONCE_LEN + plaintext.len() + 16);
        out.push(self.key_id.len() as u8);
        out.extend_from_slice(self.key_id.as_bytes());
        out.extend_from_slice(&nonce);
        let mut body = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(associated),
                &mut body,
            )
            .map_err(|_| CipherError::Random)?;
        out.extend_from_slice(&body);
        Ok(out)
    }

    pub fn open(&self, sealed: &[u8], associated: &[u8]) -> Result<Vec<u8>, CipherError> {
        let (&id_len, rest) = sealed.split_first().ok_or(CipherError::Malformed)?;
        let (id, rest) = rest
            .split_at_checked(id_len as usize)
            .ok_or(CipherError::Malformed)?;
        let key = if id == self.key_id.as_bytes() {
            &self.key
        } else {
            self.older
                .iter()
                .find(|(older, _)| older.as_bytes() == id)
                .map(|(_, key)| key)
                .ok_or_else(|| CipherError::UnknownKey(String::from_utf8_lossy(id).into_owned()))?
        };
        let (nonce, body) = rest
            .split_at_checked(NONCE_LEN)
            .ok_or(CipherError::Malformed)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CipherError::Malformed)?;
        let mut body = body.to_vec();
        let plain = key
            .open_in_place(nonce, Aad::from(associated), &mut body)
            .map_err(|_| CipherError::Forged)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_with_the_same_key_and_row() {
        let cipher = FieldCipher::new("e1", &[1; 32]);
        let sealed = cipher.seal(b"85073003328", b"client-a").unwrap();
        assert_eq!(cipher.open(&sealed, b"client-a").unwrap(), b"85073003328");
    }

    #[test]
    fn a_ciphertext_moved_to_another_row_does_not_open() {
        let cipher = FieldCipher::new("e1", &[1; 32]);
        let sealed = cipher.seal(b"85073003328", b"client-a").unwrap();
        assert_eq!(cipher.open(&sealed, b"client-b"), Err(CipherError::Forged));
    }

    #[test]
    fn a_flipped_bit_or_a_truncation_is_detected() {
        let cipher = FieldCipher::new("e1", &[1; 32]);
        let mut sealed = cipher.seal(b"85073003328", b"row").unwrap();
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert_eq!(cipher.open(&sealed, b"row"), Err(CipherError::Forged));
        assert_eq!(
            cipher.open(&sealed[..5], b"row"),
            Err(CipherError::Malformed)
        );
    }

    #[test]
    fn the_key_id_travels_with_the_ciphertext() {
        let sealed = FieldCipher::new("e1", &[1; 32]).seal(b"x", b"row").unwrap();
        let other = FieldCipher::new("e2", &[2; 32]);
        assert_eq!(
            other.open(&sealed, b"row"),
            Err(CipherError::UnknownKey("e1".into()))
        );
    }

    #[test]
    fn a_rotated_cipher_opens_what_the_earlier_key_sealed_and_seals_under_the_new_one() {
        let before = FieldCipher::new("e1", &[1; 32]);
        let sealed = before.seal(b"x", b"row").unwrap();
        let after = FieldCipher::new("e2", &[2; 32]).with_older("e1", &[1; 32]);
        assert_eq!(after.open(&sealed, b"row").unwrap(), b"x");
        let resealed = after.seal(b"x", b"row").unwrap();
        assert_eq!(sealed_key_id(&sealed), Some("e1"));
        assert_eq!(sealed_key_id(&resealed), Some("e2"));
        assert_eq!(after.key_ids().collect::<Vec<_>>(), ["e2", "e1"]);
    }

    #[test]
    fn two_seals_of_the_same_value_differ() {
        let cipher = FieldCipher::new("e1", &[1; 32]);
        assert_ne!(
            cipher.seal(b"x", b"r").unwrap(),
            cipher.seal(b"x", b"r").unwrap()
        );
    }
}
