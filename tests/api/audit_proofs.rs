//! The audit log's proofs, checked the way an outside auditor would: with a verifier written
//! here from RFC 9162 and the C2SP signed-note format (never the gateway's own Merkle code),
//! against signed checkpoints and against the records read straight from the database.

use crate::harness::library::{
    AuditRecord, GET_CHECKPOINT, GET_CONSISTENCY_PROOF, GET_INCLUSION_PROOF,
};
use crate::harness::{
    AuditRow, Caller, Endpoint, Session, TestGateway, generated_ssin, per_user_rate, problem,
    trace_id,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::digest::{Context, SHA256};
use serde_json::Value;

const BAD_REQUEST: &str = "urn:problem-type:belgif:badRequest";
const MISSING_SCOPE: &str = "urn:problem-type:belgif:missingScope";

// --- An independent RFC 9162 verifier -------------------------------------------------------

pub(crate) type Hash = [u8; 32];

pub(crate) fn sha256(parts: &[&[u8]]) -> Hash {
    let mut context = Context::new(&SHA256);
    for part in parts {
        context.update(part);
    }
    context.finish().as_ref().try_into().unwrap()
}

/// RFC 9162 §2.1.1: MTH({d(0)}) = SHA-256(0x00 ‖ d(0)).
fn leaf_hash(leaf: &[u8]) -> Hash {
    sha256(&[&[0x00], leaf])
}

/// RFC 9162 §2.1.1: SHA-256(0x01 ‖ MTH(left) ‖ MTH(right)).
fn node_hash(left: &[u8], right: &[u8]) -> Hash {
    sha256(&[&[0x01], left, right])
}

/// RFC 9162 §2.1.1, the definition itself: the root over `leaves`, split at the largest power
/// of two below their number.
fn tree_head(leaves: &[Vec<u8>]) -> Hash {
    match leaves.len() {
        0 => sha256(&[]),
        1 => leaf_hash(&leaves[0]),
        n => {
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            node_hash(&tree_head(&leaves[..k]), &tree_head(&leaves[k..]))
        }
    }
}

/// One step of the walk up the tree in RFC 9162 §2.1.3.2 and §2.1.4.2, from node `fn_` of a
/// level whose last node is `sn`: whether the next proof hash is the left sibling. Both move
/// up to the parent, past the levels at which the node is the last and has no sibling.
fn climb(fn_: &mut u64, sn: &mut u64) -> bool {
    let left = *fn_ & 1 == 1 || *fn_ == *sn;
    if left && *fn_ & 1 == 0 {
        while *fn_ & 1 == 0 && *fn_ != 0 {
            *fn_ >>= 1;
            *sn >>= 1;
        }
    }
    *fn_ >>= 1;
    *sn >>= 1;
    left
}

/// RFC 9162 §2.1.3.2: verifying an inclusion proof.
fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return false;
        }
        r = if climb(&mut fn_, &mut sn) {
            node_hash(p, &r)
        } else {
            node_hash(&r, p)
        };
    }
    sn == 0 && r == *root
}

/// RFC 9162 §2.1.4.2: verifying a consistency proof (with the trivial cases of §2.1.4.1:
/// equal sizes need no proof).
pub(crate) fn verify_consistency(
    first: u64,
    second: u64,
    first_hash: &Hash,
    second_hash: &Hash,
    proof: &[Hash],
) -> bool {
    if first == 0 || first > second {
        return false;
    }
    if first == second {
        return proof.is_empty() && first_hash == second_hash;
    }
    if proof.is_empty() {
        return false;
    }
    let mut path: Vec<Hash> = proof.to_vec();
    if first.is_power_of_two() {
        path.insert(0, *first_hash);
    }
    let (mut fn_, mut sn) = (first - 1, second - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if sn == 0 {
            return false;
        }
        if climb(&mut fn_, &mut sn) {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
        } else {
            sr = node_hash(&sr, c);
        }
    }
    fr == *first_hash && sr == *second_hash && sn == 0
}

#[test]
fn the_verifier_here_agrees_with_the_rfc_on_a_hand_built_tree() {
    // Seven leaves: the RFC 9162 §2.1.5 example shape (a, b, c, d, e, f, j).
    let leaves: Vec<Vec<u8>> = (0..7u8).map(|i| vec![i]).collect();
    let h: Vec<Hash> = leaves.iter().map(|l| leaf_hash(l)).collect();
    let (a, b, c, d) = (
        node_hash(&h[0], &h[1]),
        node_hash(&h[2], &h[3]),
        node_hash(&h[4], &h[5]),
        h[6],
    );
    let (k, l) = (node_hash(&a, &b), node_hash(&c, &d));
    let root = node_hash(&k, &l);
    assert_eq!(tree_head(&leaves), root);
    // Inclusion of leaf 0 is [h1, b, l]; of leaf 6 ("j") is [c, k].
    assert!(verify_inclusion(0, 7, &h[0], &[h[1], b, l], &root));
    assert!(verify_inclusion(6, 7, &h[6], &[c, k], &root));
    assert!(!verify_inclusion(5, 7, &h[6], &[c, k], &root));
    // Consistency of size 3 with size 7 is [c(2), d(3), g=a, l] per the RFC's example
    // (SUBPROOF(3, D[0:7]) = SUBPROOF(3, D[0:4]) : MTH(D[4:7]) = [h2, h3, a, l]).
    let root3 = tree_head(&leaves[..3]);
    assert!(verify_consistency(3, 7, &root3, &root, &[h[2], h[3], a, l]));
    assert!(!verify_consistency(
        3,
        7,
        &root3,
        &root,
        &[h[3], h[2], a, l]
    ));
    // Size 4 (a power of two) with size 7: [l].
    assert!(verify_consistency(4, 7, &k, &root, &[l]));
}

// --- C2SP signed notes -----------------------------------------------------------------------

pub(crate) struct VerifierKey {
    /// The key as written: `<name>+<hash>+<key>`.
    pub(crate) text: String,
    name: String,
    pub(crate) key_hash: [u8; 4],
    public_key: [u8; 32],
}

/// `<name>+<8 hex keyhash>+<base64(0x01 ‖ public key)>`, with the key hash recomputed as
/// SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)[..4].
pub(crate) fn parse_verifier_key(text: &str) -> VerifierKey {
    let mut parts = text.trim_end_matches('\n').splitn(3, '+');
    let name = parts.next().unwrap().to_owned();
    let hex = parts.next().unwrap();
    let typed = STANDARD.decode(parts.next().unwrap()).unwrap();
    assert_eq!(hex.len(), 8, "{text}");
    let key_hash = u32::from_str_radix(hex, 16).unwrap().to_be_bytes();
    assert_eq!(typed.len(), 33, "{text}");
    assert_eq!(typed[0], 0x01, "Ed25519 type byte: {text}");
    let public_key: [u8; 32] = typed[1..].try_into().unwrap();
    let computed = sha256(&[name.as_bytes(), b"\n", &[0x01], &public_key]);
    assert_eq!(key_hash, computed[..4], "the key hash matches the key");
    VerifierKey {
        text: text.trim_end_matches('\n').to_owned(),
        name,
        key_hash,
        public_key,
    }
}

#[derive(Clone)]
pub(crate) struct Note {
    /// The signed text: origin, size and root lines, each ending in a newline.
    pub(crate) body: String,
    pub(crate) origin: String,
    pub(crate) size: u64,
    pub(crate) root: Hash,
    /// (key name, key hash ‖ signature).
    pub(crate) signatures: Vec<(String, Vec<u8>)>,
}

pub(crate) fn parse_note(text: &str) -> Note {
    let (body, signatures) = text
        .split_once("\n\n")
        .expect("text, blank line, signatures");
    let body = format!("{body}\n");
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(
        lines.len(),
        3,
        "origin, size, root and no extensions: {text}"
    );
    let root = STANDARD.decode(lines[2]).unwrap().try_into().unwrap();
    let signatures = signatures
        .strip_suffix('\n')
        .expect("the note ends with a newline")
        .split('\n')
        .map(|line| {
            let line = line.strip_prefix("\u{2014} ").expect("em dash, space");
            let (name, blob) = line.rsplit_once(' ').unwrap();
            (name.to_owned(), STANDARD.decode(blob).unwrap())
        })
        .collect();
    Note {
        origin: lines[0].to_owned(),
        size: lines[1].parse().unwrap(),
        root,
        body,
        signatures,
    }
}

/// Whether the note carries a valid signature by `key` over its text.
pub(crate) fn signed_by(note: &Note, key: &VerifierKey) -> bool {
    let public = ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, key.public_key);
    note.signatures.iter().any(|(name, blob)| {
        *name == key.name
            && blob.len() == 68
            && blob[..4] == key.key_hash
            && public.verify(note.body.as_bytes(), &blob[4..]).is_ok()
    })
}

// --- The gateway as a privacy officer sees it ------------------------------------------------

const OFFICER: (&str, &str) = ("ocmw-gent", "po-gent-1");

/// A privacy officer reviewing the log, over one connection.
struct Reviewer {
    session: Session,
    /// The trace ids of the audited requests made, with their action.
    audited: Vec<(String, &'static str)>,
}

impl Reviewer {
    fn new(gw: &TestGateway) -> Self {
        Self {
            session: gw.session(&Caller::privacy_officer(OFFICER)),
            audited: Vec::new(),
        }
    }

    async fn get(&mut self, path: &str) -> reqwest::Response {
        let response = self.session.get(path).await;
        let action = if path.starts_with("/v1/audit/checkpoint") {
            Some(GET_CHECKPOINT)
        } else if path.starts_with("/v1/audit/proofs/inclusion") {
            Some(GET_INCLUSION_PROOF)
        } else if path.starts_with("/v1/audit/proofs/consistency") {
            Some(GET_CONSISTENCY_PROOF)
        } else {
            None
        };
        if let Some(action) = action {
            self.audited.push((trace_id(&response), action));
        }
        response
    }

    async fn text(&mut self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "text/plain; charset=utf-8"
        );
        response.text().await.unwrap()
    }

    async fn checkpoint(&mut self) -> Note {
        parse_note(&self.text("/v1/audit/checkpoint").await)
    }

    async fn verifier_key(&mut self) -> VerifierKey {
        let response = self.get("/v1/audit/verifier-key").await;
        assert_eq!(response.status(), 200);
        let keys: Value = response.json().await.unwrap();
        parse_verifier_key(keys["current"].as_str().unwrap())
    }

    /// The proof at `path`, after checking that it is served and names what was asked for.
    async fn proof(&mut self, path: &str, asked: [(&str, u64); 2]) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
        let body: Value = response.json().await.unwrap();
        for (member, value) in asked {
            assert_eq!(body[member], value, "{body}");
        }
        body
    }

    /// (leaf bytes, proof) for `index` in the tree of `size`.
    async fn inclusion(&mut self, index: u64, size: u64) -> (Vec<u8>, Vec<Hash>) {
        let path = format!("/v1/audit/proofs/inclusion?index={index}&treeSize={size}");
        let body = self
            .proof(&path, [("leafIndex", index), ("treeSize", size)])
            .await;
        let leaf = STANDARD.decode(body["leaf"].as_str().unwrap()).unwrap();
        (leaf, hashes(&body["proof"]))
    }

    async fn consistency(&mut self, from: u64, to: u64) -> Vec<Hash> {
        let path = format!("/v1/audit/proofs/consistency?from={from}&to={to}");
        let body = self.proof(&path, [("from", from), ("to", to)]).await;
        hashes(&body["proof"])
    }

    /// Each audited request left exactly one record, naming it and the privacy officer.
    fn assert_recorded(&self, rows: &[AuditRow]) {
        for (request_id, action) in &self.audited {
            let matching: Vec<_> = rows
                .iter()
                .filter(|r| r.request_id == *request_id)
                .collect();
            assert_eq!(matching.len(), 1, "{action} {request_id}");
            let record = &matching[0].record;
            assert_eq!(record.action, *action);
            assert_eq!(record.request_id, *request_id);
            assert_eq!((record.party.as_str(), record.user.as_str()), OFFICER);
            assert_eq!(record.roles, ["privacyOfficer"]);
            assert_eq!(record.purpose, "auditReview");
            assert_eq!(record.client, None);
        }
    }
}

fn hashes(proof: &Value) -> Vec<Hash> {
    proof
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let bytes = STANDARD.decode(h.as_str().unwrap()).unwrap();
            bytes.try_into().expect("32-byte hashes")
        })
        .collect()
}

pub(crate) async fn register_many(gw: &TestGateway, numbers: std::ops::Range<u32>) {
    let gent = gw.case_worker(("ocmw-gent", "sw-gent-1"));
    for n in numbers {
        assert_eq!(gent.register(&generated_ssin(n)).await.status(), 201);
    }
}

fn leaves(rows: &[AuditRow]) -> Vec<Vec<u8>> {
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            assert_eq!(row.seq, i as i64, "the log has no gaps");
            row.bytes.clone()
        })
        .collect()
}

/// `hash` with one bit flipped.
fn flipped(hash: &Hash, bit: usize) -> Hash {
    let mut hash = *hash;
    hash[bit / 8 % 32] ^= 1 << (bit % 8);
    hash
}

/// A gateway whose log holds the registrations of persons 1 to `registrations`, and a privacy
/// officer reviewing it, allowed the hundreds of proof requests within seconds the tests make.
async fn reviewed_log(registrations: u32) -> (TestGateway, Reviewer) {
    let gw = TestGateway::start_with(per_user_rate(5000, 5000)).await;
    register_many(&gw, 1..registrations + 1).await;
    let officer = Reviewer::new(&gw);
    (gw, officer)
}

// --- Tests -----------------------------------------------------------------------------------

#[tokio::test]
async fn a_checkpoint_is_a_signed_note_over_the_root_of_the_records_as_stored() {
    let (gw, mut officer) = reviewed_log(5).await;
    let key = officer.verifier_key().await;
    let note = officer.checkpoint().await;

    assert_eq!(key.name, gw.config.audit.log_name);
    assert_eq!(note.origin, gw.config.audit.log_name);
    assert_eq!(note.signatures.len(), 1);
    assert!(signed_by(&note, &key), "the checkpoint verifies");
    // The checkpoint covers the five registrations; its own request is recorded after it is
    // answered, as every request is recorded with its outcome.
    assert_eq!(note.size, 5);
    let rows = gw.audit_rows().await;
    assert_eq!(tree_head(&leaves(&rows)[..5]), note.root);
    assert_eq!(rows[5].request_id, officer.audited[0].0);

    // Any change to the signed text, the signature or the key is detected.
    let mut bigger = note.clone();
    bigger.body = bigger.body.replacen("\n5\n", "\n6\n", 1);
    assert!(!signed_by(&bigger, &key));
    let mut other_root = note.clone();
    other_root.body = format!(
        "{}\n5\n{}\n",
        note.origin,
        STANDARD.encode(flipped(&note.root, 3))
    );
    assert!(!signed_by(&other_root, &key));
    let mut bad_signature = note.clone();
    bad_signature.signatures[0].1[40] ^= 0x01;
    assert!(!signed_by(&bad_signature, &key));
    let other_key = VerifierKey {
        public_key: flipped(&key.public_key, 9),
        ..officer.verifier_key().await
    };
    assert!(!signed_by(&note, &other_key));

    officer.assert_recorded(&gw.audit_rows().await);
    gw.stop().await;
}

#[tokio::test]
async fn inclusion_and_consistency_proofs_verify_against_two_signed_checkpoints() {
    let (gw, mut officer) = reviewed_log(30).await;
    let key = officer.verifier_key().await;
    let a = officer.checkpoint().await;
    register_many(&gw, 31..56).await;
    let b = officer.checkpoint().await;
    assert!(signed_by(&a, &key) && signed_by(&b, &key));
    // Each checkpoint covers what was recorded before it was asked for (A's own request is
    // recorded after it, so B covers it).
    assert_eq!((a.size, b.size), (30, 56));

    // The roots are those of the records as stored, recomputed here from the definition.
    let rows = gw.audit_rows().await;
    let all = leaves(&rows);
    assert_eq!(tree_head(&all[..a.size as usize]), a.root);
    assert_eq!(tree_head(&all[..b.size as usize]), b.root);

    for (note, indices) in [
        (&a, vec![0, 1, 2, 15, 16, a.size - 2, a.size - 1]),
        (
            &b,
            vec![0, 1, 7, 8, a.size - 1, a.size, 32, b.size - 2, b.size - 1],
        ),
    ] {
        for index in indices {
            let (leaf, proof) = officer.inclusion(index, note.size).await;
            // The leaf is the stored canonical record of that sequence number.
            assert_eq!(leaf, all[index as usize], "leaf {index}");
            let record = AuditRecord::decode(&leaf).unwrap();
            assert_eq!(record.seq, index);
            let hash = leaf_hash(&leaf);
            // In the tree of this checkpoint: a leaf at a position, with a proof, under a root.
            let included = |index, hash: &Hash, proof: &[Hash], root: &Hash| {
                verify_inclusion(index, note.size, hash, proof, root)
            };
            assert!(
                included(index, &hash, &proof, &note.root),
                "leaf {index} in {}",
                note.size
            );
            // A changed leaf, hash, position, root or proof does not verify.
            let mut changed = leaf.clone();
            changed[leaf.len() / 2] ^= 0x20;
            assert!(!included(index, &leaf_hash(&changed), &proof, &note.root));
            let other = if index == 0 { 1 } else { index - 1 };
            assert!(!included(other, &hash, &proof, &note.root));
            assert!(!included(index, &hash, &proof, &flipped(&note.root, 0)));
            for position in 0..proof.len() {
                let mut tampered = proof.clone();
                tampered[position] = flipped(&tampered[position], 200);
                assert!(!included(index, &hash, &tampered, &note.root));
            }
            let shorter = &proof[..proof.len() - 1];
            assert!(!included(index, &hash, shorter, &note.root));
            let mut longer = proof.clone();
            longer.push(note.root);
            assert!(!included(index, &hash, &longer, &note.root));
        }
    }

    // B extends A: the log was only appended to between the two checkpoints.
    let proof = officer.consistency(a.size, b.size).await;
    // From a tree of a size with a root, to B's size with a root, by a proof.
    let extends = |from, from_root: &Hash, to_root: &Hash, proof: &[Hash]| {
        verify_consistency(from, b.size, from_root, to_root, proof)
    };
    assert!(extends(a.size, &a.root, &b.root, &proof));
    for position in 0..proof.len() {
        let mut tampered = proof.clone();
        tampered[position] = flipped(&tampered[position], 77);
        assert!(!extends(a.size, &a.root, &b.root, &tampered));
    }
    assert!(!extends(a.size, &flipped(&a.root, 1), &b.root, &proof));
    assert!(!extends(a.size, &a.root, &flipped(&b.root, 1), &proof));
    assert!(!extends(a.size - 1, &a.root, &b.root, &proof));
    let shorter = &proof[..proof.len() - 1];
    assert!(!extends(a.size, &a.root, &b.root, shorter));
    // Equal sizes need no proof.
    assert!(officer.consistency(b.size, b.size).await.is_empty());

    let rows = gw.audit_rows().await;
    officer.assert_recorded(&rows);
    gw.stop().await;
}

#[tokio::test]
async fn every_proof_of_a_small_log_verifies_at_every_size() {
    // Small sizes hold every odd shape: single leaves, perfect trees, ragged right edges.
    let (gw, mut officer) = reviewed_log(16).await;
    let head = officer.checkpoint().await;
    assert_eq!(head.size, 16);
    let all = leaves(&gw.audit_rows().await);
    let roots: Vec<Hash> = (0..=head.size as usize)
        .map(|n| tree_head(&all[..n]))
        .collect();
    assert_eq!(roots[head.size as usize], head.root);
    for size in 1..=head.size {
        for index in 0..size {
            let (leaf, proof) = officer.inclusion(index, size).await;
            assert_eq!(leaf, all[index as usize]);
            assert!(
                verify_inclusion(
                    index,
                    size,
                    &leaf_hash(&leaf),
                    &proof,
                    &roots[size as usize]
                ),
                "leaf {index} in {size}"
            );
        }
        for from in 1..=size {
            let proof = officer.consistency(from, size).await;
            assert!(
                verify_consistency(
                    from,
                    size,
                    &roots[from as usize],
                    &roots[size as usize],
                    &proof
                ),
                "{from} -> {size}"
            );
        }
    }
    officer.assert_recorded(&gw.audit_rows().await);
    gw.stop().await;
}

#[tokio::test]
async fn only_a_privacy_officer_reviewing_the_log_gets_its_checkpoints_and_proofs() {
    let gw = TestGateway::start().await;
    register_many(&gw, 1..4).await;
    let paths = [
        "/v1/audit/checkpoint",
        "/v1/audit/verifier-key",
        "/v1/audit/proofs/inclusion?index=0&treeSize=1",
        "/v1/audit/proofs/consistency?from=1&to=2",
    ];
    let callers: [(&str, &[&str], &str); 4] = [
        // A case worker may not declare auditReview at all.
        ("ocmw-gent", &["caseWorker"], "auditReview"),
        // A privacy officer doing case work is no privacy officer reviewing the log…
        (
            "ocmw-gent",
            &["caseWorker", "privacyOfficer"],
            "trajectoryGuidance",
        ),
        // …and a coordinator monitoring passes authentication but not the audit endpoints.
        ("ocmw-gent", &["coordinator"], "monitoring"),
        ("amal", &["system"], "referral"),
    ];
    for (party, roles, purpose) in callers {
        let caller = gw.session(&Caller::new(party, roles, "someone", purpose));
        for path in paths {
            problem(caller.get(path).await, 403, MISSING_SCOPE).await;
        }
    }
    // Any party's privacy officer gets checkpoints and consistency proofs (hashes only), but
    // an inclusion proof carries the record itself: only for records the officer may review
    // (here OCMW Gent's own registration, so not for Amal's or KBI's officers).
    for party in ["ocmw-gent", "amal", "kbi"] {
        let officer = gw.session(&Caller::privacy_officer((party, "po")));
        for path in paths {
            let response = officer.get(path).await;
            let expected = if party != "ocmw-gent" && path.contains("inclusion") {
                404
            } else {
                200
            };
            assert_eq!(response.status(), expected, "{party} {path}");
        }
    }
    gw.stop().await;
}

#[tokio::test]
async fn malformed_or_out_of_range_proof_parameters_are_bad_requests() {
    let (gw, mut officer) = reviewed_log(4).await;
    let size = officer.checkpoint().await.size;
    assert_eq!(size, 4);
    let beyond = size + 1000;
    let cases: Vec<(String, &str)> = vec![
        ("/v1/audit/proofs/inclusion".into(), "index treeSize"),
        ("/v1/audit/proofs/inclusion?index=0".into(), "treeSize"),
        ("/v1/audit/proofs/inclusion?treeSize=3".into(), "index"),
        (
            "/v1/audit/proofs/inclusion?index=abc&treeSize=3".into(),
            "index",
        ),
        (
            "/v1/audit/proofs/inclusion?index=-1&treeSize=3".into(),
            "index",
        ),
        (
            "/v1/audit/proofs/inclusion?index=0&treeSize=18446744073709551616".into(),
            "treeSize",
        ),
        (
            "/v1/audit/proofs/inclusion?index=0&treeSize=3&leaf=1".into(),
            "leaf",
        ),
        (
            format!("/v1/audit/proofs/inclusion?index={size}&treeSize={size}"),
            "treeSize",
        ),
        (
            "/v1/audit/proofs/inclusion?index=0&treeSize=0".into(),
            "treeSize",
        ),
        (
            format!("/v1/audit/proofs/inclusion?index=0&treeSize={beyond}"),
            "treeSize",
        ),
        (
            "/v1/audit/proofs/inclusion?index=0&treeSize=18446744073709551615".into(),
            "treeSize",
        ),
        ("/v1/audit/proofs/consistency".into(), "from to"),
        ("/v1/audit/proofs/consistency?from=one&to=3".into(), "from"),
        (
            "/v1/audit/proofs/consistency?from=1&to=3&index=0".into(),
            "index",
        ),
        ("/v1/audit/proofs/consistency?from=4&to=3".into(), "to"),
        (
            format!("/v1/audit/proofs/consistency?from=1&to={beyond}"),
            "to",
        ),
    ];
    for (path, names) in &cases {
        let response = officer.get(path).await;
        let body = problem(response, 400, BAD_REQUEST).await;
        let issues = body["issues"].as_array().unwrap();
        let named: Vec<_> = issues.iter().map(|i| i["name"].as_str().unwrap()).collect();
        let expected: Vec<_> = names.split(' ').collect();
        assert_eq!(named, expected, "{path}: {body}");
        assert!(issues.iter().all(|i| i["in"] == "query"), "{path}: {body}");
    }
    // Each use of the audit endpoints is itself on record, refused parameters included.
    officer.assert_recorded(&gw.audit_rows().await);
    gw.stop().await;
}
