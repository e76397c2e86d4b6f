//! The audit log's proofs for privacy officers and outside verifiers (role `privacyOfficer`,
//! purpose `auditReview`): the signed checkpoint, the verifier key, inclusion and consistency
//! proofs in RFC 9162 form. Each use is itself audited.

use super::audit_review::{require_checkpoints, require_review};
use super::case_work::{bad_query, invalid};
use super::problem::{InputIssue, Problem};
use crate::app::AppState;
use crate::audit::record::AuditRecord;
use crate::domain::purpose::Purpose;
use crate::gate::action;
use crate::gate::log::proofs::ProofError;
use crate::gate::parameters::Parameters;
use crate::gate::{Caller, GateError};
use axum::Json;
use axum::extract::{Extension, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_audit_checkpoint))
        .routes(routes!(get_audit_verifier_key))
        .routes(routes!(get_audit_inclusion_proof))
        .routes(routes!(get_audit_consistency_proof))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InclusionProof {
    leaf_index: u64,
    tree_size: u64,
    /// Base64 of the record's canonical bytes (the Merkle leaf).
    leaf: String,
    /// Base64 SHA-256 hashes, RFC 9162 §2.1.3 order.
    proof: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ConsistencyProof {
    from: u64,
    to: u64,
    /// Base64 SHA-256 hashes, RFC 9162 §2.1.4 order.
    proof: Vec<String>,
}

const TEXT: &str = "text/plain; charset=utf-8";

/// Reads the named query parameters as numbers; any other parameter is refused.
fn numbers<const N: usize>(
    query: BTreeMap<String, String>,
    names: [&str; N],
) -> Result<[u64; N], Problem> {
    let mut parameters = Parameters::new(&query);
    parameters.refuse_unknown(&names);
    let values = names.map(|name| parameters.count(name));
    parameters.finish(values).map_err(bad_query)
}

/// A proof the tree cannot give is the caller's input problem; any other failure is ours.
/// Both are on record, as the old records had them.
fn proof_problem(error: ProofError, parameter: &str, act: &'static str) -> Problem {
    let problem = match error {
        ProofError::BeyondTree { available } => Problem::bad_request(vec![InputIssue::new(
            "query",
            parameter,
            format!(
                "beyond the tree: {available} leaves are hashed so far; take sizes from a checkpoint"
            ),
        )]),
        ProofError::Range(detail) => {
            Problem::bad_request(vec![InputIssue::new("query", parameter, detail)])
        }
        ProofError::Reduced => {
            return Problem::resource_not_found()
                .detail(
                    "the record is past the audit log's retention period: only its leaf hash \
                     is kept (consistency proofs over it still hold)",
                )
                .on_record(act, "notFound");
        }
        other => Problem::internal().caused_by(format!("a proof could not be computed: {other}")),
    };
    problem.on_record(act, "invalidInput")
}

fn b64(hashes: Vec<[u8; 32]>) -> Vec<String> {
    hashes.iter().map(|hash| STANDARD.encode(hash)).collect()
}

/// The C2SP signed note (tlog-checkpoint) for the current end of the audit log.
#[utoipa::path(get, path = "/v1/audit/checkpoint", operation_id = action::GET_CHECKPOINT, tag = "audit",
    responses((status = 200, description = "The signed checkpoint", body = String, content_type = "text/plain")))]
pub async fn get_audit_checkpoint(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
) -> Result<Response, Problem> {
    let act = action::GET_CHECKPOINT;
    require_checkpoints(&who, act)?;
    let note = state.gate.checkpoint().await.map_err(|error| {
        Problem::service_unavailable()
            .caused_by(format!("no checkpoint could be produced: {error}"))
            .on_record(act, "checkpointUnavailable")
    })?;
    state.gate.audit_review(&who, act, None).await?;
    let headers = [
        (header::CONTENT_TYPE, TEXT),
        (header::CACHE_CONTROL, "no-store"),
    ];
    Ok((headers, note).into_response())
}

/// The keys that sign and signed the log's checkpoints.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifierKeys {
    /// The note verifier key of the key that signs new checkpoints:
    /// `<name>+<hex keyhash>+<base64(0x01‖key)>`.
    current: String,
    /// The current key first, then the earlier ones, most recently used first.
    keys: Vec<VerifierKeyEntry>,
}

/// One key of the log and the checkpoints it signed.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifierKeyEntry {
    /// The note verifier key; `null` for a key that signed checkpoints but that the gateway
    /// does not hold any more.
    verifier_key: Option<String>,
    /// The key hash (signed-note key ID), 8 hex digits.
    key_hash: String,
    current: bool,
    /// The smallest tree size it signed a checkpoint for; `null` if it signed none yet.
    first_tree_size: Option<u64>,
    /// The largest tree size it signed a checkpoint for; `null` if it signed none yet.
    last_tree_size: Option<u64>,
    /// How many checkpoints it signed.
    checkpoints: u64,
}

/// The note verifier keys of the log: the current key and every earlier one (a rotation keeps
/// what the earlier key signed verifiable), with the tree sizes each signed.
#[utoipa::path(get, path = "/v1/audit/verifier-key", operation_id = "getAuditVerifierKey", tag = "audit",
    responses((status = 200, description = "The verifier keys", body = VerifierKeys)))]
pub async fn get_audit_verifier_key(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
) -> Result<Json<VerifierKeys>, Problem> {
    if who.purpose != Purpose::AuditReview {
        return Err(Problem::missing_scope(
            "the audit log is reviewed with the purpose auditReview",
        ));
    }
    let listed = state
        .gate
        .signing_keys()
        .await
        .map_err(|e| Problem::from(GateError::from(e)))?;
    let keys: Vec<VerifierKeyEntry> = listed
        .into_iter()
        .map(|key| VerifierKeyEntry {
            verifier_key: key.verifier_key,
            key_hash: format!("{:08x}", u32::from_be_bytes(key.key_hash)),
            current: key.current,
            first_tree_size: key.signed.map(|(first, _, _)| first),
            last_tree_size: key.signed.map(|(_, last, _)| last),
            checkpoints: key.signed.map_or(0, |(_, _, n)| n),
        })
        .collect();
    let current = (keys.iter())
        .find(|k| k.current)
        .and_then(|k| k.verifier_key.clone())
        .unwrap_or_else(|| state.gate.verifier_key());
    Ok(Json(VerifierKeys { current, keys }))
}

/// The inclusion proof of record `index` in the tree of size `treeSize` (RFC 9162 §2.1.3).
#[utoipa::path(get, path = "/v1/audit/proofs/inclusion", operation_id = action::GET_INCLUSION_PROOF, tag = "audit",
    params(("index" = u64, Query, description = "Leaf index (the record's sequence number)"),
           ("treeSize" = u64, Query, description = "Tree size, from a checkpoint")),
    responses((status = 200, description = "The proof", body = InclusionProof),
              (status = 404, description = "A record the officer may not review", body = Problem, content_type = "application/problem+json")))]
pub async fn get_audit_inclusion_proof(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<Json<InclusionProof>, Problem> {
    let act = action::GET_INCLUSION_PROOF;
    require_review(&who, act)?;
    let [index, tree_size] = numbers(query, ["index", "treeSize"]).map_err(|p| invalid(act, p))?;
    let (leaf, proof) = state
        .gate
        .inclusion_proof(index, tree_size)
        .await
        .map_err(|error| proof_problem(error, "treeSize", act))?;
    // The leaf is the record itself: it is shown only to an officer who may review it.
    let visible = match AuditRecord::decode(&leaf) {
        Ok(record) => state
            .gate
            .may_review(&who, &record)
            .await
            .map_err(|e| Problem::from(e).on_record(act, "internalError"))?,
        Err(_) => false,
    };
    if !visible {
        return Err(Problem::resource_not_found().on_record(act, "notFound"));
    }
    state.gate.audit_review(&who, act, None).await?;
    Ok(Json(InclusionProof {
        leaf_index: index,
        tree_size,
        leaf: STANDARD.encode(leaf),
        proof: b64(proof),
    }))
}

/// The consistency proof between tree sizes `from` and `to` (RFC 9162 §2.1.4).
#[utoipa::path(get, path = "/v1/audit/proofs/consistency", operation_id = action::GET_CONSISTENCY_PROOF, tag = "audit",
    params(("from" = u64, Query, description = "The older tree size"),
           ("to" = u64, Query, description = "The newer tree size")),
    responses((status = 200, description = "The proof", body = ConsistencyProof)))]
pub async fn get_audit_consistency_proof(
    State(state): State<AppState>,
    Extension(who): Extension<Caller>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<Json<ConsistencyProof>, Problem> {
    let act = action::GET_CONSISTENCY_PROOF;
    require_checkpoints(&who, act)?;
    let [from, to] = numbers(query, ["from", "to"]).map_err(|p| invalid(act, p))?;
    let proof = state
        .gate
        .consistency_proof(from, to)
        .await
        .map_err(|error| proof_problem(error, "to", act))?;
    state.gate.audit_review(&who, act, None).await?;
    Ok(Json(ConsistencyProof {
        from,
        to,
        proof: b64(proof),
    }))
}
