//! Request bodies: `application/json` only, unknown members refused, and error messages that
//! name the member but never echo a value (a value may be a national register number).

use super::problem::{InputIssue, Problem};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::error::Category;
use serde_path_to_error::Segment;

pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime.eq_ignore_ascii_case("application/json") || mime.ends_with("+json")
            });
        if !is_json {
            return Err(Problem::for_status(StatusCode::UNSUPPORTED_MEDIA_TYPE));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| Problem::for_status(rejection.status()))?;
        parse(&bytes)
            .map(JsonBody)
            .map_err(|issue| Problem::bad_request(vec![issue]))
    }
}

/// The body as `T`, or the issue naming the member that is wrong as a JSON pointer built from
/// the deserializer's own path to it. Public so that the fuzz targets feed bodies through the
/// same reader the handlers use.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, InputIssue> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(describe)?;
    deserializer.end().map_err(|error| {
        InputIssue::new(
            "body",
            "",
            match error.classify() {
                Category::Syntax | Category::Eof => "the body is not well-formed JSON",
                _ => "the body holds more than one JSON value",
            },
        )
    })?;
    Ok(value)
}

/// What is wrong, where. The value itself is never echoed: it may be a national register
/// number. A missing member is the one place where serde names the member only in its error
/// (the path ends at the object that lacks it), so the name is taken from there.
fn describe(error: serde_path_to_error::Error<serde_json::Error>) -> InputIssue {
    let mut pointer = String::new();
    for segment in error.path().iter() {
        match segment {
            Segment::Map { key } => {
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    let inner = error.inner();
    let message = inner.to_string();
    match inner.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            InputIssue::new("body", "", "the body is not well-formed JSON")
        }
        Category::Data if message.starts_with("unknown field") => {
            InputIssue::new("body", pointer, "unknown member")
        }
        Category::Data if message.starts_with("missing field") => {
            let member = message.split('`').nth(1).unwrap_or_default();
            let pointer = format!("{pointer}/{}", member.replace('~', "~0").replace('/', "~1"));
            InputIssue::new("body", pointer, "required member is missing")
        }
        Category::Data if pointer.is_empty() => {
            InputIssue::new("body", "", "the body is not an object")
        }
        Category::Data => InputIssue::new("body", pointer, "this member has the wrong type"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Input {
        ssin: String,
    }

    fn issue(body: &str) -> InputIssue {
        parse::<Input>(body.as_bytes()).unwrap_err()
    }

    #[test]
    fn a_wrongly_typed_number_is_not_echoed_back() {
        let issue = issue(r#"{"ssin": 85073003328}"#);
        assert!(!issue.detail.contains("85073003328"));
        assert!(!issue.name.contains("85073003328"));
    }

    #[test]
    fn unknown_and_missing_members_are_named_as_json_pointers() {
        assert_eq!(issue(r#"{"ssin":"1","extra":1}"#).name, "/extra");
        assert_eq!(issue("{}").name, "/ssin");
        assert_eq!(issue("{").detail, "the body is not well-formed JSON");
    }

    #[test]
    fn a_member_of_the_wrong_type_is_named_by_its_path() {
        assert_eq!(issue(r#"{"ssin": 85073003328}"#).name, "/ssin");
        assert_eq!(issue("[]").detail, "the body is not an object");
        assert_eq!(issue(r#"{"ssin":"1"} {}"#).name, "");
    }
}
