//! Exporting the audit log for review outside the gateway: JSON Lines (the canonical records
//! themselves, so each line can be hashed into the tree again) or CSV.

use crate::audit::record::AuditRecord;
use crate::store::{Db, StoreError, audit};
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Jsonl,
    Csv,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing: {0}")]
    Io(#[from] std::io::Error),
    #[error("record {0} is not a valid record; run `gateway audit verify`")]
    Invalid(u64),
}

const CSV_HEADER: &str = "seq,time,party,user,roles,purpose,legalBasis,client,action,fields,outcome,reason,requestId,relatedTraceId,policyVersion";

pub async fn export(db: &Db, format: Format, out: &mut impl Write) -> Result<u64, ExportError> {
    if format == Format::Csv {
        writeln!(out, "{CSV_HEADER}")?;
    }
    let mut next = 0;
    loop {
        let rows = audit::records(db, next, 10_000).await?;
        if rows.is_empty() {
            return Ok(next);
        }
        for (seq, bytes) in rows {
            match format {
                Format::Jsonl => {
                    out.write_all(&bytes)?;
                    out.write_all(b"\n")?;
                }
                Format::Csv => {
                    let record = AuditRecord::decode(&bytes)
                        .map_err(|_| ExportError::Invalid(seq as u64))?;
                    writeln!(out, "{}", csv_line(&record))?;
                }
            }
            next = seq as u64 + 1;
        }
    }
}

fn csv_line(r: &AuditRecord) -> String {
    let opt = |value: &Option<String>| value.clone().unwrap_or_default();
    [
        r.seq.to_string(),
        r.time.clone(),
        r.party.clone(),
        r.user.clone(),
        r.roles.join(";"),
        r.purpose.clone(),
        opt(&r.legal_basis),
        opt(&r.client),
        r.action.clone(),
        r.fields.join(";"),
        r.outcome.as_str().to_owned(),
        opt(&r.reason),
        r.request_id.clone(),
        opt(&r.related_trace_id),
        r.policy_version.clone(),
    ]
    .iter()
    .map(|field| csv_field(field))
    .collect::<Vec<_>>()
    .join(",")
}

/// RFC 4180 quoting; a leading `=`, `+`, `-` or `@` is prefixed with `'` so that a spreadsheet
/// opening the export does not run it as a formula.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
    }
}
