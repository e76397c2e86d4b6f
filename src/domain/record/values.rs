//! Typed values of the owned fields of the joint-client record (product brief §3).
//!
//! The record is stored as one JSON document and patched with JSON merge patch, so every field
//! converts to and from a `serde_json::Value` through one place, [`ClientRecord::set`] and
//! [`ClientRecord::value`]. Errors are `&'static str` on purpose: a detail can then never echo a
//! submitted value into a log line or a problem response.

use crate::domain::record::field::Field;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;
use time::{Date, Month};

/// Why a JSON value is not a valid value for a field. A fixed sentence, never the input.
pub type InvalidValue = &'static str;

/// Defines a string enum whose JSON values are the given names, with `as_str`, `parse` and a
/// fixed "must be one of …" detail for invalid input.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $first:ident => $first_str:literal $(, $variant:ident => $str:literal)* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[derive(Serialize, Deserialize, utoipa::ToSchema)]
        pub enum $name {
            #[serde(rename = $first_str)]
            $first,
            $( #[serde(rename = $str)] $variant, )*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$name::$first $(, $name::$variant)*];
            const EXPECTED: InvalidValue = concat!("must be one of ", $first_str $(, ", ", $str)*);

            pub const fn as_str(self) -> &'static str {
                match self {
                    $name::$first => $first_str,
                    $( $name::$variant => $str, )*
                }
            }

            pub fn parse(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == name)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl JsonValue for $name {
            fn to_json(&self) -> Value {
                Value::from(self.as_str())
            }

            fn from_json(value: &Value) -> Result<Self, InvalidValue> {
                value.as_str().and_then(Self::parse).ok_or(Self::EXPECTED)
            }
        }
    };
}

string_enum! {
    /// Civic-integration status by residence status (SWO art. 3).
    IntegrationStatus { Obligated => "obligated", Entitled => "entitled", None => "none" }
}

string_enum! {
    /// Progress of an MO, NT2 or PLO/ELO pillar (SWO art. 8, 9, 10).
    PillarStatus {
        NotStarted => "notStarted",
        InProgress => "inProgress",
        Completed => "completed",
        Exempt => "exempt",
    }
}

string_enum! {
    /// CEFR language level, ordered from A1 (lowest) to C2.
    CefrLevel { A1 => "A1", A2 => "A2", B1 => "B1", B2 => "B2", C1 => "C1", C2 => "C2" }
}

string_enum! {
    /// Why a client need not register with VDAB (SWO art. 10: "zijn vrijgesteld van inschrijving").
    VdabExemption {
        NoLabourMarketAccess => "noLabourMarketAccess",
        LimitedLabourMarketAccess => "limitedLabourMarketAccess",
        ContractBefore2022 => "contractBefore2022",
        WorksOrStudies => "worksOrStudies",
    }
}

string_enum! {
    /// Progress of the 40-hour participation and network trajectory (SWO art. 11).
    ParticipationStatus {
        NotStarted => "notStarted",
        InProgress => "inProgress",
        Completed => "completed",
    }
}

string_enum! {
    /// State of the NT2/MO fee (SWO art. 7).
    RetributionStatus {
        ExemptLivingWage => "exemptLivingWage",
        CityIntervention => "cityIntervention",
        PaymentPlan => "paymentPlan",
        Paid => "paid",
        Due => "due",
    }
}

string_enum! {
    /// Which attest KBI notified (SWO art. 13).
    AttestKind { IntegrationAttest => "integrationAttest", EffortAttest => "effortAttest" }
}

/// The attest a client obtained, as notified by KBI (SWO art. 13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Attest {
    pub kind: AttestKind,
    pub issued_on: Date,
}

/// Upper bound of `participationHours`: the trajectory is 40 hours (SWO art. 11); the margin
/// lets the agency record activities beyond it while still catching typos.
pub const MAX_PARTICIPATION_HOURS: u16 = 400;

/// Conversion of one field value to and from its JSON form.
trait JsonValue: Sized {
    fn to_json(&self) -> Value;
    fn from_json(value: &Value) -> Result<Self, InvalidValue>;
}

impl JsonValue for bool {
    fn to_json(&self) -> Value {
        Value::Bool(*self)
    }

    fn from_json(value: &Value) -> Result<Self, InvalidValue> {
        value.as_bool().ok_or("must be true or false")
    }
}

impl JsonValue for Date {
    fn to_json(&self) -> Value {
        Value::String(format_date(*self))
    }

    fn from_json(value: &Value) -> Result<Self, InvalidValue> {
        value
            .as_str()
            .and_then(parse_date)
            .ok_or("must be a calendar date in the form YYYY-MM-DD")
    }
}

/// Only `participationHours` is a `u16`, so its range lives here.
impl JsonValue for u16 {
    fn to_json(&self) -> Value {
        Value::from(*self)
    }

    fn from_json(value: &Value) -> Result<Self, InvalidValue> {
        value
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .filter(|n| *n <= MAX_PARTICIPATION_HOURS)
            .ok_or("must be a whole number from 0 to 400")
    }
}

impl JsonValue for Attest {
    fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("kind".into(), self.kind.to_json());
        map.insert("issuedOn".into(), self.issued_on.to_json());
        Value::Object(map)
    }

    fn from_json(value: &Value) -> Result<Self, InvalidValue> {
        const SHAPE: InvalidValue = "must be an object with exactly the members kind and issuedOn";
        let map = value.as_object().ok_or(SHAPE)?;
        if map.len() != 2 {
            return Err(SHAPE);
        }
        let kind = map.get("kind").ok_or(SHAPE)?;
        let issued_on = map.get("issuedOn").ok_or(SHAPE)?;
        Ok(Attest {
            kind: AttestKind::from_json(kind)
                .map_err(|_| "kind must be integrationAttest or effortAttest")?,
            issued_on: Date::from_json(issued_on)
                .map_err(|_| "issuedOn must be a calendar date in the form YYYY-MM-DD")?,
        })
    }
}

/// The member names `attest` accepts, for merge patches that name others.
pub const ATTEST_MEMBERS: [&str; 2] = ["kind", "issuedOn"];

/// Formats a date as ISO 8601 `YYYY-MM-DD` (Belgif).
pub fn format_date(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// Parses exactly `YYYY-MM-DD` with a real calendar day; no signs, times or offsets.
pub fn parse_date(text: &str) -> Option<Date> {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b[r].iter().try_fold(0u16, |acc, d| {
            d.is_ascii_digit().then(|| acc * 10 + u16::from(d - b'0'))
        })
    };
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let month = Month::try_from(u8::try_from(digits(5..7)?).ok()?).ok()?;
    let day = u8::try_from(digits(8..10)?).ok()?;
    Date::from_calendar_date(i32::from(digits(0..4)?), month, day).ok()
}

fn to_json_opt<T: JsonValue>(value: &Option<T>) -> Value {
    value.as_ref().map_or(Value::Null, JsonValue::to_json)
}

fn from_json_opt<T: JsonValue>(value: &Value) -> Result<Option<T>, InvalidValue> {
    match value {
        Value::Null => Ok(None),
        other => T::from_json(other).map(Some),
    }
}

/// Why a stored JSON document is not a client record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored record member {member}: {problem}")]
pub struct RecordJsonError {
    pub member: String,
    pub problem: &'static str,
}

/// Declares the record struct and its field dispatch; listing the derived fields too makes the
/// `match` exhaustive, so a field added to `Field` without a value here fails to compile.
macro_rules! record {
    (owned { $( $variant:ident => $member:ident: $ty:ty, )* } derived { $( $derived:ident, )* }) => {
        /// The owned (non-derived) fields of a joint client; `None` means unknown or not set.
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(into = "Map<String, Value>", try_from = "Map<String, Value>")]
        pub struct ClientRecord {
            $( pub $member: Option<$ty>, )*
        }

        impl ClientRecord {
            /// The JSON value of `field`: `Null` when unset, and always `Null` for a derived
            /// field, whose value comes from `rules::derive`.
            pub fn value(&self, field: Field) -> Value {
                match field {
                    $( Field::$variant => to_json_opt(&self.$member), )*
                    $( Field::$derived )|* => Value::Null,
                }
            }

            /// Sets `field` from its JSON value; `Null` clears it. Leaves the record unchanged
            /// on error. Derived fields cannot be set.
            pub fn set(&mut self, field: Field, value: &Value) -> Result<(), InvalidValue> {
                match field {
                    $( Field::$variant => self.$member = from_json_opt(value)?, )*
                    $( Field::$derived )|* => return Err("is derived by the gateway"),
                }
                Ok(())
            }
        }
    };
}

record! {
    owned {
        IntegrationStatus => integration_status: IntegrationStatus,
        IntegrationContractSignedOn => integration_contract_signed_on: Date,
        NationalRegisterSince => national_register_since: Date,
        WorksOrStudies => works_or_studies: bool,
        MoStatus => mo_status: PillarStatus,
        Nt2Status => nt2_status: PillarStatus,
        Nt2Level => nt2_level: CefrLevel,
        PloEloStatus => plo_elo_status: PillarStatus,
        VdabRegisteredOn => vdab_registered_on: Date,
        VdabExemption => vdab_exemption: VdabExemption,
        ParticipationHours => participation_hours: u16,
        ParticipationStatus => participation_status: ParticipationStatus,
        RetributionStatus => retribution_status: RetributionStatus,
        Attest => attest: Attest,
        ReceivesLivingWage => receives_living_wage: bool,
        LivingWageSince => living_wage_since: Date,
        LivingWageEndedOn => living_wage_ended_on: Date,
        IntegrationInGpmi => integration_in_gpmi: bool,
        IncreasedAllowance => increased_allowance: bool,
    }
    derived {
        Direction,
        SanctionAuthority,
        ReferralToAgencyRequired,
        ParticipationRequired,
        VdabRegistrationDueBy,
        RetributionApplies,
        Nt2ContinuationRequired,
    }
}

impl ClientRecord {
    /// The set owned fields as one JSON object (unset fields are left out), for storage.
    pub fn to_json(&self) -> Map<String, Value> {
        Field::ALL
            .iter()
            .filter(|f| !f.is_derived())
            .map(|f| (f.as_str().to_owned(), self.value(*f)))
            .filter(|(_, v)| !v.is_null())
            .collect()
    }

    /// Reads a stored document; unknown or derived members are refused rather than dropped,
    /// so that nothing is silently lost between versions.
    pub fn from_json(map: &Map<String, Value>) -> Result<Self, RecordJsonError> {
        let mut record = Self::default();
        for (name, value) in map {
            let error = |problem| RecordJsonError {
                member: name.clone(),
                problem,
            };
            let field = Field::parse(name).ok_or_else(|| error("is not a field"))?;
            record.set(field, value).map_err(error)?;
        }
        Ok(record)
    }
}

impl ClientRecord {
    /// Reads a stored document straight from its text, member by member, with the same
    /// refusals as `from_json`, without building the whole document as a map first: the read
    /// path does this once per request.
    pub fn from_json_text(text: &str) -> Result<Self, RecordJsonError> {
        let not_an_object = || RecordJsonError {
            member: String::new(),
            problem: "is not a JSON object",
        };
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let mut failure = None;
        let seed = RecordSeed {
            failure: &mut failure,
        };
        let record = serde::de::DeserializeSeed::deserialize(seed, &mut deserializer);
        match (record, failure) {
            (_, Some(error)) => Err(error),
            (Ok(record), None) if deserializer.end().is_ok() => Ok(record),
            _ => Err(not_an_object()),
        }
    }
}

/// Deserializes a record member by member, keeping the first member that is refused.
struct RecordSeed<'a> {
    failure: &'a mut Option<RecordJsonError>,
}

impl<'de> serde::de::DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = ClientRecord;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for RecordSeed<'_> {
    type Value = ClientRecord;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a client record")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut record = ClientRecord::default();
        while let Some(name) = map.next_key::<String>()? {
            let value: Value = map.next_value()?;
            let refused = |problem| RecordJsonError {
                member: name.clone(),
                problem,
            };
            let set = Field::parse(&name)
                .ok_or_else(|| refused("is not a field"))
                .and_then(|field| record.set(field, &value).map_err(refused));
            if let Err(error) = set {
                *self.failure = Some(error);
                return Err(serde::de::Error::custom("refused member"));
            }
        }
        Ok(record)
    }
}

impl From<ClientRecord> for Map<String, Value> {
    fn from(record: ClientRecord) -> Self {
        record.to_json()
    }
}

impl TryFrom<Map<String, Value>> for ClientRecord {
    type Error = RecordJsonError;

    fn try_from(map: Map<String, Value>) -> Result<Self, Self::Error> {
        Self::from_json(&map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::date;

    fn full_record() -> ClientRecord {
        ClientRecord {
            integration_status: Some(IntegrationStatus::Entitled),
            integration_contract_signed_on: Some(date!(2023 - 09 - 01)),
            national_register_since: Some(date!(2020 - 02 - 29)),
            works_or_studies: Some(false),
            mo_status: Some(PillarStatus::Completed),
            nt2_status: Some(PillarStatus::InProgress),
            nt2_level: Some(CefrLevel::A2),
            plo_elo_status: Some(PillarStatus::NotStarted),
            vdab_registered_on: Some(date!(2023 - 10 - 15)),
            vdab_exemption: Some(VdabExemption::LimitedLabourMarketAccess),
            participation_hours: Some(40),
            participation_status: Some(ParticipationStatus::Completed),
            retribution_status: Some(RetributionStatus::PaymentPlan),
            attest: Some(Attest {
                kind: AttestKind::EffortAttest,
                issued_on: date!(2024 - 12 - 31),
            }),
            receives_living_wage: Some(true),
            living_wage_since: Some(date!(2022 - 01 - 01)),
            living_wage_ended_on: Some(date!(2024 - 06 - 30)),
            integration_in_gpmi: Some(true),
            increased_allowance: Some(false),
        }
    }

    #[test]
    fn a_record_round_trips_through_its_stored_json_document() {
        let record = full_record();
        let map = record.to_json();
        assert_eq!(ClientRecord::from_json(&map), Ok(record.clone()));
        let text = serde_json::to_string(&record).unwrap();
        assert_eq!(serde_json::from_str::<ClientRecord>(&text).unwrap(), record);
    }

    #[test]
    fn a_stored_text_reads_as_the_same_record_as_its_parsed_document() {
        let record = full_record();
        let text = serde_json::to_string(&record).unwrap();
        assert_eq!(ClientRecord::from_json_text(&text), Ok(record));
        assert_eq!(
            ClientRecord::from_json_text("{}"),
            Ok(ClientRecord::default())
        );
    }

    #[test]
    fn a_stored_text_that_is_no_record_is_refused_naming_the_member() {
        let unknown = ClientRecord::from_json_text(r#"{"nt2Level":"A2","shoeSize":44}"#);
        assert_eq!(unknown.unwrap_err().member, "shoeSize");
        let derived = ClientRecord::from_json_text(r#"{"direction":"ocmw"}"#);
        assert_eq!(derived.unwrap_err().member, "direction");
        let invalid = ClientRecord::from_json_text(r#"{"nt2Level":"Z9"}"#);
        assert_eq!(invalid.unwrap_err().member, "nt2Level");
        for broken in ["[]", "{", "{} {}", "\"\""] {
            let error = ClientRecord::from_json_text(broken).unwrap_err();
            assert_eq!(error.problem, "is not a JSON object", "{broken}");
        }
    }

    #[test]
    fn members_are_named_as_the_field_list_and_unset_fields_are_left_out() {
        let map = full_record().to_json();
        assert_eq!(map["integrationStatus"], json!("entitled"));
        assert_eq!(map["nationalRegisterSince"], json!("2020-02-29"));
        assert_eq!(map["nt2Level"], json!("A2"));
        assert_eq!(map["vdabExemption"], json!("limitedLabourMarketAccess"));
        assert_eq!(
            map["attest"],
            json!({"kind": "effortAttest", "issuedOn": "2024-12-31"})
        );
        let mut partial = full_record();
        partial.living_wage_ended_on = None;
        assert!(!partial.to_json().contains_key("livingWageEndedOn"));
        assert!(map.keys().all(|k| Field::parse(k).is_some()));
        assert!(ClientRecord::default().to_json().is_empty());
    }

    #[test]
    fn every_owned_field_reads_back_what_was_set_and_null_clears_it() {
        let full = full_record();
        for field in Field::ALL.iter().filter(|f| !f.is_derived()) {
            let value = full.value(*field);
            assert!(!value.is_null(), "{field}");
            let mut record = ClientRecord::default();
            record.set(*field, &value).unwrap();
            assert_eq!(record.value(*field), value, "{field}");
            record.set(*field, &Value::Null).unwrap();
            assert_eq!(record, ClientRecord::default(), "{field}");
        }
    }

    #[test]
    fn derived_fields_have_no_stored_value_and_cannot_be_set() {
        let mut record = full_record();
        for field in Field::ALL.iter().filter(|f| f.is_derived()) {
            assert_eq!(record.value(*field), Value::Null);
            assert!(record.set(*field, &json!("ocmw")).is_err());
        }
        let mut map = record.to_json();
        map.insert("direction".into(), json!("ocmw"));
        assert_eq!(
            ClientRecord::from_json(&map).unwrap_err().member,
            "direction"
        );
    }

    #[test]
    fn invalid_values_are_refused_without_changing_the_record() {
        let cases = [
            (Field::IntegrationStatus, json!("Obligated")),
            (Field::IntegrationStatus, json!(1)),
            (Field::WorksOrStudies, json!("true")),
            (Field::Nt2Level, json!("B3")),
            (Field::ParticipationHours, json!(401)),
            (Field::ParticipationHours, json!(-1)),
            (Field::ParticipationHours, json!(12.5)),
            (Field::NationalRegisterSince, json!("2023-02-29")),
            (Field::NationalRegisterSince, json!("2023-2-28")),
            (Field::NationalRegisterSince, json!("2023-02-28T00:00:00Z")),
            (Field::Attest, json!({"kind": "integrationAttest"})),
            (Field::Attest, json!("integrationAttest")),
        ];
        for (field, value) in cases {
            let mut record = full_record();
            let detail = record.set(field, &value).unwrap_err();
            assert_eq!(record, full_record(), "{field}");
            assert!(!detail.contains(&value.to_string()), "{detail}");
        }
    }

    #[test]
    fn participation_hours_accept_both_bounds() {
        let mut record = ClientRecord::default();
        for hours in [0, 400] {
            record
                .set(Field::ParticipationHours, &json!(hours))
                .unwrap();
            assert_eq!(record.participation_hours, Some(hours));
        }
    }

    #[test]
    fn an_invalid_enum_value_is_told_the_allowed_values() {
        assert_eq!(
            IntegrationStatus::EXPECTED,
            "must be one of obligated, entitled, none"
        );
    }

    #[test]
    fn cefr_levels_are_ordered_from_a1_to_c2() {
        assert!(CefrLevel::A1 < CefrLevel::A2);
        assert!(CefrLevel::A2 < CefrLevel::B1);
        assert!(CefrLevel::B1 < CefrLevel::C2);
    }

    #[test]
    fn dates_format_with_zero_padding_and_parse_back() {
        let day = date!(0987 - 03 - 04);
        assert_eq!(format_date(day), "0987-03-04");
        assert_eq!(parse_date("0987-03-04"), Some(day));
        for bad in [
            "",
            "2024-13-01",
            "2024-00-10",
            "+2024-01-01",
            "2024/01/01",
            "２０２４-01-01",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }
}
