//! The requests of each scenario, as a case worker of OCMW Gent with a verified token and a
//! declared purpose: what a real caller sends.

use crate::loadgen::Scenario;
use crate::setup::{PURPOSE, ssin};
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, ETAG, HeaderMap, HeaderValue, IF_MATCH};
use hyper::{Request, StatusCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The headers every authenticated call carries.
#[derive(Clone)]
pub struct Caller {
    authorization: HeaderValue,
    purpose: HeaderValue,
}

impl Caller {
    pub fn new(token: &str) -> Self {
        Self::for_purpose(token, PURPOSE)
    }

    /// A caller declaring `purpose` instead of the case workers' one.
    pub fn for_purpose(token: &str, purpose: &'static str) -> Self {
        Self {
            authorization: HeaderValue::from_str(&format!("Bearer {token}"))
                .expect("a token is a valid header value"),
            purpose: HeaderValue::from_static(purpose),
        }
    }

    /// The `Processing-Purpose` header's value.
    pub fn purpose(&self) -> &str {
        self.purpose.to_str().unwrap_or_default()
    }

    /// The `Authorization` header's value.
    pub fn authorization(&self) -> String {
        self.authorization.to_str().unwrap_or_default().to_owned()
    }

    fn request(&self, method: &str, path: &str) -> hyper::http::request::Builder {
        Request::builder()
            .method(method)
            .uri(path)
            .header(AUTHORIZATION, self.authorization.clone())
            .header("Processing-Purpose", self.purpose.clone())
    }
}

fn empty() -> Full<Bytes> {
    Full::new(Bytes::new())
}

/// A cheap, well-spread pick among `n` for request `seq` of worker `conn`.
fn pick(conn: usize, seq: u64, n: usize) -> usize {
    let mut x = seq ^ ((conn as u64) << 40) ^ 0x9E37_79B9_7F4A_7C15;
    x ^= x >> 33;
    x = x.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    x ^= x >> 33;
    (x % n as u64) as usize
}

/// `GET /v1/whoami`: mutual TLS, the token, the purpose — no database.
pub struct Whoami(pub Caller);

impl Scenario for Whoami {
    type State = ();

    fn request(&self, _conn: usize, _seq: u64, _state: &mut ()) -> Request<Full<Bytes>> {
        self.0
            .request("GET", "/v1/whoami")
            .body(empty())
            .expect("a valid request")
    }
}

/// `GET /v1/clients/{id}` of a random seeded client: link check, policy and consent, the
/// filtered record, and an audit record durable before the answer.
pub struct Read {
    pub caller: Caller,
    pub clients: Arc<Vec<String>>,
}

impl Scenario for Read {
    type State = ();

    fn request(&self, conn: usize, seq: u64, _state: &mut ()) -> Request<Full<Bytes>> {
        let client = &self.clients[pick(conn, seq, self.clients.len())];
        self.caller
            .request("GET", &format!("/v1/clients/{client}"))
            .body(empty())
            .expect("a valid request")
    }
}

/// `PATCH /v1/clients/{id}` with `If-Match`, each worker on a client of its own so that no
/// write is stale: the record, its audit record and its outbox event in one transaction. A
/// worker first reads its client for the ETag, then follows the ETag each write returns.
pub struct Write {
    pub caller: Caller,
    pub clients: Arc<Vec<String>>,
}

#[derive(Default)]
pub struct WriteState {
    etag: Option<HeaderValue>,
}

impl Scenario for Write {
    type State = WriteState;

    fn request(&self, conn: usize, seq: u64, state: &mut WriteState) -> Request<Full<Bytes>> {
        let client = &self.clients[conn % self.clients.len()];
        let path = format!("/v1/clients/{client}");
        match &state.etag {
            None => self.caller.request("GET", &path).body(empty()),
            Some(etag) => self
                .caller
                .request("PATCH", &path)
                .header(IF_MATCH, etag.clone())
                .header(CONTENT_TYPE, "application/merge-patch+json")
                .body(Full::new(Bytes::from(format!(
                    "{{\"increasedAllowance\":{}}}",
                    seq.is_multiple_of(2)
                )))),
        }
        .expect("a valid request")
    }

    fn response(
        &self,
        _conn: usize,
        state: &mut WriteState,
        status: StatusCode,
        headers: &HeaderMap,
        _body: &Bytes,
    ) {
        state.etag = if status.is_success() {
            headers.get(ETAG).cloned()
        } else {
            None
        };
    }
}

/// `POST /v1/clients`: a new client and link per request (pseudonym, encryption, audit).
pub struct Register {
    pub caller: Caller,
    /// Numbers below this were used to seed; registrations take the ones after.
    pub first: u64,
}

impl Scenario for Register {
    type State = ();

    fn request(&self, conn: usize, seq: u64, _state: &mut ()) -> Request<Full<Bytes>> {
        let n = self.first + seq * 1024 + conn as u64;
        let body = format!(
            "{{\"ssin\":\"{}\",\"legalBasis\":\"publicTask\",\"dossierReference\":\"BENCH-{n}\"}}",
            ssin(n)
        );
        self.caller
            .request("POST", "/v1/clients")
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .expect("a valid request")
    }
}

/// `GET /v1/events?after=` following the feed from where the worker left it, while writes
/// go on beside it. Counts the events delivered: a page carries up to 100, each filtered
/// and audited on its own, so events per second is the figure that compares.
pub struct Feed {
    pub caller: Caller,
    pub delivered: AtomicU64,
}

#[derive(Default)]
pub struct FeedState {
    after: u64,
}

impl Scenario for Feed {
    type State = FeedState;

    fn request(&self, _conn: usize, _seq: u64, state: &mut FeedState) -> Request<Full<Bytes>> {
        self.caller
            .request(
                "GET",
                &format!("/v1/events?after={}&limit=100", state.after),
            )
            .body(empty())
            .expect("a valid request")
    }

    fn response(
        &self,
        _conn: usize,
        state: &mut FeedState,
        status: StatusCode,
        _headers: &HeaderMap,
        body: &Bytes,
    ) {
        if status.is_success()
            && let Ok(page) = serde_json::from_slice::<serde_json::Value>(body)
            && let Some(next) = page["next"].as_u64()
        {
            state.after = next;
            let events = page["events"].as_array().map_or(0, Vec::len);
            self.delivered.fetch_add(events as u64, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_spread_over_every_client() {
        let mut hits = [0u32; 10];
        for seq in 0..10_000 {
            hits[pick(3, seq, 10)] += 1;
        }
        assert!(hits.iter().all(|&h| (800..1200).contains(&h)), "{hits:?}");
    }
}
