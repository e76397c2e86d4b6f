//! Who calls the gateway, and how. A [`Caller`] names a party's user, the roles they act in,
//! the purpose they declare and, for the tests of authentication, the certificate and token
//! they present instead of their own; a [`Session`] is that caller connected to one gateway
//! ([`Endpoint::session`]), and sends the requests. Answers are read with [`problem`],
//! [`trace_id`], [`client_id`], [`status_and_body`] and [`Answer`].

use super::library::Config;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;

/// The purpose of case work: every OCMW and integration-agency case worker may declare it.
pub const CASE_WORK: &str = "trajectoryGuidance";

/// The content type of a JSON body, for [`Session::post_raw`].
pub const JSON: Option<&str> = Some("application/json");

/// How long the tokens the tests issue live (under the gateway's cap, and longer than the
/// longest test that reuses one).
const TOKEN_LIFETIME_SECONDS: u64 = 1800;

/// Every request the tests send is bounded, so that a wedged gateway fails a test instead of
/// hanging it.
const CONNECT_WITHIN: Duration = Duration::from_secs(5);
const REQUEST_WITHIN: Duration = Duration::from_secs(30);

/// The certificate a caller presents.
#[derive(Clone, Debug)]
enum Certificate {
    /// The development certificate of the caller's party (or person).
    Own,
    /// The development certificate of another party.
    Of(String),
    /// A certificate and key made by the test (PEM).
    Pem(Vec<u8>),
    Absent,
}

/// The bearer token a caller presents.
#[derive(Clone, Debug)]
enum Token {
    /// A valid token of the caller's party's identity provider, for the caller's user and roles.
    Issued,
    /// A token made by the test, as it is.
    Given(String),
    Absent,
}

/// A party's user acting in some roles for a purpose, with what they present.
#[derive(Clone, Debug)]
pub struct Caller {
    pub party: String,
    pub user: String,
    pub roles: Vec<String>,
    pub purpose: Option<String>,
    certificate: Certificate,
    token: Token,
}

impl Caller {
    /// `user` of `party` acting in `roles` for `purpose`, with the party's certificate and a
    /// valid token of its identity provider.
    pub fn new(party: &str, roles: &[&str], user: &str, purpose: &str) -> Self {
        Self {
            party: party.to_owned(),
            user: user.to_owned(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            purpose: Some(purpose.to_owned()),
            certificate: Certificate::Own,
            token: Token::Issued,
        }
    }

    /// A case worker (`party`, `user`) doing case work.
    pub fn case_worker((party, user): (&str, &str)) -> Self {
        Self::new(party, &["caseWorker"], user, CASE_WORK)
    }

    /// A privacy officer (`party`, `user`) reviewing the audit log.
    pub fn privacy_officer((party, user): (&str, &str)) -> Self {
        Self::new(party, &["privacyOfficer"], user, "auditReview")
    }

    /// A development certificate (a party's, or a person's for the review pages) and
    /// nothing else: no token, no purpose.
    pub fn certificate_only(common_name: &str) -> Self {
        Self {
            roles: Vec::new(),
            purpose: None,
            token: Token::Absent,
            ..Self::case_worker((common_name, common_name))
        }
    }

    pub fn for_purpose(mut self, purpose: &str) -> Self {
        self.purpose = Some(purpose.to_owned());
        self
    }

    pub fn without_purpose(mut self) -> Self {
        self.purpose = None;
        self
    }

    pub fn without_token(mut self) -> Self {
        self.token = Token::Absent;
        self
    }

    /// Presents `token` (made by the test) instead of a valid one.
    pub fn with_token(mut self, token: &str) -> Self {
        self.token = Token::Given(token.to_owned());
        self
    }

    /// Presents `party`'s development certificate instead of the caller's own.
    pub fn over_certificate_of(mut self, party: &str) -> Self {
        self.certificate = Certificate::Of(party.to_owned());
        self
    }

    /// Presents the certificate and key `pem` (made by the test).
    pub fn with_identity(mut self, pem: &[u8]) -> Self {
        self.certificate = Certificate::Pem(pem.to_vec());
        self
    }

    pub fn without_certificate(mut self) -> Self {
        self.certificate = Certificate::Absent;
        self
    }
}

/// A running gateway as callers reach it: the development PKI it trusts, its configuration
/// (token issuers and audience) and its API address.
pub trait Endpoint {
    fn pki(&self) -> PathBuf;
    fn config(&self) -> &Config;
    /// `https://localhost:<api port><path>`.
    fn url(&self, path: &str) -> String;

    /// A file of the development PKI.
    fn pki_file(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.pki().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    /// An HTTP client trusting only the development CA and presenting `identity`, if any.
    fn http(&self, identity: Option<reqwest::Identity>) -> reqwest::Client {
        let ca = reqwest::Certificate::from_pem(&self.pki_file("ca.crt")).unwrap();
        let mut builder = reqwest::Client::builder()
            .tls_certs_only([ca])
            .http1_only()
            .connect_timeout(CONNECT_WITHIN)
            .timeout(REQUEST_WITHIN);
        if let Some(identity) = identity {
            builder = builder.identity(identity);
        }
        builder.build().unwrap()
    }

    /// A client presenting the development certificate `name` (a party's or a person's).
    fn client(&self, name: &str) -> reqwest::Client {
        let mut pem = self.pki_file(&format!("{name}.crt"));
        pem.extend(self.pki_file(&format!("{name}.key")));
        self.http(Some(reqwest::Identity::from_pem(&pem).unwrap()))
    }

    /// The claims `party`'s identity provider would issue for `user` in `roles`, valid now.
    fn claims(&self, party: &str, roles: &[&str], user: &str) -> Value {
        let config = self.config();
        let issuer = &config
            .parties
            .iter()
            .find(|p| p.id.as_str() == party)
            .unwrap_or_else(|| panic!("no party {party}"))
            .jwt_issuer;
        let now = jsonwebtoken::get_current_timestamp();
        json!({
            "iss": issuer,
            "aud": config.auth.audience,
            "sub": user,
            "roles": roles,
            "iat": now,
            "exp": now + TOKEN_LIFETIME_SECONDS,
        })
    }

    /// Signs `claims` with `party`'s development token key.
    fn sign(&self, party: &str, claims: &Value) -> String {
        let key = EncodingKey::from_ed_pem(&self.pki_file(&format!("{party}-jwt.key"))).unwrap();
        let mut header = Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = Some(format!("{party}-dev-1"));
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }

    /// A valid token of `party`'s identity provider.
    fn token(&self, party: &str, roles: &[&str], user: &str) -> String {
        self.sign(party, &self.claims(party, roles, user))
    }

    /// `caller`, connected to this gateway.
    fn session(&self, caller: &Caller) -> Session {
        let http = match &caller.certificate {
            Certificate::Own => self.client(&caller.party),
            Certificate::Of(party) => self.client(party),
            Certificate::Pem(pem) => self.http(Some(reqwest::Identity::from_pem(pem).unwrap())),
            Certificate::Absent => self.http(None),
        };
        let roles: Vec<&str> = caller.roles.iter().map(String::as_str).collect();
        let token = match &caller.token {
            Token::Issued => Some(self.token(&caller.party, &roles, &caller.user)),
            Token::Given(token) => Some(token.clone()),
            Token::Absent => None,
        };
        Session {
            http,
            base: self.url(""),
            token,
            purpose: caller.purpose.clone(),
        }
    }

    /// A case worker (`party`, `user`) doing case work, connected.
    fn case_worker(&self, who: (&str, &str)) -> Session {
        self.session(&Caller::case_worker(who))
    }
}

/// One caller's connection to one gateway, with its token and purpose.
pub struct Session {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
    purpose: Option<String>,
}

impl Session {
    /// `method path`, with the caller's token and purpose, for the test to complete.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(purpose) = &self.purpose {
            request = request.header("Processing-Purpose", purpose);
        }
        request
    }

    /// `method path` with `body` as JSON, or the transport's error.
    pub async fn try_send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> reqwest::Result<Response> {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await
    }

    /// `method path` with `body` as JSON.
    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Response {
        let label = format!("{method} {path}");
        let sent = self.try_send(method, path, body).await;
        sent.unwrap_or_else(|e| panic!("{label}: {e}"))
    }

    pub async fn get(&self, path: &str) -> Response {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.send(Method::POST, path, Some(body)).await
    }

    /// `POST path` without a body.
    pub async fn post_empty(&self, path: &str) -> Response {
        self.send(Method::POST, path, None).await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.send(Method::DELETE, path, None).await
    }

    /// `POST path` with `body` as it is (not necessarily JSON) and the given content type.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        let mut request = self.request(Method::POST, path).body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        request.send().await.unwrap()
    }

    /// `method path` with `body`; the status and the JSON body (null when there is none).
    pub async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> (u16, Value) {
        status_and_body(self.send(method, path, body).await).await
    }
}

/// The status and the JSON body of an answer (null when there is none).
pub async fn status_and_body(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The body of a problem response, after checking its status and media type.
pub async fn problem(response: Response, status: u16, problem_type: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "status");
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], problem_type, "{body}");
    assert_eq!(body["status"], status);
    body
}

/// The gateway's `BelGov-Trace-Id` of a response (the `requestId` of its audit record).
pub fn trace_id(response: &Response) -> String {
    response.headers()["belgov-trace-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

/// The `clientId` of an answer (a registration, a look-up, an attest's receipt).
pub async fn client_id(response: Response) -> String {
    let body: Value = response.json().await.expect("a JSON body");
    body["clientId"]
        .as_str()
        .unwrap_or_else(|| panic!("no clientId in {body}"))
        .to_owned()
}

/// An answer read whole: status, entity tag, trace id and JSON body (null when none).
pub struct Answer {
    pub status: u16,
    pub etag: Option<String>,
    pub trace: String,
    pub body: Value,
}

impl Answer {
    pub async fn of(response: Response) -> Self {
        let status = response.status().as_u16();
        let etag = response
            .headers()
            .get("etag")
            .map(|v| v.to_str().unwrap().to_owned());
        let trace = trace_id(&response);
        let body = response.json().await.unwrap_or(Value::Null);
        Self {
            status,
            etag,
            trace,
            body,
        }
    }
}

/// The `name` of every issue of a problem, in order.
pub fn issue_names(problem: &Value) -> Vec<&str> {
    problem["issues"]
        .as_array()
        .unwrap_or_else(|| panic!("no issues in {problem}"))
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect()
}

/// Base64url without padding, as in tokens.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}
