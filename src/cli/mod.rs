//! The `gateway` command line: one file per command.

mod audit;
mod config_check;
mod dev_pki;
mod events;
mod keys;
mod migrate;
mod retention;
mod serve;
mod token;

use crate::config::{Config, DEV_CONFIG};
use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "gateway", version, about = "Joint-client exchange gateway")]
pub struct Cli {
    /// Configuration file (layered over config/default.toml, then GATEWAY_ variables).
    #[arg(long, global = true, env = "GATEWAY_CONFIG", default_value = DEV_CONFIG)]
    config: PathBuf,
    /// Overrides database.url: sqlite://file or postgres://…
    #[arg(
        long,
        global = true,
        env = "GATEWAY_DATABASE_URL",
        hide_env_values = true
    )]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
    /// Generate the development PKI (whatever part of it is missing).
    DevPki(dev_pki::Args),
    /// Mint a development token signed with a development party's key.
    Token(token::Args),
    /// Configuration commands.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// The audit log: verify, export, verifier key.
    #[command(subcommand)]
    Audit(audit::Command),
    /// Webhook delivery: the dead letters and their replay.
    #[command(subcommand)]
    Events(events::Command),
    /// Storage limitation: erase what is past its retention period.
    #[command(subcommand)]
    Retention(retention::Command),
    /// The rotatable keys: rotate, status, migrate, retire.
    #[command(subcommand)]
    Keys(keys::Command),
}

#[derive(Subcommand, Debug)]
enum ConfigCommand {
    /// Load and validate the configuration and its key files, then exit.
    Check,
}

impl Cli {
    fn load_config(&self) -> Result<Config> {
        let mut config = Config::load(&self.config)?;
        if let Some(url) = &self.database_url {
            config.database.url = url.clone();
        }
        Ok(config)
    }
}

pub fn run(cli: Cli) -> Result<()> {
    let config = cli.load_config()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve::run(config),
        Command::Migrate => migrate::run(config),
        Command::DevPki(args) => dev_pki::run(&config, args),
        Command::Token(args) => token::run(&config, args),
        Command::Config(ConfigCommand::Check) => config_check::run(config),
        Command::Audit(command) => audit::run(config, command),
        Command::Events(command) => events::run(config, command),
        Command::Retention(command) => retention::run(config, command),
        Command::Keys(command) => keys::run(config, command),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn pki_dir(config: &Config) -> PathBuf {
    config
        .dev
        .pki_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("certs/dev"))
}
