use super::pki_dir;
use crate::config::Config;
use crate::dev_pki;
use anyhow::Result;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where to write the files (default: dev.pki_dir, or certs/dev).
    #[arg(long)]
    dir: Option<PathBuf>,
}

pub fn run(config: &Config, args: Args) -> Result<()> {
    let dir = args.dir.unwrap_or_else(|| pki_dir(config));
    let parties: Vec<&str> = config.parties.iter().map(|p| p.id.as_str()).collect();
    let generated = dev_pki::ensure(&dir, &parties)?;
    if generated.files.is_empty() {
        println!(
            "{}: the development PKI is complete; nothing generated",
            dir.display()
        );
    } else {
        println!(
            "{}: generated {}",
            dir.display(),
            generated.files.join(", ")
        );
    }
    Ok(())
}
