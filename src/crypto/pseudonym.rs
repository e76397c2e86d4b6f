//! The keyed pseudonym of a national register number: HMAC-SHA256 under a key of the gateway's
//! own, so that the look-up column reveals nothing without the key (a plain hash of an
//! 11-digit number with a check digit is reversed by enumeration in seconds).

use crate::domain::ssin::Ssin;
use ring::hmac;

pub struct Pseudonymizer {
    key_id: String,
    key: hmac::Key,
}

impl Pseudonymizer {
    pub fn new(key_id: &str, key: &[u8; 32]) -> Self {
        Self {
            key_id: key_id.to_owned(),
            key: hmac::Key::new(hmac::HMAC_SHA256, key),
        }
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn pseudonym(&self, ssin: &Ssin) -> [u8; 32] {
        let tag = hmac::sign(&self.key, ssin.as_str().as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }
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
    fn another_key_gives_an_unrelated_pseudonym() {
        let ssin = Ssin::parse(SSIN).unwrap();
        let a = Pseudonymizer::new("p1", &[7; 32]).pseudonym(&ssin);
        let b = Pseudonymizer::new("p2", &[8; 32]).pseudonym(&ssin);
        assert_ne!(a, b);
    }
}
