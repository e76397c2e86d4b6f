//! Loading the scale data set straight into the database the gateway will open, through the
//! gateway's own writing code rather than its API (ten million requests would take hours):
//! registrations as the register route makes them (pseudonym, ciphertext bound to the client
//! id, link), every record appended by the group-commit audit writer, and the Merkle tree
//! and signed checkpoints computed from the stored records as the tree follower does. So the
//! gateway serves the result and `gateway audit verify` accepts it as its own.

use super::mix::{self, AGENCY, AGENCY_EVERY, Mix, OCMW};
use crate::setup::ssin;
use anyhow::{Context, Result, anyhow, ensure};
use gateway::audit::checkpoint::{Checkpoint, NoteSigner};
use gateway::audit::merkle::{Frontier, leaf_hash};
use gateway::audit::record::{AuditDraft, micros};
use gateway::config::{Config, DatabaseConfig};
use gateway::crypto::cipher::FieldCipher;
use gateway::crypto::keyring::CipherRing;
use gateway::crypto::keys;
use gateway::crypto::pseudonym::Pseudonymizer;
use gateway::crypto::secrets;
use gateway::domain::ssin::Ssin;
use gateway::gate::action;
use gateway::policy::Policy;
use gateway::store::audit_writer::AuditWriter;
use gateway::store::mutations::{Mutation, Registration};
use gateway::store::{Db, audit};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tokio::sync::Notify;

/// Records per group commit while loading. Large, because each commit rewrites every page of
/// the client index it touched, and a bigger batch touches each page for more records.
const BATCH: usize = 16_384;
/// Records read back per page to build the tree.
const TREE_PAGE: u64 = 65_536;
/// SQLite page cache of the loading connection, in KiB: room for the client index, which
/// every record about a client updates at a random place.
const LOAD_CACHE_KIB: i64 = 2 * 1024 * 1024;

pub struct Sizes {
    pub clients: u64,
    pub records: u64,
}

pub struct Loaded {
    /// Every client's id, by registration number.
    pub clients: Vec<String>,
    /// The registration number of the client whose access report is measured.
    pub report: u64,
    /// Seconds per phase, in order.
    pub phases: Vec<(&'static str, f64)>,
    pub log_size: u64,
    pub checkpoints: u64,
}

/// One request's share: its change, if any, its audit draft, and the client it must resolve.
struct Job {
    mutation: Option<Mutation>,
    draft: AuditDraft,
    resolves: Option<String>,
}

pub async fn load(config: &Config, sizes: &Sizes) -> Result<Loaded> {
    let cipher = CipherRing::load(config.keys.encryption_ring())
        .context("keys.encryption_key and its ring")?;
    let db = open(&config.database).await?.with_sealing(Arc::new(cipher));
    db.migrate().await?;
    ensure!(
        audit::log_size(&db).await? == 0,
        "the database to load into is not empty"
    );
    let policy = Policy::load(&config.policy_file)?;
    let version: Arc<str> = policy.version().into();
    let writer = AuditWriter::spawn(db.clone(), BATCH, Arc::new(Notify::new()));
    let ids: Arc<Vec<String>> = Arc::new(
        (0..sizes.clients)
            .map(|_| uuid::Uuid::new_v4().to_string())
            .collect(),
    );
    let report = sizes.clients / 2 / AGENCY_EVERY * AGENCY_EVERY;
    let mut phases = Vec::new();

    let started = Instant::now();
    let registrations = registrations(config, &ids, &version)?;
    let registered = sizes.clients + sizes.clients.div_ceil(AGENCY_EVERY);
    drive(&writer, "registrations", registered, registrations).await?;
    phases.push(("registrations", started.elapsed().as_secs_f64()));

    let started = Instant::now();
    let activity = sizes.records.saturating_sub(registered);
    let (mix_clients, mix_version) = (ids.clone(), version.clone());
    drive(&writer, "activity", activity, move |i| {
        let mix = Mix {
            clients: &mix_clients,
            report,
            records: activity,
            policy_version: &mix_version,
        };
        Ok(Job {
            mutation: None,
            draft: mix.draft(i),
            resolves: None,
        })
    })
    .await?;
    phases.push(("activity", started.elapsed().as_secs_f64()));
    drop(writer);

    let started = Instant::now();
    let key = keys::private_key(&config.audit.signing_key).context("audit.signing_key")?;
    let signer = NoteSigner::from_pkcs8(&config.audit.log_name, key.secret_der())?;
    let every = config.audit.checkpoint_every_records.max(1);
    let (log_size, checkpoints) = build_tree(&db, &signer, every).await?;
    phases.push(("tree and checkpoints", started.elapsed().as_secs_f64()));
    db.close().await;
    Ok(Loaded {
        clients: Arc::try_unwrap(ids).unwrap_or_else(|ids| (*ids).clone()),
        report,
        phases,
        log_size,
        checkpoints,
    })
}

/// The database with the gateway's settings (WAL, synchronous=FULL, foreign keys), and for
/// SQLite a page cache large enough for the indexes the load updates everywhere at once.
async fn open(config: &DatabaseConfig) -> Result<Db> {
    use sqlx::ConnectOptions;
    use sqlx::sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
    };
    use std::str::FromStr;
    if !config.url.starts_with("sqlite:") {
        return Ok(gateway::store::connect::connect(config).await?);
    }
    let options = SqliteConnectOptions::from_str(&config.url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5))
        .pragma("cache_size", (-LOAD_CACHE_KIB).to_string())
        .disable_statement_logging();
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await?;
    Ok(Db::sqlite(pool))
}

/// Registration `j`: first the OCMW registers every client, then the agency registers the
/// joint ones, each as the register route does it.
fn registrations(
    config: &Config,
    ids: &Arc<Vec<String>>,
    version: &Arc<str>,
) -> Result<impl Fn(u64) -> Result<Job> + Send + Sync + 'static> {
    let keys = &config.keys;
    let pseudonym_key = secrets::read_key32(&keys.pseudonym_key).context("keys.pseudonym_key")?;
    let encryption_key =
        secrets::read_key32(&keys.encryption_key).context("keys.encryption_key")?;
    let pseudonyms = Pseudonymizer::new(&keys.pseudonym_key_id, &pseudonym_key);
    let cipher = FieldCipher::new(&keys.encryption_key_id, &encryption_key);
    let (ids, version) = (ids.clone(), version.clone());
    let clients = ids.len() as u64;
    Ok(move |j: u64| {
        let (n, party, user, purpose) = if j < clients {
            (j, OCMW, format!("sw-{}", j % 400), "socialAssistance")
        } else {
            let n = (j - clients) * AGENCY_EVERY;
            (n, AGENCY, format!("tb-{}", n % 150), "trajectoryGuidance")
        };
        let ssin = Ssin::parse(&ssin(n)).map_err(|_| anyhow!("number {n} is no SSIN"))?;
        let client_id = ids[n as usize].clone();
        let ciphertext = cipher
            .seal(ssin.as_str().as_bytes(), client_id.as_bytes())
            .map_err(|_| anyhow!("sealing a national register number"))?;
        let mutation = Mutation::RegisterClient(Registration {
            pseudonyms: pseudonyms.pseudonyms(&ssin),
            pseudonym_key_id: pseudonyms.key_id().to_owned(),
            new_client_id: client_id.clone(),
            ciphertext,
            encryption_key_id: cipher.key_id().to_owned(),
            party: party.to_owned(),
            party_kind: if party == OCMW {
                "ocmw"
            } else {
                "integrationAgency"
            }
            .to_owned(),
            role: None,
            legal_basis: "publicTask".to_owned(),
            dossier_reference: format!("SCALE-{party}-{n}"),
        });
        let mut draft = mix::draft(
            party,
            &user,
            "caseWorker",
            purpose,
            action::REGISTER_CLIENT,
            &version,
        );
        draft.legal_basis = Some("publicTask".to_owned());
        Ok(Job {
            mutation: Some(mutation),
            draft,
            resolves: Some(client_id),
        })
    })
}

/// Hands `count` jobs to the audit writer from enough concurrent callers to fill its batches,
/// each caller waiting for its record to be durable before the next, as requests do.
async fn drive(
    writer: &AuditWriter,
    label: &'static str,
    count: u64,
    job: impl Fn(u64) -> Result<Job> + Send + Sync + 'static,
) -> Result<()> {
    let job = Arc::new(job);
    let done = Arc::new(AtomicU64::new(0));
    let progress = tokio::spawn(report_progress(label, count, done.clone()));
    let callers = (2 * BATCH as u64).min(count);
    let mut set = tokio::task::JoinSet::new();
    for caller in 0..callers {
        let (writer, job, done) = (writer.clone(), job.clone(), done.clone());
        set.spawn(async move {
            for i in (caller..count).step_by(callers as usize) {
                let Job {
                    mutation,
                    draft,
                    resolves,
                } = job(i)?;
                let applied = writer.submit(mutation, draft).await?;
                ensure!(applied.is_success(), "{label} {i}: {applied:?}");
                if let Some(client) = resolves {
                    ensure!(
                        applied.client_id() == Some(client.as_str()),
                        "{label} {i} resolved {:?}, not {client}",
                        applied.client_id()
                    );
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        });
    }
    let outcome = async {
        while let Some(joined) = set.join_next().await {
            joined.context("a loading task")??;
        }
        Ok(())
    }
    .await;
    progress.abort();
    outcome
}

async fn report_progress(label: &'static str, count: u64, done: Arc<AtomicU64>) {
    let started = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_secs(10)).await;
        let done = done.load(Ordering::Relaxed);
        eprintln!(
            "scale: {label} {done}/{count} ({:.0}/s)",
            done as f64 / started.elapsed().as_secs_f64()
        );
    }
}

/// Hashes the stored records into the Merkle tree and stores its nodes, reading the next page
/// while this one is hashed, and signs a checkpoint every `every` records and at the end, as
/// the tree follower does behind a steady stream of appends. Returns the tree size and the
/// number of checkpoints.
async fn build_tree(db: &Db, signer: &NoteSigner, every: u64) -> Result<(u64, u64)> {
    let page = |from: u64| {
        let db = db.clone();
        tokio::spawn(async move { audit::records(&db, from, TREE_PAGE).await })
    };
    let mut frontier = Frontier::new();
    let mut heads = Vec::new();
    let mut next = page(0);
    loop {
        let rows = next.await.context("reading the log")??;
        if rows.is_empty() {
            break;
        }
        next = page(frontier.size() + rows.len() as u64);
        let mut nodes = Vec::with_capacity(rows.len() * 2);
        for (seq, record) in &rows {
            ensure!(
                *seq as u64 == frontier.size(),
                "the log has a gap at {}",
                frontier.size()
            );
            nodes.extend(frontier.push(leaf_hash(record)).iter());
            if frontier.size().is_multiple_of(every) {
                heads.push((frontier.size(), frontier.root()));
            }
        }
        audit::put_nodes(db, &nodes).await?;
        for (size, root) in heads.drain(..) {
            put_checkpoint(db, signer, size, root).await?;
        }
        if frontier.size() % (10 * TREE_PAGE) < TREE_PAGE {
            eprintln!("scale: tree {} records", frontier.size());
        }
    }
    let size = frontier.size();
    let mut checkpoints = size / every;
    if !size.is_multiple_of(every) {
        put_checkpoint(db, signer, size, frontier.root()).await?;
        checkpoints += 1;
    }
    Ok((size, checkpoints))
}

async fn put_checkpoint(db: &Db, signer: &NoteSigner, size: u64, root: [u8; 32]) -> Result<()> {
    let checkpoint = Checkpoint {
        origin: signer.name().to_owned(),
        size,
        root,
    };
    let note = signer.sign_checkpoint(&checkpoint)?;
    let now = micros(OffsetDateTime::now_utc());
    audit::put_checkpoint(db, size, &root, &note, signer.key_hash(), now).await?;
    Ok(())
}
