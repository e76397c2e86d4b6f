//! Referrals of a joint client between parties (SWO art. 4, product brief §4).
//!
//! Three directions are agreed. The OCMW refers every client on whom it imposes (part of) an
//! integration trajectory in the GPMI: "dient het OCMW deze cliënten door te verwijzen naar
//! Amal" (art. 4). The agency refers clients who would benefit from the OCMW's support: "verwijst
//! Amal de cliënt warm door naar het OCMW", also for payment difficulties with the retribution
//! (art. 7). A partner OCMW refers its clients to OCMW Gent's modules, after sending "een bewijs
//! (uittreksel uit het rijksregister)", and "OCMW Gent heeft het recht om, mits grondige
//! argumentatie, een concrete doorverwijzing niet te aanvaarden" (AMIF partnership agreement
//! Gent–Eeklo, art. 3.1). KBI only confirms attests (art. 13). It is not a service a client can
//! be referred to, so it never sends or receives a referral.
//!
//! The life cycle `proposed → accepted | refused → completed | withdrawn`, read as follows:
//!
//! ```text
//!             accept (receiver)              complete (receiver)
//!   proposed ──────────────────► accepted ─────────────────────► completed
//!     │   │                          │
//!     │   │ refuse (receiver,        │ withdraw (sender)
//!     │   │ written reason)          ▼
//!     │   └────────────► refused   withdrawn
//!     │ withdraw (sender)              ▲
//!     └────────────────────────────────┘
//! ```
//!
//! Only the receiver can answer a proposal, and the receiver answers only once: it accepts or
//! refuses. After accepting, the receiver marks the referral completed once it has finished
//! handling it. "Completed" means the handling is finished, not that it succeeded. How it went
//! (the client never came, dropped out, finished the module) is reported as feedback. The sender
//! can withdraw a referral while it is open (proposed or accepted), for example because the
//! client moved. Refused, completed and withdrawn are final. Anyone who wants to try again makes
//! a new referral, so that the history of the first one stays as it was.
//!
//! Free texts are personal data about a vulnerable client and end up in other parties' systems.
//! They are therefore bounded, and they may not contain characters that can forge a log line
//! or reorder what a reader sees. Errors are fixed sentences that never repeat the submitted
//! text.

use crate::domain::party::{PartyId, PartyKind};
use serde::{Deserialize, Serialize};

/// The longest free text (a reason, a feedback message, a description), in characters.
pub const MAX_TEXT_CHARS: usize = 2000;

/// The longest evidence reference, in bytes (the reference is ASCII).
pub const MAX_EVIDENCE_LEN: usize = 64;

/// Gives a unit-only enum its wire names: `ALL`, `as_str`, `parse` and `Display`. The names must
/// equal the enum's serde names. Each module's tests check this for each enum.
macro_rules! wire_names {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The value with this wire name; `None` for any other text.
            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|value| value.as_str() == text)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use wire_names;

/// Who refers to whom. The direction follows from the kinds of the two parties; no caller
/// states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ReferralDirection {
    /// SWO art. 4, "OCMW naar Amal": required when integration is in the GPMI.
    OcmwToAgency,
    /// SWO art. 4, "Amal naar OCMW" (a warm referral), and art. 7 for the retribution.
    AgencyToOcmw,
    /// AMIF partnership agreement art. 3.1: a partner OCMW to OCMW Gent's modules.
    OcmwToOcmw,
}

wire_names!(ReferralDirection {
    OcmwToAgency => "ocmwToAgency",
    AgencyToOcmw => "agencyToOcmw",
    OcmwToOcmw => "ocmwToOcmw",
});

impl ReferralDirection {
    /// Whether the sender must reference proof of eligibility. Only between OCMWs: the partner
    /// "bezorgt OCMW Gent hiervoor voorafgaand een bewijs (uittreksel uit het rijksregister)".
    /// Between the OCMW and the agency both parties already know the client from the reference
    /// directory, and the SWO asks for no proof.
    pub const fn requires_evidence(self) -> bool {
        matches!(self, Self::OcmwToOcmw)
    }
}

/// Where a referral stands. See the module documentation for the life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ReferralStatus {
    /// Sent and not yet answered by the receiver.
    Proposed,
    /// The receiver took the client on.
    Accepted,
    /// The receiver declined the referral and gave its reasons in writing. Final.
    Refused,
    /// The receiver finished handling the client. Final.
    Completed,
    /// The sender took the referral back. Final.
    Withdrawn,
}

wire_names!(ReferralStatus {
    Proposed => "proposed",
    Accepted => "accepted",
    Refused => "refused",
    Completed => "completed",
    Withdrawn => "withdrawn",
});

impl ReferralStatus {
    /// A new referral is proposed.
    pub const INITIAL: Self = Self::Proposed;

    /// Whether no event can change the status any more.
    pub const fn is_final(self) -> bool {
        matches!(self, Self::Refused | Self::Completed | Self::Withdrawn)
    }

    /// Whether the parties can still exchange feedback messages on the referral (SWO art. 4
    /// "terugkoppeling": "elkaar te informeren rond doorverwijzing"). Feedback is possible while
    /// the referral is open. It is also possible after completion, because reporting how the
    /// client fared is the point of feedback. It is not possible after a refusal, whose written
    /// reason is the answer, nor after a withdrawal, which ends the exchange. Both sides can
    /// give feedback. The caller checks that the author is the sender or the receiver.
    pub const fn accepts_feedback(self) -> bool {
        matches!(self, Self::Proposed | Self::Accepted | Self::Completed)
    }
}

/// What a party does to a referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ReferralEvent {
    /// The receiver takes the client on.
    Accept,
    /// The receiver declines the referral, with a written reason.
    Refuse,
    /// The receiver has finished handling the client.
    Complete,
    /// The sender takes the referral back.
    Withdraw,
}

wire_names!(ReferralEvent {
    Accept => "accept",
    Refuse => "refuse",
    Complete => "complete",
    Withdraw => "withdraw",
});

impl ReferralEvent {
    /// Whether only the sender can raise the event. Only the sender can withdraw; only the
    /// receiver can accept, refuse or complete.
    pub const fn by_sender(self) -> bool {
        matches!(self, Self::Withdraw)
    }

    /// The side that can raise the event, as a word for messages.
    pub const fn actor(self) -> &'static str {
        if self.by_sender() {
            "sender"
        } else {
            "receiver"
        }
    }
}

/// Why a free text is refused. Fixed sentences that never repeat the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum TextProblem {
    #[error("must not be empty or only white space")]
    Blank,
    #[error("must be at most 2000 characters")]
    TooLong,
    #[error("must not contain control characters other than a newline")]
    ControlCharacter,
    /// The value is not echoed: it would be the number itself.
    #[error("must not contain a national register or BIS number")]
    LooksLikeSsin,
}

/// Why a referral, a step in its life cycle or a feedback message is refused.
///
/// HTTP mapping: `IllegalTransition` and `FeedbackClosed` describe the state of the referral,
/// so they map to 409. `NotYourTurn`, `KbiCannotRefer` and `KbiCannotReceive` concern who is
/// acting, so 403 fits them. All other variants reject the submitted content, so 422.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReferralError {
    #[error("KBI confirms attests and never refers a client (SWO art. 13)")]
    KbiCannotRefer,
    #[error("KBI is not a service a client can be referred to (SWO art. 13)")]
    KbiCannotReceive,
    #[error("a party cannot refer a client to itself")]
    SelfReferral,
    #[error("no agreement provides for a referral between integration agencies")]
    AgencyToAgency,
    #[error("a {from} referral admits no {event}")]
    IllegalTransition {
        from: ReferralStatus,
        event: ReferralEvent,
    },
    #[error("only the {} of a referral may {event} it", .event.actor())]
    NotYourTurn { event: ReferralEvent },
    #[error("a refusal needs a written reason")]
    RefusalWithoutReason,
    #[error(
        "a referral between OCMWs needs a reference to the national register extract that \
         proves eligibility"
    )]
    EvidenceRequired,
    #[error("evidenceReference must be 1 to 64 of letters, digits and . _ - / :")]
    EvidenceMalformed,
    #[error("evidenceReference must not contain a national register number")]
    EvidenceLooksLikeSsin,
    #[error("{field} {problem}")]
    InvalidText {
        /// The JSON pointer of the text in the request: `/reason` or `/message`.
        field: &'static str,
        problem: TextProblem,
    },
    #[error("no feedback can be given on a {status} referral")]
    FeedbackClosed { status: ReferralStatus },
}

/// The direction of a referral from a party of kind `from` to a party of kind `to`.
///
/// KBI takes part in no referral (SWO art. 13). A referral between two integration agencies is
/// not agreed anywhere. Two OCMWs can refer to each other (AMIF partnership agreement art. 3.1).
/// Which OCMWs do so is configuration. This function does not check that they are two different
/// OCMWs; see [`parties`].
pub const fn direction(from: PartyKind, to: PartyKind) -> Result<ReferralDirection, ReferralError> {
    use PartyKind::*;
    match (from, to) {
        (Kbi, _) => Err(ReferralError::KbiCannotRefer),
        (_, Kbi) => Err(ReferralError::KbiCannotReceive),
        (Ocmw, IntegrationAgency) => Ok(ReferralDirection::OcmwToAgency),
        (IntegrationAgency, Ocmw) => Ok(ReferralDirection::AgencyToOcmw),
        (Ocmw, Ocmw) => Ok(ReferralDirection::OcmwToOcmw),
        (IntegrationAgency, IntegrationAgency) => Err(ReferralError::AgencyToAgency),
    }
}

/// The direction of a referral between two configured parties, which must be two different
/// parties. A referral hands a client over to another organisation; referring to oneself hands
/// nothing over and would only fake a fulfilled art. 4 duty
/// (`rules::referral_to_agency_required`).
///
/// The KBI errors come first, so that KBI referring to itself still says that KBI cannot
/// refer.
pub fn parties(
    from: &PartyId,
    from_kind: PartyKind,
    to: &PartyId,
    to_kind: PartyKind,
) -> Result<ReferralDirection, ReferralError> {
    if from_kind == PartyKind::Kbi {
        return Err(ReferralError::KbiCannotRefer);
    }
    if to_kind == PartyKind::Kbi {
        return Err(ReferralError::KbiCannotReceive);
    }
    if from == to {
        return Err(ReferralError::SelfReferral);
    }
    direction(from_kind, to_kind)
}

/// What a sender submits to propose a referral. `from` is the calling party and `to` is
/// resolved from configuration. Both kinds come from configuration, never from the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReferral {
    pub from: PartyId,
    pub from_kind: PartyKind,
    pub to: PartyId,
    pub to_kind: PartyKind,
    /// Why the client is referred: 1 to 2000 characters, not blank, newlines allowed.
    pub reason: String,
    /// Where the proof of eligibility is kept (between OCMWs: the national register extract),
    /// never the proof itself. An empty reference counts as no reference.
    pub evidence_reference: Option<String>,
}

impl NewReferral {
    /// Checks the referral and returns its direction. Checks run in this order: the parties,
    /// then the reason, then the evidence. Only the first problem is reported.
    ///
    /// A direction that needs no evidence may still carry a reference. It is then checked in
    /// the same way, because it travels to the receiver just like a required one.
    pub fn check(&self) -> Result<ReferralDirection, ReferralError> {
        let direction = parties(&self.from, self.from_kind, &self.to, self.to_kind)?;
        check_text(&self.reason, true).map_err(|problem| ReferralError::InvalidText {
            field: "/reason",
            problem,
        })?;
        match self.evidence_reference.as_deref().filter(|r| !r.is_empty()) {
            Some(reference) => check_evidence_reference(reference)?,
            None if direction.requires_evidence() => return Err(ReferralError::EvidenceRequired),
            None => {}
        }
        Ok(direction)
    }
}

/// The status after `event`, raised by the sender (`actor_is_sender`) or by the receiver.
///
/// The legal transitions are:
///
/// | from     | event    | by       | to        |
/// |----------|----------|----------|-----------|
/// | proposed | accept   | receiver | accepted  |
/// | proposed | refuse   | receiver | refused   |
/// | accepted | complete | receiver | completed |
/// | proposed | withdraw | sender   | withdrawn |
/// | accepted | withdraw | sender   | withdrawn |
///
/// Any other pair of status and event is `IllegalTransition`, whoever raises it. The state
/// is checked before the actor: "a completed referral admits no accept" is true for both
/// parties, so it is not a matter of whose turn it is. `NotYourTurn` is only for an event the
/// status allows but that the other side has to raise. The caller has already checked that
/// the actor is the sender or the receiver. Any other party must never learn that the
/// referral exists.
pub const fn transition(
    current: ReferralStatus,
    event: ReferralEvent,
    actor_is_sender: bool,
) -> Result<ReferralStatus, ReferralError> {
    use ReferralEvent::*;
    use ReferralStatus::*;
    let next = match (current, event) {
        (Proposed, Accept) => Accepted,
        (Proposed, Refuse) => Refused,
        (Accepted, Complete) => Completed,
        (Proposed | Accepted, Withdraw) => Withdrawn,
        _ => {
            return Err(ReferralError::IllegalTransition {
                from: current,
                event,
            });
        }
    };
    if actor_is_sender != event.by_sender() {
        return Err(ReferralError::NotYourTurn { event });
    }
    Ok(next)
}

/// [`transition`] together with the written reason that may accompany the event.
///
/// A refusal needs a reason that is not blank ("mits grondige argumentatie", AMIF partnership
/// agreement art. 3.1). The seed states this for referrals between OCMWs. It applies to every
/// direction here, because a refusal without a reason leaves the sender nothing to act on
/// (SWO art. 4, "elkaar te informeren rond doorverwijzing"). Any other event may carry a
/// reason. Such a reason is optional, and it is checked if it is given. The transition is
/// checked first, so a refusal that is not possible is a conflict (409) whatever its reason.
pub fn act(
    current: ReferralStatus,
    event: ReferralEvent,
    actor_is_sender: bool,
    reason: Option<&str>,
) -> Result<ReferralStatus, ReferralError> {
    let next = transition(current, event, actor_is_sender)?;
    let required = event == ReferralEvent::Refuse;
    match (reason, required) {
        (None, true) => Err(ReferralError::RefusalWithoutReason),
        (None, false) => Ok(next),
        (Some(text), _) => match check_text(text, required) {
            Ok(()) => Ok(next),
            Err(TextProblem::Blank) => Err(ReferralError::RefusalWithoutReason),
            Err(problem) => Err(ReferralError::InvalidText {
                field: "/reason",
                problem,
            }),
        },
    }
}

/// Checks a feedback message (SWO art. 4, "terugkoppeling") on a referral with status
/// `status`. The message is 1 to 2000 characters, not blank. Feedback is possible on proposed,
/// accepted and completed referrals ([`ReferralStatus::accepts_feedback`]).
pub fn check_feedback(status: ReferralStatus, message: &str) -> Result<(), ReferralError> {
    if !status.accepts_feedback() {
        return Err(ReferralError::FeedbackClosed { status });
    }
    check_text(message, true).map_err(|problem| ReferralError::InvalidText {
        field: "/message",
        problem,
    })
}

/// Checks a reference to proof of eligibility. It is plain ASCII, like the consent's evidence
/// reference: 1 to 64 of `A-Z a-z 0-9 . _ - / :`. It must not carry the national register
/// number the extract is about, neither as a run of 11 digits nor in the printed form
/// `yy.mm.dd-xxx.cc`. The gateway keeps where the proof is, not whose number it is.
pub fn check_evidence_reference(reference: &str) -> Result<(), ReferralError> {
    let plain = (1..=MAX_EVIDENCE_LEN).contains(&reference.len())
        && reference
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/:".contains(&b));
    if !plain {
        return Err(ReferralError::EvidenceMalformed);
    }
    if carries_ssin(reference.as_bytes()) || crate::domain::ssin::mentions_ssin(reference) {
        return Err(ReferralError::EvidenceLooksLikeSsin);
    }
    Ok(())
}

/// Whether ASCII text contains 11 digits in a row or the printed national register number
/// shape `dd.dd.dd-ddd.dd`.
fn carries_ssin(text: &[u8]) -> bool {
    const PRINTED: &[u8; 15] = b"00.00.00-000.00";
    let mut run = 0;
    for b in text {
        run = if b.is_ascii_digit() { run + 1 } else { 0 };
        if run >= 11 {
            return true;
        }
    }
    text.windows(PRINTED.len()).any(|window| {
        window.iter().zip(PRINTED).all(|(b, shape)| {
            if *shape == b'0' {
                b.is_ascii_digit()
            } else {
                b == shape
            }
        })
    })
}

/// The free-text rule for referral reasons, feedback messages and infraction descriptions:
/// at most [`MAX_TEXT_CHARS`] characters (Unicode scalar values, not bytes), and no control
/// characters except a newline. A `required` text must also contain something other than
/// white space.
///
/// Carriage returns and tabs are refused with the other control characters, because they can
/// forge or misalign a log line. Clients send `\n` line ends. The Unicode bidirectional
/// embedding, override and isolate characters (U+202A–U+202E, U+2066–U+2069) are refused too,
/// because they can make a text display in a different order from the one it is stored in.
/// The left-to-right and right-to-left marks (U+200E, U+200F) carry no such state, and they are
/// needed in names written in Arabic script. They are allowed.
pub fn check_text(text: &str, required: bool) -> Result<(), TextProblem> {
    if required && text.trim().is_empty() {
        return Err(TextProblem::Blank);
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(TextProblem::TooLong);
    }
    let forbidden = |c: char| {
        (c.is_control() && c != '\n')
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    };
    if text.chars().any(forbidden) {
        return Err(TextProblem::ControlCharacter);
    }
    if crate::domain::ssin::mentions_ssin(text) {
        return Err(TextProblem::LooksLikeSsin);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use PartyKind::*;
    use ReferralDirection::*;
    use ReferralError::*;
    use ReferralEvent::*;
    use ReferralStatus::*;

    const SENDER: bool = true;
    const RECEIVER: bool = false;

    fn id(text: &str) -> PartyId {
        PartyId::parse(text).unwrap()
    }

    fn new_referral(from: (&str, PartyKind), to: (&str, PartyKind)) -> NewReferral {
        NewReferral {
            from: id(from.0),
            from_kind: from.1,
            to: id(to.0),
            to_kind: to.1,
            reason: "Integratie opgenomen in het GPMI.\nGraag intake.".into(),
            evidence_reference: None,
        }
    }

    fn eeklo_to_gent(evidence: Option<&str>) -> NewReferral {
        NewReferral {
            evidence_reference: evidence.map(str::to_owned),
            ..new_referral(("ocmw-eeklo", Ocmw), ("ocmw-gent", Ocmw))
        }
    }

    fn from_name<T: for<'de> Deserialize<'de>>(name: &str) -> Option<T> {
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error, StrDeserializer};
        let deserializer: StrDeserializer<'_, Error> = name.into_deserializer();
        T::deserialize(deserializer).ok()
    }

    #[test]
    fn art_4_the_direction_follows_from_the_kinds_of_sender_and_receiver() {
        assert_eq!(direction(Ocmw, IntegrationAgency), Ok(OcmwToAgency));
        assert_eq!(direction(IntegrationAgency, Ocmw), Ok(AgencyToOcmw));
        assert_eq!(direction(Ocmw, Ocmw), Ok(OcmwToOcmw));
    }

    #[test]
    fn art_13_kbi_never_refers_and_is_never_referred_to() {
        for other in [Ocmw, IntegrationAgency, Kbi] {
            assert_eq!(direction(Kbi, other), Err(KbiCannotRefer), "{other}");
        }
        for other in [Ocmw, IntegrationAgency] {
            assert_eq!(direction(other, Kbi), Err(KbiCannotReceive), "{other}");
        }
        let kbi = ("kbi", Kbi);
        assert_eq!(
            new_referral(kbi, ("ocmw-gent", Ocmw)).check(),
            Err(KbiCannotRefer)
        );
        assert_eq!(
            new_referral(("amal", IntegrationAgency), kbi).check(),
            Err(KbiCannotReceive)
        );
        // KBI to itself is first of all KBI referring, not a self-referral.
        assert_eq!(new_referral(kbi, kbi).check(), Err(KbiCannotRefer));
    }

    #[test]
    fn art_4_no_agreement_provides_for_a_referral_between_two_integration_agencies() {
        assert_eq!(
            direction(IntegrationAgency, IntegrationAgency),
            Err(AgencyToAgency)
        );
        let other_agency = ("agentschap-ii", IntegrationAgency);
        assert_eq!(
            new_referral(("amal", IntegrationAgency), other_agency).check(),
            Err(AgencyToAgency)
        );
    }

    #[test]
    fn art_4_a_party_never_refers_a_client_to_itself_but_two_ocmws_may_refer() {
        let gent = ("ocmw-gent", Ocmw);
        let amal = ("amal", IntegrationAgency);
        assert_eq!(new_referral(gent, gent).check(), Err(SelfReferral));
        assert_eq!(new_referral(amal, amal).check(), Err(SelfReferral));
        assert_eq!(new_referral(gent, amal).check(), Ok(OcmwToAgency));
        assert_eq!(new_referral(amal, gent).check(), Ok(AgencyToOcmw));
        assert_eq!(
            eeklo_to_gent(Some("rr-extract/2024/0042")).check(),
            Ok(OcmwToOcmw)
        );
    }

    /// Every status × event × actor, written out, so that a change to the life cycle must
    /// change this table as well.
    #[test]
    fn art_4_every_transition_over_status_event_and_actor_is_as_agreed() {
        type Outcome = Result<ReferralStatus, ReferralError>;
        let illegal = |from, event| Err(IllegalTransition { from, event });
        let not_yours = |event| Err(NotYourTurn { event });
        #[rustfmt::skip]
        let table: [(ReferralStatus, ReferralEvent, Outcome, Outcome); 20] = [
            // status    event     by the sender                   by the receiver
            (Proposed,  Accept,   not_yours(Accept),              Ok(Accepted)),
            (Proposed,  Refuse,   not_yours(Refuse),              Ok(Refused)),
            (Proposed,  Complete, illegal(Proposed, Complete),    illegal(Proposed, Complete)),
            (Proposed,  Withdraw, Ok(Withdrawn),                  not_yours(Withdraw)),
            (Accepted,  Accept,   illegal(Accepted, Accept),      illegal(Accepted, Accept)),
            (Accepted,  Refuse,   illegal(Accepted, Refuse),      illegal(Accepted, Refuse)),
            (Accepted,  Complete, not_yours(Complete),            Ok(Completed)),
            (Accepted,  Withdraw, Ok(Withdrawn),                  not_yours(Withdraw)),
            (Refused,   Accept,   illegal(Refused, Accept),       illegal(Refused, Accept)),
            (Refused,   Refuse,   illegal(Refused, Refuse),       illegal(Refused, Refuse)),
            (Refused,   Complete, illegal(Refused, Complete),     illegal(Refused, Complete)),
            (Refused,   Withdraw, illegal(Refused, Withdraw),     illegal(Refused, Withdraw)),
            (Completed, Accept,   illegal(Completed, Accept),     illegal(Completed, Accept)),
            (Completed, Refuse,   illegal(Completed, Refuse),     illegal(Completed, Refuse)),
            (Completed, Complete, illegal(Completed, Complete),   illegal(Completed, Complete)),
            (Completed, Withdraw, illegal(Completed, Withdraw),   illegal(Completed, Withdraw)),
            (Withdrawn, Accept,   illegal(Withdrawn, Accept),     illegal(Withdrawn, Accept)),
            (Withdrawn, Refuse,   illegal(Withdrawn, Refuse),     illegal(Withdrawn, Refuse)),
            (Withdrawn, Complete, illegal(Withdrawn, Complete),   illegal(Withdrawn, Complete)),
            (Withdrawn, Withdraw, illegal(Withdrawn, Withdraw),   illegal(Withdrawn, Withdraw)),
        ];
        let mut covered = 0;
        for status in ReferralStatus::ALL {
            for event in ReferralEvent::ALL {
                let row = table
                    .iter()
                    .find(|(s, e, _, _)| s == status && e == event)
                    .unwrap_or_else(|| panic!("{status} × {event} missing from the table"));
                assert_eq!(
                    transition(*status, *event, SENDER),
                    row.2,
                    "{status} {event} sender"
                );
                assert_eq!(
                    transition(*status, *event, RECEIVER),
                    row.3,
                    "{status} {event} receiver"
                );
                covered += 2;
            }
        }
        assert_eq!(covered, 40);
    }

    #[test]
    fn art_4_refused_completed_and_withdrawn_are_final_for_both_sides() {
        for status in ReferralStatus::ALL {
            let moves = ReferralEvent::ALL
                .iter()
                .flat_map(|event| [SENDER, RECEIVER].map(|actor| (*event, actor)))
                .filter(|(event, actor)| transition(*status, *event, *actor).is_ok())
                .count();
            assert_eq!(moves == 0, status.is_final(), "{status}");
        }
        assert_eq!(ReferralStatus::INITIAL, Proposed);
    }

    #[test]
    fn amif_art_3_a_refusal_needs_a_written_reason() {
        for missing in [None, Some(""), Some("  \n\t ")] {
            assert_eq!(
                act(Proposed, Refuse, RECEIVER, missing),
                Err(RefusalWithoutReason),
                "{missing:?}"
            );
        }
        let reason = "De cliënt voldoet niet aan de doelgroepvoorwaarden van het project.";
        assert_eq!(act(Proposed, Refuse, RECEIVER, Some(reason)), Ok(Refused));
        let long = "x".repeat(MAX_TEXT_CHARS + 1);
        assert_eq!(
            act(Proposed, Refuse, RECEIVER, Some(&long)),
            Err(InvalidText {
                field: "/reason",
                problem: TextProblem::TooLong
            })
        );
    }

    #[test]
    fn art_4_an_impossible_refusal_is_a_conflict_whatever_its_reason() {
        assert_eq!(
            act(Accepted, Refuse, RECEIVER, None),
            Err(IllegalTransition {
                from: Accepted,
                event: Refuse
            })
        );
        assert_eq!(
            act(Proposed, Refuse, SENDER, None),
            Err(NotYourTurn { event: Refuse })
        );
    }

    #[test]
    fn art_4_other_events_take_an_optional_reason_that_is_checked_when_given() {
        assert_eq!(act(Proposed, Accept, RECEIVER, None), Ok(Accepted));
        assert_eq!(act(Accepted, Withdraw, SENDER, Some("")), Ok(Withdrawn));
        assert_eq!(
            act(Accepted, Withdraw, SENDER, Some("Cliënt verhuisd.")),
            Ok(Withdrawn)
        );
        assert_eq!(
            act(Accepted, Complete, RECEIVER, Some("klaar\r\n")),
            Err(InvalidText {
                field: "/reason",
                problem: TextProblem::ControlCharacter
            })
        );
    }

    #[test]
    fn amif_art_3_a_referral_between_ocmws_without_a_national_register_extract_is_refused() {
        assert_eq!(eeklo_to_gent(None).check(), Err(EvidenceRequired));
        assert_eq!(eeklo_to_gent(Some("")).check(), Err(EvidenceRequired));
        for malformed in [" ", "rr extract", "rr-extract;1", "ü", &"a".repeat(65)] {
            assert_eq!(
                eeklo_to_gent(Some(malformed)).check(),
                Err(EvidenceMalformed),
                "{malformed:?}"
            );
        }
        for fine in [
            "a",
            "RR-2024.01_x/7:b",
            &"a".repeat(64),
            "rr/2024-01-15/00012",
        ] {
            assert_eq!(
                eeklo_to_gent(Some(fine)).check(),
                Ok(OcmwToOcmw),
                "{fine:?}"
            );
        }
    }

    #[test]
    fn amif_art_3_the_evidence_reference_never_carries_the_national_register_number() {
        for leaky in [
            "rr-85073003328",
            "85073003328",
            "rr/85.07.30-033.28",
            "85.07.30-033.28",
        ] {
            assert_eq!(
                eeklo_to_gent(Some(leaky)).check(),
                Err(EvidenceLooksLikeSsin),
                "{leaky:?}"
            );
        }
        assert_eq!(check_evidence_reference("rr-8507300332"), Ok(()));
        assert_eq!(check_evidence_reference("85.07.30-033.2"), Ok(()));
    }

    #[test]
    fn art_4_referrals_with_the_agency_need_no_evidence_but_a_given_one_is_checked() {
        let gent = ("ocmw-gent", Ocmw);
        let amal = ("amal", IntegrationAgency);
        assert_eq!(new_referral(gent, amal).check(), Ok(OcmwToAgency));
        let mut with_evidence = new_referral(amal, gent);
        with_evidence.evidence_reference = Some("gpmi/2025/17".into());
        assert_eq!(with_evidence.check(), Ok(AgencyToOcmw));
        with_evidence.evidence_reference = Some("gpmi 17".into());
        assert_eq!(with_evidence.check(), Err(EvidenceMalformed));
        assert!(!OcmwToAgency.requires_evidence() && !AgencyToOcmw.requires_evidence());
        assert!(OcmwToOcmw.requires_evidence());
    }

    #[test]
    fn art_4_a_reason_is_1_to_2000_characters_without_control_characters_but_newlines() {
        let problem = |reason: &str| {
            let mut referral = new_referral(("ocmw-gent", Ocmw), ("amal", IntegrationAgency));
            referral.reason = reason.to_owned();
            match referral.check() {
                Ok(_) => None,
                Err(InvalidText {
                    field: "/reason",
                    problem,
                }) => Some(problem),
                Err(other) => panic!("{other}"),
            }
        };
        assert_eq!(problem(""), Some(TextProblem::Blank));
        assert_eq!(problem(" \n "), Some(TextProblem::Blank));
        assert_eq!(problem("a"), None);
        // Characters, not bytes: 2000 two-byte letters fit.
        assert_eq!(problem(&"é".repeat(MAX_TEXT_CHARS)), None);
        assert_eq!(
            problem(&"é".repeat(MAX_TEXT_CHARS + 1)),
            Some(TextProblem::TooLong)
        );
        assert_eq!(problem("regel 1\nregel 2"), None);
        // Right-to-left marks are needed in names written in Arabic script.
        assert_eq!(problem("naam \u{200F}محمد\u{200F}"), None);
        for forged in [
            "a\rb",
            "a\tb",
            "a\u{0}b",
            "a\u{1b}[31mb",
            "a\u{85}b",
            "a\u{202E}b",
            "a\u{2067}b",
        ] {
            assert_eq!(
                problem(forged),
                Some(TextProblem::ControlCharacter),
                "{forged:?}"
            );
        }
    }

    #[test]
    fn art_4_feedback_is_possible_while_open_and_after_completion_not_after_refusal_or_withdrawal()
    {
        for status in [Proposed, Accepted, Completed] {
            assert_eq!(
                check_feedback(status, "Cliënt startte NT2."),
                Ok(()),
                "{status}"
            );
        }
        for status in [Refused, Withdrawn] {
            assert_eq!(
                check_feedback(status, "Nog een vraag."),
                Err(FeedbackClosed { status }),
                "{status}"
            );
        }
        assert_eq!(
            check_feedback(Accepted, "   "),
            Err(InvalidText {
                field: "/message",
                problem: TextProblem::Blank
            })
        );
        assert_eq!(
            check_feedback(Accepted, &"x".repeat(MAX_TEXT_CHARS + 1)),
            Err(InvalidText {
                field: "/message",
                problem: TextProblem::TooLong
            })
        );
    }

    #[test]
    fn wire_names_are_lower_camel_case_and_equal_the_serde_names() {
        let names: Vec<_> = ReferralDirection::ALL.iter().map(|d| d.as_str()).collect();
        assert_eq!(names, ["ocmwToAgency", "agencyToOcmw", "ocmwToOcmw"]);
        let names: Vec<_> = ReferralStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            names,
            ["proposed", "accepted", "refused", "completed", "withdrawn"]
        );
        let names: Vec<_> = ReferralEvent::ALL.iter().map(|e| e.as_str()).collect();
        assert_eq!(names, ["accept", "refuse", "complete", "withdraw"]);
        for d in ReferralDirection::ALL {
            assert_eq!(ReferralDirection::parse(d.as_str()), Some(*d));
            assert_eq!(from_name::<ReferralDirection>(d.as_str()), Some(*d));
        }
        for s in ReferralStatus::ALL {
            assert_eq!(ReferralStatus::parse(s.as_str()), Some(*s));
            assert_eq!(from_name::<ReferralStatus>(s.as_str()), Some(*s));
        }
        for e in ReferralEvent::ALL {
            assert_eq!(ReferralEvent::parse(e.as_str()), Some(*e));
            assert_eq!(from_name::<ReferralEvent>(e.as_str()), Some(*e));
        }
        assert_eq!(ReferralDirection::parse("OcmwToAgency"), None);
        assert_eq!(from_name::<ReferralStatus>("Proposed"), None);
        assert_eq!(ReferralEvent::parse("accepted"), None);
    }

    #[test]
    fn errors_are_fixed_sentences_that_never_repeat_the_submitted_text() {
        assert_eq!(
            IllegalTransition {
                from: Completed,
                event: Accept
            }
            .to_string(),
            "a completed referral admits no accept"
        );
        assert_eq!(
            NotYourTurn { event: Withdraw }.to_string(),
            "only the sender of a referral may withdraw it"
        );
        assert_eq!(
            NotYourTurn { event: Complete }.to_string(),
            "only the receiver of a referral may complete it"
        );
        assert_eq!(
            InvalidText {
                field: "/reason",
                problem: TextProblem::TooLong
            }
            .to_string(),
            "/reason must be at most 2000 characters"
        );
    }
}
