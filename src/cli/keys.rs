//! `gateway keys rotate|status|migrate|retire`: the gateway's rotatable keys. A rotation adds a
//! key and makes it current (serving instances pick it up within seconds and move what older
//! keys sealed); the status says how many stored values each key still holds; the migration
//! moves them now; a key is retired only when it holds nothing.

use super::runtime;
use crate::config::Config;
use crate::crypto::keyring::{CipherRing, PseudonymRing, Ring, RingKind};
use crate::gate::keys;
use crate::store;
use anyhow::{Context, Result};
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
}

impl Kind {
    const fn kind(self) -> RingKind {
        match self {
            Kind::Encryption => RingKind::Encryption,
            Kind::Pseudonym => RingKind::Pseudonym,
            Kind::WebhookSigning => RingKind::WebhookSigning,
        }
    }

    fn ring(self, config: &Config) -> Result<Ring> {
        match self {
            Kind::Encryption | Kind::Pseudonym => Ok(config.keys.ring(self.kind())),
            Kind::WebhookSigning => config
                .webhook_signing_ring()
                .context("webhooks.signing_key is not configured"),
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
    let ring = config.keys.ring(RingKind::Encryption);
    if let Command::Rotate { kind } = command {
        let id = kind
            .ring(&config)?
            .rotate(time::OffsetDateTime::now_utc())?;
        let next = match kind {
            Kind::WebhookSigning => {
                "deliveries are signed with it and with the older keys until those are retired \
                 (`gateway events public-key` lists them for the receivers)"
            }
            Kind::Encryption | Kind::Pseudonym => {
                "serving instances take it within seconds and move what older keys made \
                 (or run `gateway keys migrate`)"
            }
        };
        println!(
            "{}: added key {id}, now current; {next}",
            kind.kind().as_str()
        );
        return Ok(());
    }
    runtime()?.block_on(async {
        let cipher = Arc::new(CipherRing::load(ring.clone()).context("keys.encryption_key")?);
        let pseudonyms = PseudonymRing::load(config.keys.ring(RingKind::Pseudonym))
            .context("keys.pseudonym_key")?;
        let db = store::connect::connect(&config.database)
            .await
            .context("database.url: cannot open the database")?
            .with_sealing(cipher.clone());
        let outcome = match command {
            Command::Rotate { .. } => Ok(()),
            Command::Status => {
                status(&db, &cipher, &pseudonyms).await?;
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
                }
                println!("{}: key {id} retired", kind.kind().as_str());
                Ok(())
            }
        };
        db.close().await;
        outcome
    })
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
