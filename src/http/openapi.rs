//! The OpenAPI 3.1 document, generated from the same annotations that route the handlers
//! so that the two cannot drift.

use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

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
