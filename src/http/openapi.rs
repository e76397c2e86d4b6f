//! The OpenAPI 3.1 document, generated from the same annotations that route the handlers
//! so that the two cannot drift.

use super::problem::PROBLEM_JSON;
use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Ref, RefOr, Required};

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
const SHARED: [(&str, &str); 6] = [
    (
        "400",
        "Malformed input, headers included; every issue is named",
    ),
    (
        "408",
        "The request was not completed within the request time-out",
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
        response = response.header("Retry-After", retry_after_header());
    }
    response.build()
}

fn retry_after_header() -> utoipa::openapi::header::Header {
    let seconds = ObjectBuilder::new().schema_type(Type::Integer);
    HeaderBuilder::new()
        .schema(Some(seconds))
        .description(Some("Seconds to wait before trying again"))
        .build()
}

/// The ids that stand in paths, each described once: UUIDs (a malformed one is `400`).
const PATH_IDS: [(&str, &str); 4] = [
    ("clientId", "The client id"),
    ("consentId", "The consent id"),
    ("infractionId", "The infraction id"),
    ("referralId", "The referral id"),
];

/// The processing purpose each group of operations is called with (`Processing-Purpose`).
fn purpose_of(operation: &Operation) -> &'static str {
    let tag = operation.tags.iter().flatten().next().map(String::as_str);
    let id = operation.operation_id.as_deref();
    match (tag, id) {
        (_, Some("explainVisibility")) | (Some("audit"), _) => "auditReview",
        (Some("referrals"), _) => "referral",
        (Some("infractions"), _) => "sanctioning",
        (Some("kbi"), _) => "attestRegistration",
        (Some("reports"), _) => "monitoring",
        (Some("policy" | "identity"), _) => "Any purpose the caller may use",
        _ => "A case-work purpose",
    }
}

/// The parameters every `/v1` operation shares: the ids in its path and its purpose header.
fn add_shared_parameters(path: &str, operation: &mut Operation) {
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    let has = |parameters: &[RefOr<Parameter>], name: &str| {
        parameters
            .iter()
            .any(|p| matches!(p, RefOr::T(parameter) if parameter.name == name))
    };
    for (name, description) in PATH_IDS {
        if path.contains(&format!("{{{name}}}")) && !has(parameters, name) {
            let parameter = ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some(description))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
                ))
                .build();
            parameters.push(RefOr::T(parameter));
        }
    }
    if !has(parameters, "Processing-Purpose") {
        let purpose = purpose_of(operation);
        let parameter = ParameterBuilder::new()
            .name("Processing-Purpose")
            .parameter_in(ParameterIn::Header)
            .required(Required::True)
            .description(Some(purpose))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .build();
        let parameters = operation.parameters.get_or_insert_with(Vec::new);
        parameters.push(RefOr::T(parameter));
    }
}

/// Adds to every operation under `/v1` its security (mutual TLS and a bearer token, both
/// required), the shared parameters and the shared answers.
pub fn add_shared_responses(api: &mut utoipa::openapi::OpenApi) {
    let paths = api.paths.paths.iter_mut();
    for (path, item) in paths.filter(|(path, _)| path.starts_with("/v1/")) {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            add_shared_parameters(path, operation);
            let both = SecurityRequirement::new("mutualTLS", Vec::<String>::new())
                .add("bearer", Vec::<String>::new());
            operation.security = Some(vec![both]);
            if purpose_of(operation) == "auditReview" {
                let officers = "Not a privacy officer reviewing the log (purpose auditReview)";
                operation
                    .responses
                    .responses
                    .entry("403".to_owned())
                    .or_insert_with(|| RefOr::T(problem_response(officers, false)));
            }
            if path.contains("Id}") {
                let unknown = "Unknown, or not the caller's to see: the two answer alike";
                operation
                    .responses
                    .responses
                    .entry("404".to_owned())
                    .or_insert_with(|| RefOr::T(problem_response(unknown, false)));
            }
            let shared = SHARED.iter();
            let with_body = WITH_BODY
                .iter()
                .filter(|_| operation.request_body.is_some());
            for (status, description) in shared.chain(with_body) {
                let retry_after = matches!(*status, "429" | "503");
                let response = operation
                    .responses
                    .responses
                    .entry((*status).to_owned())
                    .or_insert_with(|| RefOr::T(problem_response(description, retry_after)));
                // An operation's own description of these keeps the header they are sent with.
                if let (true, RefOr::T(response)) = (retry_after, response) {
                    response
                        .headers
                        .entry("Retry-After".to_owned())
                        .or_insert_with(|| RefOr::T(retry_after_header()));
                }
            }
        }
    }
}

/// The 409 and 422 a keyed request may answer, added to what the operation says of them.
const KEY_ANSWERS: [(&str, &str); 2] = [
    (
        "409",
        "A request with the same Idempotency-Key is being served, or was carried out and its \
         answer lost (`urn:problem-type:gateway:idempotencyKeyInUse`)",
    ),
    (
        "422",
        "The Idempotency-Key was used for another request (`urn:problem-type:gateway:idempotencyKeyReused`)",
    ),
];

/// Documents `Idempotency-Key` on the operations that take it (`covered`: route template and
/// action), with the answers it adds.
pub fn add_idempotency_keys(api: &mut utoipa::openapi::OpenApi, covered: &[(&str, &str)]) {
    for (path, _) in covered {
        let Some(operation) = api
            .paths
            .paths
            .get_mut(*path)
            .and_then(|item| item.post.as_mut())
        else {
            continue;
        };
        let parameter = ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "A structured-field string (draft-ietf-httpapi-idempotency-key-header), 1 to 255 \
                 printable ASCII characters between double quotes, e.g. a UUID. A retry of the \
                 same request (method, path, purpose, body) with the same key, by the same party \
                 and user, within the key's period (24 hours by default) gets the first answer \
                 again and changes nothing; server errors are not kept and may be retried.",
            ))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .build();
        operation
            .parameters
            .get_or_insert_with(Vec::new)
            .push(RefOr::T(parameter));
        for (status, description) in KEY_ANSWERS {
            let responses = &mut operation.responses.responses;
            match responses.get_mut(status) {
                Some(RefOr::T(response)) => {
                    response.description = format!("{}; or: {description}", response.description);
                }
                _ => {
                    let response = problem_response(description, false);
                    responses.insert(status.to_owned(), RefOr::T(response));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
    use utoipa::openapi::{OpenApiBuilder, PathsBuilder};

    fn document_with(path: &str, tag: &str) -> utoipa::openapi::OpenApi {
        let operation = OperationBuilder::new()
            .tag(tag)
            .operation_id(Some("readClient"))
            .build();
        let paths = PathsBuilder::new().path(path, PathItem::new(HttpMethod::Get, operation));
        OpenApiBuilder::new().paths(paths).build()
    }

    #[test]
    fn every_v1_operation_documents_its_security_ids_purpose_and_shared_answers() {
        let mut api = document_with("/v1/clients/{clientId}", "clients");
        add_shared_responses(&mut api);
        let doc = serde_json::to_value(&api).unwrap();
        let get = &doc["paths"]["/v1/clients/{clientId}"]["get"];
        assert_eq!(get["security"][0]["mutualTLS"], serde_json::json!([]));
        assert_eq!(get["security"][0]["bearer"], serde_json::json!([]));
        let names: Vec<&str> = get["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["clientId", "Processing-Purpose"]);
        assert_eq!(get["parameters"][1]["description"], "A case-work purpose");
        assert_eq!(get["parameters"][0]["schema"]["format"], "uuid");
        for status in ["400", "401", "403", "408", "429", "503"] {
            let content = &get["responses"][status]["content"][PROBLEM_JSON];
            assert_eq!(content["schema"]["$ref"], "#/components/schemas/Problem");
        }
        assert!(get["responses"]["429"]["headers"]["Retry-After"].is_object());
        assert!(get["responses"].get("415").is_none(), "no body, no 415");
    }

    #[test]
    fn operations_outside_v1_are_left_as_they_are() {
        let mut api = document_with("/openapi.json", "meta");
        add_shared_responses(&mut api);
        let doc = serde_json::to_value(&api).unwrap();
        assert!(doc["paths"]["/openapi.json"]["get"]["security"].is_null());
    }
}
