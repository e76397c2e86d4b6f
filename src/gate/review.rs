//! Searching the audit log for privacy officers (issue: audit review API): what they select,
//! narrowed to what their party may review, a page at a time, the search itself on record.

use super::search::AuditSearch;
use super::{Caller, Gate, GateError, action};
use crate::audit::access_report::{self, AccessReport};
use crate::audit::activity::{self, Activity};
use crate::audit::anomalies::{self, Anomaly, Bounds, EndedLinks};
use crate::audit::selection::Selection;
use crate::auth::principal::Principal;
use crate::domain::client_id::ClientId;
use crate::gate::AuditRecord;
use crate::gate::HashMap;
use crate::gate::Outcome;
use crate::store::audit as stored_audit;
use crate::store::clients;

/// Rows read from the log per round while filling a page.
const WINDOW: i64 = 500;
/// Rows one search reads at most; past that it answers with what it found and a cursor, so
/// that a search over a long log costs each request a bounded amount of work.
const SCAN_BOUND: usize = 20_000;

/// One page of a search.
pub struct ReviewPage {
    pub records: Vec<AuditRecord>,
    /// The cursor for the next page; `None` when the end of the log was reached.
    pub next: Option<i64>,
}

/// What one scan of the log found: the records, where it stopped, and whether it stopped
/// because the log (or the range) ended.
struct Scan {
    records: Vec<AuditRecord>,
    cursor: i64,
    ended: bool,
}

impl Gate {
    /// The records after `after` that match `selection` and `purpose`, and that `who` may
    /// review (see `may_review`), at most `page_size`.
    pub async fn search_audit(
        &self,
        who: &Caller,
        search: &AuditSearch,
    ) -> Result<ReviewPage, GateError> {
        let AuditSearch {
            selection,
            purpose,
            after,
            page_size,
        } = search;
        let scan = self
            .scan(
                who,
                selection,
                *after,
                purpose.as_deref(),
                *page_size,
                SCAN_BOUND,
            )
            .await?;
        let next = (!scan.ended).then_some(scan.cursor);
        let records = scan.records;
        self.audit_review(who, action::SEARCH_AUDIT, None).await?;
        Ok(ReviewPage { records, next })
    }

    /// A client's access report (GDPR art. 15), for an officer of a party linked to the client
    /// (or reviewing the whole log); to any other it reads as an unknown client.
    pub async fn access_report(
        &self,
        who: &Caller,
        client_id: &ClientId,
    ) -> Result<AccessReport, GateError> {
        let client_id = client_id.to_string();
        let party = who.party.id.as_str();
        let mut draft = self.draft(who, action::ACCESS_REPORT);
        draft.client = Some(client_id.clone());
        if !self.parties.review_all.iter().any(|p| p.as_str() == party) {
            draft.legal_basis = Some(self.link_basis(who, &draft, &client_id).await?);
        }
        let records = stored_audit::about_client(&self.db, &client_id)
            .await?
            .iter()
            .map(|bytes| AuditRecord::decode(bytes))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| GateError::Internal("a stored audit record does not decode"))?;
        self.writer.submit(None, draft).await?;
        Ok(access_report::build(&client_id, &records))
    }

    /// The access patterns to look at among the records of `[from, to)` the officer may
    /// review; and whether the whole range was read (a scan reads at most `max_records`).
    pub async fn audit_anomalies(
        &self,
        who: &Caller,
        from_micros: i64,
        to_micros: i64,
        bounds: &Bounds,
        max_records: usize,
    ) -> Result<(Vec<Anomaly>, bool), GateError> {
        let (records, complete) = self
            .scan_reviewable(who, from_micros, to_micros, max_records)
            .await?;
        let mut ended = EndedLinks::new();
        for record in records.iter().filter(|r| r.outcome == Outcome::Denied) {
            let Some(client) = &record.client else {
                continue;
            };
            let key = (client.clone(), record.party.clone());
            if ended.contains_key(&key) {
                continue;
            }
            if let Some(at) = clients::ended_link(&self.db, client, &record.party).await? {
                ended.insert(key, at);
            }
        }
        self.audit_review(who, action::AUDIT_ANOMALIES, None)
            .await?;
        Ok((anomalies::detect(&records, &ended, bounds), complete))
    }

    /// Accesses to clients' data per day, per party and per purpose, among the records of
    /// `[from, to)` the officer may review; and whether the whole range was read.
    pub async fn audit_activity(
        &self,
        who: &Caller,
        from_micros: i64,
        to_micros: i64,
        max_records: usize,
    ) -> Result<(Activity, bool), GateError> {
        let (records, complete) = self
            .scan_reviewable(who, from_micros, to_micros, max_records)
            .await?;
        self.audit_review(who, action::AUDIT_ACTIVITY, None).await?;
        Ok((activity::per_day(&records), complete))
    }

    /// The records of `[from, to)` that `who` may review, reading at most about
    /// `max_records`; and whether the whole range was read.
    async fn scan_reviewable(
        &self,
        who: &Principal,
        from_micros: i64,
        to_micros: i64,
        max_records: usize,
    ) -> Result<(Vec<AuditRecord>, bool), GateError> {
        let selection = Selection {
            from_micros,
            to_micros,
            ..Selection::default()
        };
        let scan = self
            .scan(who, &selection, -1, None, usize::MAX, max_records)
            .await?;
        Ok((scan.records, scan.ended))
    }

    /// The records after `after` that match `selection` (and `purpose`) and that `who` may
    /// review, a window at a time, until `limit` are found, the log ends, or about `bound`
    /// were read.
    async fn scan(
        &self,
        who: &Principal,
        selection: &Selection,
        after: i64,
        purpose: Option<&str>,
        limit: usize,
        bound: usize,
    ) -> Result<Scan, GateError> {
        let mut cursor = after;
        let mut scanned = 0;
        let mut records = Vec::new();
        let mut linked: HashMap<String, bool> = HashMap::new();
        loop {
            let rows = stored_audit::select(&self.db, selection, cursor, WINDOW).await?;
            let exhausted = rows.len() < WINDOW as usize;
            for (seq, bytes) in rows {
                cursor = seq;
                scanned += 1;
                let record = AuditRecord::decode(&bytes)
                    .map_err(|_| GateError::Internal("a stored audit record does not decode"))?;
                if purpose.is_some_and(|p| p != record.purpose) {
                    continue;
                }
                if self.reviewable(who, &record, &mut linked).await? {
                    records.push(record);
                    if records.len() == limit {
                        break;
                    }
                }
            }
            let full = records.len() == limit;
            if full || exhausted || scanned >= bound {
                let ended = !full && exhausted;
                return Ok(Scan {
                    records,
                    cursor,
                    ended,
                });
            }
        }
    }

    /// `may_review`, with the party's links looked up once per client per search.
    pub(super) async fn reviewable(
        &self,
        who: &Principal,
        record: &AuditRecord,
        linked: &mut HashMap<String, bool>,
    ) -> Result<bool, GateError> {
        let party = who.party.id.as_str();
        if record.party == party || self.parties.review_all.iter().any(|p| p.as_str() == party) {
            return Ok(true);
        }
        let Some(client) = &record.client else {
            return Ok(false);
        };
        if let Some(known) = linked.get(client) {
            return Ok(*known);
        }
        let is_linked = clients::active_link(&self.db, client, party)
            .await?
            .is_some();
        linked.insert(client.clone(), is_linked);
        Ok(is_linked)
    }
}
