//! The OpenAPI 3.1 document, generated from the same annotations that route the handlers
//! so that the two cannot drift.

use super::problem::PROBLEM_JSON;
use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Ref, RefOr};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Joint-client exchange gateway",
        description = "Exchange of data about joint clients of OCMWs and integration agencies, \
            under mutual TLS, signed tokens, purpose-bound policy and a tamper-evident audit log.",
    ),
    modifiers(&Security),
    components(schemas(crate::http::problem::Problem, crate::http::problem::InputIssue)),
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "mutualTLS",
            SecurityScheme::MutualTls {
                description: None,
                extensions: None,
                deprecated: None,
            },
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// What any `/v1` operation may answer besides its own outcomes: the refusals of the edge
/// (authentication, purpose, limits, input) and of the gate when the audit log cannot take
/// the record. Written here once; an operation's own annotation, where it says more about
/// one of these statuses, wins.
const SHARED: [(&str, &str); 5] = [
    (
        "400",
        "Malformed input, headers included; every issue is named",
    ),
    (
        "401",
        "No access token, or one that is not valid for the certificate's party",
    ),
    (
        "403",
        "The certificate, the roles or the declared purpose do not allow the operation",
    ),
    (
        "429",
        "Over the party's or the user's request quota; see Retry-After",
    ),
    (
        "503",
        "The audit log cannot take the record, so nothing is served",
    ),
];

/// For operations that take a body.
const WITH_BODY: [(&str, &str); 2] = [
    ("413", "The body is larger than the limit"),
    ("415", "The body is not application/json"),
];

fn problem_response(description: &str, retry_after: bool) -> Response {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("Problem")))
        .build();
    let mut response = ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, content);
    if retry_after {
        let seconds = ObjectBuilder::new().schema_type(Type::Integer);
        let header = HeaderBuilder::new()
            .schema(Some(seconds))
            .description(Some("Seconds to wait before trying again"))
            .build();
        response = response.header("Retry-After", header);
    }
    response.build()
}

/// Adds to every operation under `/v1` its security (mutual TLS and a bearer token, both
/// required) and the shared answers.
pub fn add_shared_responses(api: &mut utoipa::openapi::OpenApi) {
    let paths = api.paths.paths.iter_mut();
    for (_, item) in paths.filter(|(path, _)| path.starts_with("/v1/")) {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let both = SecurityRequirement::new("mutualTLS", Vec::<String>::new())
                .add("bearer", Vec::<String>::new());
            operation.security = Some(vec![both]);
            let shared = SHARED.iter();
            let with_body = WITH_BODY
                .iter()
                .filter(|_| operation.request_body.is_some());
            for (status, description) in shared.chain(with_body) {
                let retry_after = matches!(*status, "429" | "503");
                operation
                    .responses
                    .responses
                    .entry((*status).to_owned())
                    .or_insert_with(|| RefOr::T(problem_response(description, retry_after)));
            }
        }
    }
}
