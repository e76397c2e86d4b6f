use crate::auth::parties::Parties;
use crate::config::Config;
use crate::gate::log::witness::Witnesses;
use anyhow::Result;
use std::sync::Arc;

pub fn run(config: Config) -> Result<()> {
    config.validate()?;
    crate::crypto::jwt_ring::install();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let parties = Parties::load(&config, &provider)?;
    crate::http::tls::server_config(&config.server, &parties, provider)?;
    let witnesses = Witnesses::load(&config).map_err(anyhow::Error::msg)?;
    println!(
        "configuration valid: {} parties, {} witnesses",
        parties.all.len(),
        witnesses.len()
    );
    Ok(())
}
