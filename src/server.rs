//! Assembling and running the gateway: the one composition used by `gateway serve` and by the
//! integration tests, which bind their own listeners on free ports.

use crate::app::AppState;
use crate::auth::parties::Parties;
use crate::config::Config;
use crate::crypto::keyring::{CipherRing, PseudonymRing};
use crate::crypto::secrets;
use crate::gate::log::witness::Witnesses;
use crate::gate::log::{signing, tree};
use crate::gate::{Gate, PartyDirectory};
use crate::notify::webhooks;
use crate::policy::Policy;
use crate::store;
use crate::store::audit_writer::AuditWriter;
use crate::ui::Pages;
use crate::ui::csrf::FormTokens;
use crate::{http, telemetry, ui};
use anyhow::{Context, Result};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Notify;

pub struct Listeners {
    pub api: TcpListener,
    pub ops: TcpListener,
}

impl Listeners {
    pub async fn bind(config: &Config) -> Result<Self> {
        let api = TcpListener::bind(config.server.listen)
            .await
            .with_context(|| format!("server.listen: cannot bind {}", config.server.listen))?;
        let ops = TcpListener::bind(config.server.ops_listen)
            .await
            .with_context(|| {
                format!(
                    "server.ops_listen: cannot bind {}",
                    config.server.ops_listen
                )
            })?;
        Ok(Self { api, ops })
    }
}

/// Everything loaded and checked before the first connection is accepted: a gateway that
/// cannot load a key or reach its database refuses to start rather than serve half-ready.
pub struct Prepared {
    pub state: AppState,
    pub tls: Arc<rustls::ServerConfig>,
    /// The database, for the webhook workers and the orderly close at the end.
    db: store::Db,
    /// What the review pages keep between requests.
    pages: Pages,
}

impl Prepared {
    /// Closes the database of a gateway prepared but not run (a command line job).
    pub async fn close(self) {
        self.db.close().await;
    }
}

pub async fn prepare(config: Config) -> Result<Prepared> {
    config.validate()?;
    crate::crypto::jwt_ring::install();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let parties = Arc::new(Parties::load(&config, &provider)?);
    let (tls, revocation) = http::tls::server_config(&config.server, &parties, provider)?;
    let db = store::connect::connect(&config.database)
        .await
        .context("database.url: cannot open the database")?;
    if config.database.require_least_privilege {
        require_least_privilege(&db).await?;
    } else {
        db.migrate()
            .await
            .context("applying the database migrations")?;
    }
    let kinds: Vec<(String, String)> = config
        .parties
        .iter()
        .map(|p| (p.id.to_string(), p.kind.as_str().to_owned()))
        .collect();
    store::clients::fill_in_kinds(&db, &kinds)
        .await
        .context("recording the party kind of links made before competence")?;
    store::instances::register(&db, uuid::Uuid::new_v4(), env!("CARGO_PKG_VERSION")).await?;
    let cipher = Arc::new(
        CipherRing::load(config.keys.encryption_ring())
            .context("keys.encryption_key and its ring")?,
    );
    let db = db.with_sealing(cipher.clone());
    let (gate, forms) = open_gate(&config, db.clone(), cipher).await?;
    let state = AppState::new(
        Arc::new(config),
        parties,
        Arc::new(gate),
        telemetry::metrics_handle(),
    )
    .with_revocation(revocation);
    Ok(Prepared {
        state,
        tls,
        db,
        pages: Pages::new(forms),
    })
}

/// A serving role that could rewrite the audit log stops the start, saying what it holds; so
/// does a schema `gateway migrate` has not brought up to date (this role may not migrate).
async fn require_least_privilege(db: &store::Db) -> Result<()> {
    let found = store::privileges::excess_privileges(db)
        .await
        .context("database.require_least_privilege: reading the role's privileges")?;
    if !found.is_empty() {
        anyhow::bail!(
            "database.require_least_privilege: the serving role could rewrite the audit log: {}. \
             Serve as a role that may only INSERT and SELECT on the log tables (README, production)",
            found.join("; ")
        );
    }
    if let Some((applied, needed)) = db.migration_lag().await? {
        anyhow::bail!(
            "database.require_least_privilege: the schema is at migration {applied}, this gateway \
             needs {needed}: run `gateway migrate` as the owner role (database.migrate_url)"
        );
    }
    Ok(())
}

/// The gate with its keys, audit writer and tree follower. Missing key material stops the
/// start: the gateway never serves personal data it could not protect or record. Also the
/// review pages' form-token key, derived from the field-encryption key.
async fn open_gate(
    config: &Config,
    db: store::Db,
    cipher: Arc<CipherRing>,
) -> Result<(Gate, FormTokens)> {
    let keys = &config.keys;
    let pseudonyms =
        PseudonymRing::load(keys.pseudonym_ring()).context("keys.pseudonym_key and its ring")?;
    let encryption_key =
        secrets::read_key32(&keys.encryption_key).context("keys.encryption_key")?;
    let signing = signing::follow(config.audit_signing_ring(), &config.audit.log_name)
        .context("audit.signing_key and its ring: no Ed25519 key usable for checkpoints")?;
    let policy = Policy::load(&config.policy_file)?;
    let appended = Arc::new(Notify::new());
    let writer = AuditWriter::spawn(db.clone(), config.audit.max_batch, appended.clone());
    let tree = tree::start(
        db.clone(),
        Arc::new(signing),
        &config.audit,
        appended,
        writer.clone(),
    )
    .await
    .context("refusing to serve: the audit log cannot be resumed")?;
    let forms = FormTokens::derive(&encryption_key);
    let gate = Gate::new(
        db,
        writer,
        Arc::new(pseudonyms),
        cipher,
        Arc::new(policy),
        PartyDirectory {
            review_all: config.audit.review_all_parties.clone(),
            kinds: config
                .parties
                .iter()
                .map(|p| (p.id.to_string(), p.kind))
                .collect(),
            witnesses: Witnesses::load(config).map_err(anyhow::Error::msg)?,
            agreements: config
                .agreements
                .iter()
                .map(|a| a.parties.clone())
                .collect(),
        },
        tree,
    );
    Ok((gate, forms))
}

/// Serves until `shutdown` completes.
pub async fn run(
    prepared: Prepared,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let Prepared {
        state,
        tls,
        db,
        pages,
    } = prepared;
    let pages = ui::router(state.clone(), pages);
    let (router, _) = http::router(state.clone(), pages);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let ops_router = http::ops::router(state.clone());
    let mut ops_stop = stop_rx.clone();
    let ops = tokio::spawn(async move {
        let _ = axum::serve(listeners.ops, ops_router)
            .with_graceful_shutdown(async move {
                let _ = ops_stop.wait_for(|stop| *stop).await;
            })
            .await;
    });
    let housekeeping = tokio::spawn(housekeeping(state.clone()));
    let retention = tokio::spawn(retention_job(state.clone(), db.clone()));
    let revocation = tokio::spawn(watch_revocation_lists(state.clone()));
    let keys = tokio::spawn(keep_keys_current(state.clone()));
    let hooks: Vec<_> = state
        .config
        .parties
        .iter()
        .filter_map(|p| {
            Some((
                state.parties.by_id(p.id.as_str())?.clone(),
                p.webhooks.clone(),
            ))
        })
        .collect();
    let deliveries = webhooks::start(
        state.gate.clone(),
        db.clone(),
        &state.config.webhooks,
        state.config.webhook_signing_ring(),
        &hooks,
    )
    .await?;
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let mut api_stop = stop_rx;
    http::tls::serve(
        listeners.api,
        tls,
        state.parties.clone(),
        router,
        state.config.limits.clone(),
        async move {
            let _ = api_stop.wait_for(|stop| *stop).await;
        },
    )
    .await;
    housekeeping.abort();
    retention.abort();
    revocation.abort();
    keys.abort();
    for delivery in deliveries {
        delivery.abort();
    }
    let _ = ops.await;
    db.close().await;
    Ok(())
}

/// Periodic upkeep that keeps memory bounded: rate-limiter state for users no longer seen,
/// and the Prometheus histograms' windows.
async fn housekeeping(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    loop {
        tick.tick().await;
        state.user_limiter.retain_recent();
        state.user_limiter.shrink_to_fit();
        if let Some(handle) = &state.metrics {
            handle.run_upkeep();
        }
    }
}

/// Reloads the certificate revocation lists when a file changes (checked every 2 s) or at
/// once on SIGHUP, so that a revocation takes effect without a restart.
async fn watch_revocation_lists(state: AppState) {
    let Some(lists) = state.revocation.clone() else {
        return;
    };
    #[cfg(unix)]
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    loop {
        #[cfg(unix)]
        let forced = match hangup.as_mut() {
            Some(signal) => tokio::select! {
                _ = tick.tick() => false,
                _ = signal.recv() => true,
            },
            None => {
                tick.tick().await;
                false
            }
        };
        #[cfg(not(unix))]
        let forced = {
            tick.tick().await;
            false
        };
        lists.reload(forced);
    }
}

/// Follows rotations of the field-encryption and pseudonym keys (checked every 10 s, so that
/// an instance uses a key another made current within seconds) and moves what older keys made
/// to the current ones: at start and after each rotation. The moves are guarded row by row, so
/// instances doing it at once do no harm.
async fn keep_keys_current(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    let (mut first, mut pseudonyms_pending) = (true, false);
    loop {
        tick.tick().await;
        match state
            .gate
            .keep_keys_current(first, &mut pseudonyms_pending)
            .await
        {
            Ok(done) => {
                first = false;
                if let Some(moved) = done.sealed_again.filter(|n| *n > 0) {
                    tracing::info!(moved, "stored values sealed again under the current key");
                }
                if let Some(moved) = done.pseudonyms_made_again.filter(|n| *n > 0) {
                    tracing::info!(moved, "pseudonyms made again under the current key");
                }
            }
            Err(error) => tracing::error!(%error, "following the key rings failed"),
        }
    }
}

/// The retention run every `retention.run_every_hours`, by one instance at a time: the one
/// that holds the lease (taken for the interval, so a stopped holder's turn passes on).
async fn retention_job(state: AppState, db: store::Db) {
    let hours = state.config.retention.run_every_hours;
    if hours == 0 {
        return;
    }
    let every = Duration::from_secs(u64::from(hours) * 3600);
    let holder = uuid::Uuid::new_v4().to_string();
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let now = time::OffsetDateTime::now_utc();
        let now_micros = crate::audit::record::micros(now);
        let until = now_micros + every.as_micros() as i64 - 60_000_000;
        match store::retention::take_lease(&db, "retention", &holder, now_micros, until).await {
            Ok(true) => {}
            Ok(false) => continue,
            Err(error) => {
                tracing::warn!(%error, "the retention lease could not be taken");
                continue;
            }
        }
        match state
            .gate
            .retention_run(&state.config.retention, now, false)
            .await
        {
            Ok(report) => tracing::info!(
                clients = report.clients,
                events = report.events,
                dead_letters = report.dead_letters,
                consents = report.consents,
                idempotency_keys = report.idempotency_keys,
                audit_records_reduced = report.audit_records,
                "retention run"
            ),
            Err(error) => tracing::error!(%error, "the retention run failed"),
        }
    }
}

/// Registers for SIGTERM and SIGINT at once — a signal that arrives before the handlers exist
/// would kill the process instead of shutting it down — and resolves on the first.
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {},
            _ = interrupt.recv() => {},
        }
    })
}
