use super::runtime;
use crate::audit::record::{format_time, from_micros, micros};
use crate::config::Config;
use crate::store::connect::connect;
use crate::store::webhooks;
use anyhow::Result;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
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
    runtime()?.block_on(async {
        let db = connect(&config.database).await?;
        let outcome = match command {
            Command::DeadLetters => list(&db).await,
            Command::Replay { subscription } => {
                let now = micros(time::OffsetDateTime::now_utc());
                let asked = webhooks::request_replay(&db, subscription.as_deref(), now).await?;
                println!("{asked} dead letter(s) queued for replay");
                Ok(())
            }
        };
        db.close().await;
        outcome
    })
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
