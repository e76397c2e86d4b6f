//! Registering the clients the read and write scenarios work on, through the API itself, so
//! that the database holds what production would: pseudonyms, ciphertexts, links and audit
//! records.

use crate::scenarios::Caller;
use crate::setup::{PURPOSE, SERVER_NAME, ssin};
use anyhow::{Context, Result, bail};
use std::net::SocketAddr;
use std::sync::Arc;

/// Concurrent registrations while seeding.
const WORKERS: u64 = 32;

/// Registers `count` new clients for the bench's party; their ids, in no particular order.
pub async fn register(
    addr: SocketAddr,
    tls: &Arc<rustls::ClientConfig>,
    caller: &Caller,
    count: u64,
) -> Result<Vec<String>> {
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured((**tls).clone())
        .resolve(SERVER_NAME, addr)
        .build()?;
    let url = format!("https://{SERVER_NAME}:{}/v1/clients", addr.port());
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..WORKERS {
        let (client, url, authorization) = (client.clone(), url.clone(), caller.authorization());
        workers.spawn(async move {
            let mut ids = Vec::new();
            for n in (worker..count).step_by(WORKERS as usize) {
                let body = serde_json::json!({
                    "ssin": ssin(n),
                    "legalBasis": "publicTask",
                    "dossierReference": format!("BENCH-{n}"),
                });
                let response = client
                    .post(&url)
                    .header("authorization", &authorization)
                    .header("processing-purpose", PURPOSE)
                    .json(&body)
                    .send()
                    .await?;
                if !response.status().is_success() {
                    bail!("registering a client answered {}", response.status());
                }
                let answer: serde_json::Value = response.json().await?;
                let id = answer["clientId"].as_str().context("a client id")?;
                ids.push(id.to_owned());
            }
            Ok(ids)
        });
    }
    let mut all = Vec::with_capacity(count as usize);
    while let Some(ids) = workers.join_next().await {
        all.extend(ids??);
    }
    Ok(all)
}
