//! The derived fields of the joint-client record (product brief §3), one pure function per value,
//! each grounded in an article of the cooperation agreement (SWO) between OCMW Gent and Amal.
//!
//! Unknown inputs are not guessed: a rule that needs a value the record does not hold returns
//! `None`, unless the values it does hold already decide the answer (three-valued logic). The
//! two coordination roles are never unknown: Amal directs and sanctions unless the agreement
//! moves it to the OCMW (art. 3: "Amal heeft de regie over het inburgeringstraject").

use crate::domain::record::field::Field;
use crate::domain::record::values::{
    AttestKind, CefrLevel, ClientRecord, IntegrationStatus, format_date,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::Date;
use time::macros::date;

/// Who holds a coordination role for a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Responsible {
    Ocmw,
    IntegrationAgency,
}

crate::domain::referral::wire_names!(Responsible {
    Ocmw => "ocmw",
    IntegrationAgency => "integrationAgency",
});

/// The derived values of one client at one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    pub direction: Responsible,
    pub sanction_authority: Responsible,
    pub participation_required: Option<bool>,
    pub vdab_registration_due_by: Option<Date>,
    pub retribution_applies: Option<bool>,
    pub referral_to_agency_required: bool,
    pub nt2_continuation_required: Option<bool>,
}

impl Derived {
    /// The JSON value of a derived field; `Null` when unknown and for owned fields.
    pub fn value(&self, field: Field) -> Value {
        let flag = |b: Option<bool>| b.map_or(Value::Null, Value::Bool);
        match field {
            Field::Direction => self.direction.as_str().into(),
            Field::SanctionAuthority => self.sanction_authority.as_str().into(),
            Field::ParticipationRequired => flag(self.participation_required),
            Field::VdabRegistrationDueBy => self
                .vdab_registration_due_by
                .map_or(Value::Null, |d| format_date(d).into()),
            Field::RetributionApplies => flag(self.retribution_applies),
            Field::ReferralToAgencyRequired => self.referral_to_agency_required.into(),
            Field::Nt2ContinuationRequired => flag(self.nt2_continuation_required),
            _ => Value::Null,
        }
    }
}

/// Computes every derived value. `agency_referral_made` says whether an OCMW → agency referral
/// exists for the client; referrals live in their own module.
pub fn derive(record: &ClientRecord, today: Date, agency_referral_made: bool) -> Derived {
    Derived {
        direction: direction(record, today),
        sanction_authority: sanction_authority(record),
        participation_required: participation_required(record),
        vdab_registration_due_by: vdab_registration_due_by(record),
        retribution_applies: retribution_applies(record),
        referral_to_agency_required: referral_to_agency_required(record, agency_referral_made),
        nt2_continuation_required: nt2_continuation_required(record),
    }
}

/// The article reference of a derived field, `None` for owned fields.
pub fn article(field: Field) -> Option<&'static str> {
    Some(match field {
        Field::Direction => "SWO art. 3, 13",
        Field::SanctionAuthority => "SWO art. 12, read with art. 3 and 13",
        Field::ParticipationRequired => "SWO art. 11",
        Field::VdabRegistrationDueBy => "SWO art. 10",
        Field::RetributionApplies => "SWO art. 7",
        Field::ReferralToAgencyRequired => "SWO art. 4",
        Field::Nt2ContinuationRequired => "SWO art. 13",
        _ => return None,
    })
}

/// A change that moves direction or sanction authority is a significant change of the client's
/// circumstances, on which both parties must consult (SWO art. 6: "ingeval van een significante
/// wijziging in de randvoorwaarden van de cliënt").
pub fn significant_change(before: &Derived, after: &Derived) -> bool {
    before.direction != after.direction || before.sanction_authority != after.sanction_authority
}

/// Whether the client is an oldcomer: "meer dan 12 maanden in het rijksregister ingeschreven"
/// (SWO art. 3). Exactly 12 calendar months to the day is not yet more than 12 months.
pub fn is_oldcomer(national_register_since: Option<Date>, today: Date) -> Option<bool> {
    // A registration so late that 12 months overflow the calendar cannot be 12 months old.
    national_register_since
        .map(|since| add_months(since, 12).is_some_and(|anniversary| today > anniversary))
}

/// Direction (regie) of the integration trajectory (SWO art. 3, 13). Amal directs, but "voor
/// rechthebbende inburgeraars die meer dan 12 maanden in het rijksregister ingeschreven staan
/// ('oudkomers'), en die een (equivalent) leefloon ontvangen, verschuift de regie naar het OCMW";
/// after the living wage stops "de regie … verschuift na stopzetting naar Amal" (art. 13).
pub fn direction(record: &ClientRecord, today: Date) -> Responsible {
    let to_ocmw = all([
        Some(record.integration_status == Some(IntegrationStatus::Entitled)),
        is_oldcomer(record.national_register_since, today),
        record.receives_living_wage,
    ]);
    ocmw_if(to_ocmw == Some(true))
}

/// Sanction authority (SWO art. 12, read with art. 3 and 13): "OCMW neemt de
/// sanctioneringsbevoegdheid op voor alle gezamenlijke cliënten die (equivalent) leefloon
/// ontvangen" — which covers the entitled oldcomers directed by the OCMW, because art. 3 ties
/// their shift to the living wage; otherwise Amal "behoudt … sanctioneringsbevoegdheid", and it
/// returns to Amal when the living wage stops (art. 13, the more specific transition rule).
pub fn sanction_authority(record: &ClientRecord) -> Responsible {
    ocmw_if(record.receives_living_wage == Some(true))
}

/// Participation and network trajectory (SWO art. 11): "verplichte inburgeraars zonder werk of
/// studie … die een eerste inburgeringscontract tekenden na 1 januari 2023". Following the product
/// brief, a contract signed on 1 January 2023 itself counts.
pub fn participation_required(record: &ClientRecord) -> Option<bool> {
    all([
        record
            .integration_status
            .map(|s| s == IntegrationStatus::Obligated),
        record.works_or_studies.map(|w| !w),
        record
            .integration_contract_signed_on
            .map(|d| d >= date!(2023 - 01 - 01)),
    ])
}

/// VDAB registration deadline (SWO art. 10): "verplicht tot inschrijving bij de VDAB binnen twee
/// maanden na ondertekening van het inburgeringscontract", for obligated and entitled clients,
/// except those "met geen of beperkte toegang tot de arbeidsmarkt", those who signed "voor 1
/// januari 2022" and those "met werk of studie". `None` when exempt, not applicable or unknown.
/// An unset `vdabExemption` means no exemption reason was recorded.
pub fn vdab_registration_due_by(record: &ClientRecord) -> Option<Date> {
    let contract = record.integration_contract_signed_on?;
    let applies = all([
        record
            .integration_status
            .map(|s| s != IntegrationStatus::None),
        Some(record.vdab_exemption.is_none()),
        Some(contract >= date!(2022 - 01 - 01)),
        record.works_or_studies.map(|w| !w),
    ]);
    if applies == Some(true) {
        add_months(contract, 2)
    } else {
        None
    }
}

/// Retribution for NT2 and MO (SWO art. 7): "vanaf 1 september 2023 zijn de onderdelen NT2 en MO
/// van het inburgeringstraject betalend", with "vrijstellingen voor zowel verplichte als
/// rechthebbende inburgeraars met leefloon". The record holds no course start date, so the date
/// of the integration contract stands in for it. Other exemptions the decree knows are not in the
/// record; `retributionStatus` tells what the agency decided.
pub fn retribution_applies(record: &ClientRecord) -> Option<bool> {
    all([
        record
            .integration_status
            .map(|s| s != IntegrationStatus::None),
        record
            .integration_contract_signed_on
            .map(|d| d >= date!(2023 - 09 - 01)),
        record.receives_living_wage.map(|lw| !lw),
    ])
}

/// Referral to the agency (SWO art. 4): "voor alle cliënten waarbij (een deel van) een
/// inburgeringstraject opgelegd wordt, dient het OCMW deze cliënten door te verwijzen naar
/// Amal" — required while integration is in the GPMI and no referral was made yet.
pub fn referral_to_agency_required(record: &ClientRecord, agency_referral_made: bool) -> bool {
    record.integration_in_gpmi == Some(true) && !agency_referral_made
}

/// Continuing NT2 after the attest (SWO art. 13): "na het behalen van het inburgeringsattest zijn
/// bepaalde inburgeraars verplicht verder NT2 te volgen tot taalniveau B1 mondeling" — read as
/// obligated clients with an integration attest below B1. The record holds one NT2 level, taken
/// as the oral one. `None` before any attest.
pub fn nt2_continuation_required(record: &ClientRecord) -> Option<bool> {
    let attest = record.attest?;
    all([
        Some(attest.kind == AttestKind::IntegrationAttest),
        record
            .integration_status
            .map(|s| s == IntegrationStatus::Obligated),
        record.nt2_level.map(|level| level < CefrLevel::B1),
    ])
}

/// Three-valued AND: false if any condition is known false, true if all are known true,
/// otherwise unknown.
fn all<const N: usize>(conditions: [Option<bool>; N]) -> Option<bool> {
    if conditions.contains(&Some(false)) {
        Some(false)
    } else if conditions.iter().all(|c| *c == Some(true)) {
        Some(true)
    } else {
        None
    }
}

fn ocmw_if(condition: bool) -> Responsible {
    if condition {
        Responsible::Ocmw
    } else {
        Responsible::IntegrationAgency
    }
}

/// Adds calendar months, clamping to the end of a shorter month (31 January + 1 month = 28 or
/// 29 February); `None` beyond the calendar's range.
pub fn add_months(date: Date, months: u32) -> Option<Date> {
    let index = i64::from(date.year()) * 12 + i64::from(u8::from(date.month())) - 1;
    let target = index + i64::from(months);
    let year = i32::try_from(target.div_euclid(12)).ok()?;
    let month = time::Month::try_from(u8::try_from(target.rem_euclid(12) + 1).ok()?).ok()?;
    Date::from_calendar_date(year, month, date.day().min(month.length(year))).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::record::values::{Attest, VdabExemption};

    const AGENCY: Responsible = Responsible::IntegrationAgency;
    const OCMW: Responsible = Responsible::Ocmw;

    fn entitled_oldcomer_on_living_wage() -> ClientRecord {
        ClientRecord {
            integration_status: Some(IntegrationStatus::Entitled),
            national_register_since: Some(date!(2022 - 03 - 15)),
            integration_contract_signed_on: Some(date!(2023 - 10 - 02)),
            receives_living_wage: Some(true),
            works_or_studies: Some(false),
            ..ClientRecord::default()
        }
    }

    fn obligated_with_contract(signed_on: Date) -> ClientRecord {
        ClientRecord {
            integration_status: Some(IntegrationStatus::Obligated),
            integration_contract_signed_on: Some(signed_on),
            works_or_studies: Some(false),
            receives_living_wage: Some(false),
            ..ClientRecord::default()
        }
    }

    const TODAY: Date = date!(2025 - 06 - 30);

    #[test]
    fn art_3_twelve_months_of_registration_to_the_day_is_not_yet_an_oldcomer() {
        let since = Some(date!(2024 - 06 - 30));
        assert_eq!(is_oldcomer(since, date!(2025 - 06 - 30)), Some(false));
        assert_eq!(is_oldcomer(since, date!(2025 - 07 - 01)), Some(true));
        assert_eq!(is_oldcomer(None, TODAY), None);
    }

    #[test]
    fn art_3_a_registration_on_29_february_counts_12_months_to_28_february() {
        let since = Some(date!(2024 - 02 - 29));
        assert_eq!(is_oldcomer(since, date!(2025 - 02 - 28)), Some(false));
        assert_eq!(is_oldcomer(since, date!(2025 - 03 - 01)), Some(true));
    }

    #[test]
    fn art_3_direction_moves_to_the_ocmw_the_day_after_12_months_of_registration() {
        let mut record = entitled_oldcomer_on_living_wage();
        record.national_register_since = Some(date!(2024 - 06 - 30));
        assert_eq!(direction(&record, date!(2025 - 06 - 30)), AGENCY);
        assert_eq!(direction(&record, date!(2025 - 07 - 01)), OCMW);
    }

    #[test]
    fn art_3_an_entitled_oldcomer_on_living_wage_is_directed_and_sanctioned_by_the_ocmw() {
        let derived = derive(&entitled_oldcomer_on_living_wage(), TODAY, false);
        assert_eq!(derived.direction, OCMW);
        assert_eq!(derived.sanction_authority, OCMW);
    }

    #[test]
    fn art_3_an_obligated_client_on_living_wage_is_directed_by_amal_but_sanctioned_by_the_ocmw() {
        let mut record = entitled_oldcomer_on_living_wage();
        record.integration_status = Some(IntegrationStatus::Obligated);
        let derived = derive(&record, TODAY, false);
        assert_eq!(derived.direction, AGENCY);
        assert_eq!(derived.sanction_authority, OCMW);
    }

    #[test]
    fn art_13_when_the_living_wage_stops_direction_and_sanctions_return_to_amal() {
        let before = derive(&entitled_oldcomer_on_living_wage(), TODAY, false);
        let mut record = entitled_oldcomer_on_living_wage();
        record.receives_living_wage = Some(false);
        record.living_wage_ended_on = Some(date!(2025 - 06 - 01));
        let after = derive(&record, TODAY, false);
        assert_eq!(after.direction, AGENCY);
        assert_eq!(after.sanction_authority, AGENCY);
        assert!(significant_change(&before, &after));
    }

    #[test]
    fn art_6_a_change_of_an_unrelated_field_is_not_significant() {
        let before = derive(&entitled_oldcomer_on_living_wage(), TODAY, false);
        let mut record = entitled_oldcomer_on_living_wage();
        record.nt2_level = Some(CefrLevel::B2);
        record.works_or_studies = Some(true);
        let after = derive(&record, TODAY, false);
        assert_ne!(before, after);
        assert!(!significant_change(&before, &after));
    }

    #[test]
    fn art_3_and_12_the_ocmw_sanctions_whenever_it_directs_over_all_combinations() {
        let statuses = [
            None,
            Some(IntegrationStatus::Obligated),
            Some(IntegrationStatus::Entitled),
            Some(IntegrationStatus::None),
        ];
        let registrations = [
            None,
            Some(date!(2025 - 01 - 01)),
            Some(date!(2020 - 01 - 01)),
        ];
        for status in statuses {
            for living_wage in [None, Some(false), Some(true)] {
                for since in registrations {
                    let record = ClientRecord {
                        integration_status: status,
                        receives_living_wage: living_wage,
                        national_register_since: since,
                        ..ClientRecord::default()
                    };
                    let d = derive(&record, TODAY, false);
                    let case = format!("{status:?} {living_wage:?} {since:?}");
                    if d.direction == OCMW {
                        assert_eq!(d.sanction_authority, OCMW, "{case}");
                    }
                    let expect_ocmw = status == Some(IntegrationStatus::Entitled)
                        && living_wage == Some(true)
                        && since == Some(date!(2020 - 01 - 01));
                    assert_eq!(d.direction == OCMW, expect_ocmw, "{case}");
                    assert_eq!(
                        d.sanction_authority == OCMW,
                        living_wage == Some(true),
                        "{case}"
                    );
                }
            }
        }
    }

    #[test]
    fn art_11_participation_is_required_for_first_contracts_from_1_january_2023() {
        let required = |d| participation_required(&obligated_with_contract(d));
        assert_eq!(required(date!(2022 - 12 - 31)), Some(false));
        assert_eq!(required(date!(2023 - 01 - 01)), Some(true));
    }

    #[test]
    fn art_11_work_or_study_or_entitlement_exempts_from_participation() {
        let mut record = obligated_with_contract(date!(2024 - 01 - 01));
        record.works_or_studies = Some(true);
        assert_eq!(participation_required(&record), Some(false));
        record.works_or_studies = Some(false);
        record.integration_status = Some(IntegrationStatus::Entitled);
        assert_eq!(participation_required(&record), Some(false));
    }

    #[test]
    fn art_11_participation_is_unknown_without_status_or_contract_date() {
        let mut record = obligated_with_contract(date!(2024 - 01 - 01));
        record.integration_contract_signed_on = None;
        assert_eq!(participation_required(&record), None);
        let mut record = obligated_with_contract(date!(2024 - 01 - 01));
        record.integration_status = None;
        assert_eq!(participation_required(&record), None);
    }

    #[test]
    fn art_10_vdab_registration_is_due_two_months_after_contracts_from_1_january_2022() {
        let due = |d| vdab_registration_due_by(&obligated_with_contract(d));
        assert_eq!(due(date!(2021 - 12 - 31)), None);
        assert_eq!(due(date!(2022 - 01 - 01)), Some(date!(2022 - 03 - 01)));
        assert_eq!(due(date!(2023 - 12 - 31)), Some(date!(2024 - 02 - 29)));
        let mut entitled = obligated_with_contract(date!(2024 - 05 - 10));
        entitled.integration_status = Some(IntegrationStatus::Entitled);
        assert_eq!(
            vdab_registration_due_by(&entitled),
            Some(date!(2024 - 07 - 10))
        );
    }

    #[test]
    fn art_10_work_or_study_and_labour_market_limits_exempt_from_vdab_registration() {
        let mut record = obligated_with_contract(date!(2024 - 05 - 10));
        record.works_or_studies = Some(true);
        assert_eq!(vdab_registration_due_by(&record), None);
        record.works_or_studies = Some(false);
        for exemption in VdabExemption::ALL {
            record.vdab_exemption = Some(*exemption);
            assert_eq!(vdab_registration_due_by(&record), None, "{exemption}");
        }
        record.vdab_exemption = None;
        record.integration_status = Some(IntegrationStatus::None);
        assert_eq!(vdab_registration_due_by(&record), None);
    }

    #[test]
    fn art_7_retribution_applies_to_contracts_from_1_september_2023() {
        let applies = |d| retribution_applies(&obligated_with_contract(d));
        assert_eq!(applies(date!(2023 - 08 - 31)), Some(false));
        assert_eq!(applies(date!(2023 - 09 - 01)), Some(true));
    }

    #[test]
    fn art_7_the_living_wage_exempts_from_retribution() {
        let mut record = obligated_with_contract(date!(2024 - 01 - 01));
        record.receives_living_wage = Some(true);
        assert_eq!(retribution_applies(&record), Some(false));
        record.receives_living_wage = None;
        assert_eq!(retribution_applies(&record), None);
    }

    #[test]
    fn art_4_a_gpmi_condition_requires_a_referral_until_one_is_made() {
        let mut record = ClientRecord::default();
        assert!(!referral_to_agency_required(&record, false));
        record.integration_in_gpmi = Some(true);
        assert!(referral_to_agency_required(&record, false));
        assert!(!referral_to_agency_required(&record, true));
    }

    #[test]
    fn art_13_an_obligated_client_with_an_integration_attest_below_b1_continues_nt2() {
        let mut record = obligated_with_contract(date!(2023 - 01 - 01));
        assert_eq!(nt2_continuation_required(&record), None);
        record.attest = Some(Attest {
            kind: AttestKind::IntegrationAttest,
            issued_on: date!(2025 - 01 - 10),
        });
        assert_eq!(nt2_continuation_required(&record), None);
        record.nt2_level = Some(CefrLevel::A2);
        assert_eq!(nt2_continuation_required(&record), Some(true));
        record.nt2_level = Some(CefrLevel::B1);
        assert_eq!(nt2_continuation_required(&record), Some(false));
        record.nt2_level = Some(CefrLevel::A1);
        record.attest = Some(Attest {
            kind: AttestKind::EffortAttest,
            issued_on: date!(2025 - 01 - 10),
        });
        assert_eq!(nt2_continuation_required(&record), Some(false));
    }

    #[test]
    fn derived_values_serialise_under_their_field_names_and_cite_an_article() {
        let derived = derive(&entitled_oldcomer_on_living_wage(), TODAY, true);
        assert_eq!(derived.value(Field::Direction), "ocmw");
        assert_eq!(derived.value(Field::VdabRegistrationDueBy), "2023-12-02");
        assert_eq!(derived.value(Field::RetributionApplies), false);
        assert_eq!(derived.value(Field::Nt2ContinuationRequired), Value::Null);
        assert_eq!(derived.value(Field::Nt2Level), Value::Null);
        for field in Field::ALL {
            assert_eq!(article(*field).is_some(), field.is_derived(), "{field}");
        }
    }

    #[test]
    fn adding_months_clamps_to_the_end_of_the_month() {
        assert_eq!(
            add_months(date!(2024 - 02 - 29), 12),
            Some(date!(2025 - 02 - 28))
        );
        assert_eq!(
            add_months(date!(2024 - 01 - 31), 1),
            Some(date!(2024 - 02 - 29))
        );
        assert_eq!(
            add_months(date!(2024 - 11 - 30), 2),
            Some(date!(2025 - 01 - 30))
        );
        assert_eq!(add_months(date!(9999 - 12 - 01), 1), None);
    }
}
