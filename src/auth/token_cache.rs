//! A bounded cache of verified tokens, keyed by the SHA-256 of the token.
//!
//! An Ed25519 verification costs ~45 µs, which alone would cap a core near 18 000 requests/s;
//! a client reuses its token for many requests, so each token is verified once.

use super::token::VerifiedToken;
use ring::digest::{SHA256, digest};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const SHARDS: usize = 16;

pub struct TokenCache {
    shards: Vec<Mutex<HashMap<[u8; 32], Arc<VerifiedToken>>>>,
    per_shard: usize,
}

impl TokenCache {
    pub fn new(entries: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            per_shard: entries.div_ceil(SHARDS),
        }
    }

    fn key(token: &str) -> [u8; 32] {
        let mut key = [0u8; 32];
        key.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
        key
    }

    fn shard(&self, key: &[u8; 32]) -> &Mutex<HashMap<[u8; 32], Arc<VerifiedToken>>> {
        &self.shards[key[0] as usize % SHARDS]
    }

    /// The cached verification of `token`, only if it was verified for the same party.
    pub fn get(&self, token: &str, party_index: u16) -> Option<Arc<VerifiedToken>> {
        if self.per_shard == 0 {
            return None;
        }
        let key = Self::key(token);
        let shard = self
            .shard(&key)
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        shard
            .get(&key)
            .filter(|hit| hit.party_index == party_index)
            .cloned()
    }

    pub fn insert(&self, token: &str, verified: Arc<VerifiedToken>, now: u64) {
        if self.per_shard == 0 {
            return;
        }
        let key = Self::key(token);
        let mut shard = self
            .shard(&key)
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if shard.len() >= self.per_shard {
            shard.retain(|_, entry| entry.expires_at > now);
            if shard.len() >= self.per_shard {
                // Still full of live tokens: start over rather than grow; the cost is one
                // re-verification per evicted token.
                shard.clear();
            }
        }
        shard.insert(key, verified);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::role::RoleSet;

    fn token(party_index: u16, expires_at: u64) -> Arc<VerifiedToken> {
        Arc::new(VerifiedToken {
            party_index,
            user: "u".into(),
            roles: RoleSet::EMPTY,
            expires_at,
            bound_certificate: None,
        })
    }

    #[test]
    fn a_cached_token_is_found_only_for_the_party_that_presented_it() {
        let cache = TokenCache::new(100);
        cache.insert("abc", token(1, 100), 0);
        assert!(cache.get("abc", 1).is_some());
        assert!(cache.get("abc", 2).is_none());
        assert!(cache.get("abd", 1).is_none());
    }

    #[test]
    fn the_cache_never_holds_more_than_its_bound() {
        let cache = TokenCache::new(SHARDS * 4);
        for i in 0..10_000 {
            cache.insert(&format!("t{i}"), token(0, u64::MAX), 0);
        }
        for shard in &cache.shards {
            assert!(shard.lock().unwrap().len() <= 4);
        }
    }

    #[test]
    fn a_zero_sized_cache_caches_nothing() {
        let cache = TokenCache::new(0);
        cache.insert("abc", token(1, 100), 0);
        assert!(cache.get("abc", 1).is_none());
    }
}
