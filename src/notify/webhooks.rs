//! Webhook delivery (product brief §7): one worker per subscription (party and purpose) walks
//! the outbox in position order and posts each event the party may receive at that moment,
//! signed, to the configured URL. A failed attempt is retried with exponential backoff and
//! jitter. After the last attempt the event goes to the dead letters, and so do the same
//! client's later events, so that a client's events never arrive out of order. An operator
//! replays the dead letters with `gateway events replay`.
//!
//! At least once: the cursor moves only after an event is delivered, withheld or buried, so
//! an instance that stops mid-delivery leaves the event to be delivered again (same
//! `webhook-id`). A lease on the subscription keeps a second instance from delivering the same
//! stream at the same time.

use super::signature::WebhookSigner;
use crate::audit::record::micros;
use crate::auth::parties::Party;
use crate::auth::principal::Principal;
use crate::config::{WebhookConfig, WebhooksConfig};
use crate::crypto::keyring::{Following, Ring};
use crate::crypto::keys;
use crate::domain::role::{Role, RoleSet};
use crate::gate::views::EventView;
use crate::gate::{Caller, Trace};
use crate::gate::{Gate, GateError};
use crate::store::events::{self, StoredEvent};
use crate::store::webhooks::{self, NewDeadLetter};
use crate::store::{Db, StoreError};
use anyhow::{Context, Result};
use ring::rand::{SecureRandom, SystemRandom};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use time::OffsetDateTime;
use uuid::Uuid;

/// How long a lease lasts beyond the longest wait between two attempts and an attempt's
/// time-out; it is renewed before every attempt, so only a stopped instance lets it lapse.
const LEASE_MARGIN: Duration = Duration::from_secs(60);
/// Events read from the outbox at a time.
const PAGE: i64 = 100;
/// How often a worker looks for work when no commit woke it (another instance's writes, a
/// replay asked for, a lapsed lease).
const POLL: Duration = Duration::from_secs(1);
/// The user the deliveries are recorded under in the audit log.
const USER: &str = "webhook";

/// What every worker shares.
struct Shared {
    gate: Arc<Gate>,
    db: Db,
    client: reqwest::Client,
    signer: Signer,
    settings: WebhooksConfig,
    /// This instance's name in the leases.
    owner: String,
}

/// The signer of the deliveries: every key of the signing ring that is not retired, the
/// current first; made again when the ring changes (a rotation or retirement, by the command
/// line, while serving).
type Signer = Following<WebhookSigner>;

/// A signer with every key of `ring` in use, the current first.
pub fn signer_of(ring: &Ring) -> Result<WebhookSigner> {
    let mut signer: Option<WebhookSigner> = None;
    for (id, file) in ring.in_use()? {
        let key = keys::private_key(&file).with_context(|| format!("webhook signing key {id}"))?;
        let what = || format!("webhook signing key {id}: not an Ed25519 key");
        signer = Some(match signer {
            None => WebhookSigner::from_pkcs8(key.secret_der()).with_context(what)?,
            Some(signer) => signer
                .with_additional(key.secret_der())
                .with_context(what)?,
        });
    }
    signer.context("the webhook signing ring holds no key")
}

/// One party's webhook for one purpose.
struct Subscription {
    name: String,
    url: String,
    /// The party acting as its own system user for the purpose: what it may receive is
    /// decided exactly as for a read by it.
    reader: Principal,
}

/// How one event ended.
enum Outcome {
    Delivered,
    /// Another instance took the subscription over (this one stalled past its lease): stop
    /// without moving the cursor; the other goes on from it.
    LeaseLost,
    /// Not for this party at this moment (link, policy, consent): skipped.
    Withheld,
    /// Every attempt failed.
    Failed {
        attempts: i64,
        error: String,
    },
}

/// Starts one worker per configured webhook. Their cursors exist before the first request is
/// served, so no event written after start-up is missed.
pub async fn start(
    gate: Arc<Gate>,
    db: Db,
    settings: &WebhooksConfig,
    signing: Option<Ring>,
    parties: &[(Arc<Party>, Vec<WebhookConfig>)],
) -> Result<Vec<tokio::task::JoinHandle<()>>> {
    let hooks: Vec<_> = parties
        .iter()
        .flat_map(|(party, hooks)| hooks.iter().map(move |hook| (party.clone(), hook.clone())))
        .collect();
    if hooks.is_empty() {
        return Ok(Vec::new());
    }
    let signer = Signer::load(signing.context("webhooks.signing_key")?, signer_of)?;
    let client = http_client(settings)?;
    let shared = Arc::new(Shared {
        gate,
        db,
        client,
        signer,
        settings: settings.clone(),
        owner: Uuid::now_v7().to_string(),
    });
    let mut workers = Vec::new();
    for (party, hook) in hooks {
        let name = hook.subscription(&party.id);
        webhooks::ensure_cursor(&shared.db, &name).await?;
        let mut acting = RoleSet::EMPTY;
        acting.insert(Role::System);
        let reader = Principal {
            party,
            user: Arc::from(USER),
            roles: acting,
            acting_roles: acting,
            purpose: hook.purpose,
        };
        let subscription = Subscription {
            name,
            url: hook.url,
            reader,
        };
        let shared = shared.clone();
        workers.push(tokio::spawn(async move {
            run(shared, subscription).await;
        }));
    }
    Ok(workers)
}

/// A client that trusts only the configured CAs, follows no redirect (an endpoint cannot send
/// the gateway elsewhere) and gives up on an attempt after the time-out.
fn http_client(settings: &WebhooksConfig) -> Result<reqwest::Client> {
    let ca_path = settings
        .trusted_ca
        .as_ref()
        .context("webhooks.trusted_ca")?;
    let mut roots = rustls::RootCertStore::empty();
    for certificate in keys::certificates(ca_path).context("webhooks.trusted_ca")? {
        roots
            .add(certificate)
            .context("webhooks.trusted_ca: not a CA certificate")?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_millis(settings.timeout_ms))
        .build()?)
}

fn now_micros() -> i64 {
    micros(OffsetDateTime::now_utc())
}

async fn run(shared: Arc<Shared>, subscription: Subscription) {
    let mut commits = shared.gate.commits();
    loop {
        match step(&shared, &subscription).await {
            Ok(()) => {}
            Err(error) => {
                tracing::warn!(subscription = %subscription.name, %error, "webhook delivery paused");
            }
        }
        commits.borrow_and_update();
        let _ = tokio::time::timeout(POLL, commits.changed()).await;
    }
}

/// One round: replays asked for, then new events, as long as this instance holds the lease.
async fn step(shared: &Shared, sub: &Subscription) -> Result<(), GateError> {
    let Some(mut cursor) = claim(shared, sub).await? else {
        return Ok(());
    };
    replay(shared, sub).await?;
    let mut held = webhooks::held_clients(&shared.db, &sub.name).await?;
    metrics::gauge!("gateway_webhook_held_clients", "subscription" => sub.name.clone())
        .set(held.len() as f64);
    loop {
        let party = sub.reader.party.id.as_str();
        let (pending, scanned) = events::after(&shared.db, party, cursor, PAGE).await?;
        if pending.is_empty() {
            if scanned > cursor {
                webhooks::advance(&shared.db, &sub.name, &shared.owner, scanned).await?;
            }
            return Ok(());
        }
        for event in pending {
            let position = event.position;
            if held.contains(&event.client_id) {
                bury(
                    shared,
                    sub,
                    &event,
                    0,
                    "held behind an earlier event of the client",
                )
                .await?;
            } else {
                match deliver(shared, sub, &event).await? {
                    Outcome::Delivered | Outcome::Withheld => {}
                    Outcome::LeaseLost => return Ok(()),
                    Outcome::Failed { attempts, error } => {
                        bury(shared, sub, &event, attempts, &error).await?;
                        held.insert(event.client_id.clone());
                    }
                }
            }
            if !webhooks::advance(&shared.db, &sub.name, &shared.owner, position).await? {
                // The lease was lost to another instance: it goes on from the cursor.
                return Ok(());
            }
            cursor = position;
        }
        cursor = cursor.max(scanned);
    }
}

async fn claim(shared: &Shared, sub: &Subscription) -> Result<Option<i64>, StoreError> {
    let settings = &shared.settings;
    let lease = Duration::from_millis(settings.max_backoff_ms + settings.timeout_ms) + LEASE_MARGIN;
    let now = now_micros();
    let until = now + lease.as_micros() as i64;
    webhooks::claim(&shared.db, &sub.name, &shared.owner, now, until).await
}

async fn bury(
    shared: &Shared,
    sub: &Subscription,
    event: &StoredEvent,
    attempts: i64,
    error: &str,
) -> Result<(), StoreError> {
    metrics::counter!("gateway_webhook_dead_letters_total", "subscription" => sub.name.clone())
        .increment(1);
    tracing::warn!(subscription = %sub.name, position = event.position, attempts, "webhook event dead-lettered");
    let letter = NewDeadLetter {
        subscription: &sub.name,
        position: event.position,
        event_id: &event.event_id,
        client_id: &event.client_id,
        attempts,
        last_error: error,
    };
    webhooks::bury(&shared.db, letter, now_micros()).await
}

/// Delivers the dead letters an operator asked to replay, in order; the first that fails
/// again stays dead, and so do the ones behind it.
async fn replay(shared: &Shared, sub: &Subscription) -> Result<(), GateError> {
    let letters = webhooks::unreplayed(&shared.db, Some(&sub.name)).await?;
    let party = sub.reader.party.id.as_str();
    for letter in letters {
        if letter.replay_requested_at.is_none() {
            continue;
        }
        let Some(event) = events::at(&shared.db, party, letter.position).await? else {
            continue;
        };
        match deliver(shared, sub, &event).await? {
            Outcome::Delivered | Outcome::Withheld => {
                webhooks::mark_replayed(&shared.db, &sub.name, letter.position, now_micros())
                    .await?;
            }
            Outcome::Failed { attempts, error } => {
                bury(shared, sub, &event, attempts, &error).await?;
                break;
            }
            Outcome::LeaseLost => break,
        }
    }
    Ok(())
}

/// Every attempt at one event. Before each, the gate decides again whether the party may
/// receive it (a consent withdrawn or a link ended during the retries withholds it) and puts
/// the attempt on record; if the record cannot be written, nothing is sent.
async fn deliver(
    shared: &Shared,
    sub: &Subscription,
    event: &StoredEvent,
) -> Result<Outcome, GateError> {
    let max = i64::from(shared.settings.max_attempts);
    let party = sub.reader.party.id.as_str();
    let mut error = String::new();
    for attempt in 1..=max {
        if claim(shared, sub).await?.is_none() {
            return Ok(Outcome::LeaseLost);
        }
        let Some(current) = events::at(&shared.db, party, event.position).await? else {
            return Ok(Outcome::Withheld);
        };
        let caller = Caller {
            principal: sub.reader.clone(),
            trace: Trace::internal(),
        };
        let Some(delivery) = shared.gate.prepare_delivery(&caller, current).await? else {
            return Ok(Outcome::Withheld);
        };
        match post(shared, sub, &delivery).await {
            Ok(()) => {
                metrics::counter!("gateway_webhook_deliveries_total", "subscription" => sub.name.clone())
                    .increment(1);
                return Ok(Outcome::Delivered);
            }
            Err(failure) => error = failure,
        }
        metrics::counter!("gateway_webhook_failed_attempts_total", "subscription" => sub.name.clone())
            .increment(1);
        if attempt < max {
            tokio::time::sleep(backoff(&shared.settings, attempt)).await;
        }
    }
    Ok(Outcome::Failed {
        attempts: max,
        error,
    })
}

/// One signed POST. The error names the status or the kind of failure, never the body.
async fn post(shared: &Shared, sub: &Subscription, event: &EventView) -> Result<(), String> {
    let id = event.event_id().to_owned();
    let body =
        serde_json::to_vec(event).map_err(|_| "the event could not be encoded".to_owned())?;
    let timestamp = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let signature = shared.signer.current().sign(&id, timestamp, &body);
    let response = shared
        .client
        .post(&sub.url)
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                "timed out".to_owned()
            } else if e.is_connect() {
                "connection failed".to_owned()
            } else {
                "request failed".to_owned()
            }
        })?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("answered {}", response.status().as_u16()))
    }
}

/// The wait after failed attempt `attempt` (1-based): the initial backoff doubled per attempt,
/// capped, then drawn uniformly between half and all of it so that retries from many
/// subscriptions do not arrive in step.
fn backoff(settings: &WebhooksConfig, attempt: i64) -> Duration {
    let doublings = u32::try_from(attempt - 1).unwrap_or(u32::MAX).min(32);
    let ceiling = settings
        .initial_backoff_ms
        .saturating_mul(1u64 << doublings)
        .min(settings.max_backoff_ms);
    let mut random = [0u8; 8];
    let fraction = match SystemRandom::new().fill(&mut random) {
        Ok(()) => u64::from_le_bytes(random) % 1024,
        Err(_) => 1023,
    };
    let floor = ceiling / 2;
    Duration::from_millis(floor + (ceiling - floor) * fraction / 1023)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> WebhooksConfig {
        WebhooksConfig {
            signing_key: None,
            trusted_ca: None,
            max_attempts: 8,
            initial_backoff_ms: 1000,
            max_backoff_ms: 300_000,
            timeout_ms: 10_000,
        }
    }

    #[test]
    fn backoff_doubles_per_attempt_with_jitter_between_half_and_all_of_it() {
        let s = settings();
        for (attempt, ceiling) in [(1, 1000), (2, 2000), (3, 4000), (6, 32_000)] {
            for _ in 0..50 {
                let wait = backoff(&s, attempt).as_millis() as u64;
                assert!((ceiling / 2..=ceiling).contains(&wait), "{attempt}: {wait}");
            }
        }
    }

    #[test]
    fn backoff_is_capped_and_never_overflows() {
        let s = settings();
        for attempt in [10, 40, 100, i64::MAX] {
            let wait = backoff(&s, attempt).as_millis() as u64;
            assert!((150_000..=300_000).contains(&wait), "{attempt}: {wait}");
        }
    }
}
