//! The operations audited, named as the API's operation ids: one name, used by the gate's
//! records, the handlers' refusals and the OpenAPI document alike.

pub const REGISTER_CLIENT: &str = "registerClient";
pub const LOOKUP_CLIENT: &str = "lookupClient";
pub const END_LINK: &str = "endClientLink";
pub const GET_COMPETENCE: &str = "getCompetence";
pub const CLAIM_COMPETENCE: &str = "claimCompetence";
pub const HAND_OVER_COMPETENCE: &str = "handOverCompetence";
pub const GET_CHECKPOINT: &str = "getAuditCheckpoint";
pub const GET_INCLUSION_PROOF: &str = "getAuditInclusionProof";
pub const GET_CONSISTENCY_PROOF: &str = "getAuditConsistencyProof";
pub const GET_SIGNED_CHECKPOINT: &str = "getSignedCheckpoint";
pub const ADD_COSIGNATURE: &str = "addCheckpointCosignature";
pub const RECORD_CONSENT: &str = "recordConsent";
pub const LIST_CONSENTS: &str = "listConsents";
pub const WITHDRAW_CONSENT: &str = "withdrawConsent";
pub const READ_CLIENT: &str = "readClient";
pub const UPDATE_CLIENT: &str = "updateClient";
pub const EXPLAIN: &str = "explainVisibility";
pub const DELIVER_EVENT: &str = "deliverEvent";
pub const REGISTER_ATTEST: &str = "registerAttest";
pub const CREATE_REFERRAL: &str = "createReferral";
pub const LIST_REFERRALS: &str = "listReferrals";
pub const READ_REFERRAL: &str = "readReferral";
pub const DECIDE_REFERRAL: &str = "decideReferral";
pub const COMPLETE_REFERRAL: &str = "completeReferral";
pub const WITHDRAW_REFERRAL: &str = "withdrawReferral";
pub const REFERRAL_FEEDBACK: &str = "addReferralFeedback";
pub const RECORD_INFRACTION: &str = "recordInfraction";
pub const LIST_INFRACTIONS: &str = "listInfractions";
pub const READ_INFRACTION: &str = "readInfraction";
pub const DECIDE_INFRACTION: &str = "decideInfraction";
pub const SEARCH_AUDIT: &str = "searchAuditLog";
pub const ACCESS_REPORT: &str = "getAccessReport";
pub const AUDIT_ANOMALIES: &str = "getAuditAnomalies";
pub const MONITORING: &str = "getMonitoringReport";
pub const AUDIT_ACTIVITY: &str = "getAuditActivity";
pub const VERIFY_AUDIT_LOG: &str = "verifyAuditLog";
/// A person's certificate at the review pages, in a role that may not use them.
pub const OPEN_REVIEW_PAGES: &str = "openReviewPages";

/// The operation a step of a referral's life cycle is recorded under.
pub const fn of_referral(event: crate::domain::referral::ReferralEvent) -> &'static str {
    use crate::domain::referral::ReferralEvent::{Accept, Complete, Refuse, Withdraw};
    match event {
        Accept | Refuse => DECIDE_REFERRAL,
        Complete => COMPLETE_REFERRAL,
        Withdraw => WITHDRAW_REFERRAL,
    }
}
