//! The configuration file: any text read as `Config::load` reads a deployment file (over
//! `config/default.toml`), then `Config::validate` and the derived values the start-up uses.
//! The text is also read alone, without the defaults.

#![no_main]

use figment::Figment;
use figment::providers::{Format, Toml};
use gateway::config::Config;
use libfuzzer_sys::fuzz_target;

const DEFAULTS: &str = include_str!("../../config/default.toml");

fn check(config: &Config) {
    let _ = config.validate();
    let _ = config.is_development();
    let _ = config.retention.storage_limits();
    let _ = config.audit.state_file();
    for party in &config.parties {
        let _ = config.witness_name(party);
        for webhook in &party.webhooks {
            let _ = webhook.subscription(&party.id);
        }
    }
    // What is logged at start-up must not fail either.
    let _ = format!("{config:?}");
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let over_defaults = Figment::new()
        .merge(Toml::string(DEFAULTS))
        .merge(Toml::string(text))
        .extract::<Config>();
    if let Ok(config) = over_defaults {
        check(&config);
    }
    if let Ok(config) = Figment::from(Toml::string(text)).extract::<Config>() {
        check(&config);
    }
});
