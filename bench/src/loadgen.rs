//! Closed-loop HTTP/1.1 load generator speaking mutual TLS.
//!
//! "Closed loop" means each simulated client waits for a response before sending its next
//! request, so offered load adapts to the server's speed and the measured latency is the
//! latency a real client would see (no coordinated-omission correction is applied, because
//! there is no fixed arrival schedule to omit from).
//!
//! The generator drives hyper's low-level client connection API directly instead of a
//! pooled client: a pool would hide connection churn and reuse policy, and the two modes
//! below exist precisely to control that.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::body::Body as _;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use serde::Serialize;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;

/// Upper bound for recorded latencies. Anything slower is clamped rather than dropped so a
/// pathological outlier still shows up as the maximum instead of silently vanishing.
const MAX_TRACKABLE_LATENCY_US: u64 = 3_600_000_000;

/// Pause after a failed connection attempt. Without it a refused connection fails in
/// microseconds and the worker would spin, burning the CPU it shares with the server.
const RECONNECT_BACKOFF: Duration = Duration::from_millis(50);

/// Default bound on connecting plus one request/response exchange.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How connections are used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Mode {
    /// Each worker keeps one HTTP/1.1 connection open and issues requests back to back,
    /// reconnecting only after a failure. Measures steady-state request handling.
    KeepAlive,
    /// Each request gets a fresh TCP + TLS connection that is closed after the response.
    /// Measures the cost of connection setup, dominated by the mutual-TLS handshake.
    Handshake,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::KeepAlive => "keep-alive",
            Mode::Handshake => "handshake",
        })
    }
}

/// What to run and against whom.
#[derive(Clone)]
pub struct LoadConfig {
    pub addr: SocketAddr,
    /// SNI name, also checked against the server certificate and used for the `Host`
    /// header when a scenario does not set one.
    pub server_name: ServerName<'static>,
    /// Must carry the client certificate the server expects.
    pub tls: Arc<ClientConfig>,
    pub mode: Mode,
    /// Number of concurrent closed-loop workers (and, in keep-alive mode, connections).
    pub connections: usize,
    /// Traffic before measurement starts, so connection setup, allocator growth and server
    /// caches do not pollute the measured window.
    pub warmup: Duration,
    pub duration: Duration,
    /// Bound on connecting plus one exchange; a request exceeding it counts as a timeout.
    pub timeout: Duration,
}

impl LoadConfig {
    /// A config with a one second warm-up, a five second measurement and the default timeout.
    pub fn new(
        addr: SocketAddr,
        server_name: ServerName<'static>,
        tls: Arc<ClientConfig>,
        mode: Mode,
        connections: usize,
    ) -> Self {
        Self {
            addr,
            server_name,
            tls,
            mode,
            connections,
            warmup: Duration::from_secs(1),
            duration: Duration::from_secs(5),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// A workload: what each request looks like and which responses count as success.
///
/// The generator calls [`Scenario::request`] before every request and
/// [`Scenario::response`] after every complete response, always from the same worker task
/// for a given `conn`, so `State` needs no locking. `State` belongs to the worker, not to a
/// TCP connection: it survives reconnects and, in handshake mode, spans the many
/// connections one worker opens. That is what lets a scenario chain requests, e.g. remember
/// the `ETag` of a PATCH response to send as `If-Match` next time.
///
/// Hooks run on the generator's hot path; keep them cheap (no blocking, no heavy parsing
/// unless the scenario needs it).
pub trait Scenario: Send + Sync + 'static {
    /// Per-worker memory, created with `Default` when the worker starts.
    type State: Default + Send + 'static;

    /// Builds the next request. `seq` counts requests of this worker from zero, so
    /// `(conn, seq)` is unique across a run. An origin-form URI (`/path?query`) is expected;
    /// a `Host` header is added when absent.
    fn request(&self, conn: usize, seq: u64, state: &mut Self::State) -> Request<Full<Bytes>>;

    /// Observes a complete response, whatever its status, including during warm-up.
    fn response(
        &self,
        _conn: usize,
        _state: &mut Self::State,
        _status: StatusCode,
        _headers: &HeaderMap,
        _body: &Bytes,
    ) {
    }

    /// Whether a status is a success for this workload; others are counted per status as
    /// errors (their latency is still recorded, as a client would still have waited).
    fn is_expected(&self, status: StatusCode) -> bool {
        status.is_success()
    }
}

/// Failures that prevented a response from arriving.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TransportError {
    /// TCP connect failed.
    Connect,
    /// TLS handshake failed (including certificate rejection detected by the client).
    Tls,
    /// HTTP-level failure: connection reset or closed mid-exchange, malformed response,
    /// or a client certificate rejected by the server after a TLS 1.3 handshake.
    Http,
    /// Connect or exchange exceeded [`LoadConfig::timeout`].
    Timeout,
}

impl TransportError {
    pub fn as_str(self) -> &'static str {
        match self {
            TransportError::Connect => "connect",
            TransportError::Tls => "tls",
            TransportError::Http => "http",
            TransportError::Timeout => "timeout",
        }
    }
}

/// Errors observed during the measured window.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorCounts {
    pub transport: BTreeMap<TransportError, u64>,
    /// Responses whose status the scenario did not expect, keyed by status code.
    pub status: BTreeMap<u16, u64>,
}

impl ErrorCounts {
    pub fn total(&self) -> u64 {
        self.transport.values().chain(self.status.values()).sum()
    }

    pub fn merge(&mut self, other: &ErrorCounts) {
        for (kind, n) in &other.transport {
            *self.transport.entry(*kind).or_default() += n;
        }
        for (code, n) in &other.status {
            *self.status.entry(*code).or_default() += n;
        }
    }

    /// Flat labels for reports: `connect`, `tls`, `http`, `timeout`, `status_<code>`.
    pub fn labeled(&self) -> BTreeMap<String, u64> {
        let transport = self
            .transport
            .iter()
            .map(|(k, n)| (k.as_str().to_owned(), *n));
        let status = self
            .status
            .iter()
            .map(|(code, n)| (format!("status_{code}"), *n));
        transport.chain(status).filter(|(_, n)| *n > 0).collect()
    }
}

/// Outcome of one run. Every counter covers the measured window only.
#[derive(Clone, Debug)]
pub struct LoadResult {
    pub mode: Mode,
    pub connections: usize,
    pub measured: Duration,
    /// Complete responses, including those with unexpected statuses.
    pub requests: u64,
    pub errors: ErrorCounts,
    /// Request and response body bytes; headers and TLS framing are not included.
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub connections_opened: u64,
    /// Per-request latency in microseconds, from request start (connect start in
    /// handshake mode) to the last body byte.
    pub latency_us: Histogram<u64>,
}

impl LoadResult {
    pub fn requests_per_second(&self) -> f64 {
        let secs = self.measured.as_secs_f64();
        if secs > 0.0 {
            self.requests as f64 / secs
        } else {
            0.0
        }
    }
}

impl fmt::Display for LoadResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = &self.latency_us;
        write!(
            f,
            "{} x{}: {:.0} req/s, latency µs p50 {} p90 {} p99 {} p99.9 {} max {}, errors {}",
            self.mode,
            self.connections,
            self.requests_per_second(),
            h.value_at_quantile(0.50),
            h.value_at_quantile(0.90),
            h.value_at_quantile(0.99),
            h.value_at_quantile(0.999),
            h.max(),
            self.errors.total(),
        )
    }
}

/// An empty histogram with the bounds and precision (3 significant digits) used for all
/// latency recording, so histograms from different workers or runs can be merged.
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_TRACKABLE_LATENCY_US, 3)
        .expect("static histogram bounds are valid")
}

/// Runs the workload to completion (warm-up plus measured duration) on the current Tokio
/// runtime. Fails only on invalid configuration or a panicking scenario; transport and
/// HTTP failures are counted in the result instead.
pub async fn run<S: Scenario>(config: &LoadConfig, scenario: Arc<S>) -> Result<LoadResult> {
    ensure!(
        config.connections > 0,
        "at least one connection is required"
    );
    ensure!(
        !config.duration.is_zero(),
        "measured duration must be positive"
    );
    ensure!(!config.timeout.is_zero(), "timeout must be positive");

    let start = Instant::now() + config.warmup;
    let shared = Arc::new(Shared {
        addr: config.addr,
        server_name: config.server_name.clone(),
        host: host_header(&config.server_name, config.addr.port())?,
        connector: TlsConnector::from(config.tls.clone()),
        mode: config.mode,
        timeout: config.timeout,
        window: Window {
            start,
            end: start + config.duration,
        },
    });

    let mut workers = tokio::task::JoinSet::new();
    for conn in 0..config.connections {
        let worker = Worker {
            conn,
            shared: shared.clone(),
            scenario: scenario.clone(),
            state: S::State::default(),
            seq: 0,
            tally: Tally::new(),
        };
        workers.spawn(worker.run());
    }

    let mut total = Tally::new();
    while let Some(joined) = workers.join_next().await {
        total.merge(&joined.context("load worker panicked")?)?;
    }

    Ok(LoadResult {
        mode: config.mode,
        connections: config.connections,
        measured: config.duration,
        requests: total.requests,
        errors: total.errors,
        bytes_sent: total.bytes_sent,
        bytes_received: total.bytes_received,
        connections_opened: total.connections_opened,
        latency_us: total.latency_us,
    })
}

/// `Host` value for requests that do not set one: the SNI name, with the port unless it is
/// the HTTPS default.
fn host_header(server_name: &ServerName<'_>, port: u16) -> Result<HeaderValue> {
    let name = server_name.to_str();
    let host = if name.contains(':') {
        format!("[{name}]")
    } else {
        name.into_owned()
    };
    let host = if port == 443 {
        host
    } else {
        format!("{host}:{port}")
    };
    HeaderValue::try_from(host).context("server name is not a valid Host header")
}

struct Shared {
    addr: SocketAddr,
    server_name: ServerName<'static>,
    host: HeaderValue,
    connector: TlsConnector,
    mode: Mode,
    timeout: Duration,
    window: Window,
}

#[derive(Clone, Copy)]
struct Window {
    start: Instant,
    end: Instant,
}

impl Window {
    fn contains(&self, at: Instant) -> bool {
        self.start <= at && at < self.end
    }
}

/// Why an attempt produced no response.
enum Failure {
    Error(TransportError),
    /// The measured window ended while waiting; not the server's fault, not counted.
    WindowClosed,
}

/// Counters of one worker, merged at the end so the hot path never contends on shared state.
struct Tally {
    requests: u64,
    bytes_sent: u64,
    bytes_received: u64,
    connections_opened: u64,
    errors: ErrorCounts,
    latency_us: Histogram<u64>,
}

impl Tally {
    fn new() -> Self {
        Self {
            requests: 0,
            bytes_sent: 0,
            bytes_received: 0,
            connections_opened: 0,
            errors: ErrorCounts::default(),
            latency_us: latency_histogram(),
        }
    }

    fn merge(&mut self, other: &Tally) -> Result<()> {
        self.requests += other.requests;
        self.bytes_sent += other.bytes_sent;
        self.bytes_received += other.bytes_received;
        self.connections_opened += other.connections_opened;
        self.errors.merge(&other.errors);
        self.latency_us
            .add(&other.latency_us)
            .context("merging latency histograms")
    }
}

/// Awaits `fut` until `deadline`. Running out of time is a timeout error, unless the
/// deadline was the end of the measured window.
async fn within<F: Future>(
    deadline: Instant,
    window_end: Instant,
    fut: F,
) -> Result<F::Output, Failure> {
    tokio::time::timeout_at(deadline, fut).await.map_err(|_| {
        if deadline >= window_end {
            Failure::WindowClosed
        } else {
            Failure::Error(TransportError::Timeout)
        }
    })
}

struct Worker<S: Scenario> {
    conn: usize,
    shared: Arc<Shared>,
    scenario: Arc<S>,
    state: S::State,
    seq: u64,
    tally: Tally,
}

impl<S: Scenario> Worker<S> {
    async fn run(mut self) -> Tally {
        match self.shared.mode {
            Mode::KeepAlive => self.run_keep_alive().await,
            Mode::Handshake => self.run_handshake().await,
        }
        self.tally
    }

    async fn run_keep_alive(&mut self) {
        let end = self.shared.window.end;
        while Instant::now() < end {
            let mut sender = match self.open(self.deadline(Instant::now())).await {
                Ok(sender) => sender,
                Err(Failure::WindowClosed) => return,
                Err(Failure::Error(kind)) => {
                    self.count_error(kind);
                    self.back_off().await;
                    continue;
                }
            };
            let mut served_any = false;
            loop {
                if sender.ready().await.is_err() {
                    // A used connection closed while idle (e.g. a per-connection request
                    // limit) lost no request, so it is not an error. A fresh one closing at
                    // once is: typically the server rejecting the client certificate after
                    // a TLS 1.3 handshake the client already considered complete.
                    if !served_any {
                        self.count_error(TransportError::Http);
                        self.back_off().await;
                    }
                    break;
                }
                let began = Instant::now();
                if began >= end {
                    return;
                }
                match self
                    .exchange(&mut sender, began, self.deadline(began), false)
                    .await
                {
                    Ok(()) => served_any = true,
                    Err(Failure::WindowClosed) => return,
                    Err(Failure::Error(kind)) => {
                        self.count_error(kind);
                        break;
                    }
                }
            }
        }
    }

    async fn run_handshake(&mut self) {
        while Instant::now() < self.shared.window.end {
            let began = Instant::now();
            let deadline = self.deadline(began);
            let outcome = match self.open(deadline).await {
                Ok(mut sender) => self.exchange(&mut sender, began, deadline, true).await,
                Err(failure) => Err(failure),
            };
            match outcome {
                Ok(()) => {}
                Err(Failure::WindowClosed) => return,
                Err(Failure::Error(kind)) => {
                    self.count_error(kind);
                    if matches!(kind, TransportError::Connect | TransportError::Tls) {
                        self.back_off().await;
                    }
                }
            }
        }
    }

    /// The earlier of the per-attempt timeout and the end of the measured window, so no
    /// worker outlives the run by more than a scheduling tick.
    fn deadline(&self, began: Instant) -> Instant {
        (began + self.shared.timeout).min(self.shared.window.end)
    }

    async fn open(&mut self, deadline: Instant) -> Result<SendRequest<Full<Bytes>>, Failure> {
        let shared = self.shared.clone();
        let tcp = within(deadline, shared.window.end, TcpStream::connect(shared.addr))
            .await?
            .map_err(|_| Failure::Error(TransportError::Connect))?;
        // Requests are small and latency-bound; Nagle would add delayed-ACK stalls.
        let _ = tcp.set_nodelay(true);
        let handshake = shared.connector.connect(shared.server_name.clone(), tcp);
        let tls = within(deadline, shared.window.end, handshake)
            .await?
            .map_err(|_| Failure::Error(TransportError::Tls))?;
        let (sender, connection) = within(
            deadline,
            shared.window.end,
            http1::handshake(TokioIo::new(tls)),
        )
        .await?
        .map_err(|_| Failure::Error(TransportError::Http))?;
        // The connection task ends, closing the socket, once `sender` is dropped.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        if shared.window.contains(Instant::now()) {
            self.tally.connections_opened += 1;
        }
        Ok(sender)
    }

    /// Sends one scenario request and waits for the full response body.
    async fn exchange(
        &mut self,
        sender: &mut SendRequest<Full<Bytes>>,
        began: Instant,
        deadline: Instant,
        close_after: bool,
    ) -> Result<(), Failure> {
        let seq = self.seq;
        self.seq += 1;
        let mut request = self.scenario.request(self.conn, seq, &mut self.state);
        let headers = request.headers_mut();
        if !headers.contains_key(header::HOST) {
            headers.insert(header::HOST, self.shared.host.clone());
        }
        if close_after {
            headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        let sent_bytes = request.body().size_hint().exact().unwrap_or(0);

        let round_trip = async {
            sender.ready().await?;
            let (head, body) = sender.send_request(request).await?.into_parts();
            let body = body.collect().await?.to_bytes();
            Ok::<_, hyper::Error>((head, body))
        };
        let (head, body) = within(deadline, self.shared.window.end, round_trip)
            .await?
            .map_err(|_| Failure::Error(TransportError::Http))?;
        let done = Instant::now();

        self.scenario.response(
            self.conn,
            &mut self.state,
            head.status,
            &head.headers,
            &body,
        );
        if self.shared.window.contains(done) {
            let tally = &mut self.tally;
            tally.requests += 1;
            tally.bytes_sent += sent_bytes;
            tally.bytes_received += body.len() as u64;
            let micros = u64::try_from((done - began).as_micros()).unwrap_or(u64::MAX);
            tally.latency_us.saturating_record(micros.max(1));
            if !self.scenario.is_expected(head.status) {
                *tally.errors.status.entry(head.status.as_u16()).or_default() += 1;
            }
        }
        Ok(())
    }

    fn count_error(&mut self, kind: TransportError) {
        if self.shared.window.contains(Instant::now()) {
            *self.tally.errors.transport.entry(kind).or_default() += 1;
        }
    }

    fn back_off(&self) -> impl Future<Output = ()> + Send + 'static {
        let until = (Instant::now() + RECONNECT_BACKOFF).min(self.shared.window.end);
        tokio::time::sleep_until(until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_header_omits_default_port_and_brackets_ipv6() {
        let dns = ServerName::try_from("gateway.example").unwrap();
        assert_eq!(host_header(&dns, 443).unwrap(), "gateway.example");
        assert_eq!(host_header(&dns, 8443).unwrap(), "gateway.example:8443");
        let v6 = ServerName::try_from("::1").unwrap();
        assert_eq!(host_header(&v6, 8443).unwrap(), "[::1]:8443");
    }

    #[test]
    fn error_labels_are_flat_and_skip_zeroes() {
        let mut a = ErrorCounts::default();
        a.transport.insert(TransportError::Timeout, 2);
        a.status.insert(503, 1);
        let mut b = ErrorCounts::default();
        b.status.insert(503, 4);
        b.transport.insert(TransportError::Tls, 0);
        a.merge(&b);
        assert_eq!(a.total(), 7);
        let labels: Vec<_> = a.labeled().into_iter().collect();
        assert_eq!(
            labels,
            vec![("status_503".to_owned(), 5), ("timeout".to_owned(), 2)]
        );
    }
}
