//! Infractions (inbreuken) and sanction decisions (SWO art. 12, product brief §4).
//!
//! "Wanneer een inburgeraar zich niet aan de regelgeving rond inburgering houdt, begaat deze
//! een inbreuk." The integration agency follows the trajectory, so it records the infraction.
//! The gateway routes the infraction to whoever holds the sanction authority at that moment
//! (`rules::sanction_authority`). That is the OCMW "voor alle gezamenlijke cliënten die
//! (equivalent) leefloon ontvangen". For the other joint clients "behoudt Amal
//! sanctioneringsbevoegdheid voor inbreuken op het inburgeringstraject".
//!
//! The party the infraction was routed to records the decision on it. For the OCMW this is the
//! decision of its BCSD, which "oordeelt hierbij autonoom over het opleggen van een sanctie".
//! The gateway records what was decided. It never proposes a decision and never judges whether
//! one is right. For infractions routed to it, the agency records its own decision in the same
//! way, because art. 12 leaves it the sanction authority for those clients.
//!
//! The route is fixed when the infraction is recorded. If the sanction authority moves later
//! (the living wage stops, art. 13), the infraction is not re-routed. The party that held the
//! authority when it was told about the infraction decides on it. Re-routing would let an
//! infraction change hands between the moment one party starts handling it and its decision.

use crate::domain::party::PartyKind;
use crate::domain::referral::{TextProblem, check_text, wire_names};
use crate::domain::rules::Responsible;
use serde::{Deserialize, Serialize};
use time::Date;

/// The kind of infraction. The list of the decree's infractions "wordt gedefinieerd in de
/// Werkafspraken" (art. 12, footnote 5). That list is not in the agreement, so the kinds
/// below are the ones the agreement itself names, and `other` covers the rest. An `other`
/// infraction must say what it is in its description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum InfractionKind {
    /// Absent from the MO or NT2 course (SWO art. 8, 9).
    MissedCourse,
    /// No VDAB registration within two months of the integration contract (SWO art. 10).
    NoVdabRegistration,
    /// The participation and network trajectory was not followed (SWO art. 11).
    NoParticipation,
    /// An obligated client did not sign an integration contract (SWO art. 3).
    NoIntegrationContract,
    /// Any other infraction of the decree, described in words.
    Other,
}

wire_names!(InfractionKind {
    MissedCourse => "missedCourse",
    NoVdabRegistration => "noVdabRegistration",
    NoParticipation => "noParticipation",
    NoIntegrationContract => "noIntegrationContract",
    Other => "other",
});

impl InfractionKind {
    /// The article of the agreement the kind refers to.
    pub const fn article(self) -> &'static str {
        match self {
            Self::MissedCourse => "SWO art. 8, 9",
            Self::NoVdabRegistration => "SWO art. 10",
            Self::NoParticipation => "SWO art. 11",
            Self::NoIntegrationContract => "SWO art. 3",
            Self::Other => "SWO art. 12",
        }
    }
}

/// What the sanction authority decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SanctionOutcome {
    /// The authority imposes no sanction.
    NoSanction,
    /// A warning without further consequence.
    Warning,
    /// A suspension of the (equivalent) living wage (the RMI law's sanction). Only the OCMW
    /// pays a living wage, so only the OCMW can suspend one.
    Suspension,
    /// Any other decision, described in the note. An example is the agency's administrative
    /// fine under the decree.
    Other,
}

wire_names!(SanctionOutcome {
    NoSanction => "noSanction",
    Warning => "warning",
    Suspension => "suspension",
    Other => "other",
});

/// What the integration agency submits to record an infraction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInfraction {
    pub kind: InfractionKind,
    /// When the infraction happened: today at the latest.
    pub occurred_on: Date,
    /// 0 to 2000 characters, newlines allowed. Required for `other`.
    pub description: String,
}

/// A recorded infraction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Infraction {
    pub kind: InfractionKind,
    pub occurred_on: Date,
    pub description: String,
    /// The sanction authority when the infraction was recorded. Only this party decides.
    pub routed_to: Responsible,
    /// The decision, once recorded. There is at most one.
    pub decision: Option<SanctionDecision>,
}

/// A sanction decision on an infraction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SanctionDecision {
    pub decision: SanctionOutcome,
    /// When the authority decided: on or after the infraction, and today at the latest.
    pub decided_on: Date,
    /// 0 to 2000 characters, newlines allowed. Required for `other`.
    pub note: String,
}

/// Why an infraction or a decision is refused. Fixed sentences that never repeat the submitted
/// text.
///
/// HTTP mapping: `NotTheAgency` and `NotRoutedToYou` concern who is acting, so 403.
/// `AlreadyDecided` concerns the state of the infraction, so 409. All other variants reject
/// the submitted content, so 422.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InfractionError {
    #[error("only the integration agency records infractions (SWO art. 12)")]
    NotTheAgency,
    #[error("occurredOn must not be after today")]
    OccursInFuture,
    #[error("an infraction of kind other needs a description")]
    DescriptionRequired,
    #[error("{field} {problem}")]
    InvalidText {
        /// The JSON pointer of the text in the request: `/description` or `/note`.
        field: &'static str,
        problem: TextProblem,
    },
    #[error("the infraction is routed to the {}, which alone records the decision", .routed_to.as_str())]
    NotRoutedToYou { routed_to: Responsible },
    #[error("a decision on this infraction is already recorded")]
    AlreadyDecided,
    #[error("decidedOn must not be after today")]
    DecidedInFuture,
    #[error("decidedOn must not be before the infraction occurred")]
    DecidedBeforeInfraction,
    #[error("a decision of kind other needs a note")]
    NoteRequired,
    #[error("only the OCMW suspends a living wage")]
    SuspensionIsTheOcmws,
}

/// Whether a party of `kind` may record an infraction. Only the integration agency may
/// (product brief §4). It follows the trajectory in which infractions happen, and for the
/// clients whose trajectory the OCMW directs (art. 3) the OCMW learns about infractions from the
/// agency through this route. It does not record them itself. KBI only confirms attests
/// (art. 13).
pub const fn may_record(kind: PartyKind) -> bool {
    matches!(kind, PartyKind::IntegrationAgency)
}

/// Where a new infraction goes: to the sanction authority for the client at the moment of
/// recording (SWO art. 12). The sanction authority is derived from the record, and the caller
/// passes it in.
pub const fn route(sanction_authority: Responsible) -> Responsible {
    sanction_authority
}

/// The kind of party that holds a coordination role.
pub const fn party_kind(responsible: Responsible) -> PartyKind {
    match responsible {
        Responsible::Ocmw => PartyKind::Ocmw,
        Responsible::IntegrationAgency => PartyKind::IntegrationAgency,
    }
}

/// Whether a party of kind `decider` may record the decision on an infraction routed to
/// `routed_to`. The party the infraction was routed to decides and no other. The OCMW records
/// its BCSD's decision, and the agency records its own for the clients for which it keeps the
/// sanction authority (art. 12). KBI never decides.
///
/// Which OCMW decides (the competent one, which pays the living wage) is `decided_by`: a
/// party kind cannot tell two OCMWs apart.
pub const fn may_decide(routed_to: Responsible, decider: PartyKind) -> bool {
    matches!(
        (routed_to, decider),
        (Responsible::Ocmw, PartyKind::Ocmw)
            | (Responsible::IntegrationAgency, PartyKind::IntegrationAgency)
    )
}

/// Whether a party of kind `viewer`, linked to the client and acting for the purpose
/// `sanctioning`, may see an infraction routed to `routed_to`. The agency sees the infractions
/// it records; the party it was routed to sees what it must decide on (SWO art. 12). An OCMW
/// sees nothing of the infractions of a client the agency sanctions, and KBI sees none.
pub const fn may_see(routed_to: Responsible, viewer: PartyKind) -> bool {
    may_record(viewer) || may_decide(routed_to, viewer)
}

/// Whether `party` decides an infraction routed to `routed_party`: the competent party of
/// the sanctioning kind when it was recorded, and no other party of that kind (SWO art. 12:
/// the OCMW that grants the living wage sanctions, its BCSD decides; not every OCMW). An
/// infraction no competent party was routed to waits for none: nobody decides it.
pub fn decided_by(routed_party: Option<&str>, party: &str) -> bool {
    routed_party == Some(party)
}

/// Whether `party` sees an infraction: the party that recorded it, and the party it was
/// routed to (SWO art. 12), as parties, not kinds.
pub fn seen_by(recorded_by: &str, routed_party: Option<&str>, party: &str) -> bool {
    recorded_by == party || decided_by(routed_party, party)
}

impl NewInfraction {
    /// Checks the infraction's own content against `today`: it did not happen in the future,
    /// and its description is a valid free text, which is required for `other`.
    pub fn check(&self, today: Date) -> Result<(), InfractionError> {
        if self.occurred_on > today {
            return Err(InfractionError::OccursInFuture);
        }
        check_member_text(
            "/description",
            &self.description,
            self.kind == InfractionKind::Other,
            InfractionError::DescriptionRequired,
        )
    }
}

/// Checks the free text of the member at `field` (a JSON pointer); `missing` is the error
/// for a blank text where one is required.
fn check_member_text(
    field: &'static str,
    text: &str,
    required: bool,
    missing: InfractionError,
) -> Result<(), InfractionError> {
    check_text(text, required).map_err(|problem| match problem {
        TextProblem::Blank => missing,
        problem => InfractionError::InvalidText { field, problem },
    })
}

/// Records an infraction reported by a party of kind `recorder`, while the client's sanction
/// authority is `sanction_authority`. Who is acting is checked first (403), then the content
/// (422).
pub fn record(
    recorder: PartyKind,
    sanction_authority: Responsible,
    new: NewInfraction,
    today: Date,
) -> Result<Infraction, InfractionError> {
    if !may_record(recorder) {
        return Err(InfractionError::NotTheAgency);
    }
    new.check(today)?;
    Ok(Infraction {
        kind: new.kind,
        occurred_on: new.occurred_on,
        description: new.description,
        routed_to: route(sanction_authority),
        decision: None,
    })
}

impl Infraction {
    /// Checks a decision that a party of kind `decider` submits on this infraction. The
    /// checks run in this order: who is deciding (403), whether a decision already exists
    /// (409), then the content (422).
    ///
    /// A decision is recorded once. Appeals against a BCSD decision go to the labour court and
    /// do not pass through the gateway. A correction is a matter for the operators, not an
    /// overwrite through the API.
    pub fn check_decision(
        &self,
        decider: PartyKind,
        decision: &SanctionDecision,
        today: Date,
    ) -> Result<(), InfractionError> {
        if !may_decide(self.routed_to, decider) {
            return Err(InfractionError::NotRoutedToYou {
                routed_to: self.routed_to,
            });
        }
        if self.decision.is_some() {
            return Err(InfractionError::AlreadyDecided);
        }
        if decision.decided_on > today {
            return Err(InfractionError::DecidedInFuture);
        }
        if decision.decided_on < self.occurred_on {
            return Err(InfractionError::DecidedBeforeInfraction);
        }
        if decision.decision == SanctionOutcome::Suspension && self.routed_to != Responsible::Ocmw {
            return Err(InfractionError::SuspensionIsTheOcmws);
        }
        check_member_text(
            "/note",
            &decision.note,
            decision.decision == SanctionOutcome::Other,
            InfractionError::NoteRequired,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::referral::MAX_TEXT_CHARS;
    use InfractionError::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 03 - 10);
    const AGENCY: Responsible = Responsible::IntegrationAgency;
    const OCMW: Responsible = Responsible::Ocmw;
    const KINDS: [PartyKind; 3] = [
        PartyKind::Ocmw,
        PartyKind::IntegrationAgency,
        PartyKind::Kbi,
    ];

    fn missed_course() -> NewInfraction {
        NewInfraction {
            kind: InfractionKind::MissedCourse,
            occurred_on: date!(2026 - 03 - 02),
            description: "Drie lessen NT2 gemist zonder wettiging.".into(),
        }
    }

    fn routed_to(authority: Responsible) -> Infraction {
        record(
            PartyKind::IntegrationAgency,
            authority,
            missed_course(),
            TODAY,
        )
        .unwrap()
    }

    fn decision(outcome: SanctionOutcome, decided_on: Date) -> SanctionDecision {
        SanctionDecision {
            decision: outcome,
            decided_on,
            note: String::new(),
        }
    }

    fn from_name<T: for<'de> Deserialize<'de>>(name: &str) -> Option<T> {
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error, StrDeserializer};
        let deserializer: StrDeserializer<'_, Error> = name.into_deserializer();
        T::deserialize(deserializer).ok()
    }

    #[test]
    fn art_12_only_the_integration_agency_records_an_infraction() {
        for kind in KINDS {
            assert_eq!(
                may_record(kind),
                kind == PartyKind::IntegrationAgency,
                "{kind}"
            );
        }
        for kind in [PartyKind::Ocmw, PartyKind::Kbi] {
            assert_eq!(
                record(kind, OCMW, missed_course(), TODAY),
                Err(NotTheAgency),
                "{kind}"
            );
        }
    }

    #[test]
    fn art_12_an_infraction_goes_to_the_sanction_authority_of_the_moment_of_recording() {
        assert_eq!(route(OCMW), OCMW);
        assert_eq!(route(AGENCY), AGENCY);
        let infraction = routed_to(OCMW);
        assert_eq!(infraction.routed_to, OCMW);
        assert_eq!(infraction.decision, None);
        assert_eq!(routed_to(AGENCY).routed_to, AGENCY);
    }

    #[test]
    fn art_12_the_party_it_is_routed_to_decides_the_ocmw_for_its_bcsd_amal_for_its_own() {
        for routed in [OCMW, AGENCY] {
            for decider in KINDS {
                assert_eq!(
                    may_decide(routed, decider),
                    decider == party_kind(routed),
                    "{} {decider}",
                    routed.as_str()
                );
            }
        }
        let on_living_wage = routed_to(OCMW);
        let warning = decision(SanctionOutcome::Warning, TODAY);
        assert_eq!(
            on_living_wage.check_decision(PartyKind::Ocmw, &warning, TODAY),
            Ok(())
        );
        assert_eq!(
            on_living_wage.check_decision(PartyKind::IntegrationAgency, &warning, TODAY),
            Err(NotRoutedToYou { routed_to: OCMW })
        );
        let other_joint_client = routed_to(AGENCY);
        assert_eq!(
            other_joint_client.check_decision(PartyKind::IntegrationAgency, &warning, TODAY),
            Ok(())
        );
        assert_eq!(
            other_joint_client.check_decision(PartyKind::Ocmw, &warning, TODAY),
            Err(NotRoutedToYou { routed_to: AGENCY })
        );
    }

    #[test]
    fn art_12_only_the_competent_party_it_was_routed_to_decides_and_sees_it() {
        assert!(decided_by(Some("ocmw-gent"), "ocmw-gent"));
        assert!(!decided_by(Some("ocmw-gent"), "ocmw-eeklo"));
        assert!(!decided_by(None, "ocmw-eeklo"));
        assert!(seen_by("amal", Some("ocmw-gent"), "amal"));
        assert!(seen_by("amal", Some("ocmw-gent"), "ocmw-gent"));
        assert!(!seen_by("amal", Some("ocmw-gent"), "ocmw-eeklo"));
    }

    #[test]
    fn art_12_the_agency_and_the_party_routed_to_see_an_infraction_no_one_else() {
        assert!(may_see(OCMW, PartyKind::Ocmw));
        assert!(may_see(OCMW, PartyKind::IntegrationAgency));
        assert!(may_see(AGENCY, PartyKind::IntegrationAgency));
        assert!(!may_see(AGENCY, PartyKind::Ocmw));
        assert!(!may_see(OCMW, PartyKind::Kbi) && !may_see(AGENCY, PartyKind::Kbi));
    }

    #[test]
    fn art_13_kbi_neither_records_nor_decides_on_infractions() {
        assert!(!may_record(PartyKind::Kbi));
        assert!(!may_decide(OCMW, PartyKind::Kbi) && !may_decide(AGENCY, PartyKind::Kbi));
        let warning = decision(SanctionOutcome::Warning, TODAY);
        assert_eq!(
            routed_to(AGENCY).check_decision(PartyKind::Kbi, &warning, TODAY),
            Err(NotRoutedToYou { routed_to: AGENCY })
        );
    }

    #[test]
    fn art_12_an_infraction_cannot_have_occurred_after_today() {
        let mut infraction = missed_course();
        infraction.occurred_on = TODAY;
        assert_eq!(infraction.check(TODAY), Ok(()));
        infraction.occurred_on = date!(2026 - 03 - 11);
        assert_eq!(infraction.check(TODAY), Err(OccursInFuture));
    }

    #[test]
    fn art_12_a_description_is_optional_up_to_2000_characters_but_required_for_other_kinds() {
        let mut infraction = missed_course();
        infraction.description = String::new();
        assert_eq!(infraction.check(TODAY), Ok(()));
        infraction.description = "ü".repeat(MAX_TEXT_CHARS);
        assert_eq!(infraction.check(TODAY), Ok(()));
        infraction.description.push('x');
        assert_eq!(
            infraction.check(TODAY),
            Err(InvalidText {
                field: "/description",
                problem: TextProblem::TooLong
            })
        );
        infraction.description = "a\u{1b}[2Jb".into();
        assert_eq!(
            infraction.check(TODAY),
            Err(InvalidText {
                field: "/description",
                problem: TextProblem::ControlCharacter
            })
        );
        infraction.kind = InfractionKind::Other;
        for blank in ["", " \n "] {
            infraction.description = blank.into();
            assert_eq!(
                infraction.check(TODAY),
                Err(DescriptionRequired),
                "{blank:?}"
            );
        }
        infraction.description = "Weigert deelname aan intakegesprek.".into();
        assert_eq!(infraction.check(TODAY), Ok(()));
    }

    #[test]
    fn art_12_a_decision_is_dated_between_the_infraction_and_today() {
        let infraction = routed_to(OCMW);
        let on = |day| {
            infraction.check_decision(
                PartyKind::Ocmw,
                &decision(SanctionOutcome::NoSanction, day),
                TODAY,
            )
        };
        assert_eq!(on(date!(2026 - 03 - 01)), Err(DecidedBeforeInfraction));
        assert_eq!(on(date!(2026 - 03 - 02)), Ok(()));
        assert_eq!(on(TODAY), Ok(()));
        assert_eq!(on(date!(2026 - 03 - 11)), Err(DecidedInFuture));
    }

    #[test]
    fn art_12_a_decision_is_recorded_once() {
        let mut infraction = routed_to(OCMW);
        let first = decision(SanctionOutcome::Warning, TODAY);
        assert_eq!(
            infraction.check_decision(PartyKind::Ocmw, &first, TODAY),
            Ok(())
        );
        infraction.decision = Some(first.clone());
        assert_eq!(
            infraction.check_decision(PartyKind::Ocmw, &first, TODAY),
            Err(AlreadyDecided)
        );
        // Whoever is not the authority learns nothing more than that.
        assert_eq!(
            infraction.check_decision(PartyKind::IntegrationAgency, &first, TODAY),
            Err(NotRoutedToYou { routed_to: OCMW })
        );
    }

    #[test]
    fn art_12_only_the_ocmw_suspends_a_living_wage() {
        let suspension = decision(SanctionOutcome::Suspension, TODAY);
        assert_eq!(
            routed_to(OCMW).check_decision(PartyKind::Ocmw, &suspension, TODAY),
            Ok(())
        );
        assert_eq!(
            routed_to(AGENCY).check_decision(PartyKind::IntegrationAgency, &suspension, TODAY),
            Err(SuspensionIsTheOcmws)
        );
    }

    #[test]
    fn art_12_an_other_decision_needs_a_note_and_every_note_is_a_valid_text() {
        let infraction = routed_to(AGENCY);
        let mut fine = decision(SanctionOutcome::Other, TODAY);
        assert_eq!(
            infraction.check_decision(PartyKind::IntegrationAgency, &fine, TODAY),
            Err(NoteRequired)
        );
        fine.note = "Administratieve geldboete.".into();
        assert_eq!(
            infraction.check_decision(PartyKind::IntegrationAgency, &fine, TODAY),
            Ok(())
        );
        let mut warning = decision(SanctionOutcome::Warning, TODAY);
        warning.note = "a\rb".into();
        assert_eq!(
            infraction.check_decision(PartyKind::IntegrationAgency, &warning, TODAY),
            Err(InvalidText {
                field: "/note",
                problem: TextProblem::ControlCharacter
            })
        );
    }

    #[test]
    fn wire_names_are_lower_camel_case_and_equal_the_serde_names() {
        let names: Vec<_> = InfractionKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "missedCourse",
                "noVdabRegistration",
                "noParticipation",
                "noIntegrationContract",
                "other"
            ]
        );
        let names: Vec<_> = SanctionOutcome::ALL.iter().map(|o| o.as_str()).collect();
        assert_eq!(names, ["noSanction", "warning", "suspension", "other"]);
        for kind in InfractionKind::ALL {
            assert_eq!(InfractionKind::parse(kind.as_str()), Some(*kind));
            assert_eq!(from_name::<InfractionKind>(kind.as_str()), Some(*kind));
            assert!(kind.article().starts_with("SWO art. "));
        }
        for outcome in SanctionOutcome::ALL {
            assert_eq!(SanctionOutcome::parse(outcome.as_str()), Some(*outcome));
            assert_eq!(
                from_name::<SanctionOutcome>(outcome.as_str()),
                Some(*outcome)
            );
        }
        assert_eq!(InfractionKind::parse("MissedCourse"), None);
        assert_eq!(from_name::<SanctionOutcome>("no_sanction"), None);
    }
}
