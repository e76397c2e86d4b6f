use super::runtime;
use crate::audit::checkpoint::{NoteSigner, NoteVerifier};
use crate::config::Config;
use crate::crypto::keys;
use crate::gate::log::export::{self, Format};
use crate::gate::log::verify;
use crate::store::connect::connect;
use anyhow::{Context, Result, bail};
use std::io::Write;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Recompute the tree from the database, check every record and checkpoint signature, and
    /// name the first record that does not match.
    Verify {
        /// Verify against this note verifier key instead of the configured signing key's.
        #[arg(long)]
        verifier_key: Option<String>,
    },
    /// Write the whole log to stdout.
    Export {
        #[arg(long, value_enum)]
        format: Format,
    },
    /// Print the note verifier key of the checkpoint signing key.
    VerifierKey,
}

fn signer(config: &Config) -> Result<NoteSigner> {
    let key = keys::private_key(&config.audit.signing_key).context("audit.signing_key")?;
    NoteSigner::from_pkcs8(&config.audit.log_name, key.secret_der()).context("audit.signing_key")
}

pub fn run(config: Config, command: Command) -> Result<()> {
    config.validate()?;
    match command {
        Command::VerifierKey => {
            println!("{}", signer(&config)?.verifier_key());
            Ok(())
        }
        Command::Verify { verifier_key } => {
            let verifier = match verifier_key {
                Some(text) => NoteVerifier::parse(&text).context("--verifier-key")?,
                None => signer(&config)?.verifier(),
            };
            runtime()?.block_on(async {
                let db = connect(&config.database).await?;
                let started = std::time::Instant::now();
                let outcome = verify::verify(&db, &verifier, &config.audit.log_name).await;
                db.close().await;
                match outcome {
                    Ok(verified) => {
                        let seconds = started.elapsed().as_secs_f64();
                        println!(
                            "audit log verified: {} records, {} checkpoints ({:.0} records/s)",
                            verified.records,
                            verified.checkpoints,
                            verified.records as f64 / seconds.max(1e-9)
                        );
                        Ok(())
                    }
                    Err(error) => bail!("audit log verification FAILED: {error}"),
                }
            })
        }
        Command::Export { format } => runtime()?.block_on(async {
            let db = connect(&config.database).await?;
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let outcome = export::export(&db, format, &mut out).await;
            out.flush()?;
            db.close().await;
            outcome?;
            Ok(())
        }),
    }
}
