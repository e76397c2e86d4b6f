//! JSON merge patch (RFC 7396) of a joint-client record by one writer (product brief §3: "only
//! the owner writes it"; derived fields are written by nobody).
//!
//! All-or-nothing: every issue in the patch is collected so the caller can fix them in one go,
//! and any issue leaves the record untouched. Issue details are fixed sentences, never the
//! submitted value, because they end up in problem responses and logs.

use crate::domain::competence::Standing;
use crate::domain::record::field::Field;
use crate::domain::record::values::{ATTEST_MEMBERS, ClientRecord, InvalidValue};
use serde_json::{Map, Value};

/// What is wrong with one member of a patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchIssueKind {
    /// The patch as a whole is not a JSON object (it would replace the whole record).
    NotAnObject,
    /// The member names no field of the record.
    UnknownField,
    /// The member names a field the gateway derives.
    DerivedField,
    /// The member names a field the writer does not own: another kind owns it, or the writer
    /// is not the competent party of its kind.
    NotOwned,
    /// The value is not valid for the field; the detail says why without repeating it.
    InvalidValue(InvalidValue),
}

impl PatchIssueKind {
    /// A short sentence, safe to return to clients and to log.
    pub fn detail(&self) -> &'static str {
        match self {
            Self::NotAnObject => "a merge patch of a client record must be a JSON object",
            Self::UnknownField => "the client record has no such field",
            Self::DerivedField => "the field is derived by the gateway and cannot be written",
            Self::NotOwned => "the field is written only by the competent party of its owning kind",
            Self::InvalidValue(detail) => detail,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchIssue {
    /// The member's name as submitted (`attest.kind` for a member inside `attest`); empty for
    /// the patch as a whole.
    pub member: String,
    pub kind: PatchIssueKind,
}

/// How the HTTP layer should answer a refused patch (403, 400, 422).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusClass {
    Forbidden,
    BadRequest,
    Unprocessable,
}

/// A refused patch with every issue found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the patch was refused with {} issue(s)", issues.len())]
pub struct PatchRejection {
    pub issues: Vec<PatchIssue>,
}

impl PatchRejection {
    /// Writing what one may not write outranks a malformed request, which outranks bad values:
    /// the caller must first learn that it is not allowed at all.
    pub fn status_class(&self) -> StatusClass {
        let any = |pred: fn(&PatchIssueKind) -> bool| self.issues.iter().any(|i| pred(&i.kind));
        if any(|k| matches!(k, PatchIssueKind::NotOwned | PatchIssueKind::DerivedField)) {
            StatusClass::Forbidden
        } else if any(|k| {
            matches!(
                k,
                PatchIssueKind::UnknownField | PatchIssueKind::NotAnObject
            )
        }) {
            StatusClass::BadRequest
        } else {
            StatusClass::Unprocessable
        }
    }
}

/// Applies `patch` to `record` as written by `writer`: a party of some kind, competent for the
/// client or only involved (a bare kind stands for its competent party).
///
/// Returns the new record and the fields whose value actually changed (in `Field::ALL` order),
/// or every issue found; on any issue nothing is applied.
pub fn apply(
    record: &ClientRecord,
    patch: &Value,
    writer: impl Into<Standing>,
) -> Result<(ClientRecord, Vec<Field>), PatchRejection> {
    let writer: Standing = writer.into();
    let Value::Object(members) = patch else {
        return Err(PatchRejection {
            issues: vec![issue("", PatchIssueKind::NotAnObject)],
        });
    };
    let mut next = record.clone();
    let mut issues = Vec::new();
    let mut invalid = Vec::new();
    for (name, value) in members {
        let Some(field) = Field::parse(name) else {
            issues.push(issue(name, PatchIssueKind::UnknownField));
            continue;
        };
        if field.is_derived() {
            issues.push(issue(name, PatchIssueKind::DerivedField));
            continue;
        }
        if !writer.writes(field) {
            issues.push(issue(name, PatchIssueKind::NotOwned));
            continue;
        }
        if field == Field::Attest {
            let before = issues.len();
            issues.extend(unknown_attest_members(value));
            if issues.len() > before {
                continue;
            }
        }
        // The stored value is merged, not replaced, so that `attest` merges member by member;
        // for scalar fields merging is the same as replacing.
        let merged = merge(record.value(field), value);
        if let Err(detail) = next.set(field, &merged) {
            invalid.push(field);
            issues.push(issue(name, PatchIssueKind::InvalidValue(detail)));
        }
    }
    issues.extend(living_wage_period(&next, members, &invalid));
    if !issues.is_empty() {
        return Err(PatchRejection { issues });
    }
    let changed = Field::ALL
        .iter()
        .copied()
        .filter(|f| record.value(*f) != next.value(*f))
        .collect();
    Ok((next, changed))
}

fn issue(member: &str, kind: PatchIssueKind) -> PatchIssue {
    PatchIssue {
        member: member.to_owned(),
        kind,
    }
}

/// Members inside an `attest` object other than `kind` and `issuedOn` are refused like unknown
/// top-level members (Belgif: unknown input is refused, not ignored).
fn unknown_attest_members(value: &Value) -> Vec<PatchIssue> {
    let Value::Object(inner) = value else {
        return Vec::new();
    };
    inner
        .keys()
        .filter(|k| !ATTEST_MEMBERS.contains(&k.as_str()))
        .map(|k| issue(&format!("attest.{k}"), PatchIssueKind::UnknownField))
        .collect()
}

/// The living wage cannot end before it started. Checked only when the patch touches the
/// period (and both dates were valid), so that a patch of other fields is never blocked by it.
/// The issue names the member that was patched: `livingWageEndedOn` if present, else
/// `livingWageSince`.
fn living_wage_period(
    next: &ClientRecord,
    members: &Map<String, Value>,
    invalid: &[Field],
) -> Option<PatchIssue> {
    let period = [Field::LivingWageSince, Field::LivingWageEndedOn];
    if period.iter().any(|f| invalid.contains(f)) {
        return None;
    }
    let (Some(since), Some(ended)) = (next.living_wage_since, next.living_wage_ended_on) else {
        return None;
    };
    let member = period
        .iter()
        .rev()
        .find(|f| members.contains_key(f.as_str()))?;
    (ended < since).then(|| {
        issue(
            member.as_str(),
            PatchIssueKind::InvalidValue("livingWageEndedOn must not be before livingWageSince"),
        )
    })
}

/// RFC 7396 §2 MergePatch(Target, Patch).
pub fn merge(target: Value, patch: &Value) -> Value {
    let Value::Object(patch) = patch else {
        return patch.clone();
    };
    let mut target = match target {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    for (name, value) in patch {
        if value.is_null() {
            target.remove(name);
        } else {
            let current = target.remove(name).unwrap_or(Value::Null);
            target.insert(name.clone(), merge(current, value));
        }
    }
    Value::Object(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::party::PartyKind;
    use crate::domain::record::values::{AttestKind, CefrLevel, IntegrationStatus};
    use serde_json::json;
    use time::macros::date;

    const AGENCY: PartyKind = PartyKind::IntegrationAgency;
    const OCMW: PartyKind = PartyKind::Ocmw;
    const KBI: PartyKind = PartyKind::Kbi;

    fn kinds(rejection: &PatchRejection) -> Vec<(&str, PatchIssueKind)> {
        rejection
            .issues
            .iter()
            .map(|i| (i.member.as_str(), i.kind))
            .collect()
    }

    #[test]
    fn an_involved_party_of_the_owning_kind_writes_nothing_swo_art_3() {
        use crate::domain::competence::{LinkRole, Standing};
        let eeklo = Standing::new(OCMW, LinkRole::Involved);
        let err = apply(
            &ClientRecord::default(),
            &json!({"receivesLivingWage": false}),
            eeklo,
        )
        .unwrap_err();
        assert_eq!(
            kinds(&err),
            vec![("receivesLivingWage", PatchIssueKind::NotOwned)]
        );
        assert!(
            apply(
                &ClientRecord::default(),
                &json!({"receivesLivingWage": false}),
                OCMW
            )
            .is_ok()
        );
    }

    #[test]
    fn the_owner_sets_its_fields_and_learns_which_changed() {
        let patch = json!({"integrationStatus": "obligated", "nt2Level": "A2"});
        let (record, changed) = apply(&ClientRecord::default(), &patch, AGENCY).unwrap();
        assert_eq!(
            record.integration_status,
            Some(IntegrationStatus::Obligated)
        );
        assert_eq!(record.nt2_level, Some(CefrLevel::A2));
        assert_eq!(changed, vec![Field::IntegrationStatus, Field::Nt2Level]);
    }

    #[test]
    fn setting_the_same_value_again_changes_nothing() {
        let patch = json!({"nt2Level": "B1"});
        let (record, _) = apply(&ClientRecord::default(), &patch, AGENCY).unwrap();
        let (again, changed) = apply(&record, &patch, AGENCY).unwrap();
        assert_eq!(again, record);
        assert!(changed.is_empty());
        assert!(apply(&record, &json!({}), AGENCY).unwrap().1.is_empty());
    }

    #[test]
    fn null_clears_a_field() {
        let (record, _) = apply(
            &ClientRecord::default(),
            &json!({"receivesLivingWage": true}),
            OCMW,
        )
        .unwrap();
        let (cleared, changed) =
            apply(&record, &json!({"receivesLivingWage": null}), OCMW).unwrap();
        assert_eq!(cleared.receives_living_wage, None);
        assert_eq!(changed, vec![Field::ReceivesLivingWage]);
    }

    #[test]
    fn a_patch_that_is_not_an_object_is_a_bad_request() {
        for patch in [json!(null), json!([]), json!("x")] {
            let err = apply(&ClientRecord::default(), &patch, AGENCY).unwrap_err();
            assert_eq!(kinds(&err), vec![("", PatchIssueKind::NotAnObject)]);
            assert_eq!(err.status_class(), StatusClass::BadRequest);
        }
    }

    #[test]
    fn every_issue_is_reported_and_nothing_is_applied() {
        let patch = json!({
            "nt2Level": "A2",
            "nickname": "x",
            "direction": "ocmw",
            "receivesLivingWage": true,
            "participationHours": 401,
        });
        let err = apply(&ClientRecord::default(), &patch, AGENCY).unwrap_err();
        let mut found = kinds(&err);
        found.sort_by_key(|(m, _)| *m);
        assert_eq!(
            found,
            vec![
                ("direction", PatchIssueKind::DerivedField),
                ("nickname", PatchIssueKind::UnknownField),
                (
                    "participationHours",
                    PatchIssueKind::InvalidValue("must be a whole number from 0 to 400")
                ),
                ("receivesLivingWage", PatchIssueKind::NotOwned),
            ]
        );
        assert_eq!(err.status_class(), StatusClass::Forbidden);
    }

    #[test]
    fn status_class_prefers_forbidden_then_bad_request_then_unprocessable() {
        let status = |patch: Value| {
            apply(&ClientRecord::default(), &patch, OCMW)
                .unwrap_err()
                .status_class()
        };
        assert_eq!(status(json!({"nt2Level": "A1"})), StatusClass::Forbidden);
        assert_eq!(
            status(json!({"foo": 1, "receivesLivingWage": 1})),
            StatusClass::BadRequest
        );
        assert_eq!(
            status(json!({"receivesLivingWage": "yes"})),
            StatusClass::Unprocessable
        );
    }

    #[test]
    fn error_details_never_repeat_the_submitted_value() {
        let patch = json!({
            "livingWageSince": "85073003328",
            "increasedAllowance": "85073003328",
        });
        let err = apply(&ClientRecord::default(), &patch, OCMW).unwrap_err();
        assert_eq!(err.issues.len(), 2);
        for issue in &err.issues {
            assert!(!issue.kind.detail().contains("850730"));
        }
        assert!(!format!("{err} {err:?}").contains("850730"));
    }

    #[test]
    fn kbi_writes_the_attest_and_a_partial_attest_merges_into_the_existing_one() {
        let (record, _) = apply(
            &ClientRecord::default(),
            &json!({"attest": {"kind": "integrationAttest", "issuedOn": "2024-05-01"}}),
            KBI,
        )
        .unwrap();
        let (record, changed) =
            apply(&record, &json!({"attest": {"issuedOn": "2024-06-01"}}), KBI).unwrap();
        let attest = record.attest.unwrap();
        assert_eq!(attest.kind, AttestKind::IntegrationAttest);
        assert_eq!(attest.issued_on, date!(2024 - 06 - 01));
        assert_eq!(changed, vec![Field::Attest]);
    }

    #[test]
    fn an_attest_missing_a_member_after_merging_is_invalid() {
        let err = apply(
            &ClientRecord::default(),
            &json!({"attest": {"issuedOn": "2024-06-01"}}),
            KBI,
        )
        .unwrap_err();
        assert!(matches!(
            err.issues[0].kind,
            PatchIssueKind::InvalidValue(_)
        ));
        let full = json!({"attest": {"kind": "effortAttest", "issuedOn": "2024-05-01"}});
        let (record, _) = apply(&ClientRecord::default(), &full, KBI).unwrap();
        let err = apply(&record, &json!({"attest": {"kind": null}}), KBI).unwrap_err();
        assert_eq!(err.status_class(), StatusClass::Unprocessable);
    }

    #[test]
    fn an_unknown_member_inside_the_attest_is_a_bad_request() {
        let patch = json!({"attest": {"kind": "effortAttest", "issuedOn": "2024-05-01", "x": 1}});
        let err = apply(&ClientRecord::default(), &patch, KBI).unwrap_err();
        assert_eq!(
            kinds(&err),
            vec![("attest.x", PatchIssueKind::UnknownField)]
        );
    }

    #[test]
    fn the_living_wage_cannot_end_before_it_started() {
        let bad = json!({"livingWageSince": "2024-03-01", "livingWageEndedOn": "2024-02-29"});
        let err = apply(&ClientRecord::default(), &bad, OCMW).unwrap_err();
        assert_eq!(err.issues.len(), 1);
        assert_eq!(err.issues[0].member, "livingWageEndedOn");
        assert_eq!(err.status_class(), StatusClass::Unprocessable);

        let same_day = json!({"livingWageSince": "2024-03-01", "livingWageEndedOn": "2024-03-01"});
        let (record, _) = apply(&ClientRecord::default(), &same_day, OCMW).unwrap();
        let err = apply(&record, &json!({"livingWageSince": "2024-03-02"}), OCMW).unwrap_err();
        assert_eq!(err.issues[0].member, "livingWageSince");
        assert!(apply(&record, &json!({"increasedAllowance": true}), OCMW).is_ok());
    }

    #[test]
    fn merge_follows_the_rfc_7396_examples() {
        let cases = [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (
                json!({"a": "b"}),
                json!({"b": "c"}),
                json!({"a": "b", "b": "c"}),
            ),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"})),
            (
                json!({"a": {"b": "c"}}),
                json!({"a": {"b": "d", "c": null}}),
                json!({"a": {"b": "d"}}),
            ),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (
                json!({"e": null}),
                json!({"a": 1}),
                json!({"e": null, "a": 1}),
            ),
            (
                json!([1, 2]),
                json!({"a": "b", "c": null}),
                json!({"a": "b"}),
            ),
            (
                json!({}),
                json!({"a": {"bb": {"ccc": null}}}),
                json!({"a": {"bb": {}}}),
            ),
        ];
        for (target, patch, expected) in cases {
            assert_eq!(merge(target, &patch), expected);
        }
    }
}
