//! The mutual-TLS listener: rustls on ring, client certificate required, each connection
//! identified once and its peer attached to every request it carries.

use crate::auth::parties::Parties;
use crate::auth::peer::{self, Peer};
use crate::auth::revocation::RevocationLists;
use crate::config::{LimitsConfig, ServerConfig as ServerSettings};
use crate::crypto::keys;
use anyhow::{Context, Result};
use axum::Router;
use axum::extract::Request;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// The TLS configuration of the API listener, and the revocation lists its client
/// certificate verifier checks (reloaded in place, see `auth::revocation`).
pub fn server_config(
    settings: &ServerSettings,
    parties: &Parties,
    provider: Arc<CryptoProvider>,
) -> Result<(Arc<ServerConfig>, Arc<RevocationLists>)> {
    let certs = keys::certificates(&settings.tls_certificate).context("server.tls_certificate")?;
    let key = keys::private_key(&settings.tls_key).context("server.tls_key")?;
    let revocation = Arc::new(
        RevocationLists::load(
            settings.client_crls.clone(),
            parties.roots.clone(),
            provider.clone(),
        )
        .context("server.client_crls")?,
    );
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(revocation.clone())
        .with_single_cert(certs, key)
        .context("server.tls_key does not match server.tls_certificate")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok((Arc::new(config), revocation))
}

/// Serves `app` on `listener` until `shutdown` completes, then lets open requests finish.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<ServerConfig>,
    parties: Arc<Parties>,
    app: Router,
    limits: LimitsConfig,
    shutdown: impl Future<Output = ()>,
) {
    let acceptor = TlsAcceptor::from(tls);
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let builder = http_builder(&limits);
    let handshake_timeout = Duration::from_millis(limits.handshake_timeout_ms);
    tokio::pin!(shutdown);
    loop {
        // Waiting for a permit before accepting leaves excess connections in the kernel's
        // backlog instead of holding them half-open here.
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = tcp.set_nodelay(true);
        let (acceptor, parties, app, builder) = (
            acceptor.clone(),
            parties.clone(),
            app.clone(),
            builder.clone(),
        );
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _permit = permit;
            let stream = match tokio::time::timeout(handshake_timeout, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(error)) => {
                    // The only place a refused client certificate becomes visible.
                    tracing::info!(%remote, %error, "TLS handshake refused");
                    metrics::counter!("gateway_tls_handshake_failures_total", "reason" => "refused").increment(1);
                    return;
                }
                Err(_) => {
                    tracing::info!(%remote, "TLS handshake timed out");
                    metrics::counter!("gateway_tls_handshake_failures_total", "reason" => "timeout").increment(1);
                    return;
                }
            };
            let chain = stream.get_ref().1.peer_certificates().unwrap_or_default();
            let Some(peer) = peer::identify(chain, &parties) else {
                return;
            };
            let service =
                TowerToHyperService::new(app.map_request(move |mut request: Request<_>| {
                    request.extensions_mut().insert::<Peer>(peer.clone());
                    request.map(axum::body::Body::new)
                }));
            let connection = builder
                .serve_connection(TokioIo::new(stream), service)
                .into_owned();
            if let Err(error) = watcher.watch(connection).await {
                tracing::debug!(%remote, error = %error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(10)) => {
            tracing::warn!("connections still open after 10 s of shutdown; closing them");
        }
    }
}

/// Header fields one HTTP/1.1 request may carry (HTTP/2 is bounded by the header list size).
pub const MAX_HEADERS: usize = 100;
/// Requests one HTTP/2 connection may have in flight at once.
pub const MAX_CONCURRENT_STREAMS: u32 = 256;
/// Streams a client may reset before they are served before the connection is closed (the
/// HTTP/2 "rapid reset" flood, CVE-2023-44487).
pub const MAX_PENDING_RESETS: usize = 20;
/// An idle HTTP/2 connection is pinged this often, and closed when a ping goes unanswered
/// this long.
const H2_PING_EVERY: Duration = Duration::from_secs(30);
const H2_PING_TIMEOUT: Duration = Duration::from_secs(20);

fn http_builder(limits: &LimitsConfig) -> Arc<auto::Builder<TokioExecutor>> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_millis(limits.header_read_timeout_ms))
        .max_buf_size(limits.max_header_bytes.max(8192))
        .max_headers(MAX_HEADERS)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(limits.max_header_bytes as u32)
        .max_concurrent_streams(MAX_CONCURRENT_STREAMS)
        .max_pending_accept_reset_streams(MAX_PENDING_RESETS)
        .keep_alive_interval(Some(H2_PING_EVERY))
        .keep_alive_timeout(H2_PING_TIMEOUT);
    Arc::new(builder)
}
