//! National register numbers as clients send them: `Ssin::parse` on any text, and the
//! screening of free text for such numbers. A number that parses is its own text, parses
//! again to the same value, and is found by the screening.

#![no_main]

use gateway::domain::ssin::{Ssin, mentions_ssin};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mentioned = mentions_ssin(text);
    match Ssin::parse(text) {
        Ok(ssin) => {
            assert_eq!(ssin.as_str(), text);
            assert_eq!(Ssin::parse(ssin.as_str()), Ok(ssin.clone()));
            assert_eq!(text.parse::<Ssin>(), Ok(ssin.clone()));
            let _ = (ssin.kind(), ssin.born_after_2000());
            assert!(mentioned, "a valid number is not found in its own text");
            assert!(!format!("{ssin:?}").contains(text));
        }
        Err(error) => {
            assert!(!error.reason().is_empty());
        }
    }
});
