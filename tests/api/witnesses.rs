//! The parties as witnesses of the audit log, with a cosigner written here from the C2SP
//! tlog-cosignature text (Ed25519 `cosignature/v1`, ring, never the gateway's code): it
//! fetches checkpoints, checks each is consistent with the last one it saw, and posts its
//! cosignature; the gateway keeps only cosignatures that verify, of checkpoints it signed,
//! from the caller's own witness key, and `audit verify --witnesses N` asks for a quorum.

use crate::audit_proofs::{
    Hash, Note, parse_note, parse_verifier_key, register_many, sha256, signed_by,
    verify_consistency,
};
use crate::harness::library::private_key;
use crate::harness::{Caller, Endpoint, Session, TestGateway, problem};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::Value;

const COSIGNATURES: &str = "/v1/audit/checkpoints/cosignatures";
const REFUSED: &str = "urn:problem-type:gateway:cosignatureRefused";
const MISSING_SCOPE: &str = "urn:problem-type:belgif:missingScope";

/// A party's witness as the C2SP text describes it, holding the last checkpoint it saw.
struct Cosigner {
    name: String,
    key: Ed25519KeyPair,
    session: Session,
    last: Option<Note>,
}

impl Cosigner {
    /// `party`'s witness: its development key, under `<party>.dev.invalid/witness`, calling as
    /// the party's system for audit review.
    fn new(gw: &TestGateway, party: &str) -> Self {
        Self::with_key(gw, party, party)
    }

    /// `party`'s system, cosigning with the key of `key_of`'s witness under `party`'s name.
    fn with_key(gw: &TestGateway, party: &str, key_of: &str) -> Self {
        let pkcs8 = private_key(&gw.pki().join(format!("{key_of}-witness.key"))).unwrap();
        let key = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8.secret_der()).unwrap();
        let caller = Caller::new(party, &["system"], "witness", "auditReview");
        Self {
            name: format!("{party}.dev.invalid/witness"),
            key,
            session: gw.session(&caller),
            last: None,
        }
    }

    /// tlog-cosignature: key ID = SHA-256(name ‖ "\n" ‖ 0x04 ‖ public key)[:4].
    fn key_id(&self) -> [u8; 4] {
        let id = sha256(&[
            self.name.as_bytes(),
            b"\n",
            &[0x04],
            self.key.public_key().as_ref(),
        ]);
        id[..4].try_into().unwrap()
    }

    /// The signature line over `body` at `time`: `— name base64(key ID ‖ time ‖ signature)`,
    /// the message being `cosignature/v1\ntime <time>\n<body>`.
    fn line(&self, body: &str, time: u64) -> String {
        let message = format!("cosignature/v1\ntime {time}\n{body}");
        let signature = self.key.sign(message.as_bytes());
        let mut blob = self.key_id().to_vec();
        blob.extend_from_slice(&time.to_be_bytes());
        blob.extend_from_slice(signature.as_ref());
        format!("\u{2014} {} {}\n", self.name, STANDARD.encode(blob))
    }

    /// Fetches the current checkpoint, checks it is the gateway's and consistent with the
    /// last one seen (the consistency proof), and returns its text.
    async fn observe(&mut self) -> String {
        let keys: Value = self
            .session
            .get("/v1/audit/verifier-key")
            .await
            .json()
            .await
            .unwrap();
        let key = parse_verifier_key(keys["current"].as_str().unwrap());
        let response = self.session.get("/v1/audit/checkpoint").await;
        assert_eq!(response.status(), 200);
        let text = response.text().await.unwrap();
        let note = parse_note(&text);
        assert!(signed_by(&note, &key), "the gateway's signature: {text}");
        if let Some(last) = &self.last {
            let path = format!(
                "/v1/audit/proofs/consistency?from={}&to={}",
                last.size, note.size
            );
            let response = self.session.get(&path).await;
            assert_eq!(response.status(), 200, "{path}");
            let body: serde_json::Value = response.json().await.unwrap();
            let proof: Vec<Hash> = body["proof"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| {
                    STANDARD
                        .decode(h.as_str().unwrap())
                        .unwrap()
                        .try_into()
                        .unwrap()
                })
                .collect();
            assert!(
                verify_consistency(last.size, note.size, &last.root, &note.root, &proof),
                "checkpoint {} is consistent with {}",
                note.size,
                last.size
            );
        }
        self.last = Some(note);
        text
    }

    async fn post(&self, note: String) -> reqwest::Response {
        self.session
            .post_raw(COSIGNATURES, Some("text/plain; charset=utf-8"), note)
            .await
    }

    /// Observes and cosigns the current checkpoint; the note posted.
    async fn cosign(&mut self) -> (Note, String) {
        let text = self.observe().await;
        let note = self.last.clone().unwrap();
        let cosigned = format!("{text}{}", self.line(&note.body, now()));
        let response = self.post(cosigned.clone()).await;
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        (note, cosigned)
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn parties_cosign_consistent_checkpoints_and_verify_asks_for_a_quorum() {
    let gw = TestGateway::start().await;
    register_many(&gw, 1..6).await;
    let mut gent = Cosigner::new(&gw, "ocmw-gent");
    let mut amal = Cosigner::new(&gw, "amal");
    gent.observe().await;
    register_many(&gw, 6..13).await;
    let (note, cosigned) = gent.cosign().await;
    let stored = gw
        .session(&Caller::privacy_officer(("ocmw-gent", "po-1")))
        .get(&format!("/v1/audit/checkpoints/{}", note.size))
        .await;
    assert_eq!(stored.status(), 200);
    let stored = stored.text().await.unwrap();
    assert!(
        stored.ends_with(
            cosigned
                .lines()
                .last()
                .map(|l| format!("{l}\n"))
                .unwrap()
                .as_str()
        ),
        "the checkpoint is served with the cosignature\n{stored}"
    );
    let one = gw.cli(&["audit", "verify", "--witnesses", "1"]).await;
    assert!(one.status.success(), "{one}");
    assert!(one.stdout.contains("cosigned by 1 of 4 witnesses"), "{one}");
    let two = gw.cli(&["audit", "verify", "--witnesses", "2"]).await;
    assert_eq!(two.status.code(), Some(1), "{two}");
    assert!(
        two.stderr.contains("no checkpoint is cosigned by 2"),
        "{two}"
    );

    // Amal saw nothing before: it cosigns the same checkpoint, if no other was signed since.
    let text = gw
        .session(&Caller::new("amal", &["system"], "witness", "auditReview"))
        .get(&format!("/v1/audit/checkpoints/{}", note.size))
        .await
        .text()
        .await
        .unwrap();
    let line = amal.line(&parse_note(&text).body, now());
    let response = amal.post(format!("{}{line}", note_only(&text))).await;
    assert_eq!(response.status(), 201);
    amal.last = Some(note);
    let two = gw.cli(&["audit", "verify", "--witnesses", "2"]).await;
    assert!(two.status.success(), "{two}");
    let rows = gw.audit_rows().await;
    let cosigns = rows
        .iter()
        .filter(|r| r.action == "addCheckpointCosignature" && r.outcome == "allowed")
        .count();
    assert_eq!(cosigns, 2, "each cosignature is on the log");
}

/// The gateway's note without any cosignature: its text, the blank line, its own line.
fn note_only(text: &str) -> String {
    let (body, signatures) = text.split_once("\n\n").unwrap();
    format!("{body}\n\n{}\n", signatures.lines().next().unwrap())
}

#[tokio::test]
async fn a_cosignature_that_does_not_verify_or_is_not_the_callers_is_refused() {
    let gw = TestGateway::start().await;
    register_many(&gw, 1..4).await;
    let mut gent = Cosigner::new(&gw, "ocmw-gent");
    let text = gent.observe().await;
    let note = gent.last.clone().unwrap();

    // A wrong signature: one bit of it flipped.
    let line = gent.line(&note.body, now());
    let (prefix, blob) = line.trim_end().rsplit_once(' ').unwrap();
    let mut bytes = STANDARD.decode(blob).unwrap();
    bytes[20] ^= 1;
    let forged = format!("{text}{prefix} {}\n", STANDARD.encode(bytes));
    problem(gent.post(forged).await, 422, REFUSED).await;

    // Another party's witness key under Gent's name, posted by Gent.
    let impostor = Cosigner::with_key(&gw, "ocmw-gent", "amal");
    let line = impostor.line(&note.body, now());
    problem(impostor.post(format!("{text}{line}")).await, 422, REFUSED).await;

    // Amal's genuine cosignature, posted by Gent: not Gent's witness.
    let amal = Cosigner::new(&gw, "amal");
    let line = amal.line(&note.body, now());
    problem(gent.post(format!("{text}{line}")).await, 422, REFUSED).await;

    // A checkpoint the gateway never signed: another root, cosigned as a witness would.
    let other_root = STANDARD.encode([7u8; 32]);
    let body = format!("{}\n{}\n{other_root}\n", note.origin, note.size);
    let fake = format!(
        "{}{}",
        text.replacen(&note.body, &body, 1),
        gent.line(&body, now())
    );
    problem(gent.post(fake).await, 422, REFUSED).await;

    // A checkpoint at a size never signed, signed by nobody.
    let body = format!("{}\n{}\n{other_root}\n", note.origin, note.size + 1000);
    let unsigned = format!("{body}\n{}", gent.line(&body, now()));
    problem(gent.post(unsigned).await, 422, REFUSED).await;

    // The right cosignature, by the wrong role or for the wrong purpose.
    let good = format!("{text}{}", gent.line(&note.body, now()));
    for caller in [
        Caller::privacy_officer(("ocmw-gent", "po-1")),
        Caller::new("ocmw-gent", &["system"], "witness", "trajectoryGuidance"),
    ] {
        let response = gw
            .session(&caller)
            .post_raw(COSIGNATURES, Some("text/plain"), good.clone())
            .await;
        problem(response, 403, MISSING_SCOPE).await;
    }
    let rows = gw.audit_rows().await;
    let refused: Vec<_> = rows
        .iter()
        .filter(|r| r.action == "addCheckpointCosignature")
        .map(|r| (r.outcome.as_str(), r.record.reason.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(refused.len(), 7, "{refused:?}");
    assert!(refused.iter().all(|(outcome, _)| *outcome == "denied"));
    // The good one goes through once the caller is right.
    assert_eq!(gent.post(good).await.status(), 201);
}
