use super::runtime;
use crate::config::Config;
use crate::store::connect::connect;
use anyhow::Result;

/// Applies the migrations as the owner role (`database.migrate_url`, else `database.url`):
/// the tables, and the triggers that bind every other role, belong to it.
pub fn run(config: Config) -> Result<()> {
    config.validate()?;
    let mut database = config.database.clone();
    if let Some(url) = database.migrate_url.take() {
        database.url = url;
    }
    database.require_least_privilege = false;
    runtime()?.block_on(async {
        let db = connect(&database).await?;
        db.migrate().await?;
        println!("migrations applied ({})", db.backend());
        db.close().await;
        Ok(())
    })
}
