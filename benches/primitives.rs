//! The per-request cost of the hot pure pieces the load benchmark cannot separate: token
//! verification with and without the cache, audit record encoding with its leaf hash, an
//! inclusion proof in a large tree, and a checkpoint signature.
//!
//! `cargo bench --bench primitives`

use gateway::audit::checkpoint::{Checkpoint, NoteSigner};
use gateway::audit::merkle::{MemoryTree, inclusion_proof, leaf_hash};
use gateway::audit::record::{AuditDraft, AuditRecord, Outcome};
use gateway::auth::parties::Parties;
use gateway::auth::token::TokenVerifier;
use gateway::config::Config;
use gateway::dev_token::{TokenRequest, mint};
use ring::rand::SystemRandom;
use ring::signature::Ed25519KeyPair;
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

fn per_call(label: &str, iterations: u64, mut run: impl FnMut(u64)) {
    for i in 0..(iterations / 10).max(1) {
        run(i);
    }
    let started = Instant::now();
    for i in 0..iterations {
        run(i);
    }
    let nanos = started.elapsed().as_nanos() as f64 / iterations as f64;
    println!("{label:<56} {:>10.2} µs/call", nanos / 1000.0);
}

fn draft(i: u64) -> AuditDraft {
    AuditDraft {
        party: "ocmw-gent".into(),
        user: "sw-1".into(),
        roles: vec!["caseWorker".into()],
        purpose: "trajectoryGuidance".into(),
        legal_basis: Some("publicTask".into()),
        client: Some("0b5e8c1e-7a57-4c3d-9d2b-3f1a6d2c9e10".into()),
        clients: vec![],
        action: "readClient",
        fields: vec!["integrationStatus".into(), "nt2Level".into()],
        outcome: Outcome::Allowed,
        reason: None,
        count: None,
        request_id: format!("019ab8f0-0000-7000-8000-{i:012}"),
        related_trace_id: None,
        policy_version: "2024.1+0123456789abcdef".into(),
    }
}

fn tokens() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    gateway::crypto::jwt_ring::install();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let pki = dir.path().join("pki");
    gateway::dev_pki::ensure(&pki, &["ocmw-gent"]).expect("a development PKI");
    let mut config = Config::load(Path::new("config/dev.toml")).expect("the dev configuration");
    config.parties.retain(|p| p.id.as_str() == "ocmw-gent");
    gateway::dev_pki::use_pki(&mut config, &pki);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let parties = Parties::load(&config, &provider).expect("the party");
    let party = parties.by_id("ocmw-gent").expect("ocmw-gent");
    let roles = ["caseWorker".to_owned()];
    let fresh: Vec<String> = (0..2000)
        .map(|i| {
            let user = format!("sw-{i}");
            let request = TokenRequest {
                party: "ocmw-gent",
                roles: &roles,
                user: &user,
                ttl_seconds: 3600,
                bind_certificate: None,
            };
            mint(&config, &pki, &request).expect("a token")
        })
        .collect();
    let certificate = [0u8; 32];
    let mut uncached = config.auth.clone();
    uncached.token_cache_entries = 0;
    let without = TokenVerifier::new(&uncached);
    per_call(
        "token verification, no cache (Ed25519 + claims)",
        2000,
        |i| {
            let token = &fresh[i as usize % fresh.len()];
            black_box(without.verify(party, token, &certificate).expect("valid"));
        },
    );
    let with = TokenVerifier::new(&config.auth);
    per_call(
        "token verification, cached (SHA-256 + lookup)",
        200_000,
        |i| {
            let token = &fresh[i as usize % 16];
            black_box(with.verify(party, token, &certificate).expect("valid"));
        },
    );
}

fn audit() {
    let time = time::OffsetDateTime::now_utc();
    per_call(
        "audit record: canonical encoding + leaf hash",
        200_000,
        |i| {
            let record = AuditRecord::new(draft(i), i, time);
            black_box(leaf_hash(&record.encode()));
        },
    );

    let size = 1u64 << 20;
    let tree = MemoryTree::from_leaf_hashes((0..size).map(|i| leaf_hash(&i.to_le_bytes())));
    per_call("inclusion proof in a tree of 2^20 records", 200_000, |i| {
        black_box(inclusion_proof(&tree, i % size, size).expect("a proof"));
    });

    let key = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).expect("a key");
    let signer = NoteSigner::from_pkcs8("bench.invalid/audit", key.as_ref()).expect("a signer");
    let checkpoint = Checkpoint {
        origin: "bench.invalid/audit".into(),
        size,
        root: tree.root(),
    };
    per_call("checkpoint signature (C2SP signed note)", 20_000, |_| {
        black_box(signer.sign_checkpoint(&checkpoint).expect("a signature"));
    });
}

fn main() {
    println!("primitives benchmark");
    tokens();
    audit();
}
