//! Consent records (product brief §5, after ISO/IEC TS 27560 and HL7 FHIR Consent).
//!
//! A public authority rarely rests on consent (GDPR recital 43); the agreement adds exchange
//! "in samenspraak met de cliënt, vanuit het principe van geïnformeerde toestemming" (SWO
//! art. 5) for what goes beyond the legal minimum. A consent names who may receive which
//! categories for which purpose, on which notice, from when until when. Withdrawal is as easy
//! as giving (GDPR art. 7(3)) and takes effect at once.

use super::competence::Standing;
use super::party::PartyId;
use super::purpose::Purpose;
use super::record::field::Category;
use time::{Date, OffsetDateTime};

/// The languages of the privacy notice a client can have been informed in.
pub const LANGUAGES: [&str; 4] = ["nl", "fr", "de", "en"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub consent_id: String,
    pub client_id: String,
    pub recipient: PartyId,
    pub purpose: Purpose,
    pub categories: Vec<Category>,
    /// The version of the privacy notice the client was informed by.
    pub legal_text_version: String,
    pub language: String,
    /// Where the proof of consent is kept (a signed form's reference), never the form itself.
    pub evidence_reference: String,
    pub recorded_by_party: String,
    pub recorded_by_user: String,
    pub recorded_at: OffsetDateTime,
    pub valid_from: Date,
    pub valid_until: Option<Date>,
    pub withdrawn: Option<Withdrawal>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawal {
    pub at: OffsetDateTime,
    pub by_party: String,
    pub by_user: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentState {
    /// Valid from a later date.
    Pending,
    Active,
    Expired,
    Withdrawn,
}

impl ConsentState {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Withdrawn => "withdrawn",
        }
    }
}

impl Consent {
    /// The state on `today`. Withdrawal wins over everything: it takes effect at once.
    pub fn state(&self, today: Date) -> ConsentState {
        if self.withdrawn.is_some() {
            ConsentState::Withdrawn
        } else if today < self.valid_from {
            ConsentState::Pending
        } else if self.valid_until.is_some_and(|until| today > until) {
            ConsentState::Expired
        } else {
            ConsentState::Active
        }
    }
}

/// What a caller submits to record a consent, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConsent {
    pub recipient: PartyId,
    pub purpose: Purpose,
    pub categories: Vec<Category>,
    pub legal_text_version: String,
    pub language: String,
    pub evidence_reference: String,
    pub valid_from: Date,
    pub valid_until: Option<Date>,
}

/// A problem with one member of a submitted consent: (JSON pointer, detail).
pub type ConsentIssue = (&'static str, String);

/// What is wrong with a reference, if anything: it is short and plain, and carries no national
/// register or BIS number (it is stored, and kept in the consent history).
fn reference_issue(text: &str) -> Option<String> {
    let plain = (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/:".contains(&b));
    if !plain {
        Some("1 to 64 of letters, digits and . _ - / :".to_owned())
    } else if crate::domain::ssin::mentions_ssin(text) {
        Some("must not contain a national register or BIS number".to_owned())
    } else {
        None
    }
}

/// Checks the members that a type alone does not: references short and plain, categories
/// present and distinct, a period that ends after it starts, and consent only for purposes
/// that case work uses (audit review and monitoring never read a record).
pub fn check(consent: &NewConsent) -> Vec<ConsentIssue> {
    let mut issues = Vec::new();
    if consent.categories.is_empty() {
        issues.push(("/categories", "at least one category".to_owned()));
    }
    let mut seen = consent.categories.clone();
    seen.sort();
    seen.dedup();
    if seen.len() != consent.categories.len() {
        issues.push(("/categories", "a category is listed twice".to_owned()));
    }
    if !consent.purpose.is_case_work() {
        issues.push((
            "/purpose",
            "consent is recorded for case-work purposes only".to_owned(),
        ));
    }
    if let Some(problem) = reference_issue(&consent.legal_text_version) {
        issues.push(("/legalTextVersion", problem));
    }
    if !LANGUAGES.contains(&consent.language.as_str()) {
        issues.push(("/language", format!("one of {}", LANGUAGES.join(", "))));
    }
    // A missing reference is for `admissible` to name: a consent without its proof is refused
    // by the rules of consent, not as malformed input.
    if !consent.evidence_reference.is_empty()
        && let Some(problem) = reference_issue(&consent.evidence_reference)
    {
        issues.push(("/evidenceReference", problem));
    }

    if consent
        .valid_until
        .is_some_and(|until| until < consent.valid_from)
    {
        issues.push(("/validUntil", "must not be before validFrom".to_owned()));
    }
    issues
}

/// How far before the time of recording `validFrom` may lie: a consent given today by a client
/// in another time zone, or recorded just after midnight, is not refused for the date change.
pub const VALID_FROM_LEEWAY: time::Duration = time::Duration::hours(12);

/// The rules of who records a consent, beyond its shape (issue 13): the recipient is another
/// party than the recorder (a party does not consent to itself), the consent starts no earlier
/// than it is recorded (never backdated, GDPR art. 7(1): the controller must be able to show
/// consent was given before processing), and the proof is referenced (checked by [`check`]).
pub fn admissible(
    consent: &NewConsent,
    recorder: &PartyId,
    now: OffsetDateTime,
) -> Vec<ConsentIssue> {
    let mut issues = Vec::new();
    if consent.evidence_reference.trim().is_empty() {
        issues.push((
            "/evidenceReference",
            "the reference of the proof of consent is required (GDPR art. 7(1))".to_owned(),
        ));
    }
    if &consent.recipient == recorder {
        issues.push((
            "/recipientParty",
            "must be another party than the one recording the consent".to_owned(),
        ));
    }
    if consent.valid_from < (now - VALID_FROM_LEEWAY).date() {
        issues.push((
            "/validFrom",
            "must not be before the day the consent is recorded".to_owned(),
        ));
    }
    issues
}

/// The categories of a consent that `recorder` does not hold: a consent is recorded by the
/// party that discloses, the competent owner of what it names (SWO art. 5).
pub fn not_held(categories: &[Category], recorder: Standing) -> Vec<Category> {
    categories
        .iter()
        .copied()
        .filter(|c| !recorder.holds(*c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::competence::LinkRole;
    use crate::domain::party::PartyKind;
    use time::macros::{date, datetime};

    fn consent() -> Consent {
        Consent {
            consent_id: "c".into(),
            client_id: "x".into(),
            recipient: PartyId::parse("ocmw-gent").unwrap(),
            purpose: Purpose::TrajectoryGuidance,
            categories: vec![Category::TrajectoryProgress],
            legal_text_version: "amal-2025-01".into(),
            language: "nl".into(),
            evidence_reference: "form-42".into(),
            recorded_by_party: "amal".into(),
            recorded_by_user: "tb-1".into(),
            recorded_at: datetime!(2026-01-01 10:00 UTC),
            valid_from: date!(2026 - 01 - 01),
            valid_until: Some(date!(2026 - 12 - 31)),
            withdrawn: None,
        }
    }

    fn new_consent() -> NewConsent {
        let c = consent();
        NewConsent {
            recipient: c.recipient,
            purpose: c.purpose,
            categories: c.categories,
            legal_text_version: c.legal_text_version,
            language: c.language,
            evidence_reference: c.evidence_reference,
            valid_from: c.valid_from,
            valid_until: c.valid_until,
        }
    }

    #[test]
    fn a_consent_to_oneself_or_backdated_is_not_admissible_swo_art_5() {
        let now = datetime!(2026-03-01 10:00 UTC);
        let amal = PartyId::parse("amal").unwrap();
        let mut c = new_consent();
        c.valid_from = date!(2026 - 03 - 01);
        assert!(admissible(&c, &amal, now).is_empty());
        c.valid_from = date!(2000 - 01 - 01);
        let gent = c.recipient.clone();
        let pointers: Vec<_> = admissible(&c, &gent, now)
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(pointers, ["/recipientParty", "/validFrom"]);
        c.evidence_reference.clear();
        assert!(check(&c).is_empty());
        let pointers: Vec<_> = admissible(&c, &amal, now)
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(pointers, ["/evidenceReference", "/validFrom"]);
    }

    #[test]
    fn only_the_competent_owner_records_consent_for_its_categories_swo_art_5() {
        let categories = [Category::TrajectoryProgress, Category::Income];
        let amal = Standing::competent(PartyKind::IntegrationAgency);
        assert_eq!(not_held(&categories, amal), [Category::Income]);
        let eeklo = Standing::new(PartyKind::Ocmw, LinkRole::Involved);
        assert_eq!(not_held(&categories, eeklo), categories);
    }

    #[test]
    fn a_consent_is_active_from_its_first_to_its_last_day_inclusive() {
        let c = consent();
        assert_eq!(c.state(date!(2025 - 12 - 31)), ConsentState::Pending);
        assert_eq!(c.state(date!(2026 - 01 - 01)), ConsentState::Active);
        assert_eq!(c.state(date!(2026 - 12 - 31)), ConsentState::Active);
        assert_eq!(c.state(date!(2027 - 01 - 01)), ConsentState::Expired);
    }

    #[test]
    fn a_withdrawn_consent_is_withdrawn_at_once_gdpr_7_3() {
        let mut c = consent();
        c.withdrawn = Some(Withdrawal {
            at: datetime!(2026-06-01 09:00 UTC),
            by_party: "ocmw-gent".into(),
            by_user: "sw-1".into(),
        });
        assert_eq!(c.state(date!(2026 - 06 - 01)), ConsentState::Withdrawn);
    }

    #[test]
    fn a_well_formed_consent_has_no_issues() {
        assert!(check(&new_consent()).is_empty());
    }

    #[test]
    fn a_consent_without_categories_for_audit_review_ending_before_it_starts_is_refused() {
        let mut c = new_consent();
        c.categories.clear();
        c.purpose = Purpose::AuditReview;
        c.valid_until = Some(date!(2025 - 01 - 01));
        c.language = "xx".into();
        let pointers: Vec<_> = check(&c).into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            pointers,
            ["/categories", "/purpose", "/language", "/validUntil"]
        );
    }
}
