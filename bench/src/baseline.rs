//! The "ceiling" server: mutual TLS plus HTTP/1.1 and nothing else.
//!
//! It answers every request with the same small JSON document, so its throughput is the
//! best any gateway could reach on this machine with this TLS stack. Gateway results are
//! reported as a ratio to it, which separates the gateway's own overhead (routing, auth,
//! database) from the unavoidable cost of TLS and HTTP parsing.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::ServerConfig;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

/// Bound on the TLS handshake, so a client that connects and stalls cannot pin a task.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Bound on receiving a request's headers once a connection is open.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long in-flight connections get to finish after shutdown is requested.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Pause after a failed `accept` (typically file-descriptor exhaustion), so the loop does
/// not spin while the condition persists.
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(50);

/// Response served to every request: about 300 bytes shaped like a typical API resource,
/// so body size and content type match what the gateway returns.
pub const RESPONSE_BODY: &str = concat!(
    r#"{"id":"7f3c9a2e-5b1d-4c8e-9f6a-2d4b8e1c0a57","clientId":"c-000042","#,
    r#""status":"active","displayName":"Baseline Fixture","#,
    r#""scopes":["orders:read","orders:write","profile:read"],"#,
    r#""createdAt":"2025-01-15T09:30:00Z","updatedAt":"2025-06-02T17:45:12Z","#,
    r#""version":7,"quota":{"limit":1000,"remaining":998}}"#
);

/// Accepts mutual-TLS connections on `listener` and serves HTTP/1.1 with keep-alive until
/// `shutdown` becomes `true` (or its sender is dropped).
///
/// Client authentication is whatever `tls` enforces: pass a config with a client
/// certificate verifier to reproduce the gateway's handshake cost. On shutdown it stops
/// accepting, lets open connections finish their current request (up to a few seconds),
/// then returns.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<ServerConfig>,
    mut shutdown: watch::Receiver<bool>,
) {
    let acceptor = TlsAcceptor::from(tls);
    let mut connections = JoinSet::new();
    loop {
        if *shutdown.borrow_and_update() {
            break;
        }
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _peer)) => {
                    connections.spawn(serve_connection(acceptor.clone(), tcp, shutdown.clone()));
                }
                Err(_) => tokio::time::sleep(ACCEPT_ERROR_BACKOFF).await,
            },
            changed = shutdown.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            // Reap finished connection tasks so the set does not grow without bound.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        connections.shutdown().await;
    }
}

async fn serve_connection(
    acceptor: TlsAcceptor,
    tcp: tokio::net::TcpStream,
    mut shutdown: watch::Receiver<bool>,
) {
    // Responses are small; Nagle would delay them waiting for ACKs.
    let _ = tcp.set_nodelay(true);
    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => tls,
        // Rejected or stalled handshakes are the client's problem; nothing to serve.
        Ok(Err(_)) | Err(_) => return,
    };
    let connection = http1::Builder::new()
        .keep_alive(true)
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .serve_connection(TokioIo::new(tls), service_fn(respond));
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => return,
        _ = wait_for_shutdown(&mut shutdown) => {}
    }
    // Finish the in-flight request, if any, then close.
    connection.as_mut().graceful_shutdown();
    let _ = connection.await;
}

async fn wait_for_shutdown(shutdown: &mut watch::Receiver<bool>) {
    // A dropped sender also means shutdown.
    let _ = shutdown.wait_for(|stop| *stop).await;
}

async fn respond(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    // Read the body like a real handler would; an unread body would also force hyper to
    // close the connection instead of keeping it alive.
    let _ = request.into_body().collect().await;
    let mut response = Response::new(Full::new(Bytes::from_static(RESPONSE_BODY.as_bytes())));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_body_is_realistic_json() {
        let value: serde_json::Value = serde_json::from_str(RESPONSE_BODY).unwrap();
        assert!(value.is_object());
        assert!(
            (250..=350).contains(&RESPONSE_BODY.len()),
            "{} bytes",
            RESPONSE_BODY.len()
        );
    }
}
