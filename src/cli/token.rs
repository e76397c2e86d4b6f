use super::pki_dir;
use crate::config::Config;
use crate::dev_token::{self, TokenRequest};
use anyhow::Result;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The party whose development key signs the token.
    #[arg(long)]
    party: String,
    /// A role (caseWorker, system, privacyOfficer, coordinator); repeat for several.
    #[arg(long = "role", required = true)]
    roles: Vec<String>,
    /// The person or system acting (`sub`).
    #[arg(long)]
    sub: String,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 900)]
    ttl: u64,
    /// Bind the token to this client certificate (RFC 8705).
    #[arg(long)]
    bind_certificate: Option<PathBuf>,
}

pub fn run(config: &Config, args: Args) -> Result<()> {
    let token = dev_token::mint(
        config,
        &pki_dir(config),
        &TokenRequest {
            party: &args.party,
            roles: &args.roles,
            user: &args.sub,
            ttl_seconds: args.ttl,
            bind_certificate: args.bind_certificate.as_deref(),
        },
    )?;
    println!("{token}");
    Ok(())
}
