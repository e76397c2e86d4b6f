//! Request bodies: `application/json` only, unknown members refused, and error messages that
//! name the member but never echo a value (a value may be a national register number).

use super::problem::{InputIssue, Problem};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

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
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|error| Problem::bad_request(vec![describe(&error)]))
    }
}

fn describe(error: &serde_json::Error) -> InputIssue {
    let message = error.to_string();
    let member = message.split('`').nth(1).unwrap_or_default();
    if message.starts_with("unknown field") {
        InputIssue::new("body", format!("/{member}"), "unknown member")
    } else if message.starts_with("missing field") {
        InputIssue::new("body", format!("/{member}"), "required member is missing")
    } else if error.is_syntax() || error.is_eof() {
        InputIssue::new("body", "", "the body is not well-formed JSON")
    } else {
        InputIssue::new(
            "body",
            "",
            "a member has the wrong type or the body is not an object",
        )
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
        describe(&serde_json::from_str::<Input>(body).unwrap_err())
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
}
