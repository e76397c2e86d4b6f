use super::{pki_dir, runtime};
use crate::config::Config;
use crate::server::{self, Listeners};
use crate::{dev_pki, telemetry};
use anyhow::Result;

pub fn run(config: Config) -> Result<()> {
    telemetry::init_logging();
    if config.dev.generate_pki {
        let parties: Vec<&str> = config.parties.iter().map(|p| p.id.as_str()).collect();
        let generated = dev_pki::ensure(&pki_dir(&config), &parties)?;
        if !generated.files.is_empty() {
            tracing::info!(
                files = generated.files.len(),
                "generated the development PKI"
            );
        }
    }
    runtime()?.block_on(async move {
        let shutdown = server::shutdown_signal()?;
        let listeners = Listeners::bind(&config).await?;
        let banner = banner(&config);
        let prepared = server::prepare(config).await?;
        println!("{banner}");
        server::run(prepared, listeners, shutdown).await
    })
}

fn banner(config: &Config) -> String {
    let api = config.server.listen;
    let ops = config.server.ops_listen;
    let Some(party) = config.parties.first() else {
        return format!("gateway listening on https://{api} (operations on http://{ops})");
    };
    let dir = pki_dir(config);
    let dir = dir.display();
    let exe = std::env::current_exe()
        .ok()
        .and_then(|path| {
            let cwd = std::env::current_dir().ok()?;
            path.strip_prefix(cwd)
                .ok()
                .map(|p| format!("./{}", p.display()))
        })
        .unwrap_or_else(|| "gateway".to_owned());
    let host = if api.ip().is_loopback() {
        "localhost".to_owned()
    } else {
        api.ip().to_string()
    };
    format!(
        "\njoint-client gateway listening on https://{api} (mutual TLS), operations on http://{ops}\n\n\
         Mint a development token and call the API as {id}:\n\n\
         \x20 TOKEN=$({exe} token --party {id} --role caseWorker --sub demo-user)\n\
         \x20 curl --cacert {dir}/ca.crt --cert {dir}/{id}.crt --key {dir}/{id}.key \\\n\
         \x20      -H \"Authorization: Bearer $TOKEN\" -H \"Processing-Purpose: trajectoryGuidance\" \\\n\
         \x20      https://{host}:{port}/v1/whoami\n",
        id = party.id,
        port = api.port(),
    )
}
