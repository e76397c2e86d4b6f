//! Webhooks: every event a party may receive reaches its configured HTTPS endpoint, signed as
//! documented, at least once, in order per client, with retries while the receiver is down,
//! dead letters after the last attempt and their replay; filtered at delivery like a read.

use crate::harness::library::{Config, PublicKey, Purpose, WebhookConfig, verify_signature};
use crate::harness::{
    AMAL, EEKLO, Endpoint, GENT, TestGateway, attest, client_id, generated_ssin, give_consent,
    joint_client, notify_attest,
};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One delivery as the receiver got it.
#[derive(Clone, Debug)]
struct Delivery {
    id: String,
    timestamp: String,
    signature: String,
    body: Bytes,
}

impl Delivery {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Default)]
struct Inbox {
    deliveries: Mutex<Vec<Delivery>>,
    /// The receiver answers 503 to this many more requests.
    fail_next: AtomicUsize,
    refused: AtomicUsize,
}

/// A real HTTPS receiver with the test PKI's server certificate, started on a port bound
/// before the gateway's configuration names it.
struct Receiver {
    listener: Option<std::net::TcpListener>,
    inbox: Arc<Inbox>,
}

impl Receiver {
    fn bind() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        Self {
            listener: Some(listener),
            inbox: Arc::default(),
        }
    }

    fn url(&self) -> String {
        let port = self.listener.as_ref().unwrap().local_addr().unwrap().port();
        format!("https://localhost:{port}/hooks/gateway")
    }

    fn serve(&mut self, gw: &TestGateway) -> Arc<Inbox> {
        let pki = gw.pki();
        let chain = rustls_pki_types::pem::PemObject::pem_file_iter(pki.join("server.crt"))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let key = rustls_pki_types::pem::PemObject::from_pem_file(pki.join("server.key")).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
        let listener = self.listener.take().unwrap();
        listener.set_nonblocking(true).unwrap();
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        let inbox = self.inbox.clone();
        let app = Router::new()
            .route("/hooks/gateway", axum::routing::post(receive))
            .with_state(inbox.clone());
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let (acceptor, app) = (acceptor.clone(), app.clone());
                tokio::spawn(async move {
                    let Ok(stream) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = hyper_util::service::TowerToHyperService::new(app);
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        inbox
    }
}

async fn receive(State(inbox): State<Arc<Inbox>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let failing = inbox
        .fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if failing {
        inbox.refused.fetch_add(1, Ordering::SeqCst);
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let header = |name: &str| headers[name].to_str().unwrap().to_owned();
    inbox.deliveries.lock().unwrap().push(Delivery {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body,
    });
    StatusCode::NO_CONTENT
}

impl Inbox {
    fn all(&self) -> Vec<Delivery> {
        self.deliveries.lock().unwrap().clone()
    }

    /// Waits until `done` holds of the deliveries, or fails after a while.
    async fn wait_for(&self, done: impl Fn(&[Delivery]) -> bool) -> Vec<Delivery> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let all = self.all();
            if done(&all) {
                return all;
            }
            assert!(Instant::now() < deadline, "deliveries so far: {all:#?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn hook(config: &mut Config, party: &str, url: String) {
    let party = config
        .parties
        .iter_mut()
        .find(|p| p.id.as_str() == party)
        .unwrap();
    party.webhooks.push(WebhookConfig {
        url,
        purpose: Purpose::TrajectoryGuidance,
    });
}

/// Up to `attempts` attempts a delivery, waiting from `backoff.0` up to `backoff.1` ms.
fn retries(config: &mut Config, attempts: u32, backoff: (u64, u64)) {
    config.webhooks.max_attempts = attempts;
    config.webhooks.initial_backoff_ms = backoff.0;
    config.webhooks.max_backoff_ms = backoff.1;
}

/// A gateway on the test configuration as `configure` changes it, whose OCMW Gent has a
/// webhook; and what Gent's receiver gets.
async fn hooked_for_gent(configure: impl FnOnce(&mut Config)) -> (TestGateway, Arc<Inbox>) {
    let mut gent = Receiver::bind();
    let url = gent.url();
    let gw = TestGateway::start_with(|config| {
        hook(config, GENT.0, url);
        configure(config);
    })
    .await;
    let inbox = gent.serve(&gw);
    (gw, inbox)
}

/// The gateway's webhook public key, as a receiver is given it out of band.
fn public_key(gw: &TestGateway) -> PublicKey {
    public_key_of(&gw.pki().join("webhook-signing.key"))
}

/// The public key of the Ed25519 private key (PKCS#8 PEM) in `file`.
fn public_key_of(file: &std::path::Path) -> PublicKey {
    let pem = std::fs::read_to_string(file).unwrap();
    let der: rustls_pki_types::PrivatePkcs8KeyDer =
        rustls_pki_types::pem::PemObject::from_pem_slice(pem.as_bytes()).unwrap();
    let pair = ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der.secret_pkcs8_der())
        .unwrap();
    let public: [u8; 32] = ring::signature::KeyPair::public_key(&pair)
        .as_ref()
        .try_into()
        .unwrap();
    PublicKey::from_bytes(public)
}

/// Whether `delivery` verifies, by the documented receiver procedure, for a receiver that
/// trusts `keys`.
fn verifies_with(keys: &[PublicKey], delivery: &Delivery) -> bool {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let (id, timestamp) = (&delivery.id, &delivery.timestamp);
    verify_signature(
        keys,
        id,
        timestamp,
        &delivery.signature,
        &delivery.body,
        now,
        300,
    )
    .is_ok()
}

/// The documented receiver procedure, against the delivery as received and tampered with.
fn assert_signed(gw: &TestGateway, delivery: &Delivery) {
    let keys = [public_key(gw)];
    assert!(verifies_with(&keys, delivery), "the signature verifies");
    let mut tampered = delivery.body.to_vec();
    tampered[1] ^= 1;
    let tampered = Delivery {
        body: Bytes::from(tampered),
        ..delivery.clone()
    };
    assert!(!verifies_with(&keys, &tampered));
}

/// Person `n`, registered by Gent; the client id.
async fn gent_client(gw: &TestGateway, n: u32) -> String {
    client_id(gw.case_worker(GENT).register(&generated_ssin(n)).await).await
}

/// Gent's case worker writes `patch` to `client`'s record.
async fn write(gw: &TestGateway, client: &str, patch: Value) {
    gw.case_worker(GENT).write_record(client, patch).await;
}

/// Waits (bounded) until the receiver has refused at least `count` deliveries.
async fn refused_at_least(inbox: &Inbox, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while inbox.refused.load(Ordering::SeqCst) < count {
        assert!(Instant::now() < deadline, "the attempts never came");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_kbi_attest_reaches_the_linked_ocmws_webhook_signed_and_once_and_nothing_reaches_an_unlinked_one()
 {
    let (mut gent, mut eeklo) = (Receiver::bind(), Receiver::bind());
    let (gent_url, eeklo_url) = (gent.url(), eeklo.url());
    let gw = TestGateway::start_with(|config| {
        hook(config, GENT.0, gent_url);
        hook(config, EEKLO.0, eeklo_url);
    })
    .await;
    let (gent_inbox, eeklo_inbox) = (gent.serve(&gw), eeklo.serve(&gw));
    let ssin = generated_ssin(31);
    let client = gent_client(&gw, 31).await;

    let attest = attest(&ssin, "KBI-2026-000031", "2026-02-01");
    for _ in 0..2 {
        let (status, _) = notify_attest(&gw, &attest).await;
        assert!((200..300).contains(&status), "{status}");
    }

    let delivered = gent_inbox.wait_for(|d| !d.is_empty()).await;
    let event = delivered[0].json();
    assert_eq!(event["type"], "clientRecordChanged");
    assert_eq!(event["clientId"], client.as_str());
    assert!(
        event["categories"]
            .as_array()
            .unwrap()
            .contains(&json!("attest"))
    );
    assert_eq!(delivered[0].id, event["eventId"].as_str().unwrap());
    assert!(
        !delivered[0]
            .json()
            .to_string()
            .contains("integrationAttest")
    );
    assert_signed(&gw, &delivered[0]);

    // The repeated notification created nothing new; the unlinked OCMW got nothing.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(gent_inbox.all().len(), 1);
    assert!(eeklo_inbox.all().is_empty());
    // The delivery is on record, as the party's webhook user, for the client.
    let rows = gw.audit_rows().await;
    let recorded: Vec<_> = rows
        .iter()
        .filter(|r| r.action == "deliverEvent" && r.user_id == "webhook")
        .collect();
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0].party_id, GENT.0);
    assert_eq!(recorded[0].client_id.as_deref(), Some(client.as_str()));
    assert_eq!(recorded[0].record.roles, ["system"]);
}

#[tokio::test]
async fn while_the_receiver_is_down_events_are_retried_and_then_all_arrive_in_order() {
    let (gw, inbox) = hooked_for_gent(|config| retries(config, 50, (20, 80))).await;
    inbox.fail_next.store(6, Ordering::SeqCst);
    let first = gent_client(&gw, 41).await;
    let second = gent_client(&gw, 42).await;
    let changes = [
        (&first, json!({"receivesLivingWage": true})),
        (&second, json!({"receivesLivingWage": true})),
        (&first, json!({"increasedAllowance": true})),
        (&first, json!({"receivesLivingWage": false})),
        (&second, json!({"increasedAllowance": false})),
    ];
    for (client, patch) in &changes {
        write(&gw, client, patch.clone()).await;
    }
    let distinct = |d: &[Delivery]| {
        let mut ids: Vec<_> = d.iter().map(|d| d.id.clone()).collect();
        ids.dedup();
        ids.len()
    };
    let delivered = inbox.wait_for(|d| distinct(d) >= changes.len()).await;
    assert!(inbox.refused.load(Ordering::SeqCst) >= 6);
    let mut ids: Vec<_> = delivered.iter().map(|d| d.id.clone()).collect();
    ids.dedup();
    assert_eq!(
        ids.len(),
        changes.len(),
        "each event once or more, none missing"
    );
    let positions: Vec<i64> = delivered
        .iter()
        .map(|d| d.json()["position"].as_i64().unwrap())
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] <= w[1]),
        "in order: {positions:?}"
    );
    // Each event's first arrival, in arrival order, follows the order of the changes.
    let mut first_arrivals: Vec<&Delivery> = Vec::new();
    for delivery in &delivered {
        if !first_arrivals.iter().any(|d| d.id == delivery.id) {
            first_arrivals.push(delivery);
        }
    }
    let clients: Vec<String> = first_arrivals
        .iter()
        .map(|d| d.json()["clientId"].as_str().unwrap().to_owned())
        .collect();
    let expected: Vec<&str> = changes.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(clients, expected);
    for delivery in &delivered {
        assert_signed(&gw, delivery);
    }
}

#[tokio::test]
async fn a_consent_withdrawn_between_the_write_and_the_delivery_withholds_the_event() {
    let (gw, inbox) = hooked_for_gent(|config| retries(config, 50, (300, 300))).await;
    let client = joint_client(&gw, 51).await;
    let consent_id = give_consent(&gw, &client).await;
    let amal = gw.case_worker(AMAL);

    // The receiver is down when the agency writes trajectory progress, which the OCMW sees
    // only by the client's consent…
    inbox.fail_next.store(usize::MAX, Ordering::SeqCst);
    amal.write_record(&client, json!({"nt2Level": "A2"})).await;
    refused_at_least(&inbox, 1).await;
    // …then the client withdraws the consent, and the receiver comes back.
    let withdrawn = amal.withdraw_consent(&client, &consent_id).await;
    assert!(withdrawn.status().is_success());
    inbox.fail_next.store(0, Ordering::SeqCst);

    // A later change the OCMW may see arrives; the withheld one never does.
    write(&gw, &client, json!({"receivesLivingWage": true})).await;
    let delivered = inbox.wait_for(|d| !d.is_empty()).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let delivered = if inbox.all().len() > delivered.len() {
        inbox.all()
    } else {
        delivered
    };
    assert!(
        delivered.iter().all(|d| !d.json()["categories"]
            .to_string()
            .contains("trajectoryProgress")),
        "{delivered:?}"
    );
    assert!(
        delivered
            .iter()
            .any(|d| d.json()["categories"].to_string().contains("income"))
    );
}

#[tokio::test]
async fn after_the_last_attempt_events_wait_in_the_dead_letters_in_order_until_replayed() {
    let (gw, inbox) = hooked_for_gent(|config| retries(config, 3, (20, 80))).await;
    let first = gent_client(&gw, 61).await;
    let second = gent_client(&gw, 62).await;
    inbox.fail_next.store(3, Ordering::SeqCst);
    write(&gw, &first, json!({"receivesLivingWage": true})).await;
    // The first event exhausts its three attempts; the same client's next one waits behind
    // it, while another client's goes through.
    refused_at_least(&inbox, 3).await;
    write(&gw, &first, json!({"increasedAllowance": true})).await;
    write(&gw, &second, json!({"receivesLivingWage": true})).await;
    let delivered = inbox.wait_for(|d| !d.is_empty()).await;
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].json()["clientId"], second.as_str());

    // Visible to operators, and replayed by them, through the real command line.
    let listing = cli(&gw, &["events", "dead-letters"]).await;
    assert!(
        listing.contains("ocmw-gent/trajectoryGuidance"),
        "{listing}"
    );
    assert!(listing.contains("2 dead letter(s)"), "{listing}");
    assert!(listing.contains("answered 503"), "{listing}");
    let replay = cli(
        &gw,
        &[
            "events",
            "replay",
            "--subscription",
            "ocmw-gent/trajectoryGuidance",
        ],
    )
    .await;
    assert!(replay.contains("2 dead letter(s) queued"), "{replay}");
    let delivered = inbox.wait_for(|d| d.len() >= 3).await;
    let replayed: Vec<_> = delivered[1..]
        .iter()
        .map(|d| (d.json()["clientId"].clone(), d.json()["position"].clone()))
        .collect();
    assert!(replayed.iter().all(|(c, _)| c == first.as_str()));
    assert!(
        replayed[0].1.as_i64() < replayed[1].1.as_i64(),
        "{replayed:?}"
    );
    // A replayed letter is marked once its delivery is answered, a moment after the receiver
    // has it.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let listing = cli(&gw, &["events", "dead-letters"]).await;
        if listing.contains("0 dead letter(s)") {
            break;
        }
        assert!(Instant::now() < deadline, "{listing}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs the real `gateway` binary against the test gateway's database; what it printed.
async fn cli(gw: &TestGateway, args: &[&str]) -> String {
    let finished = gw.cli(args).await;
    assert!(finished.status.success(), "{finished}");
    finished.stdout
}

#[tokio::test]
async fn while_the_signing_key_rotates_each_delivery_verifies_with_either_key_until_the_old_one_is_retired()
 {
    let (gw, inbox) = hooked_for_gent(|_| {}).await;
    let old = public_key(&gw);
    let rotated = cli(&gw, &["keys", "rotate", "webhook-signing"]).await;
    let id = rotated
        .split_whitespace()
        .skip_while(|w| *w != "key")
        .nth(1)
        .expect("the new key's id")
        .trim_end_matches(',')
        .to_owned();
    let ring = gw.pki().join("keyring").join("webhook-signing");
    let new = public_key_of(&ring.join(format!("{id}.key")));
    // The receivers are told both keys.
    let listed = cli(&gw, &["events", "public-key"]).await;
    assert_eq!(listed.lines().count(), 2, "{listed}");

    let client = gent_client(&gw, 61).await;
    write(
        &gw,
        &client,
        json!({"receivesLivingWage": true, "livingWageSince": "2024-01-15"}),
    )
    .await;
    let first = inbox.wait_for(|d| !d.is_empty()).await;
    let during = first.last().unwrap().clone();
    assert_eq!(
        during.signature.split(' ').count(),
        2,
        "{}",
        during.signature
    );
    // A receiver that already switched and one that has not both accept it.
    assert!(verifies_with(std::slice::from_ref(&new), &during));
    assert!(verifies_with(std::slice::from_ref(&old), &during));

    // The rotation is declared finished: the old key is retired and signs no more.
    cli(
        &gw,
        &["keys", "retire", "webhook-signing", "webhook-signing"],
    )
    .await;
    let before = inbox.all().len();
    write(&gw, &client, json!({"increasedAllowance": true})).await;
    let all = inbox.wait_for(|d| d.len() > before).await;
    let after = all.last().unwrap();
    assert_eq!(after.signature.split(' ').count(), 1, "{}", after.signature);
    assert!(verifies_with(std::slice::from_ref(&new), after));
    assert!(!verifies_with(std::slice::from_ref(&old), after));
}
