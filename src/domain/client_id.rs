//! The gateway's id of a client: a random UUID, never derived from the person, written in
//! the canonical lower-case hyphenated form from the moment it is parsed at the edge to the
//! moment it is stored, so it is converted once.

use std::fmt;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(String);

impl ClientId {
    /// A client id as a caller writes it (any form a UUID parser accepts), or `None`.
    pub fn parse(text: &str) -> Option<Self> {
        Uuid::parse_str(text).ok().map(|id| Self(id.to_string()))
    }

    /// A fresh id for a client seen for the first time.
    pub fn random() -> Self {
        Self(Uuid::new_v4().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_id_is_kept_in_its_canonical_form_however_it_was_written() {
        let canonical = "0193a4f2-6c1e-7d3a-9b2e-4f5a6b7c8d9e";
        let upper = ClientId::parse("0193A4F2-6C1E-7D3A-9B2E-4F5A6B7C8D9E").unwrap();
        let simple = ClientId::parse("0193a4f26c1e7d3a9b2e4f5a6b7c8d9e").unwrap();
        assert_eq!(upper.as_str(), canonical);
        assert_eq!(simple, upper);
    }

    #[test]
    fn text_that_is_not_a_uuid_is_no_client_id() {
        assert!(ClientId::parse("85073003328").is_none());
        assert!(ClientId::parse("").is_none());
    }
}
