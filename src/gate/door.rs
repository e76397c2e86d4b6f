//! Refusals at the door: a request whose party mutual TLS identified, refused before it
//! became a caller (a missing, bad, expired or foreign token, a purpose its roles may not
//! use, a rate limit). Each is on the log as action `authenticate`, outcome `denied`, with the
//! reason; the user and purpose the request claimed are left out, since they were never
//! verified.
//!
//! A flood of bad requests must not become an equal flood of permanent records. Refusals are
//! coalesced per party and reason over an interval: the first of an interval is recorded at
//! once, the others are counted and recorded as one record with `count` when the interval
//! ends. So a party and reason add at most two records per interval, whatever the flood.

use crate::audit::record::AuditDraft;
use crate::store::audit_writer::AuditWriter;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// The action of a refusal at the door.
pub const AUTHENTICATE: &str = "authenticate";
/// The interval over which one party's refusals for one reason are coalesced.
pub const INTERVAL: Duration = Duration::from_secs(10);

/// One interval of refusals of one party for one reason.
struct Window {
    /// Tells this interval from a later one of the same party and reason.
    id: u64,
    until: Instant,
    /// Refusals after the first, not yet on the log, and the last one's request id.
    suppressed: u64,
    last_request: String,
}

#[derive(Clone)]
pub struct Door {
    writer: AuditWriter,
    policy_version: String,
    windows: Arc<Mutex<HashMap<(String, &'static str), Window>>>,
    interval: Duration,
}

impl Door {
    pub fn new(writer: AuditWriter, policy_version: String) -> Self {
        Self {
            writer,
            policy_version,
            windows: Arc::default(),
            interval: INTERVAL,
        }
    }

    /// Puts a refusal of `party`'s request on the log, coalesced (see the module). Waits for
    /// the first record of an interval to be durable; the refusal is answered whatever the
    /// log says, since it discloses nothing.
    pub async fn refused(&self, party: &str, reason: &'static str, request_id: &str) {
        let now = Instant::now();
        let first = {
            let mut windows = self.windows.lock().expect("the door's windows");
            let key = (party.to_owned(), reason);
            match windows.get_mut(&key) {
                Some(window) if now < window.until => {
                    window.suppressed += 1;
                    window.last_request = request_id.to_owned();
                    if window.suppressed == 1 {
                        self.close_later(key, window.id, window.until);
                    }
                    false
                }
                _ => {
                    let id = windows.get(&key).map_or(0, |w| w.id + 1);
                    windows.insert(
                        key,
                        Window {
                            id,
                            until: now + self.interval,
                            suppressed: 0,
                            last_request: String::new(),
                        },
                    );
                    true
                }
            }
        };
        if first {
            let draft = self.draft(party, reason, request_id, None);
            if self.writer.submit(None, draft).await.is_err() {
                tracing::warn!(party, reason, "a refusal at the door could not be recorded");
            }
        }
    }

    /// At the end of an interval, one record for the refusals counted in it.
    fn close_later(&self, key: (String, &'static str), id: u64, until: Instant) {
        let door = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep_until(until).await;
            let counted = {
                let mut windows = door.windows.lock().expect("the door's windows");
                match windows.get_mut(&key) {
                    Some(window) if window.id == id && window.suppressed > 0 => {
                        let counted = (window.suppressed, std::mem::take(&mut window.last_request));
                        window.suppressed = 0;
                        Some(counted)
                    }
                    _ => None,
                }
            };
            if let Some((count, request_id)) = counted {
                let draft = door.draft(&key.0, key.1, &request_id, Some(count));
                if door.writer.submit(None, draft).await.is_err() {
                    tracing::warn!(
                        party = key.0,
                        reason = key.1,
                        count,
                        "refusals at the door could not be recorded"
                    );
                }
            }
        });
    }

    fn draft(
        &self,
        party: &str,
        reason: &'static str,
        request_id: &str,
        count: Option<u64>,
    ) -> AuditDraft {
        let mut draft = AuditDraft::unattended(
            party,
            "",
            "",
            AUTHENTICATE,
            request_id.to_owned(),
            &self.policy_version,
        )
        .deny(reason);
        draft.count = count;
        draft
    }
}
