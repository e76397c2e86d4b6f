//! Every key rotates while the gateway serves, and nothing is lost: what an older key sealed
//! reads and moves to the new key; the same person finds the same client before, during and
//! after a pseudonym rotation; a key is retired only when nothing uses it; the checkpoints an
//! earlier audit-signing key signed stay verifiable.

use crate::audit_proofs::{Note, parse_note, parse_verifier_key, signed_by};
use crate::harness::{Caller, Endpoint, TestGateway, client_id, generated_ssin, with_joint_client};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The line of `gateway keys status` about key `id`: how many values it still holds.
fn values_under(status: &str, id: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let rest = line.trim().strip_prefix(&format!("{id}: "))?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// `gateway keys rotate <kind>`; the new key's id.
async fn rotate(gw: &TestGateway, kind: &str) -> String {
    let rotated = gw.cli(&["keys", "rotate", kind]).await;
    assert!(rotated.status.success(), "{rotated}");
    rotated
        .stdout
        .split_whitespace()
        .skip_while(|w| *w != "key")
        .nth(1)
        .expect("the new key's id")
        .trim_end_matches(',')
        .to_owned()
}

/// Waits (bounded) until the serving gateway has moved everything from key `old` to `new`.
async fn wait_migrated(gw: &TestGateway, old: &str, new: &str, at_least: u64, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let status = gw.cli(&["keys", "status"]).await;
        assert!(status.status.success(), "{status}");
        let (on_old, on_new) = (
            values_under(&status.stdout, old).unwrap_or(0),
            values_under(&status.stdout, new).unwrap_or(0),
        );
        if on_old == 0 && on_new >= at_least {
            return;
        }
        assert!(Instant::now() < deadline, "not migrated: {status}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn the_encryption_key_rotates_while_serving_and_nothing_becomes_unreadable() {
    let (gw, client, gent, _amal) = with_joint_client(42).await;
    let before = json!({"receivesLivingWage": true, "livingWageSince": "2024-01-15"});
    gent.write_record(&client, before).await;
    let old = gw.config.keys.encryption_key_id.clone();
    let status = gw.cli(&["keys", "status"]).await;
    assert!(status.status.success(), "{status}");
    assert!(
        values_under(&status.stdout, &old).unwrap_or(0) >= 3,
        "{status}"
    );

    let new = rotate(&gw, "encryption").await;
    // A retirement while the old key still seals values is refused.
    let early = gw.cli(&["keys", "retire", "encryption", &old]).await;
    assert!(
        !early.status.success() && early.stderr.contains("run `gateway keys migrate` first"),
        "{early}"
    );

    // The serving gateway takes the new key within seconds and moves the old values to it.
    wait_migrated(&gw, &old, &new, 3, Duration::from_secs(40)).await;
    // What was written before reads; what is written now is sealed under the new key.
    let read = gent.read_record(&client).await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body["fields"]["livingWageSince"], "2024-01-15");
    let after = json!({"increasedAllowance": true});
    gent.write_record(&client, after).await;
    let other = gent.new_client(&generated_ssin(43)).await;
    assert_eq!(gent.read_record(&other).await.status, 200);

    // Nothing uses the old key: it is retired, and everything still reads.
    let retired = gw.cli(&["keys", "retire", "encryption", &old]).await;
    assert!(retired.status.success(), "{retired}");
    let status = gw.cli(&["keys", "status"]).await;
    assert!(!status.stdout.contains(&format!("{old}:")), "{status}");
    let read = gent.read_record(&client).await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body["fields"]["increasedAllowance"], true);
}

#[tokio::test]
async fn the_pseudonym_key_rotates_while_serving_and_nobody_is_split_in_two() {
    let (gw, client, gent, amal) = with_joint_client(44).await;
    let ssin = generated_ssin(44);
    let old = gw.config.keys.pseudonym_key_id.clone();
    let new = rotate(&gw, "pseudonym").await;

    // Before, during and after the migration the same number finds the same client.
    let same_client = |ssin: String| {
        let gent = &gent;
        async move { client_id(gent.lookup(&ssin).await).await }
    };
    assert_eq!(same_client(ssin.clone()).await, client);
    // A person registered meanwhile is found by the key their pseudonym was made with.
    let newcomer = gent.new_client(&generated_ssin(45)).await;
    assert_eq!(same_client(ssin.clone()).await, client);
    // The migration waits until every instance has the new key, then moves the pseudonyms.
    wait_migrated(&gw, &old, &new, 2, Duration::from_secs(60)).await;
    assert_eq!(same_client(ssin.clone()).await, client);
    assert_eq!(same_client(generated_ssin(45)).await, newcomer);

    // The old key is retired: still the same client, registering again links nothing new.
    let retired = gw.cli(&["keys", "retire", "pseudonym", &old]).await;
    assert!(retired.status.success(), "{retired}");
    let again = amal.register(&ssin).await;
    assert!(again.status().is_success(), "{}", again.status());
    assert_eq!(client_id(again).await, client);
    assert_eq!(same_client(ssin).await, client);
}

/// The key hash of the first signature of a checkpoint note.
fn signing_key_hash(note: &Note) -> Vec<u8> {
    note.signatures[0].1[..4].to_vec()
}

#[tokio::test]
async fn the_checkpoint_key_rotates_while_serving_and_every_earlier_checkpoint_still_verifies() {
    let (gw, client, gent, _amal) = with_joint_client(46).await;
    gent.write_record(&client, json!({"receivesLivingWage": true}))
        .await;
    let officer = gw.session(&Caller::privacy_officer(("ocmw-gent", "po-gent-1")));
    let checkpoint = || async {
        let response = officer.get("/v1/audit/checkpoint").await;
        assert_eq!(response.status(), 200);
        parse_note(&response.text().await.unwrap())
    };
    let verifier_keys = || async {
        let response = officer.get("/v1/audit/verifier-key").await;
        assert_eq!(response.status(), 200);
        response.json::<Value>().await.unwrap()
    };
    let before = checkpoint().await;
    let old_key = parse_verifier_key(verifier_keys().await["current"].as_str().unwrap());
    assert!(signed_by(&before, &old_key));

    let new_id = rotate(&gw, "audit-signing").await;
    // The serving gateway signs its next checkpoint with the new key.
    let deadline = Instant::now() + Duration::from_secs(30);
    let after = loop {
        gent.write_record(&client, json!({"increasedAllowance": true}))
            .await;
        let note = checkpoint().await;
        if signing_key_hash(&note) != old_key.key_hash {
            break note;
        }
        assert!(Instant::now() < deadline, "still signed by the old key");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert!(after.size > before.size);

    // The listing names the new key current and keeps the earlier one with what it signed.
    let listed = verifier_keys().await;
    let new_key = parse_verifier_key(listed["current"].as_str().unwrap());
    assert!(signed_by(&after, &new_key), "{listed}");
    assert!(!signed_by(&after, &old_key));
    let keys = listed["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{listed}");
    assert_eq!(keys[0]["current"], true);
    assert_eq!(
        keys[1]["verifierKey"].as_str(),
        Some(old_key.text.as_str()),
        "{listed}"
    );
    let old_last = keys[1]["lastTreeSize"].as_u64().unwrap();
    assert!(old_last >= before.size, "{listed}");
    assert!(
        keys[0]["firstTreeSize"].as_u64().unwrap() > old_last,
        "{listed}"
    );
    // What the earlier key signed still verifies with the key the listing gives for it.
    assert!(signed_by(
        &before,
        &parse_verifier_key(keys[1]["verifierKey"].as_str().unwrap())
    ));

    // The rotation is on record, by the gateway, naming the new verifier key.
    let rotations = gw.audit_of_action("rotateKey").await;
    assert_eq!(rotations.len(), 1);
    assert_eq!(rotations[0].party_id, "gateway");
    let reason = rotations[0].record.reason.clone().unwrap_or_default();
    assert!(
        reason.contains(&new_id) && reason.contains(&new_key.text),
        "{reason}"
    );

    // `audit verify` checks every checkpoint, each with the key that signed it.
    let verified = gw.cli(&["audit", "verify"]).await;
    assert!(verified.status.success(), "{verified}");
    let listing = gw.cli(&["audit", "verifier-key"]).await;
    assert!(listing.status.success(), "{listing}");
    let lines: Vec<&str> = listing.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{listing}");
    assert!(lines[0].starts_with(&new_key.text) && lines[0].contains("current"));
    assert!(lines[1].starts_with(&old_key.text) && lines[1].contains("earlier key"));
    // Against the new key alone, the earlier checkpoints do not verify.
    let alone = gw
        .cli(&["audit", "verify", "--verifier-key", &new_key.text])
        .await;
    assert!(!alone.status.success(), "{alone}");
    // An earlier checkpoint key is never retired.
    let retire = gw
        .cli(&["keys", "retire", "audit-signing", "audit-signing"])
        .await;
    assert!(!retire.status.success(), "{retire}");
}
