//! The policy file (product brief §5): its TOML shape, and the validation that turns it into
//! typed grants — or stops start-up with an error naming the grant and key at fault.
//!
//! ```toml
//! version = "2024.1"
//!
//! [purposes.trajectoryGuidance]        # one register entry per purpose (GDPR art. 30)
//! description = "…"
//! legal_reference = "…"
//! retention = "…"
//!
//! [[grants]]
//! purpose = "trajectoryGuidance"
//! party_kind = "ocmw"                   # the reader's kind
//! roles = ["caseWorker", "system"]
//! categories = ["attest"]               # and/or
//! fields = ["direction"]
//! basis = "publicTask"                  # legalObligation | publicTask | consent
//! link_roles = ["competent", "involved"] # the reader's link to the client (default: both)
//! reason = "SWO art. 13: …"
//! ```
//!
//! Names are kept as strings in the raw structs and parsed here, so that an unknown name is
//! reported as `policy grants[3].categories[1]: unknown category "foo"` rather than as a
//! deserialiser message about enum variants.

use super::sets::FieldSet;
use crate::domain::competence::LinkRole;
use crate::domain::party::PartyKind;
use crate::domain::purpose::Purpose;
use crate::domain::record::field::{Category, Field};
use crate::domain::role::{Role, RoleSet};
use figment::Figment;
use figment::providers::{Format, Toml};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    #[error("policy {path}: {message}")]
    Io { path: String, message: String },
    #[error("policy: {0}")]
    Parse(String),
    #[error("policy {key}: {message}")]
    Invalid { key: String, message: String },
}

fn invalid(key: impl Into<String>, message: impl Into<String>) -> PolicyError {
    PolicyError::Invalid {
        key: key.into(),
        message: message.into(),
    }
}

/// The ground on which a grant lets a party read. Declared weakest first so that `max` picks
/// the best: a legal basis never needs a consent record, and between the two legal bases the
/// more specific legal obligation (GDPR art. 6(1)(c)) is the one recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Basis {
    /// GDPR art. 6(1)(a): an active consent record for the category is needed (SWO art. 5).
    Consent,
    /// GDPR art. 6(1)(e): the reader's public task.
    PublicTask,
    /// GDPR art. 6(1)(c): a legal obligation on the reader.
    LegalObligation,
}

impl Basis {
    pub const ALL: [Basis; 3] = [Basis::Consent, Basis::PublicTask, Basis::LegalObligation];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Consent => "consent",
            Self::PublicTask => "publicTask",
            Self::LegalObligation => "legalObligation",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.as_str() == name)
    }

    pub const fn needs_consent(self) -> bool {
        matches!(self, Self::Consent)
    }
}

pub(crate) const KINDS: [PartyKind; 3] = [
    PartyKind::Ocmw,
    PartyKind::IntegrationAgency,
    PartyKind::Kbi,
];

fn parse_kind(name: &str) -> Option<PartyKind> {
    KINDS.into_iter().find(|k| k.as_str() == name)
}

/// One validated grant, kept as written so that explain and the register can cite it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub purpose: Purpose,
    pub party_kind: PartyKind,
    pub roles: RoleSet,
    /// The roles of the reader's link to the client the grant applies to: a competent party
    /// reads what its kind is granted, an involved one (a partner OCMW that referred the
    /// client) only what a grant naming `involved` gives it.
    pub link_roles: Vec<LinkRole>,
    pub categories: Vec<Category>,
    pub fields: Vec<Field>,
    pub basis: Basis,
    pub reason: String,
}

impl Grant {
    /// Every field the grant names, its categories expanded.
    pub fn field_set(&self) -> FieldSet {
        let by_category = self.categories.iter().fold(FieldSet::EMPTY, |set, c| {
            set.union(FieldSet::of_category(*c))
        });
        by_category.union(self.fields.iter().copied().collect())
    }

    /// Whether the grant names `field` through one of its categories (rather than by name).
    pub fn covers_by_category(&self, field: Field) -> bool {
        self.categories.contains(&field.category())
    }
}

/// A purpose's entry in the register of processing activities (GDPR art. 30(1)(b), (f)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurposeEntry {
    pub description: String,
    pub legal_reference: String,
    pub retention: String,
}

/// The validated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyModel {
    /// The version string as written (the effective version adds the file digest).
    pub version: String,
    /// Register entries in `Purpose::ALL` order.
    pub purposes: Vec<(Purpose, PurposeEntry)>,
    pub grants: Vec<Grant>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    version: Option<String>,
    #[serde(default)]
    purposes: BTreeMap<String, RawPurpose>,
    #[serde(default)]
    grants: Vec<RawGrant>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPurpose {
    description: Option<String>,
    legal_reference: Option<String>,
    retention: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrant {
    purpose: Option<String>,
    party_kind: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    link_roles: Option<Vec<String>>,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    fields: Vec<String>,
    basis: Option<String>,
    reason: Option<String>,
}

/// A required, non-blank text value.
fn text(key: &str, value: Option<String>) -> Result<String, PolicyError> {
    match value {
        Some(v) if !v.trim().is_empty() => Ok(v),
        Some(_) => Err(invalid(key, "must not be empty")),
        None => Err(invalid(key, "missing")),
    }
}

impl PolicyModel {
    pub fn parse(source: &str) -> Result<Self, PolicyError> {
        let raw: RawPolicy = Figment::from(Toml::string(source))
            .extract()
            .map_err(|e| PolicyError::Parse(e.to_string()))?;
        let version = text("version", raw.version)?;
        // The effective version is `<version>+<digest>`; a '+' or a space inside would make
        // the audit record's version ambiguous.
        if !version.chars().all(|c| c.is_ascii_graphic() && c != '+') || version.len() > 64 {
            return Err(invalid(
                "version",
                "1 to 64 visible ASCII characters, no '+'",
            ));
        }
        let grants = raw
            .grants
            .into_iter()
            .enumerate()
            .map(|(i, g)| validate_grant(i, g))
            .collect::<Result<Vec<_>, _>>()?;
        let purposes = validate_purposes(raw.purposes, &grants)?;
        Ok(Self {
            version,
            purposes,
            grants,
        })
    }
}

fn validate_purposes(
    raw: BTreeMap<String, RawPurpose>,
    grants: &[Grant],
) -> Result<Vec<(Purpose, PurposeEntry)>, PolicyError> {
    let mut entries = Vec::with_capacity(raw.len());
    for (name, entry) in raw {
        let key = |k: &str| format!("purposes.{name}.{k}");
        let purpose: Purpose = name
            .parse()
            .map_err(|_| invalid(format!("purposes.{name}"), "unknown purpose"))?;
        let entry = PurposeEntry {
            description: text(&key("description"), entry.description)?,
            legal_reference: text(&key("legal_reference"), entry.legal_reference)?,
            retention: text(&key("retention"), entry.retention)?,
        };
        entries.push((purpose, entry));
    }
    entries.sort_by_key(|(p, _)| *p as usize);
    // A purpose under which data is disclosed must appear in the register (GDPR art. 30).
    if let Some((i, g)) = grants
        .iter()
        .enumerate()
        .find(|(_, g)| !entries.iter().any(|(p, _)| *p == g.purpose))
    {
        return Err(invalid(
            format!("purposes.{}", g.purpose),
            format!("missing register entry for a purpose granted by grants[{i}]"),
        ));
    }
    Ok(entries)
}

/// The link roles a grant names, both when it names none.
fn validate_link_roles(i: usize, raw: Option<Vec<String>>) -> Result<Vec<LinkRole>, PolicyError> {
    let Some(names) = raw else {
        return Ok(LinkRole::ALL.to_vec());
    };
    if names.is_empty() {
        return Err(invalid(
            format!("grants[{i}].link_roles"),
            "at least one link role",
        ));
    }
    let mut roles = Vec::with_capacity(names.len());
    for (r, name) in names.iter().enumerate() {
        let at = format!("grants[{i}].link_roles[{r}]");
        let role = LinkRole::parse(name).ok_or_else(|| {
            invalid(
                &at,
                format!("unknown link role {name:?} (competent or involved)"),
            )
        })?;
        if roles.contains(&role) {
            return Err(invalid(at, "duplicate link role"));
        }
        roles.push(role);
    }
    Ok(roles)
}

fn validate_grant(i: usize, raw: RawGrant) -> Result<Grant, PolicyError> {
    let key = |k: &str| format!("grants[{i}].{k}");
    let purpose_name = text(&key("purpose"), raw.purpose)?;
    let purpose: Purpose = purpose_name
        .parse()
        .map_err(|_| invalid(key("purpose"), format!("unknown purpose {purpose_name:?}")))?;
    // The audit review and the monitoring work on the log and on aggregates; a grant there
    // would turn the privacy officer or the coordinator into a reader of case data.
    if !purpose.is_case_work() {
        return Err(invalid(
            key("purpose"),
            format!("{purpose} reads no record fields and takes no grants"),
        ));
    }
    let kind_name = text(&key("party_kind"), raw.party_kind)?;
    let party_kind = parse_kind(&kind_name).ok_or_else(|| {
        invalid(
            key("party_kind"),
            format!("unknown party kind {kind_name:?}"),
        )
    })?;
    let basis_name = text(&key("basis"), raw.basis)?;
    let basis = Basis::parse(&basis_name).ok_or_else(|| {
        invalid(
            key("basis"),
            format!("unknown basis {basis_name:?} (legalObligation, publicTask or consent)"),
        )
    })?;
    let reason = text(&key("reason"), raw.reason)?;

    if raw.roles.is_empty() {
        return Err(invalid(key("roles"), "at least one role"));
    }
    let mut roles = RoleSet::EMPTY;
    for (r, name) in raw.roles.iter().enumerate() {
        let role: Role = name.parse().map_err(|_| {
            invalid(
                key(&format!("roles[{r}]")),
                format!("unknown role {name:?}"),
            )
        })?;
        if roles.contains(role) {
            return Err(invalid(key(&format!("roles[{r}]")), "duplicate role"));
        }
        if !purpose.permits(party_kind, role) {
            return Err(invalid(
                key(&format!("roles[{r}]")),
                format!("a {party_kind} {role} may not use purpose {purpose}"),
            ));
        }
        roles.insert(role);
    }

    let link_roles = validate_link_roles(i, raw.link_roles)?;
    // Only an involved reader can need a grant of what its kind owns (the competent one always
    // reads it), so such a grant must say it is for involved readers alone.
    let owner_reads = link_roles != [LinkRole::Involved];
    if raw.categories.is_empty() && raw.fields.is_empty() {
        return Err(invalid(
            format!("grants[{i}]"),
            "grants nothing: name categories or fields",
        ));
    }
    let mut categories = Vec::with_capacity(raw.categories.len());
    for (c, name) in raw.categories.iter().enumerate() {
        let at = key(&format!("categories[{c}]"));
        let category = Category::parse(name)
            .ok_or_else(|| invalid(&at, format!("unknown category {name:?}")))?;
        if categories.contains(&category) {
            return Err(invalid(at, "duplicate category"));
        }
        // Granting a party what it owns changes nothing and suggests a misread policy.
        if owner_reads && Field::in_category(category).all(|f| f.is_owned_by(party_kind)) {
            return Err(invalid(
                at,
                format!(
                    "{category} is owned by {party_kind}, whose competent party always reads it \
                     (grant it with link_roles = [\"involved\"] only)"
                ),
            ));
        }
        categories.push(category);
    }
    let mut fields = Vec::with_capacity(raw.fields.len());
    for (f, name) in raw.fields.iter().enumerate() {
        let at = key(&format!("fields[{f}]"));
        let field =
            Field::parse(name).ok_or_else(|| invalid(&at, format!("unknown field {name:?}")))?;
        if fields.contains(&field) {
            return Err(invalid(at, "duplicate field"));
        }
        if owner_reads && field.is_owned_by(party_kind) {
            return Err(invalid(
                at,
                format!(
                    "{field} is owned by {party_kind}, whose competent party always reads it \
                     (grant it with link_roles = [\"involved\"] only)"
                ),
            ));
        }
        fields.push(field);
    }
    Ok(Grant {
        purpose,
        party_kind,
        roles,
        link_roles,
        categories,
        fields,
        basis,
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGISTER: &str = r#"
        [purposes.trajectoryGuidance]
        description = "d"
        legal_reference = "l"
        retention = "r"
    "#;

    /// A one-grant policy in which `line` replaces or adds one key of a valid grant.
    fn with_grant(grant: &str) -> String {
        format!("version = \"t\"\n{REGISTER}\n[[grants]]\n{grant}\n")
    }

    const VALID: &str = r#"purpose = "trajectoryGuidance"
party_kind = "ocmw"
roles = ["caseWorker"]
categories = ["attest"]
basis = "publicTask"
reason = "SWO art. 13""#;

    fn refused(source: &str) -> String {
        PolicyModel::parse(source).unwrap_err().to_string()
    }

    #[test]
    fn a_valid_grant_is_parsed_into_typed_values() {
        let model = PolicyModel::parse(&with_grant(VALID)).unwrap();
        let grant = &model.grants[0];
        assert_eq!(grant.party_kind, PartyKind::Ocmw);
        assert_eq!(grant.categories, vec![Category::Attest]);
        assert_eq!(grant.basis, Basis::PublicTask);
        assert!(grant.field_set().contains(Field::Attest));
    }

    #[test]
    fn an_involved_reader_may_be_granted_what_its_kind_owns() {
        let grant = VALID.replace(
            "categories = [\"attest\"]",
            "categories = [\"income\"]\nlink_roles = [\"involved\"]",
        );
        let model = PolicyModel::parse(&with_grant(&grant)).unwrap();
        assert_eq!(model.grants[0].link_roles, [LinkRole::Involved]);
        let model = PolicyModel::parse(&with_grant(VALID)).unwrap();
        assert_eq!(model.grants[0].link_roles, LinkRole::ALL);
    }

    #[test]
    fn each_kind_of_invalid_grant_is_refused_naming_the_grant_and_key() {
        let cases: [(&str, &str, &str); 16] = [
            (
                "reason = \"SWO art. 13\"",
                "reason = \"SWO art. 13\"\nlink_roles = [\"owner\"]",
                "grants[0].link_roles[0]: unknown link role \"owner\"",
            ),
            (
                "categories = [\"attest\"]",
                "categories = [\"income\"]\nlink_roles = [\"competent\", \"involved\"]",
                "grants[0].categories[0]: income is owned by ocmw",
            ),
            (
                "purpose = \"trajectoryGuidance\"",
                "purpose = \"gossip\"",
                "grants[0].purpose: unknown purpose \"gossip\"",
            ),
            (
                "party_kind = \"ocmw\"",
                "party_kind = \"bank\"",
                "grants[0].party_kind: unknown party kind \"bank\"",
            ),
            (
                "roles = [\"caseWorker\"]",
                "roles = [\"caseWorker\", \"admin\"]",
                "grants[0].roles[1]: unknown role \"admin\"",
            ),
            (
                "categories = [\"attest\"]",
                "categories = [\"attest\", \"foo\"]",
                "grants[0].categories[1]: unknown category \"foo\"",
            ),
            (
                "categories = [\"attest\"]",
                "fields = [\"shoeSize\"]",
                "grants[0].fields[0]: unknown field \"shoeSize\"",
            ),
            (
                "basis = \"publicTask\"",
                "basis = \"vitalInterest\"",
                "grants[0].basis: unknown basis \"vitalInterest\"",
            ),
            ("reason = \"SWO art. 13\"", "", "grants[0].reason: missing"),
            (
                "reason = \"SWO art. 13\"",
                "reason = \"  \"",
                "grants[0].reason: must not be empty",
            ),
            ("categories = [\"attest\"]", "", "grants[0]: grants nothing"),
            (
                "roles = [\"caseWorker\"]",
                "roles = []",
                "grants[0].roles: at least one role",
            ),
            (
                "roles = [\"caseWorker\"]",
                "roles = [\"coordinator\"]",
                "grants[0].roles[0]: a ocmw coordinator may not use purpose trajectoryGuidance",
            ),
            (
                "party_kind = \"ocmw\"",
                "party_kind = \"kbi\"\n",
                "grants[0].roles[0]: a kbi caseWorker may not use",
            ),
            (
                "categories = [\"attest\"]",
                "categories = [\"income\"]",
                "grants[0].categories[0]: income is owned by ocmw",
            ),
            (
                "categories = [\"attest\"]",
                "fields = [\"receivesLivingWage\"]",
                "grants[0].fields[0]: receivesLivingWage is owned by ocmw",
            ),
        ];
        for (from, to, expected) in cases {
            let message = refused(&with_grant(&VALID.replace(from, to)));
            assert!(
                message.contains(expected),
                "{expected:?} not in {message:?}"
            );
            assert!(message.starts_with("policy "), "{message}");
        }
    }

    #[test]
    fn a_grant_for_a_purpose_that_reads_no_record_is_refused() {
        let source = with_grant(
            &VALID
                .replace("trajectoryGuidance", "auditReview")
                .replace("caseWorker", "privacyOfficer"),
        );
        assert!(refused(&source).contains("grants[0].purpose: auditReview reads no record"));
    }

    #[test]
    fn unknown_toml_keys_are_refused_naming_them() {
        let message = refused(&with_grant(&format!("{VALID}\nexpires = \"2030\"")));
        assert!(message.contains("expires"), "{message}");
        let message = refused(&format!("{}\ncolour = 1\n", with_grant(VALID)));
        assert!(message.contains("colour"), "{message}");
    }

    #[test]
    fn a_granted_purpose_without_a_register_entry_is_refused() {
        let source =
            with_grant(VALID).replace("[purposes.trajectoryGuidance]", "[purposes.referral]");
        assert!(refused(&source).contains("purposes.trajectoryGuidance: missing register entry"));
        let source = with_grant(VALID).replace("retention = \"r\"", "");
        assert!(refused(&source).contains("purposes.trajectoryGuidance.retention: missing"));
        let source =
            with_grant(VALID).replace("[purposes.trajectoryGuidance]", "[purposes.gossip]");
        assert!(refused(&source).contains("purposes.gossip: unknown purpose"));
    }

    #[test]
    fn a_missing_or_ambiguous_version_is_refused() {
        assert!(refused(REGISTER).contains("policy version: missing"));
        let source = with_grant(VALID).replace("version = \"t\"", "version = \"1+x\"");
        assert!(refused(&source).contains("policy version:"));
    }
}
