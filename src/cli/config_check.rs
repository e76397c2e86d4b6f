use crate::auth::parties::Parties;
use crate::config::Config;
use anyhow::Result;
use std::sync::Arc;

pub fn run(config: Config) -> Result<()> {
    config.validate()?;
    crate::crypto::jwt_ring::install();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let parties = Parties::load(&config, &provider)?;
    crate::http::tls::server_config(&config.server, &parties, provider)?;
    println!("configuration valid: {} parties", parties.all.len());
    Ok(())
}
