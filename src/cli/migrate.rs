use super::runtime;
use crate::config::Config;
use crate::store::connect::connect;
use anyhow::Result;

pub fn run(config: Config) -> Result<()> {
    config.validate()?;
    runtime()?.block_on(async {
        let db = connect(&config.database).await?;
        db.migrate().await?;
        println!("migrations applied ({})", db.backend());
        db.close().await;
        Ok(())
    })
}
