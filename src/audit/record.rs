//! One audit record and its canonical encoding, which is the Merkle leaf (RFC 9162 §2.1.1:
//! leaf hash = SHA-256(0x00 ‖ encoding)).
//!
//! The encoding is UTF-8 JSON with exactly these members in exactly this order, no
//! insignificant white space, absent values as `null`, empty lists as `[]`:
//!
//! ```text
//! {"v":1,"seq":…,"time":"2026-11-24T22:15:03.123456Z","party":…,"user":…,"roles":[…],
//!  "purpose":…,"legalBasis":…,"client":…,"action":…,"fields":[…],"outcome":"allowed"|"denied",
//!  "reason":…,"requestId":…,"relatedTraceId":…,"policyVersion":…}
//! ```
//!
//! `time` is RFC 3339 UTC with microseconds. `client` is the gateway's opaque client id, never
//! a national register number; `fields` holds field names, never values. A verifier needs only
//! the bytes: it hashes them as they are stored.
//!
//! Version 2 adds two members, present only when a record needs them, so that one record can
//! stand for what would otherwise be many (a request's cost on the log stays constant):
//! `clients`, after `client`, lists the clients one answer showed (a feed page, a listing;
//! `client` is then `null`), and `count`, after `reason`, says how many refusals at the door
//! one record stands for. A record without either is encoded as version 1, byte for byte as
//! before, so records written before version 2 existed verify unchanged.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The encoding of a record that needs neither `clients` nor `count`.
pub const ENCODING_VERSION: u8 = 1;
/// The encoding of a record that names several clients or stands for several refusals.
pub const ENCODING_VERSION_2: u8 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    Allowed,
    Denied,
}

impl Outcome {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Denied => "denied",
        }
    }
}

/// The party the gateway's own records name.
pub const GATEWAY_PARTY: &str = "gateway";

/// What a request contributes; the writer adds the sequence number and the time at commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditDraft {
    pub party: String,
    pub user: String,
    pub roles: Vec<String>,
    pub purpose: String,
    pub legal_basis: Option<String>,
    pub client: Option<String>,
    /// The clients one answer showed, when it showed several (`client` is then `None`).
    pub clients: Vec<String>,
    pub action: &'static str,
    pub fields: Vec<String>,
    pub outcome: Outcome,
    pub reason: Option<String>,
    /// How many refusals this record stands for, when it stands for several.
    pub count: Option<u64>,
    pub request_id: String,
    pub related_trace_id: Option<String>,
    pub policy_version: String,
}

impl AuditDraft {
    /// A record of what the gateway itself does, on its own or by an operator's command (an
    /// erasure, a key rotation): party `gateway`, role `system`.
    pub fn by_the_gateway(
        user: &str,
        purpose: &str,
        action: &'static str,
        policy_version: &str,
    ) -> Self {
        let mut draft = Self::unattended(
            GATEWAY_PARTY,
            user,
            purpose,
            action,
            uuid::Uuid::now_v7().to_string(),
            policy_version,
        );
        draft.roles = vec!["system".to_owned()];
        draft
    }

    /// A record of what the gateway itself does or decides before any caller is known (a
    /// refusal at the door, an erasure): no user's claims, no client, no fields yet.
    pub fn unattended(
        party: &str,
        user: &str,
        purpose: &str,
        action: &'static str,
        request_id: String,
        policy_version: &str,
    ) -> Self {
        Self {
            party: party.to_owned(),
            user: user.to_owned(),
            roles: Vec::new(),
            purpose: purpose.to_owned(),
            legal_basis: None,
            client: None,
            clients: Vec::new(),
            action,
            fields: Vec::new(),
            outcome: Outcome::Allowed,
            reason: None,
            count: None,
            request_id,
            related_trace_id: None,
            policy_version: policy_version.to_owned(),
        }
    }

    pub fn deny(mut self, reason: &str) -> Self {
        self.outcome = Outcome::Denied;
        self.reason = Some(reason.to_owned());
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuditRecord {
    pub v: u8,
    pub seq: u64,
    pub time: String,
    pub party: String,
    pub user: String,
    pub roles: Vec<String>,
    pub purpose: String,
    pub legal_basis: Option<String>,
    pub client: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<String>,
    pub action: String,
    pub fields: Vec<String>,
    pub outcome: Outcome,
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    pub request_id: String,
    pub related_trace_id: Option<String>,
    pub policy_version: String,
}

impl AuditRecord {
    pub fn new(draft: AuditDraft, seq: u64, time: OffsetDateTime) -> Self {
        let v2 = !draft.clients.is_empty() || draft.count.is_some();
        Self {
            v: if v2 {
                ENCODING_VERSION_2
            } else {
                ENCODING_VERSION
            },
            seq,
            time: format_time(time),
            party: draft.party,
            user: draft.user,
            roles: draft.roles,
            purpose: draft.purpose,
            legal_basis: draft.legal_basis,
            client: draft.client,
            clients: draft.clients,
            action: draft.action.to_owned(),
            fields: draft.fields,
            outcome: draft.outcome,
            reason: draft.reason,
            count: draft.count,
            request_id: draft.request_id,
            related_trace_id: draft.related_trace_id,
            policy_version: draft.policy_version,
        }
    }

    /// The canonical bytes (the Merkle leaf).
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an audit record always serialises")
    }

    /// Parses canonical bytes, refusing anything that would not re-encode to the same bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let record: Self = serde_json::from_slice(bytes).map_err(|_| DecodeError::NotARecord)?;
        let v2 = !record.clients.is_empty() || record.count.is_some();
        match record.v {
            ENCODING_VERSION if !v2 => {}
            ENCODING_VERSION_2 if v2 => {}
            ENCODING_VERSION | ENCODING_VERSION_2 => return Err(DecodeError::NotCanonical),
            other => return Err(DecodeError::UnknownVersion(other)),
        }
        if record.encode() != bytes {
            return Err(DecodeError::NotCanonical);
        }
        Ok(record)
    }

    /// Whether the record is about `client`, alone or among others.
    pub fn names(&self, client: &str) -> bool {
        self.client.as_deref() == Some(client) || self.clients.iter().any(|c| c == client)
    }

    /// Whether the answer recorded here disclosed clients' data: fields of a record (a read,
    /// or a write that answered with the record), or a page that showed several clients.
    pub fn discloses_data(&self) -> bool {
        self.outcome == Outcome::Allowed && (!self.fields.is_empty() || !self.clients.is_empty())
    }

    /// Every client the record is about.
    pub fn all_clients(&self) -> impl Iterator<Item = &str> {
        self.client
            .iter()
            .chain(self.clients.iter())
            .map(String::as_str)
    }

    /// Microseconds since the epoch, as stored in the `recorded_at` column.
    pub fn time_micros(&self) -> Option<i64> {
        OffsetDateTime::parse(&self.time, &Rfc3339)
            .ok()
            .map(|t| (t.unix_timestamp_nanos() / 1000) as i64)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("not an audit record")]
    NotARecord,
    #[error("unknown encoding version {0}")]
    UnknownVersion(u8),
    #[error("not in canonical form")]
    NotCanonical,
}

/// RFC 3339 UTC with exactly six fractional digits, so that equal times encode equally.
pub fn format_time(time: OffsetDateTime) -> String {
    let t = time.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

pub fn micros(time: OffsetDateTime) -> i64 {
    (time.unix_timestamp_nanos() / 1000) as i64
}

/// The inverse of [`micros`], for the microsecond columns.
pub fn from_micros(micros: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn draft() -> AuditDraft {
        AuditDraft {
            party: "ocmw-gent".into(),
            user: "sw-1".into(),
            roles: vec!["caseWorker".into()],
            purpose: "trajectoryGuidance".into(),
            legal_basis: Some("publicTask".into()),
            client: Some("0d9a7c1e-0000-4000-8000-000000000001".into()),
            clients: vec![],
            action: "lookupClient",
            fields: vec![],
            outcome: Outcome::Allowed,
            reason: None,
            count: None,
            request_id: "3f1d2a9e-0000-4000-8000-000000000002".into(),
            related_trace_id: None,
            policy_version: "p".into(),
        }
    }

    #[test]
    fn the_encoding_is_the_documented_member_order() {
        let record = AuditRecord::new(draft(), 7, datetime!(2026-11-24 22:15:03.1234567 UTC));
        let text = String::from_utf8(record.encode()).unwrap();
        assert_eq!(
            text,
            r#"{"v":1,"seq":7,"time":"2026-11-24T22:15:03.123456Z","party":"ocmw-gent","user":"sw-1","roles":["caseWorker"],"purpose":"trajectoryGuidance","legalBasis":"publicTask","client":"0d9a7c1e-0000-4000-8000-000000000001","action":"lookupClient","fields":[],"outcome":"allowed","reason":null,"requestId":"3f1d2a9e-0000-4000-8000-000000000002","relatedTraceId":null,"policyVersion":"p"}"#
        );
    }

    #[test]
    fn a_record_round_trips_and_a_reformatted_one_is_refused() {
        let record = AuditRecord::new(draft().deny("notLinked"), 1, OffsetDateTime::UNIX_EPOCH);
        let bytes = record.encode();
        assert_eq!(AuditRecord::decode(&bytes).unwrap(), record);
        let spaced = String::from_utf8(bytes).unwrap().replacen(':', ": ", 1);
        assert_eq!(
            AuditRecord::decode(spaced.as_bytes()),
            Err(DecodeError::NotCanonical)
        );
        assert_eq!(AuditRecord::decode(b"{}"), Err(DecodeError::NotARecord));
    }

    #[test]
    fn a_record_naming_several_clients_or_refusals_is_version_2_and_round_trips() {
        let mut page = draft();
        page.client = None;
        page.clients = vec!["c-1".into(), "c-2".into()];
        let record = AuditRecord::new(page, 3, OffsetDateTime::UNIX_EPOCH);
        let text = String::from_utf8(record.encode()).unwrap();
        assert!(text.starts_with(r#"{"v":2,"#), "{text}");
        assert!(text.contains(r#""client":null,"clients":["c-1","c-2"],"action""#));
        assert!(!text.contains("count"));
        assert_eq!(AuditRecord::decode(text.as_bytes()).unwrap(), record);
        assert!(record.names("c-2") && !record.names("c-3"));

        let mut burst = draft().deny("invalidAccessToken");
        burst.count = Some(41);
        let bytes = AuditRecord::new(burst, 4, OffsetDateTime::UNIX_EPOCH).encode();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.contains(r#""reason":"invalidAccessToken","count":41,"requestId""#));
        assert_eq!(
            AuditRecord::decode(text.as_bytes()).unwrap().count,
            Some(41)
        );
    }

    #[test]
    fn a_version_that_does_not_match_the_members_is_refused() {
        let v1 = AuditRecord::new(draft(), 1, OffsetDateTime::UNIX_EPOCH).encode();
        let claimed_v2 = String::from_utf8(v1)
            .unwrap()
            .replacen(r#""v":1"#, r#""v":2"#, 1);
        assert_eq!(
            AuditRecord::decode(claimed_v2.as_bytes()),
            Err(DecodeError::NotCanonical)
        );
        let mut page = draft();
        page.clients = vec!["c-1".into()];
        let v2 = AuditRecord::new(page, 1, OffsetDateTime::UNIX_EPOCH).encode();
        let claimed_v1 = String::from_utf8(v2)
            .unwrap()
            .replacen(r#""v":2"#, r#""v":1"#, 1);
        assert_eq!(
            AuditRecord::decode(claimed_v1.as_bytes()),
            Err(DecodeError::NotCanonical)
        );
        let v3 =
            String::from_utf8(AuditRecord::new(draft(), 1, OffsetDateTime::UNIX_EPOCH).encode())
                .unwrap()
                .replacen(r#""v":1"#, r#""v":3"#, 1);
        assert_eq!(
            AuditRecord::decode(v3.as_bytes()),
            Err(DecodeError::UnknownVersion(3))
        );
    }

    #[test]
    fn the_time_column_agrees_with_the_encoded_time() {
        let time = datetime!(2026-01-02 03:04:05.000006 UTC);
        let record = AuditRecord::new(draft(), 0, time);
        assert_eq!(record.time_micros(), Some(micros(time)));
    }
}
