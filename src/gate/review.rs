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
use crate::domain::competence::LinkRole;
use crate::domain::record::field::{Field, Owner};
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

/// What an officer is shown of one record in audit review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Review {
    /// Not the officer's to review.
    Hidden,
    Shown,
    /// Shown without its client: the officer's own party's refused look-up, whose client id
    /// would tell "not linked" from "unknown" (product brief §2).
    WithoutClient,
}

/// Whether `record` is a refused look-up of a person, whose client id (set when the person is
/// known to the gateway, for the person's access report) must not reach the refused party.
fn refused_lookup(record: &AuditRecord) -> bool {
    record.action == action::LOOKUP_CLIENT && record.outcome == Outcome::Denied
}

/// Whether the record discloses, to a party other than `party`, a field owned by `kind`.
fn discloses_owned(record: &AuditRecord, kind: crate::domain::party::PartyKind) -> bool {
    record.outcome == Outcome::Allowed
        && record
            .fields
            .iter()
            .any(|name| Field::parse(name).is_some_and(|field| field.owner() == Owner::Party(kind)))
}

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
    /// (or reviewing the whole log); to any other it reads as an unknown client. It lists what
    /// the officer's party is responsible for (see `reviewable`) and, for the competent party,
    /// every refused attempt on the client too: being linked does not open other parties'
    /// history.
    pub async fn access_report(
        &self,
        who: &Caller,
        client_id: &ClientId,
    ) -> Result<AccessReport, GateError> {
        let client_id = client_id.to_string();
        let party = who.party.id.as_str();
        let mut draft = self.draft(who, action::ACCESS_REPORT);
        draft.client = Some(client_id.clone());
        let mut competent = false;
        if !self.parties.review_all.iter().any(|p| p.as_str() == party) {
            let link = self.link_basis(who, &draft, &client_id).await?;
            competent = link.link_role() == LinkRole::Competent;
            draft.legal_basis = Some(link.legal_basis);
        }
        let all = stored_audit::about_client(&self.db, &client_id)
            .await?
            .iter()
            .map(|bytes| AuditRecord::decode(bytes))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| GateError::Internal("a stored audit record does not decode"))?;
        let mut responsible = HashMap::new();
        let mut records = Vec::with_capacity(all.len());
        for record in all {
            let attempt = competent && record.outcome == Outcome::Denied;
            if attempt || self.reviewable(who, &record, &mut responsible).await? != Review::Hidden {
                records.push(record);
            }
        }
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
                let mut record = record;
                match self.reviewable(who, &record, &mut linked).await? {
                    Review::Hidden => continue,
                    Review::Shown => {}
                    // Selected by its client, a record shown without it would still tell.
                    Review::WithoutClient if !selection.client.is_empty() => continue,
                    Review::WithoutClient => record.client = None,
                }
                records.push(record);
                if records.len() == limit {
                    break;
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

    /// What `who` may see of `record` in audit review, by responsibility: all of it for the
    /// parties configured to review the whole log; the records of its own party's users (a
    /// refused look-up without its client); and the records in which fields owned by its kind
    /// were disclosed to another party about a client it is or was the competent party for.
    /// Nothing else: being linked to a client does not open other parties' history.
    /// `responsible` caches, per client, whether the party is or was competent.
    pub(super) async fn reviewable(
        &self,
        who: &Principal,
        record: &AuditRecord,
        responsible: &mut HashMap<String, bool>,
    ) -> Result<Review, GateError> {
        let party = who.party.id.as_str();
        if self.parties.review_all.iter().any(|p| p.as_str() == party) {
            return Ok(Review::Shown);
        }
        if record.party == party {
            return Ok(if refused_lookup(record) {
                Review::WithoutClient
            } else {
                Review::Shown
            });
        }
        let Some(client) = &record.client else {
            return Ok(Review::Hidden);
        };
        if !discloses_owned(record, who.party.kind) {
            return Ok(Review::Hidden);
        }
        let competent = match responsible.get(client) {
            Some(known) => *known,
            None => {
                let known = clients::ever_competent(&self.db, client, party).await?;
                responsible.insert(client.clone(), known);
                known
            }
        };
        Ok(if competent {
            Review::Shown
        } else {
            Review::Hidden
        })
    }
}
