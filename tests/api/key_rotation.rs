//! Every key rotates while the gateway serves, and nothing is lost: what an older key sealed
//! reads and moves to the new key; the same person finds the same client before, during and
//! after a pseudonym rotation; a key is retired only when nothing uses it.

use crate::harness::{TestGateway, client_id, generated_ssin, with_joint_client};
use serde_json::json;
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
