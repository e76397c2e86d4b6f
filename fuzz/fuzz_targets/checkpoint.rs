//! C2SP tlog-checkpoint bodies and signed checkpoints: `Checkpoint::parse` on any text, the
//! gateway's reading of a note as one of its checkpoints (`anchor::open_checkpoint`, as a
//! witness's post or a state file is read). Parsing is strict, so a body that parses is the
//! one spelling of its checkpoint; signed by the gateway, it opens to the same checkpoint.

#![no_main]

use gateway::audit::checkpoint::{self, Checkpoint, NoteSigner, NoteVerifier};
use gateway::gate::log::anchor::open_checkpoint;
use libfuzzer_sys::fuzz_target;
use ring::signature::Ed25519KeyPair;
use std::sync::OnceLock;

const ORIGIN: &str = "joint-client-gateway.dev.invalid/audit";

fn keys() -> &'static (NoteSigner, NoteVerifier) {
    static KEYS: OnceLock<(NoteSigner, NoteVerifier)> = OnceLock::new();
    KEYS.get_or_init(|| {
        let key = Ed25519KeyPair::from_seed_unchecked(&[1; 32]).expect("a seed");
        let signer = NoteSigner::new(ORIGIN, key).expect("a key name");
        let verifier = signer.verifier();
        (signer, verifier)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (signer, verifier) = keys();

    // As a note: the signature is checked before the body is read.
    if let Ok(found) = open_checkpoint(text, std::slice::from_ref(verifier), ORIGIN) {
        assert_eq!(found.origin, ORIGIN);
    }
    let _ = checkpoint::open(text, verifier);

    // As a body.
    let Ok(parsed) = Checkpoint::parse(text) else {
        return;
    };
    assert_eq!(parsed.body(), text, "a checkpoint body with two spellings");
    let note = signer
        .sign_checkpoint(&parsed)
        .expect("a parsed origin is signable");
    assert_eq!(checkpoint::open(&note, verifier).as_ref(), Ok(&parsed));
    let mine = open_checkpoint(&note, std::slice::from_ref(verifier), ORIGIN);
    assert_eq!(mine.is_ok(), parsed.origin == ORIGIN);
});
