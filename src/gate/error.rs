//! What can go wrong in the gate: refusals the caller is told about, and failures of the
//! gateway itself, which carry their cause to the edge to be logged once there.

use crate::domain::consent::ConsentIssue;
use crate::domain::infraction::InfractionError;
use crate::domain::party::PartyKind;
use crate::domain::record::field::Category;
use crate::domain::record::patch::PatchRejection;
use crate::domain::referral::ReferralError;
use crate::store::StoreError;
use crate::store::audit_writer::AuditUnavailable;

#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// Unknown, or not linked to the caller: the two are indistinguishable by design.
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    AuditUnavailable(#[from] AuditUnavailable),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// A failure of the gateway itself, not of the caller: what failed, for the log.
    #[error("{0}")]
    Internal(&'static str),
    /// The consent was withdrawn before.
    #[error("already withdrawn")]
    AlreadyWithdrawn,
    /// A write without `If-Match`.
    #[error("precondition required")]
    PreconditionRequired,
    /// A write against a version that is no longer current.
    #[error("precondition failed")]
    PreconditionFailed,
    /// The patch was refused; every issue is named.
    #[error("patch refused")]
    Patch(PatchRejection),
    /// A KBI reference seen before with other content.
    #[error("reference conflict")]
    ReferenceConflict,
    /// A referral refused by the agreement's rules.
    #[error("referral refused: {0}")]
    Referral(ReferralError),
    /// The referral changed since it was read.
    #[error("referral changed")]
    ReferralConflict,
    /// An infraction or a decision refused by the agreement's rules.
    #[error("infraction refused: {0}")]
    Infraction(InfractionError),
    /// The policy does not let the caller see what the operation concerns.
    #[error("not permitted by the policy")]
    NotPermitted,
    /// Another party of the caller's kind is competent for the client.
    #[error("another party of kind {0} is competent for this client")]
    CompetenceTaken(PartyKind),
    /// The operation belongs to the competent party of the caller's kind, which it is not.
    #[error("not the competent party")]
    NotCompetent,
    /// A hand-over to a party that has not claimed competence.
    #[error("no pending claim")]
    NoClaim,
    /// A consent naming categories the recorder is not the competent owner of.
    #[error("categories not owned by the recorder")]
    CategoryNotOwned(Vec<Category>),
    /// A consent the rules of who records it refuse; every issue is named.
    #[error("consent refused")]
    ConsentRule(Vec<ConsentIssue>),
    /// A link on the legal basis of consent without an active consent for the party.
    #[error("no active consent for this party")]
    ConsentRequired,
}
