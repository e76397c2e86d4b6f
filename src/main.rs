use clap::Parser;
use gateway::cli::{self, Cli};
use std::process::ExitCode;

fn main() -> ExitCode {
    // reqwest and any other rustls user in the process rely on the process default provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    gateway::crypto::secrets::forbid_dumps();
    match cli::run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("gateway: {error:#}");
            ExitCode::FAILURE
        }
    }
}
