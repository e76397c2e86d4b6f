//! The keyed pseudonym of a national register number: HMAC-SHA256 under a key of the gateway's
//! own, so that the look-up column reveals nothing without the key (a plain hash of an
//! 11-digit number with a check digit is reversed by enumeration in seconds).
//!
//! The key rotates: a new key makes the pseudonyms of new clients, and until every client's
//! pseudonym is made again under it, a look-up tries the pseudonym under every key of the ring,
//! so that nobody is split into two clients by a rotation.

use crate::domain::ssin::Ssin;
use ring::hmac;

pub struct Pseudonymizer {
    /// The current key first, then the earlier keys still in the ring.
    keys: Vec<(String, hmac::Key)>,
}

impl Pseudonymizer {
    pub fn new(key_id: &str, key: &[u8; 32]) -> Self {
        Self {
            keys: vec![(key_id.to_owned(), hmac::Key::new(hmac::HMAC_SHA256, key))],
        }
    }

    /// Also finds the pseudonyms an earlier key made.
    #[must_use]
    pub fn with_older(mut self, key_id: &str, key: &[u8; 32]) -> Self {
        if self.keys.iter().all(|(id, _)| id != key_id) {
            self.keys
                .push((key_id.to_owned(), hmac::Key::new(hmac::HMAC_SHA256, key)));
        }
        self
    }

    /// The current key's id.
    pub fn key_id(&self) -> &str {
        &self.keys[0].0
    }

    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(id, _)| id.as_str())
    }

    /// The pseudonym under the current key.
    pub fn pseudonym(&self, ssin: &Ssin) -> [u8; 32] {
        tag(&self.keys[0].1, ssin)
    }

    /// The pseudonym under every key of the ring, the current first: what a look-up tries.
    pub fn pseudonyms(&self, ssin: &Ssin) -> Vec<[u8; 32]> {
        self.keys.iter().map(|(_, key)| tag(key, ssin)).collect()
    }
}

fn tag(key: &hmac::Key, ssin: &Ssin) -> [u8; 32] {
    let tag = hmac::sign(key, ssin.as_str().as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SSIN: &str = "85073003328";

    #[test]
    fn the_same_number_under_the_same_key_gives_the_same_pseudonym() {
        let p = Pseudonymizer::new("p1", &[7; 32]);
        let ssin = Ssin::parse(SSIN).unwrap();
        assert_eq!(p.pseudonym(&ssin), p.pseudonym(&ssin));
    }

    #[test]
    fn a_rotated_ring_makes_the_new_pseudonym_and_still_knows_the_old_one() {
        let ssin = Ssin::parse(SSIN).unwrap();
        let before = Pseudonymizer::new("p1", &[7; 32]);
        let after = Pseudonymizer::new("p2", &[8; 32]).with_older("p1", &[7; 32]);
        assert_eq!(after.key_id(), "p2");
        assert_ne!(after.pseudonym(&ssin), before.pseudonym(&ssin));
        assert_eq!(
            after.pseudonyms(&ssin),
            [after.pseudonym(&ssin), before.pseudonym(&ssin)]
        );
        assert_eq!(after.key_ids().collect::<Vec<_>>(), ["p2", "p1"]);
    }

    #[test]
    fn another_key_gives_an_unrelated_pseudonym() {
        let ssin = Ssin::parse(SSIN).unwrap();
        let a = Pseudonymizer::new("p1", &[7; 32]).pseudonym(&ssin);
        let b = Pseudonymizer::new("p2", &[8; 32]).pseudonym(&ssin);
        assert_ne!(a, b);
    }
}
