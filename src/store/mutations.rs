//! Changes to personal data. Each is applied by the audit writer inside the transaction that
//! also appends its audit record, so that a change and its record commit together or not at
//! all (product brief §6). Each change is written in the module of its aggregate; `apply`
//! routes a mutation there.

use super::{Conn, attests, clients, consents, infractions, records, referrals};
use crate::domain::competence::{ClaimEffect, LinkRole};

/// A change requested through the gate.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Link the caller's party to a client, creating the client if it is new.
    RegisterClient(Registration),
    /// End the caller's party's active link with a client (a pending claim of its kind
    /// becomes effective when it was the competent party).
    EndLink { client_id: String, party: String },
    /// An involved party claims competence for its kind.
    ClaimCompetence {
        client_id: String,
        party: String,
        kind: String,
    },
    /// The competent party hands competence for its kind to a party that claimed it.
    HandOverCompetence {
        client_id: String,
        from: String,
        to: String,
        kind: String,
    },
    /// `change`, only if `guard` still holds inside the change's own transaction: no write
    /// commits after the unlink (or the loss of competence) that precedes it.
    Guarded {
        guard: LinkGuard,
        change: Box<Mutation>,
    },
    /// Replace a record, only if it is still at `expected_version` (optimistic concurrency).
    UpdateRecord {
        client_id: String,
        expected_version: i64,
        record_json: String,
    },
    /// Record a consent.
    RecordConsent(ConsentRow),
    /// Record an attest from KBI: the client (created if new), KBI's link, the attest on the
    /// record — once per KBI reference.
    RecordAttest {
        registration: Registration,
        reference: String,
        /// The attest as the record stores it (`{"kind", "issuedOn"}`).
        attest: serde_json::Value,
        kind: String,
        issued_on: String,
    },
    /// Propose a referral.
    CreateReferral(ReferralRow),
    /// Move a referral on, only from the status it was read in; accepting links the receiver.
    TransitionReferral {
        referral_id: String,
        from_status: String,
        to_status: String,
        /// On acceptance: the receiver's new link (client, party, party kind).
        link_receiver: Option<(String, String, String)>,
        message: Option<MessageRow>,
    },
    /// A message on a referral (feedback, SWO art. 4 "terugkoppeling").
    AddReferralMessage(MessageRow),
    /// Record an infraction, routed as the domain decided.
    RecordInfraction(InfractionRow),
    /// Record the decision on an infraction, only if none is recorded yet.
    DecideInfraction(DecisionRow),
    /// Erase a client that is due under the retention period (no link active or ended since
    /// `cutoff`, microseconds), with everything kept about it outside the audit log.
    EraseClient { client_id: String, cutoff: i64 },
    /// Withdraw a consent (effective at once).
    WithdrawConsent {
        client_id: String,
        consent_id: String,
        party: String,
        user: String,
    },
}

/// What must hold of the writer's link when its change commits.
#[derive(Debug, Clone)]
pub struct LinkGuard {
    pub client_id: String,
    pub party: String,
    /// Whether the link must be the competent one (a write of owned fields), or any.
    pub competent: bool,
}

/// A referral as written.
#[derive(Debug, Clone)]
pub struct ReferralRow {
    pub referral_id: String,
    pub client_id: String,
    pub from_party: String,
    pub to_party: String,
    pub direction: String,
    pub reason: String,
    pub evidence_reference: Option<String>,
    pub created_by: String,
}

/// An infraction as written.
#[derive(Debug, Clone)]
pub struct InfractionRow {
    pub infraction_id: String,
    pub client_id: String,
    pub kind: String,
    pub occurred_on: String,
    pub description: String,
    pub routed_to: String,
    /// The competent party of the routed kind, if one is linked.
    pub routed_party: Option<String>,
    pub party: String,
    pub user: String,
}

/// The sanction authority's decision on an infraction as written.
#[derive(Debug, Clone)]
pub struct DecisionRow {
    pub infraction_id: String,
    /// The infraction's client, to which the note is bound at rest.
    pub client_id: String,
    pub decision: String,
    pub decided_on: String,
    pub note: String,
    pub party: String,
    pub user: String,
}

/// A message on a referral as written.
#[derive(Debug, Clone)]
pub struct MessageRow {
    pub referral_id: String,
    pub kind: String,
    pub party: String,
    pub user: String,
    pub message: String,
}

/// A consent as written: the domain values rendered to the portable column types.
#[derive(Debug, Clone)]
pub struct ConsentRow {
    pub consent_id: String,
    pub client_id: String,
    pub recipient_party: String,
    pub purpose: String,
    pub categories: String,
    pub legal_text_version: String,
    pub language: String,
    pub evidence_reference: String,
    pub recorded_by_party: String,
    pub recorded_by_user: String,
    pub valid_from: String,
    pub valid_until: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Registration {
    /// The pseudonym of the number under each key of the ring, the current first: the client
    /// is found by any, and a new client gets the first.
    pub pseudonyms: Vec<[u8; 32]>,
    /// The current pseudonym key's id.
    pub pseudonym_key_id: String,
    /// Used only if the client is new; its ciphertext is bound to it.
    pub new_client_id: String,
    pub ciphertext: Vec<u8>,
    pub encryption_key_id: String,
    pub party: String,
    pub party_kind: String,
    /// The link role asked for; `None`: competent unless another party of the kind is.
    pub role: Option<LinkRole>,
    pub legal_basis: String,
    pub dossier_reference: String,
}

/// What applying a mutation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    Nothing,
    Registered {
        client_id: String,
        new_link: bool,
        role: LinkRole,
    },
    /// Another party of the registering party's kind is competent for the client.
    CompetenceTaken {
        client_id: String,
    },
    CompetenceClaimed(ClaimEffect),
    CompetenceHandedOver,
    /// The party handing over is not the competent party.
    NotCompetent,
    /// The party to hand over to has no pending claim.
    NoClaim,
    LinkEnded,
    NotLinked,
    RecordUpdated {
        version: i64,
    },
    /// The record changed since the caller read it.
    Stale,
    ConsentRecorded,
    ConsentWithdrawn,
    /// No such consent for this client, or it was withdrawn before.
    ConsentNotWithdrawable,
    AttestRecorded {
        client_id: String,
    },
    /// The reference was seen before: nothing changed. `same` tells whether the content agrees.
    AttestKnown {
        client_id: String,
        same: bool,
    },
    ReferralCreated,
    ReferralMoved,
    /// The referral changed since it was read.
    ReferralStale,
    MessageAdded,
    InfractionRecorded,
    InfractionDecided,
    /// A decision was recorded on the infraction in the meantime.
    InfractionAlreadyDecided,
    /// The client and everything kept about it were erased.
    ClientErased,
    /// The client is no longer due for erasure (a link came or ended meanwhile).
    NotDue,
    /// The change failed in the database and was rolled back.
    Failed,
}

impl Applied {
    /// The client a change resolved, where it resolves one.
    pub fn client_id(&self) -> Option<&str> {
        match self {
            Applied::Registered { client_id, .. }
            | Applied::AttestRecorded { client_id }
            | Applied::CompetenceTaken { client_id } => Some(client_id),
            _ => None,
        }
    }

    /// Whether the change took effect (and its events may be written).
    pub const fn is_success(&self) -> bool {
        matches!(
            self,
            Applied::Nothing
                | Applied::Registered { .. }
                | Applied::LinkEnded
                | Applied::CompetenceClaimed(_)
                | Applied::CompetenceHandedOver
                | Applied::RecordUpdated { .. }
                | Applied::ConsentRecorded
                | Applied::ConsentWithdrawn
                | Applied::AttestRecorded { .. }
                | Applied::ReferralCreated
                | Applied::ReferralMoved
                | Applied::MessageAdded
                | Applied::InfractionRecorded
                | Applied::InfractionDecided
                | Applied::ClientErased
        )
    }
}

/// Why a change failed. The audit writer rolls the change back and records the request as
/// refused (`Applied::Failed`).
#[derive(Debug, thiserror::Error)]
pub(super) enum ChangeError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A value could not be sealed or a stored one opened.
    #[error("sealed value: {0}")]
    Sealing(#[from] super::sealing::SealError),
    /// A change that builds on the stored record found one that does not parse; the record is
    /// never replaced then, as everywhere else an unreadable record is an error.
    #[error("client {client_id}: the stored record is not a JSON object ({source})")]
    UnreadableRecord {
        client_id: String,
        source: serde_json::Error,
    },
    /// The record moved on inside the change's own transaction.
    #[error("client {0}: the record changed while the attest was set")]
    RecordMoved(String),
}

/// Applies `mutation` on the connection of the audit writer's transaction, in the module of the
/// aggregate it changes.
pub(super) async fn apply(
    conn: &mut Conn<'_>,
    mutation: &Mutation,
    now: i64,
) -> Result<Applied, ChangeError> {
    Ok(match mutation {
        Mutation::RegisterClient(registration) => {
            clients::register(conn, registration, now).await?
        }
        Mutation::EndLink { client_id, party } => {
            clients::end_link(conn, client_id, party, now).await?
        }
        Mutation::ClaimCompetence {
            client_id,
            party,
            kind,
        } => clients::claim(conn, client_id, party, kind, now).await?,
        Mutation::HandOverCompetence {
            client_id,
            from,
            to,
            kind,
        } => clients::hand_over(conn, client_id, (from, to), kind).await?,
        Mutation::Guarded { guard, change } => {
            let role = clients::role_in(conn, &guard.client_id, &guard.party).await?;
            let holds = match role {
                None => false,
                Some(role) => !guard.competent || role == LinkRole::Competent,
            };
            if !holds {
                return Ok(Applied::NotLinked);
            }
            Box::pin(apply(conn, change, now)).await?
        }
        Mutation::UpdateRecord {
            client_id,
            expected_version,
            record_json,
        } => records::update(conn, client_id, *expected_version, record_json, now).await?,
        Mutation::RecordConsent(consent) => consents::record(conn, consent, now).await?,
        Mutation::WithdrawConsent {
            client_id,
            consent_id,
            party,
            user,
        } => consents::withdraw(conn, client_id, consent_id, party, user, now).await?,
        Mutation::RecordAttest {
            registration,
            reference,
            attest,
            kind,
            issued_on,
        } => attests::record(conn, registration, reference, attest, kind, issued_on, now).await?,
        Mutation::CreateReferral(referral) => referrals::create(conn, referral, now).await?,
        Mutation::TransitionReferral {
            referral_id,
            from_status,
            to_status,
            link_receiver,
            message,
        } => {
            let receiver = link_receiver.as_ref();
            let message = message.as_ref();
            referrals::transition(
                conn,
                referral_id,
                from_status,
                to_status,
                receiver,
                message,
                now,
            )
            .await?
        }
        Mutation::AddReferralMessage(message) => referrals::add_message(conn, message, now).await?,
        Mutation::RecordInfraction(infraction) => {
            infractions::record(conn, infraction, now).await?
        }
        Mutation::DecideInfraction(decision) => infractions::decide(conn, decision, now).await?,
        Mutation::EraseClient { client_id, cutoff } => {
            super::retention::erase(conn, client_id, *cutoff).await?
        }
    })
}
