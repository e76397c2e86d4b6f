//! The policy compiled for the request path: a dense table indexed by (purpose, reader kind,
//! role, link role) holding, per basis, the bit set of fields granted (`sets`). `decide` ORs a few words
//! together and allocates nothing, so it costs nanoseconds on every read, event and webhook
//! delivery.
//!
//! Its speed is measured by a benchmark, never asserted by a timed test: timings on a shared,
//! busy machine make such tests flaky without proving anything.

use super::model::{Basis, Grant, KINDS, PolicyError, PolicyModel, PurposeEntry};
use super::sets::{CategorySet, FieldSet};
use crate::domain::competence::LinkRole;
use crate::domain::party::PartyKind;
use crate::domain::purpose::Purpose;
use crate::domain::record::field::{Category, Field};
use crate::domain::role::{Role, RoleSet};
use serde::Serialize;
use std::path::Path;

/// On what ground a visible field was read; the audit record names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ReadBasis {
    /// The reader owns (writes) the field (product brief §5).
    Own,
    LegalObligation,
    PublicTask,
    Consent,
}

impl ReadBasis {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Own => "own",
            Self::LegalObligation => "legalObligation",
            Self::PublicTask => "publicTask",
            Self::Consent => "consent",
        }
    }
}

impl From<Basis> for ReadBasis {
    fn from(basis: Basis) -> Self {
        match basis {
            Basis::LegalObligation => Self::LegalObligation,
            Basis::PublicTask => Self::PublicTask,
            Basis::Consent => Self::Consent,
        }
    }
}

/// Why a category was left out of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum WithheldReason {
    /// No grant lets this reader have it for this purpose.
    NotPermitted,
    /// Only consent-based grants cover it and no active consent does.
    ConsentMissing,
}

impl WithheldReason {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NotPermitted => "notPermitted",
            Self::ConsentMissing => "consentMissing",
        }
    }
}

/// The outcome of one policy decision: which fields are visible, on which basis, and which
/// categories are withheld and why.
///
/// A category is reported withheld only when none of its fields is visible. A category that
/// is partly visible (an individually granted field, or a field the reader owns) is not
/// listed, so that a response never names as withheld a category whose values it carries;
/// `explain` answers for each single field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    visible: FieldSet,
    own: FieldSet,
    legal_obligation: FieldSet,
    public_task: FieldSet,
    not_permitted: CategorySet,
    consent_missing: CategorySet,
}

impl Decision {
    pub const fn visible(&self) -> FieldSet {
        self.visible
    }

    pub const fn is_visible(&self, field: Field) -> bool {
        self.visible.contains(field)
    }

    /// The basis on which a visible field is read; `None` when it is not visible.
    pub const fn basis(&self, field: Field) -> Option<ReadBasis> {
        if !self.visible.contains(field) {
            None
        } else if self.own.contains(field) {
            Some(ReadBasis::Own)
        } else if self.legal_obligation.contains(field) {
            Some(ReadBasis::LegalObligation)
        } else if self.public_task.contains(field) {
            Some(ReadBasis::PublicTask)
        } else {
            Some(ReadBasis::Consent)
        }
    }

    /// The decision with only those consent-based fields that `consented` opens: a field its
    /// owner did not consent to disclose stays hidden, and a category left with nothing visible
    /// is withheld for want of consent.
    pub fn within(mut self, consented: &Consented) -> Self {
        let by_consent = self
            .visible
            .difference(self.own)
            .difference(self.legal_obligation)
            .difference(self.public_task);
        let closed = by_consent.difference(consented.fields);
        if closed.is_empty() {
            return self;
        }
        self.visible = self.visible.difference(closed);
        for category in Category::ALL {
            let fields = FieldSet::of_category(category);
            if !closed.intersection(fields).is_empty()
                && self.visible.intersection(fields).is_empty()
            {
                self.consent_missing.insert(category);
            }
        }
        self
    }

    pub const fn withheld_reason(&self, category: Category) -> Option<WithheldReason> {
        if self.consent_missing.contains(category) {
            Some(WithheldReason::ConsentMissing)
        } else if self.not_permitted.contains(category) {
            Some(WithheldReason::NotPermitted)
        } else {
            None
        }
    }

    /// The withheld categories in `Category::ALL` order.
    pub fn withheld(&self) -> impl Iterator<Item = (Category, WithheldReason)> + use<> {
        let this = *self;
        Category::ALL
            .into_iter()
            .filter_map(move |c| this.withheld_reason(c).map(|r| (c, r)))
    }
}

const ROLES: usize = Role::ALL.len();
const LINKS: usize = LinkRole::ALL.len();
const CELLS: usize = Purpose::ALL.len() * KINDS.len() * ROLES * LINKS;

/// What the client's active consents open to one reader: the categories consented, and of
/// their fields those the party that recorded each consent could disclose — its kind's own
/// fields and the derived values (SWO art. 5: the one who holds the data asks the client). A
/// consent to a category that several kinds own (`financial`) opens only the recorder's part.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Consented {
    pub categories: CategorySet,
    pub fields: FieldSet,
}

impl FromIterator<(Category, PartyKind)> for Consented {
    fn from_iter<I: IntoIterator<Item = (Category, PartyKind)>>(consents: I) -> Self {
        let derived: FieldSet = Field::ALL
            .iter()
            .copied()
            .filter(|f| f.is_derived())
            .collect();
        let mut consented = Self::default();
        for (category, recorder) in consents {
            consented.categories.insert(category);
            let disclosable = FieldSet::owned_by(recorder).union(derived);
            let opened = FieldSet::of_category(category).intersection(disclosable);
            consented.fields = consented.fields.union(opened);
        }
        consented
    }
}

/// Who reads a record: the purpose declared, the party's kind, the roles it acts in, and the
/// role of its link to the client (issue 13: authority by party, not by kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reader {
    pub purpose: Purpose,
    pub kind: PartyKind,
    pub acting_roles: RoleSet,
    pub link: LinkRole,
}

impl Reader {
    /// The competent party of `kind`.
    pub const fn competent(purpose: Purpose, kind: PartyKind, acting_roles: RoleSet) -> Self {
        Self {
            purpose,
            kind,
            acting_roles,
            link: LinkRole::Competent,
        }
    }
}

/// The fields granted to one (purpose, kind, role), per basis, before the best basis is chosen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Cell {
    pub legal_obligation: FieldSet,
    pub public_task: FieldSet,
    pub consent: FieldSet,
}

impl Cell {
    fn union(self, other: Cell) -> Cell {
        Cell {
            legal_obligation: self.legal_obligation.union(other.legal_obligation),
            public_task: self.public_task.union(other.public_task),
            consent: self.consent.union(other.consent),
        }
    }

    /// Each field under its best basis only: a legal basis beats consent, so a consent grant
    /// never downgrades a field a legal grant already gives.
    pub(super) fn resolved(self) -> Cell {
        let public_task = self.public_task.difference(self.legal_obligation);
        let legal = self.legal_obligation.union(public_task);
        Cell {
            legal_obligation: self.legal_obligation,
            public_task,
            consent: self.consent.difference(legal),
        }
    }

    pub(super) fn basis(self, field: Field) -> Option<Basis> {
        let r = self.resolved();
        if r.legal_obligation.contains(field) {
            Some(Basis::LegalObligation)
        } else if r.public_task.contains(field) {
            Some(Basis::PublicTask)
        } else if r.consent.contains(field) {
            Some(Basis::Consent)
        } else {
            None
        }
    }
}

const fn cell_index(purpose: Purpose, kind: PartyKind, role: Role, link: LinkRole) -> usize {
    ((purpose as usize * KINDS.len() + kind as usize) * ROLES + role as usize) * LINKS
        + link as usize
}

/// A loaded, validated and compiled policy.
#[derive(Debug, Clone)]
pub struct Policy {
    pub(super) model: PolicyModel,
    version: String,
    table: [Cell; CELLS],
}

impl Policy {
    /// Reads, validates and compiles the policy file; any error stops start-up.
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let bytes = std::fs::read(path).map_err(|e| PolicyError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::from_bytes(&bytes)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PolicyError> {
        let source = std::str::from_utf8(bytes)
            .map_err(|_| PolicyError::Parse("the file is not UTF-8".into()))?;
        let model = PolicyModel::parse(source)?;
        let version = format!("{}+{}", model.version, digest16(bytes));
        let mut table = [Cell::default(); CELLS];
        for grant in &model.grants {
            let fields = grant.field_set();
            for role in grant.roles.iter() {
                for link in &grant.link_roles {
                    let index = cell_index(grant.purpose, grant.party_kind, role, *link);
                    let cell = &mut table[index];
                    match grant.basis {
                        Basis::LegalObligation => cell.legal_obligation.insert_all(fields),
                        Basis::PublicTask => cell.public_task.insert_all(fields),
                        Basis::Consent => cell.consent.insert_all(fields),
                    }
                }
            }
        }
        Ok(Self {
            model,
            version,
            table,
        })
    }

    /// `<version>+<first 16 hex digits of the file's SHA-256>`: written in every audit record,
    /// it changes with any edit to the file, even one made without bumping `version`.
    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn grants(&self) -> &[Grant] {
        &self.model.grants
    }

    pub fn purpose_entry(&self, purpose: Purpose) -> Option<&PurposeEntry> {
        self.model
            .purposes
            .iter()
            .find(|(p, _)| *p == purpose)
            .map(|(_, e)| e)
    }

    /// The grants of the acting roles together; roles that may not use the purpose (as
    /// `Purpose::permits` says) count for nothing, nor does a purpose that reads no record.
    pub(super) fn cell(&self, reader: Reader) -> (Cell, bool) {
        let Reader {
            purpose,
            kind,
            acting_roles,
            link,
        } = reader;
        let mut cell = Cell::default();
        let mut may_act = false;
        for role in acting_roles.iter() {
            if purpose.permits(kind, role) {
                may_act = true;
                cell = cell.union(self.table[cell_index(purpose, kind, role, link)]);
            }
        }
        (cell, may_act && purpose.is_case_work())
    }

    /// Which fields the competent party of `kind`, acting in `acting_roles` for `purpose`, may
    /// read of a client's record, given the categories with an active consent for it.
    pub fn decide(
        &self,
        purpose: Purpose,
        kind: PartyKind,
        acting_roles: RoleSet,
        consented: CategorySet,
    ) -> Decision {
        self.decide_for(Reader::competent(purpose, kind, acting_roles), consented)
    }

    /// Which fields `reader` may read of a client's record, given the categories with an
    /// active consent for it. Deny by default; only a competent reader reads its kind's fields
    /// as its own, an involved one reads what grants give it.
    pub fn decide_for(&self, reader: Reader, consented: CategorySet) -> Decision {
        let (cell, reads_records) = self.cell(reader);
        let own = if reads_records && reader.link == LinkRole::Competent {
            FieldSet::owned_by(reader.kind)
        } else {
            FieldSet::EMPTY
        };
        let granted = cell.resolved();
        let legal_obligation = granted.legal_obligation.difference(own);
        let public_task = granted.public_task.difference(own);
        let consent = granted
            .consent
            .intersection(consented.fields())
            .difference(own);
        let visible = own
            .union(legal_obligation)
            .union(public_task)
            .union(consent);
        let mut not_permitted = CategorySet::EMPTY;
        let mut consent_missing = CategorySet::EMPTY;
        for category in Category::ALL {
            let fields = FieldSet::of_category(category);
            if !visible.intersection(fields).is_empty() {
                continue;
            }
            // Nothing visible, so any consent grant here lacks its consent.
            if granted.consent.intersection(fields).is_empty() {
                not_permitted.insert(category);
            } else {
                consent_missing.insert(category);
            }
        }
        Decision {
            visible,
            own,
            legal_obligation,
            public_task,
            not_permitted,
            consent_missing,
        }
    }
}

fn digest16(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    digest.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::{for_random_decisions, oracle, roles, shipped};
    use super::*;
    use PartyKind::*;
    use Purpose::*;

    const REGISTER: &str = "[purposes.trajectoryGuidance]\ndescription = \"d\"\nlegal_reference = \"l\"\nretention = \"r\"\n";

    fn policy(grants: &str) -> Policy {
        Policy::from_bytes(format!("version = \"t\"\n{REGISTER}{grants}").as_bytes()).unwrap()
    }

    #[test]
    fn the_shipped_policy_loads() {
        let policy = shipped();
        assert!(!policy.grants().is_empty());
        let (declared, digest) = policy.version().split_once('+').unwrap();
        assert!(!declared.is_empty());
        assert_eq!(digest.len(), 16);
        assert!(digest.bytes().all(|b| b.is_ascii_hexdigit()));
        let on_disk = Policy::load(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/config/policy.toml"
        )))
        .unwrap();
        assert_eq!(on_disk.version(), policy.version());
    }

    #[test]
    fn the_shipped_ocmw_without_consent_sees_trajectory_progress_withheld_as_consent_missing() {
        let policy = shipped();
        for purpose in [TrajectoryGuidance, SocialAssistance] {
            let d = policy.decide(purpose, Ocmw, roles(&["caseWorker"]), CategorySet::EMPTY);
            assert_eq!(
                d.withheld_reason(Category::TrajectoryProgress),
                Some(WithheldReason::ConsentMissing)
            );
            assert!(d.is_visible(Field::IntegrationStatus) && d.is_visible(Field::Direction));
            assert!(!d.is_visible(Field::Nt2Level));
            let given = CategorySet::of(Category::TrajectoryProgress);
            let d = policy.decide(purpose, Ocmw, roles(&["caseWorker"]), given);
            assert_eq!(d.basis(Field::Nt2Level), Some(ReadBasis::Consent));
        }
    }

    #[test]
    fn the_shipped_policy_gives_kbi_and_the_review_roles_nothing_of_others() {
        let policy = shipped();
        // Registering an attest is not case work: KBI reads no record (SWO art. 13).
        let d = policy.decide(
            AttestRegistration,
            Kbi,
            roles(&["system"]),
            CategorySet::ALL,
        );
        assert!(d.visible().is_empty());
        for (purpose, role) in [(AuditReview, "privacyOfficer"), (Monitoring, "coordinator")] {
            let d = policy.decide(purpose, Ocmw, roles(&[role]), CategorySet::ALL);
            assert!(d.visible().is_empty());
            assert_eq!(d.withheld().count(), Category::ALL.len());
        }
    }

    #[test]
    fn a_consent_opens_only_what_its_recorder_owns_of_a_shared_category_swo_art_5() {
        let policy = shipped();
        let eeklo = Reader {
            link: LinkRole::Involved,
            ..Reader::competent(TrajectoryGuidance, Ocmw, roles(&["caseWorker"]))
        };
        // Amal consents to `financial` for an OCMW: its fee status, not the OCMW's allowance.
        let by_amal: Consented = [(Category::Financial, IntegrationAgency)]
            .into_iter()
            .collect();
        let d = policy
            .decide_for(eeklo, by_amal.categories)
            .within(&by_amal);
        assert_eq!(d.basis(Field::RetributionStatus), Some(ReadBasis::Consent));
        assert!(!d.is_visible(Field::IncreasedAllowance));
        // A consent recorded by a party of no owning kind opens nothing of the category.
        let by_kbi: Consented = [(Category::TrajectoryProgress, Kbi)].into_iter().collect();
        let d = policy.decide_for(eeklo, by_kbi.categories).within(&by_kbi);
        assert!(!d.is_visible(Field::Nt2Level) && !d.is_visible(Field::MoStatus));
        // With nothing of it left visible, a category is withheld for want of consent.
        let d = policy
            .decide_for(eeklo, by_amal.categories)
            .within(&Consented::default());
        assert_eq!(
            d.withheld_reason(Category::Financial),
            Some(WithheldReason::ConsentMissing)
        );
    }

    #[test]
    fn deny_by_default() {
        let policy = policy("");
        let d = policy.decide(
            TrajectoryGuidance,
            Ocmw,
            roles(&["caseWorker"]),
            CategorySet::ALL,
        );
        assert_eq!(d.visible(), FieldSet::owned_by(Ocmw));
        assert_eq!(
            d.withheld_reason(Category::Coordination),
            Some(WithheldReason::NotPermitted)
        );
        assert_eq!(d.withheld_reason(Category::Income), None);
        // A role that may not use the purpose reads nothing at all, not even its own fields.
        let d = policy.decide(
            TrajectoryGuidance,
            Ocmw,
            roles(&["coordinator"]),
            CategorySet::ALL,
        );
        assert!(d.visible().is_empty());
    }

    #[test]
    fn own_fields_are_always_visible_for_a_purpose_the_party_may_use() {
        let policy = policy("");
        for purpose in Purpose::ALL.into_iter().filter(|p| p.is_case_work()) {
            for kind in KINDS {
                for role in Role::ALL.into_iter().filter(|r| purpose.permits(kind, *r)) {
                    let d = policy.decide(
                        purpose,
                        kind,
                        RoleSet::from_iter([role]),
                        CategorySet::EMPTY,
                    );
                    for field in FieldSet::owned_by(kind).iter() {
                        assert_eq!(
                            d.basis(field),
                            Some(ReadBasis::Own),
                            "{purpose} {kind} {field}"
                        );
                    }
                }
            }
        }
    }

    const CONSENT_PROGRESS: &str = "[[grants]]\npurpose = \"trajectoryGuidance\"\nparty_kind = \"ocmw\"\nroles = [\"caseWorker\"]\ncategories = [\"trajectoryProgress\"]\nbasis = \"consent\"\nreason = \"SWO art. 5\"\n";

    #[test]
    fn consent_turns_consent_missing_into_visible() {
        let policy = policy(CONSENT_PROGRESS);
        let cw = roles(&["caseWorker"]);
        let without = policy.decide(TrajectoryGuidance, Ocmw, cw, CategorySet::EMPTY);
        assert_eq!(
            without.withheld().collect::<Vec<_>>()[..2],
            [
                (Category::IntegrationStatus, WithheldReason::NotPermitted),
                (Category::Activation, WithheldReason::NotPermitted)
            ]
        );
        assert_eq!(
            without.withheld_reason(Category::TrajectoryProgress),
            Some(WithheldReason::ConsentMissing)
        );
        // Consent to another category does not help.
        let other = policy.decide(
            TrajectoryGuidance,
            Ocmw,
            cw,
            CategorySet::of(Category::Activation),
        );
        assert!(!other.is_visible(Field::Nt2Level));
        let with = policy.decide(
            TrajectoryGuidance,
            Ocmw,
            cw,
            CategorySet::of(Category::TrajectoryProgress),
        );
        for field in Field::in_category(Category::TrajectoryProgress) {
            assert_eq!(with.basis(field), Some(ReadBasis::Consent));
        }
        assert_eq!(with.withheld_reason(Category::TrajectoryProgress), None);
    }

    #[test]
    fn a_legal_grant_is_not_downgraded_by_a_consent_grant() {
        let legal = CONSENT_PROGRESS
            .replace("consent", "legalObligation")
            .replace(
                "categories = [\"trajectoryProgress\"]",
                "fields = [\"nt2Level\"]",
            )
            .replace("caseWorker", "system");
        let policy = policy(&format!("{CONSENT_PROGRESS}{legal}"));
        let both = roles(&["caseWorker", "system"]);
        for consented in [CategorySet::EMPTY, CategorySet::ALL] {
            let d = policy.decide(TrajectoryGuidance, Ocmw, both, consented);
            assert_eq!(d.basis(Field::Nt2Level), Some(ReadBasis::LegalObligation));
        }
        let d = policy.decide(TrajectoryGuidance, Ocmw, both, CategorySet::EMPTY);
        assert!(!d.is_visible(Field::MoStatus));
        // Partly visible through the field grant: not reported as withheld.
        assert_eq!(d.withheld_reason(Category::TrajectoryProgress), None);
    }

    #[test]
    fn the_version_changes_when_the_file_bytes_change() {
        let source = format!("version = \"t\"\n{REGISTER}{CONSENT_PROGRESS}");
        let a = Policy::from_bytes(source.as_bytes()).unwrap();
        let b = Policy::from_bytes(format!("{source}# a comment\n").as_bytes()).unwrap();
        assert!(a.version().starts_with("t+") && b.version().starts_with("t+"));
        assert_ne!(a.version(), b.version());
        let again = Policy::from_bytes(source.as_bytes()).unwrap();
        assert_eq!(a.version(), again.version());
    }

    #[test]
    fn for_random_policies_decide_never_shows_a_field_no_grant_nor_ownership_allows() {
        for_random_decisions(0x5eed_f00d, (300, 40), 3, |policy, reader, d| {
            for &field in Field::ALL {
                let expected = oracle(policy, reader, field);
                assert_eq!(d.basis(field), expected, "{reader:?} {field}");
                assert_eq!(d.is_visible(field), expected.is_some());
            }
            for (category, _) in d.withheld() {
                assert!(Field::in_category(category).all(|f| !d.is_visible(f)));
            }
        });
    }
}
