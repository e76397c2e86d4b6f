//! C2SP signed notes as the gateway receives them: verifier keys as an auditor types them,
//! notes opened against the gateway's key, witness cosignatures (`POST
//! /v1/audit/checkpoints/cosignatures`), and a note the gateway signed with any further
//! signature lines after its own. A verifier key that parses prints as a key that parses to
//! the same; a note's text is a prefix of it ending in a newline.

#![no_main]

use gateway::audit::checkpoint::{Checkpoint, NoteSigner, NoteVerifier, open_note};
use gateway::audit::cosignature::Witness;
use gateway::audit::note::signature_lines;
use libfuzzer_sys::fuzz_target;
use ring::signature::{Ed25519KeyPair, KeyPair};
use std::sync::OnceLock;

const ORIGIN: &str = "joint-client-gateway.dev.invalid/audit";

struct Keys {
    signer: NoteSigner,
    verifier: NoteVerifier,
    witness: Witness,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let log = Ed25519KeyPair::from_seed_unchecked(&[1; 32]).expect("a seed");
        let signer = NoteSigner::new(ORIGIN, log).expect("a key name");
        let witness_key = Ed25519KeyPair::from_seed_unchecked(&[2; 32]).expect("a seed");
        let public: [u8; 32] = witness_key
            .public_key()
            .as_ref()
            .try_into()
            .expect("32 bytes");
        Keys {
            verifier: signer.verifier(),
            signer,
            witness: Witness::new("ocmw-gent.dev.invalid/witness", public).expect("a key name"),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let keys = keys();

    if let Ok(verifier) = NoteVerifier::parse(text) {
        let printed = verifier.to_string();
        assert_eq!(NoteVerifier::parse(&printed).as_ref(), Ok(&verifier));
    }

    if let Ok((body, lines)) = signature_lines(text) {
        assert!(text.starts_with(body) && body.ends_with('\n'));
        assert!(!lines.is_empty() && lines.len() <= 100);
    }
    if let Ok(body) = open_note(text, &keys.verifier) {
        assert!(text.starts_with(body));
    }
    let _ = keys.witness.cosignatures(text);

    // The gateway's own note with the input as more signature lines: its own line still
    // verifies, whatever follows, unless the input breaks the envelope or forges a line in
    // the gateway's name.
    let checkpoint = Checkpoint {
        origin: ORIGIN.to_owned(),
        size: data.len() as u64,
        root: [0x11; 32],
    };
    let signed = keys
        .signer
        .sign_checkpoint(&checkpoint)
        .expect("a valid origin");
    let note = format!("{signed}{text}");
    if let Ok(body) = open_note(&note, &keys.verifier) {
        assert_eq!(body, checkpoint.body());
    }
    let _ = keys.witness.cosignatures(&note);
});
