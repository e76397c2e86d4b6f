//! Belgian national register number (INSZ / NISS, "SSIN").
//!
//! Rule source: the Belgian national register number has 11 digits, `yymmdd`
//! birth date, a 3-digit sequence and a mod-97 check; people born from 2000
//! onwards have the check computed over the number prefixed with `2`; BIS
//! numbers (people not in the national register) add 20 or 40 to the month.
//!
//! The value identifies a natural person, so it is personal data under the
//! GDPR. This type exists so that the rest of the gateway can only ever hold a
//! number that passed these rules, and so that it cannot leak through `{:?}`,
//! `{}` or serialisation by accident.

use std::fmt;
use std::str::FromStr;

const LEN: usize = 11;

/// Added to the first nine digits for people born from 2000 onwards, because
/// the check digits alone are the only thing that fixes the century.
const POST_2000_PREFIX: u64 = 2_000_000_000;

/// A validated Belgian national register number or BIS number.
///
/// Belgian national register number: 11 digits, mod-97 check; births from
/// 2000 prefix 2; BIS numbers month +20/+40. The only way to obtain a value is
/// [`Ssin::parse`] (or [`FromStr`], which calls it), so holding an `Ssin` is
/// proof that the number is well formed.
///
/// Deliberately has no `Display`, no `Serialize` and a redacted `Debug`: the
/// digits must only leave this type through [`Ssin::as_str`], which makes each
/// use visible in review.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Ssin([u8; LEN]);

/// Which register issued the number, as encoded in the month field.
///
/// Callers need this because BIS numbers are managed by the Crossroads Bank
/// for Social Security rather than the national register, and may have to be
/// routed or checked differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SsinKind {
    /// National register number: month field 00-12.
    Register,
    /// BIS number with the gender unknown at registration: month + 20.
    BisGenderUnknown,
    /// BIS number with the gender known at registration: month + 40.
    BisGenderKnown,
}

/// Why a string is not a valid SSIN.
///
/// Messages are fixed sentences and never contain the input, because errors
/// end up in logs and API responses where the number must not appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum SsinError {
    #[error("{}", self.reason())]
    WrongLength,
    #[error("{}", self.reason())]
    NotDigits,
    #[error("{}", self.reason())]
    InvalidBirthDate,
    #[error("{}", self.reason())]
    InvalidSequence,
    #[error("{}", self.reason())]
    BadCheckDigits,
}

impl SsinError {
    /// A short English sentence, safe to return to clients and to log.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::WrongLength => "The SSIN must be exactly 11 characters long.",
            Self::NotDigits => "The SSIN must contain only the digits 0 to 9.",
            Self::InvalidBirthDate => "The SSIN contains an impossible birth date.",
            Self::InvalidSequence => "The SSIN contains an invalid sequence number.",
            Self::BadCheckDigits => "The SSIN check digits do not match.",
        }
    }
}

impl Ssin {
    /// Validates `input` as an SSIN.
    ///
    /// Only the bare 11-digit form is accepted: formatted variants
    /// (`85.07.30-033.28`) and non-ASCII digits are rejected rather than
    /// normalised, so that the same person always maps to the same bytes for
    /// HMAC-based pseudonymisation.
    pub fn parse(input: &str) -> Result<Self, SsinError> {
        // Bounded count: length is judged in characters so that 11 non-ASCII
        // digits report `NotDigits`, without walking an arbitrarily long input.
        if input.chars().take(LEN + 1).count() != LEN {
            return Err(SsinError::WrongLength);
        }
        let digits: [u8; LEN] = input
            .as_bytes()
            .try_into()
            .map_err(|_| SsinError::NotDigits)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err(SsinError::NotDigits);
        }

        let sequence = number(&digits[6..9]);
        if sequence == 0 || sequence == 999 {
            return Err(SsinError::InvalidSequence);
        }

        let month_field = number(&digits[2..4]);
        let day = number(&digits[4..6]);
        let (_, month) = split_month_field(month_field).ok_or(SsinError::InvalidBirthDate)?;
        if day > 31 {
            return Err(SsinError::InvalidBirthDate);
        }

        // The century is only known once the check digits tell us which rule
        // applies, so the calendar check has to come after it.
        let after_2000 = century_from_check(&digits).ok_or(SsinError::BadCheckDigits)?;

        if month != 0 && day != 0 {
            let year = if after_2000 { 2000 } else { 1900 } + number(&digits[0..2]);
            if day > days_in_month(year, month) {
                return Err(SsinError::InvalidBirthDate);
            }
        }

        Ok(Self(digits))
    }

    /// The 11 digits, for keyed hashing (HMAC pseudonyms) and encryption only.
    ///
    /// This exists because those primitives need the exact bytes. The result is
    /// personal data: it must never reach logs, URLs, metrics, error messages
    /// or audit records; store or transmit the HMAC or ciphertext instead.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("Ssin only ever holds ASCII digits")
    }

    /// Whether the check digits matched the post-2000 rule (`2` prefix).
    ///
    /// The two-digit year is ambiguous on its own; the check digits are the
    /// only source of the century.
    pub fn born_after_2000(&self) -> bool {
        century_from_check(&self.0).unwrap_or(false)
    }

    /// Whether this is a national register number or a BIS number.
    pub fn kind(&self) -> SsinKind {
        split_month_field(number(&self.0[2..4])).map_or(SsinKind::Register, |(kind, _)| kind)
    }
}

impl FromStr for Ssin {
    type Err = SsinError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Debug for Ssin {
    /// Redacted so that `{:?}` in a log line or a derived `Debug` on a
    /// containing struct cannot leak the number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Ssin(***********)")
    }
}

/// Decimal value of a run of ASCII digits (at most 9, so no overflow).
fn number(digits: &[u8]) -> u32 {
    digits
        .iter()
        .fold(0, |acc, d| acc * 10 + u32::from(d - b'0'))
}

/// Splits the month field into register kind and calendar month (0 = unknown).
fn split_month_field(field: u32) -> Option<(SsinKind, u32)> {
    match field {
        0..=12 => Some((SsinKind::Register, field)),
        20..=32 => Some((SsinKind::BisGenderUnknown, field - 20)),
        40..=52 => Some((SsinKind::BisGenderKnown, field - 40)),
        _ => None,
    }
}

/// `Some(false)` for the pre-2000 rule, `Some(true)` for the `2`-prefixed
/// rule, `None` if neither matches. Both cannot match: 2_000_000_000 is not a
/// multiple of 97.
fn century_from_check(digits: &[u8; LEN]) -> Option<bool> {
    let base = u64::from(number(&digits[0..9]));
    let check = u64::from(number(&digits[9..11]));
    let expected = |n: u64| 97 - n % 97;
    if check == expected(base) {
        Some(false)
    } else if check == expected(POST_2000_PREFIX + base) {
        Some(true)
    } else {
        None
    }
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Gregorian rule; matters for `00` years, where 1900 is not a leap year but
/// 2000 is.
fn is_leap_year(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

/// Whether `text` mentions a valid national register or BIS number, written as 11 digits in
/// a row or with the usual separators between groups (`85.07.30-033.28`, `850730 033 28`,
/// `85/07/30-033-28`): within each stretch of digits joined by single separators, every run
/// of 11 consecutive digits that passes [`Ssin::parse`] (date, sequence and check digits,
/// BIS months included) counts. Free text and references are screened with it so that the
/// number the gateway only ever keeps as a pseudonym and a ciphertext does not slip into
/// its database in clear.
pub fn mentions_ssin(text: &str) -> bool {
    const SEPARATORS: &[u8] = b".-/ ";
    let bytes = text.as_bytes();
    let mut digits: Vec<u8> = Vec::new();
    let mut i = 0;
    loop {
        let byte = bytes.get(i).copied();
        match byte {
            Some(b) if b.is_ascii_digit() => digits.push(b),
            // One separator between two digits keeps the stretch going.
            Some(b)
                if SEPARATORS.contains(&b)
                    && !digits.is_empty()
                    && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {}
            _ => {
                if digits.len() >= LEN && has_valid_window(&digits) {
                    return true;
                }
                digits.clear();
                if byte.is_none() {
                    return false;
                }
            }
        }
        i += 1;
    }
}

fn has_valid_window(digits: &[u8]) -> bool {
    digits.windows(LEN).any(|window| {
        std::str::from_utf8(window).is_ok_and(|candidate| Ssin::parse(candidate).is_ok())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a number with correct check digits, so tests exercise exactly
    /// one rule at a time instead of tripping over the checksum.
    fn valid_for_tests(yymmdd: &str, seq: u16, after_2000: bool) -> String {
        let body = format!("{yymmdd}{seq:03}");
        let base: u64 = body.parse().expect("test body is numeric");
        let n = if after_2000 {
            POST_2000_PREFIX + base
        } else {
            base
        };
        format!("{body}{:02}", 97 - n % 97)
    }

    fn parse_built(yymmdd: &str, seq: u16, after_2000: bool) -> Result<Ssin, SsinError> {
        Ssin::parse(&valid_for_tests(yymmdd, seq, after_2000))
    }

    /// The built number, right checksum and all, is refused for `error`.
    #[track_caller]
    fn assert_refused(yymmdd: &str, seq: u16, after_2000: bool, error: SsinError) {
        let parsed = parse_built(yymmdd, seq, after_2000);
        assert_eq!(
            parsed,
            Err(error),
            "{yymmdd} {seq:03} after 2000: {after_2000}"
        );
    }

    #[test]
    fn a_person_born_in_the_1900s_validates_without_a_prefix() {
        let ssin = parse_built("850730", 33, false).expect("valid");
        assert!(!ssin.born_after_2000());
        assert_eq!(ssin.kind(), SsinKind::Register);
        assert_eq!(ssin.as_str(), valid_for_tests("850730", 33, false));
    }

    #[test]
    fn a_well_known_pre_2000_example_validates() {
        // 97 - (850730033 mod 97) = 28
        let ssin = Ssin::parse("85073003328").expect("valid");
        assert!(!ssin.born_after_2000());
    }

    #[test]
    fn a_person_born_in_2001_validates_with_the_prefix_2() {
        let ssin = parse_built("010315", 123, true).expect("valid");
        assert!(ssin.born_after_2000());
        assert_eq!(ssin.kind(), SsinKind::Register);
    }

    #[test]
    fn the_same_body_cannot_be_valid_for_both_centuries() {
        let old = valid_for_tests("050505", 5, false);
        let new = valid_for_tests("050505", 5, true);
        assert_ne!(old, new);
        assert!(!Ssin::parse(&old).expect("valid").born_after_2000());
        assert!(Ssin::parse(&new).expect("valid").born_after_2000());
    }

    #[test]
    fn a_bis_number_with_unknown_gender_has_month_plus_20() {
        for yymmdd in ["853012", "852012", "852112", "853231"] {
            let ssin = parse_built(yymmdd, 10, false).expect("valid");
            assert_eq!(ssin.kind(), SsinKind::BisGenderUnknown, "{yymmdd}");
        }
    }

    #[test]
    fn a_bis_number_with_known_gender_has_month_plus_40() {
        for (yymmdd, after_2000) in [("054815", true), ("054000", true), ("755231", false)] {
            let ssin = parse_built(yymmdd, 997, after_2000).expect("valid");
            assert_eq!(ssin.kind(), SsinKind::BisGenderKnown, "{yymmdd}");
        }
    }

    #[test]
    fn an_unknown_month_is_accepted() {
        assert!(parse_built("600015", 1, false).is_ok());
        assert!(parse_built("600031", 1, false).is_ok());
    }

    #[test]
    fn an_unknown_day_is_accepted() {
        assert!(parse_built("600200", 1, false).is_ok());
        assert!(parse_built("600400", 1, false).is_ok());
    }

    #[test]
    fn a_fully_unknown_birth_date_is_accepted() {
        assert!(parse_built("000000", 1, false).is_ok());
        assert!(parse_built("000000", 1, true).is_ok());
    }

    #[test]
    fn an_unknown_month_still_rejects_day_32() {
        assert_refused("600032", 1, false, SsinError::InvalidBirthDate);
    }

    #[test]
    fn february_29_in_a_leap_year_is_valid() {
        assert!(parse_built("840229", 1, false).is_ok());
        assert!(parse_built("040229", 1, true).is_ok());
        assert!(parse_built("842229", 1, false).is_ok());
        assert!(parse_built("844229", 1, false).is_ok());
    }

    #[test]
    fn february_29_in_a_non_leap_year_is_invalid() {
        assert_refused("850229", 1, false, SsinError::InvalidBirthDate);
        assert_refused("050229", 1, true, SsinError::InvalidBirthDate);
        assert_refused("854229", 1, false, SsinError::InvalidBirthDate);
    }

    #[test]
    fn february_29_1900_is_invalid_because_1900_is_not_a_leap_year() {
        assert_refused("000229", 1, false, SsinError::InvalidBirthDate);
    }

    #[test]
    fn february_29_2000_is_valid_because_2000_is_a_leap_year() {
        let ssin = parse_built("000229", 1, true).expect("valid");
        assert!(ssin.born_after_2000());
    }

    #[test]
    fn a_day_that_does_not_exist_in_its_month_is_invalid() {
        assert_refused("850431", 1, false, SsinError::InvalidBirthDate);
        assert_refused("850230", 1, false, SsinError::InvalidBirthDate);
        assert!(parse_built("850430", 1, false).is_ok());
    }

    #[test]
    fn day_32_is_invalid() {
        assert_refused("850132", 1, false, SsinError::InvalidBirthDate);
    }

    #[test]
    fn months_outside_the_register_and_bis_ranges_are_invalid() {
        for yymmdd in ["851301", "851901", "853301", "853901", "855301", "859901"] {
            for after_2000 in [false, true] {
                assert_refused(yymmdd, 1, after_2000, SsinError::InvalidBirthDate);
            }
        }
    }

    #[test]
    fn sequence_000_is_invalid() {
        assert_refused("850730", 0, false, SsinError::InvalidSequence);
    }

    #[test]
    fn sequence_999_is_invalid() {
        assert_refused("850730", 999, true, SsinError::InvalidSequence);
    }

    #[test]
    fn sequences_001_and_998_are_valid() {
        assert!(parse_built("850730", 1, false).is_ok());
        assert!(parse_built("850730", 998, false).is_ok());
    }

    #[test]
    fn an_ssin_with_a_bad_check_digit_is_rejected() {
        for after_2000 in [false, true] {
            let valid = valid_for_tests("850730", 33, after_2000);
            let check: u32 = valid[9..].parse().expect("numeric");
            for wrong in [check + 1, check - 1] {
                let tampered = format!("{}{wrong:02}", &valid[..9]);
                assert_eq!(Ssin::parse(&tampered), Err(SsinError::BadCheckDigits));
            }
        }
    }

    #[test]
    fn a_changed_body_digit_is_caught_by_the_checksum() {
        let valid = valid_for_tests("850730", 33, false);
        let tampered = format!("{}4{}", &valid[..8], &valid[9..]);
        assert_ne!(valid, tampered);
        assert_eq!(Ssin::parse(&tampered), Err(SsinError::BadCheckDigits));
    }

    #[test]
    fn wrong_lengths_are_rejected() {
        let valid = valid_for_tests("850730", 33, false);
        for input in ["", &valid[..10], &format!("{valid}0"), "1"] {
            assert_eq!(Ssin::parse(input), Err(SsinError::WrongLength), "{input:?}");
        }
    }

    #[test]
    fn letters_are_rejected() {
        assert_eq!(Ssin::parse("8507300336a"), Err(SsinError::NotDigits));
        assert_eq!(Ssin::parse("ABCDEFGHIJK"), Err(SsinError::NotDigits));
    }

    #[test]
    fn spaces_are_rejected() {
        assert_eq!(Ssin::parse("850730 0336"), Err(SsinError::NotDigits));
        assert_eq!(Ssin::parse(" 8507300336"), Err(SsinError::NotDigits));
        assert_eq!(Ssin::parse("85073003328 "), Err(SsinError::WrongLength));
    }

    #[test]
    fn formatted_numbers_with_dots_and_dashes_are_rejected() {
        assert_eq!(Ssin::parse("85.07.30-033.28"), Err(SsinError::WrongLength));
        assert_eq!(Ssin::parse("85.07.30.03"), Err(SsinError::NotDigits));
        assert_eq!(Ssin::parse("850730-0336"), Err(SsinError::NotDigits));
    }

    #[test]
    fn unicode_digits_are_rejected() {
        // Arabic-Indic and fullwidth digits satisfy `char::is_numeric`.
        assert_eq!(Ssin::parse("٨٥٠٧٣٠٠٣٣٦١"), Err(SsinError::NotDigits));
        assert_eq!(
            Ssin::parse("８５０７３００３３６１"),
            Err(SsinError::NotDigits)
        );
        assert_eq!(Ssin::parse("8507300336١"), Err(SsinError::NotDigits));
    }

    #[test]
    fn debug_output_does_not_contain_the_digits() {
        let ssin = Ssin::parse("85073003328").expect("valid");
        let debug = format!("{ssin:?}");
        assert_eq!(debug, "Ssin(***********)");
        assert!(!debug.chars().any(|c| c.is_ascii_digit()));
        let nested = format!("{:#?}", Some(Ok::<_, SsinError>(ssin)));
        assert!(!nested.contains("850730"), "{nested}");
    }

    #[test]
    fn error_messages_do_not_contain_the_input() {
        let inputs = [
            "85073003329",
            "8507300336",
            "8507300336x",
            "85133000161",
            "85073000061",
        ];
        for input in inputs {
            let err = Ssin::parse(input).expect_err("invalid");
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains(input), "{shown}");
            assert!(!shown.contains(&input[..4]), "{shown}");
        }
    }

    #[test]
    fn every_error_displays_its_reason() {
        for err in [
            SsinError::WrongLength,
            SsinError::NotDigits,
            SsinError::InvalidBirthDate,
            SsinError::InvalidSequence,
            SsinError::BadCheckDigits,
        ] {
            assert_eq!(err.to_string(), err.reason());
            assert!(err.reason().ends_with('.'));
        }
    }

    #[test]
    fn equal_numbers_compare_equal_and_clone_keeps_the_value() {
        let a = Ssin::parse("85073003328").expect("valid");
        let b: Ssin = "85073003328".parse().expect("valid");
        assert_eq!(a, b);
        assert_eq!(a.clone().as_str(), "85073003328");
        assert_ne!(a, parse_built("850730", 34, false).expect("valid"));
    }

    #[test]
    fn a_national_register_or_bis_number_is_found_in_text_with_or_without_separators() {
        let ssin = valid_for_tests("850730", 33, false);
        let bis = valid_for_tests("852730", 33, false);
        let printed = format!(
            "{}.{}.{}-{}.{}",
            &ssin[0..2],
            &ssin[2..4],
            &ssin[4..6],
            &ssin[6..9],
            &ssin[9..11]
        );
        for text in [
            format!("client {ssin} came by"),
            format!("rr:{printed};"),
            format!("nummer {} {} {}", &ssin[0..6], &ssin[6..9], &ssin[9..11]),
            format!("BIS {bis}"),
            format!("{}/{}", &ssin[0..6], &ssin[6..]),
            format!("x{ssin}"),
        ] {
            assert!(mentions_ssin(&text), "{text}");
        }
    }

    #[test]
    fn numbers_that_are_no_national_register_number_are_left_alone() {
        let ssin = valid_for_tests("850730", 33, false);
        let mut wrong_check = ssin.clone().into_bytes();
        wrong_check[10] = if wrong_check[10] == b'9' {
            b'0'
        } else {
            wrong_check[10] + 1
        };
        let wrong_check = String::from_utf8(wrong_check).unwrap();
        for text in [
            "afspraak op 2026-01-05 om 10.30".to_owned(),
            "tel. 0470 12 34 56".to_owned(),
            format!("{wrong_check} (a typo)"),
            format!("{}  {}", &ssin[0..6], &ssin[6..]),
            "019ab8a2-7c1e-7000-8000-000000000001".to_owned(),
            String::new(),
        ] {
            assert!(!mentions_ssin(&text), "{text}");
        }
    }
}
