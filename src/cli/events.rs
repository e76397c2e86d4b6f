use super::runtime;
use crate::audit::record::{format_time, from_micros, micros};
use crate::config::Config;
use crate::store::connect::connect;
use crate::store::webhooks;
use anyhow::{Context, Result};

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Print the public key(s) receivers verify webhook signatures with (`whpk_…`).
    PublicKey,
    /// List the webhook events that exhausted their attempts (or wait behind one of the same
    /// client's) and are not replayed yet.
    DeadLetters,
    /// Have the running gateway deliver the dead letters again, in order: those of one
    /// subscription (`<party>/<purpose>`), or all.
    Replay {
        #[arg(long)]
        subscription: Option<String>,
    },
}

pub fn run(config: Config, command: Command) -> Result<()> {
    config.validate()?;
    match command {
        Command::PublicKey => public_keys(&config),
        Command::DeadLetters => runtime()?.block_on(async {
            let db = connect(&config.database).await?;
            let outcome = list(&db).await;
            db.close().await;
            outcome
        }),
        Command::Replay { subscription } => runtime()?.block_on(async {
            let db = connect(&config.database).await?;
            let now = micros(time::OffsetDateTime::now_utc());
            let asked = webhooks::request_replay(&db, subscription.as_deref(), now).await;
            db.close().await;
            println!("{} dead letter(s) queued for replay", asked?);
            Ok(())
        }),
    }
}

fn public_keys(config: &Config) -> Result<()> {
    let ring = config
        .webhook_signing_ring()
        .context("webhooks.signing_key is not configured")?;
    let signer = crate::notify::webhooks::signer_of(&ring)?;
    // Every key that signs deliveries now, the current first (two during a rotation).
    for public in signer.public_keys() {
        println!("{public}");
    }
    Ok(())
}

async fn list(db: &crate::store::Db) -> Result<()> {
    let letters = webhooks::unreplayed(db, None).await?;
    println!("subscription\tposition\teventId\tattempts\tdeadAt\treplayRequested\tlastError");
    for l in &letters {
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
            l.subscription,
            l.position,
            l.event_id,
            l.attempts,
            format_time(from_micros(l.dead_at)),
            if l.replay_requested_at.is_some() {
                "yes"
            } else {
                "no"
            },
            l.last_error
        );
    }
    println!("{} dead letter(s)", letters.len());
    Ok(())
}
