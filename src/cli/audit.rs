use super::runtime;
use crate::audit::checkpoint::NoteVerifier;
use crate::config::Config;
use crate::gate::log::anchor::{Anchor, open_checkpoint};
use crate::gate::log::export::{self, Format};
use crate::gate::log::signing::{self, ListedKey, LogKeys};
use crate::gate::log::verify::{self, Anchored};
use crate::gate::log::witness::{self, Witnesses};
use crate::store::connect::connect;
use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Recompute the tree from the database, check every record and checkpoint signature, and
    /// name the first record that does not match.
    Verify {
        /// Verify against this note verifier key instead of the keys of the signing ring
        /// (`audit.signing_key` and the keys rotation added). May be repeated: a log whose key
        /// was rotated is verified with its current and earlier keys.
        #[arg(long)]
        verifier_key: Vec<String>,
        /// A checkpoint held outside the database (a signed note, cosignatures allowed): the
        /// log must contain it and extend it. May be repeated.
        #[arg(long, value_name = "FILE")]
        checkpoint: Vec<PathBuf>,
        /// Require a checkpoint of the log cosigned by at least N distinct configured
        /// witnesses (parties[].witness_key).
        #[arg(long, value_name = "N", default_value_t = 0)]
        witnesses: usize,
        /// Fail when nothing outside the database anchors the log.
        #[arg(long)]
        strict: bool,
    },
    /// Write the whole log to stdout.
    Export {
        #[arg(long, value_enum)]
        format: Format,
    },
    /// Print the note verifier keys of the checkpoints, the current first, each with the tree
    /// sizes it signed.
    VerifierKey,
}

/// The keys of the signing ring.
fn log_keys(config: &Config) -> Result<LogKeys> {
    LogKeys::of_ring(&config.audit_signing_ring(), &config.audit.log_name)
        .context("audit.signing_key and its ring")
}

pub fn run(config: Config, command: Command) -> Result<()> {
    config.validate()?;
    match command {
        Command::VerifierKey => runtime()?.block_on(async {
            let keys = log_keys(&config)?;
            let db = connect(&config.database).await?;
            let listed = signing::listing(&db, &keys).await;
            db.close().await;
            for key in listed? {
                println!("{}", listing_line(&key));
            }
            Ok(())
        }),
        Command::Verify {
            verifier_key,
            checkpoint,
            witnesses,
            strict,
        } => {
            let verifiers = if verifier_key.is_empty() {
                log_keys(&config)?.verifiers().to_vec()
            } else {
                (verifier_key.iter())
                    .map(|text| NoteVerifier::parse(text).context("--verifier-key"))
                    .collect::<Result<_>>()?
            };
            let options = VerifyOptions {
                checkpoints: checkpoint,
                witnesses,
                strict,
            };
            runtime()?.block_on(verify_command(&config, &verifiers, options))
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

struct VerifyOptions {
    checkpoints: Vec<PathBuf>,
    witnesses: usize,
    strict: bool,
}

/// The checkpoints held outside the database: the files given, and this gateway's state file
/// when it is there.
/// A time in microseconds, as RFC 3339.
fn reduced_time(micros: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
        .map(crate::audit::record::format_time)
        .unwrap_or_else(|_| micros.to_string())
}

/// `<verifier key>\t<what it is>`: the key first, alone in its column, for scripts.
fn listing_line(key: &ListedKey) -> String {
    let what = match (key.current, key.signed) {
        (true, None) => "current; has signed no checkpoint yet".to_owned(),
        (current, Some((first, last, n))) => format!(
            "{}signed tree sizes {first} to {last} ({n} checkpoints)",
            if current {
                "current; "
            } else {
                "earlier key; "
            }
        ),
        (false, None) => "earlier key; signed no checkpoint".to_owned(),
    };
    match (&key.verifier_key, &key.id) {
        (Some(verifier_key), Some(id)) => format!("{verifier_key}\t{what}; ring id {id}"),
        _ => format!(
            "unknown key {:08x}\t{what}; not in the signing ring",
            u32::from_be_bytes(key.key_hash)
        ),
    }
}

fn anchors(
    config: &Config,
    verifiers: &[NoteVerifier],
    files: &[PathBuf],
) -> Result<Vec<Anchored>> {
    let origin = &config.audit.log_name;
    let mut anchors = Vec::new();
    for file in files {
        let note = std::fs::read_to_string(file)
            .with_context(|| format!("--checkpoint {}", file.display()))?;
        let checkpoint = open_checkpoint(&note, verifiers, origin)
            .map_err(|problem| anyhow::anyhow!("--checkpoint {}: {problem}", file.display()))?;
        anchors.push(Anchored {
            label: format!("checkpoint {}", file.display()),
            checkpoint,
        });
    }
    let state = Anchor::new(config.audit.state_file(), verifiers.to_vec(), origin);
    if let Some(checkpoint) = state.load()? {
        anchors.push(Anchored {
            label: format!("the state file {}", state.path().display()),
            checkpoint,
        });
    }
    Ok(anchors)
}

async fn verify_command(
    config: &Config,
    verifiers: &[NoteVerifier],
    options: VerifyOptions,
) -> Result<()> {
    let mut anchors = anchors(config, verifiers, &options.checkpoints)?;
    // The witness keys are read only when a quorum is asked for.
    let witnesses = match options.witnesses {
        0 => Witnesses::default(),
        _ => Witnesses::load(config).map_err(anyhow::Error::msg)?,
    };
    if options.witnesses > witnesses.len() {
        bail!(
            "--witnesses {}: only {} witnesses are configured",
            options.witnesses,
            witnesses.len()
        );
    }
    if anchors.is_empty() && options.witnesses == 0 {
        eprintln!(
            "warning: no anchor outside the database (no --checkpoint, no state file at {}, no \
             --witnesses): this shows the log is consistent with itself, not that it is the \
             history the gateway signed",
            config.audit.state_file().display()
        );
        if options.strict {
            bail!("audit log verification FAILED: --strict and nothing anchors the log");
        }
    }
    let db = connect(&config.database).await?;
    let started = std::time::Instant::now();
    let outcome =
        verify::verify_anchored(&db, verifiers, &config.audit.log_name, &mut anchors).await;
    let quorum = match (&outcome, options.witnesses) {
        (Ok(_), needed) if needed > 0 => Some(witness::quorum(&db, &witnesses).await),
        _ => None,
    };
    db.close().await;
    let verified = match outcome {
        Ok(verified) => verified,
        Err(error) => bail!("audit log verification FAILED: {error}"),
    };
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "audit log verified: {} records, {} checkpoints ({:.0} records/s)",
        verified.records,
        verified.checkpoints,
        verified.records as f64 / seconds.max(1e-9)
    );
    if verified.reduced > 0 {
        println!(
            "records 0 to {} are reduced to their leaf hashes (appended before {})",
            verified.reduced - 1,
            reduced_time(verified.reduced_before)
        );
        // The log's own retention ran early if its cutoff is later than the period allows.
        let period = i64::from(config.retention.audit_log_days) * 86_400_000_000;
        let latest = crate::audit::record::micros(time::OffsetDateTime::now_utc()) - period;
        if verified.reduced_before > latest {
            bail!(
                "audit log verification FAILED: records were reduced before \
                 retention.audit_log_days ({} days) had passed",
                config.retention.audit_log_days
            );
        }
    }
    for anchor in &anchors {
        println!(
            "extends {} (tree size {})",
            anchor.label, anchor.checkpoint.size
        );
    }
    match quorum {
        None => Ok(()),
        Some(Err(problem)) => bail!("audit log verification FAILED: {problem}"),
        Some(Ok(best)) if best.witnesses >= options.witnesses => {
            println!(
                "witnessed: the checkpoint at tree size {} is cosigned by {} of {} witnesses",
                best.tree_size,
                best.witnesses,
                witnesses.len()
            );
            Ok(())
        }
        Some(Ok(best)) => bail!(
            "audit log verification FAILED: no checkpoint is cosigned by {} witnesses (at most {}, at tree size {})",
            options.witnesses,
            best.witnesses,
            best.tree_size
        ),
    }
}
