//! `gateway keys rotate|status|migrate|retire`: the gateway's rotatable keys. A rotation adds a
//! key and makes it current (serving instances pick it up within seconds and move what older
//! keys sealed); the status says how many stored values each key still holds; the migration
//! moves them now; a key is retired only when it holds nothing.

use super::runtime;
use crate::config::Config;
use crate::crypto::keyring::{CipherRing, PseudonymRing, Ring, RingKind};
use crate::gate::keys;
use crate::gate::log::signing::{self, LogKeys};
use crate::store;
use anyhow::{Context, Result, bail};
use std::sync::Arc;

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Kind {
    /// The field-encryption key (AES-256-GCM) of the personal text at rest.
    Encryption,
    /// The pseudonym key (HMAC-SHA256) by which a person's number finds their client.
    Pseudonym,
    /// The Ed25519 key that signs webhook deliveries: until the older key is retired, each
    /// delivery carries a signature by both.
    WebhookSigning,
    /// The Ed25519 key that signs the audit log's checkpoints: the new key signs from the next
    /// checkpoint; the earlier keys stay to verify what they signed.
    AuditSigning,
}

impl Kind {
    const fn kind(self) -> RingKind {
        match self {
            Kind::Encryption => RingKind::Encryption,
            Kind::Pseudonym => RingKind::Pseudonym,
            Kind::WebhookSigning => RingKind::WebhookSigning,
            Kind::AuditSigning => RingKind::AuditSigning,
        }
    }

    fn ring(self, config: &Config) -> Result<Ring> {
        match self {
            Kind::Encryption => Ok(config.keys.encryption_ring()),
            Kind::Pseudonym => Ok(config.keys.pseudonym_ring()),
            Kind::WebhookSigning => config
                .webhook_signing_ring()
                .context("webhooks.signing_key is not configured"),
            Kind::AuditSigning => Ok(config.audit_signing_ring()),
        }
    }
}

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Add a new key of this kind and make it current.
    Rotate { kind: Kind },
    /// Each key of each kind, and how many stored values it still holds.
    Status,
    /// Seal again under the current key whatever an older key (or none) sealed, and make again
    /// the pseudonyms an older key made (once its rotation is 30 s old).
    Migrate,
    /// Take a key that holds nothing any more out of the ring.
    Retire { kind: Kind, id: String },
}

pub fn run(config: Config, command: Command) -> Result<()> {
    config.validate()?;
    let ring = config.keys.encryption_ring();
    if let Command::Rotate { kind } = command {
        return rotate(config, kind);
    }
    if let Command::Retire {
        kind: Kind::AuditSigning,
        ..
    } = command
    {
        bail!(
            "audit-signing keys are not retired: the checkpoints a key signed must stay \
             verifiable (rotate to stop a key from signing)"
        );
    }
    runtime()?.block_on(async {
        let cipher = Arc::new(CipherRing::load(ring.clone()).context("keys.encryption_key")?);
        let pseudonyms =
            PseudonymRing::load(config.keys.pseudonym_ring()).context("keys.pseudonym_key")?;
        let db = store::connect::connect(&config.database)
            .await
            .context("database.url: cannot open the database")?
            .with_sealing(cipher.clone());
        let outcome = match command {
            Command::Rotate { .. } => unreachable!("handled above"),
            Command::Status => {
                status(&db, &cipher, &pseudonyms).await?;
                let log_keys =
                    LogKeys::of_ring(&config.audit_signing_ring(), &config.audit.log_name)
                        .context("audit.signing_key and its ring")?;
                for key in signing::listing(&db, &log_keys).await? {
                    let id = key.id.unwrap_or_else(|| "unknown key".to_owned());
                    let what = match key.signed {
                        Some((first, last, n)) => {
                            format!("signed tree sizes {first} to {last} ({n} checkpoints)")
                        }
                        None => "signed no checkpoint yet".to_owned(),
                    };
                    let role = if key.current { "current" } else { "earlier" };
                    println!("audit-signing: {role} {id}: {what}");
                }
                if let Some(ring) = config.webhook_signing_ring() {
                    let ids: Vec<String> = ring.in_use()?.into_iter().map(|(id, _)| id).collect();
                    println!(
                        "webhook-signing: current {}; every delivery signed by {}",
                        ids[0],
                        ids.join(", ")
                    );
                }
                Ok(())
            }
            Command::Migrate => {
                let moved = keys::migrate(&db, keys::MIGRATION_PAGE).await?;
                println!("encryption: {moved} stored value(s) sealed again under the current key");
                while !keys::rotation_settled(&pseudonyms) {
                    // Instances still on the old key would miss a client whose pseudonym moved.
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
                let made =
                    keys::migrate_pseudonyms(&db, &cipher, &pseudonyms.get(), keys::MIGRATION_PAGE)
                        .await?;
                println!("pseudonym: {made} pseudonym(s) made again under the current key");
                status(&db, &cipher, &pseudonyms).await
            }
            Command::Retire { kind, id } => {
                let ring = kind.ring(&config)?;
                match kind {
                    Kind::Encryption => keys::retire(&db, &ring, &cipher, &id).await?,
                    Kind::Pseudonym => keys::retire_pseudonym(&db, &ring, &id).await?,
                    // Nothing stored depends on a signing key: receivers are told beforehand.
                    Kind::WebhookSigning => ring.retire(&id)?,
                    Kind::AuditSigning => unreachable!("refused above"),
                }
                println!("{}: key {id} retired", kind.kind().as_str());
                Ok(())
            }
        };
        db.close().await;
        outcome
    })
}

/// Adds a key of `kind` and makes it current, then puts the rotation on record in the audit log
/// (for the checkpoint key, with its verifier key: under checkpoints the earlier key signs).
fn rotate(config: Config, kind: Kind) -> Result<()> {
    let ring = kind.ring(&config)?;
    let id = ring.rotate(time::OffsetDateTime::now_utc())?;
    let next = match kind {
        Kind::WebhookSigning => {
            "deliveries are signed with it and with the older keys until those are retired \
             (`gateway events public-key` lists them for the receivers)"
        }
        Kind::Encryption | Kind::Pseudonym => {
            "serving instances take it within seconds and move what older keys made \
             (or run `gateway keys migrate`)"
        }
        Kind::AuditSigning => {
            "serving instances sign their next checkpoint with it; the earlier keys still verify \
             (`gateway audit verifier-key` lists them for auditors and witnesses)"
        }
    };
    println!(
        "{}: added key {id}, now current; {next}",
        kind.kind().as_str()
    );
    let verifier_key = match kind {
        Kind::AuditSigning => {
            let keys = LogKeys::of_ring(&ring, &config.audit.log_name)?;
            Some(keys.signer().verifier_key())
        }
        _ => None,
    };
    runtime()?.block_on(async {
        let prepared = crate::server::prepare(config).await?;
        let recorded = prepared
            .state
            .gate
            .record_key_rotation(kind.kind().as_str(), &id, verifier_key.as_deref())
            .await;
        prepared.close().await;
        recorded.context("the rotation is made but could not be put on record in the audit log")
    })?;
    println!("the rotation is on record in the audit log (action rotateKey)");
    Ok(())
}

/// Per key: `  <id>: <n> value(s) <where>`, the current key first.
async fn status(db: &store::Db, cipher: &CipherRing, pseudonyms: &PseudonymRing) -> Result<()> {
    let held = cipher.get();
    let ids: Vec<&str> = held.key_ids().collect();
    println!("encryption: current {}; keys {}", ids[0], ids.join(", "));
    let census = keys::census(db, cipher).await?;
    for id in ids.iter().copied().chain(["clear", "unknown key"]) {
        let values: i64 = census
            .iter()
            .filter(|c| c.key_id == id)
            .map(|c| c.values)
            .sum();
        if values == 0 && (id == "clear" || id == "unknown key") {
            continue;
        }
        let columns: Vec<String> = census
            .iter()
            .filter(|c| c.key_id == id)
            .map(|c| format!("{}.{} {}", c.table, c.column, c.values))
            .collect();
        println!("  {id}: {values} value(s) {}", columns.join(", "));
    }
    let held = pseudonyms.get();
    let ids: Vec<&str> = held.key_ids().collect();
    println!("pseudonym: current {}; keys {}", ids[0], ids.join(", "));
    let census = store::clients::pseudonym_census(db).await?;
    for id in ids.iter().copied() {
        let clients: i64 = census.iter().filter(|(k, _)| k == id).map(|(_, n)| n).sum();
        println!("  {id}: {clients} value(s) clients.ssin_pseudonym {clients}");
    }
    for (id, clients) in census.iter().filter(|(k, _)| !ids.contains(&k.as_str())) {
        println!("  unknown key {id}: {clients} value(s) clients.ssin_pseudonym {clients}");
    }
    Ok(())
}
