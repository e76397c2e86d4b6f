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
    #[command(subcommand)]
    action: Option<Action>,
}

#[derive(clap::Subcommand, Debug)]
enum Action {
    /// Revoke a development certificate (`<name>.crt`: a party's, or a person's such as
    /// `ocmw-gent-privacy-officer`): it joins the CA's revocation list, which a running
    /// gateway reloads within seconds.
    Revoke { name: String },
}

pub fn run(config: &Config, args: Args) -> Result<()> {
    let dir = args.dir.unwrap_or_else(|| pki_dir(config));
    if let Some(Action::Revoke { name }) = args.action {
        dev_pki::revoke(&dir, &name)?;
        println!("{}: {name} revoked", dir.join(dev_pki::CA_CRL).display());
        return Ok(());
    }
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
